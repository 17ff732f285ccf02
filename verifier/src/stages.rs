//! CPU time per stage of the work a lead costs, measured inside the running verifier
//! (`serve --stage-timings`, read at `GET /v1/admin/stats/stages`): what `cargo xtask
//! bench` prints so that the next optimisation is chosen from figures.
//!
//! Off by default, and then every probe is one relaxed atomic load. When on, a probe reads
//! the calling thread's CPU clock (`CLOCK_THREAD_CPUTIME_ID`) before and after a
//! synchronous section: a system call each, 1.6–3.0% of the verifier's CPU under the
//! bench's load (measured with `perf`), counted inside the stages they measure. A task on the multi-threaded runtime may resume on another thread
//! after each `.await`, so only synchronous code is timed: closures ([`time`]) and single
//! polls of a future ([`timed`]). Probes nest: a section's own time excludes the sections
//! timed inside it, so the stages add up without counting anything twice (a connection's
//! polls count as [`Stage::Http`] minus the parsing, signature, sealing, … they ran).
//!
//! SQLite runs its statements on sqlx's own threads (`sqlx-sqlite-worker-N`); their CPU is
//! read from `/proc/self/task` and reported as `sqlite`. The writer adds the wall time of
//! its batches' statements and of their commits (the WAL write and its fsync), which are
//! waits, not CPU.

use std::cell::Cell;
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::task::{Context, Poll};
use std::time::Duration;

use futures_util::future::Either;

/// A stage of the work.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stage {
    /// hyper and axum: reading and parsing requests, routing, writing responses, and
    /// whatever a handler runs outside the stages below (its log lines too).
    Http = 0,
    /// The request body's JSON, the JWS's base64url and header, the payload's JSON and schema.
    Parse,
    /// The receipt's signature: decoding the visitor's key, `verify_strict`.
    Signature,
    /// Rules 4–9 (nonce, audience, origin, time, notice, decisions, age) and the lead's row
    /// (contact hashes, form fields).
    Decide,
    /// The seal: `sign` with the verifier's key.
    Seal,
    /// The double opt-in message: tokens, templates, MIME.
    Compose,
    /// The group-commit writer task: SQL text and bindings, the event chain's hashes.
    Writer,
    /// The outbox workers: claiming messages, the SMTP (or SMPP) conversations.
    Send,
}

impl Stage {
    /// Every stage, in the order a lead meets them.
    pub const ALL: [Stage; 8] = [
        Stage::Http,
        Stage::Parse,
        Stage::Signature,
        Stage::Decide,
        Stage::Seal,
        Stage::Compose,
        Stage::Writer,
        Stage::Send,
    ];

    /// Its name in the stats.
    pub fn name(self) -> &'static str {
        match self {
            Stage::Http => "http",
            Stage::Parse => "parse",
            Stage::Signature => "signature",
            Stage::Decide => "decide",
            Stage::Seal => "seal",
            Stage::Compose => "compose",
            Stage::Writer => "writer",
            Stage::Send => "send",
        }
    }
}

static ON: AtomicBool = AtomicBool::new(false);
static CPU_NS: [AtomicU64; Stage::ALL.len()] = [const { AtomicU64::new(0) }; Stage::ALL.len()];
static BATCHES: AtomicU64 = AtomicU64::new(0);
static BATCH_WRITES: AtomicU64 = AtomicU64::new(0);
static STATEMENTS_NS: AtomicU64 = AtomicU64::new(0);
static COMMIT_NS: AtomicU64 = AtomicU64::new(0);

thread_local! {
    /// CPU time of the sections timed so far on this thread, nested ones included: an
    /// enclosing section subtracts what it grew by while it ran.
    static TIMED_NS: Cell<u64> = const { Cell::new(0) };
}

/// Turns the probes on, for the rest of the process.
pub fn enable() {
    ON.store(true, Ordering::Relaxed);
}

/// Whether the probes are on.
pub fn enabled() -> bool {
    ON.load(Ordering::Relaxed)
}

#[cfg(unix)]
fn thread_cpu_ns() -> u64 {
    let t = rustix::time::clock_gettime(rustix::time::ClockId::ThreadCPUTime);
    (t.tv_sec as u64).saturating_mul(1_000_000_000).saturating_add(t.tv_nsec as u64)
}

#[cfg(not(unix))]
fn thread_cpu_ns() -> u64 {
    0
}

/// Runs `f`, a synchronous section, and counts its CPU time (less the sections timed
/// inside it) to `stage`.
pub fn time<T>(stage: Stage, f: impl FnOnce() -> T) -> T {
    if !enabled() {
        return f();
    }
    let before = TIMED_NS.get();
    let start = thread_cpu_ns();
    let out = f();
    let spent = thread_cpu_ns().saturating_sub(start);
    let inner = TIMED_NS.get().saturating_sub(before);
    CPU_NS[stage as usize].fetch_add(spent.saturating_sub(inner), Ordering::Relaxed);
    TIMED_NS.set(before.saturating_add(spent));
    out
}

/// Consecutive laps of one synchronous section, each counted to its own stage: for code
/// that names its steps as it goes
/// ([`VerifiedReceipt::verify_observed`](consent_receipt::VerifiedReceipt::verify_observed)).
#[derive(Debug)]
pub struct Laps {
    last: Option<u64>,
}

impl Laps {
    /// Starts the first lap now.
    pub fn start() -> Laps {
        Laps { last: enabled().then(thread_cpu_ns) }
    }

    /// Ends the current lap, counting it to `stage`, and starts the next.
    pub fn lap(&mut self, stage: Stage) {
        let Some(last) = self.last else { return };
        let now = thread_cpu_ns();
        let spent = now.saturating_sub(last);
        CPU_NS[stage as usize].fetch_add(spent, Ordering::Relaxed);
        TIMED_NS.set(TIMED_NS.get().saturating_add(spent));
        self.last = Some(now);
    }
}

/// `future`, each of its polls timed to `stage` when the probes are on (and `future`
/// itself, unwrapped, when they are off).
pub fn timed<F: Future>(stage: Stage, future: F) -> Either<Timed<F>, F> {
    if enabled() { Either::Left(Timed { stage, inner: Box::pin(future) }) } else { Either::Right(future) }
}

/// A future whose polls are timed (see [`timed`]).
#[derive(Debug)]
pub struct Timed<F> {
    stage: Stage,
    inner: Pin<Box<F>>,
}

impl<F: Future> Future for Timed<F> {
    type Output = F::Output;
    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<F::Output> {
        let this = self.get_mut();
        time(this.stage, || this.inner.as_mut().poll(cx))
    }
}

/// One committed batch of the writer: how many writes, and the wall time of its
/// statements and of its commit.
pub fn batch(writes: usize, statements: Duration, commit: Duration) {
    if !enabled() {
        return;
    }
    BATCHES.fetch_add(1, Ordering::Relaxed);
    BATCH_WRITES.fetch_add(writes as u64, Ordering::Relaxed);
    STATEMENTS_NS.fetch_add(statements.as_nanos() as u64, Ordering::Relaxed);
    COMMIT_NS.fetch_add(commit.as_nanos() as u64, Ordering::Relaxed);
}

/// The totals since the process started, in microseconds.
pub fn snapshot() -> serde_json::Value {
    let us = |ns: u64| ns / 1_000;
    let mut cpu = serde_json::Map::new();
    for stage in Stage::ALL {
        cpu.insert(stage.name().into(), us(CPU_NS[stage as usize].load(Ordering::Relaxed)).into());
    }
    cpu.insert("sqlite".into(), thread_cpu_us("sqlx-sqlite-wor").into());
    serde_json::json!({
        "cpu_us": cpu,
        "writer": {
            "batches": BATCHES.load(Ordering::Relaxed),
            "writes": BATCH_WRITES.load(Ordering::Relaxed),
            "statements_wall_us": us(STATEMENTS_NS.load(Ordering::Relaxed)),
            "commit_wall_us": us(COMMIT_NS.load(Ordering::Relaxed)),
        },
    })
}

/// CPU time of this process's threads whose name starts with `prefix` (Linux keeps 15
/// bytes of a thread's name), in microseconds: from each thread's `schedstat` (time on a
/// CPU, in nanoseconds), else its `stat` (user and system time, in ticks); 0 without `/proc`.
fn thread_cpu_us(prefix: &str) -> u64 {
    let Ok(tasks) = std::fs::read_dir("/proc/self/task") else { return 0 };
    let mut ns = 0u64;
    for task in tasks.flatten() {
        let name = std::fs::read_to_string(task.path().join("comm")).unwrap_or_default();
        if !name.starts_with(prefix) {
            continue;
        }
        let schedstat = std::fs::read_to_string(task.path().join("schedstat")).ok();
        ns += match schedstat.as_deref().and_then(|s| s.split_whitespace().next()?.parse::<u64>().ok()) {
            Some(on_cpu) => on_cpu,
            None => stat_ticks(&task.path()) * 10_000_000,
        };
    }
    ns / 1_000
}

/// User and system time of a thread, in ticks (USER_HZ is 100 on Linux).
fn stat_ticks(task: &std::path::Path) -> u64 {
    let stat = std::fs::read_to_string(task.join("stat")).unwrap_or_default();
    // After the parenthesised name: state is field 3; utime and stime are fields 14 and 15.
    let fields: Vec<&str> = stat.rsplit_once(')').map_or("", |(_, r)| r).split_whitespace().collect();
    let field = |i: usize| fields.get(i).and_then(|v| v.parse::<u64>().ok()).unwrap_or(0);
    field(11) + field(12)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Burns `ms` of this thread's CPU time (not wall time: the machine may be busy).
    fn spin(ms: u64) {
        let start = thread_cpu_ns();
        while thread_cpu_ns() - start < ms * 1_000_000 {
            std::hint::black_box(0u64);
        }
    }

    #[test]
    fn a_nested_section_is_counted_to_its_own_stage_and_not_to_the_enclosing_one() {
        enable();
        let cpu = |s: Stage| CPU_NS[s as usize].load(Ordering::Relaxed);
        let (send0, seal0) = (cpu(Stage::Send), cpu(Stage::Seal));
        time(Stage::Send, || {
            spin(20);
            time(Stage::Seal, || spin(40));
        });
        let (send, seal) = (cpu(Stage::Send) - send0, cpu(Stage::Seal) - seal0);
        // Only the outbox workers time `send`, and no unit test runs them; other tests
        // may seal meanwhile, which only adds.
        assert!(seal >= 35_000_000, "seal {seal} ns");
        assert!((15_000_000..35_000_000).contains(&send), "send {send} ns");
    }
}
