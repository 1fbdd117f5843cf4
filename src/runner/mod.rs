//! Resource scripts: Heartbeat's ResourceManager (`takegroup`, `givegroup`,
//! the `status` ownership test) run as child processes without blocking
//! the daemon's poll loop.
//!
//! How the daemon drives a [`Runner`]:
//! - `Runner::new(config, groups)` once; `register(registry, token)` with
//!   the loop's mio registry and a token of its own.
//! - `Action::RunJob { id, job }` → `submit(id, job)`.
//! - A poll event for the token → `handle_event()`; include
//!   `next_deadline()` in the poll timeout and call `on_deadline(now)`
//!   when it passes.
//! - After each of those calls, `poll_events()`: log the `Log` lines and
//!   feed every `Done { id, outcome }` to the core as `Input::JobDone`.
//! - The runner waits only for its own children, by pid. The daemon must
//!   not set SIGCHLD to SIG_IGN (auto-reaping) nor reap with
//!   `waitpid(-1, …)`, or script exit codes are lost.
//! - `Done { outcome: StopFailed }` comes after the runner has started
//!   `RunnerConfig::self_fence` (Heartbeat: `reboot -nf`, after killing
//!   itself with SIGKILL); the daemon should then stop heartbeating.
//!
//! Module map: `plan` (pure job sequencing), `ownership` (status text),
//! `lookup` (script path), `child` (spawn, pipes, pidfd), `capture`
//! (bounded output), `script` (one call: time limit, result, output
//! lines), `fence` (self-fence command), `config`, `engine` (the runner).

mod capture;
mod child;
mod config;
mod engine;
mod fence;
mod lookup;
mod ownership;
mod plan;
mod script;
pub mod stonith;

#[cfg(test)]
mod plan_tests;

pub use capture::Capture;
pub(crate) use child::{command as child_command, pidfd_open, SpawnSpec};
pub use config::{
    parse_stop_retry_max, RunnerConfig, ScriptEnv, DEFAULT_STOP_RETRY_MAX, HA_DATEFMT,
};
pub use engine::{Runner, RunnerEvent};
pub use fence::self_fence_command;
pub use lookup::{locate_script, NotFound};
pub use ownership::status_says_running;
pub use plan::{Call, Feedback, JobPlan, Next, Op, RetryPolicy, Step};
