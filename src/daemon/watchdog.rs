//! `watchdog DEV` (Heartbeat's watchdog handling, seen byte by byte in the
//! lab): open the device write-only at start-up, ask for a timeout of
//! ceil((deadtime + 10 ms) / 1 s) seconds (errors such as ENOTTY on a file
//! or FIFO are logged and ignored), write one NUL byte after opening and
//! one per own status heartbeat, write the magic `V` and close at the start
//! of a graceful shutdown. A write error closes the device for good.
//!
//! The writes come from the poll loop itself (when it sends our status),
//! so a hung loop stops feeding the watchdog and the machine is reset.
//! Like Heartbeat, opening a FIFO without a reader blocks until one comes.

use std::fs::{File, OpenOptions};
use std::io::Write;
use std::os::fd::AsRawFd;
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};

use crate::core::Level;

/// `_IOWR('W', 6, int)` from linux/watchdog.h.
const WDIOC_SETTIMEOUT: libc::c_ulong = 0xC004_5706;

pub struct Watchdog {
    path: PathBuf,
    file: Option<File>,
}

/// Lines to log, in order.
pub type Notes = Vec<(Level, String)>;

/// Heartbeat's timeout: deadtime plus 10 ms, rounded up to seconds.
pub fn timeout_secs(deadtime_ms: u64) -> u64 {
    (deadtime_ms + 10).div_ceil(1000)
}

impl Watchdog {
    /// Opens `path`; `None` (with the error logged) when it cannot be
    /// opened: the daemon runs on without a watchdog, as Heartbeat does.
    pub fn open(path: &Path, deadtime_ms: u64, notes: &mut Notes) -> Option<Watchdog> {
        let file = match OpenOptions::new()
            .write(true)
            .custom_flags(libc::O_CLOEXEC)
            .open(path)
        {
            Ok(f) => f,
            Err(e) => {
                let text = format!("Cannot open watchdog device: {}: {e}", path.display());
                notes.push((Level::Error, text));
                return None;
            }
        };
        let text = format!("Using watchdog device: {}", path.display());
        notes.push((Level::Notice, text));
        let secs = timeout_secs(deadtime_ms);
        let mut arg = libc::c_int::try_from(secs).unwrap_or(libc::c_int::MAX);
        // SAFETY: the ioctl reads and writes one int that we own.
        let rc = unsafe { libc::ioctl(file.as_raw_fd(), WDIOC_SETTIMEOUT as _, &mut arg) };
        if rc < 0 {
            let e = std::io::Error::last_os_error();
            let text =
                format!("WDIOC_SETTIMEOUT: Failed to set watchdog timer to {secs} seconds.: {e}");
            notes.push((Level::Error, text));
        }
        notes.push((
            Level::Debug,
            format!("Set watchdog timer to {secs} seconds."),
        ));
        let mut dog = Watchdog {
            path: path.to_path_buf(),
            file: Some(file),
        };
        dog.tickle(notes);
        Some(dog)
    }

    /// Still open (no write error, no magic close yet).
    pub fn is_open(&self) -> bool {
        self.file.is_some()
    }

    /// One NUL byte: "still alive".
    pub fn tickle(&mut self, notes: &mut Notes) {
        let Some(file) = &mut self.file else {
            return;
        };
        if let Err(e) = file.write_all(&[0]) {
            let text = format!(
                "Watchdog write failure: closing {}!: {e}",
                self.path.display()
            );
            notes.push((Level::Error, text));
            self.close(notes);
        }
    }

    /// Magic close: `V` tells the driver the stop is deliberate.
    pub fn close(&mut self, notes: &mut Notes) {
        let Some(mut file) = self.file.take() else {
            return;
        };
        match file.write_all(b"V") {
            Ok(()) => notes.push((Level::Info, "Successful watchdog 'V' write".into())),
            Err(e) => notes.push((
                Level::Error,
                format!(
                    "Watchdog write magic character failure: closing {}!: {e}",
                    self.path.display()
                ),
            )),
        }
        drop(file);
        notes.push((Level::Info, "Successful watchdog close".into()));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn temp_file(tag: &str) -> PathBuf {
        let p = std::env::temp_dir().join(format!("hbrs-wd-{tag}-{}", std::process::id()));
        std::fs::write(&p, b"").unwrap();
        p
    }

    #[test]
    fn timeout_rounds_deadtime_plus_10ms_up() {
        assert_eq!(timeout_secs(3000), 4);
        assert_eq!(timeout_secs(2990), 3);
        assert_eq!(timeout_secs(30_000), 31);
    }

    #[test]
    fn nul_on_open_and_per_tickle_then_v_and_nothing_after() {
        let p = temp_file("bytes");
        let mut notes = Notes::new();
        let mut dog = Watchdog::open(&p, 3000, &mut notes).unwrap();
        dog.tickle(&mut notes);
        dog.tickle(&mut notes);
        dog.close(&mut notes);
        dog.tickle(&mut notes);
        dog.close(&mut notes);
        assert_eq!(std::fs::read(&p).unwrap(), b"\0\0\0V");
        assert!(!dog.is_open());
        let texts: Vec<&str> = notes.iter().map(|(_, t)| t.as_str()).collect();
        assert!(texts[0].starts_with("Using watchdog device: "), "{texts:?}");
        assert!(texts
            .iter()
            .any(|t| t.contains("Failed to set watchdog timer to 4 seconds.")));
        assert_eq!(
            texts
                .iter()
                .filter(|t| **t == "Successful watchdog close")
                .count(),
            1
        );
        let _ = std::fs::remove_file(&p);
    }

    /// A FIFO whose reader went away: log, try the magic close, close, and
    /// never write again (the daemon runs on without a watchdog).
    #[test]
    fn a_write_error_closes_the_device_for_good() {
        let p = std::env::temp_dir().join(format!("hbrs-wd-fifo-{}", std::process::id()));
        let _ = std::fs::remove_file(&p);
        nix::unistd::mkfifo(&p, nix::sys::stat::Mode::from_bits_truncate(0o600)).unwrap();
        // A reader first, so the write-only open does not block.
        let reader = OpenOptions::new()
            .read(true)
            .custom_flags(libc::O_NONBLOCK)
            .open(&p)
            .unwrap();
        let mut notes = Notes::new();
        let mut dog = Watchdog::open(&p, 3000, &mut notes).unwrap();
        let mut buf = [0u8; 8];
        let n = std::io::Read::read(&mut &reader, &mut buf).unwrap();
        assert_eq!(&buf[..n], b"\0");
        drop(reader);
        notes.clear();
        dog.tickle(&mut notes);
        assert!(!dog.is_open());
        let texts: Vec<&str> = notes.iter().map(|(_, t)| t.as_str()).collect();
        let shown = p.display().to_string();
        assert!(texts[0].starts_with(&format!("Watchdog write failure: closing {shown}!: ")));
        assert!(texts[1].starts_with("Watchdog write magic character failure"));
        assert_eq!(texts[2], "Successful watchdog close");
        dog.tickle(&mut notes);
        assert_eq!(notes.len(), 3);
        let _ = std::fs::remove_file(&p);
    }

    #[test]
    fn a_missing_device_is_logged_and_skipped() {
        let mut notes = Notes::new();
        let dog = Watchdog::open(Path::new("/nonexistent/wd"), 3000, &mut notes);
        assert!(dog.is_none());
        assert_eq!(notes.len(), 1);
        assert!(notes[0]
            .1
            .starts_with("Cannot open watchdog device: /nonexistent/wd"));
    }
}
