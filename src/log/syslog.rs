//! syslog(3) output exactly as cl_log does it: `openlog(entity, LOG_CONS,
//! facility)` and messages `[<pid>]: <LEVEL>: <text>`. libc's syslog is
//! used instead of the `syslog` crate because that crate writes its own
//! `heartbeat[pid]:` header, which would double the pid.

use std::ffi::CString;

use crate::core::Level;

use super::format::{syslog_message, syslog_priority};

/// A syslog facility by ha.cf name.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Facility(pub libc::c_int);

/// `logfacility` value: `Ok(None)` for `none`, `Err` for an unknown name
/// (Heartbeat: "Log facility(x) not valid"). Names as cl_syslog.c.
pub fn parse_facility(name: &str) -> Result<Option<Facility>, String> {
    let code = match name {
        "none" => return Ok(None),
        "auth" | "security" => libc::LOG_AUTH,
        "authpriv" => libc::LOG_AUTHPRIV,
        "cron" => libc::LOG_CRON,
        "daemon" => libc::LOG_DAEMON,
        "ftp" => libc::LOG_FTP,
        "kern" => libc::LOG_KERN,
        "lpr" => libc::LOG_LPR,
        "mail" => libc::LOG_MAIL,
        "news" => libc::LOG_NEWS,
        "syslog" => libc::LOG_SYSLOG,
        "user" => libc::LOG_USER,
        "uucp" => libc::LOG_UUCP,
        "local0" => libc::LOG_LOCAL0,
        "local1" => libc::LOG_LOCAL1,
        "local2" => libc::LOG_LOCAL2,
        "local3" => libc::LOG_LOCAL3,
        "local4" => libc::LOG_LOCAL4,
        "local5" => libc::LOG_LOCAL5,
        "local6" => libc::LOG_LOCAL6,
        "local7" => libc::LOG_LOCAL7,
        _ => return Err(format!("Log facility({name}) not valid")),
    };
    Ok(Some(Facility(code)))
}

/// The process's syslog connection (syslog state is per process: keep one).
#[derive(Debug)]
pub struct Syslog {
    /// openlog keeps this pointer: it must live as long as the connection.
    _ident: CString,
    facility: Facility,
}

impl Syslog {
    pub fn open(ident: &str, facility: Facility) -> Syslog {
        let ident = CString::new(ident.replace('\0', "")).unwrap_or_default();
        // SAFETY: `ident` is NUL-terminated and stored in the returned value,
        // which closes the log before dropping it.
        unsafe { libc::openlog(ident.as_ptr(), libc::LOG_CONS, facility.0) };
        Syslog {
            _ident: ident,
            facility,
        }
    }

    pub fn facility(&self) -> Facility {
        self.facility
    }

    pub fn send(&self, pid: u32, level: Level, text: &str) {
        let msg = syslog_message(pid, level, text).replace('\0', " ");
        let Ok(msg) = CString::new(msg) else { return };
        // SAFETY: constant "%s" format with one valid C string argument.
        unsafe {
            libc::syslog(
                self.facility.0 | syslog_priority(level),
                c"%s".as_ptr(),
                msg.as_ptr(),
            )
        };
    }
}

impl Drop for Syslog {
    fn drop(&mut self) {
        // SAFETY: closelog has no preconditions.
        unsafe { libc::closelog() };
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn facility_names() {
        assert_eq!(parse_facility("none"), Ok(None));
        assert_eq!(
            parse_facility("local0"),
            Ok(Some(Facility(libc::LOG_LOCAL0)))
        );
        assert_eq!(
            parse_facility("daemon"),
            Ok(Some(Facility(libc::LOG_DAEMON)))
        );
        assert_eq!(
            parse_facility("Local0"),
            Err("Log facility(Local0) not valid".to_string())
        );
    }
}
