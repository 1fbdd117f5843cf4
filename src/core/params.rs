//! What the core needs to know about the cluster and its own identity.

use std::fmt;

/// Start-up parameters of the protocol core (derived from ha.cf, the state
/// files and the command line by the daemon).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CoreParams {
    /// Our node name (lower case).
    pub local_node: String,
    /// Every configured node in ha.cf order, including ourselves (lower case).
    pub nodes: Vec<String>,
    /// Local media names; the index is the [`LinkIndex`](super::LinkIndex).
    pub link_names: Vec<String>,
    pub keepalive_ms: u64,
    pub deadtime_ms: u64,
    pub warntime_ms: u64,
    pub initdead_ms: u64,
    /// Upper bound of the random retransmission-request delay (default 250).
    pub max_rexmit_delay_ms: u64,
    pub hopfudge: u32,
    /// This run's generation (`hg`), already incremented and persisted.
    pub generation: u64,
    /// Our UUID; all zeros means "none kept": `srcuuid` is then not sent.
    pub uuid: [u8; 16],
    /// Send `protocol=1` in status messages and ACK peers' messages.
    pub flow_control: bool,
    /// Seed for ACK triggers and retransmission-request delays.
    pub rng_seed: u64,
    /// Peer UUIDs already known (e.g. from the host cache file).
    pub known_uuids: Vec<(String, [u8; 16])>,
    /// `ping` / `ping_group` nodes.
    pub ping_nodes: Vec<super::PingNodeParams>,
    /// Dead interval of ping nodes.
    pub deadping_ms: u64,
}

impl Default for CoreParams {
    /// Heartbeat's timing defaults (§6.5) for an otherwise empty cluster.
    fn default() -> Self {
        CoreParams {
            local_node: String::new(),
            nodes: Vec::new(),
            link_names: Vec::new(),
            keepalive_ms: 1000,
            deadtime_ms: 30_000,
            warntime_ms: 15_000,
            initdead_ms: 30_000,
            max_rexmit_delay_ms: 250,
            hopfudge: 1,
            generation: 0,
            uuid: [0; 16],
            flow_control: true,
            rng_seed: 0,
            known_uuids: Vec::new(),
            ping_nodes: Vec::new(),
            deadping_ms: 30_000,
        }
    }
}

/// A parameter set the core cannot work with.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ParamsError {
    EmptyNodeName,
    LocalNodeNotConfigured(String),
    DuplicateNode(String),
    ZeroInterval(&'static str),
    NoGeneration,
}

impl fmt::Display for ParamsError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ParamsError::EmptyNodeName => write!(f, "a node name is empty"),
            ParamsError::LocalNodeNotConfigured(n) => {
                write!(f, "local node {n} is not listed in the node lines of ha.cf")
            }
            ParamsError::DuplicateNode(n) => write!(f, "node {n} is listed twice"),
            ParamsError::ZeroInterval(what) => write!(f, "{what} must be greater than 0"),
            ParamsError::NoGeneration => write!(f, "generation (hg) must be greater than 0"),
        }
    }
}

impl std::error::Error for ParamsError {}

impl CoreParams {
    /// Reports the first problem; [`Core::new`](super::Core::new) repairs
    /// what it can (lower-cases, removes duplicates, adds the local node) so
    /// the daemon should call this first and refuse to start on an error.
    pub fn validate(&self) -> Result<(), ParamsError> {
        if self.local_node.is_empty() || self.nodes.iter().any(|n| n.is_empty()) {
            return Err(ParamsError::EmptyNodeName);
        }
        let local = self.local_node.to_ascii_lowercase();
        let lowered: Vec<String> = self.nodes.iter().map(|n| n.to_ascii_lowercase()).collect();
        if !lowered.contains(&local) {
            return Err(ParamsError::LocalNodeNotConfigured(local));
        }
        for (i, n) in lowered.iter().enumerate() {
            if lowered[..i].contains(n) {
                return Err(ParamsError::DuplicateNode(n.clone()));
            }
        }
        for (what, v) in [
            ("keepalive", self.keepalive_ms),
            ("deadtime", self.deadtime_ms),
            ("initdead", self.initdead_ms),
            ("max_rexmit_delay", self.max_rexmit_delay_ms),
        ] {
            if v == 0 {
                return Err(ParamsError::ZeroInterval(what));
            }
        }
        if self.generation == 0 {
            return Err(ParamsError::NoGeneration);
        }
        Ok(())
    }

    /// Lower-cased, de-duplicated copy with the local node guaranteed present
    /// and intervals at least 1 ms.
    pub(super) fn normalized(mut self) -> CoreParams {
        self.local_node = self.local_node.to_ascii_lowercase();
        let mut nodes: Vec<String> = Vec::with_capacity(self.nodes.len() + 1);
        for n in self.nodes.iter().map(|n| n.to_ascii_lowercase()) {
            if !n.is_empty() && !nodes.contains(&n) {
                nodes.push(n);
            }
        }
        if !nodes.contains(&self.local_node) {
            nodes.push(self.local_node.clone());
        }
        self.nodes = nodes;
        self.keepalive_ms = self.keepalive_ms.max(1);
        self.deadtime_ms = self.deadtime_ms.max(1);
        self.initdead_ms = self.initdead_ms.max(1);
        self.deadping_ms = self.deadping_ms.max(1);
        self.max_rexmit_delay_ms = self.max_rexmit_delay_ms.max(1);
        for (n, _) in self.known_uuids.iter_mut() {
            *n = n.to_ascii_lowercase();
        }
        self
    }

    /// The `ttl` control field: hopfudge plus the number of configured
    /// nodes, ping nodes included.
    pub(super) fn ttl(&self) -> u64 {
        u64::from(self.hopfudge) + self.nodes.len() as u64 + self.ping_nodes.len() as u64
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn good() -> CoreParams {
        CoreParams {
            local_node: "alpha".into(),
            nodes: vec!["alpha".into(), "bravo".into()],
            link_names: vec!["eth0".into()],
            generation: 7,
            ..CoreParams::default()
        }
    }

    #[test]
    fn validate_accepts_a_normal_pair() {
        assert_eq!(good().validate(), Ok(()));
    }

    #[test]
    fn validate_names_the_problem() {
        let mut p = good();
        p.nodes = vec!["bravo".into()];
        assert_eq!(
            p.validate(),
            Err(ParamsError::LocalNodeNotConfigured("alpha".into()))
        );
        let mut p = good();
        p.nodes.push("Bravo".into());
        assert_eq!(
            p.validate(),
            Err(ParamsError::DuplicateNode("bravo".into()))
        );
        let mut p = good();
        p.keepalive_ms = 0;
        assert_eq!(p.validate(), Err(ParamsError::ZeroInterval("keepalive")));
        let mut p = good();
        p.generation = 0;
        assert_eq!(p.validate(), Err(ParamsError::NoGeneration));
    }

    #[test]
    fn normalized_lowercases_dedups_and_adds_local() {
        let p = CoreParams {
            local_node: "Charlie".into(),
            nodes: vec!["Alpha".into(), "alpha".into(), "BRAVO".into()],
            ..good()
        }
        .normalized();
        assert_eq!(p.local_node, "charlie");
        assert_eq!(p.nodes, vec!["alpha", "bravo", "charlie"]);
        assert_eq!(p.ttl(), 4);
    }
}
