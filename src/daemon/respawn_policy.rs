//! Heartbeat's policy for `respawn` / `failfast` clients (heartbeat.c
//! `start_a_child_client`, `ManagedChildDied`, `shutdown_last_client_child`),
//! pure: events in, actions out; no processes, no clock.
//!
//! * Every client starts at comm-up.
//! * An exit restarts it, unless the code is 100 or a shutdown is running.
//!   A client that dies within 30 s of its start counts as a short run; a
//!   restart after a short run is delayed 1 s (Heartbeat sleeps in the
//!   child), and the 11th short run in a row leaves it dead with
//!   `Client X "respawning too fast"`.
//! * `failfast`: a death by signal or a non-zero exit, outside a shutdown,
//!   fences this machine (Heartbeat: `cl_reboot`; here the configured
//!   self-fence command).
//! * Shutdown: SIGTERM to the last client's process group, wait for it to
//!   die, then the one before, and so on; then [`Act::AllStopped`].

use crate::core::Level;

/// A run shorter than this counts towards the "too fast" limit.
pub const SHORT_RUN_MS: u64 = 30_000;
/// More consecutive short runs than this and the client is left dead.
pub const MAX_SHORT_RUNS: u32 = 10;
/// Exit code meaning "do not restart me".
pub const EXIT_NO_RESPAWN: i32 = 100;
/// Delay of a restart after a short run (Heartbeat's `sleep(1)`).
pub const SHORT_RUN_DELAY_MS: u64 = 1000;

/// One configured client.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ClientSpec {
    /// The command line as written in ha.cf (Heartbeat's name for it).
    pub command: String,
    pub uid: u32,
    pub gid: u32,
    pub failfast: bool,
}

/// How a client ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Ending {
    Code(i32),
    Signal(i32),
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Event {
    /// Communication is up: start every client.
    CommUp,
    /// Client `idx` was started as `pid`.
    Started { idx: usize, pid: i32, now_ms: u64 },
    /// Client `idx` could not be started (logged by the caller).
    StartFailed { idx: usize },
    /// Client `idx` ended.
    Exited {
        idx: usize,
        ending: Ending,
        now_ms: u64,
    },
    /// Graceful shutdown: stop the clients, last first.
    Shutdown,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Act {
    /// Start client `idx` after `delay_ms`.
    Start {
        idx: usize,
        delay_ms: u64,
    },
    /// Send `signal` to the process group `pid`.
    Kill {
        idx: usize,
        pid: i32,
        signal: i32,
    },
    Log(Level, String),
    /// Fence this machine (failfast client died).
    SelfFence {
        reason: String,
    },
    /// Shutdown: every client is stopped.
    AllStopped,
}

#[derive(Clone, Debug, Default, PartialEq, Eq)]
struct State {
    pid: Option<i32>,
    started_ms: u64,
    short_runs: u32,
    /// A start is queued (delayed) but not done yet.
    pending: bool,
    /// False once shutdown reached this client.
    respawn: bool,
    /// SIGTERM sent to the running process.
    kill_sent: bool,
}

pub struct Policy {
    specs: Vec<ClientSpec>,
    states: Vec<State>,
    shutting_down: bool,
    /// Shutdown: clients `0..stop_next` still have to be stopped; the one
    /// at `stop_next` (if any) is being waited for.
    stop_next: Option<usize>,
    all_stopped_sent: bool,
}

fn log(out: &mut Vec<Act>, level: Level, text: String) {
    out.push(Act::Log(level, text));
}

impl Policy {
    pub fn new(specs: Vec<ClientSpec>) -> Policy {
        let states = specs
            .iter()
            .map(|_| State {
                respawn: true,
                ..State::default()
            })
            .collect();
        Policy {
            specs,
            states,
            shutting_down: false,
            stop_next: None,
            all_stopped_sent: false,
        }
    }

    pub fn specs(&self) -> &[ClientSpec] {
        &self.specs
    }

    /// Pid of client `idx` while it runs.
    pub fn pid(&self, idx: usize) -> Option<i32> {
        self.states.get(idx).and_then(|s| s.pid)
    }

    pub fn shutting_down(&self) -> bool {
        self.shutting_down
    }

    pub fn handle(&mut self, event: Event) -> Vec<Act> {
        let mut out = Vec::new();
        match event {
            Event::CommUp => {
                if !self.shutting_down {
                    for idx in 0..self.specs.len() {
                        self.start(idx, 0, &mut out);
                    }
                }
            }
            Event::Started { idx, pid, now_ms } => {
                if let Some(st) = self.states.get_mut(idx) {
                    st.pending = false;
                    st.pid = Some(pid);
                    st.started_ms = now_ms;
                }
                if self.shutting_down {
                    // A restart raced with the shutdown; stop it in turn.
                    self.continue_shutdown(&mut out);
                }
            }
            Event::StartFailed { idx } => {
                if let Some(st) = self.states.get_mut(idx) {
                    st.pending = false;
                }
                if self.shutting_down {
                    self.continue_shutdown(&mut out);
                }
            }
            Event::Exited {
                idx,
                ending,
                now_ms,
            } => self.exited(idx, ending, now_ms, &mut out),
            Event::Shutdown => {
                if !self.shutting_down {
                    self.shutting_down = true;
                    self.stop_next = self.specs.len().checked_sub(1);
                    self.continue_shutdown(&mut out);
                }
            }
        }
        out
    }

    fn start(&mut self, idx: usize, delay_ms: u64, out: &mut Vec<Act>) {
        let (Some(spec), Some(st)) = (self.specs.get(idx), self.states.get_mut(idx)) else {
            return;
        };
        if st.pid.is_some() || st.pending {
            return;
        }
        st.pending = true;
        log(
            out,
            Level::Info,
            format!(
                "Starting child client \"{}\" ({},{})",
                spec.command, spec.uid, spec.gid
            ),
        );
        out.push(Act::Start { idx, delay_ms });
    }

    fn exited(&mut self, idx: usize, ending: Ending, now_ms: u64, out: &mut Vec<Act>) {
        let (Some(spec), Some(st)) = (self.specs.get(idx), self.states.get_mut(idx)) else {
            return;
        };
        let Some(pid) = st.pid.take() else {
            return;
        };
        st.kill_sent = false;
        let cmd = spec.command.clone();
        // Clients killed by our shutdown are not reported (PT_LOGNONE).
        if !self.shutting_down {
            match ending {
                Ending::Code(code) => log(
                    out,
                    if code == 0 { Level::Info } else { Level::Warn },
                    format!("Managed {cmd} process {pid} exited with return code {code}."),
                ),
                Ending::Signal(sig) => log(
                    out,
                    Level::Warn,
                    format!("Managed {cmd} process {pid} killed by signal {sig}."),
                ),
            }
        }
        // Heartbeat also reboots for a failfast client that our own
        // shutdown SIGTERM killed; a stop we asked for is no failure.
        let abnormal = !self.shutting_down
            && match ending {
                Ending::Signal(_) => true,
                Ending::Code(code) => code != 0,
            };
        if spec.failfast && abnormal {
            log(
                out,
                Level::Emerg,
                format!("Rebooting system.  Reason: {cmd}"),
            );
            out.push(Act::SelfFence { reason: cmd });
            return;
        }
        let no_respawn = ending == Ending::Code(EXIT_NO_RESPAWN);
        if st.respawn && !self.shutting_down && !no_respawn {
            if now_ms < st.started_ms.saturating_add(SHORT_RUN_MS) {
                st.short_runs += 1;
            } else {
                st.short_runs = 0;
            }
            if st.short_runs > MAX_SHORT_RUNS {
                st.short_runs = 0;
                log(
                    out,
                    Level::Error,
                    format!("Client {cmd} \"respawning too fast\""),
                );
            } else {
                log(out, Level::Error, format!("Respawning client \"{cmd}\":"));
                let delay = if st.short_runs > 0 {
                    SHORT_RUN_DELAY_MS
                } else {
                    0
                };
                self.start(idx, delay, out);
            }
        }
        if self.shutting_down {
            self.continue_shutdown(out);
        }
    }

    /// Signals the last client not yet stopped, or reports that all are.
    fn continue_shutdown(&mut self, out: &mut Vec<Act>) {
        while let Some(idx) = self.stop_next {
            let (Some(spec), Some(st)) = (self.specs.get(idx), self.states.get_mut(idx)) else {
                self.stop_next = None;
                break;
            };
            st.respawn = false;
            if st.pending {
                // Wait for the start to finish, then stop it.
                return;
            }
            if let Some(pid) = st.pid {
                if !st.kill_sent {
                    st.kill_sent = true;
                    log(
                        out,
                        Level::Info,
                        format!(
                            "killing {} process group {pid} with signal 15",
                            spec.command
                        ),
                    );
                    out.push(Act::Kill {
                        idx,
                        pid,
                        signal: libc::SIGTERM,
                    });
                }
                return;
            }
            self.stop_next = idx.checked_sub(1);
        }
        if !self.all_stopped_sent {
            self.all_stopped_sent = true;
            out.push(Act::AllStopped);
        }
    }
}

#[cfg(test)]
#[path = "respawn_policy_tests.rs"]
mod tests;
