//! What operators rely on: health and readiness, metrics a Prometheus parser reads, and a
//! server that one misbehaving client cannot take down.

use std::time::{Duration, Instant};

use reqwest::Method;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpSocket, TcpStream};
use warden_client::model::GroupInput;
use warden_core::Catalog;
use warden_server::{AuthFailureLimit, Limits, Service};

use crate::common::{assert_problem, settings, Server};

#[tokio::test]
async fn health_readiness_and_metrics_answer_without_a_token() {
    let s = Server::start().await;
    let (status, body, _) = s.raw(Method::GET, "/healthz", None, None).await;
    assert_eq!((status, body.as_str()), (200, Some("ok")));
    let (status, body, _) = s.raw(Method::GET, "/readyz", None, None).await;
    assert_eq!(status, 200);
    assert_eq!(body["status"], "ready");
    assert_eq!(body["organizations"], 1);
    // Traffic the metrics must show.
    s.admin_client
        .create_group(&GroupInput {
            name: "measured".into(),
            description: String::new(),
        })
        .await
        .unwrap();
    assert!(s.check(&s.admin_token, &s.admin, "iam.groups.list").await);
    let (status, body, headers) = s.raw(Method::GET, "/metrics", None, None).await;
    assert_eq!(status, 200);
    assert!(headers["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/plain; version=0.0.4"));
    let text = body.as_str().unwrap().to_string();
    let families = parse_with_prometheus(&text);
    for expected in [
        "warden_http_requests",
        "warden_http_request_duration_seconds",
        "warden_check_decisions",
        "warden_writes",
        "warden_write_batch_duration_seconds",
        "warden_write_queue_depth",
        "warden_organizations",
        "warden_snapshot_revisions",
        "warden_snapshot_principals",
        "warden_outbox_backlog",
        "warden_sync_lag_seconds",
    ] {
        assert!(
            families.iter().any(|f| f == expected),
            "{expected} missing from {families:?}"
        );
    }
    assert!(
        text.contains(r#"route="/v1/groups",status="201""#),
        "{text}"
    );
    assert!(
        text.contains(r#"warden_check_decisions_total{decision="allow"} 1"#),
        "{text}"
    );
    assert!(text.contains("warden_organizations 1"), "{text}");
    // No tenant data: no org id, no user id, no email.
    assert!(!text.contains(s.org.as_str()) && !text.contains(s.admin.as_str()));
    assert!(!text.contains("acme.test"));
}

/// The metric family names, as Prometheus's own Python parser reads the text (PyPI
/// `prometheus-client`, installed by `.ci/run`; skipped loudly without it outside CI).
fn parse_with_prometheus(text: &str) -> Vec<String> {
    let script = "import sys\n\
        from prometheus_client.parser import text_string_to_metric_families\n\
        for f in text_string_to_metric_families(sys.stdin.read()):\n    print(f.name)\n";
    let child = std::process::Command::new("python3")
        .args(["-c", script])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn();
    let output = child.and_then(|mut child| {
        use std::io::Write;
        child.stdin.take().unwrap().write_all(text.as_bytes())?;
        child.wait_with_output()
    });
    match output {
        Ok(out) if out.status.success() => String::from_utf8(out.stdout)
            .unwrap()
            .lines()
            .map(|l| l.trim_end_matches("_total").to_string())
            .collect(),
        Ok(out)
            if String::from_utf8_lossy(&out.stderr).contains("No module named")
                && std::env::var("CI").as_deref() != Ok("true") =>
        {
            eprintln!("\n**********\nSKIPPED the Prometheus parser: pip install prometheus-client\n**********\n");
            text.lines()
                .filter_map(|l| l.strip_prefix("# TYPE "))
                .filter_map(|l| l.split(' ').next())
                .map(str::to_string)
                .collect()
        }
        Ok(out) => panic!(
            "the Prometheus parser refused /metrics: {}\n{text}",
            String::from_utf8_lossy(&out.stderr)
        ),
        Err(e) => panic!("cannot run python3: {e}"),
    }
}

/// A connection from `source` (any 127.0.0.0/8 address) to the server.
async fn connect_from(source: &str, server: &Server) -> std::io::Result<TcpStream> {
    let socket = TcpSocket::new_v4()?;
    socket.bind(format!("{source}:0").parse().unwrap())?;
    let target = server.base.trim_start_matches("http://").parse().unwrap();
    socket.connect(target).await
}

#[tokio::test]
async fn a_client_holding_half_sent_requests_does_not_stop_a_well_behaved_one() {
    let first = Server::start().await;
    let limits = Limits {
        max_connections_per_address: 64,
        header_read_timeout: Duration::from_secs(2),
        ..Limits::default()
    };
    let s = Server::serve_within(
        first.service.clone(),
        first.org.clone(),
        first.admin.clone(),
        first.admin_token.clone(),
        None,
        limits,
    )
    .await;
    // 300 connections from 127.0.0.2, each with a request's first line and never the rest.
    let mut held = Vec::new();
    for _ in 0..300 {
        if let Ok(mut stream) = connect_from("127.0.0.2", &s).await {
            let _ = stream
                .write_all(b"GET /v1/groups HTTP/1.1\r\nHost: x\r\n")
                .await;
            held.push(stream);
        }
    }
    // Meanwhile a client on 127.0.0.1 is served promptly, again and again.
    for _ in 0..20 {
        let started = Instant::now();
        s.admin_client.groups().await.unwrap();
        assert!(
            started.elapsed() < Duration::from_secs(1),
            "{:?}",
            started.elapsed()
        );
    }
    // Past its share, the slow address's connections were closed at once; the rest are
    // closed when their headers' deadline passes (with at most an error status first).
    let deadline = Instant::now() + Duration::from_secs(10);
    for stream in &mut held {
        let mut buf = [0u8; 64];
        let left = deadline.saturating_duration_since(Instant::now());
        match tokio::time::timeout(left, stream.read(&mut buf)).await {
            Ok(Ok(0) | Err(_)) => {}
            Ok(Ok(n)) => assert!(buf[..n].starts_with(b"HTTP/1.1 4"), "{:?}", &buf[..n]),
            Err(_) => panic!("a half-sent request was still open after its deadline"),
        }
    }
    // An idle keep-alive connection is closed after the same deadline.
    let mut idle = connect_from("127.0.0.3", &s).await.unwrap();
    let mut buf = [0u8; 16];
    let started = Instant::now();
    let read = tokio::time::timeout(Duration::from_secs(10), idle.read(&mut buf))
        .await
        .expect("an idle connection stayed open");
    assert!(matches!(read, Ok(0) | Err(_)), "{read:?}");
    assert!(started.elapsed() >= Duration::from_millis(1_500));
}

#[tokio::test]
async fn failed_authentications_are_limited_per_address_with_retry_after() {
    let first = Server::start().await;
    let limited = Service::open(
        first.service.store().clone(),
        Catalog::builtin().unwrap(),
        warden_server::Settings {
            auth_failure_limit: Some(AuthFailureLimit {
                burst: 5,
                per_second: 0.2,
            }),
            ..settings()
        },
    )
    .await
    .unwrap();
    let s = Server::serve(
        limited,
        first.org.clone(),
        first.admin.clone(),
        first.admin_token.clone(),
        None,
    )
    .await;
    for _ in 0..5 {
        let (status, body, _) = s
            .raw(Method::GET, "/v1/groups", Some("wdn_pat_nope"), None)
            .await;
        assert_problem(status, &body, 401, "unauthenticated");
    }
    let (status, body, headers) = s
        .raw(Method::GET, "/v1/groups", Some("wdn_pat_nope"), None)
        .await;
    assert_problem(status, &body, 429, "too_many_failed_authentications");
    let wait: u64 = headers["retry-after"].to_str().unwrap().parse().unwrap();
    assert!((1..=5).contains(&wait), "{wait}");
    // Even a good token waits: the address is refused before any token is looked at.
    let (status, _, _) = s
        .raw(Method::GET, "/v1/groups", Some(&s.admin_token), None)
        .await;
    assert_eq!(status, 429);
    // Another address is not affected.
    let mut other = connect_from("127.0.0.4", &s).await.unwrap();
    let request = format!(
        "GET /v1/groups HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {}\r\nConnection: close\r\n\r\n",
        s.admin_token
    );
    other.write_all(request.as_bytes()).await.unwrap();
    let mut answer = String::new();
    other.read_to_string(&mut answer).await.unwrap();
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
}
