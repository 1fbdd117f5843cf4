//! Resource script failures: a failed start goes standby 30 s later, a
//! failed stop fences the node.

use super::*;

#[test]
fn start_failure_goes_standby_after_30_s() {
    let mut n = Node::up_with_peer("alpha", &lab_groups(), AutoFailback::On, opts(false));
    n.peer_sends(&[("t", "starting")]);
    n.peer_sends(&[
        ("t", "resource"),
        ("rsc_hold", "none"),
        ("rtype", "full"),
        ("isstable", "1"),
    ]);
    n.sent();
    let failed = JobOutcome::StartFailed {
        keys: vec![ALPHA_KEY.into()],
    };
    assert_eq!(n.finish_job(failed), take(&[ALPHA_KEY]));
    assert!(n.logged(
        Level::Crit,
        &format!("Giving up resources due to failure of {ALPHA_KEY}")
    ));
    assert!(n.owned().is_empty());
    n.advance(29_500);
    assert!(n.sent().is_empty());
    n.advance(1000);
    assert_eq!(n.sent(), ["t=ask_resources rsc_hold=local info=me"]);
    assert!(n.logged(Level::Info, "Going standby [local]."));
    assert!(n.logged(Level::Info, "alpha wants to go standby [local]"));
    // The peer takes over our group as in any standby.
    n.peer_sends(&[
        ("t", "ask_resources"),
        ("rsc_hold", "local"),
        ("info", "other"),
    ]);
    assert_eq!(
        n.sent(),
        ["t=resource rsc_hold=none rtype=full isstable=0 info=standby"]
    );
    assert_eq!(n.finish_job(JobOutcome::Ok), give(&[ALPHA_KEY]));
}

#[test]
fn stop_failure_fences_this_node() {
    let mut n = Node::stable_with_peer("alpha", &lab_groups(), AutoFailback::On);
    n.command(Command::Shutdown);
    n.sent();
    let failed = JobOutcome::StopFailed {
        keys: vec![ALPHA_KEY.into()],
    };
    assert_eq!(n.finish_job(failed), give(&[ALPHA_KEY]));
    assert!(n.history.iter().any(|a| matches!(
        a,
        Action::SelfFence { reason } if reason.contains(ALPHA_KEY)
    )));
    assert!(n.logged(Level::Crit, "Resource STOP failure. Reboot required!"));
    assert!(n.sent().is_empty(), "no shutdone: the group may still run");
    n.peer_sends(&[("t", "starting")]);
    n.advance(2000);
    assert!(n.sent().is_empty());
    assert!(!n.exited());
}

#[test]
fn a_job_done_for_an_unknown_id_is_reported() {
    let mut n = Node::stable_with_peer("alpha", &lab_groups(), AutoFailback::On);
    n.input(Input::JobDone {
        id: 999,
        outcome: JobOutcome::Ok,
    });
    assert!(n.logged(
        Level::Error,
        "resource job 999 finished but is not the running one"
    ));
}
