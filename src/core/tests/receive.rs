//! The receive pipeline (§5.1): validation, node lookup, generations,
//! addressing and delivery to the upper layer.

use std::cell::RefCell;
use std::rc::Rc;

use super::*;

fn started_alpha() -> (Sim, Peer) {
    let mut sim = Sim::new(params("alpha"));
    sim.start();
    sim.take();
    (sim, Peer::bravo())
}

#[test]
fn unknown_node_is_dropped_counted_and_logged_sparingly() {
    let (mut sim, _) = started_alpha();
    let mut stranger = Peer::bravo();
    stranger.name = "mallory".into();
    stranger.uuid = [9; 16];
    let text = "process_status_message: bad node [mallory] in message";
    sim.deliver(stranger.status("up", 3000));
    assert!(has_log(&sim.take(), Level::Error, text));
    sim.advance(1000);
    sim.deliver(stranger.status("up", 3000));
    assert!(!has_log(&sim.take(), Level::Error, text));
    sim.advance(60_000);
    sim.take();
    sim.deliver(stranger.status("up", 3000));
    assert!(has_log(&sim.take(), Level::Error, text));
    assert_eq!(sim.core.counters().dropped_unknown_node, 3);
    assert_eq!(sim.core.node_status("mallory"), None);
}

#[test]
fn missing_fields_are_dropped_with_heartbeats_messages() {
    let (mut sim, mut bravo) = started_alpha();
    let mut no_src = bravo.status("up", 3000);
    no_src.remove("src");
    no_src.remove("srcuuid");
    sim.deliver(no_src);
    assert!(has_log(
        &sim.take(),
        Level::Error,
        "process_clustermsg: missing from/ts/type: iface eth0, from <?>"
    ));
    let mut no_ts = bravo.status("up", 3000);
    no_ts.remove("ts");
    sim.deliver(no_ts);
    let mut no_type = bravo.status("up", 3000);
    no_type.remove("t");
    sim.deliver(no_type);
    let mut no_seq = bravo.status("up", 3000);
    no_seq.remove("seq");
    sim.deliver(no_seq);
    assert!(has_log(
        &sim.take(),
        Level::Error,
        "process_clustermsg: missing seqno: iface eth0, from bravo"
    ));
    let mut bad_seq = bravo.status("up", 3000);
    bad_seq.set_str("seq", "xyz");
    sim.deliver(bad_seq);
    let mut zero_seq = bravo.status("up", 3000);
    zero_seq.set_str("seq", "0");
    sim.deliver(zero_seq);
    let mut bad_gen = bravo.status("up", 3000);
    bad_gen.set_str("hg", "nope");
    sim.deliver(bad_gen);
    let mut no_st = bravo.msg(&[("t", "status"), ("dt", "bb8"), ("protocol", "1")]);
    no_st.remove("st");
    sim.deliver(no_st);
    let acts = sim.take();
    assert!(has_log(
        &acts,
        Level::Error,
        "HBDoMsg_T_STATUS: status update without st field"
    ));
    let c = sim.core.counters();
    assert_eq!(c.dropped_missing_fields, 4);
    assert_eq!(c.dropped_bad_seq, 2);
    assert_eq!(c.dropped_bad_generation, 1);
    assert_eq!(sim.core.node_status("bravo"), Some("init"));
    // An NS_ message needs no seq.
    let ack = bravo.ns(&[("t", "NS_ackmsg"), ("dest", "alpha"), ("ackseq", "1")]);
    sim.deliver(ack);
    assert_eq!(sim.core.counters().accepted, 2);
}

#[test]
fn zero_or_garbage_timestamp_is_dropped_silently() {
    let (mut sim, mut bravo) = started_alpha();
    let mut zero = bravo.status("up", 3000);
    zero.set_str("ts", "0");
    sim.deliver(zero);
    let mut junk = bravo.status("up", 3000);
    junk.set_str("ts", "soon");
    sim.deliver(junk);
    assert!(logs(&sim.take()).is_empty());
    assert_eq!(sim.core.counters().dropped_bad_ts, 2);
    assert_eq!(sim.core.node_status("bravo"), Some("init"));
}

#[test]
fn lower_generation_is_dropped_as_replay() {
    let (mut sim, mut bravo) = started_alpha();
    sim.deliver(bravo.status("up", 3000));
    let mut ghost = Peer::bravo();
    ghost.generation = BRAVO_GEN - 1;
    ghost.next_seq = 2;
    sim.take();
    sim.deliver(ghost.status("up", 3000));
    let acts = sim.take();
    let text = format!(
        "should_drop_message: attempted replay attack [bravo]? [gen = {}, curgen = {}]",
        BRAVO_GEN - 1,
        BRAVO_GEN
    );
    assert!(has_log(&acts, Level::Error, &text));
    assert_eq!(sim.core.counters().dropped_replay, 1);
}

#[test]
fn messages_for_another_node_are_tracked_then_dropped() {
    let (mut sim, mut bravo) = started_alpha();
    sim.deliver(bravo.status("up", 3000));
    let other = bravo.msg(&[("t", "ip-request-resp"), ("dest", "bravo")]);
    sim.deliver(other);
    sim.take();
    sim.deliver(bravo.status("up", 3000));
    // seq 2 was counted: no gap
    assert!(!logs(&sim.take()).iter().any(|t| t.contains("lost packet")));
    assert_eq!(sim.core.counters().not_for_us, 1);
}

#[test]
fn destuuid_decides_over_dest_and_zero_uuid_is_absent() {
    let seen = Rc::new(RefCell::new(Vec::new()));
    let mut sim = Sim::with_upper(params("alpha"), Box::new(Recorder(seen.clone())));
    sim.start();
    let mut bravo = Peer::bravo();
    sim.deliver(bravo.status("up", 3000));
    // zero destuuid: dest by name (us)
    let mut m = bravo.msg(&[("t", "hello"), ("dest", "alpha")]);
    m.push("destuuid", FT_BINARY, vec![0; 16]);
    sim.deliver(m);
    // destuuid of bravo with our name in dest: not for us
    let mut m = bravo.msg(&[("t", "hello2"), ("dest", "alpha")]);
    m.push("destuuid", FT_BINARY, BRAVO_UUID.to_vec());
    sim.deliver(m);
    // our destuuid
    let mut m = bravo.msg(&[("t", "hello3"), ("dest", "alpha")]);
    m.push("destuuid", FT_BINARY, ALPHA_UUID.to_vec());
    sim.deliver(m);
    let got: Vec<String> = seen
        .borrow()
        .iter()
        .filter(|s| s.starts_with("bravo"))
        .cloned()
        .collect();
    assert_eq!(got, ["bravo status", "bravo hello", "bravo hello3"]);
}

struct Recorder(Rc<RefCell<Vec<String>>>);

impl UpperLayer for Recorder {
    fn on_message(&mut self, _ctx: &mut UpperCtx, from: &str, msg: &Message) {
        self.0
            .borrow_mut()
            .push(format!("{from} {}", msg.msg_type().unwrap_or("?")));
    }
}

#[test]
fn upper_layer_sees_peer_and_own_messages_but_not_ns() {
    let seen = Rc::new(RefCell::new(Vec::new()));
    let mut sim = Sim::with_upper(params("alpha"), Box::new(Recorder(seen.clone())));
    sim.core.set_ack_trigger("bravo", 1);
    sim.start();
    let mut bravo = Peer::bravo();
    sim.deliver(bravo.status("up", 3000)); // seq 1: ACKed
    let res = bravo.msg(&[("t", "resource"), ("rsc_hold", "none")]);
    sim.deliver(res);
    let got = seen.borrow().clone();
    // our three start-up statuses via loopback, then bravo's two messages;
    // not the ACK we sent, nor our reqnodes (addressed to bravo)
    assert_eq!(
        got,
        [
            "alpha status",
            "alpha status",
            "alpha status",
            "bravo status",
            "bravo resource"
        ]
    );
    assert!(got.contains(&"bravo resource".to_string()));
    assert!(got.contains(&"alpha status".to_string()));
    assert!(!got.iter().any(|s| s.contains("NS_")));
    // our reqnodes to bravo is not for us: not delivered
    assert!(!got.iter().any(|s| s == "alpha reqnodes"));
}

#[test]
fn sender_is_found_by_uuid_and_uuid_is_learned_once() {
    let (mut sim, mut bravo) = started_alpha();
    sim.deliver(bravo.status("up", 3000));
    let acts = sim.take();
    assert!(acts.contains(&Action::NodeUuid {
        node: "bravo".into(),
        uuid: BRAVO_UUID
    }));
    sim.deliver(bravo.status("up", 3000));
    assert!(!sim
        .take()
        .iter()
        .any(|a| matches!(a, Action::NodeUuid { .. })));
    // same uuid, odd name: still bravo
    let mut renamed = bravo.status("up", 3000);
    renamed.set_str("src", "BRAVO-old");
    sim.deliver(renamed);
    assert_eq!(sim.core.counters().dropped_unknown_node, 0);
    assert_eq!(sim.core.node("bravo").unwrap().last_seq(), Some(3));
}

#[test]
fn destuuid_only_when_the_peers_uuid_is_known() {
    for known in [true, false] {
        let mut p = params("alpha");
        if known {
            p.known_uuids = vec![("bravo".into(), BRAVO_UUID)];
        }
        let mut sim = Sim::new(p);
        sim.start();
        let mut bravo = Peer::bravo();
        let mut st = bravo.status("up", 3000);
        st.remove("srcuuid"); // an old peer without UUIDs
        sim.deliver(st);
        let req: Vec<Message> = sim
            .sent()
            .into_iter()
            .filter(|m| m.msg_type() == Some("reqnodes"))
            .collect();
        assert_eq!(req.len(), 1);
        let expected = known.then_some(&BRAVO_UUID[..]);
        assert_eq!(req[0].get("destuuid"), expected);
    }
}

#[test]
fn packet_on_unknown_link_is_refused() {
    let (mut sim, mut bravo) = started_alpha();
    sim.deliver_on(7, bravo.status("up", 3000));
    assert_eq!(sim.core.counters().dropped_bad_link, 1);
    assert_eq!(sim.core.node_status("bravo"), Some("init"));
}

#[test]
fn overlong_or_odd_status_word_is_refused() {
    let (mut sim, mut bravo) = started_alpha();
    let long = "x".repeat(40);
    sim.deliver(bravo.status(&long, 3000));
    sim.deliver(bravo.status("up now", 3000));
    assert_eq!(sim.core.node_status("bravo"), Some("init"));
    assert!(has_log(
        &sim.take(),
        Level::Error,
        "HBDoMsg_T_STATUS: bad st field"
    ));
}
