//! The commands that work on the database: admin API keys and the audit of the event log.

use std::path::PathBuf;
use std::process::ExitCode;

use super::AdminCommand;
use crate::clock::rfc3339;
use crate::config::{Config, Settings};

/// Where the store is: all that the commands working on the database need.
#[derive(Debug, clap::Args)]
pub(crate) struct StoreArgs {
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

pub(crate) fn audit(store: StoreArgs) -> ExitCode {
    let result = with_store(store, async |s| Ok(crate::consent::audit::verify_chain(s).await?));
    match result {
        Ok(crate::consent::audit::Audit::Intact { events, head }) => {
            println!("The event chain is intact: {events} events, head {head}.");
            ExitCode::SUCCESS
        }
        Ok(crate::consent::audit::Audit::Broken { seq, why }) => {
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

pub(crate) fn admin(cmd: AdminCommand) -> anyhow::Result<()> {
    let now = crate::clock::Clock::default().now();
    match cmd {
        AdminCommand::CreateKey { name, store } => {
            let (id, key) = with_store(store, async |s| crate::consent::access::create_key(s, &name, now).await)?;
            println!("API key `{name}` (id {id}). It is shown only this once; keep it secret:\n\n  {key}\n");
            println!("Use it as:  curl -H 'Authorization: Bearer {key}' http://127.0.0.1:8080/v1/admin/leads");
        }
        AdminCommand::RevokeKey { id, store } => {
            if with_store(store, async |s| Ok(crate::consent::access::revoke_key(s, &id, now).await?))? {
                println!("Key {id} revoked.");
            } else {
                anyhow::bail!("no live key with id {id}");
            }
        }
        AdminCommand::ListKeys { store } => {
            for key in with_store(store, async |s| Ok(crate::consent::access::list_keys(s).await?))? {
                let state = key.revoked_at.map_or("live".to_string(), |r| format!("revoked {}", rfc3339(r)));
                println!("{}  {:<20} created {}  {state}", key.id, key.name, rfc3339(key.created_at));
            }
        }
    }
    Ok(())
}
