//! The codec against real Heartbeat 3.0.6 traffic (tests/data/README.md):
//! every UDP/694 datagram of every capture is decoded, its trailer and its
//! inner `auth` field verified, and re-encoded to the identical bytes; the
//! deliberately bad packets of hb306-bcast-2node.pcap are rejected for the
//! documented reason. Serial classic frames get the same treatment.

mod common;

use common::{keyring, read_data, read_pcap, read_socat_log, Datagram};
use heartbeat_rs::wire::auth::parse_auth_string;
use heartbeat_rs::wire::{
    add_inner_auth, check_inner_auth, decode, encode_classic, encode_netstring,
    encode_netstring_unsigned, find_classic_frame, parse_classic, parse_netstring, AuthMethod,
    Keyring, Message, WireError, WireFormat,
};

/// What happened to one captured datagram.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Outcome {
    /// Netstring accepted (trailer signed with key `trailer`); its inner
    /// `auth` field (key `inner`) also verifies and is recomputed identically.
    NetstringInnerOk { trailer: u8, inner: u8 },
    /// Netstring accepted; it carries no inner `auth` field.
    NetstringNoInner { trailer: u8 },
    /// Netstring accepted (real nodes never check the inner field of a
    /// netstring packet) but its inner `auth` field does not verify.
    NetstringInnerBad { trailer: u8, error: WireError },
    /// Classic accepted: inner `auth` verifies and is recomputed identically.
    ClassicOk { inner: u8, trailing_nul: bool },
    /// `decode` refused the packet.
    Rejected {
        format: WireFormat,
        error: WireError,
    },
}

/// A copy of `keys` whose active entry is `index` (to re-sign like the sender).
fn active(keys: &Keyring, index: u8) -> Keyring {
    let mut ring = keys.clone();
    ring.active = index;
    ring
}

fn without_nul(bytes: &[u8]) -> (&[u8], bool) {
    match bytes.strip_suffix(&[0]) {
        Some(b) => (b, true),
        None => (bytes, false),
    }
}

/// Re-derives the inner `auth` field with the sender's key and demands the
/// message come out unchanged (same token, same position).
fn assert_inner_recomputes(msg: &Message, keys: &Keyring, inner: u8, ctx: &str) {
    let mut again = msg.clone();
    add_inner_auth(&mut again, &active(keys, inner));
    assert_eq!(&again, msg, "{ctx}: inner auth field not reproduced");
}

fn classify(bytes: &[u8], keys: &Keyring, ctx: &str) -> Outcome {
    let packet = match decode(bytes, keys) {
        Ok(p) => p,
        Err(error) => {
            let format = if bytes.starts_with(b"###\n") {
                WireFormat::Netstring
            } else {
                WireFormat::Classic
            };
            return Outcome::Rejected { format, error };
        }
    };
    let msg = &packet.msg;
    let (exact, trailing_nul) = without_nul(bytes);
    match packet.format {
        WireFormat::Netstring => {
            assert!(!trailing_nul, "{ctx}: no real netstring packet ends in NUL");
            let parsed = parse_netstring(bytes).expect("decoded above");
            let (trailer, _) = parse_auth_string(parsed.auth.expect("signed")).expect("valid");
            // Bit-exact: same fields, same signed region, same trailer.
            assert_eq!(encode_netstring_unsigned(msg), parsed.signed, "{ctx}");
            assert_eq!(
                encode_netstring(msg, &active(keys, trailer)),
                exact,
                "{ctx}"
            );
            match (msg.get("auth"), check_inner_auth(msg, keys)) {
                (None, _) => Outcome::NetstringNoInner { trailer },
                (Some(_), Ok(inner)) => {
                    assert_inner_recomputes(msg, keys, inner, ctx);
                    assert_eq!(msg.fields.last().map(|f| f.name.as_str()), Some("auth"));
                    Outcome::NetstringInnerOk { trailer, inner }
                }
                (Some(_), Err(error)) => Outcome::NetstringInnerBad { trailer, error },
            }
        }
        WireFormat::Classic => {
            let inner = check_inner_auth(msg, keys).expect("decode verified it");
            assert_inner_recomputes(msg, keys, inner, ctx);
            assert_eq!(encode_classic(msg), exact, "{ctx}");
            Outcome::ClassicOk {
                inner,
                trailing_nul,
            }
        }
    }
}

fn outcomes(pcap: &str, keys: &Keyring) -> (common::Capture, Vec<(Datagram, Outcome)>) {
    let capture = read_pcap(pcap);
    let results = capture
        .udp
        .iter()
        .map(|d| {
            assert_eq!(d.dst_port, 694, "{pcap}: frame {}", d.frame);
            let ctx = format!("{pcap} frame {}", d.frame);
            (d.clone(), classify(&d.payload, keys, &ctx))
        })
        .collect();
    (capture, results)
}

/// A capture made entirely of good packets signed with index 1.
fn check_clean_capture(pcap: &str, authkeys: &str, frames: usize, udp: usize) {
    let keys = keyring(authkeys);
    let (capture, results) = outcomes(pcap, &keys);
    assert_eq!(capture.frames, frames, "{pcap}: frames");
    assert_eq!(capture.udp.len(), udp, "{pcap}: UDP/694 datagrams");
    for (d, outcome) in &results {
        assert_eq!(
            outcome,
            &Outcome::NetstringInnerOk {
                trailer: 1,
                inner: 1
            },
            "{pcap}: frame {}",
            d.frame
        );
    }
    eprintln!("{pcap}: {udp}/{udp} datagrams verified and re-encoded");
}

macro_rules! clean_capture {
    ($name:ident, $file:expr, $keys:expr, $frames:expr, $udp:expr) => {
        #[test]
        fn $name() {
            check_clean_capture(concat!("pcap/", $file), $keys, $frames, $udp);
        }
    };
}

const SHA1: &str = "keys/conf-bcast.authkeys";
clean_capture!(bcast_startup, "bcast-startup.pcap", SHA1, 118, 108);
clean_capture!(bcast_steady, "bcast-steady.pcap", SHA1, 48, 48);
clean_capture!(bcast_standby, "bcast-standby.pcap", SHA1, 84, 64);
clean_capture!(bcast_failover, "bcast-failover.pcap", SHA1, 40, 30);
clean_capture!(bcast_failback, "bcast-failback.pcap", SHA1, 63, 53);
clean_capture!(bcast_partition, "bcast-partition.pcap", SHA1, 190, 170);
clean_capture!(bcast_shutdown, "bcast-shutdown.pcap", SHA1, 47, 37);
// mcast: 4 IGMP frames besides ARP.
clean_capture!(
    mcast_startup,
    "mcast-startup.pcap",
    "keys/conf-mcast.authkeys",
    118,
    104
);
clean_capture!(
    ucast_startup,
    "ucast-startup.pcap",
    "keys/conf-ucast.authkeys",
    121,
    107
);
clean_capture!(
    auth_md5_startup,
    "auth-md5-startup.pcap",
    "keys/conf-md5.authkeys",
    117,
    107
);
clean_capture!(
    auth_crc_startup,
    "auth-crc-startup.pcap",
    "keys/conf-crc.authkeys",
    115,
    105
);

fn frames_with(results: &[(Datagram, Outcome)], want: &Outcome) -> Vec<usize> {
    results
        .iter()
        .filter(|(_, o)| o == want)
        .map(|(d, _)| d.frame)
        .collect()
}

/// hb306-bcast-2node.pcap, checked with node1's key ring (1 sha1 labsecret,
/// 2 md5 labsecret, 3 crc). Every one of its 1836 UDP/694 datagrams lands in
/// exactly one documented class.
#[test]
fn hb306_bcast_2node() {
    let pcap = "pcap/hb306-bcast-2node.pcap";
    let keys = keyring("keys/hb306-bcast-2node.authkeys");
    let (capture, results) = outcomes(pcap, &keys);
    assert_eq!(capture.frames, 1836);
    assert_eq!(capture.skipped, 0);

    let count = |o: Outcome| frames_with(&results, &o).len();
    let ok = |trailer, inner| Outcome::NetstringInnerOk { trailer, inner };
    // Good netstring packets of the real nodes, per signing index.
    assert_eq!(count(ok(1, 1)), 1696);
    assert_eq!(count(ok(2, 2)), 4);
    assert_eq!(count(ok(3, 3)), 18);
    // The foreign test peer's netstring packets have no inner field (it sends
    // no srcuuid either): all verified and re-encoded too.
    let no_inner = frames_with(&results, &Outcome::NetstringNoInner { trailer: 1 });
    assert_eq!(no_inner.len(), 88);
    for (d, _) in results.iter().filter(|(d, _)| no_inner.contains(&d.frame)) {
        let msg = parse_netstring(&d.payload).unwrap().msg;
        assert_eq!(
            (msg.get_str("src"), msg.get("srcuuid")),
            (Some("node2"), None)
        );
    }

    // Classic packets from the test peer over UDP, accepted (4 end in NUL).
    let classic_ok = |nul| Outcome::ClassicOk {
        inner: 1,
        trailing_nul: nul,
    };
    assert_eq!(
        frames_with(&results, &classic_ok(false)),
        [766, 768, 770, 773, 776]
    );
    assert_eq!(
        frames_with(&results, &classic_ok(true)),
        [778, 780, 782, 784]
    );

    // Expected rejections, each explained.
    let rejected = |format, error| Outcome::Rejected { format, error };
    let payload = |frame: usize| {
        let d = results.iter().find(|(d, _)| d.frame == frame).unwrap();
        d.0.payload.clone()
    };

    // 1. Test peer, netstring, trailer index 1 signed with sha1 key "wrongkey".
    let wrongkey = Keyring::single(1, AuthMethod::Sha1, b"wrongkey");
    let bad = frames_with(
        &results,
        &rejected(WireFormat::Netstring, WireError::BadSignature),
    );
    let (idx1, idx2): (Vec<usize>, Vec<usize>) = bad.iter().partition(|&&f| {
        let p = payload(f);
        parse_auth_string(parse_netstring(&p).unwrap().auth.unwrap())
            .unwrap()
            .0
            == 1
    });
    assert_eq!(idx1, [798, 800, 802]);
    for f in &idx1 {
        assert!(decode(&payload(*f), &wrongkey).is_ok(), "frame {f}");
    }

    // 2. node2 switched to `auth 2` with its entry 2 = `sha1 otherkey` while
    //    node1's entry 2 is `md5 labsecret`: the trailer carries a 40-hex
    //    (sha1) token under index 2; neither entry 2's key nor the active key
    //    (spec §3.3 tolerance) makes an md5 of it.
    let otherkey = Keyring::single(2, AuthMethod::Sha1, b"otherkey");
    assert_eq!(idx2, [1405, 1408, 1410, 1412, 1414, 1416]);
    let mut idx2_seqs = Vec::new();
    for f in &idx2 {
        let p = payload(*f);
        let parsed = parse_netstring(&p).unwrap();
        let (_, token) = parse_auth_string(parsed.auth.unwrap()).unwrap();
        assert_eq!(token.len(), 40, "frame {f}");
        let good = decode(&p, &otherkey).unwrap();
        assert_eq!(check_inner_auth(&good.msg, &otherkey), Ok(2));
        idx2_seqs.push(good.msg.get_hex("seq").unwrap());
    }

    // 3. node2 back on `auth 1` retransmits those messages: the trailer is
    //    re-signed with index 1 (accepted), the stored message keeps its old
    //    inner `auth=2 <sha1 otherkey>` field, which fails with our md5 entry 2.
    let rexmit = frames_with(
        &results,
        &Outcome::NetstringInnerBad {
            trailer: 1,
            error: WireError::BadSignature,
        },
    );
    assert_eq!(rexmit, [1430, 1438, 1439, 1440, 1441, 1442]);
    for f in &rexmit {
        let msg = decode(&payload(*f), &keys).unwrap().msg;
        assert_eq!(check_inner_auth(&msg, &otherkey), Ok(2), "frame {f}");
        assert!(
            idx2_seqs.contains(&msg.get_hex("seq").unwrap()),
            "frame {f}"
        );
    }

    // 4. Test peer, classic, inner auth signed with sha1 "wrongkey".
    let classic_bad = frames_with(
        &results,
        &rejected(WireFormat::Classic, WireError::BadSignature),
    );
    assert_eq!(classic_bad, [804, 806, 808]);
    for f in &classic_bad {
        let msg = parse_classic(&payload(*f)).unwrap();
        assert_eq!(check_inner_auth(&msg, &wrongkey), Ok(1), "frame {f}");
    }

    // 5. Test peer, classic, no auth field at all.
    let missing = frames_with(
        &results,
        &rejected(WireFormat::Classic, WireError::MissingAuth),
    );
    assert_eq!(missing, [810, 814, 816]);

    // Nothing else.
    let explained = 1696 + 4 + 18 + 88 + 9 + 3 + 6 + 6 + 3 + 3;
    assert_eq!(results.len(), explained);
    eprintln!(
        "{pcap}: 1812 netstring accepted and re-encoded (1718 with verified inner auth, \
         88 without inner field, 6 with a stale inner field), 9 netstring rejected, \
         9 classic accepted and re-encoded, 6 classic rejected"
    );
}

/// Spec §2.6 / §3.4 vector B and the crc example are real packets of this capture.
#[test]
fn hb306_contains_spec_examples() {
    let capture = read_pcap("pcap/hb306-bcast-2node.pcap");
    let has = |needle: &[u8]| {
        capture
            .udp
            .iter()
            .filter(|d| d.payload.windows(needle.len()).any(|w| w == needle))
            .count()
    };
    assert_eq!(has(b"auth=1 befb23a3ddca494059b3192b431a8a9293c10220,%%%\n42:1 08417b620c949588dc141ab13014802ef01759e7,"), 1);
    assert!(has(b"auth=3 1a0ea95a,%%%\n10:3 ebc64f42,") >= 1);
}

fn check_serial_stream(name: &str, stream: &[u8], keys: &Keyring) -> usize {
    let mut rest = stream;
    let mut frames = 0;
    while let Some(range) = find_classic_frame(rest) {
        assert_eq!(range.start, 0, "{name}: noise before frame {frames}");
        let frame = &rest[range.clone()];
        let ctx = format!("{name} frame {frames}");
        assert_eq!(
            classify(frame, keys, &ctx),
            Outcome::ClassicOk {
                inner: 1,
                trailing_nul: false
            },
            "{ctx}"
        );
        rest = &rest[range.end..];
        frames += 1;
    }
    assert!(
        rest.is_empty(),
        "{name}: {} bytes after the last frame",
        rest.len()
    );
    frames
}

/// serial-startup: socat's hex log of both directions of the serial link.
#[test]
fn serial_startup_socat_log() {
    let keys = keyring("keys/conf-serial.authkeys");
    let (alpha_to_bravo, bravo_to_alpha) = read_socat_log("serial/serial-startup.socat.txt");
    assert_eq!(alpha_to_bravo.len(), 11629);
    assert_eq!(bravo_to_alpha.len(), 10940);
    assert_eq!(
        check_serial_stream("alpha->bravo", &alpha_to_bravo, &keys),
        56
    );
    assert_eq!(
        check_serial_stream("bravo->alpha", &bravo_to_alpha, &keys),
        53
    );
}

/// hb306-serial-capture.bin: raw bytes a real node wrote on a serial medium.
#[test]
fn hb306_serial_capture() {
    let keys = keyring("keys/hb306-serial.authkeys");
    let stream = read_data("serial/hb306-serial-capture.bin");
    assert_eq!(check_serial_stream("hb306-serial", &stream, &keys), 8);
}
