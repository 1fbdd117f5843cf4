//! Start-up emission pattern and the keepalive rhythm (§6.3).

use super::capture::{capture, without_ld};
use super::*;

fn names(m: &Message) -> Vec<&str> {
    m.fields.iter().map(|f| f.name.as_str()).collect()
}

#[test]
fn start_sends_init_then_up_twice_like_the_real_alpha() {
    let mut sim = Sim::new(params("alpha"));
    sim.start();
    let acts = sim.take();
    let sent = transmits(&acts);
    assert_eq!(sent.len(), 3);
    // Byte-for-byte the fields alpha sent in bcast-startup (ld aside).
    let real: Vec<Message> = capture()
        .into_iter()
        .filter(|r| r.sender == "alpha")
        .take(3)
        .map(|r| without_ld(&r.msg))
        .collect();
    let ours: Vec<Message> = sent.iter().map(without_ld).collect();
    assert_eq!(ours, real);
    assert_eq!(
        names(&sent[0]),
        ["t", "st", "dt", "protocol", "src", "srcuuid", "seq", "hg", "ts", "ld", "ttl"]
    );
    // The "up" log comes after the status that announced it.
    let pos_log = acts
        .iter()
        .position(
            |a| matches!(a, Action::Log { text, .. } if text == "Local status now set to: 'up'"),
        )
        .unwrap();
    let pos_second = acts
        .iter()
        .position(|a| matches!(a, Action::Transmit(m) if m.get_str("seq") == Some("2")))
        .unwrap();
    assert!(pos_second < pos_log);
    assert_eq!(sim.timer(&TimerKey::Keepalive), Some(500));
    assert_eq!(sim.timer(&TimerKey::StartupDtEnd), Some(5000));
    assert_eq!(sim.timer(&TimerKey::NodeDead("bravo".into())), Some(6001));
    assert_eq!(sim.core.local_status(), "up");
    assert!(!sim.core.comm_up());
}

#[test]
fn start_is_idempotent() {
    let mut sim = Sim::new(params("alpha"));
    sim.start();
    sim.take();
    sim.start();
    assert!(sim.take().is_empty());
}

#[test]
fn keepalive_every_interval_without_drift() {
    let mut sim = Sim::new(params("alpha"));
    sim.start();
    sim.take();
    // The daemon wakes 30 ms late: the next beat is still on the grid.
    sim.timers.remove(&TimerKey::Keepalive);
    sim.advance_to(530);
    sim.fire(TimerKey::Keepalive);
    assert_eq!(sim.timer(&TimerKey::Keepalive), Some(1000));
    sim.advance_to(2600);
    let seqs: Vec<String> = sim
        .sent()
        .iter()
        .filter(|m| m.msg_type() == Some("status"))
        .map(|m| m.get_str("seq").unwrap().to_string())
        .collect();
    assert_eq!(seqs, ["4", "5", "6", "7", "8"]);
    assert_eq!(sim.timer(&TimerKey::Keepalive), Some(3000));
}

#[test]
fn early_keepalive_timer_is_rearmed_not_sent() {
    let mut sim = Sim::new(params("alpha"));
    sim.start();
    sim.take();
    sim.advance_to(200);
    sim.fire(TimerKey::Keepalive);
    assert!(sim.sent().is_empty());
    assert_eq!(sim.timer(&TimerKey::Keepalive), Some(500));
}

#[test]
fn dt_is_deadtime_plus_2s_for_5s_then_deadtime() {
    let mut sim = Sim::new(params("alpha"));
    sim.start();
    sim.advance_to(4999);
    assert!(sim
        .sent()
        .iter()
        .filter(|m| m.msg_type() == Some("status"))
        .all(|m| m.get_str("dt") == Some("1388")));
    sim.advance_to(5000);
    let at_5s: Vec<String> = sim
        .sent()
        .iter()
        .filter(|m| m.msg_type() == Some("status"))
        .map(|m| brief(m, &["st", "dt", "seq"]))
        .collect();
    // Both timers are due at 5 s: the keepalive (earlier key) then the
    // immediate status for the new dt, as alpha did in the capture.
    assert_eq!(
        at_5s,
        ["status st=up dt=1388 seq=d", "status st=up dt=bb8 seq=e"]
    );
    sim.advance_to(5500);
    assert!(sim
        .sent()
        .iter()
        .filter(|m| m.msg_type() == Some("status"))
        .all(|m| m.get_str("dt") == Some("bb8")));
}

#[test]
fn without_flow_control_no_protocol_field() {
    let mut p = params("alpha");
    p.flow_control = false;
    let mut sim = Sim::new(p);
    sim.start();
    assert!(sim.sent().iter().all(|m| m.get("protocol").is_none()));
}

#[test]
fn own_ack_goes_out_before_the_message_it_acknowledges() {
    // Alpha's trigger for itself was 6 in the capture: NS_ackmsg dest=alpha
    // ackseq=6 precedes status seq 6.
    let mut sim = Sim::new(params("alpha"));
    sim.core.set_ack_trigger("alpha", 6);
    sim.start();
    sim.advance_to(1500);
    let sent: Vec<String> = sim
        .sent()
        .iter()
        .map(|m| brief(m, &["dest", "ackseq", "seq"]))
        .collect();
    assert_eq!(
        &sent[3..],
        [
            "status dest=- ackseq=- seq=4",
            "status dest=- ackseq=- seq=5",
            "NS_ackmsg dest=alpha ackseq=6 seq=-",
            "status dest=- ackseq=- seq=6"
        ]
    );
    assert_eq!(sim.core.counters().acks_sent, 1);
}

#[test]
fn local_stall_is_reported_once_per_stall() {
    let mut sim = Sim::new(params("alpha"));
    sim.start();
    sim.take();
    // The daemon was stopped for 7 s (> initdead before comm-up).
    sim.timers.clear();
    sim.advance_to(7000);
    sim.fire(TimerKey::Keepalive);
    let acts = sim.take();
    assert!(has_log(&acts, Level::Warn, "node alpha: is dead"));
    assert!(has_log(
        &acts,
        Level::Error,
        "No local heartbeat. Forcing restart."
    ));
    assert_eq!(sim.timer(&TimerKey::Keepalive), Some(7500));
    sim.advance_to(7500);
    assert!(!has_log(
        &sim.take(),
        Level::Error,
        "No local heartbeat. Forcing restart."
    ));
}
