//! Whether a short value may hold one of a list of words, ASCII case ignored: the screen in front
//! of an automaton that then says for sure. Every value a secret rule or the assignment reader
//! reports passes the placeholder check (`validators::is_placeholder`), and the words it looks
//! for rarely occur, so nearly every value is cleared by the screen alone.
//!
//! Two forms, with one answer: on x86-64 with AVX2, Teddy's nibble masks (see
//! `keywords::avx2`) over a word's first four bytes, one word per bucket, 32 positions of the
//! value at a time; elsewhere, a bit per trigram of five-bit bytes, one position at a time. A
//! screen may pass a value that holds no word (the automaton then clears it); it never stops one
//! that holds a word.

/// A word's first three bytes as a table index: the low five bits of each byte. That folds ASCII
/// case as a case-insensitive automaton does (`A` and `a` share their low bits); other bytes may
/// collide with a letter, which costs only a look with the automaton.
fn trigram(a: u8, b: u8, c: u8) -> usize {
    (usize::from(a & 0x1f) << 10) | (usize::from(b & 0x1f) << 5) | usize::from(c & 0x1f)
}

pub struct WordScreen {
    /// A bit per trigram that starts a word of three bytes or more,
    trigrams: Box<[u64; 512]>,
    /// and the bytes of the shorter words.
    short: [bool; 256],
    #[cfg(target_arch = "x86_64")]
    masks: Option<avx2::Masks>,
}

impl WordScreen {
    pub fn new(words: &[&[u8]]) -> WordScreen {
        let mut s = WordScreen {
            trigrams: Box::new([0; 512]),
            short: [false; 256],
            #[cfg(target_arch = "x86_64")]
            masks: avx2::Masks::new(words),
        };
        for &w in words {
            if let [a, b, c, ..] = *w {
                let i = trigram(a, b, c);
                s.trigrams[i >> 6] |= 1 << (i & 63);
            } else {
                for &b in w {
                    s.short[usize::from(b)] = true;
                }
            }
        }
        s
    }

    /// False only when `value` holds none of the words.
    pub fn may_hold(&self, value: &[u8]) -> bool {
        #[cfg(target_arch = "x86_64")]
        if let Some(m) = self.masks.as_ref().filter(|_| value.len() >= avx2::MIN_LEN) {
            // SAFETY: `Masks::new` returns Some only where the CPU has AVX2, and the value is
            // long enough. The masks take every position but the last POS - 1, which can only
            // start a word shorter than POS; the scalar screen takes those.
            let tail = &value[value.len() - (avx2::POS - 1)..];
            return unsafe { m.may_hold(value) } || self.may_hold_scalar(tail);
        }
        self.may_hold_scalar(value)
    }

    fn may_hold_scalar(&self, value: &[u8]) -> bool {
        value.iter().any(|&b| self.short[usize::from(b)])
            || value.windows(3).any(|w| {
                let i = trigram(w[0], w[1], w[2]);
                self.trigrams[i >> 6] >> (i & 63) & 1 == 1
            })
    }
}

#[cfg(target_arch = "x86_64")]
mod avx2 {
    use std::arch::x86_64::{
        __m128i, __m256i, _mm256_and_si256, _mm256_cmpeq_epi8, _mm256_loadu2_m128i,
        _mm256_loadu_si256, _mm256_movemask_epi8, _mm256_or_si256, _mm256_set1_epi8,
        _mm256_setzero_si256, _mm256_shuffle_epi8, _mm256_srli_epi16,
    };

    /// Mask positions: a word's first four bytes (a shorter word accepts any byte past its end).
    pub const POS: usize = 4;
    /// The shortest value the masks take: one 16-byte half and the three bytes its last position
    /// reads.
    pub const MIN_LEN: usize = 16 + POS - 1;
    /// At most this many words: eight buckets, one word each, per group of masks.
    const MAX_WORDS: usize = 64;

    /// Per group of eight words, per position: the low-nibble and high-nibble tables (16 entries,
    /// twice, for the two lanes a shuffle works in).
    pub struct Masks {
        groups: Vec<[([u8; 32], [u8; 32]); POS]>,
    }

    impl Masks {
        /// None when the CPU lacks AVX2, a word is empty or there are too many words.
        pub fn new(words: &[&[u8]]) -> Option<Masks> {
            if !std::arch::is_x86_feature_detected!("avx2")
                || words.len() > MAX_WORDS
                || words.iter().any(|w| w.is_empty())
            {
                return None;
            }
            let mut groups = vec![[([0u8; 32], [0u8; 32]); POS]; words.len().div_ceil(8)];
            for (i, w) in words.iter().enumerate() {
                let bit = 1u8 << (i % 8);
                for (k, (lo, hi)) in groups[i / 8].iter_mut().enumerate() {
                    match w.get(k) {
                        Some(&b) => {
                            for c in [b.to_ascii_lowercase(), b.to_ascii_uppercase()] {
                                for lane in [0, 16] {
                                    lo[lane + usize::from(c & 0xf)] |= bit;
                                    hi[lane + usize::from(c >> 4)] |= bit;
                                }
                            }
                        }
                        None => {
                            for e in lo.iter_mut().chain(hi.iter_mut()) {
                                *e |= bit;
                            }
                        }
                    }
                }
            }
            Some(Masks { groups })
        }

        /// Whether some position of `value` may start a word that ends inside it, for positions
        /// up to `value.len() - POS + 1` (the last few are the caller's): every word's bucket,
        /// in every group, ANDed over its positions. A candidate anywhere is enough, so all of it
        /// is ORed together and tested once. The value is read as 16-byte halves, two to a
        /// vector, from its own bytes only: the last half overlaps the one before it rather than
        /// running past the end (a copy padded with zeros stalled every load on the copy's
        /// stores, which tripled the time).
        ///
        /// # Safety
        /// The CPU must have AVX2, and `value` must hold at least [`MIN_LEN`] bytes.
        #[target_feature(enable = "avx2")]
        pub unsafe fn may_hold(&self, value: &[u8]) -> bool {
            debug_assert!(value.len() >= MIN_LEN);
            let nibble = _mm256_set1_epi8(0x0f);
            let mut acc = _mm256_setzero_si256();
            // Where the last half starts: it reads up to the value's end.
            let last = value.len() - MIN_LEN;
            let ptr = value.as_ptr();
            let mut p = 0;
            loop {
                let (a, b) = (p.min(last), (p + 16).min(last));
                let mut nib = [(_mm256_setzero_si256(), _mm256_setzero_si256()); POS];
                for (k, n) in nib.iter_mut().enumerate() {
                    let v = _mm256_loadu2_m128i(
                        ptr.add(b + k).cast::<__m128i>(),
                        ptr.add(a + k).cast::<__m128i>(),
                    );
                    *n = (
                        _mm256_and_si256(v, nibble),
                        _mm256_and_si256(_mm256_srli_epi16(v, 4), nibble),
                    );
                }
                for g in &self.groups {
                    let mut r = _mm256_set1_epi8(-1);
                    for ((lo, hi), (vl, vh)) in g.iter().zip(&nib) {
                        let tl = _mm256_loadu_si256(lo.as_ptr().cast::<__m256i>());
                        let th = _mm256_loadu_si256(hi.as_ptr().cast::<__m256i>());
                        r = _mm256_and_si256(
                            r,
                            _mm256_and_si256(
                                _mm256_shuffle_epi8(tl, *vl),
                                _mm256_shuffle_epi8(th, *vh),
                            ),
                        );
                    }
                    acc = _mm256_or_si256(acc, r);
                }
                if b == last {
                    break;
                }
                p += 32;
            }
            _mm256_movemask_epi8(_mm256_cmpeq_epi8(acc, _mm256_setzero_si256())) != -1
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_forms_pass_every_value_that_holds_a_word() {
        let words: &[&[u8]] = &[b"example", b"xxxx", b"...", b"${", b"{{", b"your", b"todo"];
        let screen = WordScreen::new(words);
        let mut rng = super::super::TestRng::new(0x9e37_79b9_7f4a_7c15);
        let alphabet = b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.$*{";
        let (mut cleared, mut held) = (0, 0);
        for round in 0..20_000 {
            let len = rng.below(90);
            let mut v = rng.bytes(alphabet, len);
            if round % 2 == 0 {
                let w = words[rng.below(words.len() as u64)];
                rng.splice_cased(&mut v, w);
            }
            let holds = words
                .iter()
                .any(|w| v.windows(w.len()).any(|x| x.eq_ignore_ascii_case(w)));
            let scalar = screen.may_hold_scalar(&v);
            let fast = screen.may_hold(&v);
            if holds {
                held += 1;
                assert!(scalar && fast, "{:?}", String::from_utf8_lossy(&v));
            }
            cleared += usize::from(!fast);
        }
        // Values with a word occur, and the screen clears many of the rest on its own.
        assert!(held > 9_000 && cleared > 3_000, "{held} {cleared}");
    }
}
