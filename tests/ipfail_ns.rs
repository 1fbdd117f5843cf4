//! `respawn` / `failfast` clients and Debian's `ipfail` under our daemon,
//! in namespaces.
//!
//! * respawn: a client that exits is restarted, exit code 100 is not, a
//!   crash loop stops at Heartbeat's limit with its log line, clients run
//!   as their user, and SIGTERM stops them last-first before the daemon
//!   exits.
//! * failfast: a client dying abnormally runs the self-fence action (a
//!   `touch` here, never a reboot) and the daemon stops.
//! * Debian's `/usr/libexec/heartbeat/ipfail` respawned by our daemon signs
//!   on as a named client, stays connected, and runs its join handshake
//!   with the peer's ipfail through our API (`num_ping_nodes`,
//!   `abort_giveup`, `ask_resources`), leaving the group where it is.

mod common;

use common::cluster::{expect_log, ha_log};
use common::lab::{data_dir, pid_alive, require_lab, require_real_heartbeat, wait_for, Lab};
use std::time::Duration;

const IPFAIL: &str = "/usr/libexec/heartbeat/ipfail";
const VIP: &str = "198.18.0.100";

fn read(lab: &Lab, i: usize, path: &str) -> String {
    std::fs::read_to_string(lab.file(i, path)).unwrap_or_default()
}

fn count(lab: &Lab, i: usize, mode: &str) -> u32 {
    read(lab, i, &format!("/srv/out/{mode}.count"))
        .trim()
        .parse()
        .unwrap_or(0)
}

/// /srv/out writable for clients of any user.
fn out_dir(lab: &Lab, i: usize) {
    let out = lab.exec(i, &["sh", "-c", "mkdir -p /srv/out && chmod 1777 /srv/out"]);
    assert!(out.status.success(), "{out:?}");
}

#[test]
fn respawn_restarts_exit_100_crash_loop_and_shutdown_order() {
    if !require_lab() {
        return;
    }
    let lab = Lab::new("ipfail-resp", 1);
    out_dir(&lab, 1);
    let pid = lab.run_ours(1, "alpha", &data_dir().join("ipf-respawn"), &["-f"]);
    let log = || ha_log(&lab, 1);
    let client = "/etc/ha.d/resource.d/hbclient";

    // A crash loop (exit 1 at once) is restarted 10 times, each after a
    // 1 s pause, then left dead with Heartbeat's line.
    expect_log(
        &lab,
        1,
        &format!("Client {client} crash \"respawning too fast\""),
        Duration::from_secs(40),
    );
    assert_eq!(count(&lab, 1, "crash"), 11, "{}", log());

    // The client that exited 0 once was restarted and now stays.
    assert_eq!(count(&lab, 1, "once"), 2, "{}", log());
    assert!(log().contains(&format!("Respawning client \"{client} once\":")));
    assert!(log().contains(&format!(
        "Managed {client} once process"
    )));
    // Exit code 100: started once, never again.
    assert_eq!(count(&lab, 1, "exit100"), 1, "{}", log());
    assert!(!log().contains(&format!("Respawning client \"{client} exit100\"")));

    // Clients run as their user, with its groups.
    let (uid, gid) = (user_id("hacluster", "-u"), user_id("hacluster", "-g"));
    let whoami = read(&lab, 1, "/srv/out/whoami.log");
    assert!(
        whoami.contains(&format!("uid={uid} gid={gid} groups={gid}")),
        "{whoami}"
    );
    assert!(log().contains(&format!(
        "Starting child client \"{client} whoami\" ({uid},{gid})"
    )));
    assert!(read(&lab, 1, "/srv/out/once.log").contains("uid=0 "));

    // SIGTERM: the running clients are stopped last-first, then we exit.
    lab.kill_pid(pid, libc::SIGTERM);
    assert!(
        wait_for(|| !pid_alive(pid), Duration::from_secs(20)),
        "daemon did not exit:\n{}",
        log()
    );
    let stops: Vec<String> = read(&lab, 1, "/srv/out/stops.log")
        .lines()
        .map(String::from)
        .collect();
    assert_eq!(stops, ["whoami", "once"], "{}", log());
    let text = log();
    let whoami_kill = text
        .find(&format!("killing {client} whoami process group"))
        .expect("no kill line for whoami");
    let once_kill = text
        .find(&format!("killing {client} once process group"))
        .expect("no kill line for once");
    let done = text
        .find("Heartbeat shutdown complete.")
        .expect("no shutdown line");
    assert!(whoami_kill < once_kill && done < whoami_kill, "{text}");
    // Nothing of the lab host keeps running.
    assert!(
        wait_for(
            || lab.pids(1).is_empty(),
            Duration::from_secs(5)
        ),
        "processes left: {:?}",
        lab.pids(1)
    );
}

fn user_id(user: &str, flag: &str) -> String {
    let out = std::process::Command::new("id")
        .args([flag, user])
        .output()
        .expect("id");
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

#[test]
fn failfast_client_death_runs_the_self_fence_action() {
    if !require_lab() {
        return;
    }
    let lab = Lab::new("ipfail-ff", 1);
    out_dir(&lab, 1);
    let pid = lab.run_ours(1, "alpha", &data_dir().join("ipf-failfast"), &["-f"]);
    let log = || ha_log(&lab, 1);
    expect_log(
        &lab,
        1,
        "Rebooting system.  Reason: /etc/ha.d/resource.d/hbclient die",
        Duration::from_secs(20),
    );
    assert!(
        wait_for(|| !pid_alive(pid), Duration::from_secs(10)),
        "daemon still runs after the failfast client died:\n{}",
        log()
    );
    assert!(
        wait_for(
            || lab.file(1, "/srv/fenced").exists(),
            Duration::from_secs(5)
        ),
        "self-fence action did not run:\n{}",
        log()
    );
    assert_eq!(count(&lab, 1, "die"), 1, "{}", log());
    assert!(!log().contains("Heartbeat shutdown complete"), "{}", log());
}

/// Debian's ipfail on both nodes of a pair of ours: each signs on (named
/// client, `hbapi-clstat` join to the peer), the peers compare their ping
/// counts (both 0: "balanced"), and the group stays on alpha.
#[test]
fn debian_ipfail_signs_on_and_handshakes_under_our_daemon() {
    if !require_real_heartbeat() {
        return;
    }
    let lab = Lab::new("ipfail-deb", 2);
    let conf = data_dir().join("ipf-pair");
    lab.run_ours(1, "alpha", &conf, &["-f"]);
    lab.run_ours(2, "bravo", &conf, &["-f"]);
    for i in [1, 2] {
        expect_log(
            &lab,
            i,
            &format!("Starting \"{IPFAIL}\" as uid"),
            Duration::from_secs(20),
        );
    }
    // ipfail logs to our log files (HA_logfile, HA_debugfile): the later ipfail's join
    // (hbapi-clstat) makes the earlier one ask for the ping count
    // (num_ping_nodes), which the later one finds balanced (abort_giveup;
    // then, if stable by then, ask_resources foreign for auto_failback).
    let both = || read(&lab, 1, "/var/log/ha-debug") + &read(&lab, 2, "/var/log/ha-debug");
    for line in [
        "Got join message from another ipfail client.",
        "Asking other side for ping node count.",
        "Ping node count is balanced.",
        "Abort message sent.",
    ] {
        assert!(
            wait_for(|| both().contains(line), Duration::from_secs(20)),
            "no ipfail line {line:?}:\n{}",
            both()
        );
    }
    // Both ipfail processes are online for the peer's API.
    for (i, peer) in [(1, "bravo"), (2, "alpha")] {
        let ok = wait_for(
            || {
                lab.exec_stdout(i, &["cl_status", "clientstatus", peer, "ipfail", "2000"])
                    == "online"
            },
            Duration::from_secs(10),
        );
        assert!(ok, "ipfail on {peer} not online seen from h{i}");
    }
    // The handshake moved nothing and ipfail never died.
    let on_alpha = || {
        lab.exec_stdout(1, &["ip", "-o", "-4", "addr", "show", "dev", "eth0"])
            .contains(&format!("{VIP}/"))
    };
    assert!(wait_for(on_alpha, Duration::from_secs(20)), "{}", ha_log(&lab, 1));
    for i in [1, 2] {
        let log = ha_log(&lab, i);
        assert!(!log.contains("Respawning client"), "h{i}:\n{log}");
        assert!(!log.contains("Client [ipfail]"), "h{i}:\n{log}");
    }
}
