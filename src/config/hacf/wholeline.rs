//! Whole-line directives: stonith, stonith_host, apiauth, respawn, failfast.

use super::{words, Builder};
use crate::config::model::{ApiAuth, ClientLine};

/// `stonith TYPE CONFIGFILE`: kept as written.
pub(super) fn stonith(b: &mut Builder, line: &str) {
    if words(line).next().is_none() {
        b.error(
            "no STONITH type given",
            "write stonith TYPE CONFIGFILE, or remove the line",
        );
        return;
    }
    b.cf.stonith.push(line.trim_end().to_string());
}

/// `stonith_host HOST|* TYPE PARAMS…`: kept as written. Heartbeat checks the
/// type only on the host the line is for; the file is shared, so every
/// line must name one.
pub(super) fn stonith_host(b: &mut Builder, line: &str) {
    let mut w = words(line);
    let Some(host) = w.next() else {
        b.error(
            "no STONITH hostname argument given",
            "write stonith_host HOST|* TYPE PARAMS…",
        );
        return;
    };
    if host.len() > super::MAX_NODE_NAME {
        b.error("STONITH hostname too long", "use the node name from ha.cf");
        return;
    }
    if w.next().is_none() {
        b.error(
            format!("stonith_host {host}: no STONITH type given"),
            "write stonith_host HOST|* TYPE PARAMS…",
        );
        return;
    }
    b.cf.stonith_host.push(line.trim_end().to_string());
}

/// `apiauth CLIENT [uid=LIST] [gid=LIST]` (lists comma-separated).
pub(super) fn apiauth(b: &mut Builder, line: &str) {
    const FIX: &str = "write apiauth CLIENT uid=USER[,USER…] and/or gid=GROUP[,GROUP…]";
    let mut w = words(line);
    let Some(client) = w.next() else {
        b.error("apiauth without a client name", FIX);
        return;
    };
    let mut uids: Option<Vec<String>> = None;
    let mut gids: Option<Vec<String>> = None;
    for word in w {
        let (slot, list, kind) = if let Some(list) = word.strip_prefix("uid=") {
            (&mut uids, list, "uid")
        } else if let Some(list) = word.strip_prefix("gid=") {
            (&mut gids, list, "gid")
        } else {
            b.error(
                format!("apiauth {client}: '{word}' is neither uid=… nor gid=…"),
                FIX,
            );
            return;
        };
        if slot.is_some() {
            b.error(format!("apiauth {client}: duplicate {kind} list"), FIX);
            return;
        }
        *slot = Some(
            list.split(',')
                .filter(|s| !s.is_empty())
                .map(str::to_string)
                .collect(),
        );
    }
    if uids.is_none() && gids.is_none() {
        b.error(format!("apiauth {client}: no uid or gid list"), FIX);
        return;
    }
    if b.cf.apiauth.iter().any(|a| a.client == client) {
        b.error(
            format!("duplicate apiauth directive for API client {client}"),
            "merge the lines into one apiauth line per client",
        );
        return;
    }
    b.cf.apiauth.push(ApiAuth {
        client: client.to_string(),
        uids: uids.unwrap_or_default(),
        gids: gids.unwrap_or_default(),
    });
}

pub(super) fn respawn(b: &mut Builder, line: &str) {
    client_child(b, line, false);
}

pub(super) fn failfast(b: &mut Builder, line: &str) {
    client_child(b, line, true);
}

/// `selffence /abs/command [ARGS…]` (our extension): run when a resource
/// cannot be stopped; Heartbeat hard-wires `reboot -nf`. `selffence none`
/// runs nothing (the daemon still stops heartbeating).
pub(super) fn selffence(b: &mut Builder, line: &str) {
    let words: Vec<String> = line
        .split(|c: char| super::is_in(c, crate::config::values::WHITESPACE))
        .filter(|w| !w.is_empty())
        .map(str::to_string)
        .collect();
    let fix = "write selffence /absolute/path/to/program [ARGS…] (or: selffence none)";
    match words.first().map(String::as_str) {
        None => b.error("selffence without a command", fix),
        Some("none") if words.len() == 1 => b.cf.self_fence = Some(Vec::new()),
        Some(cmd) if cmd.starts_with('/') => b.cf.self_fence = Some(words),
        Some(cmd) => b.error(
            format!("selffence command [{cmd}] is not a full pathname"),
            fix,
        ),
    }
}

/// `respawn|failfast USER /abs/command [ARGS…]`. Whether USER exists and
/// the command is executable is checked when the files are loaded.
fn client_child(b: &mut Builder, line: &str, failfast: bool) {
    let name = if failfast { "failfast" } else { "respawn" };
    let fix = format!("write {name} USER /absolute/path/to/program [ARGS…]");
    let mut parts = line.splitn(2, |c: char| {
        super::is_in(c, crate::config::values::WHITESPACE)
    });
    let user = parts.next().unwrap_or_default();
    let command = parts
        .next()
        .unwrap_or_default()
        .trim_start_matches(|c: char| super::is_in(c, crate::config::values::WHITESPACE))
        .trim_end();
    if user.is_empty() {
        b.error(format!("{name} without a user and command"), fix);
        return;
    }
    if user.len() >= 64 {
        b.error(format!("{name}: user name '{user}' is too long"), fix);
        return;
    }
    if !command.starts_with('/') {
        b.error(
            format!("{name} command [{command}] is not a full pathname"),
            fix,
        );
        return;
    }
    let origin = b.origin();
    b.cf.respawn.push(ClientLine {
        user: user.to_string(),
        command: command.to_string(),
        failfast,
        origin,
    });
}
