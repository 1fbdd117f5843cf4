//! Reliability (§5.3, §5.5): asking peers for missing messages, serving
//! their requests from our history, and ACKs in both directions.

use super::engine::{arm, cancel, log, Core};
use super::fields::*;
use super::history::{Lookup, FLOW_LIMIT, MAX_HISTORY};
use super::outbound;
use super::{Action, Level, Now, TimerKey};
use crate::wire::Message;

/// At most this many messages are resent for one request.
const MAX_REXMIT_BATCH: u32 = 50;
/// "Message hist queue is filling up" thresholds (3/4 and 9/10 of history).
const HIST_WARN: u64 = (MAX_HISTORY as u64 * 3) / 4;
const HIST_ERR: u64 = (MAX_HISTORY as u64 * 9) / 10;

impl Core {
    /// First request for a missing seq after a random delay, so that a
    /// packet merely reordered arrives before we ask.
    pub(super) fn schedule_rexmit(
        &mut self,
        now: Now,
        idx: usize,
        seq: u64,
        out: &mut Vec<Action>,
    ) {
        let max = self.p.max_rexmit_delay_ms;
        let min = if max < 100 { 0 } else { 50 };
        let at = now.mono_ms + self.rng.in_range(min, max);
        self.nodes[idx].rexmit_due.insert(seq, at);
        arm(out, TimerKey::Rexmit(self.nodes[idx].name.clone(), seq), at);
    }

    pub(super) fn cancel_all_rexmit(&mut self, idx: usize, out: &mut Vec<Action>) {
        let due = std::mem::take(&mut self.nodes[idx].rexmit_due);
        for seq in due.into_keys() {
            cancel(out, TimerKey::Rexmit(self.nodes[idx].name.clone(), seq));
        }
    }

    /// Ask again every `max_rexmit_delay` until the packet arrives or is
    /// NAKed; give up when the peer is no longer up or active.
    pub(super) fn on_rexmit_timer(
        &mut self,
        now: Now,
        name: &str,
        seq: u64,
        out: &mut Vec<Action>,
    ) {
        let Some(idx) = self.node_index(name) else {
            return;
        };
        let Some(due) = self.nodes[idx].rexmit_due.get(&seq).copied() else {
            return;
        };
        if now.mono_ms < due {
            arm(out, TimerKey::Rexmit(name.to_string(), seq), due);
            return;
        }
        if !self.nodes[idx].is_live() {
            self.nodes[idx].rexmit_due.remove(&seq);
            return;
        }
        self.counters.rexmit_requests_sent += 1;
        self.send(now, outbound::rexmit_request(name, seq), out);
        let next = now.mono_ms + self.p.max_rexmit_delay_ms;
        // The loopback above cannot have resolved it, but stay robust.
        if let Some(d) = self.nodes[idx].rexmit_due.get_mut(&seq) {
            *d = next;
            arm(out, TimerKey::Rexmit(name.to_string(), seq), next);
        }
    }

    pub(super) fn send_ack(&mut self, now: Now, idx: usize, seq: u64, out: &mut Vec<Action>) {
        self.counters.acks_sent += 1;
        let msg = outbound::ack(&self.nodes[idx].name.clone(), seq);
        self.send(now, msg, out);
    }

    /// `HBDoMsg_T_ACKMSG`: a node acknowledged our messages up to `ackseq`.
    pub(super) fn handle_ack(
        &mut self,
        now: Now,
        idx: usize,
        msg: &Message,
        out: &mut Vec<Action>,
    ) {
        if !self.flow_control || msg.get_str(F_TO) != Some(self.p.local_node.as_str()) {
            return;
        }
        let Some(ackseq) = msg.get_str(F_ACKSEQ).and_then(parse_hex) else {
            return;
        };
        let peer_ack = self.nodes[idx].track.peer_ack;
        if ackseq == peer_ack || ackseq <= self.history.ackseq || ackseq < peer_ack {
            return;
        }
        if ackseq > self.history.hiseq {
            let text = format!(
                "HBDoMsg_T_ACK: corrupted ackseq current hiseq = {} ackseq ={} in this message",
                self.history.hiseq, ackseq
            );
            log(out, Level::Error, text);
            return;
        }
        self.nodes[idx].track.peer_ack = ackseq;
        let min_ack = self
            .nodes
            .iter()
            .filter(|n| !n.is_dead())
            .map(|n| n.track.peer_ack)
            .min()
            .unwrap_or(0);
        let new_ack = if self.live_node_count() < 2 {
            self.lone_node_ackseq()
        } else if min_ack > 0 {
            min_ack
        } else {
            self.history.ackseq
        };
        self.history.update_ackseq(new_ack, now.mono_ms);
    }

    /// Alone, nobody ACKs: keep only half the history unacknowledged.
    fn lone_node_ackseq(&self) -> u64 {
        let h = &self.history;
        if h.hiseq - h.ackseq.min(h.hiseq) >= FLOW_LIMIT {
            h.hiseq - (FLOW_LIMIT - 1)
        } else {
            h.ackseq
        }
    }

    /// Ourselves plus every peer that is `up` or `active`.
    fn live_node_count(&self) -> usize {
        1 + self
            .nodes
            .iter()
            .enumerate()
            .filter(|(i, n)| *i != self.local && n.is_live())
            .count()
    }

    /// Bookkeeping after a sequenced message entered the history.
    pub(super) fn after_history_add(&mut self, now: Now, out: &mut Vec<Action>) {
        if !self.flow_control {
            return;
        }
        let live = self.live_node_count();
        if live > 1 {
            let backlog = self.history.backlog();
            let level = if backlog > HIST_ERR {
                Some(Level::Error)
            } else if backlog > HIST_WARN {
                Some(Level::Warn)
            } else {
                None
            };
            if let Some(level) = level {
                let text =
                    format!("Message hist queue is filling up ({backlog} messages in queue)");
                log(out, level, text);
            }
        }
        let unacked = self.history.hiseq.saturating_sub(self.history.ackseq);
        if unacked > FLOW_LIMIT && live < 2 {
            let mark = self.history.hiseq - (FLOW_LIMIT - 1);
            self.history.update_ackseq(mark, now.mono_ms);
        }
    }

    /// `process_rexmit`: resend what a peer asks for, unchanged, or NAK it.
    pub(super) fn serve_rexmit(
        &mut self,
        now: Now,
        idx: usize,
        msg: &Message,
        out: &mut Vec<Action>,
    ) {
        let first = msg
            .get_str(F_FIRSTSEQ)
            .and_then(parse_dec)
            .filter(|s| *s > 0);
        let last = msg
            .get_str(F_LASTSEQ)
            .and_then(parse_dec)
            .filter(|s| *s > 0);
        let (Some(first), Some(last)) = (first, last) else {
            log(out, Level::Error, "Invalid rexmit seqnos".into());
            return;
        };
        if first > last {
            log(out, Level::Error, "Invalid rexmit seqnos".into());
            return;
        }
        // More than the history holds cannot be served anyway.
        let last = last.min(first.saturating_add(MAX_HISTORY as u64 - 1));
        let accept_gap = self.p.max_rexmit_delay_ms.saturating_sub(10);
        let mut resent = 0;
        for seq in first..=last {
            if seq <= self.nodes[idx].track.peer_ack {
                continue; // they have it already
            }
            match self.history.lookup(seq) {
                Lookup::TooLow => self.nak(now, idx, seq, "seqno too low", out),
                Lookup::TooHigh => {
                    let text = format!(
                        "Rexmit of seq {seq} requested. {} is max.",
                        self.history.hiseq
                    );
                    log(out, Level::Warn, text);
                }
                Lookup::NotFound => self.nak(now, idx, seq, "seqno not found", out),
                Lookup::Found => {
                    let Some(entry) = self.history.get_mut(seq) else {
                        continue;
                    };
                    if entry
                        .last_rexmit_ms
                        .is_some_and(|t| now.mono_ms.saturating_sub(t) < accept_gap)
                    {
                        continue; // just resent for someone else
                    }
                    resent += 1;
                    if resent > MAX_REXMIT_BATCH {
                        return;
                    }
                    entry.last_rexmit_ms = Some(now.mono_ms);
                    out.push(Action::Transmit(entry.msg.clone()));
                    self.counters.retransmitted += 1;
                }
            }
        }
    }

    fn nak(&mut self, now: Now, idx: usize, seq: u64, reason: &str, out: &mut Vec<Action>) {
        let node = self.nodes[idx].name.clone();
        let ack = self.nodes[idx].track.peer_ack;
        log(
            out,
            Level::Error,
            format!("Cannot rexmit pkt {seq} for {node}: {reason}"),
        );
        log(
            out,
            Level::Info,
            format!("fromnode ={node}, fromnode's ackseq = {ack}"),
        );
        self.counters.naks_sent += 1;
        self.send(now, outbound::nak(&node, seq, reason), out);
    }
}
