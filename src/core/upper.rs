//! The extension point for protocol layers above membership (the v1
//! resource-ownership machine next): they see accepted messages and
//! membership events, and answer with messages to send and actions.
//!
//! Messages an upper layer sends go through the same path as the core's
//! own: control fields, history, loopback (so the layer also sees its own
//! broadcast or self-addressed messages, as Heartbeat's resource code
//! expects), then transmission.

use super::node::NodeState;
use super::{Action, Input, Now};
use crate::wire::Message;

/// Everything an upper layer can read and request during one callback.
pub struct UpperCtx<'a> {
    now: Now,
    local: &'a str,
    nodes: &'a [NodeState],
    comm_up: bool,
    pub(super) sends: Vec<Message>,
    pub(super) actions: Vec<Action>,
    pub(super) send_status: bool,
    pub(super) shutdown_done: bool,
}

impl<'a> UpperCtx<'a> {
    pub(super) fn new(now: Now, local: &'a str, nodes: &'a [NodeState], comm_up: bool) -> Self {
        UpperCtx {
            now,
            local,
            nodes,
            comm_up,
            sends: Vec::new(),
            actions: Vec::new(),
            send_status: false,
            shutdown_done: false,
        }
    }

    pub fn now(&self) -> Now {
        self.now
    }

    pub fn local_node(&self) -> &str {
        self.local
    }

    /// Every configured node, ha.cf order.
    pub fn nodes(&self) -> &[NodeState] {
        self.nodes
    }

    pub fn node_status(&self, node: &str) -> Option<&str> {
        self.nodes
            .iter()
            .find(|n| n.name() == node)
            .map(|n| n.status())
    }

    pub fn comm_up(&self) -> bool {
        self.comm_up
    }

    /// Send a cluster message (caller fields only; the core adds the rest).
    pub fn send(&mut self, msg: Message) {
        self.sends.push(msg);
    }

    /// Send our status heartbeat now (e.g. before a partition restart).
    pub fn send_local_status(&mut self) {
        self.send_status = true;
    }

    /// Any other action for the daemon (timers with `TimerKey::Other`, logs...).
    pub fn push(&mut self, action: Action) {
        self.actions.push(action);
    }

    /// The graceful shutdown this layer took over is finished: the core
    /// logs the final line and asks the daemon to exit.
    pub fn shutdown_complete(&mut self) {
        self.shutdown_done = true;
    }
}

/// Hooks for a protocol layer above membership. All default to doing
/// nothing, so a layer implements only what it needs.
pub trait UpperLayer {
    /// A sequenced message accepted for us (from a peer, or our own via
    /// loopback) after the core handled it. `NS_*` messages are not passed.
    fn on_message(&mut self, _ctx: &mut UpperCtx, _from: &str, _msg: &Message) {}

    /// A node's status changed (`up`, `active`, `init`, `dead`...). Also
    /// called when a late heartbeat marks an already dead node dead again.
    fn on_node_status(&mut self, _ctx: &mut UpperCtx, _node: &str, _status: &str) {}

    /// A peer restarted (higher generation): it may hold resources again.
    fn on_peer_restart(&mut self, _ctx: &mut UpperCtx, _node: &str) {}

    /// Local communication is up (we just became `active`).
    fn on_comm_up(&mut self, _ctx: &mut UpperCtx) {}

    /// A node we declared dead is back with the same generation (split
    /// brain healed). Heartbeat then restarts itself when managing resources.
    fn on_partition_healed(&mut self, _ctx: &mut UpperCtx, _node: &str) {}

    /// Our own heartbeat stalled longer than our dead interval (Heartbeat:
    /// "No local heartbeat. Forcing restart.").
    fn on_local_stall(&mut self, _ctx: &mut UpperCtx) {}

    /// Graceful shutdown requested (comm is up). Return true to take it over
    /// and call [`UpperCtx::shutdown_complete`] when done; false lets the
    /// core finish at once.
    fn on_shutdown(&mut self, _ctx: &mut UpperCtx) -> bool {
        false
    }

    /// Inputs the core does not consume: `Timer(TimerKey::Other(_))`,
    /// commands other than shutdown, and future input kinds.
    fn on_input(&mut self, _ctx: &mut UpperCtx, _input: &Input) {}
}

/// The layer used when none is installed.
#[derive(Debug, Default)]
pub struct NoUpperLayer;

impl UpperLayer for NoUpperLayer {}
