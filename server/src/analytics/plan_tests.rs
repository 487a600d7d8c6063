//! Unit tests of the planning: bucket edges in zones, local days, day plans.

use super::*;

fn t(s: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
}

#[test]
fn utc_hours_and_minutes() {
    let p = plan(
        Granularity::Hour,
        Tz::UTC,
        t("2026-03-01T10:30:00Z"),
        t("2026-03-01T13:00:00Z"),
    );
    assert_eq!(p.table, Table::Hour);
    assert_eq!(p.buckets(), 3);
    assert_eq!(p.edges[0], t("2026-03-01T10:00:00Z").timestamp());
    let p = plan(
        Granularity::Minute,
        Tz::UTC,
        t("2026-03-01T10:00:30Z"),
        t("2026-03-01T10:15:30Z"),
    );
    assert_eq!(p.buckets(), 16);
}

#[test]
fn berlin_days_are_23_and_25_hours_on_dst_days() {
    let tz: Tz = "Europe/Berlin".parse().unwrap();
    let p = plan(
        Granularity::Day,
        tz,
        t("2026-03-28T00:00:00Z"),
        t("2026-03-31T00:00:00Z"),
    );
    assert_eq!(p.table, Table::Hour);
    let lens: Vec<i64> = p.edges.windows(2).map(|w| (w[1] - w[0]) / 3600).collect();
    assert_eq!(lens, [24, 23, 24, 24]);
    let p = plan(
        Granularity::Day,
        tz,
        t("2026-10-24T12:00:00Z"),
        t("2026-10-26T12:00:00Z"),
    );
    let lens: Vec<i64> = p.edges.windows(2).map(|w| (w[1] - w[0]) / 3600).collect();
    assert_eq!(lens, [24, 25, 24]);
}

#[test]
fn half_hour_zones() {
    let tz: Tz = "Asia/Kolkata".parse().unwrap();
    let p = plan(
        Granularity::Hour,
        tz,
        t("2026-03-01T10:00:00Z"),
        t("2026-03-01T13:00:00Z"),
    );
    assert_eq!(p.table, Table::Minute);
    assert_eq!(p.edges[0], t("2026-03-01T09:30:00Z").timestamp());
    assert_eq!(p.buckets(), 4);
    let p = plan(
        Granularity::Hour,
        tz,
        t("2026-03-01T10:00:00Z"),
        t("2026-03-05T10:00:00Z"),
    );
    assert_eq!(p.table, Table::Hour);
    assert_eq!(p.edges[0], t("2026-03-01T10:00:00Z").timestamp());
    // An end inside a local hour: the last bucket is that whole hour.
    let p = plan(
        Granularity::Hour,
        tz,
        t("2026-03-01T10:00:00Z"),
        t("2026-03-01T12:10:00Z"),
    );
    assert_eq!(
        *p.edges.last().unwrap(),
        t("2026-03-01T12:30:00Z").timestamp()
    );
    assert_eq!(p.buckets(), 3);
    let p = plan(
        Granularity::Day,
        tz,
        t("2026-03-01T18:15:00Z"),
        t("2026-03-03T10:00:00Z"),
    );
    // Local midnight is 18:30 UTC: day edges at 18:00 UTC.
    assert_eq!(p.edges[0], t("2026-03-01T18:00:00Z").timestamp());
}

#[test]
fn berlin_days_read_day_rows_and_the_hours_they_lend() {
    // 27 March (+1) to 31 March (+2 from the 29th) 2026, local days.
    let p = plan(
        Granularity::Day,
        chrono_tz::Europe::Berlin,
        t("2026-03-26T23:00:00Z"),
        t("2026-03-31T22:00:00Z"),
    );
    let s = LocalDays::of(&p);
    let h = |x: &str| t(x).timestamp();
    assert_eq!(
        s.days,
        Some((h("2026-03-27T00:00:00Z"), h("2026-03-31T00:00:00Z")))
    );
    // Each UTC day goes to the local day of the same date.
    assert_eq!(s.credit, vec![Some(0), Some(1), Some(2), Some(3)]);
    // The hour before, the hours each UTC day lends to the next local day (one
    // in winter, two from 29 March), and the rest after the whole days.
    assert_eq!(
        s.hours,
        vec![
            (h("2026-03-26T23:00:00Z"), h("2026-03-27T00:00:00Z")),
            (h("2026-03-27T23:00:00Z"), h("2026-03-28T00:00:00Z")),
            (h("2026-03-28T23:00:00Z"), h("2026-03-29T00:00:00Z")),
            (h("2026-03-29T22:00:00Z"), h("2026-03-30T00:00:00Z")),
            (h("2026-03-30T22:00:00Z"), h("2026-03-31T22:00:00Z")),
        ]
    );
    assert_eq!(s.lender(h("2026-03-29T22:00:00Z")), Some(Some(2)));
    assert_eq!(s.lender(h("2026-03-26T23:00:00Z")), None);
    // West of UTC: New York's local day holds 19 of a UTC day's hours (EST).
    let p = plan(
        Granularity::Day,
        chrono_tz::America::New_York,
        t("2026-01-10T05:00:00Z"),
        t("2026-01-13T05:00:00Z"),
    );
    let s = LocalDays::of(&p);
    assert_eq!(s.credit, vec![Some(1), Some(2)]);
    assert_eq!(
        s.hours[0],
        (h("2026-01-10T05:00:00Z"), h("2026-01-11T05:00:00Z"))
    );
}

#[test]
fn day_plans_read_the_smaller_side_of_partial_days() {
    let (h, d) = (SECS_HOUR, SECS_DAY);
    // 30 days from 05:00 on day 10 to 20:00 on day 40: the first day's 19 hours
    // are its day row minus 5 hours, the last day's 20 hours its day row minus the
    // 4 hours after the end.
    let (days, plus, minus) = day_plan(10 * d + 5 * h, 40 * d + 20 * h);
    assert_eq!(days, vec![(10 * d, 41 * d)]);
    assert!(plus.is_empty());
    assert_eq!(
        minus,
        vec![(10 * d, 10 * d + 5 * h), (40 * d + 20 * h, 41 * d)]
    );
    // Short partial days are read as their hours.
    let (days, plus, minus) = day_plan(10 * d + 20 * h, 12 * d + 3 * h);
    assert_eq!(days, vec![(11 * d, 12 * d)]);
    assert_eq!(
        plus,
        vec![(10 * d + 20 * h, 11 * d), (12 * d, 12 * d + 3 * h)]
    );
    assert!(minus.is_empty());
    // Inside one day: hours only.
    assert_eq!(
        day_plan(10 * d + h, 10 * d + 9 * h),
        (vec![], vec![(10 * d + h, 10 * d + 9 * h)], vec![])
    );
}

#[test]
fn unknown_zones_are_refused() {
    assert_eq!(
        parse_zone(Some("Mars/Olympus")).unwrap_err().field(),
        Some("time_zone")
    );
    assert!(parse_zone(None).is_ok());
}
