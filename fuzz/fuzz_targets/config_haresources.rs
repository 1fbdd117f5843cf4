//! haresources parser: arbitrary bytes must never panic; every group has
//! a key equal to its first resource and a lower-case node.
#![no_main]

use std::path::Path;

use heartbeat_rs::config::haresources;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let nodes = ["alpha".to_string(), "bravo".to_string()];
    let pings = ["gw".to_string()];
    let parsed = haresources::parse(data, Path::new("haresources"), &nodes, &pings);
    for g in &parsed.value {
        assert_eq!(
            g.resources.first().map(|r| r.spec.as_str()),
            Some(g.key.as_str())
        );
        assert!(!g.node.bytes().any(|b| b.is_ascii_uppercase()));
    }
    for d in &parsed.diagnostics {
        let _ = d.to_string();
    }
});
