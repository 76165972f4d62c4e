//! Perceptual hash to flag re-used photos (the same scene submitted again as new evidence).
//!
//! A 64-bit difference hash (dHash): shrink to 9×8 grey, one bit per horizontal neighbour pair
//! (is the left pixel brighter?). It survives re-encoding, resizing and mild colour changes,
//! costs microseconds, and needs no extra crate; rotation and heavy cropping defeat it, which
//! is acceptable for a "please look at this" flag rather than a verdict.

use std::fmt;

use ::image::{imageops::FilterType, DynamicImage};
use serde::{Deserialize, Serialize};

/// Hamming distance at or below which two photos are flagged as probably the same picture.
pub const DEFAULT_SIMILARITY_THRESHOLD: u32 = 10;

/// A 64-bit perceptual hash; stored as 16 hex digits.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(into = "String", try_from = "String")]
pub struct PerceptualHash(u64);

impl PerceptualHash {
    /// Computes the dHash of an (already oriented) image.
    pub fn of(img: &DynamicImage) -> Self {
        // Triangle filtering averages the pixels under each output cell, so the hash reflects
        // the picture's structure rather than the encoder's noise.
        let small = img.resize_exact(9, 8, FilterType::Triangle).to_luma8();
        let mut bits = 0u64;
        for y in 0..8 {
            for x in 0..8 {
                let left = small.get_pixel(x, y)[0];
                let right = small.get_pixel(x + 1, y)[0];
                bits = (bits << 1) | u64::from(left > right);
            }
        }
        Self(bits)
    }

    /// The raw 64 bits.
    pub fn bits(self) -> u64 {
        self.0
    }

    /// Builds a hash from its raw bits (e.g. read back from the database).
    pub fn from_bits(bits: u64) -> Self {
        Self(bits)
    }

    /// Number of differing bits (0 = identical, 64 = opposite).
    pub fn hamming_distance(self, other: Self) -> u32 {
        (self.0 ^ other.0).count_ones()
    }

    /// Whether two hashes are within `threshold` bits (see [`DEFAULT_SIMILARITY_THRESHOLD`]).
    pub fn is_similar(self, other: Self, threshold: u32) -> bool {
        self.hamming_distance(other) <= threshold
    }
}

/// Number of differing bits between two hashes.
pub fn hamming_distance(a: PerceptualHash, b: PerceptualHash) -> u32 {
    a.hamming_distance(b)
}

impl fmt::Display for PerceptualHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:016x}", self.0)
    }
}

impl From<PerceptualHash> for String {
    fn from(h: PerceptualHash) -> Self {
        h.to_string()
    }
}

impl TryFrom<String> for PerceptualHash {
    type Error = std::num::ParseIntError;

    fn try_from(s: String) -> Result<Self, Self::Error> {
        u64::from_str_radix(&s, 16).map(Self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hex_round_trip_and_distance() {
        let a = PerceptualHash::from_bits(0xF0F0_0000_0000_0001);
        let s = a.to_string();
        assert_eq!(s, "f0f0000000000001");
        assert_eq!(PerceptualHash::try_from(s).unwrap(), a);
        assert_eq!(hamming_distance(a, PerceptualHash::from_bits(0)), 9);
        assert!(a.is_similar(a, 0));
    }
}
