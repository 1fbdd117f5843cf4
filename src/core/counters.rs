//! Event counters for the status snapshot and for tests.
//!
//! Only packets handed in from the network are counted on the receive side;
//! our own loopback processing is not.

/// Monotonic counters since start.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Counters {
    /// Packets handed to the core by the daemon.
    pub received: u64,
    /// Peer packets accepted for processing (addressed to us or to all).
    pub accepted: u64,
    /// Same sequence number seen again (typically: the copy from another link).
    pub duplicates: u64,
    /// Tracked for sequencing, then dropped: addressed to another node.
    pub not_for_us: u64,
    /// Our own packets coming back from the network (broadcast echo).
    pub own_echoes: u64,
    /// Dropped: `src`, `ts` or `t` missing, or `seq` missing on a sequenced type.
    pub dropped_missing_fields: u64,
    /// Dropped: `seq` (or a NAK's `firstseq`) not a positive hex number.
    pub dropped_bad_seq: u64,
    /// Dropped: `ts` not hex or zero.
    pub dropped_bad_ts: u64,
    /// Dropped: `hg` present but not hex.
    pub dropped_bad_generation: u64,
    /// Dropped: sender is not a configured node.
    pub dropped_unknown_node: u64,
    /// Dropped: generation lower than the one we know (possible replay).
    pub dropped_replay: u64,
    /// Dropped: sequence number older than the last one and not missing.
    pub dropped_old_duplicate: u64,
    /// Dropped: a status older than the last one from a node we think dead.
    pub dropped_stale_status: u64,
    /// Dropped: the daemon named a link index that does not exist.
    pub dropped_bad_link: u64,
    /// Sequence numbers found missing (gaps).
    pub lost_packets: u64,
    /// Missing sequence numbers that arrived later.
    pub recovered_packets: u64,
    /// NAKs received for packets we were missing.
    pub irretrievably_lost: u64,
    /// `NS_rexmit` requests we sent.
    pub rexmit_requests_sent: u64,
    /// Stored messages we sent again on request.
    pub retransmitted: u64,
    /// `NS_nak_rexmit` we sent.
    pub naks_sent: u64,
    /// `NS_ackmsg` we sent (including those to ourselves).
    pub acks_sent: u64,
    /// Heartbeats that came later than `warntime` (the "Late heartbeat" log).
    pub late_heartbeats: u64,
    /// Messages we transmitted (first transmissions, not retransmissions).
    pub sent: u64,
}
