//! Round-trip properties and hostile input: the decoder returns a typed
//! error for anything malformed and never panics.

mod common;

use std::sync::OnceLock;

use common::{keyring, read_data, read_pcap};
use heartbeat_rs::wire::{
    add_inner_auth, classic_auth_body, decode, decode_unverified, encode_classic, encode_netstring,
    encode_netstring_unsigned, find_classic_frame, parse_classic, parse_netstring, AuthMethod,
    Field, Keyring, Message, Packet, WireError, WireFormat, MAXMSG,
};
use proptest::prelude::*;

// ---------------------------------------------------------------- strategies

fn keyring_strategy() -> impl Strategy<Value = Keyring> {
    let method = prop_oneof![
        Just(AuthMethod::Crc),
        Just(AuthMethod::Md5),
        Just(AuthMethod::Sha1)
    ];
    (
        0u8..16,
        method,
        proptest::collection::vec(any::<u8>(), 1..80),
    )
        .prop_map(|(index, method, key)| {
            let key = if method == AuthMethod::Crc {
                vec![]
            } else {
                key
            };
            Keyring::single(index, method, &key)
        })
}

/// Netstring fields: any non-empty UTF-8 name without `=` or NUL, any type
/// digit, any value bytes.
fn netstring_message() -> impl Strategy<Value = Message> {
    let field = (
        "[^=\\x00]{1,12}",
        0u8..=9,
        proptest::collection::vec(any::<u8>(), 0..48),
    )
        .prop_map(|(name, ftype, value)| Field { name, ftype, value });
    proptest::collection::vec(field, 0..10).prop_map(|fields| Message { fields })
}

/// Classic fields: names also without newline and not starting with `(`;
/// non-binary values without 0x13 (it stands for `\n` on the wire).
fn classic_message() -> impl Strategy<Value = Message> {
    let field = (
        "[^=\\n\\x00(][^=\\n\\x00]{0,11}",
        0u8..=9,
        proptest::collection::vec(any::<u8>(), 0..48),
    )
        .prop_map(|(name, ftype, mut value)| {
            if ftype != 1 {
                value.retain(|&b| b != 0x13);
            }
            Field { name, ftype, value }
        });
    proptest::collection::vec(field, 0..10).prop_map(|fields| Message { fields })
}

/// The real packets used as mutation seeds.
fn seeds() -> &'static (Vec<u8>, Vec<u8>, Keyring, Keyring) {
    static SEEDS: OnceLock<(Vec<u8>, Vec<u8>, Keyring, Keyring)> = OnceLock::new();
    SEEDS.get_or_init(|| {
        let netstring = read_pcap("pcap/bcast-steady.pcap").udp[0].payload.clone();
        let serial = read_data("serial/hb306-serial-capture.bin");
        let range = find_classic_frame(&serial).expect("a frame");
        (
            netstring,
            serial[range].to_vec(),
            keyring("keys/conf-bcast.authkeys"),
            keyring("keys/hb306-serial.authkeys"),
        )
    })
}

#[derive(Clone, Debug)]
enum Edit {
    Flip(usize, u8),
    Insert(usize, u8),
    Delete(usize),
}

fn edits() -> impl Strategy<Value = Vec<Edit>> {
    let edit = prop_oneof![
        (any::<usize>(), 1u8..=255).prop_map(|(i, x)| Edit::Flip(i, x)),
        (any::<usize>(), any::<u8>()).prop_map(|(i, b)| Edit::Insert(i, b)),
        any::<usize>().prop_map(Edit::Delete),
    ];
    proptest::collection::vec(edit, 1..4)
}

fn apply(bytes: &[u8], edits: &[Edit]) -> Vec<u8> {
    let mut out = bytes.to_vec();
    for edit in edits {
        let len = out.len().max(1);
        match *edit {
            Edit::Flip(i, x) if !out.is_empty() => out[i % len] ^= x,
            Edit::Insert(i, b) => out.insert(i % (out.len() + 1), b),
            Edit::Delete(i) if !out.is_empty() => {
                out.remove(i % len);
            }
            _ => {}
        }
    }
    out
}

// ---------------------------------------------------------------- properties

proptest! {
    #[test]
    fn netstring_round_trip(msg in netstring_message(), keys in keyring_strategy()) {
        let bytes = encode_netstring(&msg, &keys);
        let want = Packet { msg: msg.clone(), format: WireFormat::Netstring };
        prop_assert_eq!(decode(&bytes, &keys), Ok(want.clone()));
        prop_assert_eq!(decode_unverified(&bytes), Ok(want));
        let parsed = parse_netstring(&bytes).unwrap();
        prop_assert_eq!(parsed.signed, &encode_netstring_unsigned(&msg)[..]);
    }

    #[test]
    fn classic_round_trip(mut msg in classic_message(), keys in keyring_strategy()) {
        add_inner_auth(&mut msg, &keys);
        let bytes = encode_classic(&msg);
        prop_assert_eq!(
            decode(&bytes, &keys),
            Ok(Packet { msg: msg.clone(), format: WireFormat::Classic })
        );
        // The auth body is the classic form minus markers and auth line.
        let mut no_auth = msg.clone();
        no_auth.remove("auth");
        let mut framed = b">>>\n".to_vec();
        framed.extend_from_slice(&classic_auth_body(&msg));
        framed.extend_from_slice(b"<<<\n");
        prop_assert_eq!(encode_classic(&no_auth), framed);
    }

    #[test]
    fn arbitrary_bytes_never_panic(
        prefix in prop_oneof![Just(&b""[..]), Just(&b"###\n"[..]), Just(&b">>>\n"[..])],
        body in proptest::collection::vec(any::<u8>(), 0..400),
    ) {
        let mut bytes = prefix.to_vec();
        bytes.extend_from_slice(&body);
        let keys = &seeds().2;
        let unverified = decode_unverified(&bytes);
        let verified = decode(&bytes, keys);
        // Verification only ever removes packets.
        if let Ok(p) = &verified {
            prop_assert_eq!(Ok(p.clone()), unverified);
        }
    }

    #[test]
    fn mutated_netstring_is_rejected_unless_signed_bytes_survive(edits in edits()) {
        let (original, _, keys, _) = seeds();
        let mutated = apply(original, &edits);
        let _ = decode_unverified(&mutated);
        if decode(&mutated, keys).is_ok() {
            let signed = parse_netstring(&mutated).unwrap().signed;
            prop_assert_eq!(signed, parse_netstring(original).unwrap().signed);
        }
    }

    #[test]
    fn mutated_classic_is_rejected_unless_body_survives(edits in edits()) {
        let (_, original, _, keys) = seeds();
        let mutated = apply(original, &edits);
        let _ = decode_unverified(&mutated);
        if let Ok(p) = decode(&mutated, keys) {
            let before = parse_classic(original).unwrap();
            prop_assert_eq!(classic_auth_body(&p.msg), classic_auth_body(&before));
        }
    }
}

// ---------------------------------------------------------------- fixed cases

/// One real packet per auth method, cut at every length.
#[test]
fn truncated_real_netstring_packets() {
    for (pcap, keys) in [
        ("pcap/bcast-startup.pcap", "keys/conf-bcast.authkeys"),
        ("pcap/auth-md5-startup.pcap", "keys/conf-md5.authkeys"),
        ("pcap/auth-crc-startup.pcap", "keys/conf-crc.authkeys"),
    ] {
        let keys = keyring(keys);
        let packet = read_pcap(pcap).udp[0].payload.clone();
        let signed_len = parse_netstring(&packet).unwrap().signed.len();
        assert!(decode(&packet, &keys).is_ok());
        assert_eq!(decode(&[], &keys), Err(WireError::Empty));
        for cut in 1..packet.len() {
            let want = if cut == signed_len {
                WireError::MissingSignature
            } else {
                WireError::Truncated
            };
            assert_eq!(
                decode(&packet[..cut], &keys),
                Err(want),
                "{pcap} cut at {cut}"
            );
        }
        assert!(decode_unverified(&packet[..signed_len]).is_ok());
    }
}

#[test]
fn truncated_real_classic_frame() {
    let (_, frame, _, keys) = seeds();
    for cut in 1..frame.len() - 1 {
        assert_eq!(
            decode(&frame[..cut], keys),
            Err(WireError::Truncated),
            "cut {cut}"
        );
    }
    // Only the final newline is optional.
    assert!(decode(&frame[..frame.len() - 1], keys).is_ok());
}

fn vector_b_keys() -> Keyring {
    Keyring::single(1, AuthMethod::Sha1, b"labsecret")
}

/// spec §2.6: a real 302-byte status packet of node1.
fn vector_b() -> Vec<u8> {
    let capture = read_pcap("pcap/hb306-bcast-2node.pcap");
    let needle = b"42:1 08417b620c949588dc141ab13014802ef01759e7,";
    let d = capture
        .udp
        .iter()
        .find(|d| d.payload.ends_with(needle))
        .expect("vector B is in the capture");
    d.payload.clone()
}

fn replace(bytes: &[u8], from: &[u8], to: &[u8]) -> Vec<u8> {
    let at = bytes
        .windows(from.len())
        .position(|w| w == from)
        .expect("pattern present");
    [&bytes[..at], to, &bytes[at + from.len()..]].concat()
}

#[test]
fn wrong_field_lengths() {
    let packet = vector_b();
    let keys = vector_b_keys();
    for (from, to, want) in [
        (&b"11:(0)t="[..], &b"10:(0)t="[..], WireError::BadLength),
        (b"11:(0)t=", b"12:(0)t=", WireError::BadLength),
        (b"27:(1)srcuuid", b"26:(1)srcuuid", WireError::BadLength),
        (b"27:(1)srcuuid", b"2x:(1)srcuuid", WireError::BadLength),
        (b"27:(1)srcuuid", b":(1)srcuuid", WireError::BadLength),
        (b"8:(0)ttl=3,", b"999:(0)ttl=3,", WireError::Truncated),
        (b"8:(0)ttl=3,", b"8:(0)ttl=3;", WireError::BadLength),
        (b"8:(0)ttl=3,", b"8:[0]ttl=3,", WireError::BadType),
        (b"8:(0)ttl=3,", b"8:(0)ttl:3,", WireError::BadField),
        (b"42:1 ", b"41:1 ", WireError::BadLength),
        (b"42:1 ", b"43:1 ", WireError::Truncated),
    ] {
        let bad = replace(&packet, from, to);
        assert_eq!(
            decode_unverified(&bad),
            Err(want.clone()),
            "{:?}",
            String::from_utf8_lossy(to)
        );
        assert_eq!(decode(&bad, &keys), Err(want));
    }
}

#[test]
fn signature_failures() {
    let packet = vector_b();
    let keys = vector_b_keys();
    assert!(decode(&packet, &keys).is_ok());
    // Unsigned.
    let signed_len = parse_netstring(&packet).unwrap().signed.len();
    assert_eq!(
        decode(&packet[..signed_len], &keys),
        Err(WireError::MissingSignature)
    );
    // One token character changed.
    let bad = replace(&packet, b"42:1 08417b", b"42:1 18417b");
    assert_eq!(decode(&bad, &keys), Err(WireError::BadSignature));
    // A signed field changed.
    let bad = replace(&packet, b"st=up", b"st=UP");
    assert_eq!(decode(&bad, &keys), Err(WireError::BadSignature));
    assert!(decode_unverified(&bad).is_ok());
    // Unknown and out-of-range key indexes.
    let bad = replace(&packet, b"42:1 ", b"42:9 ");
    assert_eq!(decode(&bad, &keys), Err(WireError::UnknownAuthIndex(9)));
    let bad = replace(&packet, b"42:1 ", b"43:16 ");
    assert_eq!(decode(&bad, &keys), Err(WireError::UnknownAuthIndex(16)));
    // Malformed trailer bodies.
    let bad = replace(&packet, b"42:1 ", b"42:1_");
    assert_eq!(decode(&bad, &keys), Err(WireError::MalformedAuth));
    // Trailing NUL accepted, anything else after the trailer refused.
    let mut nul = packet.clone();
    nul.push(0);
    assert!(decode(&nul, &keys).is_ok());
    let mut junk = packet.clone();
    junk.push(b'x');
    assert_eq!(decode(&junk, &keys), Err(WireError::TrailingBytes));
}

#[test]
fn classic_auth_failures() {
    let keys = vector_b_keys();
    let msg = decode(&vector_b(), &keys).unwrap().msg;
    let classic = encode_classic(&msg);
    assert!(decode(&classic, &keys).is_ok());
    let bad = replace(&classic, b"auth=1 ", b"auth=9 ");
    assert_eq!(decode(&bad, &keys), Err(WireError::UnknownAuthIndex(9)));
    let bad = replace(&classic, b"auth=1 ", b"auth=1-");
    assert_eq!(decode(&bad, &keys), Err(WireError::MalformedAuth));
    let bad = replace(&classic, b"st=up", b"st=UP");
    assert_eq!(decode(&bad, &keys), Err(WireError::BadSignature));
    let mut unsigned = msg.clone();
    unsigned.remove("auth");
    assert_eq!(
        decode(&encode_classic(&unsigned), &keys),
        Err(WireError::MissingAuth)
    );
}

#[test]
fn garbage_and_magic() {
    let keys = vector_b_keys();
    for (input, want) in [
        (&b""[..], WireError::Empty),
        (b"#", WireError::Truncated),
        (b">>>", WireError::Truncated),
        (b"##x", WireError::BadMagic),
        (b"hello world", WireError::BadMagic),
        (b"\0\0\0\0", WireError::BadMagic),
        (b" ###\n%%%\n", WireError::BadMagic),
        (b"<<<\n", WireError::BadMagic),
    ] {
        assert_eq!(decode(input, &keys), Err(want.clone()), "{input:?}");
        assert_eq!(decode_unverified(input), Err(want));
    }
}

#[test]
fn non_utf8_names() {
    let keys = vector_b_keys();
    let netstring = b"###\n9:(0)\xc3\x28=val,%%%\n";
    assert_eq!(decode_unverified(netstring), Err(WireError::NotUtf8));
    assert_eq!(decode(netstring, &keys), Err(WireError::NotUtf8));
    let classic = b">>>\n\xc3\x28=val\n<<<\n";
    assert_eq!(decode_unverified(classic), Err(WireError::NotUtf8));
}

#[test]
fn size_limit() {
    let keys = vector_b_keys();
    assert_eq!(
        decode(&vec![b'#'; MAXMSG + 1], &keys),
        Err(WireError::TooLarge(MAXMSG + 1))
    );
    // A signed packet of exactly MAXMSG bytes is accepted, one more is not.
    let mut msg = Message::with_type("big");
    msg.push_str("fill", "");
    let overhead = encode_netstring(&msg, &keys).len();
    // The field's length prefix grows from 1 to 6 digits.
    let fill = MAXMSG - overhead - 5;
    msg.set_str("fill", &"x".repeat(fill));
    let exact = encode_netstring(&msg, &keys);
    assert_eq!(exact.len(), MAXMSG);
    assert_eq!(decode(&exact, &keys).map(|p| p.msg), Ok(msg.clone()));
    msg.set_str("fill", &"x".repeat(fill + 1));
    let over = encode_netstring(&msg, &keys);
    assert_eq!(decode(&over, &keys), Err(WireError::TooLarge(MAXMSG + 1)));
    let classic = [b">>>\n".to_vec(), vec![b'x'; MAXMSG]].concat();
    assert_eq!(
        decode(&classic, &keys),
        Err(WireError::TooLarge(MAXMSG + 4))
    );
}
