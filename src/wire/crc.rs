//! CRC-32/POSIX as used by Heartbeat's `crc` auth method: polynomial
//! 0x04C11DB7, MSB-first (not reflected), initial value 0, final XOR
//! 0xFFFFFFFF and, unlike cksum(1), no length appended.

const POLY: u32 = 0x04C1_1DB7;

const fn make_table() -> [u32; 256] {
    let mut table = [0u32; 256];
    let mut i = 0;
    while i < 256 {
        let mut c = (i as u32) << 24;
        let mut bit = 0;
        while bit < 8 {
            c = if c & 0x8000_0000 != 0 {
                (c << 1) ^ POLY
            } else {
                c << 1
            };
            bit += 1;
        }
        table[i] = c;
        i += 1;
    }
    table
}

static TABLE: [u32; 256] = make_table();

/// The CRC-32/POSIX checksum of `data` (check value of `123456789`: 0x765e7680).
pub fn crc32_posix(data: &[u8]) -> u32 {
    let crc = data.iter().fold(0u32, |crc, &b| {
        let slot = ((crc >> 24) ^ u32::from(b)) & 0xff;
        (crc << 8) ^ TABLE[slot as usize]
    });
    !crc
}

#[cfg(test)]
mod tests {
    use super::crc32_posix;

    #[test]
    fn check_value() {
        assert_eq!(crc32_posix(b"123456789"), 0x765e_7680);
    }

    #[test]
    fn empty_input_is_all_ones() {
        assert_eq!(crc32_posix(b""), 0xffff_ffff);
    }
}
