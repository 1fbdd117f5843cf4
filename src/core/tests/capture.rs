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

/// How one node of the capture is replayed.
struct Replay {
    local: &'static str,
    peer: &'static str,
    /// Start of the node, ms after the capture's first packet.
    start_ms: u64,
    /// First keepalive beat after which the node handled received packets.
    first_batch_beat: u64,
    /// At the 5 s beat the start-up dt timer fired before the keepalive.
    dtend_first: bool,
    /// Compare the node's packets up to this capture time (ms).
    window_ms: u64,
    /// ACK triggers the real node drew: (node, trigger).
    triggers: [(&'static str, u64); 2],
}

/// The real nodes handled received packets right after their own keepalive
/// each time they woke up. Our core handles them at once, so the replay
/// feeds the peer's packets at those same points and compares everything
/// the node sent with what the real node sent.
fn replay(case: Replay) {
    let records = capture();
    let t0 = records[0].time_us;
    let rel_ms = |r: &Record| (r.time_us - t0) / 1000;
    let expected: Vec<Message> = records
        .iter()
        .filter(|r| r.sender == case.local && rel_ms(r) <= case.window_ms)
        .map(|r| without_ld(&r.msg))
        .collect();
    assert!(expected.len() >= 35, "{} packets", expected.len());
    // Packets sent before the node started were missed.
    let from_peer: Vec<&Record> = records
        .iter()
        .filter(|r| r.sender == case.peer && rel_ms(r) > case.start_ms)
        .collect();
    let mut sim = Sim::with_upper(params(case.local), Box::new(StartingResponder));
    for (node, trigger) in case.triggers {
        sim.core.set_ack_trigger(node, trigger);
    }
    let ts_of = |e: &Message| u64::from_str_radix(e.get_str("ts").unwrap(), 16).unwrap();

    let mut ours: Vec<Message> = Vec::new();
    let mut next_peer = 0;
    let beats = (case.window_ms - case.start_ms) / 500;
    for beat in 0..=beats {
        let mono = beat * 500;
        let timers: &[Option<TimerKey>] = match beat {
            0 => &[None],
            10 if case.dtend_first => &[Some(TimerKey::StartupDtEnd), Some(TimerKey::Keepalive)],
            10 => &[Some(TimerKey::Keepalive), Some(TimerKey::StartupDtEnd)],
            _ => &[Some(TimerKey::Keepalive)],
        };
        for timer in timers {
            // The wall clock the real node had when it sent this.
            let index = ours.len() + transmits(&sim.actions).len();
            sim.pinned_wall = expected.get(index).map(ts_of);
            sim.set_time(mono);
            match timer {
                None => sim.start(),
                Some(key) => sim.fire(key.clone()),
            }
        }
        if beat >= case.first_batch_beat {
            // Everything the peer sent until this wake-up (plus slack for
            // the real timers' drift).
            let until = case.start_ms + mono + 60;
            while next_peer < from_peer.len() && rel_ms(from_peer[next_peer]) <= until {
                sim.deliver(from_peer[next_peer].msg.clone());
                next_peer += 1;
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
    assert_eq!(sim.core.node_status(case.peer), Some("active"));
    assert_eq!(sim.core.local_status(), "active");
    assert_eq!(sim.core.link_status(case.peer, 0), Some("up"));
    assert_eq!(sim.core.link_status(case.local, 0), Some("up"));
}

#[test]
fn bravo_start_up_reproduces_the_real_message_sequence() {
    replay(Replay {
        local: "bravo",
        peer: "alpha",
        start_ms: 167,
        // the real bravo's first batch came only at its second keepalive
        first_batch_beat: 2,
        dtend_first: true,
        // until its status 0x1e, before the resource layer's 10 s timer
        window_ms: 10_689,
        // it ACKed alpha's 4, 14, 24... and its own 8, 18, 28...
        triggers: [("alpha", 4), ("bravo", 8)],
    });
}

#[test]
fn alpha_start_up_reproduces_the_real_message_sequence() {
    replay(Replay {
        local: "alpha",
        peer: "bravo",
        start_ms: 0,
        first_batch_beat: 1,
        dtend_first: false,
        window_ms: 10_500,
        triggers: [("bravo", 5), ("alpha", 6)],
    });
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
