//! Resource script lookup (ResourceManager's `scriptpath`): the first
//! regular, executable `DIR/SCRIPT` of the resource directory, then init.d.

use std::fmt;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

/// The script named in haresources does not exist where Heartbeat looks.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NotFound {
    pub script: String,
}

impl fmt::Display for NotFound {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // ResourceManager's wording, which operators grep for.
        write!(f, "Cannot locate resource script {}", self.script)
    }
}

impl std::error::Error for NotFound {}

/// Finds `script` in `dirs`, in order. A name that is not a plain file name
/// (empty, `.`, `..`, or containing `/`) is never found: haresources names
/// scripts, not paths.
pub fn locate_script(script: &str, dirs: &[&Path]) -> Result<PathBuf, NotFound> {
    let plain = !script.is_empty() && script != "." && script != ".." && !script.contains('/');
    if plain {
        for dir in dirs {
            let candidate = dir.join(script);
            if is_executable_file(&candidate) {
                return Ok(candidate);
            }
        }
    }
    Err(NotFound {
        script: script.to_string(),
    })
}

/// `[ -f P -a -x P ]`: a regular file (symlinks followed) with an execute
/// bit set. Root's `-x` is true when any execute bit is set.
fn is_executable_file(path: &Path) -> bool {
    match std::fs::metadata(path) {
        Ok(meta) => meta.is_file() && meta.permissions().mode() & 0o111 != 0,
        Err(_) => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::fs;

    struct TempDir(PathBuf);

    impl TempDir {
        fn new(tag: &str) -> TempDir {
            let path = std::env::temp_dir().join(format!(
                "hbrs-lookup-{tag}-{}-{:?}",
                std::process::id(),
                std::thread::current().id()
            ));
            let _ = fs::remove_dir_all(&path);
            fs::create_dir_all(&path).expect("create temp dir");
            TempDir(path)
        }
    }

    impl Drop for TempDir {
        fn drop(&mut self) {
            let _ = fs::remove_dir_all(&self.0);
        }
    }

    fn write(path: &Path, mode: u32) {
        fs::write(path, "#!/bin/sh\nexit 0\n").expect("write script");
        fs::set_permissions(path, fs::Permissions::from_mode(mode)).expect("chmod");
    }

    #[test]
    fn resource_dir_wins_over_initd() {
        let rd = TempDir::new("rd1");
        let id = TempDir::new("id1");
        write(&rd.0.join("svc"), 0o755);
        write(&id.0.join("svc"), 0o755);
        let found = locate_script("svc", &[&rd.0, &id.0]);
        assert_eq!(found, Ok(rd.0.join("svc")));
    }

    #[test]
    fn falls_back_to_initd_when_missing_or_not_executable() {
        let rd = TempDir::new("rd2");
        let id = TempDir::new("id2");
        write(&rd.0.join("svc"), 0o644);
        write(&id.0.join("svc"), 0o700);
        write(&id.0.join("other"), 0o755);
        assert_eq!(locate_script("svc", &[&rd.0, &id.0]), Ok(id.0.join("svc")));
        assert_eq!(
            locate_script("other", &[&rd.0, &id.0]),
            Ok(id.0.join("other"))
        );
    }

    #[test]
    fn directories_and_missing_scripts_are_not_found() {
        let rd = TempDir::new("rd3");
        fs::create_dir(rd.0.join("adir")).expect("mkdir");
        let err = locate_script("adir", &[&rd.0]).unwrap_err();
        assert_eq!(err.to_string(), "Cannot locate resource script adir");
        assert!(locate_script("nope", &[&rd.0]).is_err());
    }

    #[test]
    fn path_like_names_are_refused() {
        let rd = TempDir::new("rd4");
        let sub = rd.0.join("sub");
        fs::create_dir(&sub).expect("mkdir");
        write(&sub.join("svc"), 0o755);
        for name in ["sub/svc", "", ".", "..", "../sub/svc"] {
            assert!(locate_script(name, &[&rd.0]).is_err(), "{name:?}");
        }
    }
}
