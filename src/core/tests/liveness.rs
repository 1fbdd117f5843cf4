//! Node and link liveness (§6.2), restarts and healed partitions (§5.2).

use super::*;

fn two_link_params() -> CoreParams {
    let mut p = params("alpha");
    p.link_names = vec!["eth0".into(), "eth1".into()];
    p
}

#[test]
fn peer_dies_exactly_after_its_advertised_dt() {
    let (mut sim, mut bravo) = alpha_with_active_bravo();
    // bravo advertised dt=bb8 (3000) in its last status at 100
    assert_eq!(sim.timer(&TimerKey::NodeDead("bravo".into())), Some(3101));
    sim.advance_to(600);
    sim.deliver(bravo.status("active", 3000));
    assert_eq!(sim.timer(&TimerKey::NodeDead("bravo".into())), Some(3601));
    // A stale timer (the daemon fired early) only re-arms.
    sim.fire(TimerKey::NodeDead("bravo".into()));
    assert_eq!(sim.core.node_status("bravo"), Some("active"));
    assert_eq!(sim.timer(&TimerKey::NodeDead("bravo".into())), Some(3601));
    sim.advance_to(3600); // exactly dt after the last status: still alive
    assert_eq!(sim.core.node_status("bravo"), Some("active"));
    sim.take();
    sim.advance_to(3601);
    let acts = sim.take();
    assert_eq!(sim.core.node_status("bravo"), Some("dead"));
    let texts = logs(&acts);
    let dead = texts
        .iter()
        .position(|t| t == "node bravo: is dead")
        .unwrap();
    let link = texts
        .iter()
        .position(|t| t == "Link bravo:eth0 dead.")
        .unwrap();
    assert!(dead < link);
    assert!(acts.contains(&Action::NodeStatus {
        node: "bravo".into(),
        status: "dead".into()
    }));
    assert!(acts.contains(&Action::LinkStatus {
        node: "bravo".into(),
        link: 0,
        up: false
    }));
}

#[test]
fn advertised_start_up_dt_is_honoured() {
    let (mut sim, mut bravo) = alpha_with_active_bravo();
    sim.advance_to(1000);
    sim.deliver(bravo.status("active", 5000)); // dt=1388
    sim.advance_to(6000);
    assert_eq!(sim.core.node_status("bravo"), Some("active"));
    sim.advance_to(6001);
    assert_eq!(sim.core.node_status("bravo"), Some("dead"));
}

#[test]
fn before_comm_up_initdead_applies() {
    let mut sim = Sim::new(params("alpha"));
    sim.start();
    let mut bravo = Peer::bravo();
    sim.advance_to(100);
    sim.deliver(bravo.status("up", 3000));
    // reqnodes sent, no reply: comm is not up, but links are: dt applies
    assert!(!sim.core.comm_up());
    assert_eq!(sim.timer(&TimerKey::NodeDead("bravo".into())), Some(3101));

    // A peer we never hear from is given initdead.
    let mut p = params("alpha");
    p.nodes.push("charlie".into());
    let mut sim = Sim::new(p);
    sim.start();
    let mut bravo = Peer::bravo();
    for t in (100..=6000).step_by(500) {
        sim.advance_to(t);
        sim.deliver(bravo.status("up", 3000));
    }
    sim.advance_to(6000);
    sim.deliver(bravo.status("up", 3000));
    assert_eq!(sim.timer(&TimerKey::NodeDead("bravo".into())), Some(12001));
    assert_eq!(sim.timer(&TimerKey::NodeDead("charlie".into())), Some(6001));
    sim.advance_to(6001);
    assert_eq!(sim.core.node_status("charlie"), Some("dead"));
    assert_eq!(sim.core.node_status("bravo"), Some("up"));
    // charlie dead, bravo heard: now each node's dt counts
    assert_eq!(sim.timer(&TimerKey::NodeDead("bravo".into())), Some(9001));
    let req: Vec<String> = sim
        .sent()
        .iter()
        .filter(|m| m.msg_type() == Some("reqnodes"))
        .map(|m| m.get_str("dest").unwrap().to_string())
        .collect();
    assert_eq!(req, ["bravo"]);
}

#[test]
fn late_heartbeats_are_reported_when_they_arrive() {
    let (mut sim, mut bravo) = alpha_with_active_bravo();
    sim.timers.clear(); // the daemon was too busy to run timers
    sim.advance_to(2600);
    sim.deliver(bravo.status("active", 5000));
    let acts = sim.take();
    assert!(has_log(
        &acts,
        Level::Warn,
        "Late heartbeat: Node bravo: interval 2500 ms"
    ));
    assert_eq!(sim.core.node_status("bravo"), Some("active"));
    assert_eq!(sim.core.counters().late_heartbeats, 1);
    let bravo_state = sim.core.nodes().iter().find(|n| n.name() == "bravo");
    assert_eq!(bravo_state.and_then(|n| n.last_status_ms()), Some(2600));
    assert_eq!(
        bravo_state.and_then(|n| n.links().first().and_then(|l| l.last_heard_ms())),
        Some(2600)
    );

    sim.timers.clear();
    sim.advance_to(6100);
    sim.deliver(bravo.status("active", 5000));
    let acts = sim.take();
    let texts = logs(&acts);
    let crit = "Late heartbeat: Node bravo: interval 3500 ms (> deadtime)";
    assert!(has_log(&acts, Level::Crit, crit));
    let i_crit = texts.iter().position(|t| t == crit).unwrap();
    let i_dead = texts
        .iter()
        .position(|t| t == "node bravo: is dead")
        .unwrap();
    let i_up = texts
        .iter()
        .position(|t| t == "Status update for node bravo: status active")
        .unwrap();
    assert!(i_crit < i_dead && i_dead < i_up);
    assert_eq!(sim.core.counters().late_heartbeats, 2);
    assert_eq!(sim.core.node_status("bravo"), Some("active"));
}

#[test]
fn links_go_up_and_die_independently() {
    let mut sim = Sim::new(two_link_params());
    sim.start();
    sim.take();
    let mut bravo = Peer::bravo();
    sim.advance_to(100);
    let st = bravo.status("up", 3000);
    sim.deliver_on(0, st.clone());
    sim.deliver_on(1, st);
    let acts = sim.take();
    assert!(has_log(&acts, Level::Info, "Link bravo:eth0 up."));
    assert!(has_log(&acts, Level::Info, "Link bravo:eth1 up."));
    assert_eq!(sim.core.counters().duplicates, 1);
    // only one status processing for the two copies
    let updates = logs(&acts)
        .iter()
        .filter(|t| t.starts_with("Status update"))
        .count();
    assert_eq!(updates, 1);
    // eth1 goes quiet; eth0 keeps carrying heartbeats
    for t in (600..=5100).step_by(500) {
        sim.advance_to(t);
        sim.deliver_on(0, bravo.status("up", 3000));
    }
    let acts = sim.take();
    assert!(has_log(&acts, Level::Info, "Link bravo:eth1 dead."));
    assert!(!has_log(&acts, Level::Info, "Link bravo:eth0 dead."));
    assert_eq!(sim.core.link_status("bravo", 1), Some("dead"));
    assert_eq!(sim.core.link_status("bravo", 0), Some("up"));
    assert_eq!(sim.core.node_status("bravo"), Some("up"));
    // and comes back
    sim.deliver_on(1, bravo.status("up", 3000));
    assert!(has_log(&sim.take(), Level::Info, "Link bravo:eth1 up."));
}

#[test]
fn media_with_the_same_name_share_a_link() {
    let mut p = params("alpha");
    p.link_names = vec!["eth0".into(), "eth0".into()];
    let mut sim = Sim::new(p);
    sim.start();
    sim.take();
    let mut bravo = Peer::bravo();
    sim.deliver_on(1, bravo.status("up", 3000));
    assert_eq!(sim.core.link_status("bravo", 0), Some("up"));
    assert_eq!(sim.core.link_status("bravo", 1), Some("up"));
}

#[test]
fn own_broadcast_echo_brings_our_link_up_only() {
    let mut sim = Sim::new(params("alpha"));
    sim.start();
    let mine = sim.sent();
    let last = mine.last().unwrap().clone();
    sim.deliver(last);
    let acts = sim.take();
    assert!(has_log(&acts, Level::Info, "Link alpha:eth0 up."));
    assert!(transmits(&acts).is_empty());
    assert_eq!(sim.core.counters().own_echoes, 1);
    assert_eq!(sim.core.counters().duplicates, 0);
    assert_eq!(sim.core.counters().accepted, 0);
    // our own link never times out
    assert_eq!(sim.timer(&TimerKey::LinkDead("alpha".into(), 0)), None);
}

#[test]
fn peer_restart_resets_tracking() {
    let (mut sim, mut bravo) = alpha_with_active_bravo();
    for _ in 0..5 {
        sim.deliver(bravo.status("active", 3000));
    }
    let mut reborn = Peer::bravo();
    reborn.generation = BRAVO_GEN + 1;
    sim.take();
    sim.deliver(reborn.status("init", 5000));
    let acts = sim.take();
    assert!(has_log(
        &acts,
        Level::Info,
        "Heartbeat restart on node bravo"
    ));
    assert!(has_log(
        &acts,
        Level::Info,
        "Status update for node bravo: status init"
    ));
    assert!(!logs(&acts).iter().any(|t| t.contains("lost packet")));
    assert_eq!(sim.core.node("bravo").unwrap().last_seq(), Some(1));
    sim.deliver(reborn.status("up", 5000));
    assert_eq!(sim.core.node_status("bravo"), Some("up"));
    // the old incarnation's packets are now replays
    sim.deliver(bravo.status("active", 3000));
    assert_eq!(sim.core.counters().dropped_replay, 1);
}

struct PartitionWatcher {
    healed: std::rc::Rc<std::cell::RefCell<Vec<String>>>,
}

impl UpperLayer for PartitionWatcher {
    fn on_partition_healed(&mut self, ctx: &mut UpperCtx, node: &str) {
        self.healed.borrow_mut().push(node.to_string());
        ctx.send_local_status();
    }
}

#[test]
fn same_generation_after_death_is_a_healed_partition() {
    let healed = std::rc::Rc::new(std::cell::RefCell::new(Vec::new()));
    let watcher = PartitionWatcher {
        healed: healed.clone(),
    };
    let mut sim = Sim::with_upper(params("alpha"), Box::new(watcher));
    sim.start();
    let mut bravo = Peer::bravo();
    sim.advance_to(100);
    sim.deliver(bravo.status("up", 3000));
    let rep = bravo.msg(&[
        ("dest", "alpha"),
        ("t", "repnodes"),
        ("nodelist", "alpha bravo "),
    ]);
    sim.deliver(rep);
    sim.deliver(bravo.status("active", 3000));
    // the cable is cut for 7 s
    sim.advance_to(7100);
    assert_eq!(sim.core.node_status("bravo"), Some("dead"));
    bravo.next_seq += 14; // bravo kept sending into the void
    sim.take();
    sim.deliver(bravo.status("active", 3000));
    let acts = sim.take();
    let texts = logs(&acts);
    let order = [
        "Cluster node bravo returning after partition.",
        "Deadtime value may be too small.",
        "Link bravo:eth0 up.",
        "Late heartbeat: Node bravo: interval 7000 ms (> deadtime)",
        "node bravo: is dead",
        "Status update for node bravo: status active",
    ];
    let pos: Vec<usize> = order
        .iter()
        .map(|o| texts.iter().position(|t| t == o).unwrap_or(usize::MAX))
        .collect();
    assert!(pos.windows(2).all(|w| w[0] < w[1]), "{texts:#?}");
    assert!(has_log(
        &acts,
        Level::Crit,
        "Cluster node bravo returning after partition."
    ));
    assert_eq!(*healed.borrow(), ["bravo"]);
    // the hook asked for an immediate status
    let first_status = transmits(&acts)
        .iter()
        .position(|m| m.msg_type() == Some("status"));
    assert!(first_status.is_some());
    assert_eq!(sim.core.node_status("bravo"), Some("active"));
}

#[test]
fn stale_status_from_dead_node_is_dropped() {
    let (mut sim, mut bravo) = alpha_with_active_bravo();
    let old = bravo.status("active", 3000);
    sim.deliver(bravo.status("active", 3000));
    sim.advance_to(4000);
    assert_eq!(sim.core.node_status("bravo"), Some("dead"));
    sim.deliver(old);
    assert_eq!(sim.core.counters().dropped_stale_status, 1);
    assert_eq!(sim.core.node_status("bravo"), Some("dead"));
}
