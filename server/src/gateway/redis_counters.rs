//! Rate-limiting counters in Redis (policy `redis`). Placeholder in this branch: the
//! real store comes with the Redis work; until then a snapshot with the `redis`
//! policy is refused with this message.

use std::sync::Arc;

use super::counters::Counters;

/// The counter store for `cfg` (built once per snapshot compile).
pub(crate) fn redis_counters(
    _cfg: &portico_plugins::config::Redis,
) -> Result<Arc<dyn Counters>, String> {
    Err("the redis policy is not available in this build".into())
}
