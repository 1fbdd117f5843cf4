//! The local node name: the first line of `<confdir>/nodeinfo` if it ends
//! in a newline within Heartbeat's 256-byte buffer, else `uname -n`;
//! lower-cased either way (heartbeat/heartbeat.c `get_localnodeinfo`).
//! The nodeinfo line is used verbatim: surrounding blanks are kept, as in
//! Heartbeat (and then make the name unknown).

use std::path::Path;

use super::diag::{Diagnostic, Diagnostics, Parsed};

/// Heartbeat reads the line with `fgets(buf, 256)`.
const LINE_BUFFER: usize = 256;

/// Pure rule: `nodeinfo` content (if the file exists) and the `uname -n`
/// name. A nodeinfo that Heartbeat ignores gives a warning.
pub fn local_node_name(nodeinfo: Option<&[u8]>, uname: &str, path: &Path) -> Parsed<String> {
    let mut diags = Diagnostics::new();
    let mut name = uname.to_string();
    if let Some(content) = nodeinfo {
        let window = content.get(..LINE_BUFFER - 1).unwrap_or(content);
        let window = window.split(|&c| c == 0).next().unwrap_or_default();
        match window.iter().position(|&c| c == b'\n') {
            Some(end) => match std::str::from_utf8(window.get(..end).unwrap_or_default()) {
                Ok(line) => name = line.to_string(),
                Err(_) => diags.push(Diagnostic::error(
                    path,
                    Some(1),
                    "node name is not valid UTF-8",
                    "write the node name (as in ha.cf) on the first line",
                )),
            },
            None if content.is_empty() => diags.push(Diagnostic::warning(
                path,
                None,
                format!("nodeinfo is empty, so Heartbeat uses uname -n ({uname})"),
                "write the node name on the first line, ending with a newline, or delete the file",
            )),
            None => diags.push(Diagnostic::warning(
                path,
                Some(1),
                format!("the first line does not end with a newline, so Heartbeat ignores nodeinfo and uses uname -n ({uname})"),
                "end the line with a newline (echo NAME > nodeinfo)",
            )),
        }
    }
    Parsed {
        value: name.to_ascii_lowercase(),
        diagnostics: diags,
    }
}

/// `uname -n` (the host name).
pub fn uname_nodename() -> String {
    nix::unistd::gethostname()
        .ok()
        .and_then(|h| h.into_string().ok())
        .unwrap_or_default()
}

/// Read `<confdir>/nodeinfo` (if present) and apply [`local_node_name`].
pub fn read_local_node(confdir: &Path) -> Parsed<String> {
    let path = confdir.join("nodeinfo");
    let content = std::fs::read(&path).ok();
    local_node_name(content.as_deref(), &uname_nodename(), &path)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn name(nodeinfo: Option<&[u8]>, uname: &str) -> (String, usize) {
        let p = local_node_name(nodeinfo, uname, Path::new("nodeinfo"));
        (p.value, p.diagnostics.len())
    }

    #[test]
    fn uname_when_no_file() {
        assert_eq!(name(None, "Alpha"), ("alpha".into(), 0));
    }

    #[test]
    fn first_line_wins_lower_cased() {
        assert_eq!(
            name(Some(b"Bravo\nignored\n"), "alpha"),
            ("bravo".into(), 0)
        );
    }

    #[test]
    fn needs_a_newline() {
        assert_eq!(name(Some(b"bravo"), "alpha"), ("alpha".into(), 1));
        assert_eq!(name(Some(b""), "alpha"), ("alpha".into(), 1));
        let long = [b'x'; 300];
        assert_eq!(name(Some(&long), "alpha"), ("alpha".into(), 1));
    }

    #[test]
    fn kept_verbatim_like_heartbeat() {
        assert_eq!(name(Some(b" alpha\n"), "zulu"), (" alpha".into(), 0));
        assert_eq!(name(Some(b"\n"), "zulu"), ("".into(), 0));
        assert_eq!(name(Some(b"alpha\r\n"), "zulu"), ("alpha\r".into(), 0));
    }
}
