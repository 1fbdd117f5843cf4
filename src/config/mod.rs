//! Configuration: ha.cf, authkeys, haresources, nodeinfo, and `--check`.
//!
//! Every parser has a pure entry point (content + path for messages) that
//! never touches the file system; [`load`] reads the files of a
//! configuration directory, runs the start-up checks that need the system
//! (permissions, users, executables) and reports every problem at once.

pub mod advice;
pub mod authkeys;
pub mod check;
pub mod diag;
pub mod hacf;
pub mod haresources;
pub mod load;
pub mod model;
pub mod nodeinfo;
pub mod values;

pub use diag::{Diagnostic, Diagnostics, Parsed, Severity};
pub use load::{load, load_with, LoadOptions, LoadedConfig, DEFAULT_CONFDIR};
