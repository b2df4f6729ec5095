//! Email over SMTP (lettre): the relay's settings, and sending the exact bytes
//! [`Email::render_from`](super::outbox::Email::render_from) produced, so a message sent again
//! after a crash carries the same Message-ID (`<outbox item id@warden>`).
//!
//! Each message goes over a connection of its own (connect, STARTTLS or TLS, AUTH, one
//! message, QUIT), bounded as a whole by [`SEND_TIMEOUT`]: lettre's Tokio transport bounds only
//! the connect, and a pooled connection abandoned half-way through a message could be handed to
//! the next one out of step with the relay. Warden sends few emails; a handshake each is cheap.

use std::fmt;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use lettre::address::Envelope;
use lettre::transport::smtp::authentication::Credentials;
use lettre::transport::smtp::client::{Certificate, Tls, TlsParameters};
use lettre::{Address, AsyncSmtpTransport, AsyncTransport, Tokio1Executor};

use super::outbox::{MailError, MailFrom};

/// How long establishing a TCP connection to the relay may take.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
/// How long one message may take in all: connect, TLS, AUTH, the message, QUIT.
pub const SEND_TIMEOUT: Duration = Duration::from_secs(30);

/// How the connection to the relay is protected.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SmtpSecurity {
    /// Plain text (a relay on the same host or network only).
    None,
    /// Plain connection upgraded with `STARTTLS`, which the relay must offer (port 587).
    StartTls,
    /// TLS from the first byte, "implicit TLS" (port 465).
    Tls,
}

impl SmtpSecurity {
    /// The usual port for this kind of connection.
    pub fn default_port(self) -> u16 {
        match self {
            SmtpSecurity::None => 25,
            SmtpSecurity::StartTls => 587,
            SmtpSecurity::Tls => 465,
        }
    }
}

impl fmt::Display for SmtpSecurity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            SmtpSecurity::None => "none",
            SmtpSecurity::StartTls => "starttls",
            SmtpSecurity::Tls => "tls",
        })
    }
}

/// A password: its `Debug` never shows it.
#[derive(Clone, PartialEq, Eq)]
pub struct Password(String);

impl Password {
    pub fn new(password: String) -> Password {
        Password(password)
    }
}

impl fmt::Debug for Password {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Password(***)")
    }
}

/// The relay's account.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SmtpLogin {
    pub username: String,
    pub password: Password,
}

/// Where and how to reach the SMTP relay.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SmtpSettings {
    pub host: String,
    pub port: u16,
    pub security: SmtpSecurity,
    /// `AUTH` with these, if set (only over TLS).
    pub login: Option<SmtpLogin>,
    /// A PEM file of certificate authorities trusted besides the built-in (Mozilla) roots: a
    /// self-hosted relay's own CA.
    pub ca_file: Option<PathBuf>,
}

/// Sends each email through an SMTP relay.
#[derive(Clone)]
pub struct SmtpMailer {
    transport: Arc<AsyncSmtpTransport<Tokio1Executor>>,
    relay: String,
    /// Kept to scrub it from error messages, should a relay ever repeat it.
    password: Option<Password>,
}

impl fmt::Debug for SmtpMailer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SmtpMailer")
            .field("relay", &self.relay)
            .finish_non_exhaustive()
    }
}

impl SmtpMailer {
    /// Checks the settings and prepares the transport (it connects only to send).
    pub fn new(settings: SmtpSettings) -> Result<SmtpMailer, MailError> {
        let SmtpSettings {
            host,
            port,
            security,
            login,
            ca_file,
        } = settings;
        if host.trim().is_empty() {
            return Err(MailError::Config("the SMTP host is empty".into()));
        }
        if security == SmtpSecurity::None {
            if login.is_some() {
                return Err(MailError::Config(
                    "an SMTP username and password are only sent over TLS: use security \
                     `starttls` or `tls`"
                        .into(),
                ));
            }
            if ca_file.is_some() {
                return Err(MailError::Config(
                    "a CA file is only used with security `starttls` or `tls`".into(),
                ));
            }
        }
        let mut builder = AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(host.as_str())
            .port(port)
            .timeout(Some(CONNECT_TIMEOUT));
        if security != SmtpSecurity::None {
            let parameters = tls_parameters(&host, ca_file)?;
            builder = builder.tls(match security {
                SmtpSecurity::Tls => Tls::Wrapper(parameters),
                _ => Tls::Required(parameters),
            });
        }
        let password = login.as_ref().map(|l| l.password.clone());
        if let Some(SmtpLogin { username, password }) = login {
            if username.is_empty() || password.0.is_empty() {
                return Err(MailError::Config(
                    "the SMTP username and password must not be empty".into(),
                ));
            }
            builder = builder.credentials(Credentials::new(username, password.0));
        }
        Ok(SmtpMailer {
            transport: Arc::new(builder.build()),
            relay: format!("{host}:{port} ({security})"),
            password,
        })
    }

    /// `host:port (security)`, for the log.
    pub fn relay(&self) -> &str {
        &self.relay
    }

    /// Sends `message` (a whole RFC 5322 message) from `from` to `to`; returns the relay's
    /// answer.
    pub(super) async fn send(
        &self,
        from: &MailFrom,
        to: &str,
        message: &[u8],
    ) -> Result<String, MailError> {
        let recipient: Address = to
            .parse()
            .map_err(|e| MailError::Recipient(format!("`{to}`: {e}")))?;
        let envelope = Envelope::new(Some(from.address().clone()), vec![recipient])
            .map_err(|e| MailError::Recipient(format!("`{to}`: {e}")))?;
        match tokio::time::timeout(SEND_TIMEOUT, self.transport.send_raw(&envelope, message)).await
        {
            Ok(Ok(response)) => Ok(response.message().collect::<Vec<_>>().join(" ")),
            Ok(Err(e)) => Err(MailError::Smtp(self.scrub(e.to_string()))),
            Err(_) => Err(MailError::Smtp(format!(
                "no answer from {} within {SEND_TIMEOUT:?}",
                self.relay
            ))),
        }
    }

    fn scrub(&self, text: String) -> String {
        match &self.password {
            Some(Password(p)) if !p.is_empty() && text.contains(p.as_str()) => {
                text.replace(p.as_str(), "***")
            }
            _ => text,
        }
    }
}

/// TLS for `host` (its certificate must name it), trusting the built-in roots and the
/// certificates of `ca_file`.
fn tls_parameters(host: &str, ca_file: Option<PathBuf>) -> Result<TlsParameters, MailError> {
    let mut builder = TlsParameters::builder(host.to_string());
    if let Some(path) = ca_file {
        let unreadable = |reason: String| MailError::CaFile {
            path: path.clone(),
            reason,
        };
        let pem = std::fs::read(&path).map_err(|e| unreadable(e.to_string()))?;
        if !pem
            .windows(b"-----BEGIN CERTIFICATE-----".len())
            .any(|w| w == b"-----BEGIN CERTIFICATE-----")
        {
            return Err(unreadable("no PEM certificate in it".into()));
        }
        let certificate = Certificate::from_pem(&pem).map_err(|e| unreadable(e.to_string()))?;
        builder = builder.add_root_certificate(certificate);
    }
    builder
        .build_rustls()
        .map_err(|e| MailError::Config(format!("TLS set-up failed: {e}")))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

    use super::*;

    fn settings(security: SmtpSecurity) -> SmtpSettings {
        SmtpSettings {
            host: "smtp.example.com".into(),
            port: security.default_port(),
            security,
            login: Some(SmtpLogin {
                username: "warden".into(),
                password: Password::new("hunter2-secret".into()),
            }),
            ca_file: None,
        }
    }

    #[test]
    fn debug_output_never_shows_the_password() {
        let settings = settings(SmtpSecurity::StartTls);
        let shown = format!("{settings:?}");
        assert!(
            shown.contains("warden") && shown.contains("Password(***)"),
            "{shown}"
        );
        assert!(!shown.contains("hunter2"), "{shown}");
        let mailer = SmtpMailer::new(settings).unwrap();
        let shown = format!(
            "{mailer:?} {:?}",
            super::super::Mailer::Smtp(mailer.clone())
        );
        assert!(shown.contains("smtp.example.com:587 (starttls)"), "{shown}");
        assert!(!shown.contains("hunter2"), "{shown}");
        assert_eq!(
            mailer.scrub("535 hunter2-secret refused".into()),
            "535 *** refused"
        );
    }

    #[test]
    fn settings_that_would_leak_or_mislead_are_refused() {
        let plain = settings(SmtpSecurity::None);
        let e = SmtpMailer::new(plain.clone()).unwrap_err().to_string();
        assert!(e.contains("only sent over TLS"), "{e}");
        assert!(!e.contains("hunter2"), "{e}");
        let with_ca = SmtpSettings {
            login: None,
            ca_file: Some("/nonexistent/ca.pem".into()),
            ..plain.clone()
        };
        let e = SmtpMailer::new(with_ca).unwrap_err().to_string();
        assert!(e.contains("CA file"), "{e}");
        let e = SmtpMailer::new(SmtpSettings {
            host: " ".into(),
            login: None,
            ..plain.clone()
        })
        .unwrap_err()
        .to_string();
        assert!(e.contains("host is empty"), "{e}");
        let mailer = SmtpMailer::new(SmtpSettings {
            login: None,
            ..plain
        })
        .unwrap();
        assert_eq!(mailer.relay(), "smtp.example.com:25 (none)");
    }

    #[test]
    fn a_ca_file_must_hold_a_certificate() {
        let dir = tempfile::tempdir().unwrap();
        let missing = dir.path().join("missing.pem");
        let empty = dir.path().join("empty.pem");
        std::fs::write(&empty, "not a certificate\n").unwrap();
        for (path, expected) in [(missing, "cannot read"), (empty, "no PEM certificate")] {
            let e = SmtpMailer::new(SmtpSettings {
                ca_file: Some(path.clone()),
                ..settings(SmtpSecurity::Tls)
            })
            .unwrap_err()
            .to_string();
            assert!(e.contains(expected), "{e}");
            assert!(e.contains(path.to_str().unwrap()), "{e}");
        }
    }
}
