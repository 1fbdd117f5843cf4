//! Heartbeat wire format: message model, netstring and classic codecs, auth.
//!
//! Sending: build the `Message` (control fields included); with
//! `msgfmt classic` call [`add_inner_auth`]; then [`encode_netstring`] for
//! UDP media or [`encode_classic`] for serial. Receiving: [`decode`].
pub mod auth;
pub mod classic;
pub mod crc;
pub mod error;
pub mod message;
pub mod netstring;
pub mod packet;

/// Largest message Heartbeat handles (`MAXMSG`, 256 KiB); anything larger
/// is rejected before parsing.
pub const MAXMSG: usize = 262_144;

pub use auth::{auth_token, AuthEntry, AuthMethod, Keyring, MAX_AUTH};
pub use classic::{
    add_inner_auth, check_inner_auth, classic_auth_body, encode_classic, find_classic_frame,
    parse_classic,
};
pub use crc::crc32_posix;
pub use error::WireError;
pub use message::{Field, FieldType, Message, FT_BINARY, FT_STRING};
pub use netstring::{encode_netstring, encode_netstring_unsigned, parse_netstring};
pub use packet::{decode, decode_unverified, Packet, WireFormat};
