//! Heartbeat wire format: message model, netstring and classic codecs, auth.
pub mod auth;
pub mod message;

pub use message::{Field, FieldType, Message, FT_BINARY, FT_STRING};
