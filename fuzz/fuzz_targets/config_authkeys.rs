//! authkeys parser: arbitrary bytes must never panic; an accepted key ring
//! has a valid active entry.
#![no_main]

use std::path::Path;

use heartbeat_rs::config::authkeys;
use heartbeat_rs::wire::auth::MAX_AUTH;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let parsed = authkeys::parse(data, Path::new("authkeys"));
    if let Some(ring) = parsed.value {
        let active = usize::from(ring.active);
        assert!(active < MAX_AUTH);
        assert!(ring.entries[active].is_some());
    } else {
        assert!(parsed.diagnostics.has_errors());
    }
    for d in &parsed.diagnostics {
        let _ = d.to_string();
    }
});
