//! The [`Core`]: construction, the input dispatcher, the send path and the
//! queries the daemon and the API use. Packet handling lives in
//! `receive.rs`, membership in `membership.rs`, retransmission and ACKs in
//! `reliability.rs`.

use std::collections::{BTreeMap, VecDeque};

use super::counters::Counters;
use super::fields::*;
use super::history::History;
use super::node::NodeState;
use super::outbound::{self, Stamp};
use super::params::CoreParams;
use super::pingnodes::PingNodes;
use super::rng::Rng;
use super::seqtrack::ACK_DIV;
use super::upper::{NoUpperLayer, UpperCtx, UpperLayer};
use super::{Action, Command, Input, Level, LinkIndex, Now, TimerKey};
use crate::wire::Message;

/// How long the start-up dead interval (deadtime + 2 s) is advertised.
pub(super) const STARTUP_DT_MS: u64 = 5000;
/// Extra dead time advertised during start-up.
pub(super) const STARTUP_DT_EXTRA_MS: u64 = 2000;
/// Nested sends (loopback reacting to loopback) deeper than this are queued.
const MAX_SEND_DEPTH: u32 = 8;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Shutdown {
    None,
    /// Requested before comm-up; runs when comm comes up.
    WaitingForComm,
    InProgress,
    Done,
}

/// The membership and reliability state machine of one Heartbeat node.
pub struct Core {
    pub(super) p: CoreParams,
    pub(super) nodes: Vec<NodeState>,
    pub(super) local: usize,
    /// Media sharing a name share one link (Heartbeat looks links up by name).
    pub(super) link_canon: Vec<LinkIndex>,
    pub(super) next_seq: u64,
    pub(super) history: History,
    pub(super) counters: Counters,
    pub(super) rng: Rng,
    loadavg: Box<dyn FnMut() -> String>,
    pub(super) flow_control: bool,
    /// The dead interval we advertise in `dt`.
    pub(super) local_dt_ms: u64,
    pub(super) started: bool,
    /// Inside `start()`: comm-up is not evaluated until the first three
    /// status messages are out.
    pub(super) starting: bool,
    pub(super) next_keepalive_ms: u64,
    pub(super) last_local_status_ms: Option<u64>,
    /// Heartbeat's COMM_LINKSUP: everybody heard from or dead.
    pub(super) links_up: bool,
    /// `comm_now_up()` ran: we are `active`.
    pub(super) comm_up: bool,
    pub(super) reqnodes_reply: bool,
    pub(super) reqnodes_from: usize,
    pub(super) shutdown: Shutdown,
    upper: Option<Box<dyn UpperLayer>>,
    /// Unknown sender name -> last time we logged it.
    pub(super) unknown_logged: BTreeMap<String, u64>,
    depth: u32,
    deferred: VecDeque<Message>,
    pub(super) pings: PingNodes,
}

impl Core {
    /// A core without an upper layer. `loadavg` provides the `ld` field.
    pub fn new(params: CoreParams, loadavg: Box<dyn FnMut() -> String>) -> Core {
        Core::with_upper(params, loadavg, Box::new(NoUpperLayer))
    }

    /// A core that passes accepted messages and membership events to `upper`.
    pub fn with_upper(
        params: CoreParams,
        loadavg: Box<dyn FnMut() -> String>,
        upper: Box<dyn UpperLayer>,
    ) -> Core {
        let p = params.normalized();
        let mut rng = Rng::new(p.rng_seed);
        let local = p.nodes.iter().position(|n| *n == p.local_node).unwrap_or(0);
        let mut nodes: Vec<NodeState> = p
            .nodes
            .iter()
            .map(|n| {
                NodeState::new(
                    n.clone(),
                    p.link_names.len(),
                    p.deadtime_ms,
                    rng.in_range(0, ACK_DIV - 1),
                )
            })
            .collect();
        let own_uuid = (p.uuid != [0; 16]).then_some(p.uuid);
        for (i, n) in nodes.iter_mut().enumerate() {
            if i == local {
                n.uuid = own_uuid;
            } else if let Some((_, u)) = p.known_uuids.iter().find(|(name, _)| *name == n.name) {
                n.uuid = (*u != [0; 16]).then_some(*u);
            }
        }
        let link_canon = (0..p.link_names.len())
            .map(|i| {
                p.link_names
                    .iter()
                    .position(|n| *n == p.link_names[i])
                    .unwrap_or(i)
            })
            .collect();
        let flow_control = p.flow_control;
        let pings = PingNodes::new(&p.ping_nodes);
        Core {
            local_dt_ms: p.deadtime_ms,
            p,
            nodes,
            local,
            link_canon,
            next_seq: 1,
            history: History::default(),
            counters: Counters::default(),
            rng,
            loadavg,
            flow_control,
            started: false,
            starting: false,
            next_keepalive_ms: 0,
            last_local_status_ms: None,
            links_up: false,
            comm_up: false,
            reqnodes_reply: false,
            reqnodes_from: 0,
            shutdown: Shutdown::None,
            upper: Some(upper),
            unknown_logged: BTreeMap::new(),
            depth: 0,
            deferred: VecDeque::new(),
            pings,
        }
    }

    /// Begin: send `init`, then `up` twice, arm the keepalive, start-up and
    /// liveness timers. Calling it again does nothing.
    pub fn start(&mut self, now: Now) -> Vec<Action> {
        let mut out = Vec::new();
        if self.started {
            return out;
        }
        self.started = true;
        self.starting = true;
        for n in self.nodes.iter_mut() {
            n.last_status_rx_ms = Some(now.mono_ms);
        }
        self.local_dt_ms = self.p.deadtime_ms + STARTUP_DT_EXTRA_MS;
        self.send_local_status(now, &mut out);
        self.set_local_status(now, UPSTATUS, &mut out);
        self.send_local_status(now, &mut out);
        self.starting = false;
        self.next_keepalive_ms = now.mono_ms + self.p.keepalive_ms;
        arm(&mut out, TimerKey::Keepalive, self.next_keepalive_ms);
        arm(
            &mut out,
            TimerKey::StartupDtEnd,
            now.mono_ms + STARTUP_DT_MS,
        );
        for i in self.peer_indices() {
            self.arm_node_dead(i, &mut out);
        }
        self.ping_start(now, &mut out);
        self.check_comm(now, &mut out);
        self.drain_deferred(now, &mut out);
        out
    }

    /// Process one input; returns what the daemon must do, in order.
    /// Starts the core first if [`Core::start`] was not called.
    pub fn handle(&mut self, now: Now, input: Input) -> Vec<Action> {
        let mut out = if self.started {
            Vec::new()
        } else {
            self.start(now)
        };
        match input {
            Input::Packet { link, msg } => {
                self.counters.received += 1;
                match self.link_canon.get(link).copied() {
                    Some(link) => self.on_packet(now, Some(link), msg, &mut out),
                    None => {
                        self.counters.dropped_bad_link += 1;
                        log(
                            &mut out,
                            Level::Error,
                            format!("packet on unknown link index {link} dropped"),
                        );
                    }
                }
            }
            Input::Timer(key) => self.on_timer(now, key, &mut out),
            Input::Command(Command::Shutdown) => self.on_shutdown_command(now, &mut out),
            input @ Input::JobDone { .. } => {
                self.call_upper(now, &mut out, |up, ctx| up.on_input(ctx, &input));
            }
            // Rejected replies are only dropped, as Heartbeat does.
            Input::PingReply(msg) => _ = self.on_ping_reply(now, &msg, &mut out),
        }
        self.drain_deferred(now, &mut out);
        out
    }

    /// Send a message from outside the core (the FIFO: scripts such as
    /// `req_resource`, `hb_standby`): control fields, history and loopback
    /// as for our own messages. A message without `t` is refused (logged).
    pub fn send_cluster_msg(&mut self, now: Now, msg: Message) -> Vec<Action> {
        let mut out = if self.started {
            Vec::new()
        } else {
            self.start(now)
        };
        self.send(now, msg, &mut out);
        self.drain_deferred(now, &mut out);
        out
    }

    fn on_timer(&mut self, now: Now, key: TimerKey, out: &mut Vec<Action>) {
        match key {
            TimerKey::Keepalive => self.on_keepalive(now, out),
            TimerKey::StartupDtEnd => {
                self.local_dt_ms = self.p.deadtime_ms;
                self.send_local_status(now, out);
            }
            TimerKey::NodeDead(name) => self.on_node_dead_timer(now, &name, out),
            TimerKey::LinkDead(name, link) => self.on_link_dead_timer(now, &name, link, out),
            TimerKey::PingDead(name) => self.on_ping_dead_timer(now, &name, out),
            TimerKey::ReqNodes => self.send_reqnodes(now, out),
            TimerKey::Rexmit(name, seq) => self.on_rexmit_timer(now, &name, seq, out),
            // Late heartbeats are reported when they arrive; initdead is
            // handled by the per-node dead timers.
            TimerKey::NodeWarn(_) | TimerKey::InitDead => {}
            key @ TimerKey::Other(_) => {
                let input = Input::Timer(key);
                self.call_upper(now, out, |up, ctx| up.on_input(ctx, &input));
            }
        }
    }

    fn on_keepalive(&mut self, now: Now, out: &mut Vec<Action>) {
        if now.mono_ms < self.next_keepalive_ms {
            arm(out, TimerKey::Keepalive, self.next_keepalive_ms);
            return;
        }
        self.check_local_stall(now, out);
        self.send_local_status(now, out);
        // Heartbeat also polls for comm-up; packets it dropped (e.g. all
        // addressed to others) still count as heard.
        self.check_comm(now, out);
        // Schedule from the previous deadline so intervals do not drift;
        // after a long stall skip the missed beats instead of bursting.
        self.next_keepalive_ms += self.p.keepalive_ms;
        if self.next_keepalive_ms <= now.mono_ms {
            self.next_keepalive_ms = now.mono_ms + self.p.keepalive_ms;
        }
        arm(out, TimerKey::Keepalive, self.next_keepalive_ms);
    }

    fn check_local_stall(&mut self, now: Now, out: &mut Vec<Action>) {
        let Some(last) = self.last_local_status_ms else {
            return;
        };
        let interval = if self.links_up {
            self.local_dt_ms
        } else {
            self.p.initdead_ms
        };
        if now.mono_ms.saturating_sub(last) <= interval {
            return;
        }
        let name = self.p.local_node.clone();
        log(out, Level::Warn, format!("node {name}: is dead"));
        log(
            out,
            Level::Error,
            "No local heartbeat. Forcing restart.".into(),
        );
        self.call_upper(now, out, |up, ctx| up.on_local_stall(ctx));
    }

    fn on_shutdown_command(&mut self, now: Now, out: &mut Vec<Action>) {
        if self.shutdown != Shutdown::None {
            return;
        }
        if !self.comm_up {
            log(
                out,
                Level::Warn,
                "Shutdown delayed until Communication is up.".into(),
            );
            self.shutdown = Shutdown::WaitingForComm;
            return;
        }
        self.initiate_shutdown(now, out);
    }

    pub(super) fn initiate_shutdown(&mut self, now: Now, out: &mut Vec<Action>) {
        self.shutdown = Shutdown::InProgress;
        self.send_local_status(now, out);
        let taken = self.call_upper(now, out, |up, ctx| up.on_shutdown(ctx));
        if !taken {
            self.finish_shutdown(out);
        }
    }

    fn finish_shutdown(&mut self, out: &mut Vec<Action>) {
        if self.shutdown == Shutdown::Done {
            return;
        }
        self.shutdown = Shutdown::Done;
        let text = format!("{} Heartbeat shutdown complete.", self.p.local_node);
        log(out, Level::Info, text);
        out.push(Action::Exit { code: 0 });
    }

    /// Our status heartbeat: `t=status st=<local status> dt=<hex> [protocol=1]`.
    pub(super) fn send_local_status(&mut self, now: Now, out: &mut Vec<Action>) {
        let st = self.nodes[self.local].status.clone();
        let msg = outbound::status(&st, self.local_dt_ms, self.flow_control);
        self.last_local_status_ms = Some(now.mono_ms);
        self.ping_note_status_sent(now);
        self.send(now, msg, out);
    }

    /// Add control fields, remember sequenced messages, process the message
    /// locally (loopback) and transmit it. Messages produced while looping
    /// back are transmitted first, as in Heartbeat.
    pub(super) fn send(&mut self, now: Now, mut msg: Message, out: &mut Vec<Action>) {
        if self.depth >= MAX_SEND_DEPTH {
            self.deferred.push_back(msg);
            return;
        }
        let Some(noseq) = msg.msg_type().map(is_noseq) else {
            log(
                out,
                Level::Error,
                "send: message without type dropped".into(),
            );
            return;
        };
        let dest_uuid = msg
            .get_str(F_TO)
            .and_then(|d| self.node_index(d))
            .and_then(|i| self.nodes[i].uuid);
        let ld = if noseq {
            String::new()
        } else {
            (self.loadavg)()
        };
        let stamp = Stamp {
            local: &self.p.local_node,
            uuid: self.nodes[self.local].uuid,
            dest_uuid,
            seq: self.next_seq,
            generation: self.p.generation,
            ts: now.wall_secs,
            ld: &ld,
            ttl: self.p.ttl(),
        };
        if let Some(seq) = outbound::stamp(&mut msg, &stamp) {
            self.next_seq += 1;
            self.history.add(seq, msg.clone(), now.mono_ms);
            self.after_history_add(now, out);
        }
        self.counters.sent += 1;
        self.depth += 1;
        self.on_packet(now, None, msg.clone(), out);
        self.depth -= 1;
        out.push(Action::Transmit(msg));
    }

    fn drain_deferred(&mut self, now: Now, out: &mut Vec<Action>) {
        while let Some(msg) = self.deferred.pop_front() {
            self.send(now, msg, out);
        }
    }

    /// Run an upper-layer hook, then carry out what it asked for.
    pub(super) fn call_upper<R: Default>(
        &mut self,
        now: Now,
        out: &mut Vec<Action>,
        f: impl FnOnce(&mut dyn UpperLayer, &mut UpperCtx) -> R,
    ) -> R {
        let Some(mut up) = self.upper.take() else {
            return R::default();
        };
        let (r, sends, actions, send_status, done) = {
            let mut ctx = UpperCtx::new(now, &self.p.local_node, &self.nodes, self.comm_up);
            let r = f(up.as_mut(), &mut ctx);
            (
                r,
                ctx.sends,
                ctx.actions,
                ctx.send_status,
                ctx.shutdown_done,
            )
        };
        self.upper = Some(up);
        out.extend(actions);
        if send_status {
            self.send_local_status(now, out);
        }
        for msg in sends {
            self.send(now, msg, out);
        }
        if done {
            self.finish_shutdown(out);
        }
        r
    }

    pub(super) fn node_index(&self, name: &str) -> Option<usize> {
        self.nodes.iter().position(|n| n.name == name)
    }

    pub(super) fn peer_indices(&self) -> Vec<usize> {
        (0..self.nodes.len()).filter(|i| *i != self.local).collect()
    }

    pub(super) fn link_name(&self, link: Option<LinkIndex>) -> &str {
        link.and_then(|l| self.p.link_names.get(l))
            .map(String::as_str)
            .unwrap_or("?")
    }
}

pub(super) fn log(out: &mut Vec<Action>, level: Level, text: String) {
    out.push(Action::Log { level, text });
}

pub(super) fn arm(out: &mut Vec<Action>, key: TimerKey, at_ms: u64) {
    out.push(Action::ArmTimer { key, at_ms });
}

pub(super) fn cancel(out: &mut Vec<Action>, key: TimerKey) {
    out.push(Action::CancelTimer(key));
}
