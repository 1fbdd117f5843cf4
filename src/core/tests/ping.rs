//! Ping nodes: status from echo replies, `deadping`, comm-up, what clients
//! are told (spec ping §1).

use super::*;
use crate::core::pingnodes::echo_payload;

fn gw() -> PingNodeParams {
    PingNodeParams {
        name: "gw".into(),
        hosts: vec!["GW".into()],
        group: false,
        position: 0,
    }
}

/// The lab's 1a config: keepalive 500, deadtime 3, deadping 4, initdead 6.
fn ping_params() -> CoreParams {
    let mut p = params("alpha");
    p.ping_nodes = vec![gw()];
    p.deadping_ms = 4000;
    p
}

/// The echo of our latest status (as the ping host's kernel returns it).
fn echo(sim: &Sim) -> Message {
    let ts = format!("{:x}", sim.now.wall_secs);
    echo_payload(&gw(), &ts)
}

fn reply(sim: &mut Sim, msg: Message) {
    sim.input(Input::PingReply(msg));
}

fn delivered(acts: &[Action]) -> Vec<String> {
    acts.iter()
        .filter_map(|a| match a {
            Action::Deliver(m) => Some(brief(m, &["src", "node", "st", "info", "seq"])),
            _ => None,
        })
        .collect()
}

/// Alpha with bravo active and the ping node answering since t=100.
fn alpha_bravo_gw() -> (Sim, Peer) {
    let mut sim = Sim::new(ping_params());
    sim.start();
    let mut bravo = Peer::bravo();
    sim.advance(100);
    let m = echo(&sim);
    reply(&mut sim, m);
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

#[test]
fn an_answer_makes_the_ping_node_ping() {
    let mut sim = Sim::new(ping_params());
    sim.start();
    // The ping node counts in ttl (hopfudge 1 + 2 nodes + 1 ping node).
    let sent = sim.sent();
    assert!(sent.iter().all(|m| m.get_str("ttl") == Some("4")));
    assert_eq!(sim.core.ping_nodes()[0].status(), "init");
    sim.advance(100);
    let m = echo(&sim);
    reply(&mut sim, m);
    let acts = sim.take();
    assert_eq!(
        logs(&acts),
        ["Link gw:gw up.", "Status update for node gw: status ping"]
    );
    assert!(acts.contains(&Action::NodeStatus {
        node: "gw".into(),
        status: "ping".into()
    }));
    assert!(acts.contains(&Action::LinkStatus {
        node: "gw".into(),
        link: 1,
        up: true
    }));
    assert_eq!(sim.core.link_label(1), Some("gw"));
    assert_eq!(sim.core.link_label(0), Some("eth0"));
    assert_eq!(
        delivered(&acts),
        [
            "ifstat src=- node=gw st=up info=- seq=-",
            "NS_st src=GW node=- st=ping info=ping seq=-"
        ]
    );
    let gw = &sim.core.ping_nodes()[0];
    assert_eq!((gw.status(), gw.link_up()), ("ping", true));
    // Further answers change nothing but the deadline.
    sim.advance(500);
    let m = echo(&sim);
    reply(&mut sim, m);
    assert!(logs(&sim.take()).is_empty());
    assert_eq!(
        sim.timer(&TimerKey::PingDead("gw".into())),
        Some(600 + 6001)
    );
}

#[test]
fn comm_up_waits_for_the_ping_node_as_heartbeat_does() {
    let mut sim = Sim::new(ping_params());
    sim.start();
    let mut bravo = Peer::bravo();
    sim.advance(100);
    sim.deliver(bravo.status("init", 5000));
    // Every normal node was heard from, but the ping node was not.
    assert!(!sim.sent().iter().any(|m| m.msg_type() == Some("reqnodes")));
    let m = echo(&sim);
    reply(&mut sim, m);
    assert!(sim.sent().iter().any(|m| m.msg_type() == Some("reqnodes")));
}

#[test]
fn a_silent_ping_host_is_dead_after_initdead_then_comm_comes_up() {
    let mut sim = Sim::new(ping_params());
    sim.start();
    let mut bravo = Peer::bravo();
    sim.advance(100);
    sim.deliver(bravo.status("init", 5000));
    sim.advance_to(6000);
    assert_eq!(sim.core.ping_nodes()[0].status(), "init");
    sim.take();
    sim.advance_to(6001);
    let acts = sim.take();
    assert_eq!(sim.core.ping_nodes()[0].status(), "dead");
    assert!(has_log(&acts, Level::Warn, "node gw: is dead"));
    // The link never came up, so it does not "die".
    assert!(!logs(&acts).iter().any(|l| l.starts_with("Link gw")));
    assert!(transmits(&acts)
        .iter()
        .any(|m| m.msg_type() == Some("reqnodes")));
}

#[test]
fn deadping_without_an_answer_kills_node_then_link() {
    let (mut sim, mut bravo) = alpha_bravo_gw();
    // Last answer at 100; comm is up so deadping (4000) applies.
    assert_eq!(sim.timer(&TimerKey::PingDead("gw".into())), Some(4101));
    // bravo keeps beating; the ping host stays silent.
    for t in (600..4100).step_by(500) {
        sim.advance_to(t);
        sim.deliver(bravo.status("active", 3000));
    }
    sim.advance_to(4100);
    assert_eq!(sim.core.ping_nodes()[0].status(), "ping");
    sim.take();
    sim.advance_to(4101);
    let acts = sim.take();
    assert_eq!(
        logs(&acts),
        ["node gw: is dead", "Link gw:gw dead."],
        "node first, its link in the same tick"
    );
    let wall = format!("{:x}", sim.now.wall_secs);
    assert_eq!(
        delivered(&acts),
        [
            "status src=gw node=- st=dead info=ping seq=1".to_string(),
            "ifstat src=- node=gw st=dead info=- seq=-".to_string()
        ]
    );
    let dead = acts
        .iter()
        .find_map(|a| match a {
            Action::Deliver(m) if m.msg_type() == Some("status") => Some(m.clone()),
            _ => None,
        })
        .expect("dead notice");
    let names: Vec<&str> = dead.fields.iter().map(|f| f.name.as_str()).collect();
    assert_eq!(names, ["t", "seq", "ts", "src", "st", "info"]);
    assert_eq!(dead.get_str("ts"), Some(wall.as_str()));
    assert!(acts.contains(&Action::NodeStatus {
        node: "gw".into(),
        status: "dead".into()
    }));
    // A normal node is unaffected, and no cluster message mentions gw.
    assert_eq!(sim.core.node_status("bravo"), Some("active"));
    assert!(transmits(&acts).is_empty());
}

#[test]
fn a_returning_ping_host_is_late_dead_again_then_ping() {
    let (mut sim, _bravo) = alpha_bravo_gw();
    sim.advance_to(4101);
    assert_eq!(sim.core.ping_nodes()[0].status(), "dead");
    sim.take();
    sim.advance_to(20_000);
    sim.take();
    let m = echo(&sim);
    reply(&mut sim, m);
    let acts = sim.take();
    assert_eq!(
        logs(&acts),
        [
            "Link gw:gw up.",
            "Late heartbeat: Node gw: interval 19900 ms (> deadtime)",
            "node gw: is dead",
            "Status update for node gw: status ping"
        ]
    );
    assert_eq!(
        delivered(&acts),
        [
            "ifstat src=- node=gw st=up info=- seq=-",
            "status src=gw node=- st=dead info=ping seq=1",
            "NS_st src=GW node=- st=ping info=ping seq=-"
        ]
    );
    assert_eq!(sim.core.ping_nodes()[0].status(), "ping");
}

#[test]
fn replies_that_do_not_match_are_refused() {
    let (mut sim, _bravo) = alpha_bravo_gw();
    sim.advance_to(1000);
    let good = echo(&sim);
    let mut cases: Vec<(Message, PingReject)> = Vec::new();
    let mut m = good.clone();
    m.set_str("t", "status");
    cases.push((m, PingReject::NotNsStatus));
    let mut m = good.clone();
    m.set_str("src", "bravo");
    cases.push((m, PingReject::UnknownNode));
    let mut m = good.clone();
    m.set_str("info", "ping_group");
    cases.push((m, PingReject::WrongInfo));
    let mut m = good.clone();
    m.set_str("ts", "zz");
    cases.push((m, PingReject::BadTimestamp));
    // A ts we never sent: a replay of an old echo, or a forged one.
    let mut m = good.clone();
    m.set_str("ts", &format!("{:x}", WALL0 - 3600));
    cases.push((m, PingReject::Stale));
    for (msg, why) in cases {
        let mut out = Vec::new();
        let got = sim.core.on_ping_reply(sim.now, &msg, &mut out);
        assert_eq!(got, Err(why));
        assert!(out.is_empty());
    }
    let mut out = Vec::new();
    assert_eq!(sim.core.on_ping_reply(sim.now, &good, &mut out), Ok(()));
}

#[test]
fn echoes_of_statuses_older_than_the_dead_interval_are_stale() {
    let (mut sim, _bravo) = alpha_bravo_gw();
    let old = echo(&sim);
    // Statuses keep going out; the old ts ages beyond deadping + slack.
    sim.advance_to(9000);
    sim.take();
    let mut out = Vec::new();
    assert_eq!(
        sim.core.on_ping_reply(sim.now, &old, &mut out),
        Err(PingReject::Stale)
    );
}

#[test]
fn a_ping_group_answers_with_its_own_info() {
    let mut p = ping_params();
    p.ping_nodes = vec![PingNodeParams {
        name: "routers".into(),
        hosts: vec!["10.0.0.1".into(), "10.0.0.2".into()],
        group: true,
        position: 2,
    }];
    let mut sim = Sim::new(p);
    sim.start();
    sim.advance(100);
    let ts = format!("{:x}", sim.now.wall_secs);
    let node = sim.core.ping_nodes()[0].params().clone();
    let msg = echo_payload(&node, &ts);
    assert_eq!(msg.get_str("info"), Some("ping_group"));
    assert_eq!(msg.get_str("src"), Some("routers"));
    reply(&mut sim, msg.clone());
    // A second member answering the same status changes nothing.
    sim.take();
    reply(&mut sim, msg);
    assert!(logs(&sim.take()).is_empty());
    assert_eq!(sim.core.ping_nodes()[0].status(), "ping");
}
