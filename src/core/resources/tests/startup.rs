//! nice_failback start-up: alone, simultaneous (RQSTDELAY), and with a peer
//! that answers stable.

use super::*;

fn resource(hold: &str, stable: &str) -> [(&'static str, String); 4] {
    [
        ("t", "resource".into()),
        ("rsc_hold", hold.into()),
        ("rtype", "full".into()),
        ("isstable", stable.into()),
    ]
}

fn send_resource(n: &mut Node, hold: &str, stable: &str) {
    let f = resource(hold, stable);
    let fields: Vec<(&str, &str)> = f.iter().map(|(k, v)| (*k, v.as_str())).collect();
    n.peer_sends(&fields);
}

/// hb306-bcast-2node at +399 s: node1 starts alone (auto_failback on):
/// `stonith n_stnth`, `starting`, self-grant, `req_our_resources()`,
/// `mach_down`, and 10 s later the stable report.
#[test]
fn lone_start_takes_every_group_after_initdead() {
    let mut n = Node::new("alpha", &two_groups(), AutoFailback::On, opts(true));
    n.start();
    n.advance(6500);
    assert!(n.sim.core.comm_up());
    assert_eq!(
        n.sent(),
        [
            "t=stonith node=bravo result=n_stnth",
            "t=starting",
            format!("t=ip-request-resp dest=alpha ipaddr={ALPHA_KEY} weown=yes ok=OK").as_str(),
            "t=resource rsc_hold=all rtype=full isstable=1 info=req_our_resources()",
        ]
    );
    assert!(n.logged(Level::Warn, "No STONITH device configured."));
    assert!(n.logged(Level::Warn, "Shared disks are not protected."));
    assert!(n.logged(Level::Info, "Resources being acquired from bravo."));
    assert_eq!(n.rsc_hold(), "transition");
    // mach_down first, then the self-granted group.
    assert_eq!(n.job(), Some(take(&[BRAVO_KEY])));
    n.finish_job(JobOutcome::Ok);
    assert_eq!(n.sent(), ["t=resource rsc_hold=foreign info=mach_down"]);
    assert!(n.logged(Level::Info, "mach_down takeover complete."));
    assert!(n.logged(
        Level::Info,
        "Initial resource acquisition complete (mach_down)"
    ));
    assert_eq!(n.finish_job(JobOutcome::Ok), take(&[ALPHA_KEY]));
    assert_eq!(n.state(), "RSCRCVD");
    // RQSTDELAY, counted from our own report.
    n.advance(9000);
    assert!(n.sent().is_empty());
    n.advance(1500);
    assert_eq!(n.sent(), ["t=resource rsc_hold=all rtype=full isstable=1"]);
    assert!(n.logged(Level::Info, "local resource transition completed."));
    assert_eq!(n.state(), "STABLE");
    assert_eq!(n.rsc_hold(), "all");
    assert_eq!(n.owned(), [ALPHA_KEY, BRAVO_KEY]);
}

/// bcast-startup, alpha's side: both start, exchange `starting` and
/// unstable `none` reports; bravo's RQSTDELAY ends first and its stable
/// report makes alpha take its group at once.
#[test]
fn simultaneous_start_alpha_follows_the_stable_peer() {
    let mut n = Node::up_with_peer("alpha", &lab_groups(), AutoFailback::On, opts(false));
    assert_eq!(n.sent(), ["t=starting"]);
    n.peer_sends(&[("t", "starting")]);
    send_resource(&mut n, "none", "0");
    assert_eq!(n.sent(), ["t=resource rsc_hold=none rtype=full isstable=0"]);
    assert_eq!(n.state(), "RSCRCVD");
    n.advance(9000);
    assert!(n.sent().is_empty());
    send_resource(&mut n, "local", "1");
    send_resource(&mut n, "local", "1");
    assert_eq!(
        n.sent(),
        [
            "t=resource rsc_hold=none rtype=full isstable=0",
            "t=resource rsc_hold=local rtype=full isstable=1",
            format!("t=ip-request-resp dest=alpha ipaddr={ALPHA_KEY} weown=yes ok=OK").as_str(),
            "t=resource rsc_hold=local rtype=full isstable=1 info=req_our_resources()",
        ]
    );
    assert_eq!(n.log_count("remote resource transition completed."), 2);
    assert!(n.logged(
        Level::Info,
        "Initial resource acquisition complete (T_RESOURCES(us))"
    ));
    assert_eq!(n.job(), Some(take(&[ALPHA_KEY])));
    assert_eq!(n.rsc_hold(), "transition");
    n.finish_job(JobOutcome::Ok);
    assert_eq!(n.rsc_hold(), "local");
    // The timer that was armed meanwhile has nothing left to do.
    n.advance(2000);
    assert!(n.sent().is_empty());
}

/// bcast-startup, bravo's side (no group of its own): RQSTDELAY expires
/// 10 s after its own report, it takes its (empty) set and turns stable.
#[test]
fn simultaneous_start_rqstdelay_expiry_takes_own_groups() {
    let mut n = Node::up_with_peer("bravo", &lab_groups(), AutoFailback::On, opts(false));
    assert_eq!(n.sent(), ["t=starting"]);
    n.peer_sends(&[("t", "starting")]);
    assert_eq!(n.sent(), ["t=resource rsc_hold=none rtype=full isstable=0"]);
    let armed = n.now();
    n.advance(300);
    send_resource(&mut n, "none", "0");
    n.advance(9600);
    assert!(n.sent().is_empty());
    n.advance(500);
    assert!(n.now() >= armed + 10_000);
    assert_eq!(
        n.sent(),
        [
            "t=resource rsc_hold=local rtype=full isstable=1",
            "t=resource rsc_hold=local rtype=full isstable=1 info=req_our_resources()",
        ]
    );
    assert!(n.logged(
        Level::Info,
        "No local resources [/usr/share/heartbeat/ResourceManager listkeys bravo] to acquire."
    ));
    assert!(n.jobs.is_empty());
    send_resource(&mut n, "none", "0");
    send_resource(&mut n, "local", "1");
    assert_eq!(
        n.sent(),
        ["t=resource rsc_hold=local rtype=full isstable=1"]
    );
    assert_eq!(n.rsc_hold(), "local");
}

/// hb306-bcast-2node at +830 s: a peer that answers our `starting` with a
/// stable `none` makes us take our groups at once (no RQSTDELAY).
#[test]
fn peer_replying_stable_none_makes_us_acquire_at_once() {
    let mut n = Node::up_with_peer("alpha", &lab_groups(), AutoFailback::On, opts(false));
    n.peer_sends(&[("t", "starting")]);
    send_resource(&mut n, "none", "1");
    assert_eq!(
        n.sent(),
        [
            "t=starting",
            "t=resource rsc_hold=none rtype=full isstable=0",
            "t=resource rsc_hold=none rtype=full isstable=0",
            "t=resource rsc_hold=local rtype=full isstable=1",
            format!("t=ip-request-resp dest=alpha ipaddr={ALPHA_KEY} weown=yes ok=OK").as_str(),
            "t=resource rsc_hold=local rtype=full isstable=1 info=req_our_resources()",
        ]
    );
    assert_eq!(n.state(), "STABLE");
}

/// Our extension: starting fresh and empty, we answer `starting` with a
/// stable `none`, so the peer need not wait for RQSTDELAY.
#[test]
fn fast_start_answers_starting_with_stable_none() {
    let mut n = Node::up_with_peer("alpha", &lab_groups(), AutoFailback::On, opts(true));
    n.peer_sends(&[("t", "starting")]);
    assert_eq!(
        n.sent(),
        [
            "t=starting",
            "t=resource rsc_hold=none rtype=full isstable=1"
        ]
    );
    // Once stable ourselves we answer 1 anyway; while holding something
    // unstable we answer 0 as Heartbeat does.
    send_resource(&mut n, "local", "1");
    n.sent();
    n.peer_sends(&[("t", "starting")]);
    assert_eq!(
        n.sent(),
        ["t=resource rsc_hold=local rtype=full isstable=1"]
    );
}

#[test]
fn fast_start_is_not_claimed_while_holding_groups() {
    // Alone first: we hold everything, RQSTDELAY still running.
    let mut n = Node::alone("alpha", &two_groups(), AutoFailback::On, opts(true));
    n.finish_all_jobs();
    n.sent();
    assert_eq!(n.state(), "RSCRCVD");
    n.peer = Peer::bravo();
    n.peer_alive = true;
    let init = n.peer.status("init", 5000);
    n.deliver(init);
    n.peer_sends(&[("t", "starting")]);
    assert_eq!(n.sent(), ["t=resource rsc_hold=all rtype=full isstable=0"]);
}

#[test]
fn starting_before_comm_up_is_dropped() {
    let mut n = Node::new("alpha", &lab_groups(), AutoFailback::On, opts(true));
    n.start();
    n.peer_sends(&[("t", "starting")]);
    n.peer_sends(&[
        ("t", "resource"),
        ("rsc_hold", "all"),
        ("rtype", "full"),
        ("isstable", "1"),
    ]);
    assert!(n.sent().is_empty());
    assert_eq!(n.state(), "INIT");
}

#[test]
fn manage_resources_off_only_announces_starting() {
    let mut o = opts(true);
    o.manage_resources = false;
    let mut n = Node::up_with_peer("alpha", &lab_groups(), AutoFailback::On, o);
    n.peer_sends(&[("t", "starting")]);
    send_resource(&mut n, "none", "1");
    n.advance(11_000);
    assert_eq!(n.sent(), ["t=starting"]);
    assert!(n.jobs.is_empty());
    assert_eq!(n.rsc_hold(), "transition");
}
