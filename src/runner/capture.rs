//! Bounded capture of one output stream of a script, and its rendering as
//! log lines.

/// Keeps the first `limit` bytes written and counts the rest.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Capture {
    data: Vec<u8>,
    limit: usize,
    dropped: u64,
}

impl Capture {
    pub fn new(limit: usize) -> Capture {
        Capture {
            data: Vec::new(),
            limit,
            dropped: 0,
        }
    }

    pub fn push(&mut self, bytes: &[u8]) {
        let room = self.limit.saturating_sub(self.data.len());
        let kept = bytes.len().min(room);
        self.data
            .extend_from_slice(bytes.get(..kept).unwrap_or_default());
        self.dropped = self
            .dropped
            .saturating_add((bytes.len().saturating_sub(kept)) as u64);
    }

    pub fn bytes(&self) -> &[u8] {
        &self.data
    }

    /// Bytes beyond the limit, counted but not kept.
    pub fn dropped(&self) -> u64 {
        self.dropped
    }

    /// Non-blank lines, made safe for a log file: invalid UTF-8 replaced,
    /// control characters other than tab shown as `?`, a trailing `\r` cut.
    pub fn lines(&self) -> Vec<String> {
        self.data
            .split(|b| *b == b'\n')
            .map(|raw| {
                let raw = raw.strip_suffix(b"\r").unwrap_or(raw);
                String::from_utf8_lossy(raw)
                    .chars()
                    .map(|c| if c.is_control() && c != '\t' { '?' } else { c })
                    .collect::<String>()
            })
            .filter(|line| !line.trim().is_empty())
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_up_to_the_limit_and_counts_the_rest() {
        let mut c = Capture::new(8);
        c.push(b"hello");
        c.push(b" world");
        assert_eq!(c.bytes(), b"hello wo");
        assert_eq!(c.dropped(), 3);
        c.push(b"!!");
        assert_eq!(c.dropped(), 5);
    }

    #[test]
    fn lines_are_split_cleaned_and_blank_ones_skipped() {
        let mut c = Capture::new(1024);
        c.push(b"one\r\n\n  \ntwo\x1b[31m\tx\nbad \xff utf8\nlast");
        assert_eq!(
            c.lines(),
            ["one", "two?[31m\tx", "bad \u{fffd} utf8", "last"]
        );
    }

    #[test]
    fn empty_capture_has_no_lines() {
        assert!(Capture::new(10).lines().is_empty());
    }
}
