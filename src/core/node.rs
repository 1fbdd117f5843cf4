//! What the core knows about each configured node and each of its links.

use std::collections::BTreeMap;

use super::fields::{DEADSTATUS, INITSTATUS};
use super::seqtrack::SeqTrack;

/// One (node, local medium) link.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LinkState {
    pub(super) up: bool,
    /// Local receipt time of the last accepted or duplicate packet.
    pub(super) last_rx_ms: Option<u64>,
}

impl LinkState {
    /// `up` or `dead` (links start dead, as in Heartbeat).
    pub fn status(&self) -> &'static str {
        if self.up {
            "up"
        } else {
            DEADSTATUS
        }
    }

    pub fn is_up(&self) -> bool {
        self.up
    }

    /// Monotonic ms (the core's `Now::mono_ms`) of the last packet heard on
    /// this link; `None` before the first one.
    pub fn last_heard_ms(&self) -> Option<u64> {
        self.last_rx_ms
    }
}

/// One configured node (ourselves included).
#[derive(Clone, Debug)]
pub struct NodeState {
    pub(super) name: String,
    pub(super) status: String,
    pub(super) uuid: Option<[u8; 16]>,
    pub(super) links: Vec<LinkState>,
    /// The dead interval the node advertised in `dt` (default: our deadtime).
    pub(super) dead_interval_ms: u64,
    /// Local receipt time of its last status (`local_lastupdate`).
    pub(super) last_status_rx_ms: Option<u64>,
    /// Its `ts` in that status (`rmt_lastupdate`).
    pub(super) last_status_ts: u64,
    /// Seq of that status (`status_seqno`).
    pub(super) status_seqno: u64,
    /// Heard anything from it (for comm-up).
    pub(super) any_packets: bool,
    /// When its current life began for us (first packet, or a restart).
    pub(super) life_started_ms: Option<u64>,
    pub(super) track: SeqTrack,
    /// Outstanding retransmission requests: seq -> next request time.
    pub(super) rexmit_due: BTreeMap<u64, u64>,
}

impl NodeState {
    pub(super) fn new(name: String, links: usize, deadtime_ms: u64, ack_trigger: u64) -> Self {
        NodeState {
            name,
            status: INITSTATUS.to_string(),
            uuid: None,
            life_started_ms: None,
            links: vec![
                LinkState {
                    up: false,
                    last_rx_ms: None
                };
                links
            ],
            dead_interval_ms: deadtime_ms,
            last_status_rx_ms: None,
            last_status_ts: 0,
            status_seqno: 0,
            any_packets: false,
            track: SeqTrack::new(ack_trigger),
            rexmit_due: BTreeMap::new(),
        }
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    /// `init`, `up`, `active`, `dead` (or whatever the node last announced).
    pub fn status(&self) -> &str {
        &self.status
    }

    /// The node's UUID once learned from its `srcuuid`.
    pub fn uuid(&self) -> Option<[u8; 16]> {
        self.uuid
    }

    /// Links in local media order.
    pub fn links(&self) -> &[LinkState] {
        &self.links
    }

    /// Monotonic ms of the last status (heartbeat) received from the node.
    pub fn last_status_ms(&self) -> Option<u64> {
        self.last_status_rx_ms
    }

    /// The `dt` the node advertised, in ms.
    pub fn dead_interval_ms(&self) -> u64 {
        self.dead_interval_ms
    }

    /// Highest sequence number seen from the node (none after a reset).
    pub fn last_seq(&self) -> Option<u64> {
        self.track.last_seq()
    }

    /// Sequence numbers from the node we are still waiting for.
    pub fn missing_packets(&self) -> usize {
        self.track.missing_count()
    }

    pub(super) fn is_dead(&self) -> bool {
        self.status == DEADSTATUS
    }

    /// `up` or `active`: counts as a live cluster member.
    pub(super) fn is_live(&self) -> bool {
        self.status == super::fields::UPSTATUS || self.status == super::fields::ACTIVESTATUS
    }
}
