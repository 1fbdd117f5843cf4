//! STONITH resets as child processes of cluster-glue's `stonith` tool
//! (`stonith -t TYPE -p PARAMS -T reset NODE`), one per node at a time,
//! never blocking the poll loop, each with a time limit. Heartbeat forks a
//! "STONITH NODE" child calling libstonith; the tool does the same calls
//! (plugin lookup, parameter assignment, reset) and exits with the
//! library's code: 0 = reset, 4 = S_BADHOST, anything else = failed.
//!
//! How the daemon drives a [`StonithRunner`]: `register` with a token of
//! its own; `Action::Fence { node }` → `start(node)`; a poll event for the
//! token → `handle_event()`; include `next_deadline()` in the poll timeout
//! and call `on_deadline(now)` when it passes; then `poll_events()`: log
//! the lines, feed each `Done` as `Input::FenceDone`.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use mio::{Registry, Token};

use super::child::{shell_code, ScriptProcess, SpawnSpec, Stream};
use crate::config::stonith::StonithDevice;
use crate::core::{FenceResult, Level};

/// `stonith` exit code for "this device does not control that host".
const S_BADHOST: i32 = 4;
/// A reset slower than this is killed and counts as failed.
pub const DEFAULT_FENCE_TIMEOUT: Duration = Duration::from_secs(60);
/// Children are checked this often when no pidfd tells us they exited.
const FALLBACK_POLL: Duration = Duration::from_millis(100);
/// Plugin output kept per call (the rest is dropped).
const OUTPUT_LIMIT: usize = 16 * 1024;

/// What the daemon must act on.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum StonithEvent {
    Log {
        level: Level,
        text: String,
    },
    /// Feed `Input::FenceDone { node, result }` to the core.
    Done {
        node: String,
        result: FenceResult,
    },
}

/// Heartbeat's STONITH-stat child repeats this often after comm-up.
pub const STATUS_INTERVAL: Duration = Duration::from_secs(3600);

/// A `stonith` child: a reset of `node`, or the device status check.
struct Reset {
    /// `None`: the status check (`stonith … -S`).
    node: Option<String>,
    process: ScriptProcess,
    deadline: Instant,
    killed: bool,
}

pub struct StonithRunner {
    device: StonithDevice,
    program: PathBuf,
    env: Vec<(String, String)>,
    timeout: Duration,
    running: Vec<Reset>,
    registry: Option<Registry>,
    token: Token,
    events: Vec<StonithEvent>,
    /// When the next status check is due (set by the first one).
    next_status: Option<Instant>,
}

impl StonithRunner {
    /// `program`: the `stonith` tool; `env`: the children's environment
    /// (the resource scripts' one: PATH, HA_* variables).
    pub fn new(
        device: StonithDevice,
        program: PathBuf,
        env: Vec<(String, String)>,
        timeout: Duration,
    ) -> StonithRunner {
        StonithRunner {
            device,
            program,
            env,
            timeout,
            running: Vec::new(),
            registry: None,
            token: Token(0),
            events: Vec::new(),
            next_status: None,
        }
    }

    pub fn register(&mut self, registry: &Registry, token: Token) -> std::io::Result<()> {
        self.registry = Some(registry.try_clone()?);
        self.token = token;
        Ok(())
    }

    fn log(&mut self, level: Level, text: String) {
        self.events.push(StonithEvent::Log { level, text });
    }

    /// Starts a reset of `node` (ignored while one for it runs).
    pub fn start(&mut self, node: &str) {
        if self.running.iter().any(|r| r.node.as_deref() == Some(node)) {
            return;
        }
        self.log(
            Level::Info,
            format!("Resetting node {node} with [{}]", self.device.kind),
        );
        let args = self.device.reset_args(node);
        if !self.spawn(Some(node), &args) {
            self.log(Level::Error, format!("Host {node} not reset!"));
            self.events.push(StonithEvent::Done {
                node: node.to_string(),
                result: FenceResult::Failed,
            });
        }
    }

    /// Heartbeat's STONITH-stat: at comm-up, then every hour, ask the
    /// device for its status; the result is only logged.
    pub fn check_status(&mut self) {
        self.next_status = Some(Instant::now() + STATUS_INTERVAL);
        if self.running.iter().any(|r| r.node.is_none()) {
            return;
        }
        self.log(
            Level::Info,
            format!("Checking status of STONITH device [{}]", self.device.kind),
        );
        let args = self.device.status_args();
        if !self.spawn(None, &args) {
            self.log(Level::Error, "STONITH status operation failed.".into());
        }
    }

    fn spawn(&mut self, node: Option<&str>, args: &[String]) -> bool {
        let spec = SpawnSpec {
            program: &self.program,
            args,
            env: &self.env,
            workdir: std::path::Path::new("/"),
        };
        let process = match ScriptProcess::spawn(&spec, OUTPUT_LIMIT) {
            Ok(p) => p,
            Err(e) => {
                let text = format!("Cannot run {}: {e}", self.program.display());
                self.log(Level::Error, text);
                return false;
            }
        };
        if let Some(registry) = &self.registry {
            if let Err(e) = process.register(registry, self.token) {
                self.log(Level::Warn, format!("Cannot watch the STONITH child: {e}"));
            }
        }
        self.running.push(Reset {
            node: node.map(str::to_string),
            process,
            deadline: Instant::now() + self.timeout,
            killed: false,
        });
        true
    }

    pub fn handle_event(&mut self) {
        self.service(Instant::now());
    }

    pub fn on_deadline(&mut self, now: Instant) {
        self.service(now);
    }

    pub fn next_deadline(&self) -> Option<Instant> {
        let now = Instant::now();
        let status = self.next_status;
        self.running
            .iter()
            .map(|r| {
                let poll = if self.registry.is_none() || !r.process.has_pidfd() {
                    now + FALLBACK_POLL
                } else {
                    r.deadline
                };
                poll.min(r.deadline)
            })
            .chain(status)
            .min()
    }

    pub fn poll_events(&mut self) -> Vec<StonithEvent> {
        std::mem::take(&mut self.events)
    }

    fn service(&mut self, now: Instant) {
        if self.next_status.is_some_and(|at| at <= now) {
            self.check_status();
        }
        let mut finished = Vec::new();
        for (i, reset) in self.running.iter_mut().enumerate() {
            reset.process.read_available();
            if !reset.killed && now >= reset.deadline {
                // SIGKILL the whole group: plugins run their own children.
                reset.process.signal_group(libc::SIGKILL);
                reset.killed = true;
            }
            if reset.process.has_exited() {
                finished.push(i);
            }
        }
        for i in finished.into_iter().rev() {
            let reset = self.running.remove(i);
            self.finish(reset);
        }
    }

    fn finish(&mut self, reset: Reset) {
        let Reset {
            node,
            mut process,
            killed,
            ..
        } = reset;
        process.read_available();
        if let Some(registry) = &self.registry {
            process.deregister_pidfd(registry);
            process.stdout.deregister(registry);
            process.stderr.deregister(registry);
        }
        let pid = process.pid();
        let (status, stdout, stderr) = process.reap();
        let rc = shell_code(status);
        let Some(node) = node else {
            self.status_done(pid, rc, killed, [stdout, stderr]);
            return;
        };
        let result = match rc {
            0 if !killed => FenceResult::Ok,
            S_BADHOST => FenceResult::BadHost,
            _ => FenceResult::Failed,
        };
        let level = if result == FenceResult::Ok {
            Level::Info
        } else {
            Level::Error
        };
        for line in stdout
            .capture
            .lines()
            .into_iter()
            .chain(stderr.capture.lines())
        {
            self.log(level, format!("glib: {line}"));
        }
        if killed {
            let text = format!(
                "STONITH reset of {node} timed out after {} s",
                self.timeout.as_secs_f64()
            );
            self.log(Level::Error, text);
        }
        if result == FenceResult::Ok {
            self.log(Level::Info, format!("node {node} now reset."));
            let text =
                format!("Managed STONITH {node} process {pid} exited with return code {rc}.");
            self.log(Level::Info, text);
        } else {
            self.log(Level::Error, format!("Host {node} not reset!"));
            let text =
                format!("Managed STONITH {node} process {pid} exited with return code {rc}.");
            self.log(Level::Warn, text);
        }
        self.events.push(StonithEvent::Done { node, result });
    }

    fn status_done(&mut self, pid: libc::pid_t, rc: i32, killed: bool, output: [Stream; 2]) {
        let ok = rc == 0 && !killed;
        for stream in &output {
            for line in stream.capture.lines() {
                self.log(Level::Info, format!("glib: {line}"));
            }
        }
        let text = format!("Managed STONITH-stat process {pid} exited with return code {rc}.");
        if ok {
            self.log(Level::Info, text);
            return;
        }
        self.log(Level::Warn, text);
        self.log(Level::Error, "STONITH status operation failed.".into());
        self.log(
            Level::Info,
            "This may mean that the STONITH device has failed!".into(),
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::stonith::StonithParams;
    use std::os::unix::fs::PermissionsExt;

    fn temp_dir(tag: &str) -> PathBuf {
        let d = std::env::temp_dir().join(format!("hbrs-stonith-{tag}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&d);
        std::fs::create_dir_all(&d).unwrap();
        d
    }

    fn fake_tool(dir: &std::path::Path, body: &str) -> PathBuf {
        let path = dir.join("stonith");
        std::fs::write(&path, format!("#!/bin/sh\n{body}\n")).unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
        path
    }

    fn run_until_done(r: &mut StonithRunner) -> Vec<StonithEvent> {
        let mut all = r.poll_events();
        let end = Instant::now() + Duration::from_secs(10);
        while !all.iter().any(|e| matches!(e, StonithEvent::Done { .. })) {
            assert!(Instant::now() < end, "no result: {all:?}");
            std::thread::sleep(Duration::from_millis(20));
            r.on_deadline(Instant::now());
            all.extend(r.poll_events());
        }
        all
    }

    fn device() -> StonithDevice {
        StonithDevice {
            kind: "external/test".into(),
            params: StonithParams::Inline("alpha bravo".into()),
        }
    }

    fn done(events: &[StonithEvent]) -> FenceResult {
        events
            .iter()
            .find_map(|e| match e {
                StonithEvent::Done { result, .. } => Some(*result),
                _ => None,
            })
            .unwrap()
    }

    #[test]
    fn exit_codes_map_to_results_and_arguments_are_passed() {
        let dir = temp_dir("codes");
        let rec = dir.join("args");
        let tool = fake_tool(
            &dir,
            &format!("echo \"$@\" >{}; exit ${{RC:-0}}", rec.display()),
        );
        for (rc, want) in [
            ("0", FenceResult::Ok),
            ("4", FenceResult::BadHost),
            ("5", FenceResult::Failed),
        ] {
            let env = vec![("RC".to_string(), rc.to_string())];
            let mut r = StonithRunner::new(device(), tool.clone(), env, Duration::from_secs(5));
            r.start("alpha");
            let events = run_until_done(&mut r);
            assert_eq!(done(&events), want, "{events:?}");
        }
        assert_eq!(
            std::fs::read_to_string(&rec).unwrap(),
            "-t external/test -p alpha bravo -T reset alpha\n"
        );
    }

    #[test]
    fn a_hanging_reset_is_killed_and_fails() {
        let dir = temp_dir("hang");
        let tool = fake_tool(&dir, "sleep 30");
        let mut r = StonithRunner::new(device(), tool, Vec::new(), Duration::from_millis(200));
        r.start("bravo");
        let events = run_until_done(&mut r);
        assert_eq!(done(&events), FenceResult::Failed);
        assert!(events
            .iter()
            .any(|e| matches!(e, StonithEvent::Log { text, .. } if text.contains("timed out"))));
    }

    #[test]
    fn status_check_logs_only_and_repeats_hourly() {
        let dir = temp_dir("status");
        let rec = dir.join("args");
        let tool = fake_tool(&dir, &format!("echo \"$@\" >{}; exit 1", rec.display()));
        let mut r = StonithRunner::new(device(), tool, Vec::new(), Duration::from_secs(5));
        r.check_status();
        let end = Instant::now() + Duration::from_secs(10);
        let mut logs = Vec::new();
        while !logs.iter().any(|t: &String| t.contains("has failed")) {
            assert!(Instant::now() < end, "{logs:?}");
            std::thread::sleep(Duration::from_millis(20));
            r.on_deadline(Instant::now());
            for e in r.poll_events() {
                match e {
                    StonithEvent::Log { text, .. } => logs.push(text),
                    StonithEvent::Done { .. } => panic!("a status check is no reset"),
                }
            }
        }
        assert!(logs[0].starts_with("Checking status of STONITH device [external/test]"));
        assert!(logs.iter().any(|t| t == "STONITH status operation failed."));
        assert_eq!(
            std::fs::read_to_string(&rec).unwrap(),
            "-t external/test -p alpha bravo -S\n"
        );
        let next = r.next_deadline().unwrap();
        assert!(next > Instant::now() + STATUS_INTERVAL - Duration::from_secs(60));
    }

    #[test]
    fn a_missing_tool_fails_at_once() {
        let mut r = StonithRunner::new(
            device(),
            PathBuf::from("/nonexistent/stonith"),
            Vec::new(),
            Duration::from_secs(1),
        );
        r.start("bravo");
        assert_eq!(done(&r.poll_events()), FenceResult::Failed);
    }
}
