//! API request handling (heartbeat/hb_api.c), pure: a decoded request, the
//! client it came from and a [`ClusterView`] in, reply messages and cluster
//! messages out. Field order of every reply matches the real daemon's.

use super::auth::{ApiAuthz, Refusal};
use super::view::{ClusterView, NodeType, NodeView};
use crate::core::Level;
use crate::wire::{Message, FT_BINARY};

pub const T_APIREQ: &str = "hbapi-req";
pub const T_APIRESP: &str = "hbapi-resp";
pub const T_APICLISTAT: &str = "hbapi-clstat";
pub const T_QCSTATUS: &str = "query-cstatus";
pub const T_RCSTATUS: &str = "respond-cstatus";
pub const API_OK: &str = "OK";
pub const API_BADREQ: &str = "badreq";
pub const API_MORE: &str = "ok/more";
/// Our extension: the whole [`ClusterView`] in one reply (`cl_status --json`).
pub const API_XSTATUS: &str = "x-status";

/// Message filter bits (`setfilter`), hb_api_core.h.
pub(crate) const KEEPIT: u32 = 0x01;
const DEBUGTREATMENTS: u32 = 0x04 | 0x08 | 0x10 | 0x02 | 0x20;
const ALLTREATMENTS: u32 = DEBUGTREATMENTS | KEEPIT;

/// Credentials of the process at the other end of the socket (SO_PEERCRED).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PeerCred {
    pub pid: i32,
    pub uid: u32,
    pub gid: u32,
}

/// A signed-on client.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ClientInfo {
    /// The client id: its pid as text for casual clients, a service name
    /// (`ipfail`, ...) for named ones.
    pub client_id: String,
    pub pid: i32,
    pub casual: bool,
    pub uid: u32,
    pub gid: u32,
    /// Client generation (sign-on counter), sent as `client_gen`.
    pub generation: u64,
    /// `setfilter` mask (default: normal messages only).
    pub desired_types: u32,
    /// `setsignal` number (recorded; we never signal clients).
    pub signal: u32,
}

/// What handling one message produced.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Handled {
    /// Replies to the client, in order.
    pub replies: Vec<Message>,
    /// Messages to send to the cluster (`query-cstatus`, named clients'
    /// messages, `hbapi-clstat` join/leave).
    pub to_cluster: Vec<Message>,
    /// Disconnect the client after sending the replies (Heartbeat's
    /// `removereason`).
    pub close: Option<String>,
    pub logs: Vec<(Level, String)>,
}

impl Handled {
    fn log(&mut self, level: Level, text: String) {
        self.logs.push((level, text));
    }

    fn close(mut self, reason: &str) -> Handled {
        self.close = Some(reason.to_string());
        self
    }
}

/// C `atoi`/`strtol`: optional blanks and sign, then digits; the rest is
/// ignored. `None` when there are no digits (where `sscanf` would fail).
pub fn c_strtol(text: &str) -> Option<i64> {
    let t = text.trim_start();
    let (neg, digits) = match t.as_bytes().first() {
        Some(b'-') => (true, t.get(1..).unwrap_or("")),
        Some(b'+') => (false, t.get(1..).unwrap_or("")),
        _ => (false, t),
    };
    let end = digits.bytes().take_while(u8::is_ascii_digit).count();
    if end == 0 {
        return None;
    }
    let mut value: i64 = 0;
    for b in digits.bytes().take(end) {
        value = value.saturating_mul(10).saturating_add(i64::from(b - b'0'));
    }
    Some(if neg { -value } else { value })
}

fn atoi(text: Option<&str>) -> i64 {
    text.and_then(c_strtol).unwrap_or(0)
}

fn response(reqtype: &str) -> Message {
    let mut resp = Message::with_type(T_APIRESP);
    resp.push_str("reqtype", reqtype);
    resp
}

/// What the sign-on decided: the reply (if any) and the new client.
#[derive(Clone, Debug, PartialEq)]
pub struct SignonOutcome {
    pub handled: Handled,
    /// Set when the sign-on was accepted.
    pub client: Option<ClientInfo>,
}

/// The environment a sign-on is checked in.
pub struct SignonCtx<'a> {
    pub view: &'a ClusterView,
    pub authz: &'a ApiAuthz,
    pub peer: PeerCred,
    /// Generation number for this client.
    pub generation: u64,
    /// True if a signed-on client already uses this client id.
    pub id_taken: &'a dyn Fn(&str) -> bool,
    /// True if the process exists (`kill(pid, 0)`).
    pub pid_alive: &'a dyn Fn(i32) -> bool,
}

/// The first message of a connection (`api_process_registration_msg`).
pub fn handle_signon(msg: &Message, ctx: &SignonCtx<'_>) -> SignonOutcome {
    let mut h = Handled::default();
    let reqtype = msg.get_str("reqtype");
    if msg.msg_type() != Some(T_APIREQ) || reqtype != Some("signon") {
        h.log(
            Level::Error,
            "api_process_registration_msg: bad message".into(),
        );
        return SignonOutcome {
            handled: h.close("bad registration"),
            client: None,
        };
    }
    let fromid = msg.get_str("from_id");
    let cpid = msg.get_str("pid");
    if fromid.is_none() && cpid.is_none() {
        h.log(
            Level::Error,
            "api_process_registration_msg: no fromid in msg".into(),
        );
        return SignonOutcome {
            handled: h.close("no fromid"),
            client: None,
        };
    }
    let pid = i32::try_from(atoi(cpid)).unwrap_or(0);
    let result = admit(msg, ctx, fromid, pid);
    let mut resp = response("signon");
    if let Err(refusal) = &result {
        resp.push_str("info", refusal.reason());
        h.log(
            Level::Warn,
            format!(
                "Client [{}] pid {pid} failed authorization [{}]",
                fromid.unwrap_or(""),
                refusal.reason()
            ),
        );
    }
    resp.push_str("result", if result.is_ok() { API_OK } else { API_BADREQ });
    let view = ctx.view;
    resp.push_str("deadtime", &format!("{:x}", view.deadtime_ms));
    resp.push_str("keepalive", &format!("{:x}", view.keepalive_ms));
    resp.push_str("node", &view.local_node);
    resp.push_str("hbversion", &view.version);
    resp.push_str("pacemaker", view.param("pacemaker").unwrap_or("false"));
    resp.push_str("logfacility", &view.logfacility.to_string());
    h.replies.push(resp);
    match result {
        Ok(client) => {
            if !client.casual {
                h.to_cluster.push(client_status_msg(
                    &client,
                    &view.local_node,
                    "join",
                    Some("signon"),
                ));
            }
            SignonOutcome {
                handled: h,
                client: Some(client),
            }
        }
        Err(refusal) => SignonOutcome {
            handled: h.close(refusal.reason()),
            client: None,
        },
    }
}

/// `api_add_client`: the checks of a sign-on, in Heartbeat's order.
fn admit(
    msg: &Message,
    ctx: &SignonCtx<'_>,
    fromid: Option<&str>,
    pid: i32,
) -> Result<ClientInfo, Refusal> {
    if pid <= 0 || !(ctx.pid_alive)(pid) {
        return Err(Refusal::BadPid);
    }
    if fromid.is_some_and(|id| (ctx.id_taken)(id)) {
        return Err(Refusal::DuplicateClient);
    }
    // Client ids are at most 31 characters (`client_id[32]`).
    let client_id: String = match fromid {
        Some(id) => id.chars().take(31).collect(),
        None => pid.to_string(),
    };
    let casual = fromid.is_none() || atoi(Some(&client_id)) == i64::from(pid);
    let id = |name: &str| {
        msg.get_str(name)
            .and_then(c_strtol)
            .and_then(|v| u32::try_from(v).ok())
    };
    let (Some(uid), Some(gid)) = (id("uid"), id("gid")) else {
        return Err(Refusal::InvalidIds);
    };
    let peer = ctx.peer;
    ctx.authz.check(
        &client_id,
        casual,
        (uid, gid),
        (peer.uid, peer.gid),
        pid,
        peer.pid,
    )?;
    Ok(ClientInfo {
        client_id,
        pid,
        casual,
        uid,
        gid,
        generation: ctx.generation,
        desired_types: KEEPIT,
        signal: 0,
    })
}

/// `hbapi-clstat` for a named client joining or leaving.
pub fn client_status_msg(
    client: &ClientInfo,
    local: &str,
    status: &str,
    reason: Option<&str>,
) -> Message {
    let mut m = Message::with_type(T_APICLISTAT);
    m.push_str("st", status);
    m.push_str("from_id", &client.client_id);
    m.push_str("to_id", &client.client_id);
    m.push_str("src", local);
    if let Some(reason) = reason {
        m.push_str("info", reason);
    }
    m.push_str("client_gen", &client.generation.to_string());
    m
}

/// The environment of a request from a signed-on client.
pub struct RequestCtx<'a> {
    pub view: &'a ClusterView,
    /// True if a client with this id is signed on locally.
    pub client_online: &'a dyn Fn(&str) -> bool,
    /// The daemon's own uid (may enable debug filters besides root).
    pub daemon_uid: u32,
}

enum Outcome {
    /// Reply with the response plus `result=OK`.
    Ret,
    /// Replies (if any) were already produced.
    Ignore,
    /// `result=badreq` and `info=<reason>` if given.
    BadReq(Option<&'static str>),
}

/// Any later message of a signed-on client (`api_process_request`).
pub fn handle_request(msg: &Message, client: &mut ClientInfo, ctx: &RequestCtx<'_>) -> Handled {
    let mut h = Handled::default();
    let Some(msgtype) = msg.msg_type() else {
        h.log(Level::Error, "api_process_request: bad message type".into());
        return h;
    };
    if msgtype != T_APIREQ {
        return forward_to_cluster(msg, client, h);
    }
    let fromid = msg.get_str("from_id");
    let cpid = msg.get_str("pid");
    let Some(reqtype) = msg.get_str("reqtype") else {
        h.log(
            Level::Error,
            "api_process_request: no fromid/pid/reqtype in message.".into(),
        );
        return h;
    };
    if fromid.is_none() && cpid.is_none() {
        h.log(
            Level::Error,
            "api_process_request: no fromid/pid/reqtype in message.".into(),
        );
        return h;
    }
    let same_client = fromid == Some(client.client_id.as_str())
        || cpid.is_some_and(|p| atoi(Some(p)) == i64::from(client.pid));
    if !same_client {
        h.log(Level::Error, "Client mismatch! (impersonation?)".into());
        return h;
    }
    let mut resp = response(reqtype);
    let outcome = dispatch(reqtype, msg, &mut resp, client, ctx, &mut h);
    match outcome {
        Outcome::Ret => {
            resp.set_str("result", API_OK);
            h.replies.push(resp);
        }
        Outcome::Ignore => {}
        Outcome::BadReq(reason) => {
            h.log(
                Level::Error,
                format!("api_process_request: bad request [{reqtype}]"),
            );
            resp.push_str("result", API_BADREQ);
            if let Some(reason) = reason {
                resp.push_str("info", reason);
            }
            h.replies.push(resp);
        }
    }
    h
}

/// A named client's message for its peers on other nodes; casual clients
/// may not send any (`badclient`).
fn forward_to_cluster(msg: &Message, client: &ClientInfo, mut h: Handled) -> Handled {
    if client.casual {
        h.log(
            Level::Info,
            "api_process_request: general message from casual client!".into(),
        );
        return h.close("badclient");
    }
    let mut out = msg.clone();
    out.set_str("from_id", &client.client_id);
    out.set_str("to_id", &client.client_id);
    out.set_str("client_gen", &client.generation.to_string());
    h.to_cluster.push(out);
    h
}

fn dispatch(
    reqtype: &str,
    msg: &Message,
    resp: &mut Message,
    client: &mut ClientInfo,
    ctx: &RequestCtx<'_>,
    h: &mut Handled,
) -> Outcome {
    let view = ctx.view;
    let node = || msg.get_str("node").and_then(|n| view.node(n));
    match reqtype {
        "signoff" => {
            h.close = Some("signoff".into());
            Outcome::Ignore
        }
        "setfilter" => setfilter(msg, client, ctx.daemon_uid),
        "setsignal" => setsignal(msg, client),
        "nodelist" => {
            let count = view.nodes.len();
            for (i, n) in view.nodes.iter().enumerate() {
                resp.set_str("node", &n.name);
                resp.set_str("nodetype", n.nodetype.as_str());
                resp.set_str("st", &n.status);
                resp.set_str("result", if i + 1 == count { API_OK } else { API_MORE });
                h.replies.push(resp.clone());
            }
            Outcome::Ignore
        }
        "nodestatus" => with_node(node(), |n| {
            resp.set_str("st", &n.status);
        }),
        "nodeweight" => with_node(node(), |n| {
            resp.push_str("weight", &n.weight.to_string());
        }),
        "nodesite" => with_node(node(), |n| {
            resp.push_str("site", &n.site);
        }),
        "nodetype" => with_node(node(), |n| {
            resp.set_str("nodetype", n.nodetype.as_str());
        }),
        "iflist" => match node() {
            None => Outcome::BadReq(Some("EINVAL")),
            Some(n) => iflist(n, resp, h),
        },
        "ifstatus" => {
            let link = node().and_then(|n| msg.get_str("ifname").and_then(|i| n.link(i)));
            match link {
                Some(l) => {
                    resp.set_str("st", &l.status);
                    Outcome::Ret
                }
                None => Outcome::BadReq(Some("EINVAL")),
            }
        }
        "clientstatus" => clientstatus(msg, resp, ctx, h),
        "numnodes" => {
            let normal = view
                .nodes
                .iter()
                .filter(|n| n.nodetype == NodeType::Normal)
                .count();
            resp.push_str("numnodes", &normal.to_string());
            Outcome::Ret
        }
        "getparm" => {
            let Some(mut pname) = msg.get_str("pname") else {
                return Outcome::BadReq(Some("EINVAL"));
            };
            // `crm` is the deprecated alias of `pacemaker`.
            if pname == "crm" {
                pname = "pacemaker";
            }
            if let Some(value) = view.param(pname) {
                resp.set_str("pvalue", value);
            }
            Outcome::Ret
        }
        "getrsc" => {
            if !view.manages_resources {
                return Outcome::BadReq(Some(
                    "Resource is managed by crm. Use crm tool to query resource",
                ));
            }
            resp.set_str("rsc_hold", &view.rsc_hold);
            Outcome::Ret
        }
        "getuuid" => {
            let Some(name) = msg.get_str("queryname") else {
                return Outcome::BadReq(Some("no query node name found"));
            };
            if let Some(uuid) = view.node(name).and_then(|n| n.uuid) {
                resp.set("queryuuid", FT_BINARY, uuid.to_vec());
            }
            Outcome::Ret
        }
        "getnodename" => {
            let Some(uuid) = msg.get("queryuuid").filter(|u| u.len() == 16) else {
                return Outcome::BadReq(Some("no query node name found"));
            };
            if let Some(n) = view
                .nodes
                .iter()
                .find(|n| n.uuid.is_some_and(|u| u == uuid))
            {
                resp.set_str("queryname", &n.name);
            }
            Outcome::Ret
        }
        "set_sendqlen" => {
            let len = msg.get_str("sendqlen").and_then(c_strtol).unwrap_or(0);
            if len > 0 {
                h.log(
                    Level::Info,
                    format!(
                        "the send queue length from heartbeat to client {} is set to {len}",
                        client.client_id
                    ),
                );
            }
            Outcome::Ignore
        }
        API_XSTATUS => {
            super::snapshot::add_view_fields(resp, view);
            Outcome::Ret
        }
        _ => {
            h.log(Level::Error, "Unknown API request".into());
            Outcome::BadReq(None)
        }
    }
}

fn with_node(node: Option<&NodeView>, fill: impl FnOnce(&NodeView)) -> Outcome {
    match node {
        Some(n) => {
            fill(n);
            Outcome::Ret
        }
        None => Outcome::BadReq(Some("EINVAL")),
    }
}

fn setfilter(msg: &Message, client: &mut ClientInfo, daemon_uid: u32) -> Outcome {
    let mask = msg
        .get_str("fmask")
        .and_then(|m| u32::from_str_radix(m.trim(), 16).ok());
    let Some(mask) = mask.filter(|m| m & ALLTREATMENTS != 0) else {
        return Outcome::BadReq(Some("EINVAL"));
    };
    let wants_debug = mask & DEBUGTREATMENTS != 0 && client.desired_types & DEBUGTREATMENTS == 0;
    if wants_debug && client.uid != 0 && client.uid != daemon_uid {
        return Outcome::BadReq(Some("EPERM"));
    }
    client.desired_types = mask;
    Outcome::Ret
}

fn setsignal(msg: &Message, client: &mut ClientInfo) -> Outcome {
    let Some(sig) = msg
        .get_str("signal")
        .and_then(c_strtol)
        .and_then(|s| u32::try_from(s).ok())
    else {
        return Outcome::BadReq(None);
    };
    if sig == 9 || sig == 19 || sig >= 32 {
        return Outcome::BadReq(Some("EINVAL"));
    }
    client.signal = sig;
    Outcome::Ret
}

fn iflist(node: &NodeView, resp: &mut Message, h: &mut Handled) -> Outcome {
    if node.nodetype == NodeType::Ping {
        return match node.links.iter().find(|l| l.name == node.name) {
            Some(l) => {
                resp.set_str("ifname", &l.name);
                resp.set_str("st", &l.status);
                resp.set_str("result", API_OK);
                Outcome::Ret
            }
            None => Outcome::BadReq(Some("UhOh")),
        };
    }
    if node.links.is_empty() {
        return Outcome::BadReq(Some("EINVAL"));
    }
    let count = node.links.len();
    for (i, link) in node.links.iter().enumerate() {
        resp.set_str("ifname", &link.name);
        resp.set_str("st", &link.status);
        resp.set_str("result", if i + 1 == count { API_OK } else { API_MORE });
        h.replies.push(resp.clone());
    }
    Outcome::Ignore
}

/// Local node or a peer that is not active: answered at once. Otherwise a
/// `query-cstatus` goes to the node, whose `respond-cstatus` (carrying our
/// `to_id`) is delivered to the client later.
fn clientstatus(
    msg: &Message,
    resp: &mut Message,
    ctx: &RequestCtx<'_>,
    h: &mut Handled,
) -> Outcome {
    let (Some(node), Some(cname), Some(fromid)) = (
        msg.get_str("node"),
        msg.get_str("cn"),
        msg.get_str("from_id"),
    ) else {
        return Outcome::BadReq(Some("EINVAL"));
    };
    let Some(target) = ctx.view.node(node) else {
        return Outcome::BadReq(Some("EINVAL"));
    };
    resp.push_str("subt", T_RCSTATUS);
    if node == ctx.view.local_node {
        let online = (ctx.client_online)(cname);
        resp.push_str("cs", if online { "online" } else { "offline" });
        return Outcome::Ret;
    }
    if target.status != "active" {
        resp.push_str("cs", "offline");
        return Outcome::Ret;
    }
    let mut query = Message::with_type(T_QCSTATUS);
    query.push_str("dest", node);
    query.push_str("cn", cname);
    query.push_str("from_id", fromid);
    h.to_cluster.push(query);
    Outcome::Ignore
}

/// The answer to a peer's `query-cstatus` (heartbeat.c `HBDoMsg_T_QCSTATUS`),
/// or `None` when the query lacks `cn`, `from_id` or `src`.
pub fn answer_cstatus_query(
    query: &Message,
    client_online: &dyn Fn(&str) -> bool,
) -> Option<Message> {
    let cname = query.get_str("cn")?;
    let fromid = query.get_str("from_id")?;
    let from_node = query.get_str("src")?;
    let mut m = Message::with_type(T_RCSTATUS);
    m.push_str("dest", from_node);
    m.push_str("result", API_OK);
    m.push_str("cn", cname);
    m.push_str("to_id", fromid);
    m.push_str(
        "cs",
        if client_online(cname) {
            "online"
        } else {
            "offline"
        },
    );
    Some(m)
}

#[cfg(test)]
#[path = "requests_tests.rs"]
mod tests;
