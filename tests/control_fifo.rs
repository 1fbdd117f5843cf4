//! The control FIFO end to end: our hb_standby / hb_takeover write what
//! Heartbeat's shell scripts write (compared live with the installed
//! scripts when the heartbeat package is present), and the FifoReader on a
//! mio poll turns it into messages.

mod control_common;

use std::path::Path;
use std::process::Command;
use std::time::Duration;

use control_common::temp_dir;
use heartbeat_rs::control::FifoReader;
use heartbeat_rs::wire::Message;
use mio::{Events, Poll, Token};

const REAL_STANDBY: &str = "/usr/share/heartbeat/hb_standby";
const REAL_TAKEOVER: &str = "/usr/share/heartbeat/hb_takeover";

/// Runs a script with a clean environment and `HA_FIFO`; returns
/// (stdout, stderr, exit code) with the program path replaced by `PROG`.
fn run(prog: &str, args: &[&str], fifo: &Path) -> (String, String, i32) {
    let out = Command::new(prog)
        .args(args)
        .env_clear()
        .env("PATH", "/usr/sbin:/usr/bin:/sbin:/bin")
        .env("HA_FIFO", fifo)
        .output()
        .expect("run script");
    let text = |b: &[u8]| String::from_utf8_lossy(b).replace(prog, "PROG");
    (
        text(&out.stdout),
        text(&out.stderr),
        out.status.code().unwrap_or(-1),
    )
}

/// Reads messages from the FIFO until `count` arrived (5 s at most).
fn collect(reader: &mut FifoReader, poll: &mut Poll, count: usize) -> Vec<Message> {
    let mut events = Events::with_capacity(8);
    let mut got = Vec::new();
    let end = std::time::Instant::now() + Duration::from_secs(5);
    while got.len() < count && std::time::Instant::now() < end {
        poll.poll(&mut events, Some(Duration::from_millis(100)))
            .expect("poll");
        let (msgs, logs) = reader.read(poll.registry());
        assert!(logs.is_empty(), "{logs:?}");
        got.extend(msgs);
    }
    got
}

fn setup(tag: &str) -> (std::path::PathBuf, FifoReader, Poll) {
    let dir = temp_dir(tag);
    let path = dir.join("fifo");
    let mut reader = FifoReader::open(&path).expect("open fifo");
    let poll = Poll::new().expect("poll");
    reader
        .register(poll.registry(), Token(1))
        .expect("register");
    (dir, reader, poll)
}

fn fields(m: &Message) -> Vec<(String, String)> {
    m.fields
        .iter()
        .map(|f| {
            (
                f.name.clone(),
                String::from_utf8_lossy(&f.value).into_owned(),
            )
        })
        .collect()
}

fn pairs(list: &[(&str, &str)]) -> Vec<(String, String)> {
    list.iter()
        .map(|(a, b)| (a.to_string(), b.to_string()))
        .collect()
}

#[test]
fn fifo_is_created_with_mode_0600_and_replaces_a_plain_file() {
    use std::os::unix::fs::{FileTypeExt, PermissionsExt};
    let dir = temp_dir("mode");
    let path = dir.join("fifo");
    std::fs::write(&path, b"stale").expect("plain file");
    let reader = FifoReader::open(&path).expect("open");
    let meta = std::fs::metadata(reader.path()).expect("stat");
    assert!(meta.file_type().is_fifo());
    assert_eq!(meta.permissions().mode() & 0o777, 0o600);
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn our_scripts_reach_the_reader() {
    let (dir, mut reader, mut poll) = setup("ours");
    let fifo = dir.join("fifo");
    let standby = env!("CARGO_BIN_EXE_hb_standby");
    let takeover = env!("CARGO_BIN_EXE_hb_takeover");
    for (prog, args) in [
        (standby, vec![]),
        (standby, vec!["failback"]),
        (takeover, vec!["local"]),
    ] {
        let (_, _, rc) = run(prog, &args, &fifo);
        assert_eq!(rc, 0, "{prog} {args:?}");
    }
    let got: Vec<_> = collect(&mut reader, &mut poll, 3)
        .iter()
        .map(fields)
        .collect();
    assert_eq!(
        got,
        vec![
            pairs(&[("t", "ask_resources"), ("rsc_hold", "all"), ("info", "me")]),
            pairs(&[
                ("t", "ask_resources"),
                ("rsc_hold", "foreign"),
                ("info", "me")
            ]),
            pairs(&[("t", "hb_takeover"), ("rsc_hold", "local")]),
        ]
    );
    // Garbage written by someone else is skipped, the next message still arrives.
    std::fs::OpenOptions::new()
        .append(true)
        .open(&fifo)
        .and_then(|mut f| {
            std::io::Write::write_all(&mut f, b"junk\n>>>\nno equals\n<<<\n>>>\nt=x\n<<<\n")
        })
        .expect("write");
    let mut events = Events::with_capacity(8);
    let mut skipped = Vec::new();
    let mut msgs = Vec::new();
    for _ in 0..50 {
        poll.poll(&mut events, Some(Duration::from_millis(100)))
            .expect("poll");
        let (m, logs) = reader.read(poll.registry());
        msgs.extend(m);
        skipped.extend(logs);
        if !msgs.is_empty() {
            break;
        }
    }
    assert_eq!(msgs.len(), 1);
    assert_eq!(skipped.len(), 2, "{skipped:?}");
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn without_a_reader_the_scripts_fail_instead_of_hanging() {
    let dir = temp_dir("noreader");
    let fifo = dir.join("fifo");
    nix::unistd::mkfifo(&fifo, nix::sys::stat::Mode::from_bits_truncate(0o600)).expect("mkfifo");
    let (_, err, rc) = run(env!("CARGO_BIN_EXE_hb_takeover"), &[], &fifo);
    assert_eq!(rc, 1);
    assert!(err.contains("is heartbeat running?"), "{err}");
    let (_, err, rc) = run(env!("CARGO_BIN_EXE_hb_takeover"), &[], &dir.join("missing"));
    assert_eq!(rc, 1, "{err}");
    assert!(!dir.join("missing").exists());
    let _ = std::fs::remove_dir_all(dir);
}

/// Strips the `Nov 22 04:01:38 ` date ha_log puts before its text.
fn undated(text: &str) -> String {
    text.lines()
        .map(|l| match l.get(..16) {
            Some(d)
                if d.as_bytes().get(3) == Some(&b' ') && d.as_bytes().get(15) == Some(&b' ') =>
            {
                l.get(16..).unwrap_or("").to_string()
            }
            _ => l.to_string(),
        })
        .collect::<Vec<_>>()
        .join("\n")
}

#[test]
fn same_bytes_and_messages_as_the_real_scripts() {
    if !Path::new(REAL_STANDBY).is_file() || !Path::new(REAL_TAKEOVER).is_file() {
        eprintln!("SKIPPED: heartbeat's hb_standby/hb_takeover are not installed");
        return;
    }
    let (dir, mut reader, mut poll) = setup("real");
    let fifo = dir.join("fifo");
    let cases: &[(&str, &str, &[&str])] = &[
        (REAL_STANDBY, env!("CARGO_BIN_EXE_hb_standby"), &[]),
        (REAL_STANDBY, env!("CARGO_BIN_EXE_hb_standby"), &["all"]),
        (REAL_STANDBY, env!("CARGO_BIN_EXE_hb_standby"), &["foreign"]),
        (REAL_STANDBY, env!("CARGO_BIN_EXE_hb_standby"), &["local"]),
        (
            REAL_STANDBY,
            env!("CARGO_BIN_EXE_hb_standby"),
            &["failback"],
        ),
        (REAL_STANDBY, env!("CARGO_BIN_EXE_hb_standby"), &["bogus"]),
        (REAL_STANDBY, env!("CARGO_BIN_EXE_hb_standby"), &["--help"]),
        (
            REAL_STANDBY,
            env!("CARGO_BIN_EXE_hb_standby"),
            &["all", "local"],
        ),
        (REAL_TAKEOVER, env!("CARGO_BIN_EXE_hb_takeover"), &[]),
        (
            REAL_TAKEOVER,
            env!("CARGO_BIN_EXE_hb_takeover"),
            &["foreign"],
        ),
        (
            REAL_TAKEOVER,
            env!("CARGO_BIN_EXE_hb_takeover"),
            &["failback"],
        ),
        (REAL_TAKEOVER, env!("CARGO_BIN_EXE_hb_takeover"), &["bogus"]),
        (
            REAL_TAKEOVER,
            env!("CARGO_BIN_EXE_hb_takeover"),
            &["--help"],
        ),
        (
            REAL_TAKEOVER,
            env!("CARGO_BIN_EXE_hb_takeover"),
            &["a", "b"],
        ),
    ];
    for (real, ours, args) in cases {
        let (r_out, r_err, r_rc) = run(real, args, &fifo);
        let r_msgs = collect(&mut reader, &mut poll, usize::from(r_rc == 0));
        let (o_out, o_err, o_rc) = run(ours, args, &fifo);
        let o_msgs = collect(&mut reader, &mut poll, usize::from(o_rc == 0));
        let what = format!("{} {args:?}", Path::new(real).display());
        assert_eq!((&o_out, o_rc), (&r_out, r_rc), "{what}: stdout/exit");
        assert_eq!(undated(&o_err), undated(&r_err), "{what}: stderr");
        assert_eq!(o_msgs, r_msgs, "{what}: FIFO message");
    }
    let _ = std::fs::remove_dir_all(dir);
}
