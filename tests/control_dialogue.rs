//! Replays the API dialogues recorded between the real cl_status and a real
//! Heartbeat 3.0.6 (tests/data/control/real/dialogue, decoded strace) through
//! our request handling, and checks that every reply is identical: fields,
//! field order and frame length.

mod control_common;

use control_common::{authz, lab_view, real_dir};
use heartbeat_rs::control::framing::frame_message;
use heartbeat_rs::control::requests::{
    handle_request, handle_signon, ClientInfo, PeerCred, RequestCtx, SignonCtx,
};
use heartbeat_rs::wire::{parse_classic, Message};

#[derive(Debug)]
struct Frame {
    from_client: bool,
    len: usize,
    msg: Message,
}

/// Parses a decoded dialogue; `<PID>` becomes `pid`.
fn frames(text: &str, pid: &str) -> Vec<Frame> {
    let mut out = Vec::new();
    let mut current: Option<(bool, usize, Vec<u8>)> = None;
    for line in text.lines() {
        let (tag, rest) = match line.get(..2) {
            Some(t @ ("C>" | "S<")) => (t, line.get(2..).unwrap_or("")),
            _ => continue,
        };
        if let Some(len) = rest.strip_prefix(" header len=") {
            let len = len.split_whitespace().next().expect("len");
            current = Some((tag == "C>", len.parse().expect("len"), Vec::new()));
            continue;
        }
        let Some(body) = rest.strip_prefix("   ") else {
            continue;
        };
        let Some((from_client, len, text)) = current.as_mut() else {
            continue;
        };
        if body.starts_with('(') && body.ends_with(')') && !body.contains('=') {
            let text = String::from_utf8(std::mem::take(text)).expect("utf8");
            let msg = parse_classic(text.replace("<PID>", pid).as_bytes()).expect("classic");
            out.push(Frame {
                from_client: *from_client,
                len: *len,
                msg,
            });
            current = None;
            continue;
        }
        text.extend_from_slice(body.as_bytes());
        text.push(b'\n');
    }
    out
}

fn replay(name: &str) -> usize {
    let path = real_dir().join("dialogue").join(format!("{name}.txt"));
    let text = std::fs::read_to_string(&path).expect("dialogue");
    let pid = std::process::id();
    let all = frames(&text, &pid.to_string());
    assert!(all.len() >= 2, "{name}: too few frames");
    let view = lab_view("both-active");
    let authz = authz(false);
    let mut client: Option<ClientInfo> = None;
    let mut expected = all.iter().filter(|f| !f.from_client).peekable();
    let mut compared = 0;
    for frame in all.iter().filter(|f| f.from_client) {
        let replies = match client.as_mut() {
            None => {
                let claimed = |n: &str| {
                    frame
                        .msg
                        .get_str(n)
                        .and_then(|v| v.parse().ok())
                        .expect("uid/gid")
                };
                let taken = |_: &str| false;
                let alive = |_: i32| true;
                let out = handle_signon(
                    &frame.msg,
                    &SignonCtx {
                        view: &view,
                        authz: &authz,
                        peer: PeerCred {
                            pid: pid as i32,
                            uid: claimed("uid"),
                            gid: claimed("gid"),
                        },
                        generation: 0,
                        id_taken: &taken,
                        pid_alive: &alive,
                    },
                );
                client = out.client;
                out.handled.replies
            }
            Some(c) => {
                let online = |_: &str| false;
                let h = handle_request(
                    &frame.msg,
                    c,
                    &RequestCtx {
                        view: &view,
                        client_online: &online,
                        daemon_uid: 0,
                    },
                );
                if !h.to_cluster.is_empty() {
                    // Answered later by the peer: skip its forwarded reply.
                    while expected
                        .peek()
                        .is_some_and(|f| f.msg.msg_type() != Some("hbapi-resp"))
                    {
                        expected.next();
                    }
                }
                h.replies
            }
        };
        for reply in replies {
            let want = expected
                .next()
                .unwrap_or_else(|| panic!("{name}: extra reply {reply:?}"));
            assert_eq!(reply, want.msg, "{name}: reply differs");
            assert_eq!(
                frame_message(&reply).len(),
                8 + want.len,
                "{name}: frame length"
            );
            compared += 1;
        }
    }
    let rest: Vec<_> = expected
        .filter(|f| f.msg.msg_type() == Some("hbapi-resp"))
        .collect();
    assert!(rest.is_empty(), "{name}: replies we did not give: {rest:?}");
    compared
}

#[test]
fn every_recorded_dialogue_replays() {
    let dir = real_dir().join("dialogue");
    let mut names: Vec<String> = std::fs::read_dir(&dir)
        .expect("dialogue dir")
        .filter_map(|e| e.ok())
        .filter_map(|e| e.file_name().to_str().map(String::from))
        .filter_map(|n| n.strip_suffix(".txt").map(String::from))
        .filter(|n| n != "signon-refused")
        .collect();
    names.sort();
    assert!(names.len() >= 10, "{names:?}");
    let total: usize = names.iter().map(|n| replay(n)).sum();
    assert!(total >= 2 * names.len(), "only {total} replies compared");
}

#[test]
fn refused_signon_reply_is_identical() {
    let path = real_dir().join("dialogue/signon-refused.txt");
    let text = std::fs::read_to_string(path).expect("dialogue");
    let pid = std::process::id();
    let all = frames(&text, &pid.to_string());
    let (req, want) = (&all[0], &all[1]);
    let view = lab_view("both-active");
    let authz = authz(false);
    let taken = |_: &str| false;
    let alive = |_: i32| true;
    let out = handle_signon(
        &req.msg,
        &SignonCtx {
            view: &view,
            authz: &authz,
            peer: PeerCred {
                pid: pid as i32,
                uid: 65534,
                gid: 65534,
            },
            generation: 0,
            id_taken: &taken,
            pid_alive: &alive,
        },
    );
    assert!(out.client.is_none());
    assert_eq!(out.handled.replies, vec![want.msg.clone()]);
    assert_eq!(frame_message(&want.msg).len(), 8 + want.len);
}
