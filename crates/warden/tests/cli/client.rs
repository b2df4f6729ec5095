//! The client side: the typed client against a real server, and client commands failing
//! cleanly without a token or a server.

use std::io::Write;
use std::os::unix::fs::PermissionsExt;
use std::process::Stdio;

use crate::common::{create_org, warden, Run, Server};

#[test]
fn client_commands_fail_cleanly_without_a_token_or_a_server() {
    let run = Run::of(warden(), &["whoami"]).expect_code(1);
    assert!(
        run.stderr.starts_with("error: no API token"),
        "{}",
        run.stderr
    );

    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", closed.local_addr().unwrap());
    drop(closed);
    let mut command = warden();
    command.env("WARDEN_TOKEN", "wdn_pat_x");
    let run = Run::of(command, &["--url", &url, "groups", "list"]).expect_code(1);
    assert_eq!(
        run.stderr,
        format!(
            "error: cannot reach the server at {url}: connection refused\n\
             hint: is `warden serve` running? set --url, WARDEN_URL or `warden login --url`\n"
        )
    );

    let mut command = warden();
    command.env("WARDEN_TOKEN", "wdn_pat_x");
    let run = Run::of(command, &["--url", "ftp://example.com", "whoami"]).expect_code(1);
    assert!(
        run.stderr.starts_with("error: invalid URL"),
        "{}",
        run.stderr
    );

    Run::of(
        warden(),
        &["policies", "create", "--rule", "robot:x=cks-viewer"],
    )
    .expect_code(2);
}

#[test]
fn the_typed_client_encodes_keys_and_reports_problems() {
    use warden_client::model::GroupInput;
    use warden_client::{Client, ClientError, Method};

    let server = Server::start();
    let created = create_org(&server, "ada+ops@example.com");
    let token = created["token"].as_str().unwrap().to_string();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        let client = Client::new(&server.url, Some(token)).unwrap();
        client.health().await.unwrap();
        // An email with `+` and `@` as a path key.
        let user = client.user("ada+ops@example.com").await.unwrap();
        assert_eq!(user.email, "ada+ops@example.com");
        // `/`, `?` and `#` stay inside the key: the route is found, the group is not.
        for key in ["a/b", "a?b", "a#b", "a%2Fb", "ml team"] {
            match client.group(key).await {
                Err(ClientError::Api(p)) => assert_eq!(p.code, "not_found", "{key}: {p:?}"),
                other => panic!("{key}: {other:?}"),
            }
        }
        let written = client
            .create_group(&GroupInput {
                name: "ml-team".into(),
                description: "with spaces & symbols".into(),
            })
            .await
            .unwrap();
        let group = written.item.unwrap();
        assert_eq!(group.description, "with spaces & symbols");
        assert!(written.revision > 0);
        assert_eq!(client.group(&group.id).await.unwrap().name, "ml-team");
        // Deletes answer without an item.
        let deleted = client.delete_group("ml-team").await.unwrap();
        assert!(deleted.item.is_none());
        assert!(deleted.revision > written.revision);
        // Dot segments would be dropped by URL normalisation: refused before sending.
        assert!(matches!(
            client.group("..").await,
            Err(ClientError::InvalidUrl(_))
        ));
        // `raw` returns error statuses with their problem bodies.
        let (status, body) = client
            .raw(
                Method::POST,
                "/v1/groups",
                Some(serde_json::json!({"description": 5})),
            )
            .await
            .unwrap();
        assert_eq!(status, 422, "{body}");
        assert_eq!(body["code"], "invalid_body");
        let (status, body) = client.raw(Method::GET, "/v1/nowhere", None).await.unwrap();
        assert_eq!(
            (status, body["code"].as_str()),
            (404, Some("no_such_endpoint"))
        );
        let (status, _) = client.raw(Method::GET, "/v1/whoami", None).await.unwrap();
        assert_eq!(status, 200);
        let anonymous = Client::new(&server.url, None).unwrap();
        match anonymous.whoami().await {
            Err(e @ ClientError::Api(_)) => {
                assert!(e.to_string().starts_with("401 unauthenticated: "), "{e}")
            }
            other => panic!("{other:?}"),
        }
    });
}

#[test]
fn version_and_completion() {
    let run = Run::of(warden(), &["--version"]).ok();
    assert_eq!(
        run.stdout,
        format!("warden {}\n", env!("CARGO_PKG_VERSION"))
    );
    for shell in ["bash", "zsh", "fish"] {
        let run = Run::of(warden(), &["completion", shell]).ok();
        assert!(run.stdout.contains("warden"), "{shell}: {}", run.stdout);
        assert!(run.stdout.contains("policies"), "{shell}");
    }
    Run::of(warden(), &["completion", "tcsh"]).expect_code(2);
}

/// `warden login` checks the token and saves it privately; later commands need no token, a
/// flag or the environment still wins, and `logout` forgets it.
#[test]
fn login_saves_the_url_and_token_for_later_commands() {
    let server = Server::start();
    let created = create_org(&server, "ada@example.com");
    let token = created["token"].as_str().unwrap().to_string();
    let home = tempfile::tempdir().unwrap();
    let config = home.path().join("config");
    let file = config.join("warden").join("config.toml");
    let at_home = || {
        let mut command = warden();
        command.env("XDG_CONFIG_HOME", &config);
        command
    };

    // A bad token is refused and nothing is saved.
    Run::of(
        at_home(),
        &[
            "login",
            "--url",
            &server.url,
            "--token",
            "wdn_pat_not-a-real-token",
        ],
    )
    .fails_with("401 unauthenticated");
    assert!(!file.exists());
    // The token read from standard input, as `--token -` says.
    let mut child = at_home()
        .args(["login", "--url", &server.url, "--token", "-"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(format!("{token}\n").as_bytes())
        .unwrap();
    let output = child.wait_with_output().unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(
        stdout.contains("Logged in to") && stdout.contains("ada@example.com"),
        "{stdout}"
    );
    let mode = |p: &std::path::Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode(&file), 0o600);
    assert_eq!(mode(file.parent().unwrap()), 0o700);
    assert!(std::fs::read_to_string(&file)
        .unwrap()
        .contains(&server.url));

    // No --url, no token: the saved ones.
    let me = Run::of(at_home(), &["whoami", "-o", "json"]).ok().json();
    assert_eq!(me["user"]["email"], "ada@example.com");
    // The saved token is never sent to another server.
    let other = Run::of(at_home(), &["--url", "http://127.0.0.1:9", "whoami"]).expect_code(1);
    assert!(
        other
            .stderr
            .starts_with("error: no API token for http://127.0.0.1:9: the saved login is for"),
        "{}",
        other.stderr
    );
    // The environment wins over the file.
    let mut command = at_home();
    command.env("WARDEN_TOKEN", "wdn_pat_not-a-real-token");
    Run::of(command, &["whoami"]).fails_with("401 unauthenticated");
    // HOME/.config when XDG_CONFIG_HOME is not set.
    let mut command = warden();
    command
        .env_remove("XDG_CONFIG_HOME")
        .env("HOME", home.path());
    Run::of(command, &["login", "--url", &server.url, "--token", &token]).ok();
    assert!(home.path().join(".config/warden/config.toml").is_file());

    let out = Run::of(at_home(), &["logout"]).ok();
    assert!(out.stdout.starts_with("Logged out"), "{}", out.stdout);
    Run::of(at_home(), &["whoami"]).expect_code(1);
    Run::of(at_home(), &["logout"]).ok();
}
