//! Token authentication: a bearer secret to the principal it acts as, from memory.
//!
//! The secret's format and checksum are verified first (no look-up); then its SHA-256 is
//! looked up in the organization's token index, in memory. A token this server does not know
//! is refused without asking the store: other servers' new tokens reach this server with
//! their commits (pushed on PostgreSQL, polled on SQLite; see `sync.rs`).

use std::net::IpAddr;
use std::sync::atomic::Ordering;
use std::sync::Arc;

use warden_core::token;
use warden_core::{Actor, OrgId, PrincipalId, Timestamp, TokenId};

use super::compiled::TokenEntry;
use super::context::now;
use super::{CompiledOrg, Service, ServiceError};

/// How stale a token's recorded last use may get.
const TOKEN_USE_RESOLUTION_MS: i64 = 60_000;

/// Who is calling: an active principal of an organization, authenticated by a token.
#[derive(Debug, Clone)]
pub struct Caller {
    pub org: OrgId,
    pub principal: PrincipalId,
    /// The token the caller presented; `None` for a console session (a signed-in user whose
    /// cookie, and for changes the CSRF token, were checked).
    pub token: Option<TokenId>,
    /// The organization as it was when the caller was authenticated.
    pub compiled: Arc<CompiledOrg>,
}

impl Caller {
    pub fn actor(&self) -> Actor {
        Actor::Principal(self.principal.clone())
    }
}

impl Service {
    /// Verifies a bearer secret presented from `address`: refused at once if that address
    /// failed too often lately; a failure counts against it.
    pub async fn authenticate_from(
        &self,
        secret: &str,
        address: Option<IpAddr>,
    ) -> Result<Caller, ServiceError> {
        self.throttled(address, self.authenticate(secret)).await
    }

    /// Runs an authentication for a request from `address`: refused at once if that address
    /// failed too often lately, and a failure counts against it. Every kind of credential
    /// (tokens, operators', clusters' webhook credentials) goes through here.
    pub(super) async fn throttled<T>(
        &self,
        address: Option<IpAddr>,
        authentication: impl std::future::Future<Output = Result<T, ServiceError>>,
    ) -> Result<T, ServiceError> {
        if let Some(retry_after_secs) = address.and_then(|a| self.throttle.refused(a)) {
            return Err(ServiceError::TooManyFailedAuthentications { retry_after_secs });
        }
        let result = authentication.await;
        if let (Err(_), Some(address)) = (&result, address) {
            self.throttle.failed(address);
        }
        result
    }

    /// A request without usable credentials from `address`: counts as a failed
    /// authentication (or is refused outright, if the address failed too often).
    pub fn unauthenticated_from(&self, address: Option<IpAddr>, why: &'static str) -> ServiceError {
        if let Some(address) = address {
            if let Some(retry_after_secs) = self.throttle.refused(address) {
                return ServiceError::TooManyFailedAuthentications { retry_after_secs };
            }
            self.throttle.failed(address);
        }
        ServiceError::Unauthenticated(why)
    }

    /// Verifies a bearer secret: format and checksum first (no look-up), then the hash.
    pub async fn authenticate(&self, secret: &str) -> Result<Caller, ServiceError> {
        let kind = token::parse_secret(secret).map_err(|_| {
            ServiceError::Unauthenticated("the bearer token is not a valid Warden token")
        })?;
        if kind == token::SecretKind::Operator {
            return Err(ServiceError::Unauthenticated(
                "a platform operator's token acts only on the /v1/platform endpoints \
                 (`warden org ...`, `warden operator ...`)",
            ));
        }
        if kind == token::SecretKind::Webhook {
            return Err(ServiceError::Unauthenticated(
                "a cluster's webhook credential acts only on the /k8s webhooks",
            ));
        }
        let hash = token::hash_secret(secret);
        let org = self.org_of_secret(hash).await?;
        let compiled = self.serving(&org).await?;
        let token = compiled
            .tokens
            .get(&hash)
            .ok_or(ServiceError::Unauthenticated("unknown or revoked token"))?;
        let now = now();
        if token.expires_at.is_some_and(|at| at <= now) {
            return Err(ServiceError::TokenExpired);
        }
        if !compiled.snapshot.is_active(token.owner.as_str()) {
            return Err(ServiceError::Unauthenticated(
                "the token's principal is deactivated",
            ));
        }
        self.record_use(token, now);
        let (principal, token_id) = (token.owner.clone(), token.id.clone());
        Ok(Caller {
            org,
            principal,
            token: Some(token_id),
            compiled,
        })
    }

    /// Notes that a token was used at `now` (for its last-use time), at most once a minute per
    /// token: one atomic load per use otherwise.
    pub(super) fn record_use(&self, token: &TokenEntry, now: Timestamp) {
        let recorded = token.last_recorded.load(Ordering::Relaxed);
        if now.0 - recorded >= TOKEN_USE_RESOLUTION_MS {
            token.last_recorded.store(now.0, Ordering::Relaxed);
            if let Ok(mut usage) = self.token_usage.lock() {
                usage.insert(token.id.clone(), now);
            }
        }
    }

    /// The organization a secret's hash opens: from the server-wide index, else (SQLite) after
    /// one shared look at other processes' commits.
    pub(super) async fn org_of_secret(&self, hash: [u8; 32]) -> Result<OrgId, ServiceError> {
        let known = self
            .token_orgs
            .read()
            .ok()
            .and_then(|index| index.get(&hash).cloned());
        match known {
            Some(org) => Ok(org),
            None => self.find_token_org(hash).await,
        }
    }

    /// An organization as served now, loading it first if the server is still warming up.
    pub(super) async fn serving(&self, org: &OrgId) -> Result<Arc<CompiledOrg>, ServiceError> {
        match self.compiled(org) {
            Some(compiled) => Ok(compiled),
            // Still warming up: this caller's organization is loaded now, and the call waits.
            None => self
                .load_on_demand(org)
                .await?
                .ok_or(ServiceError::Unauthenticated("unknown or revoked token")),
        }
    }

    /// The organization of a token this server does not know. Every organization's tokens
    /// are in memory and other servers' commits are pushed here (PostgreSQL) or polled
    /// (SQLite), so the store is never asked about a token: a stream of made-up tokens costs
    /// no query. On SQLite, another process sharing the file may have just created it: look
    /// for its commits (at most every 100 ms, shared by every caller), then look again.
    async fn find_token_org(&self, hash: [u8; 32]) -> Result<OrgId, ServiceError> {
        if self.poll_after_miss().await {
            if let Some(org) = self
                .token_orgs
                .read()
                .ok()
                .and_then(|index| index.get(&hash).cloned())
            {
                return Ok(org);
            }
        }
        Err(ServiceError::Unauthenticated("unknown or revoked token"))
    }

    /// Writes the last-used times collected since the previous call.
    pub async fn flush_token_usage(&self) -> Result<(), ServiceError> {
        let used: Vec<(TokenId, Timestamp)> = match self.token_usage.lock() {
            Ok(mut usage) => usage.drain().collect(),
            Err(_) => return Ok(()),
        };
        if used.is_empty() {
            return Ok(());
        }
        Ok(self.store.touch_tokens(&used).await?)
    }
}
