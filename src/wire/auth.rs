//! Heartbeat authentication: crc (CRC-32/POSIX), HMAC-MD5, HMAC-SHA1 tokens
//! and the authkeys key ring with Heartbeat's key-selection rule (spec §3).

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
