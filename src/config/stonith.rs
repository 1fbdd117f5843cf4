//! The STONITH device of this node, from `stonith TYPE CFGFILE` and
//! `stonith_host HOST|* TYPE PARAMS…` (kept raw in [`HaCf`]), and the
//! `stonith` command line that resets a node with it (cluster-glue's
//! `stonith` tool: `-p` assigns the words of PARAMS to the plugin's
//! configuration names in order, the last name taking the rest, exactly
//! as Heartbeat's `stonith_host` does).

use std::path::{Path, PathBuf};

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

    /// Arguments of `stonith` for `op` (`reset`, …) on `node`.
    pub fn reset_args(&self, node: &str) -> Vec<String> {
        let mut args = vec!["-t".to_string(), self.kind.clone()];
        match &self.params {
            StonithParams::Inline(p) => args.extend(["-p".to_string(), p.clone()]),
            StonithParams::File(f) => args.extend(["-F".to_string(), f.display().to_string()]),
        }
        args.extend(["-T".to_string(), "reset".to_string(), node.to_string()]);
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
/// a `stonith_host` line for a host that is not a node never applies.
pub fn check(cf: &HaCf, path: &Path, diags: &mut Diagnostics) {
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
        check(&c, Path::new("/etc/ha.d/ha.cf"), &mut d);
        let text: Vec<String> = d.iter().map(|x| x.to_string()).collect();
        assert_eq!(text.len(), 3, "{text:?}");
        assert!(text[0].contains("cannot read /nonexistent/st.cfg"));
        assert!(text[1].contains("no configuration file given"));
        assert!(text[2].contains("charlie: not a node"));
    }
}
