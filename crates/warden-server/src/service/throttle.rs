//! Failed authentications, limited per client address: each address has a bucket of
//! attempts that refills at a steady rate; every failed authentication takes one, and an
//! address whose bucket is empty is refused (429, `Retry-After`) before its token is even
//! looked at. Successful authentications cost nothing, so a well-behaved client behind the
//! same address as a guesser is only refused once the guesser has emptied the bucket.

use std::net::IpAddr;
use std::sync::Mutex;
use std::time::Instant;

use rustc_hash::FxHashMap;

/// How many failed authentications an address may make: a burst, then a steady rate.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct AuthFailureLimit {
    /// Failed attempts allowed at once.
    pub burst: u32,
    /// Failed attempts allowed per second, after the burst.
    pub per_second: f64,
}

impl Default for AuthFailureLimit {
    fn default() -> Self {
        AuthFailureLimit {
            burst: 100,
            per_second: 10.0,
        }
    }
}

/// Most addresses tracked; past it, full buckets (addresses that stopped failing) are
/// forgotten.
const MAX_ADDRESSES: usize = 100_000;

#[derive(Debug, Clone, Copy)]
struct Bucket {
    attempts: f64,
    at: Instant,
}

#[derive(Debug)]
pub(super) struct Throttle {
    limit: Option<AuthFailureLimit>,
    buckets: Mutex<FxHashMap<IpAddr, Bucket>>,
}

impl Throttle {
    pub(super) fn new(limit: Option<AuthFailureLimit>) -> Throttle {
        Throttle {
            limit,
            buckets: Mutex::new(FxHashMap::default()),
        }
    }

    fn refilled(limit: AuthFailureLimit, bucket: Bucket, now: Instant) -> f64 {
        let elapsed = now.saturating_duration_since(bucket.at).as_secs_f64();
        (bucket.attempts + elapsed * limit.per_second).min(f64::from(limit.burst))
    }

    /// `Some(seconds to wait)` if `address` may not try to authenticate now.
    pub(super) fn refused(&self, address: IpAddr) -> Option<u64> {
        let limit = self.limit?;
        let buckets = self.buckets.lock().ok()?;
        let bucket = *buckets.get(&address)?;
        let attempts = Self::refilled(limit, bucket, Instant::now());
        if attempts >= 1.0 {
            return None;
        }
        let wait = (1.0 - attempts) / limit.per_second.max(f64::MIN_POSITIVE);
        // At least one second: `Retry-After` counts whole seconds. Clamped, so the cast is
        // exact.
        #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
        Some(wait.ceil().clamp(1.0, 3_600.0) as u64)
    }

    /// Records a failed authentication from `address`.
    pub(super) fn failed(&self, address: IpAddr) {
        let Some(limit) = self.limit else {
            return;
        };
        let Ok(mut buckets) = self.buckets.lock() else {
            return;
        };
        let now = Instant::now();
        if buckets.len() >= MAX_ADDRESSES && !buckets.contains_key(&address) {
            buckets.retain(|_, b| Self::refilled(limit, *b, now) < f64::from(limit.burst));
            if buckets.len() >= MAX_ADDRESSES {
                buckets.clear();
            }
        }
        let full = Bucket {
            attempts: f64::from(limit.burst),
            at: now,
        };
        let bucket = buckets.entry(address).or_insert(full);
        bucket.attempts = (Self::refilled(limit, *bucket, now) - 1.0).max(0.0);
        bucket.at = now;
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    #[test]
    fn an_address_is_refused_after_its_burst_and_others_are_not() {
        let throttle = Throttle::new(Some(AuthFailureLimit {
            burst: 3,
            per_second: 0.5,
        }));
        let guesser: IpAddr = "192.0.2.1".parse().unwrap();
        let neighbour: IpAddr = "192.0.2.2".parse().unwrap();
        for _ in 0..3 {
            assert_eq!(throttle.refused(guesser), None);
            throttle.failed(guesser);
        }
        let wait = throttle.refused(guesser).unwrap();
        assert!((1..=2).contains(&wait), "{wait}");
        assert_eq!(throttle.refused(neighbour), None);
        assert_eq!(Throttle::new(None).refused(guesser), None);
    }
}
