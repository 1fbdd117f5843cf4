//! `heartbeat --check [--confdir DIR] [--node NAME]`: load the
//! configuration as start-up would and print every problem.
//!
//! Output (stdout): one line per diagnostic, `error: FILE:LINE: what — fix`
//! or `warning: …`, then a one-line summary. Exit 0 when heartbeat would
//! start (warnings allowed), 6 (LSB "not configured") when not, 2 for bad
//! arguments. `--node NAME` (a heartbeat-rs extension) checks the
//! configuration as node NAME instead of nodeinfo / `uname -n`.

use std::fmt::Write as _;
use std::path::PathBuf;

use super::diag::Diagnostics;
use super::load::{load_with, LoadOptions, DEFAULT_CONFDIR};

/// LSB exit code "program is not configured".
pub const EXIT_NOT_CONFIGURED: i32 = 6;
/// LSB exit code "invalid or excess arguments".
pub const EXIT_USAGE: i32 = 2;

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CheckOptions {
    pub confdir: PathBuf,
    pub node: Option<String>,
}

impl Default for CheckOptions {
    fn default() -> Self {
        CheckOptions {
            confdir: PathBuf::from(DEFAULT_CONFDIR),
            node: None,
        }
    }
}

pub const USAGE: &str = "usage: heartbeat --check [--confdir DIR] [--node NAME]";

impl CheckOptions {
    /// Parse the arguments after the program name; `--check` itself is
    /// accepted anywhere. `Err` is a message for stderr.
    pub fn from_args<I, S>(args: I) -> Result<CheckOptions, String>
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        let mut options = CheckOptions::default();
        let mut args = args.into_iter().map(Into::into);
        while let Some(arg) = args.next() {
            let (flag, inline) = match arg.split_once('=') {
                Some((f, v)) if f.starts_with("--") => (f.to_string(), Some(v.to_string())),
                _ => (arg.clone(), None),
            };
            match flag.as_str() {
                "--check" if inline.is_none() => {}
                "--confdir" | "--node" => {
                    let Some(value) = inline.or_else(|| args.next()) else {
                        return Err(format!("heartbeat: {flag} needs a value\n{USAGE}"));
                    };
                    if value.is_empty() {
                        return Err(format!("heartbeat: {flag} needs a value\n{USAGE}"));
                    }
                    if flag == "--confdir" {
                        options.confdir = PathBuf::from(value);
                    } else {
                        options.node = Some(value);
                    }
                }
                _ => return Err(format!("heartbeat: unexpected argument '{arg}'\n{USAGE}")),
            }
        }
        Ok(options)
    }
}

/// What `--check` prints and its exit code.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CheckReport {
    pub stdout: String,
    pub exit_code: i32,
}

pub fn run(options: &CheckOptions) -> CheckReport {
    let load_options = LoadOptions {
        node: options.node.clone(),
    };
    let mut out = String::new();
    match load_with(&options.confdir, &load_options) {
        Ok(mut config) => {
            let hacf_path = config.confdir.join("ha.cf");
            if let Some(d) = super::advice::split_brain(&config.hacf, &hacf_path) {
                config.warnings.push(d);
            }
            print_diagnostics(&mut out, &config.warnings);
            let _ = writeln!(
                out,
                "heartbeat --check: configuration OK for node {} ({})",
                config.local_node,
                counts(&config.warnings)
            );
            CheckReport {
                stdout: out,
                exit_code: 0,
            }
        }
        Err(diags) => {
            print_diagnostics(&mut out, &diags);
            let _ = writeln!(
                out,
                "heartbeat --check: configuration error, heartbeat would not start ({})",
                counts(&diags)
            );
            CheckReport {
                stdout: out,
                exit_code: EXIT_NOT_CONFIGURED,
            }
        }
    }
}

fn print_diagnostics(out: &mut String, diags: &Diagnostics) {
    for d in diags {
        let _ = writeln!(out, "{}: {d}", d.severity.label());
    }
}

fn counts(diags: &Diagnostics) -> String {
    let plural = |n: usize, word: &str| {
        if n == 1 {
            format!("1 {word}")
        } else {
            format!("{n} {word}s")
        }
    };
    format!(
        "{}, {}",
        plural(diags.error_count(), "error"),
        plural(diags.warning_count(), "warning")
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn argument_forms() {
        assert_eq!(
            CheckOptions::from_args(["--check"]),
            Ok(CheckOptions::default())
        );
        let o =
            CheckOptions::from_args(["--check", "--confdir", "/x", "--node=Alpha"]).expect("ok");
        assert_eq!(o.confdir, PathBuf::from("/x"));
        assert_eq!(o.node.as_deref(), Some("Alpha"));
        let o = CheckOptions::from_args(["--confdir=/y", "--check"]).expect("ok");
        assert_eq!(o.confdir, PathBuf::from("/y"));
        assert!(CheckOptions::from_args(["--check", "--confdir"]).is_err());
        assert!(CheckOptions::from_args(["--check", "--bogus"]).is_err());
        assert!(CheckOptions::from_args(["--check", "--node="]).is_err());
    }
}
