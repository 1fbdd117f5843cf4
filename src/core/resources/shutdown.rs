//! Giving everything up: graceful shutdown (SIGTERM), and the
//! give-up-and-restart Heartbeat does after a healed partition or when its
//! own heartbeat stalled.

use super::jobs::After;
use super::takeover::FINAL_SHUTDOWN_DELAY_MS;
use super::{
    arm, log, Holdings, ResourceManager, RscState, TIMER_EMERGENCY, TIMER_FINAL,
    TIMER_PARTITION_RESTART,
};
use crate::core::upper::UpperCtx;
use crate::core::{Action, Level};

/// Heartbeat restarts itself this long after seeing a healed partition.
const PARTITION_RESTART_DELAY_MS: u64 = 2000;
/// A give-up that has not finished after this long is abandoned.
const EMERGENCY_SHUTDOWN_MS: u64 = 60 * 60 * 1000;
/// Heartbeat's exit code after an emergency shutdown.
const EMERGENCY_EXIT_CODE: i32 = 100;

impl ResourceManager {
    /// SIGTERM (the core calls us once comm is up).
    pub(super) fn begin_shutdown(&mut self, ctx: &mut UpperCtx) {
        self.shutdown_in_progress = true;
        // Our choice: an operator's stop wins over a pending restart.
        self.restart_after_shutdown = false;
        self.arm_emergency(ctx);
        self.giveup_resources(ctx);
    }

    fn arm_emergency(&self, ctx: &mut UpperCtx) {
        arm(
            ctx,
            TIMER_EMERGENCY,
            ctx.now().mono_ms + EMERGENCY_SHUTDOWN_MS,
        );
    }

    /// The give-up hangs (a resource script that never ends...): leave
    /// anyway; the daemon kills what still runs.
    pub(super) fn emergency_shutdown(&mut self, ctx: &mut UpperCtx) {
        let text = "Emergency Shutdown: Attempting to kill everything ourselves";
        log(ctx, Level::Crit, text);
        ctx.push(Action::Exit {
            code: EMERGENCY_EXIT_CODE,
        });
        self.finished = true;
    }

    pub(super) fn shutdown_if_needed(&mut self, ctx: &mut UpperCtx) {
        if self.needs_shutdown {
            self.giveup_resources(ctx);
        }
    }

    /// `hb_giveup_resources`: once nothing is in flux, report holding
    /// nothing, stop every group and say `shutdone`.
    pub(super) fn giveup_resources(&mut self, ctx: &mut UpperCtx) {
        if !self.is_stable() {
            if !self.needs_shutdown {
                let text = "Shutdown delayed until current resource activity finishes.";
                log(ctx, Level::Warn, text);
                self.needs_shutdown = true;
            }
            return;
        }
        self.needs_shutdown = false;
        self.shutdown_in_progress = true;
        if self.giveup_started {
            log(ctx, Level::Info, "Heartbeat shutdown already underway.");
            return;
        }
        self.giveup_started = true;
        self.holds = Holdings::NONE;
        self.state = RscState::Shutdown;
        self.send_held(ctx, false, Some("shutdown"));
        let text = format!("Heartbeat shutdown in progress. ({})", self.opts.pid);
        log(ctx, Level::Info, text);
        log(ctx, Level::Info, "Giving up all HA resources.");
        // listkeys '.*': haresources order, as Heartbeat releases them.
        let keys = self.keys.all();
        self.queue_give(keys, After::GaveUpAll);
    }

    /// Our `shutdone` went out a second ago: finish (or restart) once no
    /// job is left (a late `ip-request` answer may still be queued).
    pub(super) fn final_shutdown(&mut self, ctx: &mut UpperCtx) {
        if !self.jobs.idle() {
            arm(
                ctx,
                TIMER_FINAL,
                ctx.now().mono_ms + FINAL_SHUTDOWN_DELAY_MS,
            );
            return;
        }
        if self.restart_after_shutdown {
            self.restart(ctx);
        } else {
            ctx.shutdown_complete();
        }
    }

    /// A node we had declared dead is back with the same generation: both
    /// sides may run the same groups. Heartbeat announces its status, then
    /// gives up everything and restarts 2 s later.
    pub(super) fn partition_healed(&mut self, ctx: &mut UpperCtx) {
        if !self.opts.manage_resources {
            return;
        }
        ctx.send_local_status();
        let at = ctx.now().mono_ms + PARTITION_RESTART_DELAY_MS;
        arm(ctx, TIMER_PARTITION_RESTART, at);
    }

    /// `cause_shutdown_restart`.
    pub(super) fn cause_shutdown_restart(&mut self, ctx: &mut UpperCtx) {
        if self.giveup_started {
            return;
        }
        self.restart_after_shutdown = true;
        if self.opts.manage_resources {
            self.arm_emergency(ctx);
            self.giveup_resources(ctx);
        } else {
            self.restart(ctx);
        }
    }

    fn restart(&mut self, ctx: &mut UpperCtx) {
        let lines = [
            format!("{} Heartbeat shutdown complete.", self.local),
            "Heartbeat restart triggered.".to_string(),
            "Restarting heartbeat.".to_string(),
            "Performing heartbeat restart exec.".to_string(),
        ];
        for text in lines {
            log(ctx, Level::Info, text);
        }
        // Heartbeat sleeps deadtime (rounded up to seconds) + 1 s.
        let delay_ms = (self.opts.deadtime_ms.div_ceil(1000) + 1) * 1000;
        ctx.push(Action::Restart { delay_ms });
        self.finished = true;
    }
}
