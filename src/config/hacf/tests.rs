use std::path::Path;

use super::*;
use crate::config::model::{AutoFailback, GenMethod, Medium, MsgFmt};

const BASE: &str = "node alpha bravo\nbcast eth0\nauto_failback on\nlogfacility daemon\n";

fn parse_str(text: &str) -> (HaCf, Vec<String>) {
    let p = parse(text.as_bytes(), Path::new("ha.cf"));
    let msgs = p
        .diagnostics
        .iter()
        .map(|d| format!("{}: {d}", d.severity.label()))
        .collect();
    (p.value, msgs)
}

/// BASE plus `extra`, expecting no diagnostics.
fn clean(extra: &str) -> HaCf {
    let (cf, msgs) = parse_str(&format!("{BASE}{extra}"));
    assert!(msgs.is_empty(), "{msgs:#?}");
    cf
}

/// BASE plus `extra`: the diagnostics.
fn diags(extra: &str) -> Vec<String> {
    parse_str(&format!("{BASE}{extra}")).1
}

#[test]
fn base_config_defaults() {
    let cf = clean("");
    assert_eq!(cf.nodes, ["alpha", "bravo"]);
    assert_eq!(cf.keepalive_ms, 1000);
    assert_eq!(cf.deadtime_ms, 30000);
    assert_eq!(cf.warntime_ms, 15000);
    assert_eq!(cf.initdead_ms, 30000);
    assert_eq!(cf.deadping_ms, 30000);
    assert_eq!(cf.udpport, 694);
    assert_eq!(cf.auto_failback, AutoFailback::On);
    assert!(!cf.auto_failback_defaulted);
    assert_eq!(cf.hbgenmethod, GenMethod::File);
    assert_eq!(cf.msgfmt, MsgFmt::Classic);
    assert_eq!(
        cf.media[0].medium,
        Medium::Bcast {
            iface: "eth0".into(),
            port: 694
        }
    );
    assert_eq!(cf.media[0].origin.line, 2);
    assert_eq!(cf.param("deadtime"), Some("30000ms"));
    assert_eq!(cf.param("warntime"), Some("15000ms"));
    assert_eq!(cf.param("initdead"), Some("30000ms"));
    assert_eq!(cf.param("udpport"), Some("694"));
    assert_eq!(cf.param("auto_failback"), Some("on"));
    assert_eq!(cf.param("debug"), Some("0"));
    assert_eq!(cf.param("memreserve"), Some("6500"));
    assert_eq!(cf.param("node"), None);
    let anon = cf
        .apiauth
        .iter()
        .find(|a| a.client == "anon")
        .expect("anon");
    assert_eq!(
        (anon.uids.clone(), anon.gids.clone()),
        (vec!["root".into()], vec!["haclient".into()])
    );
}

#[test]
fn values_split_on_blanks_and_commas() {
    let (cf, msgs) = parse_str("node Alpha,bravo\tCharlie\x0cdelta\nbcast eth0, eth1\nauto_failback on\nlogfacility daemon\n");
    assert!(msgs.is_empty(), "{msgs:?}");
    assert_eq!(cf.nodes, ["alpha", "bravo", "charlie", "delta"]);
    assert_eq!(cf.media.len(), 2);
}

#[test]
fn directive_is_cut_at_white_space_only() {
    assert_eq!(
        diags("node,charlie\n"),
        ["error: ha.cf:5: illegal directive [node,charlie] — check the spelling (directives are case-sensitive) or remove the line"]
    );
    assert_eq!(diags("Node charlie\n").len(), 1);
}

#[test]
fn comments_cr_and_blank_lines() {
    let cf = clean(
        "# full comment\n   \n  keepalive 2 # two seconds\r\ndeadtime 20\r\nwarntime 5\rjunk\n",
    );
    assert_eq!(cf.keepalive_ms, 2000);
    assert_eq!(cf.deadtime_ms, 20000);
    assert_eq!(cf.warntime_ms, 5000);
}

#[test]
fn repeated_scalar_last_wins() {
    let cf = clean("keepalive 3 2\nkeepalive 1\n");
    assert_eq!(cf.keepalive_ms, 1000);
    assert_eq!(cf.param("keepalive"), Some("1"));
}

#[test]
fn time_values() {
    assert_eq!(clean("keepalive 0.5\n").keepalive_ms, 500);
    assert_eq!(clean("keepalive 500ms\n").keepalive_ms, 500);
    assert_eq!(clean("keepalive 1500us\n").keepalive_ms, 2);
    let m = diags("keepalive 10s\n");
    assert_eq!(
        m,
        ["error: ha.cf:5: keepalive 10s: unit 's' is not a time unit Heartbeat knows — write seconds as a plain number (2, 0.5) or add ms or us (500ms); Heartbeat rejects other units such as s or m"]
    );
    assert_eq!(diags("deadtime 1m\n").len(), 1);
    assert!(diags("keepalive 0\n")[0].contains("must be greater than 0"));
    assert!(diags("warntime 0\n")[0].contains("must be greater than 0"));
    assert!(diags("initdead abc\n")[0].contains("is not a time value"));
}

#[test]
fn booleans() {
    assert!(!clean("realtime OFF\n").realtime);
    assert!(clean("realtime Y\n").realtime);
    assert!(!clean("coredumps 0\n").coredumps);
    assert!(diags("realtime maybe\n")[0].contains("is not a boolean"));
}

#[test]
fn derived_timing() {
    let cf = clean("keepalive 1\ndeadtime 10\n");
    assert_eq!(
        (cf.warntime_ms, cf.initdead_ms, cf.deadping_ms),
        (5000, 20000, 10000)
    );
    assert_eq!(cf.param("initdead"), Some("20000ms"));
    let cf = clean("deadtime 12\n");
    assert_eq!(cf.initdead_ms, 12000);
    // deadtime < 6 s: initdead 12 s
    let cf = clean("keepalive 500ms\ndeadtime 3\n");
    assert_eq!((cf.warntime_ms, cf.initdead_ms), (1500, 12000));
    // explicit values are kept, warntime derived from the final deadtime
    let cf = clean("warntime 2\ndeadtime 20\ninitdead 40\n");
    assert_eq!((cf.warntime_ms, cf.initdead_ms), (2000, 40000));
    let cf = clean("deadtime 20\n");
    assert_eq!(cf.warntime_ms, 10000);
}

#[test]
fn timing_checks() {
    assert_eq!(
        diags("keepalive 2\ndeadtime 4\n"),
        ["error: ha.cf:6: deadtime (4000 ms) must be more than twice keepalive (2000 ms) — raise deadtime or lower keepalive (e.g. keepalive 1, deadtime 10)"]
    );
    let m = diags("deadtime 20\ninitdead 10\n");
    assert_eq!(m.len(), 1);
    assert!(m[0].starts_with("error: ha.cf:6: initdead (10000 ms) is smaller than deadtime"));
    let m = diags("keepalive 500ms\ndeadtime 3\ninitdead 6\n");
    assert_eq!(m.len(), 1);
    assert!(m[0].starts_with("warning: ha.cf:7: initdead (6000 ms) may be too small"));
    let m = diags("deadping 1\n");
    assert!(
        m[0].starts_with("error: ha.cf:5: deadping (1000 ms) must be more than twice keepalive")
    );
    let m = diags("warntime 40\n");
    assert!(m[0].starts_with("warning: ha.cf:5: warntime (40000 ms) is not below deadtime"));
}

#[test]
fn udpport_applies_to_later_media_only() {
    let (cf, msgs) = parse_str("node a b\nauto_failback on\nlogfile /l\nbcast eth0\nudpport 700\nbcast eth1\nucast eth2 10.0.0.2\n");
    assert_eq!(cf.udpport, 700);
    let ports: Vec<u16> = cf
        .media
        .iter()
        .map(|m| match &m.medium {
            Medium::Bcast { port, .. } | Medium::Ucast { port, .. } => *port,
            _ => 0,
        })
        .collect();
    // bcast keeps the port of its first line; ucast's first line sees 700
    assert_eq!(ports, [694, 694, 700]);
    assert_eq!(
        msgs,
        ["warning: ha.cf:5: udpport after media lines has no effect on bcast (port 694 since line 4) — move the udpport line before the first bcast/ucast line"]
    );
    let (cf, msgs) = parse_str(&format!("{BASE}udpport 701\nbcast eth1\n"));
    assert_eq!(msgs.len(), 1);
    // the earlier BASE bcast line fixed 694 for all bcast media
    assert!(cf
        .media
        .iter()
        .all(|m| matches!(m.medium, Medium::Bcast { port: 694, .. })));
}

#[test]
fn udpport_before_media() {
    let (cf, msgs) = parse_str(
        "udpport 695\nnode a b\nbcast eth0\nucast eth0 10.0.0.1\nauto_failback on\nlogfile /l\n",
    );
    assert!(msgs.is_empty(), "{msgs:?}");
    assert!(cf.media.iter().all(|m| match &m.medium {
        Medium::Bcast { port, .. } | Medium::Ucast { port, .. } => *port == 695,
        _ => false,
    }));
    assert!(diags("udpport 0\n")[0].contains("invalid port [0]"));
    assert!(diags("udpport 70000\n")[0].contains("invalid port [70000]"));
}

#[test]
fn baud_and_serial() {
    let cf = clean("baud 38400\nserial /dev/ttyS0 /dev/ttyS1\n");
    assert_eq!(cf.baud, 38400);
    assert!(matches!(
        cf.media[1].medium,
        Medium::Serial { baud: 38400, .. }
    ));
    assert!(matches!(
        cf.media[2].medium,
        Medium::Serial { baud: 38400, .. }
    ));
    let (cf, msgs) = parse_str(&format!("{BASE}serial /dev/ttyS0\nbaud 9600\n"));
    assert!(matches!(
        cf.media[1].medium,
        Medium::Serial { baud: 19200, .. }
    ));
    assert!(msgs[0].starts_with("warning: ha.cf:6: baud after the serial line 5"));
    assert!(diags("baud 19200\nbaud 19200\n")[0].contains("baudrate multiply specified"));
    assert!(diags("baud 1234\n")[0].contains("invalid baudrate [1234]"));
    assert!(diags("serial ttyS0\n")[0].contains("serial port not full pathname [ttyS0]"));
}

#[test]
fn whole_line_directives_keep_commas_and_spaces() {
    let cf = clean("respawn hacluster /usr/lib/heartbeat/ipfail -x a,b  \nfailfast root /bin/true\napiauth ipfail uid=hacluster,root gid=haclient\nstonith_host * external/ssh alpha,bravo\nstonith baytech /etc/ha.d/conf/stonith.baytech\n");
    assert_eq!(cf.respawn[0].user, "hacluster");
    assert_eq!(cf.respawn[0].command, "/usr/lib/heartbeat/ipfail -x a,b");
    assert!(!cf.respawn[0].failfast);
    assert!(cf.respawn[1].failfast);
    let ipfail = cf
        .apiauth
        .iter()
        .find(|a| a.client == "ipfail")
        .expect("ipfail");
    assert_eq!(ipfail.uids, ["hacluster", "root"]);
    assert_eq!(ipfail.gids, ["haclient"]);
    assert_eq!(cf.stonith_host, ["* external/ssh alpha,bravo"]);
    assert_eq!(cf.stonith, ["baytech /etc/ha.d/conf/stonith.baytech"]);
}

#[test]
fn whole_line_errors() {
    assert!(
        diags("respawn root bin/true\n")[0].contains("command [bin/true] is not a full pathname")
    );
    assert!(diags("respawn root\n")[0].contains("is not a full pathname"));
    assert!(diags("apiauth foo\n")[0].contains("no uid or gid list"));
    assert!(diags("apiauth foo bar=1\n")[0].contains("neither uid=… nor gid=…"));
    assert!(diags("apiauth foo uid=a uid=b\n")[0].contains("duplicate uid list"));
    assert!(
        diags("apiauth foo uid=a\napiauth foo gid=b\n")[0].contains("duplicate apiauth directive")
    );
    assert!(diags("stonith\n")[0].contains("no STONITH type given"));
    assert!(diags("stonith_host bravo\n")[0].contains("no STONITH type given"));
}

#[test]
fn mcast_validation() {
    let cf = clean("mcast eth1 239.0.0.1 694 1 0\n");
    assert_eq!(
        cf.media[1].medium,
        Medium::Mcast {
            iface: "eth1".into(),
            group: "239.0.0.1".parse().expect("ip"),
            port: 694,
            ttl: 1,
            loopback: false
        }
    );
    assert!(diags("mcast eth1 10.0.0.1 694 1 0\n")[0].contains("bad addr [10.0.0.1]"));
    assert!(diags("mcast eth1 239.0.0.1 694 5 0\n")[0].contains("bad ttl [5]"));
    assert!(diags("mcast eth1 239.0.0.1 694 1 2\n")[0].contains("bad loop [2]"));
    assert!(diags("mcast eth1 239.0.0.1 694 1\n")[0].contains("missing loop"));
    assert!(diags("mcast eth1 239.0.0.1 0 1 1\n")[0].contains("bad port [0]"));
    assert!(diags("mcast\n")[0].contains("mcast needs a device"));
    assert!(diags("mcast eth1 239.0.0.1 694 1 0 extra\n")[0].starts_with("warning:"));
    // the mcast port is its own, not udpport
    let cf = clean("mcast eth1 239.0.0.1 5000 0 1\n");
    assert!(matches!(
        cf.media[1].medium,
        Medium::Mcast {
            port: 5000,
            ttl: 0,
            loopback: true,
            ..
        }
    ));
}

#[test]
fn ucast_ping_and_ipv6() {
    let cf = clean(
        "ucast eth0 10.0.0.2\nping 10.0.0.254 gw.example\nping_group routers 10.0.0.1 10.0.0.2\n",
    );
    assert!(
        matches!(&cf.media[1].medium, Medium::Ucast { peer, port: 694, .. } if peer == "10.0.0.2")
    );
    assert_eq!(cf.ping_hosts, ["10.0.0.254", "gw.example"]);
    assert_eq!(
        cf.ping_groups,
        [(
            "routers".to_string(),
            vec!["10.0.0.1".to_string(), "10.0.0.2".to_string()]
        )]
    );
    assert_eq!(cf.node_count_with_ping(), 5);
    assert!(diags("ucast eth0\n")[0].contains("missing target"));
    assert!(diags("ping_group g\n")[0].contains("has no hosts"));
    assert!(diags("ping alpha\n")[0].contains("ping node 'alpha' is already defined on line 1"));
    let (cf, m) = parse_str(&format!(
        "{BASE}mcast6 eth0 ff12::1 694 1 0\nucast6 eth0 2001:db8::1\nping6 2001:db8::fe\n"
    ));
    assert_eq!(cf.unsupported_media.len(), 3);
    assert_eq!(m.len(), 3);
    assert!(m.iter().all(|l| l.starts_with("warning:")));
    let (_, m) = parse_str("node a\nmcast6 eth0 ff12::1 694 1 0\nlogfile /l\nauto_failback on\n");
    assert!(m.iter().any(|l| l.contains("every medium is an IPv6 one")));
}

#[test]
fn udp_alias() {
    let (cf, m) = parse_str(&format!("{BASE}udp eth1\n"));
    assert_eq!(cf.media.len(), 2);
    assert_eq!(
        m,
        ["warning: ha.cf:5: directive 'udp' is an obsolete alias of 'bcast' — write 'bcast' instead of 'udp'"]
    );
}

#[test]
fn nodes() {
    assert!(diags("node ALPHA\n")[0].contains("node 'alpha' is already defined on line 1"));
    let long = "x".repeat(100);
    assert!(diags(&format!("node {long}\n"))[0].contains("longer than 99"));
    let (_, m) = parse_str("bcast eth0\nauto_failback on\nlogfile /l\n");
    assert!(m[0].contains("no nodes defined"));
    let many: Vec<String> = (0..101).map(|i| format!("n{i}")).collect();
    let (_, m) = parse_str(&format!(
        "node {}\nbcast eth0\nauto_failback on\nlogfile /l\n",
        many.join(" ")
    ));
    assert_eq!(m.len(), 1);
    assert!(m[0].contains("too many nodes"));
}

#[test]
fn no_media() {
    let (_, m) = parse_str("node a\nauto_failback on\nlogfile /l\n");
    assert_eq!(
        m,
        ["error: ha.cf: no heartbeat media defined — add at least one bcast, mcast, ucast or serial line"]
    );
}

#[test]
fn nice_failback_quirk() {
    let base = "node a b\nbcast eth0\nlogfile /l\n";
    // alone: legacy, whatever the boolean says
    for v in ["on", "off"] {
        let (cf, m) = parse_str(&format!("{base}nice_failback {v}\n"));
        assert_eq!(cf.auto_failback, AutoFailback::Legacy, "{v}");
        assert!(
            m[0].contains(&format!(
                "reads 'nice_failback {v}' as 'auto_failback legacy'"
            )),
            "{m:?}"
        );
        assert!(m[1].contains("leaves auto_failback at its deprecated 'legacy' default"));
    }
    // after auto_failback on/off: off
    let (cf, m) = parse_str(&format!("{base}auto_failback on\nnice_failback on\n"));
    assert_eq!(cf.auto_failback, AutoFailback::Off);
    assert_eq!(m.len(), 1);
    assert!(m[0].contains("as 'auto_failback off'"));
    // a later auto_failback wins
    let (cf, _) = parse_str(&format!("{base}nice_failback on\nauto_failback on\n"));
    assert_eq!(cf.auto_failback, AutoFailback::On);
    // after explicit legacy: legacy
    let (cf, _) = parse_str(&format!("{base}auto_failback legacy\nnice_failback on\n"));
    assert_eq!(cf.auto_failback, AutoFailback::Legacy);
    assert!(parse_str(&format!("{base}nice_failback maybe\n")).1[0].contains("is not a boolean"));
}

#[test]
fn auto_failback_values_and_default() {
    assert_eq!(
        clean("auto_failback Off\n").auto_failback,
        AutoFailback::Off
    );
    let (cf, m) = parse_str("node a b\nbcast eth0\nlogfile /l\n");
    assert_eq!(cf.auto_failback, AutoFailback::Legacy);
    assert!(cf.auto_failback_defaulted);
    assert_eq!(cf.param("auto_failback"), Some("legacy"));
    assert_eq!(
        m,
        ["warning: ha.cf: auto_failback is not set: Heartbeat's default is the deprecated 'legacy' mode (ip-request protocol, no hb_standby) — add 'auto_failback on' (or off), the same on every node"]
    );
    let (cf, m) = parse_str("node a b\nbcast eth0\nlogfile /l\nauto_failback LEGACY\n");
    assert_eq!(cf.auto_failback, AutoFailback::Legacy);
    assert!(!cf.auto_failback_defaulted);
    assert!(m[0].starts_with("warning: ha.cf:4: auto_failback legacy is deprecated"));
    assert!(diags("auto_failback sometimes\n")[0].contains("not a valid value"));
}

#[test]
fn crm_and_pacemaker() {
    let cf = clean("crm off\n");
    assert_eq!(cf.param("pacemaker"), Some("off"));
    clean("pacemaker no\n");
    for mode in [
        "on", "respawn", "manual", "minimal", "ccm-only", "valgrind", "yes",
    ] {
        let m = diags(&format!("crm {mode}\n"));
        assert_eq!(m.len(), 1, "{mode}");
        assert!(
            m[0].contains("selects Pacemaker (CRM) cluster management"),
            "{m:?}"
        );
    }
    assert!(diags("pacemaker on\n")[0].contains("'pacemaker on' selects Pacemaker"));
    assert!(diags("crm bogus\n")[0].contains("crm bogus is not a valid value"));
    assert!(diags("crm off\npacemaker off\n")[0].contains("used multiple times"));
    assert!(diags("crm off\ncrm_daemon_dir /usr/lib/pacemaker\n")[0].starts_with("warning:"));
    clean("crm_daemon_dir /usr/lib/pacemaker\ncrm off\n");
}

#[test]
fn autojoin_refused_with_haresources() {
    clean("autojoin none\n");
    for v in ["other", "any", "ANY"] {
        let m = diags(&format!("autojoin {v}\n"));
        assert_eq!(m.len(), 1);
        assert!(m[0].contains("conflicts with autojoin"), "{m:?}");
    }
    assert!(diags("autojoin some\n")[0].contains("invalid autojoin directive"));
}

#[test]
fn logging_rules() {
    let base = "node a b\nbcast eth0\nauto_failback on\n";
    let (cf, m) = parse_str(base);
    assert!(cf.use_logd);
    assert_eq!(cf.param("use_logd"), Some("yes"));
    assert!(m[0].contains("sends every log message to ha_logd"));
    let (_, m) = parse_str(&format!("{base}use_logd off\n"));
    assert!(m[0]
        .starts_with("error: ha.cf:4: no logfile, debugfile or logfacility, and use_logd is off"));
    // facility none / kern counts as no syslog
    let (_, m) = parse_str(&format!("{base}logfacility none\n"));
    assert_eq!(m.len(), 1);
    let (cf, m) = parse_str(&format!("{base}logfacility local0\nuse_logd off\n"));
    assert!(m.is_empty(), "{m:?}");
    assert!(!cf.use_logd);
    assert!(diags("logfacility LOCAL0\n")[0].contains("log facility (LOCAL0) not valid"));
}

#[test]
fn numbers_and_enumerations() {
    let cf = clean("hopfudge 3\ndebug 2\nrtprio 50\nmemreserve 1000\nmax_rexmit_delay 100\nhbgenmethod time\nmsgfmt netstring\nuuidfrom nodename\ncompression bz2\ncompression_threshold 4\n");
    assert_eq!((cf.hopfudge, cf.debug, cf.rtprio), (3, 2, Some(50)));
    assert_eq!((cf.memreserve_kib, cf.max_rexmit_delay_ms), (1000, 100));
    assert_eq!(cf.hbgenmethod, GenMethod::Time);
    assert_eq!(cf.msgfmt, MsgFmt::Netstring);
    assert_eq!(cf.compression, "bz2");
    assert_eq!(cf.compression_threshold_kib, 4);
    assert!(diags("hopfudge 256\n")[0].contains("out of range"));
    assert!(diags("debug 256\n")[0].contains("out of range"));
    assert!(diags("rtprio 100\n")[0].contains("out of range"));
    assert!(diags("memreserve 0\n")[0].contains("out of range"));
    assert!(diags("hbgenmethod FILE\n")[0].contains("not a valid value"));
    assert!(diags("msgfmt Netstring\n")[0].contains("not a valid value"));
    assert!(diags("compression foo\n")[0].contains("not a valid value"));
    // atoi semantics: accepted like Heartbeat, with a warning
    let (cf, m) = parse_str(&format!("{BASE}hopfudge abc\n"));
    assert_eq!(cf.hopfudge, 0);
    assert!(m[0].starts_with(
        "warning: ha.cf:5: hopfudge abc is not a plain number; Heartbeat reads it as 0"
    ));
}

#[test]
fn env_and_watchdog() {
    let cf = clean("env FOO=bar=baz\nenv X=\nwatchdog /dev/watchdog\n");
    assert_eq!(
        cf.env,
        [
            ("FOO".to_string(), "bar=baz".to_string()),
            ("X".to_string(), String::new())
        ]
    );
    assert!(diags("env FOO\n")[0].contains("is not NAME=VALUE"));
    assert!(diags("watchdog /dev/a\nwatchdog /dev/b\n")[0].contains("multiply specified"));
}

#[test]
fn value_less_line_is_ignored_with_a_warning() {
    assert_eq!(
        diags("keepalive\n"),
        ["warning: ha.cf:5: 'keepalive' has no value, so Heartbeat ignores this line — give a value (e.g. 'keepalive VALUE') or remove the line"]
    );
}

#[test]
fn every_directive_is_accepted() {
    let value = |name: &str| -> &'static str {
        match name {
            "node" => "charlie",
            "keepalive"
            | "hopfudge"
            | "debug"
            | "rtprio"
            | "memreserve"
            | "compression_threshold"
            | "max_rexmit_delay" => "1",
            "deadtime" | "deadping" => "20",
            "initdead" => "40",
            "warntime" | "conn_logd_time" => "5",
            "baud" => "19200",
            "udpport" => "694",
            "logfacility" => "daemon",
            "nice_failback" | "crm" | "pacemaker" => "off",
            "auto_failback" => "on",
            "hbgenmethod" | "uuidfrom" => "file",
            "msgfmt" => "classic",
            "autojoin" => "none",
            "compression" => "zlib",
            "env" => "A=b",
            "stonith" => "baytech /etc/stonith.cfg",
            "stonith_host" => "* null alpha",
            "selffence" => "/sbin/reboot -nf",
            "apiauth" => "myclient uid=root",
            "respawn" | "failfast" => "root /bin/true",
            "serial" => "/dev/ttyS0",
            "ping" | "ping6" => "gw",
            "mcast" => "eth0 239.0.0.1 694 1 0",
            "mcast6" => "eth0 ff12::1 694 1 0",
            "ucast" | "ucast6" => "eth0 peer",
            "ping_group" => "grp 10.0.0.1",
            _ => "yes",
        }
    };
    let mut seen = 0;
    for name in directive_names() {
        seen += 1;
        let text = if name == "ping6" || name == "ping" {
            format!("{BASE}{name} gw-{name}\n")
        } else {
            format!("{BASE}{name} {}\n", value(name))
        };
        let (_, m) = parse_str(&text);
        let errors: Vec<&String> = m.iter().filter(|l| l.starts_with("error")).collect();
        assert!(errors.is_empty(), "{name}: {errors:?}");
    }
    assert_eq!(seen, 59);
}

#[test]
fn non_utf8_and_nul() {
    let p = parse(
        b"node alpha\nbcast eth0\nauto_failback on\nlogfile /l\nnode \xff\xfe\nnode bravo\0junk\n",
        Path::new("ha.cf"),
    );
    assert_eq!(p.value.nodes, ["alpha", "bravo"]);
    assert_eq!(p.diagnostics.len(), 1);
    assert!(p.diagnostics.0[0].message.contains("not valid UTF-8"));
}

#[test]
fn too_many_media() {
    let ifaces: Vec<String> = (0..65).map(|i| format!("e{i}")).collect();
    let (cf, m) = parse_str(&format!(
        "node a\nauto_failback on\nlogfile /l\nbcast {}\n",
        ifaces.join(" ")
    ));
    assert_eq!(cf.media.len(), 64);
    assert_eq!(m.len(), 1);
    assert!(m[0].contains("too many media"));
}

#[test]
fn selffence_extension() {
    assert_eq!(clean("").self_fence, None);
    assert_eq!(
        clean("selffence /usr/local/sbin/fence-me now\n").self_fence,
        Some(vec![
            "/usr/local/sbin/fence-me".to_string(),
            "now".to_string()
        ])
    );
    assert_eq!(clean("selffence none\n").self_fence, Some(Vec::new()));
    let d = diags("selffence reboot\n");
    assert!(
        d.iter()
            .any(|m| m.contains("selffence command [reboot] is not a full pathname")),
        "{d:?}"
    );
}
