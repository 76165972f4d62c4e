//! The working-day calendar: which days and hours count, and deadline arithmetic over them.

use std::collections::{BTreeMap, BTreeSet};

use chrono::{NaiveDate, NaiveDateTime, NaiveTime, TimeDelta};

use super::data::{is_weekend, CalendarDataError, HolidayYear};
use super::duration::WorkingDuration;
use super::hours::WorkingHours;
use super::{to_local, to_utc};

/// A loaded exception day.
#[derive(Debug, Clone)]
struct Exception {
    is_off_day: bool,
    name: String,
}

/// The official working calendar (工作日历): Monday–Friday, minus public holidays, plus adjusted
/// working weekends (调休), with the office hours of a working day.
///
/// All instants in and out are UTC `NaiveDateTime`, like the rest of the server; days and office
/// hours are read in China Standard Time (UTC+8, no daylight saving). Years with no loaded file
/// fall back to plain Monday–Friday; [`WorkCalendar::covers`] tells them apart.
#[derive(Debug, Clone, Default)]
pub struct WorkCalendar {
    hours: WorkingHours,
    exceptions: BTreeMap<NaiveDate, Exception>,
    years: BTreeSet<i32>,
}

impl WorkCalendar {
    /// A calendar with no year files (plain Monday–Friday) and the given office hours.
    pub fn new(hours: WorkingHours) -> Self {
        Self {
            hours,
            exceptions: BTreeMap::new(),
            years: BTreeSet::new(),
        }
    }

    /// A calendar from any number of year files; fails on an invalid file or a repeated year.
    pub fn from_years(
        hours: WorkingHours,
        years: impl IntoIterator<Item = HolidayYear>,
    ) -> Result<Self, CalendarDataError> {
        let mut calendar = Self::new(hours);
        for year in years {
            calendar.load_year(year)?;
        }
        Ok(calendar)
    }

    /// Adds one year file; the calendar is unchanged if it is invalid or its year is loaded.
    pub fn load_year(&mut self, year: HolidayYear) -> Result<(), CalendarDataError> {
        year.validate()?;
        if self.years.contains(&year.year) {
            return Err(CalendarDataError::DuplicateYear { year: year.year });
        }
        self.years.insert(year.year);
        for day in year.days {
            self.exceptions.insert(
                day.date,
                Exception {
                    is_off_day: day.is_off_day,
                    name: day.name,
                },
            );
        }
        Ok(())
    }

    /// Whether official data for `year` is loaded (otherwise that year is plain Monday–Friday).
    pub fn covers(&self, year: i32) -> bool {
        self.years.contains(&year)
    }

    /// The years with loaded data, ascending.
    pub fn covered_years(&self) -> impl Iterator<Item = i32> + '_ {
        self.years.iter().copied()
    }

    /// The office hours of a working day.
    pub fn hours(&self) -> &WorkingHours {
        &self.hours
    }

    /// Whether `date` (a China calendar date) is a working day.
    pub fn is_working_day(&self, date: NaiveDate) -> bool {
        match self.exceptions.get(&date) {
            Some(exception) => !exception.is_off_day,
            None => !is_weekend(date),
        }
    }

    /// The holiday a listed day belongs to (`春节`, …), for holidays and adjusted working days.
    pub fn holiday_name(&self, date: NaiveDate) -> Option<&str> {
        self.exceptions.get(&date).map(|e| e.name.as_str())
    }

    /// The first working day strictly after `date`.
    pub fn next_working_day(&self, date: NaiveDate) -> NaiveDate {
        let mut day = date;
        loop {
            match day.succ_opt() {
                Some(next) if self.is_working_day(next) => return next,
                Some(next) => day = next,
                // The end of chrono's range: nothing later exists to return.
                None => return day,
            }
        }
    }

    /// Whether the UTC instant falls inside office hours (`[start, end)` of a period) of a working day.
    pub fn is_working_time(&self, at_utc: NaiveDateTime) -> bool {
        let local = to_local(at_utc);
        let time = local.time();
        self.is_working_day(local.date())
            && self
                .hours
                .periods()
                .iter()
                .any(|p| p.start <= time && time < p.end)
    }

    /// The due instant (UTC) of a deadline of length `duration` starting at `start_utc`.
    ///
    /// - Working minutes/hours count only office time; a start outside it waits for the next
    ///   period, and a due time that exhausts a period is that period's end (12:00, not 14:30).
    /// - `WorkingDays(n)`: close of business (end of the last period) of the Nth working day
    ///   after the start day. The start day never counts, however early — the rule of Chinese
    ///   procedure law, 期间开始的日不计算在期间内 — so a report at 10:00 Friday with 1 WD is due
    ///   at 18:00 the next working day, as is one filed on Saturday.
    /// - `NaturalHours(n)`: exactly n hours later.
    /// - `NaturalDays(n)`: 24:00 (CST) of the Nth day after the start day; if that day is a rest
    ///   day, 24:00 of the next working day (期间届满的最后一日是法定休假日的，以休假日后的第一日为届满日).
    ///
    /// A zero amount returns `start_utc`. At the end of chrono's range the result saturates.
    pub fn add_working(
        &self,
        start_utc: NaiveDateTime,
        duration: WorkingDuration,
    ) -> NaiveDateTime {
        let start = to_local(start_utc);
        let due_local = match duration {
            WorkingDuration::WorkingMinutes(m) => {
                self.add_working_seconds(start, i64::from(m) * 60)
            }
            WorkingDuration::WorkingHours(h) => {
                self.add_working_seconds(start, i64::from(h) * 3600)
            }
            WorkingDuration::WorkingDays(n) => self.add_working_days(start, n),
            WorkingDuration::NaturalHours(h) => {
                return plus_seconds(start_utc, i64::from(h) * 3600);
            }
            WorkingDuration::NaturalDays(n) => self.add_natural_days(start, n),
        };
        to_utc(due_local)
    }

    /// Working minutes elapsed from `a_utc` to `b_utc` (negative if `b_utc` is earlier), truncated.
    pub fn working_minutes_between(&self, a_utc: NaiveDateTime, b_utc: NaiveDateTime) -> i64 {
        self.working_seconds_between(a_utc, b_utc) / 60
    }

    /// Working seconds from `a_utc` to `b_utc` (negative if `b_utc` is earlier).
    pub fn working_seconds_between(&self, a_utc: NaiveDateTime, b_utc: NaiveDateTime) -> i64 {
        if b_utc < a_utc {
            return -self.working_seconds_between(b_utc, a_utc);
        }
        let (a, b) = (to_local(a_utc), to_local(b_utc));
        let mut total = 0;
        let mut date = a.date();
        while date <= b.date() {
            if self.is_working_day(date) {
                for p in self.hours.periods() {
                    let from = date.and_time(p.start).max(a);
                    let to = date.and_time(p.end).min(b);
                    if to > from {
                        total += (to - from).num_seconds();
                    }
                }
            }
            match date.succ_opt() {
                Some(next) => date = next,
                None => break,
            }
        }
        total
    }

    /// `start_utc` plus `seconds` of office time (UTC); clocks use it to add back paused time.
    pub(super) fn add_working_seconds_utc(
        &self,
        start_utc: NaiveDateTime,
        seconds: i64,
    ) -> NaiveDateTime {
        to_utc(self.add_working_seconds(to_local(start_utc), seconds))
    }

    /// Local start plus `seconds` of office time, in local time.
    fn add_working_seconds(&self, start: NaiveDateTime, seconds: i64) -> NaiveDateTime {
        let mut remaining = seconds;
        if remaining <= 0 {
            return start;
        }
        let per_day = self.hours.seconds_per_day();
        let mut date = start.date();
        // Only the start day is cut short by the start time.
        let mut not_before: Option<NaiveTime> = Some(start.time());
        loop {
            if self.is_working_day(date) {
                if not_before.is_none() && remaining > per_day {
                    // A whole working day is consumed; skipping it keeps long durations cheap.
                    remaining -= per_day;
                } else {
                    for p in self.hours.periods() {
                        let begin = match not_before {
                            Some(t) if t > p.start => t,
                            _ => p.start,
                        };
                        if begin >= p.end {
                            continue;
                        }
                        let available = (p.end - begin).num_seconds();
                        if remaining <= available {
                            return plus_seconds(date.and_time(begin), remaining);
                        }
                        remaining -= available;
                    }
                }
            }
            not_before = None;
            match date.succ_opt() {
                Some(next) => date = next,
                None => return NaiveDateTime::MAX,
            }
        }
    }

    /// Close of business of the Nth working day after the start day, in local time.
    fn add_working_days(&self, start: NaiveDateTime, days: u32) -> NaiveDateTime {
        if days == 0 {
            return start;
        }
        let mut date = start.date();
        for _ in 0..days {
            let next = self.next_working_day(date);
            if next == date {
                return NaiveDateTime::MAX;
            }
            date = next;
        }
        date.and_time(self.hours.closing_time())
    }

    /// Midnight ending the Nth day after the start day (rolled to a working day), in local time.
    fn add_natural_days(&self, start: NaiveDateTime, days: u32) -> NaiveDateTime {
        if days == 0 {
            return start;
        }
        let Some(mut last) = start
            .date()
            .checked_add_signed(TimeDelta::days(i64::from(days)))
        else {
            return NaiveDateTime::MAX;
        };
        if !self.is_working_day(last) {
            last = self.next_working_day(last);
        }
        match last.succ_opt() {
            Some(after) => after.and_time(NaiveTime::MIN),
            None => NaiveDateTime::MAX,
        }
    }
}

/// `at + seconds`, saturating at chrono's range instead of panicking.
fn plus_seconds(at: NaiveDateTime, seconds: i64) -> NaiveDateTime {
    at.checked_add_signed(TimeDelta::seconds(seconds))
        .unwrap_or(if seconds < 0 {
            NaiveDateTime::MIN
        } else {
            NaiveDateTime::MAX
        })
}
