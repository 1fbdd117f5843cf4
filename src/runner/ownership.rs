//! ResourceManager's `we_own_resource`: the exit code of `SCRIPT … status`
//! is ignored; its stdout decides, through this shell `case`:
//!
//! ```text
//! *[Nn][Oo][Tt]\ *[Rr]unning*)  not owned
//! *[Rr]unning*|*OK*)            owned
//! *)                            not owned
//! ```
//!
//! Only the listed letters are case-blind: `NOT` followed by a space, then
//! anything, then `Running`/`running` means stopped; `RUNNING` or `ok` alone
//! mean nothing (stopped). We copy the glob exactly, not a looser regex, so
//! a script is judged the same as under Heartbeat.

/// True when `status` output says the resource runs here.
pub fn status_says_running(stdout: &[u8]) -> bool {
    // Command substitution drops NUL bytes before `case` sees the text.
    let text: Vec<u8> = stdout.iter().copied().filter(|b| *b != 0).collect();
    if says_not_running(&text) {
        return false;
    }
    find_running(&text).is_some() || contains(&text, b"OK")
}

/// `*[Nn][Oo][Tt]\ *[Rr]unning*`: the earliest `not ` leaves the longest
/// tail in which to look for `[Rr]unning`.
fn says_not_running(text: &[u8]) -> bool {
    let not_space = text.windows(4).position(|w| {
        w[0].eq_ignore_ascii_case(&b'n')
            && w[1].eq_ignore_ascii_case(&b'o')
            && w[2].eq_ignore_ascii_case(&b't')
            && w[3] == b' '
    });
    match not_space {
        Some(at) => text
            .get(at + 4..)
            .is_some_and(|tail| find_running(tail).is_some()),
        None => false,
    }
}

/// Position of `[Rr]unning`.
fn find_running(text: &[u8]) -> Option<usize> {
    text.windows(7)
        .position(|w| (w[0] == b'R' || w[0] == b'r') && &w[1..] == b"unning")
}

fn contains(text: &[u8], needle: &[u8]) -> bool {
    text.windows(needle.len()).any(|w| w == needle)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn running_and_ok_mean_owned() {
        assert!(status_says_running(b"running\n"));
        assert!(status_says_running(b"Running"));
        assert!(status_says_running(b"IPaddr2 is running (OCF_SUCCESS)\n"));
        assert!(status_says_running(b"OK\n"));
        assert!(status_says_running(b"status: OK"));
        assert!(status_says_running(b"apache2 is running.\nextra\n"));
    }

    #[test]
    fn not_running_stopped_and_empty_mean_not_owned() {
        assert!(!status_says_running(b"is not running\n"));
        assert!(!status_says_running(b"Not Running"));
        assert!(!status_says_running(b"NOT running"));
        assert!(!status_says_running(b"service is not currently running"));
        assert!(!status_says_running(b"stopped\n"));
        assert!(!status_says_running(b""));
        assert!(!status_says_running(b"\n\n"));
    }

    #[test]
    fn not_running_wins_over_ok() {
        assert!(!status_says_running(b"OK: daemon not running"));
        assert!(!status_says_running(b"running? not running"));
    }

    #[test]
    fn heartbeat_glob_quirks_are_kept() {
        // Only listed letters are case-blind.
        assert!(!status_says_running(b"RUNNING"));
        assert!(!status_says_running(b"ok"));
        // "not" must be followed by a space.
        assert!(status_says_running(b"nothing running here"));
        // "cannot " contains "not ".
        assert!(!status_says_running(b"cannot tell; running"));
        // A newline is no space after "not", but is "anything" after it.
        assert!(status_says_running(b"not\n running"));
        assert!(!status_says_running(b"not \nrunning"));
        // NUL bytes vanish before matching.
        assert!(status_says_running(b"run\0ning"));
    }
}
