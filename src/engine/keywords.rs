//! The keyword pass: every keyword hit in a text, in text order, from a few small SIMD searchers.
//!
//! Keywords are split into groups of [`GROUP`] so each group fits Slim Teddy, aho-corasick's fastest
//! packed searcher (one group of 64 falls back to Fat Teddy and runs ~5 times slower on prose). Each
//! group is a `packed::Searcher` when the CPU has Teddy's instructions: it reports a verified match
//! itself, where the `AhoCorasick` front end adds a layer of dispatch per hit (the keyword pass alone,
//! measured: 12% faster on secret-dense text, where hits are frequent, and the same on prose).
//! Without Teddy, the group is an `AhoCorasick` automaton. Both are leftmost-first, so they report
//! the same hits.
//!
//! On x86-64 with AVX2, one pass takes all groups at once instead (`avx2`): the same hits, in
//! text order with no sort, and no searcher restart per hit (secret-dense text: the keyword pass
//! ~15% faster, 1.26 -> 1.05 ms per MiB; prose and code about the same). The group searchers stay
//! as the fallback and as the reference a test holds the one pass to.

use aho_corasick::{packed, AhoCorasick, AhoCorasickBuilder, MatchKind};

#[cfg(target_arch = "x86_64")]
mod avx2;

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
    /// All groups in one pass, where the CPU allows (see `avx2`): the same hits.
    #[cfg(target_arch = "x86_64")]
    one_pass: Option<avx2::Avx2>,
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
        #[cfg(target_arch = "x86_64")]
        let one_pass = {
            let ids: Vec<Vec<usize>> = groups.iter().map(|g| g.ids.clone()).collect();
            avx2::Avx2::new(keywords, &ids)
        };
        Ok(Keywords {
            groups,
            #[cfg(target_arch = "x86_64")]
            one_pass,
        })
    }

    /// Appends every hit as (start, end, keyword id), sorted by position.
    pub fn hits(&self, bytes: &[u8], out: &mut Vec<(usize, usize, usize)>) {
        #[cfg(target_arch = "x86_64")]
        if let Some(one) = &self.one_pass {
            return one.hits(bytes, out);
        }
        self.hits_by_group(bytes, out);
    }

    /// [`Keywords::hits`] from aho-corasick's searchers, one group at a time.
    fn hits_by_group(&self, bytes: &[u8], out: &mut Vec<(usize, usize, usize)>) {
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

    /// The one-pass search reports exactly the hits of the searchers one group at a time, with
    /// AVX2 blocks and with AVX-512 ones (nibble shuffles, and VBMI permutes): keyword sets with
    /// prefixes of each other, shared first bytes, case variants and bytes above 0x7f (the
    /// permute's six index bits make some bytes stand for others), on texts dense with keywords
    /// and their near misses, short and long (the last 33 or 65 bytes go through the padded
    /// copy).
    #[cfg(target_arch = "x86_64")]
    #[test]
    fn one_pass_hits_are_the_group_searchers_hits() {
        let mut rng = crate::engine::TestRng::new(0x6b65_7977_6f72_6473);
        let base = [
            "pass",
            "passwd",
            "PASS",
            "Pass",
            "sshpass",
            "key",
            "KEY",
            "Key",
            "key-",
            "token",
            "TOKEN",
            "oken",
            "://",
            ":5432:",
            "ghp_",
            "gho_",
            "ghu_",
            "xox",
            "AKIA",
            "ASIA",
            "Bearer",
            "bearer",
            "-BEGIN",
            ".int",
            ".local",
            "10.",
            "172.",
            "192.168.",
            "eyJ",
            "secret",
            "ecret",
            "SECRET",
            "pwd",
            "PWD",
            "jdbc:",
            "jwt.",
            "sk-",
            "k_live_",
            "uthorization",
            "Authorization",
            // Longer than the two words a keyword's head is compared as.
            "hooks.slack.com/services",
            "hooks.slack.com/workflows",
            // Bytes above 0x7f in the masked bytes: `é` is 0xc3 0xa9, and 0xc3 without its top
            // bit is `C`.
            "né-x",
            "Cé",
            "CC)",
        ];
        let mut tested = 0;
        for round in 0..40 {
            // A random subset in sorted order, as the engine gives them.
            let mut words: Vec<&str> = base
                .iter()
                .copied()
                .filter(|_| round == 0 || rng.below(4) != 0)
                .collect();
            words.sort();
            let k = Keywords::new(&words).unwrap();
            let Some(one) = &k.one_pass else {
                // No AVX2 here: the group searchers are all there is.
                return;
            };
            for _ in 0..25 {
                let len = rng.below(400);
                let mut text = Vec::with_capacity(len + 16);
                while text.len() < len {
                    match rng.below(6) {
                        0..=2 => {
                            const FILL: &[u8] = b"abcdefgh XYZ_:=./-\n0123456789";
                            text.push(FILL[rng.below(FILL.len() as u64)])
                        }
                        3 => {
                            let w = words[rng.below(words.len() as u64)].as_bytes();
                            // Whole, or cut short (a near miss that passes the first bytes).
                            let cut = if rng.below(3) == 0 {
                                rng.below(w.len() as u64) + 1
                            } else {
                                w.len()
                            };
                            text.extend_from_slice(&w[..cut]);
                        }
                        _ => text.push(rng.below(256) as u8),
                    }
                }
                let mut want = Vec::new();
                k.hits_by_group(&text, &mut want);
                // 32 positions a block (AVX2), and 64 (AVX-512BW, AVX-512 VBMI) where the CPU
                // has them.
                for width in one.widths() {
                    let mut got = Vec::new();
                    one.hits_in(&text, &mut got, width);
                    assert_eq!(
                        got,
                        want,
                        "{width:?} words {words:?} text {:?}",
                        String::from_utf8_lossy(&text)
                    );
                    tested += got.len();
                }
            }
        }
        assert!(tested > 1000, "{tested} hits compared");
    }

    #[cfg(target_arch = "x86_64")]
    #[test]
    fn one_pass_is_used_where_it_can_be() {
        if std::arch::is_x86_feature_detected!("avx2") {
            assert!(Keywords::new(&["abc", "defg"]).unwrap().one_pass.is_some());
            // A keyword shorter than the three bytes the masks look at: the group searchers.
            assert!(Keywords::new(&["ab", "defg"]).unwrap().one_pass.is_none());
        }
        // More groups than one pass takes.
        let many: Vec<String> = (0..GROUP * 9).map(|i| format!("kw{i:03}")).collect();
        let many: Vec<&str> = many.iter().map(String::as_str).collect();
        let k = Keywords::new(&many).unwrap();
        assert!(k.one_pass.is_none());
        let mut hits = Vec::new();
        k.hits(b"x kw100 kw007", &mut hits);
        assert_eq!(hits, [(2, 7, 100), (8, 13, 7)]);
    }
}
