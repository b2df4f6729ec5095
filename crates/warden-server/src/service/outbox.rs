//! Carrying out the side effects commits asked for ([`Effect`]s in the outbox).
//!
//! A worker claims due items, delivers each, and marks it delivered; a failure is retried
//! with a back-off. Delivery is idempotent by the item's id: an email is written to the mail
//! directory as `<id>.eml` (a retry after a crash rewrites the same file), and carries the
//! id in its Message-ID, so a mail system can drop a duplicate.

use std::path::{Path, PathBuf};

use warden_core::{Effect, Timestamp};
use warden_store::OutboxItem;

use super::context::{now, random_base32};
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
}

/// An email as Warden sends it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Email {
    pub to: String,
    pub subject: String,
    pub body: String,
}

impl Email {
    /// The message in RFC 5322 form, UTF-8 body, the subject encoded when not ASCII.
    pub fn render(&self, message_id: &str, date: Timestamp) -> String {
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
            "From: Warden <warden@localhost>\r\nTo: <{to}>\r\nSubject: {subject}\r\n\
             Date: {date}\r\nMessage-ID: <{message_id}@warden>\r\nMIME-Version: 1.0\r\n\
             Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\
             \r\n{body}",
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
    async fn send(&self, id: &str, email: &Email, date: Timestamp) -> std::io::Result<()> {
        match self {
            Mailer::Directory(dir) => write_eml(dir, id, &email.render(id, date)).await,
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
    /// The invitation link an effect's email carries (empty for other effects), made from
    /// its nonce and checked against its hash: a server with another link key refuses.
    fn link_of(&self, effect: &Effect) -> Result<String, String> {
        let Effect::SendInvitation {
            org_id,
            nonce,
            secret_hash,
            ..
        } = effect
        else {
            return Ok(String::new());
        };
        let secret = self.settings.link_key.secret(org_id, nonce);
        if warden_core::token::to_hex(&warden_core::token::hash_secret(&secret)) != *secret_hash {
            return Err(
                "this server's link key differs from the one that made the invitation \
                        (servers sharing a database must share --link-key-file)"
                    .to_string(),
            );
        }
        Ok(self.invitation_url(&secret))
    }

    /// Delivers the due outbox items once; returns how many were delivered.
    pub async fn deliver_outbox(&self) -> Result<usize, ServiceError> {
        let Some(mailer) = &self.settings.mailer else {
            return Ok(0);
        };
        let items = self
            .store
            .claim_outbox(&self.worker_id, now(), LEASE_MS, BATCH)
            .await?;
        let mut delivered = 0;
        for item in items {
            // One item's trouble (the store refusing its mark, say) does not stop the others;
            // an unmarked item is claimed again when its lease runs out.
            match self.deliver(mailer, &item).await {
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
        match mailer.send(&item.id, &email, item.created_at).await {
            Ok(()) => {
                tracing::info!(effect = %item.id, to = %email.to, "email delivered");
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
                tracing::warn!(effect = %item.id, error = %e, "email delivery failed; will retry");
                let _still_ours = self
                    .store
                    .outbox_failed(
                        &item.id,
                        &self.worker_id,
                        &e.to_string(),
                        Timestamp(now().0.saturating_add(backoff)),
                    )
                    .await?;
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
}
