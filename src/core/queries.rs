//! What the daemon, the API and the status snapshot can ask the core.

use super::counters::Counters;
use super::engine::Core;
use super::node::NodeState;
#[cfg(test)]
use super::seqtrack::ACK_DIV;
use super::LinkIndex;

impl Core {
    pub fn counters(&self) -> &Counters {
        &self.counters
    }

    /// `init`, `up`, `active`, `dead`... for any configured node (ourselves too).
    pub fn node_status(&self, node: &str) -> Option<&str> {
        self.node(node).map(|n| n.status())
    }

    pub fn node(&self, node: &str) -> Option<&NodeState> {
        self.nodes.iter().find(|n| n.name == node)
    }

    /// Every configured node in ha.cf order.
    pub fn nodes(&self) -> &[NodeState] {
        &self.nodes
    }

    /// Local media names (the `LinkIndex` order of [`NodeState::links`]).
    pub fn link_names(&self) -> &[String] {
        &self.p.link_names
    }

    /// `up` / `dead` for a (node, link) pair.
    pub fn link_status(&self, node: &str, link: LinkIndex) -> Option<&'static str> {
        let canon = *self.link_canon.get(link)?;
        self.node(node)?.links.get(canon).map(|l| l.status())
    }

    pub fn local_node(&self) -> &str {
        &self.p.local_node
    }

    pub fn local_status(&self) -> &str {
        self.nodes[self.local].status()
    }

    /// Local communication is up (we are `active`).
    pub fn comm_up(&self) -> bool {
        self.comm_up
    }

    /// A node's UUID if known (ours included when we keep one).
    pub fn peer_uuid(&self, node: &str) -> Option<[u8; 16]> {
        self.node(node).and_then(|n| n.uuid)
    }

    /// False once a peer without `protocol` disabled flow control.
    pub fn flow_control(&self) -> bool {
        self.flow_control
    }

    pub fn generation(&self) -> u64 {
        self.p.generation
    }

    /// Sent messages kept for retransmission.
    pub fn history_len(&self) -> usize {
        self.history.len()
    }

    /// Sequence number the next sequenced message will carry.
    pub fn next_seq(&self) -> u64 {
        self.next_seq
    }

    /// Fix a node's ACK trigger (tests replaying real captures need the
    /// triggers the real daemon happened to draw).
    #[cfg(test)]
    pub(crate) fn set_ack_trigger(&mut self, node: &str, trigger: u64) {
        if let Some(i) = self.node_index(node) {
            self.nodes[i].track.ack_trigger = trigger % ACK_DIV;
        }
    }
}
