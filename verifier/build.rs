//! Rebuild when a migration changes: `sqlx::migrate!` embeds them at compile time, and
//! stable Rust does not tell cargo about the files a macro reads.
fn main() {
    println!("cargo:rerun-if-changed=migrations");
}
