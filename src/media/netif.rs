//! Interface facts the UDP media need: does it exist, its first IPv4
//! address and that address's broadcast address (getifaddrs).

use std::net::Ipv4Addr;

use nix::ifaddrs::getifaddrs;
use nix::net::if_::if_nametoindex;

use super::{io_err, MediaErrorKind};

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct IfaceInfo {
    pub ipv4: Option<Ipv4Addr>,
    pub broadcast: Option<Ipv4Addr>,
}

/// Fails only when the interface does not exist (or getifaddrs fails).
pub fn lookup(name: &str) -> Result<IfaceInfo, MediaErrorKind> {
    if name.is_empty() || if_nametoindex(name).is_err() {
        return Err(MediaErrorKind::NoSuchInterface(name.to_string()));
    }
    let addrs = getifaddrs().map_err(|e| io_err("getifaddrs", e))?;
    // The primary address comes first, like SIOCGIFADDR/SIOCGIFBRDADDR.
    let first = addrs.filter(|a| a.interface_name == name).find_map(|a| {
        let ip = a.address.as_ref()?.as_sockaddr_in()?.ip();
        let bcast = a
            .broadcast
            .as_ref()
            .and_then(|b| b.as_sockaddr_in())
            .map(|b| b.ip());
        Some((ip, bcast))
    });
    Ok(IfaceInfo {
        ipv4: first.map(|(ip, _)| ip),
        broadcast: first.and_then(|(_, b)| b),
    })
}

pub fn require_ipv4(name: &str) -> Result<Ipv4Addr, MediaErrorKind> {
    lookup(name)?
        .ipv4
        .ok_or_else(|| MediaErrorKind::NoIpv4Address(name.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loopback_has_its_address_and_no_broadcast() {
        let info = lookup("lo").unwrap();
        assert_eq!(info.ipv4, Some(Ipv4Addr::LOCALHOST));
        assert_eq!(info.broadcast, None);
    }

    #[test]
    fn missing_interface_is_named() {
        match lookup("nosuchif0") {
            Err(MediaErrorKind::NoSuchInterface(n)) => assert_eq!(n, "nosuchif0"),
            other => panic!("unexpected {other:?}"),
        }
    }
}
