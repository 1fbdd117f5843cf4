//! `serial /dev/ttyX`: classic frames over a tty (spec §7).
//!
//! Line set up as Heartbeat's serial plugin: raw, 8N1, CRTSCTS, CLOCAL,
//! CREAD, IGNCR (CR dropped), ISTRIP (7-bit), INPCK, BRKINT, no OPOST, no
//! ICANON/ECHO/ISIG, VMIN=1 VTIME=1, the configured baud; a break is sent
//! on open so the other side flushes. CRTSCTS is harmless on a pty (no
//! modem lines: the pty driver ignores it), which is what the lab's socat
//! "cables" are. The descriptor is nonblocking: reading goes through
//! [`ClassicFramer`], writing through the paced [`PacedWriter`].
//! A UUCP lock (`LCK..name`) is taken when a lock directory is given.

use std::fs;
use std::io;
use std::os::fd::{AsFd, AsRawFd, OwnedFd};
use std::os::unix::fs::{FileTypeExt, OpenOptionsExt};
use std::path::Path;
use std::time::Instant;

use mio::unix::SourceFd;
use mio::{Interest, Registry, Token};
use nix::sys::termios::{
    cfsetspeed, tcflush, tcgetattr, tcsendbreak, tcsetattr, BaudRate, ControlFlags, FlushArg,
    InputFlags, LocalFlags, OutputFlags, SetArg, SpecialCharacterIndices,
};

use super::serial_framer::ClassicFramer;
use super::serial_writer::{chunk_pause, PacedWriter};
use super::ttylock::TtyLock;
use super::{io_err, Drained, MediaErrorKind, Medium, MediumKind, WireFormat};

/// Reads per `recv` call before yielding to the loop.
const READS_PER_CALL: usize = 64;

pub struct Serial {
    name: String,
    fd: OwnedFd,
    framer: ClassicFramer,
    writer: PacedWriter,
    buf: Box<[u8]>,
    log: Vec<String>,
    _lock: Option<TtyLock>,
}

/// The termios speed for a configured baud (Heartbeat accepts >= 300).
pub fn baud_rate(baud: u32) -> Option<BaudRate> {
    Some(match baud {
        300 => BaudRate::B300,
        600 => BaudRate::B600,
        1200 => BaudRate::B1200,
        1800 => BaudRate::B1800,
        2400 => BaudRate::B2400,
        4800 => BaudRate::B4800,
        9600 => BaudRate::B9600,
        19200 => BaudRate::B19200,
        38400 => BaudRate::B38400,
        57600 => BaudRate::B57600,
        115200 => BaudRate::B115200,
        230400 => BaudRate::B230400,
        460800 => BaudRate::B460800,
        500000 => BaudRate::B500000,
        576000 => BaudRate::B576000,
        921600 => BaudRate::B921600,
        1000000 => BaudRate::B1000000,
        _ => return None,
    })
}

fn set_line(fd: &OwnedFd, speed: BaudRate) -> nix::Result<()> {
    let mut t = tcgetattr(fd)?;
    t.input_flags &= !(InputFlags::IGNBRK
        // IUCLC: nix does not name it (Linux-only, obsolete).
        | InputFlags::from_bits_retain(libc::IUCLC)
        | InputFlags::IXANY
        | InputFlags::IXOFF
        | InputFlags::IXON
        | InputFlags::ICRNL
        | InputFlags::PARMRK);
    t.input_flags |=
        InputFlags::INPCK | InputFlags::ISTRIP | InputFlags::IGNCR | InputFlags::BRKINT;
    t.output_flags &= !OutputFlags::OPOST;
    t.control_flags &= !(ControlFlags::CSIZE | ControlFlags::PARENB);
    t.control_flags |=
        ControlFlags::CS8 | ControlFlags::CREAD | ControlFlags::CLOCAL | ControlFlags::CRTSCTS;
    t.local_flags &= !(LocalFlags::ICANON | LocalFlags::ECHO | LocalFlags::ISIG);
    t.line_discipline = 0;
    t.control_chars[SpecialCharacterIndices::VMIN as usize] = 1;
    t.control_chars[SpecialCharacterIndices::VTIME as usize] = 1;
    cfsetspeed(&mut t, speed)?;
    tcsetattr(fd, SetArg::TCSANOW, &t)?;
    tcflush(fd, FlushArg::TCIOFLUSH)
}

impl Serial {
    pub fn open(
        device: &Path,
        baud: u32,
        lock_dir: Option<&Path>,
    ) -> Result<Serial, MediaErrorKind> {
        if !device.is_absolute() {
            return Err(MediaErrorKind::NotFullPath(device.to_path_buf()));
        }
        let meta = fs::metadata(device).map_err(|source| MediaErrorKind::NoSuchDevice {
            path: device.to_path_buf(),
            source,
        })?;
        if !meta.file_type().is_char_device() {
            return Err(MediaErrorKind::NotCharDevice(device.to_path_buf()));
        }
        let speed = baud_rate(baud).ok_or(MediaErrorKind::BadBaud(baud))?;
        let lock = match lock_dir {
            Some(dir) => Some(TtyLock::acquire(dir, device)?),
            None => None,
        };
        let name = device.display().to_string();
        let file = fs::OpenOptions::new()
            .read(true)
            .write(true)
            .custom_flags(libc::O_NOCTTY | libc::O_NONBLOCK)
            .open(device)
            .map_err(|e| io_err(format!("cannot open {name}"), e))?;
        let fd = OwnedFd::from(file);
        set_line(&fd, speed)
            .map_err(|e| io_err(format!("cannot set tty attributes of {name}"), e))?;
        // Make the other side flush its input (a no-op on a pty).
        let _ = tcsendbreak(&fd, 0);
        let log = vec![format!(
            "glib: Starting serial heartbeat on tty {name} ({baud} baud)"
        )];
        Ok(Serial {
            name,
            fd,
            framer: ClassicFramer::new(),
            writer: PacedWriter::new(chunk_pause(baud)),
            buf: vec![0u8; 4096].into_boxed_slice(),
            log,
            _lock: lock,
        })
    }

    /// Frames dropped by the reader so far (interrupted or oversized).
    pub fn discarded_frames(&self) -> u64 {
        self.framer.discarded()
    }

    pub fn pending_output(&self) -> usize {
        self.writer.pending_bytes()
    }
}

impl Medium for Serial {
    fn kind(&self) -> MediumKind {
        MediumKind::Serial
    }
    fn name(&self) -> &str {
        &self.name
    }
    fn wire_format(&self) -> WireFormat {
        WireFormat::Classic
    }
    fn opened_log(&self) -> &[String] {
        &self.log
    }
    fn register(&mut self, registry: &Registry, token: Token) -> io::Result<()> {
        registry.register(
            &mut SourceFd(&self.fd.as_raw_fd()),
            token,
            Interest::READABLE | Interest::WRITABLE,
        )
    }
    fn deregister(&mut self, registry: &Registry) -> io::Result<()> {
        registry.deregister(&mut SourceFd(&self.fd.as_raw_fd()))
    }

    /// Queue one classic frame (the caller encodes classic for serial).
    fn send(&mut self, packet: &[u8], now: Instant) -> io::Result<()> {
        if !packet.starts_with(b">>>\n") {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                "serial media carry classic (>>>) messages only",
            ));
        }
        self.writer
            .enqueue(packet)
            .map_err(|e| io::Error::new(io::ErrorKind::WouldBlock, e))?;
        self.flush(now)
    }

    fn recv(&mut self, out: &mut Vec<Vec<u8>>) -> io::Result<Drained> {
        for _ in 0..READS_PER_CALL {
            match nix::unistd::read(self.fd.as_raw_fd(), &mut self.buf) {
                Ok(0) => {
                    return Err(io::Error::new(
                        io::ErrorKind::UnexpectedEof,
                        format!("EOF on tty {}", self.name),
                    ))
                }
                Ok(n) => self.framer.push(self.buf.get(..n).unwrap_or_default(), out),
                Err(nix::errno::Errno::EAGAIN) => return Ok(Drained::Empty),
                Err(nix::errno::Errno::EINTR) => {}
                Err(e) => return Err(e.into()),
            }
        }
        Ok(Drained::More)
    }

    fn next_deadline(&self) -> Option<Instant> {
        self.writer.next_deadline()
    }

    fn flush(&mut self, now: Instant) -> io::Result<()> {
        let fd = self.fd.as_fd();
        let result = self
            .writer
            .flush(now, |b| nix::unistd::write(fd, b).map_err(io::Error::from));
        match result {
            Err(e) if e.kind() == io::ErrorKind::TimedOut => {
                let _ = tcflush(&self.fd, FlushArg::TCOFLUSH);
                Err(io::Error::new(
                    io::ErrorKind::TimedOut,
                    format!(
                        "TTY write timeout on [{}] (no connection or bad cable? [see documentation]): {e}",
                        self.name
                    ),
                ))
            }
            other => other,
        }
    }
}

#[cfg(test)]
mod tests {
    use std::os::fd::AsFd;
    use std::time::Duration;

    use super::*;
    use nix::pty::openpty;

    /// A pty pair: our medium opens the slave by path, the test plays the
    /// peer on the master.
    struct Pair {
        master: OwnedFd,
        _slave: OwnedFd,
        path: std::path::PathBuf,
    }

    fn pty() -> Pair {
        let p = openpty(None, None).unwrap();
        let path = nix::unistd::ttyname(p.slave.as_fd()).unwrap();
        nix::fcntl::fcntl(
            p.master.as_raw_fd(),
            nix::fcntl::FcntlArg::F_SETFL(nix::fcntl::OFlag::O_NONBLOCK),
        )
        .unwrap();
        Pair {
            master: p.master,
            _slave: p.slave,
            path,
        }
    }

    fn frame(tag: &str, body_len: usize) -> Vec<u8> {
        let mut f = format!(">>>\nt={tag}\nv=").into_bytes();
        f.extend((0..body_len).map(|i| b'a' + (i % 26) as u8));
        f.extend_from_slice(b"\n<<<\n");
        f
    }

    fn read_master(master: &OwnedFd, want: usize, timeout: Duration) -> Vec<u8> {
        let mut got = Vec::new();
        let mut buf = [0u8; 4096];
        let deadline = Instant::now() + timeout;
        while got.len() < want && Instant::now() < deadline {
            match nix::unistd::read(master.as_raw_fd(), &mut buf) {
                Ok(n) => got.extend_from_slice(&buf[..n]),
                Err(nix::errno::Errno::EAGAIN) => std::thread::sleep(Duration::from_millis(2)),
                Err(e) => panic!("master read: {e}"),
            }
        }
        got
    }

    fn recv_frames(m: &mut Serial, want: usize) -> Vec<Vec<u8>> {
        let mut out = Vec::new();
        let deadline = Instant::now() + Duration::from_secs(5);
        while out.len() < want && Instant::now() < deadline {
            if m.recv(&mut out).unwrap() == Drained::Empty {
                std::thread::sleep(Duration::from_millis(2));
            }
        }
        out
    }

    #[test]
    fn frames_cross_a_pty_both_ways() {
        let pair = pty();
        let mut m = Serial::open(&pair.path, 19200, None).unwrap();
        assert_eq!(
            m.opened_log(),
            [format!(
                "glib: Starting serial heartbeat on tty {} (19200 baud)",
                pair.path.display()
            )]
        );
        assert_eq!(m.wire_format(), WireFormat::Classic);

        // Peer -> us, with junk, CRs and a high bit (ISTRIP clears it).
        let a = frame("a", 10);
        let mut wire = b"noise\r\n".to_vec();
        wire.extend_from_slice(&a);
        wire.extend_from_slice(b">>>\r\nt=b\r\nx=\xc1\r\n<<<\r\n");
        nix::unistd::write(pair.master.as_fd(), &wire).unwrap();
        let got = recv_frames(&mut m, 2);
        assert_eq!(got, vec![a.clone(), b">>>\nt=b\nx=A\n<<<\n".to_vec()]);

        // Us -> peer: bytes arrive unchanged (no OPOST translation).
        let b = frame("b", 100);
        m.send(&b, Instant::now()).unwrap();
        assert_eq!(m.next_deadline(), None);
        assert_eq!(
            read_master(&pair.master, b.len(), Duration::from_secs(5)),
            b
        );

        assert!(m.send(b"###\nnetstring", Instant::now()).is_err());
    }

    #[test]
    fn large_frame_is_paced_in_chunks() {
        let pair = pty();
        let mut m = Serial::open(&pair.path, 115200, None).unwrap();
        let big = frame("big", 1200);
        let t0 = Instant::now();
        m.send(&big, t0).unwrap();
        // First 512 bytes are out; the rest waits for the pacing deadline.
        let deadline = m.next_deadline().expect("pacing deadline");
        assert_eq!(deadline, t0 + chunk_pause(115200));
        assert_eq!(m.pending_output(), big.len() - 512);
        let first = read_master(&pair.master, 512, Duration::from_secs(5));
        assert_eq!(first.len(), 512);
        // The loop would poll until the deadline, then flush.
        while m.pending_output() > 0 {
            let now = Instant::now();
            match m.next_deadline() {
                Some(d) if d > now => std::thread::sleep(d - now),
                _ => {}
            }
            m.flush(Instant::now()).unwrap();
        }
        assert!(t0.elapsed() >= chunk_pause(115200) * 2);
        let rest = read_master(&pair.master, big.len() - 512, Duration::from_secs(5));
        assert_eq!([first, rest].concat(), big);
    }

    #[test]
    fn pty_readiness_comes_through_mio() {
        let pair = pty();
        let mut m = Serial::open(&pair.path, 38400, None).unwrap();
        let mut poll = mio::Poll::new().unwrap();
        m.register(poll.registry(), Token(7)).unwrap();
        let f = frame("p", 5);
        nix::unistd::write(pair.master.as_fd(), &f).unwrap();
        let mut events = mio::Events::with_capacity(8);
        let mut got = Vec::new();
        let deadline = Instant::now() + Duration::from_secs(5);
        while got.is_empty() && Instant::now() < deadline {
            poll.poll(&mut events, Some(Duration::from_millis(100)))
                .unwrap();
            for ev in events.iter() {
                assert_eq!(ev.token(), Token(7));
                if ev.is_readable() {
                    m.recv(&mut got).unwrap();
                }
            }
        }
        assert_eq!(got, vec![f]);
        m.deregister(poll.registry()).unwrap();
    }

    #[test]
    fn bad_devices_are_named() {
        assert!(matches!(
            Serial::open(Path::new("ttyS0"), 19200, None),
            Err(MediaErrorKind::NotFullPath(_))
        ));
        assert!(matches!(
            Serial::open(Path::new("/dev/no-such-tty"), 19200, None),
            Err(MediaErrorKind::NoSuchDevice { .. })
        ));
        assert!(matches!(
            Serial::open(Path::new("/etc/hostname"), 19200, None),
            Err(MediaErrorKind::NotCharDevice(_))
        ));
        let pair = pty();
        assert!(matches!(
            Serial::open(&pair.path, 12345, None),
            Err(MediaErrorKind::BadBaud(12345))
        ));
    }

    #[test]
    fn second_open_of_a_locked_line_fails() {
        let dir = std::env::temp_dir().join(format!("hbrs-serial-lock-{}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        fs::create_dir_all(&dir).unwrap();
        let pair = pty();
        let first = Serial::open(&pair.path, 19200, Some(&dir)).unwrap();
        // Same pid holds it: st_ttylock lets the owner re-lock, so simulate
        // another live owner by rewriting the file with our parent's pid.
        let lock_file = dir.join(super::super::ttylock::lock_name(&pair.path));
        assert!(lock_file.exists());
        let parent = nix::unistd::getppid().as_raw();
        fs::write(&lock_file, format!("{parent:>11}\n")).unwrap();
        assert!(matches!(
            Serial::open(&pair.path, 19200, Some(&dir)),
            Err(MediaErrorKind::Locked { .. })
        ));
        drop(first);
        assert!(!lock_file.exists());
        fs::remove_dir_all(&dir).unwrap();
    }
}
