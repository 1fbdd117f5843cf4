//! UDP socket plumbing shared by bcast, mcast and ucast: creating sockets
//! with options set before bind, draining datagrams, sending one datagram.

use std::ffi::OsString;
use std::io;
use std::net::{Ipv4Addr, SocketAddr, SocketAddrV4};
use std::os::fd::{AsRawFd, OwnedFd};

use mio::{Interest, Registry, Token};
use nix::sys::socket::{
    bind, setsockopt, socket, sockopt, AddressFamily, SockFlag, SockType, SockaddrIn,
};

use super::{io_err, Drained, MediaErrorKind, RECV_BATCH};

/// The largest UDP payload IPv4 can carry; MAXMSG (256 KiB) never fits a
/// datagram, so this is the real bound on what one read can return.
pub const MAX_DATAGRAM: usize = 65_536;

/// A fresh nonblocking, close-on-exec IPv4 UDP socket.
pub fn new_socket() -> Result<OwnedFd, MediaErrorKind> {
    socket(
        AddressFamily::Inet,
        SockType::Datagram,
        SockFlag::SOCK_NONBLOCK | SockFlag::SOCK_CLOEXEC,
        None,
    )
    .map_err(|e| io_err("creating UDP socket", e))
}

pub fn bind_to_device(fd: &OwnedFd, iface: &str) -> Result<(), MediaErrorKind> {
    setsockopt(fd, sockopt::BindToDevice, &OsString::from(iface))
        .map_err(|e| io_err(format!("setting SO_BINDTODEVICE({iface})"), e))
}

pub fn set_flag<O>(fd: &OwnedFd, opt: O, name: &str) -> Result<(), MediaErrorKind>
where
    O: nix::sys::socket::SetSockOpt<Val = bool>,
{
    setsockopt(fd, opt, &true).map_err(|e| io_err(format!("setting {name}"), e))
}

/// setsockopt for options nix does not wrap (IP_MULTICAST_IF, IP_MULTICAST_ALL).
pub fn set_raw<T>(
    fd: &OwnedFd,
    level: i32,
    name: i32,
    value: &T,
    what: &str,
) -> Result<(), MediaErrorKind> {
    let len = std::mem::size_of::<T>() as libc::socklen_t;
    // SAFETY: `value` points to a live, properly sized T for the whole call.
    let rc = unsafe {
        libc::setsockopt(
            fd.as_raw_fd(),
            level,
            name,
            (value as *const T).cast::<libc::c_void>(),
            len,
        )
    };
    if rc < 0 {
        return Err(io_err(
            format!("setting {what}"),
            io::Error::last_os_error(),
        ));
    }
    Ok(())
}

pub fn in_addr(ip: Ipv4Addr) -> libc::in_addr {
    libc::in_addr {
        s_addr: u32::from(ip).to_be(),
    }
}

pub fn bind_v4(fd: &OwnedFd, addr: SocketAddrV4) -> Result<(), MediaErrorKind> {
    bind(fd.as_raw_fd(), &SockaddrIn::from(addr))
        .map_err(|e| io_err(format!("binding UDP socket to {addr}"), e))
}

pub fn into_mio(fd: OwnedFd) -> mio::net::UdpSocket {
    mio::net::UdpSocket::from_std(std::net::UdpSocket::from(fd))
}

/// The sending half: one socket, one destination.
pub struct UdpSend {
    sock: mio::net::UdpSocket,
    dest: SocketAddr,
}

impl UdpSend {
    pub fn new(fd: OwnedFd, dest: SocketAddrV4) -> UdpSend {
        UdpSend {
            sock: into_mio(fd),
            dest: SocketAddr::V4(dest),
        }
    }

    pub fn dest(&self) -> SocketAddr {
        self.dest
    }

    /// One message = one datagram; a short send is an error.
    pub fn send(&self, packet: &[u8]) -> io::Result<()> {
        let n = self.sock.send_to(packet, self.dest)?;
        if n != packet.len() {
            return Err(io::Error::new(
                io::ErrorKind::WriteZero,
                format!("short UDP send: {n} of {} bytes", packet.len()),
            ));
        }
        Ok(())
    }
}

/// The receiving half with its read buffer.
pub struct UdpRecv {
    sock: mio::net::UdpSocket,
    buf: Box<[u8]>,
}

impl UdpRecv {
    pub fn new(fd: OwnedFd) -> UdpRecv {
        UdpRecv {
            sock: into_mio(fd),
            buf: vec![0u8; MAX_DATAGRAM].into_boxed_slice(),
        }
    }

    pub fn register(&mut self, registry: &Registry, token: Token) -> io::Result<()> {
        registry.register(&mut self.sock, token, Interest::READABLE)
    }

    pub fn deregister(&mut self, registry: &Registry) -> io::Result<()> {
        registry.deregister(&mut self.sock)
    }

    /// Read datagrams until the socket is empty or the batch is full.
    /// Empty datagrams are ignored (Heartbeat: "received zero bytes").
    pub fn drain(&mut self, out: &mut Vec<Vec<u8>>) -> io::Result<Drained> {
        for _ in 0..RECV_BATCH {
            match self.sock.recv_from(&mut self.buf) {
                Ok((0, _)) => {}
                Ok((n, _)) => out.push(self.buf.get(..n).unwrap_or_default().to_vec()),
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => return Ok(Drained::Empty),
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
        Ok(Drained::More)
    }
}

/// Receive socket on 0.0.0.0:port bound to `iface` (bcast, ucast).
pub fn any_port_on_device(
    iface: &str,
    port: u16,
    reuse_port: bool,
) -> Result<UdpRecv, MediaErrorKind> {
    let fd = new_socket()?;
    set_flag(&fd, sockopt::ReuseAddr, "SO_REUSEADDR")?;
    bind_to_device(&fd, iface)?;
    if reuse_port {
        set_flag(&fd, sockopt::ReusePort, "SO_REUSEPORT")?;
    }
    bind_v4(&fd, SocketAddrV4::new(Ipv4Addr::UNSPECIFIED, port))?;
    Ok(UdpRecv::new(fd))
}

#[cfg(test)]
pub mod testutil {
    use std::time::{Duration, Instant};

    use super::super::{Drained, Medium};

    /// A UDP port that was free a moment ago (ephemeral range, so no
    /// fixed port can collide with other tests running on this machine).
    pub fn free_port() -> u16 {
        std::net::UdpSocket::bind("0.0.0.0:0")
            .and_then(|s| s.local_addr())
            .map(|a| a.port())
            .expect("no free UDP port")
    }

    /// Poll `recv` until `want` packets arrived or 5 s passed.
    pub fn recv_until(m: &mut dyn Medium, want: usize) -> Vec<Vec<u8>> {
        let mut got = Vec::new();
        let deadline = Instant::now() + Duration::from_secs(5);
        while got.len() < want && Instant::now() < deadline {
            match m.recv(&mut got) {
                Ok(Drained::More) => {}
                Ok(Drained::Empty) => std::thread::sleep(Duration::from_millis(2)),
                Err(e) => panic!("recv failed: {e}"),
            }
        }
        got
    }

    /// Everything that arrives within `window` (for "nothing more" checks).
    pub fn recv_for(m: &mut dyn Medium, window: Duration) -> Vec<Vec<u8>> {
        let mut got = Vec::new();
        let deadline = Instant::now() + window;
        while Instant::now() < deadline {
            if let Err(e) = m.recv(&mut got) {
                panic!("recv failed: {e}");
            }
            std::thread::sleep(Duration::from_millis(2));
        }
        got
    }
}
