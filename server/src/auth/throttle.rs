//! Login throttling: after 5 failures for one key (an account or an address), every
//! further attempt waits: 30 s, then doubling up to 15 minutes, counted from the last
//! failure. Unknown accounts are throttled exactly like real ones, so the answer
//! never tells whether an account exists. Kept in memory: a restart forgets it.
//!
//! An attempt counts as a failure from the moment it is let through, before its
//! password is checked: of many attempts sent at once, only as many as there are free
//! failures get a password check, and the rest wait. A success takes its count back.

use std::collections::HashMap;
use std::sync::Mutex;

use chrono::{DateTime, Duration, Utc};

/// Failures allowed before the back-off starts.
pub const FREE_FAILURES: u32 = 5;
const FIRST_WAIT_SECS: i64 = 30;
const MAX_WAIT_SECS: i64 = 15 * 60;
/// A key with no failure for this long starts over.
const FORGET_AFTER_SECS: i64 = 60 * 60;

#[derive(Debug, Clone, Copy)]
struct Entry {
    failures: u32,
    last: DateTime<Utc>,
}

#[derive(Debug, Default)]
pub struct Throttle {
    entries: Mutex<HashMap<String, Entry>>,
}

fn wait_after(failures: u32) -> i64 {
    if failures < FREE_FAILURES {
        return 0;
    }
    let doublings = (failures - FREE_FAILURES).min(16);
    (FIRST_WAIT_SECS << doublings).min(MAX_WAIT_SECS)
}

impl Throttle {
    /// Lets an attempt for `keys` through and counts it as a failure for each (see
    /// [`Throttle::succeeded`], [`Throttle::refund`]); `Err(seconds)`, with nothing
    /// counted, when any of `keys` must still wait. One lock for both, so attempts
    /// made at once cannot all pass.
    pub fn attempt(&self, keys: &[String], now: DateTime<Utc>) -> Result<(), u64> {
        let mut entries = self
            .entries
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let mut wait = 0i64;
        for k in keys {
            if let Some(e) = entries.get(k) {
                if (now - e.last).num_seconds() >= FORGET_AFTER_SECS {
                    continue;
                }
                let until = e.last + Duration::seconds(wait_after(e.failures));
                wait = wait.max((until - now).num_seconds());
            }
        }
        if wait > 0 {
            return Err(wait as u64);
        }
        if entries.len() > 100_000 {
            entries.retain(|_, e| (now - e.last).num_seconds() < FORGET_AFTER_SECS);
        }
        for k in keys {
            let e = entries.entry(k.clone()).or_insert(Entry {
                failures: 0,
                last: now,
            });
            if (now - e.last).num_seconds() >= FORGET_AFTER_SECS {
                e.failures = 0;
            }
            e.failures = e.failures.saturating_add(1);
            e.last = now;
        }
        Ok(())
    }

    /// The attempt signed in: its account (the first key) starts over, and the other
    /// keys get back the failure [`Throttle::attempt`] counted.
    pub fn succeeded(&self, keys: &[String]) {
        let Some((account, others)) = keys.split_first() else {
            return;
        };
        self.clear(account);
        self.refund(others);
    }

    /// The attempt could not be checked (an internal error): it does not count.
    pub fn refund(&self, keys: &[String]) {
        let mut entries = self
            .entries
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        for k in keys {
            if let Some(e) = entries.get_mut(k) {
                e.failures = e.failures.saturating_sub(1);
                if e.failures == 0 {
                    entries.remove(k);
                }
            }
        }
    }

    pub fn clear(&self, key: &str) {
        self.entries
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .remove(key);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn five_failures_are_free_then_the_wait_doubles() {
        let t = Throttle::default();
        let keys = vec!["account:a@b.io".to_string()];
        let t0 = Utc::now();
        for i in 0..FREE_FAILURES {
            assert!(t.attempt(&keys, t0).is_ok(), "attempt {i}");
        }
        assert_eq!(t.attempt(&keys, t0), Err(30));
        assert_eq!(
            t.attempt(&keys, t0),
            Err(30),
            "a refused attempt counts nothing"
        );
        assert!(t.attempt(&keys, t0 + Duration::seconds(31)).is_ok());
        assert_eq!(t.attempt(&keys, t0 + Duration::seconds(31)), Err(60));
        // Another key is not affected; clearing starts over.
        assert!(t.attempt(&["address:1.2.3.4".to_string()], t0).is_ok());
        t.clear(&keys[0]);
        assert!(t.attempt(&keys, t0).is_ok());
        assert_eq!(wait_after(40), MAX_WAIT_SECS);
    }

    #[test]
    fn a_success_gives_the_address_its_attempt_back() {
        let t = Throttle::default();
        let t0 = Utc::now();
        // One address signs in many users (an office behind one NAT): never throttled.
        for i in 0..3 * FREE_FAILURES {
            let keys = vec![format!("account:u{i}@b.io"), "address:10.0.0.1".to_string()];
            assert!(t.attempt(&keys, t0).is_ok(), "sign-in {i}");
            t.succeeded(&keys);
        }
        let keys = vec!["account:a@b.io".to_string(), "address:10.0.0.1".to_string()];
        for _ in 0..FREE_FAILURES - 1 {
            t.attempt(&keys, t0).unwrap();
        }
        t.attempt(&keys, t0).unwrap();
        t.refund(&keys);
        assert!(
            t.attempt(&keys, t0).is_ok(),
            "a refunded attempt did not count"
        );
        assert!(t.attempt(&keys, t0).is_err());
    }
}
