//! `respawn` / `failfast` clients and Debian's `ipfail` under our daemon,
//! in namespaces.
//!
//! * respawn: a client that exits is restarted, exit code 100 is not, a
//!   crash loop stops at Heartbeat's limit with its log line, clients run
//!   as their user, and SIGTERM stops them last-first before the daemon
//!   exits (SIGKILL for one that ignores SIGTERM).
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
    assert!(log().contains(&format!("Managed {client} once process")));
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
        wait_for(|| !pid_alive(pid), Duration::from_secs(25)),
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
    // The first client ignores SIGTERM: SIGKILL 10 s after the shutdown began.
    let stubborn_kill = text
        .find(&format!("killing {client} stubborn process group"))
        .expect("no kill line for stubborn");
    assert!(once_kill < stubborn_kill, "{text}");
    assert!(
        text.contains(&format!("WARN: killing {client} stubborn process group"))
            && text.contains("with signal 9"),
        "{text}"
    );
    // Nothing of the lab host keeps running.
    assert!(
        wait_for(|| lab.pids(1).is_empty(), Duration::from_secs(5)),
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
/// counts (both 0: "balanced"), and the group stays on alpha. When bravo
/// dies, alpha's ipfail hears of its link and node deaths.
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
    assert!(
        wait_for(on_alpha, Duration::from_secs(20)),
        "{}",
        ha_log(&lab, 1)
    );
    for i in [1, 2] {
        let log = ha_log(&lab, i);
        assert!(!log.contains("Respawning client"), "h{i}:\n{log}");
        assert!(!log.contains("Client [ipfail]"), "h{i}:\n{log}");
    }
    // bravo crashes: alpha's ipfail is told of the link and node deaths.
    lab.crash(2);
    for line in [
        "Link Status update: Link bravo/eth0 now has status dead",
        "Status update: Node bravo now has status dead",
    ] {
        expect_log(&lab, 1, line, Duration::from_secs(15));
    }
}

// ---- ipfail with a ping node (host 3 = ping target only) -------------------

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Impl {
    Ours,
    Real,
}

/// An ha.cf for alpha+bravo with `ping 198.18.0.3` before or after the
/// node lines and the given `deadping` (deadtime is 3 s), Debian's ipfail
/// respawned, auto_failback on; the group prefers alpha.
fn ping_conf(name: &str, ping_first: bool, deadping: u32) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("hbrs-ipf-{}-{name}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("conf dir");
    let base = data_dir().join("ipf-pair");
    for f in ["authkeys", "haresources"] {
        std::fs::copy(base.join(f), dir.join(f)).expect("copy conf");
    }
    let rsc = dir.join("resource.d");
    if !rsc.exists() {
        std::os::unix::fs::symlink(data_dir().join("bcast/resource.d"), &rsc).expect("symlink");
    }
    let ping = "ping            198.18.0.3\n";
    let nodes = "node            alpha\nnode            bravo\n";
    let text = format!(
        "# generated by tests/ipfail_ns.rs ({name})\n\
         logfile         /var/log/ha-log\n\
         debugfile       /var/log/ha-debug\n\
         logfacility     none\n\
         keepalive       500ms\n\
         warntime        2\n\
         deadtime        3\n\
         deadping        {deadping}\n\
         initdead        6\n\
         udpport         694\n\
         bcast           eth0\n\
         {first}{nodes}{last}\
         respawn hacluster {IPFAIL}\n\
         apiauth ipfail gid=haclient uid=hacluster\n\
         auto_failback   on\n\
         crm             off\n",
        first = if ping_first { ping } else { "" },
        last = if ping_first { "" } else { ping },
    );
    std::fs::write(dir.join("ha.cf"), text).expect("write ha.cf");
    dir
}

struct PingPair {
    lab: Lab,
    name: String,
}

impl PingPair {
    fn start(name: &str, conf: &std::path::Path, impls: [Impl; 2]) -> PingPair {
        let lab = Lab::new(&format!("ipfail-{name}"), 3);
        for (i, node) in [(1, "alpha"), (2, "bravo")] {
            match impls[i - 1] {
                Impl::Ours => {
                    lab.run_ours(i, node, conf, &["-f"]);
                }
                Impl::Real => {
                    lab.run_real(i, conf, node);
                }
            }
        }
        PingPair {
            lab,
            name: name.to_string(),
        }
    }

    fn has_vip(&self, i: usize) -> bool {
        self.lab
            .exec_stdout(i, &["ip", "-o", "-4", "addr", "show", "dev", "eth0"])
            .contains(&format!("{VIP}/"))
    }

    fn runs_group(&self, i: usize) -> bool {
        self.has_vip(i) && self.lab.file(i, "/run/labsvc/labsvc.state").exists()
    }

    fn logs(&self) -> String {
        format!(
            "--- alpha\n{}\n--- bravo\n{}",
            read(&self.lab, 1, "/var/log/ha-debug"),
            read(&self.lab, 2, "/var/log/ha-debug")
        )
    }

    /// The group runs on `owner` only (both, when `owner` is None).
    fn expect_owner(&self, step: &str, owner: Option<usize>, timeout: Duration) {
        let want = |i: usize| owner.is_none_or(|o| o == i);
        let ok = wait_for(
            || {
                self.runs_group(1) == want(1) && self.runs_group(2) == want(2) && {
                    // the loser must not keep the address either
                    (1..=2).all(|i| want(i) || !self.has_vip(i))
                }
            },
            timeout,
        );
        assert!(
            ok,
            "[{}] after {step}: expected the group on {owner:?}; alpha={} bravo={}\n{}",
            self.name,
            self.runs_group(1),
            self.runs_group(2),
            self.logs()
        );
    }

    /// Inside host `i`, drop every packet from `from` (a real outage: the
    /// echo replies are lost, sending still works).
    fn block(&self, i: usize, from: &str) {
        let rules = format!(
            "nft add table inet ipft; \
             nft add chain inet ipft in '{{ type filter hook input priority 0; }}'; \
             nft add rule inet ipft in ip saddr {from} drop"
        );
        let out = self.lab.exec(i, &["sh", "-c", &rules]);
        assert!(out.status.success(), "nft: {out:?}");
    }

    fn unblock(&self, i: usize) {
        let out = self
            .lab
            .exec(i, &["nft", "delete", "table", "inet", "ipft"]);
        assert!(out.status.success(), "nft: {out:?}");
    }
}

/// Cut alpha's path to the ping host: its ipfail gives the group to bravo;
/// restore it: auto_failback brings the group back.
fn ping_failover(name: &str, ping_first: bool, deadping: u32, impls: [Impl; 2]) {
    let conf = ping_conf(name, ping_first, deadping);
    let p = PingPair::start(name, &conf, impls);
    let long = Duration::from_secs(40);
    p.expect_owner("start", Some(1), long);
    // Both ipfails are up and have done their join handshake.
    assert!(
        wait_for(
            || p.logs().contains("Ping node count is balanced."),
            Duration::from_secs(20)
        ),
        "[{name}] no ipfail handshake\n{}",
        p.logs()
    );
    p.block(1, "198.18.0.3");
    p.expect_owner("alpha lost its ping node", Some(2), long);
    // bravo's ipfail answered alpha's num_ping_nodes with you_are_dead,
    // and alpha's ipfail asked its daemon for standby.
    for line in [
        "Telling other node that we have more visible ping nodes.",
        "Giving up because we were told that we have less ping nodes.",
        "alpha wants to go standby [all]",
    ] {
        assert!(
            p.logs().contains(line),
            "[{name}] no {line:?}\n{}",
            p.logs()
        );
    }
    p.unblock(1);
    p.expect_owner("alpha sees its ping node again", Some(1), long);
    let _ = std::fs::remove_dir_all(&conf);
}

/// Runs `ping_failover` for each `(lab name, ping line first, deadping,
/// alpha, bravo)`, one thread (and lab) per case; names the failed cases.
fn run_parallel(cases: &[(&'static str, bool, u32, Impl, Impl)]) {
    let handles: Vec<_> = cases
        .iter()
        .map(|&(name, first, dp, a, b)| {
            (
                name,
                std::thread::spawn(move || ping_failover(name, first, dp, [a, b])),
            )
        })
        .collect();
    let failed: Vec<&str> = handles
        .into_iter()
        .filter_map(|(name, h)| h.join().is_err().then_some(name))
        .collect();
    assert!(failed.is_empty(), "failed: {failed:?}");
}

/// Item-6 regression: with Heartbeat 3.0.6 the ping line before the nodes
/// and deadping > deadtime kept the group on the node that lost its ping
/// node (spec annex run 1a). With our daemon the node that lost its ping
/// node gives way whatever the order and deadping.
#[test]
fn ipfail_moves_the_group_whatever_the_ping_line_order_and_deadping() {
    if !require_real_heartbeat() {
        return;
    }
    // (lab name, ping line before the nodes, deadping in s; deadtime is 3)
    use Impl::Ours;
    run_parallel(&[
        ("pf4", true, 4, Ours, Ours),
        ("pf2", true, 2, Ours, Ours),
        ("pl4", false, 4, Ours, Ours),
        ("pl2", false, 2, Ours, Ours),
    ]);
}

/// Mixed pairs, each node with Debian's ipfail: our alpha loses its ping
/// node and the real 3.0.6 bravo takes the group (with run 1a's ha.cf: ping
/// first, deadping 4, with which a real alpha would not have failed over);
/// and a real alpha losing its ping node gives the group to our bravo (with
/// an ha.cf the real one handles: ping last, deadping 2). Both come back.
#[test]
fn ipfail_in_mixed_pairs_with_a_real_heartbeat() {
    if !require_real_heartbeat() {
        return;
    }
    run_parallel(&[
        ("mor", true, 4, Impl::Ours, Impl::Real),
        ("mro", false, 2, Impl::Real, Impl::Ours),
    ]);
}

/// Cut the link between the nodes while both still reach the ping host:
/// ipfail cannot help (each node sees the same ping count and its peer
/// dead), so without STONITH both nodes take the group — split brain, as
/// the documentation says — until the link returns.
#[test]
fn a_cut_between_the_nodes_is_a_split_brain_even_with_ipfail() {
    if !require_real_heartbeat() {
        return;
    }
    let conf = ping_conf("split", false, 2);
    let p = PingPair::start("split", &conf, [Impl::Ours, Impl::Ours]);
    p.expect_owner("start", Some(1), Duration::from_secs(40));
    p.block(1, "198.18.0.2");
    p.block(2, "198.18.0.1");
    p.expect_owner("cut between the nodes", None, Duration::from_secs(30));
    // Both still see the ping node.
    for i in [1, 2] {
        assert_eq!(p.lab.node_status(i, "198.18.0.3"), "ping", "{}", p.logs());
    }
    // When the link returns, the healed partition makes both restart and
    // the group ends up on its preferred node alone.
    p.unblock(1);
    p.unblock(2);
    p.expect_owner(
        "the link between the nodes is back",
        Some(1),
        Duration::from_secs(60),
    );
    let _ = std::fs::remove_dir_all(&conf);
}
