//! The runner: queues resource jobs, walks each job's [`JobPlan`], runs its
//! scripts as child processes without ever blocking the poll loop, and
//! reports log lines and job ends as [`RunnerEvent`]s.

use std::collections::VecDeque;
use std::path::PathBuf;
use std::process::Child;
use std::time::{Duration, Instant};

use mio::{Registry, Token};

use super::capture::Capture;
use super::child::{shell_code, ScriptProcess, SpawnSpec, Stream};
use super::config::RunnerConfig;
use super::fence::self_fence_command;
use super::lookup::locate_script;
use super::ownership::status_says_running;
use super::plan::{Call, Feedback, JobPlan, Next, Op, RetryPolicy};
use crate::config::model::ResourceGroup;
use crate::core::{JobId, JobOutcome, Level, ResourceJob};

/// How often children are checked when no poll event can tell us (no
/// pidfd, or `register` was never called).
const FALLBACK_POLL: Duration = Duration::from_millis(50);
/// How often self-fence children are checked for exit.
const FENCE_POLL: Duration = Duration::from_secs(1);
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

enum KillState {
    None,
    TermSent { kill_at: Instant },
    KillSent,
}

struct Running {
    call: Call,
    path: PathBuf,
    process: ScriptProcess,
    deadline: Instant,
    timeout: Duration,
    kill: KillState,
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
    fences: Vec<Child>,
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
            fences: Vec::new(),
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
                    match run.kill {
                        KillState::None => consider(run.deadline),
                        KillState::TermSent { kill_at } => consider(kill_at),
                        KillState::KillSent => {}
                    }
                    if self.registry.is_none() || !run.process.has_pidfd() {
                        consider(now + FALLBACK_POLL);
                    }
                }
            }
        }
        if self.registry.is_none() && !self.lingering.is_empty() {
            consider(now + FALLBACK_POLL);
        }
        if !self.fences.is_empty() {
            consider(now + FENCE_POLL);
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
        self.reap_fences();
        let mut feedback = None;
        if let Some(job) = &mut self.job {
            match &mut job.wait {
                Wait::Sleep(until) => {
                    if now >= *until {
                        feedback = Some(Feedback::Slept);
                    }
                }
                Wait::Script(run) => {
                    run.process.read_available();
                    let notes = enforce_timeout(run, now, self.config.kill_grace);
                    self.events.extend(notes);
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
        Ok(Running {
            call,
            path,
            process,
            deadline: now + timeout,
            timeout,
            kill: KillState::None,
        })
    }

    /// Reap an exited script, log its output and exit code, and say how
    /// it went.
    fn finish_script(&mut self, run: Running) -> Feedback {
        let Running {
            call,
            path,
            mut process,
            kill,
            ..
        } = run;
        let timed_out = !matches!(kill, KillState::None);
        if timed_out {
            // Descendants of a killed script go with it.
            process.signal_group(libc::SIGKILL);
        }
        process.read_available();
        if let Some(registry) = &self.registry {
            process.deregister_pidfd(registry);
        }
        let (status, stdout, stderr) = process.reap();
        let rc = shell_code(status);
        let feedback = match call.op {
            Op::Status => Feedback::Status {
                owned: status_says_running(stdout.capture.bytes()),
            },
            Op::Start | Op::Stop => Feedback::Exited {
                success: rc == 0 && !timed_out,
            },
        };
        let failed = feedback == Feedback::Exited { success: false };
        let level = if failed { Level::Info } else { Level::Debug };
        for (name, stream) in [("stdout", &stdout), ("stderr", &stderr)] {
            for line in stream.capture.lines() {
                self.log(
                    level,
                    format!("{} {} {name}: {line}", call.script, call.op.as_str()),
                );
            }
            if stream.capture.dropped() > 0 {
                self.log(
                    level,
                    format!(
                        "{} {} {name}: {} more bytes not logged",
                        call.script,
                        call.op.as_str(),
                        stream.capture.dropped()
                    ),
                );
            }
        }
        let shown = command_line(&path, &call);
        self.log(Level::Debug, format!("{shown} done. RC={rc}"));
        if call.op != Op::Status && rc != 0 {
            self.log(
                Level::Error,
                format!("Return code {rc} from {}", path.display()),
            );
        }
        for stream in [stdout, stderr] {
            self.linger(stream);
        }
        feedback
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
            Ok(child) => self.fences.push(child),
            Err(e) => self.log(Level::Crit, format!("Unable to force reboot. ({e})")),
        }
    }

    fn reap_fences(&mut self) {
        let mut notes = Vec::new();
        self.fences.retain_mut(|child| match child.try_wait() {
            Ok(Some(status)) => {
                notes.push(format!(
                    "Self-fence command exited. RC={}",
                    shell_code(Some(status))
                ));
                false
            }
            Ok(None) => true,
            Err(_) => false,
        });
        for text in notes {
            self.log(Level::Crit, text);
        }
    }
}

/// Kill a script that ran past its time: SIGTERM to its group, SIGKILL
/// after the grace period. Returns lines to log.
fn enforce_timeout(run: &mut Running, now: Instant, grace: Duration) -> Vec<RunnerEvent> {
    let mut notes = Vec::new();
    match run.kill {
        KillState::None if now >= run.deadline => {
            notes.push(RunnerEvent::Log {
                level: Level::Error,
                text: format!(
                    "{} timed out after {} s: sending SIGTERM to process group {}",
                    command_line(&run.path, &run.call),
                    run.timeout.as_secs_f64(),
                    run.process.pid()
                ),
            });
            run.process.signal_group(libc::SIGTERM);
            run.kill = KillState::TermSent {
                kill_at: now + grace,
            };
        }
        KillState::TermSent { kill_at } if now >= kill_at => {
            notes.push(RunnerEvent::Log {
                level: Level::Error,
                text: format!(
                    "{} still running after SIGTERM: sending SIGKILL to process group {}",
                    command_line(&run.path, &run.call),
                    run.process.pid()
                ),
            });
            run.process.signal_group(libc::SIGKILL);
            run.kill = KillState::KillSent;
        }
        _ => {}
    }
    notes
}

/// `PATH ARGS OP` exactly as ResourceManager logs it: `$spath $arg $2`,
/// so no arguments leave two spaces before the operation.
fn command_line(path: &std::path::Path, call: &Call) -> String {
    format!(
        "{} {} {}",
        path.display(),
        call.args.join(" "),
        call.op.as_str()
    )
}
