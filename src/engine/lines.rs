//! Line and column of each finding: one walk over the text's newlines, 64 bytes at a time as a bit
//! mask, that stops at each finding's start in turn (findings come sorted by start). Where a
//! finding sits, the newlines before it in its block are a popcount of the mask below it, and the
//! last of them is the mask's highest bit. Dense text holds a finding every few lines: a count of
//! each gap between findings (a SWAR pass, or memchr's count and memrchr on long gaps) spent more
//! on set-up per gap than on bytes, and was ~6% of a secret-dense scan.

/// The byte span of a block: one bit of a mask per byte.
const BLOCK: usize = 64;

/// How many keyword hits make a text worth a [`Newlines`] index.
pub const INDEX_HITS: usize = 64;

/// Every newline of a text: bit `i` of mask `k` for byte `64k + i`, built in one pass. A text
/// dense with keyword hits asks for a line's bounds at every hit, walks the lines around each
/// `.env` line and numbers every finding's line: each question used to build the 64-byte mask
/// it needed (or call memchr), where here it reads one already made.
pub struct Newlines {
    masks: Vec<u64>,
}

impl Newlines {
    pub fn new(bytes: &[u8]) -> Newlines {
        let mut masks = Vec::with_capacity(bytes.len().div_ceil(BLOCK));
        let whole = bytes.len() - bytes.len() % BLOCK;
        #[cfg(target_arch = "x86_64")]
        if std::arch::is_x86_feature_detected!("avx2") {
            // SAFETY: the CPU has AVX2.
            unsafe { push_masks_avx2(&bytes[..whole], &mut masks) };
        }
        for block in bytes[masks.len() * BLOCK..whole].chunks_exact(BLOCK) {
            masks.push(newline_mask(block));
        }
        if whole < bytes.len() {
            masks.push(newline_mask_bytes(&bytes[whole..]));
        }
        Newlines { masks }
    }

    /// The first newline in `from..to` (of the text the index is of), as `memchr` finds it.
    /// The block of `from` and the next are looked at as one 128-bit mask: whether the line ends
    /// in the first block or the second is a coin toss on dense text, a branch that mispredicts
    /// half the time, where a line that runs past both is rare.
    pub fn find(&self, from: usize, to: usize) -> Option<usize> {
        if from >= to {
            return None;
        }
        let mut k = from / BLOCK;
        let first = self.masks[k] & (u64::MAX << (from % BLOCK));
        let next = self.masks.get(k + 1).copied().unwrap_or(0);
        let pair = u128::from(first) | u128::from(next) << BLOCK;
        if pair != 0 {
            let p = k * BLOCK + pair.trailing_zeros() as usize;
            return (p < to).then_some(p);
        }
        k += 1;
        loop {
            k += 1;
            if k * BLOCK >= to {
                return None;
            }
            let m = self.masks[k];
            if m != 0 {
                let p = k * BLOCK + m.trailing_zeros() as usize;
                return (p < to).then_some(p);
            }
        }
    }

    /// The last newline in `from..to`, as `memrchr` finds it: the block of `to - 1` and the one
    /// before as one mask, as in [`Newlines::find`].
    pub fn rfind(&self, from: usize, to: usize) -> Option<usize> {
        if from >= to {
            return None;
        }
        let last = to - 1;
        let mut k = last / BLOCK;
        let own = self.masks[k] & (u64::MAX >> (BLOCK - 1 - last % BLOCK));
        let before = if k > 0 { self.masks[k - 1] } else { 0 };
        let pair = u128::from(before) | u128::from(own) << BLOCK;
        if pair != 0 {
            // Bit i of the pair is byte (k - 1) * 64 + i.
            let p = k * BLOCK + (BLOCK - 1) - pair.leading_zeros() as usize;
            return (p >= from).then_some(p);
        }
        loop {
            if k < 2 || (k - 1) * BLOCK <= from {
                return None;
            }
            k -= 1;
            let m = self.masks[k - 1];
            if m != 0 {
                let p = (k - 1) * BLOCK + (BLOCK - 1) - m.leading_zeros() as usize;
                return (p >= from).then_some(p);
            }
        }
    }
}

/// Newline searches in a text, from its [`Newlines`] when it has one.
#[derive(Clone, Copy)]
pub struct Lines<'a> {
    pub bytes: &'a [u8],
    pub index: Option<&'a Newlines>,
}

impl<'a> Lines<'a> {
    /// Searches of the text itself.
    pub fn plain(bytes: &'a [u8]) -> Lines<'a> {
        Lines { bytes, index: None }
    }

    /// [`find_newline`].
    pub fn find(&self, from: usize, to: usize) -> Option<usize> {
        match self.index {
            Some(n) => n.find(from, to),
            None => find_newline(self.bytes, from, to),
        }
    }

    /// [`rfind_newline`].
    pub fn rfind(&self, from: usize, to: usize) -> Option<usize> {
        match self.index {
            Some(n) => n.rfind(from, to),
            None => rfind_newline(self.bytes, from, to),
        }
    }
}

/// Where the walk is. `locate` takes positions in increasing order.
pub struct LineCursor<'a> {
    bytes: &'a [u8],
    /// The text's newline masks, when it has them.
    index: Option<&'a Newlines>,
    /// The start of the block not counted yet (a multiple of [`BLOCK`]).
    block: usize,
    /// The line (1-based) `block` is in, and where that line starts.
    line: usize,
    line_start: usize,
    /// The newline mask of the block at `block`, once computed.
    mask: Option<u64>,
}

impl<'a> LineCursor<'a> {
    pub fn new(lines: Lines<'a>) -> LineCursor<'a> {
        LineCursor {
            bytes: lines.bytes,
            index: lines.index,
            block: 0,
            line: 1,
            line_start: 0,
            mask: None,
        }
    }

    /// The line (1-based) of the byte at `pos` and the offset where that line starts. `pos` is
    /// at most `bytes.len()` and never less than the position of the call before.
    pub fn locate(&mut self, pos: usize) -> (usize, usize) {
        let target = pos - pos % BLOCK;
        if target > self.block {
            self.skip_to(target);
        }
        let m = match self.mask {
            Some(m) => m,
            None => *self.mask.insert(self.mask_at(self.block)),
        };
        let below = m & ((1u64 << (pos - self.block)) - 1);
        // Whether a newline comes before `pos` in its block is a coin toss on dense text: a
        // select, not a branch.
        let last = self.block + BLOCK - below.leading_zeros() as usize;
        (
            self.line + below.count_ones() as usize,
            std::hint::select_unpredictable(below == 0, self.line_start, last),
        )
    }

    /// Counts the newlines of the blocks before `target` (a block start past `self.block`).
    fn skip_to(&mut self, target: usize) {
        let mut from = self.block;
        if let Some(m) = self.mask.take() {
            self.count(m, from);
            from += BLOCK;
        }
        let gap = &self.bytes[from..target];
        if let Some(index) = self.index {
            for k in from / BLOCK..target / BLOCK {
                self.count(index.masks[k], k * BLOCK);
            }
        } else if gap.len() >= 4 * BLOCK {
            // A long gap: memchr's vector passes beat a mask per block.
            self.line += memchr::memchr_iter(b'\n', gap).count();
            if let Some(i) = memchr::memrchr(b'\n', gap) {
                self.line_start = from + i + 1;
            }
        } else {
            for (k, chunk) in gap.chunks_exact(BLOCK).enumerate() {
                self.count(newline_mask(chunk), from + k * BLOCK);
            }
        }
        self.block = target;
    }

    /// The newline mask of the block at `at`.
    fn mask_at(&self, at: usize) -> u64 {
        match self.index {
            // (At the text's end, an empty block.)
            Some(index) => index.masks.get(at / BLOCK).copied().unwrap_or(0),
            None => newline_mask(&self.bytes[at..]),
        }
    }

    /// Adds the newlines of the block at `at`, whose mask is `m`.
    fn count(&mut self, m: u64, at: usize) {
        if m != 0 {
            self.line += m.count_ones() as usize;
            self.line_start = at + BLOCK - m.leading_zeros() as usize;
        }
    }
}

/// The first newline in `bytes[from..to]`, as `memchr` finds it. Line ends are mostly near: the
/// 64 bytes from `from` are looked at in line as a mask (memchr's set-up alone costs ~50
/// instructions a call, more than a short line's bytes), and only a longer stretch goes to
/// memchr. The mask may read past `to`, never past `bytes`.
pub fn find_newline(bytes: &[u8], from: usize, to: usize) -> Option<usize> {
    let n = to - from;
    if from + BLOCK <= bytes.len() {
        let m = newline_mask(&bytes[from..]);
        let m = if n < BLOCK { m & ((1u64 << n) - 1) } else { m };
        if m != 0 {
            return Some(from + m.trailing_zeros() as usize);
        }
        if n <= BLOCK {
            return None;
        }
        return memchr::memchr(b'\n', &bytes[from + BLOCK..to]).map(|i| from + BLOCK + i);
    }
    memchr::memchr(b'\n', &bytes[from..to]).map(|i| from + i)
}

/// The last newline in `bytes[from..to]`, as `memrchr` finds it: [`find_newline`] backwards, the
/// 64 bytes before `to` as a mask first.
pub fn rfind_newline(bytes: &[u8], from: usize, to: usize) -> Option<usize> {
    let n = to - from;
    if n == 0 {
        return None;
    }
    if to >= BLOCK {
        let base = to - BLOCK;
        let m = newline_mask(&bytes[base..]);
        // Only the bits of `from..to`: the top `n` of the mask.
        let m = if n < BLOCK {
            m & !((1u64 << (BLOCK - n)) - 1)
        } else {
            m
        };
        if m != 0 {
            return Some(base + (BLOCK - 1) - m.leading_zeros() as usize);
        }
        if n <= BLOCK {
            return None;
        }
        return memchr::memrchr(b'\n', &bytes[from..base]).map(|i| from + i);
    }
    memchr::memrchr(b'\n', &bytes[from..to]).map(|i| from + i)
}

/// A bit per newline among the first 64 bytes of `b` (bit `i` for byte `i`); bytes past the end
/// count as none.
fn newline_mask(b: &[u8]) -> u64 {
    match b.get(..BLOCK) {
        #[cfg(target_arch = "x86_64")]
        Some(block) => {
            // SAFETY: SSE2 is part of x86-64, and each load reads 16 of the block's 64 bytes.
            unsafe { newline_mask_sse2(block) }
        }
        #[cfg(not(target_arch = "x86_64"))]
        Some(block) => newline_mask_bytes(block),
        None => newline_mask_bytes(b),
    }
}

/// Pushes the newline mask of each 64-byte block of `bytes` (a whole number of them), two 32-byte
/// compares a block.
///
/// # Safety
/// The CPU must have AVX2.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
unsafe fn push_masks_avx2(bytes: &[u8], masks: &mut Vec<u64>) {
    use std::arch::x86_64::{
        __m256i, _mm256_cmpeq_epi8, _mm256_loadu_si256, _mm256_movemask_epi8, _mm256_set1_epi8,
    };
    let nl = _mm256_set1_epi8(b'\n' as i8);
    // One extend of known length (a push per block checked the capacity each time).
    masks.extend(bytes.chunks_exact(BLOCK).map(|block| {
        let half = |k: usize| {
            // SAFETY: the block holds 64 bytes, and k is 0 or 32.
            let v = unsafe { _mm256_loadu_si256(block.as_ptr().add(k).cast::<__m256i>()) };
            u64::from(_mm256_movemask_epi8(_mm256_cmpeq_epi8(v, nl)) as u32)
        };
        half(0) | half(32) << 32
    }));
}

/// [`newline_mask`] a byte at a time: the form for a short tail, and the tests' reference.
fn newline_mask_bytes(b: &[u8]) -> u64 {
    b.iter()
        .take(BLOCK)
        .enumerate()
        .fold(0, |m, (i, &c)| m | u64::from(c == b'\n') << i)
}

/// [`newline_mask`] of a whole block, 16 bytes per compare.
///
/// # Safety
/// `block` must hold at least 64 bytes.
#[cfg(target_arch = "x86_64")]
unsafe fn newline_mask_sse2(block: &[u8]) -> u64 {
    use std::arch::x86_64::{
        __m128i, _mm_cmpeq_epi8, _mm_loadu_si128, _mm_movemask_epi8, _mm_set1_epi8,
    };
    debug_assert!(block.len() >= BLOCK);
    let nl = _mm_set1_epi8(b'\n' as i8);
    let mut m = 0u64;
    for k in 0..4 {
        let v = _mm_loadu_si128(block.as_ptr().add(16 * k).cast::<__m128i>());
        // The movemask is 16 bits wide: its sign bits never reach past them.
        m |= u64::from(_mm_movemask_epi8(_mm_cmpeq_epi8(v, nl)) as u16) << (16 * k);
    }
    m
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Line and line start of `pos` by a count from the text's start.
    fn by_bytes(text: &[u8], pos: usize) -> (usize, usize) {
        let before = &text[..pos];
        (
            1 + before.iter().filter(|&&b| b == b'\n').count(),
            before
                .iter()
                .rposition(|&b| b == b'\n')
                .map_or(0, |i| i + 1),
        )
    }

    #[test]
    fn the_cursor_locates_as_a_count_from_the_start_does() {
        let mut rng = crate::engine::TestRng::new(0x0114_e5c0_u64);
        // Newlines dense, sparse and absent; bytes near '\n' (0x0a) and with the high bit set.
        for (alphabet, len) in [
            (&b"ab\n\n\x0b\x8a\t"[..], 700),
            (&b"abcdefghijklmnopqrstuvwxyz0123456789 \n"[..], 5000),
            (&b"abc"[..], 300),
            (&b"\n"[..], 200),
        ] {
            let text = rng.bytes(alphabet, len);
            let index = Newlines::new(&text);
            for (step, indexed) in [1, 3, 17, 63, 64, 65, 130, 300, 1100]
                .into_iter()
                .flat_map(|s| [(s, false), (s, true)])
            {
                let mut cur = LineCursor::new(Lines {
                    bytes: &text,
                    index: indexed.then_some(&index),
                });
                let mut pos = rng.below(8);
                while pos <= text.len() {
                    assert_eq!(
                        cur.locate(pos),
                        by_bytes(&text, pos),
                        "{len} {step} {pos} {indexed}"
                    );
                    // Sometimes the same position again (two findings at one start).
                    if rng.below(4) != 0 {
                        pos += 1 + rng.below(step as u64);
                    }
                }
            }
        }
    }

    #[test]
    fn newline_searches_find_what_memchr_finds() {
        let mut rng = crate::engine::TestRng::new(0x0ee1_f00d_u64);
        // A newline every ~150 bytes: gaps past the two blocks the index looks at first.
        let mut sparse = vec![b'x'; 150];
        sparse.push(b'\n');
        for (alphabet, len) in [
            (&b"ab\n\x0b\x8a"[..], 300),
            (&b"abcdefghijklmnopqrstuvwxyz0123456789 \n"[..], 1000),
            (&sparse[..], 1500),
            (&b"abc"[..], 400),
            (&b"a\n"[..], 70),
        ] {
            let n = rng.below(len as u64);
            let text = rng.bytes(alphabet, n);
            let index = Newlines::new(&text);
            for _ in 0..2000 {
                let a = rng.below(text.len() as u64 + 1);
                let b = rng.below(text.len() as u64 + 1);
                let (from, to) = (a.min(b), a.max(b));
                let hay = &text[from..to];
                assert_eq!(
                    find_newline(&text, from, to),
                    memchr::memchr(b'\n', hay).map(|i| from + i),
                    "{from}..{to} of {}",
                    text.len()
                );
                assert_eq!(
                    rfind_newline(&text, from, to),
                    memchr::memrchr(b'\n', hay).map(|i| from + i),
                    "{from}..{to} of {}",
                    text.len()
                );
                // The same from the text's newline index.
                assert_eq!(
                    index.find(from, to),
                    find_newline(&text, from, to),
                    "{from}..{to} of {}",
                    text.len()
                );
                assert_eq!(
                    index.rfind(from, to),
                    rfind_newline(&text, from, to),
                    "{from}..{to} of {}",
                    text.len()
                );
            }
        }
    }

    #[test]
    fn the_vector_mask_is_the_byte_mask() {
        let mut rng = crate::engine::TestRng::new(0x005e_c0de_u64);
        for _ in 0..200 {
            let block = rng.bytes(b"\n\x0a\x0b\x8a\xffa ", BLOCK);
            assert_eq!(newline_mask(&block), newline_mask_bytes(&block));
        }
        assert_eq!(newline_mask(&[b'\n'; 64]), u64::MAX);
        assert_eq!(newline_mask(&[b'\n'; 10]), (1 << 10) - 1);
    }
}
