//! Ping nodes in network namespaces (spec ping §1): host 3 of the lab is a
//! bare namespace answering echo requests.
//!
//! Mixed pair, ours as alpha in h1 and the real Heartbeat 3.0.6 as bravo in
//! h2, both with `ping 198.18.0.3` (`tests/data/lab/ping`): both show the
//! ping node; cutting only h1<->h3 makes it `dead` on ours within deadping
//! (cl_status, the API and an API client's events agree) and not on the real
//! node; restoring brings it back; 20 s of this leave no complaint in the
//! real node's log. A `ping_group` stays alive while any member answers.

mod common;

use std::io::{Read, Write};
use std::os::unix::net::UnixStream;
use std::path::Path;
use std::sync::mpsc;
use std::time::{Duration, Instant};

use common::cluster::{count_in_log, expect_log, ha_log, real_node_complaints};
use common::lab::{data_dir, require_lab, require_real_heartbeat, wait_for, Lab};
use heartbeat_rs::control::framing::{frame_message, parse_body, FrameDecoder};
use heartbeat_rs::wire::Message;

const PING: &str = "198.18.0.3";
/// `deadping` of tests/data/lab/ping/ha.cf.
const DEADPING: Duration = Duration::from_secs(2);
/// Mixed-pair observation time.
const STEADY: Duration = Duration::from_secs(20);

fn our_cl_status(lab: &Lab, i: usize, args: &[&str]) -> (String, i32) {
    let mut argv = vec![env!("CARGO_BIN_EXE_cl_status")];
    argv.extend(args);
    let out = lab.exec(i, &argv);
    (
        String::from_utf8_lossy(&out.stdout).trim().to_string(),
        out.status.code().unwrap_or(-1),
    )
}

fn debian_cl_status(lab: &Lab, i: usize, args: &[&str]) -> String {
    let mut argv = vec!["cl_status"];
    argv.extend(args);
    lab.exec_stdout(i, &argv)
}

/// A casual API client signed on to our daemon in host 1, reading every
/// message the daemon pushes (in a thread, as `t field=value…` lines).
fn api_listener(socket: &Path) -> mpsc::Receiver<String> {
    let mut stream = UnixStream::connect(socket).expect("connect to the API socket");
    let mut signon = Message::with_type("hbapi-req");
    let pid = std::process::id().to_string();
    for (k, v) in [
        ("reqtype", "signon"),
        ("dest", "alpha"),
        ("pid", pid.as_str()),
        ("from_id", pid.as_str()),
        ("uid", "0"),
        ("gid", "0"),
    ] {
        signon.push_str(k, v);
    }
    stream.write_all(&frame_message(&signon)).expect("signon");
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let mut decoder = FrameDecoder::new();
        let mut buf = [0u8; 4096];
        loop {
            let n = match stream.read(&mut buf) {
                Ok(0) | Err(_) => return,
                Ok(n) => n,
            };
            decoder.push(&buf[..n]);
            while let Ok(Some(body)) = decoder.next_frame() {
                let Ok(msg) = parse_body(&body) else { continue };
                let mut line = msg.msg_type().unwrap_or("?").to_string();
                for f in ["src", "node", "ifname", "st", "info", "result"] {
                    if let Some(v) = msg.get_str(f) {
                        line.push_str(&format!(" {f}={v}"));
                    }
                }
                if tx.send(line).is_err() {
                    return;
                }
            }
        }
    });
    rx
}

/// Waits for a pushed message line equal to `want`; returns the ones before.
fn expect_event(rx: &mpsc::Receiver<String>, want: &str, timeout: Duration) -> Vec<String> {
    let end = Instant::now() + timeout;
    let mut seen = Vec::new();
    while let Some(left) = end.checked_duration_since(Instant::now()) {
        match rx.recv_timeout(left) {
            Ok(line) if line == want => return seen,
            Ok(line) => seen.push(line),
            Err(_) => break,
        }
    }
    panic!("API client did not get {want:?} within {timeout:?}; got {seen:#?}");
}

#[test]
fn mixed_pair_ping_node_cut_and_restore() {
    if !require_real_heartbeat() {
        return;
    }
    let lab = Lab::new("ping-mix", 3);
    let conf = data_dir().join("ping");
    lab.run_real(2, &conf, "bravo");
    lab.run_ours(1, "alpha", &conf, &["-f"]);
    let start = Instant::now();

    expect_log(
        &lab,
        1,
        &format!("Status update for node {PING}: status ping"),
        Duration::from_secs(20),
    );
    expect_log(
        &lab,
        1,
        "Comm_now_up(): updating status to active",
        Duration::from_secs(20),
    );
    assert!(ha_log(&lab, 1).contains("info: glib: ping heartbeat started."));
    assert!(
        wait_for(
            || debian_cl_status(&lab, 2, &["nodestatus", "alpha"]) == "active",
            Duration::from_secs(20)
        ),
        "the real node does not see ours active:\n{}",
        lab.log_of(2)
    );
    assert!(
        wait_for(
            || debian_cl_status(&lab, 2, &["nodestatus", PING]) == "ping",
            Duration::from_secs(20)
        ),
        "the real node does not see the ping node"
    );

    // Ours, asked by our cl_status and by Debian's, as the real node answers.
    assert_eq!(
        our_cl_status(&lab, 1, &["nodestatus", PING]),
        ("ping".into(), 0)
    );
    assert_eq!(
        our_cl_status(&lab, 1, &["nodetype", PING]),
        ("ping".into(), 0)
    );
    assert_eq!(debian_cl_status(&lab, 1, &["nodetype", PING]), "ping");
    assert_eq!(debian_cl_status(&lab, 1, &["nodestatus", PING]), "ping");
    assert_eq!(debian_cl_status(&lab, 1, &["nodetype", "alpha"]), "normal");
    for args in [
        &["listnodes"][..],
        &["listnodes", "-p"],
        &["listnodes", "-n"],
        &["listhblinks", PING],
        &["hblinkstatus", PING, PING],
        &["listnodes", "-v"],
        &["nodeweight", PING],
        &["nodesite", PING],
        &["hbparameter", "-p", "deadping"],
        &["hbparameter", "-p", "ping"],
    ] {
        let real = debian_cl_status(&lab, 2, args);
        assert_eq!(our_cl_status(&lab, 1, args).0, real, "cl_status {args:?}");
        assert_eq!(debian_cl_status(&lab, 1, args), real, "cl_status {args:?}");
    }
    assert_eq!(
        debian_cl_status(&lab, 1, &["listnodes"]),
        "bravo\nalpha\n198.18.0.3"
    );
    let verbose = our_cl_status(&lab, 1, &["listnodes", "-v"]).0;
    assert!(
        verbose.contains("198.18.0.3\tping\t(nodetype: ping)\n\t198.18.0.3\tup"),
        "{verbose}"
    );
    assert_eq!(
        our_cl_status(&lab, 1, &["hbparameter", "-p", "deadping"]).0,
        "2"
    );

    // Cut only h1 <-> h3: ours loses the ping node within deadping.
    let events = api_listener(&lab.file(1, "/run/heartbeat/register"));
    expect_event(
        &events,
        "hbapi-resp node=alpha result=OK",
        Duration::from_secs(5),
    );
    let cut = Instant::now();
    lab.block(1, PING);
    expect_log(
        &lab,
        1,
        &format!("node {PING}: is dead"),
        DEADPING + Duration::from_secs(3),
    );
    let took = cut.elapsed();
    assert!(
        took <= DEADPING + Duration::from_millis(1500),
        "ping node declared dead {took:?} after the cut (deadping {DEADPING:?})"
    );
    expect_log(
        &lab,
        1,
        &format!("Link {PING}:{PING} dead."),
        Duration::from_secs(1),
    );
    expect_event(
        &events,
        &format!("status src={PING} st=dead info=ping"),
        Duration::from_secs(3),
    );
    expect_event(
        &events,
        &format!("ifstat node={PING} ifname={PING} st=dead"),
        Duration::from_secs(3),
    );
    assert_eq!(
        our_cl_status(&lab, 1, &["nodestatus", PING]),
        ("dead".into(), 1)
    );
    assert_eq!(debian_cl_status(&lab, 1, &["nodestatus", PING]), "dead");
    assert_eq!(
        debian_cl_status(&lab, 1, &["hblinkstatus", PING, PING]),
        "dead"
    );
    assert_eq!(
        our_cl_status(&lab, 1, &["nodetype", PING]),
        ("ping".into(), 0)
    );
    // The real node still reaches it; its view of ours is unchanged.
    assert_eq!(debian_cl_status(&lab, 2, &["nodestatus", PING]), "ping");
    assert_eq!(
        debian_cl_status(&lab, 2, &["nodestatus", "alpha"]),
        "active"
    );

    // Restore: ping again, and the client is told.
    lab.unblock(1, PING);
    assert!(
        wait_for(
            || our_cl_status(&lab, 1, &["nodestatus", PING]).0 == "ping",
            Duration::from_secs(5)
        ),
        "ping node not back after the restore:\n{}",
        ha_log(&lab, 1)
    );
    expect_event(
        &events,
        &format!("NS_st src={PING} st=ping info=ping"),
        Duration::from_secs(3),
    );
    assert_eq!(
        debian_cl_status(&lab, 1, &["hblinkstatus", PING, PING]),
        "up"
    );

    // The rest of the observation window, then the real node's verdict.
    while start.elapsed() < STEADY {
        std::thread::sleep(Duration::from_millis(200));
    }
    let real_log = ha_log(&lab, 2);
    let bad: Vec<&str> = real_node_complaints(&real_log);
    assert!(bad.is_empty(), "the real node complained: {bad:#?}");
    assert_eq!(count_in_log(&lab, 2, &format!("node {PING}: is dead")), 0);
    assert_eq!(count_in_log(&lab, 2, "node alpha: is dead"), 0);
    // Our heartbeats kept their pace while the echo requests failed.
    assert_eq!(count_in_log(&lab, 2, "Late heartbeat: Node alpha"), 0);
    assert_eq!(
        debian_cl_status(&lab, 2, &["nodestatus", "alpha"]),
        "active"
    );
    assert_eq!(debian_cl_status(&lab, 2, &["nodestatus", PING]), "ping");
    assert_eq!(our_cl_status(&lab, 1, &["nodestatus", "bravo"]).0, "active");
}

#[test]
fn ping_group_lives_while_any_member_answers() {
    if !require_lab() {
        return;
    }
    let lab = Lab::new("ping-grp", 3);
    let dir = lab.file(1, "/srv/conf");
    std::fs::create_dir_all(&dir).expect("conf dir");
    let base = data_dir().join("ping");
    std::fs::copy(base.join("authkeys"), dir.join("authkeys")).expect("authkeys");
    let hacf = std::fs::read_to_string(base.join("ha.cf")).expect("ha.cf");
    let hacf = hacf
        .replace(
            "ping            198.18.0.3",
            // plus a host that does not exist: never answers
            "ping_group      gw 198.18.0.2 198.18.0.3\nping 198.18.0.77",
        )
        .replace("node            bravo\n", "");
    std::fs::write(dir.join("ha.cf"), hacf).expect("ha.cf");
    std::fs::write(dir.join("haresources"), "# no groups\n").expect("haresources");
    lab.run_ours(1, "alpha", &dir, &["-f"]);
    expect_log(
        &lab,
        1,
        "Status update for node gw: status ping",
        Duration::from_secs(20),
    );
    assert!(ha_log(&lab, 1).contains("info: glib: ping group heartbeat started."));
    // The silent host is dead after initdead (comm-up waits for it, as in
    // Heartbeat); it holds up nothing else.
    expect_log(
        &lab,
        1,
        "node 198.18.0.77: is dead",
        Duration::from_secs(10),
    );
    expect_log(
        &lab,
        1,
        "Comm_now_up(): updating status to active",
        Duration::from_secs(5),
    );
    assert_eq!(our_cl_status(&lab, 1, &["nodestatus", "gw"]).0, "ping");
    assert_eq!(
        our_cl_status(&lab, 1, &["nodetype", "gw"]),
        ("ping".into(), 0)
    );
    assert_eq!(
        our_cl_status(&lab, 1, &["nodestatus", "198.18.0.77"]).0,
        "dead"
    );

    // One member gone: the other keeps the group alive past deadping.
    lab.block(1, "198.18.0.3");
    std::thread::sleep(DEADPING + Duration::from_secs(1));
    assert_eq!(our_cl_status(&lab, 1, &["nodestatus", "gw"]).0, "ping");
    assert_eq!(count_in_log(&lab, 1, "node gw: is dead"), 0);
    // Both gone: dead.
    lab.block(1, "198.18.0.2");
    expect_log(
        &lab,
        1,
        "node gw: is dead",
        DEADPING + Duration::from_secs(3),
    );
    assert_eq!(our_cl_status(&lab, 1, &["nodestatus", "gw"]).0, "dead");
    lab.unblock(1, "198.18.0.2");
    assert!(
        wait_for(
            || our_cl_status(&lab, 1, &["nodestatus", "gw"]).0 == "ping",
            Duration::from_secs(5)
        ),
        "group not back:\n{}",
        ha_log(&lab, 1)
    );
}
