//! DLP sampling: which requests are screened and audited.
//!
//! Each intercepted request gets an id from a counter; the decision is a keyed hash of the id
//! (SHA-256 over a secret per-process seed and the id) compared with the sample rate, so it is
//! deterministic per request, spread evenly over time, and not predictable by clients that do not
//! know the seed.

use sha2::{Digest, Sha256};
use std::sync::atomic::{AtomicU64, Ordering};

#[derive(Debug)]
pub struct Sampler {
    seed: [u8; 32],
    next: AtomicU64,
}

impl Sampler {
    /// A sampler with a fixed seed (tests, reproducible runs).
    pub fn with_seed(seed: u64) -> Sampler {
        let mut s = [0u8; 32];
        s[..8].copy_from_slice(&seed.to_le_bytes());
        Sampler {
            seed: Sha256::digest(s).into(),
            next: AtomicU64::new(0),
        }
    }

    /// A sampler with a random seed.
    pub fn random() -> Sampler {
        use ring::rand::SecureRandom;
        let mut seed = [0u8; 32];
        if ring::rand::SystemRandom::new().fill(&mut seed).is_err() {
            // Practically unreachable; fall back to the clock.
            let t = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.as_nanos())
                .unwrap_or(0);
            seed[..16].copy_from_slice(&t.to_le_bytes());
        }
        Sampler {
            seed,
            next: AtomicU64::new(0),
        }
    }

    /// The next request id.
    pub fn next_id(&self) -> u64 {
        self.next.fetch_add(1, Ordering::Relaxed)
    }

    /// A uniform number in [0, 1) for a request id.
    pub fn unit(&self, id: u64) -> f64 {
        let mut h = Sha256::new();
        h.update(self.seed);
        h.update(id.to_le_bytes());
        let d = h.finalize();
        let mut b = [0u8; 8];
        b.copy_from_slice(&d[..8]);
        (u64::from_le_bytes(b) >> 11) as f64 / (1u64 << 53) as f64
    }

    /// Whether request `id` is in the sample at `rate` (0..1).
    pub fn sampled(&self, id: u64, rate: f64) -> bool {
        if rate >= 1.0 {
            return true;
        }
        if rate.is_nan() || rate <= 0.0 {
            return false;
        }
        self.unit(id) < rate
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deterministic_and_seeded() {
        let a = Sampler::with_seed(7);
        let b = Sampler::with_seed(7);
        let c = Sampler::with_seed(8);
        let pick = |s: &Sampler| (0..200).map(|i| s.sampled(i, 0.5)).collect::<Vec<_>>();
        assert_eq!(pick(&a), pick(&b));
        assert_ne!(pick(&a), pick(&c));
        assert!((0..100).all(|i| a.sampled(i, 1.0)));
        assert!((0..100).all(|i| !a.sampled(i, 0.0)));
    }

    #[test]
    fn rate_holds_on_10000_requests() {
        for seed in [1, 2, 3] {
            let s = Sampler::with_seed(seed);
            for rate in [0.01, 0.1, 0.25, 0.5, 0.9] {
                let n = (0..10_000).filter(|_| s.sampled(s.next_id(), rate)).count();
                let got = n as f64 / 10_000.0;
                assert!((got - rate).abs() <= 0.02, "seed {seed} rate {rate}: {got}");
            }
        }
    }
}
