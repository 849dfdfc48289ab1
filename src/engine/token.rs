//! The token form of a pattern: a plain sequence of literals, byte classes (repeated or not) and
//! word boundaries, as most vendor tokens are (`\bgh[pousr]_[A-Za-z0-9]{36,255}\b`,
//! `\bsk_(?:live|test)_[A-Za-z0-9]{20,247}\b`), ending perhaps in a repeated group (Slack's
//! `(?:-[A-Za-z0-9]{8,})*`). From a known start (a keyword hit at a fixed offset, see
//! `anchored_form`), such a match is a walk over the bytes: no regex engine, no cache to fetch,
//! no search set-up, where an anchored regex search cost ~130 ns.
//!
//! The walk keeps the regex's semantics (leftmost-first, greedy): a repeated class takes all it
//! can, then gives back one byte at a time until the rest of the sequence matches. A class that
//! the next item cannot start inside (its first byte is never one of the class's) never gives
//! back: any shorter run leaves a class byte where the next item needs another. At most one class
//! that may give back is followed by more items, so the giving back is one loop, never a nested
//! one.

use super::byteclass::ByteClass;
use regex_syntax::hir::{Class, Hir, HirKind, Look};

/// A set of bytes.
type ByteSet = [bool; 256];

enum Item {
    /// One of these literals, all of one length (so at most one matches).
    Lits(Vec<Box<[u8]>>),
    /// `min..=max` bytes of the set; `settled` when the next item can start with none of them
    /// (so the longest run is the only one that can match).
    Class {
        set: Box<ByteClass>,
        min: usize,
        max: usize,
        settled: bool,
        /// The bytes the next item (past any marks) can start with, when it must take one: a
        /// class that gives back need only stop where one of them is.
        next: Option<Box<ByteClass>>,
    },
    /// `\b` (ASCII): a word byte on one side only.
    Boundary,
    /// Where the secret group (`(?P<s>...)`) starts (0) or ends (1): no bytes, only a note of
    /// the position.
    Mark(usize),
    /// `(?:SUB)*`, greedy, as the pattern's last item (`xoxb-...(?:-[A-Za-z0-9]{8,})*`): as many
    /// rounds as match. With nothing after it, the regex's preferred path is each round's own
    /// preferred match, then one more round while one matches.
    Star(Vec<Item>),
}

pub struct TokenForm {
    items: Vec<Item>,
}

impl TokenForm {
    /// The token form of `hir`, or None when it is not such a sequence. Captures are read
    /// through, but for the secret group's bounds, which a walk notes (see
    /// [`TokenForm::match_marks`]).
    pub fn of(hir: &Hir) -> Option<TokenForm> {
        let mut items = Vec::new();
        flatten(hir, &mut items)?;
        settle(&mut items);
        let last = items.iter().rposition(|i| !matches!(i, Item::Mark(_)))?;
        // A star only at the end: nothing after it can ask it to give back a round.
        if items[..last].iter().any(|i| matches!(i, Item::Star(_))) {
            return None;
        }
        let giving_back = items[..last]
            .iter()
            .filter(|i| matches!(i, Item::Class { min, max, settled: false, .. } if min != max))
            .count();
        (giving_back <= 1).then_some(TokenForm { items })
    }

    /// Where the match that starts at `start` ends, as an anchored search of the pattern over
    /// `hay` (which the boundaries see whole) would find it, with the secret group's span when
    /// the pattern has one.
    pub fn match_marks(&self, hay: &[u8], start: usize) -> Option<(usize, Option<(usize, usize)>)> {
        let mut marks = [usize::MAX; 2];
        let end = walk(&self.items, hay, start, &mut marks)?;
        Some((
            end,
            (marks[0] != usize::MAX).then_some((marks[0], marks[1])),
        ))
    }
}

/// How a match opens before its keyword, for a pattern that starts `\\b? F R{min,max} K`: `F` one
/// byte of a set, `R` a run of another set that cannot hold the keyword `K`'s first byte (so the
/// run ends right at `K`). A URL's scheme is such a start (`\\b[A-Za-z][A-Za-z0-9+.-]{1,30}://`).
/// From a hit on `K`, the leftmost start is then found looking back at most `max + 1` bytes,
/// where a search of the line would run the pattern from its start.
pub struct BackStart {
    boundary: bool,
    first: Box<ByteSet>,
    run: Box<ByteSet>,
    min: usize,
    max: usize,
}

impl TokenForm {
    /// The [`BackStart`] of this form, when it opens so before `keyword`.
    pub fn back_start(&self, keyword: &[u8]) -> Option<BackStart> {
        let (boundary, rest) = match &self.items[..] {
            [Item::Boundary, rest @ ..] => (true, rest),
            rest => (false, rest),
        };
        let [Item::Class {
            set: first,
            min: 1,
            max: 1,
            ..
        }, Item::Class {
            set: run, min, max, ..
        }, Item::Lits(k), ..] = rest
        else {
            return None;
        };
        let k0 = *keyword.first()?;
        (k.len() == 1 && *k[0] == *keyword && !run.contains(k0) && *max < usize::MAX).then(|| {
            BackStart {
                boundary,
                first: Box::new(*first.table()),
                run: Box::new(*run.table()),
                min: *min,
                max: *max,
            }
        })
    }
}

impl BackStart {
    /// The leftmost start, at `from` or after, of a match whose keyword is at `at` (only the
    /// part before the keyword is checked: the rest is the same from every start).
    pub fn start(&self, hay: &[u8], at: usize, from: usize) -> Option<usize> {
        let lo = at.saturating_sub(1 + self.max).max(from);
        let last = at.checked_sub(1 + self.min)?;
        // The run before the keyword, looked at no further back than a match may start.
        let mut r = at;
        while r > lo && self.run[usize::from(hay[r - 1])] {
            r -= 1;
        }
        (lo.max(r.saturating_sub(1))..=last).find(|&x| {
            self.first[usize::from(hay[x])]
                && (!self.boundary || {
                    let before = x > 0 && is_word(hay[x - 1]);
                    before != is_word(hay[x])
                })
        })
    }
}

/// Marks each class that the next item (past any marks) cannot start inside as settled.
fn settle(items: &mut [Item]) {
    let bytes: Vec<usize> = (0..items.len())
        .filter(|&i| !matches!(items[i], Item::Mark(_)))
        .collect();
    for w in bytes.windows(2) {
        let firsts = match &items[w[1]] {
            Item::Lits(lits) => {
                let mut f = [false; 256];
                lits.iter().for_each(|l| f[usize::from(l[0])] = true);
                Some(f)
            }
            Item::Class { set, min, .. } if *min >= 1 => Some(*set.table()),
            _ => None,
        };
        if let (
            Item::Class {
                set, settled, next, ..
            },
            Some(f),
        ) = (&mut items[w[0]], firsts)
        {
            *settled = (0..256).all(|b| !(set.table()[b] && f[b]));
            *next = Some(Box::new(ByteClass::new(&f)));
        }
    }
}

fn flatten(h: &Hir, out: &mut Vec<Item>) -> Option<()> {
    match h.kind() {
        HirKind::Empty => {}
        HirKind::Literal(l) => out.push(Item::Lits(vec![l.0.clone()])),
        HirKind::Class(c) => out.push(Item::Class {
            set: Box::new(ByteClass::new(&*class_set(c)?)),
            min: 1,
            max: 1,
            settled: false,
            next: None,
        }),
        HirKind::Look(Look::WordAscii) => out.push(Item::Boundary),
        HirKind::Repetition(r)
            if r.greedy
                && r.min == 0
                && r.max.is_none()
                && !matches!(r.sub.kind(), HirKind::Class(_) | HirKind::Literal(_)) =>
        {
            let mut sub = Vec::new();
            flatten(&r.sub, &mut sub)?;
            settle(&mut sub);
            // Each round takes a byte at least, and walks with no giving back.
            let consumes = match sub.first()? {
                Item::Lits(_) => true,
                Item::Class { min, .. } => *min >= 1,
                _ => false,
            };
            let last = sub.len() - 1;
            let simple = sub.iter().enumerate().all(|(k, i)| match i {
                Item::Class {
                    min, max, settled, ..
                } => min == max || *settled || k == last,
                Item::Star(_) | Item::Mark(_) => false,
                _ => true,
            });
            if !(consumes && simple) {
                return None;
            }
            out.push(Item::Star(sub));
        }
        HirKind::Repetition(r) if r.greedy => {
            let set = match r.sub.kind() {
                HirKind::Class(c) => class_set(c)?,
                HirKind::Literal(l) if l.0.len() == 1 => {
                    let mut s = Box::new([false; 256]);
                    s[usize::from(l.0[0])] = true;
                    s
                }
                _ => return None,
            };
            out.push(Item::Class {
                set: Box::new(ByteClass::new(&set)),
                min: usize::try_from(r.min).ok()?,
                max: r
                    .max
                    .map_or(Some(usize::MAX), |m| usize::try_from(m).ok())?,
                settled: false,
                next: None,
            });
        }
        HirKind::Capture(c) if c.name.as_deref().is_some_and(|n| n.starts_with('s')) => {
            // One secret group, noted by marks.
            if out.iter().any(|i| matches!(i, Item::Mark(_))) {
                return None;
            }
            out.push(Item::Mark(0));
            flatten(&c.sub, out)?;
            out.push(Item::Mark(1));
        }
        HirKind::Capture(c) => flatten(&c.sub, out)?,
        HirKind::Concat(v) => {
            for x in v {
                flatten(x, out)?;
            }
        }
        HirKind::Alternation(v) => {
            let lits: Vec<Box<[u8]>> = v
                .iter()
                .map(|x| match x.kind() {
                    HirKind::Literal(l) => Some(l.0.clone()),
                    _ => None,
                })
                .collect::<Option<_>>()?;
            if lits.iter().any(|l| l.len() != lits[0].len()) {
                return None;
            }
            out.push(Item::Lits(lits));
        }
        _ => return None,
    }
    Some(())
}

fn class_set(c: &Class) -> Option<Box<ByteSet>> {
    let Class::Bytes(c) = c else {
        return None;
    };
    let mut s = Box::new([false; 256]);
    for r in c.ranges() {
        for b in r.start()..=r.end() {
            s[usize::from(b)] = true;
        }
    }
    Some(s)
}

fn is_word(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_'
}

/// The walk over `hay` from `pos`: one loop over the items, with one place to go back to (the
/// class that may give back; `TokenForm::of` allows at most one), where the recursion it replaces
/// spent more on calls than on bytes.
fn walk(items: &[Item], hay: &[u8], mut pos: usize, marks: &mut [usize; 2]) -> Option<usize> {
    // The item after the class that may give back, the shortest end the class may have, the end
    // it has now, and the bytes the next item can start with.
    let mut back: Option<(usize, usize, usize, Option<&ByteClass>)> = None;
    let mut i = 0;
    while let Some(item) = items.get(i) {
        let next = match item {
            Item::Boundary => {
                let before = pos > 0 && is_word(hay[pos - 1]);
                let after = hay.get(pos).is_some_and(|&b| is_word(b));
                (before != after).then_some(pos)
            }
            // Of one length, so at most one of them matches.
            Item::Lits(lits) => hay
                .get(pos..)
                .and_then(|tail| lits.iter().find(|l| tail.starts_with(l)))
                .map(|l| pos + l.len()),
            Item::Class {
                set,
                min,
                max,
                settled,
                next,
            } => {
                let stop = hay.len().min(pos.saturating_add(*max));
                let took = set.run(hay, pos, stop);
                if took < *min {
                    None
                } else {
                    // A class with only marks after it is last: nothing asks it to give back.
                    if !(min == max
                        || *settled
                        || items[i + 1..].iter().all(|x| matches!(x, Item::Mark(_))))
                    {
                        back = Some((i + 1, pos + min, pos + took, next.as_deref()));
                    }
                    Some(pos + took)
                }
            }
            Item::Mark(k) => {
                marks[*k] = pos;
                Some(pos)
            }
            Item::Star(sub) => {
                // Last in its pattern (`TokenForm::of` sees to it): nothing follows, and a round
                // walks with no giving back.
                while let Some(q) = walk(sub, hay, pos, marks) {
                    pos = q;
                }
                Some(pos)
            }
        };
        match next {
            Some(p) => {
                pos = p;
                i += 1;
            }
            // Give back bytes and go on after the class: one, or as many as end where the next
            // item cannot start (it would fail there at once). With none left to give, no match.
            None => match back {
                Some((after, shortest, end, next)) if end > shortest => {
                    let p = match next {
                        Some(f) => f.rfind_above(hay, shortest, end - 1),
                        None => end - 1,
                    };
                    back = Some((after, shortest, p, next));
                    pos = p;
                    i = after;
                }
                _ => return None,
            },
        }
    }
    Some(pos)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn form(p: &str) -> Option<TokenForm> {
        let hir = regex_syntax::ParserBuilder::new()
            .unicode(false)
            .utf8(false)
            .build()
            .parse(p)
            .unwrap();
        TokenForm::of(&hir)
    }

    #[test]
    fn only_plain_sequences_that_give_back_at_one_place_have_a_token_form() {
        for p in [
            r"\bgh[pousr]_[A-Za-z0-9]{36,255}\b",
            r"\b(?:AKIA|ASIA|ABIA|ACCA)[A-Z2-7]{16}\b",
            r"\b[rs]k_(?:live|test)_[A-Za-z0-9]{20,247}\b",
            r"(?:glpat-|glptt-)[A-Za-z0-9_-]{20,}",
            r"(?i:npm)_[a-z0-9]{36}",
            // Varying classes that never give back: each is followed by a byte it never holds.
            r"\b[A-Za-z][A-Za-z0-9+.-]{1,30}://[^:@/\s]{0,64}:",
            // A star at the end, its rounds walked with no giving back.
            r"xox[baprse]-[0-9]{8,13}-[0-9A-Za-z-]{8,}(?:-[A-Za-z0-9]{8,})*",
            r"ab(?:-[a-z]{8})*",
        ] {
            assert!(form(p).is_some(), "{p}");
        }
        for p in [
            // two classes that may give back, each followed by more
            r"a[a-z]{1,5}[a-z]{1,4}[a-z]x",
            // a star with something after it
            r"ab(?:-[a-z]{8})*x",
            // a round that may take nothing, or give back inside
            r"ab(?:[a-z]*)*",
            r"ab(?:-[a-z]{1,4}[a-z]{2})*",
            // alternatives of different lengths
            r"(?:proj|svcacct)-[a-z]{20}",
            // lazy
            r"ab[a-z]{2,5}?",
            // a look other than \b
            r"ab[a-z]{4}$",
        ] {
            assert!(form(p).is_none(), "{p}");
        }
    }

    #[test]
    fn the_walk_ends_where_an_anchored_regex_search_ends() {
        use regex_automata::{meta, Anchored, Input};
        // Each pattern with texts it matches; the texts are cut and joined at random, with bytes
        // in between, so that matches, near misses (short, long, no boundary) and failures occur.
        let cases: [(&str, &[&str]); 10] = [
            (
                r"\bgh[pousr]_[A-Za-z0-9]{6,12}\b",
                &["ghp_abc123XYZ", "ghs_Q1w2e3r4"],
            ),
            (r"\b(?:AKIA|ASIA)[A-Z2-7]{4}\b", &["AKIAZ2Q7", "ASIAMMMM"]),
            (
                r"\b[rs]k_(?:live|test)_[A-Za-z0-9_-]{3,9}",
                &["sk_live_a-b_c9", "rk_test_xyz"],
            ),
            (r"(?:ab-|cd-)[a-z_-]{2,}\b", &["ab-x_y-z", "cd-qq"]),
            (r"[a-c]{2}x[a-c-]{1,4}y\b", &["abxc-y", "ccx-aby"]),
            (r"\b(?P<s>ab[0-9]{3})\b", &["ab123", "ab999"]),
            (
                r"\b[a-z][a-z0-9+.-]{1,8}://[^:@/ ]{0,6}:",
                &["pg://u:", "a+b://:", "redis://a-b:"],
            ),
            (r"\bab(?:-[a-z]{2})*", &["ab-cd-ef", "ab-c-de", "ab-cdx-yz"]),
            (r"[^/ ]{1,9}@[a-z0-9._-]", &["p@ss@h", "pw@x", "::@@a"]),
            (
                r"\bxo[bp]-[0-9]{2,4}-[0-9a-z-]{2,}(?:-[a-z0-9]{2,})*",
                &["xob-12-ab-cd-ef", "xop-9999-a1-b2c3", "xob-12--"],
            ),
        ];
        let mut rng = super::super::TestRng::new(0x51f1_5eed_0dd5_1ce5);
        let between = b" -_aZ9.:@/";
        for (p, samples) in cases {
            let tf = form(p).expect(p);
            let re = meta::Builder::new()
                .syntax(
                    regex_automata::util::syntax::Config::new()
                        .unicode(false)
                        .utf8(false),
                )
                .build(p)
                .unwrap();
            let mut matched = 0;
            for _ in 0..300 {
                let mut hay = Vec::new();
                for _ in 0..1 + rng.below(4) {
                    let x = samples[rng.below(samples.len() as u64)].as_bytes();
                    // Whole, or cut short at either end.
                    let (from, to) = match rng.below(3) {
                        0 => (0, x.len()),
                        1 => (0, rng.below(x.len() as u64 + 1)),
                        _ => (rng.below(x.len() as u64), x.len()),
                    };
                    hay.extend_from_slice(&x[from..to]);
                    for _ in 0..rng.below(3) {
                        hay.push(between[rng.below(between.len() as u64)]);
                    }
                }
                // From every start: most fail at once, some match, some fail late.
                for start in 0..=hay.len() {
                    let input = Input::new(&hay)
                        .range(start..hay.len())
                        .anchored(Anchored::Yes);
                    let want = re.search(&input).map(|m| m.end());
                    assert_eq!(
                        tf.match_marks(&hay, start).map(|(end, _)| end),
                        want,
                        "{p} on {:?} from {start}",
                        String::from_utf8_lossy(&hay)
                    );
                    matched += usize::from(want.is_some());
                }
            }
            // Matches occur, not only failures.
            assert!(matched >= 50, "{p}: {matched}");
        }
    }
}
