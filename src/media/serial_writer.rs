//! Nonblocking, paced output queue for the serial medium.
//!
//! Heartbeat writes a frame in 512-byte chunks and sleeps 512/(baud/8) s
//! between the chunks of one frame (not after the last), so a slow line is
//! never flooded; a write that cannot proceed for 500 ms is abandoned and
//! the output flushed ("TTY write timeout"). Here the sleeping becomes a
//! deadline the event loop polls, and the writing a `flush` the loop calls
//! on writable events and at that deadline: the loop never blocks.

use std::collections::VecDeque;
use std::fmt;
use std::io;
use std::time::{Duration, Instant};

/// Heartbeat's `FRAGSIZE`.
pub const CHUNK: usize = 512;
/// Heartbeat's per-write alarm.
pub const STALL_TIMEOUT: Duration = Duration::from_millis(500);
/// Bound on queued output (one `MAXMSG`).
pub const MAX_QUEUED: usize = 262_144;

/// The queue is full; the frame was not queued.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct QueueFull;

impl fmt::Display for QueueFull {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "serial output queue full ({MAX_QUEUED} bytes), message dropped"
        )
    }
}

impl std::error::Error for QueueFull {}

#[derive(Debug)]
pub struct PacedWriter {
    queue: VecDeque<Vec<u8>>,
    /// Bytes of the head frame already written.
    head_done: usize,
    queued_bytes: usize,
    pause: Duration,
    resume_at: Option<Instant>,
    /// First time a write could not proceed, cleared by any progress.
    blocked_since: Option<Instant>,
}

/// Heartbeat's inter-chunk pause: 512 / (baud/8) seconds, integer baud/8.
pub fn chunk_pause(baud: u32) -> Duration {
    let bytes_per_sec = u64::from(baud / 8).max(1);
    Duration::from_micros(CHUNK as u64 * 1_000_000 / bytes_per_sec)
}

impl PacedWriter {
    pub fn new(pause: Duration) -> PacedWriter {
        PacedWriter {
            queue: VecDeque::new(),
            head_done: 0,
            queued_bytes: 0,
            pause,
            resume_at: None,
            blocked_since: None,
        }
    }

    pub fn pending_bytes(&self) -> usize {
        self.queued_bytes - self.head_done
    }

    pub fn is_idle(&self) -> bool {
        self.queue.is_empty()
    }

    pub fn enqueue(&mut self, frame: &[u8]) -> Result<(), QueueFull> {
        if frame.is_empty() {
            return Ok(());
        }
        if self.queued_bytes + frame.len() > MAX_QUEUED {
            return Err(QueueFull);
        }
        self.queued_bytes += frame.len();
        self.queue.push_back(frame.to_vec());
        Ok(())
    }

    /// When `flush` must run without an I/O event: the end of a pacing
    /// pause, or the stall timeout of a blocked write.
    pub fn next_deadline(&self) -> Option<Instant> {
        if self.queue.is_empty() {
            return None;
        }
        match (self.resume_at, self.blocked_since) {
            (Some(r), _) => Some(r),
            (None, Some(b)) => Some(b + STALL_TIMEOUT),
            (None, None) => None,
        }
    }

    /// Write as much as pacing and the device allow. `write` is one
    /// nonblocking write(2). Returns `TimedOut` (queue discarded) when no
    /// byte could be written for `STALL_TIMEOUT`.
    pub fn flush<W>(&mut self, now: Instant, mut write: W) -> io::Result<()>
    where
        W: FnMut(&[u8]) -> io::Result<usize>,
    {
        if let Some(r) = self.resume_at {
            if now < r {
                return Ok(());
            }
            self.resume_at = None;
        }
        while let Some(head) = self.queue.front() {
            let chunk_end = ((self.head_done / CHUNK) + 1) * CHUNK;
            let end = chunk_end.min(head.len());
            let chunk = head.get(self.head_done..end).unwrap_or_default();
            match write(chunk) {
                Ok(0) => return self.blocked(now),
                Ok(n) => {
                    self.blocked_since = None;
                    self.head_done += n.min(chunk.len());
                    if self.head_done >= head.len() {
                        self.queued_bytes -= head.len();
                        self.head_done = 0;
                        self.queue.pop_front();
                    } else if self.head_done % CHUNK == 0 {
                        self.resume_at = Some(now + self.pause);
                        return Ok(());
                    }
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => return self.blocked(now),
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => {
                    self.discard();
                    return Err(e);
                }
            }
        }
        Ok(())
    }

    fn blocked(&mut self, now: Instant) -> io::Result<()> {
        let since = *self.blocked_since.get_or_insert(now);
        if now.duration_since(since) >= STALL_TIMEOUT {
            let lost = self.queue.len();
            self.discard();
            return Err(io::Error::new(
                io::ErrorKind::TimedOut,
                format!("write blocked for {STALL_TIMEOUT:?}, {lost} queued message(s) discarded"),
            ));
        }
        Ok(())
    }

    /// Drop everything queued, including a partly written frame.
    pub fn discard(&mut self) {
        self.queue.clear();
        self.queued_bytes = 0;
        self.head_done = 0;
        self.resume_at = None;
        self.blocked_since = None;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ms(n: u64) -> Duration {
        Duration::from_millis(n)
    }

    #[test]
    fn pause_matches_heartbeat() {
        assert_eq!(chunk_pause(19200), Duration::from_micros(213_333));
        assert_eq!(chunk_pause(115200), Duration::from_micros(35_555));
        assert_eq!(chunk_pause(9600), Duration::from_micros(426_666));
    }

    #[test]
    fn small_frames_go_out_at_once_without_pause() {
        let mut w = PacedWriter::new(ms(200));
        let mut wire = Vec::new();
        w.enqueue(b"aaa").unwrap();
        w.enqueue(b"bbb").unwrap();
        let t0 = Instant::now();
        w.flush(t0, |b| {
            wire.extend_from_slice(b);
            Ok(b.len())
        })
        .unwrap();
        assert_eq!(wire, b"aaabbb");
        assert!(w.is_idle());
        assert_eq!(w.next_deadline(), None);
    }

    #[test]
    fn big_frame_is_written_in_paced_chunks() {
        let pause = ms(200);
        let mut w = PacedWriter::new(pause);
        let frame: Vec<u8> = (0..1300u32).map(|i| (i % 251) as u8).collect();
        w.enqueue(&frame).unwrap();
        w.enqueue(b"next").unwrap();
        let mut writes: Vec<Vec<u8>> = Vec::new();
        let mut sink = |b: &[u8]| {
            writes.push(b.to_vec());
            Ok(b.len())
        };
        let t0 = Instant::now();
        w.flush(t0, &mut sink).unwrap();
        assert_eq!(w.next_deadline(), Some(t0 + pause));
        // Too early: nothing happens.
        w.flush(t0 + ms(100), &mut sink).unwrap();
        w.flush(t0 + pause, &mut sink).unwrap();
        assert_eq!(w.next_deadline(), Some(t0 + pause + pause));
        w.flush(t0 + pause * 2, &mut sink).unwrap();
        assert!(w.is_idle());
        let sizes: Vec<usize> = writes.iter().map(Vec::len).collect();
        // The last chunk of a frame is not followed by a pause.
        assert_eq!(sizes, vec![512, 512, 276, 4]);
        assert_eq!(writes.concat()[..1300], frame[..]);
    }

    #[test]
    fn partial_writes_continue_within_the_chunk() {
        let mut w = PacedWriter::new(ms(50));
        let frame = vec![7u8; 600];
        w.enqueue(&frame).unwrap();
        let mut writes = Vec::new();
        let t0 = Instant::now();
        w.flush(t0, |b| {
            let n = b.len().min(100);
            writes.push(n);
            Ok(n)
        })
        .unwrap();
        assert_eq!(writes, vec![100, 100, 100, 100, 100, 12]);
        assert_eq!(w.pending_bytes(), 88);
        w.flush(t0 + ms(50), |b| Ok(b.len())).unwrap();
        assert!(w.is_idle());
    }

    #[test]
    fn blocked_device_times_out_and_discards() {
        let mut w = PacedWriter::new(ms(50));
        w.enqueue(b"hello").unwrap();
        let t0 = Instant::now();
        let would_block = |_: &[u8]| Err(io::Error::from(io::ErrorKind::WouldBlock));
        w.flush(t0, would_block).unwrap();
        assert_eq!(w.next_deadline(), Some(t0 + STALL_TIMEOUT));
        w.flush(t0 + ms(499), would_block).unwrap();
        let err = w.flush(t0 + STALL_TIMEOUT, would_block).unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::TimedOut);
        assert!(w.is_idle());
        assert_eq!(w.pending_bytes(), 0);
    }

    #[test]
    fn progress_resets_the_stall_clock() {
        let mut w = PacedWriter::new(ms(50));
        w.enqueue(b"abcdef").unwrap();
        let t0 = Instant::now();
        let would_block = |_: &[u8]| Err(io::Error::from(io::ErrorKind::WouldBlock));
        w.flush(t0, would_block).unwrap();
        let mut budget = 1;
        let one_byte_then_block = |_: &[u8]| {
            if budget > 0 {
                budget -= 1;
                Ok(1)
            } else {
                Err(io::Error::from(io::ErrorKind::WouldBlock))
            }
        };
        w.flush(t0 + ms(400), one_byte_then_block).unwrap();
        assert_eq!(w.pending_bytes(), 5);
        // Progress at 400 ms started a new stall window.
        w.flush(t0 + ms(600), would_block).unwrap();
        assert_eq!(w.next_deadline(), Some(t0 + ms(400) + STALL_TIMEOUT));
    }

    #[test]
    fn queue_is_bounded() {
        let mut w = PacedWriter::new(ms(1));
        w.enqueue(&vec![0u8; MAX_QUEUED]).unwrap();
        assert_eq!(w.enqueue(b"x"), Err(QueueFull));
        assert_eq!(w.pending_bytes(), MAX_QUEUED);
    }
}
