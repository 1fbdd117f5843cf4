//! Communication media: one file per link type, sockets and serial ports,
//! nothing else (spec §7).
//!
//! Every medium is nonblocking and registers one mio [`Token`]; the loop
//! calls [`Medium::recv`] on a readable event, [`Medium::send`] for every
//! outbound packet, and [`Medium::flush`] on a writable event or when
//! [`Medium::next_deadline`] has passed (serial pacing).
//!
//! Reception when several media share a port: see [`open_all`].

pub mod bcast;
pub mod mcast;
mod netif;
pub mod ping;
pub mod serial;
mod serial_framer;
mod serial_writer;
mod ttylock;
pub mod ucast;
mod udp;
mod udp_link;

use std::collections::HashSet;
use std::fmt;
use std::io;
use std::path::PathBuf;
use std::time::Instant;

use mio::{Registry, Token};

use crate::config::model::{Medium as MediumConfig, MediumLine, Origin};

pub use serial_framer::{ClassicFramer, MAX_FRAME};
pub use serial_writer::{PacedWriter, QueueFull};
pub use udp_link::UdpLink;

/// Largest message Heartbeat handles (`MAXMSG`, include/clplumbing/ipc.h).
pub const MAXMSG: usize = 262_144;

/// Which encoding a medium carries (spec §2.2/§2.3).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum WireFormat {
    /// `###` netstring form with trailer: the UDP media.
    Netstring,
    /// `>>>` classic text with inner `auth`, no NUL: the serial medium.
    Classic,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MediumKind {
    Bcast,
    Mcast,
    Ucast,
    Serial,
}

impl MediumKind {
    /// The ha.cf directive name.
    pub fn directive(self) -> &'static str {
        match self {
            MediumKind::Bcast => "bcast",
            MediumKind::Mcast => "mcast",
            MediumKind::Ucast => "ucast",
            MediumKind::Serial => "serial",
        }
    }
}

/// Result of draining a medium's input.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Drained {
    /// Everything was read; wait for the next readable event.
    Empty,
    /// Stopped at the per-call limit: call `recv` again soon (mio is
    /// edge-triggered, no new event will come for data already queued).
    More,
}

/// At most this many packets are taken per `recv` call, so a flood on one
/// link cannot starve timers and other links.
pub const RECV_BATCH: usize = 256;

/// One open medium.
pub trait Medium {
    fn kind(&self) -> MediumKind;
    /// The local link name Heartbeat shows (interface, or tty path).
    fn name(&self) -> &str;
    fn wire_format(&self) -> WireFormat;
    /// Lines Heartbeat logs (at info) when this medium opens, `glib: ` prefix
    /// included, e.g. "glib: UDP Broadcast heartbeat started on port 694 (694) interface eth0".
    fn opened_log(&self) -> &[String];
    /// Register the medium's readable (and, for serial, writable) descriptor.
    /// A medium whose reception is done by another one registers nothing.
    fn register(&mut self, registry: &Registry, token: Token) -> io::Result<()>;
    fn deregister(&mut self, registry: &Registry) -> io::Result<()>;
    /// Send one complete encoded packet. Never blocks: UDP drops on a full
    /// socket buffer (error returned), serial queues with pacing.
    fn send(&mut self, packet: &[u8], now: Instant) -> io::Result<()>;
    /// Move every complete received packet (UDP datagram or serial frame)
    /// into `out`, without blocking.
    fn recv(&mut self, out: &mut Vec<Vec<u8>>) -> io::Result<Drained>;
    /// When `flush` must be called even without an I/O event (serial pacing
    /// pause or write-stall timeout). `None`: nothing pending.
    fn next_deadline(&self) -> Option<Instant> {
        None
    }
    /// Continue queued output (writable event or deadline reached).
    fn flush(&mut self, _now: Instant) -> io::Result<()> {
        Ok(())
    }
}

/// Knobs that are not in ha.cf.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OpenOptions {
    /// Directory for UUCP lock files of serial ports (`LCK..ttyS0`);
    /// `None` disables locking.
    pub lock_dir: Option<PathBuf>,
}

impl Default for OpenOptions {
    fn default() -> Self {
        OpenOptions {
            lock_dir: Some(PathBuf::from("/var/lock")),
        }
    }
}

/// Why a medium could not be opened.
#[derive(Debug)]
pub enum MediaErrorKind {
    NoSuchInterface(String),
    NoIpv4Address(String),
    NoBroadcastAddress(String),
    Resolve {
        peer: String,
        reason: String,
    },
    NotFullPath(PathBuf),
    NoSuchDevice {
        path: PathBuf,
        source: io::Error,
    },
    NotCharDevice(PathBuf),
    Locked {
        path: PathBuf,
        pid: i32,
    },
    BadBaud(u32),
    /// A system call failed; `what` says which step.
    Io {
        what: String,
        source: io::Error,
    },
}

impl fmt::Display for MediaErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            MediaErrorKind::NoSuchInterface(i) => write!(f, "interface [{i}] does not exist"),
            MediaErrorKind::NoIpv4Address(i) => write!(f, "interface [{i}] has no IPv4 address"),
            MediaErrorKind::NoBroadcastAddress(i) => {
                write!(f, "interface [{i}] has no IPv4 broadcast address")
            }
            MediaErrorKind::Resolve { peer, reason } => {
                write!(f, "cannot resolve hostname [{peer}]: {reason}")
            }
            MediaErrorKind::NotFullPath(p) => {
                write!(f, "serial port not full pathname [{}]", p.display())
            }
            MediaErrorKind::NoSuchDevice { path, source } => {
                write!(f, "nonexistent serial port [{}]: {source}", path.display())
            }
            MediaErrorKind::NotCharDevice(p) => {
                write!(f, "serial port [{}] not a char device", p.display())
            }
            MediaErrorKind::Locked { path, pid } => {
                write!(
                    f,
                    "cannot lock line {}: locked by pid {pid}",
                    path.display()
                )
            }
            MediaErrorKind::BadBaud(b) => write!(f, "unsupported baud rate {b}"),
            MediaErrorKind::Io { what, source } => write!(f, "{what}: {source}"),
        }
    }
}

/// A medium failed to open. `Display` gives "bcast eth9: interface [eth9]
/// does not exist"; the daemon prefixes `origin` ("ha.cf:12: ").
#[derive(Debug)]
pub struct MediaError {
    /// Directive and link, e.g. "bcast eth0", "serial /dev/ttyS0".
    pub medium: String,
    pub origin: Origin,
    pub kind: MediaErrorKind,
}

impl fmt::Display for MediaError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.medium, self.kind)
    }
}

impl std::error::Error for MediaError {}

impl MediaError {
    /// "FILE:LINE: medium: cause", the form config errors use.
    pub fn located(&self) -> String {
        format!(
            "{}:{}: {}",
            self.origin.file.display(),
            self.origin.line,
            self
        )
    }
}

/// Shorthand for building errors inside the media files.
pub(crate) fn io_err(what: impl Into<String>, source: impl Into<io::Error>) -> MediaErrorKind {
    MediaErrorKind::Io {
        what: what.into(),
        source: source.into(),
    }
}

fn describe(medium: &MediumConfig) -> String {
    let kind = match medium {
        MediumConfig::Bcast { .. } => MediumKind::Bcast,
        MediumConfig::Mcast { .. } => MediumKind::Mcast,
        MediumConfig::Ucast { .. } => MediumKind::Ucast,
        MediumConfig::Serial { .. } => MediumKind::Serial,
    };
    format!("{} {}", kind.directive(), medium.link_name())
}

/// Open one medium, with its own receive socket.
pub fn open(line: &MediumLine, opts: &OpenOptions) -> Result<Box<dyn Medium>, MediaError> {
    open_one(line, opts, true)
}

/// Open every medium of ha.cf, in order (index = `LinkIndex`).
///
/// bcast and ucast receive on `0.0.0.0:port` bound to their interface. Two
/// such media on the same (interface, port) — typically one `ucast` line per
/// peer — would each get a socket in one `SO_REUSEPORT` group, and Linux then
/// hands every unicast datagram to only *one* of them (load balancing), while
/// broadcasts go to all. Heartbeat lives with that because links are named
/// by interface. Here the first medium on an (interface, port) owns the one
/// receive socket and the later ones only send: every packet is received
/// exactly once, on a medium with the right link name.
///
/// mcast receive sockets are per (group, port, interface) membership and set
/// `IP_MULTICAST_ALL=0`, so each sees only the group traffic of its own
/// interface.
pub fn open_all(
    lines: &[MediumLine],
    opts: &OpenOptions,
) -> Result<Vec<Box<dyn Medium>>, MediaError> {
    let mut listening: HashSet<(String, u16)> = HashSet::new();
    let mut out = Vec::with_capacity(lines.len());
    for line in lines {
        let receive = match &line.medium {
            MediumConfig::Bcast { iface, port } | MediumConfig::Ucast { iface, port, .. } => {
                listening.insert((iface.clone(), *port))
            }
            _ => true,
        };
        out.push(open_one(line, opts, receive)?);
    }
    Ok(out)
}

fn open_one(
    line: &MediumLine,
    opts: &OpenOptions,
    receive: bool,
) -> Result<Box<dyn Medium>, MediaError> {
    let wrap = |kind| MediaError {
        medium: describe(&line.medium),
        origin: line.origin.clone(),
        kind,
    };
    let medium: Box<dyn Medium> = match &line.medium {
        MediumConfig::Bcast { iface, port } => {
            Box::new(bcast::Bcast::open(iface, *port, receive).map_err(wrap)?)
        }
        MediumConfig::Mcast {
            iface,
            group,
            port,
            ttl,
            loopback,
        } => Box::new(mcast::Mcast::open(iface, *group, *port, *ttl, *loopback).map_err(wrap)?),
        MediumConfig::Ucast { iface, peer, port } => {
            Box::new(ucast::Ucast::open(iface, peer, *port, receive).map_err(wrap)?)
        }
        MediumConfig::Serial { device, baud } => {
            Box::new(serial::Serial::open(device, *baud, opts.lock_dir.as_deref()).map_err(wrap)?)
        }
    };
    Ok(medium)
}

/// Heartbeat's write-error policy (spec §7): log each failure until 10 in a
/// row, then stay quiet until a send succeeds again.
#[derive(Clone, Debug, Default)]
pub struct SendErrorThrottle {
    consecutive: u32,
}

impl SendErrorThrottle {
    pub const QUIET_AFTER: u32 = 10;

    /// Feed a send result; returns the text to log, if any.
    pub fn note(&mut self, medium: &str, result: &io::Result<()>) -> Option<String> {
        match result {
            Ok(()) => {
                self.consecutive = 0;
                None
            }
            Err(e) => {
                self.consecutive = self.consecutive.saturating_add(1);
                match self.consecutive {
                    n if n < Self::QUIET_AFTER => {
                        Some(format!("Unable to send packet on {medium}: {e}"))
                    }
                    n if n == Self::QUIET_AFTER => Some(format!(
                        "Unable to send packet on {medium}: {e} ({n} consecutive errors, suppressing further messages)"
                    )),
                    _ => None,
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn throttle_goes_quiet_after_ten_and_resets() {
        let mut t = SendErrorThrottle::default();
        let err: io::Result<()> = Err(io::Error::from(io::ErrorKind::WouldBlock));
        let logged = (0..15).filter(|_| t.note("eth0", &err).is_some()).count();
        assert_eq!(logged, 10);
        assert!(t.note("eth0", &Ok(())).is_none());
        assert!(t.note("eth0", &err).is_some());
    }

    /// What the event loop does: register every medium, poll, drain the
    /// one whose token fired (edge-triggered).
    #[test]
    fn readiness_comes_through_mio() {
        use std::time::Duration;

        let port = udp::testutil::free_port();
        let lines = [
            MediumLine {
                medium: MediumConfig::Ucast {
                    iface: "lo".into(),
                    peer: "127.0.0.1".into(),
                    port,
                },
                origin: Origin::default(),
            },
            MediumLine {
                medium: MediumConfig::Ucast {
                    iface: "lo".into(),
                    peer: "127.0.0.1".into(),
                    port,
                },
                origin: Origin::default(),
            },
        ];
        let mut media = open_all(&lines, &OpenOptions::default()).unwrap();
        let mut poll = mio::Poll::new().unwrap();
        for (i, m) in media.iter_mut().enumerate() {
            m.register(poll.registry(), Token(i)).unwrap();
        }
        media[1].send(b"via second", Instant::now()).unwrap();
        let mut events = mio::Events::with_capacity(8);
        let mut got = Vec::new();
        let deadline = Instant::now() + Duration::from_secs(5);
        while got.is_empty() && Instant::now() < deadline {
            poll.poll(&mut events, Some(Duration::from_millis(100)))
                .unwrap();
            for ev in events.iter() {
                assert_eq!(ev.token(), Token(0), "only the receiving medium registers");
                assert!(ev.is_readable());
                assert_eq!(media[0].recv(&mut got).unwrap(), Drained::Empty);
            }
        }
        assert_eq!(got, vec![b"via second".to_vec()]);
        for m in media.iter_mut() {
            m.deregister(poll.registry()).unwrap();
        }
    }

    #[test]
    fn error_names_medium_and_place() {
        let line = MediumLine {
            medium: MediumConfig::Bcast {
                iface: "nosuchif0".into(),
                port: 694,
            },
            origin: Origin {
                file: "/etc/ha.d/ha.cf".into(),
                line: 12,
            },
        };
        let err = match open(&line, &OpenOptions::default()) {
            Err(e) => e,
            Ok(_) => panic!("opened a missing interface"),
        };
        assert_eq!(
            err.located(),
            "/etc/ha.d/ha.cf:12: bcast nosuchif0: interface [nosuchif0] does not exist"
        );
    }
}
