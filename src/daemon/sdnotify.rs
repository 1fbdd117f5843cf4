//! systemd's notify protocol (sd_notify(3)) without libsystemd: one datagram
//! per state change to `$NOTIFY_SOCKET` (a path, or `@name` for an abstract
//! socket). READY=1 at comm-up, RELOADING=1 / READY=1 around a SIGHUP,
//! STOPPING=1 when the shutdown starts, and WATCHDOG=1 every half
//! `$WATCHDOG_USEC` — sent from the poll loop itself, so a loop that hangs
//! stops pinging and systemd's watchdog fires.
//!
//! Without `$NOTIFY_SOCKET` (init script, `heartbeat` by hand) every call is
//! a no-op. Send errors are ignored: systemd may be gone, and notifying must
//! never disturb the cluster.

use std::ffi::OsStr;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::net::{SocketAddr, UnixDatagram};
use std::time::{Duration, Instant};

/// A state to report.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum State {
    Ready,
    Reloading,
    Stopping,
    Watchdog,
}

/// The datagram for `state`; `monotonic_usec` is CLOCK_MONOTONIC, which
/// systemd wants with RELOADING=1 (since v253).
pub fn message(state: State, monotonic_usec: u64) -> String {
    match state {
        State::Ready => "READY=1\nSTATUS=Communications up".to_string(),
        State::Reloading => format!("RELOADING=1\nMONOTONIC_USEC={monotonic_usec}"),
        State::Stopping => "STOPPING=1\nSTATUS=Shutting down".to_string(),
        State::Watchdog => "WATCHDOG=1".to_string(),
    }
}

/// `$NOTIFY_SOCKET` as a socket address: an absolute path, or `@name` for
/// Linux's abstract namespace (systemd's convention).
pub fn parse_address(value: &OsStr) -> Result<SocketAddr, String> {
    let bytes = value.as_bytes();
    match bytes.first() {
        Some(b'/') => SocketAddr::from_pathname(std::path::Path::new(value))
            .map_err(|e| format!("NOTIFY_SOCKET {}: {e}", value.to_string_lossy())),
        Some(b'@') if bytes.len() > 1 => {
            use std::os::linux::net::SocketAddrExt;
            SocketAddr::from_abstract_name(&bytes[1..])
                .map_err(|e| format!("NOTIFY_SOCKET {}: {e}", value.to_string_lossy()))
        }
        _ => Err(format!(
            "NOTIFY_SOCKET {:?}: neither an absolute path nor an @abstract name",
            value.to_string_lossy()
        )),
    }
}

/// How often to ping the watchdog: half of `$WATCHDOG_USEC`, and only when
/// `$WATCHDOG_PID` (if set) names us — otherwise the request is for another
/// process (sd_watchdog_enabled's rule).
pub fn watchdog_interval(usec: Option<&str>, pid: Option<&str>, me: u32) -> Option<Duration> {
    if let Some(pid) = pid {
        if pid.trim().parse::<u32>().ok() != Some(me) {
            return None;
        }
    }
    let usec: u64 = usec?.trim().parse().ok().filter(|u| *u > 0)?;
    Some(Duration::from_micros(usec / 2))
}

/// The daemon's notifier.
pub struct Notifier {
    target: Option<(UnixDatagram, SocketAddr)>,
    watchdog: Option<Duration>,
    next_ping: Option<Instant>,
    stopping: bool,
}

impl Notifier {
    /// A notifier that never sends.
    pub fn disabled() -> Notifier {
        Notifier {
            target: None,
            watchdog: None,
            next_ping: None,
            stopping: false,
        }
    }

    /// From the environment systemd gives its services. A bad
    /// `$NOTIFY_SOCKET` disables notifying and is returned as a line to log.
    pub fn from_env() -> (Notifier, Option<String>) {
        let Some(value) = std::env::var_os("NOTIFY_SOCKET") else {
            return (Notifier::disabled(), None);
        };
        let opened = parse_address(&value).and_then(|addr| {
            let socket = UnixDatagram::unbound().map_err(|e| format!("NOTIFY_SOCKET: {e}"))?;
            // A full receive queue must never block the poll loop.
            socket
                .set_nonblocking(true)
                .map_err(|e| format!("NOTIFY_SOCKET: {e}"))?;
            Ok((socket, addr))
        });
        let (target, note) = match opened {
            Ok(t) => (Some(t), None),
            Err(e) => (None, Some(format!("{e}; not notifying systemd"))),
        };
        let usec = std::env::var("WATCHDOG_USEC").ok();
        let pid = std::env::var("WATCHDOG_PID").ok();
        let watchdog = target
            .as_ref()
            .and_then(|_| watchdog_interval(usec.as_deref(), pid.as_deref(), std::process::id()));
        let notifier = Notifier {
            target,
            watchdog,
            next_ping: watchdog.map(|_| Instant::now()),
            stopping: false,
        };
        (notifier, note)
    }

    pub fn send(&self, state: State) {
        if let Some((socket, addr)) = &self.target {
            let _ = socket.send_to_addr(message(state, monotonic_usec()).as_bytes(), addr);
        }
    }

    pub fn ready(&self) {
        self.send(State::Ready);
    }

    pub fn reloading(&self) {
        self.send(State::Reloading);
    }

    /// STOPPING=1, once.
    pub fn stopping(&mut self) {
        if !self.stopping {
            self.stopping = true;
            self.send(State::Stopping);
        }
    }

    /// When the poll loop must wake up for the next watchdog ping.
    pub fn next_deadline(&self) -> Option<Instant> {
        self.next_ping
    }

    /// Called on every turn of the poll loop: pings when due.
    pub fn tick(&mut self, now: Instant) {
        if let (Some(at), Some(every)) = (self.next_ping, self.watchdog) {
            if now >= at {
                self.send(State::Watchdog);
                self.next_ping = Some(now + every);
            }
        }
    }
}

fn monotonic_usec() -> u64 {
    nix::time::clock_gettime(nix::time::ClockId::CLOCK_MONOTONIC)
        .map(|t| (t.tv_sec() as u64) * 1_000_000 + (t.tv_nsec() as u64) / 1_000)
        .unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_follow_sd_notify() {
        assert_eq!(
            message(State::Ready, 0),
            "READY=1\nSTATUS=Communications up"
        );
        assert_eq!(
            message(State::Reloading, 1234567),
            "RELOADING=1\nMONOTONIC_USEC=1234567"
        );
        assert!(message(State::Stopping, 0).starts_with("STOPPING=1\n"));
        assert_eq!(message(State::Watchdog, 0), "WATCHDOG=1");
    }

    #[test]
    fn addresses_are_paths_or_abstract_names() {
        use std::os::linux::net::SocketAddrExt;
        let path = parse_address(OsStr::new("/run/systemd/notify")).unwrap();
        assert_eq!(
            path.as_pathname(),
            Some(std::path::Path::new("/run/systemd/notify"))
        );
        let abs = parse_address(OsStr::new("@/org/freedesktop/systemd1/notify/42")).unwrap();
        assert_eq!(
            abs.as_abstract_name(),
            Some(&b"/org/freedesktop/systemd1/notify/42"[..])
        );
        for bad in ["", "@", "relative/path", "notify"] {
            assert!(parse_address(OsStr::new(bad)).is_err(), "{bad:?}");
        }
        let long = format!("/{}", "x".repeat(200));
        assert!(parse_address(OsStr::new(&long)).is_err());
    }

    #[test]
    fn watchdog_pings_at_half_the_timeout_and_only_for_us() {
        let half = Some(Duration::from_secs(5));
        assert_eq!(watchdog_interval(Some("10000000"), None, 7), half);
        assert_eq!(watchdog_interval(Some("10000000"), Some("7"), 7), half);
        assert_eq!(watchdog_interval(Some("10000000"), Some("8"), 7), None);
        assert_eq!(watchdog_interval(Some("10000000"), Some("x"), 7), None);
        assert_eq!(watchdog_interval(None, None, 7), None);
        assert_eq!(watchdog_interval(Some("0"), None, 7), None);
        assert_eq!(watchdog_interval(Some("soon"), None, 7), None);
    }

    #[test]
    fn a_disabled_notifier_has_no_deadline() {
        let mut n = Notifier::disabled();
        n.tick(Instant::now());
        n.stopping();
        assert_eq!(n.next_deadline(), None);
    }

    #[test]
    fn tick_sends_watchdog_when_due_and_reschedules() {
        let dir = std::env::temp_dir().join(format!("hbrs-sdnotify-{}", std::process::id()));
        let _ = std::fs::remove_file(&dir);
        let rx = UnixDatagram::bind(&dir).unwrap();
        rx.set_nonblocking(true).unwrap();
        let tx = UnixDatagram::unbound().unwrap();
        let every = Duration::from_millis(500);
        let start = Instant::now();
        let mut n = Notifier {
            target: Some((tx, SocketAddr::from_pathname(&dir).unwrap())),
            watchdog: Some(every),
            next_ping: Some(start),
            stopping: false,
        };
        let mut buf = [0u8; 256];
        n.tick(start);
        let len = rx.recv(&mut buf).unwrap();
        assert_eq!(&buf[..len], b"WATCHDOG=1");
        assert_eq!(n.next_deadline(), Some(start + every));
        n.tick(start + every / 2);
        assert!(rx.recv(&mut buf).is_err(), "pinged before it was due");
        n.stopping();
        n.stopping();
        let len = rx.recv(&mut buf).unwrap();
        assert!(buf[..len].starts_with(b"STOPPING=1"));
        assert!(rx.recv(&mut buf).is_err(), "STOPPING=1 sent twice");
        std::fs::remove_file(&dir).unwrap();
    }
}
