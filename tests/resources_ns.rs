//! The v1 resource protocol in namespaces, for auto_failback legacy, on and
//! off, with pairs of ours and mixed pairs (ours + a real Heartbeat 3.0.6):
//! start together, crash the owner, rejoin, `hb_standby` and `hb_takeover`
//! (nice_failback modes), SIGTERM the owner. After every step an audit: the
//! group (IPaddr2 198.18.0.100 + labsvc) runs on exactly the expected node,
//! and no real node's log holds a complaint of spec §13.

mod common;

use common::cluster::ha_log;
use common::lab::{data_dir, pid_alive, require_real_heartbeat, wait_for, Lab, REAL_HEARTBEAT};
use std::path::PathBuf;
use std::time::Duration;

const VIP: &str = "198.18.0.100";
const NODES: [&str; 2] = ["alpha", "bravo"];

/// What the real node logs when it dislikes a peer or the resource state.
const COMPLAINTS: &[&str] = &[
    "authentication failed",
    "replay attack",
    "hist queue is filling up",
    "returning after partition",
    "lost a lot of packets",
    "corrupted ackseq",
    "Both machines own",
    "No one owns",
    "Resource STOP failure",
];

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Impl {
    Ours,
    Real,
}

struct Pair {
    lab: Lab,
    conf: PathBuf,
    impls: [Impl; 2],
    mode: &'static str,
    /// Our daemon's pid per host (real nodes: none).
    pids: [Option<u32>; 2],
}

impl Pair {
    fn start(&mut self, host: usize) {
        let node = NODES[host - 1];
        self.pids[host - 1] = match self.impls[host - 1] {
            Impl::Ours => Some(self.lab.run_ours(host, node, &self.conf, &["-f"])),
            Impl::Real => {
                self.lab.run_real(host, &self.conf, node);
                None
            }
        };
    }

    /// Does host `i` run the group (labsvc state file and the address)?
    fn runs_group(&self, host: usize) -> (bool, bool) {
        let svc = self.lab.file(host, "/run/labsvc/labsvc.state").exists();
        let addr = self
            .lab
            .exec_stdout(host, &["ip", "-o", "-4", "addr", "show", "dev", "eth0"])
            .contains(&format!("{VIP}/"));
        (svc, addr)
    }

    /// Waits until the group runs completely on `owner` and not at all on
    /// the other host, then checks the real nodes' logs.
    fn audit(&self, step: &str, owner: usize, timeout: Duration) {
        let other = 3 - owner;
        let ok = wait_for(
            || self.runs_group(owner) == (true, true) && self.runs_group(other) == (false, false),
            timeout,
        );
        assert!(
            ok,
            "{self:?}: after {step}: expected the group on {} only; h1 (svc, ip) = {:?}, h2 = {:?}\n--- h1\n{}\n--- h2\n{}",
            NODES[owner - 1],
            self.runs_group(1),
            self.runs_group(2),
            ha_log(&self.lab, 1),
            ha_log(&self.lab, 2)
        );
        for host in [1, 2] {
            if self.impls[host - 1] == Impl::Real {
                let log = ha_log(&self.lab, host);
                let bad: Vec<&str> = log
                    .lines()
                    .filter(|l| COMPLAINTS.iter().any(|c| l.contains(c)))
                    .collect();
                assert!(
                    bad.is_empty(),
                    "{self:?}: after {step}: real node complained: {bad:#?}"
                );
            }
        }
    }

    /// `hb_standby` / `hb_takeover`: a real node uses its package's scripts;
    /// on our node, our tools in pairs of ours, and in mixed pairs Debian's
    /// `hb_standby` (through our FIFO) with our `hb_takeover`.
    fn tool(&self, host: usize, tool: &str) {
        let mixed = self.impls[0] != self.impls[1];
        let path = match (self.impls[host - 1], tool) {
            (Impl::Real, _) => format!("/usr/share/heartbeat/{tool}"),
            (Impl::Ours, "hb_standby") if mixed => "/usr/share/heartbeat/hb_standby".to_string(),
            (Impl::Ours, "hb_standby") => env!("CARGO_BIN_EXE_hb_standby").to_string(),
            (Impl::Ours, _) => env!("CARGO_BIN_EXE_hb_takeover").to_string(),
        };
        // Heartbeat refuses standby while either side is "in flux": wait
        // until both report a settled holding (not `transition`).
        let settled = || {
            [1, 2].iter().all(|&h| {
                !matches!(
                    self.lab
                        .exec_stdout(h, &["cl_status", "rscstatus"])
                        .as_str(),
                    "transition" | ""
                )
            })
        };
        assert!(
            wait_for(settled, Duration::from_secs(30)),
            "{self:?}: resources never settled before {tool}"
        );
        let out = self.lab.exec(host, &[&path]);
        assert!(out.status.success(), "{self:?}: {tool} on h{host}: {out:?}");
    }
}

impl std::fmt::Debug for Pair {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "[auto_failback {} alpha={:?} bravo={:?}]",
            self.mode, self.impls[0], self.impls[1]
        )
    }
}

fn scenario(mode: &'static str, alpha: Impl, bravo: Impl) {
    let tag = match (alpha, bravo) {
        (Impl::Ours, Impl::Ours) => "oo",
        (Impl::Real, Impl::Ours) => "ro",
        (Impl::Ours, Impl::Real) => "or",
        (Impl::Real, Impl::Real) => "rr",
    };
    let lab = Lab::new(&format!("rsc-{}{tag}", &mode[..2]), 2);
    let mut p = Pair {
        lab,
        conf: data_dir().join(format!("rsc-{mode}")),
        impls: [alpha, bravo],
        mode,
        pids: [None, None],
    };
    let long = Duration::from_secs(30);

    // 1. Both start together: alpha, the preferred node, gets the group.
    p.start(1);
    p.start(2);
    p.audit("start together", 1, long);

    // 2. Crash the owner (SIGKILL + reboot clean-up): bravo takes over.
    p.lab.crash(1);
    p.audit("crash of alpha", 2, long);

    // 3. alpha rejoins: failback with on and legacy, none with off.
    p.start(1);
    let owner = if mode == "off" { 2 } else { 1 };
    if mode == "off" {
        // give a wrong failback the time to happen before auditing
        std::thread::sleep(Duration::from_secs(8));
    }
    p.audit("rejoin of alpha", owner, long);

    let mut owner = owner;
    if mode != "legacy" {
        // 4. hb_standby on the owner: the other node takes the group.
        p.tool(owner, "hb_standby");
        owner = 3 - owner;
        p.audit("hb_standby on the owner", owner, long);
        // 5. hb_takeover on the node without the group: it comes back.
        p.tool(3 - owner, "hb_takeover");
        owner = 3 - owner;
        p.audit("hb_takeover on the other node", owner, long);
    }

    // 6. SIGTERM the owner: it releases, the other takes over, it exits.
    let stopping_pid = p.pids[owner - 1];
    p.lab.stop(owner);
    if let Some(pid) = stopping_pid {
        assert!(!pid_alive(pid), "{p:?}: our daemon survived SIGTERM");
    }
    p.audit("SIGTERM of the owner", 3 - owner, long);
}

fn run_all(cases: &[(&'static str, Impl, Impl)]) {
    let handles: Vec<_> = cases
        .iter()
        .map(|&(m, a, b)| ((m, a, b), std::thread::spawn(move || scenario(m, a, b))))
        .collect();
    let failed: Vec<_> = handles
        .into_iter()
        .filter_map(|(case, h)| h.join().is_err().then_some(case))
        .collect();
    assert!(failed.is_empty(), "failed scenarios: {failed:?}");
}

#[test]
fn pairs_of_ours_in_every_auto_failback_mode() {
    if !require_real_heartbeat() {
        return;
    }
    run_all(&[
        ("legacy", Impl::Ours, Impl::Ours),
        ("on", Impl::Ours, Impl::Ours),
        ("off", Impl::Ours, Impl::Ours),
    ]);
}

#[test]
fn mixed_pairs_with_a_real_heartbeat_in_every_auto_failback_mode() {
    if !require_real_heartbeat() {
        return;
    }
    assert!(std::path::Path::new(REAL_HEARTBEAT).exists());
    run_all(&[
        ("legacy", Impl::Real, Impl::Ours),
        ("on", Impl::Ours, Impl::Real),
        ("off", Impl::Real, Impl::Ours),
    ]);
}

/// A lone node takes both groups at initdead: one start fails (CRIT, the
/// group is given up), and at SIGTERM a stop fails while the resource still
/// runs: the configured self-fence command runs (here: it touches a file)
/// and the daemon stops heartbeating at once, without a `shutdone`.
#[test]
fn failing_start_and_failing_stop_on_a_lone_node() {
    if !common::lab::require_lab() {
        return;
    }
    let lab = Lab::new("rsc-fail", 1);
    let conf = data_dir().join("rsc-fail");
    let pid = lab.run_ours(1, "alpha", &conf, &["-f"]);
    let log = || ha_log(&lab, 1);
    assert!(
        wait_for(
            || log().contains("Giving up resources due to failure of badstart"),
            Duration::from_secs(20)
        ),
        "no CRIT for the failed start:\n{}",
        log()
    );
    assert!(
        wait_for(
            || lab.file(1, "/run/badstop/state").exists(),
            Duration::from_secs(10)
        ),
        "badstop never started:\n{}",
        log()
    );
    lab.kill_pid(pid, libc::SIGTERM);
    assert!(
        wait_for(|| !pid_alive(pid), Duration::from_secs(30)),
        "the daemon did not stop after the failed stop:\n{}",
        log()
    );
    assert!(
        log().contains("Resource STOP failure. Reboot required!"),
        "{}",
        log()
    );
    assert!(
        lab.file(1, "/var/log/fenced").exists(),
        "self-fence did not run:\n{}",
        log()
    );
    assert!(!log().contains("Heartbeat shutdown complete"), "{}", log());
}
