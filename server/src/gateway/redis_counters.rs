//! Rate-limiting counters in Redis (policy `redis`): every node of a group that points
//! at the same Redis shares one count per window.
//!
//! - One connection per distinct Redis config, shared by every snapshot, route and
//!   data plane of the process that uses that config (a [`redis::aio::ConnectionManager`]:
//!   one multiplexed connection, reconnected in the background after a failure); never
//!   a connection per request.
//! - [`Counters::hit`] is one round trip: [`HIT_SCRIPT`] (EVALSHA, EVAL the first time
//!   Redis does not know it) checks every window and, only when none is at its limit,
//!   increments them all and gives new keys their expiry, atomically (Redis runs a
//!   script alone).
//! - `timeout` (ms) bounds each call: a Redis that is down, slow or refuses the
//!   credentials gives a [`CounterError`] within it (the plugin's `fault_tolerant`
//!   decides what the client gets).
//! - `host` is a host name or address; a host that starts with `/` is the path of a
//!   Unix socket (`port` is then ignored). `ssl: true` is refused (not supported yet).

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Arc, LazyLock, Mutex, Weak};
use std::time::Duration;

use portico_plugins::config::Redis;
use redis::aio::{ConnectionManager, ConnectionManagerConfig};
use redis::{ConnectionAddr, ConnectionInfo, IntoConnectionInfo, RedisConnectionInfo, Script};
use tokio::sync::OnceCell;

use super::counters::{CounterError, Counters, Usage, Window};

/// Check-and-count of all windows of one request.
///
/// `KEYS[i]`: the counter of window i; `ARGV[2i-1]`: its limit; `ARGV[2i]`: the
/// milliseconds left in the window. Returns `{allowed (1 or 0), count_1, …, count_n}`:
/// the counts after this request when allowed, the counts that denied it otherwise
/// (nothing is counted then). A counter without an expiry (PTTL -1) gets one, so no
/// key outlives its window.
pub(crate) const HIT_SCRIPT: &str = r"
local n = #KEYS
local counts = {}
local allowed = 1
for i = 1, n do
  local c = tonumber(redis.call('GET', KEYS[i]) or '0')
  counts[i] = c
  if c >= tonumber(ARGV[2 * i - 1]) then
    allowed = 0
  end
end
if allowed == 1 then
  for i = 1, n do
    counts[i] = redis.call('INCR', KEYS[i])
    if redis.call('PTTL', KEYS[i]) < 0 then
      redis.call('PEXPIRE', KEYS[i], ARGV[2 * i])
    end
  end
end
local out = {allowed}
for i = 1, n do
  out[i + 1] = counts[i]
end
return out
";

static SCRIPT: LazyLock<Script> = LazyLock::new(|| Script::new(HIT_SCRIPT));

/// The stores in use, by config: snapshots compiled again reuse the connection of the
/// previous one (held weakly: a config no snapshot uses any more closes its connection).
static STORES: LazyLock<Mutex<HashMap<StoreKey, Weak<RedisCounters>>>> =
    LazyLock::new(Default::default);

/// What makes two Redis configs need different connections.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
struct StoreKey {
    host: String,
    port: u16,
    timeout_ms: u64,
    username: Option<String>,
    password: Option<String>,
    database: i64,
}

/// The shared counter store of `cfg` (made on first use; no connection is opened
/// until the first request needs it). Errors name the config field.
pub(crate) fn redis_counters(cfg: &Redis) -> Result<Arc<dyn Counters>, String> {
    let host = match cfg.host.as_deref().map(str::trim) {
        Some(h) if !h.is_empty() => h.to_string(),
        _ => return Err("config.redis.host: required when config.policy is redis".into()),
    };
    if cfg.ssl {
        return Err(
            "config.redis.ssl: TLS connections to Redis are not supported; use false (a Redis on a private network or a Unix socket)"
                .into(),
        );
    }
    if cfg.database < 0 {
        return Err("config.redis.database: must be 0 or greater".into());
    }
    let key = StoreKey {
        host,
        port: cfg.port,
        timeout_ms: cfg.timeout.max(1),
        username: cfg.username.clone().filter(|u| !u.is_empty()),
        password: cfg.password.clone().filter(|p| !p.is_empty()),
        database: cfg.database,
    };
    let mut stores = STORES.lock().unwrap_or_else(|e| e.into_inner());
    if let Some(store) = stores.get(&key).and_then(Weak::upgrade) {
        return Ok(store);
    }
    stores.retain(|_, s| s.strong_count() > 0);
    let store = Arc::new(RedisCounters::new(&key)?);
    stores.insert(key, Arc::downgrade(&store));
    Ok(store)
}

/// Counters in one Redis (see the module doc).
pub(crate) struct RedisCounters {
    client: redis::Client,
    timeout: Duration,
    /// Made on the first request (it needs the Tokio runtime).
    conn: OnceCell<ConnectionManager>,
    /// `host:port/database`, for messages (no credentials).
    name: String,
}

impl RedisCounters {
    fn new(key: &StoreKey) -> Result<Self, String> {
        let (addr, name) = if key.host.starts_with('/') {
            (
                ConnectionAddr::Unix(PathBuf::from(&key.host)),
                format!("unix:{}/{}", key.host, key.database),
            )
        } else {
            (
                ConnectionAddr::Tcp(key.host.clone(), key.port),
                format!("{}:{}/{}", key.host, key.port, key.database),
            )
        };
        let mut settings = RedisConnectionInfo::default().set_db(key.database);
        if let Some(u) = &key.username {
            settings = settings.set_username(u);
        }
        if let Some(p) = &key.password {
            settings = settings.set_password(p);
        }
        let info: ConnectionInfo = addr
            .into_connection_info()
            .map_err(|e| format!("config.redis: {e}"))?
            .set_redis_settings(settings);
        let client = redis::Client::open(info).map_err(|e| format!("config.redis: {e}"))?;
        Ok(RedisCounters {
            client,
            timeout: Duration::from_millis(key.timeout_ms),
            conn: OnceCell::new(),
            name,
        })
    }

    fn connection(&self) -> Result<ConnectionManager, CounterError> {
        if let Some(c) = self.conn.get() {
            return Ok(c.clone());
        }
        let config = ConnectionManagerConfig::new()
            .set_connection_timeout(Some(self.timeout))
            .set_response_timeout(Some(self.timeout))
            // a failed connection is retried in the background a few times, then again
            // on the next request
            .set_number_of_retries(3)
            .set_min_delay(Duration::from_millis(50))
            .set_max_delay(Duration::from_secs(1));
        let made = ConnectionManager::new_lazy_with_config(self.client.clone(), config)
            .map_err(|e| CounterError(format!("Redis {}: {e}", self.name)))?;
        // two first requests may race: the one stored wins, the other is dropped unused
        let _ = self.conn.set(made);
        self.conn
            .get()
            .cloned()
            .ok_or_else(|| CounterError(format!("Redis {}: no connection", self.name)))
    }
}

#[async_trait::async_trait]
impl Counters for RedisCounters {
    async fn hit(&self, windows: &[Window]) -> Result<Usage, CounterError> {
        if windows.is_empty() {
            return Ok(Usage {
                allowed: true,
                counts: Vec::new(),
            });
        }
        let mut conn = self.connection()?;
        let mut call = SCRIPT.prepare_invoke();
        for w in windows {
            let ttl_ms = u64::try_from(w.ttl.as_millis()).unwrap_or(u64::MAX).max(1);
            call.key(&w.key).arg(w.limit).arg(ttl_ms);
        }
        let answer = match tokio::time::timeout(
            self.timeout,
            call.invoke_async::<Vec<i64>>(&mut conn),
        )
        .await
        {
            Ok(Ok(v)) => v,
            Ok(Err(e)) => return Err(CounterError(format!("Redis {}: {e}", self.name))),
            Err(_) => {
                return Err(CounterError(format!(
                    "Redis {}: no answer within {} ms",
                    self.name,
                    self.timeout.as_millis()
                )))
            }
        };
        let (allowed, counts) = match answer.split_first() {
            Some((a, c)) if c.len() == windows.len() => (*a == 1, c),
            _ => {
                return Err(CounterError(format!(
                    "Redis {}: unexpected answer of the counter script",
                    self.name
                )))
            }
        };
        Ok(Usage {
            allowed,
            counts: counts
                .iter()
                .map(|c| u64::try_from(*c).unwrap_or(0))
                .collect(),
        })
    }
}

#[cfg(test)]
#[path = "redis_counters_tests.rs"]
mod tests;
