//! One script call in flight: its time limit and kill sequence, and how
//! its result and output turn into plan feedback and log lines.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use super::child::{ScriptProcess, Stream};
use super::ownership::status_says_running;
use super::plan::{Call, Feedback, Op};
use crate::core::Level;

enum KillState {
    None,
    TermSent {
        kill_at: Instant,
    },
    /// A process that survives SIGKILL this long is stuck in the kernel;
    /// the job goes on without it.
    KillSent {
        give_up_at: Instant,
    },
}

/// What the time limit asks for now.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Verdict {
    Wait,
    GiveUp,
}

pub struct Running {
    pub call: Call,
    pub path: PathBuf,
    pub process: ScriptProcess,
    deadline: Instant,
    timeout: Duration,
    kill: KillState,
}

impl Running {
    pub fn new(
        call: Call,
        path: PathBuf,
        process: ScriptProcess,
        now: Instant,
        timeout: Duration,
    ) -> Running {
        Running {
            call,
            path,
            process,
            deadline: now + timeout,
            timeout,
            kill: KillState::None,
        }
    }

    pub fn command_line(&self) -> String {
        command_line(&self.path, &self.call)
    }

    /// When the kill sequence must look at this call next.
    pub fn next_deadline(&self) -> Instant {
        match self.kill {
            KillState::None => self.deadline,
            KillState::TermSent { kill_at } => kill_at,
            KillState::KillSent { give_up_at } => give_up_at,
        }
    }

    pub fn timed_out(&self) -> bool {
        !matches!(self.kill, KillState::None)
    }

    /// Past the limit: SIGTERM to the process group; after `grace`,
    /// SIGKILL; after another `grace`, give up. Returns lines to log.
    pub fn enforce_timeout(
        &mut self,
        now: Instant,
        grace: Duration,
    ) -> (Vec<(Level, String)>, Verdict) {
        let mut notes = Vec::new();
        match self.kill {
            KillState::None if now >= self.deadline => {
                notes.push((
                    Level::Error,
                    format!(
                        "{} timed out after {} s: sending SIGTERM to process group {}",
                        self.command_line(),
                        self.timeout.as_secs_f64(),
                        self.process.pid()
                    ),
                ));
                self.process.signal_group(libc::SIGTERM);
                self.kill = KillState::TermSent {
                    kill_at: now + grace,
                };
            }
            KillState::TermSent { kill_at } if now >= kill_at => {
                notes.push((
                    Level::Error,
                    format!(
                        "{} still running after SIGTERM: sending SIGKILL to process group {}",
                        self.command_line(),
                        self.process.pid()
                    ),
                ));
                self.process.signal_group(libc::SIGKILL);
                self.kill = KillState::KillSent {
                    give_up_at: now + grace,
                };
            }
            KillState::KillSent { give_up_at } if now >= give_up_at => {
                return (notes, Verdict::GiveUp);
            }
            _ => {}
        }
        (notes, Verdict::Wait)
    }
}

/// `PATH ARGS OP` exactly as ResourceManager logs it (`$spath $arg $2`):
/// without arguments there are two spaces before the operation.
pub fn command_line(path: &Path, call: &Call) -> String {
    format!(
        "{} {} {}",
        path.display(),
        call.args.join(" "),
        call.op.as_str()
    )
}

/// How a finished call went, for the plan: exit code for start/stop (a
/// timed-out call failed whatever it returned), stdout text for status.
pub fn feedback(op: Op, rc: i32, timed_out: bool, stdout: &Stream) -> Feedback {
    match op {
        Op::Status => Feedback::Status {
            owned: status_says_running(stdout.capture.bytes()),
        },
        Op::Start | Op::Stop => Feedback::Exited {
            success: rc == 0 && !timed_out,
        },
    }
}

/// The captured output as log lines `SCRIPT OP STREAM: LINE`: at info
/// level when the call failed, else at debug level (where Heartbeat's
/// debug log had it).
pub fn output_logs(
    call: &Call,
    failed: bool,
    streams: [(&str, &Stream); 2],
) -> Vec<(Level, String)> {
    let level = if failed { Level::Info } else { Level::Debug };
    let prefix = format!("{} {}", call.script, call.op.as_str());
    let mut logs = Vec::new();
    for (name, stream) in streams {
        for line in stream.capture.lines() {
            logs.push((level, format!("{prefix} {name}: {line}")));
        }
        let dropped = stream.capture.dropped();
        if dropped > 0 {
            logs.push((
                level,
                format!("{prefix} {name}: {dropped} more bytes not logged"),
            ));
        }
    }
    logs
}
