//! Node and link status changes of the *normal* nodes as API clients see
//! them (heartbeat.c `heartbeat_monitor` callers), pure: a change in, the
//! messages to hand to the clients out.
//!
//! * A peer's status change: `t=status src st`; its death: Heartbeat's
//!   synthesized `t=status seq=1 ts src st=dead`.
//! * A link change: `t=ifstat node ifname st=up|dead`.
//! * Our own status changes are not passed on (Heartbeat neither).
//! * Ping nodes are left out: the core delivers their `NS_st`, `status`
//!   and `ifstat` itself, node death before link death in the same tick
//!   whatever the ha.cf order, so that Debian's ipfail (which compares
//!   ping counts only when a link dies) always counts a dead ping node as
//!   dead — unlike Heartbeat 3.0.6 (spec annex, run 1a).

use std::collections::BTreeSet;

use crate::wire::Message;

pub const T_STATUS: &str = "status";
pub const T_IFSTATUS: &str = "ifstat";
const DEAD: &str = "dead";

pub struct Notifier {
    local: String,
    ping_nodes: BTreeSet<String>,
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
        }
    }

    fn is_ping(&self, node: &str) -> bool {
        self.ping_nodes.contains(node)
    }

    /// `node` now has `status`; `ts_hex` is the wall clock in hex seconds.
    pub fn node_status(&self, node: &str, status: &str, ts_hex: &str) -> Vec<Message> {
        if node == self.local || self.is_ping(node) {
            return Vec::new();
        }
        let mut m = Message::with_type(T_STATUS);
        if status == DEAD {
            m.push_str("seq", "1");
            m.push_str("ts", ts_hex);
            m.push_str("src", node);
            m.push_str("st", DEAD);
        } else {
            m.push_str("src", node);
            m.push_str("st", status);
            m.push_str("ts", ts_hex);
        }
        vec![m]
    }

    /// Link `ifname` of `node` went up or dead.
    pub fn link_status(&self, node: &str, ifname: &str, up: bool) -> Vec<Message> {
        if self.is_ping(node) {
            return Vec::new();
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
        let n = notifier();
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
    fn ping_nodes_are_left_to_the_core() {
        let n = notifier();
        assert!(n.node_status("10.0.0.9", "dead", "1").is_empty());
        assert!(n.node_status("10.0.0.9", "ping", "1").is_empty());
        assert!(n.link_status("10.0.0.9", "10.0.0.9", false).is_empty());
    }
}
