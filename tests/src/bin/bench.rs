//! `cargo xtask bench`: the figures the project promises, measured in one run on this
//! machine.
//!
//! 1. Crypto ceiling: one core doing nothing but `verify_strict` (the receipt) and `sign`
//!    (the seal), the two signature operations every accepted lead costs.
//! 2. End to end: the release verifier on loopback with its default durable SQLite
//!    (WAL, synchronous=FULL), unique receipts, many concurrent clients: accepted leads/s
//!    at saturation; then p50/p99 latency at half that rate (open loop, latency counted
//!    from the scheduled send time so a stalled server cannot hide its queue); and the
//!    server's peak RSS.

#[path = "bench/sms.rs"]
mod sms;
#[path = "bench/stages.rs"]
mod stages;

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use bytes::Bytes;
use consent_e2e::process::VerifierProcess;
use consent_e2e::{Session, random_key};
use consent_receipt::VerifiedReceipt;
use ed25519_dalek::Signer;
use http_body_util::{BodyExt, Full};
use hyper::Request;
use hyper_util::rt::TokioIo;

fn secs() -> u64 {
    std::env::var("BENCH_SECS").ok().and_then(|s| s.parse().ok()).unwrap_or(5)
}

/// `BENCH_ONLY=sqlite`: only the SQLite phases (crypto ceiling, end to end, a million
/// leads), to iterate on the store quickly.
fn sqlite_only() -> bool {
    std::env::var("BENCH_ONLY").is_ok_and(|v| v == "sqlite" || v == "growth")
}

/// `BENCH_ONLY=growth`: only the comparison of ten thousand and a million stored leads.
fn growth_only() -> bool {
    std::env::var("BENCH_ONLY").is_ok_and(|v| v == "growth")
}

/// Concurrent clients of the saturation phases (`BENCH_CLIENTS`, default 32).
fn clients() -> usize {
    std::env::var("BENCH_CLIENTS").ok().and_then(|s| s.parse().ok()).filter(|&n| n > 0).unwrap_or(32)
}

fn main() -> anyhow::Result<()> {
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    println!("consent-widget benchmarks: {cores} cores, {} s per phase", secs());
    let rt = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;

    let keys = tempfile::tempdir()?;
    let data = tempfile::tempdir()?;
    // Every accepted lead sends its double opt-in mail over real SMTP, here to a sink on
    // the same machine (its CPU counts with the load generator's).
    let sink = rt.block_on(consent_e2e::smtp::SmtpSink::start())?;
    SMTP_PORT.store(sink.port(), Ordering::Relaxed);
    let sqlite = format!("sqlite://{}", data.path().join("consent.db").display());
    let verifier = start(data.path(), keys.path(), &sqlite)?;
    rt.block_on(prefill(&sqlite, 10_000))?;
    let admin = stages::admin_key(data.path(), &sqlite)?;
    // A copy of the store with ten thousand leads, to compare with a million below.
    let small_dir = tempfile::tempdir()?;
    let small = format!("sqlite://{}", small_dir.path().join("consent.db").display());
    rt.block_on(snapshot(&sqlite, &small_dir.path().join("consent.db")))?;
    let client = reqwest::Client::new();
    let session = rt.block_on(Session::fetch(&client, &verifier.base, "newsletter", "en", PUBLIC))?;

    if growth_only() {
        drop(verifier);
        rt.block_on(prefill(&sqlite, 1_000_000))?;
        let stores = [(small_dir.path(), small.as_str()), (data.path(), sqlite.as_str())];
        let [small, big] = rt.block_on(growth(stores, keys.path(), &session, &admin))?;
        println!("store growth, SQLite: 10k leads {small:.0}/s, 1M leads {big:.0}/s  (ratio {:.2})", big / small);
        return Ok(());
    }
    let before = crypto_ceiling(&session)?;
    let r = rt.block_on(end_to_end(&verifier, &session, &admin))?;
    let ceiling = before.max(crypto_ceiling(&session)?);
    let rss = peak_rss_kib(verifier.pid())?;
    // Both store sizes start with an empty outbox, and the chain stays still while filling.
    let sqlite_mails = rt.block_on(drain_outbox(&sqlite))?;
    drop(verifier);
    let sms_rate = if sqlite_only() { f64::NAN } else { rt.block_on(sms::backlog_rate(keys.path()))? };
    // The browser must reach the verifier at the URL it announces, so the widget figures
    // come from a verifier of its own.
    let w = if sqlite_only() {
        None
    } else {
        let dir = tempfile::tempdir()?;
        let db = format!("sqlite://{}", dir.path().join("consent.db").display());
        let v = VerifierProcess::start(dir.path(), &["--database-url", db.as_str()], &[])?;
        Some(rt.block_on(widget(&v))?)
    };
    // The same store with a million leads: is the cost per lead flat?
    rt.block_on(prefill(&sqlite, 1_000_000))?;
    let stores = [(small_dir.path(), small.as_str()), (data.path(), sqlite.as_str())];
    let [sqlite_10k, sqlite_1m] = rt.block_on(growth(stores, keys.path(), &session, &admin))?;
    let pg = match std::env::var("CONSENT_BENCH_POSTGRES_URL").ok().filter(|u| !u.is_empty() && !sqlite_only()) {
        Some(base) => Some(rt.block_on(postgres(&base, keys.path(), &session))?),
        None => None,
    };

    println!("\n== Results ==");
    println!(
        "crypto ceiling (verify_strict + sign, 1 core) : {ceiling:>9.0} ops/s  ({:.1} µs per lead)",
        1e6 / ceiling
    );
    println!(
        "end to end, SQLite durable, {} clients     : {:>9.0} accepted leads/s  ({} leads, {} errors)",
        r.clients, r.peak_rate, r.peak_accepted, r.errors
    );
    println!(
        "CPU per accepted lead: verifier {:.0} µs, load generator and SMTP sink {:.0} µs",
        r.server_cpu_us, r.client_cpu_us
    );
    r.stages.print(r.server_cpu_us);
    println!("ratio end-to-end / crypto ceiling            : {:>9.2}  (target >= 0.50)", r.peak_rate / ceiling);
    println!(
        "latency at half the peak rate ({:.0}/s)      : p50 {:.2} ms, p99 {:.2} ms  (target p99 <= 10 ms)",
        r.half_rate, r.p50_ms, r.p99_ms
    );
    println!("verifier peak RSS                            : {:>9.1} MB  (target <= 100 MB)", rss as f64 / 1024.0);
    println!(
        "store growth, SQLite: 10k leads {sqlite_10k:.0}/s, 1M leads {sqlite_1m:.0}/s  (ratio {:.2}; flat = 1.0; best of 3 each, alternated)",
        sqlite_1m / sqlite_10k
    );
    match &pg {
        Some(p) => {
            println!(
                "PostgreSQL, 10k leads: 1 replica {:.0}/s, 2 replicas {:.0}/s  (SQLite: {:.0}/s; same 2 cores for everything)",
                p.one, p.two, r.peak_rate
            );
            println!(
                "store growth, PostgreSQL: 10k leads {:.0}/s, 1M leads {:.0}/s  (ratio {:.2})",
                p.one,
                p.one_million,
                p.one_million / p.one
            );
        }
        None => println!(
            "PostgreSQL: not measured (set CONSENT_BENCH_POSTGRES_URL, as `cargo xtask bench` does from CONSENT_TEST_POSTGRES_URL)"
        ),
    }
    println!(
        "double opt-in mails over SMTP (backlog drain)  : {sqlite_mails:.0}/s from 1 verifier on SQLite{}; {} received in all",
        pg.as_ref().map(|p| format!(", {:.0}/s from 2 replicas on PostgreSQL", p.mails)).unwrap_or_default(),
        sink.messages().len()
    );
    println!(
        "double opt-in SMS over SMPP (backlog drain)   : {sms_rate:.0}/s from 1 verifier on SQLite, to a test SMS centre"
    );
    let kb = |var: &str| std::env::var(var).ok().and_then(|v| v.parse::<f64>().ok()).map(|b| b / 1024.0);
    match (kb("WIDGET_GZIP_BYTES"), kb("WIDGET_BUDGET_BYTES"), kb("WIDGET_FALLBACK_GZIP_BYTES")) {
        (Some(size), Some(budget), Some(fallback)) => println!(
            "widget shipped (widget.js + widget_bg.wasm, gzip): {size:>5.1} KB  (budget {budget:.0} KB, checked by cargo xtask test{}; target <= 35 KB); \
             + {fallback:.1} KB sign_bg.wasm where WebCrypto lacks Ed25519",
            if size > budget { ": OVER BUDGET" } else { "" }
        ),
        _ => println!("widget size: run through `cargo xtask bench` to measure the built widget"),
    }
    let Some(w) = w else { return Ok(()) };
    println!(
        "script start -> consent:ready, headless Chromium: median {:.1} ms over {} loads (first, cold: {:.1} ms)  (target <= 30 ms)",
        w.ready_median_ms, w.loads, w.ready_cold_ms
    );
    println!(
        "time to sign a receipt in the browser          : median {:.2} ms over {} signatures  (target <= 2 ms)",
        w.sign_median_ms, w.signs
    );
    Ok(())
}

/// Every bench verifier answers as the same public URL and shares one keys directory, so
/// receipts are signed once for all of them.
const PUBLIC: &str = "http://bench.test";

/// The bench is one client sending as fast as the verifier takes it: no rate limit, no
/// per-client connection cap (the defaults are for the open internet).
pub const UNLIMITED: [&str; 6] =
    ["--client-rate", "off", "--origin-rate", "off", "--max-connections-per-client", "100000"];

/// Every bench verifier counts its CPU per stage (read in the end-to-end phase).
const STAGE_TIMINGS: &str = "--stage-timings";

/// The port of the bench's SMTP sink.
static SMTP_PORT: std::sync::atomic::AtomicU16 = std::sync::atomic::AtomicU16::new(0);

fn start(data: &std::path::Path, keys: &std::path::Path, database: &str) -> anyhow::Result<VerifierProcess> {
    let log = std::env::var("BENCH_RUST_LOG").unwrap_or_else(|_| "info".into());
    let keys = keys.to_string_lossy().to_string();
    let mut args = vec!["--public-url", PUBLIC, "--keys-dir", keys.as_str(), "--database-url", database];
    args.extend(UNLIMITED);
    args.push(STAGE_TIMINGS);
    let smtp = consent_e2e::smtp::smtp_args(SMTP_PORT.load(Ordering::Relaxed));
    args.extend(smtp.iter().map(String::as_str));
    VerifierProcess::start(data, &args, &[("RUST_LOG", log.as_str())])
}

/// Fills the store with synthetic leads (and one event each) up to `n`, in bulk SQL.
async fn prefill(database: &str, n: i64) -> anyhow::Result<()> {
    sqlx::any::install_default_drivers();
    let pool = sqlx::AnyPool::connect(database).await?;
    let have: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM leads").fetch_one(&pool).await?;
    let digest: String = sqlx::query_scalar("SELECT digest FROM notice_versions LIMIT 1").fetch_one(&pool).await?;
    let head: i64 = sqlx::query_scalar("SELECT seq FROM chain_head WHERE id = 1").fetch_one(&pool).await?;
    let (from, to) = (have + 1, n);
    if to < from {
        return Ok(());
    }
    println!("filling the store up to {n} leads...");
    // Recent leads: older ones would be due for the retention purge, which a verifier
    // starts on at once and which would then compete with the load.
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH)?.as_secs();
    let started = Instant::now();
    let postgres = database.starts_with("postgres");
    let (series, id, rnd) = if postgres {
        (
            "generate_series($1::BIGINT, $2::BIGINT) AS g(x)",
            "lpad(to_hex(x), 32, '0')",
            "md5(random()::text || x::text)",
        )
    } else {
        (
            "(WITH RECURSIVE c(x) AS (SELECT $1 UNION ALL SELECT x + 1 FROM c WHERE x < $2) SELECT x FROM c)",
            "printf('%032x', x)",
            "hex(randomblob(16))",
        )
    };
    sqlx::query(&format!(
        "INSERT INTO leads (id, jti, notice_id, notice_version, notice_lang, notice_digest, receipt, receipt_sha256, seal, \
         email, minor, granted, fields, origin, visitor_key, status, created_at, last_contact_at, contact_hash, last_event_hash) \
         SELECT {id}, {rnd}, 'newsletter', 1, 'en', '{digest}', 'bulk', 'bulk', 'bulk', 'bulk' || x || '@example.org', 0, \
         '[\"newsletter-email\"]', '{{}}', '{PUBLIC}', 'bulk', 'active', {now}, {now}, {rnd}, 'bulk' FROM {series}"
    ))
    .bind(from)
    .bind(to)
    .execute(&pool)
    .await?;
    sqlx::query(&format!(
        "INSERT INTO events (seq, lead_id, lead_prev, kind, data, at, prev, hash) \
         SELECT x - $1 + 1 + {head}, {id}, 'bulk', 'accepted', '{{}}', {now}, 'bulk', 'bulk' FROM {series}"
    ))
    .bind(from)
    .bind(to)
    .execute(&pool)
    .await?;
    sqlx::query("UPDATE chain_head SET seq = seq + $1 WHERE id = 1").bind(to - from + 1).execute(&pool).await?;
    pool.close().await;
    println!("  filled in {:.0?}", started.elapsed());
    Ok(())
}

/// Waits until the verifiers sent every queued double opt-in mail (at most two minutes),
/// and prints how fast they went out.
async fn drain_outbox(database: &str) -> anyhow::Result<f64> {
    sqlx::any::install_default_drivers();
    let pool = sqlx::AnyPool::connect(database).await?;
    let started = Instant::now();
    let queued = |pool: sqlx::AnyPool| async move {
        sqlx::query_scalar::<_, i64>("SELECT COUNT(*) FROM outbox WHERE sent_at IS NULL AND failed_at IS NULL")
            .fetch_one(&pool)
            .await
    };
    let first = queued(pool.clone()).await?;
    let mut left = first;
    while left > 0 && started.elapsed() < Duration::from_secs(120) {
        tokio::time::sleep(Duration::from_millis(200)).await;
        left = queued(pool.clone()).await?;
    }
    pool.close().await;
    let secs = started.elapsed().as_secs_f64();
    println!(
        "  outbox: {} queued mails sent over SMTP in {secs:.1} s ({:.0} mails/s){}",
        first - left,
        (first - left) as f64 / secs,
        if left > 0 { format!(", {left} still queued; going on") } else { String::new() }
    );
    Ok((first - left) as f64 / secs)
}

struct PgFigures {
    one: f64,
    two: f64,
    one_million: f64,
    /// Queued mails sent per second by two replicas.
    mails: f64,
}

/// PostgreSQL: one replica, two replicas on the same database, then a million leads.
async fn postgres(base: &str, keys: &std::path::Path, session: &Session) -> anyhow::Result<PgFigures> {
    let sep = if base.contains('?') { '&' } else { '?' };
    let schema = format!("cwbench_{}", std::process::id());
    let url = format!("{base}{sep}options=-c%20search_path%3D{schema}");
    let (d1, d2) = (tempfile::tempdir()?, tempfile::tempdir()?);
    let a = start(d1.path(), keys, &url)?;
    prefill(&url, 10_000).await?;
    let one = throughput(&[&a], session).await?.0;
    let b = start(d2.path(), keys, &url)?;
    let two = throughput(&[&a, &b], session).await?.0;
    let mails = drain_outbox(&url).await?;
    drop((a, b));
    prefill(&url, 1_000_000).await?;
    let a = start(d1.path(), keys, &url)?;
    let one_million = throughput(&[&a], session).await?.0;
    drop(a);
    sqlx::any::install_default_drivers();
    let pool = sqlx::AnyPool::connect(base).await?;
    sqlx::query(&format!("DROP SCHEMA \"{schema}\" CASCADE")).execute(&pool).await?;
    pool.close().await;
    Ok(PgFigures { one, two, one_million, mails })
}

/// Accepted leads/s at saturation, clients spread over the verifiers, and how many.
async fn throughput(targets: &[&VerifierProcess], session: &Session) -> anyhow::Result<(f64, usize)> {
    let clients = clients();
    let budget = 15_000 * secs() as usize;
    let bodies = Arc::new(presign(session, budget));
    let next = Arc::new(AtomicUsize::new(0));
    println!("saturating {} verifier(s) with {clients} clients for {} s...", targets.len(), secs());
    let deadline = Instant::now() + Duration::from_secs(secs());
    let start = Instant::now();
    let mut tasks = Vec::new();
    for c in 0..clients {
        let target = targets[c % targets.len()];
        let addr: SocketAddr = format!("127.0.0.1:{}", target.port).parse()?;
        let host = format!("127.0.0.1:{}", target.port);
        let (bodies, next) = (bodies.clone(), next.clone());
        tasks.push(tokio::spawn(async move {
            let mut s = connect(addr).await?;
            let mut ok = 0usize;
            while Instant::now() < deadline {
                let i = next.fetch_add(1, Ordering::Relaxed);
                let Some(body) = bodies.get(i) else { break };
                if post(&mut s, &host, body.clone()).await? == 201 {
                    ok += 1;
                }
            }
            anyhow::Ok(ok)
        }));
    }
    let mut accepted = 0;
    for t in tasks {
        accepted += t.await??;
    }
    if next.load(Ordering::Relaxed) >= bodies.len() {
        bail!("ran out of pre-signed receipts: raise the budget");
    }
    Ok((accepted as f64 / start.elapsed().as_secs_f64(), accepted))
}

/// Copies a SQLite store (consistently, while a verifier writes to it) to `to`.
async fn snapshot(database: &str, to: &std::path::Path) -> anyhow::Result<()> {
    let pool = sqlx::AnyPool::connect(database).await?;
    sqlx::query("VACUUM INTO $1").bind(to.to_string_lossy().to_string()).execute(&pool).await?;
    pool.close().await;
    Ok(())
}

/// Phases on each store in the growth comparison.
const ROUNDS: usize = 3;

/// Accepted leads/s on each SQLite store, measured alternately, three times each, the best of
/// each kept: a neighbour's load drifting over the phases then changes both alike. Prints
/// what the writer's batches cost on each.
async fn growth(
    stores: [(&std::path::Path, &str); 2],
    keys: &std::path::Path,
    session: &Session,
    admin: &str,
) -> anyhow::Result<[f64; 2]> {
    let client = reqwest::Client::new();
    let mut best = [0.0f64; 2];
    for round in 0..ROUNDS {
        for (i, (dir, database)) in stores.iter().enumerate() {
            let v = start(dir, keys, database)?;
            let before = stages::read(&client, &v, admin).await?;
            let cpu0 = cpu_secs(v.pid())?;
            let (rate, accepted) = throughput(&[&v], session).await?;
            let cpu_us = (cpu_secs(v.pid())? - cpu0) / accepted.max(1) as f64 * 1e6;
            let table = stages::StageTable::between(&before, &stages::read(&client, &v, admin).await?, accepted);
            println!(
                "  {} leads stored, round {}: {rate:.0}/s; {}",
                ["10k", "1M"][i],
                round + 1,
                table.store_line(cpu_us)
            );
            best[i] = best[i].max(rate);
        }
    }
    Ok(best)
}

struct WidgetFigures {
    loads: usize,
    ready_cold_ms: f64,
    ready_median_ms: f64,
    signs: usize,
    sign_median_ms: f64,
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(|a, b| a.total_cmp(b));
    v.get(v.len() / 2).copied().unwrap_or(f64::NAN)
}

/// The widget in headless Chromium over loopback: from the moment widget.js starts to
/// `consent:ready` (wasm fetched and compiled, notice fetched, DOM built), and the time
/// `claims.sign` takes, read from the widget's own performance marks.
async fn widget(verifier: &VerifierProcess) -> anyhow::Result<WidgetFigures> {
    use fantoccini::Locator;
    let browser = consent_e2e::browser::Browser::start().await?;
    let ready = "performance.getEntriesByName('consent:ready').length > 0";
    let mut times = Vec::new();
    for i in 0..15 {
        browser.client.goto(&format!("{}/en/?load={i}", verifier.base)).await?;
        browser.wait_until(ready, Duration::from_secs(20)).await?;
        let ms = browser
            .js("return performance.getEntriesByName('consent:ready')[0].startTime - ConsentWidget.startedAt", vec![])
            .await?;
        times.push(ms.as_f64().context("a number")?);
    }
    let cold = times[0];
    browser.client.goto(&format!("{}/field.html", verifier.base)).await?;
    browser.wait_until(ready, Duration::from_secs(20)).await?;
    browser.client.find(Locator::Css("#email")).await?.send_keys("bench@example.org").await?;
    browser.client.find(Locator::Css("#cw-1-age-adult")).await?.click().await?;
    browser.client.find(Locator::Css("#cw-1-p0")).await?.click().await?;
    let rounds = 25;
    for i in 0..rounds {
        browser.client.find(Locator::Css("button[type=submit]")).await?.click().await?;
        browser
            .wait_until(
                &format!("performance.getEntriesByName('consent:sign-end').length > {i}"),
                Duration::from_secs(20),
            )
            .await?;
    }
    let signs = browser
        .js(
            "const s = performance.getEntriesByName('consent:sign-start'), e = performance.getEntriesByName('consent:sign-end');\
             return s.map((m, i) => e[i].startTime - m.startTime);",
            vec![],
        )
        .await?;
    let signs: Vec<f64> = signs.as_array().context("an array")?.iter().filter_map(serde_json::Value::as_f64).collect();
    browser.close().await?;
    Ok(WidgetFigures {
        loads: times.len(),
        ready_cold_ms: cold,
        ready_median_ms: median(times),
        signs: signs.len(),
        sign_median_ms: median(signs),
    })
}

/// One core signing and strictly verifying as fast as it can: the best of several short
/// samples, so that a neighbour stealing the CPU for a moment does not lower the ceiling
/// (a higher ceiling only makes the end-to-end ratio harder to meet).
fn crypto_ceiling(session: &Session) -> anyhow::Result<f64> {
    let key = random_key();
    let receipt = session.claims("bench@example.org").sign(&key);
    let (input, sig) = receipt.rsplit_once('.').context("compact JWS")?;
    let sig = ed25519_dalek::Signature::from_bytes(&consent_receipt::b64::decode_array(sig).context("signature")?);
    let vk = key.verifying_key();
    let verifier_key = random_key();
    let seal_input = b"eyJhbGciOiJFZERTQSJ9.eyJyZWNlaXB0X3NoYTI1NiI6IngiLCJqdGkiOiJqIiwibGVhZF9pZCI6ImwiLCJzdGF0dXMiOiJhY3RpdmUiLCJpYXQiOjF9";
    VerifiedReceipt::verify(&receipt).context("the bench receipt verifies")?;
    let mut best = 0.0f64;
    for _ in 0..6 {
        let deadline = Instant::now() + Duration::from_millis(400);
        let start = Instant::now();
        let mut n = 0u64;
        while Instant::now() < deadline {
            for _ in 0..32 {
                vk.verify_strict(input.as_bytes(), &sig).context("verify")?;
                std::hint::black_box(verifier_key.sign(seal_input));
            }
            n += 32;
        }
        best = best.max(n as f64 / start.elapsed().as_secs_f64());
    }
    Ok(best)
}

struct E2e {
    server_cpu_us: f64,
    /// The verifier's CPU per lead by stage, in the saturation phase.
    stages: stages::StageTable,
    client_cpu_us: f64,
    clients: usize,
    peak_rate: f64,
    peak_accepted: usize,
    errors: usize,
    half_rate: f64,
    p50_ms: f64,
    p99_ms: f64,
}

/// Unique signed receipts, made before the clock starts.
fn presign(session: &Session, n: usize) -> Vec<Bytes> {
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    let per = n.div_ceil(threads);
    std::thread::scope(|s| {
        let handles: Vec<_> = (0..threads)
            .map(|t| {
                s.spawn(move || {
                    let key = random_key();
                    (0..per)
                        .map(|i| {
                            let c = session.claims(&format!("bench-{t}-{i}@example.org"));
                            Bytes::from(serde_json::json!({"receipt": c.sign(&key)}).to_string())
                        })
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        handles.into_iter().flat_map(|h| h.join().unwrap_or_default()).collect()
    })
}

type Sender = hyper::client::conn::http1::SendRequest<Full<Bytes>>;

async fn connect(addr: SocketAddr) -> anyhow::Result<Sender> {
    let stream = tokio::net::TcpStream::connect(addr).await?;
    stream.set_nodelay(true)?;
    let (sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(stream)).await?;
    tokio::spawn(conn);
    Ok(sender)
}

async fn post(sender: &mut Sender, host: &str, body: Bytes) -> anyhow::Result<u16> {
    sender.ready().await?;
    let req = Request::post("/v1/leads")
        .header("host", host)
        .header("content-type", "application/json")
        .body(Full::new(body))?;
    let res = sender.send_request(req).await?;
    let status = res.status().as_u16();
    let body = res.into_body().collect().await?.to_bytes();
    if status != 201 && !REPORTED.swap(true, Ordering::Relaxed) {
        println!("  (first refusal in this run: {status} {})", String::from_utf8_lossy(&body));
    }
    Ok(status)
}

/// Whether a refusal was already printed: one is enough to see what went wrong.
static REPORTED: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

async fn end_to_end(verifier: &VerifierProcess, session: &Session, admin: &str) -> anyhow::Result<E2e> {
    let stats = reqwest::Client::new();
    let addr: SocketAddr = format!("127.0.0.1:{}", verifier.port).parse()?;
    let host = format!("127.0.0.1:{}", verifier.port);
    let clients = clients();
    let budget = 20_000 * secs() as usize;
    println!("signing {budget} unique receipts for the load...");
    let bodies = Arc::new(presign(session, budget + 2_000));
    let next = Arc::new(AtomicUsize::new(0));

    // Warm-up.
    let mut s = connect(addr).await?;
    for _ in 0..500 {
        let i = next.fetch_add(1, Ordering::Relaxed);
        post(&mut s, &host, bodies[i].clone()).await?;
    }

    // Saturation: closed loop, every client sends its next request as soon as it can.
    println!("saturating with {clients} clients for {} s...", secs());
    let deadline = Instant::now() + Duration::from_secs(secs());
    let start = Instant::now();
    let stages0 = stages::read(&stats, verifier, admin).await?;
    let (server_cpu0, client_cpu0) = (cpu_secs(verifier.pid())?, cpu_secs(std::process::id())?);
    let mut tasks = Vec::new();
    for _ in 0..clients {
        let (bodies, next, host) = (bodies.clone(), next.clone(), host.clone());
        tasks.push(tokio::spawn(async move {
            let mut s = connect(addr).await?;
            let (mut ok, mut err) = (0usize, 0usize);
            while Instant::now() < deadline {
                let i = next.fetch_add(1, Ordering::Relaxed);
                let Some(body) = bodies.get(i) else { break };
                match post(&mut s, &host, body.clone()).await? {
                    201 => ok += 1,
                    _ => err += 1,
                }
            }
            anyhow::Ok((ok, err))
        }));
    }
    let (mut accepted, mut errors) = (0, 0);
    for t in tasks {
        let (ok, err) = t.await??;
        accepted += ok;
        errors += err;
    }
    let elapsed = start.elapsed().as_secs_f64();
    let peak_rate = accepted as f64 / elapsed;
    let server_cpu_us = (cpu_secs(verifier.pid())? - server_cpu0) / accepted.max(1) as f64 * 1e6;
    let client_cpu_us = (cpu_secs(std::process::id())? - client_cpu0) / accepted.max(1) as f64 * 1e6;
    let stage_table = stages::StageTable::between(&stages0, &stages::read(&stats, verifier, admin).await?, accepted);
    if next.load(Ordering::Relaxed) >= bodies.len() {
        bail!("ran out of pre-signed receipts: raise the budget");
    }

    // Half the peak, open loop.
    let half_rate = peak_rate / 2.0;
    let remaining = bodies.len() - next.load(Ordering::Relaxed);
    let duration = Duration::from_secs(secs()).min(Duration::from_secs_f64(remaining as f64 / half_rate * 0.9));
    println!("holding {half_rate:.0} leads/s for {:.1} s...", duration.as_secs_f64());
    let per_client = half_rate / clients as f64;
    let interval = Duration::from_secs_f64(1.0 / per_client);
    let deadline = Instant::now() + duration;
    let mut tasks = Vec::new();
    for c in 0..clients {
        let (bodies, next, host) = (bodies.clone(), next.clone(), host.clone());
        tasks.push(tokio::spawn(async move {
            let mut s = connect(addr).await?;
            let mut lat = Vec::new();
            let mut err = 0usize;
            // Spread the clients' first sends over one interval.
            let first = Instant::now() + interval.mul_f64(c as f64 / clients as f64);
            let mut ticker = tokio::time::interval_at(first.into(), interval);
            ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Burst);
            loop {
                let scheduled = ticker.tick().await.into_std();
                if scheduled >= deadline {
                    break;
                }
                let i = next.fetch_add(1, Ordering::Relaxed);
                let Some(body) = bodies.get(i) else { break };
                if post(&mut s, &host, body.clone()).await? != 201 {
                    err += 1;
                }
                lat.push(scheduled.elapsed());
            }
            anyhow::Ok((lat, err))
        }));
    }
    let mut latencies = Vec::new();
    for t in tasks {
        let (lat, err) = t.await??;
        latencies.extend(lat);
        errors += err;
    }
    latencies.sort_unstable();
    let pct = |p: f64| {
        latencies
            .get(((latencies.len() as f64 * p) as usize).min(latencies.len().saturating_sub(1)))
            .map_or(0.0, |d| d.as_secs_f64() * 1e3)
    };
    Ok(E2e {
        server_cpu_us,
        stages: stage_table,
        client_cpu_us,
        clients,
        peak_rate,
        peak_accepted: accepted,
        errors,
        half_rate,
        p50_ms: pct(0.50),
        p99_ms: pct(0.99),
    })
}

/// CPU time (user + system) a process has used, in seconds.
fn cpu_secs(pid: u32) -> anyhow::Result<f64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat"))?;
    // Fields after the parenthesised command name; utime and stime are the 14th and 15th.
    let rest = stat.rsplit_once(')').map(|(_, r)| r).context("stat format")?;
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let ticks: f64 = fields.get(11).and_then(|v| v.parse::<f64>().ok()).unwrap_or(0.0)
        + fields.get(12).and_then(|v| v.parse::<f64>().ok()).unwrap_or(0.0);
    // USER_HZ is 100 on Linux.
    Ok(ticks / 100.0)
}

/// The process's peak resident set (VmHWM), in KiB.
fn peak_rss_kib(pid: u32) -> anyhow::Result<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status"))?;
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .context("VmHWM not found")
}
