//! The `consent-verifier` command line: the flags here, each command's work in
//! [`store`] (admin keys, audit), [`offline`] (keys, notices) and [`verify`].

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use clap::{Parser, Subcommand};

use crate::config::Settings;
use crate::startup::Application;

mod log;
mod objections;
mod offline;
mod store;
mod verify;

pub use verify::load_jwks;

use offline::{check_notices, keygen, list_keys, rotate};
use store::{StoreArgs, admin, audit};
use verify::verify;

/// Accepts a lead only when its signed consent receipt holds up.
#[derive(Debug, Parser)]
#[command(name = "consent-verifier", version, about, long_about = None)]
pub struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Serve the HTTP API (and the static pages): works with no flags on a fresh machine
    Serve {
        /// A TOML file with the same keys as these flags (flags and CONSENT_* variables win)
        #[arg(long, env = "CONSENT_CONFIG")]
        config: Option<PathBuf>,
        #[command(flatten)]
        settings: Box<Settings>,
    },
    /// Witness other verifiers' transparency logs: cosign each checkpoint that extends the
    /// last one cosigned (C2SP tlog-witness, POST /add-checkpoint)
    Witness {
        /// The witness's name in its cosignatures, e.g. witness.example.org
        #[arg(long)]
        name: String,
        /// Address to listen on
        #[arg(long, default_value = "127.0.0.1:8090")]
        listen: std::net::SocketAddr,
        /// Where the witness keeps its key and what it cosigned
        #[arg(long, default_value = "data/witness")]
        data_dir: PathBuf,
        /// A log to witness: ORIGIN=KEYS, its name in checkpoints (host/consent-log) and
        /// its key set (a file or the verifier's /.well-known/jwks.json URL); repeatable
        #[arg(long = "log", value_name = "ORIGIN=KEYS", required = true)]
        logs: Vec<String>,
    },
    /// Create the signing key and nonce secret if missing, and print the public key set
    Keygen {
        /// Keys directory
        #[arg(long, env = "CONSENT_KEYS_DIR", default_value = "data/keys")]
        keys_dir: PathBuf,
    },
    /// Manage signing keys
    #[command(subcommand)]
    Keys(KeysCommand),
    /// Check a proof bundle, a receipt, a seal, or a {"receipt", "seal"} pair offline
    ///
    /// A proof bundle (GET /v1/admin/leads/{id}/proof) is checked entirely: receipts, seal,
    /// notice text, every event and the signed checkpoint; the command prints who consented
    /// to what, under which text, and what happened since, or the first thing that fails.
    ///
    /// Exit status: 0 when it holds, 1 with the failed rule when it does not, 2 when the
    /// input cannot be read.
    Verify {
        /// File with a proof bundle, a compact receipt, a compact seal, or JSON with
        /// "receipt" and "seal" ("-" reads standard input)
        file: PathBuf,
        /// The seal returned by POST /v1/leads: a file with the compact seal or the whole
        /// JSON answer
        #[arg(long)]
        seal: Option<PathBuf>,
        /// The verifier's key set: a file, or an http(s) URL to its /.well-known/jwks.json
        #[arg(long)]
        jwks: Option<String>,
        /// The notice JSON shown to the visitor (as served by GET /v1/notices/{id}),
        /// to check the receipt's decisions and age rule against it
        #[arg(long)]
        notice: Option<PathBuf>,
        /// The verifier URL the receipt must name as its audience
        #[arg(long)]
        aud: Option<String>,
        /// For a partner about to use the lead: does a purpose this consent grants name
        /// this recipient (its legal name as the notice gives it)? Exit 0 yes, 3 no. A
        /// receipt needs --notice; a proof bundle carries its notice and also answers no
        /// once the purpose was withdrawn
        #[arg(long, value_name = "NAME")]
        recipient: Option<String>,
        /// With a transparency-log checkpoint you kept as FILE: the JSON answer of
        /// GET /log/consistency?from=<its size>, to check that the log only grew since
        /// (needs --jwks)
        #[arg(long, value_name = "ANSWER")]
        consistency: Option<PathBuf>,
        /// A witness whose cosignature the bundle's log checkpoints must carry: NAME=KEY,
        /// its name and base64url Ed25519 key (as `consent-verifier witness` prints them);
        /// repeatable
        #[arg(long = "witness", value_name = "NAME=KEY")]
        witnesses: Vec<String>,
        /// How many of the --witness must have cosigned [default: all of them]
        #[arg(long, value_name = "K")]
        witnesses_required: Option<usize>,
    },
    /// Check notice files
    #[command(subcommand)]
    Notices(NoticesCommand),
    /// Check the event log
    #[command(subcommand)]
    Audit(AuditCommand),
    /// Admin API keys
    #[command(subcommand)]
    Admin(AdminCommand),
    /// Objections received elsewhere (a mailing tool's unsubscribes, the DPO's register)
    #[command(subcommand)]
    Objections(ObjectionsCommand),
}

#[derive(Debug, Subcommand)]
enum ObjectionsCommand {
    /// Post every row of a CSV file to a running verifier's POST /v1/admin/objections
    ///
    /// Columns (header line first): email or phone, source (esp, dpo, letter, phone,
    /// sms-stop, source, other), received_at (RFC 3339 or Unix seconds), and optionally
    /// scope (all, notice, purpose), notice, purpose, note. Running it again is safe: rows
    /// already recorded (same contact, scope, source and time) count as duplicates. Exit status 1 when a row was refused
    /// (each is listed with its line number), 2 when the import could not go on.
    Import {
        /// The CSV file
        file: PathBuf,
        /// The verifier's base URL
        #[arg(long, env = "CONSENT_VERIFIER_URL", default_value = "http://127.0.0.1:8080")]
        url: String,
        /// An admin API key (consent-verifier admin create-key)
        #[arg(long, env = "CONSENT_API_KEY", hide_env_values = true)]
        api_key: String,
    },
}

#[derive(Debug, Subcommand)]
pub(crate) enum AdminCommand {
    /// Create an API key for the admin API; it is shown once
    CreateKey {
        /// What the key is for (e.g. crm)
        #[arg(long)]
        name: String,
        #[command(flatten)]
        store: StoreArgs,
    },
    /// Revoke an API key by id
    RevokeKey {
        /// The key id (the part after cwk_ and before the dot)
        id: String,
        #[command(flatten)]
        store: StoreArgs,
    },
    /// List API keys (ids and names, never the keys)
    ListKeys {
        #[command(flatten)]
        store: StoreArgs,
    },
}

#[derive(Debug, Subcommand)]
enum AuditCommand {
    /// Recompute the event hash chain and report the first broken link (exit 1)
    Verify {
        #[command(flatten)]
        store: StoreArgs,
    },
}

#[derive(Debug, Subcommand)]
enum KeysCommand {
    /// Add a new signing key; running verifiers sign with it within a minute (or at their
    /// next start), older keys stay published for verification
    Rotate {
        /// Keys directory
        #[arg(long, env = "CONSENT_KEYS_DIR", default_value = "data/keys")]
        keys_dir: PathBuf,
    },
    /// Print the public key set (JWKS)
    List {
        /// Keys directory
        #[arg(long, env = "CONSENT_KEYS_DIR", default_value = "data/keys")]
        keys_dir: PathBuf,
    },
}

#[derive(Debug, Subcommand)]
enum NoticesCommand {
    /// Check every notice file in a directory and print each version's digest
    Check {
        /// Directory of <id>.toml files
        #[arg(default_value = "notices")]
        dir: PathBuf,
        /// Fail on lint findings (readability, items that say nothing, a purpose with
        /// several recipients) instead of printing them as warnings
        #[arg(long)]
        strict: bool,
    },
}

/// Parses the command line and runs it.
pub fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command {
        Command::Serve { config, settings } => run_or_report(serve(config, *settings)),
        Command::Witness { name, listen, data_dir, logs } => run_or_report(witness(name, listen, data_dir, &logs)),
        Command::Keygen { keys_dir } => run_or_report(keygen(&keys_dir)),
        Command::Keys(KeysCommand::Rotate { keys_dir }) => run_or_report(rotate(&keys_dir)),
        Command::Keys(KeysCommand::List { keys_dir }) => run_or_report(list_keys(&keys_dir)),
        Command::Notices(NoticesCommand::Check { dir, strict }) => run_or_report(check_notices(&dir, strict)),
        Command::Audit(AuditCommand::Verify { store }) => audit(store),
        Command::Admin(cmd) => run_or_report(admin(cmd)),
        Command::Objections(ObjectionsCommand::Import { file, url, api_key }) => {
            match objections::import(&file, &url, &api_key) {
                Ok(true) => ExitCode::SUCCESS,
                Ok(false) => ExitCode::FAILURE,
                Err(e) => run_or_report(Err(e)),
            }
        }
        Command::Verify { file, seal, jwks, notice, aud, recipient, consistency, witnesses, witnesses_required } => {
            let recipient = recipient.as_deref();
            let witnesses = (&witnesses[..], witnesses_required);
            let extra = verify::Extra { recipient, consistency: consistency.as_deref(), witnesses };
            verify(&file, seal.as_deref(), jwks.as_deref(), notice.as_deref(), aud.as_deref(), extra)
        }
    }
}

fn witness(name: String, listen: std::net::SocketAddr, data_dir: PathBuf, logs: &[String]) -> anyhow::Result<()> {
    let mut known = std::collections::HashMap::new();
    for log in logs {
        let (origin, keys) =
            log.split_once('=').context("--log takes ORIGIN=KEYS, e.g. example.com/consent-log=jwks.json")?;
        let jwks = verify::load_jwks(keys)?;
        known.insert(origin.to_string(), jwks.keys.iter().filter_map(|k| k.verifying_key().ok()).collect());
    }
    let w = crate::witness::Witness { name, listen, data_dir, logs: known };
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build().context("starting the runtime")?;
    runtime.block_on(crate::witness::serve(w))
}

fn run_or_report(result: anyhow::Result<()>) -> ExitCode {
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::from(2)
        }
    }
}

fn serve(config: Option<PathBuf>, flags: Settings) -> anyhow::Result<()> {
    crate::telemetry::init();
    let file = match config {
        Some(path) => Settings::from_file(&path)?,
        None => Settings::default(),
    };
    let config = crate::config::Config::resolve(flags.or(file))?;
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build().context("starting the runtime")?;
    runtime.block_on(async {
        // Before the port is bound: a SIGTERM as soon as it answers still drains.
        let stop = crate::startup::shutdown_signal();
        let app = Application::build(config).await?;
        println!("{}", app.banner());
        app.run_until_stopped(stop).await
    })
}
