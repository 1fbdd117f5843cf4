//! Receiving: dispatch on the first four bytes like the real daemon
//! (`###\n` netstring, `>>>\n` classic, anything else dropped) and verify
//! the signature that form carries.

use super::auth::{check_netstring_auth, Keyring};
use super::classic::{check_inner_auth, parse_classic, CLASSIC_START};
use super::error::WireError;
use super::message::Message;
use super::netstring::{parse_netstring, NETSTRING_START};
use super::MAXMSG;

/// Which encoding a packet arrived in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum WireFormat {
    Netstring,
    Classic,
}

/// A decoded message and the form it arrived in.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Packet {
    pub msg: Message,
    pub format: WireFormat,
}

/// Decodes and authenticates one packet: a netstring packet must carry a
/// valid trailer (its inner `auth` field, if any, is ignored as real nodes
/// do); a classic packet must carry a valid `auth` field.
pub fn decode(bytes: &[u8], keys: &Keyring) -> Result<Packet, WireError> {
    match sniff(bytes)? {
        WireFormat::Netstring => {
            let parsed = parse_netstring(bytes)?;
            let auth = parsed.auth.ok_or(WireError::MissingSignature)?;
            check_netstring_auth(keys, auth, parsed.signed)?;
            Ok(Packet {
                msg: parsed.msg,
                format: WireFormat::Netstring,
            })
        }
        WireFormat::Classic => {
            let msg = parse_classic(bytes)?;
            check_inner_auth(&msg, keys)?;
            Ok(Packet {
                msg,
                format: WireFormat::Classic,
            })
        }
    }
}

/// Decodes one packet without checking any signature (tools and tests).
pub fn decode_unverified(bytes: &[u8]) -> Result<Packet, WireError> {
    let format = sniff(bytes)?;
    let msg = match format {
        WireFormat::Netstring => parse_netstring(bytes)?.msg,
        WireFormat::Classic => parse_classic(bytes)?,
    };
    Ok(Packet { msg, format })
}

/// The format announced by the first four bytes, after the size checks.
pub fn sniff(bytes: &[u8]) -> Result<WireFormat, WireError> {
    if bytes.is_empty() {
        return Err(WireError::Empty);
    }
    if bytes.len() > MAXMSG {
        return Err(WireError::TooLarge(bytes.len()));
    }
    if bytes.starts_with(NETSTRING_START) {
        Ok(WireFormat::Netstring)
    } else if bytes.starts_with(CLASSIC_START) {
        Ok(WireFormat::Classic)
    } else if NETSTRING_START.starts_with(bytes) || CLASSIC_START.starts_with(bytes) {
        Err(WireError::Truncated)
    } else {
        Err(WireError::BadMagic)
    }
}
