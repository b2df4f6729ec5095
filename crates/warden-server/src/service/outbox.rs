//! Carrying out the side effects commits asked for ([`Effect`]s in the outbox).
//!
//! A worker claims due items, delivers each, and marks it delivered; a failure is retried
//! with a back-off. Delivery is at least once, made idempotent by the item's id: without SMTP
//! an email is written to the mail directory as `<id>.eml` (a retry after a crash rewrites the
//! same file); over SMTP (`smtp.rs`) a crash after the relay accepted a message but before it
//! was marked delivered sends it again, byte for byte the same, with the same Message-ID
//! (`<id@warden>`), by which mail systems drop a duplicate.

use std::fmt;
use std::path::{Path, PathBuf};
use std::str::FromStr;

use lettre::message::Mailbox;
use lettre::Address;
use warden_core::{Effect, Timestamp};
use warden_store::OutboxItem;

use super::context::{now, random_base32};
use super::smtp::{SmtpMailer, SEND_TIMEOUT};
use super::{Service, ServiceError};

/// How long a claim lasts before another worker may take the item over.
const LEASE_MS: i64 = 60_000;
/// Items claimed per round.
const BATCH: u32 = 50;
/// The longest wait before retrying a failed delivery.
const MAX_BACKOFF_MS: i64 = 3_600_000;

/// Where emails go.
#[derive(Debug, Clone)]
pub enum Mailer {
    /// Each message is written as an RFC 5322 `.eml` file into this directory (no SMTP
    /// server configured).
    Directory(PathBuf),
    /// Each message is sent through an SMTP relay.
    Smtp(SmtpMailer),
}

/// Why an email could not be sent, or a mailer not set up.
#[derive(Debug, thiserror::Error)]
pub enum MailError {
    #[error("cannot write the email: {0}")]
    Io(#[from] std::io::Error),
    #[error("invalid sender `{0}`: expected `Name <address>` or `address`")]
    Sender(String),
    #[error("invalid recipient {0}")]
    Recipient(String),
    #[error("{0}")]
    Config(String),
    #[error("cannot read the CA file {path}: {reason}")]
    CaFile { path: PathBuf, reason: String },
    #[error("SMTP: {0}")]
    Smtp(String),
}

/// Who Warden's emails are from: the `From:` header, and over SMTP the envelope's sender.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MailFrom(Mailbox);

impl MailFrom {
    pub fn address(&self) -> &Address {
        &self.0.email
    }

    /// The `From:` header's value: a display name that is not ASCII is encoded (RFC 2047).
    fn header(&self) -> String {
        match self.0.name.as_deref().map(str::trim) {
            Some(name) if !name.is_empty() && !name.is_ascii() => {
                format!("=?UTF-8?B?{}?= <{}>", base64(name.as_bytes()), self.0.email)
            }
            _ => self.0.to_string(),
        }
    }
}

/// `Warden <warden@localhost>`, what the `.eml` files say without a configured sender.
impl Default for MailFrom {
    fn default() -> MailFrom {
        // A constant address known to be valid: nothing to check.
        MailFrom(Mailbox::new(
            Some("Warden".into()),
            Address::new_dangerous("warden", "localhost"),
        ))
    }
}

impl FromStr for MailFrom {
    type Err = MailError;

    /// `Name <address>`, `"Name" <address>` or `address`.
    fn from_str(text: &str) -> Result<MailFrom, MailError> {
        let invalid = || MailError::Sender(text.chars().take(200).collect());
        if text.chars().any(char::is_control) {
            return Err(invalid());
        }
        Mailbox::from_str(text.trim())
            .map(MailFrom)
            .map_err(|_| invalid())
    }
}

impl fmt::Display for MailFrom {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

/// An email as Warden sends it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Email {
    pub to: String,
    pub subject: String,
    pub body: String,
}

impl Email {
    /// The message in RFC 5322 form from `Warden <warden@localhost>` (see [`Email::render_from`]).
    pub fn render(&self, message_id: &str, date: Timestamp) -> String {
        self.render_from(&MailFrom::default(), message_id, date)
    }

    /// The message in RFC 5322 form, UTF-8 body, the subject encoded when not ASCII, its
    /// Message-ID `<message_id@warden>`: the same item renders the same bytes every time.
    pub fn render_from(&self, from: &MailFrom, message_id: &str, date: Timestamp) -> String {
        let subject = if self.subject.is_ascii() {
            self.subject.clone()
        } else {
            format!("=?UTF-8?B?{}?=", base64(self.subject.as_bytes()))
        };
        let mut body = self.body.replace("\r\n", "\n").replace('\n', "\r\n");
        if !body.ends_with("\r\n") {
            body.push_str("\r\n");
        }
        format!(
            "From: {from}\r\nTo: <{to}>\r\nSubject: {subject}\r\n\
             Date: {date}\r\nMessage-ID: <{message_id}@warden>\r\nMIME-Version: 1.0\r\n\
             Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\
             \r\n{body}",
            from = from.header(),
            to = self.to,
            date = date.rfc5322(),
        )
    }
}

fn base64(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let b = [
            chunk.first().copied().unwrap_or(0),
            chunk.get(1).copied().unwrap_or(0),
            chunk.get(2).copied().unwrap_or(0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for (i, shift) in [18u32, 12, 6, 0].into_iter().enumerate() {
            if i <= chunk.len() {
                let index = usize::try_from((n >> shift) & 63).unwrap_or(0);
                out.push(char::from(ALPHABET.get(index).copied().unwrap_or(b'A')));
            } else {
                out.push('=');
            }
        }
    }
    out
}

/// The email an effect sends; `link` is the link of a `SendInvitation` or a
/// `SendPasswordReset` (made by the service, which holds the link key).
pub fn email_of(effect: &Effect, link: &str) -> Email {
    match effect {
        Effect::SendPasswordReset {
            org_id,
            org_name,
            email,
            expires_at,
            welcome: true,
            ..
        } => Email {
            to: email.clone(),
            subject: format!("Your organization {org_name} is ready on Warden"),
            body: format!(
                "Hello,\n\nThe organization {org_name} ({org_id}) was created on Warden, with you \
                 as its first administrator. To choose your password, open this link:\n\n\
                 {link}\n\nThen sign in with this email address. The link works once, until \
                 {expires}. If you did not expect this, ignore this email.\n",
                expires = expires_at.rfc3339(),
            ),
        },
        Effect::SendPasswordReset {
            org_name,
            email,
            expires_at,
            ..
        } => Email {
            to: email.clone(),
            subject: format!("Reset your Warden password for {org_name}"),
            body: format!(
                "Hello,\n\nSomeone (we hope you) asked to reset the password of your account in \
                 {org_name}. To choose a new one, open this link:\n\n{link}\n\nThe link works \
                 once, until {expires}. If you did not ask for this, ignore this email: your \
                 password stays as it is.\n",
                expires = expires_at.rfc3339(),
            ),
        },
        Effect::SendInvitation {
            org_id,
            org_name,
            email,
            invited_by,
            expires_at,
            ..
        } => Email {
            to: email.clone(),
            subject: format!("You are invited to join {org_name} on Warden"),
            body: format!(
                "Hello,\n\n{invited_by} invited you to join the organization {org_name} \
                 ({org_id}).\n\nTo accept, open this link and choose your name and password:\n\n\
                 {link}\n\nThe link works once, until {expires}. If you did not expect this \
                 invitation, ignore this email.\n",
                expires = expires_at.rfc3339(),
            ),
        },
        Effect::NotifyTokenCreated {
            org_id,
            org_name,
            email,
            first_name,
            token_id,
            token_name,
            created_by,
            created_at,
            expires_at,
        } => {
            let greeting = match first_name.trim() {
                "" => "Hello,".to_string(),
                name => format!("Hello {name},"),
            };
            let name = if token_name.is_empty() {
                String::from("(no name)")
            } else {
                format!("\"{token_name}\"")
            };
            let expires = expires_at.map_or_else(
                || "It never expires.".to_string(),
                |at| format!("It expires on {}.", at.rfc3339()),
            );
            Email {
                to: email.clone(),
                subject: format!("A new access token for your account in {org_name}"),
                body: format!(
                    "{greeting}\n\nA personal access token {name} ({token_id}) was created for \
                     your account in the organization {org_name} ({org_id}) on {created} by \
                     {created_by}. {expires}\n\nIf you did not expect this, revoke it with \
                     `warden tokens delete {token_id}` and tell your organization's admins.\n",
                    created = created_at.rfc3339(),
                ),
            }
        }
    }
}

impl Mailer {
    /// Delivers the email of outbox item `id`; returns where it went, for the log.
    async fn send(
        &self,
        from: &MailFrom,
        id: &str,
        email: &Email,
        date: Timestamp,
    ) -> Result<String, MailError> {
        let message = email.render_from(from, id, date);
        match self {
            Mailer::Directory(dir) => {
                write_eml(dir, id, &message).await?;
                Ok(format!("{}", dir.join(format!("{id}.eml")).display()))
            }
            Mailer::Smtp(smtp) => {
                let reply = smtp.send(from, &email.to, message.as_bytes()).await?;
                Ok(format!("{} said: {reply}", smtp.relay()))
            }
        }
    }
}

/// Writes `<dir>/<id>.eml` atomically: a temporary file renamed into place, so a reader
/// never sees half a message and a retry replaces, never duplicates.
async fn write_eml(dir: &Path, id: &str, message: &str) -> std::io::Result<()> {
    tokio::fs::create_dir_all(dir).await?;
    let tmp = dir.join(format!(".{id}.{}.tmp", random_base32(8)));
    tokio::fs::write(&tmp, message.as_bytes()).await?;
    tokio::fs::rename(&tmp, dir.join(format!("{id}.eml"))).await
}

impl Service {
    /// The link an effect's email carries (an invitation's or a password reset's; empty for
    /// other effects), made from its nonce and checked against its hash: a server with another
    /// link key refuses.
    fn link_of(&self, effect: &Effect) -> Result<String, String> {
        let (secret, secret_hash, url): (String, &String, fn(&Service, &str) -> String) =
            match effect {
                Effect::SendInvitation {
                    org_id,
                    nonce,
                    secret_hash,
                    ..
                } => (
                    self.settings.link_key.secret(org_id, nonce),
                    secret_hash,
                    Service::invitation_url,
                ),
                Effect::SendPasswordReset {
                    org_id,
                    nonce,
                    secret_hash,
                    welcome,
                    ..
                } => (
                    self.settings.link_key.reset_secret(org_id, nonce),
                    secret_hash,
                    if *welcome {
                        Service::first_password_url
                    } else {
                        Service::password_reset_url
                    },
                ),
                _ => return Ok(String::new()),
            };
        if warden_core::token::to_hex(&warden_core::token::hash_secret(&secret)) != *secret_hash {
            return Err(
                "this server's link key differs from the one that made the link \
                        (servers sharing a database must share --link-key-file)"
                    .to_string(),
            );
        }
        Ok(url(self, &secret))
    }

    /// Delivers the due outbox items once; returns how many were delivered.
    ///
    /// Items are claimed for [`LEASE_MS`] and sent one after the other; an item is sent only
    /// while its claim has a whole [`SEND_TIMEOUT`] left, so a worker never sends an item
    /// another worker may have taken over. What is left waits for its claim to run out.
    pub async fn deliver_outbox(&self) -> Result<usize, ServiceError> {
        let Some(mailer) = &self.settings.mailer else {
            return Ok(0);
        };
        let claimed_at = now();
        let items = self
            .store
            .claim_outbox(&self.worker_id, claimed_at, LEASE_MS, BATCH)
            .await?;
        let send_ms = i64::try_from(SEND_TIMEOUT.as_millis()).unwrap_or(i64::MAX);
        let last_start = claimed_at
            .0
            .saturating_add(LEASE_MS)
            .saturating_sub(send_ms);
        let mut delivered = 0;
        for (sent, item) in items.iter().enumerate() {
            if now().0 > last_start {
                tracing::info!(
                    left = items.len() - sent,
                    "the outbox claim is running out; the rest waits for the next round"
                );
                break;
            }
            // One item's trouble (the store refusing its mark, say) does not stop the others;
            // an unmarked item is claimed again when its lease runs out.
            match self.deliver(mailer, item).await {
                Ok(true) => delivered += 1,
                Ok(false) => {}
                Err(e) => tracing::warn!(effect = %item.id, error = %e, "outbox item not settled"),
            }
        }
        Ok(delivered)
    }

    async fn deliver(&self, mailer: &Mailer, item: &OutboxItem) -> Result<bool, ServiceError> {
        let link = match self.link_of(&item.effect) {
            Ok(link) => link,
            Err(e) => {
                // Another server (with the right key) may deliver it; this one retries later.
                self.store
                    .outbox_failed(
                        &item.id,
                        &self.worker_id,
                        &e,
                        Timestamp(now().0 + MAX_BACKOFF_MS),
                    )
                    .await?;
                tracing::warn!(effect = %item.id, error = %e, "email not sent");
                return Ok(false);
            }
        };
        let email = email_of(&item.effect, &link);
        let from = &self.settings.mail_from;
        match mailer.send(from, &item.id, &email, item.created_at).await {
            Ok(to) => {
                tracing::info!(effect = %item.id, to = %email.to, via = %to, "email delivered");
                Ok(self
                    .store
                    .outbox_delivered(&item.id, &self.worker_id, now())
                    .await?)
            }
            Err(e) => {
                let attempts = u32::try_from(item.attempts.min(20)).unwrap_or(20);
                let backoff = 1_000i64
                    .saturating_mul(1i64 << attempts.min(12))
                    .min(MAX_BACKOFF_MS);
                // Recorded first, then logged: once the log says "will retry", the retry is
                // scheduled and the claim released, so a crash right after it does not leave
                // the item waiting for its claim to run out.
                let recorded = self
                    .store
                    .outbox_failed(
                        &item.id,
                        &self.worker_id,
                        &e.to_string(),
                        Timestamp(now().0.saturating_add(backoff)),
                    )
                    .await;
                tracing::warn!(
                    effect = %item.id,
                    error = %e,
                    retry_in_s = backoff / 1_000,
                    "email delivery failed; will retry"
                );
                let _still_ours = recorded?;
                Ok(false)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

    use super::*;

    #[test]
    fn base64_matches_the_rfc_4648_vectors() {
        for (input, output) in [
            ("", ""),
            ("f", "Zg=="),
            ("fo", "Zm8="),
            ("foo", "Zm9v"),
            ("foob", "Zm9vYg=="),
            ("fooba", "Zm9vYmE="),
            ("foobar", "Zm9vYmFy"),
        ] {
            assert_eq!(base64(input.as_bytes()), output);
        }
    }

    #[test]
    fn a_message_has_crlf_lines_and_an_encoded_subject() {
        let email = Email {
            to: "ada@example.com".into(),
            subject: "Café".into(),
            body: "line one\nline two".into(),
        };
        let text = email.render("eff_1", Timestamp(0));
        assert!(text.contains("Subject: =?UTF-8?B?Q2Fmw6k=?=\r\n"));
        assert!(text.contains("Message-ID: <eff_1@warden>\r\n"));
        assert!(text.ends_with("\r\n\r\nline one\r\nline two\r\n"));
        assert!(!text.replace("\r\n", "").contains('\n'));
    }

    #[test]
    fn a_sender_is_a_mailbox_and_its_header_is_ascii() {
        let plain: MailFrom = "warden@example.com".parse().unwrap();
        assert_eq!(plain.header(), "warden@example.com");
        let named: MailFrom = " Acme IAM <iam@acme.example> ".parse().unwrap();
        assert_eq!(named.header(), "Acme IAM <iam@acme.example>");
        assert_eq!(named.address().to_string(), "iam@acme.example");
        let quoted: MailFrom = "\"Acme, Inc.\" <iam@acme.example>".parse().unwrap();
        assert_eq!(quoted.header(), "\"Acme, Inc.\" <iam@acme.example>");
        let accented: MailFrom = "Café <cafe@example.com>".parse().unwrap();
        assert_eq!(accented.header(), "=?UTF-8?B?Q2Fmw6k=?= <cafe@example.com>");
        for bad in [
            "",
            "warden",
            "Warden <warden>",
            "Warden <w@example.com>\r\nBcc: x@example.com",
            "a@b.example, c@d.example",
        ] {
            assert!(bad.parse::<MailFrom>().is_err(), "{bad:?} was accepted");
        }
        let email = Email {
            to: "ada@example.com".into(),
            subject: "Hi".into(),
            body: "x".into(),
        };
        let text = email.render_from(&named, "eff_2", Timestamp(0));
        assert!(text.starts_with("From: Acme IAM <iam@acme.example>\r\nTo: <ada@example.com>\r\n"));
        // The default sender is what `.eml` files always said.
        assert!(email
            .render("eff_2", Timestamp(0))
            .starts_with("From: Warden <warden@localhost>\r\n"));
    }
}
