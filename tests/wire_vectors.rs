//! Spec §3.4 test vectors, the CRC check value, RFC 2202 HMAC vectors and
//! the key-selection rules of the key ring.

use heartbeat_rs::wire::auth::{parse_auth_string, AuthEntry};
use heartbeat_rs::wire::{
    add_inner_auth, auth_token, check_inner_auth, classic_auth_body, crc32_posix, decode,
    encode_classic, encode_netstring, AuthMethod, Keyring, Message, WireError, WireFormat,
    FT_BINARY,
};

/// Vector A: the synthetic status message, without `auth`.
fn vector_a() -> Message {
    let mut m = Message::new();
    m.push_str("t", "status")
        .push_str("st", "active")
        .push_str("dt", "7530")
        .push_str("protocol", "1")
        .push_str("src", "alpha")
        .push(
            "srcuuid",
            FT_BINARY,
            vec![
                0x00, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88, 0x99, 0xaa, 0xbb, 0xcc, 0xdd,
                0xee, 0xff,
            ],
        )
        .push_str("seq", "1f")
        .push_str("hg", "5f5e100")
        .push_str("ts", "6554f1a0")
        .push_str("ld", "0.00 0.01 0.05 1/123 4567")
        .push_str("ttl", "3");
    m
}

const VECTOR_A_BODY: &[u8] = b"t=status\nst=active\ndt=7530\nprotocol=1\nsrc=alpha\n\
(1)srcuuid=ABEiM0RVZneImaq7zN3u/w==\nseq=1f\nhg=5f5e100\nts=6554f1a0\n\
ld=0.00 0.01 0.05 1/123 4567\nttl=3\n";

const VECTOR_A_FIELDS: &[u8] = b"###\n11:(0)t=status,12:(0)st=active,10:(0)dt=7530,\
13:(0)protocol=1,12:(0)src=alpha,\
27:(1)srcuuid=\x00\x11\"3DUfw\x88\x99\xaa\xbb\xcc\xdd\xee\xff,9:(0)seq=1f,13:(0)hg=5f5e100,\
14:(0)ts=6554f1a0,31:(0)ld=0.00 0.01 0.05 1/123 4567,8:(0)ttl=3,";

#[test]
fn crc_check_value() {
    assert_eq!(crc32_posix(b"123456789"), 0x765e_7680);
    assert_eq!(auth_token(AuthMethod::Crc, b"", b"123456789"), "765e7680");
}

#[test]
fn crc_token_has_no_leading_zeros() {
    // Find an input whose CRC is below 0x10000000 and check `%lx` formatting.
    let data = (0u32..)
        .map(|i| i.to_le_bytes())
        .find(|d| crc32_posix(d) < 0x1000_0000)
        .unwrap();
    let token = auth_token(AuthMethod::Crc, b"", &data);
    assert!(token.len() < 8 && !token.starts_with('0'), "{token}");
    assert_eq!(u32::from_str_radix(&token, 16).unwrap(), crc32_posix(&data));
}

#[test]
fn vector_a_classic_body() {
    let body = classic_auth_body(&vector_a());
    assert_eq!(body.len(), 149);
    assert_eq!(body, VECTOR_A_BODY);
}

#[test]
fn vector_a_all_methods() {
    let cases = [
        (
            AuthMethod::Sha1,
            &b"TestKey123"[..],
            "394448dd68981e618b0483f4aa7eaa3bdce06c01",
            "3e802e7844c498a2e72b9f26ced460d9b02dcda9",
            310,
        ),
        (
            AuthMethod::Md5,
            &b"TestKey123"[..],
            "0d2fcc88921679c875c2b3d64aed199b",
            "0c0ccee6c21e43cea320543e8a4e87b7",
            294,
        ),
        (AuthMethod::Crc, &b""[..], "dd1aed37", "8ce7cbf6", 246),
    ];
    for (method, key, inner, trailing, udp_len) in cases {
        let keys = Keyring::single(1, method, key);
        let mut msg = vector_a();
        add_inner_auth(&mut msg, &keys);
        let auth_value = format!("1 {inner}");
        assert_eq!(msg.get_str("auth"), Some(auth_value.as_str()), "{method:?}");

        let packet = encode_netstring(&msg, &keys);
        let auth_field = format!("{}:(0)auth={auth_value},", 3 + 5 + auth_value.len());
        let trailer = format!("{}:1 {trailing},", 2 + trailing.len());
        let mut expected = VECTOR_A_FIELDS.to_vec();
        expected.extend_from_slice(auth_field.as_bytes());
        expected.extend_from_slice(b"%%%\n");
        expected.extend_from_slice(trailer.as_bytes());
        assert_eq!(packet, expected, "{method:?}");
        assert_eq!(packet.len(), udp_len, "{method:?}");

        let decoded = decode(&packet, &keys).unwrap();
        assert_eq!(decoded.format, WireFormat::Netstring);
        assert_eq!(decoded.msg, msg);
        assert_eq!(check_inner_auth(&decoded.msg, &keys), Ok(1));

        let classic = encode_classic(&msg);
        assert_eq!(decode(&classic, &keys).unwrap().msg, msg);
    }
}

#[test]
fn vector_a_sha1_signed_region_is_264_bytes() {
    let keys = Keyring::single(1, AuthMethod::Sha1, b"TestKey123");
    let mut msg = vector_a();
    add_inner_auth(&mut msg, &keys);
    let packet = encode_netstring(&msg, &keys);
    assert!(packet[..264].ends_with(b"%%%\n"));
    assert_eq!(
        auth_token(AuthMethod::Sha1, b"TestKey123", &packet[..264]),
        "3e802e7844c498a2e72b9f26ced460d9b02dcda9"
    );
}

/// Vector B: the real node1 status packet of spec §2.6 (302 bytes).
const VECTOR_B: &[u8] = b"###\n11:(0)t=status,8:(0)st=up,10:(0)dt=2ee0,13:(0)protocol=1,\
12:(0)src=node1,27:(1)srcuuid=\x84w\x0cNg\x86L\xcd\x907$\x7f\xd1\x14\xea\xaf,8:(0)seq=2,\
14:(0)hg=6b024574,14:(0)ts=6b024573,28:(0)ld=0.22 0.18 0.08 2/91 18,8:(0)ttl=3,\
50:(0)auth=1 befb23a3ddca494059b3192b431a8a9293c10220,%%%\n\
42:1 08417b620c949588dc141ab13014802ef01759e7,";

#[test]
fn vector_b_real_packet() {
    assert_eq!(VECTOR_B.len(), 302);
    let keys = Keyring::single(1, AuthMethod::Sha1, b"labsecret");
    let packet = decode(VECTOR_B, &keys).unwrap();
    assert_eq!(check_inner_auth(&packet.msg, &keys), Ok(1));
    assert_eq!(
        auth_token(AuthMethod::Sha1, b"labsecret", &VECTOR_B[..256]),
        "08417b620c949588dc141ab13014802ef01759e7"
    );
    assert_eq!(encode_netstring(&packet.msg, &keys), VECTOR_B);
    let classic = b">>>\nt=status\nst=up\ndt=2ee0\nprotocol=1\nsrc=node1\n\
(1)srcuuid=hHcMTmeGTM2QNyR/0RTqrw==\nseq=2\nhg=6b024574\nts=6b024573\n\
ld=0.22 0.18 0.08 2/91 18\nttl=3\nauth=1 befb23a3ddca494059b3192b431a8a9293c10220\n<<<\n";
    assert_eq!(encode_classic(&packet.msg), classic.to_vec());
    assert_eq!(decode(classic, &keys).unwrap().msg, packet.msg);
    // Any other key fails.
    let wrong = Keyring::single(1, AuthMethod::Sha1, b"labsecreT");
    assert_eq!(decode(VECTOR_B, &wrong), Err(WireError::BadSignature));
    assert_eq!(decode(classic, &wrong), Err(WireError::BadSignature));
}

/// RFC 2202 cases 1 and 6 (the latter: key longer than a block is hashed).
#[test]
fn hmac_rfc2202() {
    let long_key = [0xaa; 80];
    let long_data = b"Test Using Larger Than Block-Size Key - Hash Key First";
    assert_eq!(
        auth_token(AuthMethod::Md5, &[0x0b; 16], b"Hi There"),
        "9294727a3638bb1c13f48ef8158bfc9d"
    );
    assert_eq!(
        auth_token(AuthMethod::Sha1, &[0x0b; 20], b"Hi There"),
        "b617318655057264e28bc0b6fb378c8ef146be00"
    );
    assert_eq!(
        auth_token(AuthMethod::Md5, &long_key, long_data),
        "6b1ab7fe4bd7bf8f0b62e6ce61b9d0cd"
    );
    assert_eq!(
        auth_token(AuthMethod::Sha1, &long_key, long_data),
        "aa4ae5e15272d00e95705637ce8a3b55ed402112"
    );
}

fn two_entry_ring() -> Keyring {
    // Active entry 1 (sha1 "shared"); entry 2 md5 with a different key.
    let mut ring = Keyring::single(1, AuthMethod::Sha1, b"shared");
    ring.entries[2] = Some(AuthEntry {
        method: AuthMethod::Md5,
        key: b"own2".to_vec(),
    });
    ring
}

#[test]
fn keyring_sign_and_active_entry() {
    let ring = two_entry_ring();
    assert_eq!(ring.active_entry().unwrap().method, AuthMethod::Sha1);
    let (index, token) = ring.sign(b"data").unwrap();
    assert_eq!(index, 1);
    assert_eq!(token, auth_token(AuthMethod::Sha1, b"shared", b"data"));
    let mut none = ring.clone();
    none.active = 5;
    assert_eq!(none.active_entry(), None);
    assert_eq!(none.sign(b"data"), None);
}

#[test]
fn netstring_verification_uses_indexed_then_active_key() {
    let ring = two_entry_ring();
    let data = b"###\n%%%\n";
    // Entry 2's method with entry 2's key.
    let own = auth_token(AuthMethod::Md5, b"own2", data);
    assert!(ring.verify_netstring(2, &own, data));
    // Entry 2's method with our active key: what a real 3.0.6 verifier uses.
    let quirk = auth_token(AuthMethod::Md5, b"shared", data);
    assert!(ring.verify_netstring(2, &quirk, data));
    // Anything else fails: another key, another method, an unknown index.
    assert!(!ring.verify_netstring(2, &auth_token(AuthMethod::Md5, b"x", data), data));
    assert!(!ring.verify_netstring(2, &auth_token(AuthMethod::Sha1, b"own2", data), data));
    assert!(!ring.verify_netstring(3, &own, data));
    assert!(!ring.verify_netstring(200, &own, data));
}

#[test]
fn classic_verification_uses_only_the_indexed_key() {
    let ring = two_entry_ring();
    let body = b"t=x\n";
    assert!(ring.verify_classic(2, &auth_token(AuthMethod::Md5, b"own2", body), body));
    assert!(!ring.verify_classic(2, &auth_token(AuthMethod::Md5, b"shared", body), body));
    assert!(ring.verify_classic(1, &auth_token(AuthMethod::Sha1, b"shared", body), body));
    assert!(!ring.verify_classic(4, "0", body));
}

#[test]
fn auth_string_parsing() {
    assert_eq!(parse_auth_string(b"1 abc"), Ok((1, "abc")));
    assert_eq!(parse_auth_string(b"15 abc"), Ok((15, "abc")));
    assert_eq!(
        parse_auth_string(b"16 abc"),
        Err(WireError::UnknownAuthIndex(16))
    );
    assert_eq!(
        parse_auth_string(b"999999999 abc"),
        Err(WireError::UnknownAuthIndex(999_999_999))
    );
    for bad in [
        &b""[..],
        b"1",
        b"1 ",
        b"1abc",
        b" 1 abc",
        b"x abc",
        b"-1 abc",
        b"1 a b",
        b"1234567890 abc",
        b"1 \xff",
    ] {
        assert_eq!(
            parse_auth_string(bad),
            Err(WireError::MalformedAuth),
            "{bad:?}"
        );
    }
}
