//! Slow and idle clients: a connection that never finishes its request head is closed
//! within the header timeout, an idle one within the idle rules, a stop ends within its
//! deadline however many slow clients hang on, and one client's 1,100 idle connections
//! leave `/healthz` answering everyone else.

use std::time::{Duration, Instant};

use consent_e2e::process::VerifierProcess;
use consent_verifier::Settings;
use consent_verifier::config::LimitSettings;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::helpers::*;

fn limits(l: LimitSettings) -> Options {
    Options { settings: Some(Settings { limits: l, ..Settings::default() }), ..Options::default() }
}

fn secs(s: &str) -> Option<consent_verifier::config::HumanDuration> {
    Some(s.parse().unwrap())
}

/// Reads until the server closes; returns what it sent and when it closed.
async fn read_until_closed(stream: &mut TcpStream, give_up: Duration) -> (String, Option<Duration>) {
    let started = Instant::now();
    let mut got = Vec::new();
    let mut buf = [0u8; 1024];
    loop {
        match tokio::time::timeout(give_up.saturating_sub(started.elapsed()), stream.read(&mut buf)).await {
            Ok(Ok(0)) | Ok(Err(_)) => return (String::from_utf8_lossy(&got).into_owned(), Some(started.elapsed())),
            Ok(Ok(n)) => got.extend_from_slice(&buf[..n]),
            Err(_) => return (String::from_utf8_lossy(&got).into_owned(), None),
        }
    }
}

fn addr(app: &TestApp) -> String {
    app.base.trim_start_matches("http://").to_string()
}

#[tokio::test]
async fn a_connection_that_sends_half_a_request_head_is_closed_within_the_header_timeout() {
    let app = spawn_app_with(limits(LimitSettings { header_timeout: secs("1s"), ..Default::default() })).await;
    let mut slow = TcpStream::connect(addr(&app)).await.unwrap();
    slow.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Slow: ").await.unwrap();

    let (said, closed) = read_until_closed(&mut slow, Duration::from_secs(5)).await;

    let closed = closed.expect("the half-header connection was never closed");
    assert!(closed < Duration::from_millis(2500), "closed after {closed:?}");
    assert!(said.is_empty() || said.starts_with("HTTP/1.1 408"), "{said}");
}

#[tokio::test]
async fn a_connection_that_sends_nothing_is_closed_within_the_header_timeout() {
    let app = spawn_app_with(limits(LimitSettings { header_timeout: secs("1s"), ..Default::default() })).await;
    let mut silent = TcpStream::connect(addr(&app)).await.unwrap();

    let (_, closed) = read_until_closed(&mut silent, Duration::from_secs(5)).await;

    let closed = closed.expect("the silent connection was never closed");
    assert!(closed < Duration::from_millis(2500), "closed after {closed:?}");
}

#[tokio::test]
async fn an_idle_keep_alive_connection_is_closed_and_a_busy_one_is_not() {
    let app = spawn_app_with(limits(LimitSettings { header_timeout: secs("1s"), ..Default::default() })).await;
    let mut conn = TcpStream::connect(addr(&app)).await.unwrap();
    // Requests keep coming faster than the timeout: the connection stays.
    for _ in 0..4 {
        conn.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n").await.unwrap();
        // /healthz answers "ok\n": read up to the end of that body.
        let mut said = Vec::new();
        while !said.ends_with(b"\r\n\r\nok\n") {
            let mut buf = [0u8; 4096];
            let n = conn.read(&mut buf).await.unwrap();
            assert!(n > 0, "closed while busy: {}", String::from_utf8_lossy(&said));
            said.extend_from_slice(&buf[..n]);
        }
        assert!(said.starts_with(b"HTTP/1.1 200"), "{}", String::from_utf8_lossy(&said));
        tokio::time::sleep(Duration::from_millis(500)).await;
    }

    // Then nothing: it is closed once the timeout passes.
    let (_, closed) = read_until_closed(&mut conn, Duration::from_secs(5)).await;

    let closed = closed.expect("the idle keep-alive connection was never closed");
    assert!(closed < Duration::from_millis(2000), "closed after {closed:?}");
}

/// The idle timeout holds on its own, here below a long header timeout.
#[tokio::test]
async fn a_connection_on_which_nothing_moves_is_closed_by_the_idle_timeout() {
    let app = spawn_app_with(limits(LimitSettings {
        header_timeout: secs("30s"),
        idle_timeout: secs("1s"),
        ..Default::default()
    }))
    .await;
    let mut stalled = TcpStream::connect(addr(&app)).await.unwrap();
    stalled.write_all(b"GET /.well-known/jwks.json HTTP/1.1\r\nHost: x\r\n\r\n").await.unwrap();
    let (said, closed) = read_until_closed(&mut stalled, Duration::from_secs(6)).await;
    assert!(said.starts_with("HTTP/1.1 200"), "{said}");
    let closed = closed.expect("never closed");
    assert!(closed < Duration::from_secs(4), "closed after {closed:?}");
}

#[test]
fn sigterm_finishes_within_its_deadline_while_slow_clients_hang_on_and_the_request_in_flight_completes() {
    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
    let data = tempfile::tempdir().unwrap();
    let mut verifier = VerifierProcess::start(
        data.path(),
        &["--shutdown-timeout", "2s", "--header-timeout", "60s", "--idle-timeout", "60s", "--request-timeout", "60s"],
        &[],
    )
    .unwrap();
    let base = verifier.base.clone();
    let addr = base.trim_start_matches("http://").to_string();
    rt.block_on(async {
        // Ten clients that send half a head and wait.
        let mut slow = Vec::new();
        for _ in 0..10 {
            let mut s = TcpStream::connect(&addr).await.unwrap();
            s.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Slow: ").await.unwrap();
            slow.push(s);
        }
        // And one whose request body never ends.
        let mut s = TcpStream::connect(&addr).await.unwrap();
        s.write_all(b"POST /v1/leads HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 900\r\n\r\n{\"receipt\"")
            .await
            .unwrap();
        slow.push(s);
        // One lead whose body is still arriving when the stop comes.
        let client = reqwest::Client::new();
        let session = consent_e2e::Session::fetch(&client, &base, "newsletter", "en", &base).await.unwrap();
        let receipt = session.claims(&unique_email()).sign(&consent_e2e::random_key());
        let body = serde_json::json!({"receipt": receipt}).to_string();
        let (first, rest) = body.split_at(body.len() / 2);
        let mut lead = TcpStream::connect(&addr).await.unwrap();
        let head = format!(
            "POST /v1/leads HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n",
            body.len()
        );
        lead.write_all(head.as_bytes()).await.unwrap();
        lead.write_all(first.as_bytes()).await.unwrap();
        tokio::time::sleep(Duration::from_millis(300)).await;

        let pid = verifier.pid().to_string();
        let stopped_at = Instant::now();
        assert!(std::process::Command::new("kill").args(["-s", "TERM", &pid]).status().unwrap().success());
        tokio::time::sleep(Duration::from_millis(300)).await;
        lead.write_all(rest.as_bytes()).await.unwrap();
        let (answer, _) = read_until_closed(&mut lead, Duration::from_secs(5)).await;
        assert!(answer.starts_with("HTTP/1.1 201"), "the request in flight finished: {answer}");

        let status = tokio::task::spawn_blocking(move || {
            let status = verifier.wait_exit(Duration::from_secs(10));
            (status, verifier)
        })
        .await
        .unwrap();
        let (status, verifier) = status;
        let took = stopped_at.elapsed();
        let status = status.unwrap_or_else(|e| panic!("{e}\n{}", verifier.log_text()));
        assert!(status.success(), "{status}\n{}", verifier.log_text());
        assert!(took < Duration::from_millis(4500), "SIGTERM took {took:?} with a 2 s deadline");
        assert!(verifier.log_text().contains("cut"), "the log says slow connections were cut");
        drop(slow);
    });
}

/// One client opens 1,100 idle connections against a verifier whose open-file limit is
/// 1,024 (a common default): its own cap closes the excess at once, and `/healthz` keeps
/// answering another client.
#[test]
fn healthz_answers_another_client_while_one_client_holds_1100_idle_connections() {
    raise_own_open_file_limit(4096);
    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
    let data = tempfile::tempdir().unwrap();
    let verifier =
        VerifierProcess::start_with_open_file_limit(data.path(), &["--header-timeout", "60s"], &[], 1024).unwrap();
    let addr = verifier.base.trim_start_matches("http://").to_string();
    rt.block_on(async {
        let mut idle = Vec::new();
        for _ in 0..1100 {
            if let Ok(s) = TcpStream::connect(&addr).await {
                idle.push(s);
            }
        }
        assert!(idle.len() >= 1000, "the test itself opened {} connections", idle.len());
        // Another client (127.0.0.2 is loopback too) is served, promptly, every time.
        let other =
            reqwest::Client::builder().local_address("127.0.0.2".parse::<std::net::IpAddr>().unwrap()).build().unwrap();
        for _ in 0..5 {
            let started = Instant::now();
            let res =
                tokio::time::timeout(Duration::from_secs(3), other.get(format!("{}/healthz", verifier.base)).send())
                    .await
                    .expect("/healthz answered within 3 s")
                    .unwrap_or_else(|e| panic!("{e}\n{}", verifier.log_text()));
            assert_eq!(res.status(), 200);
            assert!(started.elapsed() < Duration::from_secs(1), "{:?}", started.elapsed());
        }
        assert!(verifier.log_text().contains("connections over the cap closed at once"), "{}", verifier.log_text());
        drop(idle);
    });
}

fn raise_own_open_file_limit(wanted: u64) {
    use rustix::process::{Resource, Rlimit, getrlimit, setrlimit};
    let l = getrlimit(Resource::Nofile);
    if l.current.is_some_and(|c| c < wanted) {
        let current = l.maximum.map_or(Some(wanted), |m| Some(m.min(wanted)));
        setrlimit(Resource::Nofile, Rlimit { current, maximum: l.maximum }).unwrap();
    }
}
