//! The check table: principal id → what a check needs, as an open-addressing hash table whose
//! buckets live in fixed-size chunks shared between snapshots.
//!
//! A write changes a few principals; copying the whole table for each new snapshot would cost
//! what the organization weighs, not what the write touches. Each chunk is behind an `Arc`: a
//! new snapshot clones the (small) vector of chunk pointers and copies only the chunks it
//! changes. A look-up stays one hash, one load from the chunk-pointer vector (a few kilobytes,
//! in cache) and one probe in the chunk: no tree to walk on the hot path.

use std::sync::Arc;

use super::inline_id::InlineId;
use super::FastMap;
use crate::actionset::ActionSet;

/// Elements per chunk: 64 buckets of 32 bytes, 2 KiB copied when one of them changes.
const CHUNK: usize = 64;

/// A vector cut into fixed-size shared chunks: cloning costs one pointer per chunk, writing
/// copies one chunk. The chunks sit right behind their `Arc` (no second indirection on a
/// read).
#[derive(Debug, Clone)]
pub(super) struct ChunkedVec<T> {
    /// Fixed-size chunks: an index masked to the chunk needs no bounds check.
    chunks: Vec<Arc<[T; CHUNK]>>,
    len: usize,
}

impl<T: Copy> ChunkedVec<T> {
    /// `len` copies of `filler`.
    pub(super) fn filled(filler: T, len: usize) -> ChunkedVec<T> {
        let chunks = (0..len.div_ceil(CHUNK))
            .map(|_| Arc::new([filler; CHUNK]))
            .collect();
        ChunkedVec { chunks, len }
    }

    /// The element at `i`. The table only asks for masked indexes, below the length, so
    /// this checks the chunk only (a slot past `len` in the last chunk is a filler).
    #[inline]
    pub(super) fn get(&self, i: usize) -> Option<&T> {
        self.chunks.get(i / CHUNK).and_then(|c| c.get(i % CHUNK))
    }

    pub(super) fn len(&self) -> usize {
        self.len
    }

    /// Appends `value` (`filler` fills the rest of a new chunk).
    pub(super) fn push(&mut self, value: T, filler: T) {
        if self.len == self.chunks.len() * CHUNK {
            self.chunks.push(Arc::new([filler; CHUNK]));
        }
        self.len += 1;
        if let Some(slot) = self.get_mut(self.len - 1) {
            *slot = value;
        }
    }

    /// The element at `i`, for writing: its chunk is copied if another snapshot shares it.
    pub(super) fn get_mut(&mut self, i: usize) -> Option<&mut T> {
        if i >= self.len {
            return None;
        }
        self.chunks
            .get_mut(i / CHUNK)
            .and_then(|c| Arc::make_mut(c).get_mut(i % CHUNK))
    }

    pub(super) fn iter(&self) -> impl Iterator<Item = &T> {
        self.chunks.iter().flat_map(|c| c.iter()).take(self.len)
    }
}

/// The distinct effective action sets of a snapshot, each stored once (principals with the
/// same grants share one): index 0 is the empty set. Small enough to stay in cache, which a
/// set per principal would not.
#[derive(Debug, Clone)]
pub(super) struct SetTable {
    sets: ChunkedVec<ActionSet>,
    index: FastMap<ActionSet, u32>,
}

impl SetTable {
    pub(super) fn new() -> SetTable {
        let mut table = SetTable {
            sets: ChunkedVec::filled(ActionSet::EMPTY, 0),
            index: FastMap::default(),
        };
        table.intern(ActionSet::EMPTY);
        table
    }

    /// The index of `set`, added if new. Sets no principal uses any more stay: a snapshot
    /// recompiled from scratch drops them (see `Snapshot::patch`).
    pub(super) fn intern(&mut self, set: ActionSet) -> u32 {
        if let Some(&i) = self.index.get(&set) {
            return i;
        }
        let i = u32::try_from(self.sets.len()).unwrap_or(0);
        self.sets.push(set, ActionSet::EMPTY);
        self.index.insert(set, i);
        i
    }

    #[inline]
    pub(super) fn get(&self, i: u32) -> &ActionSet {
        self.sets.get(i as usize).unwrap_or(&ActionSet::EMPTY)
    }

    pub(super) fn len(&self) -> usize {
        self.sets.len()
    }
}

/// What the table holds for one principal: 8 bytes, so a bucket is 32 and two share a
/// cache line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Entry {
    /// Index of its effective actions in the snapshot's [`SetTable`] (0, the empty set, when
    /// it is not active).
    pub set: u32,
    pub flags: u32,
}

impl Entry {
    pub const ACTIVE: u32 = 1;
    pub const USER: u32 = 2;
    /// Holds the IAM Admin role through rules in force in the snapshot's window (active or
    /// not).
    pub const IAM_ADMIN: u32 = 4;

    pub fn iam_admin(&self) -> bool {
        self.flags & Self::IAM_ADMIN != 0
    }

    pub fn active(&self) -> bool {
        self.flags & Self::ACTIVE != 0
    }

    pub fn is_user(&self) -> bool {
        self.flags & Self::USER != 0
    }
}

#[derive(Debug, Clone, Copy)]
struct Bucket {
    /// All zeros when empty: the empty id is never a principal.
    key: InlineId,
    entry: Entry,
}

const EMPTY: Bucket = Bucket {
    key: InlineId::EMPTY,
    entry: Entry { set: 0, flags: 0 },
};

/// Principal id → [`Entry`], open addressing with linear probing, at most 5/8 full.
#[derive(Debug, Clone)]
pub(super) struct PrincipalTable {
    buckets: ChunkedVec<Bucket>,
    mask: usize,
    len: usize,
}

impl PrincipalTable {
    pub(super) fn with_capacity(n: usize) -> PrincipalTable {
        let size = (n.saturating_mul(8) / 5 + 1).next_power_of_two().max(16);
        PrincipalTable {
            buckets: ChunkedVec::filled(EMPTY, size),
            mask: size - 1,
            len: 0,
        }
    }

    pub(super) fn len(&self) -> usize {
        self.len
    }

    #[inline]
    fn home(&self, key: &InlineId) -> usize {
        // The top bits of the folded multiply: the best mixed.
        usize::try_from(key.mix() >> 32).unwrap_or(0) & self.mask
    }

    #[inline]
    pub(super) fn get(&self, key: &InlineId) -> Option<&Entry> {
        let mut at = self.home(key);
        loop {
            let bucket = self.buckets.get(at)?;
            if bucket.key == *key {
                return Some(&bucket.entry);
            }
            if bucket.key == InlineId::EMPTY {
                return None;
            }
            at = (at + 1) & self.mask;
        }
    }

    /// Sets the entry of `key` (inserting it if new).
    pub(super) fn insert(&mut self, key: InlineId, entry: Entry) {
        if key == InlineId::EMPTY {
            return;
        }
        if (self.len + 1) * 8 > (self.mask + 1) * 5 {
            self.grow();
        }
        let mut at = self.home(&key);
        loop {
            let Some(bucket) = self.buckets.get(at) else {
                return;
            };
            if bucket.key == key || bucket.key == InlineId::EMPTY {
                let new = bucket.key == InlineId::EMPTY;
                if let Some(slot) = self.buckets.get_mut(at) {
                    *slot = Bucket { key, entry };
                    if new {
                        self.len += 1;
                    }
                }
                return;
            }
            at = (at + 1) & self.mask;
        }
    }

    /// Removes `key`, shifting later buckets of its probe run back so that no look-up
    /// stops early (no tombstones).
    pub(super) fn remove(&mut self, key: &InlineId) {
        let mut at = self.home(key);
        loop {
            match self.buckets.get(at) {
                None => return,
                Some(b) if b.key == InlineId::EMPTY => return,
                Some(b) if b.key == *key => break,
                Some(_) => at = (at + 1) & self.mask,
            }
        }
        let mut hole = at;
        let mut next = (hole + 1) & self.mask;
        loop {
            let Some(&bucket) = self.buckets.get(next) else {
                return;
            };
            if bucket.key == InlineId::EMPTY {
                break;
            }
            let home = self.home(&bucket.key);
            // Move the bucket into the hole unless its home lies cyclically in (hole, next].
            let stays = if hole <= next {
                hole < home && home <= next
            } else {
                hole < home || home <= next
            };
            if !stays {
                if let Some(slot) = self.buckets.get_mut(hole) {
                    *slot = bucket;
                }
                hole = next;
            }
            next = (next + 1) & self.mask;
        }
        if let Some(slot) = self.buckets.get_mut(hole) {
            *slot = EMPTY;
        }
        self.len -= 1;
    }

    fn grow(&mut self) {
        let mut bigger = PrincipalTable::with_capacity((self.mask + 1) * 2);
        for bucket in self.buckets.iter().filter(|b| b.key != InlineId::EMPTY) {
            bigger.insert(bucket.key, bucket.entry);
        }
        *self = bigger;
    }

    /// Every (id, entry), in no particular order.
    #[cfg(test)]
    pub(super) fn iter(&self) -> impl Iterator<Item = (&InlineId, &Entry)> {
        self.buckets
            .iter()
            .filter(|b| b.key != InlineId::EMPTY)
            .map(|b| (&b.key, &b.entry))
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::*;

    fn entry(n: u32) -> Entry {
        Entry {
            set: n,
            flags: Entry::ACTIVE,
        }
    }

    #[test]
    fn behaves_like_a_map_through_inserts_updates_and_removals() {
        let ids: Vec<String> = (0..3000).map(|i| format!("usr_{i:016}")).collect();
        let mut table = PrincipalTable::with_capacity(10);
        let mut model: HashMap<String, Entry> = HashMap::new();
        let mut seed = 7u64;
        for step in 0..20_000u32 {
            seed = seed
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            let id = &ids[usize::try_from(seed >> 33).unwrap() % ids.len()];
            let key = InlineId::new(id).unwrap();
            if seed.is_multiple_of(3) {
                table.remove(&key);
                model.remove(id);
            } else {
                table.insert(key, entry(step));
                model.insert(id.clone(), entry(step));
            }
        }
        assert_eq!(table.len(), model.len());
        for id in &ids {
            let key = InlineId::new(id).unwrap();
            assert_eq!(table.get(&key), model.get(id), "{id}");
        }
        assert_eq!(table.iter().count(), model.len());
    }

    #[test]
    fn a_clone_is_unaffected_by_writes_to_the_original() {
        let mut a = PrincipalTable::with_capacity(100);
        let k = |s: &str| InlineId::new(s).unwrap();
        for i in 0..100 {
            a.insert(k(&format!("usr_{i}")), entry(i));
        }
        let b = a.clone();
        a.insert(k("usr_5"), entry(999));
        a.remove(&k("usr_6"));
        assert_eq!(b.get(&k("usr_5")), Some(&entry(5)));
        assert_eq!(b.get(&k("usr_6")), Some(&entry(6)));
        assert_eq!(a.get(&k("usr_5")), Some(&entry(999)));
        assert_eq!(a.get(&k("usr_6")), None);
    }
}
