//! Scenario helpers shared by the namespace tests: log polling, timing and
//! running one scenario per medium concurrently.

use std::fs;
use std::time::{Duration, Instant};

use super::lab::Lab;

/// The media every namespace scenario runs over (dirs in tests/data/lab).
pub const MEDIA: &[&str] = &["bcast", "mcast", "ucast", "serial"];

/// A fresh lab for `medium` (serial gets a null-modem cable h1<->h2).
pub fn lab_for(name: &str, medium: &str) -> Lab {
    let name = format!("{name}-{}", &medium[..2]);
    if medium == "serial" {
        Lab::with_serial(&name, 2, &[(1, 2)])
    } else {
        Lab::new(&name, 2)
    }
}

/// Host `i`'s heartbeat log (`logfile /var/log/ha-log` in every lab config).
pub fn ha_log(lab: &Lab, i: usize) -> String {
    fs::read_to_string(lab.file(i, "/var/log/ha-log")).unwrap_or_default()
}

/// Number of log lines of host `i` containing `needle`.
pub fn count_in_log(lab: &Lab, i: usize, needle: &str) -> usize {
    ha_log(lab, i)
        .lines()
        .filter(|l| l.contains(needle))
        .count()
}

/// Polls (every 10 ms) until host `i`'s log has more than `already` lines
/// containing `needle`; returns when that was seen, or None on timeout.
pub fn wait_log_count(
    lab: &Lab,
    i: usize,
    needle: &str,
    already: usize,
    timeout: Duration,
) -> Option<Instant> {
    let end = Instant::now() + timeout;
    loop {
        if count_in_log(lab, i, needle) > already {
            return Some(Instant::now());
        }
        if Instant::now() >= end {
            return None;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// `wait_log_count` with `already` = 0, panicking with the log on timeout.
pub fn expect_log(lab: &Lab, i: usize, needle: &str, timeout: Duration) -> Instant {
    match wait_log_count(lab, i, needle, 0, timeout) {
        Some(t) => t,
        None => panic!(
            "host {i} did not log {needle:?} within {timeout:?}; log:\n{}",
            lab.log_of(i)
        ),
    }
}

/// Runs `scenario(medium)` for every medium in its own thread (each builds its
/// own lab), then fails naming every medium whose scenario panicked.
pub fn for_each_medium(scenario: fn(&str)) {
    let handles: Vec<_> = MEDIA
        .iter()
        .map(|m| (m, std::thread::spawn(move || scenario(m))))
        .collect();
    let failed: Vec<&str> = handles
        .into_iter()
        .filter_map(|(m, h)| h.join().is_err().then_some(*m))
        .collect();
    assert!(failed.is_empty(), "scenario failed over: {failed:?}");
}

/// What a real 3.0.6 node logs when it dislikes a peer (spec §13).
pub const REAL_NODE_COMPLAINTS: &[&str] = &[
    "authentication failed",
    "replay attack",
    "hist queue is filling up",
    "returning after partition",
    "lost a lot of packets",
    "corrupted ackseq",
    "bad node",
];

/// The lines of a real node's log that complain about a peer.
pub fn real_node_complaints(log: &str) -> Vec<&str> {
    log.lines()
        .filter(|l| REAL_NODE_COMPLAINTS.iter().any(|c| l.contains(c)))
        .collect()
}
