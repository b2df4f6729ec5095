//! An organization as this server serves it: its compiled snapshot and the index that
//! authenticates its tokens, published together.

use std::sync::atomic::AtomicI64;
use std::sync::Arc;

use rustc_hash::FxHashMap;
use warden_core::{Catalog, OrgState, PrincipalId, Snapshot, Timestamp, TokenId};

/// What authentication needs of one token, found by the SHA-256 of its secret.
#[derive(Debug)]
pub(crate) struct TokenEntry {
    pub id: TokenId,
    pub owner: PrincipalId,
    pub expires_at: Option<Timestamp>,
    /// When this server last queued the token's use for the store (ms), so a busy token
    /// costs one atomic load per request, not a lock.
    pub last_recorded: AtomicI64,
}

/// An organization's snapshot plus the index that authenticates its tokens.
#[derive(Debug)]
pub struct CompiledOrg {
    pub snapshot: Snapshot,
    pub(crate) tokens: FxHashMap<[u8; 32], TokenEntry>,
}

impl CompiledOrg {
    pub fn new(snapshot: Snapshot) -> CompiledOrg {
        let mut tokens = FxHashMap::default();
        for token in snapshot.state().tokens.values() {
            if let Some(hash) = from_hex32(&token.secret_hash) {
                tokens.insert(
                    hash,
                    TokenEntry {
                        id: token.id.clone(),
                        owner: token.owner.clone(),
                        expires_at: token.expires_at,
                        last_recorded: AtomicI64::new(0),
                    },
                );
            }
        }
        CompiledOrg { snapshot, tokens }
    }

    pub fn compile(catalog: Arc<Catalog>, state: Arc<OrgState>, now: Timestamp) -> CompiledOrg {
        CompiledOrg::new(Snapshot::compile(catalog, state, now))
    }

    pub fn state(&self) -> &Arc<OrgState> {
        self.snapshot.state()
    }

    pub fn revision(&self) -> u64 {
        self.snapshot.revision()
    }
}

fn from_hex32(hex: &str) -> Option<[u8; 32]> {
    if hex.len() != 64 {
        return None;
    }
    let mut out = [0u8; 32];
    for (i, byte) in out.iter_mut().enumerate() {
        *byte = u8::from_str_radix(hex.get(i * 2..i * 2 + 2)?, 16).ok()?;
    }
    Some(out)
}
