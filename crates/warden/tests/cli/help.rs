//! `--help`: every command described, the token's value never shown.

use crate::common::{warden, Run};

#[test]
fn help_describes_the_commands() {
    let run = Run::of(warden(), &["--help"]).ok();
    for command in [
        "serve",
        "org",
        "users",
        "groups",
        "policies",
        "service-accounts",
        "check",
        "who-can",
        "audit",
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
fn serve_help_documents_the_mail_directory() {
    let run = Run::of(warden(), &["serve", "--help"]).ok();
    for text in ["--mail-dir", "WARDEN_MAIL_DIR", ".eml", "<data dir>/outbox"] {
        assert!(run.stdout.contains(text), "{text}: {}", run.stdout);
    }
}

#[test]
fn serve_help_documents_smtp_and_never_shows_the_password() {
    let mut command = warden();
    command.env("WARDEN_SMTP_PASSWORD", "hunter2-smtp");
    let run = Run::of(command, &["serve", "--help"]).ok();
    for text in [
        "--smtp-host",
        "WARDEN_SMTP_HOST",
        "--smtp-security",
        "starttls",
        "--smtp-password-file",
        "WARDEN_SMTP_PASSWORD",
        "--smtp-ca-file",
        "--mail-from",
    ] {
        assert!(run.stdout.contains(text), "{text}: {}", run.stdout);
    }
    assert!(!run.stdout.contains("hunter2"), "{}", run.stdout);
    assert!(!run.stdout.contains("--smtp-password "), "{}", run.stdout);
}
