//! After the last line: defaults, derived values and the start-up checks
//! of Heartbeat's `init_config` that concern ha.cf alone.

use super::{facility_code, Builder};
use crate::config::model::{ApiAuth, AutoFailback, AutoJoin};

/// Defaults Heartbeat records for `getparm` when a directive is absent
/// (`heartbeat -D`), in its table order.
const RECORDED_DEFAULTS: [(&str, &str); 24] = [
    ("cluster", "linux-ha"),
    ("hopfudge", "1"),
    ("keepalive", "1000ms"),
    ("deadtime", "30000ms"),
    ("baud", "19200"),
    ("auto_failback", "legacy"),
    ("hbgenmethod", "file"),
    ("realtime", "true"),
    ("msgfmt", "classic"),
    ("conn_logd_time", "60"),
    ("log_badpack", "true"),
    ("syslogmsgfmt", "true"),
    ("coredumps", "true"),
    ("pacemaker", "false"),
    ("autojoin", "none"),
    ("uuidfrom", "file"),
    ("compression", "zlib"),
    ("compression_threshold", "2"),
    ("traditional_compression", "no"),
    ("max_rexmit_delay", "250"),
    ("record_config_changes", "on"),
    ("record_pengine_inputs", "on"),
    ("enable_config_writes", "on"),
    ("memreserve", "6500"),
];

/// API clients Heartbeat authorises unless ha.cf says otherwise.
const DEFAULT_APIAUTH: [(&str, &str, &str); 5] = [
    ("ipfail", "hacluster", ""),
    ("ccm", "hacluster", ""),
    ("ping", "", "haclient"),
    ("lha-snmpagent", "root", ""),
    ("anon", "root", "haclient"),
];

pub(super) fn finish(b: &mut Builder) {
    record_defaults(b);
    default_apiauth(b);

    if b.media_count == 0 {
        b.error(
            "no heartbeat media defined",
            "add at least one bcast, mcast, ucast or serial line",
        );
    } else if b.cf.media.is_empty() && b.cf.ping_hosts.is_empty() && b.cf.ping_groups.is_empty() {
        b.error(
            "every medium is an IPv6 one, which heartbeat-rs does not open",
            "add a bcast, mcast, ucast or serial line",
        );
    }
    if b.cf.nodes.is_empty() && b.cf.autojoin != AutoJoin::Any {
        b.error(
            "no nodes defined",
            "add a node line listing every cluster member (uname -n of each)",
        );
    }

    if !b.warntime_set {
        b.cf.warntime_ms = b.cf.deadtime_ms / 2;
        let v = format!("{}ms", b.cf.warntime_ms);
        b.record("warntime", &v);
    }

    let (keepalive, deadtime) = (b.cf.keepalive_ms, b.cf.deadtime_ms);
    if deadtime <= 2 * keepalive {
        b.error_at(
            "deadtime",
            format!("deadtime ({deadtime} ms) must be more than twice keepalive ({keepalive} ms)"),
            "raise deadtime or lower keepalive (e.g. keepalive 1, deadtime 10)",
        );
    }

    if !b.initdead_set {
        b.cf.initdead_ms = if deadtime > 10_000 {
            deadtime
        } else if deadtime < 6_000 {
            12_000
        } else {
            2 * deadtime
        };
        let v = format!("{}ms", b.cf.initdead_ms);
        b.record("initdead", &v);
    }
    let initdead = b.cf.initdead_ms;
    if initdead < deadtime {
        b.error_at(
            "initdead",
            format!("initdead ({initdead} ms) is smaller than deadtime ({deadtime} ms)"),
            "set initdead to at least deadtime (and at least 10 seconds)",
        );
    } else if initdead < 10_000 {
        b.warning_at(
            "initdead",
            format!("initdead ({initdead} ms) may be too small: it covers slow network start-up"),
            "set initdead to 10 seconds or more (and at least deadtime)",
        );
    }

    if !b.deadping_set {
        b.cf.deadping_ms = deadtime;
        let v = format!("{deadtime}ms");
        b.record("deadping", &v);
    } else if b.cf.deadping_ms <= 2 * keepalive {
        let deadping = b.cf.deadping_ms;
        b.error_at(
            "deadping",
            format!("deadping ({deadping} ms) must be more than twice keepalive ({keepalive} ms)"),
            "raise deadping or remove it (it defaults to deadtime)",
        );
    }

    if b.warntime_set && b.cf.warntime_ms >= deadtime {
        let warntime = b.cf.warntime_ms;
        b.warning_at(
            "warntime",
            format!("warntime ({warntime} ms) is not below deadtime ({deadtime} ms): no late-heartbeat warning will come before a node is declared dead"),
            "set warntime between keepalive and deadtime, or remove it (default deadtime/2)",
        );
    }

    if !b.udpport_set {
        b.record("udpport", "694");
    }
    if !b.debug_set {
        b.record("debug", "0");
    }

    check_auto_failback(b);
    check_logging(b);

    if b.cf.autojoin != AutoJoin::None {
        b.error_at(
            "autojoin",
            "R1-style (haresources) resource management conflicts with autojoin other/any",
            "remove the autojoin line (or set autojoin none)",
        );
    }
}

fn record_defaults(b: &mut Builder) {
    for (name, value) in RECORDED_DEFAULTS {
        if b.cf.param(name).is_none() {
            b.record(name, value);
        }
    }
}

fn default_apiauth(b: &mut Builder) {
    for (client, uid, gid) in DEFAULT_APIAUTH {
        if b.cf.apiauth.iter().any(|a| a.client == client) {
            continue;
        }
        let list = |s: &str| {
            if s.is_empty() {
                Vec::new()
            } else {
                vec![s.to_string()]
            }
        };
        b.cf.apiauth.push(ApiAuth {
            client: client.to_string(),
            uids: list(uid),
            gids: list(gid),
        });
    }
}

/// The default is `legacy`, also after `nice_failback` (Heartbeat applies
/// the default when no `auto_failback` line was accepted).
fn check_auto_failback(b: &mut Builder) {
    if !b.auto_failback_recorded {
        b.cf.auto_failback = AutoFailback::Legacy;
        b.cf.auto_failback_defaulted = true;
    }
    if b.cf.auto_failback != AutoFailback::Legacy {
        return;
    }
    const FIX: &str = "add 'auto_failback on' (or off), the same on every node";
    if b.nice_failback_line.is_some() && !b.auto_failback_recorded {
        b.warning_at(
            "nice_failback",
            "nice_failback leaves auto_failback at its deprecated 'legacy' default",
            FIX,
        );
    } else if b.cf.auto_failback_defaulted {
        b.warning(
            "auto_failback is not set: Heartbeat's default is the deprecated 'legacy' mode (ip-request protocol, no hb_standby)",
            FIX,
        );
    } else {
        b.warning_at(
            "auto_failback",
            "auto_failback legacy is deprecated (ip-request protocol, no hb_standby)",
            FIX,
        );
    }
}

/// Heartbeat's `check_logd_usage`: without any log target it uses ha_logd.
fn check_logging(b: &mut Builder) {
    let facility =
        b.cf.logfacility
            .as_deref()
            .and_then(facility_code)
            .unwrap_or(0);
    let has_target = b.cf.logfile.is_some() || b.cf.debugfile.is_some() || facility > 0;
    if has_target {
        b.cf.use_logd = b.use_logd.unwrap_or(false);
        return;
    }
    match b.use_logd {
        Some(false) => b.error_at(
            "use_logd",
            "no logfile, debugfile or logfacility, and use_logd is off: nowhere to log",
            "add 'logfacility daemon' and/or 'logfile /var/log/ha-log'",
        ),
        Some(true) => b.cf.use_logd = true,
        None => {
            b.cf.use_logd = true;
            b.record("use_logd", "yes");
            b.warning(
                "no logfile, debugfile or logfacility: Heartbeat sends every log message to ha_logd",
                "add 'logfacility daemon' and/or 'logfile /var/log/ha-log'",
            );
        }
    }
}
