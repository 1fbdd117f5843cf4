//! The layer stack above membership as the daemon runs it: the v1 resource
//! manager, plus delivery of API-related cluster messages to local clients
//! and of custom message types to their rc.d scripts.

use crate::core::resources::ResourceManager;
use crate::core::{Action, Input, UpperCtx, UpperLayer};
use crate::wire::Message;

/// Status heartbeats reach API clients only as changes (`control::notify`).
const NOT_DELIVERED: &[&str] = &["status"];

pub struct DaemonUpper {
    pub resources: ResourceManager,
    /// Message types with a script in rc.d (see `event_scripts`).
    pub event_types: std::collections::BTreeSet<String>,
}

impl UpperLayer for DaemonUpper {
    fn on_message(&mut self, ctx: &mut UpperCtx, from: &str, msg: &Message) {
        // Heartbeat hands every accepted message to the API clients (the
        // one named by `to_id`, or all); rc.d scripts get theirs too.
        if msg.msg_type().is_some_and(|t| !NOT_DELIVERED.contains(&t)) {
            ctx.push(Action::Deliver(msg.clone()));
        }
        self.resources.on_message(ctx, from, msg);
    }
    fn on_node_status(&mut self, ctx: &mut UpperCtx, node: &str, status: &str) {
        self.resources.on_node_status(ctx, node, status);
    }
    fn on_peer_restart(&mut self, ctx: &mut UpperCtx, node: &str) {
        self.resources.on_peer_restart(ctx, node);
    }
    fn on_comm_up(&mut self, ctx: &mut UpperCtx) {
        self.resources.on_comm_up(ctx);
    }
    fn on_partition_healed(&mut self, ctx: &mut UpperCtx, node: &str) {
        self.resources.on_partition_healed(ctx, node);
    }
    fn on_local_stall(&mut self, ctx: &mut UpperCtx) {
        self.resources.on_local_stall(ctx);
    }
    fn on_shutdown(&mut self, ctx: &mut UpperCtx) -> bool {
        self.resources.on_shutdown(ctx)
    }
    fn on_input(&mut self, ctx: &mut UpperCtx, input: &Input) {
        self.resources.on_input(ctx, input);
    }
}
