//! End-to-end tests of the `warden` binary: a real server on a free port over a temporary
//! SQLite data directory, an organization created with `warden org create` beside the
//! running server, and the client commands driven through the command line.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use serde_json::{json, Value};
use tempfile::TempDir;

const BIN: &str = env!("CARGO_BIN_EXE_warden");
const STARTUP: Duration = Duration::from_secs(60);

/// The binary with none of the caller's Warden environment.
fn warden() -> Command {
    let mut command = Command::new(BIN);
    for name in [
        "WARDEN_URL",
        "WARDEN_TOKEN",
        "WARDEN_LISTEN",
        "WARDEN_DATA_DIR",
        "WARDEN_DATABASE_URL",
        "RUST_LOG",
    ] {
        command.env_remove(name);
    }
    command
}

/// The result of one run of the binary.
#[derive(Debug)]
struct Run {
    args: Vec<String>,
    code: i32,
    stdout: String,
    stderr: String,
}

impl Run {
    fn of(mut command: Command, args: &[&str]) -> Run {
        let output = command
            .args(args)
            .stdin(Stdio::null())
            .output()
            .expect("run warden");
        Run {
            args: args.iter().map(|a| a.to_string()).collect(),
            code: output.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
        }
    }

    fn expect_code(self, code: i32) -> Run {
        assert_eq!(
            self.code,
            code,
            "`warden {}` exited {} (expected {code})\nstdout:\n{}\nstderr:\n{}",
            self.args.join(" "),
            self.code,
            self.stdout,
            self.stderr
        );
        self
    }

    fn ok(self) -> Run {
        self.expect_code(0)
    }

    /// Exit 1 with `error: <status> <code>: ...` on stderr.
    fn fails_with(self, status_and_code: &str) -> Run {
        let run = self.expect_code(1);
        assert!(
            run.stderr.starts_with(&format!("error: {status_and_code}")),
            "`warden {}`: expected `error: {status_and_code}...` on stderr, got:\n{}",
            run.args.join(" "),
            run.stderr
        );
        run
    }

    fn json(&self) -> Value {
        serde_json::from_str(&self.stdout).unwrap_or_else(|e| {
            panic!(
                "`warden {}` did not print JSON ({e}):\n{}",
                self.args.join(" "),
                self.stdout
            )
        })
    }
}

/// A running `warden serve`, killed when dropped (also when a test panics).
struct Server {
    child: Child,
    url: String,
    dir: TempDir,
}

impl Server {
    fn start() -> Server {
        let dir = tempfile::tempdir().unwrap();
        let log = std::fs::File::create(dir.path().join("server.log")).unwrap();
        let mut child = warden()
            .args(["serve", "--listen", "127.0.0.1:0", "--data-dir"])
            .arg(dir.path().join("data"))
            .env("RUST_LOG", "info")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::from(log))
            .spawn()
            .expect("spawn warden serve");
        let stdout = child.stdout.take().unwrap();
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                if let Some(url) = line.strip_prefix("warden listening on ") {
                    let _ = tx.send(url.trim().to_string());
                }
            }
        });
        let mut server = Server {
            child,
            url: String::new(),
            dir,
        };
        match rx.recv_timeout(STARTUP) {
            Ok(url) => server.url = url,
            Err(_) => panic!(
                "the server did not print its address within {STARTUP:?}; its log:\n{}",
                server.log()
            ),
        }
        server
    }

    fn data_dir(&self) -> PathBuf {
        self.dir.path().join("data")
    }

    fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("server.log")).unwrap_or_default()
    }

    /// Runs a client command against this server with `token`.
    fn run(&self, token: &str, args: &[&str]) -> Run {
        let mut command = warden();
        command
            .env("WARDEN_URL", &self.url)
            .env("WARDEN_TOKEN", token);
        Run::of(command, args)
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Waits for a process that should exit by itself; kills it after `limit`.
fn wait_exit(mut child: Child, limit: Duration) -> (i32, String) {
    let start = Instant::now();
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            let mut stderr = String::new();
            if let Some(mut pipe) = child.stderr.take() {
                std::io::Read::read_to_string(&mut pipe, &mut stderr).unwrap();
            }
            return (status.code().unwrap_or(-1), stderr);
        }
        if start.elapsed() > limit {
            let _ = child.kill();
            let _ = child.wait();
            panic!("the process was still running after {limit:?}");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

fn create_org(data_dir: &Path, email: &str) -> Value {
    let mut command = warden();
    command.arg("--output=json");
    Run::of(
        command,
        &[
            "org",
            "create",
            "--name",
            "Acme",
            "--email",
            email,
            "--first-name",
            "Ada",
            "--last-name",
            "Lovelace",
            "--data-dir",
            data_dir.to_str().unwrap(),
        ],
    )
    .ok()
    .json()
}

fn strings(value: &Value) -> Vec<String> {
    value
        .as_array()
        .unwrap_or_else(|| panic!("not an array: {value}"))
        .iter()
        .map(|v| v.as_str().unwrap().to_string())
        .collect()
}

#[test]
fn the_cli_drives_a_real_server_end_to_end() {
    let server = Server::start();

    // An organization created directly in the store while the server runs: the server finds
    // the token on first use.
    let created = create_org(&server.data_dir(), "ada@example.com");
    let token = created["token"].as_str().unwrap().to_string();
    let org_id = created["organization_id"].as_str().unwrap().to_string();
    let admin = created["admin_user_id"].as_str().unwrap().to_string();
    assert!(token.starts_with("wdn_pat_"), "{created}");
    assert_eq!(created["admin_email"], "ada@example.com");
    let cli = |args: &[&str]| server.run(&token, args);

    // whoami, organization
    let me = cli(&["whoami", "--output", "json"]).ok().json();
    assert_eq!(me["organization_id"], org_id.as_str());
    assert_eq!(me["user"]["email"], "ada@example.com");
    assert_eq!(me["token_id"], created["token_id"]);
    assert!(strings(&me["actions"]).contains(&"iam.users.invite".to_string()));
    assert!(cli(&["whoami"]).ok().stdout.contains("ada@example.com"));
    let renamed = cli(&["org", "rename", "Acme Labs", "-o", "json"])
        .ok()
        .json();
    assert_eq!(renamed["item"]["name"], "Acme Labs");
    let org = cli(&["org", "get", "-o", "json"]).ok().json();
    assert_eq!(org["name"], "Acme Labs");
    assert_eq!(org["default_admin"], admin.as_str());
    assert!(cli(&["org", "get"]).ok().stdout.contains("Acme Labs"));

    // users
    let table = cli(&["users", "list"]).ok().stdout;
    let mut lines = table.lines();
    let header: Vec<&str> = lines.next().unwrap().split_whitespace().collect();
    assert_eq!(header, ["ID", "EMAIL", "STATUS", "GROUPS", "ADMIN"]);
    let row = lines.next().unwrap();
    for cell in [admin.as_str(), "ada@example.com", "active", "admin", "yes"] {
        assert!(row.contains(cell), "{row}");
    }
    let users = cli(&["users", "list", "--status", "active", "-o", "json"])
        .ok()
        .json();
    assert_eq!(users["items"].as_array().unwrap().len(), 1);
    let none = cli(&["users", "list", "--status", "deactivated", "-o", "json"])
        .ok()
        .json();
    assert!(none["items"].as_array().unwrap().is_empty());
    let user = cli(&["users", "get", "ada@example.com", "-o", "json"])
        .ok()
        .json();
    assert_eq!(user["id"], admin.as_str());
    assert_eq!(user["is_default_admin"], true);
    let updated = cli(&[
        "users",
        "update",
        "ada@example.com",
        "--last-name",
        "Byron",
        "-o",
        "json",
    ])
    .ok()
    .json();
    assert_eq!(updated["item"]["last_name"], "Byron");
    assert_eq!(updated["item"]["first_name"], "Ada");
    // The only (and default) admin cannot be deactivated.
    let refused = cli(&["users", "deactivate", "ada@example.com"]).expect_code(1);
    assert!(refused.stderr.starts_with("error: 403 ") || refused.stderr.starts_with("error: 409 "));
    let permissions = cli(&["users", "permissions", &admin, "-o", "json"])
        .ok()
        .json();
    assert!(permissions["actions"]
        .as_array()
        .unwrap()
        .iter()
        .any(|a| a["action"] == "iam.users.invite"));
    assert!(cli(&["users", "permissions", "ada@example.com"])
        .ok()
        .stdout
        .contains("policy `admin`"));
    cli(&["users", "get", "nobody@example.com"]).fails_with("404 not_found");

    // groups
    let group = cli(&[
        "groups",
        "create",
        "ml",
        "--description",
        "ML team",
        "-o",
        "json",
    ])
    .ok()
    .json();
    assert_eq!(group["item"]["name"], "ml");
    assert_eq!(group["item"]["legacy"], false);
    cli(&["groups", "create", "ml"]).fails_with("409 ");
    let listed = cli(&["groups", "list"]).ok().stdout;
    assert!(
        listed
            .lines()
            .any(|l| l.contains(" ml ") && l.contains("ML team")),
        "{listed}"
    );
    assert_eq!(listed.lines().count(), 1 + 6, "{listed}");
    let updated = cli(&[
        "groups",
        "update",
        "ml",
        "--description",
        "Machine learning",
        "-o",
        "json",
    ])
    .ok()
    .json();
    assert_eq!(updated["item"]["description"], "Machine learning");
    assert_eq!(
        cli(&["groups", "get", "ml", "-o", "json"]).ok().json()["description"],
        "Machine learning"
    );
    let members = cli(&["groups", "members", "admin", "-o", "json"])
        .ok()
        .json();
    assert_eq!(members["items"][0]["email"], "ada@example.com");
    assert!(
        cli(&["groups", "members", "ml", "-o", "json"]).ok().json()["items"]
            .as_array()
            .unwrap()
            .is_empty()
    );

    // policies, with --rule and --file
    let policy = cli(&[
        "policies",
        "create",
        "--name",
        "ml-inference",
        "--description",
        "ML runs inference",
        "--rule",
        "group:ml=inference-admin,cks-viewer",
        "-o",
        "json",
    ])
    .ok()
    .json();
    let rules = &policy["item"]["rules"];
    assert_eq!(rules[0]["principal"]["kind"], "group");
    assert_eq!(rules[0]["principal"]["name"], "ml");
    assert_eq!(
        strings(&rules[0]["roles"]),
        ["inference-admin", "cks-viewer"]
    );
    let shown = cli(&["policies", "get", "ml-inference"]).ok().stdout;
    assert!(shown.contains("inference-admin,cks-viewer"), "{shown}");
    // Putting the admin in a group that now grants more is changing their own privileges.
    cli(&["groups", "add-member", "ml", "ada@example.com"]).fails_with("403 self_privilege_change");
    cli(&[
        "policies",
        "create",
        "--name",
        "mine",
        "--rule",
        "user:ada@example.com=billing-viewer",
    ])
    .fails_with("403 self_privilege_change");
    cli(&[
        "policies",
        "create",
        "--name",
        "bad",
        "--rule",
        "group:ml=no-such-role",
    ])
    .fails_with("422 unknown_role");
    let file = server.dir.path().join("policy.json");
    std::fs::write(
        &file,
        json!({
            "name": "ml-inference",
            "description": "from a file",
            "rules": [{"principal": {"kind": "group", "id": "ml"}, "roles": ["inference-viewer"]}]
        })
        .to_string(),
    )
    .unwrap();
    let replaced = cli(&[
        "policies",
        "replace",
        "ml-inference",
        "--file",
        file.to_str().unwrap(),
        "-o",
        "json",
    ])
    .ok()
    .json();
    assert_eq!(replaced["item"]["description"], "from a file");
    assert_eq!(
        strings(&replaced["item"]["rules"][0]["roles"]),
        ["inference-viewer"]
    );
    // Without --file, name and description are kept and the rules replaced.
    let replaced = cli(&[
        "policies",
        "replace",
        "ml-inference",
        "--rule",
        "group:ml=cks-viewer",
        "-o",
        "json",
    ])
    .ok()
    .json();
    assert_eq!(replaced["item"]["name"], "ml-inference");
    assert_eq!(replaced["item"]["description"], "from a file");
    assert_eq!(
        strings(&replaced["item"]["rules"][0]["roles"]),
        ["cks-viewer"]
    );
    let policies = cli(&["policies", "list", "-o", "json"]).ok().json();
    assert_eq!(policies["items"].as_array().unwrap().len(), 6);
    cli(&["policies", "delete", "admin"]).fails_with("409 default_policy_protected");

    // roles and catalog
    let roles = cli(&["roles", "list"]).ok().stdout;
    assert_eq!(roles.lines().count(), 1 + 19, "{roles}");
    assert!(roles.lines().next().unwrap().starts_with("ID"));
    let roles = cli(&["roles", "list", "-o", "json"]).ok().json();
    assert_eq!(roles["items"].as_array().unwrap().len(), 19);
    assert!(cli(&["roles", "get", "iam-admin"])
        .ok()
        .stdout
        .contains("iam.users.invite"));
    cli(&["roles", "get", "no-such-role"]).fails_with("404 not_found");
    let catalog = cli(&["catalog", "-o", "json"]).ok().json();
    assert_eq!(catalog["roles"].as_array().unwrap().len(), 19);
    assert!(catalog["namespace_permissions"]
        .as_array()
        .unwrap()
        .iter()
        .any(|p| p["key"] == "r:full"));
    assert!(cli(&["catalog"]).ok().stdout.contains("LEGACY GROUPS (5)"));

    // decisions
    let allowed = cli(&["check", "ada@example.com", "iam.users.invite"]).expect_code(0);
    assert!(allowed.stdout.starts_with("ALLOW"), "{}", allowed.stdout);
    let denied = cli(&["check", "ada@example.com", "inference.deployments.create"]).expect_code(3);
    assert!(denied.stdout.starts_with("DENY"), "{}", denied.stdout);
    assert!(
        denied.stdout.contains("no_matching_rule"),
        "{}",
        denied.stdout
    );
    let explained = cli(&["check", admin.as_str(), "iam.users.invite", "--explain"]).expect_code(0);
    assert!(
        explained.stdout.contains("Granted by:"),
        "{}",
        explained.stdout
    );
    let grant_row = explained
        .stdout
        .lines()
        .find(|l| l.contains("iam-admin"))
        .unwrap_or_else(|| panic!("{}", explained.stdout));
    assert!(grant_row.starts_with("admin "), "{grant_row}");
    let explained = cli(&["check", "me", "iam.users.invite", "--explain", "-o", "json"])
        .expect_code(0)
        .json();
    let sources = explained["results"][0]["granted_by"].as_array().unwrap();
    assert!(sources
        .iter()
        .any(|s| s["policy_name"] == "admin" && s["role_id"] == "iam-admin"));
    // JSON output keeps the exit code.
    let denied = cli(&["check", "me", "billing.invoices.list", "-o", "json"])
        .expect_code(3)
        .json();
    assert_eq!(denied["results"][0]["allowed"], false);
    let revision = replaced["revision"].as_u64().unwrap().to_string();
    cli(&[
        "check",
        "me",
        "iam.users.list",
        "--at-least-revision",
        &revision,
    ])
    .expect_code(0);
    let unknown = cli(&["check", "usr_nobody", "iam.users.list"]).expect_code(3);
    assert!(
        unknown.stdout.contains("unknown_principal"),
        "{}",
        unknown.stdout
    );
    cli(&["check", "me", "no.such.action"]).fails_with("422 unknown_action");
    let who = cli(&["who-can", "iam.users.invite", "-o", "json"])
        .ok()
        .json();
    assert_eq!(strings(&who["principals"]), [admin.as_str()]);
    assert!(cli(&["who-can", "iam.users.invite"])
        .ok()
        .stdout
        .contains("ada@example.com"));

    // namespaces
    let namespace = cli(&[
        "namespaces",
        "create",
        "team-a",
        "--access",
        "ada@example.com=r:full,w:jobs",
        "-o",
        "json",
    ])
    .ok()
    .json();
    assert_eq!(namespace["item"]["name"], "team-a");
    let access = &namespace["item"]["access"][0];
    assert_eq!(access["email"], "ada@example.com");
    assert!(strings(&access["permissions"]).contains(&"w:jobs".to_string()));
    assert!(cli(&["namespaces", "list"]).ok().stdout.contains("team-a"));
    assert!(cli(&["namespaces", "access", "team-a"])
        .ok()
        .stdout
        .contains("r:full,w:jobs"));
    cli(&[
        "namespaces",
        "grant",
        "team-a",
        "ada@example.com",
        "--permissions",
        "r:full",
    ])
    .ok();
    let access = cli(&["namespaces", "access", "team-a", "-o", "json"])
        .ok()
        .json();
    assert_eq!(strings(&access["items"][0]["permissions"]), ["r:full"]);
    // An empty list removes every grantable key.
    cli(&[
        "namespaces",
        "grant",
        "team-a",
        "ada@example.com",
        "--permissions",
        "",
    ])
    .ok();
    let shown = cli(&["namespaces", "get", "team-a", "-o", "json"])
        .ok()
        .json();
    assert!(shown["access"]
        .as_array()
        .unwrap()
        .iter()
        .all(|a| strings(&a["permissions"]).is_empty()));
    cli(&[
        "namespaces",
        "grant",
        "team-a",
        "ada@example.com",
        "--permissions",
        "w:pods",
    ])
    .fails_with("403 reserved_namespace_permission");
    // Org admins hold every key in every namespace of their org.
    cli(&["check", "me", "w:jobs", "--namespace", "team-a"]).expect_code(0);
    cli(&["namespaces", "delete", "team-a"]).ok();
    cli(&["namespaces", "get", "team-a"]).fails_with("404 not_found");

    // clusters
    let ca = server.dir.path().join("ca.pem");
    std::fs::write(
        &ca,
        "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n",
    )
    .unwrap();
    let cluster = cli(&[
        "clusters",
        "create",
        "c1",
        "--api-server-url",
        "https://k8s.example.com:6443",
        "--ca-file",
        ca.to_str().unwrap(),
        "-o",
        "json",
    ])
    .ok()
    .json();
    assert_eq!(cluster["item"]["name"], "c1");
    assert!(cluster["item"]["ca_bundle"]
        .as_str()
        .unwrap()
        .contains("BEGIN CERTIFICATE"));
    let updated = cli(&[
        "clusters",
        "update",
        "c1",
        "--api-server-url",
        "https://k8s2.example.com",
        "-o",
        "json",
    ])
    .ok()
    .json();
    assert_eq!(
        updated["item"]["api_server_url"],
        "https://k8s2.example.com"
    );
    let listed = cli(&["clusters", "list"]).ok().stdout;
    assert!(
        listed.contains("c1") && listed.contains("https://k8s2.example.com"),
        "{listed}"
    );
    assert!(cli(&["clusters", "get", "c1"]).ok().stdout.contains("MIIB"));
    cli(&["clusters", "delete", "c1"]).ok();
    assert!(
        cli(&["clusters", "list", "-o", "json"]).ok().json()["items"]
            .as_array()
            .unwrap()
            .is_empty()
    );

    // tokens: the secret is printed once and works at once
    let created_table = cli(&["tokens", "create", "--name", "ci", "--expires-in", "1h"]).ok();
    assert!(created_table.stdout.contains("will not be shown again"));
    let secret = created_table
        .stdout
        .lines()
        .find_map(|l| l.strip_prefix("Token: "))
        .unwrap_or_else(|| panic!("{}", created_table.stdout))
        .trim()
        .to_string();
    assert!(secret.starts_with("wdn_pat_"), "{secret}");
    let me = server.run(&secret, &["whoami", "-o", "json"]).ok().json();
    assert_eq!(me["user"]["id"], admin.as_str());
    let new = cli(&[
        "tokens", "create", "--name", "ci-2", "--note", "for CI", "-o", "json",
    ])
    .ok()
    .json();
    let new_secret = new["secret"].as_str().unwrap().to_string();
    let new_id = new["token"]["id"].as_str().unwrap().to_string();
    assert!(new_secret.starts_with("wdn_pat_"));
    assert_eq!(
        server
            .run(&new_secret, &["whoami", "-o", "json"])
            .ok()
            .json()["token_id"],
        new_id.as_str()
    );
    let tokens = cli(&["tokens", "list", "-o", "json"]).ok().json();
    assert_eq!(tokens["items"].as_array().unwrap().len(), 3);
    assert!(!cli(&["tokens", "list"]).ok().stdout.contains(&new_secret));
    assert_eq!(
        cli(&["tokens", "get", &new_id, "-o", "json"]).ok().json()["note"],
        "for CI"
    );
    cli(&["tokens", "delete", &new_id]).ok();
    server
        .run(&new_secret, &["whoami"])
        .fails_with("401 unauthenticated");
    cli(&["tokens", "create", "--expires-in", "2d"]).expect_code(2);

    // bad credentials
    let bad = server
        .run("wdn_pat_not-a-real-token", &["whoami"])
        .fails_with("401 unauthenticated");
    assert!(bad.stdout.is_empty());

    // audit log and OpenAPI document
    let audit = cli(&["audit", "--limit", "5", "-o", "json"]).ok().json();
    let events = audit["items"].as_array().unwrap();
    assert_eq!(events.len(), 5);
    assert_eq!(events[0]["action"], "tokens.personal.delete");
    let all = cli(&["audit", "--limit", "1000", "-o", "json"]).ok().json();
    assert!(all["items"]
        .as_array()
        .unwrap()
        .iter()
        .any(|e| e["outcome"] == "denied" && e["error_code"] == "self_privilege_change"));
    let audit = cli(&["audit", "--limit", "3"]).ok().stdout;
    assert!(audit.starts_with("TIME"), "{audit}");
    assert_eq!(audit.lines().count(), 4, "{audit}");
    cli(&["audit", "--limit", "0"]).fails_with("422 invalid_field");
    let openapi = cli(&["openapi"]).ok().json();
    assert!(openapi["paths"]["/v1/whoami"].is_object());

    // clean-up order: policies naming a group first
    cli(&["policies", "delete", "ml-inference"]).ok();
    cli(&["groups", "delete", "ml"]).ok();
    cli(&["groups", "get", "ml"]).fails_with("404 not_found");
    cli(&["groups", "delete", "admin"]).fails_with("409 legacy_group_protected");

    // The server never logs secrets.
    let log = server.log();
    assert!(log.contains("warden started"), "{log}");
    for secret in [&token, &secret, &new_secret] {
        assert!(
            !log.contains(secret.as_str()),
            "a secret is in the server log"
        );
    }
}

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
fn org_create_prints_the_token_once_and_honours_the_environment() {
    let dir = tempfile::tempdir().unwrap();
    // WARDEN_DATA_DIR is the fallback for --data-dir.
    let mut command = warden();
    command.env("WARDEN_DATA_DIR", dir.path());
    let run = Run::of(
        command,
        &[
            "org",
            "create",
            "--name",
            "Acme",
            "--email",
            "ada@example.com",
            "--token-expires-in",
            "never",
        ],
    )
    .ok();
    assert!(dir.path().join("warden.db").exists());
    assert!(run.stdout.contains("ada@example.com"), "{}", run.stdout);
    assert!(
        run.stdout.contains("Token:              wdn_pat_"),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout.contains("will not be shown again"),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout.contains("Token expires:      never"),
        "{}",
        run.stdout
    );

    // A second organization in the same database, as JSON.
    let second = create_org(dir.path(), "bob@example.com");
    for key in [
        "organization_id",
        "admin_user_id",
        "admin_email",
        "token_id",
        "token",
    ] {
        assert!(second[key].is_string(), "{key} in {second}");
    }
    assert_eq!(second["admin_email"], "bob@example.com");

    // Invalid input is refused with the engine's code.
    let mut command = warden();
    command.env("WARDEN_DATA_DIR", dir.path());
    let run = Run::of(
        command,
        &["org", "create", "--name", "Bad", "--email", "not-an-email"],
    )
    .expect_code(1);
    assert!(
        run.stderr.starts_with("error: invalid_field: "),
        "{}",
        run.stderr
    );

    let mut command = warden();
    command.env("WARDEN_DATA_DIR", dir.path());
    Run::of(
        command,
        &[
            "org",
            "create",
            "--name",
            "X",
            "--email",
            "x@example.com",
            "--token-expires-in",
            "2d",
        ],
    )
    .expect_code(2);
}

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
    assert!(
        run.stderr.starts_with("error: cannot reach the server"),
        "{}",
        run.stderr
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
fn help_describes_the_commands() {
    let run = Run::of(warden(), &["--help"]).ok();
    for command in [
        "serve", "org", "users", "groups", "policies", "check", "who-can", "audit",
    ] {
        assert!(run.stdout.contains(command), "{command}: {}", run.stdout);
    }
    let run = Run::of(warden(), &["check", "--help"]).ok();
    assert!(run.stdout.contains("--explain"));
    assert!(run.stdout.contains("exit 0 if allowed, 3 if denied") || run.stdout.contains("DENY"));
    // The token's value never appears in help.
    let mut command = warden();
    command.env("WARDEN_TOKEN", "wdn_pat_supersecret");
    let run = Run::of(command, &["--help"]).ok();
    assert!(!run.stdout.contains("supersecret"));
}

#[test]
fn the_typed_client_encodes_keys_and_reports_problems() {
    use warden_client::model::GroupInput;
    use warden_client::{Client, ClientError, Method};

    let server = Server::start();
    let created = create_org(&server.data_dir(), "ada+ops@example.com");
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
fn an_operator_adds_a_user_whose_group_grants_take_effect() {
    let server = Server::start();
    let created = create_org(&server.data_dir(), "ada@example.com");
    let admin = created["token"].as_str().unwrap().to_string();
    let org = created["organization_id"].as_str().unwrap().to_string();
    let data = server.data_dir();
    let data = data.to_str().unwrap();
    server.run(&admin, &["groups", "create", "ml"]).ok();
    server
        .run(
            &admin,
            &[
                "policies",
                "create",
                "--name",
                "ml",
                "--rule",
                "group:ml=inference-admin",
            ],
        )
        .ok();

    // A typo in a group adds nobody.
    let mut command = warden();
    command.arg("--output=json");
    let typo = Run::of(
        command,
        &[
            "org",
            "add-user",
            "--org",
            &org,
            "--email",
            "bob@example.com",
            "--group",
            "nope",
            "--data-dir",
            data,
        ],
    )
    .expect_code(1);
    assert!(typo.stderr.contains("no group `nope`"), "{}", typo.stderr);

    let mut command = warden();
    command.arg("--output=json");
    let added = Run::of(
        command,
        &[
            "org",
            "add-user",
            "--org",
            &org,
            "--email",
            "bob@example.com",
            "--group",
            "ml",
            "--data-dir",
            data,
        ],
    )
    .ok()
    .json();
    let bob = added["user_id"].as_str().unwrap().to_string();
    let bob_token = added["token"].as_str().unwrap().to_string();
    assert!(bob_token.starts_with("wdn_pat_"));
    assert_eq!(added["groups"], serde_json::json!(["ml"]));
    let revision = added["revision"].as_u64().unwrap().to_string();

    // The server learns of the write from the store when a check asks for its revision.
    server
        .run(
            &admin,
            &[
                "check",
                &bob,
                "inference.deployments.create",
                "--at-least-revision",
                &revision,
            ],
        )
        .ok();
    server
        .run(&admin, &["check", &bob, "cks.clusters.create"])
        .expect_code(3);
    // Bob's own token works, and he holds exactly the group's role.
    let me = server
        .run(&bob_token, &["whoami", "--output", "json"])
        .ok()
        .json();
    assert_eq!(me["user"]["email"], "bob@example.com");
    assert!(strings(&me["actions"]).contains(&"inference.gateways.delete".to_string()));
    assert!(!strings(&me["actions"]).contains(&"iam.users.list".to_string()));
    // A second user with the same email is refused.
    let mut command = warden();
    command.arg("--output=json");
    let again = Run::of(
        command,
        &[
            "org",
            "add-user",
            "--org",
            &org,
            "--email",
            "BOB@example.com",
            "--data-dir",
            data,
        ],
    )
    .expect_code(1);
    assert!(again.stderr.contains("duplicate_name"), "{}", again.stderr);
}
