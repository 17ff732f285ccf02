//! The verifier's own account of its CPU, stage by stage: the bench verifier runs with
//! `--stage-timings`, and `GET /v1/admin/stats/stages` is read before and after the
//! saturation phase. The difference, divided by the leads accepted meanwhile, is the table
//! "µs of verifier CPU per accepted lead, by stage"; what the process used beyond the sum
//! (from `/proc/<pid>/stat`) is the unattributed rest.

use anyhow::Context;
use consent_e2e::process::{VerifierProcess, verifier_bin};
use serde_json::Value;

/// An admin API key for the store at `database`, made with the CLI as an operator would.
pub fn admin_key(data_dir: &std::path::Path, database: &str) -> anyhow::Result<String> {
    let out = std::process::Command::new(verifier_bin()?)
        .args(["admin", "create-key", "--name", "bench", "--data-dir"])
        .arg(data_dir)
        .args(["--database-url", database])
        .output()
        .context("running consent-verifier admin create-key")?;
    let text = String::from_utf8_lossy(&out.stdout).to_string();
    text.split_whitespace().find(|w| w.starts_with("cwk_")).map(str::to_string).context("no key in create-key's output")
}

/// The verifier's totals since it started.
pub async fn read(client: &reqwest::Client, v: &VerifierProcess, key: &str) -> anyhow::Result<Value> {
    let res = client.get(format!("{}/v1/admin/stats/stages", v.base)).bearer_auth(key).send().await?;
    let status = res.status();
    let body: Value = res.json().await?;
    anyhow::ensure!(status.is_success(), "GET /v1/admin/stats/stages: {status} {body}");
    Ok(body)
}

/// The rows of the table, in the order a lead meets them.
const ROWS: [(&str, &str); 9] = [
    ("http", "HTTP: hyper, axum, the handler's glue and log line"),
    ("parse", "JSON and JWS parsing (body, header, payload, schema)"),
    ("signature", "signature check (key decoding, verify_strict)"),
    ("decide", "rules 4-9, the lead's row (contact hashes)"),
    ("seal", "seal (sign)"),
    ("compose", "message composition (tokens, templates, MIME)"),
    ("writer", "store: writer task (SQL, bindings, chain hashes)"),
    ("sqlite", "store: SQLite threads (statements, commit)"),
    ("send", "sending: outbox worker (claims, SMTP)"),
];

/// CPU per accepted lead by stage, between two readings.
#[derive(Debug)]
pub struct StageTable {
    rows: Vec<(&'static str, f64)>,
    batches: f64,
    writes: f64,
    statements_ms: f64,
    commit_ms: f64,
}

impl StageTable {
    /// From two readings and the leads accepted between them.
    pub fn between(before: &Value, after: &Value, accepted: usize) -> StageTable {
        let delta = |path: &[&str]| {
            let get = |v: &Value| path.iter().fold(v, |v, k| &v[*k]).as_f64().unwrap_or(0.0);
            get(after) - get(before)
        };
        let per = accepted.max(1) as f64;
        let rows = ROWS.iter().map(|(key, label)| (*label, delta(&["cpu_us", key]) / per)).collect();
        let batches = delta(&["writer", "batches"]);
        StageTable {
            rows,
            batches,
            writes: delta(&["writer", "writes"]),
            statements_ms: delta(&["writer", "statements_wall_us"]) / batches.max(1.0) / 1e3,
            commit_ms: delta(&["writer", "commit_wall_us"]) / batches.max(1.0) / 1e3,
        }
    }

    /// The store's share in one line: its CPU per lead and the writer's batches, with
    /// `total_us` (the process's CPU per accepted lead).
    pub fn store_line(&self, total_us: f64) -> String {
        let cpu = |key: &str| self.rows.iter().zip(ROWS).find(|(_, (k, _))| *k == key).map_or(0.0, |((_, us), _)| *us);
        format!(
            "CPU per lead {total_us:.0} µs (SQLite threads {:.0}, writer task {:.0}); batches of {:.1} writes, {:.2} ms of statements + {:.2} ms of commit each",
            cpu("sqlite"),
            cpu("writer"),
            self.writes / self.batches.max(1.0),
            self.statements_ms,
            self.commit_ms
        )
    }

    /// Prints it, with `total_us` (the process's CPU per accepted lead) for the rest.
    pub fn print(&self, total_us: f64) {
        println!("\nµs of verifier CPU per accepted lead, by stage (--stage-timings, saturation phase):");
        let mut sum = 0.0;
        for (label, us) in &self.rows {
            println!("  {label:<52} {us:>7.1}");
            sum += us;
        }
        println!("  {:<52} {:>7.1}", "unattributed (runtime, timers, other tasks)", total_us - sum);
        println!("  {:<52} {:>7.1}", "total (/proc/<pid>/stat)", total_us);
        println!(
            "  writer: {:.0} batches of {:.1} writes; per batch {:.2} ms of statements, {:.2} ms of commit (WAL write + fsync), wall time",
            self.batches,
            self.writes / self.batches.max(1.0),
            self.statements_ms,
            self.commit_ms
        );
    }
}
