//! JobPlan against a scripted fake world: which calls, in which order,
//! which log lines and which outcome.

use std::collections::HashMap;
use std::time::Duration;

use super::plan::{Call, Feedback, JobPlan, Next, Op, RetryPolicy};
use crate::config::model::{Origin, Resource, ResourceGroup};
use crate::core::{JobOutcome, Level, ResourceJob};

fn res(spec: &str) -> Resource {
    let mut parts = spec.split("::");
    let script = parts.next().unwrap_or_default().to_string();
    Resource {
        spec: spec.to_string(),
        script,
        args: parts.map(str::to_string).collect(),
    }
}

fn group(node: &str, specs: &[&str]) -> ResourceGroup {
    ResourceGroup {
        node: node.to_string(),
        key: specs[0].to_string(),
        resources: specs.iter().map(|s| res(s)).collect(),
        origin: Origin::default(),
    }
}

fn groups() -> Vec<ResourceGroup> {
    vec![
        group(
            "alpha",
            &["IPaddr2::198.18.0.100/24/eth0", "fs::/dev/x::/mnt", "svc"],
        ),
        group("beta", &["grpB", "svcB"]),
    ]
}

/// How each resource's scripts behave. Unlisted: status "not running",
/// start and stop succeed.
#[derive(Default)]
struct World {
    running: HashMap<String, bool>,
    start_fails: Vec<String>,
    /// Stop failures to report before succeeding (u32::MAX = forever).
    stop_failures: HashMap<String, u32>,
    /// Resources whose failed stop leaves them running.
    stuck_when_stop_fails: Vec<String>,
    sleeps: Vec<Duration>,
}

impl World {
    fn run(&mut self, call: &Call) -> Feedback {
        let r = call.resource.clone();
        match call.op {
            Op::Status => Feedback::Status {
                owned: *self.running.get(&r).unwrap_or(&false),
            },
            Op::Start => {
                let ok = !self.start_fails.contains(&r);
                if ok {
                    self.running.insert(r, true);
                }
                Feedback::Exited { success: ok }
            }
            Op::Stop => {
                let left = self.stop_failures.entry(r.clone()).or_insert(0);
                if *left > 0 {
                    if *left != u32::MAX {
                        *left -= 1;
                    }
                    let stuck = self.stuck_when_stop_fails.contains(&r);
                    self.running.insert(r, stuck);
                    Feedback::Exited { success: false }
                } else {
                    self.running.insert(r, false);
                    Feedback::Exited { success: true }
                }
            }
        }
    }
}

struct Trace {
    calls: Vec<String>,
    logs: Vec<(Level, String)>,
    outcome: JobOutcome,
}

fn drive(job: ResourceJob, world: &mut World, max_retries: Option<u32>) -> Trace {
    let retry = RetryPolicy {
        max: max_retries,
        delay: Duration::from_secs(1),
    };
    let mut plan = JobPlan::new(&job, &groups(), retry);
    let mut feedback = Feedback::Begin;
    let mut calls = Vec::new();
    let mut logs = Vec::new();
    for _ in 0..1000 {
        let step = plan.step(feedback);
        logs.extend(step.logs);
        match step.next {
            Next::Run(call) => {
                calls.push(format!("{} {}", call.resource, call.op.as_str()));
                feedback = world.run(&call);
            }
            Next::Sleep(d) => {
                world.sleeps.push(d);
                calls.push("sleep".to_string());
                feedback = Feedback::Slept;
            }
            Next::Done(outcome) => {
                assert!(plan.is_finished());
                return Trace {
                    calls,
                    logs,
                    outcome,
                };
            }
        }
    }
    panic!("plan did not finish: {calls:?}");
}

fn take(keys: &[&str]) -> ResourceJob {
    ResourceJob::Take {
        keys: keys.iter().map(|k| k.to_string()).collect(),
    }
}

fn give(keys: &[&str]) -> ResourceJob {
    ResourceJob::Give {
        keys: keys.iter().map(|k| k.to_string()).collect(),
    }
}

const IP: &str = "IPaddr2::198.18.0.100/24/eth0";
const FS: &str = "fs::/dev/x::/mnt";

fn has_log(trace: &Trace, level: Level, text: &str) -> bool {
    trace.logs.iter().any(|(l, t)| *l == level && t == text)
}

#[test]
fn take_runs_status_then_start_left_to_right() {
    let mut world = World::default();
    let t = drive(take(&[IP]), &mut world, Some(10));
    assert_eq!(
        t.calls,
        [
            format!("{IP} status"),
            format!("{IP} start"),
            format!("{FS} status"),
            format!("{FS} start"),
            "svc status".into(),
            "svc start".into(),
        ]
    );
    assert_eq!(t.outcome, JobOutcome::Ok);
    assert_eq!(
        t.logs,
        [(
            Level::Info,
            format!("Acquiring resource group: alpha {IP} {FS} svc")
        )]
    );
}

#[test]
fn take_skips_resources_already_running() {
    let mut world = World::default();
    world.running.insert(FS.to_string(), true);
    let t = drive(take(&[IP]), &mut world, Some(10));
    assert_eq!(
        t.calls,
        [
            format!("{IP} status"),
            format!("{IP} start"),
            format!("{FS} status"),
            "svc status".into(),
            "svc start".into(),
        ]
    );
    assert_eq!(t.outcome, JobOutcome::Ok);
}

#[test]
fn start_failure_releases_the_whole_group_in_reverse_and_goes_on() {
    let mut world = World::default();
    world.start_fails.push(FS.to_string());
    let t = drive(take(&[IP, "grpB"]), &mut world, Some(10));
    assert_eq!(
        t.calls,
        [
            format!("{IP} status"),
            format!("{IP} start"),
            format!("{FS} status"),
            format!("{FS} start"),
            "svc stop".into(),
            format!("{FS} stop"),
            format!("{IP} stop"),
            "grpB status".into(),
            "grpB start".into(),
            "svcB status".into(),
            "svcB start".into(),
        ]
    );
    assert_eq!(
        t.outcome,
        JobOutcome::StartFailed {
            keys: vec![IP.to_string()]
        }
    );
    assert!(has_log(
        &t,
        Level::Crit,
        &format!("Giving up resources due to failure of {FS}")
    ));
    assert!(has_log(
        &t,
        Level::Info,
        &format!("Releasing resource group: alpha {IP} {FS} svc")
    ));
    assert!(has_log(
        &t,
        Level::Info,
        "Acquiring resource group: beta grpB svcB"
    ));
}

#[test]
fn give_stops_right_to_left_without_status() {
    let mut world = World::default();
    let t = drive(give(&["grpB", IP]), &mut world, Some(10));
    assert_eq!(
        t.calls,
        [
            "svcB stop".to_string(),
            "grpB stop".into(),
            "svc stop".into(),
            format!("{FS} stop"),
            format!("{IP} stop"),
        ]
    );
    assert_eq!(t.outcome, JobOutcome::Ok);
    assert_eq!(
        t.logs,
        [
            (
                Level::Info,
                "Releasing resource group: beta grpB svcB".into()
            ),
            (
                Level::Info,
                format!("Releasing resource group: alpha {IP} {FS} svc")
            ),
        ]
    );
}

#[test]
fn failed_stop_is_retried_after_a_pause() {
    let mut world = World::default();
    world.stop_failures.insert("svcB".into(), 2);
    let t = drive(give(&["grpB"]), &mut world, Some(10));
    assert_eq!(
        t.calls,
        [
            "svcB stop",
            "sleep",
            "svcB stop",
            "sleep",
            "svcB stop",
            "grpB stop"
        ]
    );
    assert_eq!(world.sleeps, [Duration::from_secs(1); 2]);
    assert_eq!(t.outcome, JobOutcome::Ok);
    let retries = t
        .logs
        .iter()
        .filter(|(l, s)| *l == Level::Info && s == "Retrying failed stop operation [svcB]")
        .count();
    assert_eq!(retries, 2);
}

#[test]
fn stop_failure_of_a_running_resource_requires_reboot() {
    let mut world = World::default();
    world.running.insert("svcB".into(), true);
    world.stop_failures.insert("svcB".into(), u32::MAX);
    world.stuck_when_stop_fails.push("svcB".into());
    let t = drive(give(&["grpB", IP]), &mut world, Some(3));
    let mut expected = vec!["svcB stop"];
    for _ in 0..3 {
        expected.extend(["sleep", "svcB stop"]);
    }
    expected.push("svcB status");
    assert_eq!(t.calls, expected);
    assert_eq!(
        t.outcome,
        JobOutcome::StopFailed {
            keys: vec!["grpB".into()]
        }
    );
    assert!(has_log(
        &t,
        Level::Crit,
        "Resource STOP failure. Reboot required!"
    ));
}

#[test]
fn stop_failure_of_a_stopped_resource_is_only_a_warning() {
    let mut world = World::default();
    world.stop_failures.insert("svcB".into(), u32::MAX);
    let t = drive(give(&["grpB"]), &mut world, Some(0));
    assert_eq!(t.calls, ["svcB stop", "svcB status", "grpB stop"]);
    assert_eq!(t.outcome, JobOutcome::Ok);
    assert!(has_log(
        &t,
        Level::Error,
        "Resource script for svcB probably not LSB-compliant."
    ));
    assert!(has_log(
        &t,
        Level::Warn,
        "it (svcB) MUST succeed on a stop when already stopped"
    ));
    assert!(has_log(&t, Level::Warn, "Machine reboot narrowly avoided!"));
}

#[test]
fn unlimited_retries_keep_going_until_stop_succeeds() {
    let mut world = World::default();
    world.stop_failures.insert("svcB".into(), 25);
    let t = drive(give(&["grpB"]), &mut world, None);
    assert_eq!(t.calls.iter().filter(|c| *c == "sleep").count(), 25);
    assert_eq!(t.outcome, JobOutcome::Ok);
}

#[test]
fn stop_failure_during_a_failed_take_ends_the_job() {
    let mut world = World::default();
    world.start_fails.push("svcB".into());
    world.stop_failures.insert("svcB".into(), u32::MAX);
    // The failed stops leave svcB running as far as status is concerned.
    world.stuck_when_stop_fails.push("svcB".into());
    let t = drive(take(&["grpB", IP]), &mut world, Some(1));
    assert_eq!(
        t.calls,
        [
            "grpB status",
            "grpB start",
            "svcB status",
            "svcB start",
            "svcB stop",
            "sleep",
            "svcB stop",
            "svcB status",
        ]
    );
    assert_eq!(
        t.outcome,
        JobOutcome::StopFailed {
            keys: vec!["grpB".into()]
        }
    );
}

#[test]
fn unknown_keys_are_logged_failed_for_take_and_skipped_for_give() {
    let mut world = World::default();
    let t = drive(take(&["nosuch", "grpB"]), &mut world, Some(10));
    assert_eq!(
        t.outcome,
        JobOutcome::StartFailed {
            keys: vec!["nosuch".into()]
        }
    );
    assert!(has_log(
        &t,
        Level::Error,
        "Resource group nosuch is not in haresources"
    ));
    assert_eq!(t.calls.len(), 4);

    let t = drive(give(&["nosuch"]), &mut world, Some(10));
    assert_eq!(t.outcome, JobOutcome::Ok);
    assert!(t.calls.is_empty());
}

#[test]
fn empty_job_is_done_at_once() {
    let mut world = World::default();
    let t = drive(take(&[]), &mut world, Some(10));
    assert_eq!(t.outcome, JobOutcome::Ok);
    assert!(t.calls.is_empty() && t.logs.is_empty());
}

#[test]
fn mismatched_feedback_repeats_the_request() {
    let retry = RetryPolicy {
        max: Some(1),
        delay: Duration::from_secs(1),
    };
    let mut plan = JobPlan::new(&take(&["grpB"]), &groups(), retry);
    let first = plan.step(Feedback::Begin);
    let again = plan.step(Feedback::Slept);
    assert_eq!(first.next, again.next);
    assert_eq!(again.logs.len(), 1);
    assert_eq!(again.logs[0].0, Level::Error);
}
