//! The one reading of a date and time that a person typed or a link carries: the audit
//! log's `from`/`to` (page and REST), the explorer's and the CSV export's `start`/`end`.
//!
//! Accepted, and nothing else (surrounding whitespace is ignored):
//! - RFC 3339 with an offset: `2026-11-30T14:00:00Z`, `2026-11-30T14:00:00.250+01:00`
//!   (a space for the `T` too, as RFC 3339 allows);
//! - a date and time without an offset, read as UTC (or, in the browser's explorer, as
//!   the browser's zone): `2026-11-30T14:00` (what a `datetime-local` input sends),
//!   `2026-11-30T14:00:00`, `2026-11-30T14:00:00.250`, and the same with a space for the
//!   `T`;
//! - a date alone: `2026-11-30`, its midnight.

use chrono::{DateTime, NaiveDate, NaiveDateTime, Utc};

/// The forms above, said to a user whose text was refused.
pub const DATE_TIME_FORMATS: &str =
    "2026-11-30T14:00 (UTC), 2026-11-30T14:00:00+01:00 (RFC 3339) or 2026-11-30";

/// An instant in one of the accepted forms (no offset: UTC).
pub fn parse_instant(text: &str) -> Option<DateTime<Utc>> {
    let text = text.trim();
    if let Ok(t) = DateTime::parse_from_rfc3339(text) {
        return Some(t.with_timezone(&Utc));
    }
    parse_local(text).map(|n| n.and_utc())
}

/// A date and time without an offset (or a date: its midnight), in one of the accepted
/// forms; `None` for RFC 3339 text with an offset.
pub fn parse_local(text: &str) -> Option<NaiveDateTime> {
    let text = text.trim();
    for f in [
        "%Y-%m-%dT%H:%M",
        "%Y-%m-%dT%H:%M:%S%.f",
        "%Y-%m-%d %H:%M",
        "%Y-%m-%d %H:%M:%S%.f",
    ] {
        if let Ok(n) = NaiveDateTime::parse_from_str(text, f) {
            return Some(n);
        }
    }
    NaiveDate::parse_from_str(text, "%Y-%m-%d")
        .ok()
        .and_then(|d| d.and_hms_opt(0, 0, 0))
}

/// `"{text}" is not a date and time (…the accepted forms).`
pub fn date_time_error(text: &str) -> String {
    format!("\"{text}\" is not a date and time ({DATE_TIME_FORMATS}).")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn utc(text: &str) -> String {
        parse_instant(text)
            .map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::Millis, true))
            .unwrap_or_else(|| "refused".into())
    }

    /// Each of the three former readings refused some of what another took: the REST
    /// export and audit log took RFC 3339 only, the explorer no date alone, the audit
    /// page no fraction of a second.
    #[test]
    fn one_set_of_forms() {
        for (text, want) in [
            ("2026-11-30T14:00:00Z", "2026-11-30T14:00:00.000Z"),
            ("2026-11-30T14:00:00+01:00", "2026-11-30T13:00:00.000Z"),
            ("2026-11-30 14:00:00.250Z", "2026-11-30T14:00:00.250Z"),
            ("2026-11-30T14:00", "2026-11-30T14:00:00.000Z"),
            (" 2026-11-30T14:00:05 ", "2026-11-30T14:00:05.000Z"),
            ("2026-11-30T14:00:05.250", "2026-11-30T14:00:05.250Z"),
            ("2026-11-30 14:00", "2026-11-30T14:00:00.000Z"),
            ("2026-11-30", "2026-11-30T00:00:00.000Z"),
            ("yesterday", "refused"),
            ("2026-11-30T25:00", "refused"),
            ("2026-11-30T14", "refused"),
            ("30.11.2026", "refused"),
            ("", "refused"),
        ] {
            assert_eq!(utc(text), want, "{text}");
        }
        assert_eq!(parse_local("2026-11-30T14:00:00Z"), None);
        assert!(date_time_error("x").contains("2026-11-30T14:00 (UTC)"));
    }
}
