//! All split-brain defences at once in a mixed cluster: a real Heartbeat
//! 3.0.6 node and ours (each way round: alpha in h1, bravo in h2) with the
//! same ha.cf carrying `ping`, `respawn … ipfail`, `apiauth ipfail`,
//! `stonith_host` and `watchdog` (tests/data/lab/defences); h3 is the ping
//! target.
//!
//! The STONITH device is the lab's `external/labfence` plugin, bind-mounted
//! over cluster-glue's plugin directory inside each host's private mount
//! namespace (as in tests/stonith_ns.rs). The watchdog is a regular file in
//! each host's private /srv.

mod common;

use std::fs;
use std::path::{Path, PathBuf};
use std::time::Duration;

use common::cluster::{ha_log, real_node_complaints};
use common::fence::{
    install_labfence, labfence_calls, labsvc_starts, resets, runs_labsvc, PLUGIN_DIR,
};
use common::lab::{data_dir, require_real_heartbeat, wait_for, Lab};

const IPFAIL: &str = "/usr/libexec/heartbeat/ipfail";
const PING: &str = "198.18.0.3";

struct Defences {
    lab: Lab,
    /// labfence's control directory (its `labdir` parameter).
    ctl: PathBuf,
}

impl Defences {
    fn new(name: &str) -> Defences {
        let lab = Lab::new(name, 3);
        let ctl = lab.host_dir(3).join("fence-ctl");
        fs::create_dir_all(&ctl).unwrap();
        install_labfence(&lab, &ctl);
        for i in [1, 2] {
            // Heartbeat opens the watchdog without O_CREAT.
            fs::write(lab.file(i, "/srv/wd"), b"").unwrap();
        }
        Defences { lab, ctl }
    }

    /// The configuration both nodes start from.
    fn conf(&self) -> PathBuf {
        let conf = self.lab.host_dir(3).join("conf-src");
        fs::create_dir_all(conf.join("resource.d")).unwrap();
        let src = data_dir().join("stonith");
        for f in ["authkeys", "haresources", "resource.d/labsvc"] {
            fs::copy(src.join(f), conf.join(f)).unwrap();
        }
        let mut hacf = fs::read_to_string(data_dir().join("defences/ha.cf")).unwrap();
        hacf.push_str(&format!(
            "stonith_host    * external/labfence {} alpha bravo\n",
            self.ctl.display()
        ));
        fs::write(conf.join("ha.cf"), hacf).unwrap();
        conf
    }

    fn runs_labsvc(&self, i: usize) -> bool {
        runs_labsvc(&self.lab, i)
    }

    fn read(&self, i: usize, path: &str) -> String {
        fs::read_to_string(self.lab.file(i, path)).unwrap_or_default()
    }

    /// Both nodes' debug logs (ipfail logs there too) and the plugin calls.
    fn logs(&self) -> String {
        format!(
            "--- alpha\n{}\n--- bravo\n{}\n--- labfence calls\n{}",
            self.read(1, "/var/log/ha-debug"),
            self.read(2, "/var/log/ha-debug"),
            self.calls_text()
        )
    }

    /// Waits until the group runs on host `owner` only.
    fn expect_owner(&self, owner: usize, timeout: Duration, step: &str) {
        let ok = wait_for(
            || self.runs_labsvc(owner) && !self.runs_labsvc(3 - owner),
            timeout,
        );
        assert!(
            ok,
            "{step}: labsvc expected on h{owner} only (h1 {}, h2 {})\n{}",
            self.runs_labsvc(1),
            self.runs_labsvc(2),
            self.logs()
        );
    }

    fn calls_text(&self) -> String {
        labfence_calls(&self.ctl)
    }

    /// Times of the results of `reset NODE` calls, with their `rc=`.
    fn reset_results(&self, node: &str) -> Vec<(f64, String)> {
        resets(&self.ctl, node).1
    }

    /// Size of host `i`'s watchdog file, and whether it holds only NULs.
    fn watchdog(&self, i: usize) -> (usize, bool) {
        let bytes = fs::read(self.lab.file(i, "/srv/wd")).unwrap_or_default();
        (bytes.len(), bytes.iter().all(|b| *b == 0))
    }

    /// The watchdog of host `i` is written (NULs only) while we watch.
    fn expect_watchdog_fed(&self, i: usize, step: &str) {
        let (before, _) = self.watchdog(i);
        let fed = wait_for(|| self.watchdog(i).0 >= before + 4, Duration::from_secs(5));
        let (after, nuls) = self.watchdog(i);
        assert!(
            fed && nuls,
            "{step}: h{i} watchdog {before} -> {after} bytes, NULs only {nuls}"
        );
    }
}

fn lab_ready() -> bool {
    if !require_real_heartbeat() {
        return false;
    }
    assert!(
        Path::new("/usr/sbin/stonith").exists()
            && Path::new(PLUGIN_DIR).is_dir()
            && Path::new(IPFAIL).is_file(),
        "cluster-glue or heartbeat's ipfail is missing (tests/harness/install-deps.sh installs them)"
    );
    true
}

/// The pair with every defence configured, the real 3.0.6 node on host
/// `real` (1 = alpha, 2 = bravo) and ours on the other: both start and feed
/// their watchdogs, both run and sign on Debian's ipfail; alpha losing the
/// ping host moves the group to bravo and back; a crashed alpha is fenced
/// by bravo before bravo starts the group.
fn all_defences(name: &str, real: usize) {
    let ours = 3 - real;
    let d = Defences::new(name);
    let conf = d.conf();
    for (i, node) in [(1, "alpha"), (2, "bravo")] {
        if i == real {
            d.lab.run_real(i, &conf, node);
        } else {
            d.lab.run_ours(i, node, &conf, &["-f"]);
        }
    }
    let long = Duration::from_secs(40);
    d.expect_owner(1, long, "start");

    // ipfail runs under both daemons and has signed on: each node's
    // ipfail is online in the other node's eyes, and they did their join
    // handshake (both see the ping node: balanced).
    for (i, peer) in [(1, "bravo"), (2, "alpha")] {
        let ok = wait_for(
            || {
                d.lab
                    .exec_stdout(i, &["cl_status", "clientstatus", peer, "ipfail", "2000"])
                    == "online"
            },
            Duration::from_secs(20),
        );
        assert!(
            ok,
            "ipfail of {peer} not online seen from h{i}\n{}",
            d.logs()
        );
    }
    assert!(
        wait_for(
            || d.logs().contains("Ping node count is balanced."),
            Duration::from_secs(20)
        ),
        "no ipfail handshake\n{}",
        d.logs()
    );
    assert!(ha_log(&d.lab, ours).contains(&format!("Starting \"{IPFAIL}\" as uid")));
    for i in [1, 2] {
        assert_eq!(d.lab.node_status(i, PING), "ping", "h{i}\n{}", d.logs());
    }

    // Both watchdogs are fed (one NUL per own heartbeat, keepalive 500 ms).
    d.expect_watchdog_fed(real, "steady (real)");
    d.expect_watchdog_fed(ours, "steady (ours)");
    for i in [1, 2] {
        let log = ha_log(&d.lab, i);
        assert!(
            log.contains("Using watchdog device: /srv/wd"),
            "h{i}:\n{log}"
        );
    }

    // Nobody fenced anybody so far; both checked their device at comm-up.
    assert!(d.reset_results("alpha").is_empty() && d.reset_results("bravo").is_empty());
    for caller in ["alpha", "bravo"] {
        assert!(
            wait_for(
                || d.calls_text().lines().any(
                    |l| l.contains(&format!("caller={caller} ")) && l.contains("args=[status]")
                ),
                Duration::from_secs(10)
            ),
            "no STONITH status check by {caller}\n{}",
            d.logs()
        );
    }

    // alpha loses the ping host: its ipfail gives the group to bravo (a
    // standby, not a death: nobody is fenced); restored, it comes back.
    d.lab.block(1, PING);
    d.expect_owner(2, long, "alpha lost its ping node");
    // bravo's ipfail told alpha's that it sees more ping nodes, and
    // alpha's asked its daemon for standby (each through its own daemon).
    for line in [
        "Telling other node that we have more visible ping nodes.",
        "Giving up because we were told that we have less ping nodes.",
        "alpha wants to go standby [all]",
    ] {
        assert!(d.logs().contains(line), "no {line:?}\n{}", d.logs());
    }
    d.lab.unblock(1, PING);
    d.expect_owner(1, long, "alpha sees its ping node again");
    assert!(d.reset_results("alpha").is_empty(), "{}", d.logs());
    d.expect_watchdog_fed(1, "after the ipfail round trip");
    d.expect_watchdog_fed(2, "after the ipfail round trip");

    let real_log = ha_log(&d.lab, real);
    let bad: Vec<&str> = real_node_complaints(&real_log);
    assert!(bad.is_empty(), "the real node complained: {bad:#?}");

    // alpha crashes: bravo resets it through labfence, then starts the group.
    d.lab.crash(1);
    d.expect_owner(2, Duration::from_secs(30), "takeover after the crash");
    let results = d.reset_results("alpha");
    assert_eq!(results.len(), 1, "{}", d.logs());
    assert_eq!(results[0].1, "rc=0", "{}", d.logs());
    assert!(
        d.calls_text()
            .lines()
            .any(|l| l.contains("caller=bravo") && l.contains("args=[reset alpha]")),
        "{}",
        d.logs()
    );
    let starts = labsvc_starts(&d.lab, 2);
    let last = starts.last().copied().unwrap_or(0.0);
    assert!(
        last > results[0].0,
        "bravo started labsvc at {starts:?}, the reset ended at {}",
        results[0].0
    );
    let log = ha_log(&d.lab, 2);
    assert!(log.contains("node alpha now reset."), "{log}");
    d.expect_watchdog_fed(2, "after the takeover");
}

/// Real alpha, our bravo: our daemon answers the real alpha's ipfail,
/// takes the group from it, and fences the crashed real node.
#[test]
fn all_defences_with_a_real_alpha_and_our_bravo() {
    if lab_ready() {
        all_defences("combo-dro", 1);
    }
}

/// Our alpha, real bravo: our alpha's ipfail gives way to the real node,
/// which fences our crashed alpha before it takes the group.
#[test]
fn all_defences_with_our_alpha_and_a_real_bravo() {
    if lab_ready() {
        all_defences("combo-dor", 2);
    }
}
