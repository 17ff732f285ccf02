//! The `consent-verifier` command line.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Context;
use clap::{Parser, Subcommand};
use consent_receipt::{Jwks, Notice, SEAL_TYP, VerifiedReceipt, VerifyError, b64, jws, verify_seal, verify_seal_of};

use crate::clock::rfc3339;
use crate::config::{Config, Settings};
use crate::keys::{KeyRing, NonceSecret};
use crate::startup::Application;

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
}

#[derive(Debug, Subcommand)]
enum AdminCommand {
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

/// Where the store is: all that the commands working on the database need.
#[derive(Debug, clap::Args)]
struct StoreArgs {
    /// serve's TOML config file: its data-dir and database-url are used
    #[arg(long, env = "CONSENT_CONFIG")]
    config: Option<PathBuf>,
    /// Where data lives [default: ./data]
    #[arg(long, env = "CONSENT_DATA_DIR")]
    data_dir: Option<PathBuf>,
    /// Database URL, sqlite://… or postgres://… [default: sqlite://<data-dir>/consent.db]
    #[arg(long, env = "CONSENT_DATABASE_URL")]
    database_url: Option<String>,
}

impl StoreArgs {
    /// The database URL these flags, the environment and the config file name.
    fn database_url(self) -> anyhow::Result<String> {
        let file = match &self.config {
            Some(path) => Settings::from_file(path)?,
            None => Settings::default(),
        };
        let flags = Settings { data_dir: self.data_dir, database_url: self.database_url, ..Settings::default() };
        let settings =
            flags.or(Settings { data_dir: file.data_dir, database_url: file.database_url, ..Settings::default() });
        Ok(Config::resolve(settings)?.database_url)
    }
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
    },
}

/// Parses the command line and runs it.
pub fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command {
        Command::Serve { config, settings } => run_or_report(serve(config, *settings)),
        Command::Keygen { keys_dir } => run_or_report(keygen(&keys_dir)),
        Command::Keys(KeysCommand::Rotate { keys_dir }) => run_or_report(rotate(&keys_dir)),
        Command::Keys(KeysCommand::List { keys_dir }) => run_or_report(list_keys(&keys_dir)),
        Command::Notices(NoticesCommand::Check { dir }) => run_or_report(check_notices(&dir)),
        Command::Audit(AuditCommand::Verify { store }) => audit(store),
        Command::Admin(cmd) => run_or_report(admin(cmd)),
        Command::Verify { file, seal, jwks, notice, aud } => {
            verify(&file, seal.as_deref(), jwks.as_deref(), notice.as_deref(), aud.as_deref())
        }
    }
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
    let config = Config::resolve(flags.or(file))?;
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build().context("starting the runtime")?;
    runtime.block_on(async {
        let app = Application::build(config).await?;
        println!("{}", app.banner());
        app.run_until_stopped().await
    })
}

fn audit(store: StoreArgs) -> ExitCode {
    let result = with_store(store, async |s| Ok(crate::audit::verify_chain(s).await?));
    match result {
        Ok(crate::audit::Audit::Intact { events, head }) => {
            println!("The event chain is intact: {events} events, head {head}.");
            ExitCode::SUCCESS
        }
        Ok(crate::audit::Audit::Broken { seq, why }) => {
            println!("BROKEN at event {seq}: {why}");
            ExitCode::from(1)
        }
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::from(2)
        }
    }
}

/// Runs `f` against the store that the store options name.
fn with_store<T>(args: StoreArgs, f: impl AsyncFnOnce(&crate::store::Store) -> anyhow::Result<T>) -> anyhow::Result<T> {
    let database_url = args.database_url()?;
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
    runtime.block_on(async {
        let store = crate::store::Store::connect(&database_url).await?;
        let out = f(&store).await;
        store.close().await;
        out
    })
}

fn admin(cmd: AdminCommand) -> anyhow::Result<()> {
    let now = crate::clock::Clock::default().now();
    match cmd {
        AdminCommand::CreateKey { name, store } => {
            let (id, key) = with_store(store, async |s| crate::admin::create_key(s, &name, now).await)?;
            println!("API key `{name}` (id {id}). It is shown only this once; keep it secret:\n\n  {key}\n");
            println!("Use it as:  curl -H 'Authorization: Bearer {key}' http://127.0.0.1:8080/v1/admin/leads");
        }
        AdminCommand::RevokeKey { id, store } => {
            if with_store(store, async |s| Ok(crate::admin::revoke_key(s, &id, now).await?))? {
                println!("Key {id} revoked.");
            } else {
                anyhow::bail!("no live key with id {id}");
            }
        }
        AdminCommand::ListKeys { store } => {
            for (id, name, created, revoked) in with_store(store, async |s| Ok(crate::admin::list_keys(s).await?))? {
                let state = revoked.map_or("live".to_string(), |r| format!("revoked {}", rfc3339(r)));
                println!("{id}  {name:<20} created {}  {state}", rfc3339(created));
            }
        }
    }
    Ok(())
}

fn keygen(dir: &Path) -> anyhow::Result<()> {
    let existed = KeyRing::load(dir).is_ok();
    let ring = KeyRing::load_or_create(dir)?;
    NonceSecret::load_or_create(dir)?;
    if existed {
        println!("{} already holds a signing key; nothing was overwritten.", dir.display());
    } else {
        println!("Created a signing key and a nonce secret in {} (mode 0600).", dir.display());
    }
    println!("Active key id (kid): {}", ring.active_kid());
    println!("{}", serde_json::to_string_pretty(ring.jwks())?);
    Ok(())
}

fn rotate(dir: &Path) -> anyhow::Result<()> {
    KeyRing::load(dir).with_context(|| format!("no key to rotate in {} (run keygen first)", dir.display()))?;
    let kid = KeyRing::rotate(dir)?;
    let ring = KeyRing::load(dir)?;
    println!(
        "New signing key {kid}. It signs seals from the next start; the {} older key(s) stay in the JWKS.",
        ring.jwks().keys.len() - 1
    );
    Ok(())
}

fn list_keys(dir: &Path) -> anyhow::Result<()> {
    let ring = KeyRing::load(dir)?;
    println!("{}", serde_json::to_string_pretty(ring.jwks())?);
    Ok(())
}

fn check_notices(dir: &Path) -> anyhow::Result<()> {
    let entries = crate::notices::load_dir(dir)?;
    for entry in entries {
        println!("{} v{} (default {}):", entry.id, entry.version, entry.default_lang);
        for (lang, (notice, digest)) in &entry.langs {
            println!(
                "  {lang}: digest {digest}, {} purposes, age of consent {} ({})",
                notice.purposes.len(),
                notice.age_of_consent,
                notice.jurisdiction
            );
        }
    }
    println!("All notices are complete (GDPR Art. 13 items present).");
    Ok(())
}

fn read_input(file: &Path) -> anyhow::Result<String> {
    if file == Path::new("-") {
        let mut s = String::new();
        std::io::Read::read_to_string(&mut std::io::stdin(), &mut s).context("reading standard input")?;
        Ok(s)
    } else {
        std::fs::read_to_string(file).with_context(|| format!("reading {}", file.display()))
    }
}

/// Reads a key set from a file or an http(s) URL.
pub fn load_jwks(source: &str) -> anyhow::Result<Jwks> {
    let text = if source.starts_with("http://") || source.starts_with("https://") {
        let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
        runtime.block_on(async {
            let res = reqwest::get(source).await.with_context(|| format!("fetching {source}"))?;
            let res = res.error_for_status().with_context(|| format!("fetching {source}"))?;
            res.text().await.with_context(|| format!("reading {source}"))
        })?
    } else {
        std::fs::read_to_string(source).with_context(|| format!("reading {source}"))?
    };
    serde_json::from_str(&text).with_context(|| format!("{source} is not a JWKS"))
}

fn fail(e: &VerifyError) -> ExitCode {
    let rule = consent_receipt::error::explain(e.code()).map(|(r, t, _)| (r, t));
    match rule {
        Some((r, title)) if r > 0 => println!("FAILED rule {r} ({}: {title}): {e}", e.code()),
        _ => println!("FAILED ({}): {e}", e.code()),
    }
    ExitCode::from(1)
}

fn verify(
    file: &Path,
    seal_file: Option<&Path>,
    jwks: Option<&str>,
    notice: Option<&Path>,
    aud: Option<&str>,
) -> ExitCode {
    let loaded = (|| -> anyhow::Result<_> {
        let input = read_input(file)?;
        let seal_text = seal_file.map(read_input).transpose()?;
        let jwks = jwks.map(load_jwks).transpose()?;
        let notice: Option<Notice> = match notice {
            Some(p) => {
                let text = std::fs::read_to_string(p).with_context(|| format!("reading {}", p.display()))?;
                let v: serde_json::Value =
                    serde_json::from_str(&text).with_context(|| format!("{} is not JSON", p.display()))?;
                // Accept either the bare notice or the whole GET /v1/notices answer.
                let v = v.get("notice").cloned().unwrap_or(v);
                Some(serde_json::from_value(v).with_context(|| format!("{} is not a notice", p.display()))?)
            }
            None => None,
        };
        Ok((input, seal_text, jwks, notice))
    })();
    let (input, seal_text, jwks, notice) = match loaded {
        Ok(l) => l,
        Err(e) => {
            eprintln!("error: {e:#}");
            return ExitCode::from(2);
        }
    };
    let input = input.trim();
    if let Ok(bundle) = serde_json::from_str::<consent_receipt::ProofBundle>(input) {
        return verify_proof(&bundle, jwks.as_ref());
    }
    if input.contains("\"consent-proof/v1\"") {
        eprintln!("error: the bundle does not have the consent-proof/v1 shape");
        return ExitCode::from(2);
    }
    let (receipt, seal) = if input.starts_with('{') {
        match serde_json::from_str::<serde_json::Value>(input) {
            Ok(v) => (
                v.get("receipt").and_then(|r| r.as_str()).map(str::to_string),
                v.get("seal").and_then(|r| r.as_str()).map(str::to_string),
            ),
            Err(e) => {
                eprintln!("error: the input is neither a compact JWS nor JSON: {e}");
                return ExitCode::from(2);
            }
        }
    } else if is_seal(input) {
        (None, Some(input.to_string()))
    } else {
        (Some(input.to_string()), None)
    };
    // A separate --seal file: the compact seal, or the JSON answer of POST /v1/leads.
    let seal = match seal_text.as_deref().map(str::trim) {
        Some(t) if t.starts_with('{') => match serde_json::from_str::<serde_json::Value>(t) {
            Ok(v) => v.get("seal").and_then(|s| s.as_str()).map(str::to_string).or(seal),
            Err(e) => {
                eprintln!("error: the --seal file is neither a compact JWS nor JSON: {e}");
                return ExitCode::from(2);
            }
        },
        Some(t) => Some(t.to_string()),
        None => seal,
    };
    if let Some(receipt) = &receipt {
        let verified = match VerifiedReceipt::verify(receipt) {
            Ok(v) => v,
            Err(e) => return fail(&e),
        };
        let c = verified.claims();
        if let Some(aud) = aud {
            if let Err(e) = verified.check_audience(aud) {
                return fail(&e);
            }
        }
        if let Some(n) = &notice {
            let checks = verified
                .check_notice(n)
                .and_then(|()| verified.check_decisions(n))
                .and_then(|()| verified.check_age(n));
            if let Err(e) = checks {
                return fail(&e);
            }
        }
        println!(
            "Receipt {} holds (rules 1-3: signature by visitor key {}, schema).",
            c.jti,
            b64::encode(verified.key().as_bytes())
        );
        println!("  signed at {} on {} ({}) for {}", rfc3339(c.iat), c.iss, c.evidence.page, c.aud);
        println!("  notice {} v{} ({}), digest {}", c.notice.id, c.notice.version, c.notice.lang, c.notice.digest);
        for d in &c.decisions {
            println!("  {}: {} at {}", d.purpose, if d.granted { "GRANTED" } else { "refused" }, rfc3339(d.at));
        }
        println!(
            "  boxes started unticked: {}; grants from a user gesture: {}; minor: {}",
            c.evidence.initially_unchecked, c.evidence.trusted_gesture, c.age.minor
        );
        if notice.is_some() {
            println!(
                "  checked against the notice: decisions, unticked start, gestures and age rule hold (rules 7-9)."
            );
        } else {
            println!("  (give --notice to check the decisions against the notice text)");
        }
    }
    if let Some(seal) = &seal {
        let Some(jwks) = &jwks else {
            eprintln!("error: checking a seal needs --jwks <file|url>");
            return ExitCode::from(2);
        };
        let checked = match &receipt {
            Some(r) => verify_seal_of(seal, r, jwks),
            None => verify_seal(seal, jwks),
        };
        match checked {
            Ok(s) => {
                println!(
                    "Seal holds: signed by verifier key {}; lead {}, status {} at {}{}",
                    s.kid,
                    s.claims.lead_id,
                    s.claims.status,
                    rfc3339(s.claims.iat),
                    if receipt.is_some() { ", and it seals exactly this receipt." } else { "." }
                );
            }
            Err(e) => return fail(&e),
        }
    }
    if receipt.is_none() && seal.is_none() {
        eprintln!("error: the JSON holds neither \"receipt\" nor \"seal\"");
        return ExitCode::from(2);
    }
    ExitCode::SUCCESS
}

fn verify_proof(bundle: &consent_receipt::ProofBundle, jwks: Option<&Jwks>) -> ExitCode {
    let report = match consent_receipt::verify_bundle(bundle, jwks) {
        Ok(r) => r,
        Err(e) => return fail(&e),
    };
    let (id, version, lang, title) = &report.notice;
    println!("Proof of consent for lead {} holds.", report.lead_id);
    let who = [report.email.as_deref(), report.phone.as_deref()].into_iter().flatten().collect::<Vec<_>>().join(", ");
    println!("  who:     {who}");
    println!("  shown:   notice {id} v{version} ({lang}) \"{title}\", exact text in the bundle");
    println!("  when:    signed {} on {}", rfc3339(report.signed.0), report.signed.1);
    for (p, label) in &report.granted {
        println!("  granted: {p} — {label}");
    }
    for (p, label) in &report.refused {
        println!("  refused: {p} — {label}");
    }
    if let Some(parent) = report.minor {
        match parent {
            Some(t) => println!("  minor:   a holder of parental responsibility agreed at {}", rfc3339(t)),
            None => println!("  minor:   no parent's agreement"),
        }
    }
    match report.confirmed {
        Some(t) => println!("  double opt-in confirmed at {}", rfc3339(t)),
        None => println!("  double opt-in not confirmed"),
    }
    for (t, purposes) in &report.withdrawals {
        println!("  WITHDRAWN at {}: {}", rfc3339(*t), purposes.join(", "));
    }
    println!("  status at export: {}", report.status);
    println!(
        "  history: {}",
        report.history.iter().map(|(t, k)| format!("{k} ({})", rfc3339(*t))).collect::<Vec<_>>().join(" → ")
    );
    println!(
        "  covered by checkpoint of {} events at {}; signed by key(s) {}",
        report.checkpoint.0,
        rfc3339(report.checkpoint.1),
        report
            .kids
            .iter()
            .collect::<std::collections::BTreeSet<_>>()
            .into_iter()
            .cloned()
            .collect::<Vec<_>>()
            .join(", ")
    );
    if jwks.is_none() {
        println!("  (checked against the key set inside the bundle; give --jwks <url> to check who signed)");
    }
    ExitCode::SUCCESS
}

fn is_seal(compact: &str) -> bool {
    jws::parse(compact, SEAL_TYP).is_ok()
}
