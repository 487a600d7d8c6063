//! Login throttling: after 5 failures for one key (an account or an address), every
//! further attempt waits: 30 s, then doubling up to 15 minutes, counted from the last
//! failure. Unknown accounts are throttled exactly like real ones, so the answer
//! never tells whether an account exists. Kept in memory: a restart forgets it.

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
    /// `Err(seconds)` when any of `keys` must still wait.
    pub fn check(&self, keys: &[String], now: DateTime<Utc>) -> Result<(), u64> {
        let Ok(entries) = self.entries.lock() else {
            return Ok(());
        };
        let mut wait = 0i64;
        for k in keys {
            if let Some(e) = entries.get(k) {
                let until = e.last + Duration::seconds(wait_after(e.failures));
                wait = wait.max((until - now).num_seconds());
            }
        }
        if wait > 0 {
            Err(wait as u64)
        } else {
            Ok(())
        }
    }

    pub fn fail(&self, keys: &[String], now: DateTime<Utc>) {
        let Ok(mut entries) = self.entries.lock() else {
            return;
        };
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
            e.failures += 1;
            e.last = now;
        }
    }

    pub fn clear(&self, key: &str) {
        if let Ok(mut entries) = self.entries.lock() {
            entries.remove(key);
        }
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
            assert!(t.check(&keys, t0).is_ok(), "attempt {i}");
            t.fail(&keys, t0);
        }
        assert_eq!(t.check(&keys, t0), Err(30));
        assert!(t.check(&keys, t0 + Duration::seconds(31)).is_ok());
        t.fail(&keys, t0 + Duration::seconds(31));
        assert_eq!(t.check(&keys, t0 + Duration::seconds(31)), Err(60));
        // Another key is not affected; clearing starts over.
        assert!(t.check(&["address:1.2.3.4".to_string()], t0).is_ok());
        t.clear(&keys[0]);
        assert!(t.check(&keys, t0).is_ok());
        assert_eq!(wait_after(40), MAX_WAIT_SECS);
    }
}
