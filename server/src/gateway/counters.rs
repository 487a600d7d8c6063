//! Rate-limiting counters: the seam between the rate-limiting plugin (which decides
//! windows, keys and headers) and where counts live — the node's memory
//! ([`LocalCounters`], policy `local`) or Redis (policy `redis`, shared by every node of
//! a group).
//!
//! One call per request checks and counts every window of the request at once, as
//! Kong does: when any window is already at its limit nothing is counted and the
//! request is denied; otherwise every window counts it. A store does this atomically
//! (a mutex here; one Lua script round trip in Redis).

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// One window of one request: its counter key, its limit and how long the window
/// lasts from now (the counter expires then).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Window {
    /// Unique per plugin instance, identifier, period and window start
    /// (`ratelimit:<plugin id>:<identifier>:<period>:<window start>`).
    pub key: String,
    pub limit: u64,
    /// Time left in the window.
    pub ttl: Duration,
}

/// What a store answers for one request's windows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Usage {
    /// Whether the request was allowed (and counted).
    pub allowed: bool,
    /// For each window, in order: the count after this request (when allowed) or the
    /// count that denied it.
    pub counts: Vec<u64>,
}

/// The store failed (Redis unreachable, timed out, refused): `fault_tolerant` decides.
#[derive(Debug, thiserror::Error)]
#[error("rate-limiting counter store: {0}")]
pub(crate) struct CounterError(pub String);

/// Where counters live.
#[async_trait::async_trait]
pub(crate) trait Counters: Send + Sync + 'static {
    /// Check and count: see the module doc.
    async fn hit(&self, windows: &[Window]) -> Result<Usage, CounterError>;
}

/// Counters in this node's memory (policy `local`). Expired windows are dropped as
/// the map grows.
#[derive(Debug, Default)]
pub(crate) struct LocalCounters {
    map: Mutex<LocalMap>,
}

#[derive(Debug, Default)]
struct LocalMap {
    counts: HashMap<String, (u64, Instant)>,
    /// Size at which expired entries are swept next.
    sweep_at: usize,
}

impl LocalCounters {
    /// Check and count without waiting (the lock is held for a few map lookups).
    pub(crate) fn hit_now(&self, windows: &[Window], now: Instant) -> Usage {
        let mut m = self.map.lock().unwrap_or_else(|e| e.into_inner());
        if m.counts.len() >= m.sweep_at.max(1024) {
            m.counts.retain(|_, (_, exp)| *exp > now);
            m.sweep_at = m.counts.len() * 2;
        }
        let mut counts = Vec::with_capacity(windows.len());
        let mut allowed = true;
        for w in windows {
            let c = match m.counts.get(&w.key) {
                Some((c, exp)) if *exp > now => *c,
                _ => 0,
            };
            if c >= w.limit {
                allowed = false;
            }
            counts.push(c);
        }
        if allowed {
            for (w, c) in windows.iter().zip(counts.iter_mut()) {
                let e = m.counts.entry(w.key.clone()).or_insert((0, now + w.ttl));
                if e.1 <= now {
                    *e = (0, now + w.ttl);
                }
                e.0 += 1;
                *c = e.0;
            }
        }
        Usage { allowed, counts }
    }
}

#[async_trait::async_trait]
impl Counters for LocalCounters {
    async fn hit(&self, windows: &[Window]) -> Result<Usage, CounterError> {
        Ok(self.hit_now(windows, Instant::now()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn w(key: &str, limit: u64) -> Window {
        Window {
            key: key.into(),
            limit,
            ttl: Duration::from_secs(60),
        }
    }

    #[test]
    fn counts_until_the_tightest_window_is_full_and_then_counts_nothing() {
        let c = LocalCounters::default();
        let now = Instant::now();
        let ws = [w("m", 3), w("h", 10)];
        for i in 1..=3 {
            let u = c.hit_now(&ws, now);
            assert!(u.allowed);
            assert_eq!(u.counts, vec![i, i]);
        }
        let u = c.hit_now(&ws, now);
        assert!(!u.allowed);
        assert_eq!(u.counts, vec![3, 3], "a denied request is not counted");
        // the window ends: counting starts again
        let later = now + Duration::from_secs(61);
        let u = c.hit_now(&ws, later);
        assert!(u.allowed);
        assert_eq!(u.counts, vec![1, 1]);
    }
}
