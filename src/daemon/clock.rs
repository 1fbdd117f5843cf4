//! The daemon's clocks, turned into the core's [`Now`]: monotonic
//! milliseconds since daemon start plus wall-clock seconds.

use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use crate::core::Now;

#[derive(Clone, Copy, Debug)]
pub struct Clock {
    origin: Instant,
}

impl Default for Clock {
    fn default() -> Self {
        Clock::new()
    }
}

impl Clock {
    pub fn new() -> Clock {
        Clock {
            origin: Instant::now(),
        }
    }

    /// `Now` for an instant (wall clock read now).
    pub fn at(&self, instant: Instant) -> Now {
        Now {
            mono_ms: self.mono_ms(instant),
            wall_secs: SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .map(|d| d.as_secs())
                .unwrap_or(0),
        }
    }

    pub fn now(&self) -> Now {
        self.at(Instant::now())
    }

    pub fn mono_ms(&self, instant: Instant) -> u64 {
        instant.saturating_duration_since(self.origin).as_millis() as u64
    }

    /// The instant of a monotonic-ms deadline.
    pub fn instant_of(&self, mono_ms: u64) -> Instant {
        self.origin + Duration::from_millis(mono_ms)
    }

    /// Poll timeout until the earliest of some deadlines (`None` = wait
    /// for I/O only). Rounded up so a wake-up is never early.
    pub fn poll_timeout(&self, now: Instant, deadlines: &[Option<Instant>]) -> Option<Duration> {
        deadlines
            .iter()
            .flatten()
            .min()
            .map(|d| d.saturating_duration_since(now))
            .map(|d| {
                let ms = d.as_micros().div_ceil(1000);
                Duration::from_millis(ms as u64)
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mono_ms_and_back() {
        let c = Clock::new();
        let t = c.instant_of(1500);
        assert_eq!(c.mono_ms(t), 1500);
        assert!(c.now().wall_secs > 1_600_000_000);
    }

    #[test]
    fn poll_timeout_takes_the_earliest_and_rounds_up() {
        let c = Clock::new();
        let now = c.instant_of(1000);
        let a = Some(now + Duration::from_micros(2500));
        let b = Some(now + Duration::from_secs(1));
        assert_eq!(
            c.poll_timeout(now, &[b, None, a]),
            Some(Duration::from_millis(3))
        );
        assert_eq!(c.poll_timeout(now, &[None]), None);
        let past = Some(c.instant_of(10));
        assert_eq!(c.poll_timeout(now, &[past]), Some(Duration::ZERO));
    }
}
