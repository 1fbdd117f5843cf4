//! STONITH through cluster-glue and `watchdog DEV`, in namespaces.
//!
//! The STONITH device is the project's own `external/labfence` plugin
//! (tests/data/stonith/labfence), made visible to cluster-glue by
//! bind-mounting a directory over /usr/lib/stonith/plugins/external inside
//! each lab host's private mount namespace (the machine's real plugin
//! directory is never touched). Its "reset" SIGKILLs the processes of the
//! node's lab host and wipes its /run/labsvc; every call is recorded with
//! its arguments and time in the test's control directory.
//!
//! The watchdog "device" is a regular file in the host's private /srv.

mod common;

use std::fs;
use std::path::{Path, PathBuf};
use std::time::Duration;

use common::cluster::{count_in_log, expect_log, ha_log};
use common::fence::{
    install_labfence, labfence_calls, labsvc_starts, resets, runs_labsvc, timed_lines, PLUGIN_DIR,
};
use common::lab::{data_dir, pid_alive, require_lab, require_real_heartbeat, wait_for, Lab};

/// A two-host lab with the test plugin installed in both hosts.
struct FenceLab {
    lab: Lab,
    /// The plugin's control directory (`labdir` parameter).
    ctl: PathBuf,
    /// The configuration directory both nodes start from.
    conf: PathBuf,
}

impl FenceLab {
    /// `stonith_host` = `HOST external/labfence CTL HOSTLIST`.
    fn new(name: &str, host: &str, hostlist: &str, mode: Option<&str>) -> FenceLab {
        let lab = Lab::new(name, 2);
        let ctl = lab.host_dir(2).join("fence-ctl");
        fs::create_dir_all(&ctl).unwrap();
        install_labfence(&lab, &ctl);
        if let Some(mode) = mode {
            fs::write(ctl.join("mode"), mode).unwrap();
        }
        let conf = lab.host_dir(1).join("conf-src");
        fs::create_dir_all(conf.join("resource.d")).unwrap();
        let src = data_dir().join("stonith");
        for f in ["authkeys", "haresources", "resource.d/labsvc"] {
            fs::copy(src.join(f), conf.join(f)).unwrap();
        }
        let mut hacf = fs::read_to_string(src.join("ha.cf")).unwrap();
        hacf.push_str(&format!(
            "stonith_host {host} external/labfence {} {hostlist}\n",
            ctl.display()
        ));
        fs::write(conf.join("ha.cf"), hacf).unwrap();
        FenceLab { lab, ctl, conf }
    }

    fn ours(&self, i: usize, node: &str) -> u32 {
        self.lab.run_ours(i, node, &self.conf, &["-f"])
    }

    fn runs_labsvc(&self, i: usize) -> bool {
        runs_labsvc(&self.lab, i)
    }

    /// Waits until the group runs on host `owner` only.
    fn expect_owner(&self, owner: usize, timeout: Duration, step: &str) {
        let ok = wait_for(
            || self.runs_labsvc(owner) && !self.runs_labsvc(3 - owner),
            timeout,
        );
        assert!(
            ok,
            "{step}: labsvc expected on h{owner} only (h1 {}, h2 {})\n--- h1\n{}\n--- h2\n{}\n--- calls\n{}",
            self.runs_labsvc(1),
            self.runs_labsvc(2),
            ha_log(&self.lab, 1),
            ha_log(&self.lab, 2),
            self.calls_text()
        );
    }

    fn calls_text(&self) -> String {
        labfence_calls(&self.ctl)
    }

    /// (time, line) of every recorded plugin call and result.
    fn calls(&self) -> Vec<(f64, String)> {
        timed_lines(&self.calls_text())
    }

    /// Times of `reset NODE` calls, and of their results with `rc`.
    fn resets(&self, node: &str) -> (Vec<f64>, Vec<(f64, String)>) {
        resets(&self.ctl, node)
    }
}

fn lab_ready() -> bool {
    if !require_real_heartbeat() {
        return false;
    }
    assert!(
        Path::new("/usr/sbin/stonith").exists() && Path::new(PLUGIN_DIR).is_dir(),
        "cluster-glue is missing (tests/harness/install-deps.sh installs it)"
    );
    true
}

/// A partition with a device on bravo only: bravo fences alpha before it
/// starts alpha's group. The first two resets fail: each is logged and
/// retried 5 s after it ended, and nothing is taken over meanwhile.
#[test]
fn partition_survivor_fences_first_and_retries_failed_resets() {
    if !lab_ready() {
        return;
    }
    let f = FenceLab::new("stonith-pt", "bravo", "alpha", Some("fail 2"));
    let alpha = f.ours(1, "alpha");
    let bravo = f.ours(2, "bravo");
    f.expect_owner(1, Duration::from_secs(30), "start");
    f.lab.cut(1);

    let long = Duration::from_secs(40);
    expect_log(&f.lab, 2, "STONITH of alpha failed.  Retrying...", long);
    assert!(!f.runs_labsvc(2), "bravo took over after a failed reset");
    assert!(
        wait_for(
            || f.resets("alpha").1.iter().any(|(_, rc)| rc == "rc=0"),
            long
        ),
        "no successful reset:\n{}\n{}",
        f.calls_text(),
        ha_log(&f.lab, 2)
    );
    f.expect_owner(2, Duration::from_secs(20), "takeover after the fence");
    assert!(
        wait_for(|| !pid_alive(alpha), Duration::from_secs(5)),
        "the reset did not stop alpha's daemon"
    );
    assert!(pid_alive(bravo));

    let (started, results) = f.resets("alpha");
    assert_eq!(started.len(), 3, "{}", f.calls_text());
    let rcs: Vec<&str> = results.iter().map(|(_, rc)| rc.as_str()).collect();
    assert_eq!(rcs, ["rc=1", "rc=1", "rc=0"], "{}", f.calls_text());
    // cluster-glue passed the stonith_host parameters to the plugin.
    let first = f
        .calls()
        .into_iter()
        .find(|(_, l)| l.contains("args=[reset alpha]"))
        .unwrap();
    assert!(first.1.contains("caller=bravo"), "{first:?}");
    assert!(first.1.contains("hostlist=[alpha]"), "{first:?}");
    // Heartbeat's STONITH-stat at comm-up, through the same plugin.
    assert!(
        f.calls()
            .iter()
            .any(|(_, l)| l.contains("caller=bravo") && l.contains("args=[status]")),
        "{}",
        f.calls_text()
    );
    // Each retry starts 5 s after the failed attempt ended.
    for k in 0..2 {
        let gap = started[k + 1] - results[k].0;
        assert!((4.8..8.0).contains(&gap), "retry {k} after {gap} s");
    }
    // The group started on bravo only after the successful reset.
    let starts = labsvc_starts(&f.lab, 2);
    assert_eq!(starts.len(), 1, "bravo started labsvc {starts:?}");
    assert!(
        starts[0] > results[2].0,
        "labsvc started at {} before the reset succeeded at {}",
        starts[0],
        results[2].0
    );
    let log = ha_log(&f.lab, 2);
    assert_eq!(
        count_in_log(&f.lab, 2, "STONITH of alpha failed.  Retrying..."),
        2,
        "{log}"
    );
    for line in [
        "Checking status of STONITH device [external/labfence]",
        "exited with return code 0.",
        "Resetting node alpha with [external/labfence]",
        "Host alpha not reset!",
        "node alpha now reset.",
        "Resources being acquired from alpha.",
    ] {
        assert!(log.contains(line), "missing {line:?}:\n{log}");
    }
    let ok = log.find("node alpha now reset.").unwrap();
    let take = log.find("Resources being acquired from alpha.").unwrap();
    assert!(ok < take, "takeover logged before the reset:\n{log}");
}

/// Heartbeat 3.0.6 takes over when a reset succeeds after the node came
/// back (and both nodes then run the group). Ours checks the peer again:
/// alpha came back and took its group while bravo's reset hung; the reset
/// then "succeeds" without resetting anything; bravo takes nothing.
#[test]
fn a_reset_that_succeeds_after_the_peer_came_back_leaves_one_owner() {
    if !lab_ready() {
        return;
    }
    let f = FenceLab::new("stonith-bk", "bravo", "alpha", Some("hold"));
    f.ours(1, "alpha");
    f.ours(2, "bravo");
    f.expect_owner(1, Duration::from_secs(30), "start");
    f.lab.crash(1);
    assert!(
        wait_for(|| !f.resets("alpha").0.is_empty(), Duration::from_secs(20)),
        "bravo never tried to reset alpha:\n{}",
        ha_log(&f.lab, 2)
    );
    f.ours(1, "alpha");
    f.expect_owner(
        1,
        Duration::from_secs(30),
        "alpha back while the reset hangs",
    );
    assert!(
        wait_for(
            || f.lab.node_status(2, "alpha") == "active",
            Duration::from_secs(10)
        ),
        "bravo does not see alpha active"
    );
    fs::write(f.ctl.join("release"), "").unwrap();
    assert!(
        wait_for(|| !f.resets("alpha").1.is_empty(), Duration::from_secs(10)),
        "the held reset never ended:\n{}",
        f.calls_text()
    );
    // Give a wrong takeover (Heartbeat's) time to show up before judging.
    let taken = wait_for(|| f.runs_labsvc(2), Duration::from_secs(3));
    assert!(!taken, "bravo started the group:\n{}", ha_log(&f.lab, 2));
    expect_log(
        &f.lab,
        2,
        "STONITH of alpha succeeded after alpha came back: not taking over its resources while it is alive.",
        Duration::from_secs(1),
    );
    f.expect_owner(1, Duration::from_secs(1), "after the late reset");
    assert!(labsvc_starts(&f.lab, 2).is_empty());
    assert!(!ha_log(&f.lab, 2).contains("Resources being acquired from alpha."));
}

/// The same late reset done by a real 3.0.6 bravo: it takes alpha's group
/// although alpha (ours) came back and runs it. Ours notices that both
/// hold the group and, the real node never giving way, releases it after
/// the grace period: one owner again, and logged.
#[test]
fn a_group_held_twice_after_a_real_nodes_late_reset_ends_on_one_node() {
    if !lab_ready() {
        return;
    }
    let f = FenceLab::new("stonith-2x", "bravo", "alpha", Some("hold"));
    f.ours(1, "alpha");
    f.lab.run_real(2, &f.conf, "bravo");
    f.expect_owner(1, Duration::from_secs(40), "start");
    f.lab.crash(1);
    assert!(
        wait_for(|| !f.resets("alpha").0.is_empty(), Duration::from_secs(20)),
        "the real bravo never tried to reset alpha:\n{}",
        ha_log(&f.lab, 2)
    );
    f.ours(1, "alpha");
    f.expect_owner(
        1,
        Duration::from_secs(30),
        "alpha back while the reset hangs",
    );
    fs::write(f.ctl.join("release"), "").unwrap();
    expect_log(
        &f.lab,
        1,
        "Both nodes hold our resource groups: waiting for bravo to release them.",
        Duration::from_secs(20),
    );
    expect_log(
        &f.lab,
        1,
        "Both nodes still hold our resource groups: releasing them here, bravo keeps them.",
        Duration::from_secs(15),
    );
    f.expect_owner(2, Duration::from_secs(10), "after the double ownership");
}

/// Mixed pair, same stonith_host line on both: our bravo fences the
/// crashed real alpha, then takes its group.
#[test]
fn ours_fences_a_crashed_real_node_before_takeover() {
    if !lab_ready() {
        return;
    }
    let f = FenceLab::new("stonith-mx", "*", "alpha bravo", None);
    f.lab.run_real(1, &f.conf, "alpha");
    f.ours(2, "bravo");
    f.expect_owner(1, Duration::from_secs(40), "start");
    f.lab.crash(1);
    f.expect_owner(2, Duration::from_secs(30), "takeover after the fence");
    let (started, results) = f.resets("alpha");
    assert_eq!(started.len(), 1, "{}", f.calls_text());
    assert_eq!(results.len(), 1, "{}", f.calls_text());
    assert_eq!(results[0].1, "rc=0");
    let starts = labsvc_starts(&f.lab, 2);
    assert!(
        !starts.is_empty() && starts[0] > results[0].0,
        "bravo started labsvc at {starts:?}, reset done at {}",
        results[0].0
    );
    // The real node ran its own status checks through the same plugin.
    assert!(
        f.calls()
            .iter()
            .any(|(_, l)| l.contains("caller=alpha") && l.contains("args=[status]")),
        "{}",
        f.calls_text()
    );
}

/// `watchdog /srv/wd`: a NUL per own heartbeat (keepalive 200 ms), none
/// while the daemon is stopped (SIGSTOP), `V` at SIGTERM and nothing after.
#[test]
fn watchdog_is_fed_by_the_loop_and_closed_with_v() {
    if !require_lab() {
        return;
    }
    let lab = Lab::new("stonith-wd", 1);
    let wd = lab.file(1, "/srv/wd");
    fs::write(&wd, b"").unwrap();
    let pid = lab.run_ours(1, "alpha", &data_dir().join("watchdog"), &["-f"]);
    let size = || fs::metadata(&wd).map(|m| m.len()).unwrap_or(0);
    assert!(
        wait_for(|| size() >= 3, Duration::from_secs(10)),
        "no watchdog writes:\n{}",
        lab.log_of(1)
    );
    // Rate: 10 more bytes take about 2 s at keepalive 200 ms.
    let start = std::time::Instant::now();
    let base = size();
    assert!(wait_for(|| size() >= base + 10, Duration::from_secs(4)));
    let secs = start.elapsed().as_secs_f64();
    assert!((1.4..3.5).contains(&secs), "10 writes took {secs} s");
    assert!(fs::read(&wd).unwrap().iter().all(|b| *b == 0));

    lab.kill_pid(pid, libc::SIGSTOP);
    let frozen = size();
    let moved = wait_for(|| size() != frozen, Duration::from_secs(1));
    lab.kill_pid(pid, libc::SIGCONT);
    assert!(!moved, "watchdog written while the daemon was stopped");
    assert!(wait_for(|| size() > frozen, Duration::from_secs(3)));

    lab.kill_pid(pid, libc::SIGTERM);
    assert!(
        wait_for(|| !pid_alive(pid), Duration::from_secs(20)),
        "daemon did not stop"
    );
    let bytes = fs::read(&wd).unwrap();
    assert_eq!(bytes.last(), Some(&b'V'), "no magic close");
    assert_eq!(bytes.iter().filter(|b| **b == b'V').count(), 1);
    let log = ha_log(&lab, 1);
    for line in [
        "notice: Using watchdog device: /srv/wd",
        "Failed to set watchdog timer to 3 seconds.",
        "info: Successful watchdog 'V' write",
        "info: Successful watchdog close",
    ] {
        assert!(log.contains(line), "missing {line:?}:\n{log}");
    }
}
