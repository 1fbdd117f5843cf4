//! The ha.cf directive table and the per-value directives.

use std::path::PathBuf;

use super::{media, wholeline, Builder, Kind};
use crate::config::model::{AutoFailback, AutoJoin, GenMethod, MsgFmt, UuidFrom};
use crate::config::values::{atoi, parse_bool, parse_msec, TimeError};

/// (name, how it is read, whether `getparm` records the value).
type Entry = (&'static str, Kind, bool);

/// Every directive Heartbeat 3.0.6 (Debian build, with its comm plugins)
/// accepts, in Heartbeat's table order.
static TABLE: &[Entry] = &[
    ("cluster", Kind::PerValue(set_cluster), true),
    ("node", Kind::PerValue(add_node), false),
    ("hopfudge", Kind::PerValue(set_hopfudge), true),
    ("keepalive", Kind::PerValue(set_keepalive), true),
    ("deadtime", Kind::PerValue(set_deadtime), true),
    ("deadping", Kind::PerValue(set_deadping), true),
    ("initdead", Kind::PerValue(set_initdead), true),
    ("warntime", Kind::PerValue(set_warntime), true),
    ("watchdog", Kind::PerValue(set_watchdog), true),
    ("baud", Kind::PerValue(set_baud), true),
    ("udpport", Kind::PerValue(set_udpport), true),
    ("logfacility", Kind::PerValue(set_logfacility), true),
    ("logfile", Kind::PerValue(set_logfile), true),
    ("debugfile", Kind::PerValue(set_debugfile), true),
    ("nice_failback", Kind::PerValue(set_nice_failback), false),
    ("auto_failback", Kind::PerValue(set_auto_failback), true),
    ("rtprio", Kind::PerValue(set_rtprio), true),
    ("hbgenmethod", Kind::PerValue(set_hbgenmethod), true),
    ("realtime", Kind::PerValue(set_realtime), true),
    ("debug", Kind::PerValue(set_debug), true),
    ("msgfmt", Kind::PerValue(set_msgfmt), true),
    ("use_logd", Kind::PerValue(set_use_logd), true),
    ("conn_logd_time", Kind::PerValue(set_conn_logd_time), true),
    ("use_apphbd", Kind::PerValue(check_boolean), false),
    ("log_badpack", Kind::PerValue(set_log_badpack), true),
    ("syslogmsgfmt", Kind::PerValue(set_syslogmsgfmt), true),
    ("coredumps", Kind::PerValue(set_coredumps), true),
    ("coreroot", Kind::PerValue(set_coreroot), true),
    ("crm", Kind::PerValue(set_crm), false),
    ("pacemaker", Kind::PerValue(set_pacemaker), true),
    ("crm_daemon_dir", Kind::PerValue(set_crm_daemon_dir), true),
    ("crmd_spawns_pengine", Kind::PerValue(check_boolean), true),
    ("autojoin", Kind::PerValue(set_autojoin), true),
    ("uuidfrom", Kind::PerValue(set_uuidfrom), true),
    ("compression", Kind::PerValue(set_compression), true),
    (
        "compression_threshold",
        Kind::PerValue(set_compression_threshold),
        true,
    ),
    (
        "traditional_compression",
        Kind::PerValue(set_traditional_compression),
        true,
    ),
    ("env", Kind::PerValue(set_env), false),
    (
        "max_rexmit_delay",
        Kind::PerValue(set_max_rexmit_delay),
        true,
    ),
    ("record_config_changes", Kind::PerValue(check_boolean), true),
    ("record_pengine_inputs", Kind::PerValue(check_boolean), true),
    ("enable_config_writes", Kind::PerValue(check_boolean), true),
    ("memreserve", Kind::PerValue(set_memreserve), true),
    ("quorum_server", Kind::PerValue(accept_any), true),
    // Whole-line directives.
    ("stonith", Kind::WholeLine(wholeline::stonith), false),
    (
        "stonith_host",
        Kind::WholeLine(wholeline::stonith_host),
        false,
    ),
    ("apiauth", Kind::WholeLine(wholeline::apiauth), false),
    ("respawn", Kind::WholeLine(wholeline::respawn), false),
    ("failfast", Kind::WholeLine(wholeline::failfast), false),
    // Our extension: what to run when a resource cannot be stopped.
    ("selffence", Kind::WholeLine(wholeline::selffence), false),
    // Communication plugins (HBcomm).
    ("bcast", Kind::PerValue(media::bcast), false),
    ("serial", Kind::PerValue(media::serial), false),
    ("ping", Kind::PerValue(media::ping), false),
    ("ping6", Kind::PerValue(media::ping6), false),
    ("mcast", Kind::WholeLine(media::mcast), false),
    ("mcast6", Kind::WholeLine(media::mcast6), false),
    ("ucast", Kind::WholeLine(media::ucast), false),
    ("ucast6", Kind::WholeLine(media::ucast6), false),
    ("ping_group", Kind::WholeLine(media::ping_group), false),
];

/// Names of every accepted directive (`udp`, an alias of `bcast`, excluded).
pub fn directive_names() -> impl Iterator<Item = &'static str> {
    TABLE.iter().map(|(name, _, _)| *name)
}

pub(super) fn lookup(name: &str) -> Option<(&'static str, Kind, bool)> {
    TABLE.iter().find(|(n, _, _)| *n == name).copied()
}

const TIME_FIX: &str = "write seconds as a plain number (2, 0.5) or add ms or us (500ms); \
                        Heartbeat rejects other units such as s or m";

impl Builder<'_> {
    /// A time value; `positive` refuses 0.
    fn time(&mut self, name: &str, value: &str, positive: bool) -> Option<u64> {
        match parse_msec(value) {
            Ok(ms) if positive && ms == 0 => {
                self.error(
                    format!("{name} {value} is 0 ms; it must be greater than 0"),
                    format!("set {name} to a positive time, e.g. 1 or 500ms"),
                );
                None
            }
            Ok(ms) => Some(ms),
            Err(TimeError::BadUnit(unit)) => {
                self.error(
                    format!("{name} {value}: unit '{unit}' is not a time unit Heartbeat knows"),
                    TIME_FIX,
                );
                None
            }
            Err(TimeError::NotANumber) => {
                self.error(format!("{name} {value} is not a time value"), TIME_FIX);
                None
            }
            Err(TimeError::TooLarge) => {
                self.error(format!("{name} {value} is too large"), TIME_FIX);
                None
            }
        }
    }

    /// A C `atoi` number that must lie in `min..=max`.
    fn number(&mut self, name: &str, value: &str, min: i64, max: i64) -> Option<i64> {
        let n = atoi(value);
        if n.value < min || n.value > max {
            self.error(
                format!("{name} {value} is out of range ({min}..{max})"),
                format!("set {name} to a whole number from {min} to {max}"),
            );
            return None;
        }
        if !n.clean {
            self.warning(
                format!(
                    "{name} {value} is not a plain number; Heartbeat reads it as {}",
                    n.value
                ),
                format!("write the number alone, e.g. '{name} {}'", n.value),
            );
        }
        Some(n.value)
    }

    fn boolean(&mut self, name: &str, value: &str) -> Option<bool> {
        let b = parse_bool(value);
        if b.is_none() {
            self.error(
                format!("{name} {value} is not a boolean"),
                "use one of true/on/yes/y/1 or false/off/no/n/0",
            );
        }
        b
    }

    fn one_of(&mut self, name: &str, value: &str, allowed: &[&str]) -> bool {
        if allowed.contains(&value) {
            return true;
        }
        self.error(
            format!("{name} {value} is not a valid value"),
            format!("use one of: {} (case-sensitive)", allowed.join(", ")),
        );
        false
    }
}

fn set_cluster(b: &mut Builder, v: &str) -> bool {
    b.cf.cluster = v.to_string();
    true
}

fn accept_any(_: &mut Builder, _: &str) -> bool {
    true
}

fn add_node(b: &mut Builder, v: &str) -> bool {
    match b.add_node_name(v, "node") {
        Some(name) => {
            b.cf.nodes.push(name);
            true
        }
        None => false,
    }
}

fn set_hopfudge(b: &mut Builder, v: &str) -> bool {
    b.number("hopfudge", v, 0, 255)
        .map(|n| b.cf.hopfudge = n as u32)
        .is_some()
}

fn set_keepalive(b: &mut Builder, v: &str) -> bool {
    b.time("keepalive", v, true)
        .map(|ms| b.cf.keepalive_ms = ms)
        .is_some()
}

fn set_deadtime(b: &mut Builder, v: &str) -> bool {
    b.time("deadtime", v, false)
        .map(|ms| b.cf.deadtime_ms = ms)
        .is_some()
}

fn set_deadping(b: &mut Builder, v: &str) -> bool {
    let ok = b.time("deadping", v, false).map(|ms| b.cf.deadping_ms = ms);
    b.deadping_set |= ok.is_some();
    ok.is_some()
}

fn set_initdead(b: &mut Builder, v: &str) -> bool {
    let ok = b.time("initdead", v, false).map(|ms| b.cf.initdead_ms = ms);
    b.initdead_set |= ok.is_some();
    ok.is_some()
}

fn set_warntime(b: &mut Builder, v: &str) -> bool {
    let ok = b.time("warntime", v, true).map(|ms| b.cf.warntime_ms = ms);
    b.warntime_set |= ok.is_some();
    ok.is_some()
}

fn set_watchdog(b: &mut Builder, v: &str) -> bool {
    if b.watchdog_seen {
        b.error(
            "watchdog device multiply specified",
            "keep a single watchdog line with a single device",
        );
        return false;
    }
    b.watchdog_seen = true;
    b.cf.watchdog = Some(PathBuf::from(v));
    true
}

/// Baud rates Heartbeat's `StringToBaud` knows.
pub const BAUD_RATES: [u32; 7] = [9600, 19200, 38400, 57600, 115200, 230400, 460800];

fn set_baud(b: &mut Builder, v: &str) -> bool {
    if b.baud_seen {
        b.error(
            "baudrate multiply specified",
            "keep a single baud line with a single value",
        );
        return false;
    }
    b.baud_seen = true;
    let n = atoi(v).value;
    let Some(rate) = BAUD_RATES.iter().copied().find(|r| i64::from(*r) == n) else {
        b.error(
            format!("invalid baudrate [{v}]"),
            "use one of 9600, 19200, 38400, 57600, 115200, 230400, 460800",
        );
        return false;
    };
    if let Some((used, line)) = b.serial_baud {
        b.warning(
            format!(
                "baud after the serial line {line}: serial media keep {used} baud, this value is not used"
            ),
            "move the baud line before the first serial line",
        );
    }
    b.cf.baud = rate;
    true
}

fn set_udpport(b: &mut Builder, v: &str) -> bool {
    let n = atoi(v).value;
    if n <= 0 || n > 65535 {
        b.error(
            format!("invalid port [{v}]"),
            "set udpport to a port number from 1 to 65535 (default 694)",
        );
        return false;
    }
    let port = n as u16;
    let fixed: Vec<String> = [("bcast", b.bcast_port), ("ucast", b.ucast_port)]
        .iter()
        .filter_map(|(kind, p)| {
            p.map(|(port, line)| format!("{kind} (port {port} since line {line})"))
        })
        .collect();
    if !fixed.is_empty() {
        b.warning(
            format!(
                "udpport after media lines has no effect on {}",
                fixed.join(" and ")
            ),
            "move the udpport line before the first bcast/ucast line",
        );
    }
    b.udpport_set = true;
    b.cf.udpport = port;
    true
}

/// glibc's syslog facility names (`cl_syslogfac_str2int`), `none` = 0.
/// The value matters: facility 0 (`none`, `kern`) means "no syslog".
pub fn facility_code(name: &str) -> Option<i32> {
    const NAMES: [(&str, i32); 22] = [
        ("auth", 4 << 3),
        ("authpriv", 10 << 3),
        ("cron", 9 << 3),
        ("daemon", 3 << 3),
        ("ftp", 11 << 3),
        ("kern", 0),
        ("lpr", 6 << 3),
        ("mail", 2 << 3),
        ("mark", 24 << 3),
        ("news", 7 << 3),
        ("security", 4 << 3),
        ("syslog", 5 << 3),
        ("user", 1 << 3),
        ("uucp", 8 << 3),
        ("local0", 16 << 3),
        ("local1", 17 << 3),
        ("local2", 18 << 3),
        ("local3", 19 << 3),
        ("local4", 20 << 3),
        ("local5", 21 << 3),
        ("local6", 22 << 3),
        ("local7", 23 << 3),
    ];
    if name == "none" {
        return Some(0);
    }
    NAMES.iter().find(|(n, _)| *n == name).map(|(_, c)| *c)
}

fn set_logfacility(b: &mut Builder, v: &str) -> bool {
    if facility_code(v).is_none() {
        b.error(
            format!("log facility ({v}) not valid"),
            "use a lower-case syslog facility such as daemon, local0..local7, or none",
        );
        return false;
    }
    b.cf.logfacility = Some(v.to_string());
    true
}

fn set_logfile(b: &mut Builder, v: &str) -> bool {
    b.cf.logfile = Some(PathBuf::from(v));
    true
}

fn set_debugfile(b: &mut Builder, v: &str) -> bool {
    b.cf.debugfile = Some(PathBuf::from(v));
    true
}

/// Heartbeat's bug, kept: the boolean's value is ignored; it means
/// `auto_failback off` if an `auto_failback on|off` came earlier, else
/// `legacy`.
fn set_nice_failback(b: &mut Builder, v: &str) -> bool {
    if b.boolean("nice_failback", v).is_none() {
        return false;
    }
    let meaning = if b.nice_failback { "off" } else { "legacy" };
    b.warning(
        format!("nice_failback is obsolete; Heartbeat reads 'nice_failback {v}' as 'auto_failback {meaning}'"),
        "replace it with 'auto_failback on' (or off)",
    );
    b.nice_failback_line = Some(b.line);
    apply_auto_failback(b, meaning);
    true
}

fn apply_auto_failback(b: &mut Builder, v: &str) -> bool {
    match parse_bool(v) {
        Some(on) => {
            b.nice_failback = true;
            b.cf.auto_failback = if on {
                AutoFailback::On
            } else {
                AutoFailback::Off
            };
            true
        }
        None if v.eq_ignore_ascii_case("legacy") => {
            b.nice_failback = false;
            b.cf.auto_failback = AutoFailback::Legacy;
            true
        }
        None => false,
    }
}

fn set_auto_failback(b: &mut Builder, v: &str) -> bool {
    if !apply_auto_failback(b, v) {
        b.error(
            format!("auto_failback {v} is not a valid value"),
            "use auto_failback on, off or legacy",
        );
        return false;
    }
    b.auto_failback_recorded = true;
    b.cf.auto_failback_defaulted = false;
    true
}

fn set_rtprio(b: &mut Builder, v: &str) -> bool {
    b.number("rtprio", v, 1, 99)
        .map(|n| b.cf.rtprio = Some(n as i32))
        .is_some()
}

fn set_hbgenmethod(b: &mut Builder, v: &str) -> bool {
    if !b.one_of("hbgenmethod", v, &["file", "time"]) {
        return false;
    }
    b.cf.hbgenmethod = if v == "time" {
        GenMethod::Time
    } else {
        GenMethod::File
    };
    true
}

fn set_realtime(b: &mut Builder, v: &str) -> bool {
    b.boolean("realtime", v)
        .map(|on| b.cf.realtime = on)
        .is_some()
}

fn set_debug(b: &mut Builder, v: &str) -> bool {
    let ok = b.number("debug", v, 0, 255).map(|n| b.cf.debug = n as u32);
    b.debug_set |= ok.is_some();
    ok.is_some()
}

fn set_msgfmt(b: &mut Builder, v: &str) -> bool {
    if !b.one_of("msgfmt", v, &["classic", "netstring"]) {
        return false;
    }
    b.cf.msgfmt = if v == "netstring" {
        MsgFmt::Netstring
    } else {
        MsgFmt::Classic
    };
    true
}

fn set_use_logd(b: &mut Builder, v: &str) -> bool {
    let on = b.boolean("use_logd", v);
    if on.is_some() {
        b.use_logd = on;
    }
    on.is_some()
}

fn set_conn_logd_time(b: &mut Builder, v: &str) -> bool {
    b.time("conn_logd_time", v, true)
        .map(|ms| b.cf.conn_logd_time_ms = ms)
        .is_some()
}

fn check_boolean(b: &mut Builder, v: &str) -> bool {
    let name = b.directive;
    b.boolean(name, v).is_some()
}

fn set_log_badpack(b: &mut Builder, v: &str) -> bool {
    b.boolean("log_badpack", v)
        .map(|on| b.cf.log_badpack = on)
        .is_some()
}

fn set_syslogmsgfmt(b: &mut Builder, v: &str) -> bool {
    b.boolean("syslogmsgfmt", v)
        .map(|on| b.cf.syslogmsgfmt = on)
        .is_some()
}

fn set_coredumps(b: &mut Builder, v: &str) -> bool {
    b.boolean("coredumps", v)
        .map(|on| b.cf.coredumps = on)
        .is_some()
}

fn set_coreroot(b: &mut Builder, v: &str) -> bool {
    b.cf.coreroot = Some(PathBuf::from(v));
    true
}

/// `crm` is Heartbeat's historical alias of `pacemaker` (recorded as such).
fn set_crm(b: &mut Builder, v: &str) -> bool {
    if set_pacemaker_as(b, "crm", v) {
        b.record("pacemaker", v);
    }
    true
}

fn set_pacemaker(b: &mut Builder, v: &str) -> bool {
    set_pacemaker_as(b, "pacemaker", v)
}

fn set_pacemaker_as(b: &mut Builder, name: &str, v: &str) -> bool {
    if b.pacemaker_seen {
        b.error(
            "pacemaker/crm directive used multiple times",
            "keep a single 'crm off' line",
        );
        return false;
    }
    b.pacemaker_seen = true;
    const PCMK_MODES: [&str; 5] = ["minimal", "manual", "respawn", "valgrind", "ccm-only"];
    let pacemaker_mode = PCMK_MODES.iter().any(|m| m.eq_ignore_ascii_case(v));
    match parse_bool(v) {
        Some(false) => true,
        Some(true) => {
            refuse_pacemaker(b, name, v);
            false
        }
        None if pacemaker_mode => {
            refuse_pacemaker(b, name, v);
            false
        }
        None => {
            b.error(
                format!("{name} {v} is not a valid value"),
                format!("use '{name} off' for haresources (v1) mode"),
            );
            false
        }
    }
}

fn refuse_pacemaker(b: &mut Builder, name: &str, v: &str) {
    b.error(
        format!("'{name} {v}' selects Pacemaker (CRM) cluster management, which heartbeat-rs does not provide"),
        "use 'crm off' with haresources, or run Pacemaker with Heartbeat 3.0.6 or Corosync",
    );
}

fn set_crm_daemon_dir(b: &mut Builder, v: &str) -> bool {
    if b.pacemaker_seen {
        b.warning(
            format!("crm_daemon_dir {v} after the pacemaker/crm line is ignored by Heartbeat"),
            "put crm_daemon_dir before the crm line, or remove it (Pacemaker only)",
        );
    }
    true
}

fn set_autojoin(b: &mut Builder, v: &str) -> bool {
    let mode = if v.eq_ignore_ascii_case("none") {
        AutoJoin::None
    } else if v.eq_ignore_ascii_case("other") {
        AutoJoin::Other
    } else if v.eq_ignore_ascii_case("any") {
        AutoJoin::Any
    } else {
        b.error(
            format!("invalid autojoin directive [{v}]"),
            "use autojoin none (the only mode that works with haresources)",
        );
        return false;
    };
    b.cf.autojoin = mode;
    true
}

fn set_uuidfrom(b: &mut Builder, v: &str) -> bool {
    if !b.one_of("uuidfrom", v, &["file", "nodename"]) {
        return false;
    }
    b.cf.uuidfrom = if v == "nodename" {
        UuidFrom::Nodename
    } else {
        UuidFrom::File
    };
    true
}

fn set_compression(b: &mut Builder, v: &str) -> bool {
    if !b.one_of("compression", v, &["zlib", "bz2"]) {
        return false;
    }
    b.cf.compression = v.to_string();
    true
}

fn set_compression_threshold(b: &mut Builder, v: &str) -> bool {
    b.number("compression_threshold", v, 1, i64::from(u32::MAX / 1024))
        .map(|n| b.cf.compression_threshold_kib = n as u32)
        .is_some()
}

fn set_traditional_compression(b: &mut Builder, v: &str) -> bool {
    b.boolean("traditional_compression", v)
        .map(|on| b.cf.traditional_compression = on)
        .is_some()
}

fn set_env(b: &mut Builder, v: &str) -> bool {
    match v.split_once('=') {
        Some((name, value)) if !name.is_empty() => {
            b.cf.env.push((name.to_string(), value.to_string()));
            true
        }
        _ => {
            b.error(
                format!("env {v} is not NAME=VALUE"),
                "write env NAME=VALUE (exported to children as HA_NAME; no spaces or commas)",
            );
            false
        }
    }
}

fn set_max_rexmit_delay(b: &mut Builder, v: &str) -> bool {
    b.number("max_rexmit_delay", v, 1, i64::from(i32::MAX))
        .map(|n| b.cf.max_rexmit_delay_ms = n as u64)
        .is_some()
}

fn set_memreserve(b: &mut Builder, v: &str) -> bool {
    b.number("memreserve", v, 1, i64::from(i32::MAX))
        .map(|n| b.cf.memreserve_kib = n as u64)
        .is_some()
}
