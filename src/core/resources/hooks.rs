//! The [`UpperLayer`] hooks: route each event to its handler, then settle
//! (run deferred work, start jobs, retry a delayed shutdown, publish).

use super::{
    log, msgs, Holdings, ResourceManager, RscState, TIMER_AUTOFAILBACK, TIMER_EMERGENCY,
    TIMER_FAILED_FOREIGN, TIMER_FAILED_LOCAL, TIMER_FINAL, TIMER_PARTITION_RESTART,
    TIMER_RQSTDELAY, TIMER_STANDBY,
};
use crate::core::upper::{UpperCtx, UpperLayer};
use crate::core::{Input, Level, TimerKey};
use crate::wire::Message;

impl UpperLayer for ResourceManager {
    fn on_message(&mut self, ctx: &mut UpperCtx, from: &str, msg: &Message) {
        if self.finished {
            return;
        }
        let peer_sends = self.is_peer(from);
        if peer_sends {
            self.heard.insert(from.to_string());
        }
        if !peer_sends && from != self.local {
            return;
        }
        match msg.msg_type().unwrap_or("") {
            msgs::T_STARTING => self.on_starting(ctx, from),
            msgs::T_RESOURCES => self.on_resources(ctx, from, msg),
            msgs::T_ASKRESOURCES => self.on_ask_resources(ctx, from, msg),
            msgs::T_TAKEOVER => self.on_takeover_request(ctx, from, msg),
            msgs::T_SHUTDONE => self.on_shutdone(ctx, from),
            msgs::T_IPREQUEST => self.on_ip_request(ctx, from, msg),
            msgs::T_IPREQUEST_RESP => self.on_ip_request_resp(ctx, msg),
            _ => {}
        }
        self.settle(ctx);
    }

    fn on_node_status(&mut self, ctx: &mut UpperCtx, node: &str, status: &str) {
        if self.finished || !self.is_peer(node) {
            return;
        }
        if status == "dead" {
            self.on_peer_dead(ctx, node);
        } else {
            self.heard.insert(node.to_string());
            self.fence_peer_back(ctx, node);
        }
        self.settle(ctx);
    }

    fn on_peer_restart(&mut self, ctx: &mut UpperCtx, node: &str) {
        if self.finished || !self.is_peer(node) {
            return;
        }
        self.heard.insert(node.to_string());
        self.peer_may_hold.insert(node.to_string(), true);
        self.fence_peer_back(ctx, node);
        self.settle(ctx);
    }

    fn on_comm_up(&mut self, ctx: &mut UpperCtx) {
        if self.finished {
            return;
        }
        self.comm_up_action(ctx);
        self.settle(ctx);
    }

    fn on_partition_healed(&mut self, ctx: &mut UpperCtx, node: &str) {
        if self.finished {
            return;
        }
        self.heard.insert(node.to_string());
        self.partition_healed(ctx);
        self.settle(ctx);
    }

    fn on_local_stall(&mut self, ctx: &mut UpperCtx) {
        if self.finished || self.shutdown_in_progress {
            return;
        }
        self.cause_shutdown_restart(ctx);
        self.settle(ctx);
    }

    fn on_shutdown(&mut self, ctx: &mut UpperCtx) -> bool {
        // -M, or already fencing/restarting: nothing of ours to release.
        if !self.opts.manage_resources || self.finished {
            return false;
        }
        self.begin_shutdown(ctx);
        self.settle(ctx);
        true
    }

    fn on_input(&mut self, ctx: &mut UpperCtx, input: &Input) {
        if self.finished {
            return;
        }
        match input {
            Input::JobDone { id, outcome } => self.on_job_done(ctx, *id, outcome),
            Input::FenceDone { node, result } => self.on_fence_done(ctx, node, *result),
            Input::Timer(TimerKey::Other(name)) => self.on_timer(ctx, name),
            _ => {}
        }
        self.settle(ctx);
    }
}

impl ResourceManager {
    fn on_timer(&mut self, ctx: &mut UpperCtx, name: &str) {
        match name {
            TIMER_RQSTDELAY => self.rqstdelay_expired(ctx),
            TIMER_STANDBY => self.standby_timer(ctx),
            TIMER_AUTOFAILBACK => self.perform_auto_failback(ctx),
            TIMER_FINAL => self.final_shutdown(ctx),
            TIMER_PARTITION_RESTART => self.cause_shutdown_restart(ctx),
            TIMER_EMERGENCY => self.emergency_shutdown(ctx),
            TIMER_FAILED_LOCAL => self.standby_after_failure(ctx, Holdings::LOCAL),
            TIMER_FAILED_FOREIGN => self.standby_after_failure(ctx, Holdings::FOREIGN),
            _ => self.fence_timer(ctx, name),
        }
    }

    /// `comm_up_resource_action`.
    fn comm_up_action(&mut self, ctx: &mut UpperCtx) {
        self.comm_up = true;
        for msg in std::mem::take(&mut self.before_comm) {
            ctx.send(msg);
        }
        if self.dead_count(ctx) == 0 {
            // Everybody is up: nobody's groups to take over.
            self.foreign_work_done = true;
        }
        if self.nice {
            ctx.send(msgs::starting());
            self.state = RscState::Starting;
            if self.peers.is_empty() {
                self.alone_in_cluster(ctx);
            }
        } else if !self.legacy_requested {
            self.legacy_requested = true;
            self.req_our_resources(ctx, false);
        }
    }

    /// `AnnounceTakeover`: log once when both local and foreign initial work
    /// is done.
    pub(super) fn announce_takeover(&mut self, ctx: &mut UpperCtx, reason: &str) {
        if self.takeover_announced || !self.local_work_done || !self.foreign_work_done {
            return;
        }
        self.takeover_announced = true;
        log(
            ctx,
            Level::Info,
            format!("Initial resource acquisition complete ({reason})"),
        );
    }
}
