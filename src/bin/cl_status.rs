//! `cl_status`: Heartbeat's status tool (see `heartbeat_rs::control::cl_status`).

use std::io::Write;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use heartbeat_rs::control::cl_status::{run, Env, ALARM_SECS, TIMEOUT};
use heartbeat_rs::control::client::socket_path;

fn main() {
    // cl_status's alarm(5): give up whatever is blocking. (No explicit
    // flush: main holds the stdout lock; complete lines are already out.)
    std::thread::spawn(|| {
        std::thread::sleep(Duration::from_secs(ALARM_SECS));
        std::process::exit(TIMEOUT);
    });
    let args: Vec<String> = std::env::args().skip(1).collect();
    let host = nix::sys::utsname::uname()
        .map(|u| u.nodename().to_string_lossy().into_owned())
        .unwrap_or_default();
    let now_secs = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_secs()).unwrap_or(0))
        .unwrap_or(0);
    let stdout = std::io::stdout();
    let stderr = std::io::stderr();
    let mut out = stdout.lock();
    let mut err = stderr.lock();
    let code = run(
        &args,
        &mut Env {
            out: &mut out,
            err: &mut err,
            socket: socket_path(),
            host,
            pid: std::process::id(),
            now_secs,
        },
    );
    let _ = out.flush();
    std::process::exit(code);
}
