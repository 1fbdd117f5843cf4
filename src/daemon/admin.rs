//! The one-shot command-line operations: `-s`, `-k`, `-r`, `-V`, `-D`.

use std::time::Duration;

use nix::sys::signal::{kill, Signal};
use nix::unistd::Pid;

use crate::daemon::cli::Cli;
use crate::daemon::pidfile;

/// LSB "program is not running" (status).
pub const EXIT_NOT_RUNNING: i32 = 3;

/// `heartbeat -s`: Heartbeat's status line and LSB status code.
pub fn status(cli: &Cli) -> i32 {
    let st = pidfile::status(&cli.pid_file(), true);
    match st.running_pid() {
        Some(pid) => {
            let host = crate::config::nodeinfo::uname_nodename();
            println!("heartbeat OK [pid {pid} et al] is running on {host} [{host}]...");
            0
        }
        None => {
            println!("heartbeat is stopped. No process");
            EXIT_NOT_RUNNING.max(st.lsb_code())
        }
    }
}

/// `heartbeat -k`: SIGTERM the running daemon and wait until it is gone.
pub fn stop(cli: &Cli) -> i32 {
    let Some(pid) = pidfile::status(&cli.pid_file(), true).running_pid() else {
        eprintln!("heartbeat: no heartbeat process is running.");
        return 0;
    };
    if let Err(e) = kill(Pid::from_raw(pid), Signal::SIGTERM) {
        eprintln!("heartbeat: cannot signal pid {pid}: {e}");
        return 1;
    }
    // Heartbeat waits for as long as the shutdown takes (resources may need
    // minutes); we poll the pid.
    while pidfile::is_alive(pid) {
        std::thread::sleep(Duration::from_millis(100));
    }
    0
}

/// `heartbeat -r`: validate the configuration, then SIGHUP the daemon.
pub fn reload(cli: &Cli) -> i32 {
    if let Err(diags) = crate::config::load(&cli.conf_dir) {
        for d in diags.iter() {
            eprintln!("{d}");
        }
        eprintln!("heartbeat: configuration invalid, daemon not signalled.");
        return crate::daemon::startup::EXIT_NOT_CONFIGURED;
    }
    let Some(pid) = pidfile::status(&cli.pid_file(), true).running_pid() else {
        eprintln!("heartbeat: no heartbeat process is running.");
        return 1;
    };
    match kill(Pid::from_raw(pid), Signal::SIGHUP) {
        Ok(()) => 0,
        Err(e) => {
            eprintln!("heartbeat: cannot signal pid {pid}: {e}");
            1
        }
    }
}

/// `heartbeat -D`: the defaults of the timing directives.
pub fn print_defaults() -> i32 {
    let d = crate::config::model::HaCf::default();
    println!("keepalive\t{}ms", d.keepalive_ms);
    println!("deadtime\t{}ms", d.deadtime_ms);
    println!("warntime\tdeadtime/2");
    println!("initdead\tderived from deadtime (see ha.cf(5))");
    println!("udpport\t{}", d.udpport);
    println!("baud\t{}", d.baud);
    println!("auto_failback\tlegacy");
    println!("hopfudge\t{}", d.hopfudge);
    println!("hbgenmethod\tfile");
    println!("msgfmt\tclassic");
    println!("max_rexmit_delay\t{}", d.max_rexmit_delay_ms);
    println!("realtime\ttrue");
    println!("memreserve\t{}", d.memreserve_kib);
    0
}
