//! Test support: read the captured fixtures in tests/data/ (pcap files, socat
//! hex logs, authkeys). Fixtures are trusted, so malformed ones panic loudly.
#![allow(dead_code)]

pub mod cluster;
pub mod fence;
pub mod lab;

use std::path::PathBuf;

use heartbeat_rs::wire::{AuthMethod, Keyring, MAX_AUTH};

pub fn data_path(rel: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data")
        .join(rel)
}

pub fn read_data(rel: &str) -> Vec<u8> {
    let path = data_path(rel);
    std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// A minimal authkeys reader (`auth N`, `N method [key]`, `#` comments),
/// enough for the fixture files; the real parser lives in `config`.
pub fn keyring(rel: &str) -> Keyring {
    let text = String::from_utf8(read_data(rel)).expect("authkeys is text");
    let mut ring = Keyring {
        entries: Default::default(),
        active: 0,
    };
    for line in text.lines().map(str::trim) {
        let words: Vec<&str> = line.split_whitespace().collect();
        match words.as_slice() {
            [] => {}
            [w, ..] if w.starts_with('#') => {}
            ["auth", n] => ring.active = n.parse().expect("auth index"),
            [n, method, rest @ ..] => {
                let index: usize = n.parse().expect("key index");
                assert!(index < MAX_AUTH);
                ring.entries[index] = Some(heartbeat_rs::wire::AuthEntry {
                    method: AuthMethod::from_name(method).expect("method"),
                    key: rest
                        .first()
                        .map(|k| k.as_bytes().to_vec())
                        .unwrap_or_default(),
                });
            }
            other => panic!("bad authkeys line {other:?}"),
        }
    }
    ring
}

/// One UDP datagram taken from a capture.
#[derive(Clone, Debug)]
pub struct Datagram {
    /// 0-based index of the frame in the pcap (as `pcapdump.py` numbers them).
    pub frame: usize,
    pub src: [u8; 4],
    pub dst: [u8; 4],
    pub dst_port: u16,
    pub payload: Vec<u8>,
}

/// What a capture contains.
#[derive(Debug, Default)]
pub struct Capture {
    pub frames: usize,
    /// Frames that are not IPv4/UDP (ARP, IGMP).
    pub skipped: usize,
    pub udp: Vec<Datagram>,
}

fn u16_at(b: &[u8], at: usize, big_endian: bool) -> u16 {
    let raw = [b[at], b[at + 1]];
    if big_endian {
        u16::from_be_bytes(raw)
    } else {
        u16::from_le_bytes(raw)
    }
}

fn u32_at(b: &[u8], at: usize, big_endian: bool) -> u32 {
    let raw = [b[at], b[at + 1], b[at + 2], b[at + 3]];
    if big_endian {
        u32::from_be_bytes(raw)
    } else {
        u32::from_le_bytes(raw)
    }
}

/// Reads a classic libpcap file with Ethernet (1) or Linux cooked (113)
/// link type and returns every IPv4/UDP datagram. IP fragments are refused
/// (none of the fixtures has any; a fragment would otherwise be misread).
pub fn read_pcap(rel: &str) -> Capture {
    let file = read_data(rel);
    assert!(file.len() >= 24, "{rel}: short pcap header");
    let big_endian = match u32_at(&file, 0, false) {
        0xa1b2_c3d4 | 0xa1b2_3c4d => false,
        0xd4c3_b2a1 | 0x4d3c_b2a1 => true,
        magic => panic!("{rel}: not a pcap file (magic {magic:08x})"),
    };
    let link_type = u32_at(&file, 20, big_endian);
    let link_header = match link_type {
        1 => 14,
        113 => 16,
        other => panic!("{rel}: unsupported link type {other}"),
    };
    let mut capture = Capture::default();
    let mut at = 24;
    while at < file.len() {
        assert!(at + 16 <= file.len(), "{rel}: truncated record header");
        let incl = u32_at(&file, at + 8, big_endian) as usize;
        let orig = u32_at(&file, at + 12, big_endian) as usize;
        assert_eq!(
            incl, orig,
            "{rel}: frame {} was cut by the snap length",
            capture.frames
        );
        let frame = &file[at + 16..at + 16 + incl];
        at += 16 + incl;
        let index = capture.frames;
        capture.frames += 1;
        let ethertype = u16_at(frame, link_header - 2, true);
        let ip = &frame[link_header..];
        if ethertype != 0x0800 || ip[9] != 17 {
            capture.skipped += 1;
            continue;
        }
        assert_eq!(ip[0] >> 4, 4, "{rel}: frame {index} is not IPv4");
        let flags_offset = u16_at(ip, 6, true);
        assert_eq!(
            flags_offset & 0x3fff,
            0,
            "{rel}: frame {index} is an IP fragment"
        );
        let ihl = usize::from(ip[0] & 0x0f) * 4;
        let udp = &ip[ihl..];
        let udp_len = usize::from(u16_at(udp, 4, true));
        capture.udp.push(Datagram {
            frame: index,
            src: [ip[12], ip[13], ip[14], ip[15]],
            dst: [ip[16], ip[17], ip[18], ip[19]],
            dst_port: u16_at(udp, 2, true),
            payload: udp[8..udp_len].to_vec(),
        });
    }
    capture
}

/// Reads a `socat -v -x` log: chunk headers `> DATE length=N from=A to=B`
/// (`>` left-to-right, `<` right-to-left) followed by hex dump lines
/// (`" 3e 3e 3e 0a ...   >>>."`, hex in the first 49 columns). Returns the
/// concatenated byte streams of both directions, checking every chunk's
/// byte count against its `length=`.
pub fn read_socat_log(rel: &str) -> (Vec<u8>, Vec<u8>) {
    let text = String::from_utf8(read_data(rel)).expect("socat log is text");
    let mut right = Vec::new();
    let mut left = Vec::new();
    let mut current: Option<(char, usize, usize)> = None; // direction, announced, seen
    fn finish(chunk: Option<(char, usize, usize)>) {
        if let Some((dir, announced, seen)) = chunk {
            assert_eq!(announced, seen, "socat chunk {dir} length mismatch");
        }
    }
    for line in text.lines() {
        if let Some(dir @ ('>' | '<')) = line.chars().next() {
            let length = line
                .split_whitespace()
                .find_map(|w| w.strip_prefix("length="))
                .expect("chunk header has length=");
            finish(current.take());
            current = Some((dir, length.parse().expect("length"), 0));
        } else if line.starts_with(' ') {
            let (dir, _, seen) = current.as_mut().expect("hex line inside a chunk");
            let hex = line.get(..49).unwrap_or(line);
            for token in hex.split_whitespace() {
                let byte = u8::from_str_radix(token, 16).expect("hex byte");
                if *dir == '>' {
                    right.push(byte);
                } else {
                    left.push(byte);
                }
                *seen += 1;
            }
        }
    }
    finish(current);
    (right, left)
}
