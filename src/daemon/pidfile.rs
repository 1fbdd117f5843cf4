//! The pid file (/run/heartbeat.pid), as cluster-glue's cl_pidfile: the
//! pid as `%11d\n` (12 bytes), created through a temporary file and
//! link(2). Heartbeat leaves it behind on exit; a pid file whose process is
//! gone (or a zombie, or another program) is stale.

use std::fmt;
use std::fs;
use std::io;
use std::path::{Path, PathBuf};

use crate::lockfile::{publish_pid, Published};
use nix::errno::Errno;
use nix::sys::signal::kill;
use nix::unistd::Pid;

pub const DEFAULT_PID_FILE: &str = "/run/heartbeat.pid";
const LOCKSTRLEN: usize = 12;

/// What the pid file says about a running daemon.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PidStatus {
    /// No pid file, or nothing usable in it.
    Absent,
    /// A pid whose process is gone, a zombie, or another program.
    Stale(i32),
    Running(i32),
}

impl PidStatus {
    /// `heartbeat -s` exit code: cl_read_pidfile's LSB status (0 running,
    /// 1 dead with a pid file left, 3 stopped).
    pub fn lsb_code(self) -> i32 {
        match self {
            PidStatus::Running(_) => 0,
            PidStatus::Stale(_) => 1,
            PidStatus::Absent => 3,
        }
    }

    pub fn running_pid(self) -> Option<i32> {
        match self {
            PidStatus::Running(p) => Some(p),
            _ => None,
        }
    }
}

#[derive(Debug)]
pub enum PidFileError {
    AlreadyRunning(i32),
    Io { path: PathBuf, source: io::Error },
}

impl fmt::Display for PidFileError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PidFileError::AlreadyRunning(pid) => write!(f, "already running [pid {pid}]"),
            PidFileError::Io { path, source } => {
                write!(f, "could not create pidfile [{}]: {source}", path.display())
            }
        }
    }
}

impl std::error::Error for PidFileError {}

/// The pid in the file (`%ld` from its first 12 bytes), if positive.
pub fn read_pid(path: &Path) -> Option<i32> {
    let bytes = fs::read(path).ok()?;
    let head = bytes.get(..bytes.len().min(LOCKSTRLEN + 1))?;
    let text = std::str::from_utf8(head).ok()?.trim_start();
    let digits = text.bytes().take_while(u8::is_ascii_digit).count();
    let pid: i32 = text.get(..digits)?.parse().ok()?;
    (pid > 0).then_some(pid)
}

/// The state letter of /proc/PID/stat (after the `(comm)` field).
fn proc_state(pid: i32) -> Option<char> {
    let stat = fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let after = stat.get(stat.rfind(')')? + 1..)?;
    after.trim_start().chars().next()
}

/// The process exists (kill 0 succeeds or is refused) and is not a zombie.
pub fn is_alive(pid: i32) -> bool {
    if pid <= 0 {
        return false;
    }
    match kill(Pid::from_raw(pid), None) {
        Ok(()) | Err(Errno::EPERM) => {}
        Err(_) => return false,
    }
    !matches!(proc_state(pid), Some('Z') | Some('X'))
}

fn exe_of(pid: &str) -> Option<PathBuf> {
    let p = fs::read_link(format!("/proc/{pid}/exe")).ok()?;
    // A replaced binary reads "/usr/…/heartbeat (deleted)": same program.
    let s = p.to_string_lossy();
    Some(PathBuf::from(s.strip_suffix(" (deleted)").unwrap_or(&s)))
}

/// Whether `pid` runs the same executable as we do (cl_pidfile's guard
/// against pid reuse). Unknown (no /proc access) counts as the same.
pub fn same_program(pid: i32) -> bool {
    match (exe_of(&pid.to_string()), exe_of("self")) {
        (Some(theirs), Some(ours)) => theirs == ours,
        _ => true,
    }
}

/// Interpret the pid file. `check_program`: also require the process to
/// run our executable (what `heartbeat -s/-k` do).
pub fn status(path: &Path, check_program: bool) -> PidStatus {
    match read_pid(path) {
        None => PidStatus::Absent,
        Some(pid) if is_alive(pid) && (!check_program || same_program(pid)) => {
            PidStatus::Running(pid)
        }
        Some(pid) => PidStatus::Stale(pid),
    }
}

/// Claim the pid file for this process: refuse if another live instance
/// holds it, replace a stale one. Call after daemonising (it records the
/// current pid).
pub fn lock(path: &Path) -> Result<(), PidFileError> {
    let me = std::process::id() as i32;
    let io_err = |source| PidFileError::Io {
        path: path.to_path_buf(),
        source,
    };
    match status(path, true) {
        PidStatus::Running(pid) if pid != me => return Err(PidFileError::AlreadyRunning(pid)),
        PidStatus::Absent if !path.exists() => {}
        _ => {
            let _ = fs::remove_file(path);
        }
    }
    let mut tmp_name = path.as_os_str().to_os_string();
    tmp_name.push(format!(".{me}"));
    match publish_pid(path, Path::new(&tmp_name)) {
        Ok(Published::Done) => Ok(()),
        Ok(Published::Taken) => Err(PidFileError::AlreadyRunning(read_pid(path).unwrap_or(0))),
        Err((_, e)) => Err(io_err(e)),
    }
}

/// Remove the pid file (Heartbeat itself leaves it; offered for tests and
/// clean shutdowns).
pub fn remove(path: &Path) -> io::Result<()> {
    fs::remove_file(path)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::process::Command;
    use std::time::{Duration, Instant};

    fn temp(tag: &str) -> PathBuf {
        let d = std::env::temp_dir().join(format!("hbrs-pid-{tag}-{}", std::process::id()));
        let _ = fs::remove_dir_all(&d);
        fs::create_dir_all(&d).unwrap();
        d
    }

    #[test]
    fn lock_writes_our_pid_and_status_sees_us() {
        let dir = temp("lock");
        let path = dir.join("heartbeat.pid");
        assert_eq!(status(&path, true), PidStatus::Absent);
        assert_eq!(PidStatus::Absent.lsb_code(), 3);
        lock(&path).unwrap();
        let text = fs::read_to_string(&path).unwrap();
        assert_eq!(text, format!("{:>11}\n", std::process::id()));
        let me = std::process::id() as i32;
        assert_eq!(status(&path, true), PidStatus::Running(me));
        // Re-locking by the owner is fine.
        lock(&path).unwrap();
        fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn another_program_or_dead_pid_is_stale() {
        let dir = temp("stale");
        let path = dir.join("heartbeat.pid");
        let mut child = Command::new("sleep").arg("30").spawn().unwrap();
        let pid = child.id() as i32;
        fs::write(&path, format!("{pid:>11}\n")).unwrap();
        // Alive, but not our program.
        assert!(is_alive(pid));
        assert_eq!(status(&path, true), PidStatus::Stale(pid));
        assert_eq!(status(&path, false), PidStatus::Running(pid));
        child.kill().unwrap();
        child.wait().unwrap();
        assert_eq!(status(&path, false), PidStatus::Stale(pid));
        assert_eq!(PidStatus::Stale(pid).lsb_code(), 1);
        // A stale file is replaced by lock().
        lock(&path).unwrap();
        assert_eq!(read_pid(&path), Some(std::process::id() as i32));
        fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn zombie_is_not_alive() {
        let child = Command::new("true").spawn().unwrap();
        let pid = child.id() as i32;
        // Not reaped yet: wait (bounded) until it is a zombie.
        let deadline = Instant::now() + Duration::from_secs(5);
        while proc_state(pid) != Some('Z') && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(5));
        }
        assert_eq!(proc_state(pid), Some('Z'));
        assert!(!is_alive(pid));
        let mut child = child;
        child.wait().unwrap();
    }

    #[test]
    fn live_foreign_instance_blocks_lock() {
        use nix::sys::signal::Signal;
        use nix::sys::wait::waitpid;
        use nix::unistd::{fork, ForkResult};

        let dir = temp("foreign");
        let path = dir.join("heartbeat.pid");
        // A forked child runs our very executable, like a second daemon.
        // SAFETY: the child only calls async-signal-safe pause/_exit.
        let child = match unsafe { fork() }.unwrap() {
            ForkResult::Child => loop {
                unsafe { libc::pause() };
            },
            ForkResult::Parent { child } => child,
        };
        fs::write(&path, format!("{:>11}\n", child.as_raw())).unwrap();
        let res = lock(&path);
        kill(child, Signal::SIGKILL).unwrap();
        waitpid(child, None).unwrap();
        match res {
            Err(PidFileError::AlreadyRunning(p)) => assert_eq!(p, child.as_raw()),
            other => panic!("unexpected {other:?}"),
        }
        assert_eq!(read_pid(&path), Some(child.as_raw()));
        fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn junk_pid_files() {
        let dir = temp("junk");
        let path = dir.join("p");
        for junk in ["", "abc\n", "0\n", "-5\n"] {
            fs::write(&path, junk).unwrap();
            assert_eq!(status(&path, true), PidStatus::Absent, "{junk:?}");
        }
        fs::write(&path, "        123\n").unwrap();
        assert_eq!(read_pid(&path), Some(123));
        fs::remove_dir_all(&dir).unwrap();
    }
}
