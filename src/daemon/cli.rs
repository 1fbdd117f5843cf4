//! Heartbeat's command line (heartbeat.c `main`, getopt "dDkMrRsvWlC:Vf",
//! spec §12.1) plus our long options: `--confdir DIR` (default /etc/ha.d), `--node NAME`,
//! `--statedir DIR` (/var/lib/heartbeat), `--rundir DIR` (/run),
//! `--lockdir DIR` (/var/lock), `--check`, `--version`, `--help`.
//! Pure: parses an argv slice.

use std::fmt;
use std::path::PathBuf;

pub const DEFAULT_CONF_DIR: &str = "/etc/ha.d";
pub const DEFAULT_STATE_DIR: &str = "/var/lib/heartbeat";
pub const DEFAULT_RUN_DIR: &str = "/run";
pub const DEFAULT_LOCK_DIR: &str = "/var/lock";
/// LSB_EXIT_EINVAL: what Heartbeat exits with after printing its usage.
pub const USAGE_EXIT: i32 = 2;

/// Heartbeat's single-letter options (`C` takes a value).
pub const SHORT_OPTIONS: &str = "dDkMrRsvWlVfC";
/// Our long options; `true` = takes a value.
pub const LONG_OPTIONS: &[(&str, bool)] = &[
    ("help", false),
    ("version", false),
    ("check", false),
    ("confdir", true),
    ("node", true),
    ("statedir", true),
    ("rundir", true),
    ("lockdir", true),
];

/// Resource holdings handed over a quick restart (`-R -C X`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Holdings {
    None,
    Local,
    Foreign,
    All,
}

impl Holdings {
    pub fn parse(s: &str) -> Option<Holdings> {
        Some(match s {
            "none" => Holdings::None,
            "local" => Holdings::Local,
            "foreign" => Holdings::Foreign,
            "all" => Holdings::All,
            _ => return None,
        })
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Holdings::None => "none",
            Holdings::Local => "local",
            Holdings::Foreign => "foreign",
            Holdings::All => "all",
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Cli {
    /// -f: stay in the foreground (systemd).
    pub foreground: bool,
    /// -k: SIGTERM the running daemon and wait for it.
    pub kill: bool,
    /// -r: validate the config, then SIGHUP the running daemon.
    pub reload: bool,
    /// -s: report status.
    pub status: bool,
    /// -V / --version.
    pub version: bool,
    /// -d, repeatable.
    pub debug: u32,
    /// -D: print the default configuration table.
    pub print_defaults: bool,
    /// -W: wiki-format output for -D.
    pub wiki: bool,
    /// -M: no resource management.
    pub no_resources: bool,
    /// -l: no realtime scheduling / memory locking.
    pub no_realtime: bool,
    /// -v: verbose (dump config).
    pub verbose: bool,
    /// -R: we are re-exec'ing ourselves (quick restart).
    pub restarting: bool,
    /// -C X (only with -R).
    pub holdings: Option<Holdings>,
    /// --check: validate the configuration and exit.
    pub check: bool,
    pub help: bool,
    /// --node NAME: act as this node instead of nodeinfo / `uname -n`.
    pub node: Option<String>,
    pub conf_dir: PathBuf,
    pub state_dir: PathBuf,
    pub run_dir: PathBuf,
    pub lock_dir: PathBuf,
}

impl Default for Cli {
    fn default() -> Self {
        Cli {
            foreground: false,
            kill: false,
            reload: false,
            status: false,
            version: false,
            debug: 0,
            print_defaults: false,
            wiki: false,
            no_resources: false,
            no_realtime: false,
            verbose: false,
            restarting: false,
            holdings: None,
            check: false,
            help: false,
            node: None,
            conf_dir: PathBuf::from(DEFAULT_CONF_DIR),
            state_dir: PathBuf::from(DEFAULT_STATE_DIR),
            run_dir: PathBuf::from(DEFAULT_RUN_DIR),
            lock_dir: PathBuf::from(DEFAULT_LOCK_DIR),
        }
    }
}

/// What the invocation asks for, in Heartbeat's order of precedence.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    Version,
    Help,
    PrintDefaults,
    Kill,
    Status,
    Check,
    Reload,
    Run,
}

impl Cli {
    pub fn mode(&self) -> Mode {
        if self.version {
            Mode::Version
        } else if self.help {
            Mode::Help
        } else if self.print_defaults {
            Mode::PrintDefaults
        } else if self.kill {
            Mode::Kill
        } else if self.status {
            Mode::Status
        } else if self.check {
            Mode::Check
        } else if self.reload {
            Mode::Reload
        } else {
            Mode::Run
        }
    }

    pub fn pid_file(&self) -> PathBuf {
        self.run_dir.join("heartbeat.pid")
    }

    /// /run/heartbeat: API socket `register`, `rsctmp/`.
    pub fn hb_run_dir(&self) -> PathBuf {
        self.run_dir.join("heartbeat")
    }

    /// The argv for a quick-restart re-exec (`-R [-C X]`), keeping our
    /// directory and debug options.
    pub fn restart_args(&self, holdings: Option<Holdings>) -> Vec<String> {
        let mut a = vec!["-R".to_string()];
        if let Some(h) = holdings {
            a.push("-C".into());
            a.push(h.as_str().into());
        }
        a.extend(std::iter::repeat_n("-d".to_string(), self.debug as usize));
        for (flag, on) in [
            ("-f", self.foreground),
            ("-M", self.no_resources),
            ("-l", self.no_realtime),
        ] {
            if on {
                a.push(flag.into());
            }
        }
        for (name, dir, default) in [
            ("--confdir", &self.conf_dir, DEFAULT_CONF_DIR),
            ("--statedir", &self.state_dir, DEFAULT_STATE_DIR),
            ("--rundir", &self.run_dir, DEFAULT_RUN_DIR),
            ("--lockdir", &self.lock_dir, DEFAULT_LOCK_DIR),
        ] {
            if dir.as_os_str() != default {
                a.push(name.into());
                a.push(dir.display().to_string());
            }
        }
        a
    }
}

/// A bad command line: `Display` gives the message and the usage text.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UsageError {
    pub message: String,
}

impl fmt::Display for UsageError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}\n{}", self.message, usage("heartbeat"))
    }
}

impl std::error::Error for UsageError {}

/// Heartbeat's usage text, then our long options.
pub fn usage(cmd: &str) -> String {
    format!(
        "\nUsage: {cmd} [-dDkMrRsvWlVf] [-C Current-resource-state]\n\
         \t-C only valid with -R\n\
         \t-r is mutually exclusive with -R\n\
         \t--confdir DIR   configuration directory (default {DEFAULT_CONF_DIR})\n\
         \t--node NAME     act as node NAME (default: nodeinfo, else uname -n)\n\
         \t--statedir DIR  state directory (default {DEFAULT_STATE_DIR})\n\
         \t--rundir DIR    run directory for the pid file and API socket (default {DEFAULT_RUN_DIR})\n\
         \t--lockdir DIR   serial port lock directory (default {DEFAULT_LOCK_DIR})\n\
         \t--check         validate the configuration and exit\n"
    )
}

fn err(message: impl Into<String>) -> UsageError {
    UsageError {
        message: message.into(),
    }
}

/// Parse the arguments after argv[0].
pub fn parse<S: AsRef<str>>(args: &[S]) -> Result<Cli, UsageError> {
    let mut cli = Cli::default();
    let mut current_status: Option<String> = None;
    let mut i = 0;
    let mut only_operands = false;
    while let Some(arg) = args.get(i).map(AsRef::as_ref) {
        i += 1;
        if only_operands || arg == "-" || !arg.starts_with('-') {
            return Err(err(format!("heartbeat: unexpected argument '{arg}'")));
        }
        if arg == "--" {
            only_operands = true;
            continue;
        }
        if let Some(long) = arg.strip_prefix("--") {
            let (name, inline) = match long.split_once('=') {
                Some((n, v)) => (n, Some(v.to_string())),
                None => (long, None),
            };
            if !LONG_OPTIONS.iter().any(|(n, _)| *n == name) {
                return Err(err(format!("heartbeat: unrecognized option '--{name}'")));
            }
            let value = |cli_i: &mut usize| -> Result<String, UsageError> {
                if let Some(v) = inline.clone() {
                    return Ok(v);
                }
                let v = args
                    .get(*cli_i)
                    .map(|s| s.as_ref().to_string())
                    .ok_or_else(|| {
                        err(format!("heartbeat: option '--{name}' requires an argument"))
                    })?;
                *cli_i += 1;
                Ok(v)
            };
            match name {
                "help" => cli.help = true,
                "version" => cli.version = true,
                "check" => cli.check = true,
                "confdir" => cli.conf_dir = PathBuf::from(value(&mut i)?),
                "statedir" => cli.state_dir = PathBuf::from(value(&mut i)?),
                "node" => cli.node = Some(value(&mut i)?.to_string()),
                "rundir" => cli.run_dir = PathBuf::from(value(&mut i)?),
                "lockdir" => cli.lock_dir = PathBuf::from(value(&mut i)?),
                _ => return Err(err(format!("heartbeat: unrecognized option '--{name}'"))),
            }
            if inline.is_some() && matches!(name, "help" | "version" | "check") {
                return Err(err(format!(
                    "heartbeat: option '--{name}' doesn't allow an argument"
                )));
            }
            continue;
        }
        let flags = arg.get(1..).unwrap_or_default();
        for (pos, c) in flags.char_indices() {
            if !SHORT_OPTIONS.contains(c) {
                return Err(err(format!("heartbeat: invalid option -- '{c}'")));
            }
            match c {
                'd' => cli.debug = cli.debug.saturating_add(1),
                'D' => cli.print_defaults = true,
                'k' => cli.kill = true,
                'M' => cli.no_resources = true,
                'r' => cli.reload = true,
                'R' => cli.restarting = true,
                's' => cli.status = true,
                'v' => cli.verbose = true,
                'W' => cli.wiki = true,
                'l' => cli.no_realtime = true,
                'f' => cli.foreground = true,
                // Heartbeat prints the version as soon as it sees -V.
                'V' => {
                    cli.version = true;
                    return Ok(cli);
                }
                'C' => {
                    let rest = flags.get(pos + 1..).unwrap_or_default();
                    let v = if rest.is_empty() {
                        let v = args
                            .get(i)
                            .map(|s| s.as_ref().to_string())
                            .ok_or_else(|| err("heartbeat: option requires an argument -- 'C'"))?;
                        i += 1;
                        v
                    } else {
                        rest.to_string()
                    };
                    current_status = Some(v);
                    break;
                }
                other => return Err(err(format!("heartbeat: invalid option -- '{other}'"))),
            }
        }
    }
    if let Some(v) = current_status {
        if !cli.restarting {
            return Err(err("heartbeat: -C only valid with -R"));
        }
        cli.holdings = Some(Holdings::parse(&v).ok_or_else(|| {
            err(format!(
                "heartbeat: bad -C value '{v}' (none, local, foreign or all)"
            ))
        })?);
    }
    if cli.reload && cli.restarting {
        return Err(err("heartbeat: -r is mutually exclusive with -R"));
    }
    Ok(cli)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(args: &[&str]) -> Result<Cli, UsageError> {
        parse(args)
    }

    #[test]
    fn no_arguments_runs_as_daemon_with_defaults() {
        let c = p(&[]).unwrap();
        assert_eq!(c, Cli::default());
        assert_eq!(c.mode(), Mode::Run);
        assert_eq!(c.pid_file(), PathBuf::from("/run/heartbeat.pid"));
        assert_eq!(c.hb_run_dir(), PathBuf::from("/run/heartbeat"));
    }

    #[test]
    fn flags_cluster_and_repeat() {
        let c = p(&["-fdd", "-d", "-Ml"]).unwrap();
        assert!(c.foreground && c.no_resources && c.no_realtime);
        assert_eq!(c.debug, 3);
    }

    #[test]
    fn modes() {
        assert_eq!(p(&["-k"]).unwrap().mode(), Mode::Kill);
        assert_eq!(p(&["-s"]).unwrap().mode(), Mode::Status);
        assert_eq!(p(&["-r"]).unwrap().mode(), Mode::Reload);
        assert_eq!(p(&["-D", "-W"]).unwrap().mode(), Mode::PrintDefaults);
        assert_eq!(p(&["--check"]).unwrap().mode(), Mode::Check);
        assert_eq!(p(&["--help"]).unwrap().mode(), Mode::Help);
        assert_eq!(p(&["--version"]).unwrap().mode(), Mode::Version);
    }

    #[test]
    fn version_wins_as_soon_as_seen() {
        assert_eq!(p(&["-V", "-x"]).unwrap().mode(), Mode::Version);
        assert_eq!(p(&["-dV"]).unwrap().mode(), Mode::Version);
        assert!(p(&["-x", "-V"]).is_err());
    }

    #[test]
    fn restart_with_holdings() {
        let c = p(&["-R", "-C", "all"]).unwrap();
        assert!(c.restarting);
        assert_eq!(c.holdings, Some(Holdings::All));
        let c = p(&["-RClocal"]).unwrap();
        assert_eq!(c.holdings, Some(Holdings::Local));
        assert_eq!(
            p(&["-C", "all"]).unwrap_err().message,
            "heartbeat: -C only valid with -R"
        );
        assert!(p(&["-R", "-C", "bogus"]).is_err());
        assert!(p(&["-R", "-C"]).is_err());
        assert!(p(&["-r", "-R"]).is_err());
    }

    #[test]
    fn long_options_with_values() {
        let c = p(&[
            "--confdir",
            "/tmp/x/ha.d",
            "--statedir=/tmp/x/state",
            "--rundir",
            "/tmp/x/run",
            "--lockdir=/tmp/x/lock",
            "-f",
        ])
        .unwrap();
        assert_eq!(c.conf_dir, PathBuf::from("/tmp/x/ha.d"));
        assert_eq!(c.state_dir, PathBuf::from("/tmp/x/state"));
        assert_eq!(c.pid_file(), PathBuf::from("/tmp/x/run/heartbeat.pid"));
        assert_eq!(c.lock_dir, PathBuf::from("/tmp/x/lock"));
        assert!(p(&["--confdir"]).is_err());
        assert!(p(&["--check=yes"]).is_err());
        assert!(p(&["--bogus"]).is_err());
    }

    #[test]
    fn bad_arguments_give_usage() {
        let e = p(&["-x"]).unwrap_err();
        assert_eq!(e.message, "heartbeat: invalid option -- 'x'");
        let text = e.to_string();
        assert!(text.contains("Usage: heartbeat [-dDkMrRsvWlVf] [-C Current-resource-state]"));
        assert!(p(&["stray"]).is_err());
        assert!(p(&["--", "-f"]).is_err());
    }

    #[test]
    fn option_lists_match_the_parser() {
        for (name, takes_value) in LONG_OPTIONS {
            let arg = if *takes_value {
                format!("--{name}=x")
            } else {
                format!("--{name}")
            };
            assert!(p(&[arg.as_str()]).is_ok(), "{arg}");
        }
        for c in SHORT_OPTIONS.chars() {
            let arg = format!("-{c}");
            let args: Vec<&str> = match c {
                'C' => vec!["-R", "-C", "all"],
                _ => vec![arg.as_str()],
            };
            assert!(p(&args).is_ok(), "{args:?}");
        }
    }

    #[test]
    fn restart_args_round_trip() {
        let c = p(&["-f", "-dd", "--statedir", "/tmp/s", "-M"]).unwrap();
        let args = c.restart_args(Some(Holdings::Foreign));
        let again = parse(&args).unwrap();
        assert!(again.restarting && again.foreground && again.no_resources);
        assert_eq!(again.debug, 2);
        assert_eq!(again.holdings, Some(Holdings::Foreign));
        assert_eq!(again.state_dir, PathBuf::from("/tmp/s"));
        assert_eq!(again.conf_dir, c.conf_dir);
    }
}
