//! What the outside world gives the core: the clock, randomness, and the request being
//! served (for correlation in audit events and logs).

use std::time::{SystemTime, UNIX_EPOCH};

use warden_core::token::{self, SecretKind};
use warden_core::{CommandContext, Timestamp};

/// The current time.
pub fn now() -> Timestamp {
    Timestamp(
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
            .unwrap_or(0),
    )
}

/// Time and fresh identifiers from the system.
#[derive(Debug)]
pub struct SystemContext {
    now: Timestamp,
}

impl SystemContext {
    pub fn new() -> SystemContext {
        SystemContext { now: now() }
    }
}

impl Default for SystemContext {
    fn default() -> Self {
        SystemContext::new()
    }
}

impl CommandContext for SystemContext {
    fn now(&self) -> Timestamp {
        self.now
    }

    fn random_suffix(&mut self) -> String {
        random_base32(16)
    }
}

pub(crate) fn random_bytes<const N: usize>() -> [u8; N] {
    let mut bytes = [0u8; N];
    // The OS random source failing is not recoverable; a zeroed buffer would be a
    // predictable secret, so refuse loudly instead.
    if getrandom::fill(&mut bytes).is_err() {
        tracing::error!("the operating system's random source failed");
        std::process::abort();
    }
    bytes
}

/// `n` (at most 32) random characters of lowercase base32.
pub(crate) fn random_base32(n: usize) -> String {
    const ALPHABET: &[u8; 32] = b"abcdefghijklmnopqrstuvwxyz234567";
    let bytes: [u8; 32] = random_bytes();
    bytes
        .iter()
        .take(n)
        .map(|b| char::from(ALPHABET.get(usize::from(b & 31)).copied().unwrap_or(b'a')))
        .collect()
}

/// A fresh id with a prefix: `evt_...`, `eff_...`.
pub(crate) fn new_id(prefix: &str) -> String {
    format!("{prefix}_{}", random_base32(16))
}

/// A new secret and the values the core stores for it. `Debug` does not print the secret.
pub struct NewSecret {
    pub secret: String,
    pub hash_hex: String,
    pub display_prefix: String,
}

impl std::fmt::Debug for NewSecret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NewSecret").finish_non_exhaustive()
    }
}

pub fn new_personal_secret() -> NewSecret {
    new_secret(SecretKind::Personal)
}

/// A new secret of `kind`, with what is stored of it.
pub fn new_secret(kind: SecretKind) -> NewSecret {
    let secret = token::encode_secret(kind, &random_bytes());
    NewSecret {
        hash_hex: token::to_hex(&token::hash_secret(&secret)),
        display_prefix: token::display_prefix(&secret),
        secret,
    }
}

tokio::task_local! {
    /// The id of the request being served, set by the HTTP layer around each request.
    pub static REQUEST_ID: String;
}

/// The id of the request being served (`-` outside a request).
pub fn current_request_id() -> String {
    REQUEST_ID
        .try_with(|id| id.clone())
        .unwrap_or_else(|_| String::from("-"))
}

/// A request id unique to this process run: a random prefix drawn once, and a counter.
/// (Drawing randomness per request was a system call on the hot path.)
pub fn next_request_id() -> String {
    use std::sync::atomic::{AtomicU64, Ordering};
    use std::sync::OnceLock;
    static PREFIX: OnceLock<String> = OnceLock::new();
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let prefix = PREFIX.get_or_init(|| random_base32(8));
    format!("{prefix}-{:x}", COUNTER.fetch_add(1, Ordering::Relaxed))
}
