//! Scenario tests of the resource layer driven through the full core: a
//! node of ours against a scripted peer that sends what the real 3.0.6 peer
//! sent in the captures (wire-samples/bcast-*, hb306-bcast-2node), or two
//! nodes of ours wired together. Time is simulated; nothing sleeps.

mod failures;
mod fencing;
mod legacy;
mod pair;
mod shutdown;
mod standby;
mod startup;
mod takeover;
mod wire;

use std::collections::VecDeque;

use super::{ResourceManager, ResourceOptions, ResourceView};
use crate::config::model::{AutoFailback, Origin, Resource, ResourceGroup};
use crate::core::tests::{params, Peer, Sim};
use crate::core::{Action, Command, CoreParams, Input, JobId, JobOutcome, Level, ResourceJob};
use crate::wire::Message;

/// alpha's group in the lab (bcast-*) captures.
pub(super) const ALPHA_KEY: &str = "IPaddr2::198.18.0.100/24/eth0";
/// A group for bravo, for scenarios where both nodes have one.
pub(super) const BRAVO_KEY: &str = "LabRsc::grpB";
pub(super) const PID: u32 = 2802;

pub(super) fn group(node: &str, key: &str) -> ResourceGroup {
    let (script, args) = match key.split_once("::") {
        Some((s, a)) => (s.to_string(), vec![a.to_string()]),
        None => (key.to_string(), Vec::new()),
    };
    ResourceGroup {
        node: node.into(),
        key: key.into(),
        resources: vec![Resource {
            spec: key.into(),
            script,
            args,
        }],
        origin: Origin::default(),
    }
}

/// The lab's haresources: `alpha IPaddr2::198.18.0.100/24/eth0 labsvc`.
pub(super) fn lab_groups() -> Vec<ResourceGroup> {
    vec![group("alpha", ALPHA_KEY)]
}

/// One group per node.
pub(super) fn two_groups() -> Vec<ResourceGroup> {
    vec![group("alpha", ALPHA_KEY), group("bravo", BRAVO_KEY)]
}

pub(super) fn opts(fast_start: bool) -> ResourceOptions {
    ResourceOptions {
        manage_resources: true,
        fast_start,
        deadtime_ms: 3000,
        pid: PID,
        ..ResourceOptions::default()
    }
}

fn is_resource_msg(m: &Message) -> bool {
    !matches!(
        m.msg_type(),
        Some("status" | "reqnodes" | "repnodes") | None
    ) && !m.msg_type().is_some_and(|t| t.starts_with("NS_"))
}

const CONTROL: [&str; 9] = [
    "src", "srcuuid", "destuuid", "seq", "hg", "ts", "ld", "ttl", "auth",
];

/// The caller fields of a message in wire order: `t=resource rsc_hold=…`.
pub(super) fn line(m: &Message) -> String {
    m.fields
        .iter()
        .filter(|f| !CONTROL.contains(&f.name.as_str()))
        .map(|f| format!("{}={}", f.name, String::from_utf8_lossy(&f.value)))
        .collect::<Vec<_>>()
        .join(" ")
}

pub(super) fn take(keys: &[&str]) -> ResourceJob {
    ResourceJob::Take {
        keys: keys.iter().map(|k| k.to_string()).collect(),
    }
}

pub(super) fn give(keys: &[&str]) -> ResourceJob {
    ResourceJob::Give {
        keys: keys.iter().map(|k| k.to_string()).collect(),
    }
}

/// One node of ours: the core with a [`ResourceManager`], the simulated
/// daemon around it, and an optional scripted peer kept alive by statuses.
pub(super) struct Node {
    pub sim: Sim,
    pub view: ResourceView,
    pub name: String,
    /// Every action since the start.
    pub history: Vec<Action>,
    /// Every message transmitted and not yet forwarded (for [`pair`]).
    pub wire: Vec<Message>,
    /// Resource-protocol messages sent and not yet read by the test.
    unread: Vec<Message>,
    /// Jobs asked for and not finished, oldest first, with the request time.
    pub jobs: VecDeque<(JobId, ResourceJob, u64)>,
    /// The scripted peer; while `peer_alive` it sends a status every 500 ms.
    pub peer: Peer,
    pub peer_alive: bool,
}

impl Node {
    pub fn new(
        local: &str,
        groups: &[ResourceGroup],
        af: AutoFailback,
        o: ResourceOptions,
    ) -> Node {
        Node::with_params(params(local), groups, af, o)
    }

    pub fn with_params(
        p: CoreParams,
        groups: &[ResourceGroup],
        af: AutoFailback,
        o: ResourceOptions,
    ) -> Node {
        let local = p.local_node.clone();
        let peers: Vec<String> = p.nodes.iter().filter(|n| **n != local).cloned().collect();
        let mgr = ResourceManager::new(&local, &peers, groups, af, o);
        let view = mgr.view();
        let peer = if local == "alpha" {
            Peer::bravo()
        } else {
            Peer::alpha()
        };
        Node {
            sim: Sim::with_upper(p, Box::new(mgr)),
            view,
            name: local,
            history: Vec::new(),
            wire: Vec::new(),
            unread: Vec::new(),
            jobs: VecDeque::new(),
            peer,
            peer_alive: false,
        }
    }

    pub fn now(&self) -> u64 {
        self.sim.now.mono_ms
    }

    fn collect(&mut self) {
        let now = self.now();
        for a in self.sim.take() {
            match &a {
                Action::RunJob { id, job } => self.jobs.push_back((*id, job.clone(), now)),
                Action::Transmit(m) => {
                    self.wire.push(m.clone());
                    if is_resource_msg(m) {
                        self.unread.push(m.clone());
                    }
                }
                _ => {}
            }
            self.history.push(a);
        }
    }

    pub fn start(&mut self) {
        self.sim.start();
        self.collect();
    }

    /// Move time on, firing due timers; a live peer beats every 500 ms.
    pub fn advance(&mut self, ms: u64) {
        let end = self.now() + ms;
        while self.now() < end {
            let step = (end - self.now()).min(500);
            self.sim.advance(step);
            self.collect();
            if self.peer_alive && step == 500 {
                self.peer.wall = self.sim.now.wall_secs;
                let st = self.peer.status("active", 3000);
                self.deliver(st);
            }
        }
    }

    pub fn deliver(&mut self, m: Message) {
        self.sim.deliver(m);
        self.collect();
    }

    /// A sequenced message from the scripted peer.
    pub fn peer_sends(&mut self, fields: &[(&str, &str)]) {
        self.peer.wall = self.sim.now.wall_secs;
        let m = self.peer.msg(fields);
        self.deliver(m);
    }

    /// A message written to our FIFO (hb_standby, hb_takeover...).
    pub fn fifo(&mut self, m: Message) {
        self.sim.fifo(m);
        self.collect();
    }

    pub fn command(&mut self, c: Command) {
        self.sim.command(c);
        self.collect();
    }

    pub fn input(&mut self, i: Input) {
        self.sim.input(i);
        self.collect();
    }

    /// Resource messages sent since the last call, as `line`s.
    pub fn sent(&mut self) -> Vec<String> {
        std::mem::take(&mut self.unread).iter().map(line).collect()
    }

    /// The oldest pending job.
    pub fn job(&self) -> Option<ResourceJob> {
        self.jobs.front().map(|(_, j, _)| j.clone())
    }

    /// Finish the oldest pending job; returns it.
    pub fn finish_job(&mut self, outcome: JobOutcome) -> ResourceJob {
        let (id, job, _) = self.jobs.pop_front().expect("a job is pending");
        self.input(Input::JobDone { id, outcome });
        job
    }

    /// Finish pending jobs (and those they lead to) successfully.
    pub fn finish_all_jobs(&mut self) -> Vec<ResourceJob> {
        let mut done = Vec::new();
        for _ in 0..20 {
            if self.jobs.is_empty() {
                break;
            }
            done.push(self.finish_job(JobOutcome::Ok));
        }
        done
    }

    pub fn logged(&self, level: Level, text: &str) -> bool {
        self.history
            .iter()
            .any(|a| matches!(a, Action::Log { level: l, text: t } if *l == level && t == text))
    }

    pub fn log_count(&self, text: &str) -> usize {
        self.history
            .iter()
            .filter(|a| matches!(a, Action::Log { text: t, .. } if t == text))
            .count()
    }

    pub fn rsc_hold(&self) -> &'static str {
        self.view.rsc_hold()
    }

    pub fn state(&self) -> &'static str {
        self.view.status().state
    }

    pub fn owned(&self) -> Vec<String> {
        self.view.status().owned_keys
    }

    pub fn exited(&self) -> bool {
        self.history
            .iter()
            .any(|a| matches!(a, Action::Exit { code: 0 }))
    }

    /// Started, the scripted peer answered (`init`, `repnodes`, `active`):
    /// comm is up and the peer stays alive.
    pub fn up_with_peer(
        local: &str,
        groups: &[ResourceGroup],
        af: AutoFailback,
        o: ResourceOptions,
    ) -> Node {
        let mut n = Node::new(local, groups, af, o);
        n.start();
        n.advance(100);
        let init = n.peer.status("init", 5000);
        n.deliver(init);
        let dest = n.name.clone();
        n.peer_sends(&[
            ("dest", &dest),
            ("t", "repnodes"),
            ("nodelist", "alpha bravo "),
            ("delnodelist", " "),
        ]);
        let active = n.peer.status("active", 3000);
        n.deliver(active);
        assert!(n.sim.core.comm_up());
        n.peer_alive = true;
        n
    }

    /// Started with nobody answering: after initdead the peer is dead and
    /// comm comes up alone.
    pub fn alone(
        local: &str,
        groups: &[ResourceGroup],
        af: AutoFailback,
        o: ResourceOptions,
    ) -> Node {
        let mut n = Node::new(local, groups, af, o);
        n.start();
        n.advance(6500);
        assert!(n.sim.core.comm_up());
        n
    }

    /// The peer stops beating; advance until it is declared dead.
    pub fn kill_peer(&mut self) {
        self.peer_alive = false;
        self.advance(3600);
        let peer = self.peer.name.clone();
        assert_eq!(self.sim.core.node_status(&peer), Some("dead"));
    }

    /// nice_failback, comm up with the peer and stable: we hold our local
    /// groups (taken and finished), the peer reported `local` stable.
    pub fn stable_with_peer(local: &str, groups: &[ResourceGroup], af: AutoFailback) -> Node {
        let mut n = Node::up_with_peer(local, groups, af, opts(false));
        n.peer_sends(&[("t", "starting")]);
        n.peer_sends(&[
            ("t", "resource"),
            ("rsc_hold", "local"),
            ("rtype", "full"),
            ("isstable", "1"),
        ]);
        n.finish_all_jobs();
        assert_eq!(n.state(), "STABLE");
        n.sent();
        n
    }
}
