//! How scripts are started: arguments, environment, stdin, inherited fds,
//! output capture — with real child processes.

mod runner_support;

use std::fs::File;
use std::os::fd::AsRawFd;
use std::time::{Duration, Instant};

use heartbeat_rs::core::{JobOutcome, Level};
use runner_support::{give, group, take, Driver, Lab};

const LIMIT: Duration = Duration::from_secs(20);

#[test]
fn arguments_and_clean_environment_are_passed() {
    let lab = Lab::new("env");
    lab.script(
        "probe",
        r#"i=0
for a in "$@"; do i=$((i + 1)); echo "arg$i=$a"; done > "$HA_LAB/args"
env > "$HA_LAB/env""#,
    );
    let mut config = lab.config();
    config.env.debug = 3;
    config.env.log_facility = Some("local7".into());
    config
        .env
        .ha_cf_env
        .push(("EXTRA".into(), "with space".into()));
    let mut d = Driver::new(
        config,
        vec![group("alpha", &["probe::198.18.0.5/24::eth1"])],
    );
    d.submit(1, give(&["probe::198.18.0.5/24::eth1"]));
    assert_eq!(d.wait_done(1, LIMIT), JobOutcome::Ok);

    assert_eq!(
        lab.read("args"),
        "arg1=198.18.0.5/24\narg2=eth1\narg3=stop\n"
    );
    let env = lab.read("env");
    let vars: Vec<(&str, &str)> = env.lines().filter_map(|l| l.split_once('=')).collect();
    let get = |name: &str| vars.iter().find(|(n, _)| *n == name).map(|(_, v)| *v);
    assert_eq!(get("HA_CURHOST"), Some("alpha"));
    assert_eq!(get("HA_DIR"), Some("/etc/ha.d"));
    assert_eq!(get("HA_FUNCS"), Some("/etc/ha.d/shellfuncs"));
    assert_eq!(get("HA_DATEFMT"), Some("%Y/%m/%d_%T\t"));
    assert_eq!(get("HA_debug"), Some("3"));
    assert_eq!(get("HA_LOGFACILITY"), Some("local7"));
    assert_eq!(get("HA_EXTRA"), Some("with space"));
    assert_eq!(get("OCF_ROOT"), Some("/usr/lib/ocf"));
    assert_eq!(get("HA_RSCTMP"), Some("/run/heartbeat/rsctmp"));
    assert!(get("PATH").is_some_and(|p| p.contains("/usr/sbin")));
    // Nothing of the test process leaks (cargo sets CARGO_* for tests).
    let allowed = [
        "PATH",
        "HA_CURHOST",
        "HA_DIR",
        "HA_FUNCS",
        "HA_DATEFMT",
        "HA_debug",
        "HA_LOGFACILITY",
        "HA_LOGD",
        "OCF_ROOT",
        "HA_RSCTMP",
        "HA_LAB",
        "HA_EXTRA",
        // Added by the shell itself.
        "PWD",
        "OLDPWD",
        "SHLVL",
        "_",
    ];
    for (name, _) in &vars {
        assert!(allowed.contains(name), "unexpected variable {name}");
    }
    assert_eq!(get("PWD"), Some("/"));
}

#[test]
fn stdin_is_dev_null_and_no_daemon_fd_is_inherited() {
    let lab = Lab::new("fds");
    // A descriptor without CLOEXEC, as a careless daemon part might leave.
    let marker_path = lab.root.join("leak-marker");
    let marker = File::create(&marker_path).expect("marker");
    // SAFETY: dup of an fd we own; the copy is closed below.
    let leaked = unsafe { libc::dup(marker.as_raw_fd()) };
    assert!(leaked > 2);
    // After exec, ls holds only what it inherited plus its own dir fd.
    lab.script(
        "probe",
        r#"readlink /proc/self/fd/0 > "$HA_LAB/stdin"
exec ls -l /proc/self/fd/"#,
    );
    let mut d = Driver::new(lab.config(), vec![group("alpha", &["probe"])]);
    d.submit(1, give(&["probe"]));
    assert_eq!(d.wait_done(1, LIMIT), JobOutcome::Ok);
    // SAFETY: closing the fd dup'ed above.
    unsafe { libc::close(leaked) };

    assert_eq!(lab.read("stdin"), "/dev/null\n");
    let fds: Vec<(String, String)> = d
        .logs()
        .iter()
        .filter_map(|(_, t)| t.strip_prefix("probe stop stdout: "))
        .filter_map(|l| l.split_once(" -> "))
        .map(|(left, target)| {
            let fd = left.rsplit(' ').next().unwrap_or_default();
            (fd.to_string(), target.to_string())
        })
        .collect();
    let target = |fd: &str| {
        fds.iter()
            .find(|(n, _)| n == fd)
            .map(|(_, t)| t.clone())
            .unwrap_or_default()
    };
    assert_eq!(target("0"), "/dev/null");
    assert!(target("1").starts_with("pipe:"), "{fds:?}");
    assert!(target("2").starts_with("pipe:"), "{fds:?}");
    // fd 3 is ls reading /proc/self/fd; nothing else may be open.
    for (fd, target) in &fds {
        let ours = ["0", "1", "2"].contains(&fd.as_str());
        assert!(
            ours || target.starts_with("/proc/"),
            "inherited fd {fd} -> {target}"
        );
    }
    assert_eq!(fds.len(), 4, "{fds:?}");
    drop(marker);
    assert!(marker_path.exists());
}

#[test]
fn output_is_captured_and_logged_with_script_and_exit_code() {
    let lab = Lab::new("output");
    lab.script(
        "noisy",
        r#"echo "hello out"
echo "oops err" >&2
exit 3"#,
    );
    let mut d = Driver::new(lab.config(), vec![group("alpha", &["noisy::x"])]);
    d.submit(1, take(&["noisy::x"]));
    assert_eq!(
        d.wait_done(1, LIMIT),
        JobOutcome::StartFailed {
            keys: vec!["noisy::x".into()]
        }
    );
    let rd = lab.resource_dir.display();
    // The failed start's output is shown at info level.
    assert!(d.has_log(Level::Info, "noisy start stdout: hello out"));
    assert!(d.has_log(Level::Info, "noisy start stderr: oops err"));
    assert!(d.has_log(Level::Error, &format!("Return code 3 from {rd}/noisy")));
    assert!(d.has_log(Level::Debug, &format!("{rd}/noisy x start done. RC=3")));
    // The status call's output is kept to debug.
    assert!(d.has_log(Level::Debug, "noisy status stdout: hello out"));
}

#[test]
fn huge_output_neither_blocks_nor_grows_without_bound() {
    let lab = Lab::new("huge");
    lab.script(
        "chatty",
        r#"i=0
while [ $i -lt 4000 ]; do echo "line $i xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"; i=$((i + 1)); done
exit 0"#,
    );
    let mut config = lab.config();
    config.output_limit = 1024;
    let mut d = Driver::new(config, vec![group("alpha", &["chatty"])]);
    d.submit(1, give(&["chatty"]));
    assert_eq!(d.wait_done(1, LIMIT), JobOutcome::Ok);
    let lines = d
        .logs()
        .iter()
        .filter(|(_, t)| t.starts_with("chatty stop stdout: line "))
        .count();
    assert!(lines > 0 && lines < 30, "{lines}");
    assert!(d.has_log_containing(Level::Debug, "more bytes not logged"));
}

#[test]
fn a_daemon_left_holding_stdout_does_not_delay_the_job() {
    let lab = Lab::new("daemon");
    // The background child keeps the output pipes open after exit.
    lab.script(
        "spawner",
        r#"(sleep 1; echo late && echo written > "$HA_LAB/late") &
echo $! > "$HA_LAB/bgpid"
echo started"#,
    );
    let mut d = Driver::new(lab.config(), vec![group("alpha", &["spawner"])]);
    let t0 = Instant::now();
    d.submit(1, give(&["spawner"]));
    assert_eq!(d.wait_done(1, LIMIT), JobOutcome::Ok);
    assert!(t0.elapsed() < Duration::from_secs(2), "{:?}", t0.elapsed());
    assert!(d.has_log(Level::Debug, "spawner stop stdout: started"));
    // The background process was left alone (not killed, no SIGPIPE yet).
    let bg: i32 = lab.read("bgpid").trim().parse().expect("bg pid");
    assert!(!runner_support::process_gone(bg));
    // Keep draining: its late write succeeds (no SIGPIPE) and is not logged.
    let end = Instant::now() + LIMIT;
    while lab.read("late").is_empty() && Instant::now() < end {
        d.run_until(Instant::now() + Duration::from_millis(100), |_| false);
    }
    assert_eq!(lab.read("late"), "written\n");
    assert!(runner_support::eventually(LIMIT, || {
        runner_support::process_gone(bg)
    }));
    assert!(!d.has_log_containing(Level::Debug, "late"));
}

#[test]
fn a_script_without_interpreter_line_runs_under_sh() {
    let lab = Lab::new("noshebang");
    lab.install(
        &lab.resource_dir,
        "plain",
        "echo \"plain $*\" >> \"$HA_LAB/calls\"\n",
    );
    let mut d = Driver::new(lab.config(), vec![group("alpha", &["plain::a"])]);
    d.submit(1, give(&["plain::a"]));
    assert_eq!(d.wait_done(1, LIMIT), JobOutcome::Ok);
    assert_eq!(lab.calls(), ["plain a stop"]);
}

#[test]
fn scripts_start_with_default_signals_normal_scheduling_and_umask_022() {
    let lab = Lab::new("setup");
    lab.script(
        "probe",
        r#"cut -d' ' -f41 /proc/$$/stat > "$HA_LAB/policy"
umask > "$HA_LAB/umask"
exec grep -E '^Sig(Ign|Blk):' /proc/self/status"#,
    );
    // What a Heartbeat-like daemon does to itself: ignore SIGINT, block
    // SIGUSR1, run SCHED_RR (the latter only where permitted).
    // SAFETY: process-wide SIGINT disposition, restored below; the mask
    // and scheduler changes affect only this test's thread.
    let old_int = unsafe { libc::signal(libc::SIGINT, libc::SIG_IGN) };
    let mut block: libc::sigset_t = unsafe { std::mem::zeroed() };
    let mut old_mask: libc::sigset_t = unsafe { std::mem::zeroed() };
    unsafe {
        libc::sigemptyset(&mut block);
        libc::sigaddset(&mut block, libc::SIGUSR1);
        libc::pthread_sigmask(libc::SIG_BLOCK, &block, &mut old_mask);
    }
    let rr = libc::sched_param { sched_priority: 1 };
    let realtime = unsafe { libc::sched_setscheduler(0, libc::SCHED_RR, &rr) } == 0;
    let old_umask = unsafe { libc::umask(0o077) };

    let mut d = Driver::new(lab.config(), vec![group("alpha", &["probe"])]);
    d.submit(1, give(&["probe"]));
    let outcome = d.wait_done(1, LIMIT);

    unsafe {
        libc::umask(old_umask);
        let normal = libc::sched_param { sched_priority: 0 };
        libc::sched_setscheduler(0, libc::SCHED_OTHER, &normal);
        libc::pthread_sigmask(libc::SIG_SETMASK, &old_mask, std::ptr::null_mut());
        libc::signal(libc::SIGINT, old_int);
    }
    assert_eq!(outcome, JobOutcome::Ok);
    // What exec'd from the script inherited (printed on stdout).
    assert!(d.has_log(Level::Debug, "probe stop stdout: SigBlk:\t0000000000000000"));
    assert!(d.has_log(Level::Debug, "probe stop stdout: SigIgn:\t0000000000000000"));
    if realtime {
        assert_eq!(lab.read("policy"), "0\n", "SCHED_OTHER expected");
    } else {
        eprintln!("SCHED_RR not permitted here: scheduling reset not checked");
    }
    assert_eq!(lab.read("umask"), "0022\n");
}
