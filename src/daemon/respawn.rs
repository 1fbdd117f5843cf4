//! `respawn` / `failfast` clients as processes: the I/O half of
//! [`respawn_policy`](super::respawn_policy). Starts each client the way
//! Heartbeat does (`/bin/sh -c "exec CMD"`, as USER with its groups, own
//! process group, stdio on /dev/null, no realtime, the scripts' clean
//! environment) and watches exits through pidfds registered on the poll
//! loop (or a 200 ms poll where the kernel has none).

use std::os::fd::{AsRawFd, OwnedFd};
use std::os::unix::process::{CommandExt, ExitStatusExt};
use std::path::Path;
use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

use mio::unix::SourceFd;
use mio::{Interest, Registry, Token};

use super::respawn_policy::{Act, ClientSpec, Ending, Event, Policy};
use crate::config::model::ClientLine;
use crate::control::auth::{system_group, system_user};
use crate::core::Level;
use crate::runner::{child_command, pidfd_open, SpawnSpec};

/// Exit polling interval without pidfds.
const POLL_MS: u64 = 200;
/// Clients still running this long after the shutdown began get SIGKILL
/// (Heartbeat waits up to its 60 min emergency shutdown).
const STOP_GRACE: Duration = Duration::from_secs(10);

/// What the poll loop must do for the clients.
#[derive(Debug, PartialEq)]
pub enum ClientsOut {
    Log(Level, String),
    /// A failfast client died: fence this machine.
    SelfFence(String),
    /// Shutdown: every client is stopped.
    AllStopped,
}

struct Running {
    child: Child,
    pidfd: Option<OwnedFd>,
}

pub struct Clients {
    policy: Policy,
    /// Supplementary groups per client (looked up once).
    groups: Vec<Vec<libc::gid_t>>,
    running: Vec<Option<Running>>,
    delayed: Vec<(Instant, usize)>,
    env: Vec<(String, String)>,
    registry: Option<Registry>,
    token: Token,
    started: Instant,
    out: Vec<ClientsOut>,
    /// ha.cf `selffence` (None: nothing to run), for failfast clients.
    self_fence: Option<Vec<String>>,
    /// When clients still running at shutdown get SIGKILL.
    kill_at: Option<Instant>,
}

/// Resolves the `respawn`/`failfast` lines; unknown users are logged and
/// their clients left out (Heartbeat refuses to start then; `--check`
/// already reports it).
pub fn resolve(lines: &[ClientLine]) -> (Vec<ClientSpec>, Vec<Vec<u32>>, Vec<String>) {
    let mut specs = Vec::new();
    let mut groups = Vec::new();
    let mut errors = Vec::new();
    for line in lines {
        let Some(uid) = line.user.parse().ok().or_else(|| system_user(&line.user)) else {
            errors.push(format!(
                "Invalid user [{}] for client [{}]: client not started",
                line.user, line.command
            ));
            continue;
        };
        let user = nix::unistd::User::from_uid(nix::unistd::Uid::from_raw(uid))
            .ok()
            .flatten();
        let gid = user
            .as_ref()
            .map(|u| u.gid.as_raw())
            .or_else(|| system_group("haclient"))
            .unwrap_or(0);
        let supplementary = user
            .and_then(|u| {
                let name = std::ffi::CString::new(u.name).ok()?;
                nix::unistd::getgrouplist(&name, nix::unistd::Gid::from_raw(gid)).ok()
            })
            .map(|g| g.into_iter().map(|g| g.as_raw()).collect())
            .unwrap_or_else(|| vec![gid]);
        specs.push(ClientSpec {
            command: line.command.clone(),
            uid,
            gid,
            failfast: line.failfast,
        });
        groups.push(supplementary);
    }
    (specs, groups, errors)
}

fn ending_of(status: std::process::ExitStatus) -> Ending {
    match (status.code(), status.signal()) {
        (Some(code), _) => Ending::Code(code),
        (None, Some(sig)) => Ending::Signal(sig),
        (None, None) => Ending::Code(-1),
    }
}

impl Clients {
    pub fn new(
        specs: Vec<ClientSpec>,
        groups: Vec<Vec<u32>>,
        env: Vec<(String, String)>,
        self_fence: Option<Vec<String>>,
    ) -> Clients {
        let count = specs.len();
        Clients {
            policy: Policy::new(specs),
            groups,
            running: (0..count).map(|_| None).collect(),
            delayed: Vec::new(),
            env,
            registry: None,
            token: Token(0),
            started: Instant::now(),
            out: Vec::new(),
            self_fence,
            kill_at: None,
        }
    }

    pub fn is_empty(&self) -> bool {
        self.policy.specs().is_empty()
    }

    /// Pidfds of clients are registered on `registry` with `token`.
    pub fn register(&mut self, registry: &Registry, token: Token) -> std::io::Result<()> {
        self.registry = Some(registry.try_clone()?);
        self.token = token;
        Ok(())
    }

    fn now_ms(&self) -> u64 {
        u64::try_from(self.started.elapsed().as_millis()).unwrap_or(u64::MAX)
    }

    pub fn comm_up(&mut self) {
        self.feed(Event::CommUp);
    }

    /// Graceful shutdown; [`ClientsOut::AllStopped`] follows when done.
    pub fn shutdown(&mut self) {
        // Delayed restarts are dropped: the policy learns they failed.
        let delayed: Vec<usize> = self.delayed.drain(..).map(|(_, idx)| idx).collect();
        self.kill_at = Some(Instant::now() + STOP_GRACE);
        self.feed(Event::Shutdown);
        for idx in delayed {
            self.feed(Event::StartFailed { idx });
        }
    }

    /// SIGTERM to every client at once (restart, self-fence): no waiting.
    pub fn kill_all(&mut self) {
        self.delayed.clear();
        for run in self.running.iter().flatten() {
            let pid = run.child.id() as i32;
            // SAFETY: kill(2) on the group we created; ESRCH is fine.
            unsafe {
                libc::kill(-pid, libc::SIGTERM);
            }
        }
    }

    /// Shutdown took too long: SIGKILL whatever still runs.
    fn kill_stragglers(&mut self) {
        for (idx, run) in self.running.iter().enumerate() {
            let Some(run) = run else { continue };
            let pid = run.child.id() as i32;
            let cmd = self
                .policy
                .specs()
                .get(idx)
                .map(|s| s.command.clone())
                .unwrap_or_default();
            self.out.push(ClientsOut::Log(
                Level::Warn,
                format!("killing {cmd} process group {pid} with signal 9"),
            ));
            // SAFETY: kill(2) on the group we created; ESRCH is fine.
            unsafe {
                libc::kill(-pid, libc::SIGKILL);
            }
        }
    }

    /// Pid of client `idx` while it runs (tests, status).
    pub fn pid(&self, idx: usize) -> Option<i32> {
        self.policy.pid(idx)
    }

    /// When [`Clients::on_deadline`] must run next.
    pub fn next_deadline(&self) -> Option<Instant> {
        let delayed = self.delayed.iter().map(|(at, _)| *at).min();
        let polling = self
            .running
            .iter()
            .flatten()
            .any(|r| r.pidfd.is_none() || self.registry.is_none())
            .then(|| Instant::now() + Duration::from_millis(POLL_MS));
        let kill = self
            .kill_at
            .filter(|_| self.running.iter().any(Option::is_some));
        [delayed, polling, kill].into_iter().flatten().min()
    }

    /// A poll event for our token, or a deadline passed: reap and start.
    pub fn on_event(&mut self) {
        let now = Instant::now();
        let due: Vec<usize> = self
            .delayed
            .iter()
            .filter(|(at, _)| *at <= now)
            .map(|(_, idx)| *idx)
            .collect();
        self.delayed.retain(|(at, _)| *at > now);
        for idx in due {
            self.spawn(idx);
        }
        if self.kill_at.is_some_and(|at| at <= now) {
            self.kill_at = None;
            self.kill_stragglers();
        }
        self.reap();
    }

    pub fn take_out(&mut self) -> Vec<ClientsOut> {
        std::mem::take(&mut self.out)
    }

    fn reap(&mut self) {
        for idx in 0..self.running.len() {
            let status = match self.running.get_mut(idx).and_then(Option::as_mut) {
                Some(run) => match run.child.try_wait() {
                    Ok(Some(status)) => ending_of(status),
                    Ok(None) => continue,
                    Err(_) => Ending::Code(-1),
                },
                None => continue,
            };
            if let Some(run) = self.running.get_mut(idx).and_then(Option::take) {
                if let (Some(reg), Some(fd)) = (&self.registry, &run.pidfd) {
                    let _ = reg.deregister(&mut SourceFd(&fd.as_raw_fd()));
                }
            }
            let now_ms = self.now_ms();
            self.feed(Event::Exited {
                idx,
                ending: status,
                now_ms,
            });
        }
    }

    fn feed(&mut self, event: Event) {
        let acts = self.policy.handle(event);
        for act in acts {
            match act {
                Act::Log(level, text) => self.out.push(ClientsOut::Log(level, text)),
                Act::Start { idx, delay_ms: 0 } => self.spawn(idx),
                Act::Start { idx, delay_ms } => self
                    .delayed
                    .push((Instant::now() + Duration::from_millis(delay_ms), idx)),
                Act::Kill { pid, signal, .. } => {
                    // SAFETY: kill(2) on the group we created; ESRCH is fine.
                    unsafe {
                        libc::kill(-pid, signal);
                    }
                }
                Act::SelfFence { reason } => {
                    self.run_self_fence();
                    self.out.push(ClientsOut::SelfFence(reason));
                }
                Act::AllStopped => self.out.push(ClientsOut::AllStopped),
            }
        }
    }

    /// The same fence command as a failed stop (`selffence`, default
    /// `reboot -nf`); the daemon stops right after.
    fn run_self_fence(&mut self) {
        self.kill_all();
        let Some(argv) = self.self_fence.clone().filter(|a| !a.is_empty()) else {
            self.out.push(ClientsOut::Log(
                Level::Crit,
                "Unable to force reboot. (no self-fence command configured)".into(),
            ));
            return;
        };
        self.out.push(ClientsOut::Log(
            Level::Crit,
            format!("Forcing reboot: {}", argv.join(" ")),
        ));
        // The child outlives us; nobody needs its status.
        if let Err(e) = crate::runner::self_fence_command(&argv, &self.env) {
            self.out.push(ClientsOut::Log(
                Level::Crit,
                format!("Unable to force reboot. ({e})"),
            ));
        }
    }

    fn spawn(&mut self, idx: usize) {
        let Some(spec) = self.policy.specs().get(idx).cloned() else {
            return;
        };
        match self.start_process(idx, &spec) {
            Ok(run) => {
                let pid = run.child.id() as i32;
                self.out.push(ClientsOut::Log(
                    Level::Info,
                    format!(
                        "Starting \"{}\" as uid {}  gid {} (pid {pid})",
                        spec.command, spec.uid, spec.gid
                    ),
                ));
                if let (Some(reg), Some(fd)) = (&self.registry, &run.pidfd) {
                    // Without the registration the deadline poll finds the exit.
                    let _ = reg.register(
                        &mut SourceFd(&fd.as_raw_fd()),
                        self.token,
                        Interest::READABLE,
                    );
                }
                if let Some(slot) = self.running.get_mut(idx) {
                    *slot = Some(run);
                }
                let now_ms = self.now_ms();
                self.feed(Event::Started { idx, pid, now_ms });
            }
            Err(e) => {
                self.out.push(ClientsOut::Log(
                    Level::Error,
                    format!("Cannot exec {}: {e}", spec.command),
                ));
                self.feed(Event::StartFailed { idx });
            }
        }
    }

    fn start_process(&self, idx: usize, spec: &ClientSpec) -> std::io::Result<Running> {
        // Heartbeat checks the program before forking, so a missing one is
        // never respawned.
        let program = spec.command.split_whitespace().next().unwrap_or_default();
        nix::unistd::access(program, nix::unistd::AccessFlags::X_OK)
            .map_err(std::io::Error::from)?;
        let args = vec!["-c".to_string(), format!("exec {}", spec.command)];
        let mut cmd = child_command(
            &SpawnSpec {
                program: Path::new("/bin/sh"),
                args: &args,
                env: &self.env,
                workdir: Path::new("/"),
            },
            Stdio::null(),
            Stdio::null(),
        );
        let groups = self.groups.get(idx).cloned().unwrap_or_default();
        let (uid, gid) = (spec.uid, spec.gid);
        // SAFETY: only async-signal-safe system calls on our own process
        // state, no allocation (the group list was built before the fork).
        unsafe {
            cmd.pre_exec(move || {
                if libc::setgroups(groups.len(), groups.as_ptr()) != 0
                    || libc::setgid(gid) != 0
                    || libc::setuid(uid) != 0
                {
                    return Err(std::io::Error::last_os_error());
                }
                Ok(())
            });
        }
        let child = cmd.spawn()?;
        let pid = child.id() as libc::pid_t;
        Ok(Running {
            pidfd: pidfd_open(pid),
            child,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn line(user: &str, command: &str) -> ClientLine {
        ClientLine {
            user: user.into(),
            command: command.into(),
            failfast: false,
            origin: Default::default(),
        }
    }

    #[test]
    fn resolve_skips_unknown_users_and_keeps_numeric_ones() {
        let (specs, groups, errors) = resolve(&[
            line("no-such-user-hbrs", "/bin/true"),
            line("0", "/bin/sleep 1"),
        ]);
        assert_eq!(errors.len(), 1);
        assert!(errors[0].contains("no-such-user-hbrs"), "{errors:?}");
        assert_eq!(specs.len(), 1);
        assert_eq!(specs[0].uid, 0);
        assert_eq!(specs[0].command, "/bin/sleep 1");
        assert_eq!(groups.len(), 1);
    }
}
