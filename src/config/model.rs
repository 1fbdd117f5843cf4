//! The parsed, validated configuration: what the rest of the daemon reads.
//! Plain data, no I/O. Times are milliseconds.

use std::path::PathBuf;

/// Where a value came from, for messages that point back at the config.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct Origin {
    pub file: PathBuf,
    pub line: usize,
}

/// One communication medium line of ha.cf (one per interface / device).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Medium {
    /// `bcast IF`: broadcast on IF's broadcast address, to `port`.
    Bcast { iface: String, port: u16 },
    /// `mcast DEV GROUP PORT TTL LOOP`.
    Mcast {
        iface: String,
        group: std::net::Ipv4Addr,
        port: u16,
        ttl: u8,
        loopback: bool,
    },
    /// `ucast DEV PEER` (PEER kept as written; resolved when the medium opens).
    Ucast {
        iface: String,
        peer: String,
        port: u16,
    },
    /// `serial DEV` at the `baud` in force when the line was read.
    Serial { device: PathBuf, baud: u32 },
}

impl Medium {
    /// The local link name Heartbeat shows for this medium (interface or tty).
    pub fn link_name(&self) -> String {
        match self {
            Medium::Bcast { iface, .. }
            | Medium::Mcast { iface, .. }
            | Medium::Ucast { iface, .. } => iface.clone(),
            Medium::Serial { device, .. } => device.display().to_string(),
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MediumLine {
    pub medium: Medium,
    pub origin: Origin,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum AutoFailback {
    On,
    Off,
    /// Heartbeat's default: no nice_failback, `ip-request` protocol.
    #[default]
    Legacy,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum GenMethod {
    #[default]
    File,
    Time,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum MsgFmt {
    /// Default: UDP packets also carry the inner classic `auth` field.
    #[default]
    Classic,
    Netstring,
}

/// `autojoin none|other|any` (only `none` works with haresources).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum AutoJoin {
    #[default]
    None,
    Other,
    Any,
}

/// `uuidfrom file|nodename`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum UuidFrom {
    #[default]
    File,
    Nodename,
}

/// A medium Heartbeat accepts but heartbeat-rs does not open
/// (`mcast6`, `ucast6`, `ping6`): kept so nothing is silently lost.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UnsupportedMedium {
    pub directive: String,
    /// The whitespace-separated arguments as written.
    pub args: Vec<String>,
    pub origin: Origin,
}

/// `respawn`/`failfast USER /abs/cmd args`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ClientLine {
    pub user: String,
    pub command: String,
    pub failfast: bool,
    pub origin: Origin,
}

/// `apiauth CLIENT uid=… gid=…`.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct ApiAuth {
    pub client: String,
    pub uids: Vec<String>,
    pub gids: Vec<String>,
}

/// Everything ha.cf says, with Heartbeat's defaults and derived values applied.
#[derive(Clone, Debug, PartialEq)]
pub struct HaCf {
    /// Configured node names, lower-cased, in file order.
    pub nodes: Vec<String>,
    pub keepalive_ms: u64,
    pub deadtime_ms: u64,
    pub warntime_ms: u64,
    pub initdead_ms: u64,
    pub deadping_ms: u64,
    pub udpport: u16,
    pub baud: u32,
    pub media: Vec<MediumLine>,
    /// `ping HOST` lines (each host its own ping node).
    pub ping_hosts: Vec<String>,
    /// `ping_group NAME HOST…`.
    pub ping_groups: Vec<(String, Vec<String>)>,
    /// Every node, ping host and ping group name in the order ha.cf defines
    /// them (Heartbeat's node table order: API `nodelist`, `cl_status`).
    pub node_order: Vec<String>,
    pub auto_failback: AutoFailback,
    /// True when auto_failback was never set (the risky `legacy` default).
    pub auto_failback_defaulted: bool,
    pub hopfudge: u32,
    pub hbgenmethod: GenMethod,
    pub msgfmt: MsgFmt,
    pub max_rexmit_delay_ms: u64,
    pub logfile: Option<PathBuf>,
    pub debugfile: Option<PathBuf>,
    /// `logfacility` name (`none` = no syslog).
    pub logfacility: Option<String>,
    pub syslogmsgfmt: bool,
    pub debug: u32,
    pub realtime: bool,
    pub memreserve_kib: u64,
    pub watchdog: Option<PathBuf>,
    pub respawn: Vec<ClientLine>,
    /// `selffence CMD ARGS…` (our extension): `None` = Heartbeat's
    /// `reboot -nf`; an empty list = run nothing.
    pub self_fence: Option<Vec<String>>,
    pub apiauth: Vec<ApiAuth>,
    /// `env NAME=VALUE` (exported to children as `HA_NAME`).
    pub env: Vec<(String, String)>,
    pub stonith: Vec<String>,
    pub stonith_host: Vec<String>,
    /// `mcast6`, `ucast6`, `ping6` lines (accepted, not opened).
    pub unsupported_media: Vec<UnsupportedMedium>,
    /// `cluster NAME` (not on the wire in v1).
    pub cluster: String,
    pub autojoin: AutoJoin,
    pub uuidfrom: UuidFrom,
    /// `rtprio N` (SCHED_RR priority), when set.
    pub rtprio: Option<i32>,
    pub coredumps: bool,
    pub coreroot: Option<PathBuf>,
    pub log_badpack: bool,
    /// True when logging goes to `ha_logd` (`use_logd yes`, or implied when
    /// no logfile, debugfile or logfacility is configured).
    pub use_logd: bool,
    pub conn_logd_time_ms: u64,
    /// `compression` module name (`zlib` or `bz2`).
    pub compression: String,
    pub compression_threshold_kib: u32,
    pub traditional_compression: bool,
    /// Every directive's raw text as written (last wins), for API `getparm`,
    /// plus the defaults and derived values Heartbeat records (e.g.
    /// `warntime` = `"15000ms"` when derived).
    pub raw: Vec<(String, String)>,
}

impl HaCf {
    /// The value API `getparm NAME` returns, if any.
    pub fn param(&self, name: &str) -> Option<&str> {
        self.raw
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    /// Number of nodes Heartbeat counts for the `ttl` field: normal nodes,
    /// ping hosts and ping groups.
    pub fn node_count_with_ping(&self) -> usize {
        self.nodes.len() + self.ping_hosts.len() + self.ping_groups.len()
    }
}

impl Default for HaCf {
    fn default() -> Self {
        HaCf {
            nodes: Vec::new(),
            keepalive_ms: 1000,
            deadtime_ms: 30000,
            warntime_ms: 15000,
            initdead_ms: 30000,
            deadping_ms: 30000,
            udpport: 694,
            baud: 19200,
            media: Vec::new(),
            ping_hosts: Vec::new(),
            ping_groups: Vec::new(),
            node_order: Vec::new(),
            auto_failback: AutoFailback::Legacy,
            auto_failback_defaulted: true,
            hopfudge: 1,
            hbgenmethod: GenMethod::File,
            msgfmt: MsgFmt::Classic,
            max_rexmit_delay_ms: 250,
            logfile: None,
            debugfile: None,
            logfacility: None,
            syslogmsgfmt: true,
            debug: 0,
            realtime: true,
            memreserve_kib: 6500,
            watchdog: None,
            respawn: Vec::new(),
            self_fence: None,
            apiauth: Vec::new(),
            env: Vec::new(),
            stonith: Vec::new(),
            stonith_host: Vec::new(),
            unsupported_media: Vec::new(),
            cluster: "linux-ha".to_string(),
            autojoin: AutoJoin::None,
            uuidfrom: UuidFrom::File,
            rtprio: None,
            coredumps: true,
            coreroot: None,
            log_badpack: true,
            use_logd: false,
            conn_logd_time_ms: 60000,
            compression: "zlib".to_string(),
            compression_threshold_kib: 2,
            traditional_compression: false,
            raw: Vec::new(),
        }
    }
}

/// One haresources resource: `SCRIPT::ARG::ARG` (IP shorthand expanded).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Resource {
    /// The token as written (group keys are sent exactly like this).
    pub spec: String,
    pub script: String,
    pub args: Vec<String>,
}

/// One logical haresources line.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ResourceGroup {
    /// Preferred owner, lower-cased.
    pub node: String,
    /// First resource as written: the group id in every message.
    pub key: String,
    pub resources: Vec<Resource>,
    pub origin: Origin,
}
