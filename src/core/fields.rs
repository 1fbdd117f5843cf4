//! Field names, message types and status words of the v1 protocol, and the
//! number parsers the receive path uses.

use crate::wire::Message;

pub(super) const F_TYPE: &str = "t";
pub(super) const F_ORIG: &str = "src";
pub(super) const F_ORIGUUID: &str = "srcuuid";
pub(super) const F_TO: &str = "dest";
pub(super) const F_TOUUID: &str = "destuuid";
pub(super) const F_SEQ: &str = "seq";
pub(super) const F_GEN: &str = "hg";
pub(super) const F_TIME: &str = "ts";
pub(super) const F_LOAD: &str = "ld";
pub(super) const F_TTL: &str = "ttl";
pub(super) const F_STATUS: &str = "st";
pub(super) const F_DT: &str = "dt";
pub(super) const F_PROTOCOL: &str = "protocol";
pub(super) const F_ACKSEQ: &str = "ackseq";
pub(super) const F_FIRSTSEQ: &str = "firstseq";
pub(super) const F_LASTSEQ: &str = "lastseq";
pub(super) const F_COMMENT: &str = "info";
pub(super) const F_NODELIST: &str = "nodelist";
pub(super) const F_DELNODELIST: &str = "delnodelist";

pub(super) const T_STATUS: &str = "status";
pub(super) const T_ACKMSG: &str = "NS_ackmsg";
pub(super) const T_REXMIT: &str = "NS_rexmit";
pub(super) const T_NAKREXMIT: &str = "NS_nak_rexmit";
pub(super) const T_REQNODES: &str = "reqnodes";
pub(super) const T_REPNODES: &str = "repnodes";
/// Types with this prefix carry no `seq`/`ld` and are never retransmitted.
pub(super) const NOSEQ_PREFIX: &str = "NS_";

pub(super) const INITSTATUS: &str = "init";
pub(super) const UPSTATUS: &str = "up";
pub(super) const ACTIVESTATUS: &str = "active";
pub(super) const DEADSTATUS: &str = "dead";
/// Value of the `protocol` field we send while flow control is on.
pub(super) const PROTOCOL_VERSION: &str = "1";
/// Heartbeat's STATUSLENG minus the NUL.
pub(super) const MAX_STATUS_LEN: usize = 31;

/// `NS_` types are outside the sequencing protocol.
pub(super) fn is_noseq(msg_type: &str) -> bool {
    msg_type.starts_with(NOSEQ_PREFIX)
}

/// A lower-case (or upper-case) hex number of at most 16 digits.
pub(super) fn parse_hex(s: &str) -> Option<u64> {
    if s.is_empty() || s.len() > 16 || !s.bytes().all(|b| b.is_ascii_hexdigit()) {
        return None;
    }
    u64::from_str_radix(s, 16).ok()
}

/// A decimal number (the `firstseq`/`lastseq` of `NS_rexmit`).
pub(super) fn parse_dec(s: &str) -> Option<u64> {
    if s.is_empty() || s.len() > 20 || !s.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    s.parse().ok()
}

/// The 16-byte UUID in a binary field, `None` when absent, malformed or all
/// zeros (real nodes send zeros until they learn the UUID).
pub(super) fn uuid_field(msg: &Message, name: &str) -> Option<[u8; 16]> {
    let v = msg.get(name)?;
    let uuid: [u8; 16] = v.try_into().ok()?;
    (uuid != [0; 16]).then_some(uuid)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wire::FT_BINARY;

    #[test]
    fn hex_and_decimal_parsers_are_strict() {
        assert_eq!(parse_hex("6b02515c"), Some(0x6b02515c));
        assert_eq!(parse_hex("A"), Some(10));
        assert_eq!(parse_hex(""), None);
        assert_eq!(parse_hex("0x10"), None);
        assert_eq!(parse_hex("12345678901234567"), None);
        assert_eq!(parse_dec("42"), Some(42));
        assert_eq!(parse_dec("4a"), None);
        assert_eq!(parse_dec("-1"), None);
    }

    #[test]
    fn zero_or_short_uuid_is_absent() {
        let mut m = Message::new();
        m.push("destuuid", FT_BINARY, vec![0; 16]);
        assert_eq!(uuid_field(&m, "destuuid"), None);
        m.set("destuuid", FT_BINARY, vec![1; 15]);
        assert_eq!(uuid_field(&m, "destuuid"), None);
        m.set("destuuid", FT_BINARY, vec![1; 16]);
        assert_eq!(uuid_field(&m, "destuuid"), Some([1; 16]));
    }

    #[test]
    fn noseq_prefix() {
        assert!(is_noseq("NS_ackmsg"));
        assert!(!is_noseq("status"));
    }
}
