//! Fingerprints of detected values: never the value itself.

use sha2::{Digest, Sha256};

/// Lowercase hex SHA-256 of a value (the allowlist's `fingerprint:` form).
pub fn sha256_hex(value: &[u8]) -> String {
    hex(&Sha256::digest(value))
}

pub fn hex(bytes: &[u8]) -> String {
    use std::fmt::Write;
    bytes
        .iter()
        .fold(String::with_capacity(bytes.len() * 2), |mut s, b| {
            let _ = write!(s, "{b:02x}");
            s
        })
}
