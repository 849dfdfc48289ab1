//! Every keyword group in one AVX2 (or AVX-512BW) pass over the text.
//!
//! The idea is Slim Teddy's (aho-corasick's packed searcher): each group's keywords sit in eight
//! buckets, and for each of a keyword's first three bytes, two 16-entry tables say which buckets
//! may hold that byte there, one looked up by the byte's low nibble and one by its high nibble. A
//! `pshufb` looks up 32 bytes at once (64 with AVX-512BW, where the CPU has it: the same work a
//! block for twice the bytes; prose and clean code ~35% faster); the three positions ANDed give,
//! per byte of the text, the buckets whose keywords may start there. Only those are compared in
//! full.
//!
//! Why not aho-corasick's searcher itself: it stops at each match, so a text dense with keywords
//! pays a restart (about 80 ns measured) per hit and per group, and the groups' hits then need a
//! sort to come out in text order. Here one pass loads each 32-byte block once for all groups,
//! reports every candidate of the block in position order, and needs no sort.
//!
//! Hits are exactly aho-corasick's (leftmost-first per group, each group's priority order), which
//! a test holds against it: within a group, a keyword is reported at the first position where one
//! matches, the keyword first in the group's order winning among those that match there, and the
//! group's search goes on after its end.

use std::arch::x86_64::{
    __m256i, __m512i, _mm256_and_si256, _mm256_cmpeq_epi8, _mm256_loadu_si256,
    _mm256_movemask_epi8, _mm256_set1_epi8, _mm256_setzero_si256, _mm256_shuffle_epi8,
    _mm256_srli_epi16, _mm256_storeu_si256, _mm512_and_si512, _mm512_loadu_si512,
    _mm512_permutexvar_epi8, _mm512_set1_epi8, _mm512_shuffle_epi8, _mm512_srli_epi16,
    _mm512_storeu_si512, _mm512_ternarylogic_epi32, _mm512_test_epi8_mask,
};

/// How many bytes a keyword must have: the masks look at three.
pub const MASK_LEN: usize = 3;
/// At most this many groups (the default policy has six); with more, `Keywords` uses its
/// searchers one group at a time.
pub const MAX_GROUPS: usize = 8;

/// One group: per mask position, the low-nibble and high-nibble tables (each 16 entries, four
/// times, for the 128-bit lanes a shuffle works in: an AVX2 shuffle reads the first two copies,
/// an AVX-512 one all four), one table of 64 entries by the byte's [`six_bits`] (for AVX-512
/// VBMI's byte permute), and each bucket's keywords.
struct Group {
    lo: [[u8; 64]; MASK_LEN],
    hi: [[u8; 64]; MASK_LEN],
    six: [[u8; 64]; MASK_LEN],
    /// The global keyword ids of each bucket: the keyword at priority `j` in the group sits in
    /// bucket `j % 8`, slot `j / 8` ([`EMPTY`] where there is none).
    slots: [[u32; 2]; 8],
}

/// A byte's index into a VBMI table: bits 0-4 as they are, and bit 5 set when bits 5 and 6
/// differ. Lowercase letters share indexes with control bytes, and uppercase letters with digits
/// and punctuation, pairs that rarely stand in for each other where keywords are looked for: the
/// candidates are about those of all seven bits, from a 64-entry table one permute reads.
fn six_bits(b: u8) -> u8 {
    (b & 0x1f) | (((b >> 5) ^ (b >> 6)) & 1) << 5
}

/// An empty slot.
const EMPTY: u32 = u32::MAX;

/// How a block's candidates are found.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Width {
    /// 32 positions, AVX2 nibble shuffles.
    Avx2,
    /// 64 positions, AVX-512BW nibble shuffles.
    Avx512,
    /// 64 positions, one AVX-512 VBMI byte permute per mask position and group in place of two
    /// shuffles and an AND.
    Vbmi,
}

impl Width {
    /// The widest the CPU has.
    fn best() -> Width {
        if std::arch::is_x86_feature_detected!("avx512vbmi")
            && std::arch::is_x86_feature_detected!("avx512bw")
        {
            Width::Vbmi
        } else if std::arch::is_x86_feature_detected!("avx512bw") {
            Width::Avx512
        } else {
            Width::Avx2
        }
    }
}

pub struct Avx2 {
    /// The widest blocks the CPU has.
    width: Width,
    groups: Vec<Group>,
    /// Keywords by global id.
    words: Vec<Word>,
}

/// A keyword, with its first sixteen bytes (or fewer) as two words to compare in two steps.
struct Word {
    /// The keyword, lowercase where it matches in any case.
    bytes: Box<[u8]>,
    any_case: bool,
    head: [u64; 2],
    mask: [u64; 2],
    /// The case bit (0x20) of each letter of `head` where the keyword matches in any case: a
    /// text byte with it set equals the letter exactly when it is the letter in either case.
    fold: [u64; 2],
}

impl Word {
    fn new(w: &[u8], any_case: bool) -> Word {
        let w = if any_case {
            w.to_ascii_lowercase()
        } else {
            w.to_vec()
        };
        let n = w.len().min(16);
        let mut buf = [0u8; 16];
        buf[..n].copy_from_slice(&w[..n]);
        let mut mbuf = [0u8; 16];
        mbuf[..n].fill(0xff);
        let mut fbuf = [0u8; 16];
        if any_case {
            for (f, b) in fbuf.iter_mut().zip(&buf[..n]) {
                if b.is_ascii_lowercase() {
                    *f = 0x20;
                }
            }
        }
        let word = |b: &[u8; 16], k: usize| {
            u64::from_le_bytes(b[8 * k..8 * k + 8].try_into().expect("8 bytes"))
        };
        Word {
            bytes: w.into(),
            any_case,
            head: [word(&buf, 0), word(&buf, 1)],
            mask: [word(&mbuf, 0), word(&mbuf, 1)],
            fold: [word(&fbuf, 0), word(&fbuf, 1)],
        }
    }

    /// Whether `hay` starts with this keyword; `head` is `hay`'s first sixteen bytes as two
    /// words, when it has that many.
    #[inline]
    fn starts(&self, hay: &[u8], head: Option<[u64; 2]>) -> bool {
        match head {
            Some([a, b]) => {
                (a | self.fold[0]) & self.mask[0] == self.head[0]
                    && (b | self.fold[1]) & self.mask[1] == self.head[1]
                    && (self.bytes.len() <= 16 || self.rest_at(hay))
            }
            None => self.rest_at(hay),
        }
    }

    /// Whether `hay` starts with the whole keyword, compared byte by byte.
    fn rest_at(&self, hay: &[u8]) -> bool {
        super::starts_with(hay, &self.bytes, self.any_case)
    }
}

impl Avx2 {
    /// The searcher for `groups` (each a list of at most 16 global keyword ids in priority
    /// order, the keyword at priority `j` going to bucket `j % 8`, and whether they match in any
    /// ASCII case), or None when the CPU lacks AVX2, a keyword is shorter than the masks, a group
    /// too large or there are too many groups.
    pub fn new(words: &[&str], groups: &[(Vec<usize>, bool)]) -> Option<Avx2> {
        if !std::arch::is_x86_feature_detected!("avx2")
            || groups.len() > MAX_GROUPS
            || groups.iter().any(|(ids, _)| ids.len() > 16)
            || words.iter().any(|w| w.len() < MASK_LEN)
            || words.len() >= EMPTY as usize
        {
            return None;
        }
        let mut any_case = vec![false; words.len()];
        let groups = groups
            .iter()
            .map(|(ids, fold)| {
                let mut g = Group {
                    lo: [[0; 64]; MASK_LEN],
                    hi: [[0; 64]; MASK_LEN],
                    six: [[0; 64]; MASK_LEN],
                    slots: [[EMPTY; 2]; 8],
                };
                for (prio, &id) in ids.iter().enumerate() {
                    let bucket = prio % 8;
                    g.slots[bucket][prio / 8] = id as u32;
                    any_case[id] = *fold;
                    for (k, &b) in words[id].as_bytes()[..MASK_LEN].iter().enumerate() {
                        // A letter of a keyword in any case: both cases may hold it there.
                        for b in super::byte_cases(b, *fold) {
                            let (lo, hi) = (usize::from(b & 0xf), usize::from(b >> 4));
                            for lane in [0, 16, 32, 48] {
                                g.lo[k][lane + lo] |= 1 << bucket;
                                g.hi[k][lane + hi] |= 1 << bucket;
                            }
                            g.six[k][usize::from(six_bits(b))] |= 1 << bucket;
                        }
                    }
                }
                g
            })
            .collect();
        Some(Avx2 {
            width: Width::best(),
            groups,
            words: words
                .iter()
                .zip(any_case)
                .map(|(w, fold)| Word::new(w.as_bytes(), fold))
                .collect(),
        })
    }

    /// Appends every hit as (start, end, keyword id), in text order.
    pub fn hits(&self, bytes: &[u8], out: &mut Vec<(usize, usize, usize)>) {
        self.hits_in(bytes, out, self.width);
    }

    /// The block widths the CPU has, so that [`Avx2::hits_in`] may be asked for them.
    #[cfg(test)]
    pub fn widths(&self) -> Vec<Width> {
        [Width::Avx2, Width::Avx512, Width::Vbmi]
            .into_iter()
            .filter(|&w| w as u8 <= self.width as u8)
            .collect()
    }

    /// [`Avx2::hits`] in blocks of `width` (which the CPU must have).
    pub(super) fn hits_in(&self, bytes: &[u8], out: &mut Vec<(usize, usize, usize)>, width: Width) {
        assert!(
            width as u8 <= self.width as u8,
            "{width:?} asked for where the CPU has only {:?}",
            self.width
        );
        let mut scan = Scan {
            me: self,
            bytes,
            out,
            next: [0; MAX_GROUPS],
            cand: [[0; 64]; MAX_GROUPS],
        };
        macro_rules! by_groups {
            ($f:ident) => {
                match self.groups.len() {
                    1 => scan.$f::<1>(),
                    2 => scan.$f::<2>(),
                    3 => scan.$f::<3>(),
                    4 => scan.$f::<4>(),
                    5 => scan.$f::<5>(),
                    6 => scan.$f::<6>(),
                    7 => scan.$f::<7>(),
                    8 => scan.$f::<8>(),
                    n => {
                        // `new` takes at most MAX_GROUPS.
                        unreachable!("{n} groups")
                    }
                }
            };
        }
        // SAFETY: `new` returned Some only where the CPU has AVX2, and `width` is at most the
        // widest the CPU has (each width's features include the narrower one's). A block reads
        // the text only where its width and two more bytes are left, and the rest from its own
        // padded copy.
        unsafe {
            match width {
                Width::Avx2 => by_groups!(blocks),
                Width::Avx512 => by_groups!(blocks_512),
                Width::Vbmi => by_groups!(blocks_vbmi),
            }
        }
        // Each block's hits are sorted (`report`), and blocks come in text order.
        debug_assert!(scan.out.is_sorted());
    }
}

struct Scan<'a> {
    me: &'a Avx2,
    bytes: &'a [u8],
    out: &'a mut Vec<(usize, usize, usize)>,
    /// Per group: where its search goes on (the end of its last hit).
    next: [usize; MAX_GROUPS],
    /// Per group: the buckets of each position of the current block.
    cand: [[u8; 64]; MAX_GROUPS],
}

impl Scan<'_> {
    /// Every candidate, 32 positions at a time, verified in position order, then group order:
    /// blocks read from the text while 34 bytes are left, and the last (fewer) positions from a
    /// copy padded with zeros, where only positions whose three bytes are all the text's count.
    ///
    /// # Safety
    /// The CPU must have AVX2.
    #[target_feature(enable = "avx2")]
    unsafe fn blocks<const G: usize>(&mut self) {
        let groups: &[Group; G] = self.me.groups[..G]
            .try_into()
            .expect("called with the group count");
        let nibble = _mm256_set1_epi8(0x0f);
        let zero = _mm256_setzero_si256();
        macro_rules! table {
            ($t:expr) => {
                _mm256_loadu_si256($t.as_ptr().cast::<__m256i>())
            };
        }
        macro_rules! nibbles {
            ($src:expr, $k:expr) => {{
                let v = _mm256_loadu_si256($src.add($k).cast::<__m256i>());
                (
                    _mm256_and_si256(v, nibble),
                    _mm256_and_si256(_mm256_srli_epi16(v, 4), nibble),
                )
            }};
        }
        let mut buf = [0u8; 128];
        let mut p = 0;
        // 34 bytes from `src` (see `block_at`).
        while let Some((src, valid)) = self.block_at(p, 32, &mut buf) {
            let (lo0, hi0) = nibbles!(src, 0);
            let (lo1, hi1) = nibbles!(src, 1);
            let (lo2, hi2) = nibbles!(src, 2);
            let mut bits = [0u64; G];
            let mut any = 0u64;
            for (g, grp) in groups.iter().enumerate() {
                let r0 = _mm256_and_si256(
                    _mm256_shuffle_epi8(table!(grp.lo[0]), lo0),
                    _mm256_shuffle_epi8(table!(grp.hi[0]), hi0),
                );
                let r1 = _mm256_and_si256(
                    _mm256_shuffle_epi8(table!(grp.lo[1]), lo1),
                    _mm256_shuffle_epi8(table!(grp.hi[1]), hi1),
                );
                let r2 = _mm256_and_si256(
                    _mm256_shuffle_epi8(table!(grp.lo[2]), lo2),
                    _mm256_shuffle_epi8(table!(grp.hi[2]), hi2),
                );
                let r = _mm256_and_si256(r0, _mm256_and_si256(r1, r2));
                let b =
                    u64::from(!(_mm256_movemask_epi8(_mm256_cmpeq_epi8(r, zero)) as u32)) & valid;
                if b != 0 {
                    _mm256_storeu_si256(self.cand[g].as_mut_ptr().cast::<__m256i>(), r);
                }
                bits[g] = b;
                any |= b;
            }
            self.report(p, &bits, any);
            if valid != u64::from(u32::MAX) {
                break;
            }
            p += 32;
        }
    }

    /// [`Scan::blocks`] with AVX-512BW: 64 positions a block, in one 512-bit register, from the
    /// same tables (four copies of each, one per 128-bit lane). A block reads `p..p + 66`.
    ///
    /// # Safety
    /// The CPU must have AVX-512BW.
    #[target_feature(enable = "avx512bw")]
    unsafe fn blocks_512<const G: usize>(&mut self) {
        let groups: &[Group; G] = self.me.groups[..G]
            .try_into()
            .expect("called with the group count");
        let nibble = _mm512_set1_epi8(0x0f);
        macro_rules! table {
            ($t:expr) => {
                _mm512_loadu_si512($t.as_ptr().cast::<__m512i>())
            };
        }
        macro_rules! nibbles {
            ($src:expr, $k:expr) => {{
                let v = _mm512_loadu_si512($src.add($k).cast::<__m512i>());
                (
                    _mm512_and_si512(v, nibble),
                    _mm512_and_si512(_mm512_srli_epi16(v, 4), nibble),
                )
            }};
        }
        let mut buf = [0u8; 128];
        let mut p = 0;
        while let Some((src, valid)) = self.block_at(p, 64, &mut buf) {
            let (lo0, hi0) = nibbles!(src, 0);
            let (lo1, hi1) = nibbles!(src, 1);
            let (lo2, hi2) = nibbles!(src, 2);
            let mut bits = [0u64; G];
            let mut any = 0u64;
            for (g, grp) in groups.iter().enumerate() {
                let r0 = _mm512_and_si512(
                    _mm512_shuffle_epi8(table!(grp.lo[0]), lo0),
                    _mm512_shuffle_epi8(table!(grp.hi[0]), hi0),
                );
                let r1 = _mm512_and_si512(
                    _mm512_shuffle_epi8(table!(grp.lo[1]), lo1),
                    _mm512_shuffle_epi8(table!(grp.hi[1]), hi1),
                );
                let r2 = _mm512_and_si512(
                    _mm512_shuffle_epi8(table!(grp.lo[2]), lo2),
                    _mm512_shuffle_epi8(table!(grp.hi[2]), hi2),
                );
                let r = _mm512_and_si512(r0, _mm512_and_si512(r1, r2));
                bits[g] = self.keep_512(g, r, valid);
                any |= bits[g];
            }
            self.report(p, &bits, any);
            if valid != u64::MAX {
                break;
            }
            p += 64;
        }
    }

    /// [`Scan::blocks_512`] with AVX-512 VBMI: each mask position's buckets from one byte permute
    /// of the 64-entry table (`vpermb`, one micro-op), where the nibble tables take two shuffles,
    /// a shift and two ANDs. The shuffles and permutes all go to one port, and they bound the
    /// pass: a 128-entry table by seven bits takes a two-register permute (`vpermi2b`), which
    /// costs that port twice as much (prose 7% slower, in-process A/B). The block's bytes are
    /// made indexes once, for all groups.
    ///
    /// # Safety
    /// The CPU must have AVX-512BW and AVX-512 VBMI.
    #[target_feature(enable = "avx512bw,avx512vbmi")]
    unsafe fn blocks_vbmi<const G: usize>(&mut self) {
        let groups: &[Group; G] = self.me.groups[..G]
            .try_into()
            .expect("called with the group count");
        macro_rules! load {
            ($p:expr) => {
                _mm512_loadu_si512($p.cast::<__m512i>())
            };
        }
        let low = _mm512_set1_epi8(0x1f);
        // Each byte's six index bits (see `six_bits`): bits 0-4 kept, bit 5 from bits 5 and 6
        // (the shifted copy's bit 5 is the byte's bit 6; the permute ignores bits 6 and 7). The
        // truth table 0xb4: the byte's own bit where `low` has one, else the byte's XOR the
        // shifted copy's.
        macro_rules! index {
            ($p:expr) => {{
                let v = load!($p);
                _mm512_ternarylogic_epi32(v, _mm512_srli_epi16(v, 1), low, 0xb4)
            }};
        }
        macro_rules! lookup {
            ($t:expr, $i:expr) => {
                _mm512_permutexvar_epi8($i, load!($t.as_ptr()))
            };
        }
        let mut buf = [0u8; 128];
        let mut p = 0;
        while let Some((src, valid)) = self.block_at(p, 64, &mut buf) {
            let (v0, v1, v2) = (index!(src), index!(src.add(1)), index!(src.add(2)));
            let mut bits = [0u64; G];
            let mut any = 0u64;
            for (g, grp) in groups.iter().enumerate() {
                let r = _mm512_and_si512(
                    lookup!(grp.six[0], v0),
                    _mm512_and_si512(lookup!(grp.six[1], v1), lookup!(grp.six[2], v2)),
                );
                bits[g] = self.keep_512(g, r, valid);
                any |= bits[g];
            }
            self.report(p, &bits, any);
            if valid != u64::MAX {
                break;
            }
            p += 64;
        }
    }

    /// Group `g`'s candidates among a 64-position block's `valid` positions, from the buckets of
    /// each position in `r`; the buckets are kept for [`Scan::report`] when there are any.
    ///
    /// # Safety
    /// The CPU must have AVX-512BW.
    #[target_feature(enable = "avx512bw")]
    #[inline]
    unsafe fn keep_512(&mut self, g: usize, r: __m512i, valid: u64) -> u64 {
        let b = _mm512_test_epi8_mask(r, r) & valid;
        if b != 0 {
            _mm512_storeu_si512(self.cand[g].as_mut_ptr().cast::<__m512i>(), r);
        }
        b
    }

    /// Where the block of `width` positions at `p` reads its bytes (`width + 2` of them): the
    /// text's own while they last, else a copy of the rest (at most `width + 1` bytes) padded
    /// with zeros in `buf`; and a bit per position whose three bytes are all the text's. None
    /// when no position is left.
    #[inline(always)]
    fn block_at(&self, p: usize, width: usize, buf: &mut [u8; 128]) -> Option<(*const u8, u64)> {
        let len = self.bytes.len();
        if p + width + MASK_LEN - 1 <= len {
            let all = if width == 64 {
                u64::MAX
            } else {
                (1 << width) - 1
            };
            return Some((self.bytes[p..].as_ptr(), all));
        }
        let rest = len.checked_sub(p)?;
        if rest < MASK_LEN {
            return None;
        }
        buf[..rest].copy_from_slice(&self.bytes[p..]);
        Some((buf.as_ptr(), (1 << (rest - MASK_LEN + 1)) - 1))
    }

    /// Verifies a block's candidates (bit `i` of `bits[g]`: group `g` at `p + i`) one group at a
    /// time (a group's hits depend on its own only), then puts the block's hits in text order.
    /// (Walking positions and asking every group at each cost a loop over the groups per
    /// candidate.)
    #[inline(always)]
    fn report<const G: usize>(&mut self, p: usize, bits: &[u64; G], any: u64) {
        if any == 0 {
            return;
        }
        let before = self.out.len();
        for (g, &b) in bits.iter().enumerate() {
            let mut b = b;
            while b != 0 {
                let i = b.trailing_zeros() as usize;
                b &= b - 1;
                self.verify(g, p + i, self.cand[g][i]);
            }
        }
        let block = &mut self.out[before..];
        if !block.is_sorted() {
            block.sort_unstable();
        }
    }

    /// Compares the keywords of `buckets` (of group `g`) at `p`; reports the one first in the
    /// group's order, unless `p` lies inside the group's last hit.
    fn verify(&mut self, g: usize, p: usize, buckets: u8) {
        if p < self.next[g] {
            return;
        }
        let grp = &self.me.groups[g];
        let hay = &self.bytes[p..];
        let head = hay.get(..16).map(|h| {
            let word = |k: usize| u64::from_le_bytes(h[k..k + 8].try_into().expect("8 bytes"));
            [word(0), word(8)]
        });
        // Every first slot's keyword comes before every second slot's in the group's order, and
        // within a slot, bucket order is the group's: the first match is the one to report.
        for slot in 0..2 {
            let mut left = buckets;
            while left != 0 {
                let b = left.trailing_zeros() as usize;
                left &= left - 1;
                let id = grp.slots[b][slot];
                if id == EMPTY {
                    continue;
                }
                let word = &self.me.words[id as usize];
                if word.starts(hay, head) {
                    let end = p + word.bytes.len();
                    self.next[g] = end;
                    self.out.push((p, end, id as usize));
                    return;
                }
            }
        }
    }
}
