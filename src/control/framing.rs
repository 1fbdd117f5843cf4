//! Heartbeat's IPC stream framing (cluster-glue `ipcsocket.c`): each message
//! is an 8-byte header {i32 body length, u32 magic `0xabcd`} in host byte
//! order, then the body: a classic message with its trailing NUL (counted in
//! the length). Pure code: bytes in, frames out.

use crate::wire::{decode_unverified, encode_classic, Message, WireError, MAXMSG};

/// `HEADMAGIC`.
pub const IPC_MAGIC: u32 = 0xabcd;
/// Size of the frame header.
pub const HEADER_LEN: usize = 8;

/// Why the byte stream from a peer cannot be framed any more.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum FrameError {
    /// The header does not carry `0xabcd`.
    BadMagic(u32),
    /// Negative or larger than `MAXMSG` (256 KiB).
    BadLength(i64),
}

impl std::fmt::Display for FrameError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            FrameError::BadMagic(m) => write!(f, "bad frame magic {m:#x} (want {IPC_MAGIC:#x})"),
            FrameError::BadLength(n) => write!(f, "bad frame length {n} (limit {MAXMSG})"),
        }
    }
}

/// One frame around `body`.
pub fn frame(body: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(HEADER_LEN + body.len());
    // Bodies are at most a few KiB; clamp rather than wrap on absurd input.
    let len = i32::try_from(body.len()).unwrap_or(i32::MAX);
    out.extend_from_slice(&len.to_ne_bytes());
    out.extend_from_slice(&IPC_MAGIC.to_ne_bytes());
    out.extend_from_slice(body);
    out
}

/// `msg` as Heartbeat sends it on the API socket: classic text + NUL, framed.
pub fn frame_message(msg: &Message) -> Vec<u8> {
    let mut body = encode_classic(msg);
    body.push(0);
    frame(&body)
}

/// Parses a frame body: classic (the usual) or netstring (a daemon with
/// `msgfmt netstring` sends that), one trailing NUL allowed, no signature.
pub fn parse_body(body: &[u8]) -> Result<Message, WireError> {
    decode_unverified(body).map(|p| p.msg)
}

/// Reassembles frames from a byte stream; holds at most one frame.
#[derive(Debug, Default)]
pub struct FrameDecoder {
    buf: Vec<u8>,
}

impl FrameDecoder {
    pub fn new() -> FrameDecoder {
        FrameDecoder::default()
    }

    /// Appends received bytes. Call [`FrameDecoder::next_frame`] until it
    /// returns `Ok(None)` before pushing more, so the buffer stays bounded.
    pub fn push(&mut self, bytes: &[u8]) {
        self.buf.extend_from_slice(bytes);
    }

    /// The next complete frame body, `Ok(None)` if more bytes are needed.
    /// An error means the stream is out of sync: drop the connection.
    pub fn next_frame(&mut self) -> Result<Option<Vec<u8>>, FrameError> {
        let Some(header) = self.buf.get(..HEADER_LEN) else {
            return Ok(None);
        };
        let (len_bytes, magic_bytes) = header.split_at(4);
        let len = i32::from_ne_bytes(len_bytes.try_into().unwrap_or_default());
        let magic = u32::from_ne_bytes(magic_bytes.try_into().unwrap_or_default());
        if magic != IPC_MAGIC {
            return Err(FrameError::BadMagic(magic));
        }
        let body_len = match usize::try_from(len) {
            Ok(n) if n <= MAXMSG => n,
            _ => return Err(FrameError::BadLength(i64::from(len))),
        };
        let end = HEADER_LEN + body_len;
        if self.buf.len() < end {
            return Ok(None);
        }
        let body = self.buf.get(HEADER_LEN..end).unwrap_or_default().to_vec();
        self.buf.drain(..end);
        Ok(Some(body))
    }

    /// Bytes of an unfinished frame are waiting.
    pub fn is_partial(&self) -> bool {
        !self.buf.is_empty()
    }

    /// How many bytes may still be read before the buffer could exceed one
    /// maximal frame (read at most this much at a time).
    pub fn room(&self) -> usize {
        (HEADER_LEN + MAXMSG).saturating_sub(self.buf.len())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Message {
        let mut m = Message::with_type("hbapi-req");
        m.push_str("reqtype", "nodelist");
        m
    }

    #[test]
    fn frames_like_the_real_daemon() {
        let bytes = frame_message(&sample());
        let text = b">>>\nt=hbapi-req\nreqtype=nodelist\n<<<\n\0";
        assert_eq!(&bytes[..4], &(text.len() as i32).to_ne_bytes());
        assert_eq!(&bytes[4..8], &[0xcd, 0xab, 0, 0]);
        assert_eq!(&bytes[8..], text);
        assert_eq!(parse_body(&bytes[8..]), Ok(sample()));
    }

    #[test]
    fn reassembles_split_and_joined_frames() {
        let one = frame_message(&sample());
        let mut stream = one.clone();
        stream.extend_from_slice(&one);
        let mut dec = FrameDecoder::new();
        for byte in &stream[..one.len() - 1] {
            dec.push(&[*byte]);
            assert_eq!(dec.next_frame(), Ok(None));
        }
        dec.push(&stream[one.len() - 1..one.len() + 3]);
        assert_eq!(dec.next_frame(), Ok(Some(one[8..].to_vec())));
        assert_eq!(dec.next_frame(), Ok(None));
        assert!(dec.is_partial());
        dec.push(&stream[one.len() + 3..]);
        assert_eq!(dec.next_frame(), Ok(Some(one[8..].to_vec())));
        assert!(!dec.is_partial());
    }

    #[test]
    fn rejects_garbage_and_oversize() {
        let mut dec = FrameDecoder::new();
        dec.push(b"GET / HTTP/1.0\r\n");
        assert!(matches!(dec.next_frame(), Err(FrameError::BadMagic(_))));

        let mut dec = FrameDecoder::new();
        dec.push(&((MAXMSG + 1) as i32).to_ne_bytes());
        dec.push(&IPC_MAGIC.to_ne_bytes());
        assert_eq!(
            dec.next_frame(),
            Err(FrameError::BadLength(MAXMSG as i64 + 1))
        );

        let mut dec = FrameDecoder::new();
        dec.push(&(-1i32).to_ne_bytes());
        dec.push(&IPC_MAGIC.to_ne_bytes());
        assert_eq!(dec.next_frame(), Err(FrameError::BadLength(-1)));
    }

    #[test]
    fn maximal_frame_fits_the_room() {
        let mut dec = FrameDecoder::new();
        dec.push(&(MAXMSG as i32).to_ne_bytes());
        dec.push(&IPC_MAGIC.to_ne_bytes());
        assert_eq!(dec.room(), MAXMSG);
        dec.push(&vec![b'x'; MAXMSG]);
        assert_eq!(dec.room(), 0);
        assert_eq!(
            dec.next_frame().map(|f| f.map(|b| b.len())),
            Ok(Some(MAXMSG))
        );
    }

    #[test]
    fn bodies_in_either_format() {
        let classic = b">>>\nt=x\n<<<\n\0";
        assert_eq!(
            parse_body(classic).map(|m| m.get_str("t").map(String::from)),
            Ok(Some("x".into()))
        );
        let netstring = b"###\n6:(0)t=x,%%%\n";
        assert_eq!(
            parse_body(netstring).map(|m| m.get_str("t").map(String::from)),
            Ok(Some("x".into()))
        );
        assert!(parse_body(b"hello").is_err());
    }
}
