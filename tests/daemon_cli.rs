//! The `heartbeat` command line on the real binary: version, start-up
//! errors that name the ha.cf line, and (in a namespace) -s / -k against a
//! running daemon of ours.

mod common;

use common::lab::{data_dir, pid_alive, require_lab, wait_for, Lab};
use std::fs;
use std::path::PathBuf;
use std::process::Command;
use std::time::Duration;

fn heartbeat(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_heartbeat"))
        .args(args)
        .output()
        .expect("run heartbeat")
}

/// A config dir copied from tests/data/lab/bcast with ha.cf edited.
fn conf_with(tag: &str, edit: impl Fn(&str) -> String) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("hbrs-cli-{tag}-{}", std::process::id()));
    let _ = fs::remove_dir_all(&dir);
    fs::create_dir_all(&dir).expect("mkdir");
    let src = data_dir().join("bcast");
    for f in ["authkeys", "haresources"] {
        fs::copy(src.join(f), dir.join(f)).expect("copy");
    }
    let hacf = fs::read_to_string(src.join("ha.cf")).expect("ha.cf");
    fs::write(dir.join("ha.cf"), edit(&hacf)).expect("write");
    use std::os::unix::fs::PermissionsExt;
    fs::set_permissions(dir.join("authkeys"), fs::Permissions::from_mode(0o600)).expect("chmod");
    dir
}

#[test]
fn version_is_heartbeats() {
    let out = heartbeat(&["-V"]);
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        "3.0.6 (node: 958e11be8686759f1b99204c17812f2c2633b169)\n"
    );
}

#[test]
fn a_missing_interface_is_a_start_up_error_naming_the_line() {
    let dir = conf_with("noif", |s| {
        s.replace("bcast           eth0", "bcast           hbrsnosuch0")
    });
    let state = dir.join("state");
    let run = dir.join("run");
    let out = heartbeat(&[
        "-f",
        "--node",
        "alpha",
        "--confdir",
        dir.to_str().expect("utf-8"),
        "--statedir",
        state.to_str().expect("utf-8"),
        "--rundir",
        run.to_str().expect("utf-8"),
    ]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(6), "{err}");
    let line = fs::read_to_string(dir.join("ha.cf"))
        .expect("ha.cf")
        .lines()
        .position(|l| l.starts_with("bcast"))
        .expect("bcast line")
        + 1;
    let want = format!("ha.cf:{line}: bcast hbrsnosuch0: interface [hbrsnosuch0] does not exist");
    assert!(err.contains(&want), "want {want:?} in:\n{err}");
    assert!(
        err.contains("Configuration error, heartbeat not started."),
        "{err}"
    );
    assert!(
        !run.join("heartbeat.pid").exists(),
        "a pid file was written"
    );
    let _ = fs::remove_dir_all(&dir);
}

#[test]
fn a_bad_config_refuses_to_start_with_every_problem() {
    let dir = conf_with("bad", |s| {
        s.replace("deadtime        3", "deadtime        10s")
    });
    let out = heartbeat(&[
        "-f",
        "--node",
        "alpha",
        "--confdir",
        dir.to_str().expect("utf-8"),
    ]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(6), "{err}");
    assert!(err.contains("ha.cf:"), "{err}");
    assert!(err.contains("10s"), "{err}");
    assert!(
        err.contains("Configuration error, heartbeat not started."),
        "{err}"
    );
    let _ = fs::remove_dir_all(&dir);
}

#[test]
fn status_and_stop_of_a_running_daemon() {
    if !require_lab() {
        return;
    }
    let lab = Lab::new("dcli", 1);
    let conf = data_dir().join("bcast");
    let hb = env!("CARGO_BIN_EXE_heartbeat");
    let stopped = lab.exec(1, &[hb, "-s"]);
    assert_eq!(stopped.status.code(), Some(3), "{stopped:?}");
    assert_eq!(
        String::from_utf8_lossy(&stopped.stdout),
        "heartbeat is stopped. No process\n"
    );
    let pid = lab.run_ours(1, "alpha", &conf, &["-f"]);
    assert!(
        wait_for(
            || lab.exec(1, &[hb, "-s"]).status.success(),
            Duration::from_secs(10)
        ),
        "heartbeat -s never said running"
    );
    let running = String::from_utf8_lossy(&lab.exec(1, &[hb, "-s"]).stdout).into_owned();
    assert_eq!(
        running,
        format!("heartbeat OK [pid {pid} et al] is running on alpha [alpha]...\n")
    );
    // -r validates the configuration and sends SIGHUP; nothing changed.
    let out = lab.exec(1, &[hb, "-r"]);
    assert!(out.status.success(), "{out:?}");
    assert!(
        wait_for(
            || lab.log_of(1).contains("Configuration unchanged."),
            Duration::from_secs(10)
        ),
        "no reload seen:\n{}",
        lab.log_of(1)
    );
    // -k waits for the graceful shutdown (a lone node: after initdead).
    let out = lab.exec(1, &[hb, "-k"]);
    assert!(out.status.success(), "{out:?}");
    assert!(!pid_alive(pid), "still running after -k");
    assert!(
        lab.log_of(1).contains("alpha Heartbeat shutdown complete."),
        "{}",
        lab.log_of(1)
    );
    assert_eq!(lab.exec(1, &[hb, "-s"]).status.code(), Some(3));
}
