//! Heartbeat's log line formats (cluster-glue cl_log.c, spec §12.4). Pure:
//! the time is passed in.

use crate::core::Level;

/// cl_log formats into a `MAXLINE` (5120) buffer: longer texts are cut.
pub const MAX_TEXT: usize = 5119;

/// Broken-down local time.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LocalTime {
    pub year: i32,
    /// 1..=12
    pub month: u32,
    pub day: u32,
    pub hour: u32,
    pub minute: u32,
    pub second: u32,
}

impl LocalTime {
    /// `localtime_r` of a Unix time (the TZ in force; call `libc::tzset`
    /// once at start-up so TZ changes made before are seen).
    pub fn from_unix(secs: i64) -> LocalTime {
        let t = secs as libc::time_t;
        // SAFETY: an all-zero `tm` is valid; localtime_r only writes to it.
        let mut tm: libc::tm = unsafe { std::mem::zeroed() };
        // SAFETY: both pointers are valid for the call.
        let ok = unsafe { !libc::localtime_r(&t, &mut tm).is_null() };
        if !ok {
            return LocalTime {
                year: 1970,
                month: 1,
                day: 1,
                hour: 0,
                minute: 0,
                second: 0,
            };
        }
        LocalTime {
            year: tm.tm_year + 1900,
            month: (tm.tm_mon + 1).clamp(1, 12) as u32,
            day: tm.tm_mday.max(0) as u32,
            hour: tm.tm_hour.max(0) as u32,
            minute: tm.tm_min.max(0) as u32,
            second: tm.tm_sec.max(0) as u32,
        }
    }

    fn month_abbrev(&self) -> &'static str {
        const MONTHS: [&str; 12] = [
            "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
        ];
        MONTHS
            .get((self.month as usize).wrapping_sub(1))
            .copied()
            .unwrap_or("???")
    }
}

/// Heartbeat's level words.
pub fn level_str(level: Level) -> &'static str {
    match level {
        Level::Emerg => "EMERG",
        Level::Alert => "ALERT",
        Level::Crit => "CRIT",
        Level::Error => "ERROR",
        Level::Warn => "WARN",
        Level::Notice => "notice",
        Level::Info => "info",
        Level::Debug => "debug",
    }
}

/// syslog(3) priority (LOG_EMERG = 0 … LOG_DEBUG = 7).
pub fn syslog_priority(level: Level) -> libc::c_int {
    match level {
        Level::Emerg => libc::LOG_EMERG,
        Level::Alert => libc::LOG_ALERT,
        Level::Crit => libc::LOG_CRIT,
        Level::Error => libc::LOG_ERR,
        Level::Warn => libc::LOG_WARNING,
        Level::Notice => libc::LOG_NOTICE,
        Level::Info => libc::LOG_INFO,
        Level::Debug => libc::LOG_DEBUG,
    }
}

/// The text as cl_log keeps it: at most `MAX_TEXT` bytes (cut on a char
/// boundary).
pub fn clip(text: &str) -> &str {
    if text.len() <= MAX_TEXT {
        return text;
    }
    let mut end = MAX_TEXT;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    text.get(..end).unwrap_or_default()
}

/// Who writes the line.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Origin<'a> {
    /// `uname -n` as is (not the cluster node name).
    pub host: &'a str,
    /// Heartbeat's entity: the program name, "heartbeat".
    pub entity: &'a str,
    pub pid: u32,
}

/// One file (or stderr) line including `\n`.
/// `syslogmsgfmt true`: `Nov 22 02:20:10 alpha heartbeat: [27135]: info: text`;
/// false: `heartbeat[27135]: 2026/11/22_02:20:10 info: text`.
pub fn file_line(
    syslogmsgfmt: bool,
    t: &LocalTime,
    who: &Origin<'_>,
    level: Level,
    text: &str,
) -> String {
    let text = clip(text);
    let lvl = level_str(level);
    if syslogmsgfmt {
        format!(
            "{:>3} {:02} {:02}:{:02}:{:02} {} {}: [{}]: {}: {}\n",
            t.month_abbrev(),
            t.day,
            t.hour,
            t.minute,
            t.second,
            who.host,
            who.entity,
            who.pid,
            lvl,
            text
        )
    } else {
        format!(
            "{}[{}]: {:04}/{:02}/{:02}_{:02}:{:02}:{:02} {}: {}\n",
            who.entity, who.pid, t.year, t.month, t.day, t.hour, t.minute, t.second, lvl, text
        )
    }
}

/// The message handed to syslog(3) (ident `heartbeat` is added by syslog).
pub fn syslog_message(pid: u32, level: Level, text: &str) -> String {
    format!("[{}]: {}: {}", pid, level_str(level), clip(text))
}

#[cfg(test)]
mod tests {
    use super::*;

    const T: LocalTime = LocalTime {
        year: 2026,
        month: 11,
        day: 2,
        hour: 2,
        minute: 20,
        second: 10,
    };
    const WHO: Origin<'static> = Origin {
        host: "alpha",
        entity: "heartbeat",
        pid: 27135,
    };

    #[test]
    fn syslog_style_file_line_matches_real_ha_log() {
        let t = LocalTime { day: 22, ..T };
        assert_eq!(
            file_line(true, &t, &WHO, Level::Info, "Pacemaker support: off"),
            "Nov 22 02:20:10 alpha heartbeat: [27135]: info: Pacemaker support: off\n"
        );
        assert_eq!(
            file_line(true, &t, &WHO, Level::Warn, "No Previous generation - starting at 1795314011"),
            "Nov 22 02:20:10 alpha heartbeat: [27135]: WARN: No Previous generation - starting at 1795314011\n"
        );
    }

    #[test]
    fn day_is_zero_padded() {
        assert!(file_line(true, &T, &WHO, Level::Error, "x").starts_with("Nov 02 02:20:10 "));
    }

    #[test]
    fn plain_format() {
        assert_eq!(
            file_line(false, &T, &WHO, Level::Debug, "hello"),
            "heartbeat[27135]: 2026/11/02_02:20:10 debug: hello\n"
        );
    }

    #[test]
    fn every_level_word() {
        let words: Vec<&str> = [
            Level::Emerg,
            Level::Alert,
            Level::Crit,
            Level::Error,
            Level::Warn,
            Level::Notice,
            Level::Info,
            Level::Debug,
        ]
        .into_iter()
        .map(level_str)
        .collect();
        assert_eq!(
            words,
            ["EMERG", "ALERT", "CRIT", "ERROR", "WARN", "notice", "info", "debug"]
        );
    }

    #[test]
    fn syslog_body() {
        assert_eq!(
            syslog_message(
                42,
                Level::Crit,
                "Cluster node bravo returning after partition."
            ),
            "[42]: CRIT: Cluster node bravo returning after partition."
        );
    }

    #[test]
    fn long_text_is_clipped_on_a_char_boundary() {
        let long = "é".repeat(4000);
        let c = clip(&long);
        assert!(c.len() <= MAX_TEXT);
        assert_eq!(c.len(), MAX_TEXT - 1);
        assert_eq!(clip("short"), "short");
    }

    #[test]
    fn localtime_round_trips_through_libc() {
        // Whatever the TZ, minutes and seconds of a whole-hour-offset zone
        // agree with UTC's; the date must be plausible.
        let t = LocalTime::from_unix(1_795_314_010);
        assert!(t.year == 2026 || t.year == 2027);
        assert!((1..=12).contains(&t.month) && (1..=31).contains(&t.day));
        assert!(t.second < 61 && t.minute < 60 && t.hour < 24);
    }
}
