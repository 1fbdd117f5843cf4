//! `bcast IF`: UDP broadcast on IF's broadcast address (spec §7).
//!
//! send: unbound socket (ephemeral source port), SO_BROADCAST, SO_DONTROUTE,
//! SO_BINDTODEVICE IF, to IF's broadcast address:port.
//! recv: 0.0.0.0:port, SO_REUSEADDR, SO_BINDTODEVICE IF. The sender hears
//! its own broadcasts (its own link shows up).

use std::io;
use std::net::{Ipv4Addr, SocketAddrV4};
use std::time::Instant;

use mio::{Registry, Token};
use nix::sys::socket::sockopt;

use super::udp::{self, UdpRecv, UdpSend};
use super::{netif, Drained, MediaErrorKind, Medium, MediumKind, WireFormat};

pub struct Bcast {
    iface: String,
    send: UdpSend,
    recv: Option<UdpRecv>,
    log: Vec<String>,
}

impl Bcast {
    /// `receive == false`: another medium already listens on (IF, port).
    pub fn open(iface: &str, port: u16, receive: bool) -> Result<Bcast, MediaErrorKind> {
        let bcast = netif::lookup(iface)?
            .broadcast
            .ok_or_else(|| MediaErrorKind::NoBroadcastAddress(iface.to_string()))?;
        Bcast::open_to(iface, bcast, port, receive)
    }

    /// As `open` with an explicit broadcast address (tests use lo's
    /// 127.255.255.255, which getifaddrs does not report).
    pub fn open_to(
        iface: &str,
        broadcast: Ipv4Addr,
        port: u16,
        receive: bool,
    ) -> Result<Bcast, MediaErrorKind> {
        let fd = udp::new_socket()?;
        udp::set_flag(&fd, sockopt::Broadcast, "SO_BROADCAST")?;
        udp::set_flag(&fd, sockopt::DontRoute, "SO_DONTROUTE")?;
        udp::bind_to_device(&fd, iface)?;
        let send = UdpSend::new(fd, SocketAddrV4::new(broadcast, port));
        let recv = if receive {
            Some(udp::any_port_on_device(iface, port, false)?)
        } else {
            None
        };
        let log = vec![format!(
            "glib: UDP Broadcast heartbeat started on port {port} ({port}) interface {iface}"
        )];
        Ok(Bcast {
            iface: iface.to_string(),
            send,
            recv,
            log,
        })
    }
}

impl Medium for Bcast {
    fn kind(&self) -> MediumKind {
        MediumKind::Bcast
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::media::udp::testutil::{free_port, recv_until};

    const LO_BROADCAST: Ipv4Addr = Ipv4Addr::new(127, 255, 255, 255);

    #[test]
    fn hears_its_own_broadcast_on_lo() {
        let port = free_port();
        let mut m = Bcast::open_to("lo", LO_BROADCAST, port, true).unwrap();
        assert_eq!(m.name(), "lo");
        assert_eq!(
            m.opened_log(),
            [format!(
                "glib: UDP Broadcast heartbeat started on port {port} ({port}) interface lo"
            )]
        );
        m.send(b"###\nhello%%%\n", Instant::now()).unwrap();
        m.send(b"second", Instant::now()).unwrap();
        let got = recv_until(&mut m, 2);
        assert_eq!(got, vec![b"###\nhello%%%\n".to_vec(), b"second".to_vec()]);
    }

    #[test]
    fn lo_has_no_broadcast_address() {
        match Bcast::open("lo", free_port(), true) {
            Err(MediaErrorKind::NoBroadcastAddress(i)) => assert_eq!(i, "lo"),
            Err(e) => panic!("unexpected error {e}"),
            Ok(_) => panic!("lo has no broadcast address"),
        }
    }

    #[test]
    fn send_only_instance_reads_nothing() {
        let port = free_port();
        let mut listener = Bcast::open_to("lo", LO_BROADCAST, port, true).unwrap();
        let mut sender = Bcast::open_to("lo", LO_BROADCAST, port, false).unwrap();
        sender.send(b"x", Instant::now()).unwrap();
        assert_eq!(recv_until(&mut listener, 1), vec![b"x".to_vec()]);
        let mut none = Vec::new();
        assert_eq!(sender.recv(&mut none).unwrap(), Drained::Empty);
        assert!(none.is_empty());
    }
}
