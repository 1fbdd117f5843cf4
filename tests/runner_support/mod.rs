//! Shared set-up for the runner integration tests: a temporary resource
//! directory with scripts, a runner configured for it, and a small mio
//! loop that drives the runner the way the daemon does, checking that no
//! call ever blocks.

#![allow(dead_code)]

use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use heartbeat_rs::config::model::{Origin, Resource, ResourceGroup};
use heartbeat_rs::core::{JobId, JobOutcome, Level, ResourceJob};
use heartbeat_rs::runner::{Runner, RunnerConfig, RunnerEvent, ScriptEnv};
use mio::{Events, Poll, Token};

pub const RECORDER: &str = include_str!("../data/runner/recorder.sh");

/// Longest any runner call may take: it must never wait for a script.
pub const MAX_CALL: Duration = Duration::from_millis(500);

/// A temporary directory tree, removed on drop.
pub struct Lab {
    pub root: PathBuf,
    pub resource_dir: PathBuf,
    pub initd_dir: PathBuf,
    /// `$HA_LAB` of the scripts.
    pub state: PathBuf,
}

impl Lab {
    pub fn new(name: &str) -> Lab {
        let root = std::env::temp_dir().join(format!("hbrs-runner-{name}-{}", std::process::id()));
        let _ = fs::remove_dir_all(&root);
        let lab = Lab {
            resource_dir: root.join("resource.d"),
            initd_dir: root.join("init.d"),
            state: root.join("state"),
            root,
        };
        for dir in [&lab.resource_dir, &lab.initd_dir, &lab.state] {
            fs::create_dir_all(dir).expect("create lab dir");
        }
        lab
    }

    /// Installs an executable file `dir/name` with `body`.
    pub fn install(&self, dir: &Path, name: &str, body: &str) -> PathBuf {
        let path = dir.join(name);
        fs::write(&path, body).expect("write script");
        fs::set_permissions(&path, fs::Permissions::from_mode(0o755)).expect("chmod");
        path
    }

    pub fn recorder(&self, name: &str) -> PathBuf {
        self.install(&self.resource_dir, name, RECORDER)
    }

    pub fn script(&self, name: &str, body: &str) -> PathBuf {
        self.install(&self.resource_dir, name, &format!("#!/bin/sh\n{body}\n"))
    }

    pub fn flag(&self, name: &str) {
        fs::write(self.state.join(name), "").expect("flag");
    }

    pub fn calls(&self) -> Vec<String> {
        fs::read_to_string(self.state.join("calls"))
            .unwrap_or_default()
            .lines()
            .map(str::to_string)
            .collect()
    }

    pub fn read(&self, name: &str) -> String {
        fs::read_to_string(self.state.join(name)).unwrap_or_default()
    }

    /// Short limits, and a fence that only leaves a file behind.
    pub fn config(&self) -> RunnerConfig {
        let fence = self.install(
            &self.root,
            "fence",
            "#!/bin/sh\necho \"fenced $*\" > \"$HA_LAB/fenced\"\n",
        );
        RunnerConfig {
            resource_dir: self.resource_dir.clone(),
            initd_dir: self.initd_dir.clone(),
            env: ScriptEnv {
                cur_host: "alpha".into(),
                ha_cf_env: vec![("LAB".into(), self.state.display().to_string())],
                ..ScriptEnv::default()
            },
            start_timeout: Duration::from_secs(10),
            stop_timeout: Duration::from_secs(10),
            status_timeout: Duration::from_secs(10),
            kill_grace: Duration::from_millis(500),
            stop_retry_delay: Duration::from_millis(50),
            self_fence: Some(vec![fence.display().to_string(), "now".into()]),
            ..RunnerConfig::default()
        }
    }
}

impl Drop for Lab {
    fn drop(&mut self) {
        let _ = fs::remove_dir_all(&self.root);
    }
}

/// A haresources line: `node spec spec…` (specs split at `::`).
pub fn group(node: &str, specs: &[&str]) -> ResourceGroup {
    ResourceGroup {
        node: node.into(),
        key: specs.first().map(|s| s.to_string()).unwrap_or_default(),
        resources: specs
            .iter()
            .map(|spec| {
                let mut parts = spec.split("::");
                Resource {
                    spec: spec.to_string(),
                    script: parts.next().unwrap_or_default().to_string(),
                    args: parts.map(str::to_string).collect(),
                }
            })
            .collect(),
        origin: Origin::default(),
    }
}

pub fn take(keys: &[&str]) -> ResourceJob {
    ResourceJob::Take {
        keys: keys.iter().map(|k| k.to_string()).collect(),
    }
}

pub fn give(keys: &[&str]) -> ResourceJob {
    ResourceJob::Give {
        keys: keys.iter().map(|k| k.to_string()).collect(),
    }
}

const TOKEN: Token = Token(7);
/// The fake keepalive timer of the driving loop.
pub const TICK: Duration = Duration::from_millis(50);

/// A daemon-like loop around a runner.
pub struct Driver {
    pub runner: Runner,
    poll: Poll,
    pub events: Vec<RunnerEvent>,
    /// Largest gap seen between two fake keepalive ticks.
    pub worst_tick_gap: Duration,
}

impl Driver {
    pub fn new(config: RunnerConfig, groups: Vec<ResourceGroup>) -> Driver {
        let poll = Poll::new().expect("poll");
        let mut runner = Runner::new(config, groups);
        runner.register(poll.registry(), TOKEN).expect("register");
        Driver {
            runner,
            poll,
            events: Vec::new(),
            worst_tick_gap: Duration::ZERO,
        }
    }

    pub fn submit(&mut self, id: JobId, job: ResourceJob) {
        let t0 = Instant::now();
        self.runner.submit(id, job);
        assert_call_quick("submit", t0);
        self.events.extend(self.runner.poll_events());
    }

    /// Runs the loop until job `id` is done (or `limit` passes).
    pub fn wait_done(&mut self, id: JobId, limit: Duration) -> JobOutcome {
        let end = Instant::now() + limit;
        self.run_until(end, |events| done_outcome(events, id).is_some());
        match done_outcome(&self.events, id) {
            Some(outcome) => outcome,
            None => panic!(
                "job {id} not done after {limit:?}; events: {:#?}",
                self.events
            ),
        }
    }

    /// Runs the loop until `stop(events)` or `end`.
    pub fn run_until(&mut self, end: Instant, stop: impl Fn(&[RunnerEvent]) -> bool) {
        let mut events = Events::with_capacity(16);
        let mut last_tick = Instant::now();
        let mut next_tick = last_tick + TICK;
        while !stop(&self.events) && Instant::now() < end {
            let now = Instant::now();
            let mut wake = next_tick.min(end);
            if let Some(d) = self.runner.next_deadline() {
                wake = wake.min(d);
            }
            self.poll
                .poll(&mut events, Some(wake.saturating_duration_since(now)))
                .expect("poll");
            for event in events.iter() {
                assert_eq!(event.token(), TOKEN);
                let t0 = Instant::now();
                self.runner.handle_event();
                assert_call_quick("handle_event", t0);
            }
            let now = Instant::now();
            if self.runner.next_deadline().is_some_and(|d| d <= now) {
                self.runner.on_deadline(now);
                assert_call_quick("on_deadline", now);
            }
            if now >= next_tick {
                self.worst_tick_gap = self.worst_tick_gap.max(now - last_tick);
                last_tick = now;
                next_tick = now + TICK;
            }
            self.events.extend(self.runner.poll_events());
        }
    }

    pub fn logs(&self) -> Vec<(Level, String)> {
        self.events
            .iter()
            .filter_map(|e| match e {
                RunnerEvent::Log { level, text } => Some((*level, text.clone())),
                RunnerEvent::Done { .. } => None,
            })
            .collect()
    }

    pub fn has_log(&self, level: Level, text: &str) -> bool {
        self.logs().iter().any(|(l, t)| *l == level && t == text)
    }

    pub fn has_log_containing(&self, level: Level, part: &str) -> bool {
        self.logs()
            .iter()
            .any(|(l, t)| *l == level && t.contains(part))
    }
}

fn assert_call_quick(what: &str, t0: Instant) {
    let took = t0.elapsed();
    assert!(took < MAX_CALL, "{what} blocked for {took:?}");
}

pub fn done_outcome(events: &[RunnerEvent], id: JobId) -> Option<JobOutcome> {
    events.iter().find_map(|e| match e {
        RunnerEvent::Done { id: i, outcome } if *i == id => Some(outcome.clone()),
        _ => None,
    })
}

/// Waits (bounded) until `cond` holds.
pub fn eventually(limit: Duration, cond: impl Fn() -> bool) -> bool {
    let end = Instant::now() + limit;
    while Instant::now() < end {
        if cond() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    cond()
}

/// Is process `pid` gone (or a zombie)?
pub fn process_gone(pid: i32) -> bool {
    match fs::read_to_string(format!("/proc/{pid}/stat")) {
        Err(_) => true,
        // The state letter follows the ")" closing the command name.
        Ok(stat) => stat
            .rsplit_once(')')
            .is_some_and(|(_, rest)| rest.trim_start().starts_with('Z')),
    }
}
