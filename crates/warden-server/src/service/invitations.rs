//! Invitations as the service carries them out: the links (made here, since the core has no
//! randomness and no keys), the password set on accepting, and the calls of the API.
//!
//! A link's secret is `wdn_inv_<org>_<51 base32 characters>`: an HMAC-SHA256, under the
//! server's **link key**, of the organization and a random nonce stored with the invitation.
//! The database keeps the nonce and the SHA-256 of the secret, never the secret: reading the
//! database does not open an invitation, and the server (holding the key) can show the link
//! again ("Copy link") or write it into the email when the outbox delivers it. Servers that
//! share a database must share the key (`--link-key-file`); a server with another key
//! refuses to show a link rather than show a wrong one.

use std::path::Path;
use std::sync::Arc;

use hmac::{Hmac, Mac};
use sha2::Sha256;
use warden_core::command::Key;
use warden_core::command::{InvitationCommand, InvitationLink, Offer};
use warden_core::{token, Actor, DomainError, Invitation, InvitationId, OrgId, Timestamp};

use super::context::{now, random_base32, random_bytes};
use super::{Caller, Service, ServiceError, Written};

const LINK_PREFIX: &str = "wdn_inv_";
pub(crate) const RESET_PREFIX: &str = "wdn_rst_";
/// Characters of the HMAC in a link secret (5 bits each: 255 of its 256 bits).
const LINK_MAC_CHARS: usize = 51;

/// The key invitation links are made with. `Debug` does not print it.
#[derive(Clone)]
pub struct LinkKey([u8; 32]);

impl std::fmt::Debug for LinkKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("LinkKey(..)")
    }
}

impl LinkKey {
    /// A fresh random key (a server alone, or a test).
    pub fn random() -> LinkKey {
        LinkKey(random_bytes())
    }

    /// The key in `path` (64 hex digits), created with mode 0600 if the file does not exist.
    pub fn load_or_create(path: &Path) -> std::io::Result<LinkKey> {
        match std::fs::read_to_string(path) {
            Ok(text) => LinkKey::from_hex(text.trim()).ok_or_else(|| {
                std::io::Error::new(
                    std::io::ErrorKind::InvalidData,
                    format!("{} does not hold 64 hex digits", path.display()),
                )
            }),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                let key = LinkKey::random();
                if let Some(dir) = path.parent() {
                    std::fs::create_dir_all(dir)?;
                }
                write_private(path, &token::to_hex(&key.0))?;
                Ok(key)
            }
            Err(e) => Err(e),
        }
    }

    fn from_hex(text: &str) -> Option<LinkKey> {
        if text.len() != 64 {
            return None;
        }
        let mut key = [0u8; 32];
        for (i, byte) in key.iter_mut().enumerate() {
            *byte = u8::from_str_radix(text.get(2 * i..2 * i + 2)?, 16).ok()?;
        }
        Some(LinkKey(key))
    }

    /// The secret of the invitation link with `nonce` in `org`.
    pub fn secret(&self, org: &OrgId, nonce: &str) -> String {
        self.link_secret(LINK_PREFIX, "warden invitation link", org, nonce)
    }

    /// The secret of the password reset link with `nonce` in `org`.
    pub fn reset_secret(&self, org: &OrgId, nonce: &str) -> String {
        self.link_secret(RESET_PREFIX, "warden password reset link", org, nonce)
    }

    fn link_secret(&self, prefix: &str, label: &str, org: &OrgId, nonce: &str) -> String {
        let mac = self.mac(&[label.as_bytes(), org.as_str().as_bytes(), nonce.as_bytes()]);
        let mut out = format!("{prefix}{org}_");
        out.push_str(&base32(&mac, LINK_MAC_CHARS));
        out
    }

    /// HMAC-SHA256 of the parts, each followed by a NUL (no part holds one).
    pub fn mac(&self, parts: &[&[u8]]) -> [u8; 32] {
        match <Hmac<Sha256> as Mac>::new_from_slice(&self.0) {
            Ok(mut mac) => {
                for part in parts {
                    mac.update(part);
                    mac.update(b"\0");
                }
                mac.finalize().into_bytes().into()
            }
            // HMAC takes a key of any length: this cannot happen.
            Err(_) => [0; 32],
        }
    }
}

#[cfg(unix)]
fn write_private(path: &Path, text: &str) -> std::io::Result<()> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)?;
    file.write_all(text.as_bytes())
}

#[cfg(not(unix))]
fn write_private(path: &Path, text: &str) -> std::io::Result<()> {
    std::fs::write(path, text)
}

fn base32(bytes: &[u8], chars: usize) -> String {
    const ALPHABET: &[u8; 32] = b"abcdefghijklmnopqrstuvwxyz234567";
    let mut out = String::with_capacity(chars);
    let (mut buffer, mut bits) = (0u32, 0u32);
    for &b in bytes {
        buffer = (buffer << 8) | u32::from(b);
        bits += 8;
        while bits >= 5 && out.len() < chars {
            bits -= 5;
            let index = usize::try_from((buffer >> bits) & 31).unwrap_or(0);
            out.push(char::from(ALPHABET.get(index).copied().unwrap_or(b'a')));
        }
        buffer &= (1 << bits) - 1;
    }
    out
}

/// The organization an invitation link's secret names, if it has the shape of one.
pub fn org_of_link(secret: &str) -> Option<OrgId> {
    org_of(LINK_PREFIX, secret)
}

/// The organization a link secret with `prefix` names, if it has the shape of one.
pub(crate) fn org_of(prefix: &str, secret: &str) -> Option<OrgId> {
    let rest = secret.strip_prefix(prefix)?;
    let (org, mac) = rest.split_once('_')?;
    let well_formed = warden_core::command::is_org_id(org)
        && mac.len() == LINK_MAC_CHARS
        && mac
            .bytes()
            .all(|b| b.is_ascii_lowercase() || (b'2'..=b'7').contains(&b));
    well_formed.then(|| OrgId::from(org))
}

/// An invitation's link, for the API and the email: `<public URL>/invitations/accept#<secret>`
/// (the secret in the fragment, which browsers never send to a server or a log).
pub fn link_url(public_url: &str, secret: &str) -> String {
    format!(
        "{}/invitations/accept#{secret}",
        public_url.trim_end_matches('/')
    )
}

/// The rules a password follows.
pub const MIN_PASSWORD_CHARS: usize = 10;
pub const MAX_PASSWORD_BYTES: usize = 1024;

/// Hashes a password with argon2id (OWASP's parameters: 19 MiB, 2 passes) on the blocking
/// pool: a hash takes tens of milliseconds of CPU that must not stall the async runtime.
pub async fn hash_password(password: String) -> Result<String, ServiceError> {
    tokio::task::spawn_blocking(move || {
        use argon2::password_hash::{PasswordHasher, SaltString};
        let salt = SaltString::encode_b64(&random_bytes::<16>())
            .map_err(|e| ServiceError::Internal(format!("salt: {e}")))?;
        argon2::Argon2::default()
            .hash_password(password.as_bytes(), &salt)
            .map(|hash| hash.to_string())
            .map_err(|e| ServiceError::Internal(format!("password hash: {e}")))
    })
    .await
    .map_err(|e| ServiceError::Internal(format!("password hashing task: {e}")))?
}

/// Whether `password` matches the PHC string `hash` (on the blocking pool).
pub async fn verify_password(password: String, hash: String) -> bool {
    tokio::task::spawn_blocking(move || {
        use argon2::password_hash::{PasswordHash, PasswordVerifier};
        PasswordHash::new(&hash).is_ok_and(|parsed| {
            argon2::Argon2::default()
                .verify_password(password.as_bytes(), &parsed)
                .is_ok()
        })
    })
    .await
    .unwrap_or(false)
}

/// Checks a new password: long enough, not absurdly long, no control characters.
pub fn check_password(password: &str) -> Result<(), DomainError> {
    if password.chars().count() < MIN_PASSWORD_CHARS {
        return Err(DomainError::invalid(
            "password",
            format!("must be at least {MIN_PASSWORD_CHARS} characters"),
        ));
    }
    if password.len() > MAX_PASSWORD_BYTES {
        return Err(DomainError::invalid(
            "password",
            format!("must be at most {MAX_PASSWORD_BYTES} bytes"),
        ));
    }
    if password.chars().any(char::is_control) {
        return Err(DomainError::invalid(
            "password",
            "must not contain control characters",
        ));
    }
    Ok(())
}

/// What accepting an invitation gives back.
#[derive(Debug, Clone)]
pub struct Accepted {
    pub org: OrgId,
    pub written: Written,
}

impl Service {
    /// A new link for an invitation of `org`: its nonce and hash, and the secret.
    fn new_link(&self, org: &OrgId) -> (InvitationLink, String) {
        let nonce = random_base32(26);
        let secret = self.settings.link_key.secret(org, &nonce);
        let secret_hash = token::to_hex(&token::hash_secret(&secret));
        (InvitationLink { nonce, secret_hash }, secret)
    }

    fn invitation_expiry(&self) -> Timestamp {
        let ttl = i64::try_from(self.settings.invitation_ttl.as_millis()).unwrap_or(i64::MAX);
        Timestamp(now().0.saturating_add(ttl))
    }

    /// The URL of an invitation's link.
    pub fn invitation_url(&self, secret: &str) -> String {
        link_url(&self.settings.public_url, secret)
    }

    /// Invites `email` into `org` (an API caller, or an operator): returns the write and the
    /// link's URL.
    pub async fn invite(
        self: &Arc<Self>,
        org: &OrgId,
        actor: &Actor,
        caller: Option<&Caller>,
        email: String,
        offer: Offer,
    ) -> Result<(Written, String), ServiceError> {
        let (link, secret) = self.new_link(org);
        let command = InvitationCommand::Create {
            email,
            offer,
            link,
            expires_at: self.invitation_expiry(),
        };
        let written = match caller {
            Some(caller) => self.execute_for(caller, command.into()).await?,
            None => self.execute(org, actor, command.into()).await?,
        };
        Ok((written, self.invitation_url(&secret)))
    }

    /// Sends an invitation again with a new link (the old one dies) and a new expiry.
    pub async fn resend_invitation(
        self: &Arc<Self>,
        caller: &Caller,
        invitation: Key,
    ) -> Result<(Written, String), ServiceError> {
        let (link, secret) = self.new_link(&caller.org);
        let command = InvitationCommand::Resend {
            invitation,
            link,
            expires_at: self.invitation_expiry(),
        };
        let written = self.execute_for(caller, command.into()).await?;
        Ok((written, self.invitation_url(&secret)))
    }

    /// The link of a pending invitation, made again from its nonce ("Copy link").
    pub fn invitation_link(
        &self,
        org: &OrgId,
        invitation: &Invitation,
    ) -> Result<String, ServiceError> {
        if !invitation.is_open(now()) {
            return Err(DomainError::InvitationNotPending {
                id: invitation.id.to_string(),
                status: invitation.status_at(now()),
            }
            .into());
        }
        let secret = self.settings.link_key.secret(org, &invitation.nonce);
        if token::to_hex(&token::hash_secret(&secret)) != invitation.secret_hash {
            return Err(ServiceError::Internal(
                "this server's link key differs from the one that made the invitation's link \
                 (servers sharing a database must share --link-key-file); resend the invitation"
                    .to_string(),
            ));
        }
        Ok(self.invitation_url(&secret))
    }

    /// The pending invitation a link secret opens, for the accept page: its organization's
    /// name and the invitation. Refusals are those of accepting, so the page says at once
    /// what accepting would.
    pub async fn invitation_of_link(
        &self,
        secret: &str,
    ) -> Result<(String, Invitation), ServiceError> {
        let (compiled, invitation) = self.find_invitation(secret).await?;
        match invitation.status {
            warden_core::InvitationStatus::Revoked => Err(DomainError::InvitationRevoked.into()),
            warden_core::InvitationStatus::Accepted => Err(DomainError::InvitationAccepted.into()),
            _ if invitation.expires_at <= now() => Err(DomainError::InvitationExpired.into()),
            _ => Ok((compiled.state().org.name.clone(), invitation)),
        }
    }

    async fn find_invitation(
        &self,
        secret: &str,
    ) -> Result<(Arc<super::CompiledOrg>, Invitation), ServiceError> {
        let org = org_of_link(secret).ok_or(DomainError::InvitationLinkInvalid)?;
        let compiled = match self.compiled(&org) {
            Some(compiled) => compiled,
            None => self
                .load_on_demand(&org)
                .await?
                .ok_or(DomainError::InvitationLinkInvalid)?,
        };
        let hash = token::to_hex(&token::hash_secret(secret));
        let invitation = compiled
            .state()
            .invitations
            .values()
            .find(|i| i.secret_hash == hash)
            .cloned()
            .ok_or(DomainError::InvitationLinkInvalid)?;
        Ok((compiled, invitation))
    }

    /// Accepts the invitation a link secret opens: creates the user with what it records and
    /// their password, in one commit.
    pub async fn accept_invitation(
        self: &Arc<Self>,
        secret: &str,
        first_name: String,
        last_name: String,
        password: String,
    ) -> Result<Accepted, ServiceError> {
        check_password(&password)?;
        let (compiled, invitation) = self.find_invitation(secret).await?;
        let org = compiled.state().org.id.clone();
        let password_hash = hash_password(password).await?;
        let id: InvitationId = invitation.id.clone();
        let command = InvitationCommand::Accept {
            invitation: id.clone(),
            secret_hash: invitation.secret_hash.clone(),
            first_name,
            last_name,
        };
        let written = self
            .execute_with_password(&org, &Actor::Invitee(id), command.into(), password_hash)
            .await?;
        Ok(Accepted { org, written })
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

    use super::*;

    #[test]
    fn a_link_names_its_organization_and_depends_on_key_and_nonce() {
        let key = LinkKey::random();
        let org = OrgId::from("abc123");
        let secret = key.secret(&org, "nonce1");
        assert_eq!(org_of_link(&secret), Some(org.clone()));
        assert_eq!(secret, key.secret(&org, "nonce1"));
        assert_ne!(secret, key.secret(&org, "nonce2"));
        assert_ne!(secret, LinkKey::random().secret(&org, "nonce1"));
        assert_eq!(org_of_link("wdn_inv_abc123_short"), None);
        assert_eq!(org_of_link(&secret.replace("abc123", "ABC123")), None);
    }

    #[test]
    fn a_key_file_is_created_private_and_read_back() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("link.key");
        let key = LinkKey::load_or_create(&path).unwrap();
        let again = LinkKey::load_or_create(&path).unwrap();
        let org = OrgId::from("abc123");
        assert_eq!(key.secret(&org, "n"), again.secret(&org, "n"));
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&path).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        assert!(format!("{key:?}").contains(".."));
    }

    #[tokio::test]
    async fn passwords_are_hashed_with_argon2id_and_verified() {
        let hash = hash_password("correct horse battery".into()).await.unwrap();
        assert!(hash.starts_with("$argon2id$"), "{hash}");
        assert!(verify_password("correct horse battery".into(), hash.clone()).await);
        assert!(!verify_password("wrong horse battery".into(), hash).await);
        assert!(check_password("short").is_err());
        assert!(check_password("long enough\u{7}!").is_err());
        check_password("long enough password").unwrap();
    }
}
