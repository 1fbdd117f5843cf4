//! The pure protocol core: events in, actions out.
//!
//! Nothing here touches a socket, a file or a clock. The daemon feeds
//! [`Input`]s (a decoded and verified packet with the link it arrived on, a
//! timer that fired, an admin command) together with a [`Now`] and performs
//! the returned [`Action`]s. Tests drive it as plain function calls.

use crate::wire::Message;

/// Time as the core sees it, passed in with every input.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Default)]
pub struct Now {
    /// Monotonic milliseconds since an arbitrary origin (all deadlines use this).
    pub mono_ms: u64,
    /// Wall clock seconds since 1970 (only for the `ts` field).
    pub wall_secs: u64,
}

/// Index of a local medium (ha.cf media order), i.e. a link name.
pub type LinkIndex = usize;

/// A timer the core asked for. One timer per key: arming it again moves it.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum TimerKey {
    /// Send the next local status heartbeat.
    Keepalive,
    /// A node's dead deadline (node name).
    NodeDead(String),
    /// A node's warntime deadline (node name).
    NodeWarn(String),
    /// A link (node, link) dead deadline.
    LinkDead(String, LinkIndex),
    /// initdead before comm-up.
    InitDead,
    /// Re-send `reqnodes` (every second until `repnodes` arrives).
    ReqNodes,
    /// Ask a node for a missing seq again (node, seq).
    Rexmit(String, u64),
    /// The 5 s start-up window (advertised dt = deadtime + 2000) ends.
    StartupDtEnd,
    /// Anything a later sub-machine (resources, standby, shutdown) needs.
    Other(String),
}

/// Log levels with Heartbeat's names.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Level {
    Emerg,
    Alert,
    Crit,
    Error,
    Warn,
    Notice,
    Info,
    Debug,
}

/// What the daemon must do.
#[derive(Clone, Debug, PartialEq)]
pub enum Action {
    /// Encode, sign and write this complete message (control fields already
    /// added by the core) on every medium.
    Transmit(Message),
    /// Arm (or move) a timer to fire at `at_ms` (monotonic).
    ArmTimer {
        key: TimerKey,
        at_ms: u64,
    },
    CancelTimer(TimerKey),
    Log {
        level: Level,
        text: String,
    },
    /// Local communication is up (open API socket, start clients, resources).
    CommUp,
    /// A node's status changed (for the API and status snapshot).
    NodeStatus {
        node: String,
        status: String,
    },
    /// A link's status changed.
    LinkStatus {
        node: String,
        link: LinkIndex,
        up: bool,
    },
}

/// An admin or lifecycle command.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Command {
    /// Graceful shutdown (SIGTERM).
    Shutdown,
}

/// One input for the core.
#[derive(Clone, Debug, PartialEq)]
pub enum Input {
    /// A decoded, authenticated packet that arrived on `link`.
    Packet {
        link: LinkIndex,
        msg: Message,
    },
    Timer(TimerKey),
    Command(Command),
}
