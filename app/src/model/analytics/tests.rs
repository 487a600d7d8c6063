//! The analytics model's rules.
use super::*;

#[test]
fn frames_have_the_issues_buckets() {
    let pairs: Vec<(&str, &str)> = TimeFrame::ALL
        .iter()
        .map(|f| (f.as_str(), f.granularity().as_str()))
        .collect();
    assert_eq!(
        pairs,
        [
            ("15m", "1m"),
            ("1h", "1m"),
            ("6h", "1m"),
            ("12h", "1h"),
            ("24h", "1h"),
            ("7d", "1h"),
            ("30d", "1d")
        ]
    );
}

#[test]
fn custom_ranges_keep_about_500_points() {
    assert_eq!(Granularity::for_range(8 * 3600), Granularity::Minute);
    assert_eq!(Granularity::for_range(9 * 3600), Granularity::Hour);
    assert_eq!(Granularity::for_range(20 * 86400), Granularity::Hour);
    assert_eq!(Granularity::for_range(21 * 86400), Granularity::Day);
}

#[test]
fn query_rules_name_their_field() {
    let q = AnalyticsQuery {
        metrics: vec![],
        ..Default::default()
    };
    assert_eq!(q.validate().unwrap_err().field, "metrics");
    let q = AnalyticsQuery {
        then_by: Some(Dimension::Route),
        ..Default::default()
    };
    assert_eq!(q.validate().unwrap_err().field, "then_by");
    let now = DateTime::from_timestamp(1_800_000_000, 0).unwrap();
    let q = AnalyticsQuery {
        time_frame: None,
        start: Some(now),
        end: Some(now - chrono::Duration::hours(1)),
        ..Default::default()
    };
    assert_eq!(q.validate().unwrap_err().field, "end");
    let q = AnalyticsQuery {
        time_frame: Some(TimeFrame::D30),
        granularity: Some(Granularity::Minute),
        ..Default::default()
    };
    assert_eq!(q.validate().unwrap_err().field, "granularity");
    let mut q = AnalyticsQuery::default();
    q.filters.status_classes = vec![6];
    assert_eq!(q.validate().unwrap_err().field, "filters.status_classes");
    assert!(AnalyticsQuery::default().validate().is_ok());
}

#[test]
fn query_json_uses_the_documented_names() {
    let q: AnalyticsQuery = serde_json::from_str(
        r#"{"metrics":["request_count","response_latency_p99"],"group_by":"version",
            "then_by":"status_class","filters":{"status_classes":[5]},
            "time_frame":"7d","granularity":"1h"}"#,
    )
    .unwrap();
    assert_eq!(q.metrics[1], Metric::ResponseLatencyP99);
    assert_eq!(q.time_frame, Some(TimeFrame::D7));
    assert!(serde_json::from_str::<AnalyticsQuery>(r#"{"metrics":[],"bogus":1}"#).is_err());
}

#[test]
fn serde_names_are_the_documented_names() {
    for m in Metric::ALL {
        assert_eq!(
            serde_json::to_string(&m).unwrap(),
            format!("\"{}\"", m.as_str())
        );
        let back: Metric = serde_json::from_str(&format!("\"{}\"", m.as_str())).unwrap();
        assert_eq!(back, m);
    }
    for d in Dimension::ALL {
        assert_eq!(
            serde_json::to_string(&d).unwrap(),
            format!("\"{}\"", d.as_str())
        );
    }
    for c in ChartType::ALL {
        assert_eq!(
            serde_json::to_string(&c).unwrap(),
            format!("\"{}\"", c.as_str())
        );
    }
    for f in TimeFrame::ALL {
        assert_eq!(
            serde_json::to_string(&f).unwrap(),
            format!("\"{}\"", f.as_str())
        );
    }
}

#[test]
fn csv_quotes_and_defuses_formulas() {
    assert_eq!(csv_cell("a,b"), "\"a,b\"");
    assert_eq!(csv_cell("=cmd()"), "'=cmd()");
    assert_eq!(csv_cell("-1.5"), "-1.5");
    assert_eq!(format_number(12.0), "12");
    assert_eq!(format_number(0.12345), "0.123");
}

#[test]
fn error_kinds_are_short_lower_case_identifiers() {
    for ok in ["no_route", "rate_limited", "upstream_timeout", "none", "e4"] {
        assert!(is_error_kind(ok), "{ok}");
    }
    let long = "a".repeat(MAX_ERROR_KIND_LEN + 1);
    for bad in [
        "",
        "Rate",
        "rate-limited",
        "_x",
        "4xx",
        "a b",
        long.as_str(),
    ] {
        assert!(!is_error_kind(bad), "{bad}");
    }
    let mut q = AnalyticsQuery::default();
    q.filters.error_kinds = vec!["rate_limited".into(), "DROP TABLE".into()];
    assert_eq!(q.validate().unwrap_err().field, "filters.error_kinds");
}
