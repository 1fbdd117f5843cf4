//! nice_failback start-up (`process_resources`): `starting` / `resource`
//! reports, the RQSTDELAY deadlock breaker, acquiring our own groups
//! (`req_our_resources`), auto-failback and the ownership audit.

use super::{
    arm, log, msgs, Holdings, ReqOurs, ResourceManager, RscState, Standby, RQSTDELAY_MS,
    TIMER_AUTOFAILBACK, TIMER_RQSTDELAY,
};
use crate::core::upper::UpperCtx;
use crate::core::Level;
use crate::wire::Message;

/// ResourceManager's path, as Heartbeat prints it in "No local resources".
const RSC_MGR: &str = "/usr/share/heartbeat/ResourceManager";
/// Auto-failback retry while the cluster is not ready for it.
const AUTOFAILBACK_RETRY_MS: u64 = 1000;

impl ResourceManager {
    /// True when `starting`/`resource` handling applies (handlers exist only
    /// after local comm-up, and only with nice_failback and -M off).
    fn resource_messages_apply(&self) -> bool {
        self.comm_up && self.nice && self.opts.manage_resources
    }

    /// Fresh start, holding nothing, nothing in progress: claiming
    /// stability cannot make the peer take anything of ours.
    fn fresh_and_empty(&self) -> bool {
        self.holds == Holdings::NONE
            && self.standby == Standby::Not
            && !self.takeover_in_progress
            && !self.shutdown_in_progress
            && self.jobs.idle()
    }

    /// A peer asks what we hold.
    pub(super) fn on_starting(&mut self, ctx: &mut UpperCtx, from: &str) {
        if !self.resource_messages_apply() || from == self.local {
            return;
        }
        let old = self.state;
        match old {
            RscState::RscRcvd | RscState::Stable | RscState::Shutdown => {}
            RscState::Starting => {
                self.state = RscState::BothStarting;
                self.foreign_work_done = true;
                self.announce_takeover(ctx, "HB_R_BOTHSTARTING");
            }
            RscState::Init | RscState::BothStarting => {
                let text = format!("Received 'starting' message in state {}", old.number());
                log(ctx, Level::Error, text);
                return;
            }
        }
        self.peer_stable = false;
        if self.takeover_in_progress {
            log(ctx, Level::Warn, "T_STARTING received during takeover.");
        }
        // fast_start (our extension): see the module docs.
        let fast = self.opts.fast_start && old == RscState::Starting && self.fresh_and_empty();
        self.send_held(ctx, old == RscState::Stable || fast, None);
        self.audit(ctx);
    }

    /// A holdings report, from a peer or our own (loopback).
    pub(super) fn on_resources(&mut self, ctx: &mut UpperCtx, from: &str, msg: &Message) {
        if !self.resource_messages_apply() {
            return;
        }
        let Some(word) = msg.get_str(msgs::F_RSC_HOLD) else {
            log(
                ctx,
                Level::Error,
                "resource message without rsc_hold field.",
            );
            return;
        };
        let report = Holdings::parse(word).unwrap_or_else(|| {
            let text = format!("encode_resources: bad resource type [{word}]");
            log(ctx, Level::Error, text);
            Holdings::NONE
        });
        let full = msg.get_str(msgs::F_RTYPE) == Some("full");
        let mut new_state = self.state;
        match self.state {
            RscState::Starting | RscState::BothStarting => {
                new_state = RscState::RscRcvd;
                if !self.auto_failback {
                    self.foreign_work_done = true;
                    self.announce_takeover(ctx, "T_RESOURCES");
                }
            }
            RscState::RscRcvd | RscState::Stable | RscState::Shutdown => {}
            RscState::Init => {
                let text = format!("resource message received in state {}", self.state.number());
                log(ctx, Level::Error, text);
                return;
            }
        }
        if from == self.local {
            new_state = self.own_report(ctx, msg, full, report, new_state);
        } else {
            if self.peer_report(ctx, msg, full, report) {
                new_state = RscState::Stable;
            }
        }
        self.state = new_state;
        if self.state == RscState::RscRcvd && !self.rqstdelay_armed {
            self.rqstdelay_armed = true;
            arm(ctx, TIMER_RQSTDELAY, ctx.now().mono_ms + RQSTDELAY_MS);
        }
        self.audit(ctx);
    }

    /// A peer's report. Returns true when we became stable (took our groups).
    fn peer_report(
        &mut self,
        ctx: &mut UpperCtx,
        msg: &Message,
        full: bool,
        report: Holdings,
    ) -> bool {
        self.peer_holds = self.peer_holds.updated(full, report);
        match msg.get_str(msgs::F_ISSTABLE) {
            Some("1") if !self.peer_stable => {
                log(ctx, Level::Info, "remote resource transition completed.");
                self.peer_stable = true;
                self.send_held(ctx, self.state == RscState::Stable, None);
                self.perform_auto_failback(ctx);
            }
            Some("1") => {}
            Some(_) => self.peer_stable = false,
            // mach_down's report carries no stability.
            None => {}
        }
        if matches!(self.state, RscState::Stable | RscState::Shutdown) || !self.peer_stable {
            return false;
        }
        log(ctx, Level::Info, "remote resource transition completed.");
        self.req_our_resources(ctx, false);
        self.send_held(ctx, true, None);
        self.perform_auto_failback(ctx);
        self.foreign_work_done = true;
        if !self.auto_failback && self.peer_holds.intersects(Holdings::FOREIGN) {
            self.local_work_done = true;
        }
        self.announce_takeover(ctx, "T_RESOURCES(them)");
        true
    }

    /// Our own report came back: it is what we hold. Returns the new state.
    fn own_report(
        &mut self,
        ctx: &mut UpperCtx,
        msg: &Message,
        full: bool,
        report: Holdings,
        new_state: RscState,
    ) -> RscState {
        self.holds = self.holds.updated(full, report);
        if self.holds.intersects(Holdings::LOCAL) {
            self.local_work_done = true;
            self.announce_takeover(ctx, "T_RESOURCES(us)");
        }
        match msg.get_str(msgs::F_INFO) {
            Some("req_our_resources()") => {
                // The req_our_resources child has finished.
                self.local_work_done = true;
                self.announce_takeover(ctx, "req_our_resources");
                new_state
            }
            Some("mach_down") => {
                log(ctx, Level::Info, "mach_down takeover complete.");
                self.takeover_in_progress = false;
                self.holds = self.holds.with(Holdings::FOREIGN);
                self.needs_failback = true;
                self.peer_stable = true;
                self.foreign_work_done = true;
                self.announce_takeover(ctx, "mach_down");
                new_state
            }
            Some("shutdown") => RscState::Shutdown,
            _ => new_state,
        }
    }

    /// RQSTDELAY passed without a stable peer: take our groups anyway.
    pub(super) fn rqstdelay_expired(&mut self, ctx: &mut UpperCtx) {
        if !self.nice || self.state != RscState::RscRcvd {
            return;
        }
        self.state = RscState::Stable;
        self.req_our_resources(ctx, false);
        log(ctx, Level::Info, "local resource transition completed.");
        self.send_held(ctx, true, None);
        self.audit(ctx);
    }

    /// `req_our_resources`: claim our groups; the per-key requests and the
    /// final report are the "child" run at the end of this step.
    pub(super) fn req_our_resources(&mut self, ctx: &mut UpperCtx, get_them_anyway: bool) {
        if !self.opts.manage_resources || self.shutdown_in_progress {
            return;
        }
        if self.nice {
            let claimed = self.peer_holds.intersects(Holdings::FOREIGN)
                || self.holds.intersects(Holdings::LOCAL);
            if claimed && !get_them_anyway && self.standby == Standby::Not {
                log(
                    ctx,
                    Level::Info,
                    "Local Resource acquisition completed. (none)",
                );
                return;
            }
            self.holds = self.holds.with(Holdings::LOCAL);
        }
        // Decided again when the child runs (see `settle`).
        let ask = !self.nice && self.active_count(ctx) >= 2;
        self.children.push(ReqOurs {
            ask,
            held: self.holds,
        });
    }

    /// The `req_our_resources` child: `req_resource KEY` for each of our
    /// groups not running (self-grant, or legacy `ip-request` when others
    /// are active), then the report.
    pub(super) fn run_req_ours_child(&mut self, ctx: &mut UpperCtx, child: ReqOurs) {
        let keys = self.keys.of_node(&self.local);
        for key in keys.iter().filter(|k| !self.owned.contains(*k)) {
            if child.ask {
                ctx.send(msgs::ip_request(key));
            } else {
                ctx.send(msgs::ip_request_resp(&self.local, key, true));
            }
        }
        if keys.is_empty() {
            let text = format!(
                "No local resources [{RSC_MGR} listkeys {}] to acquire.",
                self.local
            );
            log(ctx, Level::Info, text);
        } else {
            log(ctx, Level::Info, "Local Resource acquisition completed.");
        }
        if self.nice {
            ctx.send(msgs::resources_held(
                child.held,
                true,
                Some("req_our_resources()"),
            ));
        }
        if !self.nice {
            // nice_failback: done when its report comes back (own_report).
            self.local_work_done = true;
            self.announce_takeover(ctx, "req_our_resources");
        }
    }

    /// `PerformAutoFailback`: give the peer's groups back once it is stable.
    pub(super) fn perform_auto_failback(&mut self, ctx: &mut UpperCtx) {
        if self.shutdown_in_progress
            || !self.holds.intersects(Holdings::FOREIGN)
            || !self.needs_failback
            || !self.auto_failback
        {
            self.needs_failback = false;
            return;
        }
        if self.standby != Standby::Not || !self.peer_stable || self.state != RscState::Stable {
            log(ctx, Level::Debug, "Auto failback delayed.");
            arm(
                ctx,
                TIMER_AUTOFAILBACK,
                ctx.now().mono_ms + AUTOFAILBACK_RETRY_MS,
            );
            return;
        }
        self.standby_set = Holdings::FOREIGN;
        ctx.send(msgs::ask_resources(Holdings::FOREIGN, "me"));
        self.needs_failback = false;
    }

    /// `AuditResources`: complain about groups held twice or by nobody.
    pub(super) fn audit(&self, ctx: &mut UpperCtx) {
        if !self.nice {
            return;
        }
        if self.holds.intersects(Holdings::LOCAL) && self.peer_holds.intersects(Holdings::FOREIGN) {
            log(ctx, Level::Error, "Both machines own our resources!");
        }
        if self.peer_holds.intersects(Holdings::LOCAL) && self.holds.intersects(Holdings::FOREIGN) {
            log(ctx, Level::Error, "Both machines own foreign resources!");
        }
        // Our deviation: only complain about groups that exist, and not
        // while an acquisition is still on its way (with fast start both
        // sides are briefly "stable" before the owner's job has begun).
        let settled = self.is_stable()
            && self.children.is_empty()
            && !self.shutdown_in_progress
            && self.state != RscState::Shutdown;
        if settled {
            if !self.holds.intersects(Holdings::LOCAL)
                && !self.keys.of_set(Holdings::LOCAL).is_empty()
                && !self.peer_holds.intersects(Holdings::FOREIGN)
            {
                log(ctx, Level::Error, "No one owns our local resources!");
            }
            if !self.peer_holds.intersects(Holdings::LOCAL)
                && !self.holds.intersects(Holdings::FOREIGN)
                && !self.keys.of_set(Holdings::FOREIGN).is_empty()
            {
                log(ctx, Level::Error, "No one owns foreign resources!");
            }
        }
    }
}
