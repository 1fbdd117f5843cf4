//! Persistent state in the state directory (default /var/lib/heartbeat):
//! `hb_generation` (spec §5.2) and `hb_uuid` (16 raw bytes).
//!
//! Functions return the lines Heartbeat logs along with the value, so the
//! daemon logs them in its own order.

use std::fmt;
use std::fs::{self, File, OpenOptions};
use std::io::{self, Read, Write};
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};

use crate::config::model::GenMethod;
use crate::core::Level;

pub const DEFAULT_STATE_DIR: &str = "/var/lib/heartbeat";
pub const GENERATION_FILE: &str = "hb_generation";
pub const UUID_FILE: &str = "hb_uuid";
/// Bytes on disk: the number right-aligned in 15 columns and `\n`.
pub const GENLEN: usize = 16;

/// A log line to emit.
pub type Note = (Level, String);

#[derive(Debug)]
pub struct StateError {
    pub path: PathBuf,
    pub what: &'static str,
    pub source: io::Error,
}

impl fmt::Display for StateError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}: {}", self.what, self.path.display(), self.source)
    }
}

impl std::error::Error for StateError {}

fn state_err<'a>(path: &'a Path, what: &'static str) -> impl FnOnce(io::Error) -> StateError + 'a {
    move |source| StateError {
        path: path.to_path_buf(),
        what,
        source,
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Generation {
    pub value: u64,
    pub notes: Vec<Note>,
}

/// `%lu` as sscanf reads it from the first 16 bytes: leading white space,
/// optional `+`, digits. `None` for anything else (including `-` and
/// overflow, which C would wrap).
pub fn parse_generation(bytes: &[u8]) -> Option<u64> {
    let head = bytes.get(..bytes.len().min(GENLEN))?;
    let text = head
        .iter()
        .position(|b| !matches!(b, b' ' | b'\t' | b'\n' | b'\r' | 0x0b | 0x0c))
        .and_then(|start| head.get(start..))?;
    let text = text.strip_prefix(b"+").unwrap_or(text);
    let digits = text.iter().take_while(|b| b.is_ascii_digit()).count();
    if digits == 0 {
        return None;
    }
    std::str::from_utf8(text.get(..digits)?).ok()?.parse().ok()
}

pub fn format_generation(value: u64) -> String {
    format!("{value:>15}\n")
}

/// This start's generation. `File`: previous value + 1, written back
/// (created from `now_secs` if missing or unreadable); `Time`: `now_secs`.
pub fn next_generation(
    state_dir: &Path,
    method: GenMethod,
    now_secs: u64,
) -> Result<Generation, StateError> {
    let mut notes = Vec::new();
    let value = match method {
        GenMethod::Time => now_secs,
        GenMethod::File => {
            let path = state_dir.join(GENERATION_FILE);
            let previous = read_head(&path, GENLEN + 1);
            let value = match previous.as_deref() {
                Some(bytes) if !bytes.is_empty() => match parse_generation(bytes) {
                    Some(v) => v.saturating_add(1),
                    None => {
                        let v = now_secs.saturating_add(1);
                        notes.push((
                            Level::Warn,
                            format!("BROKEN previous generation - starting at {v}"),
                        ));
                        v
                    }
                },
                _ => {
                    let v = now_secs.saturating_add(1);
                    notes.push((
                        Level::Warn,
                        format!("No Previous generation - starting at {v}"),
                    ));
                    v
                }
            };
            write_synced(
                state_dir,
                &path,
                format_generation(value).as_bytes(),
                "Cannot write generation file",
            )?;
            value
        }
    };
    notes.push((Level::Info, format!("Heartbeat generation: {value}")));
    Ok(Generation { value, notes })
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LocalUuid {
    pub uuid: [u8; 16],
    pub notes: Vec<Note>,
}

/// `hb_uuid`'s first 16 bytes, or a new random UUID saved there.
pub fn load_or_create_uuid(state_dir: &Path) -> Result<LocalUuid, StateError> {
    let path = state_dir.join(UUID_FILE);
    if let Some(bytes) = read_head(&path, 16) {
        if let Ok(uuid) = <[u8; 16]>::try_from(bytes.as_slice()) {
            return Ok(LocalUuid {
                uuid,
                notes: Vec::new(),
            });
        }
    }
    let uuid = random_uuid().map_err(state_err(&path, "Cannot generate uuid for"))?;
    write_synced(state_dir, &path, &uuid, "Cannot write uuid file")?;
    Ok(LocalUuid {
        uuid,
        notes: vec![(
            Level::Info,
            "No uuid found for current node - generating a new uuid.".to_string(),
        )],
    })
}

/// A random (version 4) UUID, as libuuid's uuid_generate makes.
pub fn random_uuid() -> io::Result<[u8; 16]> {
    let mut b = [0u8; 16];
    File::open("/dev/urandom")?.read_exact(&mut b)?;
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    Ok(b)
}

/// `xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx`, lower case (uuid_unparse).
pub fn format_uuid(u: &[u8; 16]) -> String {
    let hex: Vec<String> = u.iter().map(|b| format!("{b:02x}")).collect();
    format!(
        "{}-{}-{}-{}-{}",
        hex[0..4].concat(),
        hex[4..6].concat(),
        hex[6..8].concat(),
        hex[8..10].concat(),
        hex[10..16].concat()
    )
}

/// Up to `max` bytes from the start of a file; `None` if it cannot be read.
fn read_head(path: &Path, max: usize) -> Option<Vec<u8>> {
    let mut buf = Vec::with_capacity(max);
    File::open(path)
        .ok()?
        .take(max as u64)
        .read_to_end(&mut buf)
        .ok()?;
    Some(buf)
}

/// Write at offset 0 (no truncation, like Heartbeat) with O_SYNC, fsync the
/// file and its directory: the value must survive a crash.
fn write_synced(
    dir: &Path,
    path: &Path,
    bytes: &[u8],
    what: &'static str,
) -> Result<(), StateError> {
    fs::create_dir_all(dir).map_err(state_err(dir, "Cannot create state directory"))?;
    let mut f = OpenOptions::new()
        .write(true)
        .create(true)
        .mode(0o644)
        .custom_flags(libc::O_SYNC | libc::O_CLOEXEC)
        .open(path)
        .map_err(state_err(path, what))?;
    f.write_all(bytes).map_err(state_err(path, what))?;
    f.sync_all().map_err(state_err(path, "fsync failure on"))?;
    if let Ok(d) = File::open(dir) {
        let _ = d.sync_all();
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn temp(tag: &str) -> PathBuf {
        let d = std::env::temp_dir().join(format!("hbrs-state-{tag}-{}", std::process::id()));
        let _ = fs::remove_dir_all(&d);
        d
    }

    #[test]
    fn parse_like_sscanf_lu() {
        assert_eq!(parse_generation(b"     1795310971\n"), Some(1_795_310_971));
        assert_eq!(parse_generation(b"42"), Some(42));
        assert_eq!(parse_generation(b"\t+7xyz"), Some(7));
        assert_eq!(parse_generation(b"12abc"), Some(12));
        assert_eq!(parse_generation(b"garbage"), None);
        assert_eq!(parse_generation(b"   -5\n"), None);
        assert_eq!(parse_generation(b""), None);
        assert_eq!(
            parse_generation(b"99999999999999999999999"),
            Some(9_999_999_999_999_999)
        );
        // Only the first 16 bytes count.
        assert_eq!(parse_generation(b"               1234"), Some(1));
    }

    #[test]
    fn format_is_sixteen_bytes() {
        assert_eq!(format_generation(1_795_310_971), "     1795310971\n");
        assert_eq!(format_generation(1).len(), GENLEN);
    }

    #[test]
    fn first_start_then_increments() {
        let dir = temp("gen");
        let g = next_generation(&dir, GenMethod::File, 1_795_314_010).unwrap();
        assert_eq!(g.value, 1_795_314_011);
        assert_eq!(
            g.notes,
            vec![
                (
                    Level::Warn,
                    "No Previous generation - starting at 1795314011".to_string()
                ),
                (Level::Info, "Heartbeat generation: 1795314011".to_string()),
            ]
        );
        assert_eq!(
            fs::read(dir.join(GENERATION_FILE)).unwrap(),
            b"     1795314011\n"
        );
        let g = next_generation(&dir, GenMethod::File, 5).unwrap();
        assert_eq!(g.value, 1_795_314_012);
        assert_eq!(g.notes.len(), 1);
        assert_eq!(
            fs::read(dir.join(GENERATION_FILE)).unwrap(),
            b"     1795314012\n"
        );
        fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn broken_or_empty_file_restarts_from_time() {
        let dir = temp("broken");
        fs::create_dir_all(&dir).unwrap();
        fs::write(dir.join(GENERATION_FILE), b"not a number\n").unwrap();
        let g = next_generation(&dir, GenMethod::File, 1000).unwrap();
        assert_eq!(g.value, 1001);
        assert_eq!(
            g.notes[0].1,
            "BROKEN previous generation - starting at 1001"
        );
        fs::write(dir.join(GENERATION_FILE), b"").unwrap();
        let g = next_generation(&dir, GenMethod::File, 2000).unwrap();
        assert_eq!(g.value, 2001);
        assert_eq!(g.notes[0].1, "No Previous generation - starting at 2001");
        fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn time_method_touches_no_file() {
        let dir = temp("time");
        let g = next_generation(&dir, GenMethod::Time, 1234).unwrap();
        assert_eq!(g.value, 1234);
        assert!(!dir.exists());
    }

    #[test]
    fn unwritable_state_dir_is_an_error() {
        let err = next_generation(Path::new("/proc/no-such-dir"), GenMethod::File, 1).unwrap_err();
        assert!(err.to_string().contains("/proc/no-such-dir"));
    }

    #[test]
    fn uuid_is_created_once_and_kept() {
        let dir = temp("uuid");
        let first = load_or_create_uuid(&dir).unwrap();
        assert_eq!(first.notes.len(), 1);
        assert_eq!(first.uuid[6] >> 4, 4);
        assert_eq!(first.uuid[8] >> 6, 0b10);
        assert_eq!(fs::read(dir.join(UUID_FILE)).unwrap(), first.uuid);
        let again = load_or_create_uuid(&dir).unwrap();
        assert_eq!(again.uuid, first.uuid);
        assert!(again.notes.is_empty());
        // A short file is replaced.
        fs::write(dir.join(UUID_FILE), b"short").unwrap();
        let fresh = load_or_create_uuid(&dir).unwrap();
        assert_ne!(fresh.uuid, first.uuid);
        assert_eq!(fs::read(dir.join(UUID_FILE)).unwrap(), fresh.uuid);
        fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn uuid_text_form() {
        let u = [
            0x84, 0x77, 0x0c, 0x4e, 0x67, 0x86, 0x4c, 0xcd, 0x90, 0x37, 0x24, 0x7f, 0xd1, 0x14,
            0xea, 0xaf,
        ];
        assert_eq!(format_uuid(&u), "84770c4e-6786-4ccd-9037-247fd114eaaf");
    }
}
