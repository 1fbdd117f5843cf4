//! Scalar values as Heartbeat and cluster-glue read them: `cl_get_msec`
//! times, `cl_str_to_boolean` booleans and C `atoi` numbers.

/// Heartbeat's `WHITESPACE` set.
pub const WHITESPACE: &[u8] = b" \t\n\r\x0c";
/// Heartbeat's `DELIMS` set: what separates ha.cf option values.
pub const DELIMS: &[u8] = b", \t\n\r\x0c";

/// Largest time value we accept (about 34 years); beyond this the C code
/// overflows `long`, we refuse instead.
pub const MAX_MSEC: u64 = 1 << 40;

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TimeError {
    /// Does not start with a digit or `.`.
    NotANumber,
    /// A suffix other than `ms…`/`us…` (e.g. `10s`, `1m`).
    BadUnit(String),
    TooLarge,
}

/// A time value per `cl_get_msec`: a decimal number of seconds (fraction
/// allowed), or milliseconds / microseconds when followed by a suffix that
/// starts with `ms` / `us` (case-insensitive: `msec`, `usec` and even `msfoo`
/// are read as such, as the C code compares only two letters). Any other
/// suffix is an error. The result is rounded to the nearest whole millisecond.
pub fn parse_msec(input: &str) -> Result<u64, TimeError> {
    let bytes = input.as_bytes();
    let start = span(bytes, 0, WHITESPACE);
    let num_end = span(bytes, start, b"0123456789.");
    if num_end == start {
        return Err(TimeError::NotANumber);
    }
    let unit_start = span(bytes, num_end, WHITESPACE);
    let unit = bytes.get(unit_start..).unwrap_or_default();
    let prefix: Vec<u8> = unit.iter().take(2).map(u8::to_ascii_lowercase).collect();
    let (multiplier, divisor) = match prefix.as_slice() {
        b"ms" => (1.0, 1.0),
        b"us" => (1.0, 1000.0),
        _ if unit.is_empty() || unit[0] == b'\n' || unit[0] == b'\r' => (1000.0, 1.0),
        _ => {
            return Err(TimeError::BadUnit(
                String::from_utf8_lossy(unit).into_owned(),
            ))
        }
    };
    let number = leading_decimal(bytes.get(start..num_end).unwrap_or_default());
    // Same operations, in the same order, as the C code: identical rounding.
    let mut value = number;
    value *= multiplier;
    value /= divisor;
    value += 0.5;
    if !value.is_finite() || value >= MAX_MSEC as f64 {
        return Err(TimeError::TooLarge);
    }
    Ok(value.trunc() as u64)
}

/// `atof` of a string made of digits and dots: the longest prefix of the
/// form `digits[.digits]` with at least one digit, else 0.
fn leading_decimal(s: &[u8]) -> f64 {
    let int_end = span(s, 0, b"0123456789");
    let mut frac_end = int_end;
    if s.get(int_end) == Some(&b'.') {
        frac_end = span(s, int_end + 1, b"0123456789");
    }
    let int_part = std::str::from_utf8(s.get(..int_end).unwrap_or_default()).unwrap_or("");
    let frac_part = if frac_end > int_end {
        std::str::from_utf8(s.get(int_end + 1..frac_end).unwrap_or_default()).unwrap_or("")
    } else {
        ""
    };
    if int_part.is_empty() && frac_part.is_empty() {
        return 0.0;
    }
    let int_part = if int_part.is_empty() { "0" } else { int_part };
    let frac_part = if frac_part.is_empty() { "0" } else { frac_part };
    format!("{int_part}.{frac_part}").parse().unwrap_or(0.0)
}

/// Index of the first byte at or after `from` that is not in `set`.
pub fn span(bytes: &[u8], from: usize, set: &[u8]) -> usize {
    let mut i = from.min(bytes.len());
    while i < bytes.len() && set.contains(&bytes[i]) {
        i += 1;
    }
    i
}

/// A boolean per `cl_str_to_boolean`: `true on yes y 1` / `false off no n 0`,
/// case-insensitive; anything else is `None`.
pub fn parse_bool(s: &str) -> Option<bool> {
    const TRUE: [&str; 5] = ["true", "on", "yes", "y", "1"];
    const FALSE: [&str; 5] = ["false", "off", "no", "n", "0"];
    if TRUE.iter().any(|t| t.eq_ignore_ascii_case(s)) {
        Some(true)
    } else if FALSE.iter().any(|f| f.eq_ignore_ascii_case(s)) {
        Some(false)
    } else {
        None
    }
}

/// Result of C `atoi`: the value, and whether the whole text was a number
/// (`atoi("5x")` is 5 and `atoi("x")` is 0 in C; callers may warn).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Atoi {
    pub value: i64,
    pub clean: bool,
}

/// C `atoi`: leading white space, optional sign, digits; stops at the first
/// other character. Saturates instead of overflowing.
pub fn atoi(s: &str) -> Atoi {
    let b = s.as_bytes();
    let mut i = span(b, 0, b" \t\n\x0b\x0c\r");
    let negative = match b.get(i) {
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
    let digits_start = i;
    let mut value: i64 = 0;
    while let Some(d) = b.get(i).filter(|c| c.is_ascii_digit()) {
        value = value.saturating_mul(10).saturating_add(i64::from(d - b'0'));
        i += 1;
    }
    Atoi {
        value: if negative { -value } else { value },
        clean: i > digits_start && i == b.len(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seconds_with_fraction() {
        assert_eq!(parse_msec("1"), Ok(1000));
        assert_eq!(parse_msec("0.5"), Ok(500));
        assert_eq!(parse_msec(".5"), Ok(500));
        assert_eq!(parse_msec("1."), Ok(1000));
        assert_eq!(parse_msec("1.5"), Ok(1500));
        assert_eq!(parse_msec("0.001"), Ok(1));
        assert_eq!(parse_msec("30"), Ok(30000));
        // atof stops at the second dot
        assert_eq!(parse_msec("1.2.3"), Ok(1200));
        assert_eq!(parse_msec("."), Ok(0));
    }

    #[test]
    fn milli_and_micro_seconds() {
        assert_eq!(parse_msec("500ms"), Ok(500));
        assert_eq!(parse_msec("500MS"), Ok(500));
        assert_eq!(parse_msec("500msec"), Ok(500));
        assert_eq!(parse_msec("1500us"), Ok(2)); // 1.5 rounds up
        assert_eq!(parse_msec("1000000usec"), Ok(1000));
        assert_eq!(parse_msec("499us"), Ok(0));
        assert_eq!(parse_msec("501us"), Ok(1));
        assert_eq!(parse_msec("0.4ms"), Ok(0));
        assert_eq!(parse_msec("2.5ms"), Ok(3));
        // only two letters are compared, like the C code
        assert_eq!(parse_msec("10msfoo"), Ok(10));
    }

    #[test]
    fn other_suffixes_are_errors() {
        assert_eq!(parse_msec("10s"), Err(TimeError::BadUnit("s".into())));
        assert_eq!(parse_msec("1m"), Err(TimeError::BadUnit("m".into())));
        assert_eq!(parse_msec("1sec"), Err(TimeError::BadUnit("sec".into())));
        assert_eq!(parse_msec("1e3"), Err(TimeError::BadUnit("e3".into())));
        assert_eq!(parse_msec("-1"), Err(TimeError::NotANumber));
        assert_eq!(parse_msec("ms"), Err(TimeError::NotANumber));
        assert_eq!(parse_msec(""), Err(TimeError::NotANumber));
        assert_eq!(parse_msec("99999999999999999999"), Err(TimeError::TooLarge));
    }

    #[test]
    fn booleans() {
        for t in ["true", "on", "yes", "y", "1", "TRUE", "On", "Y"] {
            assert_eq!(parse_bool(t), Some(true), "{t}");
        }
        for f in ["false", "off", "no", "n", "0", "OFF", "No", "N"] {
            assert_eq!(parse_bool(f), Some(false), "{f}");
        }
        for x in ["", "2", "maybe", "yes!", "enabled"] {
            assert_eq!(parse_bool(x), None, "{x}");
        }
    }

    #[test]
    fn c_atoi() {
        assert_eq!(
            atoi("42"),
            Atoi {
                value: 42,
                clean: true
            }
        );
        assert_eq!(
            atoi("+7"),
            Atoi {
                value: 7,
                clean: true
            }
        );
        assert_eq!(
            atoi("-3"),
            Atoi {
                value: -3,
                clean: true
            }
        );
        assert_eq!(
            atoi("5x"),
            Atoi {
                value: 5,
                clean: false
            }
        );
        assert_eq!(
            atoi("abc"),
            Atoi {
                value: 0,
                clean: false
            }
        );
        assert_eq!(atoi("99999999999999999999999").value, i64::MAX);
    }
}
