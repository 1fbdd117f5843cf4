//! The order of script calls for one resource job, as ResourceManager's
//! `takegroup` / `givegroup` do it. Pure: it says which call to make next
//! and is told how the call went; no processes, no clock.
//!
//! - Take, per group key: log "Acquiring resource group", then left to
//!   right: `status`; owned → skip; else `start`. A failed start logs
//!   "Giving up resources due to failure of R" and releases the whole group;
//!   the other keys of the job are still taken (Heartbeat runs one
//!   ResourceManager per key). Failed keys end up in `StartFailed`.
//! - Give / release, per group: log "Releasing resource group", then right
//!   to left: `stop`, retried after a delay up to the retry limit; if it
//!   still fails, `status`: owned → "Resource STOP failure. Reboot
//!   required!" and the job ends at once with `StopFailed` (Heartbeat
//!   reboots there); not owned → warnings, go on.
//! - A key missing from haresources is logged; for Take it counts as a
//!   failed start, for Give it is skipped (nothing of it can be running).

use std::time::Duration;

use crate::config::model::ResourceGroup;
use crate::core::{JobOutcome, Level, ResourceJob};

/// Script operation, the last argument of every call.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Op {
    Start,
    Stop,
    Status,
}

impl Op {
    pub fn as_str(self) -> &'static str {
        match self {
            Op::Start => "start",
            Op::Stop => "stop",
            Op::Status => "status",
        }
    }
}

/// One script invocation: `SCRIPT ARGS… OP`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Call {
    /// The haresources token (for log lines).
    pub resource: String,
    pub script: String,
    pub args: Vec<String>,
    pub op: Op,
}

/// What happened since the last step.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Feedback {
    /// First step of the job.
    Begin,
    /// A `start` or `stop` ended (success = exit code 0).
    Exited { success: bool },
    /// A `status` ended; its stdout said the resource runs here.
    Status { owned: bool },
    /// The requested pause is over.
    Slept,
}

/// What to do next.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Next {
    Run(Call),
    Sleep(Duration),
    Done(JobOutcome),
}

/// Lines to log (in order) and the next thing to do.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Step {
    pub logs: Vec<(Level, String)>,
    pub next: Next,
}

/// Stop retries: how many after the first failure (`None` = no limit) and
/// the pause before each.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RetryPolicy {
    pub max: Option<u32>,
    pub delay: Duration,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    Take,
    Give,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Phase {
    NotStarted,
    TakeStatus(usize),
    TakeStart(usize),
    Stop { res: usize, retries: u32 },
    RetryWait { res: usize, retries: u32 },
    StopCheck(usize),
    Finished,
}

/// A job key and its haresources line, if there is one.
#[derive(Clone, Debug)]
struct Target {
    key: String,
    group: Option<ResourceGroup>,
}

/// The job's state machine. Feed `Feedback::Begin` first, then the result
/// of each `Run`/`Sleep`, until it returns `Done`.
#[derive(Clone, Debug)]
pub struct JobPlan {
    kind: Kind,
    targets: Vec<Target>,
    index: usize,
    phase: Phase,
    failed_starts: Vec<String>,
    retry: RetryPolicy,
    outcome: Option<JobOutcome>,
    /// The last `Next` handed out, repeated on feedback that does not fit.
    last: Option<Next>,
}

impl JobPlan {
    pub fn new(job: &ResourceJob, groups: &[ResourceGroup], retry: RetryPolicy) -> JobPlan {
        let (kind, keys) = match job {
            ResourceJob::Take { keys } => (Kind::Take, keys),
            ResourceJob::Give { keys } => (Kind::Give, keys),
        };
        let targets = keys
            .iter()
            .map(|key| Target {
                key: key.clone(),
                group: groups.iter().find(|g| &g.key == key).cloned(),
            })
            .collect();
        JobPlan {
            kind,
            targets,
            index: 0,
            phase: Phase::NotStarted,
            failed_starts: Vec::new(),
            retry,
            outcome: None,
            last: None,
        }
    }

    pub fn is_finished(&self) -> bool {
        self.phase == Phase::Finished
    }

    /// Advance the plan with what happened since the last step.
    pub fn step(&mut self, feedback: Feedback) -> Step {
        let mut logs = Vec::new();
        let next = match (self.phase, feedback) {
            (Phase::NotStarted, Feedback::Begin) => self.begin_target(&mut logs),
            (Phase::TakeStatus(res), Feedback::Status { owned: true }) => {
                self.take_resource(res + 1, &mut logs)
            }
            (Phase::TakeStatus(res), Feedback::Status { owned: false }) => {
                self.phase = Phase::TakeStart(res);
                self.call(res, Op::Start)
            }
            (Phase::TakeStart(res), Feedback::Exited { success: true }) => {
                self.take_resource(res + 1, &mut logs)
            }
            (Phase::TakeStart(res), Feedback::Exited { success: false }) => {
                let resource = self.resource_spec(res);
                logs.push((
                    Level::Crit,
                    format!("Giving up resources due to failure of {resource}"),
                ));
                let key = self.current_key();
                self.failed_starts.push(key);
                self.begin_release(&mut logs)
            }
            (Phase::Stop { res, .. }, Feedback::Exited { success: true }) => {
                self.stop_resource(res.checked_sub(1), &mut logs)
            }
            (Phase::Stop { res, retries }, Feedback::Exited { success: false }) => {
                if self.retry.max.is_none_or(|max| retries < max) {
                    self.phase = Phase::RetryWait { res, retries };
                    Next::Sleep(self.retry.delay)
                } else {
                    self.phase = Phase::StopCheck(res);
                    self.call(res, Op::Status)
                }
            }
            (Phase::RetryWait { res, retries }, Feedback::Slept) => {
                let resource = self.resource_spec(res);
                logs.push((
                    Level::Info,
                    format!("Retrying failed stop operation [{resource}]"),
                ));
                self.phase = Phase::Stop {
                    res,
                    retries: retries.saturating_add(1),
                };
                self.call(res, Op::Stop)
            }
            (Phase::StopCheck(_), Feedback::Status { owned: true }) => {
                logs.push((
                    Level::Crit,
                    "Resource STOP failure. Reboot required!".to_string(),
                ));
                let key = self.current_key();
                self.finish(Some(JobOutcome::StopFailed { keys: vec![key] }))
            }
            (Phase::StopCheck(res), Feedback::Status { owned: false }) => {
                let resource = self.resource_spec(res);
                logs.push((
                    Level::Error,
                    format!("Resource script for {resource} probably not LSB-compliant."),
                ));
                logs.push((
                    Level::Warn,
                    format!("it ({resource}) MUST succeed on a stop when already stopped"),
                ));
                logs.push((Level::Warn, "Machine reboot narrowly avoided!".to_string()));
                self.stop_resource(res.checked_sub(1), &mut logs)
            }
            (Phase::Finished, _) => self.finish(None),
            (phase, feedback) => {
                // A runner bug; repeat what we asked for instead of guessing.
                logs.push((
                    Level::Error,
                    format!("resource job: unexpected {feedback:?} in {phase:?}"),
                ));
                match self.last.clone() {
                    Some(next) => next,
                    None => self.finish(None),
                }
            }
        };
        self.last = Some(next.clone());
        Step { logs, next }
    }

    /// Start on the group at `self.index` (skipping unknown keys).
    fn begin_target(&mut self, logs: &mut Vec<(Level, String)>) -> Next {
        while let Some(target) = self.targets.get(self.index) {
            let Some(group) = &target.group else {
                logs.push((
                    Level::Error,
                    format!("Resource group {} is not in haresources", target.key),
                ));
                if self.kind == Kind::Take {
                    self.failed_starts.push(target.key.clone());
                }
                self.index += 1;
                continue;
            };
            return match self.kind {
                Kind::Take => {
                    logs.push((
                        Level::Info,
                        format!("Acquiring resource group: {}", group_line(group)),
                    ));
                    self.take_resource(0, logs)
                }
                Kind::Give => self.begin_release(logs),
            };
        }
        self.finish(None)
    }

    fn take_resource(&mut self, res: usize, logs: &mut Vec<(Level, String)>) -> Next {
        if res < self.resource_count() {
            self.phase = Phase::TakeStatus(res);
            self.call(res, Op::Status)
        } else {
            self.index += 1;
            self.begin_target(logs)
        }
    }

    fn begin_release(&mut self, logs: &mut Vec<(Level, String)>) -> Next {
        if let Some(group) = self.current_group() {
            logs.push((
                Level::Info,
                format!("Releasing resource group: {}", group_line(group)),
            ));
        }
        let last = self.resource_count().checked_sub(1);
        self.stop_resource(last, logs)
    }

    /// Stop resource `res`; `None` = the group is released.
    fn stop_resource(&mut self, res: Option<usize>, logs: &mut Vec<(Level, String)>) -> Next {
        match res {
            Some(res) => {
                self.phase = Phase::Stop { res, retries: 0 };
                self.call(res, Op::Stop)
            }
            None => {
                self.index += 1;
                self.begin_target(logs)
            }
        }
    }

    /// End the job; `forced` overrides the outcome gathered so far.
    fn finish(&mut self, forced: Option<JobOutcome>) -> Next {
        if self.outcome.is_none() || forced.is_some() {
            let outcome = forced.unwrap_or_else(|| {
                if self.failed_starts.is_empty() {
                    JobOutcome::Ok
                } else {
                    JobOutcome::StartFailed {
                        keys: self.failed_starts.clone(),
                    }
                }
            });
            self.outcome = Some(outcome);
        }
        self.phase = Phase::Finished;
        Next::Done(self.outcome.clone().unwrap_or(JobOutcome::Ok))
    }

    fn current_group(&self) -> Option<&ResourceGroup> {
        self.targets.get(self.index).and_then(|t| t.group.as_ref())
    }

    fn current_key(&self) -> String {
        self.targets
            .get(self.index)
            .map(|t| t.key.clone())
            .unwrap_or_default()
    }

    fn resource_count(&self) -> usize {
        self.current_group().map_or(0, |g| g.resources.len())
    }

    fn resource_spec(&self, res: usize) -> String {
        self.current_group()
            .and_then(|g| g.resources.get(res))
            .map(|r| r.spec.clone())
            .unwrap_or_default()
    }

    fn call(&mut self, res: usize, op: Op) -> Next {
        let call = self
            .current_group()
            .and_then(|g| g.resources.get(res))
            .map(|r| Call {
                resource: r.spec.clone(),
                script: r.script.clone(),
                args: r.args.clone(),
                op,
            });
        match call {
            Some(call) => Next::Run(call),
            // Indices come from the group itself, so this cannot happen.
            None => self.finish(None),
        }
    }
}

/// `NODE RES RES…` as ResourceManager prints a haresources line.
fn group_line(group: &ResourceGroup) -> String {
    let mut line = group.node.clone();
    for r in &group.resources {
        line.push(' ');
        line.push_str(&r.spec);
    }
    line
}
