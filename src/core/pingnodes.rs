//! Ping nodes (`ping HOST`, `ping_group NAME HOST…`, spec ping §1): an
//! ICMP target answering our signed `NS_st` echo payload counts as a
//! cluster node of type `ping` with status `ping`, or `dead` after
//! `deadping` without an answer. Each node sees only its own pings; nothing
//! about them goes to the peers.
//!
//! Heartbeat keeps ping nodes in its node table; we keep them apart so the
//! resource, ACK and `repnodes` code (which Heartbeat has to skip them in)
//! never sees them. They still count for comm-up and `ttl`, and their
//! changes produce the same actions as a normal node's (`NodeStatus`,
//! `LinkStatus`, the upper layer's `on_node_status`) plus the messages the
//! real daemon hands to API clients (`Deliver`).

use std::collections::VecDeque;

use super::engine::{arm, cancel, log, Core};
use super::fields::*;
use super::{Action, Level, LinkIndex, Now, TimerKey};
use crate::wire::Message;

/// The `st` of a live ping node (Heartbeat's PINGSTATUS).
pub const PINGSTATUS: &str = "ping";
/// The `t` of the echo payload.
pub const T_NS_STATUS: &str = "NS_st";
/// `info` of a `ping` payload; a `ping_group` payload says `ping_group`.
pub const INFO_PING: &str = "ping";
pub const INFO_PING_GROUP: &str = "ping_group";

/// The `ts` values of our own recent statuses are kept this much longer
/// than the ping dead interval (replies to older ones are stale).
const SENT_TS_SLACK_MS: u64 = 2000;
/// Bound on remembered `ts` values (one per second is enough to match).
const MAX_SENT_TS: usize = 512;

/// One configured ping node.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PingNodeParams {
    /// Node name: the host as written (`ping`) or the group name, lower case.
    pub name: String,
    /// Hosts pinged for it (one for `ping`).
    pub hosts: Vec<String>,
    /// `ping_group` (payload `info=ping_group`) rather than `ping`.
    pub group: bool,
    /// Place among all `node`/`ping`/`ping_group` entries in ha.cf order.
    pub position: usize,
}

impl PingNodeParams {
    /// The `src` of its echo payload: the host as written in ha.cf for
    /// `ping` (Heartbeat uses the medium name), the group name otherwise.
    pub fn src(&self) -> &str {
        match (self.group, self.hosts.first()) {
            (false, Some(host)) => host,
            _ => &self.name,
        }
    }

    /// The `info` value its echo payload carries.
    pub fn info(&self) -> &'static str {
        if self.group {
            INFO_PING_GROUP
        } else {
            INFO_PING
        }
    }
}

/// What the core knows about one ping node.
#[derive(Clone, Debug)]
pub struct PingNodeState {
    pub(super) p: PingNodeParams,
    pub(super) status: String,
    pub(super) link_up: bool,
    /// Local receipt time of the last accepted reply (start time before).
    pub(super) last_rx_ms: Option<u64>,
    /// Whether any reply was ever accepted (for comm-up).
    pub(super) any_packets: bool,
}

impl PingNodeState {
    pub(super) fn new(p: PingNodeParams) -> PingNodeState {
        PingNodeState {
            p,
            status: INITSTATUS.to_string(),
            link_up: false,
            last_rx_ms: None,
            any_packets: false,
        }
    }

    pub fn name(&self) -> &str {
        &self.p.name
    }

    /// `init` before the first answer, then `ping` or `dead`.
    pub fn status(&self) -> &str {
        &self.status
    }

    /// The ping node's single link (named like the node) is `up`.
    pub fn link_up(&self) -> bool {
        self.link_up
    }

    pub fn params(&self) -> &PingNodeParams {
        &self.p
    }

    /// Monotonic ms of the last accepted reply, if any.
    pub fn last_heard_ms(&self) -> Option<u64> {
        self.any_packets.then_some(self.last_rx_ms).flatten()
    }

    fn is_dead(&self) -> bool {
        self.status == DEADSTATUS
    }
}

/// Why a reply was not accepted (the daemon only counts these).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PingReject {
    NotNsStatus,
    UnknownNode,
    WrongInfo,
    BadTimestamp,
    /// Its `ts` is not one of our statuses of the last dead interval
    /// (a delayed or replayed answer); Heartbeat accepts these.
    Stale,
}

/// The ping side of the core: per node state and our recent status `ts`.
#[derive(Clone, Debug, Default)]
pub(super) struct PingNodes {
    pub(super) nodes: Vec<PingNodeState>,
    /// (`ts` of a status we sent, when) newest last.
    sent: VecDeque<(u64, u64)>,
}

impl PingNodes {
    pub(super) fn new(params: &[PingNodeParams]) -> PingNodes {
        PingNodes {
            nodes: params.iter().cloned().map(PingNodeState::new).collect(),
            sent: VecDeque::new(),
        }
    }

    pub(super) fn index(&self, name: &str) -> Option<usize> {
        self.nodes
            .iter()
            .position(|n| n.p.name.eq_ignore_ascii_case(name))
    }

    fn note_sent(&mut self, ts: u64, now_ms: u64, keep_ms: u64) {
        if self.sent.back().is_some_and(|(t, _)| *t == ts) {
            self.sent.pop_back();
        }
        self.sent.push_back((ts, now_ms));
        while self.sent.len() > MAX_SENT_TS
            || self
                .sent
                .front()
                .is_some_and(|(_, at)| now_ms.saturating_sub(*at) > keep_ms)
        {
            self.sent.pop_front();
        }
    }

    fn was_sent(&self, ts: u64) -> bool {
        self.sent.iter().any(|(t, _)| *t == ts)
    }
}

/// The synthesized message API clients get when a ping node dies:
/// `t=status seq=1 ts=<now> src=<node> st=dead info=ping`.
pub fn dead_notice(node: &str, wall_secs: u64) -> Message {
    let mut m = Message::new();
    m.push_str(F_TYPE, T_STATUS)
        .push_str(F_SEQ, "1")
        .push_str(F_TIME, &format!("{wall_secs:x}"))
        .push_str(F_ORIG, node)
        .push_str(F_STATUS, DEADSTATUS)
        .push_str(F_COMMENT, INFO_PING);
    m
}

/// `t=ifstat node=<node> ifname=<link> st=up|dead` for API clients.
pub fn ifstat_notice(node: &str, ifname: &str, up: bool) -> Message {
    let mut m = Message::new();
    m.push_str(F_TYPE, "ifstat")
        .push_str("node", node)
        .push_str("ifname", ifname)
        .push_str(F_STATUS, if up { "up" } else { DEADSTATUS });
    m
}

/// The echo payload for one ping node and one outgoing status `ts`
/// (before signing): `t=NS_st st=ping info=… src=<node> ts=<ts>`.
pub fn echo_payload(node: &PingNodeParams, ts: &str) -> Message {
    let mut m = Message::new();
    m.push_str(F_TYPE, T_NS_STATUS)
        .push_str(F_STATUS, PINGSTATUS)
        .push_str(F_COMMENT, node.info())
        .push_str(F_ORIG, node.src())
        .push_str(F_TIME, ts);
    m
}

impl Core {
    /// Every configured ping node, ha.cf order among themselves.
    pub fn ping_nodes(&self) -> &[PingNodeState] {
        &self.pings.nodes
    }

    /// The `LinkIndex` a ping node's link has in `Action::LinkStatus`:
    /// after the local media.
    pub fn ping_link_index(&self, ping: usize) -> LinkIndex {
        self.p.link_names.len() + ping
    }

    /// The name of any link index: a medium, or a ping node's own link.
    pub fn link_label(&self, link: LinkIndex) -> Option<&str> {
        match self.p.link_names.get(link) {
            Some(name) => Some(name),
            None => self
                .pings
                .nodes
                .get(link - self.p.link_names.len())
                .map(|n| n.p.name.as_str()),
        }
    }

    /// Remember the `ts` of a status we send (its echo comes back with it).
    pub(super) fn ping_note_status_sent(&mut self, now: Now) {
        if self.pings.nodes.is_empty() {
            return;
        }
        let keep = self.p.deadping_ms.max(self.p.initdead_ms) + SENT_TS_SLACK_MS;
        self.pings
            .note_sent(now.wall_secs.max(1), now.mono_ms, keep);
    }

    fn ping_dead_interval(&self) -> u64 {
        if self.links_up {
            self.p.deadping_ms
        } else {
            self.p.initdead_ms
        }
    }

    pub(super) fn arm_ping_dead(&self, i: usize, out: &mut Vec<Action>) {
        let n = &self.pings.nodes[i];
        if n.is_dead() {
            return;
        }
        if let Some(last) = n.last_rx_ms {
            let at = last
                .saturating_add(self.ping_dead_interval())
                .saturating_add(1);
            arm(out, TimerKey::PingDead(n.p.name.clone()), at);
        }
    }

    /// At start: every ping node's clock starts now (as a normal node's).
    pub(super) fn ping_start(&mut self, now: Now, out: &mut Vec<Action>) {
        for i in 0..self.pings.nodes.len() {
            self.pings.nodes[i].last_rx_ms = Some(now.mono_ms);
            self.arm_ping_dead(i, out);
        }
    }

    /// Every ping node was heard from or is dead (part of comm-up).
    pub(super) fn pings_heard_or_dead(&self) -> bool {
        self.pings
            .nodes
            .iter()
            .all(|n| n.any_packets || n.is_dead())
    }

    /// Re-arm with `deadping` once initdead no longer applies.
    pub(super) fn ping_rearm_all(&self, out: &mut Vec<Action>) {
        for i in 0..self.pings.nodes.len() {
            self.arm_ping_dead(i, out);
        }
    }

    /// An authenticated echo payload came back. Heartbeat's order: the link
    /// comes up, a late answer marks the node dead first, then the status.
    pub(super) fn on_ping_reply(
        &mut self,
        now: Now,
        msg: &Message,
        out: &mut Vec<Action>,
    ) -> Result<(), PingReject> {
        if msg.msg_type() != Some(T_NS_STATUS) {
            return Err(PingReject::NotNsStatus);
        }
        let i = msg
            .get_str(F_ORIG)
            .and_then(|src| self.pings.index(src))
            .ok_or(PingReject::UnknownNode)?;
        if msg.get_str(F_COMMENT) != Some(self.pings.nodes[i].p.info()) {
            return Err(PingReject::WrongInfo);
        }
        let ts = msg
            .get_str(F_TIME)
            .and_then(parse_hex)
            .filter(|t| *t != 0)
            .ok_or(PingReject::BadTimestamp)?;
        if !self.pings.was_sent(ts) {
            return Err(PingReject::Stale);
        }
        let st = match msg.get_str(F_STATUS) {
            Some(s)
                if !s.is_empty()
                    && s.len() <= MAX_STATUS_LEN
                    && s.bytes().all(|b| b.is_ascii_graphic()) =>
            {
                s.to_string()
            }
            _ => PINGSTATUS.to_string(),
        };
        let name = self.pings.nodes[i].p.name.clone();
        if !self.pings.nodes[i].link_up {
            self.pings.nodes[i].link_up = true;
            self.ping_link_event(i, true, out);
        }
        if let Some(last) = self.pings.nodes[i].last_rx_ms {
            let interval = now.mono_ms.saturating_sub(last);
            if interval > self.p.deadtime_ms {
                self.counters.late_heartbeats += 1;
                let text =
                    format!("Late heartbeat: Node {name}: interval {interval} ms (> deadtime)");
                log(out, Level::Crit, text);
                self.ping_mark_dead(now, i, out);
            } else if interval > self.p.warntime_ms {
                self.counters.late_heartbeats += 1;
                let text = format!("Late heartbeat: Node {name}: interval {interval} ms");
                log(out, Level::Warn, text);
            }
        }
        if !self.pings.nodes[i].status.eq_ignore_ascii_case(&st) {
            log(
                out,
                Level::Info,
                format!("Status update for node {name}: status {st}"),
            );
            self.pings.nodes[i].status = st.clone();
            out.push(Action::NodeStatus {
                node: name.clone(),
                status: st.clone(),
            });
            out.push(Action::Deliver(msg.clone()));
            self.call_upper(now, out, |up, ctx| up.on_node_status(ctx, &name, &st));
        }
        let n = &mut self.pings.nodes[i];
        n.last_rx_ms = Some(now.mono_ms);
        n.any_packets = true;
        self.arm_ping_dead(i, out);
        self.check_comm(now, out);
        Ok(())
    }

    pub(super) fn on_ping_dead_timer(&mut self, now: Now, name: &str, out: &mut Vec<Action>) {
        let Some(i) = self.pings.index(name) else {
            return;
        };
        let n = &self.pings.nodes[i];
        if n.is_dead() {
            return;
        }
        let Some(last) = n.last_rx_ms else {
            return;
        };
        if now.mono_ms <= last.saturating_add(self.ping_dead_interval()) {
            self.arm_ping_dead(i, out);
            return;
        }
        self.ping_mark_dead(now, i, out);
        // The link goes with the node, in the same tick and after it, so a
        // client (ipfail) sees the node dead no later than its link whatever
        // the ha.cf order (Heartbeat's link timing depends on it).
        if self.pings.nodes[i].link_up {
            self.pings.nodes[i].link_up = false;
            self.ping_link_event(i, false, out);
        }
        self.check_comm(now, out);
    }

    fn ping_mark_dead(&mut self, now: Now, i: usize, out: &mut Vec<Action>) {
        let name = self.pings.nodes[i].p.name.clone();
        log(out, Level::Warn, format!("node {name}: is dead"));
        self.pings.nodes[i].status = DEADSTATUS.to_string();
        cancel(out, TimerKey::PingDead(name.clone()));
        out.push(Action::NodeStatus {
            node: name.clone(),
            status: DEADSTATUS.to_string(),
        });
        out.push(Action::Deliver(dead_notice(&name, now.wall_secs)));
        self.call_upper(now, out, |up, ctx| {
            up.on_node_status(ctx, &name, DEADSTATUS)
        });
    }

    fn ping_link_event(&mut self, i: usize, up: bool, out: &mut Vec<Action>) {
        let name = self.pings.nodes[i].p.name.clone();
        let word = if up { "up" } else { "dead" };
        log(out, Level::Info, format!("Link {name}:{name} {word}."));
        out.push(Action::LinkStatus {
            node: name.clone(),
            link: self.ping_link_index(i),
            up,
        });
        out.push(Action::Deliver(ifstat_notice(&name, &name, up)));
    }
}
