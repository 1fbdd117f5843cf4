//! Lock files that hold a pid (Heartbeat's pid file, UUCP-style tty locks):
//! written completely under a temporary name, then published with link(2),
//! so another process never reads a half-written pid and two racing
//! writers cannot both win.

use std::fs;
use std::io::{self, Write};
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};

/// What [`publish_pid`] did.
#[derive(Debug, PartialEq, Eq)]
pub enum Published {
    /// `path` now holds our pid.
    Done,
    /// Somebody else created `path` first.
    Taken,
}

/// Writes our pid (`%11d\n`, as Heartbeat and the UUCP convention do) to
/// `tmp`, links it to `path` and removes `tmp`. An error names the file it
/// is about.
pub fn publish_pid(path: &Path, tmp: &Path) -> Result<Published, (PathBuf, io::Error)> {
    let me = std::process::id();
    let write_tmp = || -> io::Result<()> {
        let mut f = fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o644)
            .open(tmp)?;
        f.write_all(format!("{me:>11}\n").as_bytes())
    };
    if let Err(e) = write_tmp() {
        let _ = fs::remove_file(tmp);
        return Err((tmp.to_path_buf(), e));
    }
    let linked = fs::hard_link(tmp, path);
    let _ = fs::remove_file(tmp);
    match linked {
        Ok(()) => Ok(Published::Done),
        Err(e) if e.kind() == io::ErrorKind::AlreadyExists => Ok(Published::Taken),
        Err(e) => Err((path.to_path_buf(), e)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn temp(tag: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("hbrs-lockfile-{tag}-{}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        fs::create_dir_all(&dir).unwrap();
        dir
    }

    #[test]
    fn publishes_once_and_leaves_no_temporary_file() {
        let dir = temp("once");
        let (path, tmp) = (dir.join("pid"), dir.join("pid.tmp"));
        assert_eq!(publish_pid(&path, &tmp).ok(), Some(Published::Done));
        let text = fs::read_to_string(&path).unwrap();
        assert_eq!(text, format!("{:>11}\n", std::process::id()));
        assert!(!tmp.exists());
        assert_eq!(publish_pid(&path, &tmp).ok(), Some(Published::Taken));
        assert!(!tmp.exists());
        let missing = dir.join("no-such-dir").join("pid");
        let (which, _) = publish_pid(&missing, &dir.join("no-such-dir").join("t")).unwrap_err();
        assert_eq!(which, dir.join("no-such-dir").join("t"));
        fs::remove_dir_all(&dir).unwrap();
    }
}
