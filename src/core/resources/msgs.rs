//! The messages of the resource protocol, with the field order real
//! Heartbeat 3.0.6 nodes use (the core appends the control fields).

use std::fmt;

use super::holdings::Holdings;
use crate::wire::Message;

pub(super) const T_STARTING: &str = "starting";
pub(super) const T_RESOURCES: &str = "resource";
pub(super) const T_ASKRESOURCES: &str = "ask_resources";
pub(super) const T_IPREQUEST: &str = "ip-request";
pub(super) const T_IPREQUEST_RESP: &str = "ip-request-resp";
pub(super) const T_TAKEOVER: &str = "hb_takeover";
pub(super) const T_SHUTDONE: &str = "shutdone";
pub(super) const T_STONITH: &str = "stonith";

pub(super) const F_RSC_HOLD: &str = "rsc_hold";
pub(super) const F_RTYPE: &str = "rtype";
pub(super) const F_ISSTABLE: &str = "isstable";
pub(super) const F_INFO: &str = "info";
pub(super) const F_DEST: &str = "dest";
pub(super) const F_IPADDR: &str = "ipaddr";
pub(super) const F_WEOWN: &str = "weown";
pub(super) const F_OK: &str = "ok";

/// `stonith` results.
pub(super) const STONITH_NOT_CONFIGURED: &str = "n_stnth";
pub(super) const STONITH_UNNEEDED: &str = "unneeded";

/// `t=starting`: "tell me what you hold".
pub(super) fn starting() -> Message {
    Message::with_type(T_STARTING)
}

/// `t=resource rsc_hold=H rtype=full isstable=0|1 [info=…]`.
pub(super) fn resources_held(held: Holdings, stable: bool, info: Option<&str>) -> Message {
    let mut m = Message::with_type(T_RESOURCES);
    m.push_str(F_RSC_HOLD, held.name())
        .push_str(F_RTYPE, "full")
        .push_str(F_ISSTABLE, if stable { "1" } else { "0" });
    if let Some(info) = info {
        m.push_str(F_INFO, info);
    }
    m
}

/// What `mach_down` sends after a takeover: an incremental report.
pub(super) fn mach_down_done() -> Message {
    let mut m = Message::with_type(T_RESOURCES);
    m.push_str(F_RSC_HOLD, Holdings::FOREIGN.name())
        .push_str(F_INFO, "mach_down");
    m
}

/// `t=ask_resources rsc_hold=R info=me|other|done`.
pub(super) fn ask_resources(set: Holdings, info: &str) -> Message {
    let mut m = Message::with_type(T_ASKRESOURCES);
    m.push_str(F_RSC_HOLD, set.name()).push_str(F_INFO, info);
    m
}

/// Legacy mode: "give me this group".
pub(super) fn ip_request(key: &str) -> Message {
    let mut m = Message::with_type(T_IPREQUEST);
    m.push_str(F_IPADDR, key);
    m
}

/// The grant (or self-grant) of a group to `dest`.
pub(super) fn ip_request_resp(dest: &str, key: &str, weown: bool) -> Message {
    let mut m = Message::with_type(T_IPREQUEST_RESP);
    m.push_str(F_DEST, dest)
        .push_str(F_IPADDR, key)
        .push_str(F_WEOWN, if weown { "yes" } else { "no" })
        .push_str(F_OK, "OK");
    m
}

/// Informational: how a dead node was dealt with.
pub(super) fn stonith(node: &str, result: &str) -> Message {
    let mut m = Message::with_type(T_STONITH);
    m.push_str("node", node).push_str("result", result);
    m
}

/// "I have released everything and am leaving."
pub(super) fn shutdone() -> Message {
    let mut m = Message::with_type(T_SHUTDONE);
    m.push_str("st", "dead");
    m
}

/// An argument of `hb_standby` / `hb_takeover` that is not one of
/// `all`, `foreign`, `local`, `failback`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BadResourceSet(pub String);

impl fmt::Display for BadResourceSet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "wrong resources({}): expected all, foreign, local or failback",
            self.0
        )
    }
}

impl std::error::Error for BadResourceSet {}

fn check_set(arg: Option<&str>) -> Result<&str, BadResourceSet> {
    match arg.unwrap_or("all") {
        s @ ("all" | "foreign" | "local" | "failback") => Ok(s),
        other => Err(BadResourceSet(other.to_string())),
    }
}

/// What `hb_standby [all|foreign|local|failback]` sends through the FIFO
/// (no argument = all, failback = foreign): `t=ask_resources rsc_hold=R info=me`.
pub fn standby_request(arg: Option<&str>) -> Result<Message, BadResourceSet> {
    let set = match check_set(arg)? {
        "failback" | "foreign" => Holdings::FOREIGN,
        "local" => Holdings::LOCAL,
        _ => Holdings::ALL,
    };
    Ok(ask_resources(set, "me"))
}

/// What `hb_takeover [all|foreign|local|failback]` sends through the FIFO:
/// `t=hb_takeover rsc_hold=R` (the word as given; the peer maps it).
pub fn takeover_request(arg: Option<&str>) -> Result<Message, BadResourceSet> {
    let set = check_set(arg)?;
    let mut m = Message::with_type(T_TAKEOVER);
    m.push_str(F_RSC_HOLD, set);
    Ok(m)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn line(m: &Message) -> String {
        m.fields
            .iter()
            .map(|f| format!("{}={}", f.name, String::from_utf8_lossy(&f.value)))
            .collect::<Vec<_>>()
            .join(" ")
    }

    #[test]
    fn field_orders_match_the_captures() {
        assert_eq!(
            line(&resources_held(
                Holdings::LOCAL,
                true,
                Some("req_our_resources()")
            )),
            "t=resource rsc_hold=local rtype=full isstable=1 info=req_our_resources()"
        );
        assert_eq!(
            line(&mach_down_done()),
            "t=resource rsc_hold=foreign info=mach_down"
        );
        assert_eq!(
            line(&ip_request_resp(
                "alpha",
                "IPaddr2::198.18.0.100/24/eth0",
                true
            )),
            "t=ip-request-resp dest=alpha ipaddr=IPaddr2::198.18.0.100/24/eth0 weown=yes ok=OK"
        );
        assert_eq!(
            line(&stonith("alpha", STONITH_NOT_CONFIGURED)),
            "t=stonith node=alpha result=n_stnth"
        );
        assert_eq!(line(&shutdone()), "t=shutdone st=dead");
        assert_eq!(
            line(&ask_resources(Holdings::FOREIGN, "other")),
            "t=ask_resources rsc_hold=foreign info=other"
        );
    }

    #[test]
    fn tool_requests_follow_the_scripts() {
        let m = standby_request(None).unwrap();
        assert_eq!(line(&m), "t=ask_resources rsc_hold=all info=me");
        let m = standby_request(Some("failback")).unwrap();
        assert_eq!(line(&m), "t=ask_resources rsc_hold=foreign info=me");
        let m = takeover_request(Some("failback")).unwrap();
        assert_eq!(line(&m), "t=hb_takeover rsc_hold=failback");
        assert_eq!(
            standby_request(Some("bogus")),
            Err(BadResourceSet("bogus".into()))
        );
        assert!(takeover_request(Some("")).is_err());
    }
}
