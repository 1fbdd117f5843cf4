//! The `ld` field of every status heartbeat: `/proc/loadavg`, read at most
//! once per [`REFRESH`]. The kernel recomputes the load every 5 s, so
//! reading the file for each heartbeat (an open, read, close per keepalive)
//! only cost CPU.

use std::time::{Duration, Instant};

/// How long a read value is reused.
pub const REFRESH: Duration = Duration::from_secs(1);

/// Caches what `read` returns for [`REFRESH`].
pub struct CachedLoadAvg<R> {
    read: R,
    value: String,
    read_at: Option<Instant>,
}

impl<R: FnMut() -> String> CachedLoadAvg<R> {
    pub fn new(read: R) -> Self {
        CachedLoadAvg {
            read,
            value: String::new(),
            read_at: None,
        }
    }

    /// The load average at `now`: the cached one while it is fresh.
    pub fn get(&mut self, now: Instant) -> String {
        let stale = self
            .read_at
            .is_none_or(|at| now.saturating_duration_since(at) >= REFRESH);
        if stale {
            self.value = (self.read)();
            self.read_at = Some(now);
        }
        self.value.clone()
    }

    /// The closure the core wants for its `ld` field.
    pub fn into_fn(mut self) -> impl FnMut() -> String
    where
        R: 'static,
    {
        move || self.get(Instant::now())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::cell::Cell;
    use std::rc::Rc;

    #[test]
    fn reads_once_per_refresh_interval() {
        let reads = Rc::new(Cell::new(0));
        let r = reads.clone();
        let mut cache = CachedLoadAvg::new(move || {
            r.set(r.get() + 1);
            format!("0.0{} 0.00 0.00 1/99 42", r.get())
        });
        let t0 = Instant::now();
        assert_eq!(cache.get(t0), "0.01 0.00 0.00 1/99 42");
        assert_eq!(
            cache.get(t0 + Duration::from_millis(999)),
            "0.01 0.00 0.00 1/99 42"
        );
        assert_eq!(reads.get(), 1);
        assert_eq!(cache.get(t0 + REFRESH), "0.02 0.00 0.00 1/99 42");
        assert_eq!(reads.get(), 2);
    }

    #[test]
    fn an_earlier_clock_keeps_the_value() {
        let mut n = 0;
        let mut cache = CachedLoadAvg::new(move || {
            n += 1;
            n.to_string()
        });
        let t0 = Instant::now() + Duration::from_secs(10);
        assert_eq!(cache.get(t0), "1");
        assert_eq!(cache.get(t0 - Duration::from_secs(5)), "1");
    }
}
