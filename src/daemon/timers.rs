//! The core's timers: one deadline per [`TimerKey`], arming again moves it.
//! Deadlines are monotonic milliseconds (`Now::mono_ms`).

use std::collections::{BTreeSet, HashMap};

use crate::core::TimerKey;

#[derive(Debug, Default)]
pub struct TimerQueue {
    /// (deadline, arm sequence) for each armed key.
    armed: HashMap<TimerKey, (u64, u64)>,
    /// Ordered by deadline, then by arming order.
    order: BTreeSet<(u64, u64, TimerKey)>,
    next_seq: u64,
}

impl TimerQueue {
    pub fn new() -> TimerQueue {
        TimerQueue::default()
    }

    /// Arm `key` at `at_ms`, replacing any earlier deadline of that key.
    pub fn arm(&mut self, key: TimerKey, at_ms: u64) {
        self.cancel(&key);
        let seq = self.next_seq;
        self.next_seq += 1;
        self.order.insert((at_ms, seq, key.clone()));
        self.armed.insert(key, (at_ms, seq));
    }

    /// Returns whether the key was armed.
    pub fn cancel(&mut self, key: &TimerKey) -> bool {
        match self.armed.remove(key) {
            Some((at, seq)) => self.order.remove(&(at, seq, key.clone())),
            None => false,
        }
    }

    pub fn deadline(&self, key: &TimerKey) -> Option<u64> {
        self.armed.get(key).map(|&(at, _)| at)
    }

    /// The earliest deadline.
    pub fn next_deadline(&self) -> Option<u64> {
        self.order.first().map(|(at, _, _)| *at)
    }

    /// Remove and return every key due at `now_ms`, earliest first (ties in
    /// arming order).
    pub fn pop_expired(&mut self, now_ms: u64) -> Vec<TimerKey> {
        let mut due = Vec::new();
        while let Some((at, _, _)) = self.order.first() {
            if *at > now_ms {
                break;
            }
            if let Some((_, _, key)) = self.order.pop_first() {
                self.armed.remove(&key);
                due.push(key);
            }
        }
        due
    }

    pub fn len(&self) -> usize {
        self.armed.len()
    }

    pub fn is_empty(&self) -> bool {
        self.armed.is_empty()
    }

    pub fn clear(&mut self) {
        self.armed.clear();
        self.order.clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dead(n: &str) -> TimerKey {
        TimerKey::NodeDead(n.to_string())
    }

    #[test]
    fn pops_in_deadline_order() {
        let mut q = TimerQueue::new();
        q.arm(TimerKey::Keepalive, 1000);
        q.arm(dead("bravo"), 500);
        q.arm(TimerKey::InitDead, 3000);
        assert_eq!(q.next_deadline(), Some(500));
        assert_eq!(q.pop_expired(499), vec![]);
        assert_eq!(
            q.pop_expired(1000),
            vec![dead("bravo"), TimerKey::Keepalive]
        );
        assert_eq!(q.len(), 1);
        assert_eq!(q.next_deadline(), Some(3000));
    }

    #[test]
    fn arming_again_moves_the_deadline() {
        let mut q = TimerQueue::new();
        q.arm(dead("bravo"), 500);
        q.arm(dead("bravo"), 2000);
        assert_eq!(q.len(), 1);
        assert_eq!(q.deadline(&dead("bravo")), Some(2000));
        assert_eq!(q.pop_expired(1999), vec![]);
        assert_eq!(q.pop_expired(2000), vec![dead("bravo")]);
        assert!(q.is_empty());
        // Moving earlier works too.
        q.arm(TimerKey::ReqNodes, 900);
        q.arm(TimerKey::ReqNodes, 100);
        assert_eq!(q.next_deadline(), Some(100));
    }

    #[test]
    fn cancel_removes_only_that_key() {
        let mut q = TimerQueue::new();
        q.arm(TimerKey::Rexmit("bravo".into(), 7), 300);
        q.arm(TimerKey::Rexmit("bravo".into(), 8), 300);
        assert!(q.cancel(&TimerKey::Rexmit("bravo".into(), 7)));
        assert!(!q.cancel(&TimerKey::Rexmit("bravo".into(), 7)));
        assert_eq!(
            q.pop_expired(300),
            vec![TimerKey::Rexmit("bravo".into(), 8)]
        );
        assert_eq!(q.next_deadline(), None);
    }

    #[test]
    fn equal_deadlines_fire_in_arming_order() {
        let mut q = TimerQueue::new();
        q.arm(TimerKey::Other("b".into()), 10);
        q.arm(TimerKey::Other("a".into()), 10);
        q.arm(TimerKey::Keepalive, 10);
        assert_eq!(
            q.pop_expired(10),
            vec![
                TimerKey::Other("b".into()),
                TimerKey::Other("a".into()),
                TimerKey::Keepalive
            ]
        );
    }
}
