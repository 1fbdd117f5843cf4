//! Media directives (Heartbeat's HBcomm plugins). bcast, serial, ping and
//! ping6 take one interface/device/host per value; mcast, mcast6, ucast,
//! ucast6 and ping_group read the whole line.
//!
//! The bcast and ucast plugins read `udpport` once, when their first line
//! is parsed, and the serial plugin reads `baud` when the first serial line
//! is parsed: a later udpport/baud line does not change them.

use std::net::{Ipv4Addr, Ipv6Addr};
use std::path::PathBuf;

use super::{words, Builder};
use crate::config::model::{Medium, MediumLine, UnsupportedMedium};
use crate::config::values::atoi;

/// Linux `IFNAMSIZ` - 1.
const MAX_IFACE_NAME: usize = 15;

impl Builder<'_> {
    fn push_medium(&mut self, medium: Medium) {
        if self.add_medium() {
            let origin = self.origin();
            self.cf.media.push(MediumLine { medium, origin });
        }
    }

    fn iface_ok(&mut self, directive: &str, iface: &str) -> bool {
        if iface.len() > MAX_IFACE_NAME {
            self.error(
                format!("{directive}: interface name '{iface}' is longer than {MAX_IFACE_NAME} characters"),
                "use the interface name as shown by 'ip link'",
            );
            return false;
        }
        true
    }

    fn unsupported(&mut self, directive: &str, args: Vec<String>) {
        if !self.add_medium() {
            return;
        }
        self.warning(
            format!("{directive} is accepted by Heartbeat but heartbeat-rs does not open IPv6 media; this link will not be used"),
            "use bcast, mcast, ucast or serial for the links heartbeat-rs should use",
        );
        let origin = self.origin();
        self.cf.unsupported_media.push(UnsupportedMedium {
            directive: directive.to_string(),
            args,
            origin,
        });
    }

    /// The port the bcast/ucast plugin uses (fixed by its first line).
    fn plugin_port(&mut self, ucast: bool) -> u16 {
        let current = (self.cf.udpport, self.line);
        let slot = if ucast {
            &mut self.ucast_port
        } else {
            &mut self.bcast_port
        };
        slot.get_or_insert(current).0
    }
}

pub(super) fn bcast(b: &mut Builder, iface: &str) -> bool {
    if !b.iface_ok("bcast", iface) {
        return false;
    }
    let port = b.plugin_port(false);
    b.push_medium(Medium::Bcast {
        iface: iface.to_string(),
        port,
    });
    true
}

pub(super) fn serial(b: &mut Builder, device: &str) -> bool {
    if !device.starts_with('/') {
        b.error(
            format!("serial port not full pathname [{device}]"),
            "give the device's absolute path, e.g. serial /dev/ttyS0",
        );
        return false;
    }
    let current = (b.cf.baud, b.line);
    let baud = b.serial_baud.get_or_insert(current).0;
    b.push_medium(Medium::Serial {
        device: PathBuf::from(device),
        baud,
    });
    true
}

pub(super) fn ping(b: &mut Builder, host: &str) -> bool {
    if b.add_node_name(host, "ping node").is_none() || !b.add_medium() {
        return false;
    }
    b.cf.ping_hosts.push(host.to_string());
    true
}

pub(super) fn ping6(b: &mut Builder, host: &str) -> bool {
    if b.add_node_name(host, "ping node").is_none() {
        return false;
    }
    b.unsupported("ping6", vec![host.to_string()]);
    true
}

/// `mcast DEV GROUP PORT TTL LOOP`.
pub(super) fn mcast(b: &mut Builder, line: &str) {
    const FIX: &str = "write mcast DEV GROUP PORT TTL LOOP, e.g. mcast eth0 239.0.0.1 694 1 0";
    let w: Vec<&str> = words(line).collect();
    let field = |i: usize| w.get(i).copied();
    let Some(dev) = field(0) else {
        b.error("mcast needs a device, group, port, TTL and loop flag", FIX);
        return;
    };
    if !b.iface_ok("mcast", dev) {
        return;
    }
    let mut ok = true;
    let group = match field(1).map(|g| (g, g.parse::<Ipv4Addr>())) {
        None => {
            b.error(format!("mcast [{dev}] missing mcast address"), FIX);
            return;
        }
        Some((_, Ok(g))) if g.is_multicast() => Some(g),
        Some((g, _)) => {
            b.error(
                format!("mcast [{dev}] bad addr [{g}]: not an IPv4 multicast address"),
                "use a group in 224.0.0.0/4, e.g. 239.0.0.1",
            );
            ok = false;
            None
        }
    };
    let Some(port) = field(2) else {
        b.error(format!("mcast [{dev}] missing port"), FIX);
        return;
    };
    let port = match atoi(port).value {
        p @ 1..=65535 => Some(p as u16),
        _ => {
            b.error(
                format!("mcast [{dev}] bad port [{port}]"),
                "use a UDP port from 1 to 65535 (the mcast port does not come from udpport)",
            );
            ok = false;
            None
        }
    };
    let Some(ttl) = field(3) else {
        b.error(format!("mcast [{dev}] missing ttl"), FIX);
        return;
    };
    let ttl = match atoi(ttl).value {
        t @ 0..=4 => Some(t as u8),
        _ => {
            b.error(
                format!("mcast [{dev}] bad ttl [{ttl}]"),
                "use a TTL from 0 to 4",
            );
            ok = false;
            None
        }
    };
    let Some(looped) = field(4) else {
        b.error(format!("mcast [{dev}] missing loop"), FIX);
        return;
    };
    let loopback = match atoi(looped).value {
        0 => Some(false),
        1 => Some(true),
        _ => {
            b.error(
                format!("mcast [{dev}] bad loop [{looped}]"),
                "use loop 0 or 1",
            );
            ok = false;
            None
        }
    };
    if w.len() > 5 {
        b.warning(
            format!(
                "mcast: text after the loop flag is ignored: {}",
                w[5..].join(" ")
            ),
            "remove the extra words",
        );
    }
    if let (true, Some(group), Some(port), Some(ttl), Some(loopback)) =
        (ok, group, port, ttl, loopback)
    {
        b.push_medium(Medium::Mcast {
            iface: dev.to_string(),
            group,
            port,
            ttl,
            loopback,
        });
    }
}

/// `mcast6 DEV GROUP PORT HOPS LOOP` (accepted, not opened).
pub(super) fn mcast6(b: &mut Builder, line: &str) {
    let w: Vec<&str> = words(line).collect();
    if w.len() < 5 {
        b.error(
            "mcast6 needs a device, group, port, hop limit and loop flag",
            "write mcast6 DEV GROUP PORT HOPS LOOP, e.g. mcast6 eth0 ff12::1 694 1 0",
        );
        return;
    }
    if !w[1].parse::<Ipv6Addr>().is_ok_and(|g| g.is_multicast()) {
        b.error(
            format!("mcast6 [{}] bad addr [{}]", w[0], w[1]),
            "use an IPv6 multicast group (ff00::/8)",
        );
        return;
    }
    b.unsupported("mcast6", w.iter().map(|s| s.to_string()).collect());
}

/// `ucast DEV PEER`.
pub(super) fn ucast(b: &mut Builder, line: &str) {
    let w: Vec<&str> = words(line).collect();
    let (Some(dev), Some(peer)) = (w.first(), w.get(1)) else {
        let what = w.first().map_or(String::new(), |d| format!(" [{d}]"));
        b.error(
            format!("ucast{what}: missing target IP address/hostname"),
            "write ucast DEV PEER, one line per peer, e.g. ucast eth0 192.0.2.2",
        );
        return;
    };
    if !b.iface_ok("ucast", dev) {
        return;
    }
    if w.len() > 2 {
        b.warning(
            format!(
                "ucast: text after the peer is ignored: {}",
                w[2..].join(" ")
            ),
            "write one ucast line per peer",
        );
    }
    let port = b.plugin_port(true);
    b.push_medium(Medium::Ucast {
        iface: dev.to_string(),
        peer: peer.to_string(),
        port,
    });
}

/// `ucast6 DEV PEER` (accepted, not opened).
pub(super) fn ucast6(b: &mut Builder, line: &str) {
    let w: Vec<&str> = words(line).collect();
    if w.len() < 2 {
        b.error(
            "ucast6: missing target IPv6 address/hostname",
            "write ucast6 DEV PEER, e.g. ucast6 eth0 2001:db8::2",
        );
        return;
    }
    b.unsupported("ucast6", w.iter().take(2).map(|s| s.to_string()).collect());
}

/// `ping_group NAME HOST [HOST…]`: one ping node NAME.
pub(super) fn ping_group(b: &mut Builder, line: &str) {
    let mut w = words(line);
    let Some(name) = w.next() else {
        b.error(
            "ping_group needs a name and at least one host",
            "write ping_group NAME HOST [HOST…]",
        );
        return;
    };
    let hosts: Vec<String> = w.map(str::to_string).collect();
    if hosts.is_empty() {
        b.error(
            format!("ping_group {name} has no hosts"),
            "write ping_group NAME HOST [HOST…]",
        );
        return;
    }
    if let Some(lower) = b.add_node_name(name, "ping group") {
        if b.add_medium() {
            b.cf.ping_groups.push((lower, hosts));
        }
    }
}
