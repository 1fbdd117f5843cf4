//! `ha.cf` with Heartbeat 3.0.6's exact reading rules (heartbeat/config.c
//! `parse_config`, `init_config`), re-checked against the real binary.
//!
//! Each line: leading white space skipped, everything from the first `#`
//! dropped, the line cut at the first CR or LF. The first white-space
//! separated word is the directive (case-sensitive). Whole-line directives
//! get the rest of the line; the others are applied once per value, values
//! being separated by space, tab, comma, CR, LF or FF.

mod directives;
mod finish;
mod media;
mod wholeline;

use std::collections::HashMap;
use std::path::Path;

use super::diag::{Diagnostic, Diagnostics, Parsed};
use super::model::{HaCf, Origin};
use super::values::{span, DELIMS, WHITESPACE};

pub use directives::{directive_names, facility_code, BAUD_RATES};

/// Heartbeat's `MAXNODE`: normal plus ping nodes.
pub const MAX_NODES: usize = 100;
/// Heartbeat's `MAXMEDIA`.
pub const MAX_MEDIA: usize = 64;
/// Node names are kept in `char[HOSTLENG]` (100) with a terminating NUL.
pub const MAX_NODE_NAME: usize = 99;

/// How a directive consumes its line.
#[derive(Clone, Copy)]
enum Kind {
    /// Applied once per value; returns whether the value was accepted.
    PerValue(fn(&mut Builder, &str) -> bool),
    /// Gets the rest of the line.
    WholeLine(fn(&mut Builder, &str)),
}

/// Parse `ha.cf` content. `path` is only used in messages. The result has
/// Heartbeat's defaults and derived values applied; errors in
/// `diagnostics` mean Heartbeat would refuse to start. Checks that need
/// the local node name (is it listed?) are done by [`crate::config::load`].
pub fn parse(content: &[u8], path: &Path) -> Parsed<HaCf> {
    let mut b = Builder::new(path);
    for (index, raw_line) in content.split(|&c| c == b'\n').enumerate() {
        b.line = index + 1;
        b.parse_line(raw_line);
    }
    b.line = 0;
    finish::finish(&mut b);
    Parsed {
        value: b.cf,
        diagnostics: b.diags,
    }
}

/// Parsing state: the configuration so far plus what Heartbeat's globals
/// and plugin statics remember between lines.
pub(crate) struct Builder<'p> {
    path: &'p Path,
    pub(crate) cf: HaCf,
    pub(crate) diags: Diagnostics,
    /// Current line (1-based); 0 once the file is done.
    line: usize,
    /// Directive being applied (for handlers shared by several).
    directive: &'static str,
    /// Last line of each directive seen (for messages after the file).
    lines: HashMap<&'static str, usize>,
    /// Line of each node / ping node name, to refuse duplicates.
    node_lines: HashMap<String, usize>,
    warntime_set: bool,
    initdead_set: bool,
    deadping_set: bool,
    udpport_set: bool,
    debug_set: bool,
    /// Heartbeat's `nice_failback` global: true after `auto_failback on|off`.
    nice_failback: bool,
    /// An `auto_failback` line was accepted (else the default applies).
    auto_failback_recorded: bool,
    nice_failback_line: Option<usize>,
    baud_seen: bool,
    watchdog_seen: bool,
    pacemaker_seen: bool,
    /// `use_logd` as written.
    use_logd: Option<bool>,
    /// The bcast / ucast / serial plugins read udpport / baud once, when
    /// their first line is parsed: (value, line).
    bcast_port: Option<(u16, usize)>,
    ucast_port: Option<(u16, usize)>,
    serial_baud: Option<(u32, usize)>,
    media_count: usize,
}

impl<'p> Builder<'p> {
    fn new(path: &'p Path) -> Builder<'p> {
        Builder {
            path,
            cf: HaCf::default(),
            diags: Diagnostics::new(),
            line: 0,
            directive: "",
            lines: HashMap::new(),
            node_lines: HashMap::new(),
            warntime_set: false,
            initdead_set: false,
            deadping_set: false,
            udpport_set: false,
            debug_set: false,
            nice_failback: false,
            auto_failback_recorded: false,
            nice_failback_line: None,
            baud_seen: false,
            watchdog_seen: false,
            pacemaker_seen: false,
            use_logd: None,
            bcast_port: None,
            ucast_port: None,
            serial_baud: None,
            media_count: 0,
        }
    }

    fn parse_line(&mut self, raw: &[u8]) {
        // C strings end at a NUL byte.
        let raw = raw.split(|&c| c == 0).next().unwrap_or_default();
        let start = span(raw, 0, WHITESPACE);
        let mut rest = raw.get(start..).unwrap_or_default();
        if let Some(hash) = rest.iter().position(|&c| c == b'#') {
            rest = rest.get(..hash).unwrap_or_default();
        }
        if let Some(eol) = rest.iter().position(|&c| c == b'\r' || c == b'\n') {
            rest = rest.get(..eol).unwrap_or_default();
        }
        if rest.is_empty() {
            return;
        }
        let Ok(text) = std::str::from_utf8(rest) else {
            self.error(
                "line is not valid UTF-8",
                "save ha.cf as plain ASCII/UTF-8 text",
            );
            return;
        };
        let dir_end = text
            .find(|c: char| is_in(c, WHITESPACE))
            .unwrap_or(text.len());
        let (written, after) = text.split_at(dir_end);
        let mut directive = written;
        if directive == "udp" {
            self.warning(
                "directive 'udp' is an obsolete alias of 'bcast'",
                "write 'bcast' instead of 'udp'",
            );
            directive = "bcast";
        }
        let Some((name, kind, record)) = directives::lookup(directive) else {
            self.error(
                format!("illegal directive [{written}]"),
                "check the spelling (directives are case-sensitive) or remove the line",
            );
            return;
        };
        self.lines.insert(name, self.line);
        self.directive = name;
        let value = after.trim_start_matches(|c: char| is_in(c, DELIMS));
        match kind {
            Kind::WholeLine(handler) => handler(self, value),
            Kind::PerValue(handler) => {
                let mut any = false;
                for token in value.split(|c: char| is_in(c, DELIMS)) {
                    if token.is_empty() {
                        continue;
                    }
                    any = true;
                    if handler(self, token) && record {
                        self.record(name, token);
                    }
                }
                if !any {
                    self.warning(
                        format!("'{name}' has no value, so Heartbeat ignores this line"),
                        format!("give a value (e.g. '{name} VALUE') or remove the line"),
                    );
                }
            }
        }
    }

    fn origin(&self) -> Origin {
        Origin {
            file: self.path.to_path_buf(),
            line: self.line,
        }
    }

    fn current_line(&self) -> Option<usize> {
        (self.line > 0).then_some(self.line)
    }

    pub(crate) fn error(&mut self, message: impl Into<String>, fix: impl Into<String>) {
        let d = Diagnostic::error(self.path, self.current_line(), message, fix);
        self.diags.push(d);
    }

    pub(crate) fn warning(&mut self, message: impl Into<String>, fix: impl Into<String>) {
        let d = Diagnostic::warning(self.path, self.current_line(), message, fix);
        self.diags.push(d);
    }

    /// A diagnostic about a directive after the whole file was read: points
    /// at the directive's last line when it was written, else at the file.
    pub(crate) fn error_at(
        &mut self,
        directive: &str,
        message: impl Into<String>,
        fix: impl Into<String>,
    ) {
        let line = self.lines.get(directive).copied();
        self.diags
            .push(Diagnostic::error(self.path, line, message, fix));
    }

    pub(crate) fn warning_at(
        &mut self,
        directive: &str,
        message: impl Into<String>,
        fix: impl Into<String>,
    ) {
        let line = self.lines.get(directive).copied();
        self.diags
            .push(Diagnostic::warning(self.path, line, message, fix));
    }

    /// Record a parameter value as `getparm` reports it (last wins).
    pub(crate) fn record(&mut self, name: &str, value: &str) {
        match self.cf.raw.iter_mut().find(|(k, _)| k == name) {
            Some(entry) => entry.1 = value.to_string(),
            None => self.cf.raw.push((name.to_string(), value.to_string())),
        }
    }

    /// Register a node or ping node name (lower-cased); false when refused.
    pub(crate) fn add_node_name(&mut self, name: &str, what: &str) -> Option<String> {
        let lower = name.to_ascii_lowercase();
        if lower.len() > MAX_NODE_NAME {
            self.error(
                format!("{what} name '{name}' is longer than {MAX_NODE_NAME} characters"),
                "use the short host name (uname -n)",
            );
            return None;
        }
        if let Some(first) = self.node_lines.get(&lower) {
            let first = *first;
            self.error(
                format!("{what} '{lower}' is already defined on line {first}"),
                "list every node and ping host only once (names are compared lower-cased)",
            );
            return None;
        }
        if self.node_lines.len() >= MAX_NODES {
            self.error(
                format!("too many nodes (Heartbeat allows {MAX_NODES}, ping nodes included)"),
                "remove nodes or ping hosts",
            );
            return None;
        }
        self.node_lines.insert(lower.clone(), self.line);
        self.cf.node_order.push(lower.clone());
        Some(lower)
    }

    /// Count one more medium; false (with an error) beyond `MAX_MEDIA`.
    pub(crate) fn add_medium(&mut self) -> bool {
        if self.media_count >= MAX_MEDIA {
            self.error(
                format!("too many media (Heartbeat allows {MAX_MEDIA})"),
                "remove media lines",
            );
            return false;
        }
        self.media_count += 1;
        true
    }
}

fn is_in(c: char, set: &[u8]) -> bool {
    u8::try_from(c).is_ok_and(|b| set.contains(&b))
}

/// Split on Heartbeat's `WHITESPACE` (what whole-line directives use).
pub(crate) fn words(s: &str) -> impl Iterator<Item = &str> {
    s.split(|c: char| is_in(c, WHITESPACE))
        .filter(|w| !w.is_empty())
}

#[cfg(test)]
mod tests;
