//! Netstring form (spec §2.2), the UDP wire format:
//! `###\n` + `LEN:(T)name=value,`… + `%%%\n` + trailer `LEN:IDX TOKEN,`.
//! The trailer signs every byte from `###\n` through `%%%\n`.

use super::auth::Keyring;
use super::error::WireError;
use super::message::{Field, Message};
use super::MAXMSG;

/// First four bytes of a netstring packet.
pub const NETSTRING_START: &[u8] = b"###\n";
/// Marks the end of the fields (and of the signed region).
pub const NETSTRING_END: &[u8] = b"%%%\n";

/// A netstring length prefix longer than this cannot describe a field of a
/// packet within `MAXMSG` (6 digits, one spare for a leading zero).
const MAX_LEN_DIGITS: usize = 7;

/// A netstring packet split into its parts, before any authentication.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ParsedNetstring<'a> {
    pub msg: Message,
    /// The signed region: `###\n` through `%%%\n`.
    pub signed: &'a [u8],
    /// The trailer body `IDX TOKEN`, when present.
    pub auth: Option<&'a [u8]>,
}

/// The signed region of `msg`: `###\n`, one netstring per field, `%%%\n`.
/// Field types must be single digits (0–9), as every decoded or
/// `Message`-built field is; names must not contain `=`.
pub fn encode_netstring_unsigned(msg: &Message) -> Vec<u8> {
    let size = msg.fields.iter().map(|f| f.name.len() + f.value.len() + 16);
    let mut out = Vec::with_capacity(8 + size.sum::<usize>());
    out.extend_from_slice(NETSTRING_START);
    for field in &msg.fields {
        debug_assert!(field.ftype <= 9, "field type must be one digit");
        let body_len = 3 + field.name.len() + 1 + field.value.len();
        out.extend_from_slice(body_len.to_string().as_bytes());
        out.extend_from_slice(b":(");
        out.push(b'0' + field.ftype % 10);
        out.push(b')');
        out.extend_from_slice(field.name.as_bytes());
        out.push(b'=');
        out.extend_from_slice(&field.value);
        out.push(b',');
    }
    out.extend_from_slice(NETSTRING_END);
    out
}

/// The UDP packet for `msg`, signed with the active authkeys entry
/// (`LEN:IDX TOKEN,`). Without an active entry no trailer is added — a real
/// peer would drop such a packet, so the daemon must refuse to start without
/// one (the authkeys parser guarantees it).
pub fn encode_netstring(msg: &Message, keys: &Keyring) -> Vec<u8> {
    let mut out = encode_netstring_unsigned(msg);
    if let Some((index, token)) = keys.sign(&out) {
        let sig = format!("{index} {token}");
        out.extend_from_slice(format!("{}:{sig},", sig.len()).as_bytes());
    }
    out
}

/// Parses a netstring packet without checking its signature. Accepts one
/// trailing NUL (Heartbeat's read plugins append one).
pub fn parse_netstring(bytes: &[u8]) -> Result<ParsedNetstring<'_>, WireError> {
    if bytes.len() > MAXMSG {
        return Err(WireError::TooLarge(bytes.len()));
    }
    let mut rest = bytes
        .strip_prefix(NETSTRING_START)
        .ok_or(WireError::BadMagic)?;
    let mut msg = Message::new();
    loop {
        if let Some(after) = rest.strip_prefix(NETSTRING_END) {
            let signed_len = bytes.len() - after.len();
            let signed = bytes.get(..signed_len).ok_or(WireError::Truncated)?;
            let auth = parse_trailer(after)?;
            return Ok(ParsedNetstring { msg, signed, auth });
        }
        if NETSTRING_END.starts_with(rest) {
            // Empty, or a prefix of the end marker.
            return Err(WireError::Truncated);
        }
        let (body, after) = peel(rest)?;
        msg.fields.push(parse_field(body)?);
        rest = after;
    }
}

/// Splits `LEN:body,` off the front of `input`: (body, rest).
fn peel(input: &[u8]) -> Result<(&[u8], &[u8]), WireError> {
    let digits = input.iter().take_while(|b| b.is_ascii_digit()).count();
    if digits == 0 || digits > MAX_LEN_DIGITS {
        return Err(if digits == input.len() {
            WireError::Truncated
        } else {
            WireError::BadLength
        });
    }
    let (len_text, after_digits) = input.split_at(digits);
    let after_colon = match after_digits.split_first() {
        None => return Err(WireError::Truncated),
        Some((b':', after)) => after,
        Some(_) => return Err(WireError::BadLength),
    };
    let len = decimal(len_text).ok_or(WireError::BadLength)?;
    if len > after_colon.len() {
        return Err(WireError::Truncated);
    }
    let (body, after_body) = after_colon.split_at(len);
    match after_body.split_first() {
        None => Err(WireError::Truncated),
        Some((b',', rest)) => Ok((body, rest)),
        Some(_) => Err(WireError::BadLength),
    }
}

fn decimal(digits: &[u8]) -> Option<usize> {
    std::str::from_utf8(digits).ok()?.parse().ok()
}

/// `(T)name=value`: T one digit (unknown types are kept as raw bytes).
fn parse_field(body: &[u8]) -> Result<Field, WireError> {
    let (ftype, rest) = match body {
        [b'(', t @ b'0'..=b'9', b')', rest @ ..] => (*t - b'0', rest),
        _ => return Err(WireError::BadType),
    };
    let eq = rest
        .iter()
        .position(|&b| b == b'=')
        .ok_or(WireError::BadField)?;
    let (name, value) = rest.split_at(eq);
    let value = value.get(1..).unwrap_or_default();
    Ok(Field {
        name: field_name(name)?,
        ftype,
        value: value.to_vec(),
    })
}

/// A field name: non-empty, no NUL (Heartbeat's `strcspn` would stop there),
/// UTF-8 so it fits `Field::name`.
pub(crate) fn field_name(raw: &[u8]) -> Result<String, WireError> {
    if raw.is_empty() || raw.contains(&0) {
        return Err(WireError::BadField);
    }
    String::from_utf8(raw.to_vec()).map_err(|_| WireError::NotUtf8)
}

/// What follows `%%%\n`: nothing (unsigned), or `LEN:IDX TOKEN,`, each
/// optionally followed by a single NUL.
fn parse_trailer(after_end: &[u8]) -> Result<Option<&[u8]>, WireError> {
    if strip_one_nul(after_end).is_empty() {
        return Ok(None);
    }
    let (auth, rest) = peel(after_end)?;
    if !strip_one_nul(rest).is_empty() {
        return Err(WireError::TrailingBytes);
    }
    Ok(Some(auth))
}

pub(crate) fn strip_one_nul(bytes: &[u8]) -> &[u8] {
    bytes.strip_suffix(&[0]).unwrap_or(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn status() -> Message {
        let mut m = Message::with_type("status");
        m.push("srcuuid", 1, vec![0, b',', b'\n', 0xff]);
        m.push_str("ld", "");
        m
    }

    #[test]
    fn unsigned_round_trip() {
        let bytes = encode_netstring_unsigned(&status());
        assert_eq!(
            bytes,
            b"###\n11:(0)t=status,15:(1)srcuuid=\0,\n\xff,6:(0)ld=,%%%\n".to_vec()
        );
        let parsed = parse_netstring(&bytes).unwrap();
        assert_eq!(parsed.msg, status());
        assert_eq!(parsed.signed, &bytes[..]);
        assert_eq!(parsed.auth, None);
    }

    #[test]
    fn trailer_and_trailing_nul() {
        let mut bytes = encode_netstring_unsigned(&status());
        let signed_len = bytes.len();
        bytes.extend_from_slice(b"10:1 8ce7cbf6,\0");
        let parsed = parse_netstring(&bytes).unwrap();
        assert_eq!(parsed.signed.len(), signed_len);
        assert_eq!(parsed.auth, Some(&b"1 8ce7cbf6"[..]));
    }

    #[test]
    fn rejects_malformed_fields() {
        let cases: &[(&[u8], WireError)] = &[
            (b"###\n", WireError::Truncated),
            (b"###\n%%", WireError::Truncated),
            (b"###\n11", WireError::Truncated),
            (b"###\n11:(0)t=st", WireError::Truncated),
            (b"###\n11:(0)t=status", WireError::Truncated),
            (b"###\n11:(0)t=status;%%%\n", WireError::BadLength),
            (b"###\nx1:(0)t=status,%%%\n", WireError::BadLength),
            (b"###\n11;(0)t=status,%%%\n", WireError::BadLength),
            (b"###\n99999999:(0)t=status,%%%\n", WireError::BadLength),
            (b"###\n8:t=status,%%%\n", WireError::BadType),
            (b"###\n11:(x)t=status,%%%\n", WireError::BadType),
            (b"###\n11:(0)txstatus,%%%\n", WireError::BadField),
            (b"###\n7:(0)=abc,%%%\n", WireError::BadField),
            (b"###\n7:(0)\xffa=b,%%%\n", WireError::NotUtf8),
            (b"###\n7:(0)\0a=b,%%%\n", WireError::BadField),
            (b"###\n%%%\n5:1 abc,x", WireError::TrailingBytes),
            (b"###\n%%%\n5:1 abc,\0\0", WireError::TrailingBytes),
            (b"###\n%%%\n5:1 ab", WireError::Truncated),
            (b">>>\n", WireError::BadMagic),
        ];
        for (input, want) in cases {
            assert_eq!(
                parse_netstring(input).as_ref().map(|p| &p.msg),
                Err(want),
                "input {:?}",
                String::from_utf8_lossy(input)
            );
        }
    }

    #[test]
    fn unknown_types_are_kept_raw() {
        let bytes = b"###\n8:(7)x=a,b,%%%\n";
        let parsed = parse_netstring(bytes).unwrap();
        assert_eq!(parsed.msg.fields[0].ftype, 7);
        assert_eq!(parsed.msg.get("x"), Some(&b"a,b"[..]));
        assert_eq!(encode_netstring_unsigned(&parsed.msg), bytes.to_vec());
    }
}
