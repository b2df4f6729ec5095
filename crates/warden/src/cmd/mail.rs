//! `warden serve`'s mail options: an SMTP relay, or without one, `.eml` files in the mail
//! directory (`serve.rs` decides where that is).

use std::path::{Path, PathBuf};

use clap::{Args, ValueEnum};
use warden_server::{
    MailFrom, Mailer, Password, SmtpLogin, SmtpMailer, SmtpSecurity, SmtpSettings,
};

use crate::output::CliError;

/// The relay's password, when it is not in a file (never a flag: flags show in `ps`).
pub const PASSWORD_ENV: &str = "WARDEN_SMTP_PASSWORD";

#[derive(Debug, Clone, Default, Args)]
pub struct MailArgs {
    /// SMTP relay that sends the server's emails (e.g. smtp.example.com); needs --mail-from.
    /// Without it, each email is written as an .eml file into the mail directory.
    #[arg(
        long,
        env = "WARDEN_SMTP_HOST",
        value_name = "HOST",
        conflicts_with = "mail_dir"
    )]
    pub smtp_host: Option<String>,
    /// The relay's port. [default: 587 with starttls, 465 with tls, 25 with none]
    #[arg(
        long,
        env = "WARDEN_SMTP_PORT",
        value_name = "PORT",
        requires = "smtp_host"
    )]
    pub smtp_port: Option<u16>,
    /// How the connection to the relay is protected: `starttls` (a plain connection upgraded
    /// to TLS; the relay must offer it), `tls` (TLS from the start, "implicit TLS"), or `none`
    /// (plain text: a relay on the same host or network only). [default: starttls]
    #[arg(
        long,
        env = "WARDEN_SMTP_SECURITY",
        value_enum,
        value_name = "MODE",
        requires = "smtp_host"
    )]
    pub smtp_security: Option<Security>,
    /// User name to log in to the relay with (over TLS only). The password comes from
    /// --smtp-password-file, else the WARDEN_SMTP_PASSWORD environment variable.
    #[arg(
        long,
        env = "WARDEN_SMTP_USERNAME",
        value_name = "NAME",
        requires = "smtp_host"
    )]
    pub smtp_username: Option<String>,
    /// File holding the relay's password (a trailing newline is not part of it).
    #[arg(
        long,
        env = "WARDEN_SMTP_PASSWORD_FILE",
        value_name = "FILE",
        requires = "smtp_username"
    )]
    pub smtp_password_file: Option<PathBuf>,
    /// PEM file of certificate authorities to trust besides the built-in public ones (a relay
    /// whose certificate a private CA signed).
    #[arg(
        long,
        env = "WARDEN_SMTP_CA_FILE",
        value_name = "FILE",
        requires = "smtp_host"
    )]
    pub smtp_ca_file: Option<PathBuf>,
    /// Who the emails are from: `Name <address>` or `address`, one your relay accepts mail
    /// from. Required with --smtp-host. [default without SMTP: Warden <warden@localhost>]
    #[arg(long, env = "WARDEN_MAIL_FROM", value_name = "MAILBOX")]
    pub mail_from: Option<String>,
}

/// `--smtp-security`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Security {
    None,
    Starttls,
    Tls,
}

impl From<Security> for SmtpSecurity {
    fn from(security: Security) -> SmtpSecurity {
        match security {
            Security::None => SmtpSecurity::None,
            Security::Starttls => SmtpSecurity::StartTls,
            Security::Tls => SmtpSecurity::Tls,
        }
    }
}

/// Where `warden serve`'s emails go, and from whom.
#[derive(Debug)]
pub struct MailSetup {
    pub mailer: Mailer,
    pub from: MailFrom,
}

impl MailSetup {
    /// Where the emails go, for the start-up log line.
    pub fn describe(&self) -> String {
        match &self.mailer {
            Mailer::Directory(dir) => {
                format!("emails are written as .eml files to {}", dir.display())
            }
            Mailer::Smtp(smtp) => format!(
                "emails are sent through the SMTP relay {} from {}",
                smtp.relay(),
                self.from
            ),
        }
    }
}

/// The mailer the options name: SMTP with `--smtp-host`, else the mail directory `mail_dir`.
pub fn resolve(
    args: &MailArgs,
    mail_dir: PathBuf,
    env: impl Fn(&str) -> Option<String>,
) -> Result<MailSetup, CliError> {
    let from = match &args.mail_from {
        Some(text) => text
            .parse::<MailFrom>()
            .map_err(|e| CliError::message(format!("--mail-from: {e}")))?,
        None if args.smtp_host.is_some() => {
            return Err(CliError::message(
                "--smtp-host needs --mail-from (or WARDEN_MAIL_FROM): an address your relay \
                 accepts mail from, e.g. \"Warden <warden@example.com>\"",
            ))
        }
        None => MailFrom::default(),
    };
    let mailer = match smtp_settings(args, env)? {
        Some(settings) => Mailer::Smtp(
            SmtpMailer::new(settings)
                .map_err(|e| CliError::message(format!("the SMTP settings: {e}")))?,
        ),
        None => Mailer::Directory(mail_dir),
    };
    Ok(MailSetup { mailer, from })
}

/// The relay's settings, if `--smtp-host` names one.
pub fn smtp_settings(
    args: &MailArgs,
    env: impl Fn(&str) -> Option<String>,
) -> Result<Option<SmtpSettings>, CliError> {
    let Some(host) = &args.smtp_host else {
        return Ok(None);
    };
    let security = SmtpSecurity::from(args.smtp_security.unwrap_or(Security::Starttls));
    let password = match &args.smtp_password_file {
        Some(file) => Some(read_password(file)?),
        None => env(PASSWORD_ENV).filter(|p| !p.is_empty()),
    };
    let login = match (&args.smtp_username, password) {
        (Some(username), Some(password)) => Some(SmtpLogin {
            username: username.clone(),
            password: Password::new(password),
        }),
        (Some(_), None) => {
            return Err(CliError::message(format!(
                "--smtp-username needs a password: --smtp-password-file FILE or {PASSWORD_ENV}"
            )))
        }
        (None, Some(_)) => {
            return Err(CliError::message(format!(
                "{PASSWORD_ENV} is set but --smtp-username (WARDEN_SMTP_USERNAME) is not"
            )))
        }
        (None, None) => None,
    };
    Ok(Some(SmtpSettings {
        host: host.trim().to_string(),
        port: args.smtp_port.unwrap_or_else(|| security.default_port()),
        security,
        login,
        ca_file: args.smtp_ca_file.clone(),
    }))
}

/// The password in `file`, without the newline an editor or `echo` ends it with.
fn read_password(file: &Path) -> Result<String, CliError> {
    let text = std::fs::read_to_string(file).map_err(|e| {
        CliError::message(format!(
            "cannot read the SMTP password file {}: {e}",
            file.display()
        ))
    })?;
    let password = text
        .strip_suffix('\n')
        .map_or(text.as_str(), |t| t.strip_suffix('\r').unwrap_or(t));
    if password.is_empty() {
        return Err(CliError::message(format!(
            "the SMTP password file {} is empty",
            file.display()
        )));
    }
    Ok(password.to_string())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

    use clap::Parser;

    use super::*;
    use crate::cmd::serve::ServeArgs;

    /// `warden serve`'s options, parsed as the command line would.
    #[derive(Debug, Parser)]
    struct Serve {
        #[command(flatten)]
        args: ServeArgs,
    }

    fn parse(options: &[&str]) -> Result<MailArgs, String> {
        Serve::try_parse_from(std::iter::once("serve").chain(options.iter().copied()))
            .map(|s| s.args.mail)
            .map_err(|e| e.to_string())
    }

    fn no_env(_: &str) -> Option<String> {
        None
    }

    fn password_env(name: &str) -> Option<String> {
        (name == PASSWORD_ENV).then(|| "from-the-environment".to_string())
    }

    #[test]
    fn smtp_defaults_to_starttls_on_587_and_security_picks_the_port() {
        let args = parse(&["--smtp-host", "smtp.example.com"]).unwrap();
        let settings = smtp_settings(&args, no_env).unwrap().unwrap();
        assert_eq!(settings.host, "smtp.example.com");
        assert_eq!(
            (settings.security, settings.port),
            (SmtpSecurity::StartTls, 587)
        );
        assert_eq!(settings.login, None);
        for (mode, security, port) in [
            ("tls", SmtpSecurity::Tls, 465),
            ("none", SmtpSecurity::None, 25),
            ("starttls", SmtpSecurity::StartTls, 587),
        ] {
            let args = parse(&["--smtp-host", "h", "--smtp-security", mode]).unwrap();
            let settings = smtp_settings(&args, no_env).unwrap().unwrap();
            assert_eq!((settings.security, settings.port), (security, port));
        }
        let args = parse(&["--smtp-host", "h", "--smtp-port", "2525"]).unwrap();
        assert_eq!(smtp_settings(&args, no_env).unwrap().unwrap().port, 2525);
        // No host: no SMTP, whatever the environment holds.
        let args = parse(&[]).unwrap();
        assert_eq!(smtp_settings(&args, password_env).unwrap(), None);
    }

    #[test]
    fn smtp_options_that_make_no_sense_are_refused_by_the_parser() {
        for options in [
            &["--smtp-port", "25"][..],
            &["--smtp-security", "tls"],
            &["--smtp-username", "u"],
            &["--smtp-ca-file", "/ca.pem"],
            &["--smtp-host", "h", "--smtp-password-file", "/p"],
            &["--smtp-host", "h", "--mail-dir", "/mail"],
            &["--smtp-host", "h", "--smtp-security", "ssl"],
            &["--smtp-host", "h", "--smtp-port", "70000"],
            // The password is never a flag.
            &["--smtp-host", "h", "--smtp-password", "x"],
        ] {
            assert!(parse(options).is_err(), "{options:?} was accepted");
        }
    }

    #[test]
    fn the_password_comes_from_a_file_or_the_environment() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("password");
        std::fs::write(&file, "s3cret with spaces \r\n").unwrap();
        let with_file = parse(&[
            "--smtp-host",
            "h",
            "--smtp-username",
            "warden",
            "--smtp-password-file",
            file.to_str().unwrap(),
        ])
        .unwrap();
        // The file wins over the environment; one trailing newline is dropped, nothing more.
        let login = smtp_settings(&with_file, password_env)
            .unwrap()
            .unwrap()
            .login
            .unwrap();
        assert_eq!(login.username, "warden");
        assert_eq!(login.password, Password::new("s3cret with spaces ".into()));
        let username_only = parse(&["--smtp-host", "h", "--smtp-username", "warden"]).unwrap();
        let login = smtp_settings(&username_only, password_env)
            .unwrap()
            .unwrap()
            .login
            .unwrap();
        assert_eq!(login.password, Password::new("from-the-environment".into()));
        let e = smtp_settings(&username_only, no_env)
            .unwrap_err()
            .to_string();
        assert!(e.contains("needs a password"), "{e}");
        let no_user = parse(&["--smtp-host", "h"]).unwrap();
        let e = smtp_settings(&no_user, password_env)
            .unwrap_err()
            .to_string();
        assert!(e.contains("--smtp-username"), "{e}");
        std::fs::write(&file, "\n").unwrap();
        let e = smtp_settings(&with_file, no_env).unwrap_err().to_string();
        assert!(e.contains("is empty"), "{e}");
        let missing = parse(&[
            "--smtp-host",
            "h",
            "--smtp-username",
            "u",
            "--smtp-password-file",
            "/nonexistent/password",
        ])
        .unwrap();
        let e = smtp_settings(&missing, no_env).unwrap_err().to_string();
        assert!(e.contains("cannot read the SMTP password file /nonexistent/password"));
    }

    #[test]
    fn smtp_needs_a_sender_and_the_mailer_never_shows_the_password() {
        let dir = PathBuf::from("/data/outbox");
        let args = parse(&["--smtp-host", "smtp.example.com"]).unwrap();
        let e = resolve(&args, dir.clone(), no_env).unwrap_err().to_string();
        assert!(e.contains("--smtp-host needs --mail-from"), "{e}");
        let args = parse(&["--smtp-host", "h", "--mail-from", "not an address"]).unwrap();
        let e = resolve(&args, dir.clone(), no_env).unwrap_err().to_string();
        assert!(e.contains("--mail-from: invalid sender"), "{e}");
        // Credentials over plain text are refused, without showing them.
        let args = parse(&[
            "--smtp-host",
            "smtp.example.com",
            "--smtp-security",
            "none",
            "--smtp-username",
            "warden",
            "--mail-from",
            "w@example.com",
        ])
        .unwrap();
        let e = resolve(&args, dir.clone(), password_env)
            .unwrap_err()
            .to_string();
        assert!(e.contains("only sent over TLS"), "{e}");
        assert!(!e.contains("from-the-environment"), "{e}");

        let args = parse(&[
            "--smtp-host",
            "smtp.example.com",
            "--smtp-username",
            "warden",
            "--mail-from",
            "Acme IAM <iam@acme.example>",
        ])
        .unwrap();
        let setup = resolve(&args, dir.clone(), password_env).unwrap();
        let shown = format!("{setup:?} {}", setup.describe());
        assert!(!shown.contains("from-the-environment"), "{shown}");
        assert_eq!(
            setup.describe(),
            "emails are sent through the SMTP relay smtp.example.com:587 (starttls) from \
             Acme IAM <iam@acme.example>"
        );
        // Without SMTP: the mail directory, from the default sender unless one is named.
        let setup = resolve(&parse(&[]).unwrap(), dir.clone(), no_env).unwrap();
        assert_eq!(
            setup.describe(),
            "emails are written as .eml files to /data/outbox"
        );
        assert_eq!(setup.from, MailFrom::default());
        let named = parse(&["--mail-from", "iam@acme.example"]).unwrap();
        let setup = resolve(&named, dir, no_env).unwrap();
        assert_eq!(setup.from.to_string(), "iam@acme.example");
    }
}
