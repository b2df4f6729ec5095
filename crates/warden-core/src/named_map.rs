//! A persistent map by id that also finds its entries by a natural key (a user by email, a
//! group by name), keeping the two in step.

use std::fmt;

use imbl::{OrdMap, OrdSet};
use serde::Serialize;

use crate::domain::{Group, User};

/// An entity found by a natural key as well as by id: a user by email (ASCII
/// case-insensitive), a group by name.
pub trait NaturalKey {
    fn natural_key(&self) -> String;
}

impl NaturalKey for User {
    fn natural_key(&self) -> String {
        self.email.to_ascii_lowercase()
    }
}

/// Group names are unique, and found, without regard to case (`Engineering` is
/// `engineering`), while keeping the case they were written in.
impl NaturalKey for Group {
    fn natural_key(&self) -> String {
        self.name.to_lowercase()
    }
}

/// A natural key's place in the index. The index holds hashes, not the keys themselves: a
/// user's email would otherwise be held twice, a cost that adds up to tens of megabytes at a
/// million users. Colliding keys are told apart by the entries they point to.
fn key_hash(key: &str) -> u64 {
    use std::hash::Hasher;
    let mut hasher = rustc_hash::FxHasher::default();
    hasher.write(key.as_bytes());
    hasher.finish()
}

/// A persistent map by id with an index by natural key, so that resolving an email or a
/// group name costs a look-up, not a scan of the organization. Reads go through `Deref` to
/// the map by id; writes only through [`NamedMap::insert`] and [`NamedMap::remove`], which
/// keep the index its mirror (there is no `get_mut`).
#[derive(Clone)]
pub struct NamedMap<K: Ord + Clone, V: Clone> {
    by_id: OrdMap<K, V>,
    /// `(hash of the natural key, id)`: a set, so that entries sharing a key (which the
    /// command layer refuses, but a store could hold) or a hash are all indexed.
    by_key: OrdSet<(u64, K)>,
}

impl<K: Ord + Clone + Default, V: Clone + NaturalKey> NamedMap<K, V> {
    pub fn new() -> Self {
        NamedMap {
            by_id: OrdMap::new(),
            by_key: OrdSet::new(),
        }
    }

    /// Sets the entry of `id`, returning the previous one.
    pub fn insert(&mut self, id: K, value: V) -> Option<V> {
        let hash = key_hash(&value.natural_key());
        self.by_key.insert((hash, id.clone()));
        let before = self.by_id.insert(id.clone(), value);
        if let Some(old) = &before {
            let old_hash = key_hash(&old.natural_key());
            if old_hash != hash {
                self.by_key.remove(&(old_hash, id));
            }
        }
        before
    }

    pub fn remove(&mut self, id: &K) -> Option<V> {
        let before = self.by_id.remove(id)?;
        self.by_key
            .remove(&(key_hash(&before.natural_key()), id.clone()));
        Some(before)
    }

    /// The same entries with the B-trees' leaves full (see [`crate::packed`]).
    pub fn packed(&self) -> Self {
        NamedMap {
            by_id: crate::packed::packed_map(&self.by_id),
            by_key: crate::packed::packed_set(&self.by_key),
        }
    }

    /// The entry with this natural key, given normalized (the first by id if several share
    /// it).
    pub fn by_natural_key(&self, key: &str) -> Option<&V> {
        let hash = key_hash(key);
        self.by_key
            .range((hash, K::default())..)
            .take_while(|(h, _)| *h == hash)
            .filter_map(|(_, id)| self.by_id.get(id))
            .find(|v| v.natural_key() == key)
    }
}

impl<K: Ord + Clone + Default, V: Clone + NaturalKey> Default for NamedMap<K, V> {
    fn default() -> Self {
        Self::new()
    }
}

impl<K: Ord + Clone, V: Clone> std::ops::Deref for NamedMap<K, V> {
    type Target = OrdMap<K, V>;

    fn deref(&self) -> &OrdMap<K, V> {
        &self.by_id
    }
}

impl<'a, K: Ord + Clone, V: Clone> IntoIterator for &'a NamedMap<K, V> {
    type Item = (&'a K, &'a V);
    type IntoIter = imbl::ordmap::Iter<'a, K, V, imbl::shared_ptr::DefaultSharedPtr>;

    fn into_iter(self) -> Self::IntoIter {
        self.by_id.iter()
    }
}

impl<K: Ord + Clone + Default, V: Clone + NaturalKey> FromIterator<(K, V)> for NamedMap<K, V> {
    fn from_iter<I: IntoIterator<Item = (K, V)>>(iter: I) -> Self {
        let mut map = NamedMap::new();
        for (k, v) in iter {
            map.insert(k, v);
        }
        map
    }
}

impl<K: Ord + Clone + Default, V: Clone + NaturalKey> Extend<(K, V)> for NamedMap<K, V> {
    fn extend<I: IntoIterator<Item = (K, V)>>(&mut self, iter: I) {
        for (k, v) in iter {
            self.insert(k, v);
        }
    }
}

/// Equal when the entries are: the index follows from them.
impl<K: Ord + Clone, V: Clone + PartialEq> PartialEq for NamedMap<K, V> {
    fn eq(&self, other: &Self) -> bool {
        self.by_id == other.by_id
    }
}

impl<K: Ord + Clone, V: Clone + Eq> Eq for NamedMap<K, V> {}

impl<K: Ord + Clone + fmt::Debug, V: Clone + fmt::Debug> fmt::Debug for NamedMap<K, V> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.by_id.fmt(f)
    }
}

impl<K: Ord + Clone + Serialize, V: Clone + Serialize> Serialize for NamedMap<K, V> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.by_id.serialize(serializer)
    }
}
