//! `rate-limiting` (priority 910), as Kong 3.x's
//! `kong/plugins/rate-limiting/handler.lua`, with fixed windows starting at the whole
//! second, minute, hour, UTC day, UTC month and UTC year.
//!
//! - counted by `limit_by`: `consumer` (else the credential, else the IP), `credential`
//!   (else the IP), `ip` (the peer address), `service` (the route's version), `header`
//!   (`header_name`'s value, else the IP), `path` (the request path when it equals
//!   `path`, else the IP);
//! - all windows are checked and counted at once ([`Counters`]): past any limit the
//!   request is not counted and gets `error_code` (429) with
//!   `{"message": error_message}` ("API rate limit exceeded") and `Retry-After`;
//! - headers (unless `hide_client_headers`), on the denial and on proxied responses:
//!   `X-RateLimit-Limit-<Period>`, `X-RateLimit-Remaining-<Period>` for each window,
//!   and `RateLimit-Limit`, `RateLimit-Remaining`, `RateLimit-Reset` for the window
//!   with the fewest requests left (the longer one on a tie);
//! - the store failing (Redis): `fault_tolerant` proxies without headers and logs the
//!   error; otherwise 500 `{"message":"An unexpected error occurred"}`.

use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Datelike, TimeZone, Timelike, Utc};
use hyper::header::{HeaderName, HeaderValue, RETRY_AFTER};
use hyper::StatusCode;
use portico_plugins::config::{self, LimitBy, Period};

use super::{Access, Answer};
use crate::gateway::counters::{Counters, Window};
use crate::gateway::log::ErrorKind;

static RATELIMIT_LIMIT: HeaderName = HeaderName::from_static("ratelimit-limit");
static RATELIMIT_REMAINING: HeaderName = HeaderName::from_static("ratelimit-remaining");
static RATELIMIT_RESET: HeaderName = HeaderName::from_static("ratelimit-reset");

/// Kong's `expiration.lua`: the window lengths used for `RateLimit-Reset`.
fn expiration(p: Period) -> i64 {
    match p {
        Period::Second => 1,
        Period::Minute => 60,
        Period::Hour => 3600,
        Period::Day => 86_400,
        Period::Month => 2_592_000,
        Period::Year => 31_536_000,
    }
}

/// The start of `p`'s window holding `now` (whole seconds, UTC), and the next one's.
pub(crate) fn window(p: Period, now: i64) -> (i64, i64) {
    let t = Utc.timestamp_opt(now, 0).single().unwrap_or_default();
    let day = |d: DateTime<Utc>| {
        d.with_hour(0)
            .and_then(|d| d.with_minute(0))
            .and_then(|d| d.with_second(0))
            .unwrap_or(d)
    };
    let ymd = |y: i32, m: u32| {
        Utc.with_ymd_and_hms(y, m, 1, 0, 0, 0)
            .single()
            .map_or(now, |d| d.timestamp())
    };
    match p {
        Period::Second => (now, now + 1),
        Period::Minute => (now - now.rem_euclid(60), now - now.rem_euclid(60) + 60),
        Period::Hour => (
            now - now.rem_euclid(3600),
            now - now.rem_euclid(3600) + 3600,
        ),
        Period::Day => {
            let s = day(t).timestamp();
            (s, s + 86_400)
        }
        Period::Month => {
            let (y, m) = (t.year(), t.month());
            let next = if m == 12 {
                ymd(y + 1, 1)
            } else {
                ymd(y, m + 1)
            };
            (ymd(y, m), next)
        }
        Period::Year => (ymd(t.year(), 1), ymd(t.year() + 1, 1)),
    }
}

struct Limit {
    period: Period,
    limit: u64,
    limit_value: HeaderValue,
    limit_name: HeaderName,
    remaining_name: HeaderName,
}

pub(crate) struct RateLimiting {
    id: String,
    limits: Vec<Limit>,
    cfg: config::RateLimiting,
    header_name: Option<HeaderName>,
    status: StatusCode,
    store: Arc<dyn Counters>,
}

impl RateLimiting {
    pub(crate) fn compile(
        id: &str,
        cfg: config::RateLimiting,
        store: Arc<dyn Counters>,
    ) -> Result<RateLimiting, String> {
        let limits: Vec<Limit> = cfg
            .periods()
            .map(|(period, limit)| {
                let limit = limit.max(0.0) as u64;
                let title = period.title().to_ascii_lowercase();
                Limit {
                    period,
                    limit,
                    limit_value: HeaderValue::from(limit),
                    limit_name: HeaderName::from_bytes(
                        format!("x-ratelimit-limit-{title}").as_bytes(),
                    )
                    .unwrap_or(RATELIMIT_LIMIT.clone()),
                    remaining_name: HeaderName::from_bytes(
                        format!("x-ratelimit-remaining-{title}").as_bytes(),
                    )
                    .unwrap_or(RATELIMIT_REMAINING.clone()),
                }
            })
            .collect();
        if limits.is_empty() {
            return Err(
                "config: at least one of second, minute, hour, day, month or year is required"
                    .into(),
            );
        }
        let header_name = match (&cfg.limit_by, &cfg.header_name) {
            (LimitBy::Header, Some(h)) => Some(
                HeaderName::from_bytes(h.to_ascii_lowercase().as_bytes())
                    .map_err(|_| format!("config.header_name: {h:?} is not a header name"))?,
            ),
            (LimitBy::Header, None) => {
                return Err("config.header_name: required when limit_by is header".into())
            }
            _ => None,
        };
        let code = cfg.error_code;
        let status = StatusCode::from_u16(code as u16)
            .ok()
            .filter(|_| code.fract() == 0.0 && (100.0..=599.0).contains(&code))
            .ok_or_else(|| format!("config.error_code: {code} is not an HTTP status"))?;
        Ok(RateLimiting {
            id: id.to_string(),
            limits,
            cfg,
            header_name,
            status,
            store,
        })
    }

    /// What the request is counted by (Kong's `get_identifier`).
    fn identifier(&self, cx: &Access<'_>) -> String {
        let st = &cx.state;
        let found: Option<String> = match self.cfg.limit_by {
            LimitBy::Service => Some(cx.route.version_id.clone()),
            LimitBy::Consumer => st
                .consumer
                .as_ref()
                .map(|c| c.id.to_string())
                .or_else(|| st.credential.as_ref().map(|c| c.to_string())),
            LimitBy::Credential => st.credential.as_ref().map(|c| c.to_string()),
            LimitBy::Header => self
                .header_name
                .as_ref()
                .and_then(|h| cx.parts.headers.get(h))
                .and_then(|v| v.to_str().ok())
                .map(str::to_string),
            LimitBy::Path => {
                let p = cx.parts.uri.path();
                (Some(p) == self.cfg.path.as_deref()).then(|| p.to_string())
            }
            LimitBy::Ip => None,
        };
        found.unwrap_or_else(|| cx.peer.to_canonical().to_string())
    }

    pub(crate) async fn access(&self, cx: &mut Access<'_>) -> Result<(), Answer> {
        let now_ms = chrono::Utc::now().timestamp_millis();
        let now = now_ms.div_euclid(1000);
        let identifier = self.identifier(cx);
        let mut windows = Vec::with_capacity(self.limits.len());
        let mut starts = Vec::with_capacity(self.limits.len());
        for l in &self.limits {
            let (start, next) = window(l.period, now);
            windows.push(Window {
                key: format!(
                    "ratelimit:{}:{identifier}:{}:{start}",
                    self.id,
                    l.period.as_str()
                ),
                limit: l.limit,
                ttl: Duration::from_millis(
                    u64::try_from(next * 1000 - now_ms).unwrap_or(1000).max(1),
                ),
            });
            starts.push(start);
        }
        let usage = match self.store.hit(&windows).await {
            Ok(u) => u,
            Err(e) => {
                if self.cfg.fault_tolerant {
                    tracing::error!("rate-limiting: failed to get usage: {e}");
                    return Ok(());
                }
                tracing::error!("rate-limiting: {e}");
                return Err(Answer::error(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    ErrorKind::PluginError,
                    "An unexpected error occurred",
                ));
            }
        };
        if !self.cfg.hide_client_headers {
            // the tightest window: fewest left, the longer one on a tie
            let mut best: Option<(u64, i64, u64, i64)> = None; // (remaining, window, limit, reset)
            for ((l, count), start) in self.limits.iter().zip(&usage.counts).zip(&starts) {
                let remaining = l.limit.saturating_sub(*count);
                let win = expiration(l.period);
                if best.is_none_or(|(r, w, _, _)| remaining < r || (remaining == r && win > w)) {
                    let reset = (win - (now - start)).max(1);
                    best = Some((remaining, win, l.limit, reset));
                }
                cx.state
                    .resp_headers
                    .push((l.limit_name.clone(), l.limit_value.clone()));
                cx.state
                    .resp_headers
                    .push((l.remaining_name.clone(), HeaderValue::from(remaining)));
            }
            if let Some((remaining, _, limit, reset)) = best {
                let h = &mut cx.state.resp_headers;
                h.push((RATELIMIT_LIMIT.clone(), HeaderValue::from(limit)));
                h.push((RATELIMIT_REMAINING.clone(), HeaderValue::from(remaining)));
                h.push((RATELIMIT_RESET.clone(), HeaderValue::from(reset)));
                if !usage.allowed {
                    h.push((RETRY_AFTER, HeaderValue::from(reset)));
                }
            }
        }
        if !usage.allowed {
            return Err(Answer::error(
                self.status,
                ErrorKind::RateLimited,
                &self.cfg.error_message,
            ));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn windows_start_as_kongs() {
        // 2026-03-15T10:20:30Z
        let now = Utc
            .with_ymd_and_hms(2026, 3, 15, 10, 20, 30)
            .unwrap()
            .timestamp();
        let at = |y, mo, d, h, mi, s| {
            Utc.with_ymd_and_hms(y, mo, d, h, mi, s)
                .unwrap()
                .timestamp()
        };
        let table = [
            (Period::Second, now, now + 1),
            (
                Period::Minute,
                at(2026, 3, 15, 10, 20, 0),
                at(2026, 3, 15, 10, 21, 0),
            ),
            (
                Period::Hour,
                at(2026, 3, 15, 10, 0, 0),
                at(2026, 3, 15, 11, 0, 0),
            ),
            (
                Period::Day,
                at(2026, 3, 15, 0, 0, 0),
                at(2026, 3, 16, 0, 0, 0),
            ),
            (
                Period::Month,
                at(2026, 3, 1, 0, 0, 0),
                at(2026, 4, 1, 0, 0, 0),
            ),
            (
                Period::Year,
                at(2026, 1, 1, 0, 0, 0),
                at(2027, 1, 1, 0, 0, 0),
            ),
        ];
        for (p, start, next) in table {
            assert_eq!(window(p, now), (start, next), "{p:?}");
        }
        let dec = at(2026, 12, 31, 23, 0, 0);
        assert_eq!(
            window(Period::Month, dec),
            (at(2026, 12, 1, 0, 0, 0), at(2027, 1, 1, 0, 0, 0))
        );
    }
}
