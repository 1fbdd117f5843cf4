//! A tiny deterministic PRNG (splitmix64): ACK triggers and retransmission
//! request delays only need spread, not secrecy, and tests need replay.

#[derive(Clone, Debug)]
pub(super) struct Rng(u64);

impl Rng {
    pub(super) fn new(seed: u64) -> Self {
        Rng(seed)
    }

    pub(super) fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// Uniform-enough value in `lo..=hi` (returns `lo` when `hi <= lo`).
    pub(super) fn in_range(&mut self, lo: u64, hi: u64) -> u64 {
        if hi <= lo {
            return lo;
        }
        let span = hi - lo + 1;
        lo + self.next_u64() % span
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_seed_same_sequence_and_bounds_hold() {
        let mut a = Rng::new(42);
        let mut b = Rng::new(42);
        for _ in 0..1000 {
            let x = a.in_range(50, 250);
            assert_eq!(x, b.in_range(50, 250));
            assert!((50..=250).contains(&x));
        }
        assert_eq!(Rng::new(1).in_range(9, 3), 9);
    }

    #[test]
    fn values_spread_over_the_range() {
        let mut r = Rng::new(7);
        let mut seen = [false; 10];
        for _ in 0..200 {
            seen[r.in_range(0, 9) as usize] = true;
        }
        assert!(seen.iter().all(|s| *s));
    }
}
