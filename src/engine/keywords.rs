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
//! Some keywords match in any ASCII case (`key` for `KEY`, `Key`, `api_key`): one keyword where
//! the case spellings would take three. They form groups of their own, because Teddy compares
//! bytes exactly; such a group's fallback is an `AhoCorasick` automaton that ignores ASCII case.
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
    /// Whether the group's keywords match in any ASCII case.
    any_case: bool,
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
    /// Builds searchers for `exact` keywords, then `any_case` ones (which match in any ASCII
    /// case); a keyword's global id is its index in `exact` followed by `any_case`.
    pub fn new(exact: &[&str], any_case: &[&str]) -> Result<Keywords, aho_corasick::BuildError> {
        let keywords: Vec<&str> = exact.iter().chain(any_case).copied().collect();
        let mut groups = Vec::new();
        let chunks = exact
            .chunks(GROUP)
            .map(|c| (c.len(), false))
            .chain(any_case.chunks(GROUP).map(|c| (c.len(), true)));
        let mut first = 0;
        for (n, any_case) in chunks {
            let ids: Vec<usize> = bucket_order(&keywords[first..first + n], any_case)
                .into_iter()
                .map(|i| first + i)
                .collect();
            first += n;
            let chunk: Vec<&str> = ids.iter().map(|&i| keywords[i]).collect();
            let packed = (!any_case)
                .then(|| {
                    packed::Config::new()
                        .match_kind(packed::MatchKind::LeftmostFirst)
                        .builder()
                        .extend(&chunk)
                        .build()
                })
                .flatten();
            let searcher = match packed {
                Some(s) => Searcher::Packed(s),
                None => Searcher::Automaton(
                    AhoCorasickBuilder::new()
                        .match_kind(MatchKind::LeftmostFirst)
                        .ascii_case_insensitive(any_case)
                        .build(&chunk)?,
                ),
            };
            groups.push(Group {
                searcher,
                any_case,
                ids,
                min_len: chunk.iter().map(|k| k.len()).min().unwrap_or(0),
            });
        }
        #[cfg(target_arch = "x86_64")]
        let one_pass = {
            let ids: Vec<(Vec<usize>, bool)> =
                groups.iter().map(|g| (g.ids.clone(), g.any_case)).collect();
            avx2::Avx2::new(&keywords, &ids)
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

/// The bytes a keyword's byte `b` matches: both cases of a letter where the keyword matches in
/// any ASCII case, else `b` itself (twice).
fn byte_cases(b: u8, any_case: bool) -> [u8; 2] {
    if any_case {
        [b.to_ascii_lowercase(), b.to_ascii_uppercase()]
    } else {
        [b, b]
    }
}

/// Whether `hay` starts with `word`, in any ASCII case where `any_case`.
fn starts_with(hay: &[u8], word: &[u8], any_case: bool) -> bool {
    match hay.get(..word.len()) {
        Some(h) if any_case => h.eq_ignore_ascii_case(word),
        Some(h) => h == word,
        None => false,
    }
}

/// The order in which a group's keywords (`words`, matching in any ASCII case when `any_case`)
/// are given to Teddy, as indexes into `words`. Teddy puts the keyword at priority `i` in bucket
/// `i % 8` and looks for a bucket's first three bytes byte by byte (or nibble by nibble), so two
/// keywords in one bucket also match every mix of their first bytes: `orp` with `ntn_` also
/// takes `orn` (born, corner) and `ntp`. Over eight keywords, some buckets hold two: the pairs
/// are chosen greedily, cheapest first, where a pair costs the mixes it adds, weighted by how
/// likely ordinary text holds them (lowercase letters most, then letters and digits). (Pairing
/// sorted neighbours instead, the prose candidates doubled when the groups were cut elsewhere.)
///
/// A keyword that is a prefix of another (`pass`, `passwd`) comes after it, so that at a position
/// where both match the longer one is reported (the engine gives a keyword the triggers of those
/// it contains).
fn bucket_order(words: &[&str], any_case: bool) -> Vec<usize> {
    let n = words.len();
    let cases = |w: &str, k: usize| byte_cases(w.as_bytes()[k], any_case);
    let cost = |a: &str, b: &str| -> u32 {
        if a.len() < 3 || b.len() < 3 {
            return u32::MAX;
        }
        let pos: Vec<Vec<u8>> = (0..3)
            .map(|k| {
                let mut v: Vec<u8> = cases(a, k).into_iter().chain(cases(b, k)).collect();
                v.sort_unstable();
                v.dedup();
                v
            })
            .collect();
        let own = |t: [u8; 3], w: &str| (0..3).all(|k| cases(w, k).contains(&t[k]));
        let mut c = 0;
        for &x in &pos[0] {
            for &y in &pos[1] {
                for &z in &pos[2] {
                    let t = [x, y, z];
                    if own(t, a) || own(t, b) {
                        continue;
                    }
                    c += if t.iter().all(u8::is_ascii_lowercase) {
                        40
                    } else if t.iter().all(u8::is_ascii_alphanumeric) {
                        10
                    } else {
                        1
                    };
                }
            }
        }
        c
    };
    let mut pairs: Vec<(u32, usize, usize)> = (0..n)
        .flat_map(|i| (i + 1..n).map(move |j| (i, j)))
        .map(|(i, j)| (cost(words[i], words[j]), i, j))
        .collect();
    pairs.sort_unstable();
    let mut taken = vec![false; n];
    let (mut firsts, mut seconds) = (Vec::new(), Vec::new());
    for (_, i, j) in pairs {
        if seconds.len() == n.saturating_sub(8) {
            break;
        }
        if !taken[i] && !taken[j] {
            taken[i] = true;
            taken[j] = true;
            firsts.push(i);
            seconds.push(j);
        }
    }
    firsts.extend((0..n).filter(|&i| !taken[i]));
    // Slot `j` and slot `j + 8` share bucket `j`.
    let mut order: Vec<usize> = firsts.into_iter().chain(seconds).collect();
    // Each swap puts a prefix after its longer keyword and so removes one inversion of the
    // order by length: the loop ends.
    let is_prefix = |i: usize, j: usize| {
        let (a, b) = (words[i].as_bytes(), words[j].as_bytes());
        b.len() > a.len() && starts_with(b, a, any_case)
    };
    while let Some((x, y)) = (0..n)
        .flat_map(|x| (x + 1..n).map(move |y| (x, y)))
        .find(|&(x, y)| is_prefix(order[x], order[y]))
    {
        order.swap(x, y);
    }
    order
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bucket_order_pairs_keywords_whose_mixes_are_least_like_text() {
        // Sixteen keywords, eight buckets: every bucket holds two.
        let words = [
            "h=(", "hf_", "hvs.", "iscord", "jdbc:", "jwt.", "k_live_", "k_test_", "mysql", "npm_",
            "ntn_", "orp", "plx-", "pypi-", "r8_", "s-cli",
        ];
        let order = bucket_order(&words, false);
        let mut sorted = order.clone();
        sorted.sort();
        assert_eq!(sorted, (0..16).collect::<Vec<_>>());
        let bucket_of = |w: &str| order.iter().position(|&i| words[i] == w).unwrap() % 8;
        // Keywords that share their first two bytes share a bucket: their only mixes are
        // themselves.
        assert_eq!(bucket_of("k_live_"), bucket_of("k_test_"));
        // `orp` beside `ntn_` would also take `orn` and `ntp`, common in prose.
        assert_ne!(bucket_of("orp"), bucket_of("ntn_"));
        // Eight or fewer: one bucket each, in the given order.
        assert_eq!(bucket_order(&words[..8], false), (0..8).collect::<Vec<_>>());
        assert_eq!(bucket_order(&["abc", "abcd", "x-y"], false), [1, 0, 2]);
        // A keyword comes after one it is a prefix of (in any case, where case does not count).
        let mut nested: Vec<String> = (0..14).map(|i| format!("w{i:02}x")).collect();
        nested.extend(["pass".into(), "PASSWD".into()]);
        let nested: Vec<&str> = nested.iter().map(String::as_str).collect();
        for any_case in [false, true] {
            let order = bucket_order(&nested, any_case);
            let at = |i: usize| order.iter().position(|&x| x == i).unwrap();
            if any_case {
                assert!(at(15) < at(14), "{order:?}");
            }
            let mut sorted = order.clone();
            sorted.sort();
            assert_eq!(sorted, (0..16).collect::<Vec<_>>());
        }
    }

    #[test]
    fn hits_are_leftmost_first_in_text_order_across_groups() {
        // Forty keywords: three groups, so hits from several groups must be merged in order.
        let owned: Vec<String> = (0..40).map(|i| format!("kw{i:02}_")).collect();
        let mut words: Vec<&str> = owned.iter().map(String::as_str).collect();
        // "abcd" and "abc" in one group: leftmost-first prefers the earlier pattern.
        words.extend(["abcd", "abc"]);
        let k = Keywords::new(&words, &[]).unwrap();
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

    #[test]
    fn any_case_keywords_match_every_spelling_and_exact_ones_only_their_own() {
        // Four exact keywords, then two in any case: ids 4 and 5.
        let k = Keywords::new(&["AKIA", "Bearer", "ghp_", "xox"], &["key", "password"]).unwrap();
        let text = b"KEY Key kEy kez PassWORD PASSWORD akia AKIA bearer Bearer";
        let mut hits = Vec::new();
        k.hits(text, &mut hits);
        let got: Vec<(&[u8], usize)> = hits.iter().map(|&(s, e, id)| (&text[s..e], id)).collect();
        let want: [(&[u8], usize); 7] = [
            (b"KEY", 4),
            (b"Key", 4),
            (b"kEy", 4),
            (b"PassWORD", 5),
            (b"PASSWORD", 5),
            (b"AKIA", 0),
            (b"Bearer", 1),
        ];
        assert_eq!(got, want);
        // The searchers one group at a time (the fallback) agree.
        let mut by_group = Vec::new();
        k.hits_by_group(text, &mut by_group);
        assert_eq!(by_group, hits);
    }

    /// The one-pass search reports exactly the hits of the searchers one group at a time, with
    /// AVX2 blocks and with AVX-512 ones (nibble shuffles, and VBMI permutes): keyword sets with
    /// prefixes of each other, shared first bytes, case variants, keywords in any case and
    /// bytes above 0x7f (the
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
        for round in 0..60 {
            // A random subset in sorted order, as the engine gives them; from round 20 on, some
            // of them (lowercase) match in any case.
            let mut words: Vec<&str> = base
                .iter()
                .copied()
                .filter(|_| round == 0 || rng.below(4) != 0)
                .collect();
            words.sort();
            let mut any_case: Vec<String> = Vec::new();
            if round >= 20 {
                words.retain(|w| {
                    let fold = rng.below(3) == 0;
                    if fold {
                        any_case.push(w.to_ascii_lowercase());
                    }
                    !fold
                });
                any_case.sort();
                any_case.dedup();
            }
            let any_case: Vec<&str> = any_case.iter().map(String::as_str).collect();
            let k = Keywords::new(&words, &any_case).unwrap();
            let all: Vec<&str> = words.iter().chain(&any_case).copied().collect();
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
                            let w = all[rng.below(all.len() as u64)].as_bytes();
                            // Whole, or cut short (a near miss that passes the first bytes).
                            let cut = if rng.below(3) == 0 {
                                rng.below(w.len() as u64) + 1
                            } else {
                                w.len()
                            };
                            // As written, or with some letters in the other case.
                            let flip = rng.below(2) == 0;
                            text.extend(w[..cut].iter().map(|&b| {
                                if flip && b.is_ascii_alphabetic() && rng.below(2) == 0 {
                                    b ^ 0x20
                                } else {
                                    b
                                }
                            }));
                        }
                        _ => text.push(rng.below(256) as u8),
                    }
                }
                let mut want = Vec::new();
                k.hits_by_group(&text, &mut want);
                for &(s, e, id) in &want {
                    assert!(text[s..e].eq_ignore_ascii_case(all[id].as_bytes()));
                }
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
            assert!(Keywords::new(&["abc"], &["defg"])
                .unwrap()
                .one_pass
                .is_some());
            // A keyword shorter than the three bytes the masks look at: the group searchers.
            assert!(Keywords::new(&["ab", "defg"], &[])
                .unwrap()
                .one_pass
                .is_none());
        }
        // More groups than one pass takes.
        let many: Vec<String> = (0..GROUP * 9).map(|i| format!("kw{i:03}")).collect();
        let many: Vec<&str> = many.iter().map(String::as_str).collect();
        let k = Keywords::new(&many, &[]).unwrap();
        assert!(k.one_pass.is_none());
        let mut hits = Vec::new();
        k.hits(b"x kw100 kw007", &mut hits);
        assert_eq!(hits, [(2, 7, 100), (8, 13, 7)]);
    }
}
