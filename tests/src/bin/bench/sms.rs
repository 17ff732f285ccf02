//! The SMS backlog over SMPP: a verifier bound to the test SMS centre (on the same
//! machine), a backlog of double opt-in SMS put straight into its outbox, and how fast its
//! SMS worker drains it (submit_sm in a window, each answered, each marked sent).

use std::time::{Duration, Instant};

use consent_e2e::process::VerifierProcess;
use consent_e2e::smsc::{PASSWORD, SYSTEM_ID, Smsc};

/// SMS in the backlog.
const BACKLOG: i64 = 3_000;

/// SMS per second drained by one verifier on SQLite.
pub async fn backlog_rate(keys: &std::path::Path) -> anyhow::Result<f64> {
    let smsc = Smsc::start().await?;
    let dir = tempfile::tempdir()?;
    let db = format!("sqlite://{}", dir.path().join("consent.db").display());
    let (keys, addr) = (keys.to_string_lossy().to_string(), format!("127.0.0.1:{}", smsc.port()));
    let args = [
        "--database-url",
        db.as_str(),
        "--keys-dir",
        keys.as_str(),
        "--sms-transport",
        "smpp",
        "--smpp-addr",
        addr.as_str(),
        "--smpp-system-id",
        SYSTEM_ID,
        "--smpp-window",
        "32",
    ];
    let args: Vec<&str> = args.iter().copied().chain(super::UNLIMITED).collect();
    let verifier =
        VerifierProcess::start(dir.path(), &args, &[("CONSENT_SMPP_PASSWORD", PASSWORD), ("RUST_LOG", "warn")])?;
    smsc.wait_bound(Duration::from_secs(20)).await?;
    sqlx::any::install_default_drivers();
    let pool = sqlx::AnyPool::connect(&db).await?;
    let now = consent_e2e::now();
    // One statement: the rows a verifier writes when it accepts SMS leads, due at once.
    sqlx::query(&format!(
        "WITH RECURSIVE n(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM n WHERE x < {BACKLOG}) \
         INSERT INTO outbox (id, channel, lead_id, kind, message_id, envelope_from, recipient, message, link, \
         created_at, attempts, next_attempt_at, claimed_until) \
         SELECT 'bench' || x, 'sms', NULL, 'confirmation', 'bench' || x, 'ATLUMIERE', \
         '+3361' || substr('0000000' || x, -7, 7), \
         'Atelier Lumière : pour recevoir nos offres par SMS, confirmez sur https://bench.test/c/x ou répondez OUI. Code : 123456. STOP au 36111', \
         '', {now}, 0, {now}, 0 FROM n"
    ))
    .execute(&pool)
    .await?;
    let started = Instant::now();
    let queued = || async {
        sqlx::query_scalar::<_, i64>("SELECT COUNT(*) FROM outbox WHERE channel = 'sms' AND sent_at IS NULL")
            .fetch_one(&pool)
            .await
    };
    let mut left = queued().await?;
    while left > 0 && started.elapsed() < Duration::from_secs(120) {
        tokio::time::sleep(Duration::from_millis(100)).await;
        left = queued().await?;
    }
    let secs = started.elapsed().as_secs_f64();
    let sent = BACKLOG - left;
    println!(
        "  SMS outbox: {sent} queued SMS submitted over SMPP in {secs:.1} s ({:.0}/s); the SMS centre took {}",
        sent as f64 / secs,
        smsc.received().len()
    );
    pool.close().await;
    drop(verifier);
    smsc.stop().await;
    Ok(sent as f64 / secs)
}
