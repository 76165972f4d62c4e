//! SHA-256 digests: computed streamed over files, compared with what the phone computed.

use std::fmt;
use std::io::Read;
use std::path::Path;

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::error::MediaError;

/// Read size for streamed hashing: large enough for throughput, small enough to never matter.
const CHUNK: usize = 64 * 1024;

/// A SHA-256 digest; written and parsed as 64 lowercase hex digits.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(into = "String", try_from = "String")]
pub struct Sha256Digest([u8; 32]);

impl Sha256Digest {
    /// Parses 64 hex digits (either case); anything else is [`MediaError::InvalidChecksum`].
    pub fn parse_hex(s: &str) -> Result<Self, MediaError> {
        let mut out = [0u8; 32];
        hex::decode_to_slice(s.trim(), &mut out)
            .map_err(|_| MediaError::InvalidChecksum(s.chars().take(80).collect()))?;
        Ok(Self(out))
    }

    /// Wraps raw digest bytes.
    pub fn from_bytes(bytes: [u8; 32]) -> Self {
        Self(bytes)
    }

    /// The raw 32 bytes.
    pub fn as_bytes(&self) -> &[u8; 32] {
        &self.0
    }

    /// Lowercase hex form.
    pub fn to_hex(&self) -> String {
        hex::encode(self.0)
    }

    /// Digest of an in-memory buffer.
    pub fn of(data: &[u8]) -> Self {
        Self(Sha256::digest(data).into())
    }

    /// Fails with [`MediaError::HashMismatch`] unless `self` equals `expected`.
    pub fn verify(&self, expected: &Sha256Digest) -> Result<(), MediaError> {
        if self == expected {
            Ok(())
        } else {
            Err(MediaError::HashMismatch {
                expected: expected.to_hex(),
                actual: self.to_hex(),
            })
        }
    }
}

impl fmt::Display for Sha256Digest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_hex())
    }
}

impl fmt::Debug for Sha256Digest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Sha256Digest({})", self.to_hex())
    }
}

impl From<Sha256Digest> for String {
    fn from(d: Sha256Digest) -> Self {
        d.to_hex()
    }
}

impl TryFrom<String> for Sha256Digest {
    type Error = MediaError;

    fn try_from(s: String) -> Result<Self, Self::Error> {
        Self::parse_hex(&s)
    }
}

/// Streams a reader through SHA-256, returning the digest and the byte count.
pub fn sha256_reader<R: Read>(mut r: R) -> Result<(Sha256Digest, u64), MediaError> {
    let mut hasher = Sha256::new();
    let mut buf = vec![0u8; CHUNK];
    let mut total = 0u64;
    loop {
        let n = r.read(&mut buf)?;
        if n == 0 {
            break;
        }
        hasher.update(&buf[..n]);
        total += n as u64;
    }
    Ok((Sha256Digest(hasher.finalize().into()), total))
}

/// Streams a file through SHA-256 without loading it.
pub fn sha256_file(path: &Path) -> Result<Sha256Digest, MediaError> {
    Ok(sha256_reader(std::fs::File::open(path)?)?.0)
}

/// Incremental hasher for async copies (the storage backends hash while they write).
#[derive(Default)]
pub(crate) struct Hasher {
    inner: Sha256,
    len: u64,
}

impl Hasher {
    /// Feeds bytes.
    pub fn update(&mut self, data: &[u8]) {
        self.inner.update(data);
        self.len += data.len() as u64;
    }

    /// Finishes: digest and total length.
    pub fn finish(self) -> (Sha256Digest, u64) {
        (Sha256Digest(self.inner.finalize().into()), self.len)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_digest_and_hex_parsing() {
        let d = Sha256Digest::of(b"abc");
        assert_eq!(
            d.to_hex(),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
        assert_eq!(
            Sha256Digest::parse_hex(&d.to_hex().to_uppercase()).unwrap(),
            d
        );
        assert_eq!(sha256_reader(&b"abc"[..]).unwrap(), (d, 3));
        assert_eq!(
            Sha256Digest::parse_hex("abc").unwrap_err().code(),
            "invalid_checksum"
        );
        assert_eq!(
            d.verify(&Sha256Digest::of(b"abd")).unwrap_err().code(),
            "hash_mismatch"
        );
    }
}
