//! Interned actions and fixed-size action bitsets: the representation that makes a check a
//! couple of hash look-ups and one bit test.

/// The most actions a catalog may hold: the width of [`ActionSet`].
pub const MAX_ACTIONS: usize = 256;
const WORDS: usize = MAX_ACTIONS / 64;

/// An action interned to its index in the catalog.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ActionId(pub u16);

/// A set of actions as a 256-bit bitset (32 bytes, `Copy`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct ActionSet([u64; WORDS]);

impl ActionSet {
    pub const EMPTY: ActionSet = ActionSet([0; WORDS]);

    #[inline]
    pub fn insert(&mut self, id: ActionId) {
        let i = id.0 as usize;
        if let Some(word) = self.0.get_mut(i / 64) {
            *word |= 1 << (i % 64);
        }
    }

    #[inline]
    pub fn contains(&self, id: ActionId) -> bool {
        let i = id.0 as usize;
        self.0.get(i / 64).is_some_and(|w| w & (1 << (i % 64)) != 0)
    }

    /// True when every action of `other` is in `self`.
    #[inline]
    pub fn contains_all(&self, other: &ActionSet) -> bool {
        self.0.iter().zip(other.0.iter()).all(|(a, b)| a & b == *b)
    }

    #[inline]
    pub fn union_with(&mut self, other: &ActionSet) {
        for (a, b) in self.0.iter_mut().zip(other.0.iter()) {
            *a |= b;
        }
    }

    pub fn is_empty(&self) -> bool {
        self.0.iter().all(|w| *w == 0)
    }

    pub fn len(&self) -> usize {
        self.0.iter().map(|w| w.count_ones() as usize).sum()
    }

    /// The actions in both sets.
    #[inline]
    pub fn intersection(&self, other: &ActionSet) -> ActionSet {
        let mut out = *self;
        for (a, b) in out.0.iter_mut().zip(other.0.iter()) {
            *a &= b;
        }
        out
    }

    /// The actions in ascending id order.
    pub fn iter(&self) -> impl Iterator<Item = ActionId> + '_ {
        self.0.iter().enumerate().flat_map(|(w, &word)| {
            let mut bits = word;
            std::iter::from_fn(move || {
                if bits == 0 {
                    return None;
                }
                let bit = bits.trailing_zeros();
                bits &= bits - 1;
                // `w` < 4 and `bit` < 64: the id fits.
                Some(ActionId(
                    u16::try_from(w * 64).unwrap_or(0) + u16::try_from(bit).unwrap_or(0),
                ))
            })
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn set_operations() {
        let mut a = ActionSet::EMPTY;
        a.insert(ActionId(0));
        a.insert(ActionId(200));
        a.insert(ActionId(255));
        assert!(a.contains(ActionId(200)));
        assert!(!a.contains(ActionId(1)));
        assert_eq!(a.len(), 3);
        let mut b = ActionSet::EMPTY;
        b.insert(ActionId(200));
        assert!(a.contains_all(&b));
        assert!(!b.contains_all(&a));
        assert_eq!(a.intersection(&b), b);
        b.union_with(&a);
        assert_eq!(a, b);
        assert_eq!(
            a.iter().collect::<Vec<_>>(),
            vec![ActionId(0), ActionId(200), ActionId(255)]
        );
    }
}
