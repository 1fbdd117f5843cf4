//! STONITH before takeover (hb_rsc_recover_dead_resources with a device,
//! StonithProcessDied, the 5 s retry), and the two places where we are
//! deliberately safer than Heartbeat 3.0.6:
//!
//! - A peer that comes back while its reset is pending cancels the retry,
//!   and a reset that succeeds after the peer came back does not start a
//!   takeover: the peer is checked again first. Heartbeat takes over
//!   anyway and both nodes then run the group (seen in the lab).
//! - When both nodes hold the peer's groups once everything is stable, we
//!   release them to their home node and log it (Heartbeat only logs
//!   "Both machines own …" and leaves both running).
//!
//! The reset itself is a child process run by the daemon: `Action::Fence`
//! out, `Input::FenceDone` in.

use std::collections::BTreeMap;

use super::jobs::After;
use super::{log, msgs, Holdings, ResourceManager, RscState, Standby};
use crate::core::upper::UpperCtx;
use crate::core::{Action, FenceResult, Level, TimerKey};

/// Heartbeat retries a failed reset this long after the attempt ended.
pub(super) const STONITH_RETRY_MS: u64 = 5000;

/// Retry timers are `TimerKey::Other("rsc-stonith-retry:NODE")`.
const TIMER_RETRY_PREFIX: &str = "rsc-stonith-retry:";

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Attempt {
    /// A reset child runs.
    Running,
    /// The last attempt failed; the retry timer is armed.
    Waiting,
}

/// Per peer: where its reset stands. No entry = nothing pending.
#[derive(Debug, Default)]
pub(super) struct Fencing {
    pending: BTreeMap<String, Attempt>,
}

fn retry_key(node: &str) -> TimerKey {
    TimerKey::Other(format!("{TIMER_RETRY_PREFIX}{node}"))
}

impl ResourceManager {
    /// A dead peer may hold resources: reset it; the takeover waits.
    pub(super) fn start_fence(&mut self, ctx: &mut UpperCtx, node: &str) {
        match self.fencing.pending.get(node) {
            // A late heartbeat re-declared it dead: the attempt goes on.
            Some(Attempt::Running) => {}
            Some(Attempt::Waiting) => {
                ctx.push(Action::CancelTimer(retry_key(node)));
                self.run_fence(ctx, node);
            }
            None => self.run_fence(ctx, node),
        }
    }

    fn run_fence(&mut self, ctx: &mut UpperCtx, node: &str) {
        self.fencing
            .pending
            .insert(node.to_string(), Attempt::Running);
        ctx.push(Action::Fence {
            node: node.to_string(),
        });
    }

    /// The reset child of `node` ended.
    pub(super) fn on_fence_done(&mut self, ctx: &mut UpperCtx, node: &str, result: FenceResult) {
        if self.fencing.pending.get(node) != Some(&Attempt::Running) {
            let text = format!("STONITH result for {node} ignored: no reset was pending.");
            log(ctx, Level::Debug, text);
            return;
        }
        let word = match result {
            FenceResult::Ok => "OK",
            FenceResult::BadHost => "badhost",
            FenceResult::Failed => "bad",
        };
        self.send_when_up(ctx, msgs::stonith(node, word));
        let back = ctx.node_status(node).is_some_and(|s| s != "dead");
        if result != FenceResult::Ok {
            log(
                ctx,
                Level::Error,
                format!("STONITH of {node} failed.  Retrying..."),
            );
            if back || self.shutdown_in_progress {
                self.cancel_fence(ctx, node);
                return;
            }
            self.fencing
                .pending
                .insert(node.to_string(), Attempt::Waiting);
            ctx.push(Action::ArmTimer {
                key: retry_key(node),
                at_ms: ctx.now().mono_ms + STONITH_RETRY_MS,
            });
            return;
        }
        self.fencing.pending.remove(node);
        if back {
            // Our deviation (Heartbeat takes over here, and both nodes run
            // the group): the node answered again before the reset ended.
            // If the reset really took it down it is declared dead again
            // and reset and taken over then.
            log(
                ctx,
                Level::Warn,
                format!(
                    "STONITH of {node} succeeded after {node} came back: \
                     not taking over its resources while it is alive."
                ),
            );
            return;
        }
        self.takeover_after_fence(ctx, node);
    }

    /// Heartbeat's path after a successful reset: take the node's groups.
    fn takeover_after_fence(&mut self, ctx: &mut UpperCtx, node: &str) {
        if !self.nice {
            self.takeover_from_node(ctx, node);
            return;
        }
        if self.holds == Holdings::ALL {
            self.peer_stable = true;
            return;
        }
        self.takeover_from_node(ctx, node);
    }

    /// A retry timer fired (`name` is any `TimerKey::Other` we do not know).
    pub(super) fn fence_timer(&mut self, ctx: &mut UpperCtx, name: &str) {
        let Some(node) = name.strip_prefix(TIMER_RETRY_PREFIX) else {
            return;
        };
        if self.fencing.pending.get(node) != Some(&Attempt::Waiting) {
            return;
        }
        if self.shutdown_in_progress || ctx.node_status(node).is_some_and(|s| s != "dead") {
            self.cancel_fence(ctx, node);
            return;
        }
        let node = node.to_string();
        self.run_fence(ctx, &node);
    }

    /// The peer was heard again (any status but dead, or a restart).
    pub(super) fn fence_peer_back(&mut self, ctx: &mut UpperCtx, node: &str) {
        if self.fencing.pending.get(node) == Some(&Attempt::Waiting) {
            self.cancel_fence(ctx, node);
        }
    }

    /// Our deviation: Heartbeat keeps resetting a node that came back.
    fn cancel_fence(&mut self, ctx: &mut UpperCtx, node: &str) {
        if self.fencing.pending.remove(node).is_none() {
            return;
        }
        ctx.push(Action::CancelTimer(retry_key(node)));
        let text = if self.shutdown_in_progress {
            format!("STONITH of {node} cancelled: shutdown in progress.")
        } else {
            format!("Node {node} is alive again: STONITH of {node} cancelled, no takeover.")
        };
        log(ctx, Level::Info, text);
    }

    /// Both nodes hold the peer's groups (e.g. a peer that took them back
    /// while we took them over): once both sides are settled, release them
    /// to their home node so exactly one node runs each group.
    pub(super) fn resolve_both_own(&mut self, ctx: &mut UpperCtx) {
        let settled = self.nice
            && self.comm_up
            && !self.shutdown_in_progress
            && self.state == RscState::Stable
            && self.standby == Standby::Not
            && self.standby_deadline.is_none()
            && self.peer_stable
            && !self.takeover_in_progress
            && self.jobs.idle();
        if !settled
            || !self.holds.intersects(Holdings::FOREIGN)
            || !self.peer_holds.intersects(Holdings::LOCAL)
        {
            return;
        }
        let peers = self.peers.join(" ");
        log(
            ctx,
            Level::Warn,
            format!(
                "Both nodes hold the resource groups of {peers}: \
                 releasing them here, {peers} keeps them."
            ),
        );
        self.holds = self.holds.without(Holdings::FOREIGN);
        let keys = self.keys.of_set(Holdings::FOREIGN);
        self.queue_give(keys, After::ReleasedDuplicates);
    }
}
