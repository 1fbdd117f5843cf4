//! The Heartbeat 3.0.6 v1 resource-ownership protocol (hb_resource.c and
//! the scripts it runs: req_resource, mach_down, rc.d/ip-request*,
//! rc.d/hb_takeover, hb_standby) as an [`UpperLayer`]. Pure: messages,
//! membership events, timers and job completions in; messages, resource
//! jobs, timers and logs out.
//!
//! Modes: `auto_failback legacy` (ip-request protocol) and nice_failback
//! (`auto_failback on|off`: starting/resource messages, RQSTDELAY, the
//! 3-phase `ask_resources` standby protocol, auto-failback when on).
//!
//! What the daemon does with it:
//! - construct with [`ResourceManager::new`], keep [`ResourceManager::view`]
//!   for the API, box it into `Core::with_upper`;
//! - run each `Action::RunJob` with the script runner (one at a time, in
//!   order) and feed `Input::JobDone` back with the same id;
//! - FIFO messages (`hb_standby`, `hb_takeover`, scripts) go through
//!   `Core::send_cluster_msg`: this layer sees them as our own messages;
//! - `Action::Restart` / `Action::SelfFence`: see their docs in `core`;
//!   `Action::Exit { code: 100 }` ends a give-up hanging for an hour.
//!
//! Deliberate differences from Heartbeat (each also noted where it is
//! implemented):
//! - `fast_start`: a fresh, empty node answers `starting` with `isstable=1`
//!   (Heartbeat: 0), so the peer takes its groups at once instead of after
//!   RQSTDELAY. A real 3.0.6 node accepts it (seen in the lab); the report
//!   is truthful (`none`), only stability is claimed early, and the peer
//!   then only ever takes its *own* groups.
//! - Group ownership is tracked per key (Heartbeat asks the resource
//!   scripts): takes of groups already started are skipped, `ip-request`
//!   answers `weown` from this record.
//! - A granted `ip-request-resp` is not acted on once shutdown began.
//! - After a start failure, `hb_standby local` is used for a local group and
//!   `foreign` otherwise (Heartbeat's helper picks `foreign` for any
//!   multi-resource group).
//! - SIGTERM during a give-up-and-restart turns it into a plain shutdown.
//! - A peer dying while we wait to shut down counts as stable.
//! - Our own `shutdone` leads to exit after 1 s (Heartbeat's first delay)
//!   and when no job runs; respawn-client stop phases are the daemon's.

mod fencing;
mod holdings;
mod hooks;
mod jobflow;
mod jobs;
mod legacy;
mod msgs;
mod nice;
mod setup;
mod shutdown;
mod standby;
mod state;
mod takeover;
mod view;

#[cfg(test)]
mod tests;

use std::collections::{BTreeMap, BTreeSet};

pub use holdings::Holdings;
pub use msgs::{standby_request, takeover_request, BadResourceSet};
pub use setup::ResourceOptions;
pub use view::{ResourceStatus, ResourceView};

use self::jobs::JobQueue;
use self::setup::GroupKeys;
use self::state::{RscState, Standby};
use super::upper::UpperCtx;
use super::{Action, Level, ResourceJob, TimerKey};
use crate::config::model::{AutoFailback, ResourceGroup};
use crate::wire::Message;

/// Heartbeat's RQSTDELAY: how long to wait for a stable peer before taking
/// our own groups anyway.
const RQSTDELAY_MS: u64 = 10_000;

// Timer names (TimerKey::Other).
const TIMER_RQSTDELAY: &str = "rsc-rqstdelay";
const TIMER_STANDBY: &str = "rsc-standby";
const TIMER_AUTOFAILBACK: &str = "rsc-autofailback";
const TIMER_FINAL: &str = "rsc-final";
const TIMER_PARTITION_RESTART: &str = "rsc-partition-restart";
const TIMER_EMERGENCY: &str = "rsc-emergency";
const TIMER_FAILED_LOCAL: &str = "rsc-failed-start-local";
const TIMER_FAILED_FOREIGN: &str = "rsc-failed-start-foreign";

/// The deferred part of `req_our_resources` (Heartbeat forks a child whose
/// messages follow whatever the parent sends in the same step).
#[derive(Clone, Copy, Debug)]
struct ReqOurs {
    /// More than one node active and legacy mode: ask with `ip-request`.
    ask: bool,
    /// What we hold when the child was "forked".
    held: Holdings,
}

/// The v1 resource manager of one node.
pub struct ResourceManager {
    local: String,
    peers: Vec<String>,
    keys: GroupKeys,
    nice: bool,
    auto_failback: bool,
    opts: ResourceOptions,

    comm_up: bool,
    state: RscState,
    /// `i_hold_resources`, our point of view.
    holds: Holdings,
    /// `other_holds_resources`, in the peer's own point of view.
    peer_holds: Holdings,
    peer_stable: bool,
    takeover_in_progress: bool,
    standby: Standby,
    /// `standby_running`: when the standby operation times out.
    standby_deadline: Option<u64>,
    /// `standby_rsctype`: the set named in the current standby exchange.
    standby_set: Holdings,
    rqstdelay_armed: bool,
    needs_failback: bool,
    needs_shutdown: bool,
    shutdown_in_progress: bool,
    giveup_started: bool,
    restart_after_shutdown: bool,
    local_work_done: bool,
    foreign_work_done: bool,
    takeover_announced: bool,
    legacy_requested: bool,
    /// `anypacketsyet`: peers heard from since they were last declared dead.
    heard: BTreeSet<String>,
    /// Legacy `has_resources`: cleared by `shutdone`, set again on restart.
    peer_may_hold: BTreeMap<String, bool>,
    /// Groups started or being started and not released since.
    owned: BTreeSet<String>,
    jobs: JobQueue,
    children: Vec<ReqOurs>,
    /// Messages of a takeover decided before comm-up, sent at comm-up (see
    /// `send_when_up`).
    before_comm: Vec<Message>,
    /// Fenced or restarting: the process is going away, ignore everything.
    finished: bool,
    /// Peers being reset by STONITH (running, or waiting for a retry).
    fencing: fencing::Fencing,
    view: ResourceView,
}

impl ResourceManager {
    /// `local`: our node name; `peers`: the other (normal) nodes; `groups`:
    /// haresources in file order; `auto_failback`: legacy, on or off.
    pub fn new(
        local: &str,
        peers: &[String],
        groups: &[ResourceGroup],
        auto_failback: AutoFailback,
        options: ResourceOptions,
    ) -> ResourceManager {
        let local = local.to_ascii_lowercase();
        let peers: Vec<String> = peers
            .iter()
            .map(|p| p.to_ascii_lowercase())
            .filter(|p| *p != local)
            .collect();
        let no_peer = peers.is_empty();
        let mgr = ResourceManager {
            keys: GroupKeys::new(&local, groups),
            peer_may_hold: peers.iter().map(|p| (p.clone(), true)).collect(),
            local,
            peers,
            nice: auto_failback != AutoFailback::Legacy,
            auto_failback: auto_failback == AutoFailback::On,
            opts: options,
            comm_up: false,
            state: RscState::Init,
            holds: Holdings::NONE,
            peer_holds: Holdings::NONE,
            // A one-node cluster has no peer whose resource activity we
            // could wait for: without this a SIGTERM waits forever.
            peer_stable: no_peer,
            takeover_in_progress: false,
            standby: Standby::Not,
            standby_deadline: None,
            standby_set: Holdings::ALL,
            rqstdelay_armed: false,
            needs_failback: false,
            needs_shutdown: false,
            shutdown_in_progress: false,
            giveup_started: false,
            restart_after_shutdown: false,
            local_work_done: false,
            foreign_work_done: false,
            takeover_announced: false,
            legacy_requested: false,
            heard: BTreeSet::new(),
            owned: BTreeSet::new(),
            jobs: JobQueue::default(),
            children: Vec::new(),
            before_comm: Vec::new(),
            finished: false,
            fencing: fencing::Fencing::default(),
            view: ResourceView::default(),
        };
        mgr.publish();
        mgr
    }

    /// A handle to the latest status, for the API (`getrsc`) and snapshots.
    pub fn view(&self) -> ResourceView {
        self.view.clone()
    }

    /// `none|local|foreign|all|transition`, as `cl_status rscstatus` says.
    pub fn rsc_hold(&self) -> &'static str {
        if self.is_stable() {
            self.holds.name()
        } else {
            "transition"
        }
    }

    /// Heartbeat's resource state name.
    pub fn state_name(&self) -> &'static str {
        self.state.name()
    }

    pub fn current_job(&self) -> Option<&ResourceJob> {
        self.jobs.running().map(|r| &r.job)
    }

    /// `hb_rsc_isstable`: no resource activity and (nice_failback) both
    /// sides done changing.
    fn is_stable(&self) -> bool {
        if !self.nice {
            return self.jobs.idle();
        }
        if self.shutdown_in_progress && self.state == RscState::Init {
            return true;
        }
        self.peer_stable
            && !self.takeover_in_progress
            && self.standby == Standby::Not
            && self.standby_deadline.is_none()
            && self.jobs.idle()
            && matches!(
                self.state,
                RscState::Stable | RscState::Shutdown | RscState::Init
            )
    }

    fn publish(&self) {
        self.view.publish(ResourceStatus {
            rsc_hold: self.rsc_hold(),
            state: self.state.name(),
            standby: self.standby.name(),
            current_job: self.current_job().cloned(),
            queued_jobs: self.jobs.queued(),
            owned_keys: self
                .keys
                .all()
                .into_iter()
                .filter(|k| self.owned.contains(k))
                .collect(),
        });
    }

    /// End of every event: run deferred `req_our_resources` children, start
    /// queued jobs, retry a delayed shutdown, publish the status.
    fn settle(&mut self, ctx: &mut UpperCtx) {
        if self.finished {
            self.publish();
            return;
        }
        if self.comm_up && !self.awaiting_peer_status(ctx) {
            for mut child in std::mem::take(&mut self.children) {
                child.ask = !self.nice && self.active_count(ctx) >= 2;
                self.run_req_ours_child(ctx, child);
            }
        }
        self.resolve_both_own(ctx);
        self.pump(ctx);
        self.shutdown_if_needed(ctx);
        self.pump(ctx);
        self.publish();
    }

    /// Send our holdings report (nice_failback only).
    fn send_held(&self, ctx: &mut UpperCtx, stable: bool, info: Option<&str>) {
        if self.nice {
            ctx.send(msgs::resources_held(self.holds, stable, info));
        }
    }

    /// Send now, or at comm-up if comm is not up yet. The core evaluates
    /// comm-up when our own messages loop back, and a comm-up nested in a
    /// send is transmitted first; Heartbeat's real order (captured) is the
    /// `stonith` of a node dead at initdead, then `starting`.
    fn send_when_up(&mut self, ctx: &mut UpperCtx, msg: Message) {
        if self.comm_up {
            ctx.send(msg);
        } else {
            self.before_comm.push(msg);
        }
    }

    fn is_peer(&self, node: &str) -> bool {
        self.peers.iter().any(|p| p == node)
    }

    /// Heartbeat's `countbystatus(ACTIVESTATUS)` plus us if our own status
    /// update is not done yet.
    fn active_count(&self, ctx: &UpperCtx) -> usize {
        let peers = self
            .peers
            .iter()
            .filter(|p| ctx.node_status(p) == Some("active"))
            .count();
        peers + 1
    }

    /// Legacy mode decides between self-grant and `ip-request` by who is
    /// `active`. Our comm-up can come before a live peer's first status is
    /// known (its node status still `init`); deciding then would self-grant
    /// a group the running peer holds, so wait for that status.
    fn awaiting_peer_status(&self, ctx: &UpperCtx) -> bool {
        !self.nice
            && self
                .peers
                .iter()
                .any(|p| ctx.node_status(p) == Some("init"))
    }

    fn dead_count(&self, ctx: &UpperCtx) -> usize {
        self.peers
            .iter()
            .filter(|p| ctx.node_status(p) == Some("dead"))
            .count()
    }
}

fn log(ctx: &mut UpperCtx, level: Level, text: impl Into<String>) {
    ctx.push(Action::Log {
        level,
        text: text.into(),
    });
}

fn arm(ctx: &mut UpperCtx, name: &str, at_ms: u64) {
    ctx.push(Action::ArmTimer {
        key: TimerKey::Other(name.to_string()),
        at_ms,
    });
}

fn cancel(ctx: &mut UpperCtx, name: &str) {
    ctx.push(Action::CancelTimer(TimerKey::Other(name.to_string())));
}
