//! The receive pipeline (§5.1): validation, node lookup, sequencing,
//! link refresh and dispatch. Our own outbound messages run through it too
//! (loopback, `link == None`), exactly as Heartbeat processes them; copies
//! of our packets coming back from the network only refresh our own link.

use super::engine::{cancel, log, Core};
use super::fields::*;
use super::seqtrack::{DropReason, SeqEvent, SeqInput, Verdict};
use super::{Action, Level, LinkIndex, Now, TimerKey};
use crate::wire::Message;

/// A sequenced message field that does not parse.
enum Malformed {
    Seq,
    Generation,
}

/// Unknown senders are logged at most this often (per name).
const UNKNOWN_LOG_INTERVAL_MS: u64 = 60_000;
/// Names remembered for that; beyond, all unknown names share one slot.
const UNKNOWN_LOG_NAMES: usize = 32;

impl Core {
    pub(super) fn on_packet(
        &mut self,
        now: Now,
        link: Option<LinkIndex>,
        msg: Message,
        out: &mut Vec<Action>,
    ) {
        let from_net = link.is_some();
        let iface = self.link_name(link).to_string();
        let (Some(mtype), Some(from), Some(ts)) = (
            msg.msg_type().map(str::to_string),
            msg.get_str(F_ORIG).map(str::to_string),
            msg.get_str(F_TIME),
        ) else {
            let from = msg.get_str(F_ORIG).unwrap_or("<?>");
            let text =
                format!("process_clustermsg: missing from/ts/type: iface {iface}, from {from}");
            log(out, Level::Error, text);
            self.counters.dropped_missing_fields += u64::from(from_net);
            return;
        };
        let noseq = is_noseq(&mtype);
        let seq = match msg.get_str(F_SEQ) {
            Some(s) => match parse_hex(s) {
                Some(v) => Some(v),
                None => {
                    let text =
                        format!("process_clustermsg: has bad cseq: iface {iface}, from {from}");
                    log(out, Level::Error, text);
                    self.counters.dropped_bad_seq += u64::from(from_net);
                    return;
                }
            },
            None if !noseq => {
                let text = format!("process_clustermsg: missing seqno: iface {iface}, from {from}");
                log(out, Level::Error, text);
                self.counters.dropped_missing_fields += u64::from(from_net);
                return;
            }
            None => None,
        };
        let Some(ts) = parse_hex(ts).filter(|t| *t != 0) else {
            self.counters.dropped_bad_ts += u64::from(from_net);
            return;
        };
        let srcuuid = uuid_field(&msg, F_ORIGUUID);
        let Some(idx) = self.lookup_node(&from, srcuuid) else {
            self.counters.dropped_unknown_node += u64::from(from_net);
            self.log_unknown_node(now, &from, out);
            return;
        };
        if let Some(uuid) = srcuuid {
            self.learn_uuid(idx, uuid, out);
        }
        let own_echo = from_net && idx == self.local;
        self.counters.own_echoes += u64::from(own_echo);
        let counted = from_net && !own_echo;
        if !self.nodes[idx].any_packets {
            self.nodes[idx].life_started_ms = Some(now.mono_ms);
        }
        self.nodes[idx].any_packets = true;

        let verdict = if noseq {
            match self.check_noseq(now, idx, &mtype, &msg, counted, out) {
                Some(v) => v,
                None => return,
            }
        } else {
            match self.check_sequenced(now, idx, &mtype, seq.unwrap_or(0), &msg, out) {
                Ok(v) => v,
                Err(Malformed::Seq) => {
                    self.counters.dropped_bad_seq += u64::from(counted);
                    return;
                }
                Err(Malformed::Generation) => {
                    self.counters.dropped_bad_generation += u64::from(counted);
                    return;
                }
            }
        };

        match verdict {
            Verdict::Drop(reason) => {
                if counted {
                    let c = &mut self.counters;
                    match reason {
                        DropReason::NotForUs => c.not_for_us += 1,
                        DropReason::Replay => c.dropped_replay += 1,
                        DropReason::OldDuplicate => c.dropped_old_duplicate += 1,
                        DropReason::StaleStatus => c.dropped_stale_status += 1,
                    }
                }
                return;
            }
            Verdict::Duplicate | Verdict::Keep => {
                if let Some(link) = link {
                    self.refresh_link(now, idx, link, out);
                }
            }
        }
        if verdict == Verdict::Duplicate {
            self.counters.duplicates += u64::from(counted);
            return;
        }
        if own_echo {
            // Already processed when we sent it.
            return;
        }
        self.counters.accepted += u64::from(counted);
        self.dispatch(now, idx, &mtype, seq.unwrap_or(0), ts, &msg, out);
        self.check_comm(now, out);
    }

    fn lookup_node(&self, from: &str, srcuuid: Option<[u8; 16]>) -> Option<usize> {
        srcuuid
            .and_then(|u| self.nodes.iter().position(|n| n.uuid == Some(u)))
            .or_else(|| self.node_index(from))
    }

    fn learn_uuid(&mut self, idx: usize, uuid: [u8; 16], out: &mut Vec<Action>) {
        if idx == self.local || self.nodes[idx].uuid == Some(uuid) {
            return;
        }
        self.nodes[idx].uuid = Some(uuid);
        out.push(Action::NodeUuid {
            node: self.nodes[idx].name.clone(),
            uuid,
        });
    }

    fn log_unknown_node(&mut self, now: Now, from: &str, out: &mut Vec<Action>) {
        let shown: String = from.chars().take(64).collect();
        let key = if self.unknown_logged.len() < UNKNOWN_LOG_NAMES
            || self.unknown_logged.contains_key(&shown)
        {
            shown.clone()
        } else {
            String::new()
        };
        if let Some(last) = self.unknown_logged.get(&key) {
            if now.mono_ms.saturating_sub(*last) < UNKNOWN_LOG_INTERVAL_MS {
                return;
            }
        }
        self.unknown_logged.insert(key, now.mono_ms);
        let text = format!("process_status_message: bad node [{shown}] in message");
        log(out, Level::Error, text);
    }

    /// `NS_*` messages: no sequencing. NAKs are consumed here (`None`).
    fn check_noseq(
        &mut self,
        now: Now,
        idx: usize,
        mtype: &str,
        msg: &Message,
        counted: bool,
        out: &mut Vec<Action>,
    ) -> Option<Verdict> {
        let to = msg.get_str(F_TO);
        let to_us = to.is_none_or(|t| t == self.p.local_node);
        if !mtype.eq_ignore_ascii_case(T_NAKREXMIT) {
            return Some(if to_us {
                Verdict::Keep
            } else {
                Verdict::Drop(DropReason::NotForUs)
            });
        }
        let Some(nseq) = msg
            .get_str(F_FIRSTSEQ)
            .and_then(parse_hex)
            .filter(|s| *s > 0)
        else {
            log(
                out,
                Level::Error,
                "should_drop_message: bad nak seq number".into(),
            );
            self.counters.dropped_bad_seq += u64::from(counted);
            return None;
        };
        if to.is_none() {
            let text = "should_drop_message: tonodename not found heartbeat version not matching?";
            log(out, Level::Warn, text.into());
        }
        let node = self.nodes[idx].name.clone();
        if to_us {
            let text = format!("Irretrievably lost packet: node {node} seq {nseq}");
            log(out, Level::Error, text);
        }
        let was_missing = self.nodes[idx].track.is_missing(nseq);
        self.counters.irretrievably_lost += u64::from(counted && was_missing);
        let flow_control = self.flow_control;
        let events = self.nodes[idx].track.give_up(nseq, &node, flow_control);
        self.apply_seq_events(now, idx, events, out);
        None
    }

    /// Sequenced messages: Heartbeat's `should_drop_message`. An error when
    /// the message is malformed (already logged).
    fn check_sequenced(
        &mut self,
        now: Now,
        idx: usize,
        mtype: &str,
        seq: u64,
        msg: &Message,
        out: &mut Vec<Action>,
    ) -> Result<Verdict, Malformed> {
        if seq == 0 {
            log(
                out,
                Level::Error,
                "should_drop_message: bad sequence number".into(),
            );
            return Err(Malformed::Seq);
        }
        let generation = match msg.get_str(F_GEN) {
            None => 0,
            Some(g) => match parse_hex(g) {
                Some(g) => g,
                None => {
                    log(
                        out,
                        Level::Error,
                        "should_drop_message: bad generation number".into(),
                    );
                    return Err(Malformed::Generation);
                }
            },
        };
        let to_us = match uuid_field(msg, F_TOUUID) {
            Some(u) => self.nodes[self.local].uuid == Some(u),
            None => msg.get_str(F_TO).is_none_or(|t| t == self.p.local_node),
        };
        let node = self.nodes[idx].name.clone();
        let input = SeqInput {
            node: &node,
            seq,
            generation,
            is_status: mtype.eq_ignore_ascii_case(T_STATUS),
            to_us,
            node_dead: self.nodes[idx].is_dead(),
            status_seqno: self.nodes[idx].status_seqno,
            flow_control: self.flow_control,
        };
        let outcome = self.nodes[idx].track.check(&input);
        self.apply_seq_events(now, idx, outcome.events, out);
        if outcome.recovered && idx != self.local {
            self.counters.recovered_packets += 1;
        }
        Ok(outcome.verdict)
    }

    pub(super) fn apply_seq_events(
        &mut self,
        now: Now,
        idx: usize,
        events: Vec<SeqEvent>,
        out: &mut Vec<Action>,
    ) {
        let node = self.nodes[idx].name.clone();
        for ev in events {
            match ev {
                SeqEvent::Log(level, text) => log(out, level, text),
                SeqEvent::Restart => {
                    let n = &mut self.nodes[idx];
                    n.last_status_ts = 0;
                    n.last_status_rx_ms = None;
                    n.status_seqno = 0;
                    n.life_started_ms = Some(now.mono_ms);
                    if idx != self.local {
                        self.call_upper(now, out, |up, ctx| up.on_peer_restart(ctx, &node));
                    }
                }
                SeqEvent::HealedPartition => self.partition_healed(now, idx, out),
                SeqEvent::Reset => self.cancel_all_rexmit(idx, out),
                SeqEvent::RequestRexmit(seq) => {
                    if idx != self.local {
                        self.counters.lost_packets += 1;
                        self.schedule_rexmit(now, idx, seq, out);
                    }
                }
                SeqEvent::NoLongerMissing(seq) => {
                    if self.nodes[idx].rexmit_due.remove(&seq).is_some() {
                        cancel(out, TimerKey::Rexmit(node.clone(), seq));
                    }
                }
                SeqEvent::Ack(seq) => self.send_ack(now, idx, seq, out),
            }
        }
    }

    /// Hand an accepted message to its handler, then to the upper layer.
    #[allow(clippy::too_many_arguments)]
    fn dispatch(
        &mut self,
        now: Now,
        idx: usize,
        mtype: &str,
        seq: u64,
        ts: u64,
        msg: &Message,
        out: &mut Vec<Action>,
    ) {
        match mtype {
            T_STATUS => self.handle_status(now, idx, seq, ts, msg, out),
            T_ACKMSG => self.handle_ack(now, idx, msg, out),
            T_REXMIT if idx != self.local => self.serve_rexmit(now, idx, msg, out),
            T_REQNODES => self.handle_reqnodes(now, idx, out),
            T_REPNODES => self.handle_repnodes(now, idx, msg, out),
            _ => {}
        }
        if !is_noseq(mtype) {
            let from = self.nodes[idx].name.clone();
            self.call_upper(now, out, |up, ctx| up.on_message(ctx, &from, msg));
        }
    }
}
