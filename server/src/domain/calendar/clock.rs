//! A running deadline (时限计时): progress, warning level, pauses and extensions.

use chrono::NaiveDateTime;
use serde::{Deserialize, Serialize};

use super::duration::WorkingDuration;
use super::work_calendar::WorkCalendar;

/// Progress (in percent of the time allowed) at which a clock turns yellow (预警).
pub const YELLOW_AT_PERCENT: i64 = 80;
/// Progress (in percent) at which a clock turns red: due time reached, escalate (督办).
pub const RED_AT_PERCENT: i64 = 100;

/// Traffic-light state of a clock, ordered from calm to alarming.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum WarningLevel {
    /// Below [`YELLOW_AT_PERCENT`].
    Green,
    /// From [`YELLOW_AT_PERCENT`] up to the due time: warn the handler (黄灯预警).
    Yellow,
    /// Due time reached or passed: escalate to the duty chief and grid leader (红灯督办).
    Red,
}

/// How a clock's time passes: on the working calendar or in natural time.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Measure {
    /// Only office time on working days counts.
    Working,
    /// Every second counts.
    Natural,
}

/// An interval during which the clock stood still; `to` is `None` while it still does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Pause {
    /// When the clock stopped (UTC).
    pub from: NaiveDateTime,
    /// When it started again (UTC), if it has.
    pub to: Option<NaiveDateTime>,
}

/// Why a pause or resume was refused. Messages are Chinese first.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ClockError {
    /// Pausing a clock that is already paused.
    #[error("计时已暂停（clock is already paused）")]
    AlreadyPaused,
    /// Resuming a clock that runs.
    #[error("计时未暂停（clock is not paused）")]
    NotPaused,
    /// A pause before the clock started or before the previous pause ended.
    #[error("暂停时间 {at} 早于计时开始或上次恢复（pause before start or previous resume）")]
    PauseTooEarly {
        /// The refused instant (UTC).
        at: NaiveDateTime,
    },
    /// A resume earlier than its pause.
    #[error("恢复时间 {at} 早于暂停时间（resume before pause）")]
    ResumeBeforePause {
        /// The refused instant (UTC).
        at: NaiveDateTime,
    },
}

/// A deadline that runs from `started_at`: acknowledgement, handling, re-check, transfer…
///
/// The clock keeps its base due time (start + duration + extensions) and the pauses; the
/// effective due time is the base one pushed back by the paused time, in the clock's measure.
/// Two ways to grant more time, both recorded: [`Clock::extend`] moves the due time by a
/// duration (an approved 延期); [`Clock::pause`]/[`Clock::resume`] stop the clock while something
/// outside the handler's hands runs (e.g. while an extension request is pending or an expert
/// finding is awaited). Plain data (serde) so storage can persist it as is.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Clock {
    started_at: NaiveDateTime,
    duration: WorkingDuration,
    measure: Measure,
    base_due_at: NaiveDateTime,
    extensions: Vec<WorkingDuration>,
    pauses: Vec<Pause>,
}

impl Clock {
    /// Starts a clock of `duration` at `started_at` (UTC); its measure follows the duration's kind.
    pub fn start(
        calendar: &WorkCalendar,
        started_at: NaiveDateTime,
        duration: WorkingDuration,
    ) -> Self {
        Self {
            started_at,
            duration,
            measure: if duration.is_working_time() {
                Measure::Working
            } else {
                Measure::Natural
            },
            base_due_at: calendar.add_working(started_at, duration),
            extensions: Vec::new(),
            pauses: Vec::new(),
        }
    }

    /// When the clock started (UTC).
    pub fn started_at(&self) -> NaiveDateTime {
        self.started_at
    }

    /// The duration the clock was started with.
    pub fn duration(&self) -> WorkingDuration {
        self.duration
    }

    /// Whether working or natural time counts.
    pub fn measure(&self) -> Measure {
        self.measure
    }

    /// The extensions granted so far, in order.
    pub fn extensions(&self) -> &[WorkingDuration] {
        &self.extensions
    }

    /// The pauses so far, in order; only the last may be open.
    pub fn pauses(&self) -> &[Pause] {
        &self.pauses
    }

    /// Whether the clock is stopped now.
    pub fn is_paused(&self) -> bool {
        self.pauses.last().is_some_and(|p| p.to.is_none())
    }

    /// Due time without pauses: start + duration + extensions (UTC).
    pub fn base_due_at(&self) -> NaiveDateTime {
        self.base_due_at
    }

    /// Effective due time (UTC), pushed back by the paused time; `None` while paused.
    pub fn due_at(&self, calendar: &WorkCalendar) -> Option<NaiveDateTime> {
        if self.is_paused() {
            return None;
        }
        let paused = self.paused_seconds(calendar, NaiveDateTime::MAX);
        Some(match self.measure {
            Measure::Working => calendar.add_working_seconds_utc(self.base_due_at, paused),
            Measure::Natural => self
                .base_due_at
                .checked_add_signed(chrono::TimeDelta::seconds(paused))
                .unwrap_or(NaiveDateTime::MAX),
        })
    }

    /// Grants more time: the base due time moves by `extra`, counted from the current one.
    pub fn extend(&mut self, calendar: &WorkCalendar, extra: WorkingDuration) {
        self.base_due_at = calendar.add_working(self.base_due_at, extra);
        self.extensions.push(extra);
    }

    /// Stops the clock at `at` (UTC).
    pub fn pause(&mut self, at: NaiveDateTime) -> Result<(), ClockError> {
        if self.is_paused() {
            return Err(ClockError::AlreadyPaused);
        }
        let earliest = self
            .pauses
            .last()
            .and_then(|p| p.to)
            .unwrap_or(self.started_at);
        if at < earliest {
            return Err(ClockError::PauseTooEarly { at });
        }
        self.pauses.push(Pause { from: at, to: None });
        Ok(())
    }

    /// Starts the clock again at `at` (UTC).
    pub fn resume(&mut self, at: NaiveDateTime) -> Result<(), ClockError> {
        match self.pauses.last_mut() {
            Some(pause) if pause.to.is_none() => {
                if at < pause.from {
                    return Err(ClockError::ResumeBeforePause { at });
                }
                pause.to = Some(at);
                Ok(())
            }
            _ => Err(ClockError::NotPaused),
        }
    }

    /// Time allowed, in seconds of the clock's measure (extensions included, pauses not).
    pub fn allowed_seconds(&self, calendar: &WorkCalendar) -> i64 {
        self.measure_seconds(calendar, self.started_at, self.base_due_at)
            .max(0)
    }

    /// Time used by `now`, in seconds of the clock's measure, paused time excluded.
    pub fn used_seconds(&self, calendar: &WorkCalendar, now: NaiveDateTime) -> i64 {
        let elapsed = self.measure_seconds(calendar, self.started_at, now);
        (elapsed - self.paused_seconds(calendar, now)).max(0)
    }

    /// Share of the allowed time used by `now`: 0.0 at the start, 1.0 at the due time, more after.
    pub fn progress(&self, calendar: &WorkCalendar, now: NaiveDateTime) -> f64 {
        let allowed = self.allowed_seconds(calendar);
        let used = self.used_seconds(calendar, now);
        if allowed == 0 {
            return if used > 0 || now >= self.base_due_at {
                1.0
            } else {
                0.0
            };
        }
        // Both values are far below 2^52 seconds, so the conversion is exact.
        used as f64 / allowed as f64
    }

    /// The traffic light at `now`; thresholds compared in integers so 80 % is exactly yellow.
    pub fn warning_level(&self, calendar: &WorkCalendar, now: NaiveDateTime) -> WarningLevel {
        let allowed = i128::from(self.allowed_seconds(calendar));
        let used = i128::from(self.used_seconds(calendar, now));
        if allowed == 0 {
            return if now >= self.base_due_at {
                WarningLevel::Red
            } else {
                WarningLevel::Green
            };
        }
        if used * 100 >= allowed * i128::from(RED_AT_PERCENT) {
            WarningLevel::Red
        } else if used * 100 >= allowed * i128::from(YELLOW_AT_PERCENT) {
            WarningLevel::Yellow
        } else {
            WarningLevel::Green
        }
    }

    /// Whether work finished at `done_at` met the deadline (for 按期处置率): used ≤ allowed.
    pub fn is_on_time(&self, calendar: &WorkCalendar, done_at: NaiveDateTime) -> bool {
        self.used_seconds(calendar, done_at) <= self.allowed_seconds(calendar)
    }

    /// Paused time up to `now`, in seconds of the clock's measure.
    fn paused_seconds(&self, calendar: &WorkCalendar, now: NaiveDateTime) -> i64 {
        self.pauses
            .iter()
            .map(|p| {
                let from = p.from.min(now);
                let to = p.to.unwrap_or(now).min(now);
                self.measure_seconds(calendar, from, to).max(0)
            })
            .sum()
    }

    /// Seconds from `a` to `b` in the clock's measure.
    fn measure_seconds(&self, calendar: &WorkCalendar, a: NaiveDateTime, b: NaiveDateTime) -> i64 {
        match self.measure {
            Measure::Working => calendar.working_seconds_between(a, b),
            Measure::Natural => (b - a).num_seconds(),
        }
    }
}
