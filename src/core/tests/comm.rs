//! Comm-up (§6.4): the node-list exchange, coming up alone, and shutdown.

use super::*;

fn names(m: &Message) -> Vec<&str> {
    m.fields.iter().map(|f| f.name.as_str()).collect()
}

#[test]
fn reqnodes_until_repnodes_then_active() {
    let mut sim = Sim::new(params("alpha"));
    sim.start();
    sim.take();
    let mut bravo = Peer::bravo();
    sim.advance_to(170);
    sim.deliver(bravo.status("init", 5000));
    let sent = sim.sent();
    let req: Vec<&Message> = sent
        .iter()
        .filter(|m| m.msg_type() == Some("reqnodes"))
        .collect();
    assert_eq!(req.len(), 1);
    assert_eq!(
        names(req[0]),
        ["t", "dest", "destuuid", "src", "srcuuid", "seq", "hg", "ts", "ld", "ttl"]
    );
    assert_eq!(req[0].get_str("dest"), Some("bravo"));
    assert_eq!(req[0].get("destuuid"), Some(&BRAVO_UUID[..]));
    assert_eq!(sim.timer(&TimerKey::ReqNodes), Some(1170));
    assert!(!sim.core.comm_up());

    // No answer: asked again every second, still `up`.
    sim.deliver(bravo.status("up", 5000));
    sim.advance_to(2170);
    let again: Vec<String> = sim
        .sent()
        .iter()
        .filter(|m| m.msg_type() == Some("reqnodes"))
        .map(|m| m.get_str("dest").unwrap().to_string())
        .collect();
    assert_eq!(again, ["bravo", "bravo"]);
    assert_eq!(sim.core.local_status(), "up");

    let rep = bravo.msg(&[
        ("dest", "alpha"),
        ("t", "repnodes"),
        ("nodelist", "alpha bravo "),
        ("delnodelist", " "),
    ]);
    sim.deliver(rep);
    let acts = sim.take();
    assert!(acts.contains(&Action::CommUp));
    assert!(acts.contains(&Action::CancelTimer(TimerKey::ReqNodes)));
    assert!(has_log(
        &acts,
        Level::Info,
        "Comm_now_up(): updating status to active"
    ));
    assert!(has_log(
        &acts,
        Level::Info,
        "Local status now set to: 'active'"
    ));
    let statuses: Vec<String> = transmits(&acts).iter().map(|m| brief(m, &["st"])).collect();
    assert_eq!(statuses, ["status st=active"]);
    assert!(sim.core.comm_up());
    assert_eq!(sim.core.local_status(), "active");
    assert_eq!(sim.timer(&TimerKey::ReqNodes), None);
}

#[test]
fn answers_reqnodes_with_every_configured_node() {
    let mut sim = Sim::new(params("bravo"));
    sim.start();
    sim.take();
    let mut alpha = Peer::alpha();
    sim.deliver(alpha.status("up", 5000));
    sim.take();
    let req = alpha.msg(&[("t", "reqnodes"), ("dest", "bravo")]);
    sim.deliver(req);
    let rep: Vec<Message> = sim
        .sent()
        .into_iter()
        .filter(|m| m.msg_type() == Some("repnodes"))
        .collect();
    assert_eq!(rep.len(), 1);
    assert_eq!(
        names(&rep[0]),
        [
            "dest",
            "t",
            "nodelist",
            "delnodelist",
            "destuuid",
            "src",
            "srcuuid",
            "seq",
            "hg",
            "ts",
            "ld",
            "ttl"
        ]
    );
    assert_eq!(rep[0].get_str("nodelist"), Some("alpha bravo "));
    assert_eq!(rep[0].get_str("delnodelist"), Some(" "));
    assert_eq!(rep[0].get_str("dest"), Some("alpha"));

    // A reqnodes for somebody else is not answered.
    let other = alpha.msg(&[("t", "reqnodes"), ("dest", "charlie")]);
    sim.deliver(other);
    assert!(sim.sent().is_empty());
    assert_eq!(sim.core.counters().not_for_us, 1);
}

/// Regression (mixed legacy rejoin in namespaces): a peer that just
/// (re)started asks `reqnodes` before any status of ours reached it. It gets
/// our status first, then `repnodes`, so it knows we are `active` when it
/// decides whether to self-grant its groups.
#[test]
fn reqnodes_from_a_fresh_peer_is_answered_after_our_status() {
    let mut sim = Sim::new(params("bravo"));
    sim.start();
    // Between two of our keepalives: our last status predates alpha's start.
    sim.advance(1200);
    sim.take();
    let mut alpha = Peer::alpha();
    sim.deliver(alpha.status("init", 5000));
    sim.take();
    let req = alpha.msg(&[("t", "reqnodes"), ("dest", "bravo")]);
    sim.deliver(req);
    let kinds: Vec<String> = sim
        .sent()
        .iter()
        .filter_map(|m| m.msg_type().map(str::to_string))
        .filter(|t| !t.starts_with("NS_") && t != "reqnodes")
        .collect();
    assert_eq!(kinds, ["status", "repnodes"]);

    // Once it has had a status from us, the reply is the node list alone.
    let req = alpha.msg(&[("t", "reqnodes"), ("dest", "bravo")]);
    sim.deliver(req);
    let kinds: Vec<String> = sim
        .sent()
        .iter()
        .filter_map(|m| m.msg_type().map(str::to_string))
        .filter(|t| !t.starts_with("NS_") && t != "reqnodes")
        .collect();
    assert_eq!(kinds, ["repnodes"]);
}

#[test]
fn alone_after_initdead_comm_comes_up_without_reqnodes() {
    let mut sim = Sim::new(params("alpha"));
    sim.start();
    sim.take();
    sim.advance_to(6000);
    assert_eq!(sim.core.node_status("bravo"), Some("init"));
    assert!(!sim.core.comm_up());
    sim.advance_to(6001);
    let acts = sim.take();
    assert!(has_log(&acts, Level::Warn, "node bravo: is dead"));
    assert!(acts.contains(&Action::NodeStatus {
        node: "bravo".into(),
        status: "dead".into()
    }));
    assert!(acts.contains(&Action::CommUp));
    assert!(transmits(&acts)
        .iter()
        .all(|m| m.msg_type() != Some("reqnodes")));
    assert_eq!(sim.core.local_status(), "active");
    // the links were never up: nothing to declare dead
    assert!(!logs(&acts).iter().any(|l| l.starts_with("Link ")));
}

#[test]
fn peer_without_protocol_disables_flow_control_and_reqnodes() {
    let mut sim = Sim::new(params("alpha"));
    sim.core.set_ack_trigger("bravo", 3);
    sim.start();
    sim.take();
    let mut old = Peer::bravo();
    let st = old.msg(&[("t", "status"), ("st", "up"), ("dt", "bb8")]);
    sim.deliver(st);
    let acts = sim.take();
    assert!(has_log(
        &acts,
        Level::Info,
        "flow control disabled due to different version heartbeat"
    ));
    // comm comes up at once, no node list exchange
    assert!(acts.contains(&Action::CommUp));
    let sent = transmits(&acts);
    assert!(sent.iter().all(|m| m.msg_type() == Some("status")));
    assert!(sent.iter().all(|m| m.get("protocol").is_none()));
    assert!(!sim.core.flow_control());
    // seqs 3 and 13 are trigger-aligned, but nothing is ACKed any more.
    for _ in 0..12 {
        let st = old.msg(&[("t", "status"), ("st", "up"), ("dt", "bb8")]);
        sim.deliver(st);
    }
    assert!(sim.sent().iter().all(|m| m.msg_type() != Some("NS_ackmsg")));
    sim.advance(500);
    assert!(sim.sent().iter().all(|m| m.get("protocol").is_none()));
}

#[test]
fn shutdown_before_comm_up_waits_then_exits() {
    let mut sim = Sim::new(params("alpha"));
    sim.start();
    sim.take();
    sim.command(Command::Shutdown);
    let acts = sim.take();
    assert!(has_log(
        &acts,
        Level::Warn,
        "Shutdown delayed until Communication is up."
    ));
    assert!(!acts.iter().any(|a| matches!(a, Action::Exit { .. })));
    sim.advance_to(6001);
    let acts = sim.take();
    let exit = acts.iter().position(|a| *a == Action::Exit { code: 0 });
    let up = acts.iter().position(|a| *a == Action::CommUp);
    assert!(up.unwrap() < exit.unwrap());
    assert!(has_log(
        &acts,
        Level::Info,
        "alpha Heartbeat shutdown complete."
    ));
}

#[test]
fn shutdown_sends_a_last_status_and_exits() {
    let (mut sim, _) = alpha_with_active_bravo();
    sim.command(Command::Shutdown);
    let acts = sim.take();
    let sent: Vec<String> = transmits(&acts)
        .iter()
        .filter(|m| m.msg_type() != Some("NS_ackmsg"))
        .map(|m| brief(m, &["st"]))
        .collect();
    assert_eq!(sent, ["status st=active"]);
    assert_eq!(acts.last(), Some(&Action::Exit { code: 0 }));
    // a second request changes nothing
    sim.command(Command::Shutdown);
    assert!(sim.take().is_empty());
}

struct SlowShutdown {
    done: bool,
}

impl UpperLayer for SlowShutdown {
    fn on_shutdown(&mut self, ctx: &mut UpperCtx) -> bool {
        ctx.send(Message::with_type("shutdone"));
        true
    }

    fn on_message(&mut self, ctx: &mut UpperCtx, from: &str, msg: &Message) {
        // our own shutdone comes back through loopback
        if from == ctx.local_node() && msg.msg_type() == Some("shutdone") && !self.done {
            self.done = true;
            ctx.push(Action::ArmTimer {
                key: TimerKey::Other("final".into()),
                at_ms: ctx.now().mono_ms + 1000,
            });
        }
    }

    fn on_input(&mut self, ctx: &mut UpperCtx, input: &Input) {
        if *input == Input::Timer(TimerKey::Other("final".into())) {
            ctx.shutdown_complete();
        }
    }
}

#[test]
fn upper_layer_can_take_over_shutdown() {
    let mut sim = Sim::with_upper(params("alpha"), Box::new(SlowShutdown { done: false }));
    sim.start();
    sim.advance_to(6001); // alone: comm up
    sim.take();
    sim.command(Command::Shutdown);
    let acts = sim.take();
    let sent: Vec<String> = transmits(&acts).iter().map(|m| brief(m, &[])).collect();
    assert_eq!(sent, ["status", "shutdone"]);
    assert!(!acts.iter().any(|a| matches!(a, Action::Exit { .. })));
    sim.advance(1000);
    assert!(sim.take().contains(&Action::Exit { code: 0 }));
}

#[test]
fn fifo_messages_get_control_fields_and_loop_back() {
    let (mut sim, _) = alpha_with_active_bravo();
    let mut m = Message::with_type("ip-request-resp");
    m.push_str("dest", "alpha");
    m.push_str("ipaddr", "IPaddr2::198.18.0.100/24/eth0");
    m.push_str("weown", "yes");
    m.push_str("ok", "OK");
    let seq = sim.core.next_seq();
    let acts = sim.core.send_cluster_msg(sim.now, m);
    let sent: Vec<Message> = transmits(&acts)
        .into_iter()
        .filter(|m| m.msg_type() == Some("ip-request-resp"))
        .collect();
    assert_eq!(sent.len(), 1);
    assert_eq!(
        names(&sent[0]),
        [
            "t", "dest", "ipaddr", "weown", "ok", "destuuid", "src", "srcuuid", "seq", "hg", "ts",
            "ld", "ttl"
        ]
    );
    assert_eq!(sent[0].get("destuuid"), Some(&ALPHA_UUID[..]));
    assert_eq!(sent[0].get_str("seq"), Some(format!("{seq:x}").as_str()));
    assert!(sim.core.send_cluster_msg(sim.now, Message::new()).iter().any(
        |a| matches!(a, Action::Log { level: Level::Error, text } if text.contains("without type"))
    ));
}

/// ipfail's `you_are_dead` as our API forwards it (spec annex §1.6): the
/// core adds `destuuid` and `src` after the client's fields, as the real
/// MCP does, then the control fields.
#[test]
fn ipfail_you_are_dead_gets_heartbeats_field_order() {
    let (mut sim, _) = alpha_with_active_bravo();
    let mut m = Message::with_type("you_are_dead");
    m.push_str("dest", "bravo");
    m.push_str("from_id", "ipfail");
    m.push_str("to_id", "ipfail");
    m.push_str("client_gen", "0");
    let acts = sim.core.send_cluster_msg(sim.now, m);
    let sent: Vec<Message> = transmits(&acts)
        .into_iter()
        .filter(|m| m.msg_type() == Some("you_are_dead"))
        .collect();
    assert_eq!(sent.len(), 1);
    assert_eq!(
        names(&sent[0]),
        [
            "t",
            "dest",
            "from_id",
            "to_id",
            "client_gen",
            "destuuid",
            "src",
            "srcuuid",
            "seq",
            "hg",
            "ts",
            "ld",
            "ttl"
        ]
    );
}
