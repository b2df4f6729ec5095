//! `warden serve`: refusing what it cannot open or bind, and where its emails go.

use std::process::Stdio;
use std::time::Duration;

use crate::common::{create_org, emails, wait_exit, wait_for_email, warden, Server};

#[test]
fn serve_refuses_a_database_it_cannot_open() {
    let dir = tempfile::tempdir().unwrap();
    let mut cases: Vec<Vec<String>> = vec![vec![
        "--database-url".into(),
        "mysql://warden:hunter2@db/warden".into(),
    ]];
    // A data directory below a regular file cannot be created.
    let file = dir.path().join("a-file");
    std::fs::write(&file, "").unwrap();
    cases.push(vec![
        "--data-dir".into(),
        file.join("data").to_str().unwrap().into(),
    ]);
    for case in cases {
        let child = warden()
            .args(["serve", "--listen", "127.0.0.1:0"])
            .args(&case)
            .current_dir(dir.path())
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let (code, stderr) = wait_exit(child, Duration::from_secs(30));
        assert_ne!(code, 0, "{case:?}");
        assert!(
            stderr.contains("error: cannot open the database at "),
            "{case:?}: {stderr}"
        );
        assert!(!stderr.contains("hunter2"), "the password leaked: {stderr}");
    }
}

#[test]
fn serve_refuses_an_address_it_cannot_bind() {
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = taken.local_addr().unwrap().to_string();
    let dir = tempfile::tempdir().unwrap();
    let child = warden()
        .args(["serve", "--listen", &addr, "--data-dir"])
        .arg(dir.path())
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let (code, stderr) = wait_exit(child, Duration::from_secs(30));
    assert_eq!(code, 1);
    assert!(
        stderr.contains(&format!("error: cannot listen on {addr}")),
        "{stderr}"
    );
}

#[test]
fn serve_refuses_a_mail_directory_it_cannot_create() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("a-file");
    std::fs::write(&file, "").unwrap();
    let child = warden()
        .args(["serve", "--listen", "127.0.0.1:0", "--data-dir"])
        .arg(dir.path().join("data"))
        .arg("--mail-dir")
        .arg(file.join("mail"))
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let (code, stderr) = wait_exit(child, Duration::from_secs(30));
    assert_eq!(code, 1);
    assert!(
        stderr.contains("error: cannot create the mail directory "),
        "{stderr}"
    );
}

#[test]
fn serve_writes_the_emails_it_sends_into_the_mail_directory() {
    let mail = tempfile::tempdir().unwrap();
    let mail_dir = mail.path().join("mail");
    let server = Server::start_with(&["--mail-dir", mail_dir.to_str().unwrap()]);
    // It says where mail goes when it starts, and makes the directory.
    let log = server.log();
    assert!(log.contains(mail_dir.to_str().unwrap()), "{log}");
    assert!(mail_dir.is_dir());

    let created = create_org(&server, "ada@example.com");
    let token = created["token"].as_str().unwrap();
    let made = server
        .run(
            token,
            &["tokens", "create", "--name", "laptop", "-o", "json"],
        )
        .ok()
        .json();
    let id = made["token"]["id"].as_str().unwrap();
    let email = wait_for_email(&mail_dir, id);
    assert!(email.contains("To: <ada@example.com>"), "{email}");
    assert!(email.contains("\"laptop\""), "{email}");
    assert!(
        email.contains(&format!("warden tokens delete {id}")),
        "{email}"
    );
    // The secret is never mailed.
    let secret = made["secret"].as_str().unwrap();
    assert!(!email.contains(secret), "{email}");
    // Nothing goes to the data directory's default outbox.
    assert!(emails(&server.data_dir().join("outbox")).is_empty());
}

/// `--log-format json` writes one JSON object per log line, and SIGTERM stops the server
/// cleanly: it exits 0 and flushes the tokens' last-use times it held in memory (the server
/// writes them every few seconds otherwise), so they survive the restart.
#[test]
fn json_logs_and_a_graceful_sigterm_that_keeps_token_last_use() {
    let mut server = Server::start_with(&["--log-format", "json"]);
    let created = create_org(&server, "ada@example.com");
    let token = created["token"].as_str().unwrap().to_string();
    server.run(&token, &["whoami"]).ok();
    assert_eq!(server.terminate(Duration::from_secs(30)), 0);
    let log = server.log();
    let lines: Vec<&str> = log.lines().filter(|l| !l.trim().is_empty()).collect();
    assert!(!lines.is_empty());
    for line in &lines {
        let value: serde_json::Value = serde_json::from_str(line)
            .unwrap_or_else(|e| panic!("not a JSON log line ({e}): {line}"));
        assert!(
            value["level"].is_string() && value["timestamp"].is_string(),
            "{line}"
        );
    }
    assert!(log.contains("SIGTERM received"), "{log}");
    let data = server.data_dir();
    let again = Server::start_in(
        tempfile::tempdir().unwrap(),
        &["--data-dir", data.to_str().unwrap()],
    );
    let listed = again
        .run(&token, &["tokens", "list", "-o", "json"])
        .ok()
        .json();
    assert!(
        listed["items"][0]["last_used_at"]
            .as_str()
            .is_some_and(|t| t.len() == 24 && t.ends_with('Z')),
        "the last use was lost on SIGTERM: {listed}"
    );
}
