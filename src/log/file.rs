//! A log file kept open in append mode and re-opened after log rotation:
//! like cl_log, the path is stat()ed at most once a minute and the file
//! re-opened when its inode changed or it disappeared.

use std::fs::{self, File, OpenOptions};
use std::io::{self, Write};
use std::os::unix::fs::{MetadataExt, OpenOptionsExt};
use std::path::{Path, PathBuf};

#[derive(Debug)]
pub struct LogFile {
    path: PathBuf,
    file: Option<File>,
    /// (device, inode) of the open file.
    identity: Option<(u64, u64)>,
}

impl LogFile {
    pub fn new(path: &Path) -> LogFile {
        LogFile {
            path: path.to_path_buf(),
            file: None,
            identity: None,
        }
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Close the file if the path no longer names it (called at most once
    /// a minute by the logger). Returns true when it was closed.
    pub fn check_rotation(&mut self) -> bool {
        if self.file.is_none() {
            return false;
        }
        let same = fs::metadata(&self.path)
            .map(|m| Some((m.dev(), m.ino())) == self.identity)
            .unwrap_or(false);
        if !same {
            self.file = None;
            self.identity = None;
        }
        !same
    }

    fn open(&mut self) -> io::Result<&mut File> {
        if self.file.is_none() {
            let f = OpenOptions::new()
                .append(true)
                .create(true)
                .mode(0o644)
                .custom_flags(libc::O_CLOEXEC)
                .open(&self.path)?;
            let m = f.metadata()?;
            self.identity = Some((m.dev(), m.ino()));
            self.file = Some(f);
        }
        match self.file.as_mut() {
            Some(f) => Ok(f),
            None => Err(io::Error::other("log file not open")),
        }
    }

    /// Append one whole line with a single write (O_APPEND keeps lines of
    /// several writers whole).
    pub fn write_line(&mut self, line: &str) -> io::Result<()> {
        let f = self.open()?;
        if let Err(e) = f.write_all(line.as_bytes()) {
            // Try a fresh open next time (disk full, file system gone...).
            self.file = None;
            return Err(e);
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn temp(tag: &str) -> PathBuf {
        let d = std::env::temp_dir().join(format!("hbrs-logfile-{tag}-{}", std::process::id()));
        let _ = fs::remove_dir_all(&d);
        fs::create_dir_all(&d).unwrap();
        d
    }

    #[test]
    fn appends_and_follows_rotation() {
        let dir = temp("rot");
        let path = dir.join("ha-log");
        fs::write(&path, "old line\n").unwrap();
        let mut lf = LogFile::new(&path);
        lf.write_line("one\n").unwrap();
        assert!(!lf.check_rotation());
        fs::rename(&path, dir.join("ha-log.1")).unwrap();
        // Until the next check the old (renamed) file still gets lines.
        lf.write_line("two\n").unwrap();
        assert!(lf.check_rotation());
        lf.write_line("three\n").unwrap();
        assert_eq!(
            fs::read_to_string(dir.join("ha-log.1")).unwrap(),
            "old line\none\ntwo\n"
        );
        assert_eq!(fs::read_to_string(&path).unwrap(), "three\n");
        fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn deleted_file_is_recreated() {
        let dir = temp("del");
        let path = dir.join("ha-debug");
        let mut lf = LogFile::new(&path);
        lf.write_line("a\n").unwrap();
        fs::remove_file(&path).unwrap();
        assert!(lf.check_rotation());
        lf.write_line("b\n").unwrap();
        assert_eq!(fs::read_to_string(&path).unwrap(), "b\n");
        fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn unwritable_path_is_an_error_not_a_panic() {
        let mut lf = LogFile::new(Path::new("/nonexistent-dir/ha-log"));
        assert!(lf.write_line("x\n").is_err());
        assert!(!lf.check_rotation());
    }
}
