//! UUCP (HDB) lock files for serial ports, as cluster-glue's st_ttylock:
//! `<lockdir>/LCK..<name>` holding our pid as `%11d\n` (12 bytes), created
//! through a temporary file and link(2); a lock whose pid no longer exists
//! is stale and replaced. `<name>` is the device path without its first
//! five bytes (`/dev/`), alphanumerics only: `/dev/ttyS0` -> `ttyS0`.
//! The lock records the current pid: take it after daemonising.

use std::fs;
use std::path::{Path, PathBuf};

use nix::errno::Errno;
use nix::sys::signal::kill;
use nix::unistd::Pid;

use super::{io_err, MediaErrorKind};
use crate::lockfile::{publish_pid, Published};

const LOCKSTRLEN: usize = 12;

#[derive(Debug)]
pub struct TtyLock {
    path: PathBuf,
}

/// `LCK..` name for a device path.
pub fn lock_name(device: &Path) -> String {
    let raw = device.as_os_str().as_encoded_bytes();
    let tail = raw.get(5..).unwrap_or_default();
    let name: String = tail
        .iter()
        .filter(|b| b.is_ascii_alphanumeric())
        .map(|&b| char::from(b))
        .take(63)
        .collect();
    format!("LCK..{name}")
}

fn read_pid(path: &Path) -> Option<i32> {
    let text = fs::read(path).ok()?;
    let head = text.get(..text.len().min(LOCKSTRLEN))?;
    std::str::from_utf8(head).ok()?.trim().parse().ok()
}

fn pid_exists(pid: i32) -> bool {
    !matches!(kill(Pid::from_raw(pid), None), Err(Errno::ESRCH))
}

impl TtyLock {
    pub fn acquire(lock_dir: &Path, device: &Path) -> Result<TtyLock, MediaErrorKind> {
        let name = lock_name(device);
        let path = lock_dir.join(&name);
        let me = std::process::id() as i32;
        let locked = |pid| MediaErrorKind::Locked {
            path: path.clone(),
            pid,
        };
        if path.exists() {
            match read_pid(&path) {
                Some(pid) if pid > 1 && pid != me && pid_exists(pid) => return Err(locked(pid)),
                _ => {
                    // Stale or unreadable: remove and go on.
                    let _ = fs::remove_file(&path);
                }
            }
        }
        let tmp = lock_dir.join(format!("tmp{me}-{}", name.trim_start_matches("LCK..")));
        match publish_pid(&path, &tmp) {
            Ok(Published::Done) => Ok(TtyLock { path }),
            Ok(Published::Taken) => Err(locked(read_pid(&path).unwrap_or(0))),
            Err((file, e)) => Err(io_err(format!("creating lock file {}", file.display()), e)),
        }
    }

    #[cfg(test)]
    pub fn path(&self) -> &Path {
        &self.path
    }
}

impl Drop for TtyLock {
    fn drop(&mut self) {
        let _ = fs::remove_file(&self.path);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn temp_dir(tag: &str) -> PathBuf {
        let d = std::env::temp_dir().join(format!("hbrs-ttylock-{tag}-{}", std::process::id()));
        let _ = fs::remove_dir_all(&d);
        fs::create_dir_all(&d).unwrap();
        d
    }

    #[test]
    fn names_follow_st_ttylock() {
        assert_eq!(lock_name(Path::new("/dev/ttyS0")), "LCK..ttyS0");
        assert_eq!(lock_name(Path::new("/dev/pts/3")), "LCK..pts3");
        assert_eq!(lock_name(Path::new("/run/lab/ttyS0")), "LCK..labttyS0");
        assert_eq!(lock_name(Path::new("/x")), "LCK..");
    }

    #[test]
    fn lock_holds_our_pid_and_is_removed_on_drop() {
        let dir = temp_dir("own");
        let lock = TtyLock::acquire(&dir, Path::new("/dev/ttyS9")).unwrap();
        let text = fs::read_to_string(lock.path()).unwrap();
        assert_eq!(text.len(), 12);
        assert_eq!(text.trim().parse::<u32>().unwrap(), std::process::id());
        let path = lock.path().to_path_buf();
        drop(lock);
        assert!(!path.exists());
        fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn live_foreign_lock_is_refused_and_stale_one_replaced() {
        let dir = temp_dir("foreign");
        let path = dir.join("LCK..ttyS8");
        // pid 1 is alive but st_ttylock treats pid <= 1 as stale; use our
        // parent, which is alive and not us.
        let parent = nix::unistd::getppid().as_raw();
        fs::write(&path, format!("{parent:>11}\n")).unwrap();
        match TtyLock::acquire(&dir, Path::new("/dev/ttyS8")) {
            Err(MediaErrorKind::Locked { pid, .. }) => assert_eq!(pid, parent),
            other => panic!("unexpected {other:?}"),
        }
        // A pid that cannot exist (above pid_max) is stale.
        fs::write(&path, format!("{:>11}\n", 99_999_999)).unwrap();
        let lock = TtyLock::acquire(&dir, Path::new("/dev/ttyS8")).unwrap();
        assert_eq!(read_pid(lock.path()), Some(std::process::id() as i32));
        drop(lock);
        fs::remove_dir_all(&dir).unwrap();
    }
}
