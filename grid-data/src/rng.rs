//! A tiny deterministic PRNG for the generator.
//!
//! Hand-written on purpose: `rand`'s `StdRng` may change its algorithm between versions, and a
//! synthetic town must be byte-identical for a given seed forever (tests and benchmarks name
//! seeds). SplitMix64 is 10 lines, passes BigCrush, and needs no dependency.

/// SplitMix64 (Steele, Lea, Flood 2014).
#[derive(Debug, Clone)]
pub(crate) struct SplitMix64(u64);

impl SplitMix64 {
    /// Seeded generator.
    pub(crate) fn new(seed: u64) -> Self {
        Self(seed)
    }

    /// Next 64 random bits.
    pub(crate) fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in [0, 1).
    pub(crate) fn unit(&mut self) -> f64 {
        // 53 high bits → exactly representable fraction.
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }

    /// Uniform in [-1, 1).
    pub(crate) fn symmetric(&mut self) -> f64 {
        self.unit() * 2.0 - 1.0
    }

    /// A random element of a non-empty slice.
    pub(crate) fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
        let i = (self.next_u64() % items.len().max(1) as u64) as usize;
        items.get(i).copied().unwrap_or("")
    }
}
