//! Our sent sequenced messages, kept for retransmission (Heartbeat's
//! `msg_xmit_hist`): a window of at most 500 messages, trimmed further by
//! the ACKs of all live nodes.

use std::collections::VecDeque;

use crate::wire::Message;

/// Heartbeat's MAXMSGHIST.
pub(super) const MAX_HISTORY: usize = 500;
/// Half the history: beyond this many unacknowledged messages flow
/// control engages (FLOWCONTROL_LIMIT).
pub(super) const FLOW_LIMIT: u64 = (MAX_HISTORY / 2) as u64;
/// ACKed messages are still kept this long (Heartbeat frees only messages
/// that were already sent 2-2.5 s ago).
const MIN_KEEP_MS: u64 = 2000;

#[derive(Clone, Debug)]
pub(super) struct Entry {
    pub seq: u64,
    pub msg: Message,
    pub sent_ms: u64,
    pub last_rexmit_ms: Option<u64>,
}

#[derive(Clone, Debug, Default)]
pub(super) struct History {
    entries: VecDeque<Entry>,
    /// Highest seq no longer kept (0: none dropped yet).
    pub lowseq: u64,
    /// Highest seq sent.
    pub hiseq: u64,
    /// Highest seq every live node acknowledged.
    pub ackseq: u64,
}

/// Where a requested seq stands.
#[derive(Debug, PartialEq, Eq)]
pub(super) enum Lookup {
    TooLow,
    TooHigh,
    NotFound,
    Found,
}

impl History {
    /// Store a just-sent message (seqs are strictly increasing).
    pub(super) fn add(&mut self, seq: u64, msg: Message, now_ms: u64) {
        if self.entries.len() >= MAX_HISTORY {
            if let Some(old) = self.entries.pop_front() {
                self.lowseq = old.seq;
            }
        }
        self.hiseq = seq;
        self.entries.push_back(Entry {
            seq,
            msg,
            sent_ms: now_ms,
            last_rexmit_ms: None,
        });
    }

    /// Messages between the oldest kept and the newest (for the
    /// "queue is filling up" warning).
    pub(super) fn backlog(&self) -> u64 {
        self.hiseq.saturating_sub(self.lowseq)
    }

    pub(super) fn lookup(&self, seq: u64) -> Lookup {
        if seq <= self.lowseq {
            Lookup::TooLow
        } else if seq > self.hiseq {
            Lookup::TooHigh
        } else if self.position(seq).is_some() {
            Lookup::Found
        } else {
            Lookup::NotFound
        }
    }

    pub(super) fn get_mut(&mut self, seq: u64) -> Option<&mut Entry> {
        let i = self.position(seq)?;
        self.entries.get_mut(i)
    }

    fn position(&self, seq: u64) -> Option<usize> {
        self.entries.binary_search_by_key(&seq, |e| e.seq).ok()
    }

    /// Raise the all-acknowledged mark and free what every live node has
    /// (and what is old enough). Returns false when the mark did not move.
    pub(super) fn update_ackseq(&mut self, ackseq: u64, now_ms: u64) -> bool {
        if ackseq <= self.ackseq {
            return false;
        }
        self.ackseq = ackseq;
        while let Some(front) = self.entries.front() {
            if front.seq > ackseq || front.sent_ms.saturating_add(MIN_KEEP_MS) > now_ms {
                break;
            }
            self.lowseq = front.seq;
            self.entries.pop_front();
        }
        true
    }

    pub(super) fn len(&self) -> usize {
        self.entries.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn filled(n: u64) -> History {
        let mut h = History::default();
        for s in 1..=n {
            h.add(s, Message::with_type("status"), s * 10);
        }
        h
    }

    #[test]
    fn keeps_the_last_500() {
        let h = filled(600);
        assert_eq!(h.len(), MAX_HISTORY);
        assert_eq!(h.lowseq, 100);
        assert_eq!(h.hiseq, 600);
        assert_eq!(h.lookup(100), Lookup::TooLow);
        assert_eq!(h.lookup(101), Lookup::Found);
        assert_eq!(h.lookup(601), Lookup::TooHigh);
        assert_eq!(h.backlog(), 500);
    }

    #[test]
    fn acks_free_only_old_enough_messages() {
        let mut h = filled(300); // seq s sent at s*10 ms
        assert!(h.update_ackseq(250, 2500));
        // seq <= 50 was sent at or before 500 ms = 2500 - 2000
        assert_eq!(h.lowseq, 50);
        assert_eq!(h.lookup(50), Lookup::TooLow);
        assert!(!h.update_ackseq(250, 9000));
        assert!(h.update_ackseq(251, 9000));
        assert_eq!(h.lowseq, 251);
        assert_eq!(h.backlog(), 49);
    }

    #[test]
    fn a_hole_in_the_kept_window_is_not_found() {
        let mut h = History::default();
        for s in [1, 2, 4] {
            h.add(s, Message::with_type("status"), 0);
        }
        assert_eq!(h.lookup(3), Lookup::NotFound);
        assert_eq!(h.lookup(4), Lookup::Found);
    }

    #[test]
    fn rexmit_time_is_stored_per_entry() {
        let mut h = filled(3);
        if let Some(e) = h.get_mut(2) {
            e.last_rexmit_ms = Some(77);
        }
        assert_eq!(h.get_mut(2).and_then(|e| e.last_rexmit_ms), Some(77));
        assert!(h.get_mut(9).is_none());
    }
}
