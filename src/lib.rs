//! heartbeat-rs: a drop-in replacement for the Linux-HA Heartbeat 3.0.6 daemon
//! in v1 (haresources) mode.
//!
//! Module map (arrows point downwards only):
//! - [`config`]: ha.cf, authkeys, haresources, nodeinfo parsers and `--check`.
//! - [`wire`]: the message model, netstring + classic codecs, auth (crc, md5, sha1).
//! - [`core`]: pure state machines (membership, reliability, resources): events in,
//!   actions out; no sockets, files or clock.
//! - [`media`]: one file per link type (bcast, mcast, ucast, serial).
//! - [`runner`]: resource scripts (lookup, spawn, timeouts, output capture).
//! - [`control`]: API socket, FIFO, status snapshot.
//! - [`daemon`]: the poll loop wiring I/O, timers, signals and children to `core`.
//! - [`log`]: Heartbeat-format logging to files and syslog.

pub mod config;
pub mod control;
pub mod core;
pub mod daemon;
pub mod lockfile;
pub mod log;
pub mod media;
pub mod runner;
pub mod wire;

/// The version string Heartbeat prints; API clients and `cl_status` show it.
pub const HB_VERSION: &str = "3.0.6 (node: 958e11be8686759f1b99204c17812f2c2633b169)";
