//! Node and link status changes as API clients see them (heartbeat.c
//! `heartbeat_monitor` callers), pure: a change in, the messages to hand
//! to the clients out.
//!
//! * A peer's status change: `t=status src st`; its death: Heartbeat's
//!   synthesized `t=status seq=1 ts src st=dead` (+ `info=ping` for a ping
//!   node). A ping node coming alive: `t=NS_st st=ping info=ping src ts`.
//! * A link change: `t=ifstat node ifname st=up|dead`.
//! * Our own status changes are not passed on (Heartbeat neither).
//!
//! **Deliberate difference:** Debian's `ipfail` asks its peer to compare
//! ping-node counts only when a *link* dies, counting the ping nodes whose
//! status is still `ping` at that moment. In Heartbeat the ping node's link
//! can die before the node (its link timer uses the dead interval of the
//! last node in ha.cf order), and then ipfail counts the unreachable ping
//! node as alive and nothing fails over (spec annex, run 1a). So a ping
//! node's link death is held back until the node itself is dead and then
//! handed over right after the node's death: the node that lost its ping
//! nodes always asks with the lower count, whatever the ha.cf order or
//! `deadping`.

use std::collections::{BTreeMap, BTreeSet};

use crate::wire::Message;

pub const T_STATUS: &str = "status";
pub const T_NS_STATUS: &str = "NS_st";
pub const T_IFSTATUS: &str = "ifstat";
const DEAD: &str = "dead";
const PING: &str = "ping";

pub struct Notifier {
    local: String,
    ping_nodes: BTreeSet<String>,
    /// Ping nodes whose death was delivered.
    dead: BTreeSet<String>,
    /// Ping node -> links whose death waits for the node's.
    held: BTreeMap<String, Vec<String>>,
}

fn ifstat(node: &str, ifname: &str, st: &str) -> Message {
    let mut m = Message::with_type(T_IFSTATUS);
    m.push_str("node", node);
    m.push_str("ifname", ifname);
    m.push_str("st", st);
    m
}

impl Notifier {
    /// `ping_nodes`: names of `ping` hosts and `ping_group`s.
    pub fn new(local: &str, ping_nodes: impl IntoIterator<Item = String>) -> Notifier {
        Notifier {
            local: local.to_string(),
            ping_nodes: ping_nodes.into_iter().collect(),
            dead: BTreeSet::new(),
            held: BTreeMap::new(),
        }
    }

    fn is_ping(&self, node: &str) -> bool {
        self.ping_nodes.contains(node)
    }

    /// `node` now has `status`; `ts_hex` is the wall clock in hex seconds.
    pub fn node_status(&mut self, node: &str, status: &str, ts_hex: &str) -> Vec<Message> {
        if node == self.local {
            return Vec::new();
        }
        let ping = self.is_ping(node);
        let mut out = Vec::new();
        if status == DEAD {
            let mut m = Message::with_type(T_STATUS);
            m.push_str("seq", "1");
            m.push_str("ts", ts_hex);
            m.push_str("src", node);
            m.push_str("st", DEAD);
            if ping {
                m.push_str("info", PING);
                self.dead.insert(node.to_string());
            }
            out.push(m);
            for ifname in self.held.remove(node).unwrap_or_default() {
                out.push(ifstat(node, &ifname, DEAD));
            }
        } else if ping {
            self.dead.remove(node);
            let mut m = Message::with_type(T_NS_STATUS);
            m.push_str("st", status);
            m.push_str("info", PING);
            m.push_str("src", node);
            m.push_str("ts", ts_hex);
            out.push(m);
        } else {
            let mut m = Message::with_type(T_STATUS);
            m.push_str("src", node);
            m.push_str("st", status);
            m.push_str("ts", ts_hex);
            out.push(m);
        }
        out
    }

    /// Link `ifname` of `node` went up or dead.
    pub fn link_status(&mut self, node: &str, ifname: &str, up: bool) -> Vec<Message> {
        if self.is_ping(node) && !self.dead.contains(node) {
            let held = self.held.entry(node.to_string()).or_default();
            if !up {
                if !held.iter().any(|i| i == ifname) {
                    held.push(ifname.to_string());
                }
                return Vec::new();
            }
            if let Some(pos) = held.iter().position(|i| i == ifname) {
                // Its death was never told: nothing changed for clients.
                held.remove(pos);
                return Vec::new();
            }
        }
        vec![ifstat(node, ifname, if up { "up" } else { DEAD })]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lines(msgs: &[Message]) -> Vec<String> {
        msgs.iter()
            .map(|m| {
                m.fields
                    .iter()
                    .map(|f| format!("{}={}", f.name, String::from_utf8_lossy(&f.value)))
                    .collect::<Vec<_>>()
                    .join(" ")
            })
            .collect()
    }

    fn notifier() -> Notifier {
        Notifier::new("alpha", ["10.0.0.9".to_string()])
    }

    #[test]
    fn peer_changes_and_death() {
        let mut n = notifier();
        assert_eq!(
            lines(&n.node_status("bravo", "active", "6b0")),
            ["t=status src=bravo st=active ts=6b0"]
        );
        assert_eq!(
            lines(&n.node_status("bravo", "dead", "6b1")),
            ["t=status seq=1 ts=6b1 src=bravo st=dead"]
        );
        assert!(n.node_status("alpha", "active", "6b1").is_empty());
        assert_eq!(
            lines(&n.link_status("bravo", "eth0", false)),
            ["t=ifstat node=bravo ifname=eth0 st=dead"]
        );
    }

    #[test]
    fn ping_link_death_waits_for_the_node_death() {
        let mut n = notifier();
        // Link first (Heartbeat's order in run 1a): nothing yet.
        assert!(n.link_status("10.0.0.9", "10.0.0.9", false).is_empty());
        assert_eq!(
            lines(&n.node_status("10.0.0.9", "dead", "6b2")),
            [
                "t=status seq=1 ts=6b2 src=10.0.0.9 st=dead info=ping",
                "t=ifstat node=10.0.0.9 ifname=10.0.0.9 st=dead"
            ]
        );
        // Back: link up, then the node.
        assert_eq!(
            lines(&n.link_status("10.0.0.9", "10.0.0.9", true)),
            ["t=ifstat node=10.0.0.9 ifname=10.0.0.9 st=up"]
        );
        assert_eq!(
            lines(&n.node_status("10.0.0.9", "ping", "6b3")),
            ["t=NS_st st=ping info=ping src=10.0.0.9 ts=6b3"]
        );
    }

    #[test]
    fn ping_node_death_first_passes_the_link_at_once() {
        let mut n = notifier();
        assert_eq!(n.node_status("10.0.0.9", "dead", "1").len(), 1);
        assert_eq!(
            lines(&n.link_status("10.0.0.9", "10.0.0.9", false)),
            ["t=ifstat node=10.0.0.9 ifname=10.0.0.9 st=dead"]
        );
    }

    #[test]
    fn a_held_link_death_that_heals_is_never_reported() {
        let mut n = notifier();
        assert!(n.link_status("10.0.0.9", "10.0.0.9", false).is_empty());
        assert!(n.link_status("10.0.0.9", "10.0.0.9", true).is_empty());
        assert_eq!(
            lines(&n.node_status("10.0.0.9", "dead", "2")),
            ["t=status seq=1 ts=2 src=10.0.0.9 st=dead info=ping"]
        );
    }
}
