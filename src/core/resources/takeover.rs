//! Taking over from a peer that died or left: the fencing step, `mach_down`
//! and a peer's `shutdone` (hb_rsc_recover_dead_resources,
//! takeover_from_node, HBDoMsg_T_SHUTDONE).

use super::jobs::After;
use super::{arm, log, msgs, Holdings, ResourceManager, RscState, Standby, TIMER_FINAL};
use crate::core::upper::UpperCtx;
use crate::core::Level;

/// After our own `shutdone`, Heartbeat waits a second before its final
/// shutdown phases (time for the message to be acknowledged or resent).
pub(super) const FINAL_SHUTDOWN_DELAY_MS: u64 = 1000;

impl ResourceManager {
    /// A peer was declared dead (also again, after a late heartbeat).
    pub(super) fn on_peer_dead(&mut self, ctx: &mut UpperCtx, node: &str) {
        if self.standby != Standby::Not {
            log(ctx, Level::Info, "Cancelling pending standby operation");
            self.cancel_standby(ctx);
            if !self.peer_stable && self.holds == Holdings::ALL {
                self.peer_stable = true;
            }
        }
        if self.opts.manage_resources {
            self.recover_dead_resources(ctx, node);
        }
        self.heard.remove(node);
    }

    fn recover_dead_resources(&mut self, ctx: &mut UpperCtx, node: &str) {
        if self.shutdown_in_progress {
            // Our addition: a dead peer changes nothing any more; Heartbeat
            // could wait for its stability until the emergency shutdown.
            self.peer_stable = true;
            match self.state {
                RscState::Shutdown | RscState::Stable => {}
                _ => self.giveup_resources(ctx),
            }
            return;
        }
        self.needs_failback = true;
        // A node we never heard from may hold anything.
        let gave_up = self.heard.contains(node)
            && if self.nice {
                self.peer_holds == Holdings::NONE
            } else {
                !self.peer_may_hold.get(node).copied().unwrap_or(true)
            };
        if !gave_up {
            if self.opts.stonith {
                // The takeover waits for a successful reset (fencing.rs).
                self.start_fence(ctx, node);
                return;
            }
            // Without a device Heartbeat takes over unfenced.
            self.send_when_up(ctx, msgs::stonith(node, msgs::STONITH_NOT_CONFIGURED));
            log(ctx, Level::Warn, "No STONITH device configured.");
            log(ctx, Level::Warn, "Shared disks are not protected.");
            self.takeover_from_node(ctx, node);
            return;
        }
        log(
            ctx,
            Level::Info,
            format!("Dead node {node} gave up resources."),
        );
        self.send_when_up(ctx, msgs::stonith(node, msgs::STONITH_UNNEEDED));
        if !self.nice {
            self.takeover_from_node(ctx, node);
            return;
        }
        if self.holds == Holdings::ALL {
            self.peer_stable = true;
            return;
        }
        if !self.holds.intersects(Holdings::LOCAL) {
            self.req_our_resources(ctx, true);
        }
        if !self.holds.intersects(Holdings::FOREIGN) {
            self.takeover_from_node(ctx, node);
        }
    }

    /// Our addition: with a single `node` line nobody will ever answer our
    /// `starting` or be declared dead, and Heartbeat 3.0.6 waits forever
    /// (status `transition`, nothing started, SIGTERM never finishes).
    /// Take every group as if a peer had died.
    pub(super) fn alone_in_cluster(&mut self, ctx: &mut UpperCtx) {
        if !self.opts.manage_resources {
            return;
        }
        let text = "No other node in ha.cf: acquiring every resource group.";
        log(ctx, Level::Info, text);
        self.foreign_work_done = true;
        let local = self.local.clone();
        self.takeover_from_node(ctx, &local);
    }

    /// Take every group of `node` (`mach_down`) and make sure we have ours.
    pub(super) fn takeover_from_node(&mut self, ctx: &mut UpperCtx, node: &str) {
        if self.shutdown_in_progress {
            let text = "Resource takeover cancelled - shutdown in progress.";
            log(ctx, Level::Info, text);
            return;
        }
        log(
            ctx,
            Level::Info,
            format!("Resources being acquired from {node}."),
        );
        let keys = self.keys.of_node(node);
        self.queue_take(keys, After::MachDown(node.to_string()));
        if self.nice {
            // Claimed now, so an interim report cannot make the peer think
            // its groups are free.
            self.holds = self.holds.with(Holdings::FOREIGN);
            self.peer_holds = Holdings::NONE;
            self.peer_stable = true;
            self.takeover_in_progress = true;
        }
        self.req_our_resources(ctx, true);
        self.heard.insert(node.to_string());
    }

    /// `shutdone` from a peer (it released everything and is leaving) or
    /// our own (our release finished).
    pub(super) fn on_shutdone(&mut self, ctx: &mut UpperCtx, from: &str) {
        if !self.opts.manage_resources {
            if from != self.local {
                let text = format!("Received shutdown notice from '{from}'.");
                log(ctx, Level::Info, text);
            }
            return;
        }
        if from == self.local {
            if self.comm_up && self.nice {
                self.state = RscState::Shutdown;
                self.holds = Holdings::NONE;
            }
            arm(
                ctx,
                TIMER_FINAL,
                ctx.now().mono_ms + FINAL_SHUTDOWN_DELAY_MS,
            );
            return;
        }
        if self.comm_up && self.nice {
            self.peer_stable = true;
            self.peer_holds = Holdings::NONE;
            if self.holds != Holdings::ALL && !self.shutdown_in_progress {
                // Heartbeat's set here is in our own terms although
                // go_standby maps it as the initiator's: it re-takes what we
                // hold (skipped) and mach_down below takes the rest.
                let set = match self.holds {
                    Holdings::FOREIGN => Holdings::LOCAL,
                    Holdings::LOCAL => Holdings::FOREIGN,
                    _ => Holdings::ALL,
                };
                self.standby = Standby::Done;
                self.go_standby(ctx, false, set);
            }
            self.audit(ctx);
        }
        self.peer_may_hold.insert(from.to_string(), false);
        self.peer_stable = false;
        self.peer_holds = Holdings::NONE;
        let text = format!("Received shutdown notice from '{from}'.");
        log(ctx, Level::Info, text);
        self.takeover_from_node(ctx, from);
    }
}
