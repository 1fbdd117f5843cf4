//! Legacy mode (`auto_failback legacy`): the ip-request protocol, self-grants
//! and takeover without resource reports (hb306-bcast-2node, 509 s on).

use super::*;

/// Comm-up with a peer that is already `active` (it has been running).
fn up_with_active_peer(local: &str) -> Node {
    let mut n = Node::new(local, &two_groups(), AutoFailback::Legacy, opts(true));
    n.start();
    n.advance(100);
    let active = n.peer.status("active", 3000);
    n.deliver(active);
    let dest = n.name.clone();
    n.peer_sends(&[
        ("dest", &dest),
        ("t", "repnodes"),
        ("nodelist", "alpha bravo "),
        ("delnodelist", " "),
    ]);
    assert!(n.sim.core.comm_up());
    n.peer_alive = true;
    n
}

/// node1 alone in legacy mode: fence step, then its own group self-granted
/// twice (by the takeover and by comm-up, as the real node did), and the
/// dead node's group taken by mach_down. No starting/resource messages.
#[test]
fn lone_start_self_grants_own_groups() {
    let mut n = Node::alone("alpha", &two_groups(), AutoFailback::Legacy, opts(true));
    let grant = format!("t=ip-request-resp dest=alpha ipaddr={ALPHA_KEY} weown=yes ok=OK");
    assert_eq!(
        n.sent(),
        [
            "t=stonith node=bravo result=n_stnth",
            grant.as_str(),
            grant.as_str(),
        ]
    );
    assert_eq!(n.rsc_hold(), "transition");
    assert_eq!(
        n.finish_all_jobs(),
        [take(&[BRAVO_KEY]), take(&[ALPHA_KEY])]
    );
    assert!(n.sent().is_empty());
    assert_eq!(n.rsc_hold(), "none");
    assert!(n.logged(
        Level::Info,
        &format!("received ip-request-resp {ALPHA_KEY} OK yes")
    ));
    assert!(n.logged(
        Level::Info,
        "Initial resource acquisition complete (status)"
    ));
}

/// node2 rejoins while node1 runs everything: it asks for its group, node1
/// releases it and grants it, node2 takes it.
#[test]
fn rejoining_node_asks_for_its_group_with_ip_request() {
    let mut n = up_with_active_peer("bravo");
    assert_eq!(n.sent(), [format!("t=ip-request ipaddr={BRAVO_KEY}")]);
    assert!(n.jobs.is_empty());
    n.peer_sends(&[
        ("t", "ip-request-resp"),
        ("dest", "bravo"),
        ("ipaddr", BRAVO_KEY),
        ("weown", "yes"),
        ("ok", "OK"),
    ]);
    assert_eq!(n.finish_job(JobOutcome::Ok), take(&[BRAVO_KEY]));
    assert_eq!(n.owned(), [BRAVO_KEY]);
    assert!(n.sent().is_empty());
}

#[test]
fn grants_for_someone_else_are_ignored() {
    let mut n = up_with_active_peer("bravo");
    n.peer_sends(&[
        ("t", "ip-request-resp"),
        ("dest", "alpha"),
        ("ipaddr", BRAVO_KEY),
        ("weown", "no"),
        ("ok", "OK"),
    ]);
    assert!(n.jobs.is_empty());
}

/// node1's side of the same exchange: it holds node2's group since the
/// takeover, releases it and answers `weown=yes`; asked again it says no.
#[test]
fn owner_releases_a_requested_group_and_grants_it() {
    let mut n = Node::alone("alpha", &two_groups(), AutoFailback::Legacy, opts(true));
    n.finish_all_jobs();
    n.sent();
    n.peer = Peer::bravo();
    n.peer.generation += 1;
    let init = n.peer.status("init", 5000);
    n.deliver(init);
    n.peer_alive = true;
    n.peer_sends(&[("t", "reqnodes"), ("dest", "alpha")]);
    n.peer_sends(&[("t", "ip-request"), ("ipaddr", BRAVO_KEY)]);
    assert!(n.sent().is_empty());
    assert_eq!(n.finish_job(JobOutcome::Ok), give(&[BRAVO_KEY]));
    assert_eq!(
        n.sent(),
        [format!(
            "t=ip-request-resp dest=bravo ipaddr={BRAVO_KEY} weown=yes ok=OK"
        )]
    );
    n.peer_sends(&[("t", "ip-request"), ("ipaddr", BRAVO_KEY)]);
    assert!(n.jobs.is_empty());
    assert_eq!(
        n.sent(),
        [format!(
            "t=ip-request-resp dest=bravo ipaddr={BRAVO_KEY} weown=no ok=OK"
        )]
    );
    assert_eq!(n.owned(), [ALPHA_KEY]);
}

/// Both start at once: the peer is not `active` yet at our comm-up, so we
/// self-grant like Heartbeat (fewer than 2 nodes active) — but only once
/// its first status (`up`, not `active`) is known.
#[test]
fn simultaneous_start_self_grants_when_the_peer_is_not_active_yet() {
    let mut n = Node::new("alpha", &two_groups(), AutoFailback::Legacy, opts(true));
    n.start();
    n.advance(100);
    let init = n.peer.status("init", 5000);
    n.deliver(init);
    n.peer_sends(&[
        ("dest", "alpha"),
        ("t", "repnodes"),
        ("nodelist", "alpha bravo "),
        ("delnodelist", " "),
    ]);
    assert!(n.sim.core.comm_up());
    // comm is up, but the peer's node status is still `init`: wait.
    assert!(n.sent().is_empty());
    let up = n.peer.status("up", 5000);
    n.deliver(up);
    n.peer_alive = true;
    assert_eq!(
        n.sent(),
        [format!(
            "t=ip-request-resp dest=alpha ipaddr={ALPHA_KEY} weown=yes ok=OK"
        )]
    );
    assert_eq!(n.finish_job(JobOutcome::Ok), take(&[ALPHA_KEY]));
}

/// Regression (namespace test, legacy rejoin): our comm-up came before the
/// running peer's first status, we self-granted and the group ran on both
/// nodes. Now the decision waits for that status, which says `active`.
#[test]
fn rejoin_asks_the_running_peer_once_its_status_is_known() {
    let mut n = Node::new("alpha", &two_groups(), AutoFailback::Legacy, opts(true));
    n.start();
    n.advance(100);
    n.peer_sends(&[
        ("dest", "alpha"),
        ("t", "repnodes"),
        ("nodelist", "alpha bravo "),
        ("delnodelist", " "),
    ]);
    assert!(n.sent().iter().all(|m| !m.contains("ip-request")));
    let active = n.peer.status("active", 3000);
    n.deliver(active);
    n.peer_alive = true;
    assert_eq!(n.sent(), [format!("t=ip-request ipaddr={ALPHA_KEY}")]);
}

/// Legacy shutdone: immediate takeover, no fencing at death.
#[test]
fn peer_shutdone_then_death_needs_no_fencing() {
    let mut n = up_with_active_peer("alpha");
    n.peer_sends(&[
        ("t", "ip-request-resp"),
        ("dest", "alpha"),
        ("ipaddr", ALPHA_KEY),
        ("weown", "yes"),
        ("ok", "OK"),
    ]);
    n.finish_all_jobs();
    n.sent();
    n.peer_sends(&[("t", "shutdone"), ("st", "dead")]);
    assert!(n.logged(Level::Info, "Received shutdown notice from 'bravo'."));
    assert_eq!(n.finish_all_jobs(), [take(&[BRAVO_KEY])]);
    assert!(n.sent().is_empty());
    n.kill_peer();
    assert_eq!(n.sent(), ["t=stonith node=bravo result=unneeded"]);
    assert!(n.jobs.is_empty());
}

#[test]
fn legacy_shutdown_releases_without_resource_reports() {
    let mut n = Node::alone("alpha", &two_groups(), AutoFailback::Legacy, opts(true));
    n.finish_all_jobs();
    n.sent();
    n.command(Command::Shutdown);
    assert!(n.sent().is_empty());
    assert_eq!(n.finish_job(JobOutcome::Ok), give(&[ALPHA_KEY, BRAVO_KEY]));
    assert_eq!(n.sent(), ["t=shutdone st=dead"]);
    n.advance(1000);
    assert!(n.exited());
}
