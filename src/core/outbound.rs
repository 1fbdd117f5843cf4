//! Outbound messages: the core's own message bodies in Heartbeat's field
//! order, and the control fields appended to everything we send (§2.5).

use super::fields::*;
use crate::wire::{Message, FT_BINARY};

/// The control field values for one outbound message.
pub(super) struct Stamp<'a> {
    pub local: &'a str,
    /// Our UUID, `None` when we keep none (then no `srcuuid`).
    pub uuid: Option<[u8; 16]>,
    /// Real UUID of the node named by `dest`, when known.
    pub dest_uuid: Option<[u8; 16]>,
    /// Next sequence number; used only for sequenced types.
    pub seq: u64,
    pub generation: u64,
    pub ts: u64,
    pub ld: &'a str,
    pub ttl: u64,
}

/// Appends (or modifies in place) the control fields in Heartbeat's order:
/// `destuuid`, `src`, `srcuuid`, `seq`, `hg`, `ts`, `ld`, `ttl`.
///
/// `NS_` messages get no `seq`/`ld` and keep any control field the caller
/// already set. `destuuid` is only ever the peer's real UUID: Heartbeat
/// sends 16 zero bytes while it does not know it, which receivers treat as
/// absent, so leaving the field out is equivalent and never misdirects.
/// Returns the sequence number used, if any.
pub(super) fn stamp(msg: &mut Message, s: &Stamp) -> Option<u64> {
    let noseq = msg.msg_type().map(is_noseq).unwrap_or(false);
    if let Some(uuid) = s.dest_uuid {
        msg.set(F_TOUUID, FT_BINARY, uuid.to_vec());
    }
    let keep = |m: &Message, name: &str| noseq && m.get(name).is_some();
    if !keep(msg, F_ORIG) {
        msg.set_str(F_ORIG, s.local);
    }
    if let Some(uuid) = s.uuid {
        if !keep(msg, F_ORIGUUID) {
            msg.set(F_ORIGUUID, FT_BINARY, uuid.to_vec());
        }
    }
    let seq = (!noseq).then_some(s.seq);
    if let Some(seq) = seq {
        msg.set_str(F_SEQ, &format!("{seq:x}"));
    }
    if !keep(msg, F_GEN) {
        msg.set_str(F_GEN, &format!("{:x}", s.generation));
    }
    if !keep(msg, F_TIME) {
        msg.set_str(F_TIME, &format!("{:x}", s.ts.max(1)));
    }
    if !noseq {
        msg.set_str(F_LOAD, s.ld);
    }
    if !keep(msg, F_TTL) {
        msg.set_str(F_TTL, &s.ttl.to_string());
    }
    seq
}

/// `t=status st=… dt=<hex ms> [protocol=1]`.
pub(super) fn status(st: &str, dt_ms: u64, flow_control: bool) -> Message {
    let mut m = Message::with_type(T_STATUS);
    m.push_str(F_STATUS, st);
    m.push_str(F_DT, &format!("{dt_ms:x}"));
    if flow_control {
        m.push_str(F_PROTOCOL, PROTOCOL_VERSION);
    }
    m
}

/// `t=NS_ackmsg dest=… ackseq=<hex>`.
pub(super) fn ack(dest: &str, seq: u64) -> Message {
    let mut m = Message::with_type(T_ACKMSG);
    m.push_str(F_TO, dest);
    m.push_str(F_ACKSEQ, &format!("{seq:x}"));
    m
}

/// `t=NS_rexmit dest=… firstseq=<dec> lastseq=<dec>` (always one seq).
pub(super) fn rexmit_request(dest: &str, seq: u64) -> Message {
    let mut m = Message::with_type(T_REXMIT);
    m.push_str(F_TO, dest);
    m.push_str(F_FIRSTSEQ, &seq.to_string());
    m.push_str(F_LASTSEQ, &seq.to_string());
    m
}

/// `t=NS_nak_rexmit firstseq=<hex> dest=… info=<reason>`.
pub(super) fn nak(dest: &str, seq: u64, reason: &str) -> Message {
    let mut m = Message::with_type(T_NAKREXMIT);
    m.push_str(F_FIRSTSEQ, &format!("{seq:x}"));
    m.push_str(F_TO, dest);
    m.push_str(F_COMMENT, reason);
    m
}

/// `t=reqnodes dest=…`.
pub(super) fn reqnodes(dest: &str) -> Message {
    let mut m = Message::with_type(T_REQNODES);
    m.push_str(F_TO, dest);
    m
}

/// `dest=… t=repnodes nodelist="a b " delnodelist=" "` (dest first, as
/// Heartbeat builds it).
pub(super) fn repnodes<'a>(dest: &str, nodes: impl Iterator<Item = &'a str>) -> Message {
    let nodelist: String = nodes.map(|n| format!("{n} ")).collect();
    let mut m = Message::new();
    m.push_str(F_TO, dest);
    m.push_str(F_TYPE, T_REPNODES);
    m.push_str(F_NODELIST, &nodelist);
    m.push_str(F_DELNODELIST, " ");
    m
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(m: &Message) -> Vec<&str> {
        m.fields.iter().map(|f| f.name.as_str()).collect()
    }

    fn stamp_for<'a>(dest_uuid: Option<[u8; 16]>) -> Stamp<'a> {
        Stamp {
            local: "alpha",
            uuid: Some([0xa4; 16]),
            dest_uuid,
            seq: 0x2c,
            generation: 0x6b02515b,
            ts: 0x6b02515a,
            ld: "0.53 0.35 0.24 5/92 27154",
            ttl: 3,
        }
    }

    #[test]
    fn status_gets_all_control_fields_in_order() {
        let mut m = status("up", 5000, true);
        assert_eq!(stamp(&mut m, &stamp_for(None)), Some(0x2c));
        assert_eq!(
            names(&m),
            ["t", "st", "dt", "protocol", "src", "srcuuid", "seq", "hg", "ts", "ld", "ttl"]
        );
        assert_eq!(m.get_str("dt"), Some("1388"));
        assert_eq!(m.get_str("seq"), Some("2c"));
        assert_eq!(m.get_str("hg"), Some("6b02515b"));
        assert_eq!(m.get_str("ts"), Some("6b02515a"));
        assert_eq!(m.get_str("ttl"), Some("3"));
        assert_eq!(m.get("srcuuid"), Some(&[0xa4; 16][..]));
    }

    #[test]
    fn ns_messages_match_observed_orders() {
        let mut m = ack("bravo", 0x19);
        assert_eq!(stamp(&mut m, &stamp_for(Some([0x6e; 16]))), None);
        assert_eq!(
            names(&m),
            ["t", "dest", "ackseq", "destuuid", "src", "srcuuid", "hg", "ts", "ttl"]
        );
        assert_eq!(m.get_str("ackseq"), Some("19"));

        let mut m = rexmit_request("bravo", 71);
        stamp(&mut m, &stamp_for(Some([0x6e; 16])));
        assert_eq!(
            names(&m),
            ["t", "dest", "firstseq", "lastseq", "destuuid", "src", "srcuuid", "hg", "ts", "ttl"]
        );
        assert_eq!(m.get_str("firstseq"), Some("71"));

        let mut m = nak("bravo", 0x1f, "seqno too low");
        stamp(&mut m, &stamp_for(None));
        assert_eq!(
            names(&m),
            ["t", "firstseq", "dest", "info", "src", "srcuuid", "hg", "ts", "ttl"]
        );
        assert_eq!(m.get_str("firstseq"), Some("1f"));
    }

    #[test]
    fn repnodes_has_dest_first_and_trailing_spaces() {
        let mut m = repnodes("alpha", ["alpha", "bravo"].into_iter());
        stamp(&mut m, &stamp_for(Some([0xa4; 16])));
        assert_eq!(
            names(&m),
            [
                "dest",
                "t",
                "nodelist",
                "delnodelist",
                "destuuid",
                "src",
                "srcuuid",
                "seq",
                "hg",
                "ts",
                "ld",
                "ttl"
            ]
        );
        assert_eq!(m.get_str("nodelist"), Some("alpha bravo "));
        assert_eq!(m.get_str("delnodelist"), Some(" "));
    }

    #[test]
    fn no_uuid_means_no_srcuuid_and_existing_fields_are_modified_in_place() {
        let mut m = Message::with_type("resource");
        m.push_str("seq", "99");
        m.push_str("rsc_hold", "none");
        let mut s = stamp_for(None);
        s.uuid = None;
        stamp(&mut m, &s);
        assert_eq!(
            names(&m),
            ["t", "seq", "rsc_hold", "src", "hg", "ts", "ld", "ttl"]
        );
        assert_eq!(m.get_str("seq"), Some("2c"));
    }

    #[test]
    fn ns_message_keeps_callers_src() {
        let mut m = Message::with_type("NS_st");
        m.push_str("src", "pinghost");
        stamp(&mut m, &stamp_for(None));
        assert_eq!(m.get_str("src"), Some("pinghost"));
        assert_eq!(m.get("seq"), None);
        assert_eq!(m.get("ld"), None);
    }
}
