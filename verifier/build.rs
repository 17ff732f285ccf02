//! - Rebuild when a migration changes: `sqlx::migrate!` embeds them at compile time, and
//!   stable Rust does not tell cargo about the files a macro reads.
//! - Find the language files of `src/i18n/` (every `<tag>.rs` but `mod.rs` and
//!   `messages.rs`), so that adding a language is adding one file.

use std::fmt::Write;
use std::path::Path;

fn main() {
    println!("cargo:rerun-if-changed=migrations");
    println!("cargo:rerun-if-changed=src/i18n");
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("src/i18n");
    let mut langs: Vec<String> = std::fs::read_dir(&dir)
        .map(|entries| {
            entries
                .filter_map(|e| e.ok()?.file_name().into_string().ok())
                .filter_map(|name| name.strip_suffix(".rs").map(str::to_string))
                .filter(|stem| stem != "mod" && stem != "messages")
                .collect()
        })
        .unwrap_or_default();
    langs.sort();
    let mut code = String::new();
    for lang in &langs {
        let path = dir.join(format!("{lang}.rs"));
        let _ = writeln!(code, "#[path = {:?}]\nmod {lang};", path.display().to_string());
    }
    code.push_str("/// Every language file, by tag.\nconst LANGUAGES: &[(&str, &Messages)] = &[\n");
    for lang in &langs {
        let _ = writeln!(code, "    ({lang:?}, &{lang}::MESSAGES),");
    }
    code.push_str("];\n");
    let out = std::env::var("OUT_DIR").unwrap_or_else(|_| ".".into());
    if let Err(e) = std::fs::write(Path::new(&out).join("languages.rs"), code) {
        panic!("writing the language table: {e}");
    }
}
