//! `haresources` as Heartbeat's ResourceManager reads it (sed/awk
//! pre-processing of heartbeat/lib/ResourceManager.in):
//!
//! * a `#` starts a comment up to the end of the line;
//! * a line ending in `\` is joined with the next one (no blank inserted);
//! * runs of blanks/tabs are squeezed, blank lines dropped;
//! * the first word (the preferred node) is lower-cased and must be a
//!   configured node; the rest are the group's resources, started left to
//!   right; the first resource, as written, is the group key;
//! * a resource that glob-matches `[0-9]*.[0-9]*.[0-9]*.[0-9]*` is short for
//!   `IPaddr::<resource>`; `SCRIPT::ARG::ARG` passes the arguments.

use std::collections::HashMap;
use std::path::Path;

use super::diag::{Diagnostic, Diagnostics, Parsed};
use super::model::{Origin, Resource, ResourceGroup};

/// Parse haresources content against the configured node names
/// (lower-case) and ping node names (lower-case). An empty `nodes` skips
/// the node check (ha.cf then already reports "no nodes defined").
pub fn parse(
    content: &[u8],
    path: &Path,
    nodes: &[String],
    ping_nodes: &[String],
) -> Parsed<Vec<ResourceGroup>> {
    let mut diags = Diagnostics::new();
    let mut groups: Vec<ResourceGroup> = Vec::new();
    for logical in logical_lines(content) {
        let line_no = logical.first_line;
        let mut err = |message: String, fix: &str| {
            diags.push(Diagnostic::error(path, Some(line_no), message, fix));
        };
        if logical.comment_in_continuation {
            err(
                "a '#' on a continued line is not a comment for Heartbeat's ResourceManager (it joins lines before stripping comments only from the first)".into(),
                "put the comment on its own line, before the group",
            );
        }
        if logical.dangling_backslash {
            err(
                "the last line ends with '\\' but nothing follows".into(),
                "remove the trailing backslash",
            );
        }
        let Ok(text) = std::str::from_utf8(&logical.text) else {
            err(
                "line is not valid UTF-8".into(),
                "save haresources as plain text",
            );
            continue;
        };
        if text.contains('\r') {
            err(
                "carriage return (DOS line ending): it would become part of a resource name".into(),
                "convert the file to Unix line endings (e.g. dos2unix)",
            );
            continue;
        }
        let mut words = text.split([' ', '\t']).filter(|w| !w.is_empty());
        let Some(node) = words.next() else {
            continue;
        };
        let node = node.to_ascii_lowercase();
        let specs: Vec<&str> = words.collect();
        if ping_nodes.contains(&node) {
            diags.push(Diagnostic::warning(
                path,
                Some(line_no),
                format!(
                    "'{node}' is a ping node, not a cluster node: nobody will prefer this group"
                ),
                "put the name of a node from ha.cf's node lines first",
            ));
        } else if !nodes.is_empty() && !nodes.contains(&node) {
            let known = nodes.join(", ");
            diags.push(Diagnostic::error(
                path,
                Some(line_no),
                format!("bad nodename [{node}]: not a node in ha.cf"),
                format!("start the line with one of the configured nodes ({known})"),
            ));
        }
        let Some(key) = specs.first() else {
            diags.push(Diagnostic::error(
                path,
                Some(line_no),
                format!("node {node} has no resources on this line"),
                "list the resources after the node name, or remove the line",
            ));
            continue;
        };
        let mut resources = Vec::with_capacity(specs.len());
        for spec in &specs {
            let r = parse_resource(spec);
            if r.script.is_empty() {
                diags.push(Diagnostic::error(
                    path,
                    Some(line_no),
                    format!("resource '{spec}' has no script name"),
                    "write SCRIPT::ARG[::ARG…] or an IP address",
                ));
            }
            resources.push(r);
        }
        groups.push(ResourceGroup {
            node,
            key: (*key).to_string(),
            resources,
            origin: Origin {
                file: path.to_path_buf(),
                line: line_no,
            },
        });
    }
    check_keys(&groups, path, &mut diags);
    Parsed {
        value: groups,
        diagnostics: diags,
    }
}

/// Group keys must be unique, and must not appear inside another group:
/// ResourceManager finds a group by grepping for its key as a word.
fn check_keys(groups: &[ResourceGroup], path: &Path, diags: &mut Diagnostics) {
    let mut first_line: HashMap<&str, usize> = HashMap::new();
    for g in groups {
        if let Some(first) = first_line.get(g.key.as_str()) {
            diags.push(Diagnostic::error(
                path,
                Some(g.origin.line),
                format!("group key '{}' is already used on line {first}", g.key),
                "the first resource of each line must be unique; put a different resource first",
            ));
        } else {
            first_line.insert(&g.key, g.origin.line);
        }
    }
    // Non-first resources: spec -> lines of the groups using them.
    let mut inner: HashMap<&str, Vec<usize>> = HashMap::new();
    for g in groups {
        for r in g.resources.iter().skip(1) {
            inner
                .entry(r.spec.as_str())
                .or_default()
                .push(g.origin.line);
        }
    }
    for g in groups {
        let Some(lines) = inner.get(g.key.as_str()) else {
            continue;
        };
        for line in lines.iter().filter(|l| **l != g.origin.line) {
            diags.push(Diagnostic::error(
                path,
                Some(g.origin.line),
                format!(
                    "group key '{}' also appears in the group on line {line}: takeover would run both lines",
                    g.key
                ),
                "a group key must not be used as a resource of another group",
            ));
        }
    }
}

/// One resource token: script and arguments as ResourceManager derives
/// them (`canonname`, `resource2script`, `resource2arg`).
pub fn parse_resource(spec: &str) -> Resource {
    let ip = is_ip_shorthand(spec);
    let script = if ip {
        "IPaddr".to_string()
    } else {
        spec.split("::").next().unwrap_or_default().to_string()
    };
    let args = if ip || spec.contains("::") {
        resource_args(spec)
    } else {
        Vec::new()
    };
    Resource {
        spec: spec.to_string(),
        script,
        args,
    }
}

/// `sed 's%[^:]*::%%' | sed 's%::% %g'`, then shell word splitting.
fn resource_args(spec: &str) -> Vec<String> {
    let stripped = match spec.find("::") {
        Some(k) => {
            let start = spec
                .get(..k)
                .and_then(|s| s.rfind(':'))
                .map_or(0, |c| c + 1);
            format!(
                "{}{}",
                spec.get(..start).unwrap_or_default(),
                spec.get(k + 2..).unwrap_or_default()
            )
        }
        None => spec.to_string(),
    };
    stripped
        .replace("::", " ")
        .split([' ', '\t', '\n'])
        .filter(|w| !w.is_empty())
        .map(str::to_string)
        .collect()
}

/// Shell glob `[0-9]*.[0-9]*.[0-9]*.[0-9]*`: a digit first, then three
/// times a `.` directly followed by a digit, anything in between.
pub fn is_ip_shorthand(token: &str) -> bool {
    let b = token.as_bytes();
    if !b.first().is_some_and(u8::is_ascii_digit) {
        return false;
    }
    let mut pos = 1;
    for _ in 0..3 {
        let found =
            (pos..b.len().saturating_sub(1)).find(|&i| b[i] == b'.' && b[i + 1].is_ascii_digit());
        match found {
            Some(i) => pos = i + 2,
            None => return false,
        }
    }
    true
}

/// A logical line after comment stripping and `\` joining.
struct Logical {
    text: Vec<u8>,
    first_line: usize,
    comment_in_continuation: bool,
    dangling_backslash: bool,
}

fn logical_lines(content: &[u8]) -> Vec<Logical> {
    let physical: Vec<&[u8]> = content.split(|&c| c == b'\n').collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < physical.len() {
        let first_line = i + 1;
        let mut text = strip_comment(physical[i]).to_vec();
        let mut comment_in_continuation = false;
        let mut dangling_backslash = false;
        i += 1;
        while text.last() == Some(&b'\\') {
            let Some(next) = physical.get(i) else {
                // Only flagged when a real line (not the empty piece after
                // the final newline) is missing.
                dangling_backslash = true;
                break;
            };
            if i + 1 == physical.len() && next.is_empty() {
                dangling_backslash = true;
                break;
            }
            text.pop();
            comment_in_continuation |= next.contains(&b'#');
            text.extend_from_slice(strip_comment(next));
            i += 1;
        }
        out.push(Logical {
            text,
            first_line,
            comment_in_continuation,
            dangling_backslash,
        });
    }
    out
}

fn strip_comment(line: &[u8]) -> &[u8] {
    match line.iter().position(|&c| c == b'#') {
        Some(hash) => line.get(..hash).unwrap_or_default(),
        None => line,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn nodes() -> Vec<String> {
        vec!["alpha".into(), "bravo".into()]
    }

    fn p(text: &str) -> Parsed<Vec<ResourceGroup>> {
        parse(
            text.as_bytes(),
            Path::new("haresources"),
            &nodes(),
            &["gw".into()],
        )
    }

    fn messages(parsed: &Parsed<Vec<ResourceGroup>>) -> Vec<String> {
        parsed.diagnostics.iter().map(|d| d.to_string()).collect()
    }

    #[test]
    fn groups_keys_and_order() {
        let r = p("# comment\nALPHA 10.0.0.1 httpd # trailing\n\n  bravo\tIPaddr2::10.0.0.2/24/eth0   Filesystem::/dev/sda1::/data::ext4\n");
        assert!(r.diagnostics.is_empty(), "{:?}", messages(&r));
        let g = &r.value;
        assert_eq!(g.len(), 2);
        assert_eq!(
            (g[0].node.as_str(), g[0].key.as_str(), g[0].origin.line),
            ("alpha", "10.0.0.1", 2)
        );
        assert_eq!(g[0].resources[0].script, "IPaddr");
        assert_eq!(g[0].resources[0].args, ["10.0.0.1"]);
        assert_eq!(g[0].resources[1].script, "httpd");
        assert!(g[0].resources[1].args.is_empty());
        assert_eq!(g[1].key, "IPaddr2::10.0.0.2/24/eth0");
        assert_eq!(g[1].resources[0].script, "IPaddr2");
        assert_eq!(g[1].resources[0].args, ["10.0.0.2/24/eth0"]);
        assert_eq!(g[1].resources[1].script, "Filesystem");
        assert_eq!(g[1].resources[1].args, ["/dev/sda1", "/data", "ext4"]);
    }

    #[test]
    fn continuation_lines_join_without_blank() {
        let r = p("alpha 10.0.0.1 \\\n   httpd \\\n   smb\nbravo ab\\\ncd\n");
        assert!(r.diagnostics.is_empty(), "{:?}", messages(&r));
        let specs: Vec<&str> = r.value[0]
            .resources
            .iter()
            .map(|r| r.spec.as_str())
            .collect();
        assert_eq!(specs, ["10.0.0.1", "httpd", "smb"]);
        assert_eq!(r.value[1].key, "abcd");
        assert_eq!(r.value[1].origin.line, 4);
    }

    #[test]
    fn comment_ends_before_backslash() {
        // The comment removes the backslash: no continuation.
        let r = p("alpha httpd # see below \\\nbravo smb\n");
        assert_eq!(r.value.len(), 2);
    }

    #[test]
    fn comment_on_continued_line_is_flagged() {
        let r = p("alpha httpd \\\n  smb # oops\n");
        assert_eq!(messages(&r).len(), 1);
        assert!(messages(&r)[0].starts_with("haresources:1: a '#' on a continued line"));
    }

    #[test]
    fn unknown_node_and_ping_node() {
        let r = p("charlie httpd\ngw smb\n");
        let m = messages(&r);
        assert_eq!(
            m[0],
            "haresources:1: bad nodename [charlie]: not a node in ha.cf — start the line with one of the configured nodes (alpha, bravo)"
        );
        assert!(m[1].starts_with("haresources:2: 'gw' is a ping node"));
        assert_eq!(r.diagnostics.error_count(), 1);
    }

    #[test]
    fn duplicate_and_embedded_keys() {
        let r = p("alpha httpd\nbravo httpd\nbravo smb httpd2\nalpha httpd2\n");
        let m = messages(&r);
        assert!(
            m[0].starts_with("haresources:2: group key 'httpd' is already used on line 1"),
            "{m:?}"
        );
        assert!(m[1]
            .starts_with("haresources:4: group key 'httpd2' also appears in the group on line 3"));
        assert_eq!(m.len(), 2);
    }

    #[test]
    fn node_without_resources() {
        let r = p("alpha\n");
        assert!(messages(&r)[0].starts_with("haresources:1: node alpha has no resources"));
    }

    #[test]
    fn crlf_is_refused() {
        let r = p("alpha httpd\r\n");
        assert!(messages(&r)[0].contains("DOS line ending"));
    }

    #[test]
    fn ip_shorthand_glob() {
        for yes in [
            "10.0.0.1",
            "192.168.1.10/24/eth0",
            "1.2.3.4",
            "1a.2b.3c.4d",
            "1..2.3.4",
        ] {
            assert!(is_ip_shorthand(yes), "{yes}");
        }
        for no in [
            "IPaddr::10.0.0.1",
            "10.0.0",
            "a1.2.3.4",
            "1.2.3.",
            "1.2.3.x",
            "httpd",
        ] {
            assert!(!is_ip_shorthand(no), "{no}");
        }
    }

    #[test]
    fn resource_argument_rules() {
        let r = parse_resource("1.2.3.4::foo");
        assert_eq!(
            (r.script.as_str(), r.args.clone()),
            ("IPaddr", vec!["foo".to_string()])
        );
        let r = parse_resource("a:b::c");
        assert_eq!(
            (r.script.as_str(), r.args.clone()),
            ("a:b", vec!["a:c".to_string()])
        );
        let r = parse_resource("S::::x");
        assert_eq!(r.args, ["x"]);
        let r = parse_resource("::x");
        assert_eq!(r.script, "");
    }

    #[test]
    fn empty_file_is_fine() {
        let r = p("# nothing yet\n\n");
        assert!(r.value.is_empty());
        assert!(r.diagnostics.is_empty());
    }
}
