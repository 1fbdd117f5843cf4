//! The status snapshot the API server answers from.
//!
//! The daemon fills a [`ClusterView`] from the core, the resource layer and
//! the configuration (refreshing it whenever something changes, or before
//! handling API events); the server only reads it. Plain data, no I/O.

/// `normal` or `ping` (Heartbeat's `nodetype` words).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NodeType {
    Normal,
    Ping,
}

impl NodeType {
    pub fn as_str(self) -> &'static str {
        match self {
            NodeType::Normal => "normal",
            NodeType::Ping => "ping",
        }
    }
}

/// One link (local medium) of a node as the API lists it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LinkView {
    /// The medium's name (`eth0`, `/dev/ttyS0`; a ping node's own address).
    pub name: String,
    /// `up` or `dead`.
    pub status: String,
    /// Milliseconds since a packet from the node was last heard on this
    /// link; `None` when never heard or unknown (a real Heartbeat).
    pub last_heard_ms: Option<u64>,
}

/// One configured node.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NodeView {
    /// Lower-case node name.
    pub name: String,
    pub nodetype: NodeType,
    /// `init`, `up`, `active`, `dead` (`ping` for a live ping node).
    pub status: String,
    /// Heartbeat's default is 100.
    pub weight: i32,
    /// Empty unless set.
    pub site: String,
    /// Links in local media order.
    pub links: Vec<LinkView>,
    /// The node's UUID once known (API `getuuid`).
    pub uuid: Option<[u8; 16]>,
}

impl NodeView {
    /// A normal node with Heartbeat's defaults (weight 100, no site, no links).
    pub fn normal(name: &str, status: &str) -> NodeView {
        NodeView {
            name: name.to_string(),
            nodetype: NodeType::Normal,
            status: status.to_string(),
            weight: 100,
            site: String::new(),
            links: Vec::new(),
            uuid: None,
        }
    }

    pub fn link(&self, name: &str) -> Option<&LinkView> {
        self.links.iter().find(|l| l.name == name)
    }
}

/// A haresources group and what this node knows of it (extension, `--json`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GroupView {
    /// The group key (first resource as written).
    pub key: String,
    /// Preferred owner from haresources.
    pub node: String,
    /// Free text from the resource layer, e.g. `running`, `stopped`, `starting`.
    pub state: String,
}

/// Everything the API can report, filled by the daemon.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ClusterView {
    pub local_node: String,
    /// The sign-on `hbversion`, e.g. `3.0.6 (node: 958e11be8686759f1b99204c17812f2c2633b169)`.
    pub version: String,
    pub deadtime_ms: u64,
    pub keepalive_ms: u64,
    /// Numeric syslog facility as the real daemon reports it: -1 when
    /// `logfacility` is unset, 0 for `none` (see [`facility_number`]).
    pub logfacility: i32,
    /// Every configured node, ha.cf order (the API's `nodelist` order).
    pub nodes: Vec<NodeView>,
    /// `none`, `local`, `foreign`, `all` or `transition`.
    pub rsc_hold: String,
    /// False when the daemon does not manage resources (`-M`): `getrsc` fails.
    pub manages_resources: bool,
    /// The parameter table `getparm` reads: (name, value as Heartbeat keeps
    /// it); see [`crate::control::params::api_parameters`].
    pub params: Vec<(String, String)>,
    /// Extension fields (`cl_status --json` / `--prometheus`); `None` when
    /// unknown (a real Heartbeat does not tell).
    pub pid: Option<u32>,
    pub uptime_secs: Option<u64>,
    pub counters: Vec<(String, u64)>,
    pub groups: Vec<GroupView>,
}

impl ClusterView {
    /// An empty view for `local_node` with Heartbeat's default timings.
    pub fn new(local_node: &str, version: &str) -> ClusterView {
        ClusterView {
            local_node: local_node.to_string(),
            version: version.to_string(),
            deadtime_ms: 30_000,
            keepalive_ms: 1_000,
            logfacility: -1,
            nodes: Vec::new(),
            rsc_hold: "none".to_string(),
            manages_resources: true,
            params: Vec::new(),
            pid: None,
            uptime_secs: None,
            counters: Vec::new(),
            groups: Vec::new(),
        }
    }

    pub fn node(&self, name: &str) -> Option<&NodeView> {
        self.nodes.iter().find(|n| n.name == name)
    }

    /// The `getparm` value of `name` (the last entry wins).
    pub fn param(&self, name: &str) -> Option<&str> {
        self.params
            .iter()
            .rev()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }
}

/// The number the real daemon reports for a `logfacility` setting
/// (cluster-glue's `cl_syslogfac_str2int`): -1 when unset or unknown,
/// 0 for `none`, else the `LOG_*` facility value.
pub fn facility_number(name: Option<&str>) -> i32 {
    match name.map(crate::log::parse_facility) {
        Some(Ok(Some(facility))) => facility.0,
        Some(Ok(None)) => 0,
        None | Some(Err(_)) => -1,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn facility_numbers_match_syslog_h() {
        assert_eq!(facility_number(None), -1);
        assert_eq!(facility_number(Some("none")), 0);
        assert_eq!(facility_number(Some("daemon")), 24);
        assert_eq!(facility_number(Some("local7")), 184);
        assert_eq!(facility_number(Some("bogus")), -1);
    }

    #[test]
    fn lookups() {
        let mut view = ClusterView::new("alpha", "3.0.6");
        view.nodes.push(NodeView::normal("alpha", "active"));
        view.params.push(("deadtime".into(), "3".into()));
        view.params.push(("deadtime".into(), "4".into()));
        assert_eq!(view.param("deadtime"), Some("4"));
        assert_eq!(view.param("nosuch"), None);
        assert!(view.node("alpha").is_some());
        assert!(view.node("bravo").is_none());
    }
}
