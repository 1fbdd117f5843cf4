//! Why a packet could not be decoded or authenticated.

use std::fmt;

/// A decoding or authentication failure. Every malformed, truncated,
/// oversized or badly signed input maps to one of these; the codec never
/// panics on outside data.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum WireError {
    /// Zero bytes.
    Empty,
    /// The input is larger than [`super::MAXMSG`] bytes (the length is carried).
    TooLarge(usize),
    /// Starts with neither `###\n` (netstring) nor `>>>\n` (classic).
    BadMagic,
    /// The input ends inside a field, before the end marker or inside the trailer.
    Truncated,
    /// A netstring length prefix is not a decimal number followed by `:`,
    /// or the counted bytes are not followed by `,`.
    BadLength,
    /// A field lacks the `(T)` type prefix (T a single digit), or a classic
    /// line has a malformed one.
    BadType,
    /// A field has no `=`, an empty name, or a NUL byte in its name.
    BadField,
    /// A field name is not valid UTF-8.
    NotUtf8,
    /// A binary field of a classic message is not valid base64.
    BadBase64,
    /// Bytes after the end of the message (other than one trailing NUL).
    TrailingBytes,
    /// A netstring packet without the `LEN:IDX TOKEN,` trailer.
    MissingSignature,
    /// A classic message without an `auth` field.
    MissingAuth,
    /// A trailer or `auth` value that is not `<index> <token>`.
    MalformedAuth,
    /// The key index is not in the local authkeys.
    UnknownAuthIndex(u32),
    /// The token does not match the one computed with the local keys.
    BadSignature,
}

impl fmt::Display for WireError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            WireError::Empty => write!(f, "empty packet"),
            WireError::TooLarge(n) => write!(
                f,
                "packet of {n} bytes exceeds the {} byte limit",
                super::MAXMSG
            ),
            WireError::BadMagic => write!(f, "packet starts with neither ###\\n nor >>>\\n"),
            WireError::Truncated => write!(f, "packet is truncated"),
            WireError::BadLength => write!(f, "malformed netstring length"),
            WireError::BadType => write!(f, "malformed or missing (T) field type"),
            WireError::BadField => write!(f, "malformed name=value field"),
            WireError::NotUtf8 => write!(f, "field name is not valid UTF-8"),
            WireError::BadBase64 => write!(f, "binary field is not valid base64"),
            WireError::TrailingBytes => write!(f, "unexpected bytes after the message"),
            WireError::MissingSignature => write!(f, "netstring packet has no signature"),
            WireError::MissingAuth => write!(f, "classic message has no auth field"),
            WireError::MalformedAuth => write!(f, "auth string is not \"<index> <token>\""),
            WireError::UnknownAuthIndex(i) => write!(f, "auth key index {i} is not configured"),
            WireError::BadSignature => write!(f, "authentication token does not match"),
        }
    }
}

impl std::error::Error for WireError {}
