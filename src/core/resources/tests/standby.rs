//! The 3-phase `ask_resources` standby protocol, both roles, `hb_takeover`,
//! refusals and the reply timeout (wire-samples/bcast-standby).

use super::*;
use crate::core::resources::{standby_request, takeover_request};

fn ask(n: &mut Node, set: &str, info: &str) {
    n.peer_sends(&[("t", "ask_resources"), ("rsc_hold", set), ("info", info)]);
}

fn resource(n: &mut Node, hold: &str, stable: &str, info: Option<&str>) {
    let mut f = vec![
        ("t", "resource"),
        ("rsc_hold", hold),
        ("rtype", "full"),
        ("isstable", stable),
    ];
    if let Some(i) = info {
        f.push(("info", i));
    }
    n.peer_sends(&f);
}

fn alpha_stable() -> Node {
    let n = Node::stable_with_peer("alpha", &lab_groups(), AutoFailback::On);
    assert_eq!(n.owned(), [ALPHA_KEY]);
    n
}

/// bcast-standby, alpha's side: `hb_standby` (all) on alpha.
#[test]
fn hb_standby_gives_everything_to_the_peer_like_bcast_standby() {
    let mut n = alpha_stable();
    n.fifo(standby_request(None).unwrap());
    assert_eq!(n.sent(), ["t=ask_resources rsc_hold=all info=me"]);
    assert!(n.logged(Level::Info, "alpha wants to go standby [all]"));
    assert_eq!(n.view.status().standby, "ME");
    ask(&mut n, "all", "other");
    assert_eq!(
        n.sent(),
        ["t=resource rsc_hold=none rtype=full isstable=0 info=standby"]
    );
    assert!(n.logged(Level::Info, "standby: bravo can take our all resources"));
    assert!(n.logged(Level::Info, "give up all HA resources (standby)."));
    assert_eq!(n.finish_job(JobOutcome::Ok), give(&[ALPHA_KEY]));
    assert_eq!(n.sent(), ["t=ask_resources rsc_hold=all info=done"]);
    assert!(n.logged(Level::Info, "all HA resource release completed (standby)."));
    assert!(n.logged(Level::Info, "Local standby process completed [all]."));
    ask(&mut n, "all", "done");
    resource(&mut n, "all", "1", None);
    assert_eq!(
        n.sent(),
        [
            "t=resource rsc_hold=none rtype=full isstable=1",
            "t=resource rsc_hold=none rtype=full isstable=1",
        ]
    );
    assert!(n.logged(
        Level::Info,
        "Other node completed standby takeover of all resources."
    ));
    assert_eq!(n.rsc_hold(), "none");
    assert!(n.owned().is_empty());
    // The 1 h operation timer was cancelled with the protocol's end.
    n.advance(12_000);
    assert!(!n.logged(
        Level::Warn,
        "No reply to standby request.  Standby request cancelled."
    ));
}

fn bravo_stable() -> Node {
    Node::stable_with_peer("bravo", &lab_groups(), AutoFailback::On)
}

/// bcast-standby, bravo's side: alpha goes standby, bravo takes over.
#[test]
fn peer_going_standby_makes_us_take_over_like_bcast_standby() {
    let mut n = bravo_stable();
    ask(&mut n, "all", "me");
    assert_eq!(n.sent(), ["t=ask_resources rsc_hold=all info=other"]);
    assert!(n.logged(Level::Info, "alpha wants to go standby [all]"));
    resource(&mut n, "none", "0", Some("standby"));
    ask(&mut n, "all", "done");
    assert!(n.logged(Level::Info, "standby: acquire [all] resources from alpha"));
    assert!(n.logged(Level::Info, "acquire all HA resources (standby)."));
    assert_eq!(n.finish_job(JobOutcome::Ok), take(&[ALPHA_KEY]));
    // Capture order (bravo seq 47 before 46): the report our own `done`
    // triggers is transmitted before the `done` itself.
    assert_eq!(
        n.sent(),
        [
            "t=resource rsc_hold=all rtype=full isstable=1",
            "t=ask_resources rsc_hold=all info=done",
        ]
    );
    assert!(n.logged(Level::Info, "Standby resource acquisition done [all]."));
    resource(&mut n, "none", "1", None);
    resource(&mut n, "none", "1", None);
    assert_eq!(n.sent(), ["t=resource rsc_hold=all rtype=full isstable=1"]);
    assert_eq!(n.rsc_hold(), "all");
}

/// bcast-standby, second half: `hb_takeover` on alpha makes bravo (holding
/// everything) go standby.
#[test]
fn hb_takeover_from_the_peer_makes_us_go_standby() {
    let mut n = bravo_stable();
    ask(&mut n, "all", "me");
    resource(&mut n, "none", "0", Some("standby"));
    ask(&mut n, "all", "done");
    n.finish_all_jobs();
    resource(&mut n, "none", "1", None);
    n.sent();
    n.peer_sends(&[("t", "hb_takeover"), ("rsc_hold", "all")]);
    assert_eq!(n.sent(), ["t=ask_resources rsc_hold=all info=me"]);
    assert!(n.logged(Level::Info, "Going standby [all]."));
    assert!(n.logged(Level::Info, "bravo wants to go standby [all]"));
    ask(&mut n, "all", "other");
    assert_eq!(
        n.sent(),
        ["t=resource rsc_hold=none rtype=full isstable=0 info=standby"]
    );
    assert_eq!(n.finish_job(JobOutcome::Ok), give(&[ALPHA_KEY]));
    assert_eq!(n.sent(), ["t=ask_resources rsc_hold=all info=done"]);
    ask(&mut n, "all", "done");
    resource(&mut n, "all", "1", None);
    assert_eq!(
        n.sent(),
        [
            "t=resource rsc_hold=none rtype=full isstable=1",
            "t=resource rsc_hold=none rtype=full isstable=1",
        ]
    );
    assert_eq!(n.rsc_hold(), "none");
}

/// rc.d/hb_takeover maps the requester's set to ours (hb306-bcast-2node:
/// `hb_takeover local` from node2 → node1 `ask_resources foreign me`).
#[test]
fn hb_takeover_sets_are_mapped_to_our_point_of_view() {
    for (theirs, ours) in [
        ("local", "foreign"),
        ("foreign", "local"),
        ("all", "all"),
        ("failback", "all"),
    ] {
        let mut n = alpha_stable();
        n.peer_sends(&[("t", "hb_takeover"), ("rsc_hold", theirs)]);
        assert_eq!(
            n.sent(),
            [format!("t=ask_resources rsc_hold={ours} info=me")],
            "hb_takeover {theirs}"
        );
    }
}

#[test]
fn our_own_hb_takeover_message_is_only_for_the_peer() {
    let mut n = alpha_stable();
    n.fifo(takeover_request(Some("local")).unwrap());
    assert_eq!(n.sent(), ["t=hb_takeover rsc_hold=local"]);
    assert_eq!(n.view.status().standby, "NOT");
}

#[test]
fn standby_is_refused_while_the_peer_is_in_flux() {
    let mut n = alpha_stable();
    resource(&mut n, "local", "0", None);
    n.fifo(standby_request(Some("local")).unwrap());
    assert_eq!(n.sent(), ["t=ask_resources rsc_hold=local info=me"]);
    assert!(n.logged(
        Level::Warn,
        "standby message [me] from alpha ignored.  Other side is in flux."
    ));
    assert_eq!(n.view.status().standby, "NOT");
    assert!(n.jobs.is_empty());
}

#[test]
fn standby_is_refused_while_our_resources_are_in_flux() {
    // Alone: the takeover is done (the dead peer counts as stable) but our
    // RQSTDELAY still runs.
    let mut n = Node::alone("alpha", &two_groups(), AutoFailback::On, opts(true));
    n.finish_all_jobs();
    n.sent();
    assert_eq!(n.state(), "RSCRCVD");
    n.fifo(standby_request(None).unwrap());
    assert!(n.logged(
        Level::Warn,
        "standby message [me] from alpha ignored.  local resources in flux."
    ));
    assert_eq!(n.view.status().standby, "NOT");
}

#[test]
fn standby_without_reply_is_cancelled_after_10_s() {
    let mut n = alpha_stable();
    n.fifo(standby_request(None).unwrap());
    n.sent();
    n.advance(3000);
    n.fifo(standby_request(None).unwrap());
    assert!(n.logged(
        Level::Warn,
        "Standby in progress- new request from alpha ignored [7 seconds left]"
    ));
    n.advance(6500);
    assert!(!n.logged(
        Level::Warn,
        "No reply to standby request.  Standby request cancelled."
    ));
    n.advance(1000);
    assert!(n.logged(
        Level::Warn,
        "No reply to standby request.  Standby request cancelled."
    ));
    assert_eq!(n.view.status().standby, "NOT");
    assert_eq!(n.rsc_hold(), "local");
    // A new request works again.
    n.sent();
    n.fifo(standby_request(None).unwrap());
    assert_eq!(n.view.status().standby, "ME");
}

#[test]
fn unexpected_standby_words_are_logged_and_ignored() {
    let mut n = alpha_stable();
    ask(&mut n, "all", "done");
    assert!(n.logged(
        Level::Error,
        "Ignored standby message 'done' from bravo in state 0"
    ));
    assert!(n.sent().is_empty());
}

#[test]
fn legacy_mode_refuses_standby() {
    let mut n = Node::up_with_peer("alpha", &lab_groups(), AutoFailback::Legacy, opts(true));
    n.sent();
    n.fifo(standby_request(None).unwrap());
    assert_eq!(n.sent(), ["t=ask_resources rsc_hold=all info=me"]);
    assert!(n.logged(
        Level::Info,
        "Standby mode only implemented when nice_failback on"
    ));
}
