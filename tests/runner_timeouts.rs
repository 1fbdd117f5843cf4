//! Scripts that hang: killed with their whole process group after the
//! timeout, while the driving loop keeps its (fake) keepalive ticks.

mod runner_support;

use std::time::{Duration, Instant};

use heartbeat_rs::core::{JobOutcome, Level};
use runner_support::{eventually, give, group, process_gone, take, Driver, Lab, TICK};

const LIMIT: Duration = Duration::from_secs(20);

/// Worst gap allowed between two 50 ms ticks of the driving loop: far
/// below the time the scripts hang, with room for a loaded machine.
const MAX_TICK_GAP: Duration = Duration::from_millis(700);

#[test]
fn hanging_start_is_killed_with_its_child_and_counts_as_failed() {
    let lab = Lab::new("hang");
    lab.script(
        "hang",
        r#"for op in "$@"; do :; done
case $op in
  start) sleep 1000 & echo $! > "$HA_LAB/child"; echo $$ > "$HA_LAB/main"; wait;;
  *) exit 0;;
esac"#,
    );
    let mut config = lab.config();
    config.start_timeout = Duration::from_millis(1500);
    let mut d = Driver::new(config, vec![group("alpha", &["hang"])]);
    let t0 = Instant::now();
    d.submit(1, take(&["hang"]));
    assert_eq!(
        d.wait_done(1, LIMIT),
        JobOutcome::StartFailed {
            keys: vec!["hang".into()]
        }
    );
    let took = t0.elapsed();
    assert!(took >= Duration::from_millis(1500), "{took:?}");
    assert!(took < Duration::from_secs(5), "{took:?}");
    assert!(d.has_log_containing(Level::Error, "hang  start timed out after 1.5 s"));
    assert!(d.has_log(Level::Crit, "Giving up resources due to failure of hang"));
    let main: i32 = lab.read("main").trim().parse().expect("main pid");
    let child: i32 = lab.read("child").trim().parse().expect("child pid");
    assert!(eventually(LIMIT, || process_gone(main) && process_gone(child)));
    assert!(d.worst_tick_gap < MAX_TICK_GAP, "{:?}", d.worst_tick_gap);
    assert!(d.worst_tick_gap >= TICK);
}

#[test]
fn a_script_ignoring_sigterm_gets_sigkill_after_the_grace_period() {
    let lab = Lab::new("stubborn");
    lab.script(
        "stubborn",
        r#"trap '' TERM
echo $$ > "$HA_LAB/main"
while :; do sleep 0.05; done"#,
    );
    let mut config = lab.config();
    config.stop_timeout = Duration::from_millis(300);
    config.kill_grace = Duration::from_millis(300);
    config.stop_retry_max = Some(0);
    config.status_timeout = Duration::from_millis(300);
    let mut d = Driver::new(config, vec![group("alpha", &["stubborn"])]);
    d.submit(1, give(&["stubborn"]));
    // The status check after the failed stop hangs the same way; its
    // (empty) output says "not running", so no fence.
    assert_eq!(d.wait_done(1, LIMIT), JobOutcome::Ok);
    assert!(d.has_log_containing(
        Level::Error,
        "stop still running after SIGTERM: sending SIGKILL"
    ));
    assert!(d.has_log_containing(Level::Error, "status still running after SIGTERM"));
    assert!(d.has_log(Level::Warn, "Machine reboot narrowly avoided!"));
    let main: i32 = lab.read("main").trim().parse().expect("main pid");
    assert!(eventually(LIMIT, || process_gone(main)));
    assert!(d.worst_tick_gap < MAX_TICK_GAP, "{:?}", d.worst_tick_gap);
}

#[test]
fn slow_scripts_never_hold_up_the_loop() {
    let lab = Lab::new("slow");
    lab.script("slow", "sleep 1\necho done");
    let mut d = Driver::new(lab.config(), vec![group("alpha", &["slow::a", "slow::b"])]);
    let t0 = Instant::now();
    d.submit(1, give(&["slow::a"]));
    // Exit comes as a poll event (pidfd): the only deadline is the timeout.
    let deadline = d.runner.next_deadline().expect("deadline");
    assert!(deadline > t0 + Duration::from_secs(5));
    assert_eq!(d.wait_done(1, LIMIT), JobOutcome::Ok);
    assert!(t0.elapsed() >= Duration::from_secs(2));
    // Ticks kept coming every 50 ms for the whole two seconds.
    assert!(d.worst_tick_gap < MAX_TICK_GAP, "{:?}", d.worst_tick_gap);
}
