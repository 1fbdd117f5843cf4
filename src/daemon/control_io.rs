//! The admin surface as the poll loop sees it: the FIFO (open from start-up)
//! and the API socket (open from comm-up), answered from a snapshot of the
//! core and the resource layer.

use std::path::PathBuf;
use std::time::Instant;

use mio::{Registry, Token};

use crate::config::model::HaCf;
use crate::control::api::{ApiAction, ApiServer, MAX_CLIENTS};
use crate::control::auth::{self, ApiAuthz};
use crate::control::fifo::FifoReader;
use crate::control::from_core::{view_from_core, ViewContext};
use crate::control::notify::Notifier;
use crate::control::params::api_parameters;
use crate::control::view::{facility_number, GroupView};
use crate::core::resources::ResourceView;
use crate::core::{Core, Level};
use crate::wire::Message;

pub const FIFO_TOKEN: Token = Token(usize::MAX - 3);
const API_LISTEN_TOKEN: usize = usize::MAX - 10 - MAX_CLIENTS;

/// Something the loop must do on behalf of the admin surface.
pub enum ControlOut {
    /// Send to the cluster through `Core::send_cluster_msg`.
    Send(Message),
    Log(Level, String),
}

pub struct ControlIo {
    fifo: Option<FifoReader>,
    api: Option<ApiServer>,
    api_path: PathBuf,
    hacf: HaCf,
    resources: ResourceView,
    /// (group key, preferred node) in haresources order.
    groups: Vec<(String, String)>,
    manages_resources: bool,
    started: Instant,
    /// Counters kept by the loop (undecodable packets...), refreshed by it.
    pub extra_counters: Vec<(String, u64)>,
    /// Node and link changes for API clients (made at the first change).
    notifier: Option<Notifier>,
}

fn outs(actions: Vec<ApiAction>) -> Vec<ControlOut> {
    actions
        .into_iter()
        .map(|a| match a {
            ApiAction::SendCluster(m) => ControlOut::Send(m),
            ApiAction::Log { level, text } => ControlOut::Log(level, text),
        })
        .collect()
}

impl ControlIo {
    /// Opens the FIFO (a failure is logged; the daemon runs without it).
    pub fn new(
        fifo_path: PathBuf,
        api_path: PathBuf,
        hacf: HaCf,
        resources: ResourceView,
        groups: Vec<(String, String)>,
        manages_resources: bool,
    ) -> (ControlIo, Vec<(Level, String)>) {
        let mut notes = Vec::new();
        let fifo = match FifoReader::open(&fifo_path) {
            Ok(f) => Some(f),
            Err(e) => {
                notes.push((
                    Level::Error,
                    format!("cannot open FIFO {}: {e}", fifo_path.display()),
                ));
                None
            }
        };
        let io = ControlIo {
            fifo,
            api: None,
            api_path,
            hacf,
            resources,
            groups,
            manages_resources,
            started: Instant::now(),
            extra_counters: Vec::new(),
            notifier: None,
        };
        (io, notes)
    }

    pub fn register(&mut self, registry: &Registry) -> std::io::Result<()> {
        match &mut self.fifo {
            Some(fifo) => fifo.register(registry, FIFO_TOKEN),
            None => Ok(()),
        }
    }

    pub fn owns(&self, token: Token) -> bool {
        token == FIFO_TOKEN || self.api.as_ref().is_some_and(|a| a.owns(token))
    }

    /// Heartbeat opens the API socket only once communication is up.
    pub fn open_api(&mut self, registry: &Registry) -> Vec<ControlOut> {
        if self.api.is_some() {
            return Vec::new();
        }
        let mut out = Vec::new();
        let (authz, errors) =
            ApiAuthz::from_config(&self.hacf.apiauth, auth::system_user, auth::system_group);
        for e in errors {
            out.push(ControlOut::Log(Level::Warn, e));
        }
        match ApiServer::bind(&self.api_path, authz, API_LISTEN_TOKEN)
            .and_then(|mut api| api.register(registry).map(|()| api))
        {
            Ok(api) => self.api = Some(api),
            Err(e) => out.push(ControlOut::Log(
                Level::Error,
                format!("cannot open API socket {}: {e}", self.api_path.display()),
            )),
        }
        out
    }

    pub fn handle_event(
        &mut self,
        registry: &Registry,
        token: Token,
        core: &Core,
        debug_level: u32,
        now_ms: u64,
    ) -> Vec<ControlOut> {
        if token == FIFO_TOKEN {
            let Some(fifo) = &mut self.fifo else {
                return Vec::new();
            };
            let (msgs, logs) = fifo.read(registry);
            let mut out: Vec<ControlOut> = logs
                .into_iter()
                .map(|(l, t)| ControlOut::Log(l, t))
                .collect();
            out.extend(msgs.into_iter().map(ControlOut::Send));
            return out;
        }
        let view = view_from_core(core, &self.view_context(debug_level, now_ms));
        match &mut self.api {
            Some(api) => outs(api.handle_event(registry, token, &view, now_ms)),
            None => Vec::new(),
        }
    }

    /// A cluster message for local clients; answers client-status queries.
    pub fn deliver(
        &mut self,
        registry: &Registry,
        local_node: &str,
        msg: &Message,
        now_ms: u64,
    ) -> Vec<ControlOut> {
        let Some(api) = &mut self.api else {
            return Vec::new();
        };
        if msg.msg_type() == Some("query-cstatus") {
            if msg.get_str("dest") == Some(local_node) {
                return api
                    .answer_cstatus_query(msg)
                    .map(ControlOut::Send)
                    .into_iter()
                    .collect();
            }
            return Vec::new();
        }
        outs(api.deliver(registry, msg, now_ms))
    }

    /// A node's status changed: tell the API clients (see `notify`).
    pub fn node_event(
        &mut self,
        registry: &Registry,
        local_node: &str,
        node: &str,
        status: &str,
        now_ms: u64,
    ) -> Vec<ControlOut> {
        let ts = format!("{:x}", wall_secs());
        let msgs = self.notifier(local_node).node_status(node, status, &ts);
        self.deliver_all(registry, &msgs, now_ms)
    }

    /// A link went up or dead: tell the API clients.
    pub fn link_event(
        &mut self,
        registry: &Registry,
        local_node: &str,
        node: &str,
        ifname: &str,
        up: bool,
        now_ms: u64,
    ) -> Vec<ControlOut> {
        let msgs = self.notifier(local_node).link_status(node, ifname, up);
        self.deliver_all(registry, &msgs, now_ms)
    }

    fn notifier(&mut self, local_node: &str) -> &mut Notifier {
        let hacf = &self.hacf;
        self.notifier.get_or_insert_with(|| {
            let pings = hacf
                .ping_hosts
                .iter()
                .cloned()
                .chain(hacf.ping_groups.iter().map(|(name, _)| name.clone()));
            Notifier::new(local_node, pings)
        })
    }

    fn deliver_all(
        &mut self,
        registry: &Registry,
        msgs: &[Message],
        now_ms: u64,
    ) -> Vec<ControlOut> {
        let Some(api) = &mut self.api else {
            return Vec::new();
        };
        let mut out = Vec::new();
        for msg in msgs {
            out.extend(outs(api.deliver(registry, msg, now_ms)));
        }
        out
    }

    /// Monotonic ms of the next client time-out check.
    pub fn next_deadline(&self) -> Option<u64> {
        self.api.as_ref().and_then(|a| a.next_deadline())
    }

    pub fn sweep(&mut self, registry: &Registry, now_ms: u64) -> Vec<ControlOut> {
        match &mut self.api {
            Some(api) => outs(api.sweep(registry, now_ms)),
            None => Vec::new(),
        }
    }

    /// Removes the API socket file (shutdown).
    pub fn close(&mut self, registry: &Registry) {
        if let Some(api) = self.api.take() {
            api.close(registry);
        }
    }

    fn view_context(&self, debug_level: u32, now_ms: u64) -> ViewContext {
        let status = self.resources.status();
        let groups = status_groups(&self.resources, &self.groups);
        ViewContext {
            version: crate::HB_VERSION.to_string(),
            deadtime_ms: self.hacf.deadtime_ms,
            keepalive_ms: self.hacf.keepalive_ms,
            logfacility: facility_number(self.hacf.logfacility.as_deref()),
            params: api_parameters(&self.hacf, debug_level, "3.0.6"),
            rsc_hold: status.rsc_hold.to_string(),
            manages_resources: self.manages_resources,
            pid: std::process::id(),
            uptime_secs: self.started.elapsed().as_secs(),
            groups,
            extra_counters: self.extra_counters.clone(),
            now_ms,
        }
    }
}

/// Each haresources group with `running` or `stopped` as the resource layer
/// last recorded it.
fn status_groups(view: &ResourceView, groups: &[(String, String)]) -> Vec<GroupView> {
    let owned = view.status().owned_keys;
    groups
        .iter()
        .map(|(key, node)| GroupView {
            key: key.clone(),
            node: node.clone(),
            state: if owned.contains(key) {
                "running".into()
            } else {
                "stopped".into()
            },
        })
        .collect()
}

fn wall_secs() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}
