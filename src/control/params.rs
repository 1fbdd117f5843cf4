//! The parameter table the API's `getparm` (`cl_status hbparameter`) reads:
//! what heartbeat/config.c records with `SetParameterValue` — recorded
//! directives as written in ha.cf, fixed defaults for unset ones, and a few
//! derived values. Pure.

use crate::config::model::HaCf;

/// Directives whose value is recorded as written (config.c `Directives`
/// with `record_value`), with the default recorded when ha.cf omits them.
const RECORDED: &[(&str, Option<&str>)] = &[
    ("cluster", Some("linux-ha")),
    ("hopfudge", Some("1")),
    ("keepalive", Some("1000ms")),
    ("deadtime", Some("30000ms")),
    ("deadping", None),
    ("initdead", None),
    ("warntime", None),
    ("watchdog", None),
    ("baud", Some("19200")),
    ("udpport", None),
    ("logfacility", None),
    ("logfile", None),
    ("debugfile", None),
    ("auto_failback", Some("legacy")),
    ("rtprio", None),
    ("hbgenmethod", Some("file")),
    ("realtime", Some("true")),
    ("debug", None),
    ("msgfmt", Some("classic")),
    ("use_logd", None),
    ("conn_logd_time", Some("60")),
    ("log_badpack", Some("true")),
    ("syslogmsgfmt", Some("true")),
    ("coredumps", Some("true")),
    ("coreroot", None),
    ("crm_daemon_dir", None),
    ("crmd_spawns_pengine", None),
    ("pacemaker", Some("false")),
    ("autojoin", Some("none")),
    ("uuidfrom", Some("file")),
    ("compression", Some("zlib")),
    ("compression_threshold", Some("2")),
    ("traditional_compression", Some("no")),
    ("max_rexmit_delay", Some("250")),
    ("record_config_changes", Some("on")),
    ("record_pengine_inputs", Some("on")),
    ("enable_config_writes", Some("on")),
    ("memreserve", Some("6500")),
    ("quorum_server", None),
];

/// The `getparm` table for `cf`: `debug_level` is the daemon's (`-d`)
/// level, `release` Heartbeat's bare version (`3.0.6`, parameter
/// `hbversion`). Order is irrelevant; names are unique.
pub fn api_parameters(cf: &HaCf, debug_level: u32, release: &str) -> Vec<(String, String)> {
    let raw = |name: &str| {
        cf.raw
            .iter()
            .rev()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.clone())
    };
    let mut out: Vec<(String, String)> = Vec::new();
    for (name, default) in RECORDED {
        // `crm` is the historical alias of `pacemaker`.
        let written = match *name {
            "pacemaker" => raw("pacemaker").or_else(|| raw("crm")),
            _ => raw(name),
        };
        if let Some(value) = written.or_else(|| default.map(str::to_string)) {
            out.push((name.to_string(), value));
        }
    }
    let mut set_if_absent = |name: &str, value: String| {
        if !out.iter().any(|(n, _)| n == name) {
            out.push((name.to_string(), value));
        }
    };
    set_if_absent("debug", debug_level.to_string());
    set_if_absent("warntime", format!("{}ms", cf.warntime_ms));
    set_if_absent("initdead", format!("{}ms", cf.initdead_ms));
    set_if_absent("deadping", format!("{}ms", cf.deadping_ms));
    set_if_absent("udpport", cf.udpport.to_string());
    if super::view::facility_number(cf.logfacility.as_deref()) > 0 {
        set_if_absent("logfile", "/dev/null".to_string());
        set_if_absent("debugfile", "/dev/null".to_string());
    }
    out.push(("hbversion".to_string(), release.to_string()));
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::Path;

    fn lookup<'a>(table: &'a [(String, String)], name: &str) -> Option<&'a str> {
        table
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    /// The lab's ha.cf (tests/data/lab/bcast) and what the real daemon
    /// answered for it (tests/data/control/real/both-active/hbparameter-*).
    #[test]
    fn matches_the_real_daemon_for_the_lab_config() {
        let lab = include_bytes!("../../tests/data/lab/bcast/ha.cf");
        let parsed = crate::config::hacf::parse(lab, Path::new("ha.cf"));
        assert!(!parsed.diagnostics.has_errors());
        let cf = parsed.value;
        let table = api_parameters(&cf, 0, "3.0.6");
        let want = [
            ("auto_failback", Some("on")),
            ("baud", Some("19200")),
            ("bcast", None),
            ("cluster", Some("linux-ha")),
            ("crm", None),
            ("pacemaker", Some("off")),
            ("deadping", Some("3000ms")),
            ("deadtime", Some("3")),
            ("debug", Some("0")),
            ("initdead", Some("6")),
            ("keepalive", Some("500ms")),
            ("logfacility", Some("none")),
            ("logfile", Some("/var/log/ha-log")),
            ("memreserve", Some("6500")),
            ("node", None),
            ("udpport", Some("694")),
            ("warntime", Some("2")),
        ];
        for (name, value) in want {
            assert_eq!(lookup(&table, name), value, "{name}");
        }
    }

    #[test]
    fn derived_values_when_unset() {
        let cf = HaCf {
            logfacility: Some("daemon".into()),
            ..HaCf::default()
        };
        let table = api_parameters(&cf, 2, "3.0.6");
        assert_eq!(lookup(&table, "warntime"), Some("15000ms"));
        assert_eq!(lookup(&table, "initdead"), Some("30000ms"));
        assert_eq!(lookup(&table, "debug"), Some("2"));
        assert_eq!(lookup(&table, "logfile"), Some("/dev/null"));
        assert_eq!(lookup(&table, "pacemaker"), Some("false"));
        assert_eq!(lookup(&table, "hbversion"), Some("3.0.6"));
    }
}
