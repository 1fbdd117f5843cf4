//! What the resource manager is told at construction: options and the
//! haresources group keys split by preferred owner.

use super::holdings::Holdings;
use crate::config::model::ResourceGroup;

/// Daemon-level switches of the resource layer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ResourceOptions {
    /// False with `heartbeat -M`: no resource management at all (only the
    /// nice_failback `starting` message is still sent, as Heartbeat does).
    pub manage_resources: bool,
    /// Our extension: when starting fresh and holding nothing, answer a
    /// peer's `starting` with `isstable=1`, so the peer takes its own groups
    /// at once instead of after the 10 s RQSTDELAY (a real 3.0.6 node
    /// accepts this; see the module docs).
    pub fast_start: bool,
    /// ha.cf deadtime: a restart stays silent `deadtime + 1 s` (rounded up
    /// to seconds) so the peers notice we are gone.
    pub deadtime_ms: u64,
    /// Our process id, for "Heartbeat shutdown in progress. (PID)".
    pub pid: u32,
    /// A STONITH device is configured for this node: a dead peer that may
    /// hold resources is reset (`Action::Fence`) before its groups are taken.
    pub stonith: bool,
}

impl Default for ResourceOptions {
    fn default() -> Self {
        ResourceOptions {
            manage_resources: true,
            fast_start: true,
            deadtime_ms: 30_000,
            pid: 0,
            stonith: false,
        }
    }
}

/// The group keys of haresources in file order, each with its preferred node.
#[derive(Clone, Debug, Default)]
pub(super) struct GroupKeys {
    local: String,
    groups: Vec<(String, String)>,
}

impl GroupKeys {
    pub(super) fn new(local: &str, groups: &[ResourceGroup]) -> GroupKeys {
        GroupKeys {
            local: local.to_string(),
            groups: groups
                .iter()
                .map(|g| (g.node.to_ascii_lowercase(), g.key.clone()))
                .collect(),
        }
    }

    /// Every key (`ResourceManager listkeys '.*'` / `allkeys`).
    pub(super) fn all(&self) -> Vec<String> {
        self.groups.iter().map(|(_, k)| k.clone()).collect()
    }

    /// The keys whose preferred node is `node` (`listkeys NODE`).
    pub(super) fn of_node(&self, node: &str) -> Vec<String> {
        self.groups
            .iter()
            .filter(|(n, _)| n == node)
            .map(|(_, k)| k.clone())
            .collect()
    }

    /// The keys of a set seen from us: `ourkeys`, `otherkeys` or `allkeys`.
    pub(super) fn of_set(&self, set: Holdings) -> Vec<String> {
        self.groups
            .iter()
            .filter(|(n, _)| {
                let ours = *n == self.local;
                (ours && set.intersects(Holdings::LOCAL))
                    || (!ours && set.intersects(Holdings::FOREIGN))
            })
            .map(|(_, k)| k.clone())
            .collect()
    }

    pub(super) fn contains(&self, key: &str) -> bool {
        self.groups.iter().any(|(_, k)| k == key)
    }

    pub(super) fn is_local(&self, key: &str) -> bool {
        self.groups
            .iter()
            .any(|(n, k)| k == key && *n == self.local)
    }
}
