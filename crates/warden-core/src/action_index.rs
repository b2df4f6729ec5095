//! The check's first step: an action's name to its id.

use crate::actionset::ActionId;

/// An open-addressing table from action name to id, built once per catalog. A look-up
/// hashes the name's length and its first and last eight bytes with one multiply, then
/// confirms with one comparison: cheaper than hashing the whole string, and the table
/// (1 KiB) stays in L1.
#[derive(Debug)]
pub(crate) struct ActionIndex {
    slots: Vec<u16>,
    mask: usize,
}

impl ActionIndex {
    const EMPTY: u16 = u16::MAX;

    pub(crate) fn build(actions: &[String]) -> ActionIndex {
        let size = (actions.len() * 2).next_power_of_two().max(16);
        let mut slots = vec![Self::EMPTY; size];
        let mask = size - 1;
        for (id, name) in actions.iter().enumerate() {
            let mut at = Self::hash(name.as_bytes()) & mask;
            while slots.get(at).is_some_and(|s| *s != Self::EMPTY) {
                at = (at + 1) & mask;
            }
            // The catalog holds at most MAX_ACTIONS (256) actions: the id fits.
            if let Some(slot) = slots.get_mut(at) {
                *slot = u16::try_from(id).unwrap_or(Self::EMPTY);
            }
        }
        ActionIndex { slots, mask }
    }

    // Folding the 128-bit product into a word is the point of the last casts.
    #[allow(clippy::cast_possible_truncation)]
    #[inline]
    fn hash(name: &[u8]) -> usize {
        let (head, tail) = if name.len() >= 8 {
            // Two fixed-size loads: no byte loop, no variable-length copy.
            let word = |from: usize| {
                let mut w = [0u8; 8];
                if let Some(bytes) = name.get(from..from + 8) {
                    w.copy_from_slice(bytes);
                }
                u64::from_le_bytes(w)
            };
            (word(0), word(name.len() - 8))
        } else {
            let short = name
                .iter()
                .enumerate()
                .fold(0u64, |v, (i, b)| v | (u64::from(*b) << (8 * i)));
            (short, short)
        };
        let m = u128::from(head ^ 0x9E37_79B9_7F4A_7C15)
            * u128::from(tail ^ (name.len() as u64).rotate_left(29) ^ 0xD6E8_FEB8_6659_FD93);
        ((m as u64) ^ ((m >> 64) as u64)) as usize
    }

    #[inline]
    pub(crate) fn get(&self, actions: &[String], name: &str) -> Option<ActionId> {
        let mut at = Self::hash(name.as_bytes()) & self.mask;
        loop {
            let id = *self.slots.get(at)?;
            if id == Self::EMPTY {
                return None;
            }
            if actions.get(id as usize).is_some_and(|a| a == name) {
                return Some(ActionId(id));
            }
            at = (at + 1) & self.mask;
        }
    }
}
