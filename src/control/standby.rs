//! `hb_standby` and `hb_takeover` (heartbeat/lib/hb_standby.in,
//! hb_takeover.in): check the argument, then write the script's message to
//! the daemon's FIFO as resource-agents' `ha_clustermsg` does.

use std::fs::OpenOptions;
use std::io::{self, Write};
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};

use super::fifo::clustermsg_bytes;

/// resource-agents' default `HA_FIFO`.
pub const DEFAULT_FIFO: &str = "/var/lib/heartbeat/fifo";

/// `$HA_FIFO` or [`DEFAULT_FIFO`].
pub fn fifo_path() -> PathBuf {
    std::env::var_os("HA_FIFO")
        .filter(|p| !p.is_empty())
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(DEFAULT_FIFO))
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Script {
    Standby,
    Takeover,
}

/// What the script decided: the message lines to send, or an exit code.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Decision {
    Send {
        lines: Vec<(&'static str, String)>,
        /// `ha_log` text, if the script logs one.
        log: Option<String>,
    },
    Exit(i32),
}

/// Argument handling of the shell scripts; `prog` is `$0`. Writes the
/// usage texts (stdout/stderr split as the scripts do).
pub fn decide(
    script: Script,
    prog: &str,
    args: &[String],
    out: &mut dyn Write,
    err: &mut dyn Write,
) -> Decision {
    // Console output failures cannot be reported anywhere else.
    let usage = |out: &mut dyn Write, err: &mut dyn Write| {
        let _ = writeln!(out, "usage:");
        let _ = writeln!(err, "{prog} [all|foreign|local|failback]");
        Decision::Exit(1)
    };
    if args.len() >= 2 {
        let _ = writeln!(out, "{prog}: too many arguments");
        return usage(out, err);
    }
    let resources = args.first().map(String::as_str).unwrap_or("all");
    let valid = matches!(resources, "all" | "foreign" | "local" | "failback");
    match script {
        Script::Standby => {
            if !valid && resources != "--help" {
                let _ = writeln!(out, "{prog}: wrong resources({resources}).");
                return usage(out, err);
            }
            let resources = match resources {
                "failback" => "foreign",
                "--help" => return usage(out, err),
                other => other,
            };
            Decision::Send {
                lines: vec![
                    ("t", "ask_resources".to_string()),
                    ("rsc_hold", resources.to_string()),
                    ("info", "me".to_string()),
                ],
                log: Some(format!("Going standby [{resources}].")),
            }
        }
        Script::Takeover => {
            if resources == "--help" {
                return usage(out, err);
            }
            if !valid {
                let _ = writeln!(out, "{prog}: wrong resources({resources}).");
                return usage(out, err);
            }
            Decision::Send {
                lines: vec![
                    ("t", "hb_takeover".to_string()),
                    ("rsc_hold", resources.to_string()),
                ],
                log: None,
            }
        }
    }
}

/// The exact bytes for the FIFO.
pub fn message_bytes(lines: &[(&'static str, String)]) -> Vec<u8> {
    let pairs: Vec<(&str, &str)> = lines.iter().map(|(n, v)| (*n, v.as_str())).collect();
    clustermsg_bytes(&pairs)
}

/// Writes one message to the FIFO in a single write (atomic below
/// PIPE_BUF). Unlike the shell (`>> $HA_FIFO`), a missing FIFO is not
/// created as a plain file and a FIFO without reader (daemon stopped) is an
/// error instead of a hang.
pub fn write_fifo(path: &Path, bytes: &[u8]) -> io::Result<()> {
    let meta = std::fs::metadata(path)?;
    if !std::os::unix::fs::FileTypeExt::is_fifo(&meta.file_type()) {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            format!("{} is not a FIFO", path.display()),
        ));
    }
    let mut file = OpenOptions::new()
        .append(true)
        .custom_flags(libc::O_NONBLOCK)
        .open(path)
        .map_err(|e| {
            if e.raw_os_error() == Some(libc::ENXIO) {
                io::Error::new(
                    io::ErrorKind::NotConnected,
                    format!("nobody reads {} (is heartbeat running?)", path.display()),
                )
            } else {
                e
            }
        })?;
    file.write_all(bytes)
}

/// `date "+%b %d %T "` (resource-agents' `HA_DATEFMT`).
fn hadate(now_secs: i64) -> String {
    let t = crate::log::LocalTime::from_unix(now_secs);
    let line = crate::log::file_line(
        true,
        &t,
        &crate::log::Origin {
            host: "",
            entity: "",
            pid: 0,
        },
        crate::core::Level::Info,
        "",
    );
    // "Nov 22 04:01:38  : [0]: info: \n" -> "Nov 22 04:01:38 "
    line.get(..16).unwrap_or_default().to_string()
}

/// resource-agents' `ha_log` for a script run by hand or by the daemon:
/// stderr on a terminal, else `$HA_LOGFACILITY` (syslog), `$HA_LOGFILE`,
/// `$HA_DEBUGLOG`, or stderr with a date when none is set.
fn ha_log(prog: &str, text: &str) {
    let var = |name: &str| std::env::var(name).ok().filter(|v| !v.is_empty());
    // SAFETY: isatty only inspects the descriptor.
    if unsafe { libc::isatty(2) } == 1 {
        eprintln!("{text}");
        return;
    }
    let base = Path::new(prog)
        .file_name()
        .map(|b| b.to_string_lossy().into_owned())
        .unwrap_or_default();
    let tag = format!("{base}[{}]", std::process::id());
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_secs()).unwrap_or(0))
        .unwrap_or(0);
    let date = hadate(now);
    let facility = var("HA_LOGFACILITY").filter(|f| f != "none");
    let logfile = var("HA_LOGFILE");
    if let Some(Ok(Some(fac))) = facility.as_deref().map(crate::log::parse_facility) {
        if let (Ok(ident), Ok(msg)) = (
            std::ffi::CString::new(tag.clone()),
            std::ffi::CString::new(text),
        ) {
            // SAFETY: valid C strings; `ident` outlives closelog.
            unsafe {
                libc::openlog(ident.as_ptr(), 0, fac.0);
                libc::syslog(libc::LOG_NOTICE, c"%s".as_ptr(), msg.as_ptr());
                libc::closelog();
            }
        }
    }
    let append = |path: &str, line: String| {
        if let Ok(mut f) = OpenOptions::new().create(true).append(true).open(path) {
            // Logging is best effort, as in the shell.
            let _ = f.write_all(line.as_bytes());
        }
    };
    // `echo $(hadate)" $TAG: …"` joins the split date words with one space.
    let date_words = date.trim_end();
    if let Some(file) = &logfile {
        append(file, format!("{date_words}  {tag}:    {text}\n"));
    }
    if facility.is_none() && logfile.is_none() {
        eprintln!("{date_words} {text}");
    }
    if let Some(debug) = var("HA_DEBUGLOG").filter(|d| d != "/dev/null") {
        if logfile.as_deref() != Some(debug.as_str()) {
            append(&debug, format!("{tag}:\t{date_words} {text}\n"));
        }
    }
}

/// The whole script: exit code.
pub fn main(script: Script) -> i32 {
    let mut argv = std::env::args();
    let prog = argv.next().unwrap_or_else(|| match script {
        Script::Standby => "hb_standby".into(),
        Script::Takeover => "hb_takeover".into(),
    });
    let args: Vec<String> = argv.collect();
    let decision = decide(script, &prog, &args, &mut io::stdout(), &mut io::stderr());
    let (lines, log) = match decision {
        Decision::Exit(code) => return code,
        Decision::Send { lines, log } => (lines, log),
    };
    if let Some(text) = log {
        ha_log(&prog, &text);
    }
    let path = fifo_path();
    match write_fifo(&path, &message_bytes(&lines)) {
        Ok(()) => 0,
        Err(e) => {
            eprintln!("{prog}: cannot write to {}: {e}", path.display());
            1
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(script: Script, args: &[&str]) -> (Decision, String, String) {
        let args: Vec<String> = args.iter().map(|s| s.to_string()).collect();
        let (mut out, mut err) = (Vec::new(), Vec::new());
        let d = decide(
            script,
            "/usr/share/heartbeat/hb_x",
            &args,
            &mut out,
            &mut err,
        );
        (
            d,
            String::from_utf8_lossy(&out).into_owned(),
            String::from_utf8_lossy(&err).into_owned(),
        )
    }

    fn sent(d: &Decision) -> Vec<u8> {
        match d {
            Decision::Send { lines, .. } => message_bytes(lines),
            Decision::Exit(code) => panic!("exit {code}"),
        }
    }

    #[test]
    fn standby_messages() {
        let (d, _, _) = run(Script::Standby, &[]);
        assert_eq!(
            sent(&d),
            b">>>\nt=ask_resources\nrsc_hold=all\ninfo=me\n<<<\n".to_vec()
        );
        let (d, _, _) = run(Script::Standby, &["failback"]);
        assert_eq!(
            sent(&d),
            b">>>\nt=ask_resources\nrsc_hold=foreign\ninfo=me\n<<<\n".to_vec()
        );
        let (d, _, _) = run(Script::Standby, &["local"]);
        assert!(matches!(&d, Decision::Send { log: Some(l), .. } if l == "Going standby [local]."));
    }

    #[test]
    fn takeover_messages() {
        let (d, _, _) = run(Script::Takeover, &["failback"]);
        assert_eq!(
            sent(&d),
            b">>>\nt=hb_takeover\nrsc_hold=failback\n<<<\n".to_vec()
        );
        let (d, _, _) = run(Script::Takeover, &[]);
        assert_eq!(
            sent(&d),
            b">>>\nt=hb_takeover\nrsc_hold=all\n<<<\n".to_vec()
        );
    }

    #[test]
    fn bad_arguments() {
        let (d, out, err) = run(Script::Standby, &["bogus"]);
        assert_eq!(d, Decision::Exit(1));
        assert_eq!(
            out,
            "/usr/share/heartbeat/hb_x: wrong resources(bogus).\nusage:\n"
        );
        assert_eq!(
            err,
            "/usr/share/heartbeat/hb_x [all|foreign|local|failback]\n"
        );
        let (d, out, _) = run(Script::Takeover, &["a", "b"]);
        assert_eq!(d, Decision::Exit(1));
        assert_eq!(
            out,
            "/usr/share/heartbeat/hb_x: too many arguments\nusage:\n"
        );
        for script in [Script::Standby, Script::Takeover] {
            let (d, out, _) = run(script, &["--help"]);
            assert_eq!(d, Decision::Exit(1));
            assert_eq!(out, "usage:\n");
        }
    }
}
