//! STONITH before takeover: fence first, retry every 5 s on failure, and
//! our deviations (no takeover of a node that came back; groups held by
//! both nodes go back to their home node).

use super::*;
use crate::core::FenceResult;

fn stonith_opts() -> ResourceOptions {
    ResourceOptions {
        stonith: true,
        ..opts(false)
    }
}

/// bravo stable next to alpha (which holds its group), with a device.
fn bravo_with_device() -> Node {
    let mut n = Node::up_with_peer("bravo", &lab_groups(), AutoFailback::On, stonith_opts());
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

fn fences(n: &Node) -> usize {
    n.history
        .iter()
        .filter(|a| matches!(a, Action::Fence { node } if node == "alpha"))
        .count()
}

fn fence_done(n: &mut Node, result: FenceResult) {
    n.input(Input::FenceDone {
        node: "alpha".into(),
        result,
    });
}

/// alpha comes back with a new generation and is active again.
fn alpha_returns(n: &mut Node) {
    n.peer.generation += 1;
    n.peer.next_seq = 1;
    let init = n.peer.status("init", 5000);
    n.deliver(init);
    let up = n.peer.status("active", 3000);
    n.deliver(up);
    n.peer_alive = true;
}

#[test]
fn the_dead_peer_is_fenced_before_its_group_is_taken() {
    let mut n = bravo_with_device();
    n.kill_peer();
    assert_eq!(fences(&n), 1);
    assert!(n.sent().is_empty(), "nothing before the fence result");
    assert_eq!(n.job(), None);
    fence_done(&mut n, FenceResult::Ok);
    assert_eq!(
        n.sent(),
        [
            "t=stonith node=alpha result=OK",
            "t=resource rsc_hold=all rtype=full isstable=1 info=req_our_resources()",
        ]
    );
    assert!(n.logged(Level::Info, "Resources being acquired from alpha."));
    assert_eq!(n.job(), Some(take(&[ALPHA_KEY])));
    n.finish_all_jobs();
    assert_eq!(n.rsc_hold(), "all");
}

#[test]
fn a_failed_fence_is_retried_every_5_s_and_nothing_is_taken() {
    let mut n = bravo_with_device();
    n.kill_peer();
    fence_done(&mut n, FenceResult::Failed);
    assert_eq!(n.sent(), ["t=stonith node=alpha result=bad"]);
    assert!(n.logged(Level::Error, "STONITH of alpha failed.  Retrying..."));
    n.advance(4900);
    assert_eq!(fences(&n), 1);
    n.advance(200);
    assert_eq!(fences(&n), 2);
    fence_done(&mut n, FenceResult::BadHost);
    assert_eq!(n.sent(), ["t=stonith node=alpha result=badhost"]);
    n.advance(5100);
    assert_eq!(fences(&n), 3);
    assert_eq!(n.job(), None);
    assert!(n.owned().is_empty());
    // A result nobody waits for (e.g. twice) is ignored.
    fence_done(&mut n, FenceResult::Ok);
    fence_done(&mut n, FenceResult::Ok);
    assert_eq!(n.sent()[0], "t=stonith node=alpha result=OK");
    assert_eq!(n.log_count("Resources being acquired from alpha."), 1);
}

#[test]
fn a_peer_that_comes_back_cancels_the_retry() {
    let mut n = bravo_with_device();
    n.kill_peer();
    fence_done(&mut n, FenceResult::Failed);
    alpha_returns(&mut n);
    assert!(n.logged(
        Level::Info,
        "Node alpha is alive again: STONITH of alpha cancelled, no takeover."
    ));
    n.advance(12_000);
    assert_eq!(fences(&n), 1);
    assert_eq!(n.job(), None);
}

/// Heartbeat 3.0.6 takes over here and both nodes run the group.
#[test]
fn a_fence_that_succeeds_after_the_peer_came_back_takes_nothing() {
    let mut n = bravo_with_device();
    n.kill_peer();
    alpha_returns(&mut n);
    fence_done(&mut n, FenceResult::Ok);
    assert_eq!(n.sent(), ["t=stonith node=alpha result=OK"]);
    assert!(n.logged(
        Level::Warn,
        "STONITH of alpha succeeded after alpha came back: not taking over its resources while it is alive."
    ));
    assert_eq!(n.job(), None);
    assert!(n.owned().is_empty());
    // The reset did take it down: it dies again, is reset again, taken over.
    n.kill_peer();
    assert_eq!(fences(&n), 2);
    fence_done(&mut n, FenceResult::Ok);
    assert_eq!(n.job(), Some(take(&[ALPHA_KEY])));
}

#[test]
fn without_a_device_nothing_changes() {
    let mut n = Node::stable_with_peer("bravo", &lab_groups(), AutoFailback::On);
    n.kill_peer();
    assert_eq!(fences(&n), 0);
    assert_eq!(n.sent()[0], "t=stonith node=alpha result=n_stnth");
}

/// bravo took alpha's group after a successful fence; alpha (which was
/// not really reset) claims it too: bravo releases it, alpha keeps it.
#[test]
fn a_group_held_by_both_goes_back_to_its_home_node() {
    let mut n = bravo_with_device();
    n.kill_peer();
    fence_done(&mut n, FenceResult::Ok);
    n.finish_all_jobs();
    assert_eq!(n.rsc_hold(), "all");
    n.sent();
    alpha_returns(&mut n);
    n.peer_sends(&[
        ("t", "resource"),
        ("rsc_hold", "local"),
        ("rtype", "full"),
        ("isstable", "1"),
    ]);
    assert!(n.logged(
        Level::Warn,
        "Both nodes hold the resource groups of alpha: releasing them here, alpha keeps them."
    ));
    assert_eq!(n.finish_job(JobOutcome::Ok), give(&[ALPHA_KEY]));
    assert!(n
        .sent()
        .contains(&"t=resource rsc_hold=local rtype=full isstable=1".to_string()));
    assert_eq!(n.rsc_hold(), "local");
    assert!(n.owned().is_empty());
    assert_eq!(n.log_count("Resource groups held twice released."), 1);
}

/// alpha's side of the same: the peer (e.g. a real 3.0.6 that took over
/// after a late fence) keeps claiming our group; after the grace period
/// we give way, so one node runs it.
#[test]
fn the_home_node_gives_way_when_the_peer_keeps_a_group_held_twice() {
    let mut n = Node::stable_with_peer("alpha", &lab_groups(), AutoFailback::On);
    assert_eq!(n.rsc_hold(), "local");
    n.peer_sends(&[
        ("t", "resource"),
        ("rsc_hold", "all"),
        ("rtype", "full"),
        ("isstable", "1"),
    ]);
    assert!(n.logged(
        Level::Warn,
        "Both nodes hold our resource groups: waiting for bravo to release them."
    ));
    assert_eq!(n.job(), None);
    n.advance(9_500);
    assert_eq!(n.job(), None);
    n.advance(1_000);
    assert!(n.logged(
        Level::Warn,
        "Both nodes still hold our resource groups: releasing them here, bravo keeps them."
    ));
    assert_eq!(n.finish_job(JobOutcome::Ok), give(&[ALPHA_KEY]));
    assert_eq!(n.rsc_hold(), "none");
}

/// ...and does nothing when the peer released them within the grace.
#[test]
fn the_home_node_keeps_its_group_when_the_peer_releases_it() {
    let mut n = Node::stable_with_peer("alpha", &lab_groups(), AutoFailback::On);
    n.peer_sends(&[
        ("t", "resource"),
        ("rsc_hold", "all"),
        ("rtype", "full"),
        ("isstable", "1"),
    ]);
    n.peer_sends(&[
        ("t", "resource"),
        ("rsc_hold", "local"),
        ("rtype", "full"),
        ("isstable", "1"),
    ]);
    n.advance(11_000);
    assert_eq!(n.job(), None);
    assert_eq!(n.rsc_hold(), "local");
}

/// A peer never heard from at start-up is reset before its group is taken.
#[test]
fn a_peer_absent_at_start_up_is_fenced_first() {
    let mut n = Node::alone("bravo", &two_groups(), AutoFailback::On, stonith_opts());
    assert_eq!(fences(&n), 1);
    let before: Vec<ResourceJob> = n.finish_all_jobs();
    assert!(
        before.iter().all(|j| !format!("{j:?}").contains(ALPHA_KEY)),
        "{before:?}"
    );
    fence_done(&mut n, FenceResult::Ok);
    assert!(n
        .sent()
        .contains(&"t=stonith node=alpha result=OK".to_string()));
    let after = n.finish_all_jobs();
    assert!(after.contains(&take(&[ALPHA_KEY])), "{after:?}");
    // Stable once the RQSTDELAY for the silent peer has passed.
    n.advance(11_000);
    assert_eq!(n.rsc_hold(), "all");
}

#[test]
fn a_failed_fence_of_a_peer_that_came_back_is_not_retried() {
    let mut n = bravo_with_device();
    n.kill_peer();
    alpha_returns(&mut n);
    fence_done(&mut n, FenceResult::Failed);
    assert_eq!(n.sent(), ["t=stonith node=alpha result=bad"]);
    assert!(n.logged(Level::Error, "STONITH of alpha failed."));
    assert_eq!(n.log_count("STONITH of alpha failed.  Retrying..."), 0);
    n.advance(6000);
    assert_eq!(fences(&n), 1);
}
