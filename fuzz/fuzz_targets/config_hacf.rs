//! ha.cf parser: arbitrary bytes must never panic; the result keeps
//! Heartbeat's invariants.
#![no_main]

use std::path::Path;

use heartbeat_rs::config::hacf;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let parsed = hacf::parse(data, Path::new("ha.cf"));
    let cf = parsed.value;
    assert!(cf
        .nodes
        .iter()
        .all(|n| !n.bytes().any(|b| b.is_ascii_uppercase())));
    assert!(cf.media.len() <= hacf::MAX_MEDIA);
    assert!(cf.node_count_with_ping() <= hacf::MAX_NODES);
    if !parsed.diagnostics.has_errors() {
        assert!(cf.deadtime_ms > 2 * cf.keepalive_ms);
        assert!(cf.initdead_ms >= cf.deadtime_ms);
        assert!(cf.warntime_ms > 0);
    }
    for d in &parsed.diagnostics {
        let _ = d.to_string();
    }
});
