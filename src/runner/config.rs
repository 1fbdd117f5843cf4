//! What the runner needs to know: where scripts live, the environment they
//! get, time limits, retry policy and the self-fence command.

use std::path::PathBuf;
use std::time::Duration;

use crate::config::model::HaCf;

/// Heartbeat's `HA_DATEFMT` (include/heartbeat.h), tab included.
pub const HA_DATEFMT: &str = "%Y/%m/%d_%T\t";

/// `HA_STOPRETRYMAX` default of ResourceManager.
pub const DEFAULT_STOP_RETRY_MAX: u32 = 10;

/// Environment of every resource script (Heartbeat's daemon-wide variables
/// plus what ResourceManager exports). Built fresh for each script, so the
/// daemon's own environment never leaks into it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ScriptEnv {
    /// `PATH`. Scripts that source shellfuncs prepend Heartbeat's own dirs.
    pub path: String,
    /// `HA_CURHOST`: our node name.
    pub cur_host: String,
    /// `HA_DIR` as ResourceManager sets it (no trailing slash);
    /// `HA_FUNCS` is `$HA_DIR/shellfuncs`.
    pub ha_dir: String,
    /// `HA_LOGFILE`, `HA_DEBUGLOG`, `HA_LOGFACILITY`: exported only when set.
    pub log_file: Option<String>,
    pub debug_log: Option<String>,
    pub log_facility: Option<String>,
    /// `HA_debug`: exported only when non-zero (Heartbeat's rule).
    pub debug: u32,
    pub ocf_root: String,
    pub rsctmp: String,
    /// ha.cf `env NAME=VALUE` lines, exported as `HA_NAME=VALUE`.
    pub ha_cf_env: Vec<(String, String)>,
}

impl Default for ScriptEnv {
    fn default() -> Self {
        ScriptEnv {
            path: "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin".to_string(),
            cur_host: String::new(),
            ha_dir: "/etc/ha.d".to_string(),
            log_file: None,
            debug_log: None,
            log_facility: None,
            debug: 0,
            ocf_root: "/usr/lib/ocf".to_string(),
            rsctmp: "/run/heartbeat/rsctmp".to_string(),
            ha_cf_env: Vec::new(),
        }
    }
}

impl ScriptEnv {
    /// The complete environment, in a fixed order. Entries from ha.cf come
    /// first so the daemon's own variables win on a clash, as in Heartbeat
    /// (which set its variables after reading ha.cf).
    pub fn vars(&self) -> Vec<(String, String)> {
        let mut vars: Vec<(String, String)> = Vec::new();
        let mut set = |name: &str, value: &str| {
            vars.retain(|(n, _)| n != name);
            vars.push((name.to_string(), value.to_string()));
        };
        for (name, value) in &self.ha_cf_env {
            set(&format!("HA_{name}"), value);
        }
        set("PATH", &self.path);
        set("HA_CURHOST", &self.cur_host);
        set("HA_DIR", &self.ha_dir);
        set("HA_FUNCS", &format!("{}/shellfuncs", self.ha_dir));
        set("HA_DATEFMT", HA_DATEFMT);
        if let Some(v) = &self.log_file {
            set("HA_LOGFILE", v);
        }
        if let Some(v) = &self.debug_log {
            set("HA_DEBUGLOG", v);
        }
        if let Some(v) = &self.log_facility {
            set("HA_LOGFACILITY", v);
        }
        if self.debug > 0 {
            set("HA_debug", &self.debug.to_string());
        }
        // We have no logging daemon: scripts must log on their own.
        set("HA_LOGD", "no");
        set("OCF_ROOT", &self.ocf_root);
        set("HA_RSCTMP", &self.rsctmp);
        vars
    }
}

/// Everything the runner is configured with. `Default` gives Heartbeat's
/// paths and limits; tests override directories, timeouts and `self_fence`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RunnerConfig {
    /// Searched first (`/etc/ha.d/resource.d`).
    pub resource_dir: PathBuf,
    /// Searched second (`/etc/init.d`).
    pub initd_dir: PathBuf,
    pub env: ScriptEnv,
    /// Working directory of scripts.
    pub workdir: PathBuf,
    /// Limits per call; a script still running then is killed and counts
    /// as failed (Heartbeat had no limit and could hang forever).
    pub start_timeout: Duration,
    pub stop_timeout: Duration,
    pub status_timeout: Duration,
    /// Time between SIGTERM and SIGKILL to a timed-out script's group.
    pub kill_grace: Duration,
    /// Stop retries after the first failed attempt; `None` retries forever
    /// (ResourceManager's `HA_STOPRETRYMAX <= 0`).
    pub stop_retry_max: Option<u32>,
    pub stop_retry_delay: Duration,
    /// Captured bytes kept per stream and call; the rest is counted only.
    pub output_limit: usize,
    /// Command run when a stop failed and the resource still runs
    /// (ResourceManager's `reboot -nf`). `None` only logs. Future ha.cf
    /// extension directive: `selffence /path/to/cmd args…`.
    pub self_fence: Option<Vec<String>>,
}

impl Default for RunnerConfig {
    fn default() -> Self {
        RunnerConfig {
            resource_dir: PathBuf::from("/etc/ha.d/resource.d"),
            initd_dir: PathBuf::from("/etc/init.d"),
            env: ScriptEnv::default(),
            workdir: PathBuf::from("/"),
            start_timeout: Duration::from_secs(300),
            stop_timeout: Duration::from_secs(300),
            status_timeout: Duration::from_secs(60),
            kill_grace: Duration::from_secs(5),
            stop_retry_max: Some(DEFAULT_STOP_RETRY_MAX),
            stop_retry_delay: Duration::from_secs(1),
            output_limit: 64 * 1024,
            self_fence: Some(vec!["/sbin/reboot".to_string(), "-nf".to_string()]),
        }
    }
}

impl RunnerConfig {
    /// Heartbeat's settings for node `cur_host` as ha.cf gives them. Returns
    /// lines worth logging (a bad `env STOPRETRYMAX`).
    pub fn from_hacf(cf: &HaCf, cur_host: &str) -> (RunnerConfig, Vec<String>) {
        let mut notes = Vec::new();
        let mut cfg = RunnerConfig::default();
        let facility = cf.logfacility.clone().filter(|f| f != "none");
        // With syslog on and no file named, Heartbeat exports /dev/null so
        // that stray script output goes nowhere (config.c).
        let file_or_null = |file: &Option<PathBuf>| match file {
            Some(path) => Some(path.display().to_string()),
            None if facility.is_some() => Some("/dev/null".to_string()),
            None => None,
        };
        cfg.env.cur_host = cur_host.to_string();
        cfg.env.log_file = file_or_null(&cf.logfile);
        cfg.env.debug_log = file_or_null(&cf.debugfile);
        cfg.env.log_facility = facility.clone();
        cfg.env.debug = cf.debug;
        cfg.env.ha_cf_env = cf.env.clone();
        if let Some((_, value)) = cf.env.iter().rev().find(|(n, _)| n == "STOPRETRYMAX") {
            let (max, note) = parse_stop_retry_max(value);
            cfg.stop_retry_max = max;
            notes.extend(note);
        }
        (cfg, notes)
    }
}

/// `HA_STOPRETRYMAX` as ResourceManager's `[ $MAX -le 0 -o $n -lt $MAX ]`
/// reads it: `<= 0` retries forever; a non-number makes the test fail,
/// i.e. no retry at all.
pub fn parse_stop_retry_max(value: &str) -> (Option<u32>, Option<String>) {
    match value.trim().parse::<i64>() {
        Ok(n) if n <= 0 => (None, None),
        Ok(n) => (Some(u32::try_from(n).unwrap_or(u32::MAX)), None),
        Err(_) => (
            Some(0),
            Some(format!(
                "HA_STOPRETRYMAX [{value}] is not a number: failed stops are not retried"
            )),
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn get<'a>(vars: &'a [(String, String)], name: &str) -> Option<&'a str> {
        vars.iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    #[test]
    fn default_environment_has_heartbeat_variables() {
        let env = ScriptEnv {
            cur_host: "alpha".into(),
            ..ScriptEnv::default()
        };
        let vars = env.vars();
        assert_eq!(get(&vars, "HA_CURHOST"), Some("alpha"));
        assert_eq!(get(&vars, "HA_DIR"), Some("/etc/ha.d"));
        assert_eq!(get(&vars, "HA_FUNCS"), Some("/etc/ha.d/shellfuncs"));
        assert_eq!(get(&vars, "HA_DATEFMT"), Some("%Y/%m/%d_%T\t"));
        assert_eq!(get(&vars, "OCF_ROOT"), Some("/usr/lib/ocf"));
        assert_eq!(get(&vars, "HA_RSCTMP"), Some("/run/heartbeat/rsctmp"));
        assert_eq!(get(&vars, "HA_debug"), None);
        assert_eq!(get(&vars, "HA_LOGFILE"), None);
        assert!(get(&vars, "PATH").is_some_and(|p| p.contains("/usr/sbin")));
    }

    #[test]
    fn ha_cf_env_is_prefixed_and_cannot_override_daemon_variables() {
        let env = ScriptEnv {
            cur_host: "alpha".into(),
            debug: 2,
            ha_cf_env: vec![
                ("FOO".into(), "bar baz".into()),
                ("CURHOST".into(), "evil".into()),
            ],
            ..ScriptEnv::default()
        };
        let vars = env.vars();
        assert_eq!(get(&vars, "HA_FOO"), Some("bar baz"));
        assert_eq!(get(&vars, "HA_CURHOST"), Some("alpha"));
        assert_eq!(get(&vars, "HA_debug"), Some("2"));
        let names: Vec<&str> = vars.iter().map(|(n, _)| n.as_str()).collect();
        let mut unique = names.clone();
        unique.sort_unstable();
        unique.dedup();
        assert_eq!(unique.len(), names.len());
    }

    #[test]
    fn from_hacf_maps_log_settings_and_retries() {
        let cf = HaCf {
            logfacility: Some("local0".into()),
            debugfile: Some(PathBuf::from("/var/log/ha-debug")),
            debug: 1,
            env: vec![("STOPRETRYMAX".into(), "3".into())],
            ..HaCf::default()
        };
        let (cfg, notes) = RunnerConfig::from_hacf(&cf, "beta");
        assert!(notes.is_empty());
        assert_eq!(cfg.env.cur_host, "beta");
        assert_eq!(cfg.env.log_file.as_deref(), Some("/dev/null"));
        assert_eq!(cfg.env.debug_log.as_deref(), Some("/var/log/ha-debug"));
        assert_eq!(cfg.env.log_facility.as_deref(), Some("local0"));
        assert_eq!(cfg.stop_retry_max, Some(3));

        let cf = HaCf {
            logfacility: Some("none".into()),
            ..HaCf::default()
        };
        let (cfg, _) = RunnerConfig::from_hacf(&cf, "beta");
        assert_eq!(cfg.env.log_facility, None);
        assert_eq!(cfg.env.log_file, None);
    }

    #[test]
    fn stop_retry_max_follows_resource_manager_test() {
        assert_eq!(parse_stop_retry_max("10").0, Some(10));
        assert_eq!(parse_stop_retry_max("0").0, None);
        assert_eq!(parse_stop_retry_max("-5").0, None);
        let (max, note) = parse_stop_retry_max("many");
        assert_eq!(max, Some(0));
        assert!(note.is_some());
    }

    #[test]
    fn default_fence_is_heartbeats_reboot() {
        let cfg = RunnerConfig::default();
        assert_eq!(
            cfg.self_fence,
            Some(vec!["/sbin/reboot".to_string(), "-nf".to_string()])
        );
        assert_eq!(cfg.stop_retry_max, Some(DEFAULT_STOP_RETRY_MAX));
    }
}
