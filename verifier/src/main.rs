//! `consent-verifier`: see `consent-verifier --help`.

fn main() -> std::process::ExitCode {
    consent_verifier::cli::main()
}
