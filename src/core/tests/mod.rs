//! Scenario tests of the core. A simulated daemon keeps the timers the core
//! asks for and moves time forward; nothing sleeps.

mod capture;
mod comm;
mod liveness;
mod ping;
mod receive;
mod reliability;
mod startup;

use std::collections::BTreeMap;

use super::*;
use crate::wire::{Message, FT_BINARY};

pub(super) const ALPHA_UUID: [u8; 16] = [
    0xa4, 0x6f, 0x53, 0xce, 0x93, 0x1a, 0x42, 0x8c, 0xbd, 0x11, 0x5e, 0x5d, 0xff, 0xd1, 0x35, 0x92,
];
pub(super) const BRAVO_UUID: [u8; 16] = [
    0x6e, 0xde, 0x3a, 0x3e, 0x9c, 0xe3, 0x4e, 0x8e, 0x90, 0x1e, 0x4c, 0x4e, 0xef, 0xec, 0x30, 0xca,
];
pub(super) const ALPHA_GEN: u64 = 0x6b02515b;
pub(super) const BRAVO_GEN: u64 = 0x6b02515c;
pub(super) const LD: &str = "0.08 0.15 0.18 1/94 3827";
/// Wall clock at mono 0 in the simulations (seconds).
pub(super) const WALL0: u64 = 0x6b02515a;

/// The lab's ha.cf (keepalive 500ms, warntime 2, deadtime 3, initdead 6).
pub(super) fn params(local: &str) -> CoreParams {
    let (uuid, generation) = if local == "alpha" {
        (ALPHA_UUID, ALPHA_GEN)
    } else {
        (BRAVO_UUID, BRAVO_GEN)
    };
    CoreParams {
        local_node: local.into(),
        nodes: vec!["alpha".into(), "bravo".into()],
        link_names: vec!["eth0".into()],
        keepalive_ms: 500,
        deadtime_ms: 3000,
        warntime_ms: 2000,
        initdead_ms: 6000,
        max_rexmit_delay_ms: 250,
        hopfudge: 1,
        generation,
        uuid,
        flow_control: true,
        rng_seed: 1,
        known_uuids: Vec::new(),
        ..CoreParams::default()
    }
}

/// The daemon as far as the core can tell: timers, time, collected actions.
pub(super) struct Sim {
    pub core: Core,
    pub now: Now,
    pub timers: BTreeMap<TimerKey, u64>,
    pub actions: Vec<Action>,
    /// When set, the wall clock stays at this value.
    pub pinned_wall: Option<u64>,
}

impl Sim {
    pub fn new(p: CoreParams) -> Sim {
        Sim::from_core(Core::new(p, Box::new(|| LD.to_string())))
    }

    pub fn with_upper(p: CoreParams, upper: Box<dyn UpperLayer>) -> Sim {
        Sim::from_core(Core::with_upper(p, Box::new(|| LD.to_string()), upper))
    }

    fn from_core(core: Core) -> Sim {
        Sim {
            core,
            now: Now {
                mono_ms: 0,
                wall_secs: WALL0,
            },
            timers: BTreeMap::new(),
            actions: Vec::new(),
            pinned_wall: None,
        }
    }

    fn set_time(&mut self, mono_ms: u64) {
        self.now.mono_ms = mono_ms;
        self.now.wall_secs = self.pinned_wall.unwrap_or(WALL0 + mono_ms / 1000);
    }

    fn absorb(&mut self, acts: Vec<Action>) {
        for a in &acts {
            match a {
                Action::ArmTimer { key, at_ms } => {
                    self.timers.insert(key.clone(), *at_ms);
                }
                Action::CancelTimer(key) => {
                    self.timers.remove(key);
                }
                _ => {}
            }
        }
        self.actions.extend(acts);
    }

    pub fn start(&mut self) {
        let acts = self.core.start(self.now);
        self.absorb(acts);
    }

    /// Fire every timer due up to `t` (earliest first), then stop at `t`.
    pub fn advance_to(&mut self, t: u64) {
        loop {
            let next = self
                .timers
                .iter()
                .filter(|(_, at)| **at <= t)
                .min_by_key(|(k, at)| (**at, (*k).clone()))
                .map(|(k, at)| (k.clone(), *at));
            let Some((key, at)) = next else {
                break;
            };
            self.timers.remove(&key);
            self.set_time(at.max(self.now.mono_ms));
            let acts = self.core.handle(self.now, Input::Timer(key));
            self.absorb(acts);
        }
        self.set_time(t.max(self.now.mono_ms));
    }

    pub fn advance(&mut self, ms: u64) {
        self.advance_to(self.now.mono_ms + ms);
    }

    /// Fire one timer now, whether due or not (as a late or early daemon would).
    pub fn fire(&mut self, key: TimerKey) {
        self.timers.remove(&key);
        let acts = self.core.handle(self.now, Input::Timer(key));
        self.absorb(acts);
    }

    pub fn deliver(&mut self, msg: Message) {
        self.deliver_on(0, msg);
    }

    pub fn deliver_on(&mut self, link: LinkIndex, msg: Message) {
        let acts = self.core.handle(self.now, Input::Packet { link, msg });
        self.absorb(acts);
    }

    /// Any input (e.g. `JobDone`), at the current time.
    pub fn input(&mut self, input: Input) {
        let acts = self.core.handle(self.now, input);
        self.absorb(acts);
    }

    /// A FIFO message (`Core::send_cluster_msg`), at the current time.
    pub fn fifo(&mut self, msg: Message) {
        let acts = self.core.send_cluster_msg(self.now, msg);
        self.absorb(acts);
    }

    pub fn command(&mut self, c: Command) {
        let acts = self.core.handle(self.now, Input::Command(c));
        self.absorb(acts);
    }

    pub fn take(&mut self) -> Vec<Action> {
        std::mem::take(&mut self.actions)
    }

    /// Messages transmitted since the last `take`/`sent` (drains actions).
    pub fn sent(&mut self) -> Vec<Message> {
        transmits(&self.take())
    }

    pub fn timer(&self, key: &TimerKey) -> Option<u64> {
        self.timers.get(key).copied()
    }
}

pub(super) fn transmits(acts: &[Action]) -> Vec<Message> {
    acts.iter()
        .filter_map(|a| match a {
            Action::Transmit(m) => Some(m.clone()),
            _ => None,
        })
        .collect()
}

pub(super) fn logs(acts: &[Action]) -> Vec<String> {
    acts.iter()
        .filter_map(|a| match a {
            Action::Log { text, .. } => Some(text.clone()),
            _ => None,
        })
        .collect()
}

pub(super) fn has_log(acts: &[Action], level: Level, text: &str) -> bool {
    acts.iter()
        .any(|a| matches!(a, Action::Log { level: l, text: t } if *l == level && t == text))
}

/// `t` and the given field values, for compact assertions.
pub(super) fn brief(m: &Message, names: &[&str]) -> String {
    let mut s = m.msg_type().unwrap_or("?").to_string();
    for n in names {
        s.push_str(&format!(" {n}={}", m.get_str(n).unwrap_or("-")));
    }
    s
}

/// A peer that stamps its messages like a real node.
pub(super) struct Peer {
    pub name: String,
    pub uuid: [u8; 16],
    pub generation: u64,
    pub next_seq: u64,
    pub wall: u64,
}

impl Peer {
    pub fn bravo() -> Peer {
        Peer {
            name: "bravo".into(),
            uuid: BRAVO_UUID,
            generation: BRAVO_GEN,
            next_seq: 1,
            wall: WALL0,
        }
    }

    pub fn alpha() -> Peer {
        Peer {
            name: "alpha".into(),
            uuid: ALPHA_UUID,
            generation: ALPHA_GEN,
            next_seq: 1,
            wall: WALL0,
        }
    }

    /// A sequenced message with the given caller fields.
    pub fn msg(&mut self, fields: &[(&str, &str)]) -> Message {
        let seq = self.next_seq;
        self.next_seq += 1;
        self.msg_with_seq(seq, fields)
    }

    pub fn msg_with_seq(&self, seq: u64, fields: &[(&str, &str)]) -> Message {
        let mut m = Message::new();
        for (k, v) in fields {
            m.push_str(k, v);
        }
        m.push_str("src", &self.name);
        m.push("srcuuid", FT_BINARY, self.uuid.to_vec());
        m.push_str("seq", &format!("{seq:x}"));
        m.push_str("hg", &format!("{:x}", self.generation));
        m.push_str("ts", &format!("{:x}", self.wall));
        m.push_str("ld", LD);
        m.push_str("ttl", "3");
        m
    }

    /// `t=status st=… dt=… protocol=1`.
    pub fn status(&mut self, st: &str, dt_ms: u64) -> Message {
        let dt = format!("{dt_ms:x}");
        self.msg(&[("t", "status"), ("st", st), ("dt", &dt), ("protocol", "1")])
    }

    /// An `NS_` message (no seq, no ld).
    pub fn ns(&self, fields: &[(&str, &str)]) -> Message {
        let mut m = Message::new();
        for (k, v) in fields {
            m.push_str(k, v);
        }
        m.push_str("src", &self.name);
        m.push("srcuuid", FT_BINARY, self.uuid.to_vec());
        m.push_str("hg", &format!("{:x}", self.generation));
        m.push_str("ts", &format!("{:x}", self.wall));
        m.push_str("ttl", "3");
        m
    }
}

/// Alpha started and bravo answered with `status up`: comm is up after the
/// `reqnodes`/`repnodes` exchange. Returns the sim (actions drained) and bravo.
pub(super) fn alpha_with_active_bravo() -> (Sim, Peer) {
    let mut sim = Sim::new(params("alpha"));
    sim.core.set_ack_trigger("bravo", 5);
    sim.core.set_ack_trigger("alpha", 6);
    sim.start();
    let mut bravo = Peer::bravo();
    sim.advance(100);
    sim.deliver(bravo.status("init", 5000));
    let rep = bravo.msg(&[
        ("dest", "alpha"),
        ("t", "repnodes"),
        ("nodelist", "alpha bravo "),
        ("delnodelist", " "),
    ]);
    sim.deliver(rep);
    sim.deliver(bravo.status("active", 3000));
    assert!(sim.core.comm_up());
    sim.take();
    (sim, bravo)
}
