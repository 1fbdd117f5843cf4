//! The pure protocol core: events in, actions out.
//!
//! Nothing here touches a socket, a file or a clock. The daemon feeds
//! [`Input`]s (a decoded and verified packet with the link it arrived on, a
//! timer that fired, an admin command) together with a [`Now`] and performs
//! the returned [`Action`]s. Tests drive it as plain function calls.
//!
//! How the daemon drives [`Core`]:
//! - `Core::start(now)` once, then `Core::handle(now, input)` for every
//!   packet, timer and command; `Core::send_cluster_msg` for FIFO messages.
//! - Perform the actions in order. `Transmit` carries the complete message
//!   (control fields added): add the classic `auth` field, sign, encode and
//!   write it on every medium. Retransmissions are the stored message again,
//!   so a deterministic encoder reproduces the original bytes.
//! - Timers: one per [`TimerKey`]; `ArmTimer` sets or moves it, `CancelTimer`
//!   drops it; when it expires feed `Input::Timer(key)` (early or late firing
//!   is tolerated: the core re-checks its own deadlines).
//! - Our own messages are processed internally when sent (Heartbeat's
//!   loopback); do NOT feed our transmissions back. Copies of our packets
//!   that come back from the network (broadcast, ucast to self) may be fed
//!   like any packet: they only bring our own link `up` and are counted as
//!   `own_echoes`.
//! - `Exit { code }` ends the process after a completed shutdown.
//!
//! Layers above membership (resources) plug in through [`UpperLayer`].

use crate::wire::Message;

mod counters;
mod engine;
mod fields;
mod history;
mod membership;
mod node;
mod outbound;
mod params;
pub mod pingnodes;
mod queries;
mod receive;
mod reliability;
pub mod resources;
mod rng;
mod seqtrack;
mod upper;

#[cfg(test)]
mod tests;

pub use counters::Counters;
pub use engine::Core;
pub use node::{LinkState, NodeState};
pub use params::{CoreParams, ParamsError};
pub use pingnodes::{PingNodeParams, PingNodeState, PingReject};
pub use upper::{NoUpperLayer, UpperCtx, UpperLayer};

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
    /// A ping node's dead deadline (node name).
    PingDead(String),
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
    /// A node's UUID was learned or changed (persist it in the host cache).
    NodeUuid {
        node: String,
        uuid: [u8; 16],
    },
    /// Exit the process with this code (shutdown finished).
    Exit {
        code: i32,
    },
    /// A cluster message for local API clients (client status queries and
    /// replies, messages to named clients).
    Deliver(Message),
    /// Queue a resource job; its end comes back as `Input::JobDone`.
    RunJob {
        id: JobId,
        job: ResourceJob,
    },
    /// Resources were given up for a restart (healed partition, no local
    /// heartbeat): stop respawn clients and all sending at once, stay silent
    /// `delay_ms` so the peers declare us dead, then re-exec the daemon as a
    /// fresh start (new generation, no `-R`).
    Restart {
        delay_ms: u64,
    },
    /// A resource could not be stopped and may still run: stop everything at
    /// once (no graceful shutdown, no more packets) and run the configured
    /// fence command (Heartbeat: `reboot -nf`).
    SelfFence {
        reason: String,
    },
}

/// An admin or lifecycle command.
/// Identifies one resource job (unique per daemon run).
pub type JobId = u64;

/// Work for the resource script runner (ResourceManager's `takegroup` /
/// `givegroup`), run one job at a time in submission order.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ResourceJob {
    /// Start each group (by haresources key) left to right, skipping
    /// resources whose `status` says they already run.
    Take { keys: Vec<String> },
    /// Stop each group right to left, with Heartbeat's stop retries.
    Give { keys: Vec<String> },
}

/// How a resource job ended.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum JobOutcome {
    Ok,
    /// A start failed (the group was stopped again): the keys affected.
    StartFailed {
        keys: Vec<String>,
    },
    /// A stop failed and the resource still runs: the machine must be fenced.
    StopFailed {
        keys: Vec<String>,
    },
}

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
    /// A resource job finished.
    JobDone {
        id: JobId,
        outcome: JobOutcome,
    },
    /// An authenticated echo reply payload (`t=NS_st`) of a ping node.
    PingReply(Message),
}
