//! The poll loop: wires media, signals and timers to the pure core and
//! performs the actions it returns. No protocol decisions are made here.

use std::io;
use std::time::Instant;

use mio::{Events, Interest, Poll, Token};
use signal_hook::consts::{SIGHUP, SIGINT, SIGTERM, SIGUSR1, SIGUSR2};
use signal_hook_mio::v1_0::Signals;

use crate::config::model::MsgFmt;
use crate::core::{Action, Command, Core, Input, Level};
use crate::daemon::clock::Clock;
use crate::daemon::control_io::{ControlIo, ControlOut};
use crate::daemon::event_scripts::EventScripts;
use crate::daemon::ping_io::PingIo;
use crate::daemon::respawn::{Clients, ClientsOut};
use crate::daemon::sdnotify::Notifier;
use crate::daemon::timers::TimerQueue;
use crate::log::Logger;
use crate::media::{Drained, Medium, SendErrorThrottle, WireFormat};
use crate::runner::{Runner, RunnerEvent};
use crate::wire::{self, Keyring, Message};

mod guards;

/// Token of the signal pipe; media use their link index as token.
const SIGNAL_TOKEN: Token = Token(usize::MAX - 1);
/// Token of the resource script runner (child exits and output pipes).
const RUNNER_TOKEN: Token = Token(usize::MAX - 2);
/// Token of the respawn clients' pidfds.
const CLIENTS_TOKEN: Token = Token(usize::MAX - 4);
/// Token of the ping medium's raw socket (MAX - 3 is the FIFO's).
const PING_TOKEN: Token = Token(usize::MAX - 5);

/// Exit code after a self-fence (no graceful shutdown happened).
pub const EXIT_SELF_FENCED: i32 = 99;

/// Bad packets are logged at most this often (the counters see all).
const BAD_PACKET_LOG_INTERVAL_MS: u64 = 10_000;

/// What a SIGHUP asks the owner of the loop to do.
pub trait Reloader {
    /// Re-read what may be re-read (authkeys); returns the new key ring
    /// when it changed, and lines to log.
    fn reload(&mut self) -> (Option<Keyring>, Vec<(Level, String)>);
}

/// Packets that never reached the core, by reason.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct WireCounters {
    pub decode_errors: u64,
    pub auth_failures: u64,
}

pub struct EventLoop {
    poll: Poll,
    signals: Signals,
    media: Vec<Box<dyn Medium>>,
    send_throttles: Vec<SendErrorThrottle>,
    core: Core,
    runner: Runner,
    control: ControlIo,
    event_scripts: EventScripts,
    keys: Keyring,
    msgfmt: MsgFmt,
    timers: TimerQueue,
    clock: Clock,
    pub logger: Logger,
    reloader: Box<dyn Reloader>,
    pub wire_counters: WireCounters,
    last_bad_log_ms: Option<u64>,
    exit_code: Option<i32>,
    /// A healed partition or stall asked for a re-exec at this time; until
    /// then nothing is sent and nothing is fed to the core.
    restart_at: Option<Instant>,
    /// Media that stopped at the receive batch limit: drain again.
    pending_recv: Vec<bool>,
    /// `respawn`/`failfast` clients (see `respawn`).
    clients: Option<Clients>,
    /// Shutdown finished; exit with this code once the clients are stopped.
    exit_after_clients: Option<i32>,
    ping: Option<PingIo>,
    /// STONITH resets and `watchdog DEV` (see guards.rs).
    guards: guards::Guards,
    /// systemd readiness and watchdog (no-op without $NOTIFY_SOCKET).
    notify: Notifier,
}

impl EventLoop {
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        mut media: Vec<Box<dyn Medium>>,
        core: Core,
        mut runner: Runner,
        mut control: ControlIo,
        event_scripts: EventScripts,
        keys: Keyring,
        msgfmt: MsgFmt,
        clock: Clock,
        logger: Logger,
        reloader: Box<dyn Reloader>,
    ) -> io::Result<EventLoop> {
        let poll = Poll::new()?;
        for (index, medium) in media.iter_mut().enumerate() {
            medium.register(poll.registry(), Token(index))?;
        }
        runner.register(poll.registry(), RUNNER_TOKEN)?;
        control.register(poll.registry())?;
        let mut signals = Signals::new([SIGTERM, SIGHUP, SIGUSR1, SIGUSR2, SIGINT])?;
        poll.registry()
            .register(&mut signals, SIGNAL_TOKEN, Interest::READABLE)?;
        let count = media.len();
        Ok(EventLoop {
            poll,
            signals,
            send_throttles: vec![SendErrorThrottle::default(); count],
            pending_recv: vec![false; count],
            media,
            core,
            runner,
            control,
            event_scripts,
            keys,
            msgfmt,
            timers: TimerQueue::new(),
            clock,
            logger,
            reloader,
            wire_counters: WireCounters::default(),
            last_bad_log_ms: None,
            exit_code: None,
            restart_at: None,
            clients: None,
            exit_after_clients: None,
            ping: None,
            guards: guards::Guards::default(),
            notify: Notifier::disabled(),
        })
    }

    /// Installs the `respawn`/`failfast` clients (started at comm-up).
    pub fn set_clients(&mut self, mut clients: Clients) -> io::Result<()> {
        clients.register(self.poll.registry(), CLIENTS_TOKEN)?;
        self.clients = Some(clients);
        Ok(())
    }

    fn clients_event(&mut self) {
        let Some(clients) = self.clients.as_mut() else {
            return;
        };
        clients.on_event();
        self.clients_out();
    }

    fn clients_out(&mut self) {
        let outs = self
            .clients
            .as_mut()
            .map(Clients::take_out)
            .unwrap_or_default();
        for out in outs {
            match out {
                ClientsOut::Log(level, text) => self.logger.log(level, &text),
                ClientsOut::SelfFence(reason) => {
                    self.perform(vec![Action::SelfFence { reason }]);
                }
                ClientsOut::AllStopped => {
                    if let Some(code) = self.exit_after_clients.take() {
                        self.clients = None;
                        self.perform(vec![Action::Exit { code }]);
                    }
                }
            }
        }
    }

    /// Runs until the core asks to exit; returns the exit code.
    pub fn run(&mut self) -> io::Result<i32> {
        let (notify, note) = Notifier::from_env();
        self.notify = notify;
        if let Some(note) = note {
            self.logger.log(Level::Warn, &note);
        }
        let actions = self.core.start(self.clock.now());
        self.perform(actions);
        let mut events = Events::with_capacity(64);
        while self.exit_code.is_none() {
            let timeout = self.poll_timeout();
            if let Err(e) = self.poll.poll(&mut events, timeout) {
                if e.kind() != io::ErrorKind::Interrupted {
                    return Err(e);
                }
            }
            for event in events.iter() {
                match event.token() {
                    SIGNAL_TOKEN => self.handle_signals(),
                    PING_TOKEN => self.receive_pings(),
                    RUNNER_TOKEN => {
                        self.runner.handle_event();
                        self.runner_events();
                    }
                    guards::STONITH_TOKEN => self.stonith_event(),
                    CLIENTS_TOKEN => self.clients_event(),
                    token if self.control.owns(token) => {
                        let now_ms = self.clock.now().mono_ms;
                        let outs = self.control.handle_event(
                            self.poll.registry(),
                            token,
                            &self.core,
                            self.logger.debug_level(),
                            now_ms,
                        );
                        self.control_outs(outs);
                    }
                    Token(index) if index < self.media.len() => {
                        if event.is_readable() {
                            self.pending_recv[index] = true;
                        }
                        if event.is_writable() {
                            self.flush_medium(index);
                        }
                    }
                    _ => {}
                }
            }
            if let Some(at) = self.restart_at {
                if Instant::now() >= at {
                    return Err(self.reexec());
                }
            }
            self.drain_media();
            if self.ping.as_ref().is_some_and(|p| p.pending) {
                self.receive_pings();
            }
            self.fire_timers();
            self.runner_deadline();
            self.stonith_deadline();
            if self
                .clients
                .as_ref()
                .and_then(Clients::next_deadline)
                .is_some_and(|d| d <= Instant::now())
            {
                self.clients_event();
            }
            self.control_deadline();
            for (level, text) in self.event_scripts.reap() {
                self.logger.log(level, &text);
            }
            self.flush_due_media();
            self.notify.tick(Instant::now());
        }
        Ok(self.exit_code.unwrap_or(0))
    }

    fn poll_timeout(&self) -> Option<std::time::Duration> {
        if self.pending_recv.iter().any(|p| *p) || self.ping.as_ref().is_some_and(|p| p.pending) {
            return Some(std::time::Duration::ZERO);
        }
        let mut deadlines: Vec<Option<Instant>> = self
            .media
            .iter()
            .map(|m| m.next_deadline())
            .collect::<Vec<_>>();
        deadlines.push(self.runner.next_deadline());
        deadlines.push(self.clients.as_ref().and_then(Clients::next_deadline));
        deadlines.push(self.restart_at);
        deadlines.push(self.guards.next_deadline());
        deadlines.push(self.notify.next_deadline());
        deadlines.push(
            self.control
                .next_deadline()
                .map(|ms| self.clock.instant_of(ms)),
        );
        deadlines.push(
            self.timers
                .next_deadline()
                .map(|ms| self.clock.instant_of(ms)),
        );
        self.clock.poll_timeout(Instant::now(), &deadlines)
    }

    fn handle_signals(&mut self) {
        let pending: Vec<i32> = self.signals.pending().collect();
        for signal in pending {
            match signal {
                SIGTERM if self.restart_at.is_some() => {
                    // Resources are already released: just leave.
                    self.notify.stopping();
                    self.exit_code = Some(0);
                }
                SIGTERM => {
                    self.watchdog_close();
                    self.notify.stopping();
                    self.feed(Input::Command(Command::Shutdown));
                }
                SIGHUP => {
                    self.notify.reloading();
                    let (keys, notes) = self.reloader.reload();
                    for (level, text) in notes {
                        self.logger.log(level, &text);
                    }
                    if let Some(keys) = keys {
                        self.keys = keys;
                    }
                    self.notify.ready();
                }
                SIGUSR1 => {
                    self.logger.debug_more();
                    self.runner.set_debug_level(self.logger.debug_level());
                }
                SIGUSR2 => {
                    self.logger.debug_less();
                    self.runner.set_debug_level(self.logger.debug_level());
                }
                // SIGINT is ignored, as Heartbeat does.
                _ => {}
            }
        }
    }

    fn drain_media(&mut self) {
        let mut packets = Vec::new();
        for index in 0..self.media.len() {
            if !self.pending_recv[index] {
                continue;
            }
            packets.clear();
            let result = self.media[index].recv(&mut packets);
            self.pending_recv[index] = matches!(result, Ok(Drained::More));
            if let Err(e) = result {
                let name = self.media[index].name().to_string();
                self.logger
                    .log(Level::Error, &format!("read error on {name}: {e}"));
            }
            for raw in packets.drain(..) {
                self.receive(index, &raw);
            }
        }
    }

    fn receive(&mut self, link: usize, raw: &[u8]) {
        match wire::decode(raw, &self.keys) {
            Ok(packet) => self.feed(Input::Packet {
                link,
                msg: packet.msg,
            }),
            Err(e) => {
                if matches!(
                    e,
                    wire::WireError::BadSignature
                        | wire::WireError::MissingAuth
                        | wire::WireError::MissingSignature
                        | wire::WireError::UnknownAuthIndex(_)
                ) {
                    self.wire_counters.auth_failures += 1;
                } else {
                    self.wire_counters.decode_errors += 1;
                }
                self.control.extra_counters = vec![
                    ("auth_failures".into(), self.wire_counters.auth_failures),
                    ("undecodable".into(), self.wire_counters.decode_errors),
                ];
                let now = self.clock.now().mono_ms;
                let due = self
                    .last_bad_log_ms
                    .is_none_or(|last| now.saturating_sub(last) >= BAD_PACKET_LOG_INTERVAL_MS);
                if due {
                    self.last_bad_log_ms = Some(now);
                    let name = self.media[link].name().to_string();
                    self.logger.log(
                        Level::Warn,
                        &format!(
                            "Dropped bad packet on {name}: {e} ({} failed authentication, {} undecodable so far)",
                            self.wire_counters.auth_failures, self.wire_counters.decode_errors
                        ),
                    );
                }
            }
        }
    }

    fn fire_timers(&mut self) {
        let now_ms = self.clock.now().mono_ms;
        for key in self.timers.pop_expired(now_ms) {
            self.feed(Input::Timer(key));
        }
    }

    /// Heartbeat's restart after a healed partition: stay silent for
    /// `delay_ms` so peers declare us dead, then start afresh.
    fn begin_restart(&mut self, delay_ms: u64) {
        self.logger.log(
            Level::Info,
            &format!("Heartbeat restart triggered; restarting in {delay_ms} ms."),
        );
        self.timers.clear();
        self.restart_at = Some(Instant::now() + std::time::Duration::from_millis(delay_ms));
    }

    /// Replaces this process with a fresh daemon (new generation); only
    /// returns on failure. Sockets are close-on-exec; the pid and tty lock
    /// files hold our pid, which the new image accepts as its own.
    fn reexec(&mut self) -> io::Error {
        use std::os::unix::process::CommandExt;
        self.logger
            .log(Level::Info, "Performing heartbeat restart exec.");
        let program = std::env::current_exe()
            .map(|p| p.into_os_string())
            .ok()
            .or_else(|| std::env::args_os().next())
            .unwrap_or_else(|| "heartbeat".into());
        let rest: Vec<_> = std::env::args_os().skip(1).collect();
        std::process::Command::new(program).args(rest).exec()
    }

    fn control_deadline(&mut self) {
        let now_ms = self.clock.now().mono_ms;
        if self.control.next_deadline().is_some_and(|d| d <= now_ms) {
            let outs = self.control.sweep(self.poll.registry(), now_ms);
            self.control_outs(outs);
        }
    }

    /// Logs the admin surface's lines and sends its cluster messages.
    fn control_outs(&mut self, outs: Vec<ControlOut>) {
        for out in outs {
            match out {
                ControlOut::Log(level, text) => self.logger.log(level, &text),
                ControlOut::Send(msg) => {
                    if self.restart_at.is_none() {
                        let actions = self.core.send_cluster_msg(self.clock.now(), msg);
                        self.perform(actions);
                    }
                }
            }
        }
    }

    fn runner_deadline(&mut self) {
        let now = Instant::now();
        if self.runner.next_deadline().is_some_and(|d| d <= now) {
            self.runner.on_deadline(now);
            self.runner_events();
        }
    }

    /// Logs the runner's lines and hands finished jobs to the core.
    fn runner_events(&mut self) {
        for event in self.runner.poll_events() {
            match event {
                RunnerEvent::Log { level, text } => self.logger.log(level, &text),
                RunnerEvent::Done { id, outcome } => {
                    self.feed(Input::JobDone { id, outcome });
                }
            }
        }
    }

    fn flush_medium(&mut self, index: usize) {
        let result = self.media[index].flush(Instant::now());
        self.note_send(index, result);
    }

    fn flush_due_media(&mut self) {
        let now = Instant::now();
        for index in 0..self.media.len() {
            if self.media[index].next_deadline().is_some_and(|d| d <= now) {
                self.flush_medium(index);
            }
        }
    }

    fn feed(&mut self, input: Input) {
        if self.restart_at.is_some() {
            return;
        }
        let actions = self.core.handle(self.clock.now(), input);
        self.perform(actions);
    }

    fn perform(&mut self, actions: Vec<Action>) {
        for action in actions {
            match action {
                Action::Transmit(msg) => self.transmit(msg),
                Action::ArmTimer { key, at_ms } => self.timers.arm(key, at_ms),
                Action::CancelTimer(key) => {
                    self.timers.cancel(&key);
                }
                Action::Log { level, text } => self.logger.log(level, &text),
                Action::Exit { code } if self.clients.as_ref().is_some_and(|c| !c.is_empty()) => {
                    // Heartbeat stops its clients after the resources.
                    self.exit_after_clients = Some(code);
                    if let Some(clients) = self.clients.as_mut() {
                        clients.shutdown();
                    }
                    self.clients_out();
                }
                Action::Exit { code } => {
                    self.notify.stopping();
                    self.control.close(self.poll.registry());
                    self.exit_code = Some(code);
                }
                Action::CommUp => {
                    self.notify.ready();
                    let outs = self.control.open_api(self.poll.registry());
                    self.control_outs(outs);
                    self.stonith_status_check();
                    if let Some(clients) = self.clients.as_mut() {
                        clients.comm_up();
                    }
                    self.clients_out();
                }
                Action::Deliver(msg) => {
                    let status = self.core.local_status().to_string();
                    if let Some((level, text)) = self.event_scripts.run(&msg, &status) {
                        self.logger.log(level, &text);
                    }
                    let now_ms = self.clock.now().mono_ms;
                    let local = self.core.local_node().to_string();
                    let outs = self
                        .control
                        .deliver(self.poll.registry(), &local, &msg, now_ms);
                    self.control_outs(outs);
                }
                Action::NodeStatus { node, status } => {
                    let now_ms = self.clock.now().mono_ms;
                    let local = self.core.local_node().to_string();
                    let outs = self.control.node_event(
                        self.poll.registry(),
                        &local,
                        &node,
                        &status,
                        now_ms,
                    );
                    self.control_outs(outs);
                }
                Action::LinkStatus { node, link, up } => {
                    let now_ms = self.clock.now().mono_ms;
                    let local = self.core.local_node().to_string();
                    let ifname = self
                        .core
                        .link_names()
                        .get(link)
                        .cloned()
                        .unwrap_or_default();
                    let outs = self.control.link_event(
                        self.poll.registry(),
                        &local,
                        &node,
                        &ifname,
                        up,
                        now_ms,
                    );
                    self.control_outs(outs);
                }
                Action::NodeUuid { .. } => {}
                Action::RunJob { id, job } => {
                    self.runner.submit(id, job);
                    self.runner_events();
                }
                Action::Restart { delay_ms } => {
                    if let Some(clients) = self.clients.as_mut() {
                        clients.kill_all();
                    }
                    self.begin_restart(delay_ms);
                }
                Action::Fence { node } => self.start_fence(&node),
                Action::SelfFence { reason } => {
                    // The runner has started the fence command; like
                    // Heartbeat (which SIGKILLs itself) we stop at once.
                    self.logger.log(
                        Level::Emerg,
                        &format!("Self-fencing: {reason}. Heartbeat stops now."),
                    );
                    self.exit_code = Some(EXIT_SELF_FENCED);
                }
            }
        }
    }

    /// Signs and writes one message on every medium, encoding each form once.
    fn transmit(&mut self, mut msg: Message) {
        self.watchdog_tickle(&msg);
        if self.msgfmt == MsgFmt::Classic {
            wire::add_inner_auth(&mut msg, &self.keys);
        }
        let mut netstring: Option<Vec<u8>> = None;
        let mut classic: Option<Vec<u8>> = None;
        let now = Instant::now();
        for index in 0..self.media.len() {
            let bytes = match self.media[index].wire_format() {
                WireFormat::Netstring => {
                    netstring.get_or_insert_with(|| wire::encode_netstring(&msg, &self.keys))
                }
                WireFormat::Classic => classic.get_or_insert_with(|| {
                    // Serial links always carry the inner auth field.
                    let mut signed = msg.clone();
                    if signed.field("auth").is_none() {
                        wire::add_inner_auth(&mut signed, &self.keys);
                    }
                    wire::encode_classic(&signed)
                }),
            };
            let result = self.media[index].send(bytes, now);
            self.note_send(index, result);
        }
        if let Some(ping) = self.ping.as_mut() {
            for (level, text) in ping.on_transmit(&msg, &self.keys) {
                self.logger.log(level, &text);
            }
        }
    }

    /// Use the ping medium (ping nodes configured).
    pub fn set_ping(&mut self, mut ping: PingIo) -> io::Result<()> {
        ping.register(self.poll.registry(), PING_TOKEN)?;
        self.ping = Some(ping);
        Ok(())
    }

    fn receive_pings(&mut self) {
        let now_ms = self.clock.now().mono_ms;
        let Some(ping) = self.ping.as_mut() else {
            return;
        };
        let (replies, lines) = ping.receive(&self.keys, now_ms);
        for (level, text) in lines {
            self.logger.log(level, &text);
        }
        for msg in replies {
            self.feed(Input::PingReply(msg));
        }
    }

    fn note_send(&mut self, index: usize, result: io::Result<()>) {
        let name = self.media[index].name().to_string();
        if let Some(text) = self.send_throttles[index].note(&name, &result) {
            self.logger.log(Level::Error, &text);
        }
    }

    pub fn core(&self) -> &Core {
        &self.core
    }
}
