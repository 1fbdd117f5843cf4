//! Queueing resource work, starting jobs one at a time, and finishing them:
//! the continuation of the script that ran the job, and what a failed start
//! or stop means for the node.

use super::jobs::{After, Step, Work};
use super::msgs;
use super::{arm, log, Holdings, ResourceManager, TIMER_FAILED_FOREIGN, TIMER_FAILED_LOCAL};
use crate::core::upper::UpperCtx;
use crate::core::{Action, JobId, JobOutcome, Level, ResourceJob};

/// Heartbeat's ResourceManager runs `hb_standby` this long after a start failure.
const FAILED_START_STANDBY_MS: u64 = 30_000;

impl ResourceManager {
    /// Queue a start of `keys`, skipping groups already started or queued
    /// (`req_resource` / ResourceManager skip what already runs).
    pub(super) fn queue_take(&mut self, keys: Vec<String>, then: After) {
        let keys: Vec<String> = keys
            .into_iter()
            .filter(|k| self.keys.contains(k) && self.owned.insert(k.clone()))
            .collect();
        self.jobs.push(Work {
            job: Some(ResourceJob::Take { keys }),
            then,
        });
    }

    /// Queue a stop of `keys` (always all of them: stopping a stopped
    /// resource is harmless, leaving one running is not).
    pub(super) fn queue_give(&mut self, keys: Vec<String>, then: After) {
        let keys: Vec<String> = keys.into_iter().filter(|k| self.keys.contains(k)).collect();
        for k in &keys {
            self.owned.remove(k);
        }
        self.jobs.push(Work {
            job: Some(ResourceJob::Give { keys }),
            then,
        });
    }

    /// A step without a job, kept in order behind the queued jobs.
    pub(super) fn queue_step(&mut self, then: After) {
        self.jobs.push(Work { job: None, then });
    }

    /// Start the next job if none runs; complete job-less steps on the way.
    pub(super) fn pump(&mut self, ctx: &mut UpperCtx) {
        while !self.finished {
            match self.jobs.next() {
                None => break,
                Some(Step::Start { id, job }) => ctx.push(Action::RunJob { id, job }),
                Some(Step::Immediate(then)) => self.after(ctx, then),
            }
        }
    }

    pub(super) fn on_job_done(&mut self, ctx: &mut UpperCtx, id: JobId, outcome: &JobOutcome) {
        let Some(run) = self.jobs.finish(id) else {
            let text = format!("resource job {id} finished but is not the running one");
            log(ctx, Level::Error, text);
            return;
        };
        match outcome {
            JobOutcome::Ok => {}
            JobOutcome::StartFailed { keys } => self.start_failed(ctx, keys),
            JobOutcome::StopFailed { keys } => {
                self.stop_failed(ctx, keys);
                return;
            }
        }
        self.after(ctx, run.then);
    }

    /// The group was stopped again by the runner; like ResourceManager, go
    /// standby for it 30 s later so the other node can try.
    fn start_failed(&mut self, ctx: &mut UpperCtx, keys: &[String]) {
        let now = ctx.now().mono_ms;
        for key in keys {
            self.owned.remove(key);
            log(
                ctx,
                Level::Crit,
                format!("Giving up resources due to failure of {key}"),
            );
            let (set, timer) = if self.keys.is_local(key) {
                (Holdings::LOCAL, TIMER_FAILED_LOCAL)
            } else {
                (Holdings::FOREIGN, TIMER_FAILED_FOREIGN)
            };
            let text = format!("Going standby [{}] in 30 seconds.", set.name());
            log(ctx, Level::Info, text);
            arm(ctx, timer, now + FAILED_START_STANDBY_MS);
        }
    }

    /// A resource may still run although we gave it up: only fencing this
    /// machine keeps the other node from running it twice.
    fn stop_failed(&mut self, ctx: &mut UpperCtx, keys: &[String]) {
        log(ctx, Level::Crit, "Resource STOP failure. Reboot required!");
        let reason = format!("resource stop failure: {}", keys.join(" "));
        ctx.push(Action::SelfFence { reason });
        self.finished = true;
    }

    /// What `hb_standby local|foreign` does when the timer set by a start
    /// failure expires.
    pub(super) fn standby_after_failure(&mut self, ctx: &mut UpperCtx, set: Holdings) {
        log(ctx, Level::Info, format!("Going standby [{}].", set.name()));
        ctx.send(msgs::ask_resources(set, "me"));
    }

    /// The rest of the script or child that ran a job.
    fn after(&mut self, ctx: &mut UpperCtx, then: After) {
        match then {
            After::MachDown(node) => {
                let text = format!("mach_down takeover complete for node {node}.");
                log(ctx, Level::Info, text);
                if self.nice {
                    self.send_when_up(ctx, msgs::mach_down_done());
                } else if self.dead_count(ctx) > 0 {
                    self.foreign_work_done = true;
                    self.announce_takeover(ctx, "status");
                }
            }
            After::StandbyDone {
                acquire,
                set,
                announce,
            } => {
                let what = if acquire { "acquisition" } else { "release" };
                let text = format!("{} HA resource {what} completed (standby).", set.name());
                log(ctx, Level::Info, text);
                ctx.send(msgs::ask_resources(announce, "done"));
            }
            After::IpRequestReply { to, key, weown } => {
                ctx.send(msgs::ip_request_resp(&to, &key, weown));
            }
            After::Granted => {
                self.local_work_done = true;
                self.announce_takeover(ctx, "ip-request-resp");
            }
            After::GaveUpAll => {
                log(ctx, Level::Info, "All HA resources relinquished.");
                ctx.send(msgs::shutdone());
            }
            After::ReleasedDuplicates => {
                log(ctx, Level::Info, "Resource groups held twice released.");
                self.send_held(ctx, true, None);
            }
        }
    }
}
