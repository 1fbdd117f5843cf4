//! The daemon around the pure core: command line, process set-up, pid and
//! state files, clocks and timers. The poll loop that wires media, control,
//! runner and core together lives here too once written.

pub mod admin;
pub mod cli;
pub mod clock;
pub mod control_io;
pub mod event_loop;
pub mod event_scripts;
pub mod loadavg;
pub mod pidfile;
pub mod ping_io;
pub mod process;
pub mod respawn;
pub mod respawn_policy;
pub mod sdnotify;
pub mod startup;
pub mod statefiles;
pub mod timers;
pub mod upper;
pub mod watchdog;
