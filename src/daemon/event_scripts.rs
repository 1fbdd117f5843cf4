//! Custom message types: for a received message of type T, Heartbeat runs
//! `/etc/ha.d/rc.d/T` (through `harc`) with every string field exported as
//! `HA_<name>`, if such a file existed at start-up. The types Heartbeat's own
//! rc.d scripts handle are implemented inside the daemon and never run here.

use std::collections::BTreeSet;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

use crate::core::Level;
use crate::wire::{Message, FT_STRING};

/// Types handled internally (Debian ships rc.d scripts for the first five;
/// running them too would act twice).
const INTERNAL: &[&str] = &[
    "status",
    "ip-request",
    "ip-request-resp",
    "ask_resources",
    "hb_takeover",
    "starting",
    "resource",
    "shutdone",
    "stonith",
    "reqnodes",
    "repnodes",
    "query-cstatus",
    "respond-cstatus",
    "hbapi-clstat",
];

/// At most this many event scripts run at once; more are dropped and logged.
const MAX_RUNNING: usize = 32;

pub struct EventScripts {
    dir: PathBuf,
    types: BTreeSet<String>,
    env: Vec<(String, String)>,
    running: Vec<(String, Child)>,
}

/// The custom types: executable files in `dir` not handled internally.
pub fn scan_types(dir: &Path) -> BTreeSet<String> {
    use std::os::unix::fs::PermissionsExt;
    let Ok(entries) = std::fs::read_dir(dir) else {
        return BTreeSet::new();
    };
    entries
        .flatten()
        .filter(|e| {
            e.metadata()
                .is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
        })
        .filter_map(|e| e.file_name().into_string().ok())
        .filter(|name| !INTERNAL.contains(&name.as_str()) && !name.starts_with('.'))
        .collect()
}

impl EventScripts {
    /// `env`: the daemon-wide HA_* variables (as for resource scripts).
    pub fn new(dir: PathBuf, env: Vec<(String, String)>) -> EventScripts {
        let types = scan_types(&dir);
        EventScripts {
            dir,
            types,
            env,
            running: Vec::new(),
        }
    }

    pub fn types(&self) -> &BTreeSet<String> {
        &self.types
    }

    /// Starts `rc.d/<type> <type>` for `msg` if its type has a script.
    pub fn run(&mut self, msg: &Message, local_status: &str) -> Option<(Level, String)> {
        let t = msg.msg_type()?;
        if !self.types.contains(t) {
            return None;
        }
        if self.running.len() >= MAX_RUNNING {
            return Some((
                Level::Error,
                format!("too many event scripts running; {t} message not passed to rc.d/{t}"),
            ));
        }
        let path = self.dir.join(t);
        let mut cmd = Command::new(&path);
        cmd.arg(t)
            .env_clear()
            .envs(self.env.iter().map(|(k, v)| (k, v)))
            .env("HA_OSTATUS", local_status)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .process_group(0);
        for field in msg.fields.iter().filter(|f| f.ftype == FT_STRING) {
            if let Ok(value) = std::str::from_utf8(&field.value) {
                if !field.name.contains('=') && !value.contains('\0') {
                    cmd.env(format!("HA_{}", field.name), value);
                }
            }
        }
        match cmd.spawn() {
            Ok(child) => {
                self.running.push((t.to_string(), child));
                None
            }
            Err(e) => Some((Level::Error, format!("cannot run {}: {e}", path.display()))),
        }
    }

    /// Reaps finished scripts (by their own pids); logs failures.
    pub fn reap(&mut self) -> Vec<(Level, String)> {
        let mut notes = Vec::new();
        self.running
            .retain_mut(|(t, child)| match child.try_wait() {
                Ok(Some(status)) => {
                    if !status.success() {
                        notes.push((Level::Warn, format!("rc.d/{t} exited with {status}")));
                    }
                    false
                }
                Ok(None) => true,
                Err(_) => false,
            });
        notes
    }

    pub fn is_idle(&self) -> bool {
        self.running.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn internal_types_are_never_custom() {
        let dir = std::env::temp_dir().join(format!("hbrs-rcd-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        for name in ["ip-request", "status", "mytype", "notexec"] {
            std::fs::write(dir.join(name), "#!/bin/sh\n").unwrap();
        }
        use std::os::unix::fs::PermissionsExt;
        for name in ["ip-request", "status", "mytype"] {
            std::fs::set_permissions(dir.join(name), std::fs::Permissions::from_mode(0o755))
                .unwrap();
        }
        let types = scan_types(&dir);
        assert_eq!(types.into_iter().collect::<Vec<_>>(), vec!["mytype"]);
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn a_custom_message_runs_its_script_with_the_fields_in_the_environment() {
        let dir = std::env::temp_dir().join(format!("hbrs-rcd2-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let out = dir.join("out");
        std::fs::write(
            dir.join("mytype"),
            format!(
                "#!/bin/sh\necho \"$1 $HA_t $HA_src $HA_foo $HA_OSTATUS $HA_CURHOST\" > {}\n",
                out.display()
            ),
        )
        .unwrap();
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(dir.join("mytype"), std::fs::Permissions::from_mode(0o755))
            .unwrap();
        let mut scripts =
            EventScripts::new(dir.clone(), vec![("HA_CURHOST".into(), "alpha".into())]);
        let mut msg = Message::with_type("mytype");
        msg.push_str("foo", "bar baz").push_str("src", "bravo");
        assert!(scripts.run(&msg, "active").is_none());
        assert!(scripts
            .run(&Message::with_type("other"), "active")
            .is_none());
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
        while !scripts.is_idle() && std::time::Instant::now() < deadline {
            assert!(scripts.reap().is_empty());
            std::thread::sleep(std::time::Duration::from_millis(10));
        }
        assert_eq!(
            std::fs::read_to_string(&out).unwrap(),
            "mytype mytype bravo bar baz active alpha\n"
        );
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
