//! The `ping` / `ping_group` medium (spec ping §1.5): one raw ICMP socket
//! for every ping node. Each outgoing `status` makes one echo request per
//! host whose payload is a signed `NS_st` message "from" the ping node;
//! the target's kernel echoes it back unchanged and the reply is handed to
//! the core as that node's heartbeat.
//!
//! Sends never block (`MSG_DONTWAIT`, a full buffer just loses the echo)
//! and host names are resolved once at start-up, so an unreachable ping
//! host can never delay our heartbeats.

use std::io;
use std::net::{Ipv4Addr, SocketAddrV4};
use std::os::fd::{AsRawFd, OwnedFd};

use mio::unix::SourceFd;
use mio::{Interest, Registry, Token};
use nix::sys::socket::{
    recvfrom, sendto, socket, AddressFamily, MsgFlags, SockFlag, SockProtocol, SockType, SockaddrIn,
};

use super::ucast::resolve_peer;
use super::RECV_BATCH;
use crate::config::model::HaCf;
use crate::core::pingnodes::{echo_payload, INFO_PING, INFO_PING_GROUP};
use crate::core::PingNodeParams;
use crate::wire::{self, Keyring, Message};

const ICMP_ECHO: u8 = 8;
const ICMP_ECHOREPLY: u8 = 0;
const ICMP_HDR: usize = 8;
/// Largest IP datagram we read (header + ICMP + payload).
const MAX_PACKET: usize = 65_535;

/// The ping nodes of ha.cf in node-table order: `ping HOST` (named like the
/// host, lower case) and `ping_group NAME HOST…`.
pub fn ping_node_params(cf: &HaCf) -> Vec<PingNodeParams> {
    let position = |name: &str| {
        cf.node_order
            .iter()
            .filter(|n| {
                cf.nodes.contains(n)
                    || cf.ping_hosts.iter().any(|h| h.eq_ignore_ascii_case(n))
                    || cf.ping_groups.iter().any(|(g, _)| g == *n)
            })
            .position(|n| n == name)
            .unwrap_or(usize::MAX)
    };
    let mut out: Vec<PingNodeParams> = cf
        .ping_hosts
        .iter()
        .map(|h| {
            let name = h.to_ascii_lowercase();
            PingNodeParams {
                position: position(&name),
                name,
                hosts: vec![h.clone()],
                group: false,
            }
        })
        .chain(cf.ping_groups.iter().map(|(g, hosts)| PingNodeParams {
            position: position(g),
            name: g.clone(),
            hosts: hosts.clone(),
            group: true,
        }))
        .collect();
    out.sort_by_key(|p| p.position);
    out
}

/// The ICMP echo request Heartbeat sends: type 8, code 0, checksum, `id`
/// in host byte order (as the C code stores it), `seq` big-endian, then
/// the payload.
pub fn echo_request(ident: u16, seq: u16, payload: &[u8]) -> Vec<u8> {
    let mut pkt = Vec::with_capacity(ICMP_HDR + payload.len());
    pkt.extend_from_slice(&[ICMP_ECHO, 0, 0, 0]);
    pkt.extend_from_slice(&ident.to_ne_bytes());
    pkt.extend_from_slice(&seq.to_be_bytes());
    pkt.extend_from_slice(payload);
    let sum = checksum(&pkt);
    pkt[2..4].copy_from_slice(&sum.to_be_bytes());
    pkt
}

/// The Internet checksum (RFC 1071).
pub fn checksum(data: &[u8]) -> u16 {
    let mut sum: u32 = 0;
    for chunk in data.chunks(2) {
        let word = match chunk {
            [a, b] => u16::from_be_bytes([*a, *b]),
            [a] => u16::from_be_bytes([*a, 0]),
            _ => 0,
        };
        sum += u32::from(word);
    }
    while sum > 0xffff {
        sum = (sum & 0xffff) + (sum >> 16);
    }
    !(sum as u16)
}

/// The signed payload for `node` and the `ts` of the status being sent:
/// netstring form with the classic inner `auth` and the trailer.
pub fn signed_payload(node: &PingNodeParams, ts: &str, keys: &Keyring) -> Vec<u8> {
    let mut msg = echo_payload(node, ts);
    wire::add_inner_auth(&mut msg, keys);
    wire::encode_netstring(&msg, keys)
}

/// An IPv4 datagram as a raw ICMP socket returns it: the echo reply's
/// payload if it is a reply with our `ident`, `None` for anything else.
pub fn parse_reply(datagram: &[u8], ident: u16) -> Option<&[u8]> {
    let ihl = usize::from(*datagram.first()? & 0x0f) * 4;
    let icmp = datagram.get(ihl..)?;
    if icmp.len() < ICMP_HDR || icmp[0] != ICMP_ECHOREPLY {
        return None;
    }
    (icmp[4..6] == ident.to_ne_bytes()).then(|| &icmp[ICMP_HDR..])
}

/// What one reply turned out to be.
#[derive(Debug, PartialEq)]
pub enum Reply {
    /// An authenticated payload of one of our ping nodes, from one of its
    /// hosts: feed it to the core.
    Accepted(Message),
    /// Not an echo reply of ours (other ICMP traffic): ignore silently.
    NotOurs,
    /// Ours but unusable (bad signature, wrong sender...): count it.
    Rejected(&'static str),
}

struct Target {
    node: PingNodeParams,
    addrs: Vec<Ipv4Addr>,
    seq: u16,
}

/// The open ping medium.
pub struct PingMedium {
    fd: OwnedFd,
    ident: u16,
    targets: Vec<Target>,
    buf: Vec<u8>,
}

/// A ping host that cannot be resolved (start-up only).
#[derive(Debug)]
pub struct PingError(pub String);

impl std::fmt::Display for PingError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// Resolve every host of `nodes` (literal IPv4 or a name, once).
pub fn resolve(nodes: &[PingNodeParams]) -> Result<Vec<Vec<Ipv4Addr>>, PingError> {
    nodes
        .iter()
        .map(|n| {
            n.hosts
                .iter()
                .map(|h| {
                    resolve_peer(h, 0)
                        .map_err(|e| PingError(format!("ping host {h}: unknown host: {e}")))
                })
                .collect()
        })
        .collect()
}

impl PingMedium {
    /// Resolve the hosts and open the raw socket (needs CAP_NET_RAW).
    pub fn open(nodes: &[PingNodeParams], ident: u16) -> Result<PingMedium, PingError> {
        let addrs = resolve(nodes)?;
        let fd = socket(
            AddressFamily::Inet,
            SockType::Raw,
            SockFlag::SOCK_NONBLOCK | SockFlag::SOCK_CLOEXEC,
            SockProtocol::Icmp,
        )
        .map_err(|e| PingError(format!("cannot open raw ICMP socket for ping nodes: {e}")))?;
        Ok(PingMedium {
            fd,
            ident,
            targets: nodes
                .iter()
                .cloned()
                .zip(addrs)
                .map(|(node, addrs)| Target {
                    node,
                    addrs,
                    seq: 0,
                })
                .collect(),
            buf: vec![0; MAX_PACKET],
        })
    }

    /// Lines Heartbeat logs (at info) when its ping media open.
    pub fn opened_log(&self) -> Vec<String> {
        self.targets
            .iter()
            .map(|t| {
                if t.node.group {
                    "glib: ping group heartbeat started.".to_string()
                } else {
                    "glib: ping heartbeat started.".to_string()
                }
            })
            .collect()
    }

    pub fn register(&mut self, registry: &Registry, token: Token) -> io::Result<()> {
        registry.register(
            &mut SourceFd(&self.fd.as_raw_fd()),
            token,
            Interest::READABLE,
        )
    }

    /// Echo requests for one outgoing status (`ts` as sent). Returns each
    /// failed send as (ping node name, error).
    pub fn send_status(&mut self, ts: &str, keys: &Keyring) -> Vec<(String, io::Error)> {
        let mut errors = Vec::new();
        for t in self.targets.iter_mut() {
            let payload = signed_payload(&t.node, ts, keys);
            let pkt = echo_request(self.ident, t.seq, &payload);
            // Heartbeat counts every attempt.
            t.seq = t.seq.wrapping_add(1);
            for addr in &t.addrs {
                let to = SockaddrIn::from(SocketAddrV4::new(*addr, 0));
                if let Err(e) = sendto(self.fd.as_raw_fd(), &pkt, &to, MsgFlags::MSG_DONTWAIT) {
                    errors.push((t.node.name.clone(), io::Error::from(e)));
                }
            }
        }
        errors
    }

    /// Read every pending datagram (at most [`RECV_BATCH`]); `true` when
    /// more may be waiting.
    pub fn recv(&mut self, keys: &Keyring, out: &mut Vec<Reply>) -> io::Result<bool> {
        for _ in 0..RECV_BATCH {
            match recvfrom::<SockaddrIn>(self.fd.as_raw_fd(), &mut self.buf) {
                Ok((n, from)) => {
                    let from = from.map(|a| a.ip());
                    let reply = self.classify(&self.buf[..n], from, keys);
                    if reply != Reply::NotOurs {
                        out.push(reply);
                    }
                }
                Err(nix::errno::Errno::EAGAIN) => return Ok(false),
                Err(nix::errno::Errno::EINTR) => continue,
                Err(e) => return Err(e.into()),
            }
        }
        Ok(true)
    }

    fn classify(&self, datagram: &[u8], from: Option<Ipv4Addr>, keys: &Keyring) -> Reply {
        let Some(payload) = parse_reply(datagram, self.ident) else {
            return Reply::NotOurs;
        };
        let Ok(packet) = wire::decode(payload, keys) else {
            return Reply::Rejected("payload does not authenticate");
        };
        let msg = packet.msg;
        let src = msg.get_str("src").unwrap_or("");
        let Some(t) = self
            .targets
            .iter()
            .find(|t| t.node.name.eq_ignore_ascii_case(src))
        else {
            return Reply::Rejected("payload names no ping node of ours");
        };
        let info = msg.get_str("info");
        let expected = if t.node.group {
            INFO_PING_GROUP
        } else {
            INFO_PING
        };
        if info != Some(expected) {
            return Reply::Rejected("payload has the wrong info field");
        }
        // Heartbeat's ping_group checks the sender; we check it for both.
        if !from.is_some_and(|a| t.addrs.contains(&a)) {
            return Reply::Rejected("reply from an address that is not the ping node's");
        }
        Reply::Accepted(msg)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wire::AuthMethod;

    /// The first records of `tests/data/pcap/ping-echo-1b.pcap` (Ethernet).
    fn capture() -> Vec<Vec<u8>> {
        let d: &[u8] = include_bytes!("../../tests/data/pcap/ping-echo-1b.pcap");
        let mut out = Vec::new();
        let mut off = 24;
        while off + 16 <= d.len() {
            let len = u32::from_le_bytes(d[off + 8..off + 12].try_into().unwrap()) as usize;
            out.push(d[off + 16..off + 16 + len].to_vec());
            off += 16 + len;
        }
        out
    }

    fn keys() -> Keyring {
        Keyring::single(1, AuthMethod::Sha1, b"lab-secret-1")
    }

    fn node() -> PingNodeParams {
        PingNodeParams {
            name: "198.18.0.3".into(),
            hosts: vec!["198.18.0.3".into()],
            group: false,
            position: 2,
        }
    }

    #[test]
    fn echo_request_is_byte_exact_with_the_capture() {
        let frames = capture();
        assert_eq!(frames.len(), 4);
        // Frame 0: alpha -> 198.18.0.3, id 0x7b5c (pid 31580), seq 0.
        let ip = &frames[0][14..];
        let icmp = &ip[usize::from(ip[0] & 0x0f) * 4..];
        let payload = &icmp[8..];
        let msg = wire::decode(payload, &keys())
            .expect("captured payload authenticates")
            .msg;
        let ts = msg.get_str("ts").expect("ts");
        let ours = echo_request(31580, 0, &signed_payload(&node(), ts, &keys()));
        assert_eq!(ours, icmp);
        // Frame 2 is the next attempt: seq 1.
        let ip2 = &frames[2][14..];
        let icmp2 = &ip2[usize::from(ip2[0] & 0x0f) * 4..];
        let ts2 = wire::decode(&icmp2[8..], &keys()).expect("auth").msg;
        let ts2 = ts2.get_str("ts").expect("ts");
        assert_eq!(
            echo_request(31580, 1, &signed_payload(&node(), ts2, &keys())),
            icmp2
        );
    }

    #[test]
    fn captured_reply_is_accepted_and_others_are_not() {
        let frames = capture();
        let reply_ip = &frames[1][14..];
        let payload = parse_reply(reply_ip, 31580).expect("our reply");
        let msg = wire::decode(payload, &keys()).expect("authenticates").msg;
        let fields: Vec<(&str, &str)> = ["t", "st", "info", "src"]
            .iter()
            .map(|f| (*f, msg.get_str(f).unwrap_or("-")))
            .collect();
        assert_eq!(
            fields,
            [
                ("t", "NS_st"),
                ("st", "ping"),
                ("info", "ping"),
                ("src", "198.18.0.3")
            ]
        );
        // Another process's id, or the request itself, is not ours.
        assert!(parse_reply(reply_ip, 1234).is_none());
        assert!(parse_reply(&frames[0][14..], 31580).is_none());
        // A different key does not authenticate it.
        let other = Keyring::single(1, AuthMethod::Sha1, b"other");
        assert!(wire::decode(payload, &other).is_err());
        assert!(parse_reply(&[], 1).is_none());
        assert!(parse_reply(&[0x4f], 1).is_none());
    }

    proptest::proptest! {
        #[test]
        fn any_datagram_is_parsed_without_panic(
            data in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..300),
            ident in proptest::prelude::any::<u16>(),
        ) {
            if let Some(payload) = parse_reply(&data, ident) {
                proptest::prop_assert!(payload.len() + ICMP_HDR <= data.len());
            }
        }
    }

    #[test]
    fn checksum_of_a_checksummed_packet_is_zero() {
        let pkt = echo_request(7, 9, b"odd");
        assert_eq!(checksum(&pkt), 0);
    }

    #[test]
    fn node_params_follow_the_node_table_order() {
        let cf = HaCf {
            nodes: vec!["alpha".into(), "bravo".into()],
            ping_hosts: vec!["GW".into()],
            ping_groups: vec![("routers".into(), vec!["10.0.0.1".into(), "10.0.0.2".into()])],
            node_order: ["gw", "alpha", "ping6host", "bravo", "routers"]
                .map(String::from)
                .to_vec(),
            ..HaCf::default()
        };
        let p = ping_node_params(&cf);
        assert_eq!(p.len(), 2);
        assert_eq!((p[0].name.as_str(), p[0].position), ("gw", 0));
        assert_eq!(p[0].hosts, ["GW"]);
        assert_eq!(
            (p[1].name.as_str(), p[1].position, p[1].group),
            ("routers", 3, true)
        );
        assert_eq!(p[1].info(), "ping_group");
    }
}
