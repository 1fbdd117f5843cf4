//! `authkeys` with Heartbeat's reading rules (heartbeat/auth.c
//! `parse_authfile`), re-checked against the real binary:
//!
//! * blank lines and lines whose first non-blank character is `#` are
//!   skipped;
//! * any line starting with `a` is the `auth N` line (`sscanf "auth %d"`);
//! * other lines are `N METHOD [KEY]` (`sscanf "%d%s%s"`: the key is one
//!   white-space-free token, anything after it is ignored);
//! * the active entry is chosen when its key line is read, so `auth N` must
//!   come before the `N …` line;
//! * `crc` must not have a key, `md5` and `sha1` must;
//! * the file must not be readable by group or others.

use std::path::Path;

use super::diag::{Diagnostic, Diagnostics, Parsed};
use crate::wire::auth::{AuthEntry, AuthMethod, Keyring, MAX_AUTH};

/// Keys shorter than this get a warning.
pub const MIN_KEY_LEN: usize = 16;

/// The placeholder key of the shipped sample `authkeys`.
pub const SAMPLE_KEY: &str = "CHANGE-ME-to-a-long-random-secret";

/// Parse authkeys content. `value` is `None` when no usable active key was
/// found (then `diagnostics` has an error).
pub fn parse(content: &[u8], path: &Path) -> Parsed<Option<Keyring>> {
    let mut diags = Diagnostics::new();
    let mut entries: [Option<AuthEntry>; MAX_AUTH] = Default::default();
    let mut entry_lines = [0usize; MAX_AUTH];
    // Heartbeat's `authnum`: the last `auth N` read so far (-1 = none).
    let mut authnum: i64 = -1;
    let mut auth_line: Option<usize> = None;
    let mut active: Option<u8> = None;

    for (index, raw) in content.split(|&c| c == b'\n').enumerate() {
        let line_no = index + 1;
        let raw = raw.split(|&c| c == 0).next().unwrap_or_default();
        let line = raw
            .get(super::values::span(raw, 0, super::values::WHITESPACE)..)
            .unwrap_or_default();
        let mut err = |message: String, fix: &str| {
            diags.push(Diagnostic::error(path, Some(line_no), message, fix));
        };
        match line.first() {
            None | Some(b'#') => continue,
            Some(b'a') => {
                match scan_auth_line(line) {
                    Some(n) => authnum = n,
                    None => err(
                        format!("invalid auth line [{}]", shown(line)),
                        "write 'auth N' with N the index (0-15) of the key to sign with",
                    ),
                }
                auth_line = Some(line_no);
                continue;
            }
            Some(_) => {}
        }
        let Some((number, method, key)) = scan_key_line(line) else {
            err(
                format!("line [{}] is invalid", shown(line)),
                "write 'auth N' or 'N METHOD [KEY]' (e.g. '1 sha1 SECRET'), or start a comment with #",
            );
            continue;
        };
        let Some(slot) = usize::try_from(number).ok().filter(|n| *n < MAX_AUTH) else {
            err(
                format!("invalid authnum [{number}]"),
                "use a key index from 0 to 15",
            );
            continue;
        };
        let method_name = String::from_utf8_lossy(method);
        let Some(method) = AuthMethod::from_name(&method_name) else {
            err(
                format!("invalid authtype [{method_name}]"),
                "use crc, md5 or sha1 (lower case)",
            );
            continue;
        };
        match (method, key.is_empty()) {
            (AuthMethod::Crc, false) => {
                err(
                    "auth method [crc] doesn't use a key".to_string(),
                    "write the crc line without a key (better: use sha1 with a key)",
                );
                continue;
            }
            (AuthMethod::Md5 | AuthMethod::Sha1, true) => {
                err(
                    format!("auth method [{}] requires a key", method.name()),
                    "add the key after the method, e.g. '1 sha1 SECRET'",
                );
                continue;
            }
            _ => {}
        }
        if entries[slot].is_some() {
            let first = entry_lines[slot];
            diags.push(Diagnostic::warning(
                path,
                Some(line_no),
                format!(
                    "key {slot} is defined again (first on line {first}); this one replaces it"
                ),
                "keep one line per key index",
            ));
        }
        let key_text = String::from_utf8_lossy(key);
        if method == AuthMethod::Crc {
            diags.push(Diagnostic::warning(
                path,
                Some(line_no),
                "crc only detects corruption: anyone on the network can forge cluster messages",
                "use sha1 with a long random key",
            ));
        } else if key_text == SAMPLE_KEY {
            diags.push(Diagnostic::warning(
                path,
                Some(line_no),
                "this is the sample key from the documentation",
                "generate a secret, e.g. with: dd if=/dev/urandom bs=32 count=1 2>/dev/null | sha1sum",
            ));
        } else if key.len() < MIN_KEY_LEN {
            diags.push(Diagnostic::warning(
                path,
                Some(line_no),
                format!("key {slot} is only {} characters long", key.len()),
                format!("use a random key of at least {MIN_KEY_LEN} characters"),
            ));
        }
        entries[slot] = Some(AuthEntry {
            method,
            key: key.to_vec(),
        });
        entry_lines[slot] = line_no;
        if i64::try_from(slot).is_ok_and(|s| s == authnum) {
            active = u8::try_from(slot).ok();
        }
    }

    if active.is_none() {
        let message = if authnum < 0 {
            "missing auth directive".to_string()
        } else {
            format!("auth key [{authnum}] not found")
        };
        let fix = if authnum < 0 {
            "add 'auth N' before the key lines, N being the index of the key to sign with"
        } else {
            "the 'auth N' line must come BEFORE the 'N METHOD KEY' line it selects, and that line must be valid"
        };
        diags.push(Diagnostic::error(path, auth_line, message, fix));
    }

    Parsed {
        value: active.map(|active| Keyring { entries, active }),
        diagnostics: diags,
    }
}

/// The permission rule: refused when group- or other-readable (write bits
/// are not checked, as in Heartbeat).
pub fn check_mode(mode: u32, path: &Path) -> Option<Diagnostic> {
    if mode & 0o044 == 0 {
        return None;
    }
    Some(Diagnostic::error(
        path,
        None,
        format!(
            "bad permissions {:04o} on keyfile: group or others can read the keys",
            mode & 0o7777
        ),
        format!("run: chmod 600 {}", path.display()),
    ))
}

/// Read and check an authkeys file (permissions, then content).
pub fn read(path: &Path) -> Parsed<Option<Keyring>> {
    use std::os::unix::fs::PermissionsExt;
    let mut diags = Diagnostics::new();
    let content = match std::fs::read(path) {
        Ok(c) => c,
        Err(e) => {
            let what = match e.kind() {
                std::io::ErrorKind::NotFound => "file not found".to_string(),
                _ => format!("cannot read keyfile: {e}"),
            };
            diags.push(Diagnostic::error(
                path,
                None,
                what,
                "create it (mode 600) with 'auth 1' and '1 sha1 SECRET' lines",
            ));
            return Parsed {
                value: None,
                diagnostics: diags,
            };
        }
    };
    let mut mode_ok = true;
    if let Ok(meta) = std::fs::metadata(path) {
        if let Some(d) = check_mode(meta.permissions().mode(), path) {
            diags.push(d);
            mode_ok = false;
        }
    }
    let parsed = parse(&content, path);
    diags.extend(parsed.diagnostics);
    Parsed {
        value: parsed.value.filter(|_| mode_ok),
        diagnostics: diags,
    }
}

fn shown(line: &[u8]) -> String {
    String::from_utf8_lossy(line).trim_end().to_string()
}

/// C `isspace`.
fn is_c_space(c: u8) -> bool {
    matches!(c, b' ' | b'\t' | b'\n' | b'\x0b' | b'\x0c' | b'\r')
}

/// `sscanf(line, "auth %d")`.
fn scan_auth_line(line: &[u8]) -> Option<i64> {
    let rest = line.strip_prefix(b"auth")?;
    scan_int(rest).map(|(n, _)| n)
}

/// `sscanf(line, "%d%s%s")` needing at least the number and the method.
fn scan_key_line(line: &[u8]) -> Option<(i64, &[u8], &[u8])> {
    let (number, rest) = scan_int(line)?;
    let (method, rest) = scan_word(rest)?;
    let key = scan_word(rest).map_or(&b""[..], |(k, _)| k);
    Some((number, method, key))
}

/// `%d`: white space, optional sign, at least one digit. Values that do not
/// fit are refused rather than wrapped.
fn scan_int(s: &[u8]) -> Option<(i64, &[u8])> {
    let mut i = s.iter().take_while(|c| is_c_space(**c)).count();
    let negative = match s.get(i) {
        Some(b'-') => {
            i += 1;
            true
        }
        Some(b'+') => {
            i += 1;
            false
        }
        _ => false,
    };
    let digits = s
        .get(i..)?
        .iter()
        .take_while(|c| c.is_ascii_digit())
        .count();
    if digits == 0 {
        return None;
    }
    let text = std::str::from_utf8(s.get(i..i + digits)?).ok()?;
    let value: i64 = text.parse().ok().filter(|v| *v <= i64::from(i32::MAX))?;
    Some((if negative { -value } else { value }, s.get(i + digits..)?))
}

/// `%s`: white space, then at least one non-white-space byte.
fn scan_word(s: &[u8]) -> Option<(&[u8], &[u8])> {
    let start = s.iter().take_while(|c| is_c_space(**c)).count();
    let len = s
        .get(start..)?
        .iter()
        .take_while(|c| !is_c_space(**c))
        .count();
    if len == 0 {
        return None;
    }
    Some((s.get(start..start + len)?, s.get(start + len..)?))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(text: &str) -> Parsed<Option<Keyring>> {
        parse(text.as_bytes(), Path::new("authkeys"))
    }

    fn messages(parsed: &Parsed<Option<Keyring>>) -> Vec<String> {
        parsed.diagnostics.iter().map(|d| d.to_string()).collect()
    }

    #[test]
    fn sha1_key_active() {
        let r = p("# keys\n\n  auth 1\n1 sha1 0123456789abcdef\n");
        assert!(r.diagnostics.is_empty(), "{:?}", messages(&r));
        let ring = r.value.expect("keyring");
        assert_eq!(ring.active, 1);
        let e = ring.entries[1].clone().expect("entry 1");
        assert_eq!(e.method, AuthMethod::Sha1);
        assert_eq!(e.key, b"0123456789abcdef");
    }

    #[test]
    fn sscanf_forms() {
        // "auth1" and "1sha1" are read by sscanf; text after the key is ignored
        let r = p("auth1\n1sha1 0123456789abcdef trailing words\n");
        assert_eq!(
            r.value.expect("ring").entries[1].clone().expect("e").key,
            b"0123456789abcdef"
        );
        let r = p("auth 2 junk\n2 md5 0123456789abcdef # comment\n");
        assert_eq!(r.value.expect("ring").active, 2);
    }

    #[test]
    fn auth_must_precede_its_key() {
        let r = p("1 sha1 0123456789abcdef\nauth 1\n");
        assert!(r.value.is_none());
        assert_eq!(
            messages(&r),
            ["authkeys:2: auth key [1] not found — the 'auth N' line must come BEFORE the 'N METHOD KEY' line it selects, and that line must be valid"]
        );
    }

    #[test]
    fn later_auth_reselects() {
        let r = p("auth 1\n1 sha1 0123456789abcdef\nauth 2\n2 md5 fedcba9876543210\n");
        let ring = r.value.expect("ring");
        assert_eq!(ring.active, 2);
        assert!(ring.entries[1].is_some());
    }

    #[test]
    fn missing_auth() {
        let r = p("1 sha1 0123456789abcdef\n");
        assert!(r.value.is_none());
        assert!(messages(&r)[0].starts_with("authkeys: missing auth directive"));
        let r = p("auth -1\n1 sha1 0123456789abcdef\n");
        assert!(messages(&r)[0].starts_with("authkeys:1: missing auth directive"));
    }

    #[test]
    fn crc_with_key_is_an_error() {
        let r = p("auth 1\n1 crc secret\n");
        assert!(r.value.is_none());
        let m = messages(&r);
        assert!(
            m[0].starts_with("authkeys:2: auth method [crc] doesn't use a key"),
            "{m:?}"
        );
        assert!(m[1].contains("auth key [1] not found"));
    }

    #[test]
    fn crc_without_key_is_accepted_with_a_warning() {
        let r = p("auth 3\n3 crc\n");
        assert_eq!(
            r.value.expect("ring").entries[3].clone().expect("e").key,
            b""
        );
        assert!(!r.diagnostics.has_errors());
        assert_eq!(r.diagnostics.warning_count(), 1);
    }

    #[test]
    fn md5_and_sha1_need_keys() {
        let r = p("auth 1\n1 md5\n");
        assert!(messages(&r)[0].contains("auth method [md5] requires a key"));
        let r = p("auth 1\n1 sha1\n");
        assert!(messages(&r)[0].contains("auth method [sha1] requires a key"));
    }

    #[test]
    fn bad_index_method_and_lines() {
        let r = p("auth 16\n16 sha1 0123456789abcdef\n1 SHA1 0123456789abcdef\nAuth 1\nbogus\n");
        let m = messages(&r);
        assert!(
            m[0].starts_with("authkeys:2: invalid authnum [16]"),
            "{m:?}"
        );
        assert!(m[1].starts_with("authkeys:3: invalid authtype [SHA1]"));
        assert!(m[2].starts_with("authkeys:4: line [Auth 1] is invalid"));
        assert!(m[3].starts_with("authkeys:5: line [bogus] is invalid"));
        assert!(m[4].starts_with("authkeys:1: auth key [16] not found"));
        let r = p("auth x\n");
        assert!(messages(&r)[0].starts_with("authkeys:1: invalid auth line [auth x]"));
    }

    #[test]
    fn short_and_sample_keys_warn() {
        let r = p("auth 1\n1 sha1 short\n");
        assert!(!r.diagnostics.has_errors());
        assert!(messages(&r)[0].contains("only 5 characters"));
        let r = p(&format!("auth 1\n1 sha1 {SAMPLE_KEY}\n"));
        assert!(messages(&r)[0].contains("sample key"));
    }

    #[test]
    fn key_bytes_are_literal() {
        let r = parse(
            b"auth 0\n0 md5 \xff\xfe-not-utf8-key-bytes\n",
            Path::new("k"),
        );
        assert_eq!(
            r.value.expect("ring").entries[0].clone().expect("e").key,
            b"\xff\xfe-not-utf8-key-bytes"
        );
    }

    #[test]
    fn permission_rule() {
        let path = Path::new("/etc/ha.d/authkeys");
        assert!(check_mode(0o100600, path).is_none());
        assert!(check_mode(0o100400, path).is_none());
        assert!(check_mode(0o100620, path).is_none()); // write bits not checked
        assert!(check_mode(0o100602, path).is_none());
        for bad in [0o100640, 0o100604, 0o100644] {
            let d = check_mode(bad, path).expect("refused");
            assert!(d.fix.contains("chmod 600 /etc/ha.d/authkeys"));
        }
        assert_eq!(
            check_mode(0o100644, path).map(|d| d.to_string()),
            Some("/etc/ha.d/authkeys: bad permissions 0644 on keyfile: group or others can read the keys — run: chmod 600 /etc/ha.d/authkeys".into())
        );
    }
}
