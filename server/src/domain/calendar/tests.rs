//! Behaviour on the real 2025 and 2026 calendars, plus property tests.

use chrono::{Datelike, NaiveDate, NaiveDateTime, NaiveTime, TimeDelta, Weekday};
use proptest::prelude::*;

use super::*;

fn official() -> WorkCalendar {
    WorkCalendar::official().unwrap()
}

fn date(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).unwrap()
}

/// A China wall-clock time as the UTC instant the server stores.
fn cst(y: i32, m: u32, d: u32, h: u32, min: u32) -> NaiveDateTime {
    date(y, m, d).and_hms_opt(h, min, 0).unwrap() - TimeDelta::hours(8)
}

fn wh(n: u32) -> WorkingDuration {
    WorkingDuration::WorkingHours(n)
}

fn wd(n: u32) -> WorkingDuration {
    WorkingDuration::WorkingDays(n)
}

fn assert_off(cal: &WorkCalendar, days: &[NaiveDate]) {
    for day in days {
        assert!(!cal.is_working_day(*day), "{day} should be a rest day");
    }
}

fn assert_working(cal: &WorkCalendar, days: &[NaiveDate]) {
    for day in days {
        assert!(cal.is_working_day(*day), "{day} should be a working day");
    }
}

fn range(from: NaiveDate, to: NaiveDate) -> Vec<NaiveDate> {
    from.iter_days().take_while(|d| *d <= to).collect()
}

// ---- the bundled data ----

#[test]
fn bundled_years_load_and_are_covered() {
    let cal = official();
    assert_eq!(cal.covered_years().collect::<Vec<_>>(), vec![2025, 2026]);
    assert!(cal.covers(2025) && cal.covers(2026));
    assert!(!cal.covers(2024) && !cal.covers(2027));
    for (year, json) in BUNDLED_YEARS {
        assert_eq!(HolidayYear::parse(json).unwrap().year, year);
    }
}

#[test]
fn each_year_has_248_working_days() {
    // 261 weekdays − holidays on weekdays + adjusted working weekends, per the two notices.
    let cal = official();
    for year in [2025, 2026] {
        let count = range(date(year, 1, 1), date(year, 12, 31))
            .into_iter()
            .filter(|d| cal.is_working_day(*d))
            .count();
        assert_eq!(count, 248, "{year}");
    }
}

#[test]
fn national_day_and_mid_autumn_2025_are_off_with_two_working_weekends() {
    let cal = official();
    assert_off(&cal, &range(date(2025, 10, 1), date(2025, 10, 8)));
    // 9/28 is a Sunday and 10/11 a Saturday, both worked (调休).
    assert_eq!(date(2025, 9, 28).weekday(), Weekday::Sun);
    assert_eq!(date(2025, 10, 11).weekday(), Weekday::Sat);
    assert_working(
        &cal,
        &[
            date(2025, 9, 28),
            date(2025, 9, 30),
            date(2025, 10, 9),
            date(2025, 10, 11),
        ],
    );
    assert_off(&cal, &[date(2025, 9, 27), date(2025, 10, 12)]);
    assert_eq!(cal.holiday_name(date(2025, 10, 3)), Some("国庆节、中秋节"));
    assert_eq!(cal.holiday_name(date(2025, 10, 11)), Some("国庆节、中秋节"));
}

#[test]
fn spring_festival_2025_is_off_with_two_working_weekends() {
    let cal = official();
    assert_off(&cal, &range(date(2025, 1, 28), date(2025, 2, 4)));
    assert_working(
        &cal,
        &[
            date(2025, 1, 26),
            date(2025, 1, 27),
            date(2025, 2, 5),
            date(2025, 2, 8),
        ],
    );
    assert_off(&cal, &[date(2025, 1, 25), date(2025, 2, 9)]);
}

#[test]
fn other_2025_holidays_follow_the_notice() {
    let cal = official();
    assert_off(&cal, &[date(2025, 1, 1)]);
    assert_off(&cal, &range(date(2025, 4, 4), date(2025, 4, 6)));
    assert_off(&cal, &range(date(2025, 5, 1), date(2025, 5, 5)));
    assert_off(&cal, &range(date(2025, 5, 31), date(2025, 6, 2)));
    assert_working(
        &cal,
        &[date(2025, 1, 2), date(2025, 4, 27), date(2025, 5, 6)],
    );
}

#[test]
fn calendar_2026_follows_the_notice() {
    let cal = official();
    // 元旦: 1/1–1/3 off, Sunday 1/4 worked.
    assert_off(&cal, &range(date(2026, 1, 1), date(2026, 1, 3)));
    assert_working(&cal, &[date(2026, 1, 4), date(2026, 1, 5)]);
    // 春节: 2/15–2/23 off (nine days), Saturdays 2/14 and 2/28 worked.
    assert_off(&cal, &range(date(2026, 2, 15), date(2026, 2, 23)));
    assert_working(
        &cal,
        &[
            date(2026, 2, 13),
            date(2026, 2, 14),
            date(2026, 2, 24),
            date(2026, 2, 28),
        ],
    );
    assert_eq!(cal.holiday_name(date(2026, 2, 15)), Some("春节"));
    // 清明, 劳动节 (Saturday 5/9 worked), 端午, 中秋.
    assert_off(&cal, &range(date(2026, 4, 4), date(2026, 4, 6)));
    assert_off(&cal, &range(date(2026, 5, 1), date(2026, 5, 5)));
    assert_working(&cal, &[date(2026, 5, 9)]);
    assert_off(&cal, &range(date(2026, 6, 19), date(2026, 6, 21)));
    assert_off(&cal, &range(date(2026, 9, 25), date(2026, 9, 27)));
    // 国庆: 10/1–10/7 off, Sunday 9/20 and Saturday 10/10 worked.
    assert_off(&cal, &range(date(2026, 10, 1), date(2026, 10, 7)));
    assert_working(
        &cal,
        &[date(2026, 9, 20), date(2026, 10, 8), date(2026, 10, 10)],
    );
    assert_eq!(cal.holiday_name(date(2026, 9, 20)), Some("国庆节"));
}

#[test]
fn year_without_data_falls_back_to_monday_to_friday() {
    let cal = official();
    assert!(!cal.covers(2027));
    // 2027-01-01 is a Friday: surely a holiday in reality, but no data means a working day.
    assert_working(&cal, &[date(2027, 1, 1), date(2024, 10, 1)]);
    assert_off(&cal, &[date(2027, 1, 2), date(2027, 1, 3)]);
    assert_eq!(cal.holiday_name(date(2027, 1, 1)), None);
    let bare = WorkCalendar::default();
    assert!(!bare.covers(2025));
    assert!(bare.is_working_day(date(2025, 10, 1)));
    assert!(!bare.is_working_day(date(2025, 9, 28)));
}

#[test]
fn loading_the_same_year_twice_is_refused() {
    let mut cal = official();
    let again = HolidayYear::parse(BUNDLED_YEARS[0].1).unwrap();
    assert!(matches!(
        cal.load_year(again),
        Err(CalendarDataError::DuplicateYear { year: 2025 })
    ));
}

#[test]
fn a_malformed_year_value_is_refused_when_loaded() {
    let mut bad = HolidayYear::parse(BUNDLED_YEARS[1].1).unwrap();
    bad.days[0].date = date(2025, 12, 31);
    let err = WorkCalendar::from_years(WorkingHours::default(), [bad]).unwrap_err();
    assert!(matches!(
        err,
        CalendarDataError::DateOutsideYear { year: 2026, .. }
    ));
}

// ---- working time ----

#[test]
fn working_time_is_half_open_and_in_china_time() {
    let cal = official();
    assert!(cal.is_working_time(cst(2025, 3, 3, 8, 30)));
    assert!(!cal.is_working_time(cst(2025, 3, 3, 8, 29)));
    assert!(cal.is_working_time(cst(2025, 3, 3, 11, 59)));
    assert!(!cal.is_working_time(cst(2025, 3, 3, 12, 0)));
    assert!(!cal.is_working_time(cst(2025, 3, 3, 13, 0)));
    assert!(cal.is_working_time(cst(2025, 3, 3, 14, 30)));
    assert!(!cal.is_working_time(cst(2025, 3, 3, 18, 0)));
    assert!(!cal.is_working_time(cst(2025, 10, 2, 10, 0)));
    assert!(cal.is_working_time(cst(2025, 10, 11, 10, 0)));
    // 00:30 UTC on Monday is 08:30 in China.
    let utc = date(2025, 3, 3).and_hms_opt(0, 30, 0).unwrap();
    assert!(cal.is_working_time(utc));
}

#[test]
fn working_hours_skip_lunch() {
    let cal = official();
    assert_eq!(
        cal.add_working(cst(2025, 3, 3, 11, 0), wh(2)),
        cst(2025, 3, 3, 15, 30)
    );
    // A start during lunch waits for the afternoon.
    assert_eq!(
        cal.add_working(cst(2025, 3, 3, 13, 0), wh(1)),
        cst(2025, 3, 3, 15, 30)
    );
}

#[test]
fn a_deadline_that_uses_up_the_morning_is_noon_not_afternoon() {
    let cal = official();
    assert_eq!(
        cal.add_working(cst(2025, 3, 3, 11, 0), wh(1)),
        cst(2025, 3, 3, 12, 0)
    );
}

#[test]
fn working_hours_skip_nights() {
    let cal = official();
    assert_eq!(
        cal.add_working(cst(2025, 3, 3, 17, 0), wh(2)),
        cst(2025, 3, 4, 9, 30)
    );
    assert_eq!(
        cal.add_working(cst(2025, 3, 3, 21, 0), wh(1)),
        cst(2025, 3, 4, 9, 30)
    );
}

#[test]
fn five_working_hours_from_friday_16_00_land_on_monday() {
    let cal = official();
    // Friday 16:00–18:00 is 2 h; Monday 08:30–11:30 the other 3 h.
    let start = cst(2025, 3, 7, 16, 0);
    let due = cal.add_working(start, wh(5));
    assert_eq!(due, cst(2025, 3, 10, 11, 30));
    assert_eq!(cal.working_minutes_between(start, due), 300);
}

#[test]
fn working_hours_before_a_holiday_resume_after_it() {
    let cal = official();
    // Tuesday 2025-09-30 17:00 + 5 wh: 1 h that day, the rest after the eight-day break.
    assert_eq!(
        cal.add_working(cst(2025, 9, 30, 17, 0), wh(5)),
        cst(2025, 10, 9, 15, 0)
    );
    // Acknowledgement (1 wh) of a report made on 2026-02-14 (a working Saturday) at 17:30.
    assert_eq!(
        cal.add_working(cst(2026, 2, 14, 17, 30), wh(1)),
        cst(2026, 2, 24, 9, 0)
    );
}

#[test]
fn working_minutes_are_supported() {
    let cal = official();
    assert_eq!(
        cal.add_working(cst(2025, 3, 3, 11, 45), WorkingDuration::WorkingMinutes(30)),
        cst(2025, 3, 3, 14, 45)
    );
}

// ---- working days ----

#[test]
fn one_working_day_is_due_at_close_of_the_next_working_day() {
    let cal = official();
    assert_eq!(
        cal.add_working(cst(2025, 3, 3, 10, 0), wd(1)),
        cst(2025, 3, 4, 18, 0)
    );
    // Friday 10:00 → Monday 18:00; Saturday and after-hours reports alike.
    assert_eq!(
        cal.add_working(cst(2025, 3, 7, 10, 0), wd(1)),
        cst(2025, 3, 10, 18, 0)
    );
    assert_eq!(
        cal.add_working(cst(2025, 3, 7, 20, 0), wd(1)),
        cst(2025, 3, 10, 18, 0)
    );
    assert_eq!(
        cal.add_working(cst(2025, 3, 8, 10, 0), wd(1)),
        cst(2025, 3, 10, 18, 0)
    );
}

#[test]
fn one_working_day_started_before_a_holiday_lands_after_it() {
    let cal = official();
    assert_eq!(
        cal.add_working(cst(2025, 9, 30, 10, 0), wd(1)),
        cst(2025, 10, 9, 18, 0)
    );
    assert_eq!(
        cal.add_working(cst(2025, 1, 27, 10, 0), wd(1)),
        cst(2025, 2, 5, 18, 0)
    );
    assert_eq!(
        cal.add_working(cst(2026, 9, 30, 10, 0), wd(1)),
        cst(2026, 10, 8, 18, 0)
    );
    assert_eq!(
        cal.add_working(cst(2026, 2, 14, 10, 0), wd(1)),
        cst(2026, 2, 24, 18, 0)
    );
}

#[test]
fn an_adjusted_working_saturday_counts() {
    let cal = official();
    // Friday 2025-10-10 → the working Saturday 10/11, not Monday.
    assert_eq!(
        cal.add_working(cst(2025, 10, 10, 10, 0), wd(1)),
        cst(2025, 10, 11, 18, 0)
    );
    assert_eq!(
        cal.add_working(cst(2026, 2, 13, 10, 0), wd(1)),
        cst(2026, 2, 14, 18, 0)
    );
    // Three working days from Thursday 2026-05-07: Fri 5/8, Sat 5/9 (调休), Mon 5/11.
    assert_eq!(
        cal.add_working(cst(2026, 5, 7, 9, 0), wd(3)),
        cst(2026, 5, 11, 18, 0)
    );
}

#[test]
fn fifteen_working_days_span_national_day_2025() {
    let cal = official();
    // From Friday 9/26: 9/28 (Sun, worked), 9/29, 9/30, 10/9, 10/10, 10/11 (Sat, worked),
    // 10/13–10/17, 10/20–10/23.
    assert_eq!(
        cal.add_working(cst(2025, 9, 26, 9, 0), wd(15)),
        cst(2025, 10, 23, 18, 0)
    );
}

// ---- natural time ----

#[test]
fn natural_hours_ignore_the_calendar() {
    let cal = official();
    let due = cal.add_working(cst(2025, 10, 1, 16, 0), WorkingDuration::NaturalHours(24));
    assert_eq!(due, cst(2025, 10, 2, 16, 0));
}

#[test]
fn natural_days_end_at_midnight_and_roll_past_rest_days() {
    let cal = official();
    let days = WorkingDuration::NaturalDays;
    // Monday + 3 days: end of Thursday.
    assert_eq!(
        cal.add_working(cst(2025, 3, 3, 15, 0), days(3)),
        cst(2025, 3, 7, 0, 0)
    );
    // Filing on 2025-03-03 + 90 days ends on Sunday 6/1, inside 端午: rolls to Tuesday 6/3.
    assert_eq!(
        cal.add_working(cst(2025, 3, 3, 15, 0), days(90)),
        cst(2025, 6, 4, 0, 0)
    );
}

// ---- elapsed working time ----

#[test]
fn working_minutes_between_counts_only_office_time() {
    let cal = official();
    assert_eq!(
        cal.working_minutes_between(cst(2025, 3, 3, 11, 0), cst(2025, 3, 3, 15, 0)),
        90
    );
    assert_eq!(
        cal.working_minutes_between(cst(2025, 3, 3, 15, 0), cst(2025, 3, 3, 11, 0)),
        -90
    );
    assert_eq!(
        cal.working_minutes_between(cst(2025, 10, 1, 0, 0), cst(2025, 10, 9, 0, 0)),
        0
    );
    // Sun 9/28 … Sat 10/11 around the 2025 National Day: 9/28–9/30 and 10/9–10/11 are worked.
    assert_eq!(
        cal.working_minutes_between(cst(2025, 9, 28, 0, 0), cst(2025, 10, 12, 0, 0)),
        6 * 7 * 60
    );
}

#[test]
fn custom_office_hours_are_used() {
    let hours: WorkingHours = "09:00-12:00,13:00-17:00".parse().unwrap();
    let year = HolidayYear::parse(BUNDLED_YEARS[0].1).unwrap();
    let cal = WorkCalendar::from_years(hours, [year]).unwrap();
    assert_eq!(
        cal.add_working(cst(2025, 3, 3, 11, 0), wh(2)),
        cst(2025, 3, 3, 14, 0)
    );
    assert_eq!(
        cal.add_working(cst(2025, 3, 3, 11, 0), wd(1)),
        cst(2025, 3, 4, 17, 0)
    );
}

// ---- clocks ----

/// A 5-working-hour clock from Monday 2025-03-03 08:30, due 16:00 (300 working minutes).
fn five_hour_clock(cal: &WorkCalendar) -> Clock {
    let clock = Clock::start(cal, cst(2025, 3, 3, 8, 30), wh(5));
    assert_eq!(clock.due_at(cal), Some(cst(2025, 3, 3, 16, 0)));
    clock
}

#[test]
fn warning_levels_at_79_80_and_100_percent() {
    let cal = official();
    let clock = five_hour_clock(&cal);
    // 79 % of 300 min = 237 min: 210 in the morning + 27 after 14:30.
    let at_79 = cst(2025, 3, 3, 14, 57);
    let at_80 = cst(2025, 3, 3, 15, 0);
    let at_100 = cst(2025, 3, 3, 16, 0);
    assert!((clock.progress(&cal, at_79) - 0.79).abs() < 1e-9);
    assert_eq!(clock.warning_level(&cal, at_79), WarningLevel::Green);
    assert!((clock.progress(&cal, at_80) - 0.80).abs() < 1e-9);
    assert_eq!(clock.warning_level(&cal, at_80), WarningLevel::Yellow);
    assert_eq!(
        clock.warning_level(&cal, at_100 - TimeDelta::seconds(1)),
        WarningLevel::Yellow
    );
    assert!((clock.progress(&cal, at_100) - 1.0).abs() < 1e-9);
    assert_eq!(clock.warning_level(&cal, at_100), WarningLevel::Red);
    assert_eq!(
        clock.warning_level(&cal, cst(2025, 3, 4, 9, 0)),
        WarningLevel::Red
    );
    assert!(clock.progress(&cal, cst(2025, 3, 4, 9, 0)) > 1.0);
    // Lunch does not move the clock.
    assert_eq!(
        clock.progress(&cal, cst(2025, 3, 3, 12, 0)),
        clock.progress(&cal, cst(2025, 3, 3, 14, 30))
    );
    assert!(clock.is_on_time(&cal, at_100));
    assert!(!clock.is_on_time(&cal, at_100 + TimeDelta::minutes(1)));
}

#[test]
fn a_pause_stops_the_clock_and_pushes_the_due_time_back() {
    let cal = official();
    // 1 WD from Monday 09:00 is due Tuesday 18:00: 6.5 h + 7 h allowed.
    let mut clock = Clock::start(&cal, cst(2025, 3, 3, 9, 0), wd(1));
    assert_eq!(clock.due_at(&cal), Some(cst(2025, 3, 4, 18, 0)));
    assert_eq!(clock.allowed_seconds(&cal), (6 * 60 + 30 + 7 * 60) * 60);

    clock.pause(cst(2025, 3, 3, 14, 30)).unwrap();
    assert!(clock.is_paused());
    assert_eq!(clock.due_at(&cal), None);
    let frozen = clock.progress(&cal, cst(2025, 3, 3, 14, 30));
    assert_eq!(clock.progress(&cal, cst(2025, 3, 4, 10, 0)), frozen);
    assert_eq!(
        clock.pause(cst(2025, 3, 4, 10, 0)),
        Err(ClockError::AlreadyPaused)
    );
    assert!(matches!(
        clock.resume(cst(2025, 3, 3, 14, 0)),
        Err(ClockError::ResumeBeforePause { .. })
    ));

    // Paused for Monday afternoon (3.5 h) and Tuesday morning (3.5 h): one working day.
    clock.resume(cst(2025, 3, 4, 14, 30)).unwrap();
    assert_eq!(clock.due_at(&cal), Some(cst(2025, 3, 5, 18, 0)));
    assert_eq!(clock.base_due_at(), cst(2025, 3, 4, 18, 0));
    assert_eq!(clock.progress(&cal, cst(2025, 3, 4, 14, 30)), frozen);
    assert_eq!(
        clock.warning_level(&cal, cst(2025, 3, 5, 17, 59)),
        WarningLevel::Yellow
    );
    assert_eq!(
        clock.warning_level(&cal, cst(2025, 3, 5, 18, 0)),
        WarningLevel::Red
    );
    assert_eq!(
        clock.resume(cst(2025, 3, 5, 9, 0)),
        Err(ClockError::NotPaused)
    );
    assert!(matches!(
        clock.pause(cst(2025, 3, 4, 14, 0)),
        Err(ClockError::PauseTooEarly { .. })
    ));
}

#[test]
fn a_pause_before_the_start_is_refused() {
    let cal = official();
    let mut clock = five_hour_clock(&cal);
    assert!(matches!(
        clock.pause(cst(2025, 3, 3, 8, 0)),
        Err(ClockError::PauseTooEarly { .. })
    ));
}

#[test]
fn an_extension_moves_the_due_time_and_lowers_progress() {
    let cal = official();
    // Expert finding: 5 WD from Thursday 2025-09-25, extended by 5 WD across National Day.
    let mut clock = Clock::start(&cal, cst(2025, 9, 25, 10, 0), wd(5));
    // 9/26, 9/28 (Sun, worked), 9/29, 9/30, 10/9.
    assert_eq!(clock.due_at(&cal), Some(cst(2025, 10, 9, 18, 0)));
    let now = cst(2025, 10, 9, 12, 0);
    assert_eq!(clock.warning_level(&cal, now), WarningLevel::Yellow);
    let before = clock.progress(&cal, now);
    clock.extend(&cal, wd(5));
    // 10/10, 10/11 (Sat, worked), 10/13, 10/14, 10/15.
    assert_eq!(clock.due_at(&cal), Some(cst(2025, 10, 15, 18, 0)));
    assert_eq!(clock.extensions(), &[wd(5)]);
    assert!(clock.progress(&cal, now) < before);
    assert_eq!(clock.warning_level(&cal, now), WarningLevel::Green);
}

#[test]
fn natural_clocks_count_nights_and_holidays() {
    let cal = official();
    let clock = Clock::start(
        &cal,
        cst(2025, 10, 1, 20, 0),
        WorkingDuration::NaturalHours(24),
    );
    assert_eq!(clock.measure(), Measure::Natural);
    assert!((clock.progress(&cal, cst(2025, 10, 2, 8, 0)) - 0.5).abs() < 1e-9);
    assert_eq!(
        clock.warning_level(&cal, cst(2025, 10, 2, 20, 0)),
        WarningLevel::Red
    );
}

#[test]
fn clocks_serialise_for_storage() {
    let cal = official();
    let mut clock = five_hour_clock(&cal);
    clock.pause(cst(2025, 3, 3, 9, 0)).unwrap();
    let json = serde_json::to_string(&clock).unwrap();
    assert!(json.contains(r#""duration":"5wh""#), "{json}");
    assert_eq!(serde_json::from_str::<Clock>(&json).unwrap(), clock);
    assert_eq!(
        serde_json::to_string(&WarningLevel::Yellow).unwrap(),
        r#""yellow""#
    );
}

// ---- properties ----

/// Any minute of 2025–2026, as UTC.
fn any_instant() -> impl Strategy<Value = NaiveDateTime> {
    (0i64..(730 * 24 * 60)).prop_map(|m| cst(2025, 1, 1, 0, 0) + TimeDelta::minutes(m))
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn working_hours_end_inside_a_working_period(start in any_instant(), h in 1u32..200) {
        let cal = official();
        let due = cal.add_working(start, wh(h));
        prop_assert!(due > start);
        // The last second before the due time is office time, so the due time is in (start, end].
        prop_assert!(cal.is_working_time(due - TimeDelta::seconds(1)), "{due}");
    }

    #[test]
    fn working_hours_are_exactly_counted_back(start in any_instant(), h in 0u32..200) {
        let cal = official();
        let due = cal.add_working(start, wh(h));
        prop_assert_eq!(cal.working_minutes_between(start, due), 60 * i64::from(h));
    }

    #[test]
    fn adding_is_monotonic_in_the_duration(start in any_instant(), a in 0u32..120, b in 0u32..120) {
        let cal = official();
        let (small, large) = (a.min(b), a.max(b));
        for make in [
            WorkingDuration::WorkingMinutes,
            WorkingDuration::WorkingHours,
            WorkingDuration::WorkingDays,
            WorkingDuration::NaturalHours,
            WorkingDuration::NaturalDays,
        ] {
            prop_assert!(cal.add_working(start, make(small)) <= cal.add_working(start, make(large)));
        }
    }

    #[test]
    fn working_minutes_add_up(start in any_instant(), a in 0u32..3000, b in 0u32..3000) {
        let cal = official();
        let minutes = WorkingDuration::WorkingMinutes;
        let stepwise = cal.add_working(cal.add_working(start, minutes(a)), minutes(b));
        prop_assert_eq!(stepwise, cal.add_working(start, minutes(a + b)));
    }

    #[test]
    fn working_days_end_at_closing_time_of_a_later_working_day(start in any_instant(), n in 1u32..40) {
        let cal = official();
        let due = cal.add_working(start, wd(n)) + TimeDelta::hours(8);
        prop_assert!(cal.is_working_day(due.date()));
        prop_assert_eq!(due.time(), NaiveTime::from_hms_opt(18, 0, 0).unwrap());
        let start_day = (start + TimeDelta::hours(8)).date();
        let counted = range(start_day.succ_opt().unwrap(), due.date())
            .into_iter()
            .filter(|d| cal.is_working_day(*d))
            .count();
        prop_assert_eq!(counted, n as usize);
    }

    #[test]
    fn warning_level_never_goes_back(start in any_instant(), h in 1u32..40, t1 in 0i64..20_000, t2 in 0i64..20_000) {
        let cal = official();
        let clock = Clock::start(&cal, start, wh(h));
        let (early, late) = (t1.min(t2), t1.max(t2));
        let level = |m: i64| clock.warning_level(&cal, start + TimeDelta::minutes(m));
        prop_assert!(level(early) <= level(late));
        let due = clock.due_at(&cal).unwrap();
        prop_assert_eq!(clock.warning_level(&cal, due), WarningLevel::Red);
        prop_assert!((clock.progress(&cal, due) - 1.0).abs() < 1e-9);
    }

    #[test]
    fn duration_text_round_trips(n in 1u32..=MAX_AMOUNT, unit in 0usize..5) {
        let d = [
            WorkingDuration::WorkingMinutes,
            WorkingDuration::WorkingHours,
            WorkingDuration::WorkingDays,
            WorkingDuration::NaturalHours,
            WorkingDuration::NaturalDays,
        ][unit](n);
        prop_assert_eq!(d.to_string().parse::<WorkingDuration>(), Ok(d));
    }
}
