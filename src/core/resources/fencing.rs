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
use super::{arm, log, msgs, Holdings, ResourceManager, RscState, Standby};
use crate::core::upper::UpperCtx;
use crate::core::{Action, FenceResult, Level, TimerKey};

/// Heartbeat retries a failed reset this long after the attempt ended.
pub(super) const STONITH_RETRY_MS: u64 = 5000;

/// How long the home node of groups held twice waits for the peer to
/// release them before it gives way itself.
pub(super) const BOTH_OWN_GRACE_MS: u64 = 10_000;
const TIMER_BOTH_OWN: &str = "rsc-both-own";

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
    /// The home side's grace timer for groups held twice is armed.
    yield_armed: bool,
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
            if back || self.shutdown_in_progress {
                log(ctx, Level::Error, format!("STONITH of {node} failed."));
                self.cancel_fence(ctx, node);
                return;
            }
            log(
                ctx,
                Level::Error,
                format!("STONITH of {node} failed.  Retrying..."),
            );
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
        if name == TIMER_BOTH_OWN {
            self.both_own_timer(ctx);
            return;
        }
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

    /// Both nodes hold the same groups once both sides are settled (e.g.
    /// a peer that took them back while we took them over, or a real 3.0.6
    /// peer that took over after a late fence). The node that is not the
    /// groups' home releases them at once; the home node waits
    /// [`BOTH_OWN_GRACE_MS`] for that and then gives way itself (a real
    /// 3.0.6 peer never releases), so exactly one node is left running them.
    pub(super) fn resolve_both_own(&mut self, ctx: &mut UpperCtx) {
        if !self.settled_for_resolve() {
            return;
        }
        let peers = self.peers.join(" ");
        if self.holds.intersects(Holdings::FOREIGN) && self.peer_holds.intersects(Holdings::LOCAL) {
            log(
                ctx,
                Level::Warn,
                format!(
                    "Both nodes hold the resource groups of {peers}: \
                     releasing them here, {peers} keeps them."
                ),
            );
            self.release_duplicates(Holdings::FOREIGN);
        } else if self.holds.intersects(Holdings::LOCAL)
            && self.peer_holds.intersects(Holdings::FOREIGN)
            && !self.fencing.yield_armed
        {
            self.fencing.yield_armed = true;
            log(
                ctx,
                Level::Warn,
                format!(
                    "Both nodes hold our resource groups: waiting for {peers} to release them."
                ),
            );
            arm(ctx, TIMER_BOTH_OWN, ctx.now().mono_ms + BOTH_OWN_GRACE_MS);
        }
    }

    fn both_own_timer(&mut self, ctx: &mut UpperCtx) {
        self.fencing.yield_armed = false;
        if !self.settled_for_resolve()
            || !self.holds.intersects(Holdings::LOCAL)
            || !self.peer_holds.intersects(Holdings::FOREIGN)
        {
            return;
        }
        let peers = self.peers.join(" ");
        log(
            ctx,
            Level::Warn,
            format!(
                "Both nodes still hold our resource groups: releasing them here, {peers} keeps them."
            ),
        );
        self.release_duplicates(Holdings::LOCAL);
    }

    fn settled_for_resolve(&self) -> bool {
        self.nice
            && self.comm_up
            && !self.shutdown_in_progress
            && self.state == RscState::Stable
            && self.standby == Standby::Not
            && self.standby_deadline.is_none()
            && self.peer_stable
            && !self.takeover_in_progress
            && self.jobs.idle()
    }

    fn release_duplicates(&mut self, set: Holdings) {
        self.holds = self.holds.without(set);
        let keys = self.keys.of_set(set);
        self.queue_give(keys, After::ReleasedDuplicates);
    }
}
