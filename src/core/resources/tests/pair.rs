//! Two nodes of ours wired together: every transmitted message is delivered
//! to the other node, jobs finish after `job_ms`. Both roles of every
//! exchange run our code.

use super::*;
use crate::core::resources::{standby_request, takeover_request};

const STEP_MS: u64 = 10;

struct Member {
    node: Node,
    /// Global time at which this node's clock read 0.
    origin: u64,
    running: bool,
}

pub(super) struct Pair {
    members: [Member; 2],
    now: u64,
    job_ms: u64,
    /// Resource messages in delivery order: `alpha: t=…`.
    pub transcript: Vec<String>,
}

impl Pair {
    fn new(groups: &[ResourceGroup], af: AutoFailback, fast: bool) -> Pair {
        let member = |name: &str| Member {
            node: Node::new(name, groups, af, opts(fast)),
            origin: 0,
            running: false,
        };
        Pair {
            members: [member("alpha"), member("bravo")],
            now: 0,
            job_ms: 300,
            transcript: Vec::new(),
        }
    }

    fn alpha(&mut self) -> &mut Node {
        &mut self.members[0].node
    }

    fn bravo(&mut self) -> &mut Node {
        &mut self.members[1].node
    }

    fn start(&mut self, i: usize) {
        let m = &mut self.members[i];
        m.origin = self.now;
        m.running = true;
        m.node.start();
        self.exchange();
    }

    /// Node `i` stops dead (SIGKILL): no more packets either way.
    fn crash(&mut self, i: usize) {
        self.members[i].running = false;
    }

    /// Node `i` restarts as a new process with a new generation.
    fn restart(&mut self, i: usize, groups: &[ResourceGroup], af: AutoFailback) {
        let name = self.members[i].node.name.clone();
        let mut p = params(&name);
        p.generation += 1;
        self.members[i].node = Node::with_params(p, groups, af, opts(true));
        self.start(i);
    }

    /// Deliver everything in flight until both sides are quiet.
    fn exchange(&mut self) {
        for _ in 0..100 {
            let mut moved = false;
            for from in 0..2 {
                let to = 1 - from;
                let msgs = std::mem::take(&mut self.members[from].node.wire);
                if !self.members[from].running {
                    continue;
                }
                for m in msgs {
                    moved = true;
                    if m.msg_type().is_some_and(|t| {
                        !matches!(t, "status" | "reqnodes" | "repnodes") && !t.starts_with("NS_")
                    }) {
                        let who = self.members[from].node.name.clone();
                        self.transcript.push(format!("{who}: {}", line(&m)));
                    }
                    if self.members[to].running {
                        self.members[to].node.deliver(m);
                    }
                }
            }
            if !moved {
                return;
            }
        }
        panic!("message storm between the nodes");
    }

    fn finish_due_jobs(&mut self) {
        for m in self.members.iter_mut().filter(|m| m.running) {
            let now = m.node.now();
            while m
                .node
                .jobs
                .front()
                .is_some_and(|(_, _, at)| at + self.job_ms <= now)
            {
                m.node.finish_job(JobOutcome::Ok);
            }
        }
    }

    fn run(&mut self, ms: u64) {
        let end = self.now + ms;
        while self.now < end {
            self.now += STEP_MS;
            for m in self.members.iter_mut().filter(|m| m.running) {
                let t = self.now - m.origin;
                m.node.sim.advance_to(t);
                m.node.collect();
            }
            self.exchange();
            self.finish_due_jobs();
            self.exchange();
        }
    }

    /// Run until `done` holds (checked every step), at most `ms`; returns
    /// the time it took.
    fn run_until(&mut self, ms: u64, done: impl Fn(&Pair) -> bool) -> u64 {
        let start = self.now;
        while !done(self) {
            assert!(self.now - start < ms, "not reached within {ms} ms");
            self.run(STEP_MS);
        }
        self.now - start
    }

    fn holds(&self, i: usize) -> (&'static str, Vec<String>) {
        let n = &self.members[i].node;
        (n.rsc_hold(), n.owned())
    }
}

fn both_settled(p: &Pair, alpha: &str, bravo: &str) -> bool {
    p.members[0].node.rsc_hold() == alpha && p.members[1].node.rsc_hold() == bravo
}

fn started_together(fast: bool) -> Pair {
    let mut p = Pair::new(&two_groups(), AutoFailback::On, fast);
    p.start(0);
    p.run(210);
    p.start(1);
    p
}

#[test]
fn two_of_ours_starting_together_take_their_groups_without_rqstdelay() {
    let mut p = started_together(true);
    let took = p.run_until(20_000, |p| both_settled(p, "local", "local"));
    assert!(took < 4000, "took {took} ms");
    assert_eq!(p.holds(0), ("local", vec![ALPHA_KEY.to_string()]));
    assert_eq!(p.holds(1), ("local", vec![BRAVO_KEY.to_string()]));
    // Nothing but the start-up exchange: each side reports and self-grants.
    assert!(p
        .transcript
        .iter()
        .all(|l| !l.contains("ask_resources") && !l.contains("stonith")));
    p.run(12_000);
    assert_eq!(p.holds(0), ("local", vec![ALPHA_KEY.to_string()]));
    assert_eq!(p.holds(1), ("local", vec![BRAVO_KEY.to_string()]));
}

#[test]
fn without_fast_start_both_wait_for_rqstdelay() {
    let mut p = started_together(false);
    let took = p.run_until(20_000, |p| both_settled(p, "local", "local"));
    assert!(took >= 9000, "took {took} ms");
}

#[test]
fn crash_takeover_and_auto_failback_between_two_of_ours() {
    let mut p = started_together(true);
    p.run_until(20_000, |p| both_settled(p, "local", "local"));
    p.crash(0);
    p.run_until(10_000, |p| p.members[1].node.rsc_hold() == "all");
    assert_eq!(
        p.holds(1).1,
        vec![ALPHA_KEY.to_string(), BRAVO_KEY.to_string()]
    );
    assert!(p
        .transcript
        .contains(&"bravo: t=stonith node=alpha result=n_stnth".to_string()));
    p.transcript.clear();
    p.restart(0, &two_groups(), AutoFailback::On);
    p.run_until(20_000, |p| both_settled(p, "local", "local"));
    assert_eq!(p.holds(0).1, vec![ALPHA_KEY.to_string()]);
    assert_eq!(p.holds(1).1, vec![BRAVO_KEY.to_string()]);
    let phases: Vec<&str> = p
        .transcript
        .iter()
        .filter(|l| l.contains("ask_resources"))
        .map(String::as_str)
        .collect();
    assert_eq!(
        phases,
        [
            "bravo: t=ask_resources rsc_hold=foreign info=me",
            "alpha: t=ask_resources rsc_hold=foreign info=other",
            "bravo: t=ask_resources rsc_hold=foreign info=done",
            "alpha: t=ask_resources rsc_hold=foreign info=done",
        ]
    );
}

#[test]
fn hb_standby_and_hb_takeover_between_two_of_ours() {
    let mut p = started_together(true);
    p.run_until(20_000, |p| both_settled(p, "local", "local"));
    p.alpha().fifo(standby_request(Some("local")).unwrap());
    p.run_until(10_000, |p| both_settled(p, "none", "all"));
    assert_eq!(p.holds(0).1, Vec::<String>::new());
    assert_eq!(
        p.holds(1).1,
        vec![ALPHA_KEY.to_string(), BRAVO_KEY.to_string()]
    );
    // hb_takeover all on alpha: bravo goes standby for everything.
    p.alpha().fifo(takeover_request(Some("all")).unwrap());
    p.run_until(10_000, |p| both_settled(p, "all", "none"));
    assert_eq!(
        p.holds(0).1,
        vec![ALPHA_KEY.to_string(), BRAVO_KEY.to_string()]
    );
    assert!(p
        .transcript
        .contains(&"bravo: t=ask_resources rsc_hold=all info=me".to_string()));
}

#[test]
fn shutdown_of_one_of_ours_hands_everything_to_the_other() {
    let mut p = started_together(true);
    p.run_until(20_000, |p| both_settled(p, "local", "local"));
    p.transcript.clear();
    p.alpha().command(Command::Shutdown);
    p.run_until(10_000, |p| p.members[0].node.exited());
    assert_eq!(p.holds(0).1, Vec::<String>::new());
    p.crash(0);
    p.run_until(10_000, |p| {
        p.transcript
            .contains(&"bravo: t=stonith node=alpha result=unneeded".to_string())
    });
    assert_eq!(
        p.holds(1),
        ("all", vec![ALPHA_KEY.to_string(), BRAVO_KEY.to_string()])
    );
    assert_eq!(
        p.transcript[..2],
        [
            "alpha: t=resource rsc_hold=none rtype=full isstable=0 info=shutdown".to_string(),
            "alpha: t=shutdone st=dead".to_string(),
        ]
    );
    let _ = p.bravo();
}
