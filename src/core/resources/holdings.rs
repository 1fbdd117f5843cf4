//! The `rsc_hold` vocabulary: which resource groups a node holds, as
//! Heartbeat's bitmask (local = 1, foreign = 2), always from the point of
//! view of the node that holds them.

/// A set of resource groups relative to one node: its own ("local"), the
/// other nodes' ("foreign"), both or none.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub struct Holdings(u8);

impl Holdings {
    pub const NONE: Holdings = Holdings(0);
    pub const LOCAL: Holdings = Holdings(1);
    pub const FOREIGN: Holdings = Holdings(2);
    pub const ALL: Holdings = Holdings(3);

    /// The wire word (`none`, `local`, `foreign`, `all`).
    pub fn name(self) -> &'static str {
        match self.0 {
            0 => "none",
            1 => "local",
            2 => "foreign",
            _ => "all",
        }
    }

    /// A wire word; anything else is not a holding.
    pub fn parse(word: &str) -> Option<Holdings> {
        match word {
            "none" => Some(Holdings::NONE),
            "local" => Some(Holdings::LOCAL),
            "foreign" => Some(Holdings::FOREIGN),
            "all" => Some(Holdings::ALL),
            _ => None,
        }
    }

    /// Shares at least one of `other`'s bits.
    pub fn intersects(self, other: Holdings) -> bool {
        self.0 & other.0 != 0
    }

    pub fn with(self, other: Holdings) -> Holdings {
        Holdings(self.0 | other.0)
    }

    pub fn without(self, other: Holdings) -> Holdings {
        Holdings(self.0 & !other.0)
    }

    /// The same groups described from the other node's point of view.
    pub fn swapped(self) -> Holdings {
        Holdings(((self.0 & 1) << 1) | ((self.0 & 2) >> 1))
    }

    /// Apply a `resource` report: `rtype=full` replaces, an incremental
    /// report adds its bits, and an incremental `none` clears everything
    /// (Heartbeat's `HB_UPD_RSC`).
    pub fn updated(self, full: bool, report: Holdings) -> Holdings {
        if full || report == Holdings::NONE {
            report
        } else {
            self.with(report)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::Holdings;

    #[test]
    fn words_round_trip_and_reject_others() {
        for h in [
            Holdings::NONE,
            Holdings::LOCAL,
            Holdings::FOREIGN,
            Holdings::ALL,
        ] {
            assert_eq!(Holdings::parse(h.name()), Some(h));
        }
        assert_eq!(Holdings::parse("failback"), None);
        assert_eq!(Holdings::parse("ALL"), None);
    }

    #[test]
    fn swapping_exchanges_local_and_foreign_only() {
        assert_eq!(Holdings::LOCAL.swapped(), Holdings::FOREIGN);
        assert_eq!(Holdings::FOREIGN.swapped(), Holdings::LOCAL);
        assert_eq!(Holdings::ALL.swapped(), Holdings::ALL);
        assert_eq!(Holdings::NONE.swapped(), Holdings::NONE);
    }

    #[test]
    fn incremental_reports_add_and_none_resets() {
        let h = Holdings::LOCAL;
        assert_eq!(h.updated(false, Holdings::FOREIGN), Holdings::ALL);
        assert_eq!(h.updated(false, Holdings::NONE), Holdings::NONE);
        assert_eq!(
            Holdings::ALL.updated(true, Holdings::LOCAL),
            Holdings::LOCAL
        );
    }
}
