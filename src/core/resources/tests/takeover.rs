//! Peer death (stonith step, mach_down) and rejoin with auto-failback.

use super::*;

fn resource(n: &mut Node, hold: &str, stable: &str) {
    n.peer_sends(&[
        ("t", "resource"),
        ("rsc_hold", hold),
        ("rtype", "full"),
        ("isstable", stable),
    ]);
}

/// bravo stable next to alpha, which holds its own group.
fn bravo_stable() -> Node {
    let n = Node::stable_with_peer("bravo", &lab_groups(), AutoFailback::On);
    assert_eq!(n.rsc_hold(), "local");
    n
}

/// bcast-failover: alpha is killed; bravo declares it dead, sends
/// `stonith n_stnth` (alpha held resources, no device), reports `all`
/// from req_our_resources, takes alpha's group and ends with `mach_down`.
#[test]
fn peer_crash_stonith_then_mach_down_like_bcast_failover() {
    let mut n = bravo_stable();
    n.kill_peer();
    assert_eq!(
        n.sent(),
        [
            "t=stonith node=alpha result=n_stnth",
            "t=resource rsc_hold=all rtype=full isstable=1 info=req_our_resources()",
        ]
    );
    assert!(n.logged(Level::Warn, "No STONITH device configured."));
    assert!(n.logged(Level::Warn, "Shared disks are not protected."));
    assert!(n.logged(Level::Info, "Resources being acquired from alpha."));
    assert_eq!(n.job(), Some(take(&[ALPHA_KEY])));
    assert_eq!(n.rsc_hold(), "transition");
    n.finish_job(JobOutcome::Ok);
    assert_eq!(n.sent(), ["t=resource rsc_hold=foreign info=mach_down"]);
    assert!(n.logged(Level::Info, "mach_down takeover complete for node alpha."));
    assert!(n.logged(Level::Info, "mach_down takeover complete."));
    assert_eq!(n.rsc_hold(), "all");
    assert_eq!(n.owned(), [ALPHA_KEY]);
}

/// A peer that never sent anything may hold anything: fence step too.
#[test]
fn peer_never_heard_from_gets_the_stonith_step_even_if_it_said_none() {
    let mut n = Node::alone("bravo", &lab_groups(), AutoFailback::On, opts(true));
    assert_eq!(n.sent()[0], "t=stonith node=alpha result=n_stnth");
}

fn bravo_holding_all() -> Node {
    let mut n = bravo_stable();
    n.kill_peer();
    n.finish_all_jobs();
    n.sent();
    assert_eq!(n.rsc_hold(), "all");
    n
}

/// alpha comes back with a new generation, as in bcast-failback.
fn alpha_returns(n: &mut Node) {
    n.peer.generation += 1;
    n.peer.next_seq = 1;
    let init = n.peer.status("init", 5000);
    n.deliver(init);
    n.peer_sends(&[("t", "reqnodes"), ("dest", "bravo")]);
    let up = n.peer.status("active", 3000);
    n.deliver(up);
    n.peer_alive = true;
}

/// bcast-failback, bravo's side: alpha rejoins, sees bravo holds its group,
/// stays empty and stable; bravo gives the group back with the 3-phase
/// standby protocol (auto_failback on).
#[test]
fn rejoin_with_auto_failback_gives_the_group_back_like_bcast_failback() {
    let mut n = bravo_holding_all();
    alpha_returns(&mut n);
    n.peer_sends(&[("t", "starting")]);
    assert_eq!(n.sent(), ["t=resource rsc_hold=all rtype=full isstable=1"]);
    resource(&mut n, "none", "0");
    resource(&mut n, "none", "1");
    assert_eq!(
        n.sent(),
        [
            "t=resource rsc_hold=all rtype=full isstable=1",
            "t=ask_resources rsc_hold=foreign info=me",
        ]
    );
    assert!(n.logged(Level::Info, "bravo wants to go standby [foreign]"));
    n.peer_sends(&[
        ("t", "ask_resources"),
        ("rsc_hold", "foreign"),
        ("info", "other"),
    ]);
    assert_eq!(
        n.sent(),
        ["t=resource rsc_hold=local rtype=full isstable=0 info=standby"]
    );
    assert!(n.logged(Level::Info, "standby: alpha can take our foreign resources"));
    assert!(n.logged(Level::Info, "give up foreign HA resources (standby)."));
    assert_eq!(n.finish_job(JobOutcome::Ok), give(&[ALPHA_KEY]));
    assert_eq!(n.sent(), ["t=ask_resources rsc_hold=foreign info=done"]);
    assert!(n.logged(Level::Info, "Local standby process completed [foreign]."));
    // alpha took its group.
    n.peer_sends(&[
        ("t", "ask_resources"),
        ("rsc_hold", "foreign"),
        ("info", "done"),
    ]);
    resource(&mut n, "local", "1");
    assert_eq!(
        n.sent(),
        [
            "t=resource rsc_hold=local rtype=full isstable=1",
            "t=resource rsc_hold=local rtype=full isstable=1",
        ]
    );
    assert!(n.logged(
        Level::Info,
        "Other node completed standby takeover of foreign resources."
    ));
    assert_eq!(n.rsc_hold(), "local");
    assert!(n.owned().is_empty());
}

/// bcast-failback, alpha's side: bravo holds everything; we take nothing
/// at start, then accept the failback and take our group.
#[test]
fn rejoining_node_takes_its_group_back_when_offered() {
    let mut n = Node::up_with_peer("alpha", &lab_groups(), AutoFailback::On, opts(true));
    assert_eq!(n.sent(), ["t=starting"]);
    resource(&mut n, "all", "1");
    assert_eq!(
        n.sent(),
        [
            "t=resource rsc_hold=none rtype=full isstable=0",
            "t=resource rsc_hold=none rtype=full isstable=1",
        ]
    );
    assert!(n.logged(Level::Info, "Local Resource acquisition completed. (none)"));
    assert!(n.jobs.is_empty());
    resource(&mut n, "all", "1");
    n.peer_sends(&[
        ("t", "ask_resources"),
        ("rsc_hold", "foreign"),
        ("info", "me"),
    ]);
    assert_eq!(n.sent(), ["t=ask_resources rsc_hold=foreign info=other"]);
    n.peer_sends(&[
        ("t", "resource"),
        ("rsc_hold", "local"),
        ("rtype", "full"),
        ("isstable", "0"),
        ("info", "standby"),
    ]);
    n.peer_sends(&[
        ("t", "ask_resources"),
        ("rsc_hold", "foreign"),
        ("info", "done"),
    ]);
    assert!(n.logged(
        Level::Info,
        "standby: acquire [foreign] resources from bravo"
    ));
    assert!(n.logged(Level::Info, "acquire local HA resources (standby)."));
    assert_eq!(n.finish_job(JobOutcome::Ok), take(&[ALPHA_KEY]));
    // Capture order (alpha seq 10 before f).
    assert_eq!(
        n.sent(),
        [
            "t=resource rsc_hold=local rtype=full isstable=1",
            "t=ask_resources rsc_hold=foreign info=done",
        ]
    );
    assert!(n.logged(Level::Info, "Standby resource acquisition done [foreign]."));
    assert!(n.logged(
        Level::Info,
        "Initial resource acquisition complete (auto_failback)"
    ));
    resource(&mut n, "local", "1");
    resource(&mut n, "local", "1");
    assert_eq!(
        n.sent(),
        ["t=resource rsc_hold=local rtype=full isstable=1"]
    );
    assert_eq!(n.rsc_hold(), "local");
}

/// auto_failback off: the survivor keeps everything.
#[test]
fn rejoin_with_auto_failback_off_keeps_everything() {
    let mut n = Node::stable_with_peer("bravo", &lab_groups(), AutoFailback::Off);
    n.kill_peer();
    n.finish_all_jobs();
    n.sent();
    alpha_returns(&mut n);
    n.peer_sends(&[("t", "starting")]);
    resource(&mut n, "none", "0");
    resource(&mut n, "none", "1");
    n.advance(5000);
    assert_eq!(
        n.sent(),
        [
            "t=resource rsc_hold=all rtype=full isstable=1",
            "t=resource rsc_hold=all rtype=full isstable=1",
        ]
    );
    assert_eq!(n.rsc_hold(), "all");
}

/// A peer that said it held nothing and then died needs no fencing.
#[test]
fn dead_peer_that_held_nothing_is_unneeded() {
    // alpha is ours with its group; bravo (no groups) reported none.
    let mut n = Node::up_with_peer("alpha", &lab_groups(), AutoFailback::On, opts(false));
    resource(&mut n, "none", "1");
    n.finish_all_jobs();
    n.sent();
    n.kill_peer();
    // We lacked the foreign bit: mach_down for bravo's (no) groups.
    assert_eq!(
        n.sent(),
        [
            "t=stonith node=bravo result=unneeded",
            "t=resource rsc_hold=all rtype=full isstable=1 info=req_our_resources()",
            "t=resource rsc_hold=foreign info=mach_down",
        ]
    );
    assert!(n.logged(Level::Info, "Dead node bravo gave up resources."));
    assert!(n.logged(Level::Info, "Resources being acquired from bravo."));
    assert!(n.jobs.is_empty());
    assert_eq!(n.rsc_hold(), "all");
}

#[test]
fn peer_death_cancels_a_running_standby() {
    let mut n = Node::stable_with_peer("alpha", &lab_groups(), AutoFailback::On);
    n.fifo(standby_request(Some("all")));
    assert_eq!(n.sent(), ["t=ask_resources rsc_hold=all info=me"]);
    n.kill_peer();
    assert!(n.logged(Level::Info, "Cancelling pending standby operation"));
    assert!(!n.logged(
        Level::Warn,
        "No reply to standby request.  Standby request cancelled."
    ));
    assert_eq!(n.view.status().standby, "NOT");
}

fn standby_request(arg: Option<&str>) -> Message {
    crate::core::resources::standby_request(arg).unwrap()
}
