//! `bcast IF`: UDP broadcast on IF's broadcast address (spec §7).
//!
//! send: unbound socket (ephemeral source port), SO_BROADCAST, SO_DONTROUTE,
//! SO_BINDTODEVICE IF, to IF's broadcast address:port.
//! recv: 0.0.0.0:port, SO_REUSEADDR, SO_BINDTODEVICE IF. The sender hears
//! its own broadcasts (its own link shows up).

use std::net::{Ipv4Addr, SocketAddrV4};

use nix::sys::socket::sockopt;

use super::udp::{self, UdpSend};
use super::udp_link::UdpLink;
use super::{netif, MediaErrorKind, MediumKind};

/// Opens `bcast` links (a [`UdpLink`]).
pub struct Bcast;

impl Bcast {
    /// `receive == false`: another medium already listens on (IF, port).
    pub fn open(iface: &str, port: u16, receive: bool) -> Result<UdpLink, MediaErrorKind> {
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
    ) -> Result<UdpLink, MediaErrorKind> {
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
        Ok(UdpLink::new(MediumKind::Bcast, iface, send, recv, log))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::media::udp::testutil::{free_port, recv_until};
    use crate::media::{Drained, Medium};
    use std::time::Instant;

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
