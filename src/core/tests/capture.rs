//! Replay of the real two-node start-up (wire-samples/bcast-startup): feed
//! bravo's core what the real bravo received, in the order it processed it,
//! and compare everything it sent with what the real bravo sent.

use super::*;
use crate::wire::{Field, FT_STRING};

const DATA: &str = include_str!("../testdata/bcast-startup.msgs");

pub(super) struct Record {
    /// Capture time, microseconds since 1970.
    pub time_us: u64,
    pub sender: String,
    pub msg: Message,
}

fn unhex(s: &str) -> Vec<u8> {
    (0..s.len() / 2)
        .map(|i| u8::from_str_radix(&s[2 * i..2 * i + 2], 16).unwrap())
        .collect()
}

/// Every packet of the capture (the `auth` field left out).
pub(super) fn capture() -> Vec<Record> {
    DATA.lines()
        .filter(|l| !l.starts_with('#') && !l.is_empty())
        .map(|line| {
            let mut cols = line.split('\t');
            let time_us = cols.next().unwrap().parse().unwrap();
            let sender = cols.next().unwrap().to_string();
            let mut msg = Message::new();
            for col in cols {
                let ftype: u8 = col[1..2].parse().unwrap();
                let (name, value) = col[3..].split_once('=').unwrap();
                let value = if ftype == FT_BINARY {
                    unhex(value)
                } else {
                    value.as_bytes().to_vec()
                };
                msg.fields.push(Field {
                    name: name.to_string(),
                    ftype,
                    value,
                });
            }
            Record {
                time_us,
                sender,
                msg,
            }
        })
        .collect()
}

/// The message with an empty `ld` (load average differs between runs).
pub(super) fn without_ld(m: &Message) -> Message {
    let mut m = m.clone();
    for f in m.fields.iter_mut().filter(|f| f.name == "ld") {
        f.ftype = FT_STRING;
        f.value.clear();
    }
    m
}

/// Produces what the real nodes' resource layer sent in this window:
/// `starting` at comm-up, and a `resource` report answering a `starting`.
struct StartingResponder;

impl UpperLayer for StartingResponder {
    fn on_comm_up(&mut self, ctx: &mut UpperCtx) {
        ctx.send(Message::with_type("starting"));
    }

    fn on_message(&mut self, ctx: &mut UpperCtx, from: &str, msg: &Message) {
        if from != ctx.local_node() && msg.msg_type() == Some("starting") {
            let mut m = Message::with_type("resource");
            m.push_str("rsc_hold", "none");
            m.push_str("rtype", "full");
            m.push_str("isstable", "0");
            ctx.send(m);
        }
    }
}

#[test]
fn capture_file_is_complete() {
    let all = capture();
    assert_eq!(all.len(), 108);
    assert_eq!(all[0].msg.get_str("st"), Some("init"));
    assert_eq!(all[0].msg.get("srcuuid"), Some(&ALPHA_UUID[..]));
}

/// The real bravo processed its inbound packets right after its own
/// keepalive each time it woke up; its first batch (alpha's seq 4 onwards)
/// only at its second wake-up. Our core processes immediately, so the
/// script feeds alpha's packets at those same points.
#[test]
fn bravo_start_up_reproduces_the_real_message_sequence() {
    let records = capture();
    let t0 = records[0].time_us;
    let rel_ms = |r: &Record| (r.time_us - t0) / 1000;
    // Bravo's window: until its status seq 0x1e, before the resource
    // layer's 10 s timer fires.
    let expected: Vec<Message> = records
        .iter()
        .filter(|r| r.sender == "bravo" && rel_ms(r) <= 10_689)
        .map(|r| without_ld(&r.msg))
        .collect();
    // Bravo started 167 ms after alpha's first packet and missed those.
    let bravo_start_ms = 167;
    let from_alpha: Vec<&Record> = records
        .iter()
        .filter(|r| r.sender == "alpha" && rel_ms(r) > bravo_start_ms)
        .collect();

    let mut sim = Sim::with_upper(params("bravo"), Box::new(StartingResponder));
    // The triggers the real bravo drew: alpha's seqs 4, 14, 24 were ACKed,
    // and its own 8, 18, 28.
    sim.core.set_ack_trigger("alpha", 4);
    sim.core.set_ack_trigger("bravo", 8);
    let ts_of = |e: &Message| u64::from_str_radix(e.get_str("ts").unwrap(), 16).unwrap();

    let mut ours: Vec<Message> = Vec::new();
    let mut next_alpha = 0;
    for beat in 0..=21u64 {
        let mono = beat * 500;
        sim.pinned_wall = expected.get(ours.len()).map(ts_of);
        sim.set_time(mono);
        if beat == 0 {
            sim.start();
        } else if beat == 10 {
            // The real bravo's start-up dt timer fired just before this beat.
            sim.fire(TimerKey::StartupDtEnd);
            sim.pinned_wall = expected.get(ours.len() + 2).map(ts_of);
            sim.fire(TimerKey::Keepalive);
        } else {
            sim.fire(TimerKey::Keepalive);
        }
        if beat >= 2 {
            // Everything alpha sent until this wake-up (plus a little slack
            // for the real timer drift).
            let until = bravo_start_ms + mono + 60;
            while next_alpha < from_alpha.len() && rel_ms(from_alpha[next_alpha]) <= until {
                sim.deliver(from_alpha[next_alpha].msg.clone());
                next_alpha += 1;
            }
        }
        let sent = sim.sent();
        // Our own broadcasts come back from the network.
        for m in &sent {
            sim.deliver(m.clone());
        }
        assert!(sim.sent().is_empty(), "echoes must not cause traffic");
        ours.extend(sent.iter().map(without_ld));
    }

    let show = |ms: &[Message]| -> Vec<String> {
        ms.iter()
            .map(|m| brief(m, &["dest", "st", "dt", "seq", "ackseq", "ts"]))
            .collect()
    };
    assert_eq!(show(&ours), show(&expected));
    assert_eq!(ours, expected);

    let c = sim.core.counters();
    assert_eq!(c.duplicates, 0);
    assert_eq!(c.own_echoes as usize, ours.len());
    assert_eq!(c.dropped_old_duplicate, 0);
    assert_eq!(sim.core.node_status("alpha"), Some("active"));
    assert_eq!(sim.core.link_status("alpha", 0), Some("up"));
    assert_eq!(sim.core.link_status("bravo", 0), Some("up"));
    assert_eq!(sim.core.peer_uuid("alpha"), Some(ALPHA_UUID));
}

#[test]
fn bravo_start_up_logs_like_the_real_bravo() {
    let records = capture();
    let t0 = records[0].time_us;
    let mut sim = Sim::with_upper(params("bravo"), Box::new(StartingResponder));
    sim.set_time(0);
    sim.start();
    sim.set_time(1000);
    // alpha's status 4 and reqnodes 5
    for r in records
        .iter()
        .filter(|r| r.sender == "alpha" && (r.time_us - t0) / 1000 < 600)
        .skip(3)
    {
        sim.deliver(r.msg.clone());
    }
    // our own packets come back from the network
    for m in transmits(&sim.actions.clone()) {
        sim.deliver(m);
    }
    sim.set_time(1500);
    for r in records
        .iter()
        .filter(|r| r.sender == "alpha" && (1400..1600).contains(&((r.time_us - t0) / 1000)))
    {
        sim.deliver(r.msg.clone());
    }
    let texts = logs(&sim.take());
    let expected = [
        "Link alpha:eth0 up.",
        "Status update for node alpha: status up",
        "Link bravo:eth0 up.",
        "Comm_now_up(): updating status to active",
        "Local status now set to: 'active'",
        "Status update for node alpha: status active",
    ];
    let got: Vec<&str> = texts
        .iter()
        .map(String::as_str)
        .filter(|t| expected.contains(t))
        .collect();
    assert_eq!(got, expected);
}
