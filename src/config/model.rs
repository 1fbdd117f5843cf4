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
    pub apiauth: Vec<ApiAuth>,
    /// `env NAME=VALUE` (exported to children as `HA_NAME`).
    pub env: Vec<(String, String)>,
    pub stonith: Vec<String>,
    pub stonith_host: Vec<String>,
    /// Every directive's raw text as written (last wins), for API `getparm`.
    pub raw: Vec<(String, String)>,
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
            apiauth: Vec::new(),
            env: Vec::new(),
            stonith: Vec::new(),
            stonith_host: Vec::new(),
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
