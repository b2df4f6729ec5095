//! Rebuilding a persistent B-tree with its leaves full.
//!
//! `imbl`'s B-tree splits a full leaf at its middle. Keys inserted in order (as a load from
//! the store inserts them, by id) always land in the right half, so every leaf but the last
//! stays half empty: a map loaded in order takes almost twice the memory it needs. Inserting
//! every other key first and then the ones between them fills each leaf: a leaf left with
//! eight keys by the first pass receives exactly the eight that sort between them (and before
//! the next leaf's first key) in the second. At a million users this is a fifth of the
//! resident memory (BENCHMARKS.md, "A million users").

use imbl::{OrdMap, OrdSet};

/// `map` rebuilt with full leaves; the same entries.
pub fn packed_map<K: Ord + Clone, V: Clone>(map: &OrdMap<K, V>) -> OrdMap<K, V> {
    let entries: Vec<(&K, &V)> = map.iter().collect();
    let mut packed = OrdMap::new();
    for (k, v) in entries
        .iter()
        .step_by(2)
        .chain(entries.iter().skip(1).step_by(2))
    {
        packed.insert((*k).clone(), (*v).clone());
    }
    packed
}

/// `set` rebuilt with full leaves; the same members.
pub fn packed_set<T: Ord + Clone>(set: &OrdSet<T>) -> OrdSet<T> {
    let members: Vec<&T> = set.iter().collect();
    let mut packed = OrdSet::new();
    for t in members
        .iter()
        .step_by(2)
        .chain(members.iter().skip(1).step_by(2))
    {
        packed.insert((*t).clone());
    }
    packed
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn packing_keeps_every_entry_in_order() {
        for n in [0usize, 1, 2, 15, 16, 17, 33, 1000, 4097] {
            let map: OrdMap<usize, String> = (0..n).map(|i| (i, i.to_string())).collect();
            let packed = packed_map(&map);
            assert_eq!(packed, map, "{n} entries");
            assert!(packed.iter().map(|(k, _)| *k).eq(0..n));
            let set: OrdSet<usize> = (0..n).collect();
            assert_eq!(packed_set(&set), set, "{n} members");
        }
    }
}
