//! Email over SMTP end to end: a real SMTP server on loopback (aiosmtpd from PyPI, run by
//! `smtp_sink.py`) receives what `warden serve` sends from its outbox: in plain text, over
//! STARTTLS and implicit TLS with a login and a private CA, and across a `kill -9` between the
//! commit and the delivery, exactly once.
//!
//! Without aiosmtpd (or, for TLS, the `openssl` command) these tests print `SKIPPED` loudly and
//! pass; with `CI=true` they fail. `browser.rs` uses this harness too.

use std::collections::BTreeSet;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use serde_json::Value;
use tempfile::TempDir;

use crate::common::{add_user, create_org, invite_with_access, link_in, Server};

const SINK: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/cli/smtp_sink.py");
/// How long a message may take to arrive: the worker also polls the outbox every 5 s for
/// what other processes committed (`org create`, `org add-user`), and retries with a back-off.
const ARRIVAL: Duration = Duration::from_secs(30);
const PASSWORD: &str = "correct horse battery staple";
/// How long an outbox item stays claimed by a worker (`LEASE_MS` of the server's outbox).
const LEASE: Duration = Duration::from_secs(60);

/// Whether `program args` runs and succeeds.
pub(crate) fn works(program: &str, args: &[&str]) -> bool {
    Command::new(program)
        .args(args)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

/// True when nothing is `missing`; otherwise skips `kind` of test (loudly) outside CI, and
/// fails it with `CI=true`.
pub(crate) fn nothing_missing(kind: &str, missing: &[&str]) -> bool {
    if missing.is_empty() {
        return true;
    }
    let why = missing.join(" and ");
    if std::env::var("CI").as_deref() == Ok("true") {
        panic!("{why} missing (CI=true, so this is a failure)");
    }
    eprintln!("\n**********\nSKIPPED: {kind} needs {why}\n**********\n");
    false
}

/// The Python package the SMTP sink needs, if it is missing.
pub(crate) fn missing_sink() -> Option<&'static str> {
    (!works("python3", &["-c", "import aiosmtpd"]))
        .then_some("the Python package aiosmtpd (pip install aiosmtpd==1.4.6)")
}

/// Whether the tools these tests need are installed; outside CI a missing one skips the test
/// (loudly), with `CI=true` it fails it.
fn tools_present(openssl: bool) -> bool {
    let mut missing: Vec<&str> = missing_sink().into_iter().collect();
    if openssl && !works("openssl", &["version"]) {
        missing.push("the openssl command");
    }
    nothing_missing("an SMTP test", &missing)
}

/// A port nothing listens on (yet).
pub(crate) fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// A running `smtp_sink.py`, killed when dropped; every message it accepted is a file in `dir`.
pub(crate) struct Sink {
    child: Child,
    dir: TempDir,
}

impl Sink {
    pub(crate) fn start(port: u16, options: &[&str]) -> Sink {
        let dir = tempfile::tempdir().unwrap();
        let log = std::fs::File::create(dir.path().join("sink.log")).unwrap();
        let messages = dir.path().join("messages");
        std::fs::create_dir(&messages).unwrap();
        let mut child = Command::new("python3")
            .arg(SINK)
            .args(["--port", &port.to_string(), "--dir"])
            .arg(&messages)
            .args(options)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::from(log))
            .spawn()
            .expect("start python3 smtp_sink.py");
        let stdout = child.stdout.take().unwrap();
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                if line.trim() == "ready" {
                    let _ = tx.send(());
                }
            }
        });
        let sink = Sink { child, dir };
        if rx.recv_timeout(Duration::from_secs(30)).is_err() {
            panic!("the SMTP sink did not start; its log:\n{}", sink.log());
        }
        sink
    }

    fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("sink.log")).unwrap_or_default()
    }

    /// Every message received so far.
    fn messages(&self) -> Vec<String> {
        let mut paths: Vec<PathBuf> = std::fs::read_dir(self.dir.path().join("messages"))
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| p.extension().is_some_and(|x| x == "msg"))
            .collect();
        paths.sort();
        paths
            .iter()
            .map(|p| std::fs::read_to_string(p).unwrap())
            .collect()
    }

    /// Waits for a message naming `needle`; returns it.
    pub(crate) fn wait_naming(&self, needle: &str, server: &Server) -> String {
        let start = Instant::now();
        loop {
            if let Some(found) = self.messages().into_iter().find(|m| m.contains(needle)) {
                return found;
            }
            assert!(
                start.elapsed() < ARRIVAL,
                "no message naming {needle} after {ARRIVAL:?}\nserver log:\n{}\nsink log:\n{}",
                server.log(),
                self.log()
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// Waits for `count` messages; returns them.
    fn wait_for(&self, count: usize, server: &Server) -> Vec<String> {
        self.wait_within(count, server, ARRIVAL)
    }

    /// [`Sink::wait_for`], waiting up to `limit`.
    fn wait_within(&self, count: usize, server: &Server, limit: Duration) -> Vec<String> {
        let start = Instant::now();
        loop {
            let messages = self.messages();
            if messages.len() >= count {
                return messages;
            }
            assert!(
                start.elapsed() < limit,
                "{} of {count} messages after {limit:?}\nserver log:\n{}\nsink log:\n{}",
                messages.len(),
                server.log(),
                self.log()
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }
}

impl Drop for Sink {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The value of a message's first `name:` header.
pub(crate) fn header<'a>(message: &'a str, name: &str) -> &'a str {
    let head = message.split("\r\n\r\n").next().unwrap();
    head.split("\r\n")
        .find_map(|line| line.strip_prefix(name)?.strip_prefix(": "))
        .unwrap_or_else(|| panic!("no {name} header in:\n{message}"))
}

/// The one message naming `needle`.
fn naming<'a>(messages: &'a [String], needle: &str) -> &'a String {
    let found: Vec<&String> = messages.iter().filter(|m| m.contains(needle)).collect();
    assert_eq!(found.len(), 1, "messages naming {needle}: {found:#?}");
    found[0]
}

/// `--smtp-*` options for a relay on 127.0.0.1:`port`.
pub(crate) fn smtp_options(port: &str, security: &str) -> Vec<String> {
    [
        "--smtp-host",
        "127.0.0.1",
        "--smtp-port",
        port,
        "--smtp-security",
        security,
        "--mail-from",
        "Acme IAM <iam@acme.example>",
    ]
    .map(String::from)
    .to_vec()
}

pub(crate) fn strs(options: &[String]) -> Vec<&str> {
    options.iter().map(String::as_str).collect()
}

#[test]
fn emails_go_out_through_an_smtp_server() {
    if !tools_present(false) {
        return;
    }
    let port = free_port().to_string();
    let sink = Sink::start(port.parse().unwrap(), &[]);
    let server = Server::start_with(&strs(&smtp_options(&port, "none")));
    let log = server.log();
    assert!(
        log.contains(&format!(
            "emails are sent through the SMTP relay 127.0.0.1:{port} (none) from Acme IAM \
             <iam@acme.example>"
        )),
        "{log}"
    );
    let data = server.data_dir();
    let created = create_org(&server, "ada@example.com");
    let org = created["organization_id"].as_str().unwrap();
    // Another user, with a token of his own: he is told by email.
    let added = add_user(&server, org, "bob@example.com", &[]).ok().json();
    let bob_token = added["token_id"].as_str().unwrap();
    let messages = sink.wait_for(2, &server);
    let bob = naming(&messages, bob_token);
    assert_eq!(header(bob, "X-Envelope-From"), "iam@acme.example");
    assert_eq!(header(bob, "X-Envelope-To"), "bob@example.com");
    assert_eq!(header(bob, "From"), "Acme IAM <iam@acme.example>");
    assert_eq!(header(bob, "To"), "<bob@example.com>");
    assert_eq!(
        header(bob, "Subject"),
        "A new access token for your account in Acme"
    );
    let message_id = header(bob, "Message-ID");
    assert!(
        message_id.starts_with("<eff_") && message_id.ends_with("@warden>"),
        "{message_id}"
    );
    assert!(
        bob.contains(&format!("warden tokens delete {bob_token}")),
        "{bob}"
    );
    assert!(
        !bob.contains(added["token"].as_str().unwrap()),
        "a secret was mailed"
    );
    let ada = naming(&messages, created["token_id"].as_str().unwrap());
    assert_eq!(header(ada, "To"), "<ada@example.com>");
    assert_ne!(header(ada, "Message-ID"), message_id);
    // The server says where each went, with the relay's answer; nothing became a file.
    let log = server.log();
    assert!(log.contains("email delivered"), "{log}");
    assert!(log.contains("Stored as message"), "{log}");
    assert!(!data.join("outbox").exists());
}

/// The effects whose delivery the JSON log says failed.
fn failed_effects(log: &str) -> BTreeSet<String> {
    log.lines()
        .filter_map(|line| serde_json::from_str::<Value>(line).ok())
        .filter(|v| v["message"] == "email delivery failed; will retry")
        .map(|v| v["effect"].as_str().unwrap().to_string())
        .collect()
}

/// The server is killed between the commit and the delivery (its relay is down): after a
/// restart each email arrives, once.
#[test]
fn an_email_committed_before_a_kill_9_is_delivered_once_after_the_restart() {
    if !tools_present(false) {
        return;
    }
    // Nothing listens on the relay's port yet: every delivery fails and the emails stay pending.
    let port = free_port().to_string();
    let mut options = smtp_options(&port, "none");
    options.extend(["--log-format".to_string(), "json".to_string()]);
    let server = Server::start_with(&strs(&options));
    let data = server.data_dir();
    let created = create_org(&server, "ada@example.com");
    let made = server
        .run(
            created["token"].as_str().unwrap(),
            &[
                "tokens",
                "create",
                "--name",
                "before the crash",
                "-o",
                "json",
            ],
        )
        .ok()
        .json();
    let token = made["token"]["id"].as_str().unwrap();
    let start = Instant::now();
    while failed_effects(&server.log()).len() < 2 {
        assert!(
            start.elapsed() < ARRIVAL,
            "two failed deliveries expected; log:\n{}",
            server.log()
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    let dir = server.kill9();

    let sink = Sink::start(port.parse().unwrap(), &[]);
    assert!(sink.messages().is_empty());
    let mut restart = vec!["--data-dir".to_string(), data.to_str().unwrap().to_string()];
    restart.extend(options);
    let server = Server::start_in(dir, &strs(&restart));
    // The kill may land while the dead worker holds an item's claim (a 60 s lease, so that no
    // two workers send it at once): that item waits for the lease to run out.
    let messages = sink.wait_within(2, &server, LEASE + ARRIVAL);
    let laptop = naming(&messages, token);
    assert_eq!(header(laptop, "To"), "<ada@example.com>");
    assert!(laptop.contains("\"before the crash\""), "{laptop}");
    // Past the worker's next rounds, still one message per email.
    std::thread::sleep(Duration::from_secs(7));
    let messages = sink.messages();
    let ids: BTreeSet<&str> = messages.iter().map(|m| header(m, "Message-ID")).collect();
    assert_eq!(
        (messages.len(), ids.len()),
        (2, 2),
        "{messages:#?}\n{}",
        server.log()
    );
}

/// Options for a server on a port of its own whose `--public-url` names it (so its links
/// outlive a restart), sending through a relay on `relay`; and that URL.
pub(crate) fn public_server_options(relay: &str) -> (Vec<String>, String) {
    let port = free_port();
    let public = format!("http://127.0.0.1:{port}");
    let mut options = smtp_options(relay, "none");
    options.extend([
        "--listen".to_string(),
        format!("127.0.0.1:{port}"),
        "--public-url".to_string(),
        public.clone(),
    ]);
    (options, public)
}

/// An invitation committed while the relay is down, its server killed with SIGKILL before
/// the delivery: after the restart the email arrives once, with the same link, which works.
#[test]
fn an_invitation_committed_before_a_kill_9_is_delivered_once_after_the_restart() {
    if !tools_present(false) {
        return;
    }
    let relay = free_port().to_string();
    let (mut options, public) = public_server_options(&relay);
    options.extend(["--log-format".to_string(), "json".to_string()]);
    let server = Server::start_with(&strs(&options));
    let data = server.data_dir();
    let created = create_org(&server, "ada@example.com");
    let ada = created["token"].as_str().unwrap();
    let sent = invite_with_access(&server, ada, "bob@example.com");
    let link = sent["link"].as_str().unwrap();
    assert!(link.starts_with(&format!("{public}/invitations/accept#wdn_inv_")));
    // Ada's token email and the invitation: both tried, both failed.
    let start = Instant::now();
    while failed_effects(&server.log()).len() < 2 {
        assert!(start.elapsed() < ARRIVAL, "{}", server.log());
        std::thread::sleep(Duration::from_millis(100));
    }
    let dir = server.kill9();

    let sink = Sink::start(relay.parse().unwrap(), &[]);
    let mut restart = vec!["--data-dir".to_string(), data.to_str().unwrap().to_string()];
    restart.extend(options);
    let server = Server::start_in(dir, &strs(&restart));
    let messages = sink.wait_for(2, &server);
    let invitation = naming(&messages, "You are invited");
    assert_eq!(header(invitation, "To"), "<bob@example.com>");
    assert_eq!(
        header(invitation, "Subject"),
        "You are invited to join Acme on Warden"
    );
    assert_eq!(link_in(invitation, "/invitations/accept"), link);
    // Past the worker's next rounds, still one message per email.
    std::thread::sleep(Duration::from_secs(7));
    let messages = sink.messages();
    let ids: BTreeSet<&str> = messages.iter().map(|m| header(m, "Message-ID")).collect();
    assert_eq!((messages.len(), ids.len()), (2, 2), "{messages:#?}");
    // The delivered link works, once, and gives exactly what was recorded.
    let password = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(password.path(), format!("{PASSWORD}\n")).unwrap();
    let accept = || {
        let args = [
            "invitations",
            "accept",
            link,
            "--first-name",
            "Bob",
            "--password-file",
            password.path().to_str().unwrap(),
        ];
        server.run("", &args)
    };
    accept().ok();
    accept().fails_with("410 invitation_already_accepted");
    let bob = server
        .run(ada, &["users", "get", "bob@example.com", "-o", "json"])
        .ok()
        .json();
    assert_eq!(bob["groups"], serde_json::json!(["ml-engineers"]), "{bob}");
}

/// A CA, and a certificate it signed for 127.0.0.1 and localhost (rustls accepts no
/// self-signed server certificate): `ca.pem`, `leaf.pem`, `leaf.key` in `dir`.
fn make_certificates(dir: &Path) {
    let openssl = |args: &[&str]| {
        let out = Command::new("openssl")
            .args(args)
            .current_dir(dir)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "openssl {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    };
    let ec = [
        "-newkey",
        "ec",
        "-pkeyopt",
        "ec_paramgen_curve:prime256v1",
        "-nodes",
    ];
    let mut ca = vec!["req", "-x509"];
    ca.extend(ec);
    ca.extend([
        "-keyout",
        "ca.key",
        "-out",
        "ca.pem",
        "-days",
        "2",
        "-subj",
        "/CN=Warden test CA",
        "-addext",
        "basicConstraints=critical,CA:TRUE",
        "-addext",
        "keyUsage=critical,keyCertSign,cRLSign",
    ]);
    openssl(&ca);
    let mut request = vec!["req", "-new"];
    request.extend(ec);
    request.extend([
        "-keyout",
        "leaf.key",
        "-out",
        "leaf.csr",
        "-subj",
        "/CN=localhost",
    ]);
    openssl(&request);
    std::fs::write(
        dir.join("leaf.ext"),
        "basicConstraints=critical,CA:FALSE\nsubjectAltName=DNS:localhost,IP:127.0.0.1\n\
         keyUsage=critical,digitalSignature\nextendedKeyUsage=serverAuth\n",
    )
    .unwrap();
    openssl(&[
        "x509",
        "-req",
        "-in",
        "leaf.csr",
        "-CA",
        "ca.pem",
        "-CAkey",
        "ca.key",
        "-CAcreateserial",
        "-out",
        "leaf.pem",
        "-days",
        "2",
        "-extfile",
        "leaf.ext",
    ]);
}

/// STARTTLS and implicit TLS, logging in with a password from a file, to a relay whose
/// certificate a private CA signed: refused until that CA is trusted, then delivered.
#[test]
fn emails_go_out_over_tls_with_a_login() {
    if !tools_present(true) {
        return;
    }
    let certs = tempfile::tempdir().unwrap();
    make_certificates(certs.path());
    let file = |name: &str| certs.path().join(name).to_str().unwrap().to_string();
    let password_file = file("password");
    std::fs::write(&password_file, format!("{PASSWORD}\n")).unwrap();
    for (security, sink_mode) in [("starttls", "--starttls"), ("tls", "--tls")] {
        let port = free_port().to_string();
        let (leaf, key) = (file("leaf.pem"), file("leaf.key"));
        let sink = Sink::start(
            port.parse().unwrap(),
            &[
                sink_mode,
                "--cert",
                &leaf,
                "--key",
                &key,
                "--login",
                "warden",
                "--password",
                PASSWORD,
            ],
        );
        let mut options = smtp_options(&port, security);
        options.extend(
            [
                "--smtp-username",
                "warden",
                "--smtp-password-file",
                &password_file,
            ]
            .map(String::from),
        );
        // Without the CA, the relay's certificate is not trusted: nothing is sent.
        let server = Server::start_with(&strs(&options));
        let data = server.data_dir();
        let created = create_org(&server, "ada@example.com");
        let start = Instant::now();
        while !server.log().contains("email delivery failed") {
            assert!(start.elapsed() < ARRIVAL, "{security}: {}", server.log());
            std::thread::sleep(Duration::from_millis(100));
        }
        let log = server.log();
        assert!(
            log.to_lowercase().contains("certificate"),
            "{security}: {log}"
        );
        let dir = server.kill9();
        assert!(sink.messages().is_empty());

        let mut trusted = vec!["--data-dir".to_string(), data.to_str().unwrap().to_string()];
        trusted.extend(options);
        trusted.extend(["--smtp-ca-file".to_string(), file("ca.pem")]);
        let server = Server::start_in(dir, &strs(&trusted));
        let messages = sink.wait_for(1, &server);
        let ada = naming(&messages, created["token_id"].as_str().unwrap());
        assert_eq!(header(ada, "X-Encrypted"), "yes", "{security}");
        assert_eq!(header(ada, "X-Login"), "warden", "{security}");
        assert_eq!(header(ada, "To"), "<ada@example.com>", "{security}");
        let log = server.log();
        assert!(
            log.contains(&format!("127.0.0.1:{port} ({security})")),
            "{log}"
        );
        assert!(!log.contains(PASSWORD), "the password was logged: {log}");
    }
}
