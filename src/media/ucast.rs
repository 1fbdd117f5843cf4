//! `ucast DEV PEER`: UDP unicast to one peer (spec §7).
//!
//! send: IP_TOS=IPTOS_LOWDELAY, SO_BINDTODEVICE DEV, SO_REUSEPORT, to
//! PEER:port (PEER resolved once, at open). recv: 0.0.0.0:port,
//! SO_REUSEADDR, SO_BINDTODEVICE DEV, SO_REUSEPORT — unless another medium
//! already receives on (DEV, port), see `media::open_all`.

use std::net::{Ipv4Addr, SocketAddr, SocketAddrV4, ToSocketAddrs};

use nix::sys::socket::{setsockopt, sockopt};

use super::udp::{self, UdpSend};
use super::udp_link::UdpLink;
use super::{io_err, netif, MediaErrorKind, MediumKind};

const IPTOS_LOWDELAY: i32 = 0x10;

/// Opens `ucast` links (a [`UdpLink`]).
pub struct Ucast;

/// First IPv4 address of `peer` (a literal or a host name).
pub fn resolve_peer(peer: &str, port: u16) -> Result<Ipv4Addr, MediaErrorKind> {
    let resolve_err = |reason: String| MediaErrorKind::Resolve {
        peer: peer.to_string(),
        reason,
    };
    let addrs = (peer, port)
        .to_socket_addrs()
        .map_err(|e| resolve_err(e.to_string()))?;
    addrs
        .filter_map(|a| match a {
            SocketAddr::V4(v4) => Some(*v4.ip()),
            SocketAddr::V6(_) => None,
        })
        .next()
        .ok_or_else(|| resolve_err("no IPv4 address".to_string()))
}

impl Ucast {
    pub fn open(
        iface: &str,
        peer: &str,
        port: u16,
        receive: bool,
    ) -> Result<UdpLink, MediaErrorKind> {
        netif::lookup(iface)?;
        let peer_ip = resolve_peer(peer, port)?;
        let mut log = Vec::new();

        let fd = udp::new_socket()?;
        setsockopt(&fd, sockopt::IpTos, &IPTOS_LOWDELAY)
            .map_err(|e| io_err("setting IP_TOS", e))?;
        log.push(format!(
            "glib: ucast: write socket priority set to IPTOS_LOWDELAY on {iface}"
        ));
        udp::bind_to_device(&fd, iface)?;
        log.push(format!("glib: ucast: bound send socket to device: {iface}"));
        udp::set_flag(&fd, sockopt::ReusePort, "SO_REUSEPORT")?;
        log.push("glib: ucast: set SO_REUSEPORT(w)".to_string());
        let send = UdpSend::new(fd, SocketAddrV4::new(peer_ip, port));

        let recv = if receive {
            let r = udp::any_port_on_device(iface, port, true)?;
            log.push("glib: ucast: set SO_REUSEADDR".to_string());
            log.push(format!(
                "glib: ucast: bound receive socket to device: {iface}"
            ));
            log.push("glib: ucast: set SO_REUSEPORT".to_string());
            Some(r)
        } else {
            None
        };
        log.push(format!(
            "glib: ucast: started on port {port} interface {iface} to {peer_ip}"
        ));
        Ok(UdpLink::new(MediumKind::Ucast, iface, send, recv, log))
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;
    use crate::config::model::{Medium as MediumConfig, MediumLine, Origin};
    use crate::media::udp::testutil::{free_port, recv_for, recv_until};
    use crate::media::Medium;
    use crate::media::{open_all, OpenOptions};
    use std::time::Instant;

    #[test]
    fn sends_to_itself_over_lo() {
        let port = free_port();
        let mut m = Ucast::open("lo", "127.0.0.1", port, true).unwrap();
        assert_eq!(m.peer(), SocketAddr::from(([127, 0, 0, 1], port)));
        assert_eq!(
            m.opened_log().last().unwrap(),
            &format!("glib: ucast: started on port {port} interface lo to 127.0.0.1")
        );
        assert_eq!(m.opened_log().len(), 7);
        m.send(b"###\nu%%%\n", Instant::now()).unwrap();
        assert_eq!(recv_until(&mut m, 1), vec![b"###\nu%%%\n".to_vec()]);
    }

    #[test]
    fn host_names_are_resolved_once() {
        assert_eq!(resolve_peer("localhost", 694).unwrap(), Ipv4Addr::LOCALHOST);
        assert!(matches!(
            resolve_peer("no-such-host.invalid", 694),
            Err(MediaErrorKind::Resolve { .. })
        ));
    }

    fn ucast_line(peer: &str, port: u16) -> MediumLine {
        MediumLine {
            medium: MediumConfig::Ucast {
                iface: "lo".into(),
                peer: peer.into(),
                port,
            },
            origin: Origin::default(),
        }
    }

    /// Two ucast lines on one interface and port: with one SO_REUSEPORT
    /// socket each, the kernel would split the datagrams between them. With
    /// `open_all` the first medium receives everything, exactly once.
    #[test]
    fn two_peers_on_one_interface_receive_every_packet_once() {
        let port = free_port();
        let lines = [ucast_line("127.0.0.1", port), ucast_line("127.0.0.2", port)];
        let mut media = open_all(&lines, &OpenOptions::default()).unwrap();
        let sent: Vec<Vec<u8>> = (0..40).map(|i| format!("pkt{i}").into_bytes()).collect();
        for (i, p) in sent.iter().enumerate() {
            media[i % 2].send(p, Instant::now()).unwrap();
        }
        let mut got = recv_until(media[0].as_mut(), sent.len());
        got.extend(recv_for(media[0].as_mut(), Duration::from_millis(50)));
        got.sort();
        let mut want = sent.clone();
        want.sort();
        assert_eq!(got, want);
        assert!(recv_for(media[1].as_mut(), Duration::from_millis(20)).is_empty());
        // The send-only medium does not claim to have a receive socket.
        assert_eq!(media[1].opened_log().len(), 4);
    }
}
