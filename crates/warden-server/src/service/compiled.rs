//! An organization as this server serves it: its compiled snapshot and the index that
//! authenticates its tokens, published together.

use std::sync::atomic::AtomicI64;
use std::sync::Arc;

use imbl::shared_ptr::DefaultSharedPtr;
use imbl::GenericHashMap;
use rustc_hash::FxBuildHasher;
use warden_core::command::{Change, Entity};
use warden_core::{
    ApiToken, Catalog, Cluster, ClusterId, OrgState, PrincipalId, Snapshot, Timestamp, TokenId,
};

/// What authentication needs of one token, found by the SHA-256 of its secret.
#[derive(Debug)]
pub(crate) struct TokenEntry {
    pub id: TokenId,
    pub owner: PrincipalId,
    pub expires_at: Option<Timestamp>,
    /// When this server last queued the token's use for the store (ms), so a busy token
    /// costs one atomic load per request, not a lock. Shared by every version of the index
    /// (entries are behind an `Arc`), so a write does not reset it.
    pub last_recorded: AtomicI64,
}

/// Secret hash → token: persistent, so a write copies only the part it changes.
pub(crate) type TokenIndex =
    GenericHashMap<[u8; 32], Arc<TokenEntry>, FxBuildHasher, DefaultSharedPtr>;

/// Webhook secret hash → the cluster whose kube-apiserver presents it.
pub(crate) type WebhookIndex = GenericHashMap<[u8; 32], ClusterId, FxBuildHasher, DefaultSharedPtr>;

/// An organization's snapshot plus the indexes that authenticate its tokens and its
/// clusters' webhook credentials.
#[derive(Debug)]
pub struct CompiledOrg {
    pub snapshot: Snapshot,
    pub(crate) tokens: TokenIndex,
    pub(crate) webhooks: WebhookIndex,
}

fn webhook_entry(cluster: &Cluster) -> Option<([u8; 32], ClusterId)> {
    let hash = from_hex32(cluster.webhook_secret_hash.as_deref()?)?;
    Some((hash, cluster.id.clone()))
}

fn token_entry(token: &ApiToken) -> Option<([u8; 32], Arc<TokenEntry>)> {
    let hash = from_hex32(&token.secret_hash)?;
    let entry = TokenEntry {
        id: token.id.clone(),
        owner: token.owner.clone(),
        expires_at: token.expires_at,
        last_recorded: AtomicI64::new(0),
    };
    Some((hash, Arc::new(entry)))
}

impl CompiledOrg {
    /// Indexes every token of the snapshot's state.
    pub fn new(snapshot: Snapshot) -> CompiledOrg {
        let tokens = snapshot
            .state()
            .tokens
            .values()
            .filter_map(token_entry)
            .collect();
        let webhooks = snapshot
            .state()
            .clusters
            .values()
            .filter_map(webhook_entry)
            .collect();
        CompiledOrg {
            snapshot,
            tokens,
            webhooks,
        }
    }

    pub fn compile(catalog: Arc<Catalog>, state: Arc<OrgState>, now: Timestamp) -> CompiledOrg {
        CompiledOrg::new(Snapshot::compile(catalog, state, now))
    }

    /// The organization after a write: `snapshot` is the patched snapshot, `changes` what the
    /// write changed. Only the tokens (and clusters' webhook credentials) it created, changed
    /// or deleted are re-indexed; also returns the hashes it added, for the server-wide
    /// secret → organization index.
    pub fn patched<'a>(
        &self,
        snapshot: Snapshot,
        changes: impl IntoIterator<Item = &'a Change>,
    ) -> (CompiledOrg, Vec<[u8; 32]>) {
        let mut tokens = self.tokens.clone();
        let mut webhooks = self.webhooks.clone();
        let mut added = Vec::new();
        for change in changes {
            let (before, after) = match change {
                Change::Put { before, after } => (before.as_ref(), Some(after)),
                Change::Delete { before } => (Some(before), None),
            };
            if let Some(Entity::Cluster(old)) = before {
                if let Some((hash, _)) = webhook_entry(old) {
                    webhooks.remove(&hash);
                }
            }
            if let Some(Entity::Cluster(new)) = after {
                if let Some((hash, cluster)) = webhook_entry(new) {
                    webhooks.insert(hash, cluster);
                    added.push(hash);
                }
            }
            let new = match after {
                Some(Entity::Token(new)) => token_entry(new),
                _ => None,
            };
            if let Some(Entity::Token(old)) = before {
                if let Some(hash) = from_hex32(&old.secret_hash) {
                    // A change that leaves what authentication reads as it was keeps the
                    // entry (and its last-use clock).
                    let unchanged = new.as_ref().is_some_and(|(h, e)| {
                        *h == hash
                            && tokens.get(&hash).is_some_and(|t| {
                                t.id == e.id && t.owner == e.owner && t.expires_at == e.expires_at
                            })
                    });
                    if unchanged {
                        continue;
                    }
                    tokens.remove(&hash);
                }
            }
            if let Some((hash, entry)) = new {
                tokens.insert(hash, entry);
                added.push(hash);
            }
        }
        (
            CompiledOrg {
                snapshot,
                tokens,
                webhooks,
            },
            added,
        )
    }

    /// The secret hashes of every token and webhook credential.
    pub(crate) fn token_hashes(&self) -> impl Iterator<Item = &[u8; 32]> {
        self.tokens.keys().chain(self.webhooks.keys())
    }

    pub fn state(&self) -> &Arc<OrgState> {
        self.snapshot.state()
    }

    pub fn revision(&self) -> u64 {
        self.snapshot.revision()
    }
}

pub(crate) fn from_hex32(hex: &str) -> Option<[u8; 32]> {
    if hex.len() != 64 {
        return None;
    }
    let mut out = [0u8; 32];
    for (i, byte) in out.iter_mut().enumerate() {
        *byte = u8::from_str_radix(hex.get(i * 2..i * 2 + 2)?, 16).ok()?;
    }
    Some(out)
}
