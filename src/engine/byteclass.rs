//! A set of bytes that finds runs of its members fast: the classes of the token walks
//! (`[A-Za-z0-9]{36,255}`, a URL's `[^/\s"'`<>]{1,128}`), whose runs are tens of bytes.
//!
//! One table lookup and a branch per byte cost ~5 instructions a byte; with AVX2, 32 bytes take
//! two nibble shuffles, an AND and a compare (Teddy's trick, see `keywords::avx2`), exact for any
//! set whose bytes above 0x7f are all in or all out (the classes of patterns compiled without
//! Unicode: `[^...]` takes them all, `[A-Z...]` none). Other sets, and short stretches, take the
//! table.

/// A set of bytes, with its run finders.
pub struct ByteClass {
    table: [bool; 256],
    #[cfg(target_arch = "x86_64")]
    nibbles: Option<avx2::Nibbles>,
}

/// Fewer bytes than this are read from the table: one vector step costs about as much as a
/// few table steps.
const SHORT: usize = 8;

impl ByteClass {
    pub fn new(table: &[bool; 256]) -> ByteClass {
        ByteClass {
            table: *table,
            #[cfg(target_arch = "x86_64")]
            nibbles: avx2::Nibbles::new(table),
        }
    }

    /// The set as a table.
    pub fn table(&self) -> &[bool; 256] {
        &self.table
    }

    pub fn contains(&self, b: u8) -> bool {
        self.table[usize::from(b)]
    }

    /// How many bytes of `hay[pos..stop]` are members in a row from `pos` (`pos <= stop <=
    /// hay.len()`).
    pub fn run(&self, hay: &[u8], pos: usize, stop: usize) -> usize {
        #[cfg(target_arch = "x86_64")]
        if let Some(n) = self.vector(stop - pos) {
            // SAFETY: `Nibbles::new` returns Some only where the CPU has AVX2.
            return unsafe { n.run(&self.table, hay, pos, stop) };
        }
        run_scalar(&self.table, hay, pos, stop)
    }

    /// The last position in `lo + 1..=p` that holds a member, or `lo` when none does (`lo <= p <
    /// hay.len()`): where a class that gives back bytes may stop for the item after it.
    pub fn rfind_above(&self, hay: &[u8], lo: usize, p: usize) -> usize {
        #[cfg(target_arch = "x86_64")]
        if let Some(n) = self.vector(p - lo) {
            // SAFETY: as in `run`.
            return unsafe { n.rfind_above(&self.table, hay, lo, p) };
        }
        rfind_above_scalar(&self.table, hay, lo, p)
    }

    /// The vector tables, when the set has them and `len` bytes repay a vector step.
    #[cfg(target_arch = "x86_64")]
    fn vector(&self, len: usize) -> Option<&avx2::Nibbles> {
        self.nibbles.as_ref().filter(|_| len >= SHORT)
    }
}

fn run_scalar(table: &[bool; 256], hay: &[u8], pos: usize, stop: usize) -> usize {
    let run = &hay[pos..stop];
    run.iter()
        .position(|&b| !table[usize::from(b)])
        .unwrap_or(run.len())
}

fn rfind_above_scalar(table: &[bool; 256], hay: &[u8], lo: usize, mut p: usize) -> usize {
    while p > lo && !table[usize::from(hay[p])] {
        p -= 1;
    }
    p
}

#[cfg(target_arch = "x86_64")]
mod avx2 {
    use std::arch::x86_64::{
        __m256i, _mm256_and_si256, _mm256_cmpeq_epi8, _mm256_loadu_si256, _mm256_movemask_epi8,
        _mm256_set1_epi8, _mm256_setzero_si256, _mm256_shuffle_epi8, _mm256_srli_epi16,
    };

    /// The set's bytes below 0x80 as two nibble tables (twice over, one copy per 16-byte lane):
    /// the low nibble's entry holds a bit per high nibble (0-7) it is a member with; the high
    /// nibble's entry is its own bit. A shuffle gives 0 for an index byte above 0x7f, so those
    /// bytes are never members by the tables; `high` says whether they all are.
    pub struct Nibbles {
        lo: [u8; 32],
        hi: [u8; 32],
        high: bool,
    }

    impl Nibbles {
        /// None when the CPU lacks AVX2, or the set holds some bytes above 0x7f but not all.
        pub fn new(table: &[bool; 256]) -> Option<Nibbles> {
            let high = table[0x80];
            if !std::arch::is_x86_feature_detected!("avx2")
                || table[0x80..].iter().any(|&m| m != high)
            {
                return None;
            }
            let (mut lo, mut hi) = ([0u8; 32], [0u8; 32]);
            for b in 0..0x80usize {
                let bit = 1u8 << (b >> 4);
                if table[b] {
                    lo[b & 0xf] |= bit;
                    lo[16 + (b & 0xf)] |= bit;
                }
                hi[b >> 4] = bit;
                hi[16 + (b >> 4)] = bit;
            }
            Some(Nibbles { lo, hi, high })
        }

        /// Bit k: byte `p + k` is a member.
        ///
        /// # Safety
        /// The CPU must have AVX2, and 32 bytes must be readable at `p`.
        #[target_feature(enable = "avx2")]
        #[inline]
        unsafe fn members(&self, p: *const u8) -> u32 {
            let v = _mm256_loadu_si256(p.cast::<__m256i>());
            let lo = _mm256_shuffle_epi8(_mm256_loadu_si256(self.lo.as_ptr().cast()), v);
            let hi_nibbles = _mm256_and_si256(_mm256_srli_epi16(v, 4), _mm256_set1_epi8(0x0f));
            let hi = _mm256_shuffle_epi8(_mm256_loadu_si256(self.hi.as_ptr().cast()), hi_nibbles);
            let out = _mm256_cmpeq_epi8(_mm256_and_si256(lo, hi), _mm256_setzero_si256());
            let ascii = !(_mm256_movemask_epi8(out) as u32);
            if self.high {
                ascii | _mm256_movemask_epi8(v) as u32
            } else {
                ascii
            }
        }

        /// [`super::ByteClass::run`], 32 bytes a step while 32 are left in `hay`.
        ///
        /// # Safety
        /// The CPU must have AVX2.
        #[target_feature(enable = "avx2")]
        pub unsafe fn run(
            &self,
            table: &[bool; 256],
            hay: &[u8],
            pos: usize,
            stop: usize,
        ) -> usize {
            let mut p = pos;
            while p < stop && p + 32 <= hay.len() {
                // SAFETY: 32 bytes from p are inside `hay`.
                let m = unsafe { self.members(hay.as_ptr().add(p)) };
                if m != u32::MAX {
                    return (p + m.trailing_ones() as usize).min(stop) - pos;
                }
                p += 32;
            }
            if p >= stop {
                return stop - pos;
            }
            p - pos + super::run_scalar(table, hay, p, stop)
        }

        /// [`super::ByteClass::rfind_above`], 32 bytes a step down while 32 are left before.
        ///
        /// # Safety
        /// The CPU must have AVX2.
        #[target_feature(enable = "avx2")]
        pub unsafe fn rfind_above(
            &self,
            table: &[bool; 256],
            hay: &[u8],
            lo: usize,
            p: usize,
        ) -> usize {
            // The block ends at `end` (exclusive): positions end - 32 .. end.
            let mut end = p + 1;
            while end > lo + 1 && end >= 32 {
                let at = end - 32;
                // SAFETY: at + 32 = end <= p + 1 <= hay.len().
                let mut m = unsafe { self.members(hay.as_ptr().add(at)) };
                if at <= lo {
                    // Only positions above `lo`.
                    m &= !(((2u64 << (lo - at)) - 1) as u32);
                }
                if m != 0 {
                    return at + 31 - m.leading_zeros() as usize;
                }
                if at <= lo {
                    return lo;
                }
                end = at;
            }
            if end <= lo + 1 {
                return lo;
            }
            super::rfind_above_scalar(table, hay, lo, end - 1)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::TestRng;

    fn sets() -> Vec<[bool; 256]> {
        let of = |f: &dyn Fn(u8) -> bool| {
            let mut t = [false; 256];
            for b in 0..=255u8 {
                t[usize::from(b)] = f(b);
            }
            t
        };
        vec![
            of(&|b| b.is_ascii_alphanumeric()),
            of(&|b| {
                !matches!(
                    b,
                    b'/' | b' ' | b'\t' | b'\n' | b'"' | b'\'' | b'`' | b'<' | b'>'
                )
            }),
            of(&|b| b == b'@'),
            of(&|b| b.is_ascii_hexdigit() || b == b'-'),
            of(&|b| b >= 0x80 || b == 0),
            // Some bytes above 0x7f but not all: the table only.
            of(&|b| b.is_ascii_digit() || b == 0xc3),
        ]
    }

    #[test]
    fn runs_and_back_searches_match_the_table() {
        let mut rng = TestRng::new(11);
        let alphabet = b"aZ9@/ -\t\"<>x0\xc3\xa9\x80\xff\x00";
        for table in sets() {
            let class = ByteClass::new(&table);
            for _ in 0..3000 {
                let n = 1 + rng.below(120);
                // Runs of one byte, long enough to cross blocks.
                let mut hay = Vec::new();
                while hay.len() < n {
                    let b = alphabet[rng.below(alphabet.len() as u64)];
                    let k = 1 + rng.below(40);
                    hay.extend(std::iter::repeat_n(b, k));
                }
                hay.truncate(n);
                let pos = rng.below(n as u64);
                let stop = pos + rng.below((n - pos + 1) as u64);
                assert_eq!(
                    class.run(&hay, pos, stop),
                    run_scalar(&table, &hay, pos, stop),
                    "run {pos}..{stop} of {hay:?}"
                );
                let p = rng.below(n as u64);
                let lo = rng.below(p as u64 + 1);
                assert_eq!(
                    class.rfind_above(&hay, lo, p),
                    rfind_above_scalar(&table, &hay, lo, p),
                    "rfind {lo}..={p} of {hay:?}"
                );
            }
        }
    }

    #[test]
    fn sets_split_above_0x7f_take_the_table() {
        let table = sets().pop().expect("a set");
        #[cfg(target_arch = "x86_64")]
        assert!(ByteClass::new(&table).nibbles.is_none());
        assert!(ByteClass::new(&table).contains(0xc3));
        assert!(!ByteClass::new(&table).contains(0xc4));
    }
}
