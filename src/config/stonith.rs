//! The STONITH device of this node, from `stonith TYPE CFGFILE` and
//! `stonith_host HOST|* TYPE PARAMS…` (kept raw in [`HaCf`]), and the
//! `stonith` command line that resets a node with it (cluster-glue's
//! `stonith` tool: `-p` assigns the words of PARAMS to the plugin's
//! configuration names in order, the last name taking the rest, exactly
//! as Heartbeat's `stonith_host` does).

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use super::diag::{Diagnostic, Diagnostics};
use super::hacf::words;
use super::model::HaCf;

/// Where the device's parameters come from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum StonithParams {
    /// `stonith_host`: the rest of the line after the type.
    Inline(String),
    /// `stonith`: a file in the plugin's `-F` syntax.
    File(PathBuf),
}

/// One configured device.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StonithDevice {
    /// Plugin type as written, e.g. `external/ssh`, `null`.
    pub kind: String,
    pub params: StonithParams,
}

impl StonithDevice {
    /// The device this node uses. Heartbeat: a `stonith_host` line applies
    /// when its host is `*` or the local node, the last applicable line
    /// wins. A `stonith` line applies everywhere; we prefer any applicable
    /// `stonith_host` line over it (HaCf does not keep the order between
    /// the two kinds).
    pub fn for_node(cf: &HaCf, local: &str) -> Option<StonithDevice> {
        let host_line = cf.stonith_host.iter().rev().find_map(|line| {
            let mut w = words(line);
            let host = w.next()?;
            if host != "*" && !host.eq_ignore_ascii_case(local) {
                return None;
            }
            let kind = w.next()?;
            Some(StonithDevice {
                kind: kind.to_string(),
                params: StonithParams::Inline(after_words(line, 2).to_string()),
            })
        });
        host_line.or_else(|| {
            cf.stonith.iter().rev().find_map(|line| {
                let mut w = words(line);
                let kind = w.next()?;
                let file = w.next().unwrap_or_default();
                Some(StonithDevice {
                    kind: kind.to_string(),
                    params: StonithParams::File(PathBuf::from(file)),
                })
            })
        })
    }

    /// Arguments of `stonith` that reset `node`.
    pub fn reset_args(&self, node: &str) -> Vec<String> {
        let mut args = self.device_args();
        args.extend(["-T".to_string(), "reset".to_string(), node.to_string()]);
        args
    }

    /// Arguments of `stonith` that ask for the device's status.
    pub fn status_args(&self) -> Vec<String> {
        let mut args = self.device_args();
        args.push("-S".to_string());
        args
    }

    fn device_args(&self) -> Vec<String> {
        let mut args = vec!["-t".to_string(), self.kind.clone()];
        match &self.params {
            StonithParams::Inline(p) => args.extend(["-p".to_string(), p.clone()]),
            StonithParams::File(f) => args.extend(["-F".to_string(), f.display().to_string()]),
        }
        args
    }
}

/// `line` without its first `n` words (and the blanks after them).
fn after_words(line: &str, n: usize) -> &str {
    let mut rest = line.trim_start_matches(is_blank);
    for _ in 0..n {
        let end = rest.find(is_blank).unwrap_or(rest.len());
        rest = rest.get(end..).unwrap_or_default();
        rest = rest.trim_start_matches(is_blank);
    }
    rest.trim_end()
}

fn is_blank(c: char) -> bool {
    matches!(c, ' ' | '\t' | '\r' | '\n' | '\x0c')
}

/// `--check`/start-up: a `stonith` line needs a readable parameter file;
/// a `stonith_host` line for a host that is not a node never applies; every
/// type must be one cluster-glue can load.
pub fn check(cf: &HaCf, local: &str, path: &Path, diags: &mut Diagnostics) {
    check_lines(cf, path, diags);
    check_types(cf, local, &stonith_tool(), path, diags);
}

fn check_lines(cf: &HaCf, path: &Path, diags: &mut Diagnostics) {
    for line in &cf.stonith {
        let mut w = words(line);
        let kind = w.next().unwrap_or_default();
        match w.next() {
            None => diags.push(Diagnostic::error(
                path,
                None,
                format!("stonith {kind}: no configuration file given"),
                "write stonith TYPE CONFIGFILE (the file holds the device parameters)",
            )),
            Some(file) => {
                if let Err(e) = std::fs::File::open(file) {
                    diags.push(Diagnostic::error(
                        path,
                        None,
                        format!("stonith {kind}: cannot read {file}: {e}"),
                        "create the file with the device parameters, or fix the path",
                    ));
                }
            }
        }
    }
    for line in &cf.stonith_host {
        let host = words(line).next().unwrap_or_default();
        if host != "*" && !cf.nodes.iter().any(|n| n.eq_ignore_ascii_case(host)) {
            diags.push(Diagnostic::warning(
                path,
                None,
                format!("stonith_host {host}: not a node of this cluster, the line never applies"),
                "use * or a name from the node lines",
            ));
        }
    }
}

/// cluster-glue's `stonith` tool: from PATH, else Debian's location.
pub fn stonith_tool() -> PathBuf {
    let found = std::env::var_os("PATH").and_then(|path| {
        std::env::split_paths(&path)
            .map(|dir| dir.join("stonith"))
            .find(|p| p.is_file())
    });
    found.unwrap_or_else(|| PathBuf::from("/usr/sbin/stonith"))
}

/// How long `stonith -t TYPE -n` may take at start-up.
const TYPE_CHECK_TIMEOUT: Duration = Duration::from_secs(10);

/// Heartbeat refuses to start with a STONITH type its library cannot load
/// ("Invalid Stonith type"); we ask the tool the same question
/// (`stonith -t TYPE -n`) for the device this node would use (a line for
/// another host may name a type only installed there).
pub fn check_types(cf: &HaCf, local: &str, tool: &Path, path: &Path, diags: &mut Diagnostics) {
    let kinds: Vec<String> = StonithDevice::for_node(cf, local)
        .map(|d| d.kind)
        .into_iter()
        .collect();
    if kinds.is_empty() {
        return;
    }
    if !tool.is_file() {
        diags.push(Diagnostic::error(
            path,
            None,
            format!("STONITH is configured but {} is missing", tool.display()),
            "install cluster-glue (apt-get install cluster-glue)",
        ));
        return;
    }
    for kind in &kinds {
        if let Err(why) = type_loads(tool, kind) {
            diags.push(Diagnostic::error(
                path,
                None,
                format!("invalid STONITH type {kind}: {why}"),
                "use a type listed by `stonith -L`",
            ));
        }
    }
}

/// cluster-glue runs `external/NAME` as this directory's NAME.
const EXTERNAL_DIR: &str = "/usr/lib/stonith/plugins/external";

fn type_loads(tool: &Path, kind: &str) -> Result<(), String> {
    if let Some(name) = kind.strip_prefix("external/") {
        // external.so accepts any name; only running the script fails.
        use std::os::unix::fs::PermissionsExt;
        let script = Path::new(EXTERNAL_DIR).join(name);
        let runnable = std::fs::metadata(&script)
            .is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0);
        if !runnable {
            return Err(format!("{} is not an executable file", script.display()));
        }
    }
    let mut child = Command::new(tool)
        .args(["-t", kind, "-n"])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .map_err(|e| format!("cannot run {}: {e}", tool.display()))?;
    let end = Instant::now() + TYPE_CHECK_TIMEOUT;
    loop {
        match child.try_wait() {
            Ok(Some(status)) if status.success() => return Ok(()),
            Ok(Some(status)) => return Err(format!("stonith -t {kind} -n: {status}")),
            Ok(None) if Instant::now() < end => std::thread::sleep(Duration::from_millis(20)),
            Ok(None) => {
                let _ = child.kill();
                let _ = child.wait();
                return Err(format!("stonith -t {kind} -n did not answer"));
            }
            Err(e) => return Err(e.to_string()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cf(hosts: &[&str], plain: &[&str]) -> HaCf {
        HaCf {
            nodes: vec!["alpha".into(), "bravo".into()],
            stonith_host: hosts.iter().map(|s| s.to_string()).collect(),
            stonith: plain.iter().map(|s| s.to_string()).collect(),
            ..HaCf::default()
        }
    }

    #[test]
    fn last_applicable_stonith_host_line_wins_and_keeps_its_params() {
        let c = cf(
            &[
                "*  null  alpha bravo",
                "bravo external/ssh  alpha,bravo  x",
                "alpha meatware alpha",
            ],
            &["baytech /etc/st.cfg"],
        );
        let bravo = StonithDevice::for_node(&c, "bravo").unwrap();
        assert_eq!(bravo.kind, "external/ssh");
        assert_eq!(bravo.params, StonithParams::Inline("alpha,bravo  x".into()));
        assert_eq!(
            bravo.reset_args("alpha"),
            [
                "-t",
                "external/ssh",
                "-p",
                "alpha,bravo  x",
                "-T",
                "reset",
                "alpha"
            ]
        );
        let alpha = StonithDevice::for_node(&c, "alpha").unwrap();
        assert_eq!(alpha.kind, "meatware");
        let other = StonithDevice::for_node(&c, "charlie").unwrap();
        assert_eq!(other.kind, "null");
        assert_eq!(other.params, StonithParams::Inline("alpha bravo".into()));
    }

    #[test]
    fn stonith_line_is_the_fallback_and_uses_a_file() {
        let c = cf(&["bravo null bravo"], &["baytech /etc/st.cfg"]);
        let d = StonithDevice::for_node(&c, "alpha").unwrap();
        assert_eq!(
            d.reset_args("bravo"),
            ["-t", "baytech", "-F", "/etc/st.cfg", "-T", "reset", "bravo"]
        );
        assert_eq!(StonithDevice::for_node(&cf(&[], &[]), "alpha"), None);
    }

    #[test]
    fn check_reports_missing_file_and_foreign_host() {
        let c = cf(
            &["charlie null charlie"],
            &["baytech /nonexistent/st.cfg", "apcsmart"],
        );
        let mut d = Diagnostics::new();
        check_lines(&c, Path::new("/etc/ha.d/ha.cf"), &mut d);
        let text: Vec<String> = d.iter().map(|x| x.to_string()).collect();
        assert_eq!(text.len(), 3, "{text:?}");
        assert!(text[0].contains("cannot read /nonexistent/st.cfg"));
        assert!(text[1].contains("no configuration file given"));
        assert!(text[2].contains("charlie: not a node"));
    }

    #[test]
    fn unknown_types_and_a_missing_tool_are_errors() {
        let c = cf(
            &[
                "* null alpha",
                "alpha nosuchtype x",
                "bravo external/nosuchplugin x",
            ],
            &[],
        );
        let p = Path::new("/etc/ha.d/ha.cf");
        let mut d = Diagnostics::new();
        check_types(&c, "alpha", Path::new("/nonexistent/stonith"), p, &mut d);
        assert_eq!(d.error_count(), 1);
        assert!(d.iter().next().unwrap().to_string().contains("is missing"));
        // A fake tool that knows only `null`.
        let dir = std::env::temp_dir().join(format!("hbrs-sttype-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let tool = dir.join("stonith");
        std::fs::write(&tool, "#!/bin/sh\n[ \"$2\" = null ]\n").unwrap();
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&tool, std::fs::Permissions::from_mode(0o755)).unwrap();
        let errors = |node: &str| {
            let mut d = Diagnostics::new();
            check_types(&c, node, &tool, p, &mut d);
            d.iter().map(|x| x.to_string()).collect::<Vec<_>>()
        };
        let alpha = errors("alpha");
        assert_eq!(alpha.len(), 1, "{alpha:?}");
        assert!(
            alpha[0].contains("invalid STONITH type nosuchtype"),
            "{alpha:?}"
        );
        let bravo = errors("bravo");
        assert_eq!(bravo.len(), 1, "{bravo:?}");
        assert!(
            bravo[0].contains("invalid STONITH type external/nosuchplugin"),
            "{bravo:?}"
        );
        // charlie uses the `*` line: null.
        assert!(errors("charlie").is_empty());
        let _ = std::fs::remove_dir_all(&dir);
    }
}
