//! Classic text form (spec §2.3): `>>>\n` + `[(T)]name=value\n`… + `<<<\n`,
//! used on serial lines (and accepted on UDP), and the inner `auth` field
//! computed over it (spec §3.3).

use std::ops::Range;

use base64::engine::general_purpose::{GeneralPurpose, GeneralPurposeConfig, STANDARD};
use base64::engine::DecodePaddingMode;
use base64::{alphabet, Engine};

use super::auth::{check_classic_auth, Keyring};
use super::error::WireError;
use super::message::{Field, Message, FT_BINARY, FT_STRING};
use super::netstring::{field_name, strip_one_nul};
use super::MAXMSG;

/// First line of a classic message.
pub const CLASSIC_START: &[u8] = b">>>\n";
/// Last line of a classic message.
pub const CLASSIC_END: &[u8] = b"<<<\n";
/// Name of the inner classic signature field.
pub const AUTH_FIELD: &str = "auth";

/// Stands for `\n` inside string values, which would otherwise end the line.
const NEWLINE_SUBSTITUTE: u8 = 0x13;

/// Accepts base64 with or without `=` padding (be liberal in what we read).
const BASE64_LENIENT: GeneralPurpose = GeneralPurpose::new(
    &alphabet::STANDARD,
    GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::Indifferent),
);

/// `msg` as a classic message. Binary fields are `(1)name=<base64>`, other
/// non-string types `(T)name=value`; `\n` in non-binary values becomes 0x13.
pub fn encode_classic(msg: &Message) -> Vec<u8> {
    let mut out = Vec::with_capacity(CLASSIC_START.len() + body_capacity(msg) + 4);
    out.extend_from_slice(CLASSIC_START);
    for field in &msg.fields {
        push_line(&mut out, field);
    }
    out.extend_from_slice(CLASSIC_END);
    out
}

/// The bytes the inner `auth` token covers: every field's classic line in
/// order, without the markers and without any `auth` field.
pub fn classic_auth_body(msg: &Message) -> Vec<u8> {
    let mut out = Vec::with_capacity(body_capacity(msg));
    for field in msg.fields.iter().filter(|f| f.name != AUTH_FIELD) {
        push_line(&mut out, field);
    }
    out
}

/// Sets `auth=<index> <token>` signed with the active entry: replaced in
/// place if present (as `ha_msg_mod` does), otherwise appended last.
/// Does nothing without an active entry.
pub fn add_inner_auth(msg: &mut Message, keys: &Keyring) {
    if let Some((index, token)) = keys.sign(&classic_auth_body(msg)) {
        msg.set_str(AUTH_FIELD, &format!("{index} {token}"));
    }
}

/// Verifies the inner `auth` field with its entry's own method and key.
/// Returns the key index used.
pub fn check_inner_auth(msg: &Message, keys: &Keyring) -> Result<u8, WireError> {
    let raw = msg.get(AUTH_FIELD).ok_or(WireError::MissingAuth)?;
    check_classic_auth(keys, raw, &classic_auth_body(msg))
}

fn body_capacity(msg: &Message) -> usize {
    let size = msg
        .fields
        .iter()
        .map(|f| f.name.len() + f.value.len() * 4 / 3 + 8);
    size.sum()
}

fn push_line(out: &mut Vec<u8>, field: &Field) {
    if field.ftype != FT_STRING {
        out.extend_from_slice(format!("({})", field.ftype).as_bytes());
    }
    out.extend_from_slice(field.name.as_bytes());
    out.push(b'=');
    if field.ftype == FT_BINARY {
        out.extend_from_slice(STANDARD.encode(&field.value).as_bytes());
    } else {
        out.extend(field.value.iter().map(|&b| match b {
            b'\n' => NEWLINE_SUBSTITUTE,
            other => other,
        }));
    }
    out.push(b'\n');
}

/// Parses one classic message occupying all of `bytes` (one trailing NUL
/// allowed), without checking its `auth` field. Blank lines are skipped.
pub fn parse_classic(bytes: &[u8]) -> Result<Message, WireError> {
    if bytes.len() > MAXMSG {
        return Err(WireError::TooLarge(bytes.len()));
    }
    let mut rest = strip_one_nul(bytes)
        .strip_prefix(CLASSIC_START)
        .ok_or(WireError::BadMagic)?;
    let mut msg = Message::new();
    loop {
        let (line, next) = match rest.iter().position(|&b| b == b'\n') {
            Some(i) => (rest.get(..i).unwrap_or_default(), rest.get(i + 1..)),
            None => (rest, None),
        };
        if line == b"<<<" {
            return match next {
                Some(tail) if !tail.is_empty() => Err(WireError::TrailingBytes),
                _ => Ok(msg),
            };
        }
        let Some(next) = next else {
            return Err(WireError::Truncated);
        };
        if !line.is_empty() {
            msg.fields.push(parse_line(line)?);
        }
        rest = next;
    }
}

/// `[(T)]name=value`.
fn parse_line(line: &[u8]) -> Result<Field, WireError> {
    let (ftype, rest) = match line {
        [b'(', t @ b'0'..=b'9', b')', rest @ ..] => (*t - b'0', rest),
        [b'(', ..] => return Err(WireError::BadType),
        _ => (FT_STRING, line),
    };
    let eq = rest
        .iter()
        .position(|&b| b == b'=')
        .ok_or(WireError::BadField)?;
    let (name, value) = rest.split_at(eq);
    let value = value.get(1..).unwrap_or_default();
    let value = if ftype == FT_BINARY {
        BASE64_LENIENT
            .decode(value)
            .map_err(|_| WireError::BadBase64)?
    } else {
        value
            .iter()
            .map(|&b| match b {
                NEWLINE_SUBSTITUTE => b'\n',
                other => other,
            })
            .collect()
    };
    Ok(Field {
        name: field_name(name)?,
        ftype,
        value,
    })
}

/// Finds the first complete classic frame in a byte stream (serial line):
/// from a `>>>` line to the next `<<<` line, both at line starts. Bytes
/// before the returned range are noise to discard; `None` means no complete
/// frame yet.
pub fn find_classic_frame(buf: &[u8]) -> Option<Range<usize>> {
    let start = if buf.starts_with(CLASSIC_START) {
        0
    } else {
        find(buf, b"\n>>>\n")? + 1
    };
    // The `\n` ending `>>>\n` may also be the one before `<<<\n` (empty body).
    let from = start + CLASSIC_START.len() - 1;
    let end = from + find(buf.get(from..)?, b"\n<<<\n")? + 1 + CLASSIC_END.len();
    Some(start..end)
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Message {
        let mut m = Message::with_type("status");
        m.push_str("info", "two\nlines");
        m.push("srcuuid", FT_BINARY, vec![0x84, 0x77, 0x0c, 0x4e]);
        m.push("odd", 7, b"raw".to_vec());
        m.push_str("empty", "");
        m
    }

    #[test]
    fn encodes_types_and_newlines() {
        let bytes = encode_classic(&sample());
        assert_eq!(
            bytes,
            b">>>\nt=status\ninfo=two\x13lines\n(1)srcuuid=hHcMTg==\n(7)odd=raw\nempty=\n<<<\n"
                .to_vec()
        );
        assert_eq!(parse_classic(&bytes), Ok(sample()));
    }

    #[test]
    fn tolerant_input() {
        let input = b">>>\n\n(0)t=status\n\n(1)u=hHcMTg\n<<<\n\0";
        let msg = parse_classic(input).unwrap();
        assert_eq!(msg.get_str("t"), Some("status"));
        assert_eq!(msg.get("u"), Some(&[0x84, 0x77, 0x0c, 0x4e][..]));
        assert_eq!(
            parse_classic(b">>>\nt=x\n<<<").unwrap().get_str("t"),
            Some("x")
        );
    }

    #[test]
    fn rejects_malformed() {
        let cases: &[(&[u8], WireError)] = &[
            (b"###\n", WireError::BadMagic),
            (b">>>\nt=status\n", WireError::Truncated),
            (b">>>\nt=status", WireError::Truncated),
            (b">>>\nt=status\n<<<\nx", WireError::TrailingBytes),
            (b">>>\ntstatus\n<<<\n", WireError::BadField),
            (b">>>\n=status\n<<<\n", WireError::BadField),
            (b">>>\n(x)t=status\n<<<\n", WireError::BadType),
            (b">>>\n(1)u=***\n<<<\n", WireError::BadBase64),
            (b">>>\n\xc3(=1\n<<<\n", WireError::NotUtf8),
        ];
        for (input, want) in cases {
            assert_eq!(&parse_classic(input), &Err(want.clone()), "{input:?}");
        }
    }

    #[test]
    fn inner_auth_is_appended_then_replaced_in_place() {
        let keys = Keyring::single(1, super::super::auth::AuthMethod::Crc, b"");
        let mut msg = sample();
        add_inner_auth(&mut msg, &keys);
        let last = msg.fields.last().unwrap();
        assert_eq!(last.name, "auth");
        assert_eq!(check_inner_auth(&msg, &keys), Ok(1));
        msg.push_str("late", "x");
        add_inner_auth(&mut msg, &keys);
        assert_eq!(msg.fields.iter().filter(|f| f.name == "auth").count(), 1);
        assert_eq!(msg.fields.last().unwrap().name, "late");
        assert_eq!(check_inner_auth(&msg, &keys), Ok(1));
        msg.set_str("late", "y");
        assert_eq!(check_inner_auth(&msg, &keys), Err(WireError::BadSignature));
        msg.remove("auth");
        assert_eq!(check_inner_auth(&msg, &keys), Err(WireError::MissingAuth));
    }

    #[test]
    fn frames_in_a_stream() {
        let stream = b"noise\n>>>\nt=a\n<<<\n>>>\n<<<\n>>>\nt=b\n";
        let first = find_classic_frame(stream).unwrap();
        assert_eq!(&stream[first.clone()], b">>>\nt=a\n<<<\n");
        let rest = &stream[first.end..];
        let second = find_classic_frame(rest).unwrap();
        assert_eq!(&rest[second.clone()], b">>>\n<<<\n");
        assert_eq!(find_classic_frame(&rest[second.end..]), None);
        assert_eq!(find_classic_frame(b"x>>>\nt=a\n<<<\n"), None);
    }
}
