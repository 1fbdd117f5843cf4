//! Retransmission requests, serving them, NAKs and ACKs (§5.3, §5.5).

use super::*;

fn names(m: &Message) -> Vec<&str> {
    m.fields.iter().map(|f| f.name.as_str()).collect()
}

fn of_type(msgs: &[Message], t: &str) -> Vec<Message> {
    msgs.iter()
        .filter(|m| m.msg_type() == Some(t))
        .cloned()
        .collect()
}

/// Alpha active with bravo; bravo has sent seqs 1..=9.
fn with_bravo_at_seq_9() -> (Sim, Peer) {
    let (mut sim, mut bravo) = alpha_with_active_bravo();
    while bravo.next_seq <= 9 {
        sim.deliver(bravo.status("active", 3000));
    }
    sim.take();
    (sim, bravo)
}

#[test]
fn gap_is_requested_after_a_random_delay_and_repeated_until_it_arrives() {
    let (mut sim, mut bravo) = with_bravo_at_seq_9();
    let lost_a = bravo.status("active", 3000); // seq 10 (0xa)
    let lost_b = bravo.status("active", 3000); // seq 11
    sim.deliver(bravo.status("active", 3000)); // seq 12
    let acts = sim.take();
    assert!(has_log(
        &acts,
        Level::Warn,
        "2 lost packet(s) for [bravo] [9:12]"
    ));
    let now = sim.now.mono_ms;
    for seq in [10, 11] {
        let at = sim.timer(&TimerKey::Rexmit("bravo".into(), seq)).unwrap();
        assert!((now + 50..=now + 250).contains(&at), "{at}");
    }
    assert_eq!(sim.core.node("bravo").unwrap().missing_packets(), 2);

    sim.advance(250);
    let reqs = of_type(&sim.sent(), "NS_rexmit");
    assert_eq!(reqs.len(), 2);
    assert_eq!(
        names(&reqs[0]),
        ["t", "dest", "firstseq", "lastseq", "destuuid", "src", "srcuuid", "hg", "ts", "ttl"]
    );
    let mut asked: Vec<&str> = reqs
        .iter()
        .map(|m| m.get_str("firstseq").unwrap())
        .collect();
    asked.sort_unstable();
    assert_eq!(asked, ["10", "11"]); // decimal
    assert!(reqs
        .iter()
        .all(|m| m.get_str("firstseq") == m.get_str("lastseq")));
    assert!(reqs.iter().all(|m| m.get_str("dest") == Some("bravo")));

    // re-asked every max_rexmit_delay
    let t10 = sim.timer(&TimerKey::Rexmit("bravo".into(), 10)).unwrap();
    sim.advance_to(t10);
    assert_eq!(of_type(&sim.sent(), "NS_rexmit").len(), 1);

    // seq 10 arrives late: accepted, no more requests for it
    sim.deliver(lost_a);
    let acts = sim.take();
    assert!(acts.contains(&Action::CancelTimer(TimerKey::Rexmit("bravo".into(), 10))));
    assert_eq!(sim.timer(&TimerKey::Rexmit("bravo".into(), 10)), None);
    assert_eq!(sim.core.counters().recovered_packets, 1);
    sim.advance(1000);
    let asked: Vec<String> = of_type(&sim.sent(), "NS_rexmit")
        .iter()
        .map(|m| m.get_str("firstseq").unwrap().to_string())
        .collect();
    assert!(asked.iter().all(|s| s == "11"));
    assert!(!asked.is_empty());

    sim.deliver(lost_b);
    assert!(has_log(
        &sim.take(),
        Level::Info,
        "No pkts missing from bravo!"
    ));
    sim.advance(1000);
    assert!(of_type(&sim.sent(), "NS_rexmit").is_empty());
    assert_eq!(sim.core.counters().lost_packets, 2);
}

#[test]
fn nak_stops_the_requests() {
    let (mut sim, mut bravo) = with_bravo_at_seq_9();
    bravo.next_seq += 1; // seq 10 lost
    sim.deliver(bravo.status("active", 3000));
    sim.advance(300);
    assert_eq!(of_type(&sim.sent(), "NS_rexmit").len(), 1);
    let nak = bravo.ns(&[
        ("t", "NS_nak_rexmit"),
        ("firstseq", "a"),
        ("dest", "alpha"),
        ("info", "seqno too low"),
    ]);
    sim.deliver(nak);
    let acts = sim.take();
    assert!(has_log(
        &acts,
        Level::Error,
        "Irretrievably lost packet: node bravo seq 10"
    ));
    assert_eq!(sim.timer(&TimerKey::Rexmit("bravo".into(), 10)), None);
    assert_eq!(sim.core.counters().irretrievably_lost, 1);
    sim.advance(1000);
    assert!(of_type(&sim.sent(), "NS_rexmit").is_empty());
}

#[test]
fn requests_stop_when_the_peer_dies() {
    let (mut sim, mut bravo) = with_bravo_at_seq_9();
    bravo.next_seq += 1;
    sim.deliver(bravo.status("active", 3000));
    sim.advance(5000);
    assert_eq!(sim.core.node_status("bravo"), Some("dead"));
    let requests_while_alive = sim.core.counters().rexmit_requests_sent;
    sim.advance(5000);
    assert_eq!(
        sim.core.counters().rexmit_requests_sent,
        requests_while_alive
    );
    assert!(sim
        .timers
        .keys()
        .all(|k| !matches!(k, TimerKey::Rexmit(..))));
}

#[test]
fn serves_retransmissions_unchanged_with_rate_limit_and_naks() {
    let (mut sim, mut bravo) = alpha_with_active_bravo();
    let mut history: Vec<Message> = Vec::new();
    for t in (600..=3100).step_by(500) {
        sim.advance_to(t);
        sim.deliver(bravo.status("active", 3000));
        history.extend(sim.sent());
    }
    let stored = history
        .iter()
        .find(|m| m.get_str("seq") == Some("9"))
        .unwrap()
        .clone();
    let ask = |bravo: &Peer, first: &str, last: &str| {
        bravo.ns(&[
            ("t", "NS_rexmit"),
            ("dest", "alpha"),
            ("firstseq", first),
            ("lastseq", last),
        ])
    };
    sim.deliver(ask(&bravo, "9", "9"));
    let resent = sim.sent();
    assert_eq!(
        resent,
        vec![stored.clone()],
        "identical message, same seq/ts"
    );
    // asked again within max_rexmit_delay - 10 ms: not resent
    sim.advance(200);
    sim.deliver(ask(&bravo, "9", "9"));
    assert!(sim.sent().iter().all(|m| m.get_str("seq") != Some("9")));
    sim.advance(40);
    sim.deliver(ask(&bravo, "9", "9"));
    assert_eq!(sim.sent(), vec![stored]);
    assert_eq!(sim.core.counters().retransmitted, 2);

    // beyond what we sent: warning only
    let hi = sim.core.next_seq() - 1;
    sim.deliver(ask(&bravo, &(hi + 5).to_string(), &(hi + 5).to_string()));
    let acts = sim.take();
    assert!(transmits(&acts).is_empty());
    let text = format!("Rexmit of seq {} requested. {hi} is max.", hi + 5);
    assert!(has_log(&acts, Level::Warn, &text));

    // malformed range
    sim.deliver(ask(&bravo, "7", "3"));
    assert!(has_log(&sim.take(), Level::Error, "Invalid rexmit seqnos"));
}

#[test]
fn already_acknowledged_seqs_are_not_resent() {
    let (mut sim, mut bravo) = alpha_with_active_bravo();
    sim.advance_to(600);
    sim.deliver(bravo.status("active", 3000));
    let ack = bravo.ns(&[("t", "NS_ackmsg"), ("dest", "alpha"), ("ackseq", "5")]);
    sim.deliver(ack);
    sim.take();
    let req = bravo.ns(&[
        ("t", "NS_rexmit"),
        ("dest", "alpha"),
        ("firstseq", "3"),
        ("lastseq", "6"),
    ]);
    sim.deliver(req);
    let seqs: Vec<String> = sim
        .sent()
        .iter()
        .map(|m| m.get_str("seq").unwrap_or("-").to_string())
        .collect();
    assert_eq!(seqs, ["6"]);
}

#[test]
fn too_old_seqs_are_naked_and_batches_are_capped() {
    let (mut sim, mut bravo) = alpha_with_active_bravo();
    // 600 messages later the first 100 are gone; keep bravo alive and ACKing
    // nothing, so nothing else is freed.
    for i in 0..600u64 {
        sim.advance(500);
        if i % 2 == 0 {
            sim.deliver(bravo.status("active", 3000));
        }
    }
    sim.take();
    let req = bravo.ns(&[
        ("t", "NS_rexmit"),
        ("dest", "alpha"),
        ("firstseq", "2"),
        ("lastseq", "2"),
    ]);
    sim.deliver(req);
    let acts = sim.take();
    let naks = of_type(&transmits(&acts), "NS_nak_rexmit");
    assert_eq!(naks.len(), 1);
    assert_eq!(
        names(&naks[0]),
        ["t", "firstseq", "dest", "info", "destuuid", "src", "srcuuid", "hg", "ts", "ttl"]
    );
    assert_eq!(naks[0].get_str("firstseq"), Some("2"));
    assert_eq!(naks[0].get_str("dest"), Some("bravo"));
    assert_eq!(naks[0].get_str("info"), Some("seqno too low"));
    assert!(has_log(
        &acts,
        Level::Error,
        "Cannot rexmit pkt 2 for bravo: seqno too low"
    ));

    let lo = sim.core.next_seq() - 100;
    let hi = lo + 70;
    let req = bravo.ns(&[
        ("t", "NS_rexmit"),
        ("dest", "alpha"),
        ("firstseq", &lo.to_string()),
        ("lastseq", &hi.to_string()),
    ]);
    sim.deliver(req);
    assert_eq!(sim.sent().len(), 50);
    assert!(sim.core.counters().naks_sent >= 1);
}

#[test]
fn acks_follow_the_trigger_rule() {
    let (mut sim, mut bravo) = alpha_with_active_bravo(); // trigger for bravo: 5
    while bravo.next_seq <= 0x20 {
        sim.deliver(bravo.status("active", 3000));
    }
    let acks = of_type(&sim.sent(), "NS_ackmsg");
    let to_bravo: Vec<&str> = acks
        .iter()
        .filter(|m| m.get_str("dest") == Some("bravo"))
        .map(|m| m.get_str("ackseq").unwrap())
        .collect();
    assert_eq!(to_bravo, ["5", "f", "19"]); // 5, 15, 25
    assert_eq!(
        names(
            acks.iter()
                .find(|m| m.get_str("dest") == Some("bravo"))
                .unwrap()
        ),
        ["t", "dest", "ackseq", "destuuid", "src", "srcuuid", "hg", "ts", "ttl"]
    );
}

#[test]
fn peer_acks_free_history_and_silence_fills_it() {
    let (mut sim, mut bravo) = alpha_with_active_bravo();
    let mut warned = false;
    for _ in 0..400 {
        sim.advance(500);
        sim.deliver(bravo.status("active", 3000));
        if has_log(
            &sim.take(),
            Level::Warn,
            "Message hist queue is filling up (376 messages in queue)",
        ) {
            warned = true;
        }
    }
    assert!(warned, "a peer that never ACKs fills the history");
    assert!(sim.core.history_len() > 375);
    let hi = sim.core.next_seq() - 1;
    let ack = bravo.ns(&[
        ("t", "NS_ackmsg"),
        ("dest", "alpha"),
        ("ackseq", &format!("{:x}", hi - 2)),
    ]);
    sim.deliver(ack);
    // ours is ACKed by our own self-ACKs (trigger 6), bravo's by its ACK
    assert!(sim.core.history_len() < 30, "{}", sim.core.history_len());
    // an ACK above anything we sent is refused
    let bogus = bravo.ns(&[
        ("t", "NS_ackmsg"),
        ("dest", "alpha"),
        ("ackseq", &format!("{:x}", hi + 100)),
    ]);
    sim.deliver(bogus);
    let text = format!(
        "HBDoMsg_T_ACK: corrupted ackseq current hiseq = {hi} ackseq ={} in this message",
        hi + 100
    );
    assert!(has_log(&sim.take(), Level::Error, &text));
}
