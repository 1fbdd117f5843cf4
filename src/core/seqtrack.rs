//! Per-node receive sequencing (Heartbeat's `should_drop_message` and
//! `is_lost_packet`): generations, duplicates, gaps, late arrivals and the
//! ACK trigger rule. Pure bookkeeping: it returns what to do as events and
//! leaves timers, logging and sending to the caller.

use super::Level;

/// Missing sequence numbers remembered per node (Heartbeat's MAXMISSING-1).
pub(super) const MAX_MISSING: usize = 499;
/// A larger gap resets tracking instead of asking for every packet.
pub(super) const SEQ_GAP_RESET: u64 = 250;
/// ACK every tenth message (the one whose seq % 10 equals the trigger).
pub(super) const ACK_DIV: u64 = 10;

#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) enum DropReason {
    NotForUs,
    Replay,
    OldDuplicate,
    StaleStatus,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) enum Verdict {
    Keep,
    Duplicate,
    Drop(DropReason),
}

/// Side effects for the caller, in the order Heartbeat performs them.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) enum SeqEvent {
    Log(Level, String),
    /// Higher generation in a status: the node restarted; tracking was reset.
    Restart,
    /// Same generation status from a node we declared dead.
    HealedPartition,
    /// Tracking was reset: forget every outstanding retransmission request.
    Reset,
    /// Ask for this missing seq (after a random delay).
    RequestRexmit(u64),
    /// This missing seq is no longer missing (arrived, NAKed or evicted).
    NoLongerMissing(u64),
    /// Send `NS_ackmsg` for this seq to the node.
    Ack(u64),
}

/// What the caller knows about one sequenced packet.
pub(super) struct SeqInput<'a> {
    pub node: &'a str,
    pub seq: u64,
    pub generation: u64,
    pub is_status: bool,
    pub to_us: bool,
    pub node_dead: bool,
    /// Seq of the last status we accepted from the node.
    pub status_seqno: u64,
    pub flow_control: bool,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) struct SeqOutcome {
    pub verdict: Verdict,
    pub events: Vec<SeqEvent>,
    /// The packet was one we had recorded as missing.
    pub recovered: bool,
}

#[derive(Clone, Debug, Default)]
pub(super) struct SeqTrack {
    /// Highest generation seen in a status message (0: none yet).
    pub generation: u64,
    last_seq: Option<u64>,
    missing: Vec<u64>,
    /// Lowest missing seq for ACK purposes (0: none).
    first_missing: u64,
    /// Highest seq of *ours* this node acknowledged.
    pub peer_ack: u64,
    pub ack_trigger: u64,
}

impl SeqTrack {
    pub(super) fn new(ack_trigger: u64) -> Self {
        SeqTrack {
            ack_trigger: ack_trigger % ACK_DIV,
            ..SeqTrack::default()
        }
    }

    pub(super) fn last_seq(&self) -> Option<u64> {
        self.last_seq
    }

    pub(super) fn is_missing(&self, seq: u64) -> bool {
        self.missing.contains(&seq)
    }

    pub(super) fn missing_count(&self) -> usize {
        self.missing.len()
    }

    /// Forget sequencing state (node died, restarted, or too many lost).
    pub(super) fn reset(&mut self, ev: &mut Vec<SeqEvent>) {
        self.missing.clear();
        self.first_missing = 0;
        self.last_seq = None;
        self.peer_ack = 0;
        ev.push(SeqEvent::Reset);
    }

    /// Decide about one sequenced message (`should_drop_message`).
    pub(super) fn check(&mut self, p: &SeqInput) -> SeqOutcome {
        let mut ev = Vec::new();
        let keep_or_drop = |to_us| {
            if to_us {
                Verdict::Keep
            } else {
                Verdict::Drop(DropReason::NotForUs)
            }
        };
        let done = |verdict, events, recovered| SeqOutcome {
            verdict,
            events,
            recovered,
        };

        let mut healed = false;
        let mut restart = false;
        if p.generation < self.generation {
            ev.push(SeqEvent::Log(
                Level::Error,
                format!(
                    "should_drop_message: attempted replay attack [{}]? [gen = {}, curgen = {}]",
                    p.node, p.generation, self.generation
                ),
            ));
            return done(Verdict::Drop(DropReason::Replay), ev, false);
        } else if p.is_status {
            if p.generation == self.generation && p.generation > 0 {
                if p.node_dead {
                    if p.seq <= p.status_seqno {
                        return done(Verdict::Drop(DropReason::StaleStatus), ev, false);
                    }
                    ev.push(SeqEvent::HealedPartition);
                    healed = true;
                }
            } else if p.generation > self.generation {
                restart = true;
                if self.generation > 0 {
                    ev.push(SeqEvent::Log(
                        Level::Info,
                        format!("Heartbeat restart on node {}", p.node),
                    ));
                }
                self.reset(&mut ev);
                ev.push(SeqEvent::Restart);
            }
            self.generation = p.generation;
        }

        let seq = p.seq;
        match self.last_seq {
            None => {
                self.last_seq = Some(seq);
                self.ack_if_needed(seq, p.flow_control, &mut ev);
                return done(keep_or_drop(p.to_us), ev, false);
            }
            Some(last) if seq == last.saturating_add(1) => {
                self.last_seq = Some(seq);
                self.ack_if_needed(seq, p.flow_control, &mut ev);
                return done(keep_or_drop(p.to_us), ev, false);
            }
            Some(last) if seq == last => return done(Verdict::Duplicate, ev, false),
            Some(last) if seq > last => {
                let nlost = seq - last - 1;
                ev.push(SeqEvent::Log(
                    Level::Warn,
                    format!("{nlost} lost packet(s) for [{}] [{last}:{seq}]", p.node),
                ));
                if nlost > SEQ_GAP_RESET {
                    self.reset(&mut ev);
                    self.last_seq = Some(seq);
                    ev.push(SeqEvent::Log(Level::Error, "lost a lot of packets!".into()));
                    return done(keep_or_drop(p.to_us), ev, false);
                }
                if self.first_missing == 0 || self.first_missing > last + 1 {
                    self.first_missing = last + 1;
                }
                for k in last + 1..seq {
                    ev.push(SeqEvent::RequestRexmit(k));
                    self.record_missing(k, &mut ev);
                }
                self.last_seq = Some(seq);
                return done(keep_or_drop(p.to_us), ev, false);
            }
            Some(_) => {}
        }

        // Older than the last one: a recorded missing packet, or a duplicate.
        if self.found(seq, p.node, p.flow_control, &mut ev) {
            return done(keep_or_drop(p.to_us), ev, true);
        }
        if healed || restart {
            self.ack_if_needed(seq, p.flow_control, &mut ev);
            self.reset(&mut ev);
            self.last_seq = Some(seq);
            return done(keep_or_drop(p.to_us), ev, false);
        }
        done(Verdict::Drop(DropReason::OldDuplicate), ev, false)
    }

    /// A NAK said `seq` will never come: stop waiting for it.
    pub(super) fn give_up(&mut self, seq: u64, node: &str, flow_control: bool) -> Vec<SeqEvent> {
        let mut ev = Vec::new();
        self.found(seq, node, flow_control, &mut ev);
        ev
    }

    fn record_missing(&mut self, seq: u64, ev: &mut Vec<SeqEvent>) {
        if self.missing.len() < MAX_MISSING {
            self.missing.push(seq);
        } else if let Some(lowest) = self.missing.iter_mut().min() {
            ev.push(SeqEvent::NoLongerMissing(*lowest));
            *lowest = seq;
        }
    }

    /// `is_lost_packet`: remove `seq` from the missing set; after the first
    /// gap is filled, ACK the highest trigger-aligned seq now contiguous.
    fn found(&mut self, seq: u64, node: &str, flow_control: bool, ev: &mut Vec<SeqEvent>) -> bool {
        let Some(pos) = self.missing.iter().position(|m| *m == seq) else {
            return false;
        };
        self.missing.swap_remove(pos);
        ev.push(SeqEvent::NoLongerMissing(seq));
        if self.missing.is_empty() {
            ev.push(SeqEvent::Log(
                Level::Info,
                format!("No pkts missing from {node}!"),
            ));
            // Heartbeat clears first_missing here, so the block below does
            // not ACK: the next trigger-aligned in-order packet will.
            self.first_missing = 0;
        }
        if !flow_control || seq != self.first_missing {
            return true;
        }
        let old_first = self.first_missing;
        self.first_missing = self.missing.iter().copied().min().unwrap_or(0);
        let contiguous = if self.first_missing == 0 {
            self.last_seq.unwrap_or(0)
        } else {
            self.first_missing - 1
        };
        if let Some(ack) = highest_aligned(contiguous, self.ack_trigger) {
            if ack >= old_first {
                self.ack_if_needed(ack, flow_control, ev);
            }
        }
        true
    }

    fn ack_if_needed(&self, seq: u64, flow_control: bool, ev: &mut Vec<SeqEvent>) {
        if !flow_control {
            return;
        }
        if (self.first_missing != 0 && seq > self.first_missing)
            || seq % ACK_DIV != self.ack_trigger
        {
            return;
        }
        ev.push(SeqEvent::Ack(seq));
    }
}

/// Largest `s <= upto` with `s % 10 == trigger`.
fn highest_aligned(upto: u64, trigger: u64) -> Option<u64> {
    let base = upto - upto % ACK_DIV;
    if upto % ACK_DIV >= trigger {
        Some(base + trigger)
    } else {
        base.checked_sub(ACK_DIV).map(|b| b + trigger)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn input(seq: u64) -> SeqInput<'static> {
        SeqInput {
            node: "alpha",
            seq,
            generation: 5,
            is_status: false,
            to_us: true,
            node_dead: false,
            status_seqno: 0,
            flow_control: true,
        }
    }

    fn status(seq: u64, generation: u64) -> SeqInput<'static> {
        SeqInput {
            is_status: true,
            generation,
            ..input(seq)
        }
    }

    fn acks(o: &SeqOutcome) -> Vec<u64> {
        o.events
            .iter()
            .filter_map(|e| match e {
                SeqEvent::Ack(s) => Some(*s),
                _ => None,
            })
            .collect()
    }

    fn requests(o: &SeqOutcome) -> Vec<u64> {
        o.events
            .iter()
            .filter_map(|e| match e {
                SeqEvent::RequestRexmit(s) => Some(*s),
                _ => None,
            })
            .collect()
    }

    fn logs(o: &SeqOutcome) -> Vec<String> {
        o.events
            .iter()
            .filter_map(|e| match e {
                SeqEvent::Log(_, t) => Some(t.clone()),
                _ => None,
            })
            .collect()
    }

    #[test]
    fn first_packet_then_in_order_then_duplicate() {
        let mut t = SeqTrack::new(4);
        assert_eq!(t.check(&status(4, 5)).verdict, Verdict::Keep);
        assert_eq!(t.check(&input(5)).verdict, Verdict::Keep);
        assert_eq!(t.check(&input(5)).verdict, Verdict::Duplicate);
        assert_eq!(t.last_seq(), Some(5));
    }

    #[test]
    fn ack_on_trigger_aligned_in_order_seq_only() {
        let mut t = SeqTrack::new(4);
        assert_eq!(acks(&t.check(&status(4, 5))), vec![4]);
        for s in 5..14 {
            assert!(acks(&t.check(&input(s))).is_empty(), "seq {s}");
        }
        assert_eq!(acks(&t.check(&input(14))), vec![14]);
        let mut off = input(15);
        off.flow_control = false;
        t.check(&off);
        let mut off = input(24);
        off.flow_control = false;
        for s in 16..24 {
            t.check(&input(s));
        }
        assert!(acks(&t.check(&off)).is_empty());
    }

    #[test]
    fn messages_for_others_are_tracked_then_dropped() {
        let mut t = SeqTrack::new(0);
        t.check(&status(1, 5));
        let mut other = input(2);
        other.to_us = false;
        assert_eq!(t.check(&other).verdict, Verdict::Drop(DropReason::NotForUs));
        assert_eq!(t.last_seq(), Some(2));
    }

    #[test]
    fn gap_requests_each_missing_seq_and_late_arrival_is_accepted() {
        let mut t = SeqTrack::new(0);
        t.check(&status(10, 5));
        let o = t.check(&input(14));
        assert_eq!(o.verdict, Verdict::Keep);
        assert_eq!(requests(&o), vec![11, 12, 13]);
        assert_eq!(logs(&o), vec!["3 lost packet(s) for [alpha] [10:14]"]);
        assert_eq!(t.missing_count(), 3);
        let o = t.check(&input(12));
        assert_eq!(o.verdict, Verdict::Keep);
        assert!(o.recovered);
        assert!(o.events.contains(&SeqEvent::NoLongerMissing(12)));
        assert_eq!(
            t.check(&input(12)).verdict,
            Verdict::Drop(DropReason::OldDuplicate)
        );
        assert_eq!(
            t.check(&input(3)).verdict,
            Verdict::Drop(DropReason::OldDuplicate)
        );
    }

    #[test]
    fn filling_the_first_gap_acks_highest_contiguous_aligned_seq() {
        // trigger 2: 12 is aligned; 11 and 15 missing, last 17.
        let mut t = SeqTrack::new(2);
        t.check(&status(10, 5));
        t.check(&input(12)); // 11 missing
        let o = t.check(&input(14)); // 13 missing
        assert!(acks(&o).is_empty());
        // in-order 15..17 after the gap: no ACK although 22 would be aligned later
        t.check(&input(15));
        t.check(&input(16));
        t.check(&input(17));
        // 11 arrives: first missing becomes 13, contiguous up to 12 -> ACK 12
        let o = t.check(&input(11));
        assert_eq!(acks(&o), vec![12]);
        // 13 arrives: nothing missing any more; Heartbeat sends no ACK here
        let o = t.check(&input(13));
        assert!(acks(&o).is_empty());
        assert!(logs(&o).contains(&"No pkts missing from alpha!".to_string()));
        // the next aligned in-order seq is ACKed again
        for s in 18..22 {
            t.check(&input(s));
        }
        assert_eq!(acks(&t.check(&input(22))), vec![22]);
    }

    #[test]
    fn no_ack_beyond_a_pending_gap() {
        let mut t = SeqTrack::new(5);
        t.check(&status(1, 5));
        t.check(&input(3)); // 2 missing
        for s in 4..15 {
            assert!(acks(&t.check(&input(s))).is_empty(), "seq {s}");
        }
    }

    #[test]
    fn huge_gap_resets_tracking() {
        let mut t = SeqTrack::new(0);
        t.check(&status(1, 5));
        let o = t.check(&input(253));
        assert!(o.events.contains(&SeqEvent::Reset));
        assert!(requests(&o).is_empty());
        assert!(logs(&o).contains(&"lost a lot of packets!".to_string()));
        assert_eq!(t.missing_count(), 0);
        let mut t = SeqTrack::new(0);
        t.check(&status(1, 5));
        let o = t.check(&input(252));
        assert_eq!(requests(&o).len(), 250);
    }

    #[test]
    fn lower_generation_is_a_replay() {
        let mut t = SeqTrack::new(0);
        t.check(&status(1, 5));
        let mut old = status(2, 4);
        old.is_status = false;
        let o = t.check(&old);
        assert_eq!(o.verdict, Verdict::Drop(DropReason::Replay));
        assert_eq!(
            logs(&o),
            vec!["should_drop_message: attempted replay attack [alpha]? [gen = 4, curgen = 5]"]
        );
    }

    #[test]
    fn higher_generation_status_restarts_tracking() {
        let mut t = SeqTrack::new(0);
        t.check(&status(1, 5));
        t.check(&input(40));
        let o = t.check(&status(1, 6));
        assert_eq!(o.verdict, Verdict::Keep);
        assert!(o.events.contains(&SeqEvent::Restart));
        assert!(logs(&o).contains(&"Heartbeat restart on node alpha".to_string()));
        assert_eq!(t.generation, 6);
        assert_eq!(t.last_seq(), Some(1));
        // a non-status message with a higher generation does not restart
        let mut t = SeqTrack::new(0);
        t.check(&status(1, 5));
        let mut other = input(2);
        other.generation = 9;
        let o = t.check(&other);
        assert!(!o.events.contains(&SeqEvent::Restart));
        assert_eq!(t.generation, 5);
    }

    #[test]
    fn first_generation_is_not_logged_as_restart() {
        let mut t = SeqTrack::new(0);
        let o = t.check(&status(1, 5));
        assert!(o.events.contains(&SeqEvent::Restart));
        assert!(logs(&o).is_empty());
    }

    #[test]
    fn same_generation_from_dead_node_is_a_healed_partition() {
        let mut t = SeqTrack::new(0);
        t.check(&status(30, 5));
        let mut ev = Vec::new();
        t.reset(&mut ev); // node was declared dead
        let mut st = status(33, 5);
        st.node_dead = true;
        st.status_seqno = 30;
        let o = t.check(&st);
        assert_eq!(o.verdict, Verdict::Keep);
        assert!(o.events.contains(&SeqEvent::HealedPartition));
        let mut stale = status(29, 5);
        stale.node_dead = true;
        stale.status_seqno = 30;
        assert_eq!(
            t.check(&stale).verdict,
            Verdict::Drop(DropReason::StaleStatus)
        );
    }

    #[test]
    fn nak_gives_up_on_a_missing_seq() {
        let mut t = SeqTrack::new(0);
        t.check(&status(1, 5));
        t.check(&input(3));
        assert!(t.is_missing(2));
        let ev = t.give_up(2, "alpha", true);
        assert!(ev.contains(&SeqEvent::NoLongerMissing(2)));
        assert!(!t.is_missing(2));
        assert!(t.give_up(2, "alpha", true).is_empty());
    }

    #[test]
    fn missing_set_is_bounded() {
        let mut t = SeqTrack::new(0);
        t.check(&status(1, 5));
        let mut seq = 1;
        for _ in 0..3 {
            seq += 201; // 200 missing each time
            t.check(&input(seq));
        }
        assert_eq!(t.missing_count(), MAX_MISSING);
        assert!(!t.is_missing(2));
    }

    #[test]
    fn highest_aligned_rule() {
        assert_eq!(highest_aligned(17, 2), Some(12));
        assert_eq!(highest_aligned(12, 2), Some(12));
        assert_eq!(highest_aligned(11, 2), Some(2));
        assert_eq!(highest_aligned(1, 2), None);
    }
}
