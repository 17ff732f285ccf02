//! `consent-verifier objections import FILE.csv`: objections received elsewhere (a mailing
//! tool's unsubscribe export, the DPO's register), posted row by row to a running
//! verifier's `POST /v1/admin/objections`, so each goes through the same rules and the
//! same writer as one recorded by hand. Streamed (one row in memory), idempotent (a row
//! recorded before is a duplicate, so a run cut short can be run again), a progress line
//! on a terminal, and a summary with the line number of every row refused.

use std::io::IsTerminal;
use std::path::Path;
use std::time::Duration;

use anyhow::{Context, bail};

/// The columns a file may have; `email` or `phone`, `source` and `received_at` on every row.
const COLUMNS: [&str; 8] = ["email", "phone", "scope", "notice", "purpose", "source", "received_at", "note"];

/// How often a row the verifier could not take (5xx, network) is tried again.
const TRIES: u32 = 5;

/// What an import did.
#[derive(Debug, Default)]
struct Summary {
    applied: usize,
    duplicate: usize,
    invalid: Vec<(u64, String)>,
}

pub(crate) fn import(file: &Path, url: &str, api_key: &str) -> anyhow::Result<bool> {
    let mut reader = csv::ReaderBuilder::new()
        .trim(csv::Trim::All)
        .flexible(false)
        .from_path(file)
        .with_context(|| format!("opening {}", file.display()))?;
    let headers = reader.headers().context("reading the header line")?.clone();
    if let Some(unknown) = headers.iter().find(|h| !COLUMNS.contains(h)) {
        bail!("unknown column `{unknown}`: the columns are {}", COLUMNS.join(", "));
    }
    // When it was received is what makes a row the same objection on a second run.
    if !["source", "received_at"].iter().all(|c| headers.iter().any(|h| h == *c))
        || !headers.iter().any(|h| h == "email" || h == "phone")
    {
        bail!("the header line needs `source`, `received_at` and `email` or `phone` (columns: {})", COLUMNS.join(", "));
    }
    let endpoint = [url.trim_end_matches('/'), "/v1/admin/objections"].concat();
    let client = reqwest::blocking::Client::builder().timeout(Duration::from_secs(30)).build()?;
    let terminal = std::io::stderr().is_terminal();
    let mut summary = Summary::default();
    let mut rows = 0u64;
    for record in reader.records() {
        let record = match record {
            Ok(r) => r,
            Err(e) => {
                let line = e.position().map_or(0, csv::Position::line);
                summary.invalid.push((line, format!("unreadable CSV: {e}")));
                continue;
            }
        };
        let line = record.position().map_or(0, csv::Position::line);
        let mut body = serde_json::Map::new();
        for (name, value) in headers.iter().zip(record.iter()) {
            if !value.is_empty() {
                body.insert(name.to_string(), value.into());
            }
        }
        if !body.contains_key("received_at") {
            summary.invalid.push((line, "received_at is empty: give when the objection was received".into()));
            continue;
        }
        let body = serde_json::Value::Object(body);
        let mut tries = 0;
        loop {
            tries += 1;
            match client.post(&endpoint).bearer_auth(api_key).json(&body).send() {
                Ok(res) if res.status() == reqwest::StatusCode::CREATED => summary.applied += 1,
                Ok(res) if res.status() == reqwest::StatusCode::OK => summary.duplicate += 1,
                Ok(res) if res.status() == reqwest::StatusCode::UNAUTHORIZED || res.status().as_u16() == 403 => {
                    bail!("the verifier refused the API key ({}): nothing after line {line} was sent", res.status())
                }
                Ok(res) if res.status().is_client_error() && res.status().as_u16() != 429 => {
                    let problem: serde_json::Value = res.json().unwrap_or_default();
                    let detail = problem["detail"].as_str().unwrap_or("refused").to_string();
                    summary.invalid.push((line, detail));
                }
                answer if tries < TRIES => {
                    let why = answer.map_or_else(|e| e.to_string(), |r| r.status().to_string());
                    eprintln!("line {line}: {why}; trying again");
                    std::thread::sleep(Duration::from_millis(250 << tries));
                    continue;
                }
                answer => {
                    let why = answer.map_or_else(|e| e.to_string(), |r| r.status().to_string());
                    print_summary(&summary);
                    bail!("line {line}: the verifier did not take it ({why}); run the import again to go on");
                }
            }
            break;
        }
        rows += 1;
        if terminal && rows.is_multiple_of(50) {
            eprint!("\r  {rows} rows sent");
        }
    }
    if terminal && rows >= 50 {
        eprintln!();
    }
    print_summary(&summary);
    Ok(summary.invalid.is_empty())
}

fn print_summary(s: &Summary) {
    println!("{} applied, {} duplicate, {} invalid", s.applied, s.duplicate, s.invalid.len());
    for (line, why) in &s.invalid {
        println!("  line {line}: {why}");
    }
}
