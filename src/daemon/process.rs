//! Process set-up: daemonising, realtime scheduling and memory locking,
//! each attempted and reported, never fatal (Heartbeat logs and goes on).
//!
//! `detach` must run while the process is single-threaded (before any
//! thread is spawned): only the forking thread survives in the child.

use std::fs::OpenOptions;
use std::io;
use std::os::fd::AsRawFd;

use nix::sys::stat::{umask, Mode};
use nix::unistd::{chdir, dup2, fork, getpid, getsid, setsid, ForkResult};

use crate::core::Level;

/// A line to log.
pub type Note = (Level, String);

/// Heartbeat's `make_daemon`: unless `foreground`, fork and let the parent
/// exit 0; then umask 022, chdir /, stdin/stdout/stderr on /dev/null, and
/// a new session. Heartbeat redirects stdio even with -f; so do we.
pub fn detach(foreground: bool) -> io::Result<()> {
    if !foreground {
        // SAFETY: called while single-threaded (see module doc); the parent
        // leaves through _exit without running any Rust code.
        match unsafe { fork() }? {
            ForkResult::Parent { .. } => unsafe { libc::_exit(0) },
            ForkResult::Child => {}
        }
    }
    umask(Mode::from_bits_truncate(0o022));
    chdir("/")?;
    stdio_to_dev_null()?;
    let me = getpid();
    if getsid(None).ok() != Some(me) {
        // Fails only if we already lead a process group (foreground case).
        let _ = setsid();
    }
    Ok(())
}

/// Point fds 0, 1 and 2 at /dev/null.
pub fn stdio_to_dev_null() -> io::Result<()> {
    let null = OpenOptions::new()
        .read(true)
        .write(true)
        .open("/dev/null")?;
    for fd in 0..=2 {
        dup2(null.as_raw_fd(), fd)?;
    }
    Ok(())
}

/// Scheduler priority to ask for: the configured one clamped to SCHED_RR's
/// range, or its minimum (cl_make_realtime with priority <= 0).
pub fn rr_priority(requested: Option<i32>) -> i32 {
    // SAFETY: plain queries without pointers.
    let (min, max) = unsafe {
        (
            libc::sched_get_priority_min(libc::SCHED_RR),
            libc::sched_get_priority_max(libc::SCHED_RR),
        )
    };
    match requested {
        Some(p) if p > 0 => p.min(max),
        _ => min,
    }
}

/// cl_make_realtime's memory check: locking is pointless when the bytes we
/// mean to reserve reach half the locked-memory limit.
pub fn memlock_too_small(limit_bytes: Option<u64>, reserve_bytes: u64) -> bool {
    match limit_bytes {
        None => false,
        Some(limit) => reserve_bytes >= limit / 2,
    }
}

/// Switch to SCHED_RR and lock all memory (Heartbeat's `realtime on`).
/// `memreserve_kib` is ha.cf's memreserve. Returns the lines to log.
pub fn make_realtime(priority: Option<i32>, memreserve_kib: u64) -> Vec<Note> {
    let mut notes = Vec::new();
    let param = libc::sched_param {
        sched_priority: rr_priority(priority),
    };
    // SAFETY: `param` is a valid sched_param for the call.
    if unsafe { libc::sched_setscheduler(0, libc::SCHED_RR, &param) } < 0 {
        notes.push((
            Level::Error,
            format!(
                "Unable to set scheduler parameters.: {}",
                io::Error::last_os_error()
            ),
        ));
    }

    let reserve = (32 + memreserve_kib).saturating_mul(1024);
    let limit = raise_memlock_limit();
    if memlock_too_small(limit, reserve) {
        notes.push((
            Level::Error,
            "Cannot lock ourselves into memory:  System limits on locked-in memory are too small."
                .to_string(),
        ));
        return notes;
    }
    // SAFETY: mlockall takes flags only.
    if unsafe { libc::mlockall(libc::MCL_CURRENT | libc::MCL_FUTURE) } < 0 {
        notes.push((
            Level::Error,
            format!(
                "Unable to lock pid {} in memory: {}",
                std::process::id(),
                io::Error::last_os_error()
            ),
        ));
    }
    notes
}

/// Try to lift RLIMIT_MEMLOCK to infinity, else to the hard limit.
/// Returns the soft limit now in force (`None` = unlimited).
pub fn raise_memlock_limit() -> Option<u64> {
    use nix::sys::resource::{getrlimit, setrlimit, Resource, RLIM_INFINITY};
    if setrlimit(Resource::RLIMIT_MEMLOCK, RLIM_INFINITY, RLIM_INFINITY).is_err() {
        if let Ok((_, hard)) = getrlimit(Resource::RLIMIT_MEMLOCK) {
            let _ = setrlimit(Resource::RLIMIT_MEMLOCK, hard, hard);
        }
    }
    match getrlimit(Resource::RLIMIT_MEMLOCK) {
        Ok((soft, _)) if soft == RLIM_INFINITY => None,
        Ok((soft, _)) => Some(soft),
        Err(_) => Some(0),
    }
}

/// Back to normal scheduling (children: scripts, respawned clients).
pub fn make_normaltime() -> io::Result<()> {
    let param = libc::sched_param { sched_priority: 0 };
    // SAFETY: `param` is a valid sched_param for the call.
    if unsafe { libc::sched_setscheduler(0, libc::SCHED_OTHER, &param) } < 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn priority_defaults_to_minimum_and_is_clamped() {
        assert_eq!(rr_priority(None), 1);
        assert_eq!(rr_priority(Some(0)), 1);
        assert_eq!(rr_priority(Some(-3)), 1);
        assert_eq!(rr_priority(Some(50)), 50);
        assert_eq!(rr_priority(Some(1000)), 99);
    }

    #[test]
    fn memlock_threshold_is_half_the_limit() {
        let reserve = (32 + 6500) * 1024;
        assert!(!memlock_too_small(None, reserve));
        assert!(memlock_too_small(Some(8 * 1024 * 1024), reserve));
        assert!(!memlock_too_small(Some(64 * 1024 * 1024), reserve));
    }

    /// Run by `detach_forks_a_session_leader_on_dev_null` in a separate
    /// process (it changes stdio and the working directory).
    #[test]
    #[ignore = "helper: only meaningful when spawned by another test"]
    fn detach_helper() {
        let Ok(out) = std::env::var("HBRS_DETACH_TEST_OUT") else {
            return;
        };
        detach(false).unwrap();
        let fd1 = std::fs::read_link("/proc/self/fd/1").unwrap();
        let report = format!(
            "{} {} {} {}",
            getpid().as_raw(),
            getsid(None).unwrap().as_raw(),
            std::env::current_dir().unwrap().display(),
            fd1.display()
        );
        std::fs::write(format!("{out}.tmp"), report).unwrap();
        std::fs::rename(format!("{out}.tmp"), out).unwrap();
    }

    #[test]
    fn detach_forks_a_session_leader_on_dev_null() {
        use std::time::{Duration, Instant};
        let out = std::env::temp_dir().join(format!("hbrs-detach-{}", std::process::id()));
        let _ = std::fs::remove_file(&out);
        let status = std::process::Command::new(std::env::current_exe().unwrap())
            .args([
                "--exact",
                "daemon::process::tests::detach_helper",
                "--ignored",
                "--test-threads=1",
            ])
            .env("HBRS_DETACH_TEST_OUT", &out)
            .stdout(std::process::Stdio::null())
            .status()
            .unwrap();
        assert!(status.success());
        let deadline = Instant::now() + Duration::from_secs(10);
        while !out.exists() && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(10));
        }
        let report = std::fs::read_to_string(&out).unwrap();
        let fields: Vec<&str> = report.split(' ').collect();
        assert_eq!(fields.len(), 4, "{report}");
        assert_eq!(fields[0], fields[1], "session leader: {report}");
        assert_eq!(fields[2], "/");
        assert_eq!(fields[3], "/dev/null");
        std::fs::remove_file(&out).unwrap();
    }

    #[test]
    fn normaltime_is_allowed_for_anyone() {
        make_normaltime().unwrap();
    }
}
