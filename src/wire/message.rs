//! The abstract Heartbeat message: an ordered list of typed fields.
//!
//! Order matters for byte-exact re-encoding and for the inner `auth` digest,
//! so fields are kept in a `Vec`, not a map. Lookup returns the first field of
//! a name, as Heartbeat's `ha_msg_value` does.

/// Field type digit as carried on the wire (`(0)`, `(1)`, ...).
pub type FieldType = u8;
/// `(0)`: a string without NUL.
pub const FT_STRING: FieldType = 0;
/// `(1)`: raw bytes (base64 in the classic form), e.g. `srcuuid`.
pub const FT_BINARY: FieldType = 1;

/// One `name=value` pair with its type digit.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Field {
    pub name: String,
    pub ftype: FieldType,
    pub value: Vec<u8>,
}

/// An ordered list of fields (see spec §2.1).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Message {
    pub fields: Vec<Field>,
}

impl Message {
    pub fn new() -> Self {
        Message { fields: Vec::new() }
    }

    /// A message whose first field is `t=<msg_type>`.
    pub fn with_type(msg_type: &str) -> Self {
        let mut m = Message::new();
        m.push_str("t", msg_type);
        m
    }

    /// Appends a string field (even if one of that name exists).
    pub fn push_str(&mut self, name: &str, value: &str) -> &mut Self {
        self.push(name, FT_STRING, value.as_bytes().to_vec())
    }

    /// Appends a field of any type.
    pub fn push(&mut self, name: &str, ftype: FieldType, value: Vec<u8>) -> &mut Self {
        self.fields.push(Field {
            name: name.to_string(),
            ftype,
            value,
        });
        self
    }

    /// Replaces the value of the first field `name` in place (keeping its
    /// position, as `ha_msg_mod` does), or appends it when absent.
    pub fn set(&mut self, name: &str, ftype: FieldType, value: Vec<u8>) -> &mut Self {
        match self.fields.iter_mut().find(|f| f.name == name) {
            Some(f) => {
                f.ftype = ftype;
                f.value = value;
            }
            None => {
                self.push(name, ftype, value);
            }
        }
        self
    }

    /// `set` for a string value.
    pub fn set_str(&mut self, name: &str, value: &str) -> &mut Self {
        self.set(name, FT_STRING, value.as_bytes().to_vec())
    }

    /// Removes every field called `name`.
    pub fn remove(&mut self, name: &str) {
        self.fields.retain(|f| f.name != name);
    }

    /// The first field called `name`.
    pub fn field(&self, name: &str) -> Option<&Field> {
        self.fields.iter().find(|f| f.name == name)
    }

    /// Raw value of the first field called `name`.
    pub fn get(&self, name: &str) -> Option<&[u8]> {
        self.field(name).map(|f| f.value.as_slice())
    }

    /// Value of the first field called `name` when it is valid UTF-8.
    pub fn get_str(&self, name: &str) -> Option<&str> {
        self.get(name).and_then(|v| std::str::from_utf8(v).ok())
    }

    /// A lower-case hex number field (`seq`, `hg`, `ts`, `dt`, `ackseq`, ...).
    pub fn get_hex(&self, name: &str) -> Option<u64> {
        self.get_str(name)
            .and_then(|s| u64::from_str_radix(s.trim(), 16).ok())
    }

    /// The `t` field.
    pub fn msg_type(&self) -> Option<&str> {
        self.get_str("t")
    }
}
