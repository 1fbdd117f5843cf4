//! Property tests of the configuration parsers: no input makes them panic,
//! and time values follow cl_get_msec's arithmetic.

use std::path::Path;

use heartbeat_rs::config::values::parse_msec;
use heartbeat_rs::config::{authkeys, hacf, haresources};
use proptest::prelude::*;

/// Lines built from ha.cf-ish words, to get past the directive check often.
fn hacf_text() -> impl Strategy<Value = String> {
    let word = prop::sample::select(vec![
        "node",
        "alpha",
        "bravo",
        "bcast",
        "eth0",
        "udpport",
        "694",
        "keepalive",
        "deadtime",
        "initdead",
        "warntime",
        "10",
        "0.5",
        "500ms",
        "10s",
        "mcast",
        "239.0.0.1",
        "ucast",
        "serial",
        "/dev/ttyS0",
        "baud",
        "19200",
        "auto_failback",
        "on",
        "nice_failback",
        "crm",
        "off",
        "respawn",
        "root",
        "/bin/true",
        ",",
        "#",
        "\\",
        "\r",
        "ping_group",
        "apiauth",
        "uid=root",
    ]);
    prop::collection::vec(prop::collection::vec(word, 0..6), 0..12).prop_map(|lines| {
        lines
            .into_iter()
            .map(|l| l.join(" "))
            .collect::<Vec<_>>()
            .join("\n")
    })
}

proptest! {
    #[test]
    fn hacf_never_panics(data in prop::collection::vec(any::<u8>(), 0..2048)) {
        let _ = hacf::parse(&data, Path::new("ha.cf"));
    }

    #[test]
    fn hacf_wordy_input(text in hacf_text()) {
        let p = hacf::parse(text.as_bytes(), Path::new("ha.cf"));
        if !p.diagnostics.has_errors() {
            prop_assert!(p.value.deadtime_ms > 2 * p.value.keepalive_ms);
            prop_assert!(p.value.initdead_ms >= p.value.deadtime_ms);
            prop_assert!(!p.value.media.is_empty() || !p.value.ping_hosts.is_empty() || !p.value.ping_groups.is_empty());
        }
    }

    #[test]
    fn authkeys_never_panics(data in prop::collection::vec(any::<u8>(), 0..2048)) {
        let p = authkeys::parse(&data, Path::new("authkeys"));
        if p.value.is_none() {
            prop_assert!(p.diagnostics.has_errors());
        }
    }

    #[test]
    fn haresources_never_panics(data in prop::collection::vec(any::<u8>(), 0..2048)) {
        let nodes = ["alpha".to_string()];
        let p = haresources::parse(&data, Path::new("haresources"), &nodes, &[]);
        for g in &p.value {
            prop_assert_eq!(g.resources[0].spec.as_str(), g.key.as_str());
        }
    }

    #[test]
    fn whole_seconds_and_milliseconds(n in 0u64..1_000_000) {
        prop_assert_eq!(parse_msec(&n.to_string()), Ok(n * 1000));
        prop_assert_eq!(parse_msec(&format!("{n}ms")), Ok(n));
        prop_assert_eq!(parse_msec(&format!("{n}us")), Ok((n + 500) / 1000));
        let seconds_suffix = format!("{n}s");
        prop_assert!(parse_msec(&seconds_suffix).is_err());
    }

    #[test]
    fn time_parser_total(s in "\\PC{0,12}") {
        let _ = parse_msec(&s);
    }
}
