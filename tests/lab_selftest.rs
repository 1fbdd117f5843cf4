//! Proves the namespace harness (tests/harness/lab.sh + tests/common/lab.rs):
//! plain processes, faults, teardown, and two REAL Heartbeat 3.0.6 nodes.

mod common;

use common::lab::{
    data_dir, netns_with_prefix, pid_alive, require_lab, require_real_heartbeat, wait_for, Lab,
};
use std::fs;
use std::time::{Duration, Instant};

fn file_has(lab: &Lab, host: usize, path: &str, needle: &str) -> bool {
    fs::read_to_string(lab.file(host, path)).is_ok_and(|s| s.contains(needle))
}

/// Sends one UDP datagram `text` from host `from` to host `to`, port 7000.
fn send_udp(lab: &Lab, from: usize, to: usize, text: &str) {
    let dest = format!("UDP4-SENDTO:{}:7000", lab.addr(to));
    let out = lab.exec(
        from,
        &["socat", "-u", &format!("SYSTEM:echo {text}"), &dest],
    );
    assert!(out.status.success(), "socat send failed: {out:?}");
}

/// Drops the lab and checks that nothing of it is left.
fn tear_down(lab: Lab) {
    let prefix = lab.prefix().to_owned();
    drop(lab);
    let left = netns_with_prefix(&prefix);
    assert!(left.is_empty(), "namespaces left behind: {left:?}");
}

fn both_active(lab: &Lab) -> bool {
    [1, 2].iter().all(|&host| {
        ["alpha", "bravo"]
            .iter()
            .all(|node| lab.node_status(host, node) == "active")
    })
}

fn statuses(lab: &Lab) -> String {
    let mut s = String::new();
    for host in [1, 2] {
        for node in ["alpha", "bravo"] {
            s += &format!("h{host}:{node}={:?} ", lab.node_status(host, node));
        }
    }
    s
}

#[test]
fn plain_processes_faults_and_teardown() {
    if !require_lab() {
        return;
    }
    let lab = Lab::new("lst-plain", 2);
    let conf = data_dir().join("bcast");
    let rx = lab.run(
        1,
        Some("xray"),
        Some(&conf),
        &[
            "socat",
            "-u",
            "UDP4-RECV:7000,reuseaddr",
            "OPEN:/var/log/rx,creat,append",
        ],
    );
    let sleeper = lab.run(2, None, None, &["sleep", "600"]);
    assert_eq!(lab.exec_stdout(1, &["uname", "-n"]), "xray");
    assert_eq!(
        lab.exec_stdout(1, &["stat", "-c", "%a", "/etc/ha.d/authkeys"]),
        "600"
    );
    assert!(lab.file(1, "/etc/ha.d/resource.d/labsvc").is_file());
    assert!(
        !lab.file(2, "/etc/ha.d/authkeys").exists(),
        "/etc/ha.d is not private"
    );
    assert!(lab.pids(1).contains(&rx) && lab.pids(2).contains(&sleeper));
    assert!(!lab.pids(1).contains(&sleeper));
    // the port is bound once socat runs: poll by sending until one arrives
    assert!(
        wait_for(
            || {
                send_udp(&lab, 2, 1, "one");
                file_has(&lab, 1, "/var/log/rx", "one")
            },
            Duration::from_secs(5)
        ),
        "no datagram arrived"
    );

    lab.cut(2);
    send_udp(&lab, 2, 1, "cut-away");
    lab.restore(2);
    lab.drop_percent(1, 100);
    send_udp(&lab, 2, 1, "dropped");
    lab.drop_percent(1, 0);
    send_udp(&lab, 2, 1, "three");
    assert!(wait_for(
        || file_has(&lab, 1, "/var/log/rx", "three"),
        Duration::from_secs(5)
    ));
    let got = fs::read_to_string(lab.file(1, "/var/log/rx")).unwrap_or_default();
    assert!(!got.contains("cut-away"), "cut did not cut: {got:?}");
    assert!(!got.contains("dropped"), "drop 100 did not drop: {got:?}");

    assert!(pid_alive(rx));
    lab.stop(1);
    assert!(!pid_alive(rx), "socat survived stop");
    assert!(lab.pids(1).is_empty(), "h1 still runs {:?}", lab.pids(1));
    lab.crash(2);
    assert!(!pid_alive(sleeper), "sleep survived crash");
    assert!(lab.pids(2).is_empty(), "h2 still runs {:?}", lab.pids(2));
    tear_down(lab);
}

#[test]
fn real_heartbeat_bcast_takeover() {
    if !require_real_heartbeat() {
        return;
    }
    let lab = Lab::new("lst-bcast", 2);
    let conf = data_dir().join("bcast");
    let started = Instant::now();
    lab.run_real(1, &conf, "alpha");
    lab.run_real(2, &conf, "bravo");
    assert!(
        wait_for(|| both_active(&lab), Duration::from_secs(20)),
        "nodes not active: {}",
        statuses(&lab)
    );
    eprintln!("both active after {:?}", started.elapsed());
    // alpha is the group's home node (v1 negotiation takes ~12 s)
    assert!(
        wait_for(
            || lab.file(1, "/run/labsvc/labsvc.state").exists(),
            Duration::from_secs(30)
        ),
        "alpha did not start labsvc"
    );
    eprintln!("alpha owns labsvc after {:?}", started.elapsed());

    lab.kill(1);
    let killed = Instant::now();
    assert!(
        wait_for(
            || lab.log_of(2).contains("node alpha: is dead"),
            Duration::from_secs(12)
        ),
        "bravo did not declare alpha dead"
    );
    eprintln!("alpha dead after {:?} (deadtime 3 s)", killed.elapsed());
    assert!(
        wait_for(
            || lab.file(2, "/run/labsvc/labsvc.state").exists(),
            Duration::from_secs(15)
        ),
        "bravo did not take over labsvc"
    );
    eprintln!("bravo owns labsvc {:?} after the kill", killed.elapsed());
    tear_down(lab);
}

#[test]
fn real_heartbeat_serial_dead_node() {
    if !require_real_heartbeat() {
        return;
    }
    let lab = Lab::with_serial("lst-serial", 2, &[(1, 2)]);
    let conf = data_dir().join("serial");
    let started = Instant::now();
    lab.run_real(1, &conf, "alpha");
    lab.run_real(2, &conf, "bravo");
    assert!(
        wait_for(|| both_active(&lab), Duration::from_secs(20)),
        "nodes not active over serial: {}",
        statuses(&lab)
    );
    eprintln!("both active after {:?}", started.elapsed());

    lab.kill(2);
    let killed = Instant::now();
    // deadtime 3 s, + 2 s while the victim's start-up grace was advertised
    assert!(
        wait_for(
            || lab.log_of(1).contains("node bravo: is dead"),
            Duration::from_secs(15)
        ),
        "alpha did not declare bravo dead"
    );
    eprintln!("bravo dead after {:?}", killed.elapsed());
    tear_down(lab);
}
