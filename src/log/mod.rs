//! Heartbeat-format logging to files, syslog and stderr (spec §12.4).
//!
//! - `debugfile` gets every line, `logfile` every line except debug,
//!   syslog (when a facility is set) `[<pid>]: <LEVEL>: <text>` with
//!   ident `heartbeat`; debug lines exist only while the debug level > 0.
//! - stderr, like cl_log, is on from start-up until the daemon has
//!   daemonised (the daemon calls `set_stderr(false)` there, also in
//!   foreground mode, as Heartbeat does); it uses the file line format.
//! - With no logfile, no debugfile and no facility, Heartbeat hands
//!   everything to ha_logd, whose default is syslog facility `daemon`; we
//!   have no logd and log to syslog `daemon` directly.
//! - Files are re-opened after rotation, checked at most once a minute.

mod file;
mod format;
mod syslog;

use std::path::PathBuf;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use crate::config::model::HaCf;
use crate::core::Level;

pub use file::LogFile;
pub use format::{clip, file_line, level_str, syslog_message, LocalTime, Origin, MAX_TEXT};
pub use syslog::{parse_facility, Facility, Syslog};

/// How often log file paths are stat()ed for rotation.
pub const ROTATION_CHECK: Duration = Duration::from_secs(60);

/// Where and how to log.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LogConfig {
    pub logfile: Option<PathBuf>,
    pub debugfile: Option<PathBuf>,
    pub facility: Option<Facility>,
    pub syslogmsgfmt: bool,
    pub debug_level: u32,
    /// Program name in every line: "heartbeat".
    pub entity: String,
    /// `uname -n`, as is.
    pub host: String,
}

impl LogConfig {
    /// Logging as ha.cf configures it (`-d` flags add to `debug_level`).
    /// Fails on an unknown `logfacility`.
    pub fn from_hacf(cf: &HaCf, host: &str) -> Result<LogConfig, String> {
        let facility = match &cf.logfacility {
            Some(name) => parse_facility(name)?,
            None => None,
        };
        let mut cfg = LogConfig {
            logfile: cf.logfile.clone(),
            debugfile: cf.debugfile.clone(),
            facility,
            syslogmsgfmt: cf.syslogmsgfmt,
            debug_level: cf.debug,
            entity: "heartbeat".to_string(),
            host: host.to_string(),
        };
        if cfg.logfile.is_none() && cfg.debugfile.is_none() && cfg.facility.is_none() {
            cfg.facility = Some(Facility(libc::LOG_DAEMON));
        }
        Ok(cfg)
    }

    /// Before ha.cf is read: stderr only.
    pub fn bootstrap(host: &str) -> LogConfig {
        LogConfig {
            logfile: None,
            debugfile: None,
            facility: None,
            syslogmsgfmt: true,
            debug_level: 0,
            entity: "heartbeat".to_string(),
            host: host.to_string(),
        }
    }
}

extern "C" {
    // POSIX, in every libc; the libc crate does not declare it.
    fn tzset();
}

struct Dest {
    file: LogFile,
    /// An error was reported and no write has succeeded since.
    failing: bool,
}

impl Dest {
    fn new(path: &Option<PathBuf>) -> Option<Dest> {
        path.as_ref().map(|p| Dest {
            file: LogFile::new(p),
            failing: false,
        })
    }
}

pub struct Logger {
    cfg: LogConfig,
    stderr: bool,
    logfile: Option<Dest>,
    debugfile: Option<Dest>,
    syslog: Option<Syslog>,
    last_rotation_check: Option<Instant>,
}

impl Logger {
    pub fn new(cfg: LogConfig) -> Logger {
        // localtime_r does not re-read TZ by itself.
        // SAFETY: tzset has no preconditions.
        unsafe { tzset() };
        let mut logger = Logger {
            cfg: LogConfig::bootstrap(""),
            stderr: true,
            logfile: None,
            debugfile: None,
            syslog: None,
            last_rotation_check: None,
        };
        logger.reconfigure(cfg);
        logger
    }

    /// Switch to a new configuration (files re-opened lazily).
    pub fn reconfigure(&mut self, cfg: LogConfig) {
        self.logfile = Dest::new(&cfg.logfile);
        self.debugfile = Dest::new(&cfg.debugfile);
        let same_syslog = self.syslog.as_ref().map(|s| s.facility()) == cfg.facility;
        if !same_syslog {
            self.syslog = None;
            self.syslog = cfg.facility.map(|f| Syslog::open(&cfg.entity, f));
        }
        self.cfg = cfg;
    }

    pub fn config(&self) -> &LogConfig {
        &self.cfg
    }

    pub fn set_stderr(&mut self, on: bool) {
        self.stderr = on;
    }

    pub fn debug_level(&self) -> u32 {
        self.cfg.debug_level
    }

    pub fn set_debug_level(&mut self, level: u32) {
        self.cfg.debug_level = level;
    }

    /// SIGUSR1.
    pub fn debug_more(&mut self) {
        self.cfg.debug_level = self.cfg.debug_level.saturating_add(1);
    }

    /// SIGUSR2.
    pub fn debug_less(&mut self) {
        self.cfg.debug_level = self.cfg.debug_level.saturating_sub(1);
    }

    /// Whether a line of this level would be written anywhere.
    pub fn enabled(&self, level: Level) -> bool {
        level != Level::Debug || self.cfg.debug_level > 0
    }

    pub fn log(&mut self, level: Level, text: &str) {
        let wall = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_secs() as i64)
            .unwrap_or(0);
        self.log_at(level, text, wall, Instant::now());
    }

    /// `log` with the clocks given (tests).
    pub fn log_at(&mut self, level: Level, text: &str, wall_secs: i64, now: Instant) {
        if !self.enabled(level) {
            return;
        }
        let t = LocalTime::from_unix(wall_secs);
        for path in self.check_rotation(now) {
            let note = format!("log-rotate detected on logfile {}", path.display());
            self.emit(Level::Info, &note, &t);
        }
        self.emit(level, text, &t);
    }

    fn check_rotation(&mut self, now: Instant) -> Vec<PathBuf> {
        let due = match self.last_rotation_check {
            None => {
                self.last_rotation_check = Some(now);
                false
            }
            Some(last) => now.saturating_duration_since(last) >= ROTATION_CHECK,
        };
        if !due {
            return Vec::new();
        }
        self.last_rotation_check = Some(now);
        [self.logfile.as_mut(), self.debugfile.as_mut()]
            .into_iter()
            .flatten()
            .filter_map(|d| d.file.check_rotation().then(|| d.file.path().to_path_buf()))
            .collect()
    }

    fn emit(&mut self, level: Level, text: &str, t: &LocalTime) {
        let pid = std::process::id();
        let who = Origin {
            host: &self.cfg.host,
            entity: &self.cfg.entity,
            pid,
        };
        let line = file_line(self.cfg.syslogmsgfmt, t, &who, level, text);
        if self.stderr {
            eprint!("{line}");
        }
        if let Some(s) = &self.syslog {
            s.send(pid, level, text);
        }
        let mut failures = Vec::new();
        if let Some(d) = self.debugfile.as_mut() {
            failures.extend(write_dest(d, &line));
        }
        if level != Level::Debug {
            if let Some(d) = self.logfile.as_mut() {
                failures.extend(write_dest(d, &line));
            }
        }
        for msg in failures {
            if self.stderr {
                eprintln!("{msg}");
            }
            if let Some(s) = &self.syslog {
                s.send(pid, Level::Error, &msg);
            }
        }
    }
}

/// Write a line; the first failure in a row yields a message to report.
fn write_dest(d: &mut Dest, line: &str) -> Option<String> {
    match d.file.write_line(line) {
        Ok(()) => {
            d.failing = false;
            None
        }
        Err(e) if !d.failing => {
            d.failing = true;
            Some(format!(
                "Failed to open log file {}: {e}",
                d.file.path().display()
            ))
        }
        Err(_) => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::fs;

    fn temp(tag: &str) -> PathBuf {
        let d = std::env::temp_dir().join(format!("hbrs-log-{tag}-{}", std::process::id()));
        let _ = fs::remove_dir_all(&d);
        fs::create_dir_all(&d).unwrap();
        d
    }

    fn config(dir: &std::path::Path) -> LogConfig {
        LogConfig {
            logfile: Some(dir.join("ha-log")),
            debugfile: Some(dir.join("ha-debug")),
            facility: None,
            syslogmsgfmt: true,
            debug_level: 1,
            entity: "heartbeat".into(),
            host: "alpha".into(),
        }
    }

    fn lines(path: &std::path::Path) -> Vec<String> {
        fs::read_to_string(path)
            .unwrap_or_default()
            .lines()
            .map(str::to_string)
            .collect()
    }

    #[test]
    fn logfile_skips_debug_debugfile_gets_all() {
        let dir = temp("split");
        let mut l = Logger::new(config(&dir));
        l.set_stderr(false);
        let now = Instant::now();
        l.log_at(Level::Info, "hello", 1_795_314_010, now);
        l.log_at(Level::Debug, "details", 1_795_314_010, now);
        let pid = std::process::id();
        let log = lines(&dir.join("ha-log"));
        let dbg = lines(&dir.join("ha-debug"));
        assert_eq!(log.len(), 1);
        assert!(log[0].ends_with(&format!(" alpha heartbeat: [{pid}]: info: hello")));
        assert_eq!(dbg.len(), 2);
        assert!(dbg[1].ends_with(": debug: details"));
        fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn debug_lines_need_a_debug_level() {
        let dir = temp("level");
        let mut l = Logger::new(LogConfig {
            debug_level: 0,
            ..config(&dir)
        });
        l.set_stderr(false);
        let now = Instant::now();
        l.log_at(Level::Debug, "hidden", 0, now);
        l.debug_more();
        l.log_at(Level::Debug, "shown", 0, now);
        l.debug_less();
        l.debug_less();
        assert_eq!(l.debug_level(), 0);
        l.log_at(Level::Debug, "hidden again", 0, now);
        let dbg = lines(&dir.join("ha-debug"));
        assert_eq!(dbg.len(), 1);
        assert!(dbg[0].ends_with("debug: shown"));
        fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn rotation_is_noticed_after_a_minute() {
        let dir = temp("rotate");
        let mut l = Logger::new(LogConfig {
            debugfile: None,
            ..config(&dir)
        });
        l.set_stderr(false);
        let t0 = Instant::now();
        l.log_at(Level::Info, "before", 0, t0);
        fs::rename(dir.join("ha-log"), dir.join("ha-log.1")).unwrap();
        l.log_at(Level::Info, "soon after", 0, t0 + Duration::from_secs(30));
        l.log_at(
            Level::Info,
            "a minute later",
            0,
            t0 + Duration::from_secs(61),
        );
        let old = lines(&dir.join("ha-log.1"));
        let new = lines(&dir.join("ha-log"));
        assert_eq!(old.len(), 2);
        assert_eq!(new.len(), 2);
        assert!(new[0].ends_with(&format!(
            "info: log-rotate detected on logfile {}",
            dir.join("ha-log").display()
        )));
        assert!(new[1].ends_with("info: a minute later"));
        fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn plain_format_when_syslogmsgfmt_off() {
        let dir = temp("plain");
        let mut l = Logger::new(LogConfig {
            syslogmsgfmt: false,
            ..config(&dir)
        });
        l.set_stderr(false);
        l.log_at(Level::Warn, "w", 0, Instant::now());
        let log = lines(&dir.join("ha-log"));
        let pid = std::process::id();
        assert!(log[0].starts_with(&format!("heartbeat[{pid}]: ")));
        assert!(log[0].ends_with(" WARN: w"));
        fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn config_from_hacf() {
        let mut cf = HaCf {
            logfile: Some("/var/log/ha-log".into()),
            logfacility: Some("none".into()),
            debug: 2,
            ..HaCf::default()
        };
        let c = LogConfig::from_hacf(&cf, "alpha").unwrap();
        assert_eq!(c.facility, None);
        assert_eq!(c.debug_level, 2);
        cf.logfile = None;
        // Nothing configured: syslog daemon stands in for ha_logd.
        let c = LogConfig::from_hacf(&cf, "alpha").unwrap();
        assert_eq!(c.facility, Some(Facility(libc::LOG_DAEMON)));
        cf.logfacility = Some("bogus".into());
        assert!(LogConfig::from_hacf(&cf, "alpha").is_err());
    }
}
