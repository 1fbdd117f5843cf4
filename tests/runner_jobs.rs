//! Resource jobs with real scripts: ResourceManager's call order, skips,
//! failures, stop retries, self-fence and FIFO queueing.

mod runner_support;

use std::time::{Duration, Instant};

use heartbeat_rs::core::{JobOutcome, Level};
use heartbeat_rs::runner::Runner;
use runner_support::{done_outcome, give, group, take, Driver, Lab};

const LIMIT: Duration = Duration::from_secs(20);

#[test]
fn take_then_give_runs_scripts_in_resource_manager_order() {
    let lab = Lab::new("order");
    lab.recorder("ipa");
    lab.recorder("fs");
    // Found in init.d only.
    lab.install(&lab.initd_dir, "svc", runner_support::RECORDER);
    let groups = vec![group(
        "alpha",
        &["ipa::10.0.0.1/24::eth0", "fs::/dev/x", "svc"],
    )];
    let mut d = Driver::new(lab.config(), groups);

    d.submit(1, take(&["ipa::10.0.0.1/24::eth0"]));
    assert_eq!(d.wait_done(1, LIMIT), JobOutcome::Ok);
    d.submit(2, give(&["ipa::10.0.0.1/24::eth0"]));
    assert_eq!(d.wait_done(2, LIMIT), JobOutcome::Ok);

    assert_eq!(
        lab.calls(),
        [
            "ipa 10.0.0.1/24 eth0 status",
            "ipa 10.0.0.1/24 eth0 start",
            "fs /dev/x status",
            "fs /dev/x start",
            "svc status",
            "svc start",
            "svc stop",
            "fs /dev/x stop",
            "ipa 10.0.0.1/24 eth0 stop",
        ]
    );
    let rd = lab.resource_dir.display();
    let initd = lab.initd_dir.display();
    assert!(d.has_log(
        Level::Info,
        "Acquiring resource group: alpha ipa::10.0.0.1/24::eth0 fs::/dev/x svc"
    ));
    assert!(d.has_log(
        Level::Info,
        &format!("Running {rd}/ipa 10.0.0.1/24 eth0 start")
    ));
    // No arguments: ResourceManager's "$spath $arg $2" leaves two spaces.
    assert!(d.has_log(Level::Info, &format!("Running {initd}/svc  stop")));
    assert!(d.has_log(
        Level::Info,
        "Releasing resource group: alpha ipa::10.0.0.1/24::eth0 fs::/dev/x svc"
    ));
    // status calls are not announced.
    assert!(!d.has_log_containing(Level::Info, "status"));
}

#[test]
fn take_skips_resources_whose_status_says_running() {
    let lab = Lab::new("skip");
    lab.recorder("a");
    lab.recorder("b");
    lab.flag("running-a");
    let mut d = Driver::new(lab.config(), vec![group("alpha", &["a", "b"])]);
    d.submit(1, take(&["a"]));
    assert_eq!(d.wait_done(1, LIMIT), JobOutcome::Ok);
    assert_eq!(lab.calls(), ["a status", "b status", "b start"]);
}

#[test]
fn failed_start_releases_the_group_and_reports_it() {
    let lab = Lab::new("startfail");
    for name in ["a", "b", "c", "x"] {
        lab.recorder(name);
    }
    lab.flag("fail-start-b");
    let groups = vec![group("alpha", &["a", "b", "c"]), group("beta", &["x"])];
    let mut d = Driver::new(lab.config(), groups);
    d.submit(1, take(&["a", "x"]));
    assert_eq!(
        d.wait_done(1, LIMIT),
        JobOutcome::StartFailed {
            keys: vec!["a".into()]
        }
    );
    assert_eq!(
        lab.calls(),
        [
            "a status", "a start", "b status", "b start", "c stop", "b stop", "a stop", "x status",
            "x start",
        ]
    );
    let rd = lab.resource_dir.display();
    assert!(d.has_log(Level::Crit, "Giving up resources due to failure of b"));
    assert!(d.has_log(Level::Error, &format!("Return code 1 from {rd}/b")));
}

#[test]
fn failed_stop_is_retried_then_succeeds() {
    let lab = Lab::new("retry");
    lab.recorder("a");
    // Fails twice, then the flag is gone.
    lab.script(
        "flaky",
        r#"for op in "$@"; do :; done
echo "flaky $op" >> "$HA_LAB/calls"
n=$(cat "$HA_LAB/n" 2>/dev/null || echo 0)
echo $((n + 1)) > "$HA_LAB/n"
[ "$op" = stop ] && [ "$n" -lt 2 ] && exit 1
exit 0"#,
    );
    let mut d = Driver::new(lab.config(), vec![group("alpha", &["a", "flaky"])]);
    d.submit(1, give(&["a"]));
    assert_eq!(d.wait_done(1, LIMIT), JobOutcome::Ok);
    assert_eq!(
        lab.calls(),
        ["flaky stop", "flaky stop", "flaky stop", "a stop"]
    );
    let retries = d
        .logs()
        .iter()
        .filter(|(l, t)| *l == Level::Info && t == "Retrying failed stop operation [flaky]")
        .count();
    assert_eq!(retries, 2);
}

#[test]
fn stop_failure_of_a_running_resource_fences() {
    let lab = Lab::new("fence");
    lab.recorder("a");
    lab.recorder("stuck");
    lab.flag("running-stuck");
    lab.flag("fail-stop-stuck");
    let mut config = lab.config();
    config.stop_retry_max = Some(2);
    let mut d = Driver::new(config, vec![group("alpha", &["a", "stuck"])]);
    d.submit(1, give(&["a"]));
    assert_eq!(
        d.wait_done(1, LIMIT),
        JobOutcome::StopFailed {
            keys: vec!["a".into()]
        }
    );
    // The job ends at once: "a" is never stopped.
    assert_eq!(
        lab.calls(),
        ["stuck stop", "stuck stop", "stuck stop", "stuck status"]
    );
    assert!(d.has_log(Level::Crit, "Resource STOP failure. Reboot required!"));
    assert!(runner_support::eventually(LIMIT, || lab.read("fenced") == "fenced now\n"));
}

#[test]
fn stop_failure_of_a_stopped_resource_only_warns() {
    let lab = Lab::new("nofence");
    lab.recorder("a");
    lab.flag("fail-stop-a");
    let mut config = lab.config();
    config.stop_retry_max = Some(0);
    let mut d = Driver::new(config, vec![group("alpha", &["a"])]);
    d.submit(1, give(&["a"]));
    assert_eq!(d.wait_done(1, LIMIT), JobOutcome::Ok);
    assert_eq!(lab.calls(), ["a stop", "a status"]);
    assert!(d.has_log(Level::Warn, "Machine reboot narrowly avoided!"));
    assert_eq!(lab.read("fenced"), "");
}

#[test]
fn missing_script_fails_the_start() {
    let lab = Lab::new("missing");
    let mut d = Driver::new(lab.config(), vec![group("alpha", &["nosuch::arg"])]);
    d.submit(1, take(&["nosuch::arg"]));
    assert_eq!(
        d.wait_done(1, LIMIT),
        JobOutcome::StartFailed {
            keys: vec!["nosuch::arg".into()]
        }
    );
    assert!(d.has_log(Level::Error, "Cannot locate resource script nosuch"));
}

#[test]
fn jobs_run_one_at_a_time_in_submission_order() {
    let lab = Lab::new("fifo");
    lab.script(
        "slow",
        r#"for op in "$@"; do :; done
echo "slow $1 $op begin" >> "$HA_LAB/calls"
sleep 0.2
echo "slow $1 $op end" >> "$HA_LAB/calls""#,
    );
    let groups = vec![
        group("alpha", &["slow::one"]),
        group("beta", &["slow::two"]),
    ];
    let mut d = Driver::new(lab.config(), groups);
    d.submit(1, give(&["slow::one"]));
    d.submit(2, give(&["slow::two"]));
    assert!(d.runner.busy());
    assert_eq!(d.wait_done(2, LIMIT), JobOutcome::Ok);
    assert!(!d.runner.busy());
    assert_eq!(
        lab.calls(),
        [
            "slow one stop begin",
            "slow one stop end",
            "slow two stop begin",
            "slow two stop end",
        ]
    );
    let done: Vec<u64> = d
        .events
        .iter()
        .filter_map(|e| match e {
            heartbeat_rs::runner::RunnerEvent::Done { id, .. } => Some(*id),
            _ => None,
        })
        .collect();
    assert_eq!(done, [1, 2]);
}

#[test]
fn without_a_registry_the_runner_polls_its_children() {
    let lab = Lab::new("unregistered");
    lab.recorder("a");
    let mut runner = Runner::new(lab.config(), vec![group("alpha", &["a"])]);
    runner.submit(1, take(&["a"]));
    let end = Instant::now() + LIMIT;
    let mut events = Vec::new();
    while done_outcome(&events, 1).is_none() && Instant::now() < end {
        let deadline = runner.next_deadline().expect("busy runner has a deadline");
        assert!(deadline <= Instant::now() + Duration::from_millis(100));
        std::thread::sleep(deadline.saturating_duration_since(Instant::now()));
        runner.on_deadline(Instant::now());
        events.extend(runner.poll_events());
    }
    assert_eq!(done_outcome(&events, 1), Some(JobOutcome::Ok));
    assert_eq!(lab.calls(), ["a status", "a start"]);
    assert!(runner.next_deadline().is_none());
}
