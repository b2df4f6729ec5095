//! Sign-in for the console: email and password (argon2id, verified off the async runtime),
//! sessions held by an HttpOnly cookie, CSRF tokens for form posts, sign-out, password
//! change and password reset by email.
//!
//! Failed sign-ins are limited per account *from one address* and per address: an attacker
//! who guesses one account's password is stopped after a few tries without locking its owner
//! out from elsewhere, and one address cannot spray many accounts. Both limits answer 429
//! with `Retry-After`.

use std::net::IpAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use rustc_hash::FxHashMap;
use warden_core::{
    token, DomainError, Effect, OrgId, OrgState, Timestamp, User, UserId, UserStatus,
};
use warden_store::{NewPasswordReset, OutboxItem, PasswordReset, Session};

use super::context::{new_id, now, random_base32};
use super::invitations::{check_password, hash_password, verify_password, RESET_PREFIX};
use super::{CompiledOrg, Service, ServiceError};

/// The cookie holding a session's secret.
pub const SESSION_COOKIE: &str = "warden_session";

/// How failed sign-ins are limited.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SignInLimit {
    /// Failures allowed per account from one address within `window`.
    pub per_account: u32,
    /// Failures allowed per address (all accounts) within `window`.
    pub per_address: u32,
    pub window: Duration,
}

impl Default for SignInLimit {
    fn default() -> SignInLimit {
        SignInLimit {
            per_account: 5,
            per_address: 50,
            window: Duration::from_secs(15 * 60),
        }
    }
}

/// How long sessions last.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SessionLimits {
    /// A session unused this long ends.
    pub idle: Duration,
    /// A session ends this long after sign-in, used or not.
    pub absolute: Duration,
    /// How long a password reset link works.
    pub reset_ttl: Duration,
}

impl Default for SessionLimits {
    fn default() -> SessionLimits {
        SessionLimits {
            idle: Duration::from_secs(30 * 60),
            absolute: Duration::from_secs(12 * 3600),
            reset_ttl: Duration::from_secs(3600),
        }
    }
}

/// Failures counted in fixed windows, by key.
#[derive(Debug, Default)]
pub(super) struct FailureCounter {
    counts: Mutex<FxHashMap<String, (u32, Instant)>>,
}

/// Most keys tracked; past it, windows that ended are forgotten.
const MAX_KEYS: usize = 100_000;

impl FailureCounter {
    /// `Some(seconds to wait)` if `key` failed `limit` times within the current window.
    fn refused(&self, key: &str, limit: u32, window: Duration) -> Option<u64> {
        let counts = self.counts.lock().ok()?;
        let (count, start) = counts.get(key)?;
        let elapsed = start.elapsed();
        (elapsed < window && *count >= limit).then(|| (window - elapsed).as_secs().max(1))
    }

    fn failed(&self, key: String, window: Duration) {
        if let Ok(mut counts) = self.counts.lock() {
            if counts.len() >= MAX_KEYS {
                counts.retain(|_, (_, start)| start.elapsed() < window);
            }
            let entry = counts.entry(key).or_insert((0, Instant::now()));
            if entry.1.elapsed() >= window {
                *entry = (0, Instant::now());
            }
            entry.0 = entry.0.saturating_add(1);
        }
    }
}

/// A signed-in console user.
#[derive(Debug, Clone)]
pub struct SessionCaller {
    pub org: OrgId,
    pub user: UserId,
    /// Hex SHA-256 of the cookie's secret.
    pub secret_hash: String,
    pub csrf_token: String,
    pub expires_at: Timestamp,
    pub compiled: Arc<CompiledOrg>,
}

/// A new session: its cookie's secret (sent once, in `Set-Cookie`) and the caller.
#[derive(Debug)]
pub struct SignedIn {
    pub secret: String,
    pub session: SessionCaller,
}

fn millis(d: Duration) -> i64 {
    i64::try_from(d.as_millis()).unwrap_or(i64::MAX)
}

impl Service {
    /// The CSRF token of a session: an HMAC of its secret, so it needs no storage and is
    /// worthless without the cookie.
    fn csrf_token(&self, secret: &str) -> String {
        token::to_hex(
            &self
                .settings
                .link_key
                .mac(&[b"warden csrf", secret.as_bytes()]),
        )
    }

    /// Signs in with email and password, from `address`; `organization` chooses when the
    /// email belongs to members of several organizations.
    pub async fn sign_in(
        &self,
        email: &str,
        password: String,
        organization: Option<&str>,
        address: Option<IpAddr>,
    ) -> Result<SignedIn, ServiceError> {
        check_lookup(email, organization)?;
        let limit = self.settings.sign_in_limit;
        let email_key = email.trim().to_lowercase();
        let ip = address.map_or_else(|| "-".to_string(), |a| a.to_string());
        let account_key = format!("{email_key}|{ip}");
        let address_key = format!("|{ip}");
        if let Some(retry_after_secs) = self
            .sign_in_failures
            .refused(&account_key, limit.per_account, limit.window)
            .or_else(|| {
                self.sign_in_failures
                    .refused(&address_key, limit.per_address, limit.window)
            })
        {
            return Err(ServiceError::TooManyFailedAuthentications { retry_after_secs });
        }
        let mut matched: Vec<(Arc<CompiledOrg>, UserId, UserStatus)> = Vec::new();
        let candidates: Vec<(Arc<CompiledOrg>, UserId, UserStatus)> = self
            .organizations()
            .into_iter()
            .filter(|c| organization.is_none_or(|o| c.state().org.id.as_str() == o))
            .filter_map(|c| {
                let found = c
                    .state()
                    .user_by_email(email.trim())
                    .map(|u| (u.id.clone(), u.status));
                found.map(|(id, status)| (c, id, status))
            })
            .collect();
        for (compiled, user, status) in candidates {
            let org = compiled.state().org.id.clone();
            let Some(hash) = self.store.password_hash(&org, &user).await? else {
                continue;
            };
            if verify_password(password.clone(), hash).await {
                matched.push((compiled, user, status));
            }
        }
        if matched.is_empty() {
            self.sign_in_failures.failed(account_key, limit.window);
            self.sign_in_failures.failed(address_key, limit.window);
            return Err(ServiceError::Unauthenticated("wrong email or password"));
        }
        if matched.len() > 1 {
            let ids: Vec<String> = matched
                .iter()
                .map(|(c, _, _)| c.state().org.id.to_string())
                .collect();
            return Err(DomainError::invalid(
                "organization",
                format!(
                    "this email and password sign in to several organizations ({}): choose one",
                    ids.join(", ")
                ),
            )
            .into());
        }
        let Some((compiled, user, status)) = matched.pop() else {
            return Err(ServiceError::Unauthenticated("wrong email or password"));
        };
        if status != UserStatus::Active {
            return Err(ServiceError::Unauthenticated(
                "this account is deactivated; an admin of the organization can reactivate it",
            ));
        }
        let secret = random_base32(52);
        let at = now();
        let session = Session {
            secret_hash: token::to_hex(&token::hash_secret(&secret)),
            org: compiled.state().org.id.clone(),
            user: user.clone(),
            created_at: at,
            last_seen_at: at,
            expires_at: Timestamp(at.0.saturating_add(millis(self.settings.sessions.absolute))),
        };
        self.store.insert_session(&session).await?;
        Ok(SignedIn {
            session: SessionCaller {
                org: session.org,
                user,
                secret_hash: session.secret_hash,
                csrf_token: self.csrf_token(&secret),
                expires_at: session.expires_at,
                compiled,
            },
            secret,
        })
    }

    /// The session a cookie's secret holds, if it is still good: not expired, not idle too
    /// long, its user still an active member. Every use is checked against the user's status
    /// now, so deactivation ends a session at once.
    pub async fn session(&self, secret: &str) -> Result<SessionCaller, ServiceError> {
        let hash = token::to_hex(&token::hash_secret(secret));
        let gone = ServiceError::Unauthenticated("no session, or it ended: sign in again");
        let session = self.store.session(&hash).await?.ok_or(gone)?;
        let at = now();
        let idle = millis(self.settings.sessions.idle);
        if at >= session.expires_at || at.0.saturating_sub(session.last_seen_at.0) >= idle {
            self.store.delete_session(&hash).await?;
            return Err(ServiceError::Unauthenticated(
                "the session ended (timed out): sign in again",
            ));
        }
        let compiled =
            match self.compiled(&session.org) {
                Some(compiled) => compiled,
                None => self.load_on_demand(&session.org).await?.ok_or(
                    ServiceError::Unauthenticated("no session, or it ended: sign in again"),
                )?,
            };
        let active = compiled
            .state()
            .users
            .get(&session.user)
            .is_some_and(|u| u.status == UserStatus::Active);
        if !active {
            self.store.delete_session(&hash).await?;
            return Err(ServiceError::Unauthenticated(
                "the session ended: the account is deactivated or removed",
            ));
        }
        if at.0.saturating_sub(session.last_seen_at.0) >= 60_000 {
            self.store.touch_session(&hash, at).await?;
        }
        Ok(SessionCaller {
            org: session.org,
            user: session.user,
            secret_hash: hash,
            csrf_token: self.csrf_token(secret),
            expires_at: session.expires_at,
            compiled,
        })
    }

    /// Ends a session.
    pub async fn sign_out(&self, session: &SessionCaller) -> Result<(), ServiceError> {
        Ok(self.store.delete_session(&session.secret_hash).await?)
    }

    /// Ends every session of a user (deactivation, removal).
    pub async fn end_sessions_of(&self, org: &OrgId, user: &UserId) -> Result<u64, ServiceError> {
        Ok(self.store.delete_sessions_of(org, user, None).await?)
    }

    /// Changes the signed-in user's password: the current one must match; every other
    /// session of theirs ends.
    pub async fn change_password(
        &self,
        session: &SessionCaller,
        current: String,
        new: String,
    ) -> Result<(), ServiceError> {
        check_password(&new)?;
        let hash = self
            .store
            .password_hash(&session.org, &session.user)
            .await?
            .unwrap_or_default();
        if !verify_password(current, hash).await {
            return Err(DomainError::invalid("current_password", "does not match").into());
        }
        let new_hash = hash_password(new).await?;
        Ok(self
            .store
            .change_password(
                &session.org,
                &session.user,
                &new_hash,
                now(),
                Some(&session.secret_hash),
            )
            .await?)
    }

    /// The URL of a first admin's "set your password" link: the reset page, told (`?first`)
    /// to word itself for a first password.
    pub fn first_password_url(&self, secret: &str) -> String {
        format!(
            "{}/password-reset?first#{secret}",
            self.settings.public_url.trim_end_matches('/')
        )
    }

    /// The URL of a password reset link.
    pub fn password_reset_url(&self, secret: &str) -> String {
        format!(
            "{}/password-reset#{secret}",
            self.settings.public_url.trim_end_matches('/')
        )
    }

    /// Emails a reset link to every active member with this email (in `organization`, if
    /// given). Says nothing about whether there is one: the answer is the same either way.
    pub async fn request_password_reset(
        &self,
        email: &str,
        organization: Option<&str>,
    ) -> Result<(), ServiceError> {
        check_lookup(email, organization)?;
        let at = now();
        for compiled in self.organizations() {
            let state = compiled.state();
            if organization.is_some_and(|o| state.org.id.as_str() != o) {
                continue;
            }
            let Some(user) = state.user_by_email(email.trim()) else {
                continue;
            };
            if user.status != UserStatus::Active {
                continue;
            }
            let ttl = self.settings.sessions.reset_ttl;
            let (reset, item) = self.reset_link(state, user, ttl, false, at);
            self.store.insert_password_reset(&reset, &item).await?;
            self.outbox_ready.notify_one();
        }
        Ok(())
    }

    /// The first admin's "set your password" link of an organization created by email: the
    /// reset row and the welcome email, for the commit creating the organization. The link
    /// lives as long as an invitation's. `None` if the state has no default admin.
    pub(super) fn welcome(
        &self,
        state: &OrgState,
        at: Timestamp,
    ) -> Option<(NewPasswordReset, OutboxItem)> {
        let admin = state.users.get(&state.org.default_admin)?;
        Some(self.reset_link(state, admin, self.settings.invitation_ttl, true, at))
    }

    /// A password link for `user`, valid `ttl` from `at`, and the email carrying it (made from
    /// a nonce with the link key, like an invitation's: only its hash is stored).
    fn reset_link(
        &self,
        state: &OrgState,
        user: &User,
        ttl: Duration,
        welcome: bool,
        at: Timestamp,
    ) -> (NewPasswordReset, OutboxItem) {
        let nonce = random_base32(26);
        let secret = self.settings.link_key.reset_secret(&state.org.id, &nonce);
        let secret_hash = token::to_hex(&token::hash_secret(&secret));
        let expires_at = Timestamp(at.0.saturating_add(millis(ttl)));
        let effect = Effect::SendPasswordReset {
            org_id: state.org.id.clone(),
            org_name: state.org.name.clone(),
            email: user.email.to_string(),
            nonce,
            secret_hash: secret_hash.clone(),
            expires_at,
            welcome,
        };
        let item = OutboxItem::new(new_id("eff"), state.org.id.clone(), effect, at);
        let reset = NewPasswordReset {
            secret_hash,
            reset: PasswordReset {
                org: state.org.id.clone(),
                user: user.id.clone(),
                expires_at,
                used_at: None,
            },
            created_at: at,
        };
        (reset, item)
    }

    /// Sets a new password with a reset link's secret; ends every session of the user.
    pub async fn complete_password_reset(
        &self,
        secret: &str,
        password: String,
    ) -> Result<(), ServiceError> {
        if super::invitations::org_of(RESET_PREFIX, secret).is_none() {
            return Err(DomainError::PasswordResetInvalid.into());
        }
        let hash = token::to_hex(&token::hash_secret(secret));
        let reset = self
            .store
            .password_reset(&hash)
            .await?
            .ok_or(DomainError::PasswordResetInvalid)?;
        if reset.used_at.is_some() {
            return Err(DomainError::PasswordResetUsed.into());
        }
        if reset.expires_at <= now() {
            return Err(DomainError::PasswordResetExpired.into());
        }
        check_password(&password)?;
        let new_hash = hash_password(password).await?;
        if !self
            .store
            .complete_password_reset(&hash, &reset, &new_hash, now())
            .await?
        {
            return Err(DomainError::PasswordResetUsed.into());
        }
        Ok(())
    }
}

/// An email and an optional organization id as sign-in and reset requests name them: checked
/// before anything is looked up, so a malformed request is refused as such (422) rather than
/// answered as a wrong password or an accepted reset.
fn check_lookup(email: &str, organization: Option<&str>) -> Result<(), DomainError> {
    warden_core::validate::email("email", email)?;
    if let Some(org) = organization {
        if !warden_core::command::is_org_id(org) {
            return Err(DomainError::invalid(
                "organization",
                "an organization id is six hexadecimal digits (e.g. a1b2c3)",
            ));
        }
    }
    Ok(())
}
