//! `mcast DEV GROUP PORT TTL LOOP`: UDP multicast (spec §7).
//!
//! send: IP_MULTICAST_IF = DEV's IPv4 address, IP_MULTICAST_LOOP,
//! IP_MULTICAST_TTL, to GROUP:PORT. recv: bound to GROUP:PORT, SO_REUSEADDR,
//! IP_ADD_MEMBERSHIP on DEV's address, no SO_BINDTODEVICE. We also set
//! IP_MULTICAST_ALL=0 so the socket only gets the group on its own DEV
//! (with several mcast lines, packets are not attributed to the wrong link).

use std::net::{Ipv4Addr, SocketAddrV4};

use nix::sys::socket::{setsockopt, sockopt, IpMembershipRequest};

use super::udp::{self, UdpRecv, UdpSend};
use super::udp_link::UdpLink;
use super::{io_err, netif, MediaErrorKind, MediumKind};

/// Opens `mcast` links (a [`UdpLink`]).
pub struct Mcast;

impl Mcast {
    pub fn open(
        iface: &str,
        group: Ipv4Addr,
        port: u16,
        ttl: u8,
        loopback: bool,
    ) -> Result<UdpLink, MediaErrorKind> {
        let local = netif::require_ipv4(iface)?;

        let fd = udp::new_socket()?;
        udp::set_raw(
            &fd,
            libc::IPPROTO_IP,
            libc::IP_MULTICAST_IF,
            &udp::in_addr(local),
            "IP_MULTICAST_IF",
        )?;
        setsockopt(&fd, sockopt::IpMulticastLoop, &loopback)
            .map_err(|e| io_err("setting IP_MULTICAST_LOOP", e))?;
        setsockopt(&fd, sockopt::IpMulticastTtl, &ttl)
            .map_err(|e| io_err("setting IP_MULTICAST_TTL", e))?;
        let send = UdpSend::new(fd, SocketAddrV4::new(group, port));

        let fd = udp::new_socket()?;
        udp::set_flag(&fd, sockopt::ReuseAddr, "SO_REUSEADDR")?;
        udp::bind_v4(&fd, SocketAddrV4::new(group, port))?;
        setsockopt(
            &fd,
            sockopt::IpAddMembership,
            &IpMembershipRequest::new(group, Some(local)),
        )
        .map_err(|e| {
            io_err(
                format!("joining multicast group {group} on interface {iface}"),
                e,
            )
        })?;
        let all: libc::c_int = 0;
        udp::set_raw(
            &fd,
            libc::IPPROTO_IP,
            libc::IP_MULTICAST_ALL,
            &all,
            "IP_MULTICAST_ALL",
        )?;
        let recv = UdpRecv::new(fd);

        let log = vec![format!(
            "glib: UDP multicast heartbeat started for group {group} port {port} interface {iface} (ttl={ttl} loop={})",
            u8::from(loopback)
        )];
        Ok(UdpLink::new(
            MediumKind::Mcast,
            iface,
            send,
            Some(recv),
            log,
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::media::udp::testutil::{free_port, recv_until};
    use crate::media::Medium;
    use std::time::Instant;

    #[test]
    fn loops_back_its_own_group_traffic_on_lo() {
        let port = free_port();
        let group = Ipv4Addr::new(239, 198, 77, (port % 250) as u8 + 1);
        let mut m = Mcast::open("lo", group, port, 1, true).unwrap();
        assert_eq!(
            m.opened_log(),
            [format!(
                "glib: UDP multicast heartbeat started for group {group} port {port} interface lo (ttl=1 loop=1)"
            )]
        );
        m.send(b"###\nmc%%%\n", Instant::now()).unwrap();
        assert_eq!(recv_until(&mut m, 1), vec![b"###\nmc%%%\n".to_vec()]);
    }

    #[test]
    fn interface_without_ipv4_is_refused() {
        match Mcast::open("nosuchif0", Ipv4Addr::new(239, 1, 1, 1), 694, 1, false) {
            Err(MediaErrorKind::NoSuchInterface(_)) => {}
            Err(e) => panic!("unexpected error {e}"),
            Ok(_) => panic!("opened a missing interface"),
        }
    }
}
