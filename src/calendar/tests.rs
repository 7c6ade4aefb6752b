//! Unit tests of the working-day calendar.

use super::*;
use crate::error::BuildErrorKind;
use jiff::civil::date;
use jiff::civil::Time;
use jiff::SignedDuration;
use proptest::prelude::*;

fn ts(text: &str) -> Timestamp {
    text.parse().unwrap()
}

fn d(text: &str) -> Date {
    text.parse().unwrap()
}

#[test]
fn embedded_china_calendar_parses() {
    let cal = Calendar::from_toml(CHINA, "china.toml").unwrap();
    assert_eq!(cal.name(), "China (mainland) public holidays");
    assert_eq!(cal.years, Some((2024, 2026)));
}

#[test]
fn known_days() {
    let cal = Calendar::china();
    let off = [
        ("2024-01-01", "元旦"),
        ("2024-02-10", "春节, Saturday"),
        ("2024-02-16", "春节, Friday"),
        ("2024-06-10", "端午节"),
        ("2024-10-13", "Sunday after the 10-12 make-up day"),
        ("2025-01-01", "元旦"),
        ("2025-05-02", "劳动节"),
        ("2025-06-02", "端午节"),
        ("2025-11-15", "plain Saturday"),
        ("2026-01-02", "元旦, Friday"),
        ("2026-02-23", "春节, Monday"),
        ("2026-04-06", "清明节, Monday"),
        ("2026-09-25", "中秋节"),
        ("2026-10-07", "国庆节"),
        ("2030-01-05", "Saturday, outside the data"),
    ];
    let on = [
        ("2024-02-04", "春节调休, Sunday"),
        ("2024-02-18", "春节调休, Sunday"),
        ("2024-09-29", "国庆节调休, Sunday"),
        ("2024-10-08", "Tuesday after 国庆节"),
        ("2024-10-12", "国庆节调休, Saturday"),
        ("2025-01-26", "春节调休, Sunday"),
        ("2025-02-08", "春节调休, Saturday"),
        ("2025-04-27", "劳动节调休, Sunday"),
        ("2025-09-28", "国庆节调休, Sunday"),
        ("2025-10-11", "国庆节调休, Saturday"),
        ("2025-11-12", "plain Wednesday"),
        ("2026-01-04", "元旦调休, Sunday"),
        ("2026-02-14", "春节调休, Saturday"),
        ("2026-02-28", "春节调休, Saturday"),
        ("2026-05-09", "劳动节调休, Saturday"),
        ("2026-09-20", "国庆节调休, Sunday"),
        ("2026-10-10", "国庆节调休, Saturday"),
        ("2030-10-01", "Tuesday, outside the data"),
    ];
    for (day, why) in off {
        assert!(!cal.is_working_day(d(day)), "{day} ({why}) should be off");
    }
    for (day, why) in on {
        assert!(cal.is_working_day(d(day)), "{day} ({why}) should be on");
    }
    let ranges = [
        ("2024-10-01", "2024-10-07"),
        ("2025-01-28", "2025-02-04"),
        ("2025-10-01", "2025-10-08"),
        ("2026-02-15", "2026-02-23"),
    ];
    for (from, to) in ranges {
        for day in d(from).series(1.day()).take_while(|&x| x <= d(to)) {
            assert!(!cal.is_working_day(day), "{day} should be off");
        }
    }
}

#[test]
fn covers_the_data_years_only() {
    let cal = Calendar::china();
    assert!(!cal.covers(date(2023, 12, 31)));
    assert!(cal.covers(date(2024, 1, 1)));
    assert!(cal.covers(date(2026, 12, 31)));
    assert!(!cal.covers(date(2027, 1, 1)));
    assert!(!Calendar::weekends_only().covers(date(2025, 1, 1)));
}

#[test]
fn integer_day_arithmetic_matches_jiff() {
    let epoch = jiff::civil::Date::constant(1970, 1, 1);
    assert_eq!(
        EPOCH_MONDAY.since(epoch).unwrap().get_days() as i64,
        EPOCH_UNIX_DAY
    );
    let offsets = [
        Offset::from_hours(8).unwrap(),
        Offset::UTC,
        Offset::from_hours(-5).unwrap(),
        Offset::from_seconds(5 * 3600 + 45 * 60).unwrap(),
        Offset::MIN,
        Offset::MAX,
    ];
    for offset in offsets {
        let cal = Calendar::china().with_utc_offset(offset);
        assert_eq!(cal.utc_offset(), offset);
        for t in [
            "2024-01-01T00:00+08:00",
            "2023-12-31T23:59:59+08:00",
            "2024-10-01T07:30+08:00",
            "2024-10-01T00:00Z",
            "2024-09-30T23:59:59Z",
            "1969-12-31T20:00Z",
        ] {
            let t: Timestamp = t.parse().unwrap();
            let via_jiff = day_number(cal.tz.to_datetime(t).date());
            assert_eq!(cal.local_day(t), via_jiff, "{t} at {offset}");
            assert_eq!(
                cal.start_of_day(via_jiff).unwrap(),
                cal.tz
                    .to_timestamp(cal.tz.to_datetime(t).date().to_datetime(Time::midnight()))
                    .unwrap(),
                "{t} at {offset}"
            );
        }
    }
}

#[test]
fn days_are_civil_dates_at_the_calendars_offset() {
    // Sunday 29 September 2024 (a make-up working day) 20:00 UTC is
    // already Monday 30 September 04:00 in Beijing.
    let at = ts("2024-09-29T20:00Z");
    let china = Calendar::china();
    let utc = Calendar::china().with_utc_offset(Offset::UTC);
    assert_eq!(china.utc_offset(), Offset::from_hours(8).unwrap());
    assert_eq!(china.add_working_days(at, 0), ts("2024-10-01T00:00+08:00"));
    assert_eq!(utc.add_working_days(at, 0), ts("2024-09-30T00:00Z"));
    assert_eq!(utc.add_working_days(at, 1), ts("2024-10-01T00:00Z"));
    assert_eq!(china.add_working_days(at, 1), ts("2024-10-09T00:00+08:00"));
    let closed = ts("2024-10-08T20:00Z"); // Wednesday 9 October in Beijing
    assert_eq!(utc.working_days_between(at, closed), 2);
    assert_eq!(china.working_days_between(at, closed), 2);
    assert_eq!(china.working_days_between(at, ts("2024-10-08T12:00Z")), 1);
    assert_eq!(utc.working_days_between(at, ts("2024-10-08T12:00Z")), 2);
    // The holidays stay on their civil dates.
    assert!(!utc.is_working_day(date(2024, 10, 1)));
    assert!(utc.covers(date(2024, 10, 1)));
}

#[test]
fn add_working_days_cases() {
    let china = Calendar::china();
    let plain = Calendar::weekends_only();
    let cases = [
        // (calendar, start, days, deadline, why)
        (
            &china,
            "2024-09-27T10:00+08:00",
            1,
            "2024-09-30T00:00+08:00",
            "Sunday 29th is 调休",
        ),
        (
            &china,
            "2024-09-27T10:00+08:00",
            2,
            "2024-10-01T00:00+08:00",
            "then Monday 30th",
        ),
        (
            &china,
            "2024-09-27T10:00+08:00",
            3,
            "2024-10-09T00:00+08:00",
            "国庆节 skipped",
        ),
        (
            &china,
            "2024-10-03T15:00+08:00",
            1,
            "2024-10-09T00:00+08:00",
            "received in the holiday",
        ),
        (
            &china,
            "2024-09-27T10:00+08:00",
            0,
            "2024-09-28T00:00+08:00",
            "0: the same working day",
        ),
        (
            &china,
            "2024-10-03T15:00+08:00",
            0,
            "2024-10-09T00:00+08:00",
            "0: next working day",
        ),
        (
            &china,
            "2024-10-13T09:00+08:00",
            0,
            "2024-10-15T00:00+08:00",
            "0 on a Sunday",
        ),
        (
            &china,
            "2024-09-27T20:00Z",
            0,
            "2024-09-30T00:00+08:00",
            "Saturday 04:00 in Beijing",
        ),
        (
            &china,
            "2024-12-30T09:00+08:00",
            2,
            "2025-01-03T00:00+08:00",
            "元旦 across the year",
        ),
        (
            &china,
            "2025-01-24T09:00+08:00",
            2,
            "2025-01-28T00:00+08:00",
            "Sunday 26th is 调休",
        ),
        (
            &china,
            "2025-01-24T09:00+08:00",
            3,
            "2025-02-06T00:00+08:00",
            "春节 skipped",
        ),
        (
            &china,
            "2026-12-31T09:00+08:00",
            1,
            "2027-01-02T00:00+08:00",
            "2027: no data yet",
        ),
        (
            &china,
            "2030-10-04T09:00+08:00",
            1,
            "2030-10-08T00:00+08:00",
            "weekend rule only",
        ),
        (
            &china,
            "2030-10-04T09:00+08:00",
            10,
            "2030-10-19T00:00+08:00",
            "two weeks",
        ),
        (
            &plain,
            "2024-09-27T10:00+08:00",
            3,
            "2024-10-03T00:00+08:00",
            "no holidays",
        ),
    ];
    for (cal, start, days, deadline, why) in cases {
        let due = cal.add_working_days(ts(start), days);
        assert_eq!(due, ts(deadline), "{start} + {days} ({why})");
    }
}

#[test]
fn working_days_between_cases() {
    let cal = Calendar::china();
    let cases = [
        ("2024-09-27T10:00+08:00", "2024-09-27T23:00+08:00", 0),
        ("2024-09-27T10:00+08:00", "2024-09-29T09:00+08:00", 1),
        ("2024-09-27T10:00+08:00", "2024-10-07T09:00+08:00", 2),
        ("2024-09-27T10:00+08:00", "2024-10-08T09:00+08:00", 3),
        ("2024-10-08T09:00+08:00", "2024-09-27T10:00+08:00", -3),
        ("2026-12-31T09:00+08:00", "2027-01-11T09:00+08:00", 7),
    ];
    for (from, to, expected) in cases {
        assert_eq!(
            cal.working_days_between(ts(from), ts(to)),
            expected,
            "{from} → {to}"
        );
    }
}

#[test]
fn extreme_timestamps_saturate() {
    let cal = Calendar::china();
    assert_eq!(cal.add_working_days(Timestamp::MAX, 0), Timestamp::MAX);
    assert_eq!(
        cal.add_working_days(Timestamp::MAX, u32::MAX),
        Timestamp::MAX
    );
    assert_eq!(
        cal.add_working_days(Timestamp::MIN, u32::MAX),
        Timestamp::MAX
    );
    assert!(cal.add_working_days(Timestamp::MIN, 0) > Timestamp::MIN);
    let span = cal.working_days_between(Timestamp::MIN, Timestamp::MAX);
    assert_eq!(
        cal.working_days_between(Timestamp::MAX, Timestamp::MIN),
        -span
    );
    assert!(span > 5_000_000);
}

fn parse_error(text: &str) -> String {
    let err = Calendar::from_toml(text, "test.toml").unwrap_err();
    assert!(matches!(err.kind(), BuildErrorKind::Parse { .. }), "{err}");
    err.to_string()
}

#[test]
fn from_toml_errors_name_the_entry() {
    let head = "name = \"t\"\nfirst_year = 2024\nlast_year = 2024\n";
    let cases = [
        (
            "[[holiday]]\nname = \"国庆节\"\nfrom = \"2024-10-32\"\nto = \"2024-10-07\"",
            &["holiday '国庆节'", "2024-10-32", "not a date"][..],
        ),
        (
            "[[holiday]]\nname = \"国庆节\"\nfrom = \"2024-10-07\"\nto = \"2024-10-01\"",
            &[
                "holiday '国庆节' (2024-10-07 to 2024-10-01)",
                "ends before it starts",
            ],
        ),
        (
            "[[holiday]]\nname = \"国庆节\"\nfrom = \"2024-10-01\"\nto = \"2024-12-07\"",
            &["holiday '国庆节'", "longer than 31 days"],
        ),
        (
            "[[holiday]]\nname = \"元旦\"\nfrom = \"2025-01-01\"\nto = \"2025-01-01\"",
            &["holiday '元旦'", "outside the years 2024..=2024"],
        ),
        (
            "[[workday]]\ndate = \"2024-10-09\"\nnote = \"国庆节调休\"",
            &[
                "workday 2024-10-09 (国庆节调休)",
                "Wednesday",
                "Saturday or Sunday",
            ],
        ),
        (
            "[[holiday]]\nname = \"国庆节\"\nfrom = \"2024-10-01\"\nto = \"2024-10-07\"\n\
             [[workday]]\ndate = \"2024-10-06\"",
            &["workday 2024-10-06", "rest day of holiday '国庆节'"],
        ),
        (
            "[[workday]]\ndate = \"2024-09-29\"\ncolour = \"red\"",
            &["test.toml", "colour", "line 6"],
        ),
    ];
    for (body, needles) in cases {
        let message = parse_error(&format!("{head}{body}"));
        for needle in needles {
            assert!(message.contains(needle), "{needle:?} not in {message:?}");
        }
    }
    let years = parse_error("name = \"t\"\nfirst_year = 2026\nlast_year = 2024\n");
    assert!(
        years.contains("first_year 2026 is after last_year 2024"),
        "{years}"
    );
}

/// The working days in `(after, upto]`, one day at a time.
fn naive_count(cal: &Calendar, after: Date, upto: Date) -> i64 {
    let days = after.series(1.day()).skip(1).take_while(|&x| x <= upto);
    days.filter(|&x| cal.is_working_day(x)).count() as i64
}

proptest! {
    #[test]
    fn deadlines_count_exactly(
        secs in ts("2023-06-01T00:00Z").as_second()..ts("2027-06-01T00:00Z").as_second(),
        days in 0u32..300,
    ) {
        let cal = Calendar::china();
        let start = Timestamp::from_second(secs).unwrap();
        let due = cal.add_working_days(start, days).to_zoned(cal.time_zone().clone());
        prop_assert_eq!(due.time(), Time::midnight());
        let last = due.date().yesterday().unwrap();
        let first = start.to_zoned(cal.time_zone().clone()).date();
        prop_assert!(cal.is_working_day(last));
        if days == 0 {
            prop_assert!(last >= first);
            prop_assert_eq!(naive_count(&cal, first.yesterday().unwrap(), last), 1);
        } else {
            prop_assert!(last > first);
            prop_assert_eq!(naive_count(&cal, first, last), i64::from(days));
            let just_before = due.timestamp() - SignedDuration::from_nanos(1);
            prop_assert_eq!(cal.working_days_between(start, just_before), i64::from(days));
        }
    }

    #[test]
    fn counts_match_a_day_by_day_walk(a in 0i64..1600, b in 0i64..1600) {
        let cal = Calendar::china();
        let day = |n: i64| date(2023, 7, 1).checked_add(n.days()).unwrap();
        let noon = |n: i64| day(n).at(12, 0, 0, 0).to_zoned(TimeZone::fixed(china_offset())).unwrap().timestamp();
        let expected = if a <= b {
            naive_count(&cal, day(a), day(b))
        } else {
            -naive_count(&cal, day(b), day(a))
        };
        prop_assert_eq!(cal.working_days_between(noon(a), noon(b)), expected);
    }

    #[test]
    fn never_panics(
        secs in Timestamp::MIN.as_second()..=Timestamp::MAX.as_second(),
        other in Timestamp::MIN.as_second()..=Timestamp::MAX.as_second(),
        days in any::<u32>(),
    ) {
        let cal = Calendar::china();
        let (start, other) = (
            Timestamp::from_second(secs).unwrap(),
            Timestamp::from_second(other).unwrap(),
        );
        prop_assert!(cal.add_working_days(start, days) > start);
        prop_assert_eq!(
            cal.working_days_between(start, other),
            -cal.working_days_between(other, start)
        );
    }
}

/// The precomputed table answers exactly what the search answers, on every
/// day it covers and beyond (where it declines and the search answers).
#[test]
fn workday_table_agrees_with_the_search() {
    let china = Calendar::china();
    let (first, last) = (
        china.exception_days.first().unwrap().0,
        china.exception_days.last().unwrap().0,
    );
    let mut from_table = 0;
    for after in first - 30..=last + 450 {
        for n in 1..=40 {
            let searched = china.search_nth_working_day_after(after, n);
            assert_eq!(
                china.nth_working_day_after(after, n),
                searched,
                "{after} + {n}"
            );
            if let Some(day) = china.table.nth_after(after, n) {
                assert_eq!(Some(day), searched, "table at {after} + {n}");
                from_table += 1;
            }
        }
    }
    // The table must actually answer most of these, or this tests nothing.
    assert!(
        from_table > 40 * (last - first),
        "only {from_table} from the table"
    );
}
