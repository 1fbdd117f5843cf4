//! Heartbeat authentication: crc (CRC-32/POSIX), HMAC-MD5, HMAC-SHA1 tokens
//! and the authkeys key ring with Heartbeat's key-selection rule (spec §3).

use hmac::digest::KeyInit;
use hmac::{Hmac, Mac};
use md5::Md5;
use sha1::Sha1;

use super::crc::crc32_posix;
use super::error::WireError;

/// Number of authkeys slots (`MAXAUTH`): indexes 0..=15.
pub const MAX_AUTH: usize = 16;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AuthMethod {
    Crc,
    Md5,
    Sha1,
}

impl AuthMethod {
    /// `crc`, `md5`, `sha1` as written in authkeys.
    pub fn from_name(name: &str) -> Option<AuthMethod> {
        match name {
            "crc" => Some(AuthMethod::Crc),
            "md5" => Some(AuthMethod::Md5),
            "sha1" => Some(AuthMethod::Sha1),
            _ => None,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            AuthMethod::Crc => "crc",
            AuthMethod::Md5 => "md5",
            AuthMethod::Sha1 => "sha1",
        }
    }
}

/// One authkeys entry: method and literal key bytes (empty for crc).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AuthEntry {
    pub method: AuthMethod,
    pub key: Vec<u8>,
}

/// The parsed authkeys file: up to 16 entries and the active (`auth N`) index.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Keyring {
    pub entries: [Option<AuthEntry>; MAX_AUTH],
    pub active: u8,
}

impl Keyring {
    /// A ring with a single active entry at `index`.
    pub fn single(index: u8, method: AuthMethod, key: &[u8]) -> Keyring {
        let mut entries: [Option<AuthEntry>; MAX_AUTH] = Default::default();
        entries[usize::from(index) % MAX_AUTH] = Some(AuthEntry {
            method,
            key: key.to_vec(),
        });
        Keyring {
            entries,
            active: index,
        }
    }
}

impl Keyring {
    /// The entry at `index`, if configured.
    pub fn entry(&self, index: u8) -> Option<&AuthEntry> {
        self.entries.get(usize::from(index))?.as_ref()
    }

    /// The entry named by the `auth N` line.
    pub fn active_entry(&self) -> Option<&AuthEntry> {
        self.entry(self.active)
    }

    /// Signs `data` with the active entry: `(active index, token)`.
    pub fn sign(&self, data: &[u8]) -> Option<(u8, String)> {
        let entry = self.active_entry()?;
        Some((self.active, auth_token(entry.method, &entry.key, data)))
    }

    /// Checks a netstring trailer token. A real 3.0.6 verifier hashes with
    /// entry `index`'s method but its own *active* entry's key (spec §3.3).
    /// We accept entry `index`'s own key first (what a correct sender uses),
    /// then the active key (what a real node would accept).
    pub fn verify_netstring(&self, index: u8, token: &str, signed: &[u8]) -> bool {
        let Some(entry) = self.entry(index) else {
            return false;
        };
        if auth_token(entry.method, &entry.key, signed) == token {
            return true;
        }
        match self.active_entry() {
            Some(active) if active.key != entry.key => {
                auth_token(entry.method, &active.key, signed) == token
            }
            _ => false,
        }
    }

    /// Checks the inner classic `auth` token: entry `index`'s method and key
    /// over the classic body (see `classic::classic_auth_body`).
    pub fn verify_classic(&self, index: u8, token: &str, body: &[u8]) -> bool {
        self.entry(index)
            .is_some_and(|e| auth_token(e.method, &e.key, body) == token)
    }
}

/// The token Heartbeat computes over `data`: `crc` as `%lx` (lower-case hex,
/// no leading zeros), `md5`/`sha1` as HMAC with the literal key bytes in
/// lower-case hex.
pub fn auth_token(method: AuthMethod, key: &[u8], data: &[u8]) -> String {
    match method {
        AuthMethod::Crc => format!("{:x}", crc32_posix(data)),
        AuthMethod::Md5 => hmac_hex::<Hmac<Md5>>(key, data),
        AuthMethod::Sha1 => hmac_hex::<Hmac<Sha1>>(key, data),
    }
}

fn hmac_hex<M: Mac + KeyInit>(key: &[u8], data: &[u8]) -> String {
    // HMAC accepts keys of any length (long keys are hashed first), so this
    // never fails; an empty token could never match a received one anyway.
    let Ok(mut mac) = <M as KeyInit>::new_from_slice(key) else {
        return String::new();
    };
    mac.update(data);
    to_hex(&mac.finalize().into_bytes())
}

fn to_hex(bytes: &[u8]) -> String {
    use std::fmt::Write;
    bytes
        .iter()
        .fold(String::with_capacity(bytes.len() * 2), |mut s, b| {
            let _ = write!(s, "{b:02x}");
            s
        })
}

/// Splits an auth string `"<index> <token>"` (trailer body or `auth` field
/// value) as Heartbeat's `sscanf("%d %s")` would for well-formed input.
pub fn parse_auth_string(raw: &[u8]) -> Result<(u8, &str), WireError> {
    let text = std::str::from_utf8(raw).map_err(|_| WireError::MalformedAuth)?;
    let (index, token) = text.split_once(' ').ok_or(WireError::MalformedAuth)?;
    let token_ok = !token.is_empty() && !token.contains(char::is_whitespace);
    let index_ok =
        !index.is_empty() && index.len() <= 9 && index.bytes().all(|b| b.is_ascii_digit());
    if !token_ok || !index_ok {
        return Err(WireError::MalformedAuth);
    }
    let index: u32 = index.parse().map_err(|_| WireError::MalformedAuth)?;
    match u8::try_from(index) {
        Ok(i) if usize::from(i) < MAX_AUTH => Ok((i, token)),
        _ => Err(WireError::UnknownAuthIndex(index)),
    }
}

/// Checks an auth string against entry `index` (and the active-key fallback)
/// as for a netstring trailer; errors say why it failed.
pub fn check_netstring_auth(keys: &Keyring, raw: &[u8], signed: &[u8]) -> Result<u8, WireError> {
    let (index, token) = parse_auth_string(raw)?;
    if keys.entry(index).is_none() {
        return Err(WireError::UnknownAuthIndex(u32::from(index)));
    }
    if keys.verify_netstring(index, token, signed) {
        Ok(index)
    } else {
        Err(WireError::BadSignature)
    }
}

/// Checks a classic `auth` field value against the classic body.
pub fn check_classic_auth(keys: &Keyring, raw: &[u8], body: &[u8]) -> Result<u8, WireError> {
    let (index, token) = parse_auth_string(raw)?;
    if keys.entry(index).is_none() {
        return Err(WireError::UnknownAuthIndex(u32::from(index)));
    }
    if keys.verify_classic(index, token, body) {
        Ok(index)
    } else {
        Err(WireError::BadSignature)
    }
}
