//! Principal ids stored inline in the check table's keys.

/// Longest id that fits inline. Warden's ids (`usr_` + 16 characters) are 20 bytes.
pub(super) const INLINE_ID_BYTES: usize = 23;

/// A principal id stored inline, so a look-up compares three words inside the hash table
/// instead of chasing a pointer to a heap string. A longer string is never a principal. The
/// last byte holds the length.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct InlineId(pub(super) [u64; 3]);

impl InlineId {
    /// The empty id: never a principal, so it marks an empty bucket.
    pub(super) const EMPTY: InlineId = InlineId([0; 3]);

    /// One folded 64×64→128-bit multiply mixing every bit of the three words. FxHash alone
    /// leaves the low bits depending on a few id characters, which makes patterned ids
    /// (`usr_00001234`) collide.
    #[inline]
    pub(super) fn mix(&self) -> u64 {
        let [w0, w1, w2] = self.0;
        let a = w0 ^ 0x9E37_79B9_7F4A_7C15;
        let b = w1 ^ w2.rotate_left(32) ^ 0xD6E8_FEB8_6659_FD93;
        let m = u128::from(a) * u128::from(b);
        // Folding keeps both halves: the truncation is the point.
        #[allow(clippy::cast_possible_truncation)]
        let folded = (m as u64) ^ ((m >> 64) as u64);
        folded
    }

    /// Builds the key with whole-word loads: copying bytes into a stack buffer and reading
    /// words back stalls store-to-load forwarding and tripled the cost of a check.
    #[inline]
    pub(super) fn new(id: &str) -> Option<InlineId> {
        let src = id.as_bytes();
        if src.len() > INLINE_ID_BYTES {
            return None;
        }
        // At most 23: the length fits the top byte.
        let len = src.len() as u64;
        Some(InlineId([
            load_word(src, 0),
            load_word(src, 8),
            load_word(src, 16) | (len << 56),
        ]))
    }
}

/// The (up to) 8 bytes of `src` from `start`, little-endian, zero-padded.
#[inline]
fn load_word(src: &[u8], start: usize) -> u64 {
    let len = src.len();
    if start >= len {
        return 0;
    }
    let take = (len - start).min(8);
    let word = |from: usize| {
        let mut w = [0u8; 8];
        if let Some(bytes) = src.get(from..from + 8) {
            w.copy_from_slice(bytes);
        }
        u64::from_le_bytes(w)
    };
    if take == 8 {
        word(start)
    } else if len >= 8 {
        // The last 8 bytes, shifted so only the `take` wanted ones remain.
        word(len - 8) >> ((8 - take) * 8)
    } else {
        src.iter()
            .skip(start)
            .enumerate()
            .fold(0, |v, (i, b)| v | (u64::from(*b) << (8 * i)))
    }
}

impl std::hash::Hash for InlineId {
    #[inline]
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        state.write_u64(self.mix());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_of_every_length_are_distinct_keys() {
        let ids: Vec<String> = (0..=INLINE_ID_BYTES).map(|n| "x".repeat(n)).collect();
        let keys: Vec<InlineId> = ids.iter().map(|id| InlineId::new(id).unwrap()).collect();
        for (i, a) in keys.iter().enumerate() {
            for b in &keys[i + 1..] {
                assert_ne!(a, b);
            }
        }
        assert_ne!(InlineId::new("usr_ab"), InlineId::new("usr_ba"));
        assert_eq!(
            InlineId::new("usr_0123456789abcdef"),
            InlineId::new("usr_0123456789abcdef")
        );
        assert!(InlineId::new(&"y".repeat(24)).is_none());
        // Trailing bytes of a short tail are kept in place.
        let k = InlineId::new("abcdefghijk").unwrap();
        assert_eq!(k.0[1], u64::from_le_bytes(*b"ijk\0\0\0\0\0"));
    }
}
