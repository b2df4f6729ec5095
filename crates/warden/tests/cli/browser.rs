//! The pages behind emailed links, as a person meets them: `warden serve` sends the email to a
//! real SMTP server on loopback (`smtp_sink.py`), the link from it is opened in a real headless
//! Chromium (Debian's `/usr/bin/chromium`, driven by `browser.py` with Playwright for Python),
//! the form is filled in and submitted, and the result is checked through the CLI and the API.
//!
//! Without aiosmtpd, Playwright or Chromium these tests print `SKIPPED` loudly and pass; with
//! `CI=true` they fail.

use std::io::{Read, Write};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{json, Value};
use warden_client::{Client, Method};

use crate::common::{create_org, invite_with_access, link_in, Server};
use crate::mail::{
    free_port, header, missing_sink, nothing_missing, public_server_options, strs, works, Sink,
};

const DRIVER: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/cli/browser.py");
const CHROMIUM: &str = "/usr/bin/chromium";
/// A backstop: the driver bounds every step (10 s) and its whole run (90 s) itself.
const DRIVER_LIMIT: Duration = Duration::from_secs(120);
const OLD_PASSWORD: &str = "correct horse battery staple";
const NEW_PASSWORD: &str = "tr0mbone-ladder-sunrise";

/// Whether the SMTP sink, Playwright and Chromium are all there (see `nothing_missing`).
fn tools_present() -> bool {
    let mut missing: Vec<&str> = missing_sink().into_iter().collect();
    if !works("python3", &["-c", "import playwright.sync_api"]) {
        missing.push("the Python package playwright (pip install playwright==1.65.2)");
    }
    if !works(CHROMIUM, &["--version"]) {
        missing.push("Chromium at /usr/bin/chromium (apt-get install chromium)");
    }
    nothing_missing("a browser test", &missing)
}

/// Runs `browser.py` with `input`; what the pages showed. With `WARDEN_TEST_SCREENSHOTS=DIR`
/// in the environment, a PNG of each step lands in DIR, to look at.
fn drive(input: &Value) -> Value {
    let started = Instant::now();
    let mut command = Command::new("python3");
    command.arg(DRIVER);
    if let Some(dir) = std::env::var_os("WARDEN_TEST_SCREENSHOTS") {
        command.arg("--screenshots").arg(dir);
    }
    let mut child = command
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start python3 browser.py");
    child
        .stdin
        .take()
        .unwrap()
        .write_all(input.to_string().as_bytes())
        .unwrap();
    let read = |mut pipe: Box<dyn Read + Send>| {
        std::thread::spawn(move || {
            let mut text = String::new();
            let _ = pipe.read_to_string(&mut text);
            text
        })
    };
    let stdout = read(Box::new(child.stdout.take().unwrap()));
    let stderr = read(Box::new(child.stderr.take().unwrap()));
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if started.elapsed() > DRIVER_LIMIT {
            let _ = child.kill();
            let _ = child.wait();
            panic!("browser.py still running after {DRIVER_LIMIT:?}");
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    let (stdout, stderr) = (stdout.join().unwrap(), stderr.join().unwrap());
    assert!(status.success(), "browser.py failed ({status}):\n{stderr}");
    eprintln!("browser.py took {:?}", started.elapsed());
    let out: Value = serde_json::from_str(&stdout)
        .unwrap_or_else(|e| panic!("browser.py printed no JSON ({e}):\n{stdout}\n{stderr}"));
    // The pages ran without a script error or a CSP violation, and asked nothing of any
    // other host.
    assert_eq!(out["console_errors"], json!([]), "{out:#}");
    assert_eq!(out["blocked"], json!([]), "{out:#}");
    out
}

/// `POST /v1/sessions` (sign-in with email and password): the status and the body.
fn sign_in(server: &Server, org: &str, email: &str, password: &str) -> (u16, Value) {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let client = Client::new(&server.url, None).unwrap();
    let body = json!({"email": email, "password": password, "organization": org});
    runtime
        .block_on(client.raw(Method::POST, "/v1/sessions", Some(body)))
        .unwrap()
}

/// A relay, and a server sending through it whose public URL names it.
fn start() -> (Sink, Server, String) {
    let relay = free_port();
    let sink = Sink::start(relay, &[]);
    let (options, public) = public_server_options(&relay.to_string());
    let server = Server::start_with(&strs(&options));
    assert_eq!(server.url, public);
    (sink, server, public)
}

/// What a refused link showed: the refusal view, without a form, and its address without
/// the secret.
fn assert_refused(opened: &Value, public: &str, path: &str, heading: &str) {
    assert_eq!(opened["view"], "refused", "{opened:#}");
    assert_eq!(opened["heading"], heading, "{opened:#}");
    assert!(
        !opened["message"].as_str().unwrap().is_empty(),
        "{opened:#}"
    );
    assert_eq!(opened["form_visible"], false, "{opened:#}");
    assert_eq!(opened["url"], format!("{public}{path}"), "{opened:#}");
}

#[test]
fn an_emailed_invitation_is_accepted_in_a_browser() {
    if !tools_present() {
        return;
    }
    let (sink, server, public) = start();
    let created = create_org(&server, "ada@example.com");
    let (org, ada) = (
        created["organization_id"].as_str().unwrap(),
        created["token"].as_str().unwrap(),
    );
    let sent = invite_with_access(&server, ada, "bob@example.com");
    // Carol's invitation is revoked before she opens it.
    let carol = server
        .run(
            ada,
            &["-o", "json", "invitations", "create", "carol@example.com"],
        )
        .ok()
        .json();
    server
        .run(ada, &["invitations", "revoke", "carol@example.com"])
        .ok();

    // The email, as the relay received it.
    let email = sink.wait_naming("X-Envelope-To: bob@example.com", &server);
    assert_eq!(header(&email, "X-Envelope-From"), "iam@acme.example");
    assert_eq!(header(&email, "From"), "Acme IAM <iam@acme.example>");
    assert_eq!(header(&email, "To"), "<bob@example.com>");
    assert_eq!(
        header(&email, "Subject"),
        "You are invited to join Acme on Warden"
    );
    assert_eq!(header(&email, "Content-Type"), "text/plain; charset=utf-8");
    let message_id = header(&email, "Message-ID");
    assert!(message_id.starts_with("<eff_") && message_id.ends_with("@warden>"));
    assert!(
        email.contains(&format!("the organization Acme ({org})")),
        "{email}"
    );
    let link = link_in(&email, "/invitations/accept");
    assert!(
        link.starts_with(&format!("{public}/invitations/accept#wdn_inv_")),
        "{link}"
    );
    assert_eq!(link, sent["link"].as_str().unwrap());

    // Bob opens it, makes two mistakes, then joins; then opens it again, and opens Carol's
    // revoked link and a mangled one.
    let revoked = carol["link"].as_str().unwrap();
    let last = if link.ends_with('a') { "b" } else { "a" };
    let mangled = format!("{}{last}", &link[..link.len() - 1]);
    let out = drive(&json!({
        "form": {"kind": "accept", "link": link, "first_name": "Bob", "last_name": "Builder",
                 "password": OLD_PASSWORD, "short_password": "too short"},
        "then_open": [link, revoked, mangled],
    }));
    let form = &out["form"];
    let opened = &form["opened"];
    assert_eq!(opened["view"], "form-view", "{out:#}");
    assert_eq!(opened["heading"], "Join Acme as bob@example.com", "{out:#}");
    // The secret left the address bar as soon as the page read it.
    assert_eq!(
        opened["url"],
        format!("{public}/invitations/accept"),
        "{out:#}"
    );
    assert_eq!(opened["hash"], "", "{out:#}");
    assert_eq!(opened["focused"], "first-name", "{out:#}");
    assert_eq!(form["email_field"], "bob@example.com", "{out:#}");
    // Two different passwords: caught in the page, nothing sent, focus on the second.
    let mismatch = form["mismatch"].as_str().unwrap();
    assert!(mismatch.contains("do not match"), "{out:#}");
    assert_eq!(form["mismatch_calls"], 0, "{out:#}");
    assert_eq!(form["mismatch_focused"], "password-confirmation", "{out:#}");
    // A short password: the server's detail, next to the form, which stays.
    let refusal = form["refusal"].as_str().unwrap();
    assert!(refusal.contains("at least 10 characters"), "{out:#}");
    assert_eq!(form["form_after_refusal"], true, "{out:#}");
    // Joined: the page says how to sign in.
    assert_eq!(form["done_heading"], "Your account is ready", "{out:#}");
    let done = form["done"].as_str().unwrap();
    for needle in [org, "bob@example.com", "Acme"] {
        assert!(done.contains(needle), "{needle} not in {done}");
    }
    assert_eq!(
        out["calls"],
        json!([
            "POST /v1/invitations/inspect",
            "POST /v1/invitations/accept",
            "POST /v1/invitations/accept",
            "POST /v1/invitations/inspect",
            "POST /v1/invitations/inspect",
            "POST /v1/invitations/inspect",
        ]),
        "{out:#}"
    );
    let path = "/invitations/accept";
    let again = &out["opened"];
    assert_refused(&again[0], &public, path, "This invitation was already used");
    assert_refused(&again[1], &public, path, "This invitation was revoked");
    assert_refused(
        &again[2],
        &public,
        path,
        "This invitation link is not valid",
    );

    // Bob exists with exactly what he was invited to, and signs in with what he typed.
    let bob = server
        .run(ada, &["users", "get", "bob@example.com", "-o", "json"])
        .ok()
        .json();
    assert_eq!(
        (&bob["first_name"], &bob["last_name"], &bob["status"]),
        (&json!("Bob"), &json!("Builder"), &json!("active")),
        "{bob}"
    );
    assert_eq!(bob["groups"], json!(["ml-engineers"]), "{bob}");
    let access = |namespace: &str| {
        server
            .run(ada, &["namespaces", "access", namespace, "-o", "json"])
            .ok()
            .json()["items"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|a| a["email"] == "bob@example.com")
            .map(|a| a["permissions"].clone())
            .collect::<Vec<Value>>()
    };
    assert_eq!(access("ml"), vec![json!(["r:full", "w:configmaps"])]);
    assert_eq!(access("prod"), Vec::<Value>::new());
    let (status, session) = sign_in(&server, org, "bob@example.com", OLD_PASSWORD);
    assert_eq!(status, 201, "{session}");
    assert_eq!(session["user"]["email"], "bob@example.com");
    let (status, refused) = sign_in(&server, org, "bob@example.com", "not his password");
    assert_eq!((status, &refused["code"]), (401, &json!("unauthenticated")));
}

#[test]
fn a_password_is_reset_in_a_browser() {
    if !tools_present() {
        return;
    }
    let (sink, server, public) = start();
    let created = create_org(&server, "ada@example.com");
    let (org, ada) = (
        created["organization_id"].as_str().unwrap(),
        created["token"].as_str().unwrap(),
    );
    // Bob joins from the command line, with his first password.
    let sent = invite_with_access(&server, ada, "bob@example.com");
    let password = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(password.path(), format!("{OLD_PASSWORD}\n")).unwrap();
    let link = sent["link"].as_str().unwrap();
    let file = password.path().to_str().unwrap();
    let args = [
        "invitations",
        "accept",
        link,
        "--first-name",
        "Bob",
        "--password-file",
        file,
    ];
    server.run("", &args).ok();
    assert_eq!(
        sign_in(&server, org, "bob@example.com", OLD_PASSWORD).0,
        201
    );

    // He forgot it: he asks for a reset, which is emailed.
    let client = Client::new(&server.url, None).unwrap();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let body = json!({"email": "bob@example.com", "organization": org});
    let (status, answer) = runtime
        .block_on(client.raw(Method::POST, "/v1/password-resets", Some(body)))
        .unwrap();
    assert_eq!(status, 202, "{answer}");
    let email = sink.wait_naming("Subject: Reset your Warden password", &server);
    assert_eq!(header(&email, "X-Envelope-To"), "bob@example.com");
    assert_eq!(header(&email, "To"), "<bob@example.com>");
    assert_eq!(
        header(&email, "Subject"),
        "Reset your Warden password for Acme"
    );
    let link = link_in(&email, "/password-reset");
    assert!(
        link.starts_with(&format!("{public}/password-reset#")),
        "{link}"
    );

    let out = drive(&json!({
        "form": {"kind": "reset", "link": link, "password": NEW_PASSWORD,
                 "short_password": "short"},
        "then_open": [{"link": link, "password": "another password"}],
    }));
    let form = &out["form"];
    assert_eq!(form["opened"]["view"], "form-view", "{out:#}");
    assert_eq!(form["opened"]["url"], format!("{public}/password-reset"));
    assert_eq!(form["opened"]["focused"], "password", "{out:#}");
    assert!(form["mismatch"].as_str().unwrap().contains("do not match"));
    assert_eq!(form["mismatch_calls"], 0, "{out:#}");
    let refusal = form["refusal"].as_str().unwrap();
    assert!(refusal.contains("at least 10 characters"), "{out:#}");
    assert_eq!(form["done_heading"], "Your password is changed", "{out:#}");
    assert_refused(
        &out["opened"][0],
        &public,
        "/password-reset",
        "This password reset link was already used",
    );

    // The new password signs in; the old one no longer does.
    let (status, session) = sign_in(&server, org, "bob@example.com", NEW_PASSWORD);
    assert_eq!(status, 201, "{session}");
    let (status, refused) = sign_in(&server, org, "bob@example.com", OLD_PASSWORD);
    assert_eq!((status, &refused["code"]), (401, &json!("unauthenticated")));
}

/// An organization created with `--invite`: its first admin gets an email, opens the link,
/// is asked for a *first* password (not a new one), sets it and signs in.
#[test]
fn a_first_admin_invited_by_email_sets_a_password_in_a_browser() {
    if !tools_present() {
        return;
    }
    let (sink, server, public) = start();
    let created = server
        .run(
            &server.operator_token(),
            &[
                "--output=json",
                "org",
                "create",
                "--name",
                "Initech",
                "--email",
                "peter@initech.example",
                "--invite",
            ],
        )
        .ok()
        .json();
    let org = created["organization_id"].as_str().unwrap();
    assert!(created.get("token").is_none(), "{created}");
    let email = sink.wait_naming("Subject: Your organization Initech is ready", &server);
    assert_eq!(header(&email, "To"), "<peter@initech.example>");
    let link = link_in(&email, "/password-reset");
    assert!(
        link.starts_with(&format!("{public}/password-reset?first#wdn_rst_")),
        "{link}"
    );
    // No password yet: nothing signs in.
    assert_eq!(
        sign_in(&server, org, "peter@initech.example", NEW_PASSWORD).0,
        401
    );
    let out = drive(&json!({
        "form": {"kind": "reset", "link": link, "password": NEW_PASSWORD,
                 "short_password": "short", "button": "Set the password"},
    }));
    let form = &out["form"];
    assert_eq!(form["opened"]["view"], "form-view", "{out:#}");
    assert_eq!(form["opened"]["heading"], "Choose your password", "{out:#}");
    assert_eq!(
        form["opened"]["url"],
        format!("{public}/password-reset?first"),
        "the secret left the address bar: {out:#}"
    );
    assert_eq!(form["done_heading"], "Your password is set", "{out:#}");
    let (status, session) = sign_in(&server, org, "peter@initech.example", NEW_PASSWORD);
    assert_eq!(status, 201, "{session}");
    assert_eq!(session["user"]["is_default_admin"], true, "{session}");
}
