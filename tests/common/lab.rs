//! Network-namespace labs for integration tests, driving `tests/harness/lab.sh`.
//!
//! A [`Lab`] is a private L2 segment with hosts 1..=N (`198.18.0.I/24` on eth0),
//! each with its own /etc/ha.d, /var/lib/heartbeat, /run, /var/log, /srv and
//! hostname. Daemons run inside a host: ours ([`Lab::run_ours`]), the real
//! Heartbeat 3.0.6 ([`Lab::run_real`]) or anything else ([`Lab::run`]).
//! Dropping the lab kills every process in it (by pid) and deletes its
//! namespaces, also when the test panics (then the logs are printed and kept).
//!
//! Tests must start with `if !require_lab() { return; }` (or
//! [`require_real_heartbeat`]): without root or the tools they are skipped,
//! except under `CI=true` where that is a failure.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::{Duration, Instant};

/// The real Heartbeat 3.0.6 daemon from Debian's `heartbeat` package.
pub const REAL_HEARTBEAT: &str = "/usr/libexec/heartbeat/heartbeat";

/// Tools lab.sh needs (install them with tests/harness/install-deps.sh).
const TOOLS: &[&str] = &[
    "ip", "bridge", "nsenter", "unshare", "flock", "socat", "nft",
];

pub fn repo_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

pub fn lab_script() -> PathBuf {
    repo_dir().join("tests/harness/lab.sh")
}

/// Directory of the lab configurations (`bcast`, `serial`, ...).
pub fn data_dir() -> PathBuf {
    repo_dir().join("tests/data/lab")
}

fn under_ci() -> bool {
    matches!(std::env::var("CI").as_deref(), Ok("true") | Ok("1"))
}

fn in_path(tool: &str) -> bool {
    std::env::var_os("PATH")
        .map(|p| std::env::split_paths(&p).any(|d| d.join(tool).is_file()))
        .unwrap_or(false)
}

/// Why namespace tests cannot run here, if they cannot.
fn lab_unavailable() -> Option<String> {
    // SAFETY: geteuid has no preconditions and cannot fail.
    if unsafe { libc::geteuid() } != 0 {
        return Some("namespace tests need root".into());
    }
    let missing: Vec<&str> = TOOLS.iter().copied().filter(|t| !in_path(t)).collect();
    if !missing.is_empty() {
        return Some(format!(
            "missing tools {missing:?} (run tests/harness/install-deps.sh)"
        ));
    }
    None
}

fn skip_or_fail(why: String) -> bool {
    if under_ci() {
        panic!("namespace test cannot run under CI=true: {why}");
    }
    eprintln!("SKIPPED: {why}");
    false
}

/// True when namespace tests can run. Otherwise prints why and returns false,
/// or panics under `CI=true` (a skipped namespace test is a CI failure).
pub fn require_lab() -> bool {
    match lab_unavailable() {
        None => true,
        Some(why) => skip_or_fail(why),
    }
}

/// [`require_lab`] plus the real Heartbeat 3.0.6 (`heartbeat` package).
pub fn require_real_heartbeat() -> bool {
    if !require_lab() {
        return false;
    }
    if !Path::new(REAL_HEARTBEAT).is_file() || !Path::new("/usr/bin/cl_status").is_file() {
        return skip_or_fail(format!(
            "{REAL_HEARTBEAT} missing (run tests/harness/install-deps.sh)"
        ));
    }
    true
}

/// Polls `cond` every 100 ms until it holds (true) or `timeout` passes (false).
pub fn wait_for(mut cond: impl FnMut() -> bool, timeout: Duration) -> bool {
    let end = Instant::now() + timeout;
    loop {
        if cond() {
            return true;
        }
        if Instant::now() >= end {
            return false;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// True while `pid` runs (a zombie counts as dead: PID 1 may reap orphans late).
pub fn pid_alive(pid: u32) -> bool {
    let Ok(stat) = fs::read_to_string(format!("/proc/{pid}/stat")) else {
        return false;
    };
    // the state follows the parenthesised command name, which may hold spaces
    let state = stat
        .rsplit_once(") ")
        .and_then(|(_, rest)| rest.chars().next());
    !matches!(state, None | Some('Z') | Some('X'))
}

/// Names of the existing network namespaces that start with `prefix`.
pub fn netns_with_prefix(prefix: &str) -> Vec<String> {
    let out = Command::new("ip").args(["netns", "list"]).output();
    let text = out.map(|o| o.stdout).unwrap_or_default();
    String::from_utf8_lossy(&text)
        .lines()
        .filter_map(|l| l.split_whitespace().next())
        .filter(|n| n.starts_with(prefix))
        .map(str::to_owned)
        .collect()
}

pub struct Lab {
    prefix: String,
    dir: PathBuf,
    hosts: usize,
}

impl Lab {
    /// A lab of `hosts` hosts. `name` ([a-z0-9-], short) must be unique per
    /// test; the process id is appended so concurrent test runs never collide.
    pub fn new(name: &str, hosts: usize) -> Lab {
        Lab::with_serial(name, hosts, &[])
    }

    /// Like [`Lab::new`], plus null-modem cables: for each `(a, b)` a pty pair
    /// seen as `/run/lab/ttyS<k>` in hosts a and b (k counts per host from 0).
    pub fn with_serial(name: &str, hosts: usize, serial: &[(usize, usize)]) -> Lab {
        let prefix = format!("{name}-{}-", std::process::id());
        let dir = PathBuf::from(format!("/tmp/hbrs-lab-{}", prefix.trim_end_matches('-')));
        let lab = Lab { prefix, dir, hosts };
        // Labs left behind by test processes that died without dropping them.
        lab.script(&["gc"]);
        let count = hosts.to_string();
        let mut args = vec!["up", lab.prefix.as_str(), count.as_str()];
        let links: Vec<String> = serial.iter().map(|(a, b)| format!("{a}-{b}")).collect();
        for link in &links {
            args.extend(["--serial", link.as_str()]);
        }
        lab.script(&args);
        lab
    }

    pub fn prefix(&self) -> &str {
        &self.prefix
    }

    /// Namespace name of host `i` (what lab.sh calls HOST).
    pub fn host(&self, i: usize) -> String {
        assert!((1..=self.hosts).contains(&i), "no host {i} in this lab");
        format!("{}h{i}", self.prefix)
    }

    /// The host's address on the lab LAN.
    pub fn addr(&self, i: usize) -> String {
        format!("198.18.0.{i}")
    }

    /// Host `i`'s directory: `etc-ha.d`, `run`, `log`, `srv`, `var-lib-hb` are
    /// its /etc/ha.d, /run, /var/log, /srv and /var/lib/heartbeat.
    pub fn host_dir(&self, i: usize) -> PathBuf {
        assert!((1..=self.hosts).contains(&i), "no host {i} in this lab");
        self.dir.join(format!("hosts/h{i}"))
    }

    /// Path (seen from outside) of `path` inside host `i`, e.g. "/run/labsvc/labsvc.state".
    pub fn file(&self, i: usize, path: &str) -> PathBuf {
        let rel = path.trim_start_matches('/');
        let mapped = [
            ("etc/ha.d/", "etc-ha.d/"),
            ("var/lib/heartbeat/", "var-lib-hb/"),
            ("var/run/", "run/"),
            ("var/log/", "log/"),
            ("run/", "run/"),
            ("srv/", "srv/"),
        ]
        .iter()
        .find_map(|(inside, outside)| rel.strip_prefix(inside).map(|r| format!("{outside}{r}")));
        match mapped {
            Some(r) => self.host_dir(i).join(r),
            None => panic!("{path} is not a private path of a lab host"),
        }
    }

    fn command(&self, args: &[&str]) -> Command {
        let mut cmd = Command::new("bash");
        cmd.arg(lab_script())
            .args(args)
            .env("LAB_DIR", &self.dir)
            .env("LAB_OWNER_PID", std::process::id().to_string());
        cmd
    }

    /// Runs lab.sh; panics with its stderr when it fails. Returns its stdout.
    fn script(&self, args: &[&str]) -> String {
        let out = match self.command(args).output() {
            Ok(out) => out,
            Err(e) => panic!("cannot run lab.sh {args:?}: {e}"),
        };
        if !out.status.success() {
            panic!(
                "lab.sh {args:?} failed ({}):\n{}",
                out.status,
                String::from_utf8_lossy(&out.stderr)
            );
        }
        String::from_utf8_lossy(&out.stdout).trim().to_owned()
    }

    fn pid_from(&self, what: &str, out: &str) -> u32 {
        match out.lines().last().and_then(|l| l.trim().parse().ok()) {
            Some(pid) => pid,
            None => panic!("{what}: lab.sh printed no pid: {out:?}"),
        }
    }

    /// Starts `argv` in the background inside host `i` (hostname `node`, `confdir`
    /// copied to /etc/ha.d); output goes to the host's /var/log/daemon.out.
    pub fn run(&self, i: usize, node: Option<&str>, confdir: Option<&Path>, argv: &[&str]) -> u32 {
        let host = self.host(i);
        let conf = confdir.map(|c| c.to_string_lossy().into_owned());
        let mut args = vec!["run", host.as_str()];
        if let Some(node) = node {
            args.extend(["--node", node]);
        }
        if let Some(conf) = &conf {
            args.extend(["--conf", conf.as_str()]);
        }
        args.push("--");
        args.extend(argv);
        let out = self.script(&args);
        self.pid_from("run", &out)
    }

    /// Our daemon (this crate's `heartbeat` binary) in host `i` as `node`,
    /// with `confdir` as /etc/ha.d and `args` after the binary.
    pub fn run_ours(&self, i: usize, node: &str, confdir: &Path, args: &[&str]) -> u32 {
        let mut argv = vec![env!("CARGO_BIN_EXE_heartbeat")];
        argv.extend(args);
        self.run(i, Some(node), Some(confdir), &argv)
    }

    /// The real Heartbeat 3.0.6 in host `i` as `node`; returns its master pid.
    pub fn run_real(&self, i: usize, confdir: &Path, node: &str) -> u32 {
        let host = self.host(i);
        let conf = confdir.to_string_lossy();
        let out = self.script(&["real", host.as_str(), &conf, node]);
        self.pid_from("real", &out)
    }

    /// Runs `argv` in the foreground inside host `i`.
    pub fn exec(&self, i: usize, argv: &[&str]) -> Output {
        let host = self.host(i);
        let mut args = vec!["exec", host.as_str()];
        args.extend(argv);
        match self.command(&args).output() {
            Ok(out) => out,
            Err(e) => panic!("cannot run lab.sh exec {argv:?}: {e}"),
        }
    }

    /// Trimmed stdout of `argv` run inside host `i` (whatever its exit status).
    pub fn exec_stdout(&self, i: usize, argv: &[&str]) -> String {
        String::from_utf8_lossy(&self.exec(i, argv).stdout)
            .trim()
            .to_owned()
    }

    /// `cl_status nodestatus NODE` as seen from host `i` ("active", "dead", ...).
    pub fn node_status(&self, i: usize, node: &str) -> String {
        self.exec_stdout(i, &["cl_status", "nodestatus", node])
    }

    /// Pids of every process of host `i` (its daemons and their children).
    pub fn pids(&self, i: usize) -> Vec<u32> {
        let host = self.host(i);
        self.script(&["pids", host.as_str()])
            .lines()
            .filter_map(|l| l.trim().parse().ok())
            .collect()
    }

    /// Graceful stop: SIGTERM to the host's daemons, SIGKILL after 30 s.
    pub fn stop(&self, i: usize) {
        let host = self.host(i);
        self.script(&["kill", host.as_str()]);
    }

    /// SIGKILL to every process of host `i` at once (a hung node: its
    /// addresses and /run stay).
    pub fn kill(&self, i: usize) {
        let host = self.host(i);
        self.script(&["kill", host.as_str(), "--kill"]);
    }

    /// [`Lab::kill`] and "reboot": /run wiped, addresses the lab did not
    /// configure removed; /var/lib/heartbeat and /var/log kept.
    pub fn crash(&self, i: usize) {
        let host = self.host(i);
        self.script(&["kill", host.as_str(), "--crash"]);
    }

    /// Sends `signal` (e.g. `libc::SIGKILL`) to one pid.
    pub fn kill_pid(&self, pid: u32, signal: i32) {
        let Ok(raw) = libc::pid_t::try_from(pid) else {
            panic!("pid {pid} out of range");
        };
        // SAFETY: kill(2) has no memory-safety preconditions.
        let rc = unsafe { libc::kill(raw, signal) };
        assert_eq!(rc, 0, "kill({pid}, {signal}) failed");
    }

    /// Partition: the switch drops every frame to and from host `i` (carrier stays).
    pub fn cut(&self, i: usize) {
        let host = self.host(i);
        self.script(&["cut", host.as_str()]);
    }

    pub fn restore(&self, i: usize) {
        let host = self.host(i);
        self.script(&["restore", host.as_str()]);
    }

    /// Host `i` loses `percent` % of its eth0 packets in each direction (0: none).
    pub fn drop_percent(&self, i: usize, percent: u8) {
        let host = self.host(i);
        let pct = percent.to_string();
        self.script(&["drop", host.as_str(), pct.as_str()]);
    }

    /// Drop every packet between host `i` and `addr` (both ways, inside `i`).
    pub fn block(&self, i: usize, addr: &str) {
        let host = self.host(i);
        self.script(&["block", host.as_str(), addr]);
    }

    /// Undo [`Lab::block`].
    pub fn unblock(&self, i: usize, addr: &str) {
        let host = self.host(i);
        self.script(&["unblock", host.as_str(), addr]);
    }

    /// Everything the daemons of host `i` logged: /var/log/ha-log (real
    /// heartbeat, or ours if configured so), daemon.out (stdout/stderr of
    /// [`Lab::run`]) and heartbeat.console (the real one before it daemonises).
    pub fn log_of(&self, i: usize) -> String {
        ["ha-log", "daemon.out", "heartbeat.console"]
            .iter()
            .filter_map(|f| fs::read(self.host_dir(i).join("log").join(f)).ok())
            .map(|b| String::from_utf8_lossy(&b).into_owned())
            .collect::<Vec<_>>()
            .join("")
    }

    fn dump_logs(&self) {
        for i in 1..=self.hosts {
            let log = self.log_of(i);
            let tail: Vec<&str> = log.lines().rev().take(40).collect();
            eprintln!("---- {} (last {} log lines) ----", self.host(i), tail.len());
            for line in tail.iter().rev() {
                eprintln!("{line}");
            }
        }
        eprintln!("---- logs kept in {}/hosts/*/log", self.dir.display());
    }
}

impl Drop for Lab {
    fn drop(&mut self) {
        let failing = std::thread::panicking();
        if failing {
            self.dump_logs();
        }
        let mut args = vec!["down", self.prefix.as_str()];
        if !failing {
            args.push("--purge");
        }
        // Never panic here: that would abort a test that is already unwinding.
        match self.command(&args).output() {
            Ok(out) if out.status.success() => {}
            Ok(out) => eprintln!(
                "lab.sh down {} failed: {}",
                self.prefix,
                String::from_utf8_lossy(&out.stderr)
            ),
            Err(e) => eprintln!("cannot run lab.sh down {}: {e}", self.prefix),
        }
    }
}
