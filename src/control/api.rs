//! The API socket server: Heartbeat's `<rundir>/heartbeat/register` unix
//! stream socket, nonblocking on the daemon's mio poll.
//!
//! Tokens: the listener uses `token_base`, client slot `i` uses
//! `token_base + 1 + i` (at most [`MAX_CLIENTS`]); [`ApiServer::owns`] tells
//! the poll loop which events to hand over. Every event goes to
//! [`ApiServer::handle_event`]; [`ApiServer::sweep`] (due at
//! [`ApiServer::next_deadline`]) drops clients that stall. Bounded per
//! client: one frame of input (MAXMSG), [`MAX_OUTPUT`] of unsent replies,
//! [`EVENT_BUDGET`] frames per event (then the socket is re-armed so other
//! sources get their turn).

use std::collections::VecDeque;
use std::io::{self, Read, Write};
use std::os::fd::AsFd;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use mio::net::{UnixListener, UnixStream};
use mio::{Interest, Registry, Token};

use super::auth::ApiAuthz;
use super::framing::{frame_message, parse_body, FrameDecoder};
use super::requests::{
    answer_cstatus_query, client_status_msg, handle_request, handle_signon, ClientInfo, PeerCred,
    RequestCtx, SignonCtx, KEEPIT,
};
use super::view::ClusterView;
use crate::core::Level;
use crate::wire::Message;

/// Simultaneous connections; more are accepted and closed at once.
pub const MAX_CLIENTS: usize = 128;
/// Unsent replies a client may have before it is dropped as not reading.
pub const MAX_OUTPUT: usize = 1024 * 1024;
/// Frames handled per client and event.
pub const EVENT_BUDGET: usize = 64;
/// A client may hold a partial frame, unread output, or stay signed off
/// this long.
pub const STALL_MS: u64 = 10_000;

/// What the daemon must do for the API.
#[derive(Clone, Debug, PartialEq)]
pub enum ApiAction {
    /// Send to the cluster (`core.send_cluster_msg`): `query-cstatus`,
    /// `hbapi-clstat`, named clients' messages.
    SendCluster(Message),
    Log {
        level: Level,
        text: String,
    },
}

struct Conn {
    stream: UnixStream,
    peer: PeerCred,
    decoder: FrameDecoder,
    out: VecDeque<u8>,
    client: Option<ClientInfo>,
    /// Close once the output is flushed (reason).
    closing: Option<String>,
    connected_ms: u64,
    /// Since when an unfinished input frame or unsent output waits.
    stalled_since: Option<u64>,
}

pub struct ApiServer {
    path: PathBuf,
    listener: UnixListener,
    token_base: usize,
    conns: Vec<Option<Conn>>,
    authz: ApiAuthz,
    next_generation: u64,
    daemon_uid: u32,
    /// From the last view seen (`src` of `hbapi-clstat`).
    local_node: String,
    stall_ms: u64,
}

fn log(actions: &mut Vec<ApiAction>, level: Level, text: String) {
    actions.push(ApiAction::Log { level, text });
}

fn peer_cred(stream: &UnixStream) -> Option<PeerCred> {
    let cred =
        nix::sys::socket::getsockopt(&stream.as_fd(), nix::sys::socket::sockopt::PeerCredentials)
            .ok()?;
    Some(PeerCred {
        pid: cred.pid(),
        uid: cred.uid(),
        gid: cred.gid(),
    })
}

fn pid_alive(pid: i32) -> bool {
    use nix::errno::Errno;
    match nix::sys::signal::kill(nix::unistd::Pid::from_raw(pid), None) {
        Ok(()) => true,
        Err(e) => e != Errno::ESRCH,
    }
}

/// Creates the socket's directory like Debian's tmpfiles (0750, group
/// haclient when it exists) if it is missing.
fn ensure_parent(path: &Path) -> io::Result<()> {
    let Some(dir) = path.parent() else {
        return Ok(());
    };
    if dir.as_os_str().is_empty() || dir.is_dir() {
        return Ok(());
    }
    std::fs::create_dir_all(dir)?;
    std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o750))?;
    if let Some(gid) = super::auth::system_group("haclient") {
        // Best effort: without it only root can reach the socket.
        let _ = nix::unistd::chown(dir, None, Some(nix::unistd::Gid::from_raw(gid)));
    }
    Ok(())
}

impl ApiServer {
    /// Binds the socket at `path` (a stale socket file is replaced; mode
    /// 0777 like Heartbeat's, access is controlled by the directory and
    /// `apiauth`). Tokens `token_base ..= token_base + MAX_CLIENTS` are ours.
    pub fn bind(path: &Path, authz: ApiAuthz, token_base: usize) -> io::Result<ApiServer> {
        ensure_parent(path)?;
        match std::fs::remove_file(path) {
            Ok(()) => {}
            Err(e) if e.kind() == io::ErrorKind::NotFound => {}
            Err(e) => return Err(e),
        }
        let listener = UnixListener::bind(path)?;
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o777))?;
        Ok(ApiServer {
            path: path.to_path_buf(),
            listener,
            token_base,
            conns: (0..MAX_CLIENTS).map(|_| None).collect(),
            authz,
            next_generation: 0,
            daemon_uid: nix::unistd::geteuid().as_raw(),
            local_node: String::new(),
            stall_ms: STALL_MS,
        })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Changes [`STALL_MS`] (tests).
    pub fn set_stall_ms(&mut self, ms: u64) {
        self.stall_ms = ms;
    }

    /// Registers the listening socket (clients register themselves).
    pub fn register(&mut self, registry: &Registry) -> io::Result<()> {
        registry.register(
            &mut self.listener,
            Token(self.token_base),
            Interest::READABLE,
        )
    }

    /// True if `token` belongs to this server.
    pub fn owns(&self, token: Token) -> bool {
        (self.token_base..=self.token_base + MAX_CLIENTS).contains(&token.0)
    }

    /// Signed-on clients (for tests and the status snapshot).
    pub fn client_count(&self) -> usize {
        self.conns
            .iter()
            .flatten()
            .filter(|c| c.client.is_some())
            .count()
    }

    /// Open connections, signed on or not.
    pub fn connection_count(&self) -> usize {
        self.conns.iter().flatten().count()
    }

    fn client_online(&self, id: &str) -> bool {
        self.conns
            .iter()
            .flatten()
            .any(|c| c.client.as_ref().is_some_and(|cl| cl.client_id == id))
    }

    /// Handles one readiness event for one of our tokens.
    pub fn handle_event(
        &mut self,
        registry: &Registry,
        token: Token,
        view: &ClusterView,
        now_ms: u64,
    ) -> Vec<ApiAction> {
        let mut actions = Vec::new();
        if self.local_node != view.local_node {
            self.local_node = view.local_node.clone();
        }
        if token.0 == self.token_base {
            self.accept_all(registry, now_ms, &mut actions);
        } else if let Some(slot) = token.0.checked_sub(self.token_base + 1) {
            if slot < MAX_CLIENTS {
                self.service(registry, slot, view, now_ms, &mut actions);
            }
        }
        actions
    }

    fn accept_all(&mut self, registry: &Registry, now_ms: u64, actions: &mut Vec<ApiAction>) {
        loop {
            let stream = match self.listener.accept() {
                Ok((stream, _)) => stream,
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => return,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => {
                    log(actions, Level::Error, format!("API accept failed: {e}"));
                    return;
                }
            };
            let Some(slot) = self.conns.iter().position(Option::is_none) else {
                log(
                    actions,
                    Level::Warn,
                    format!("API: too many clients ({MAX_CLIENTS}), connection refused"),
                );
                continue; // dropping the stream closes it
            };
            let Some(peer) = peer_cred(&stream) else {
                log(actions, Level::Error, "API: no peer credentials".into());
                continue;
            };
            let mut conn = Conn {
                stream,
                peer,
                decoder: FrameDecoder::new(),
                out: VecDeque::new(),
                client: None,
                closing: None,
                connected_ms: now_ms,
                stalled_since: None,
            };
            let token = Token(self.token_base + 1 + slot);
            if let Err(e) = registry.register(
                &mut conn.stream,
                token,
                Interest::READABLE | Interest::WRITABLE,
            ) {
                log(
                    actions,
                    Level::Error,
                    format!("API: cannot poll client: {e}"),
                );
                continue;
            }
            if let Some(entry) = self.conns.get_mut(slot) {
                *entry = Some(conn);
            }
        }
    }

    fn service(
        &mut self,
        registry: &Registry,
        slot: usize,
        view: &ClusterView,
        now_ms: u64,
        actions: &mut Vec<ApiAction>,
    ) {
        let Some(mut conn) = self.conns.get_mut(slot).and_then(Option::take) else {
            return;
        };
        let result = self.read_and_handle(&mut conn, view, actions);
        let result = result.and_then(|budget_left| {
            flush(&mut conn)?;
            Ok(budget_left)
        });
        match result {
            Err(reason) => self.drop_conn(registry, conn, &reason, Level::Warn, actions),
            Ok(_) if conn.closing.is_some() && conn.out.is_empty() => {
                let reason = conn.closing.clone().unwrap_or_default();
                self.drop_conn(registry, conn, &reason, Level::Debug, actions);
            }
            Ok(budget_left) => {
                update_stall(&mut conn, now_ms);
                if !budget_left {
                    // More input may be waiting: ask for a fresh event.
                    let token = Token(self.token_base + 1 + slot);
                    if let Err(e) = registry.reregister(
                        &mut conn.stream,
                        token,
                        Interest::READABLE | Interest::WRITABLE,
                    ) {
                        self.drop_conn(
                            registry,
                            conn,
                            &format!("re-arm failed: {e}"),
                            Level::Warn,
                            actions,
                        );
                        return;
                    }
                }
                if let Some(entry) = self.conns.get_mut(slot) {
                    *entry = Some(conn);
                }
            }
        }
    }

    /// Reads and handles frames; Ok(false) when the budget ran out before
    /// the socket was drained. Err: drop the connection (reason).
    fn read_and_handle(
        &mut self,
        conn: &mut Conn,
        view: &ClusterView,
        actions: &mut Vec<ApiAction>,
    ) -> Result<bool, String> {
        let mut buf = [0u8; 16 * 1024];
        let mut frames = 0;
        while conn.closing.is_none() {
            if frames >= EVENT_BUDGET {
                return Ok(false);
            }
            // Complete frames are always taken out, so there is room.
            let room = conn.decoder.room().min(buf.len());
            let Some(chunk) = buf.get_mut(..room).filter(|c| !c.is_empty()) else {
                return Err("input buffer full".into());
            };
            let n = match conn.stream.read(chunk) {
                // Answer what came before the EOF, then close.
                Ok(0) => {
                    conn.closing = Some("EOF".into());
                    return Ok(true);
                }
                Ok(n) => n,
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => return Ok(true),
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(format!("read error: {e}")),
            };
            conn.decoder.push(buf.get(..n).unwrap_or_default());
            loop {
                let body = match conn.decoder.next_frame() {
                    Ok(Some(body)) => body,
                    Ok(None) => break,
                    Err(e) => return Err(format!("bad frame: {e}")),
                };
                frames += 1;
                let msg = parse_body(&body).map_err(|e| format!("bad message: {e}"))?;
                self.handle_message(conn, &msg, view, actions);
                if conn.out.len() > MAX_OUTPUT {
                    return Err("client does not read its replies".into());
                }
                if conn.closing.is_some() {
                    break;
                }
            }
        }
        Ok(true)
    }

    fn handle_message(
        &mut self,
        conn: &mut Conn,
        msg: &Message,
        view: &ClusterView,
        actions: &mut Vec<ApiAction>,
    ) {
        let handled = match conn.client.as_mut() {
            None => {
                let generation = self.next_generation;
                self.next_generation += 1;
                let conns = &self.conns;
                let id_taken = |id: &str| {
                    conns
                        .iter()
                        .flatten()
                        .any(|c| c.client.as_ref().is_some_and(|cl| cl.client_id == id))
                };
                let ctx = SignonCtx {
                    view,
                    authz: &self.authz,
                    peer: conn.peer,
                    generation,
                    id_taken: &id_taken,
                    pid_alive: &pid_alive,
                };
                let outcome = handle_signon(msg, &ctx);
                conn.client = outcome.client;
                outcome.handled
            }
            Some(client) => {
                let conns = &self.conns;
                // The connection being served is taken out of `conns`, so
                // also accept its own id.
                let own = client.client_id.clone();
                let online = |id: &str| {
                    id == own
                        || conns
                            .iter()
                            .flatten()
                            .any(|c| c.client.as_ref().is_some_and(|cl| cl.client_id == id))
                };
                let ctx = RequestCtx {
                    view,
                    client_online: &online,
                    daemon_uid: self.daemon_uid,
                };
                handle_request(msg, client, &ctx)
            }
        };
        for (level, text) in handled.logs {
            log(actions, level, text);
        }
        for reply in &handled.replies {
            conn.out.extend(frame_message(reply));
        }
        actions.extend(handled.to_cluster.into_iter().map(ApiAction::SendCluster));
        if let Some(reason) = handled.close {
            conn.closing = Some(reason);
        }
    }

    fn drop_conn(
        &mut self,
        registry: &Registry,
        mut conn: Conn,
        reason: &str,
        // Warn for misbehaving clients, debug for a normal close.
        level: Level,
        actions: &mut Vec<ApiAction>,
    ) {
        // Best effort: the socket is closed when `conn` is dropped anyway.
        let _ = registry.deregister(&mut conn.stream);
        let who = conn
            .client
            .as_ref()
            .map(|c| c.client_id.clone())
            .unwrap_or_else(|| format!("pid {}", conn.peer.pid));
        log(
            actions,
            level,
            format!("API client {who} removed: {reason}"),
        );
        if let Some(client) = conn.client.as_ref().filter(|c| !c.casual) {
            // A named client that hangs up without signing off has died
            // (Heartbeat's audit finds its pid gone): `info=died`.
            let reason = if reason == "EOF" { "died" } else { reason };
            actions.push(ApiAction::SendCluster(client_status_msg(
                client,
                &self.local_node,
                "leave",
                Some(reason),
            )));
        }
    }

    /// Drops clients stalled for [`STALL_MS`]: an unfinished frame, unread
    /// replies, or no sign-on. Call when [`ApiServer::next_deadline`] passes.
    pub fn sweep(&mut self, registry: &Registry, now_ms: u64) -> Vec<ApiAction> {
        let mut actions = Vec::new();
        for slot in 0..MAX_CLIENTS {
            let expired = self
                .conns
                .get(slot)
                .and_then(Option::as_ref)
                .and_then(|c| deadline(c, self.stall_ms))
                .is_some_and(|d| d <= now_ms);
            if expired {
                if let Some(conn) = self.conns.get_mut(slot).and_then(Option::take) {
                    self.drop_conn(registry, conn, "stalled", Level::Warn, &mut actions);
                }
            }
        }
        actions
    }

    /// When the next stalled client must be dropped (monotonic ms).
    pub fn next_deadline(&self) -> Option<u64> {
        self.conns
            .iter()
            .flatten()
            .filter_map(|c| deadline(c, self.stall_ms))
            .min()
    }

    /// Hands a cluster message to clients, as Heartbeat does for every
    /// message it receives or sends: to the client named by `to_id` only,
    /// or to every signed-on client. Returns logs (dropped clients).
    pub fn deliver(&mut self, registry: &Registry, msg: &Message, now_ms: u64) -> Vec<ApiAction> {
        let mut actions = Vec::new();
        let to_id = msg.get_str("to_id");
        let bytes = frame_message(msg);
        for slot in 0..MAX_CLIENTS {
            let wanted = self
                .conns
                .get(slot)
                .and_then(Option::as_ref)
                .and_then(|c| c.client.as_ref())
                // Cluster messages are Heartbeat's KEEPIT kind: only for
                // clients whose `setfilter` mask has that bit.
                .is_some_and(|cl| {
                    cl.desired_types & KEEPIT != 0 && to_id.is_none_or(|id| id == cl.client_id)
                });
            if !wanted {
                continue;
            }
            let Some(mut conn) = self.conns.get_mut(slot).and_then(Option::take) else {
                continue;
            };
            conn.out.extend(bytes.iter().copied());
            let result = if conn.out.len() > MAX_OUTPUT {
                Err("client does not read its messages".to_string())
            } else {
                flush(&mut conn)
            };
            match result {
                Err(reason) => self.drop_conn(registry, conn, &reason, Level::Warn, &mut actions),
                Ok(()) => {
                    update_stall(&mut conn, now_ms);
                    if let Some(entry) = self.conns.get_mut(slot) {
                        *entry = Some(conn);
                    }
                }
            }
            if to_id.is_some() {
                break;
            }
        }
        actions
    }

    /// Our answer to a peer's `query-cstatus` (send it with
    /// `core.send_cluster_msg`), `None` if the query is malformed.
    pub fn answer_cstatus_query(&self, query: &Message) -> Option<Message> {
        answer_cstatus_query(query, &|id| self.client_online(id))
    }

    /// Closes every connection and removes the socket file.
    pub fn close(mut self, registry: &Registry) {
        for conn in self.conns.iter_mut().filter_map(Option::take) {
            let mut stream = conn.stream;
            let _ = registry.deregister(&mut stream);
        }
        let _ = registry.deregister(&mut self.listener);
        let _ = std::fs::remove_file(&self.path);
    }
}

fn deadline(conn: &Conn, stall_ms: u64) -> Option<u64> {
    let since = match (&conn.client, conn.stalled_since) {
        (_, Some(since)) => since,
        (None, None) => conn.connected_ms,
        (Some(_), None) => return None,
    };
    Some(since.saturating_add(stall_ms))
}

fn update_stall(conn: &mut Conn, now_ms: u64) {
    let stalled = conn.decoder.is_partial() || !conn.out.is_empty();
    conn.stalled_since = match (stalled, conn.stalled_since) {
        (false, _) => None,
        (true, Some(since)) => Some(since),
        (true, None) => Some(now_ms),
    };
}

/// Writes queued output until the socket would block.
fn flush(conn: &mut Conn) -> Result<(), String> {
    while !conn.out.is_empty() {
        let (front, _) = conn.out.as_slices();
        match conn.stream.write(front) {
            Ok(0) => return Err("write returned 0".into()),
            Ok(n) => {
                conn.out.drain(..n);
            }
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => return Ok(()),
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(format!("write error: {e}")),
        }
    }
    Ok(())
}
