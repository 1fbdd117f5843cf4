//! Cuts a serial byte stream into classic frames (spec §2.3, §7).
//!
//! Like Heartbeat's reader: lines are split on `\n`; everything is skipped
//! until a `>>>` line, then lines are collected up to a `<<<` line. Each
//! yielded frame is `">>>\n" … "<<<\n"`. Differences, for robustness: CR
//! bytes are dropped (the tty's IGNCR does the same on a real port); a
//! `>>>` line inside a frame restarts the frame (a frame cut by line noise
//! costs only itself, not also the next one); a frame growing past
//! [`MAX_FRAME`] is discarded and the reader resynchronises.

/// Largest frame kept, `MAXMSG` (256 KiB); anything longer is junk.
pub const MAX_FRAME: usize = 262_144;

const START: &[u8] = b">>>";
const END: &[u8] = b"<<<";

#[derive(Debug, Default)]
pub struct ClassicFramer {
    in_frame: bool,
    /// Current line (without `\n`). While hunting, only a short prefix is
    /// kept: all that matters is whether the line is exactly `>>>`.
    line: Vec<u8>,
    /// The current line is longer than what we keep of it.
    line_overflow: bool,
    frame: Vec<u8>,
    discarded: u64,
}

impl ClassicFramer {
    pub fn new() -> ClassicFramer {
        ClassicFramer::default()
    }

    /// Feed received bytes; complete frames are appended to `out`.
    pub fn push(&mut self, bytes: &[u8], out: &mut Vec<Vec<u8>>) {
        for &b in bytes {
            match b {
                b'\r' => {}
                b'\n' => self.end_line(out),
                _ => self.add_byte(b),
            }
        }
    }

    /// Frames thrown away so far (interrupted or oversized).
    pub fn discarded(&self) -> u64 {
        self.discarded
    }

    /// True while part of a frame is buffered.
    pub fn in_frame(&self) -> bool {
        self.in_frame
    }

    fn add_byte(&mut self, b: u8) {
        if self.line_overflow {
            return;
        }
        if !self.in_frame {
            if self.line.len() > START.len() {
                self.line_overflow = true;
            } else {
                self.line.push(b);
            }
            return;
        }
        if self.frame.len() + self.line.len() + 1 >= MAX_FRAME {
            self.abandon_frame();
            self.line_overflow = true;
            return;
        }
        self.line.push(b);
    }

    fn end_line(&mut self, out: &mut Vec<Vec<u8>>) {
        let exact = !self.line_overflow;
        let is_start = exact && self.line == START;
        let is_end = exact && self.line == END;
        if is_start {
            if self.in_frame {
                self.discarded += 1;
            }
            self.in_frame = true;
            self.frame.clear();
            self.frame.extend_from_slice(b">>>\n");
        } else if self.in_frame {
            if self.frame.len() + self.line.len() + 1 > MAX_FRAME {
                self.abandon_frame();
            } else {
                self.frame.extend_from_slice(&self.line);
                self.frame.push(b'\n');
                if is_end {
                    out.push(std::mem::take(&mut self.frame));
                    self.in_frame = false;
                }
            }
        }
        self.line.clear();
        self.line_overflow = false;
    }

    fn abandon_frame(&mut self) {
        self.discarded += 1;
        self.in_frame = false;
        self.frame = Vec::new();
        self.line.clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const FRAME: &[u8] = b">>>\nt=status\nst=up\nauth=1 abc\n<<<\n";

    fn frames(chunks: &[&[u8]]) -> (Vec<Vec<u8>>, ClassicFramer) {
        let mut f = ClassicFramer::new();
        let mut out = Vec::new();
        for c in chunks {
            f.push(c, &mut out);
        }
        (out, f)
    }

    #[test]
    fn whole_frames_back_to_back() {
        let mut two = FRAME.to_vec();
        two.extend_from_slice(FRAME);
        let (out, f) = frames(&[&two]);
        assert_eq!(out, vec![FRAME.to_vec(), FRAME.to_vec()]);
        assert!(!f.in_frame());
    }

    #[test]
    fn frame_split_at_every_byte() {
        let chunks: Vec<&[u8]> = FRAME.chunks(1).collect();
        let (out, _) = frames(&chunks);
        assert_eq!(out, vec![FRAME.to_vec()]);
    }

    #[test]
    fn frame_split_inside_markers() {
        let (out, f) = frames(&[b">>", b">\nt=x\n<", b"<<", b"\n>>>\nt=y"]);
        assert_eq!(out, vec![b">>>\nt=x\n<<<\n".to_vec()]);
        assert!(f.in_frame());
    }

    #[test]
    fn junk_before_and_between_frames_is_skipped() {
        let mut s = b"garbage\n\x00\xff noise >>> not a start\n>>>x\n".to_vec();
        s.extend_from_slice(FRAME);
        s.extend_from_slice(b"more junk without newline");
        s.extend_from_slice(b"\n");
        s.extend_from_slice(FRAME);
        let (out, f) = frames(&[&s]);
        assert_eq!(out, vec![FRAME.to_vec(), FRAME.to_vec()]);
        assert_eq!(f.discarded(), 0);
    }

    #[test]
    fn carriage_returns_are_ignored() {
        let (out, _) = frames(&[b">>>\r\nt=status\r\nst=up\r\n<<<\r\n"]);
        assert_eq!(out, vec![b">>>\nt=status\nst=up\n<<<\n".to_vec()]);
    }

    #[test]
    fn blank_lines_inside_a_frame_are_kept() {
        let (out, _) = frames(&[b">>>\n\nt=a\n\n<<<\n"]);
        assert_eq!(out, vec![b">>>\n\nt=a\n\n<<<\n".to_vec()]);
    }

    #[test]
    fn restart_inside_a_frame_keeps_the_second() {
        let mut s = b">>>\nt=cut-off\nst=u".to_vec();
        s.extend_from_slice(b"\n");
        s.extend_from_slice(FRAME);
        let (out, f) = frames(&[&s]);
        assert_eq!(out, vec![FRAME.to_vec()]);
        assert_eq!(f.discarded(), 1);
    }

    #[test]
    fn oversized_frame_is_dropped_and_reader_resyncs() {
        let mut f = ClassicFramer::new();
        let mut out = Vec::new();
        f.push(b">>>\n", &mut out);
        let line = vec![b'a'; 1000];
        for _ in 0..300 {
            f.push(&line, &mut out);
            f.push(b"\n", &mut out);
        }
        f.push(b"<<<\n", &mut out);
        assert!(out.is_empty());
        assert_eq!(f.discarded(), 1);
        assert!(f.frame.capacity() <= MAX_FRAME + 1024);
        f.push(FRAME, &mut out);
        assert_eq!(out, vec![FRAME.to_vec()]);
    }

    #[test]
    fn one_endless_line_stays_bounded() {
        let mut f = ClassicFramer::new();
        let mut out = Vec::new();
        f.push(b">>>\n", &mut out);
        let junk = vec![b'z'; 64 * 1024];
        for _ in 0..10 {
            f.push(&junk, &mut out);
        }
        assert!(f.line.len() < MAX_FRAME);
        assert!(!f.in_frame());
        f.push(b"\n", &mut out);
        f.push(FRAME, &mut out);
        assert_eq!(out, vec![FRAME.to_vec()]);
        // Endless junk while hunting keeps only a few bytes.
        let mut g = ClassicFramer::new();
        g.push(&junk, &mut out);
        assert!(g.line.len() <= START.len() + 1);
    }

    /// Bytes a real Heartbeat 3.0.6 wrote on a serial line.
    #[test]
    fn real_heartbeat_serial_capture() {
        let bytes = include_bytes!("../../tests/data/hb306-serial-capture.bin");
        for chunk_size in [1, 7, 512, bytes.len()] {
            let chunks: Vec<&[u8]> = bytes.chunks(chunk_size).collect();
            let (out, f) = frames(&chunks);
            assert_eq!(out.len(), 8);
            assert_eq!(out.concat(), bytes.to_vec());
            assert_eq!(f.discarded(), 0);
            assert!(out[0].starts_with(b">>>\nt=status\nst=init\n"));
        }
    }

    #[test]
    fn frame_just_under_the_limit_passes() {
        let mut body = b">>>\n".to_vec();
        let value_len = MAX_FRAME - 4 - 4 - 1 - 2;
        body.extend_from_slice(b"v=");
        body.extend(std::iter::repeat_n(b'x', value_len));
        body.extend_from_slice(b"\n<<<\n");
        assert_eq!(body.len(), MAX_FRAME);
        let (out, f) = frames(&[&body]);
        assert_eq!(out.len(), 1, "discarded {}", f.discarded());
        assert_eq!(out[0].len(), MAX_FRAME);
    }
}
