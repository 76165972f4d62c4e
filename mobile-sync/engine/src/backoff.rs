//! Exponential backoff with jitter for the sync loop (`docs/sync-protocol.md` §6): after a
//! network or 5xx failure wait 1 s, doubling up to 5 min, each ±20 %; reset on success.
//! A failure counter and one formula: the loop that sleeps is the engine's own (it alternates
//! sync and long-poll), so a retry crate's executor would not fit it.

use std::time::Duration;

/// First delay.
pub const BASE: Duration = Duration::from_secs(1);
/// Longest delay (before jitter).
pub const MAX: Duration = Duration::from_secs(300);
/// Jitter as a fraction of the delay.
pub const JITTER: f64 = 0.2;

/// Failure counter of the sync loop.
#[derive(Debug, Clone, Default)]
pub struct Backoff {
    failures: u32,
}

impl Backoff {
    /// A fresh backoff (no failures).
    pub fn new() -> Self {
        Self::default()
    }

    /// The delay after one more failure, with random jitter.
    pub fn next_delay(&mut self) -> Duration {
        let d = delay(self.failures, rand::random::<f64>());
        self.failures = self.failures.saturating_add(1);
        d
    }

    /// A success: start again from the first delay.
    pub fn reset(&mut self) {
        self.failures = 0;
    }

    /// Failures in a row so far.
    pub fn failures(&self) -> u32 {
        self.failures
    }
}

/// Delay after `failures` earlier failures, `unit` in `[0, 1)` choosing the jitter:
/// `min(BASE · 2^failures, MAX) · (1 - JITTER + 2 · JITTER · unit)`.
pub fn delay(failures: u32, unit: f64) -> Duration {
    let plain = BASE
        .checked_mul(1u32.checked_shl(failures.min(31)).unwrap_or(u32::MAX))
        .unwrap_or(MAX)
        .min(MAX);
    let factor = 1.0 - JITTER + 2.0 * JITTER * unit.clamp(0.0, 1.0);
    plain.mul_f64(factor)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn delays_double_from_one_second_to_five_minutes() {
        let mid = |n| delay(n, 0.5);
        assert_eq!(mid(0), Duration::from_secs(1));
        assert_eq!(mid(1), Duration::from_secs(2));
        assert_eq!(mid(5), Duration::from_secs(32));
        assert_eq!(mid(8), Duration::from_secs(256));
        assert_eq!(mid(9), Duration::from_secs(300));
        assert_eq!(mid(1000), Duration::from_secs(300), "no overflow");
    }

    #[test]
    fn jitter_stays_within_twenty_percent() {
        for n in [0, 3, 12] {
            let plain = delay(n, 0.5).as_secs_f64();
            assert!((delay(n, 0.0).as_secs_f64() - plain * 0.8).abs() < 1e-9);
            assert!((delay(n, 1.0).as_secs_f64() - plain * 1.2).abs() < 1e-9);
        }
        let mut b = Backoff::new();
        for n in 0..20 {
            let d = b.next_delay().as_secs_f64();
            let plain = delay(n, 0.5).as_secs_f64();
            assert!(
                d >= plain * 0.8 - 1e-9 && d <= plain * 1.2 + 1e-9,
                "{n}: {d}"
            );
        }
        assert_eq!(b.failures(), 20);
        b.reset();
        assert!(b.next_delay() <= Duration::from_millis(1200));
    }
}
