//! The one `Medium` implementation the UDP media share: a send socket, an
//! optional receive socket, and the lines logged at opening. `bcast`,
//! `mcast` and `ucast` differ only in how they set their sockets up.

use std::io;
use std::net::SocketAddr;
use std::time::Instant;

use mio::{Registry, Token};

use super::udp::{UdpRecv, UdpSend};
use super::{Drained, Medium, MediumKind, WireFormat};

pub struct UdpLink {
    kind: MediumKind,
    iface: String,
    send: UdpSend,
    /// `None`: another medium already receives on this (interface, port).
    recv: Option<UdpRecv>,
    log: Vec<String>,
}

impl UdpLink {
    pub(super) fn new(
        kind: MediumKind,
        iface: &str,
        send: UdpSend,
        recv: Option<UdpRecv>,
        log: Vec<String>,
    ) -> UdpLink {
        UdpLink {
            kind,
            iface: iface.to_string(),
            send,
            recv,
            log,
        }
    }

    /// Where packets are sent (broadcast address, group or peer).
    pub fn peer(&self) -> SocketAddr {
        self.send.dest()
    }
}

impl Medium for UdpLink {
    fn kind(&self) -> MediumKind {
        self.kind
    }
    fn name(&self) -> &str {
        &self.iface
    }
    fn wire_format(&self) -> WireFormat {
        WireFormat::Netstring
    }
    fn opened_log(&self) -> &[String] {
        &self.log
    }
    fn register(&mut self, registry: &Registry, token: Token) -> io::Result<()> {
        match &mut self.recv {
            Some(r) => r.register(registry, token),
            None => Ok(()),
        }
    }
    fn deregister(&mut self, registry: &Registry) -> io::Result<()> {
        match &mut self.recv {
            Some(r) => r.deregister(registry),
            None => Ok(()),
        }
    }
    fn send(&mut self, packet: &[u8], _now: Instant) -> io::Result<()> {
        self.send.send(packet)
    }
    fn recv(&mut self, out: &mut Vec<Vec<u8>>) -> io::Result<Drained> {
        match &mut self.recv {
            Some(r) => r.drain(out),
            None => Ok(Drained::Empty),
        }
    }
}
