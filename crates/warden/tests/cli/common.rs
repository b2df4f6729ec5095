//! The harness: the binary with a clean environment, one run of it, and a real server on a
//! free port over a temporary SQLite data directory.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use serde_json::Value;
use tempfile::TempDir;

const BIN: &str = env!("CARGO_BIN_EXE_warden");
const STARTUP: Duration = Duration::from_secs(60);
/// How long the outbox worker may take to write an email after the commit that asked for it.
pub const MAIL_WAIT: Duration = Duration::from_secs(10);

/// A configuration directory that does not exist: no test reads the login of whoever runs it.
pub fn no_config() -> PathBuf {
    std::env::temp_dir().join("warden-cli-tests-no-config")
}

/// The binary with none of the caller's Warden environment or saved login.
pub fn warden() -> Command {
    let mut command = Command::new(BIN);
    command.env("XDG_CONFIG_HOME", no_config());
    for name in [
        "WARDEN_URL",
        "WARDEN_TOKEN",
        "WARDEN_LISTEN",
        "WARDEN_DATA_DIR",
        "WARDEN_DATABASE_URL",
        "WARDEN_MAIL_DIR",
        "WARDEN_LOG_FORMAT",
        "WARDEN_PUBLIC_URL",
        "WARDEN_INVITATION_TTL",
        "WARDEN_LINK_KEY_FILE",
        "WARDEN_MAX_FAILED_AUTH_PER_MINUTE",
        "WARDEN_SMTP_HOST",
        "WARDEN_SMTP_PORT",
        "WARDEN_SMTP_SECURITY",
        "WARDEN_SMTP_USERNAME",
        "WARDEN_SMTP_PASSWORD",
        "WARDEN_SMTP_PASSWORD_FILE",
        "WARDEN_SMTP_CA_FILE",
        "WARDEN_MAIL_FROM",
        "RUST_LOG",
    ] {
        command.env_remove(name);
    }
    command
}

/// The result of one run of the binary.
#[derive(Debug)]
pub struct Run {
    pub args: Vec<String>,
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Run {
    pub fn of(mut command: Command, args: &[&str]) -> Run {
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

    pub fn expect_code(self, code: i32) -> Run {
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

    pub fn ok(self) -> Run {
        self.expect_code(0)
    }

    /// Exit 1 with `error: <status> <code>: ...` on stderr.
    pub fn fails_with(self, status_and_code: &str) -> Run {
        let run = self.expect_code(1);
        assert!(
            run.stderr.starts_with(&format!("error: {status_and_code}")),
            "`warden {}`: expected `error: {status_and_code}...` on stderr, got:\n{}",
            run.args.join(" "),
            run.stderr
        );
        run
    }

    pub fn json(&self) -> Value {
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
pub struct Server {
    child: Child,
    pub url: String,
    pub dir: TempDir,
    /// The options naming its database (`--data-dir ...` or `--database-url ...`).
    store: Vec<String>,
    /// The first platform operator's token, once bootstrapped.
    operator: std::sync::OnceLock<String>,
}

impl Server {
    pub fn start() -> Server {
        Server::start_with(&[])
    }

    /// A server with more `serve` options.
    pub fn start_with(options: &[&str]) -> Server {
        let dir = tempfile::tempdir().unwrap();
        let data = dir.path().join("data");
        let mut args = vec!["--data-dir", data.to_str().unwrap()];
        args.extend_from_slice(options);
        Server::start_in(dir, &args)
    }

    /// A server whose database the options name (`--data-dir` or `--database-url`), logging
    /// into `dir`; on a free port unless the options name one (`--listen`).
    pub fn start_in(dir: TempDir, options: &[&str]) -> Server {
        let log = std::fs::File::create(dir.path().join("server.log")).unwrap();
        let listen: &[&str] = if options.contains(&"--listen") {
            &[]
        } else {
            &["--listen", "127.0.0.1:0"]
        };
        let mut child = warden()
            .arg("serve")
            .args(listen)
            .args(options)
            // Defaults relative to the working directory (`./data/outbox` for the mail of a
            // server on a database URL) land in the temporary directory.
            .current_dir(dir.path())
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
        let store = options
            .windows(2)
            .filter(|w| w[0] == "--data-dir" || w[0] == "--database-url")
            .flat_map(|w| [w[0].to_string(), w[1].to_string()])
            .collect();
        let mut server = Server {
            child,
            url: String::new(),
            dir,
            store,
            operator: std::sync::OnceLock::new(),
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

    pub fn data_dir(&self) -> PathBuf {
        self.dir.path().join("data")
    }

    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("server.log")).unwrap_or_default()
    }

    /// The token of the first platform operator of this server's database: `warden operator
    /// bootstrap` on first use.
    pub fn operator_token(&self) -> String {
        self.operator
            .get_or_init(|| {
                let mut args = vec![
                    "operator",
                    "bootstrap",
                    "--email",
                    "ops@example.com",
                    "--print-token",
                ];
                args.extend(self.store.iter().map(String::as_str));
                Run::of(warden(), &args).ok().stdout.trim().to_string()
            })
            .clone()
    }

    /// Runs a client command against this server with `token`.
    pub fn run(&self, token: &str, args: &[&str]) -> Run {
        let mut command = warden();
        command
            .env("WARDEN_URL", &self.url)
            .env("WARDEN_TOKEN", token);
        Run::of(command, args)
    }
}

impl Server {
    /// Sends SIGTERM and waits (up to `limit`) for the server to exit; returns its exit code.
    pub fn terminate(&mut self, limit: Duration) -> i32 {
        let status = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status()
            .unwrap();
        assert!(status.success());
        let start = Instant::now();
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                return status.code().unwrap_or(-1);
            }
            assert!(
                start.elapsed() < limit,
                "still running {limit:?} after SIGTERM"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Kills the server with SIGKILL (no chance to flush or close anything) and waits for it;
    /// returns its log directory.
    pub fn kill9(mut self) -> TempDir {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let placeholder = tempfile::tempdir().unwrap();
        std::mem::replace(&mut self.dir, placeholder)
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Waits for a process that should exit by itself; kills it after `limit`.
pub fn wait_exit(mut child: Child, limit: Duration) -> (i32, String) {
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

/// `warden org create` of `Acme` with `email` as its first admin, by the server's operator,
/// as JSON.
pub fn create_org(server: &Server, email: &str) -> Value {
    server
        .run(
            &server.operator_token(),
            &[
                "--output=json",
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
            ],
        )
        .ok()
        .json()
}

/// `warden org add-user` by the server's operator, as JSON, with more options.
pub fn add_user(server: &Server, org: &str, email: &str, options: &[&str]) -> Run {
    let mut args = vec![
        "--output=json",
        "org",
        "add-user",
        "--org",
        org,
        "--email",
        email,
    ];
    args.extend_from_slice(options);
    server.run(&server.operator_token(), &args)
}

/// The link to `path` (`/invitations/accept`, `/password-reset`, with or without a query) in a
/// message: the whole word.
pub fn link_in(message: &str, path: &str) -> String {
    let at = message
        .find(&format!("{path}#"))
        .or_else(|| message.find(&format!("{path}?")))
        .unwrap_or_else(|| panic!("no {path} link in:\n{message}"));
    let start = message[..at].rfind("http://").unwrap();
    let end = message[at..]
        .find(char::is_whitespace)
        .map_or(message.len(), |n| at + n);
    message[start..end].to_string()
}

/// Creates the group `ml-engineers` and the namespaces `ml` and `prod`, then `warden users
/// invite`s `email` into `ml-engineers` with `ml=r:full,w:configmaps`, as `token`'s holder;
/// the invitation as JSON (with its link).
pub fn invite_with_access(server: &Server, token: &str, email: &str) -> Value {
    server
        .run(token, &["groups", "create", "ml-engineers"])
        .ok();
    for namespace in ["ml", "prod"] {
        server.run(token, &["namespaces", "create", namespace]).ok();
    }
    let args = [
        "--output=json",
        "users",
        "invite",
        email,
        "--group",
        "ml-engineers",
        "--namespace",
        "ml=r:full,w:configmaps",
    ];
    server.run(token, &args).ok().json()
}

pub fn strings(value: &Value) -> Vec<String> {
    value
        .as_array()
        .unwrap_or_else(|| panic!("not an array: {value}"))
        .iter()
        .map(|v| v.as_str().unwrap().to_string())
        .collect()
}

/// The `.eml` files of a mail directory, with their text.
pub fn emails(dir: &Path) -> Vec<(PathBuf, String)> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    entries
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "eml"))
        .filter_map(|p| std::fs::read_to_string(&p).ok().map(|text| (p, text)))
        .collect()
}

/// Waits up to [`MAIL_WAIT`] for an email in `dir` that names `needle`; returns its text.
pub fn wait_for_email(dir: &Path, needle: &str) -> String {
    let start = Instant::now();
    loop {
        if let Some((_, text)) = emails(dir).into_iter().find(|(_, t)| t.contains(needle)) {
            return text;
        }
        if start.elapsed() > MAIL_WAIT {
            let names: Vec<PathBuf> = emails(dir).into_iter().map(|(p, _)| p).collect();
            panic!(
                "no email naming `{needle}` in {} after {MAIL_WAIT:?}; found {names:?}",
                dir.display()
            );
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}
