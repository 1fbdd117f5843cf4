//! The control FIFO (`/var/lib/heartbeat/fifo`): scripts (hb_standby,
//! hb_takeover, resource-agents' `ha_clustermsg`) write classic messages
//! (`>>>\n` … `<<<\n`, no NUL) which the daemon sends to the cluster with
//! `core.send_cluster_msg(now, msg)`.
//!
//! [`FifoParser`] is the pure part (bounded buffer, garbage skipped);
//! [`FifoReader`] owns the FIFO, opened `O_RDWR|O_NONBLOCK` so it never
//! reads EOF when writers come and go.

use std::fs::{File, OpenOptions};
use std::io::{self, Read};
use std::os::fd::AsRawFd;
use std::os::unix::fs::{FileTypeExt, OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};

use mio::unix::SourceFd;
use mio::{Interest, Registry, Token};

use crate::core::Level;
use crate::wire::classic::{CLASSIC_END, CLASSIC_START};
use crate::wire::{find_classic_frame, parse_classic, Message, MAXMSG};

/// Heartbeat's FIFOMODE.
pub const FIFO_MODE: u32 = 0o600;
/// Bytes read per [`FifoReader::read`] call before other sources get a turn.
const READ_BUDGET: usize = 256 * 1024;

/// Splits a byte stream into classic messages.
#[derive(Debug, Default)]
pub struct FifoParser {
    buf: Vec<u8>,
}

/// One thing found in the stream.
#[derive(Clone, Debug, PartialEq)]
pub enum FifoItem {
    Message(Message),
    /// Skipped input, with the reason (for the log).
    Skipped(String),
}

impl FifoParser {
    pub fn new() -> FifoParser {
        FifoParser::default()
    }

    /// Bytes waiting for the rest of their message.
    pub fn buffered(&self) -> usize {
        self.buf.len()
    }

    /// Feeds bytes; returns the messages (and skipped garbage) completed.
    pub fn push(&mut self, bytes: &[u8]) -> Vec<FifoItem> {
        self.buf.extend_from_slice(bytes);
        let mut items = Vec::new();
        loop {
            if let Some(range) = find_classic_frame(&self.buf) {
                let noise = range.start;
                if self.buf.get(..noise).is_some_and(|n| !is_blank(n)) {
                    items.push(FifoItem::Skipped(format!(
                        "{noise} bytes of garbage before a message"
                    )));
                }
                let frame = self.buf.get(range.clone()).unwrap_or_default();
                items.push(match parse_classic(frame) {
                    Ok(msg) if msg.msg_type().is_some() => FifoItem::Message(msg),
                    Ok(_) => FifoItem::Skipped("message without a type (t=)".into()),
                    Err(e) => FifoItem::Skipped(format!("malformed message: {e}")),
                });
                self.buf.drain(..range.end);
                continue;
            }
            match frame_start(&self.buf) {
                None => {
                    // Nothing can start before the last few bytes.
                    let keep = self.buf.len().min(CLASSIC_START.len());
                    let cut = self.buf.len() - keep;
                    if self.buf.get(..cut).is_some_and(|n| !is_blank(n)) {
                        items.push(FifoItem::Skipped(format!("{cut} bytes of garbage")));
                    }
                    self.buf.drain(..cut);
                }
                Some(start) => {
                    if start > 0 {
                        self.buf.drain(..start);
                    }
                    if self.buf.len() > MAXMSG {
                        // Never ends: drop its start marker and look again.
                        items.push(FifoItem::Skipped(format!(
                            "unterminated message longer than {MAXMSG} bytes"
                        )));
                        self.buf.drain(..CLASSIC_START.len());
                        continue;
                    }
                }
            }
            return items;
        }
    }
}

fn is_blank(bytes: &[u8]) -> bool {
    bytes.iter().all(u8::is_ascii_whitespace)
}

/// Where a `>>>` line starts, if anywhere.
fn frame_start(buf: &[u8]) -> Option<usize> {
    if buf.starts_with(CLASSIC_START) {
        return Some(0);
    }
    buf.windows(CLASSIC_START.len() + 1)
        .position(|w| w.first() == Some(&b'\n') && w.get(1..) == Some(CLASSIC_START))
        .map(|i| i + 1)
}

/// The FIFO, registered on the poll loop.
pub struct FifoReader {
    path: PathBuf,
    file: File,
    parser: FifoParser,
    token: Option<Token>,
}

impl FifoReader {
    /// Opens `path`, creating it (mode 0600) if it is missing or not a FIFO,
    /// like Heartbeat does at start-up.
    pub fn open(path: &Path) -> io::Result<FifoReader> {
        match std::fs::symlink_metadata(path) {
            Ok(meta) if meta.file_type().is_fifo() => {
                std::fs::set_permissions(path, std::fs::Permissions::from_mode(FIFO_MODE))?;
            }
            Ok(_) => {
                std::fs::remove_file(path)?;
                make_fifo(path)?;
            }
            Err(e) if e.kind() == io::ErrorKind::NotFound => make_fifo(path)?,
            Err(e) => return Err(e),
        }
        let file = OpenOptions::new()
            .read(true)
            .write(true)
            .custom_flags(libc::O_NONBLOCK)
            .open(path)?;
        Ok(FifoReader {
            path: path.to_path_buf(),
            file,
            parser: FifoParser::new(),
            token: None,
        })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    pub fn register(&mut self, registry: &Registry, token: Token) -> io::Result<()> {
        self.token = Some(token);
        registry.register(
            &mut SourceFd(&self.file.as_raw_fd()),
            token,
            Interest::READABLE,
        )
    }

    /// Reads what is available (up to a budget; the FIFO is re-armed when
    /// more remains) and returns the complete messages plus log lines for
    /// skipped input.
    pub fn read(&mut self, registry: &Registry) -> (Vec<Message>, Vec<(Level, String)>) {
        let mut msgs = Vec::new();
        let mut logs = Vec::new();
        let mut buf = [0u8; 8192];
        let mut total = 0;
        loop {
            if total >= READ_BUDGET {
                if let Some(token) = self.token {
                    if let Err(e) = registry.reregister(
                        &mut SourceFd(&self.file.as_raw_fd()),
                        token,
                        Interest::READABLE,
                    ) {
                        logs.push((Level::Error, format!("FIFO re-arm failed: {e}")));
                    }
                }
                break;
            }
            let n = match self.file.read(&mut buf) {
                Ok(0) => break,
                Ok(n) => n,
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => break,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => {
                    logs.push((Level::Error, format!("FIFO read error: {e}")));
                    break;
                }
            };
            total += n;
            for item in self.parser.push(buf.get(..n).unwrap_or_default()) {
                match item {
                    FifoItem::Message(m) => msgs.push(m),
                    FifoItem::Skipped(why) => logs.push((
                        Level::Warn,
                        format!("Ignored input on {}: {why}", self.path.display()),
                    )),
                }
            }
        }
        (msgs, logs)
    }

    pub fn deregister(&mut self, registry: &Registry) -> io::Result<()> {
        registry.deregister(&mut SourceFd(&self.file.as_raw_fd()))
    }
}

fn make_fifo(path: &Path) -> io::Result<()> {
    nix::unistd::mkfifo(path, nix::sys::stat::Mode::from_bits_truncate(FIFO_MODE))
        .map_err(io::Error::from)?;
    // mkfifo applies the umask; make sure of the mode.
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(FIFO_MODE))
}

/// What `ha_clustermsg` writes for these `name=value` lines.
pub fn clustermsg_bytes(lines: &[(&str, &str)]) -> Vec<u8> {
    let mut out = CLASSIC_START.to_vec();
    for (name, value) in lines {
        out.extend_from_slice(format!("{name}={value}\n").as_bytes());
    }
    out.extend_from_slice(CLASSIC_END);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn messages(items: &[FifoItem]) -> Vec<Option<String>> {
        items
            .iter()
            .filter_map(|i| match i {
                FifoItem::Message(m) => Some(m.msg_type().map(String::from)),
                FifoItem::Skipped(_) => None,
            })
            .collect()
    }

    #[test]
    fn hb_standby_message() {
        let bytes =
            clustermsg_bytes(&[("t", "ask_resources"), ("rsc_hold", "all"), ("info", "me")]);
        assert_eq!(
            bytes,
            b">>>\nt=ask_resources\nrsc_hold=all\ninfo=me\n<<<\n".to_vec()
        );
        let mut p = FifoParser::new();
        let items = p.push(&bytes);
        let FifoItem::Message(m) = &items[0] else {
            panic!("{items:?}");
        };
        assert_eq!(m.get_str("rsc_hold"), Some("all"));
        assert_eq!(m.get_str("info"), Some("me"));
        assert_eq!(p.buffered(), 0);
    }

    #[test]
    fn split_writes_and_several_messages() {
        let one = clustermsg_bytes(&[("t", "a")]);
        let two = clustermsg_bytes(&[("t", "b")]);
        let stream = [one.clone(), two].concat();
        let mut p = FifoParser::new();
        let mut got = Vec::new();
        for b in &stream {
            got.extend(messages(&p.push(&[*b])));
        }
        assert_eq!(got, vec![Some("a".into()), Some("b".into())]);
        assert_eq!(p.buffered(), 0);
    }

    #[test]
    fn garbage_is_skipped() {
        let mut p = FifoParser::new();
        let mut input = b"hello world\nno marker here\n".to_vec();
        input.extend(clustermsg_bytes(&[("t", "x")]));
        input.extend(b">>>\nbroken line\n<<<\n");
        input.extend(b">>>\n<<<\n");
        input.extend(clustermsg_bytes(&[("t", "y")]));
        let items = p.push(&input);
        assert_eq!(messages(&items), vec![Some("x".into()), Some("y".into())]);
        let skipped = items
            .iter()
            .filter(|i| matches!(i, FifoItem::Skipped(_)))
            .count();
        assert_eq!(skipped, 3, "{items:?}");
    }

    #[test]
    fn buffer_stays_bounded() {
        let mut p = FifoParser::new();
        for _ in 0..100 {
            p.push(&[b'x'; 10_000]);
            assert!(p.buffered() <= CLASSIC_START.len());
        }
        // An unterminated message is dropped once it exceeds MAXMSG.
        p.push(b"\n>>>\nt=x\n");
        for _ in 0..40 {
            p.push(&[b'y'; 10_000]);
            assert!(p.buffered() <= MAXMSG + 10_000);
        }
        // The garbage line has to end before a message can start.
        assert!(messages(&p.push(&clustermsg_bytes(&[("t", "lost")]))).is_empty());
        let items = p.push(&[b"\n".as_slice(), &clustermsg_bytes(&[("t", "z")])].concat());
        assert_eq!(messages(&items), vec![Some("z".to_string())]);
    }
}
