//! The keyword pass: every keyword hit in a text, in text order, from a few small SIMD searchers.
//!
//! Keywords are split into groups of [`GROUP`] so each group fits Slim Teddy, aho-corasick's fastest
//! packed searcher (one group of 64 falls back to Fat Teddy and runs ~5 times slower on prose). Each
//! group is a `packed::Searcher` when the CPU has Teddy's instructions: it reports a verified match
//! itself, where the `AhoCorasick` front end adds a layer of dispatch per hit (the keyword pass alone,
//! measured: 12% faster on secret-dense text, where hits are frequent, and the same on prose).
//! Without Teddy, the group is an `AhoCorasick` automaton. Both are leftmost-first, so they report
//! the same hits.

use aho_corasick::{packed, AhoCorasick, AhoCorasickBuilder, MatchKind};

/// Keywords per group: small enough for Slim Teddy.
pub const GROUP: usize = 16;

enum Searcher {
    Packed(packed::Searcher),
    Automaton(AhoCorasick),
}

struct Group {
    searcher: Searcher,
    /// The global keyword index of each of the group's patterns.
    ids: Vec<usize>,
    min_len: usize,
}

/// The keyword searchers of one engine.
pub struct Keywords {
    groups: Vec<Group>,
}

impl Keywords {
    /// Builds searchers for `keywords`, whose indexes are the global keyword ids.
    pub fn new(keywords: &[&str]) -> Result<Keywords, aho_corasick::BuildError> {
        let mut groups = Vec::new();
        for (g, chunk) in keywords.chunks(GROUP).enumerate() {
            let ids = bucket_order(chunk.len(), g * GROUP);
            let chunk: Vec<&str> = ids.iter().map(|&i| keywords[i]).collect();
            let packed = packed::Config::new()
                .match_kind(packed::MatchKind::LeftmostFirst)
                .builder()
                .extend(&chunk)
                .build();
            let searcher = match packed {
                Some(s) => Searcher::Packed(s),
                None => Searcher::Automaton(
                    AhoCorasickBuilder::new()
                        .match_kind(MatchKind::LeftmostFirst)
                        .build(&chunk)?,
                ),
            };
            groups.push(Group {
                searcher,
                ids,
                min_len: chunk.iter().map(|k| k.len()).min().unwrap_or(0),
            });
        }
        Ok(Keywords { groups })
    }

    /// Appends every hit as (start, end, keyword id), sorted by position.
    pub fn hits(&self, bytes: &[u8], out: &mut Vec<(usize, usize, usize)>) {
        for g in &self.groups {
            match &g.searcher {
                Searcher::Packed(s) => out.extend(
                    s.find_iter(bytes)
                        .map(|m| (m.start(), m.end(), g.ids[m.pattern().as_usize()])),
                ),
                Searcher::Automaton(ac) => out.extend(
                    ac.find_iter(bytes)
                        .map(|m| (m.start(), m.end(), g.ids[m.pattern().as_usize()])),
                ),
            }
        }
        // Each group's hits are in text order: the sort finds those runs and merges them.
        out.sort();
    }

    /// (largest group, shortest keyword length).
    pub fn stats(&self) -> (usize, usize) {
        (
            self.groups.iter().map(|g| g.ids.len()).max().unwrap_or(0),
            self.groups.iter().map(|g| g.min_len).min().unwrap_or(3),
        )
    }
}

/// The order in which a group's keywords (global ids `first..first + n`, sorted) are given to
/// Teddy. Teddy puts pattern `i` in bucket `i % 8` and looks for a bucket's first three bytes
/// nibble by nibble, so two keywords in one bucket also match every mix of their nibbles. Sorted
/// neighbours share their first bytes and so add few mixes: this order puts keywords `2j` and
/// `2j + 1` at `j` and `j + half`, one bucket. (In sorted order a bucket held keywords eight
/// apart, and the keyword pass took 30-40% longer on code and Markdown.)
fn bucket_order(n: usize, first: usize) -> Vec<usize> {
    let half = n.div_ceil(2);
    let mut order = vec![0; n];
    for i in 0..n {
        let slot = if i % 2 == 0 { i / 2 } else { half + i / 2 };
        order[slot] = first + i;
    }
    order
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bucket_order_is_a_permutation_that_pairs_sorted_neighbours() {
        for n in 1..=GROUP {
            let order = bucket_order(n, 32);
            let mut sorted = order.clone();
            sorted.sort();
            assert_eq!(sorted, (32..32 + n).collect::<Vec<_>>(), "n={n}");
            if n == GROUP {
                // Slots j and j + 8 share a bucket: they hold keywords 2j and 2j + 1.
                for j in 0..8 {
                    assert_eq!((order[j], order[j + 8]), (32 + 2 * j, 32 + 2 * j + 1));
                }
            }
        }
    }

    #[test]
    fn hits_are_leftmost_first_in_text_order_across_groups() {
        // Forty keywords: three groups, so hits from several groups must be merged in order.
        let owned: Vec<String> = (0..40).map(|i| format!("kw{i:02}_")).collect();
        let mut words: Vec<&str> = owned.iter().map(String::as_str).collect();
        // "abcd" and "abc" in one group: leftmost-first prefers the earlier pattern.
        words.extend(["abcd", "abc"]);
        let k = Keywords::new(&words).unwrap();
        let text = b"x kw39_ y kw00_ abcd abc kw17_kw18_";
        let mut hits = Vec::new();
        k.hits(text, &mut hits);
        let got: Vec<(&str, usize)> = hits
            .iter()
            .map(|&(s, e, id)| {
                assert_eq!(&text[s..e], words[id].as_bytes());
                (words[id], s)
            })
            .collect();
        assert_eq!(
            got,
            [
                ("kw39_", 2),
                ("kw00_", 10),
                ("abcd", 16),
                ("abc", 21),
                ("kw17_", 25),
                ("kw18_", 30)
            ]
        );
        // The same hits as one aho-corasick automaton per group.
        let mut want = Vec::new();
        for (g, chunk) in words.chunks(GROUP).enumerate() {
            let ac = AhoCorasickBuilder::new()
                .match_kind(MatchKind::LeftmostFirst)
                .build(chunk)
                .unwrap();
            want.extend(
                ac.find_iter(&text[..])
                    .map(|m| (m.start(), m.end(), g * GROUP + m.pattern().as_usize())),
            );
        }
        want.sort();
        assert_eq!(hits, want);
        assert_eq!(k.stats(), (GROUP, 3));
    }
}
