//! Spawning one child the way Heartbeat's children start: clean
//! environment, stdin on /dev/null, every other inherited fd closed, own
//! process group, default signal dispositions, normal (not realtime)
//! scheduling, umask 022. Output goes to nonblocking pipes; exit is
//! watched through a pidfd where the kernel has one.
//!
//! Only this child's pid is ever waited for, so other children of the
//! daemon (respawn clients) are left to their owner.

use std::ffi::OsStr;
use std::fs::File;
use std::io::{self, Read};
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};
use std::os::unix::process::{CommandExt, ExitStatusExt};
use std::path::Path;
use std::process::{Child, Command, ExitStatus, Stdio};

use mio::unix::SourceFd;
use mio::{Interest, Registry, Token};

use super::capture::Capture;

/// What to run and how.
pub struct SpawnSpec<'a> {
    pub program: &'a Path,
    pub args: &'a [String],
    pub env: &'a [(String, String)],
    pub workdir: &'a Path,
}

/// Upper bound of the fd sweep when close_range(2) is missing (< 5.11).
const FD_SWEEP_LIMIT: RawFd = 65_536;

/// Spawns with stdout/stderr on /dev/null (for the self-fence command).
pub fn spawn_quiet(spec: &SpawnSpec<'_>) -> io::Result<Child> {
    command(spec, Stdio::null(), Stdio::null()).spawn()
}

pub(crate) fn command(spec: &SpawnSpec<'_>, stdout: Stdio, stderr: Stdio) -> Command {
    let mut cmd = Command::new(spec.program);
    cmd.args(spec.args)
        .env_clear()
        .envs(spec.env.iter().map(|(k, v)| (OsStr::new(k), OsStr::new(v))))
        .current_dir(spec.workdir)
        .stdin(Stdio::null())
        .stdout(stdout)
        .stderr(stderr)
        .process_group(0);
    let sweep_limit = fd_sweep_limit();
    // SAFETY: the closure only makes async-signal-safe system calls and
    // allocates nothing (it runs between fork and exec).
    unsafe {
        cmd.pre_exec(move || {
            child_setup(sweep_limit);
            Ok(())
        });
    }
    cmd
}

fn fd_sweep_limit() -> RawFd {
    let mut lim = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: getrlimit writes into the struct we own.
    let ok = unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut lim) } == 0;
    if ok {
        RawFd::try_from(lim.rlim_cur)
            .unwrap_or(FD_SWEEP_LIMIT)
            .min(FD_SWEEP_LIMIT)
    } else {
        FD_SWEEP_LIMIT
    }
}

/// Runs in the child after fork, before exec. Errors are ignored: each
/// step only tidies what the daemon might have changed.
fn child_setup(sweep_limit: RawFd) {
    // SAFETY: plain system calls on our own process state.
    unsafe {
        // Signals the daemon ignores (SIGINT, SIGPIPE…) would stay ignored
        // across exec; scripts must see the defaults. The raw system call
        // also reaches 32 and 33, which glibc's wrapper refuses. An
        // all-zero kernel sigaction is SIG_DFL, no flags, empty mask,
        // whatever the architecture's field order.
        let default_action = [0u64; 4];
        for sig in 1..=64 {
            if sig == libc::SIGKILL || sig == libc::SIGSTOP {
                continue;
            }
            libc::syscall(
                libc::SYS_rt_sigaction,
                sig,
                default_action.as_ptr(),
                std::ptr::null_mut::<u64>(),
                8usize,
            );
        }
        let mut empty: libc::sigset_t = std::mem::zeroed();
        libc::sigemptyset(&mut empty);
        libc::sigprocmask(libc::SIG_SETMASK, &empty, std::ptr::null_mut());
        // Heartbeat's hb_setup_child: children do not run realtime.
        let param = libc::sched_param { sched_priority: 0 };
        libc::sched_setscheduler(0, libc::SCHED_OTHER, &param);
        libc::umask(0o022);
        // Mark, not close: std reports exec failures through a CLOEXEC
        // pipe that must survive until exec.
        let marked = libc::syscall(
            libc::SYS_close_range,
            3 as libc::c_uint,
            libc::c_uint::MAX,
            libc::CLOSE_RANGE_CLOEXEC,
        ) == 0;
        if !marked {
            for fd in 3..sweep_limit {
                libc::fcntl(fd, libc::F_SETFD, libc::FD_CLOEXEC);
            }
        }
    }
}

/// One output pipe of a running (or finished) child.
pub struct Stream {
    file: File,
    pub capture: Capture,
    pub eof: bool,
}

impl Stream {
    fn new(fd: OwnedFd, limit: usize) -> io::Result<Stream> {
        set_nonblocking(fd.as_raw_fd())?;
        Ok(Stream {
            file: File::from(fd),
            capture: Capture::new(limit),
            eof: false,
        })
    }

    /// Reads everything available now (edge-triggered polling needs that).
    pub fn read_available(&mut self) {
        let mut buf = [0u8; 8192];
        while !self.eof {
            match self.file.read(&mut buf) {
                Ok(0) => self.eof = true,
                Ok(n) => self.capture.push(buf.get(..n).unwrap_or_default()),
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => break,
                Err(_) => self.eof = true,
            }
        }
    }

    pub fn register(&self, registry: &Registry, token: Token) -> io::Result<()> {
        let fd = self.file.as_raw_fd();
        registry.register(&mut SourceFd(&fd), token, Interest::READABLE)
    }

    pub fn deregister(&self, registry: &Registry) {
        let fd = self.file.as_raw_fd();
        let _ = registry.deregister(&mut SourceFd(&fd));
    }
}

fn set_nonblocking(fd: RawFd) -> io::Result<()> {
    // SAFETY: fcntl on an fd we own.
    let flags = unsafe { libc::fcntl(fd, libc::F_GETFL) };
    if flags < 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: as above.
    if unsafe { libc::fcntl(fd, libc::F_SETFL, flags | libc::O_NONBLOCK) } < 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}

/// A spawned script with captured stdout and stderr.
pub struct ScriptProcess {
    child: Child,
    pid: libc::pid_t,
    pidfd: Option<OwnedFd>,
    pub stdout: Stream,
    pub stderr: Stream,
}

impl ScriptProcess {
    pub fn spawn(spec: &SpawnSpec<'_>, output_limit: usize) -> io::Result<ScriptProcess> {
        let mut child = command(spec, Stdio::piped(), Stdio::piped()).spawn()?;
        let pid = libc::pid_t::try_from(child.id())
            .map_err(|_| io::Error::other("child pid out of range"))?;
        // Also from the parent, so a kill of the group can never miss it.
        // SAFETY: setpgid on our own child; failure (already exec'd) is fine.
        unsafe {
            libc::setpgid(pid, pid);
        }
        let (Some(out), Some(err)) = (child.stdout.take(), child.stderr.take()) else {
            return Err(io::Error::other("child pipes missing"));
        };
        Ok(ScriptProcess {
            pidfd: pidfd_open(pid),
            stdout: Stream::new(OwnedFd::from(out), output_limit)?,
            stderr: Stream::new(OwnedFd::from(err), output_limit)?,
            child,
            pid,
        })
    }

    pub fn pid(&self) -> libc::pid_t {
        self.pid
    }

    /// True when exit can be learned from poll events (pidfd present).
    pub fn has_pidfd(&self) -> bool {
        self.pidfd.is_some()
    }

    pub fn register(&self, registry: &Registry, token: Token) -> io::Result<()> {
        if let Some(pidfd) = &self.pidfd {
            let fd = pidfd.as_raw_fd();
            registry.register(&mut SourceFd(&fd), token, Interest::READABLE)?;
        }
        self.stdout.register(registry, token)?;
        self.stderr.register(registry, token)
    }

    /// Forget the pidfd registration (the streams are handled apart).
    pub fn deregister_pidfd(&self, registry: &Registry) {
        if let Some(pidfd) = &self.pidfd {
            let fd = pidfd.as_raw_fd();
            let _ = registry.deregister(&mut SourceFd(&fd));
        }
    }

    pub fn read_available(&mut self) {
        self.stdout.read_available();
        self.stderr.read_available();
    }

    /// Has the child exited? Does not reap it, so its pid (and process
    /// group id) cannot be reused while we still signal the group.
    pub fn has_exited(&self) -> bool {
        // SAFETY: waitid writes into the siginfo we own; WNOWAIT leaves
        // the child waitable.
        unsafe {
            let mut info: libc::siginfo_t = std::mem::zeroed();
            let rc = libc::waitid(
                libc::P_PID,
                self.pid as libc::id_t,
                &mut info,
                libc::WEXITED | libc::WNOHANG | libc::WNOWAIT,
            );
            // An error (ECHILD: someone reaped it) counts as exited.
            rc != 0 || info.si_pid() != 0
        }
    }

    /// Signals the child's whole process group.
    pub fn signal_group(&self, signal: libc::c_int) {
        // SAFETY: kill(2) on the group we created; ESRCH is fine.
        unsafe {
            libc::kill(-self.pid, signal);
        }
    }

    /// Reaps the exited child; returns its status and the output streams.
    pub fn reap(mut self) -> (Option<ExitStatus>, Stream, Stream) {
        let status = self.child.try_wait().ok().flatten();
        (status, self.stdout, self.stderr)
    }

    /// The child handle (still to be reaped) and the output streams.
    pub fn into_parts(self) -> (Child, Stream, Stream) {
        (self.child, self.stdout, self.stderr)
    }
}

/// Shell-style exit code: the code, or 128 + signal.
pub fn shell_code(status: Option<ExitStatus>) -> i32 {
    match status {
        Some(s) => s
            .code()
            .or_else(|| s.signal().map(|sig| 128 + sig))
            .unwrap_or(-1),
        None => -1,
    }
}

/// pidfd_open(2) (Linux >= 5.3); `None` where the kernel lacks it.
pub(crate) fn pidfd_open(pid: libc::pid_t) -> Option<OwnedFd> {
    // SAFETY: the syscall takes a pid and flags and returns a new fd.
    let fd = unsafe { libc::syscall(libc::SYS_pidfd_open, pid, 0 as libc::c_uint) };
    let fd = RawFd::try_from(fd).ok().filter(|fd| *fd >= 0)?;
    // SAFETY: a fresh fd (close-on-exec by definition) that we now own.
    Some(unsafe { OwnedFd::from_raw_fd(fd) })
}
