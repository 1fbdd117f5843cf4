//! The runner: queues resource jobs, walks each job's [`JobPlan`], runs its
//! scripts as child processes without ever blocking the poll loop, and
//! reports log lines and job ends as [`RunnerEvent`]s.

use std::collections::VecDeque;
use std::process::Child;
use std::time::{Duration, Instant};

use mio::{Registry, Token};

use super::capture::Capture;
use super::child::{shell_code, ScriptProcess, SpawnSpec, Stream};
use super::config::RunnerConfig;
use super::fence::self_fence_command;
use super::lookup::locate_script;
use super::plan::{Call, Feedback, JobPlan, Next, Op, RetryPolicy};
use super::script::{command_line, feedback, output_logs, Running, Verdict};
use crate::config::model::ResourceGroup;
use crate::core::{JobId, JobOutcome, Level, ResourceJob};

/// How often children are checked when no poll event can tell us (no
/// pidfd, or `register` was never called).
const FALLBACK_POLL: Duration = Duration::from_millis(50);
/// How often orphans (self-fence, abandoned scripts) are checked for exit.
const ORPHAN_POLL: Duration = Duration::from_secs(1);
/// Output pipes kept open for descendants after a script exited; beyond
/// this the oldest is closed (its writers then get EPIPE).
const MAX_LINGERING: usize = 64;

/// What the daemon must act on.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RunnerEvent {
    /// A line for the daemon's logger.
    Log { level: Level, text: String },
    /// A job ended; feed `Input::JobDone { id, outcome }` to the core.
    Done { id: JobId, outcome: JobOutcome },
}

/// A child nobody waits for any more except to reap it.
struct Orphan {
    child: Child,
    what: String,
    level: Level,
}

enum Wait {
    Script(Box<Running>),
    Sleep(Instant),
}

struct ActiveJob {
    id: JobId,
    plan: JobPlan,
    wait: Wait,
}

/// Runs resource jobs one at a time, in submission order.
pub struct Runner {
    config: RunnerConfig,
    groups: Vec<ResourceGroup>,
    queue: VecDeque<(JobId, ResourceJob)>,
    job: Option<ActiveJob>,
    registry: Option<Registry>,
    token: Token,
    events: Vec<RunnerEvent>,
    /// Pipes of exited scripts still held open by their descendants:
    /// drained and discarded so those never block or die of SIGPIPE.
    lingering: VecDeque<Stream>,
    orphans: Vec<Orphan>,
}

impl Runner {
    pub fn new(config: RunnerConfig, groups: Vec<ResourceGroup>) -> Runner {
        Runner {
            config,
            groups,
            queue: VecDeque::new(),
            job: None,
            registry: None,
            token: Token(0),
            events: Vec::new(),
            lingering: VecDeque::new(),
            orphans: Vec::new(),
        }
    }

    /// Watch children through `registry`: every pidfd and pipe of the
    /// runner is registered with `token`; on an event for it call
    /// [`Runner::handle_event`]. Without this the runner polls its
    /// children every 50 ms through [`Runner::next_deadline`].
    pub fn register(&mut self, registry: &Registry, token: Token) -> std::io::Result<()> {
        let registry = registry.try_clone()?;
        if let Some(ActiveJob {
            wait: Wait::Script(run),
            ..
        }) = &self.job
        {
            run.process.register(&registry, token)?;
        }
        for stream in &self.lingering {
            stream.register(&registry, token)?;
        }
        self.registry = Some(registry);
        self.token = token;
        Ok(())
    }

    /// The token given to `register`.
    pub fn token(&self) -> Option<Token> {
        self.registry.as_ref().map(|_| self.token)
    }

    /// Queue a job; it starts at once when nothing else runs.
    pub fn submit(&mut self, id: JobId, job: ResourceJob) {
        self.queue.push_back((id, job));
        self.advance(Instant::now());
    }

    /// A poll event arrived for our token.
    pub fn handle_event(&mut self) {
        self.service(Instant::now());
    }

    /// When `on_deadline` must run next, if at all.
    pub fn next_deadline(&self) -> Option<Instant> {
        let now = Instant::now();
        let mut next: Option<Instant> = None;
        let mut consider = |at: Instant| {
            next = Some(next.map_or(at, |n| n.min(at)));
        };
        if let Some(job) = &self.job {
            match &job.wait {
                Wait::Sleep(until) => consider(*until),
                Wait::Script(run) => {
                    consider(run.next_deadline());
                    if self.registry.is_none() || !run.process.has_pidfd() {
                        consider(now + FALLBACK_POLL);
                    }
                }
            }
        }
        if self.registry.is_none() && !self.lingering.is_empty() {
            consider(now + FALLBACK_POLL);
        }
        if !self.orphans.is_empty() {
            consider(now + ORPHAN_POLL);
        }
        next
    }

    /// A deadline from `next_deadline` passed (early or late is fine).
    pub fn on_deadline(&mut self, now: Instant) {
        self.service(now);
    }

    /// Takes the events gathered so far, oldest first.
    pub fn poll_events(&mut self) -> Vec<RunnerEvent> {
        std::mem::take(&mut self.events)
    }

    /// A job runs or waits.
    pub fn busy(&self) -> bool {
        self.job.is_some() || !self.queue.is_empty()
    }

    /// Follow the daemon's debug level (SIGUSR1/SIGUSR2) in `HA_debug`.
    pub fn set_debug_level(&mut self, level: u32) {
        self.config.env.debug = level;
    }

    fn log(&mut self, level: Level, text: String) {
        self.events.push(RunnerEvent::Log { level, text });
    }

    /// Look at everything that may have changed, then move jobs on.
    fn service(&mut self, now: Instant) {
        self.drain_lingering();
        self.reap_orphans();
        let mut feedback = None;
        let mut abandon = false;
        if let Some(job) = &mut self.job {
            match &mut job.wait {
                Wait::Sleep(until) => {
                    if now >= *until {
                        feedback = Some(Feedback::Slept);
                    }
                }
                Wait::Script(run) => {
                    run.process.read_available();
                    let (notes, verdict) = run.enforce_timeout(now, self.config.kill_grace);
                    for (level, text) in notes {
                        self.events.push(RunnerEvent::Log { level, text });
                    }
                    abandon = verdict == Verdict::GiveUp && !run.process.has_exited();
                }
            }
        }
        if abandon {
            if let Some(job) = &mut self.job {
                if let Wait::Script(run) = std::mem::replace(&mut job.wait, Wait::Sleep(now)) {
                    feedback = Some(self.abandon_script(*run));
                }
            }
        }
        if feedback.is_none() && self.script_exited() {
            if let Some(job) = &mut self.job {
                if let Wait::Script(run) = std::mem::replace(&mut job.wait, Wait::Sleep(now)) {
                    feedback = Some(self.finish_script(*run));
                }
            }
        }
        if let Some(feedback) = feedback {
            self.step_job(feedback, now);
        }
        self.advance(now);
    }

    fn script_exited(&self) -> bool {
        match &self.job {
            Some(ActiveJob {
                wait: Wait::Script(run),
                ..
            }) => run.process.has_exited(),
            _ => false,
        }
    }

    /// Start the next queued job when idle.
    fn advance(&mut self, now: Instant) {
        while self.job.is_none() {
            let Some((id, job)) = self.queue.pop_front() else {
                return;
            };
            let retry = RetryPolicy {
                max: self.config.stop_retry_max,
                delay: self.config.stop_retry_delay,
            };
            self.job = Some(ActiveJob {
                id,
                plan: JobPlan::new(&job, &self.groups, retry),
                wait: Wait::Sleep(now),
            });
            self.step_job(Feedback::Begin, now);
        }
    }

    /// Feed the current plan until it waits for a script or a pause, or
    /// the job ends.
    fn step_job(&mut self, mut feedback: Feedback, now: Instant) {
        loop {
            let Some(job) = &mut self.job else {
                return;
            };
            let step = job.plan.step(feedback);
            let id = job.id;
            for (level, text) in step.logs {
                self.log(level, text);
            }
            match step.next {
                Next::Sleep(pause) => {
                    if let Some(job) = &mut self.job {
                        job.wait = Wait::Sleep(now + pause);
                    }
                    return;
                }
                Next::Done(outcome) => {
                    self.job = None;
                    if matches!(outcome, JobOutcome::StopFailed { .. }) {
                        self.self_fence();
                    }
                    self.events.push(RunnerEvent::Done { id, outcome });
                    return;
                }
                Next::Run(call) => match self.start_script(call, now) {
                    Ok(run) => {
                        if let Some(job) = &mut self.job {
                            job.wait = Wait::Script(Box::new(run));
                        }
                        return;
                    }
                    Err(failed) => feedback = failed,
                },
            }
        }
    }

    /// Locate and spawn; on failure, the feedback of a failed call.
    fn start_script(&mut self, call: Call, now: Instant) -> Result<Running, Feedback> {
        let failed = match call.op {
            Op::Status => Feedback::Status { owned: false },
            Op::Start | Op::Stop => Feedback::Exited { success: false },
        };
        let dirs = [
            self.config.resource_dir.as_path(),
            self.config.initd_dir.as_path(),
        ];
        let path = match locate_script(&call.script, &dirs) {
            Ok(path) => path,
            Err(e) => {
                self.log(Level::Error, e.to_string());
                return Err(failed);
            }
        };
        let shown = command_line(&path, &call);
        if call.op != Op::Status {
            self.log(Level::Info, format!("Running {shown}"));
        }
        let mut args = call.args.clone();
        args.push(call.op.as_str().to_string());
        let env = self.config.env.vars();
        let spec = SpawnSpec {
            program: &path,
            args: &args,
            env: &env,
            workdir: &self.config.workdir,
        };
        let process = match ScriptProcess::spawn(&spec, self.config.output_limit) {
            Ok(process) => process,
            Err(e) => {
                self.log(Level::Error, format!("Cannot run {shown}: {e}"));
                return Err(failed);
            }
        };
        if let Some(registry) = &self.registry {
            if let Err(e) = process.register(registry, self.token) {
                // Still safe: we fall back to polling (see next_deadline).
                self.log(Level::Warn, format!("Cannot watch {shown}: {e}"));
            }
        }
        let timeout = match call.op {
            Op::Start => self.config.start_timeout,
            Op::Stop => self.config.stop_timeout,
            Op::Status => self.config.status_timeout,
        };
        Ok(Running::new(call, path, process, now, timeout))
    }

    /// Reap an exited script, log its output and exit code, and say how
    /// it went.
    fn finish_script(&mut self, run: Running) -> Feedback {
        let timed_out = run.timed_out();
        let shown = run.command_line();
        let Running {
            call,
            path,
            mut process,
            ..
        } = run;
        if timed_out {
            // Descendants of a killed script go with it. The child is not
            // reaped yet, so its group id cannot have been reused.
            process.signal_group(libc::SIGKILL);
        }
        process.read_available();
        if let Some(registry) = &self.registry {
            process.deregister_pidfd(registry);
        }
        let (status, stdout, stderr) = process.reap();
        let rc = shell_code(status);
        let result = feedback(call.op, rc, timed_out, &stdout);
        let failed = result == Feedback::Exited { success: false };
        for (level, text) in output_logs(&call, failed, [("stdout", &stdout), ("stderr", &stderr)])
        {
            self.log(level, text);
        }
        self.log(Level::Debug, format!("{shown} done. RC={rc}"));
        if call.op != Op::Status && rc != 0 {
            self.log(
                Level::Error,
                format!("Return code {rc} from {}", path.display()),
            );
        }
        self.linger(stdout);
        self.linger(stderr);
        result
    }

    /// Give up on a script that even SIGKILL did not end (uninterruptible
    /// sleep): it counts as failed and is reaped whenever it goes.
    fn abandon_script(&mut self, run: Running) -> Feedback {
        let shown = run.command_line();
        self.log(
            Level::Error,
            format!("{shown} does not die after SIGKILL: giving up on it"),
        );
        if let Some(registry) = &self.registry {
            run.process.deregister_pidfd(registry);
        }
        let (child, stdout, stderr) = run.process.into_parts();
        let result = feedback(run.call.op, -1, true, &stdout);
        self.orphans.push(Orphan {
            child,
            what: shown,
            level: Level::Info,
        });
        self.linger(stdout);
        self.linger(stderr);
        result
    }

    /// Keep a pipe open until its last writer is gone. Nothing more of it
    /// is logged: Heartbeat's debug log got such output, but a chatty
    /// daemon must not flood ours.
    fn linger(&mut self, mut stream: Stream) {
        stream.capture = Capture::new(0);
        if stream.eof {
            if let Some(registry) = &self.registry {
                stream.deregister(registry);
            }
            return;
        }
        if self.lingering.len() >= MAX_LINGERING {
            if let Some(oldest) = self.lingering.pop_front() {
                if let Some(registry) = &self.registry {
                    oldest.deregister(registry);
                }
            }
        }
        self.lingering.push_back(stream);
    }

    fn drain_lingering(&mut self) {
        let registry = self.registry.as_ref();
        self.lingering.retain_mut(|stream| {
            stream.read_available();
            if stream.eof {
                if let Some(registry) = registry {
                    stream.deregister(registry);
                }
            }
            !stream.eof
        });
    }

    /// ResourceManager's RecoverFromFailedStop: the resource cannot be
    /// stopped, so the machine must go down before the peer takes over.
    fn self_fence(&mut self) {
        let Some(argv) = self.config.self_fence.clone().filter(|a| !a.is_empty()) else {
            self.log(
                Level::Crit,
                "Unable to force reboot. (no self-fence command configured)".to_string(),
            );
            return;
        };
        self.log(Level::Crit, format!("Forcing reboot: {}", argv.join(" ")));
        let env = self.config.env.vars();
        match self_fence_command(&argv, &env) {
            Ok(child) => self.orphans.push(Orphan {
                child,
                what: "Self-fence command".to_string(),
                level: Level::Crit,
            }),
            Err(e) => self.log(Level::Crit, format!("Unable to force reboot. ({e})")),
        }
    }

    fn reap_orphans(&mut self) {
        let mut notes = Vec::new();
        self.orphans
            .retain_mut(|orphan| match orphan.child.try_wait() {
                Ok(Some(status)) => {
                    let rc = shell_code(Some(status));
                    notes.push((orphan.level, format!("{} exited. RC={rc}", orphan.what)));
                    false
                }
                Ok(None) => true,
                Err(_) => false,
            });
        for (level, text) in notes {
            self.log(level, text);
        }
    }
}
