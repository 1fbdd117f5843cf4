//! A Heartbeat API client (what lib/hbclient's `ll_cluster_t` does for
//! `cl_status`): sign on as a casual client, ask, sign off. Works against
//! our daemon and a real Heartbeat 3.0.6.

use std::collections::VecDeque;
use std::io::{self, Read, Write};
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use super::framing::{frame_message, parse_body, FrameDecoder};
use super::requests::{c_strtol, API_MORE, API_OK, API_XSTATUS, T_APIREQ, T_APIRESP, T_RCSTATUS};
use crate::wire::Message;

/// Debian's `API_REGSOCK`.
pub const DEFAULT_SOCKET: &str = "/run/heartbeat/register";
/// Overrides the socket path (our extension; the C client has no such knob).
pub const SOCKET_ENV: &str = "HA_API_SOCKET";

/// The socket to use: `$HA_API_SOCKET` or [`DEFAULT_SOCKET`].
pub fn socket_path() -> PathBuf {
    std::env::var_os(SOCKET_ENV)
        .filter(|p| !p.is_empty())
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(DEFAULT_SOCKET))
}

/// What the sign-on reply told us.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SignonInfo {
    pub deadtime_ms: u64,
    pub keepalive_ms: u64,
    pub node: String,
    pub logfacility: i32,
    pub hbversion: Option<String>,
    pub pacemaker: Option<String>,
}

/// A failed sign-on: `deadtime_ms` is non-zero when the daemon answered
/// (and refused), zero when nothing usable came back.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SignonError {
    pub deadtime_ms: u64,
    /// The client library's error text (`errmsg`).
    pub reason: String,
}

/// One `nodelist` entry (status and type are absent before 3.0.6).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NodeEntry {
    pub name: String,
    pub status: Option<String>,
    pub nodetype: Option<String>,
}

/// One `iflist` entry.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct IfEntry {
    pub name: String,
    pub status: Option<String>,
}

pub struct ApiClient {
    stream: UnixStream,
    decoder: FrameDecoder,
    pid: String,
    node: String,
    pub info: SignonInfo,
    /// Messages that were not the reply being waited for.
    queued: VecDeque<Message>,
    errlog: String,
}

fn uname_node() -> String {
    nix::sys::utsname::uname()
        .map(|u| u.nodename().to_string_lossy().to_lowercase())
        .unwrap_or_default()
}

impl ApiClient {
    /// Connects to `path` and signs on as a casual client with our
    /// effective uid and gid.
    pub fn signon(path: &Path) -> Result<ApiClient, SignonError> {
        let fail = |deadtime_ms, reason: &str| SignonError {
            deadtime_ms,
            reason: reason.to_string(),
        };
        let stream = UnixStream::connect(path)
            .map_err(|_| fail(0, "hb_api_signon: Can't initiate connection to heartbeat"))?;
        let pid = std::process::id().to_string();
        let mut client = ApiClient {
            stream,
            decoder: FrameDecoder::new(),
            node: uname_node(),
            pid,
            info: SignonInfo::default(),
            queued: VecDeque::new(),
            errlog: String::new(),
        };
        let mut req = client.boilerplate("signon");
        req.push_str("uid", &nix::unistd::geteuid().as_raw().to_string());
        req.push_str("gid", &nix::unistd::getegid().as_raw().to_string());
        if let Err(e) = client.send(&req) {
            return Err(fail(0, &format!("can't send message to IPC: {e}")));
        }
        let Some(reply) = client.read_api_msg() else {
            return Err(fail(0, ""));
        };
        let Some(result) = reply.get_str("result") else {
            return Err(fail(0, ""));
        };
        let refused = result != API_OK;
        if refused {
            if let Some(reason) = reply.get_str("info") {
                client.log(reason);
            }
        }
        let hex = |name| {
            reply
                .get_str(name)
                .and_then(|v| u64::from_str_radix(v.trim(), 16).ok())
        };
        let Some(deadtime_ms) = hex("deadtime") else {
            client.log("hb_api_signon: Can't get deadtime ");
            return Err(fail(0, &client.errlog));
        };
        let Some(keepalive_ms) = hex("keepalive") else {
            client.log("hb_api_signon: Can't get keepalive time ");
            return Err(fail(0, &client.errlog));
        };
        let Some(node) = reply.get_str("node") else {
            client.log("hb_api_signon: Can't get local node name");
            return Err(fail(0, &client.errlog));
        };
        client.node = node.to_string();
        client.info = SignonInfo {
            deadtime_ms,
            keepalive_ms,
            node: node.to_string(),
            logfacility: reply
                .get_str("logfacility")
                .and_then(c_strtol)
                .and_then(|v| i32::try_from(v).ok())
                .unwrap_or(-1),
            hbversion: reply.get_str("hbversion").map(String::from),
            pacemaker: reply.get_str("pacemaker").map(String::from),
        };
        if refused {
            return Err(fail(deadtime_ms, &client.errlog));
        }
        Ok(client)
    }

    /// The library's error buffer: what went wrong in the last call.
    pub fn errmsg(&self) -> &str {
        &self.errlog
    }

    fn log(&mut self, text: &str) {
        if !self.errlog.is_empty() && !self.errlog.ends_with('\n') {
            self.errlog.push('\n');
        }
        self.errlog.push_str(text);
    }

    fn clear_log(&mut self) {
        self.errlog.clear();
    }

    fn boilerplate(&self, reqtype: &str) -> Message {
        let mut m = Message::with_type(T_APIREQ);
        m.push_str("reqtype", reqtype);
        m.push_str("dest", &self.node);
        m.push_str("pid", &self.pid);
        m.push_str("from_id", &self.pid);
        m
    }

    fn send(&mut self, msg: &Message) -> io::Result<()> {
        self.stream.write_all(&frame_message(msg))
    }

    /// Next message from the daemon; `Ok(None)` on EOF or when `deadline`
    /// passes.
    fn read_msg(&mut self, deadline: Option<Instant>) -> io::Result<Option<Message>> {
        let mut buf = [0u8; 8192];
        loop {
            match self.decoder.next_frame() {
                Ok(Some(body)) => match parse_body(&body) {
                    Ok(msg) => return Ok(Some(msg)),
                    Err(e) => {
                        self.log(&format!(
                            "read_api_msg: Cannot read reply from IPC channel: {e}"
                        ));
                        continue;
                    }
                },
                Ok(None) => {}
                Err(e) => {
                    return Err(io::Error::new(io::ErrorKind::InvalidData, e.to_string()));
                }
            }
            let timeout = match deadline {
                None => None,
                Some(d) => match d.checked_duration_since(Instant::now()) {
                    Some(left) if !left.is_zero() => Some(left),
                    _ => return Ok(None),
                },
            };
            self.stream.set_read_timeout(timeout)?;
            let room = self.decoder.room().min(buf.len());
            let n = match self.stream.read(buf.get_mut(..room).unwrap_or_default()) {
                Ok(0) => return Ok(None),
                Ok(n) => n,
                Err(e)
                    if matches!(
                        e.kind(),
                        io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
                    ) =>
                {
                    return Ok(None)
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(e),
            };
            self.decoder.push(buf.get(..n).unwrap_or_default());
        }
    }

    /// `read_api_msg`: the next API reply; other messages are queued.
    fn read_api_msg(&mut self) -> Option<Message> {
        loop {
            match self.read_msg(None) {
                Ok(Some(msg)) if msg.msg_type() == Some(T_APIRESP) => return Some(msg),
                Ok(Some(msg)) => self.queued.push_back(msg),
                Ok(None) => return None,
                Err(e) => {
                    self.log(&format!(
                        "read_api_msg: Cannot read reply from IPC channel: {e}"
                    ));
                    return None;
                }
            }
        }
    }

    /// Sends a request and returns its (single) reply.
    fn call(&mut self, req: &Message) -> Option<Message> {
        if let Err(e) = self.send(req) {
            self.log(&format!("Can't send message to IPC Channel: {e}"));
            return None;
        }
        self.read_api_msg()
    }

    fn simple(&mut self, reqtype: &str, fields: &[(&str, &str)], want: &str) -> Option<String> {
        self.clear_log();
        let mut req = self.boilerplate(reqtype);
        for (name, value) in fields {
            req.push_str(name, value);
        }
        let reply = self.call(&req)?;
        if reply.get_str("result") != Some(API_OK) {
            return None;
        }
        reply.get_str(want).map(String::from)
    }

    /// Collects `ok/more` … `OK` replies; `None` on anything else.
    fn walk(&mut self, req: &Message, log_reason: bool) -> Option<Vec<Message>> {
        if let Err(e) = self.send(req) {
            self.log(&format!("Can't send message to IPC Channel: {e}"));
            return None;
        }
        let mut out = Vec::new();
        loop {
            let reply = self.read_api_msg()?;
            match reply.get_str("result") {
                Some(API_OK) => {
                    out.push(reply);
                    return Some(out);
                }
                Some(API_MORE) => out.push(reply),
                _ => {
                    if log_reason {
                        if let Some(reason) = reply.get_str("info") {
                            let reason = reason.to_string();
                            self.log(&reason);
                        }
                    }
                    return None;
                }
            }
        }
    }

    /// Every node, in the daemon's order.
    pub fn nodelist(&mut self) -> Option<Vec<NodeEntry>> {
        self.clear_log();
        let req = self.boilerplate("nodelist");
        let replies = self.walk(&req, false)?;
        replies
            .iter()
            .map(|r| {
                Some(NodeEntry {
                    name: r.get_str("node")?.to_string(),
                    status: r.get_str("st").map(String::from),
                    nodetype: r.get_str("nodetype").map(String::from),
                })
            })
            .collect()
    }

    /// The links of `node`, in the daemon's order (duplicates dropped).
    pub fn iflist(&mut self, node: &str) -> Option<Vec<IfEntry>> {
        self.clear_log();
        let mut req = self.boilerplate("iflist");
        req.push_str("node", node);
        let replies = self.walk(&req, true)?;
        let mut out: Vec<IfEntry> = Vec::new();
        for r in &replies {
            let name = r.get_str("ifname")?.to_string();
            if out.iter().all(|e| e.name != name) {
                out.push(IfEntry {
                    name,
                    status: r.get_str("st").map(String::from),
                });
            }
        }
        Some(out)
    }

    pub fn node_status(&mut self, node: &str) -> Option<String> {
        self.simple("nodestatus", &[("node", node)], "st")
    }

    pub fn node_type(&mut self, node: &str) -> Option<String> {
        self.simple("nodetype", &[("node", node)], "nodetype")
    }

    /// The weight, or -1 like the C library.
    pub fn node_weight(&mut self, node: &str) -> i64 {
        self.simple("nodeweight", &[("node", node)], "weight")
            .and_then(|w| c_strtol(&w).or(Some(0)))
            .unwrap_or(-1)
    }

    pub fn node_site(&mut self, node: &str) -> Option<String> {
        self.simple("nodesite", &[("node", node)], "site")
    }

    pub fn if_status(&mut self, node: &str, ifname: &str) -> Option<String> {
        self.simple("ifstatus", &[("node", node), ("ifname", ifname)], "st")
    }

    /// A parameter; `hbversion` and `pacemaker` come from the sign-on reply.
    pub fn get_parameter(&mut self, name: &str) -> Option<String> {
        self.clear_log();
        match name {
            "hbversion" if self.info.hbversion.is_some() => return self.info.hbversion.clone(),
            "pacemaker" if self.info.pacemaker.is_some() => return self.info.pacemaker.clone(),
            _ => {}
        }
        self.simple("getparm", &[("pname", name)], "pvalue")
    }

    pub fn get_resources(&mut self) -> Option<String> {
        self.clear_log();
        let req = self.boilerplate("getrsc");
        let reply = self.call(&req)?;
        if reply.get_str("result") == Some(API_OK) {
            if let Some(held) = reply.get_str("rsc_hold") {
                return Some(held.chars().take(63).collect());
            }
        }
        if let Some(reason) = reply.get_str("info") {
            let reason = reason.to_string();
            self.log(&reason);
        }
        None
    }

    /// `online`/`offline`/`join`/`leave` of client `cname` on `node`,
    /// waiting at most `timeout_ms` for the answer.
    pub fn client_status(&mut self, node: &str, cname: &str, timeout_ms: i64) -> Option<String> {
        self.clear_log();
        if node.is_empty() {
            self.log("client status : bad nodename");
            return None;
        }
        let mut req = self.boilerplate("clientstatus");
        req.push_str("node", node);
        req.push_str("cn", cname);
        if let Err(e) = self.send(&req) {
            self.log(&format!("Can't send message to IPC Channel: {e}"));
            return None;
        }
        // poll(2) with a negative timeout waits forever.
        let deadline = u64::try_from(timeout_ms)
            .ok()
            .map(|ms| Instant::now() + Duration::from_millis(ms));
        loop {
            let msg = match self.read_msg(deadline) {
                Ok(Some(msg)) => msg,
                Ok(None) | Err(_) => {
                    self.log("No timely response.");
                    return None;
                }
            };
            let is_answer =
                msg.msg_type() == Some(T_RCSTATUS) || msg.get_str("subt") == Some(T_RCSTATUS);
            if !is_answer {
                self.queued.push_back(msg);
                continue;
            }
            if msg.get_str("result") == Some(API_OK) {
                if let Some(cs) = msg.get_str("cs") {
                    return Some(cs.chars().take(127).collect());
                }
            }
            self.log("received wrong type of msg");
            return None;
        }
    }

    /// Our `x-status` snapshot request; the reply as is (a real Heartbeat
    /// answers `result=badreq`).
    pub fn x_status(&mut self) -> Option<Message> {
        self.clear_log();
        let req = self.boilerplate(API_XSTATUS);
        self.call(&req)
    }

    /// Signs off and closes the connection.
    pub fn signoff(mut self) {
        let req = self.boilerplate("signoff");
        // The connection is closed right after; nothing to do on failure.
        let _ = self.send(&req);
    }
}
