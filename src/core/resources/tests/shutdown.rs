//! Graceful shutdown, a peer's `shutdone`, and the give-up-and-restart
//! after a healed partition or a local stall (bcast-shutdown,
//! bcast-partition).

use super::*;
use crate::core::TimerKey;

fn statuses_sent(n: &Node) -> Vec<String> {
    n.history
        .iter()
        .filter_map(|a| match a {
            Action::Transmit(m) if m.msg_type() == Some("status") => {
                m.get_str("st").map(str::to_string)
            }
            _ => None,
        })
        .collect()
}

/// bcast-shutdown, alpha's side: SIGTERM → `resource none … info=shutdown`,
/// every group released in haresources order, `shutdone`, exit; the status
/// stays `active` to the end.
#[test]
fn shutdown_releases_everything_then_says_shutdone_like_bcast_shutdown() {
    let mut n = Node::stable_with_peer("alpha", &two_groups(), AutoFailback::On);
    let before = statuses_sent(&n).len();
    n.command(Command::Shutdown);
    assert_eq!(statuses_sent(&n).len(), before + 1, "a last status first");
    assert_eq!(
        n.sent(),
        ["t=resource rsc_hold=none rtype=full isstable=0 info=shutdown"]
    );
    assert!(n.logged(Level::Info, "Heartbeat shutdown in progress. (2802)"));
    assert!(n.logged(Level::Info, "Giving up all HA resources."));
    assert_eq!(n.state(), "SHUTDOWN");
    assert_eq!(n.finish_job(JobOutcome::Ok), give(&[ALPHA_KEY, BRAVO_KEY]));
    assert!(n.logged(Level::Info, "All HA resources relinquished."));
    assert_eq!(n.sent(), ["t=shutdone st=dead"]);
    assert!(!n.exited());
    n.advance(1000);
    assert!(n.exited());
    assert!(n.logged(Level::Info, "alpha Heartbeat shutdown complete."));
    assert!(statuses_sent(&n).iter().all(|st| st != "dead"));
    assert_eq!(n.rsc_hold(), "none");
}

#[test]
fn shutdown_waits_for_running_resource_activity() {
    let mut n = Node::up_with_peer("alpha", &lab_groups(), AutoFailback::On, opts(false));
    n.peer_sends(&[
        ("t", "resource"),
        ("rsc_hold", "none"),
        ("rtype", "full"),
        ("isstable", "1"),
    ]);
    assert_eq!(n.job(), Some(take(&[ALPHA_KEY])));
    n.sent();
    n.command(Command::Shutdown);
    assert!(n.logged(
        Level::Warn,
        "Shutdown delayed until current resource activity finishes."
    ));
    assert!(n.sent().is_empty());
    n.finish_job(JobOutcome::Ok);
    assert_eq!(
        n.sent(),
        ["t=resource rsc_hold=none rtype=full isstable=0 info=shutdown"]
    );
    assert_eq!(n.finish_job(JobOutcome::Ok), give(&[ALPHA_KEY]));
    assert_eq!(n.sent(), ["t=shutdone st=dead"]);
}

/// bcast-shutdown, bravo's side: alpha says `shutdone`; bravo takes over at
/// once and 5 s later, when alpha is declared dead, fencing is unneeded.
#[test]
fn peer_shutdone_means_immediate_takeover_like_bcast_shutdown() {
    let mut n = Node::stable_with_peer("bravo", &lab_groups(), AutoFailback::On);
    n.peer_sends(&[
        ("t", "resource"),
        ("rsc_hold", "none"),
        ("rtype", "full"),
        ("isstable", "0"),
        ("info", "shutdown"),
    ]);
    n.peer_sends(&[("t", "shutdone"), ("st", "dead")]);
    // Transmission order as in the capture: the report triggered by our
    // own `done` goes out before it (seq order is done, resource).
    assert_eq!(
        n.sent(),
        [
            "t=resource rsc_hold=all rtype=full isstable=1 info=req_our_resources()",
            "t=resource rsc_hold=all rtype=full isstable=1",
            "t=ask_resources rsc_hold=all info=done",
        ]
    );
    assert!(n.logged(Level::Info, "Received shutdown notice from 'alpha'."));
    assert!(n.logged(Level::Info, "Resources being acquired from alpha."));
    assert!(n.logged(Level::Info, "acquire local HA resources (standby)."));
    assert!(n.logged(Level::Info, "Standby resource acquisition done [all]."));
    assert_eq!(n.finish_job(JobOutcome::Ok), take(&[ALPHA_KEY]));
    assert_eq!(n.sent(), ["t=resource rsc_hold=foreign info=mach_down"]);
    assert_eq!(n.rsc_hold(), "all");
    n.kill_peer();
    assert_eq!(n.sent(), ["t=stonith node=alpha result=unneeded"]);
    assert!(n.logged(Level::Info, "Dead node alpha gave up resources."));
    assert!(n.jobs.is_empty());
}

/// bcast-partition, bravo's side: bravo took alpha's group during the cut;
/// alpha comes back with the same generation. Both restart: alpha's
/// `shutdone` arrives first, then bravo gives up everything and re-execs.
#[test]
fn healed_partition_gives_up_and_restarts_like_bcast_partition() {
    let mut n = Node::stable_with_peer("bravo", &lab_groups(), AutoFailback::On);
    n.kill_peer();
    n.finish_all_jobs();
    assert_eq!(n.rsc_hold(), "all");
    n.sent();
    // alpha's port is restored: same generation, next sequence number.
    let st = n.peer.status("active", 3000);
    n.deliver(st);
    n.peer_alive = true;
    assert!(n.logged(Level::Crit, "Cluster node alpha returning after partition."));
    assert_eq!(n.sent(), ["t=stonith node=alpha result=unneeded"]);
    assert!(n.logged(Level::Info, "Dead node alpha gave up resources."));
    n.advance(1000);
    n.peer_sends(&[
        ("t", "resource"),
        ("rsc_hold", "none"),
        ("rtype", "full"),
        ("isstable", "0"),
        ("info", "shutdown"),
    ]);
    n.peer_sends(&[("t", "shutdone"), ("st", "dead")]);
    assert_eq!(
        n.sent(),
        [
            "t=resource rsc_hold=all rtype=full isstable=1 info=req_our_resources()",
            "t=resource rsc_hold=foreign info=mach_down",
        ]
    );
    n.advance(1000);
    assert_eq!(
        n.sent(),
        ["t=resource rsc_hold=none rtype=full isstable=0 info=shutdown"]
    );
    assert_eq!(n.finish_job(JobOutcome::Ok), give(&[ALPHA_KEY]));
    assert_eq!(n.sent(), ["t=shutdone st=dead"]);
    n.advance(1000);
    assert!(n
        .history
        .iter()
        .any(|a| matches!(a, Action::Restart { delay_ms: 4000 })));
    assert!(n.logged(Level::Info, "bravo Heartbeat shutdown complete."));
    assert!(n.logged(Level::Info, "Performing heartbeat restart exec."));
    assert!(!n.exited(), "a restart is not an exit");
    // Nothing more happens in this process.
    n.peer_sends(&[("t", "starting")]);
    assert!(n.sent().is_empty());
}

#[test]
fn local_stall_gives_up_and_restarts() {
    let mut n = Node::stable_with_peer("alpha", &lab_groups(), AutoFailback::On);
    // The daemon was stopped for 6 s (more than the start-up dt of 5 s):
    // nothing fired meanwhile.
    n.sim.now.mono_ms += 6000;
    n.sim.fire(TimerKey::Keepalive);
    let acts = n.sim.take();
    n.history.extend(acts.iter().cloned());
    assert!(n.logged(Level::Error, "No local heartbeat. Forcing restart."));
    let sent: Vec<String> = acts
        .iter()
        .filter_map(|a| match a {
            Action::Transmit(m) if m.msg_type() == Some("resource") => Some(line(m)),
            _ => None,
        })
        .collect();
    assert_eq!(
        sent,
        ["t=resource rsc_hold=none rtype=full isstable=0 info=shutdown"]
    );
    let job = acts.iter().find_map(|a| match a {
        Action::RunJob { id, job } => Some((*id, job.clone())),
        _ => None,
    });
    let (id, job) = job.expect("give-up job");
    assert_eq!(job, give(&[ALPHA_KEY]));
    n.input(Input::JobDone {
        id,
        outcome: JobOutcome::Ok,
    });
    assert_eq!(n.sent(), ["t=shutdone st=dead"]);
    n.sim.now.mono_ms += 1000;
    n.sim.fire(TimerKey::Other("rsc-final".into()));
    let acts = n.sim.take();
    assert!(acts
        .iter()
        .any(|a| matches!(a, Action::Restart { delay_ms: 4000 })));
}

#[test]
fn without_resource_management_shutdown_exits_at_once() {
    let mut o = opts(true);
    o.manage_resources = false;
    let mut n = Node::up_with_peer("alpha", &lab_groups(), AutoFailback::On, o);
    n.sent();
    n.command(Command::Shutdown);
    assert!(n.exited());
    assert!(n.sent().is_empty());
}

#[test]
fn sigterm_while_giving_up_for_a_restart_makes_it_a_plain_exit() {
    let mut n = Node::stable_with_peer("alpha", &lab_groups(), AutoFailback::On);
    n.sim.now.mono_ms += 6000;
    n.sim.fire(TimerKey::Keepalive);
    let acts = n.sim.take();
    let (id, _) = acts
        .iter()
        .find_map(|a| match a {
            Action::RunJob { id, job } => Some((*id, job.clone())),
            _ => None,
        })
        .expect("give-up job");
    n.command(Command::Shutdown);
    n.input(Input::JobDone {
        id,
        outcome: JobOutcome::Ok,
    });
    n.advance(1000);
    assert!(n.exited());
    assert!(!n
        .history
        .iter()
        .any(|a| matches!(a, Action::Restart { .. })));
}

#[test]
fn a_hanging_give_up_ends_in_an_emergency_exit_after_an_hour() {
    let mut n = Node::stable_with_peer("alpha", &lab_groups(), AutoFailback::On);
    n.command(Command::Shutdown);
    assert_eq!(n.job(), Some(give(&[ALPHA_KEY])));
    n.peer_alive = false;
    n.advance(3_600_500);
    assert!(n.logged(
        Level::Crit,
        "Emergency Shutdown: Attempting to kill everything ourselves"
    ));
    assert!(n
        .history
        .iter()
        .any(|a| matches!(a, Action::Exit { code: 100 })));
}

#[test]
fn peer_dying_while_we_wait_to_shut_down_does_not_block_it() {
    let mut n = Node::stable_with_peer("alpha", &lab_groups(), AutoFailback::On);
    // The peer becomes unstable (it is starting over), we are asked to stop.
    n.peer_sends(&[("t", "starting")]);
    n.command(Command::Shutdown);
    assert!(n.logged(
        Level::Warn,
        "Shutdown delayed until current resource activity finishes."
    ));
    n.sent();
    n.kill_peer();
    assert_eq!(
        n.sent(),
        ["t=resource rsc_hold=none rtype=full isstable=0 info=shutdown"]
    );
}

/// A one-node cluster (a single `node` line) has no peer to wait for: it
/// takes its groups at comm-up and SIGTERM releases them and exits.
#[test]
fn a_one_node_cluster_shuts_down() {
    let mut p = params("alpha");
    p.nodes = vec!["alpha".to_string()];
    let mut n = Node::with_params(p, &lab_groups(), AutoFailback::On, opts(false));
    n.start();
    n.advance(6500);
    assert!(n.sim.core.comm_up());
    n.finish_all_jobs();
    assert_eq!(n.owned(), [ALPHA_KEY]);
    n.advance(11_000);
    assert_eq!(n.state(), "STABLE");
    n.command(Command::Shutdown);
    assert!(!n.logged(
        Level::Warn,
        "Shutdown delayed until current resource activity finishes."
    ));
    n.finish_all_jobs();
    n.advance(1000);
    assert!(n.exited());
    assert_eq!(n.rsc_hold(), "none");
}
