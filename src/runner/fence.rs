//! Self-fencing: what ResourceManager does when a resource cannot be
//! stopped (`reboot -nf`), so the peer can take over safely.
//!
//! The command is `RunnerConfig::self_fence` (default `/sbin/reboot -nf`;
//! a future ha.cf extension directive, e.g. `selffence /path args…`, will
//! set it). Tests must always point it at a harmless command.

use std::io;
use std::path::Path;
use std::process::Child;

use super::child::{spawn_quiet, SpawnSpec};

/// Starts `argv` (program and arguments) detached from our stdio, in its
/// own process group, with `env` as its whole environment. The caller
/// reaps the returned child.
pub fn self_fence_command(argv: &[String], env: &[(String, String)]) -> io::Result<Child> {
    let Some((program, args)) = argv.split_first() else {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            "empty self-fence command",
        ));
    };
    spawn_quiet(&SpawnSpec {
        program: Path::new(program),
        args,
        env,
        workdir: Path::new("/"),
    })
}
