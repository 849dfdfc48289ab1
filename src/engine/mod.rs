//! The detection engine: compiled once from a policy, immutable, `Send + Sync`.
//!
//! Every keyword of every rule and built-in detector goes into one shared keyword pass: a few small
//! Aho-Corasick (Teddy) searchers, case sensitive and leftmost-first (see `keywords`). A keyword hit
//! runs only the rules that own that keyword, and only on the line around the hit. Digit-shaped
//! personal data (cards, SSNs, phones, IBANs) has no keyword; a separate pass finds clusters of
//! digits and runs those checks near them. Codenames and policy domains, which are
//! case-insensitive, get a second small automaton that exists only when the policy declares some.

/// A 256-entry table of the bytes for which `$e` holds (`$b` names the byte): one load, where a
/// chain of range tests takes a branch per test and mispredicts them on mixed text.
macro_rules! byte_table {
    ($b:ident => $e:expr) => {{
        let mut t = [false; 256];
        let mut i = 0;
        while i < 256 {
            let $b = i as u8;
            t[i] = $e;
            i += 1;
        }
        t
    }};
}

mod byteclass;
pub mod catalogue;
mod detectors;
mod generic;
mod keywords;
mod lines;
pub use detectors::dotenv_values;
mod token;
pub mod validators;
mod wordscreen;

use crate::policy::{Allow, Policy};
use crate::types::{Category, Verdict};
use aho_corasick::{AhoCorasick, AhoCorasickBuilder, MatchKind};
use catalogue::{catalogue, Validator};
use regex::bytes::{Regex, RegexBuilder};
use serde::Serialize;
use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Instant;

/// One piece of sensitive content: where it is and what rule found it. Never the value.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Finding {
    pub rule: &'static str,
    pub category: Category,
    #[serde(rename = "box")]
    pub verdict: Verdict,
    /// UTF-8 byte offsets into the scanned text, end exclusive.
    pub start: usize,
    pub end: usize,
    /// 1-based line and byte column of `start`.
    pub line: usize,
    pub column: usize,
}

#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    #[error("rule {rule}: bad pattern: {source}")]
    Pattern {
        rule: String,
        source: Box<dyn std::error::Error + Send + Sync>,
    },
    #[error("building the keyword automaton: {0}")]
    Automaton(#[from] aho_corasick::BuildError),
}

/// What a keyword hit sets off.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Trigger {
    /// Run a rule on the line around the hit.
    Rule(usize),
    /// Run a rule anchored where its match must start: this many bytes before the hit.
    RuleAt(usize, usize),
    /// Run a rule from the start its back form finds before the hit (see `token::BackStart`).
    RuleBack(usize),
    Generic,
    /// An internal suffix (`.corp`) that starts this many bytes before the hit (`orp`).
    InternalSuffix(usize),
    PrivateIp,
    /// A private key block whose `-----BEGIN` starts this many bytes before the hit (`-BEGIN`).
    PrivateKey(usize),
}

/// A catalogue rule with a pattern, compiled.
struct CompiledRule {
    info: usize,
    regex: Regex,
    /// capture groups whose first participating one is the secret span
    secret_groups: Vec<usize>,
    entropy: Option<validators::EntropyFloor>,
    validate: Option<Validator>,
    more_lines: u8,
    /// The same pattern, for anchored searches, when every match starts with a literal that holds
    /// one of the rule's keywords at a fixed place.
    anchored: Option<Anchored>,
    /// A way to find the secret group's bounds without a capture engine, when the pattern allows.
    split: Option<Split>,
    /// Another: the bytes a secret group can hold, when every match ends with its secret group
    /// right after a byte no secret can hold (see [`tail_form`]).
    tail: Option<Box<ByteSet>>,
    /// Another: the terminator bytes, when the pattern is the secret group after zero-width
    /// assertions, then one terminator byte or the end (see [`term_form`]).
    term: Option<Box<ByteSet>>,
    /// A walk that stands in for the anchored regex and its capture step, when the pattern is a
    /// plain sequence (see `token`): it notes the secret group's bounds on the way.
    token: Option<token::TokenForm>,
    /// A walk from a start found by looking back from the keyword, for a rule with one keyword
    /// whose matches open with a run of bytes before it (a URL's scheme before `://`).
    back: Option<(token::TokenForm, token::BackStart)>,
}

/// A set of bytes.
type ByteSet = [bool; 256];

impl CompiledRule {
    /// The secret span of a match `ms..me` of `hay` found without captures: its tail (tail
    /// form), the match less its terminator (terminated form), or the whole match.
    fn plain_secret(&self, hay: &[u8], ms: usize, me: usize) -> (usize, usize) {
        match (&self.tail, &self.term) {
            (Some(secret), _) => (tail_start(hay, ms, me, secret), me),
            (None, Some(term)) => (ms, term_end(hay, ms, me, term)),
            (None, None) => (ms, me),
        }
    }
}

/// A pattern `P(?P<s>S)T` with no top-level alternation and a fixed-length `T`. Given a match
/// `ms..me` (found without captures), the secret is `gs..me - len(T)`, where `gs` is where `P`'s
/// own preferred match from `ms` ends, provided `S T` matches from `gs` (and then ends at `me`).
/// Why that is the capture engine's answer: paths are preferred by `P`'s choices first, so the
/// preferred path of the whole pattern takes `P`'s preferred path whenever `S T` can follow it; and
/// every path that ends at `me` puts `T` at `me - len(T)`. When the check fails, the rule falls back
/// to captures.
struct Split {
    prefix: regex_automata::meta::Regex,
    rest: regex_automata::meta::Regex,
    trail_len: usize,
}

/// A rule that can be searched from a known start.
struct Anchored {
    regex: regex_automata::meta::Regex,
    /// capture group indices, as in `CompiledRule::secret_groups`
    secret_groups: Vec<usize>,
    /// keyword -> how far into the match it starts
    offsets: BTreeMap<String, usize>,
}

/// Per-rule facts every finding needs.
#[derive(Debug, Clone)]
struct RuleInfo {
    id: &'static str,
    category: Category,
    verdict: Verdict,
    priority: i32,
    enabled: bool,
}

/// Indices of the built-in detectors in `Engine::infos`.
#[derive(Debug, Clone, Copy)]
struct Builtins {
    private_key: usize,
    dotenv: usize,
    email: usize,
    credit_card: usize,
    us_ssn: usize,
    iban: usize,
    phone_number: usize,
    internal_host: usize,
    private_ip: usize,
    codename: usize,
    generic: usize,
}

/// What a hit of the case-insensitive names automaton is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum NameKind {
    Codename,
    Domain,
}

pub struct Engine {
    policy: Arc<Policy>,
    infos: Vec<RuleInfo>,
    rules: Vec<CompiledRule>,
    builtins: Builtins,
    /// The keyword searchers (groups small enough for Slim Teddy).
    keywords: keywords::Keywords,
    triggers: Vec<Vec<Trigger>>,
    names: Option<(AhoCorasick, Vec<NameKind>)>,
    pii: detectors::PiiRegexes,
    compile_time: std::time::Duration,
    /// Whether the policy turns some rule off (findings of it are dropped at the end).
    any_disabled: bool,
}

/// A finding before line/column and box are attached.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Raw {
    pub info: usize,
    pub start: usize,
    pub end: usize,
}

fn byte_regex(rule: &str, pattern: &str) -> Result<Regex, EngineError> {
    RegexBuilder::new(pattern)
        .unicode(false)
        .build()
        .map_err(|e| pattern_error(rule, e))
}

/// Indices of the capture groups named `s`, `s2`, ...: the secret's span, first participating wins.
fn secret_groups<'a>(names: impl Iterator<Item = Option<&'a str>>) -> Vec<usize> {
    names
        .enumerate()
        .filter(|(_, n)| matches!(n, Some(n) if n.starts_with('s')))
        .map(|(i, _)| i)
        .collect()
}

fn pattern_error(
    rule: &str,
    source: impl std::error::Error + Send + Sync + 'static,
) -> EngineError {
    EngineError::Pattern {
        rule: rule.to_string(),
        source: Box::new(source),
    }
}

/// A pattern's syntax tree, parsed as the engine compiles it (bytes, Unicode off).
fn parse_hir(rule: &str, pattern: &str) -> Result<regex_syntax::hir::Hir, EngineError> {
    regex_syntax::ParserBuilder::new()
        .unicode(false)
        .utf8(false)
        .build()
        .parse(pattern)
        .map_err(|e| pattern_error(rule, e))
}

/// A regex-automata regex for anchored searches, compiled as the engine compiles patterns.
fn meta_regex(rule: &str, pattern: &str) -> Result<regex_automata::meta::Regex, EngineError> {
    regex_automata::meta::Builder::new()
        .syntax(
            regex_automata::util::syntax::Config::new()
                .unicode(false)
                .utf8(false),
        )
        .build(pattern)
        .map_err(|e| pattern_error(rule, e))
}

/// Where the character class opened at `open` (a `[`) closes. A `]` right after `[` or `[^` is a
/// literal.
fn class_close(p: &[u8], open: usize) -> usize {
    let mut i = open + 1;
    if p.get(i) == Some(&b'^') {
        i += 1;
    }
    if p.get(i) == Some(&b']') {
        i += 1;
    }
    while i < p.len() && p[i] != b']' {
        if p[i] == b'\\' {
            i += 1;
        }
        i += 1;
    }
    i
}

/// Where the group opened at `open` (a `(`) closes: skips escapes and character classes.
fn group_close(p: &[u8], open: usize) -> Option<usize> {
    let mut depth = 0usize;
    let mut i = open;
    while i < p.len() {
        match p[i] {
            b'\\' => i += 1,
            b'[' => i = class_close(p, i),
            b'(' => depth += 1,
            b')' => {
                depth = depth.checked_sub(1)?;
                if depth == 0 {
                    return Some(i);
                }
            }
            _ => {}
        }
        i += 1;
    }
    None
}

/// `\b(?P<s>BODY)\b`, `(?P<s>BODY)`, ...: when nothing but word boundaries lies outside the one
/// secret group, the secret is the whole match and the rule can run without captures (a DFA search
/// instead of a capture engine per match). Returns the pattern without the group.
fn without_secret_group(pattern: &str) -> Option<String> {
    let open = pattern.find("(?P<s>")?;
    let lead = &pattern[..open];
    let close = group_close(pattern.as_bytes(), open)?;
    let inner = &pattern[open + "(?P<s>".len()..close];
    let trail = &pattern[close + 1..];
    let zero_width = |s: &str| s.is_empty() || s == r"\b";
    (zero_width(lead) && zero_width(trail) && !inner.contains("(?P<"))
        .then(|| format!("{lead}(?:{inner}){trail}"))
}

/// Whether a piece of a pattern is a whole top level with no alternation: its groups balance, and
/// its depth-0 bytes (outside every group and class) hold no `|`.
fn no_top_level_alternation(p: &[u8]) -> bool {
    let mut i = 0;
    while i < p.len() {
        match p[i] {
            b'\\' => i += 1,
            b'[' => i = class_close(p, i),
            b'(' => match group_close(p, i) {
                Some(close) => i = close,
                None => return false,
            },
            // An unmatched `)`: this is not a whole top level.
            b'|' | b')' => return false,
            _ => {}
        }
        i += 1;
    }
    true
}

/// The split form of a rule (see [`Split`]), when its pattern is `P(?P<s>S)T` at the top level.
fn split_form(rule: &str, pattern: &str) -> Result<Option<Split>, EngineError> {
    let Some(open) = pattern.find("(?P<s>") else {
        return Ok(None);
    };
    let Some(close) = group_close(pattern.as_bytes(), open) else {
        return Ok(None);
    };
    let (lead, inner, trail) = (
        &pattern[..open],
        &pattern[open + "(?P<s>".len()..close],
        &pattern[close + 1..],
    );
    if pattern.matches("(?P<").count() != 1
        || !no_top_level_alternation(lead.as_bytes())
        || !no_top_level_alternation(trail.as_bytes())
    {
        return Ok(None);
    }
    let trail_hir = parse_hir(rule, trail)?;
    let props = trail_hir.properties();
    let Some(trail_len) = props
        .minimum_len()
        .filter(|&n| props.maximum_len() == Some(n))
    else {
        return Ok(None);
    };
    Ok(Some(Split {
        prefix: meta_regex(rule, &format!("(?:{lead})"))?,
        rest: meta_regex(rule, &format!("(?:{inner})(?:{trail})"))?,
        trail_len,
    }))
}

/// Every byte `h` can match anywhere, added to `set`. False for a Unicode class (not made with
/// Unicode off; refused rather than guessed).
fn all_bytes(h: &regex_syntax::hir::Hir, set: &mut ByteSet) -> bool {
    use regex_syntax::hir::{Class, HirKind};
    match h.kind() {
        HirKind::Empty | HirKind::Look(_) => true,
        HirKind::Literal(l) => {
            l.0.iter().for_each(|&b| set[usize::from(b)] = true);
            true
        }
        HirKind::Class(Class::Bytes(c)) => {
            for r in c.ranges() {
                (r.start()..=r.end()).for_each(|b| set[usize::from(b)] = true);
            }
            true
        }
        HirKind::Class(Class::Unicode(_)) => false,
        HirKind::Repetition(r) => all_bytes(&r.sub, set),
        HirKind::Capture(c) => all_bytes(&c.sub, set),
        HirKind::Concat(v) | HirKind::Alternation(v) => v.iter().all(|x| all_bytes(x, set)),
    }
}

/// The bytes a match of `h` can end with, added to `set`; returns whether `h` can match empty
/// (then the bytes before it can end the match too). None for what this does not follow.
fn last_bytes(h: &regex_syntax::hir::Hir, set: &mut ByteSet) -> Option<bool> {
    use regex_syntax::hir::{Class, HirKind};
    match h.kind() {
        HirKind::Empty | HirKind::Look(_) => Some(true),
        HirKind::Literal(l) => {
            set[usize::from(*l.0.last()?)] = true;
            Some(false)
        }
        HirKind::Class(Class::Bytes(_)) => all_bytes(h, set).then_some(false),
        HirKind::Class(Class::Unicode(_)) => None,
        HirKind::Repetition(r) => Some(last_bytes(&r.sub, set)? || r.min == 0),
        HirKind::Capture(c) => last_bytes(&c.sub, set),
        HirKind::Concat(items) => {
            for item in items.iter().rev() {
                if !last_bytes(item, set)? {
                    return Some(false);
                }
            }
            Some(true)
        }
        HirKind::Alternation(v) => {
            let mut empty = false;
            for x in v {
                empty |= last_bytes(x, set)?;
            }
            Some(empty)
        }
    }
}

fn is_secret_capture(h: &regex_syntax::hir::Hir) -> bool {
    matches!(h.kind(), regex_syntax::hir::HirKind::Capture(c)
        if c.name.as_deref().is_some_and(|n| n.starts_with('s')))
}

/// Whether every match of `h` ends with a secret group (zero-width assertions after it aside)
/// that follows, inside `h`, a byte outside `secret` (the bytes any secret group can hold).
fn ends_with_secret(h: &regex_syntax::hir::Hir, secret: &ByteSet) -> bool {
    use regex_syntax::hir::HirKind;
    match h.kind() {
        HirKind::Alternation(v) => v.iter().all(|x| ends_with_secret(x, secret)),
        HirKind::Capture(c) if !is_secret_capture(h) => ends_with_secret(&c.sub, secret),
        HirKind::Concat(items) => {
            let Some(k) = items
                .iter()
                .rposition(|x| !matches!(x.kind(), HirKind::Look(_)))
            else {
                return false;
            };
            if !is_secret_capture(&items[k]) {
                return ends_with_secret(&items[k], secret);
            }
            // What ends right before the group: the last bytes of the items before it, back to
            // one that cannot be empty.
            let mut before = [false; 256];
            for item in items[..k].iter().rev() {
                match last_bytes(item, &mut before) {
                    Some(true) => continue,
                    Some(false) => return (0..256).all(|b| !(before[b] && secret[b])),
                    None => return false,
                }
            }
            false
        }
        _ => false,
    }
}

/// The tail form of a rule: every match ends with its secret group, and the byte before the group
/// is one that no secret group can hold (`\s+(?P<s>[A-Za-z0-9._~+/=-]{16,})` in each branch).
/// The secret is then the match's tail after its last byte outside the returned set, with no
/// capture engine. None when the pattern does not have that shape.
fn tail_form(rule: &str, pattern: &str) -> Result<Option<Box<ByteSet>>, EngineError> {
    let hir = parse_hir(rule, pattern)?;
    let mut secret = [false; 256];
    let mut groups = Vec::new();
    collect_secret_captures(&hir, &mut groups);
    if groups.is_empty() || !groups.iter().all(|g| all_bytes(g, &mut secret)) {
        return Ok(None);
    }
    Ok(ends_with_secret(&hir, &secret).then(|| Box::new(secret)))
}

/// The terminated form of a rule: `LOOKS (?P<s>S)(?:[T]|$)`, zero-width assertions, the secret
/// group, then one byte of `T` or the end, where no match of `S` is empty or ends with a byte of
/// `T` (the OpenAI key: `\b(?P<s>sk-...)(?:[^A-Za-z0-9_-]|$)`). The secret is then the match,
/// less its last byte when that byte is in `T`: no capture engine, whose bounded backtracker
/// cleared a visited set of the pattern's ~1,000 states by the span at every match. Returns `T`.
fn term_form(rule: &str, pattern: &str) -> Result<Option<Box<ByteSet>>, EngineError> {
    use regex_syntax::hir::{HirKind, Look};
    let hir = parse_hir(rule, pattern)?;
    let HirKind::Concat(items) = hir.kind() else {
        return Ok(None);
    };
    let Some((last, rest)) = items.split_last() else {
        return Ok(None);
    };
    let Some((group, lead)) = rest.split_last() else {
        return Ok(None);
    };
    let mut groups = Vec::new();
    collect_secret_captures(&hir, &mut groups);
    if groups.len() != 1
        || !is_secret_capture(group)
        || !lead.iter().all(|h| matches!(h.kind(), HirKind::Look(_)))
    {
        return Ok(None);
    }
    let HirKind::Alternation(alts) = last.kind() else {
        return Ok(None);
    };
    let mut term = Box::new([false; 256]);
    let shape = match &alts[..] {
        [a, b] => [(a, b), (b, a)].into_iter().any(|(class, end)| {
            matches!(class.kind(), HirKind::Class(_))
                && class.properties().maximum_len() == Some(1)
                && all_bytes(class, &mut term)
                && matches!(end.kind(), HirKind::Look(Look::End))
        }),
        _ => false,
    };
    let mut ends = [false; 256];
    let ok = shape
        && last_bytes(group, &mut ends) == Some(false)
        && (0..256).all(|b| !(ends[b] && term[b]));
    Ok(ok.then_some(term))
}

/// Where the secret of a terminated-form match `ms..me` ends (see [`term_form`]).
fn term_end(hay: &[u8], ms: usize, me: usize, term: &ByteSet) -> usize {
    if me > ms && term[usize::from(hay[me - 1])] {
        me - 1
    } else {
        me
    }
}

fn collect_secret_captures<'h>(
    h: &'h regex_syntax::hir::Hir,
    out: &mut Vec<&'h regex_syntax::hir::Hir>,
) {
    use regex_syntax::hir::HirKind;
    if is_secret_capture(h) {
        out.push(h);
    }
    match h.kind() {
        HirKind::Repetition(r) => collect_secret_captures(&r.sub, out),
        HirKind::Capture(c) => collect_secret_captures(&c.sub, out),
        HirKind::Concat(v) | HirKind::Alternation(v) => {
            v.iter().for_each(|x| collect_secret_captures(x, out))
        }
        _ => {}
    }
}

/// Where the secret of a tail-form match `ms..me` starts: after the match's last byte outside
/// `secret`.
fn tail_start(hay: &[u8], ms: usize, me: usize, secret: &ByteSet) -> usize {
    hay[ms..me]
        .iter()
        .rposition(|&b| !secret[usize::from(b)])
        .map_or(ms, |i| ms + i + 1)
}

/// `hir` with every class that is one ASCII letter in both cases (`[Bb]`, as `(?i:b)` compiles)
/// replaced by the lowercase letter. `(?i:authorization)` has 2^13 spellings, too many for the
/// literal extractor; folded, it is one literal.
fn fold_case(hir: &regex_syntax::hir::Hir) -> regex_syntax::hir::Hir {
    use regex_syntax::hir::{Capture, Class, Hir, HirKind, Repetition};
    match hir.kind() {
        HirKind::Class(Class::Bytes(c)) => match c.ranges() {
            [a, b]
                if a.start() == a.end()
                    && b.start() == b.end()
                    && a.start().is_ascii_uppercase()
                    && b.start() == a.start().to_ascii_lowercase() =>
            {
                Hir::literal([b.start()])
            }
            _ => hir.clone(),
        },
        HirKind::Repetition(r) => Hir::repetition(Repetition {
            sub: Box::new(fold_case(&r.sub)),
            ..r.clone()
        }),
        HirKind::Capture(c) => Hir::capture(Capture {
            sub: Box::new(fold_case(&c.sub)),
            ..c.clone()
        }),
        HirKind::Concat(subs) => Hir::concat(subs.iter().map(fold_case).collect()),
        HirKind::Alternation(subs) => Hir::alternation(subs.iter().map(fold_case).collect()),
        _ => hir.clone(),
    }
}

/// The anchored form of a rule, when its pattern allows one: every match starts with one of a
/// finite set of prefix literals (regex-syntax's extractor), every literal holds one of the rule's
/// keywords, and each keyword sits at one offset in every literal that holds it. A hit of such a
/// keyword then says exactly where the match must start.
///
/// Case-insensitive letters are folded to lowercase before extraction, and keywords are compared
/// with the literals in lowercase. A hit is case sensitive, so it still lands only where the text
/// spells the keyword as the rule lists it, and there the offset holds. What folding gives up: a
/// match whose prefix spells no keyword the rule lists (`BEARER` for `earer`) is found only
/// through its own keyword, not through another keyword of the rule on the same line.
fn anchored_form(
    rule: &str,
    pattern: &str,
    keywords: &[String],
) -> Result<Option<Anchored>, EngineError> {
    use regex_syntax::hir::literal::{ExtractKind, Extractor};
    let hir = fold_case(&parse_hir(rule, pattern)?);
    let seq = Extractor::new().kind(ExtractKind::Prefix).extract(&hir);
    let Some(lits) = seq.literals() else {
        return Ok(None);
    };
    if lits.is_empty() {
        return Ok(None);
    }
    let mut offsets: BTreeMap<String, usize> = BTreeMap::new();
    let mut ambiguous: Vec<&String> = Vec::new();
    for lit in lits {
        let lit = lit.as_bytes().to_ascii_lowercase();
        let mut held = false;
        for k in keywords {
            let k_lower = k.to_ascii_lowercase();
            let mut at = memchr::memmem::find_iter(&lit, k_lower.as_bytes());
            let Some(first) = at.next() else {
                continue;
            };
            held = true;
            if at.next().is_some() || offsets.get(k).is_some_and(|&o| o != first) {
                ambiguous.push(k);
            }
            offsets.insert(k.clone(), first);
        }
        if !held {
            return Ok(None);
        }
    }
    for k in ambiguous {
        offsets.remove(k);
    }
    if offsets.is_empty() {
        return Ok(None);
    }
    let regex = meta_regex(rule, pattern)?;
    let secret_groups = secret_groups(
        regex
            .group_info()
            .pattern_names(regex_automata::PatternID::ZERO),
    );
    Ok(Some(Anchored {
        regex,
        secret_groups,
        offsets,
    }))
}

impl Engine {
    /// Compiles the engine for a policy.
    pub fn new(policy: Policy) -> Result<Engine, EngineError> {
        let t0 = Instant::now();
        let policy = Arc::new(policy);
        let mut infos = Vec::new();
        let mut rules = Vec::new();
        let mut kw: BTreeMap<String, Vec<Trigger>> = BTreeMap::new();
        let mut builtin_index = BTreeMap::new();

        for spec in catalogue() {
            let idx = infos.len();
            let enabled = policy.rule_enabled(&spec.id);
            infos.push(RuleInfo {
                id: spec.id.as_str(),
                category: spec.category,
                verdict: policy.box_for(&spec.id, spec.category),
                priority: spec.priority.unwrap_or(match spec.category {
                    Category::PrivateKey => 100,
                    _ => 10,
                }),
                enabled,
            });
            if spec.builtin {
                builtin_index.insert(spec.id.clone(), idx);
                if enabled && spec.id == "generic_secret_assignment" {
                    for k in &spec.keywords {
                        kw.entry(k.clone()).or_default().push(Trigger::Generic);
                    }
                }
                continue;
            }
            let Some(pattern) = &spec.pattern else {
                continue;
            };
            if !enabled {
                continue;
            }
            // The rule's pattern, then its other patterns: each is compiled on its own, with its
            // own keywords, and reports as the rule.
            let parts = std::iter::once((&spec.keywords, pattern.as_str()))
                .chain(spec.also.iter().map(|x| (&x.keywords, x.pattern.as_str())));
            for (keywords, pattern) in parts {
                let pattern = without_secret_group(pattern).unwrap_or_else(|| pattern.to_string());
                let regex = byte_regex(&spec.id, &pattern)?;
                let secret_groups = secret_groups(regex.capture_names());
                let anchored = anchored_form(&spec.id, &pattern, keywords)?;
                let split = if secret_groups.is_empty() {
                    None
                } else {
                    split_form(&spec.id, &pattern)?
                };
                let tail = if secret_groups.is_empty() || split.is_some() {
                    None
                } else {
                    tail_form(&spec.id, &pattern)?
                };
                let term = if secret_groups.is_empty() || split.is_some() || tail.is_some() {
                    None
                } else {
                    term_form(&spec.id, &pattern)?
                };
                let token = if anchored.is_some() {
                    token::TokenForm::of(&parse_hir(&spec.id, &pattern)?)
                } else {
                    None
                };
                let back = match &keywords[..] {
                    [k] if anchored.is_none() => {
                        token::TokenForm::of(&parse_hir(&spec.id, &pattern)?)
                            .and_then(|f| f.back_start(k.as_bytes()).map(|b| (f, b)))
                    }
                    _ => None,
                };
                let r = rules.len();
                for k in keywords {
                    let t = match anchored.as_ref().and_then(|a| a.offsets.get(k)) {
                        Some(&off) => Trigger::RuleAt(r, off),
                        None if back.is_some() => Trigger::RuleBack(r),
                        None => Trigger::Rule(r),
                    };
                    kw.entry(k.clone()).or_default().push(t);
                }
                rules.push(CompiledRule {
                    info: idx,
                    regex,
                    secret_groups,
                    entropy: spec.entropy.map(validators::EntropyFloor::new),
                    validate: spec.validate,
                    more_lines: spec.more_lines,
                    anchored,
                    split,
                    tail,
                    term,
                    token,
                    back,
                });
            }
        }
        let b = |id: &str| builtin_index[id];
        let builtins = Builtins {
            private_key: b("private_key"),
            dotenv: b("dotenv"),
            email: b("email"),
            credit_card: b("credit_card"),
            us_ssn: b("us_ssn"),
            iban: b("iban"),
            phone_number: b("phone_number"),
            internal_host: b("internal_host"),
            private_ip: b("private_ip"),
            codename: b("codename"),
            generic: b("generic_secret_assignment"),
        };
        let on = |i: usize| infos[i].enabled;
        if on(builtins.internal_host) {
            // ".int" stands for both ".internal" and ".intranet" (one keyword, not two). ".corp" is
            // found by "orp": ".co" opens every ".com", and a keyword's first three bytes are its
            // fingerprint in the keyword pass.
            for (s, back) in [
                (".int", 0),
                ("orp", 2),
                (".local", 0),
                (".lan", 0),
                (".home.arpa", 0),
            ] {
                kw.entry(s.to_string())
                    .or_default()
                    .push(Trigger::InternalSuffix(back));
            }
        }
        if on(builtins.private_ip) {
            for s in ["10.", "172.", "192.168."] {
                kw.entry(s.into()).or_default().push(Trigger::PrivateIp);
            }
        }
        if on(builtins.private_key) {
            // "---" opens every Markdown rule and table: the keyword starts at the last dash.
            kw.entry("-BEGIN".into())
                .or_default()
                .push(Trigger::PrivateKey(4));
        }

        // A keyword that contains another must also set off the shorter one's triggers, because
        // leftmost-first matching reports only one of two overlapping hits.
        let keys: Vec<String> = kw.keys().cloned().collect();
        let mut merged: Vec<(String, Vec<Trigger>)> = Vec::new();
        for k in &keys {
            let mut t = kw[k].clone();
            for other in &keys {
                if other != k && k.contains(other.as_str()) {
                    for mut x in kw[other].clone() {
                        // The offset is the shorter keyword's: from this one, search the line.
                        if let Trigger::RuleAt(r, _) | Trigger::RuleBack(r) = x {
                            x = Trigger::Rule(r);
                        }
                        if !t.contains(&x) {
                            t.push(x);
                        }
                    }
                }
            }
            merged.push((k.clone(), t));
        }
        // A keyword listed in several cases (`pass`, `PASS`) becomes one that matches in any ASCII
        // case, with every spelling's triggers: one keyword where there were three, and groups
        // are few (each costs every byte of the text).
        let mut spellings: BTreeMap<String, Vec<(String, Vec<Trigger>)>> = BTreeMap::new();
        for (k, t) in merged {
            spellings
                .entry(k.to_ascii_lowercase())
                .or_default()
                .push((k, t));
        }
        let (mut exact, mut any_case) = (Vec::new(), Vec::new());
        for (lower, mut forms) in spellings {
            if forms.len() == 1 {
                exact.extend(forms.pop());
                continue;
            }
            let mut t: Vec<Trigger> = Vec::new();
            for x in forms.into_iter().flat_map(|(_, ts)| ts) {
                if !t.contains(&x) {
                    t.push(x);
                }
            }
            any_case.push((lower, t));
        }
        // Sorted keywords in groups small enough for Slim Teddy: one automaton of 60 keywords falls
        // back to Fat Teddy and runs at ~300 MB/s on prose; groups of 16 run at over 1 GB/s
        // together (see benches/scan.rs for the end-to-end figures).
        exact.sort_by(|a, b| a.0.cmp(&b.0));
        fn words(v: &[(String, Vec<Trigger>)]) -> Vec<&str> {
            v.iter().map(|(k, _)| k.as_str()).collect()
        }
        let keywords = keywords::Keywords::new(&words(&exact), &words(&any_case))?;
        let triggers = exact.into_iter().chain(any_case).map(|(_, t)| t).collect();

        let mut name_pats: Vec<(String, NameKind)> = Vec::new();
        if on(builtins.codename) {
            // "Project Bluefin" also as project_bluefin, project-bluefin, ProjectBluefin.
            for c in &policy.codenames {
                let words: Vec<&str> = c.split_whitespace().collect();
                let mut forms = vec![words.join(" ")];
                if words.len() > 1 {
                    forms.extend(["_", "-", ""].iter().map(|sep| words.join(sep)));
                }
                name_pats.extend(forms.into_iter().map(|f| (f, NameKind::Codename)));
            }
        }
        if on(builtins.internal_host) {
            name_pats.extend(
                policy
                    .internal_domains
                    .iter()
                    .map(|d| (d.clone(), NameKind::Domain)),
            );
        }
        let names = if name_pats.is_empty() {
            None
        } else {
            let ac = AhoCorasickBuilder::new()
                .ascii_case_insensitive(true)
                .match_kind(MatchKind::LeftmostLongest)
                .build(name_pats.iter().map(|(p, _)| p.as_bytes()))?;
            Some((ac, name_pats.into_iter().map(|(_, k)| k).collect()))
        };

        let any_disabled = infos.iter().any(|i| !i.enabled);
        Ok(Engine {
            policy,
            infos,
            rules,
            builtins,
            keywords,
            triggers,
            names,
            pii: detectors::PiiRegexes::new()?,
            compile_time: t0.elapsed(),
            any_disabled,
        })
    }

    /// The engine for the embedded default policy.
    pub fn with_default_policy() -> Engine {
        Engine::new(Policy::embedded_default()).expect("the embedded catalogue compiles")
    }

    pub fn policy(&self) -> &Arc<Policy> {
        &self.policy
    }

    /// The keyword automata: (largest group, shortest keyword length). Teddy wants small groups of
    /// keywords of at least 3 bytes; a test keeps the default policy inside that.
    pub fn keyword_stats(&self) -> (usize, usize) {
        self.keywords.stats()
    }

    /// How long `new` took.
    pub fn compile_time(&self) -> std::time::Duration {
        self.compile_time
    }

    /// Scans text. Findings are sorted by start offset.
    pub fn scan(&self, text: &str) -> Vec<Finding> {
        self.scan_bytes(text.as_bytes())
    }

    /// Scans bytes that may not be valid UTF-8 (offsets are byte offsets into `bytes`).
    pub fn scan_bytes(&self, bytes: &[u8]) -> Vec<Finding> {
        let mut st = detectors::State::new(self.rules.len(), bytes.len());
        // Hits of all groups, in text order (detectors rely on it). A large text's list is sized
        // for dense text up front: growing by doubling copies it each time. (A prompt-sized
        // text would only pay for an allocation it may never use.)
        let mut hits: Vec<(usize, usize, usize)> =
            Vec::with_capacity(detectors::presize(bytes.len(), 64));
        self.keywords.hits(bytes, &mut hits);
        // A text dense with hits asks for many lines: its newlines are found once, up front (one
        // pass, ~0.15M instructions a MiB; a text with few hits asks too few questions to repay
        // it).
        let index = (hits.len() >= lines::INDEX_HITS).then(|| lines::Newlines::new(bytes));
        let text_lines = lines::Lines {
            bytes,
            index: index.as_ref(),
        };
        // Each hit's line, found once (hits on one line share it) for every pass that reads it.
        let mut hit_lines: Vec<(usize, usize)> = Vec::with_capacity(hits.len());
        let mut last_line: Option<(usize, usize)> = None;
        // Specific detectors first; the generic assignment reader second, so that it can skip a
        // value a specific rule has already found (that rule would win the overlap anyway).
        let mut generic_hits = Vec::new();
        for &(start, end, k) in &hits {
            let line = match last_line {
                Some(l) if start <= l.1 => l,
                _ => *last_line.insert(detectors::line_bounds(text_lines, start)),
            };
            hit_lines.push(line);
            for &t in &self.triggers[k] {
                match t {
                    Trigger::Rule(r) => self.run_rule(r, bytes, start, line, &mut st),
                    Trigger::RuleAt(r, off) => {
                        self.run_rule_at(r, bytes, start, off, line.1, &mut st)
                    }
                    Trigger::RuleBack(r) => self.run_rule_back(r, bytes, start, line.1, &mut st),
                    Trigger::Generic => generic_hits.push((start, end, line)),
                    Trigger::InternalSuffix(back) => {
                        if let Some(at) = start.checked_sub(back) {
                            detectors::internal_suffix(self, bytes, at, &mut st)
                        }
                    }
                    Trigger::PrivateIp => detectors::private_ip(self, bytes, start, &mut st),
                    Trigger::PrivateKey(back) => {
                        if let Some(at) = start.checked_sub(back) {
                            detectors::private_key(self, bytes, at, &mut st)
                        }
                    }
                }
            }
        }
        st.note_secret_spans(&self.infos);
        for (start, end, line) in generic_hits {
            generic::assignment(self, bytes, start, end, line, &mut st);
        }
        st.note_secret_spans(&self.infos);
        // '@' is one byte: memchr finds it far faster than a one-byte automaton pattern would,
        // and keeping it out of the automaton keeps every keyword at least three bytes long.
        if self.infos[self.builtins.email].enabled {
            for at in memchr::memchr_iter(b'@', bytes) {
                // An `@` inside or right after a secret (the `user:pass@host` of a URL) makes no
                // email: its local part would overlap the secret, and overlap resolution would
                // drop it anyway.
                if !st.overlaps_secret(at.saturating_sub(1), at + 1) {
                    detectors::email(self, bytes, at, &mut st);
                }
            }
        }
        if let Some((ac, kinds)) = &self.names {
            for m in ac.find_iter(bytes) {
                match kinds[m.pattern().as_usize()] {
                    NameKind::Codename => {
                        detectors::codename(self, bytes, m.start(), m.end(), &mut st)
                    }
                    NameKind::Domain => {
                        detectors::policy_domain(self, bytes, m.start(), m.end(), &mut st)
                    }
                }
            }
        }
        detectors::digit_pii(self, bytes, &mut st);
        if self.infos[self.builtins.dotenv].enabled {
            detectors::dotenv(self, text_lines, &hits, &hit_lines, &mut st);
        }
        self.finish(text_lines, st.found)
    }

    /// Runs one catalogue rule from where its match must start, `off` bytes before a keyword hit
    /// at `at` (on a line that ends at `line_end`): one forward pass, no search for a start.
    fn run_rule_at(
        &self,
        r: usize,
        bytes: &[u8],
        at: usize,
        off: usize,
        line_end: usize,
        st: &mut detectors::State,
    ) {
        use regex_automata::Input;
        let Some(start) = at.checked_sub(off) else {
            return;
        };
        if start < st.scanned_until[r] {
            return;
        }
        let rule = &self.rules[r];
        let Some(a) = &rule.anchored else {
            return;
        };
        if bytes[start..at].contains(&b'\n') {
            return;
        }
        // The line from the start; the text before it stays visible to `\b`.
        let (_, we) = detectors::clip_line((at, line_end), at, 0, 8192);
        let we = rule_window_end(rule, bytes, we);
        let (ms, me) = if let Some(t) = &rule.token {
            // The secret group's span, as the walk notes it (the whole match without one).
            let Some((me, secret)) = t.match_marks(&bytes[..we], start) else {
                return;
            };
            secret.unwrap_or((start, me))
        } else {
            let input = Input::new(&bytes[..we])
                .range(start..we)
                .anchored(regex_automata::Anchored::Yes);
            if a.secret_groups.is_empty() || rule.tail.is_some() || rule.term.is_some() {
                let Some(m) = a.regex.search(&input) else {
                    return;
                };
                rule.plain_secret(bytes, m.start(), m.end())
            } else {
                let mut caps = a.regex.create_captures();
                a.regex.search_captures(&input, &mut caps);
                let Some(whole) = caps.get_match() else {
                    return;
                };
                a.secret_groups
                    .iter()
                    .find_map(|&g| caps.get_group(g))
                    .map_or((whole.start(), whole.end()), |s| (s.start, s.end))
            }
        };
        st.scanned_until[r] = me;
        self.push_if_passes(rule, bytes, (ms, me), st);
    }

    /// Runs one catalogue rule with a back form from a keyword hit at `at` (on a line that ends at
    /// `line_end`): the match's start from a look back, then one walk that notes the secret
    /// group's bounds.
    fn run_rule_back(
        &self,
        r: usize,
        bytes: &[u8],
        at: usize,
        line_end: usize,
        st: &mut detectors::State,
    ) {
        if at < st.scanned_until[r] {
            return;
        }
        let rule = &self.rules[r];
        let Some((form, back)) = &rule.back else {
            return;
        };
        // The line from the start, as a search of the line would see it.
        let (_, we) = detectors::clip_line((at, line_end), at, 0, 8192);
        let hay = &bytes[..rule_window_end(rule, bytes, we)];
        let Some(start) = back.start(hay, at, st.scanned_until[r]) else {
            return;
        };
        let Some((me, secret)) = form.match_marks(hay, start) else {
            return;
        };
        st.scanned_until[r] = me;
        self.push_if_passes(rule, bytes, secret.unwrap_or((start, me)), st);
    }

    /// Records `start..end` as the rule's finding if the value passes its checks.
    fn push_if_passes(
        &self,
        rule: &CompiledRule,
        bytes: &[u8],
        (start, end): (usize, usize),
        st: &mut detectors::State,
    ) {
        if self.value_passes(rule, &bytes[start..end]) {
            st.found.push(Raw {
                info: rule.info,
                start,
                end,
            });
        }
    }

    /// A rule's entropy floor and validator, on a matched value.
    fn value_passes(&self, rule: &CompiledRule, value: &[u8]) -> bool {
        if let Some(floor) = rule.entropy {
            if !floor.holds(value) {
                return false;
            }
        }
        match rule.validate {
            Some(Validator::Jwt) => validators::jwt_ok(value) && !validators::is_placeholder(value),
            Some(Validator::NotPlaceholderPassword) => !validators::is_placeholder_password(value),
            Some(Validator::BasicAuth) => validators::basic_auth_ok(value),
            Some(Validator::Base64PrivateKey) => validators::base64_private_key(value),
            // A token holds a digit somewhere (a name does not: `Bearer accessToken`); Basic
            // credentials may hold none, and decode to `user:password`.
            Some(Validator::Bearer) => {
                !validators::is_placeholder(value)
                    && (value.iter().any(u8::is_ascii_digit) || validators::basic_auth_ok(value))
            }
            None => !validators::is_placeholder(value),
        }
    }

    /// Runs one catalogue rule on the line around a keyword hit (the line `line`).
    fn run_rule(
        &self,
        r: usize,
        bytes: &[u8],
        at: usize,
        line: (usize, usize),
        st: &mut detectors::State,
    ) {
        if at < st.scanned_until[r] {
            return;
        }
        let rule = &self.rules[r];
        let (ws, we) = detectors::clip_line(line, at, 1024, 8192);
        let we = rule_window_end(rule, bytes, we);
        st.scanned_until[r] = we;
        // Without captures when the secret is the whole match or the split or tail form can place
        // it.
        let plain = rule.secret_groups.is_empty()
            || rule.split.is_some()
            || rule.tail.is_some()
            || rule.term.is_some();
        let window = &bytes[ws..we];
        // Capture slots are an allocation: made only when a match needs them.
        let mut locs = None;
        let new_locs = || rule.regex.capture_locations();
        let mut pos = 0;
        while pos <= window.len() {
            let found = if plain {
                rule.regex.find_at(window, pos)
            } else {
                let l = locs.get_or_insert_with(new_locs);
                rule.regex.captures_read_at(l, window, pos)
            };
            let Some(whole) = found else {
                break;
            };
            pos = if whole.end() > whole.start() {
                whole.end()
            } else {
                whole.end() + 1
            };
            let group = |locs: &regex::bytes::CaptureLocations| {
                rule.secret_groups
                    .iter()
                    .find_map(|&g| locs.get(g))
                    .unwrap_or((whole.start(), whole.end()))
            };
            let (ms, me) = match (&rule.split, plain) {
                (None, true) => rule.plain_secret(window, whole.start(), whole.end()),
                (None, false) => group(locs.get_or_insert_with(new_locs)),
                (Some(split), _) => match split.locate(window, whole.start(), whole.end()) {
                    Some(span) => span,
                    None => {
                        // The same match, with captures.
                        let l = locs.get_or_insert_with(new_locs);
                        if rule
                            .regex
                            .captures_read_at(l, window, whole.start())
                            .is_none()
                        {
                            continue;
                        }
                        group(l)
                    }
                },
            };
            self.push_if_passes(rule, bytes, (ws + ms, ws + me), st);
        }
    }

    /// Resolves overlaps, applies the allowlist, attaches box and line/column.
    fn finish(&self, text: lines::Lines, mut raw: Vec<Raw>) -> Vec<Finding> {
        let bytes = text.bytes;
        // (Each pass over the findings is skipped when it can drop none.)
        if self.any_disabled {
            raw.retain(|r| self.infos[r.info].enabled);
        }
        self.add_repeats(bytes, &mut raw);
        let mut raw = detectors::resolve_overlaps(&self.infos, raw, self.builtins.email);
        if !self.policy.allowlist.is_empty() {
            raw.retain(|r| !self.allowlisted(&bytes[r.start..r.end]));
        }
        // (In text order, as `resolve_overlaps` leaves them.)
        let mut out: Vec<Finding> = Vec::with_capacity(raw.len());
        let mut lines = lines::LineCursor::new(text);
        for r in raw {
            let (line, line_start) = lines.locate(r.start);
            let info = &self.infos[r.info];
            out.push(Finding {
                rule: info.id,
                category: info.category,
                verdict: info.verdict,
                start: r.start,
                end: r.end,
                line,
                column: r.start - line_start + 1,
            });
        }
        out
    }

    /// A secret found once is a secret everywhere in the prompt: `requirepass X` then `masterauth X`,
    /// a password in a URL and again in prose. Other copies of each secret value become findings of
    /// the same rule. One automaton over the values, so the cost stays linear; skipped when a text holds
    /// so many secrets that every one of them is already being reported anyway.
    fn add_repeats(&self, bytes: &[u8], raw: &mut Vec<Raw>) {
        const MAX_VALUES: usize = 256;
        let repeatable = |r: &&Raw| {
            matches!(
                self.infos[r.info].category,
                Category::Secret | Category::PrivateKey
            ) && r.end - r.start >= 8
        };
        // Counted before anything is built: a text past the limit costs one pass.
        let count = raw.iter().filter(repeatable).take(MAX_VALUES + 1).count();
        if count == 0 || count > MAX_VALUES {
            return;
        }
        let mut values: Vec<(&[u8], usize)> = raw
            .iter()
            .filter(repeatable)
            .map(|r| (&bytes[r.start..r.end], r.info))
            .collect();
        values.sort_unstable();
        values.dedup_by(|a, b| a.0 == b.0);
        let known: std::collections::HashSet<(usize, usize)> =
            raw.iter().map(|r| (r.start, r.end)).collect();
        let push = |info: usize, s: usize, e: usize, raw: &mut Vec<Raw>| {
            // Whole tokens only: `abc123` inside `xabc123y` is another string.
            let before = if s == 0 { b' ' } else { bytes[s - 1] };
            let after = bytes.get(e).copied().unwrap_or(b' ');
            if !before.is_ascii_alphanumeric()
                && !after.is_ascii_alphanumeric()
                && !known.contains(&(s, e))
            {
                raw.push(Raw {
                    info,
                    start: s,
                    end: e,
                });
            }
        };
        // A few values: memmem per value (cheap to set up); many: one automaton.
        if values.len() <= 16 {
            for &(v, info) in &values {
                for s in memchr::memmem::find_iter(bytes, v) {
                    push(info, s, s + v.len(), raw);
                }
            }
            return;
        }
        let Ok(ac) = AhoCorasickBuilder::new()
            .match_kind(MatchKind::LeftmostLongest)
            .build(values.iter().map(|v| v.0))
        else {
            return;
        };
        for m in ac.find_iter(bytes) {
            push(values[m.pattern().as_usize()].1, m.start(), m.end(), raw);
        }
    }

    fn allowlisted(&self, value: &[u8]) -> bool {
        if self.policy.allowlist.is_empty() {
            return false;
        }
        let s = String::from_utf8_lossy(value);
        self.policy.allowlist.iter().any(|a| match a {
            Allow::Literal(l) => l.as_bytes() == value,
            Allow::Regex(r) => r.is_match(&s),
            Allow::Fingerprint(h) => *h == crate::fingerprint::sha256_hex(value),
        })
    }

    /// The prompt's box: its worst finding's, or safe.
    pub fn verdict(findings: &[Finding]) -> Verdict {
        findings
            .iter()
            .map(|f| f.verdict)
            .max()
            .unwrap_or(Verdict::Safe)
    }
}

/// Where a rule's search window ends, given where the keyword's line ends: there, or for a rule
/// whose match may run onto the lines after, at the end of the last of them (each at most 8 KiB).
fn rule_window_end(rule: &CompiledRule, bytes: &[u8], line_end: usize) -> usize {
    let mut end = line_end;
    for _ in 0..rule.more_lines {
        if end >= bytes.len() {
            break;
        }
        end = detectors::line_window(bytes, end + 1, 0, 8192).1;
    }
    end
}

impl Split {
    /// The secret's span in a match `ms..me` of `hay`, or None when the split cannot vouch for it.
    fn locate(&self, hay: &[u8], ms: usize, me: usize) -> Option<(usize, usize)> {
        use regex_automata::{Anchored, Input};
        // Searches stay inside the match; look-arounds still see the bytes around it.
        let at = |from: usize| Input::new(hay).range(from..me).anchored(Anchored::Yes);
        let gs = self.prefix.search(&at(ms))?.end();
        let rest = self.rest.search(&at(gs))?;
        let ge = me.checked_sub(self.trail_len)?;
        (rest.end() == me && gs <= ge).then_some((gs, ge))
    }
}

// Compile-time proof that the engine can be shared across threads.
const _: fn() = || {
    fn assert_send_sync<T: Send + Sync>() {}
    assert_send_sync::<Engine>();
};

/// A deterministic xorshift generator for the engine's tests on generated inputs.
#[cfg(test)]
pub(crate) struct TestRng(u64);

#[cfg(test)]
impl TestRng {
    pub(crate) fn new(seed: u64) -> TestRng {
        TestRng(seed)
    }

    /// The next number, in `0..m`.
    pub(crate) fn below(&mut self, m: u64) -> usize {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        (self.0 % m) as usize
    }

    /// `len` bytes drawn from `alphabet`.
    pub(crate) fn bytes(&mut self, alphabet: &[u8], len: usize) -> Vec<u8> {
        (0..len)
            .map(|_| alphabet[self.below(alphabet.len() as u64)])
            .collect()
    }

    /// `word` put into `v` at a random place, each letter in a random case.
    pub(crate) fn splice_cased(&mut self, v: &mut Vec<u8>, word: &[u8]) {
        let at = self.below(v.len() as u64 + 1);
        let cased: Vec<u8> = word
            .iter()
            .map(|&b| {
                if self.below(2) == 0 {
                    b.to_ascii_uppercase()
                } else {
                    b
                }
            })
            .collect();
        v.splice(at..at, cased);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kw(k: &[&str]) -> Vec<String> {
        k.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn anchored_form_needs_every_prefix_to_hold_a_keyword_at_one_offset() {
        let offsets = |p: &str, k: &[&str]| {
            anchored_form("t", p, &kw(k))
                .unwrap()
                .map(|a| a.offsets.into_iter().collect::<Vec<_>>())
        };
        assert_eq!(
            offsets(r"\b(?:gh[po]_[A-Za-z0-9]{36})\b", &["ghp_", "gho_"]),
            Some(vec![("gho_".into(), 0), ("ghp_".into(), 0)])
        );
        // The keyword sits one byte into the match.
        assert_eq!(
            offsets(r"\b(?:[rs]k_live_[A-Za-z0-9]{20})\b", &["k_live_"]),
            Some(vec![("k_live_".into(), 1)])
        );
        // A prefix without a keyword (ABIA...): a hit cannot say where every match starts.
        assert_eq!(
            offsets(r"\b(?:(?:AKIA|ABIA)[A-Z2-7]{16})\b", &["AKIA"]),
            None
        );
        // The keyword at two offsets (http:// and https://).
        assert_eq!(offsets(r"https?://hooks\.x/[a-z]+", &["://"]), None);
        // No finite prefix set.
        assert_eq!(offsets(r"[a-z]+:(?P<s>[^@]+)@", &["@"]), None);
        // Case-insensitive prefixes are folded before extraction (2^13 spellings otherwise).
        assert_eq!(
            offsets(
                r"\b(?i:bearer)\s+x|\b(?i:authorization)[:=]\s*y",
                &["earer", "uthorization"]
            ),
            Some(vec![("earer".into(), 1), ("uthorization".into(), 1)])
        );
        // Folding leaves case-sensitive letters alone: `[Bb]` folds, `[A-Z]` does not.
        assert_eq!(
            offsets(r"[Bb]earer x|Token y", &["earer", "oken"]),
            Some(vec![("earer".into(), 1), ("oken".into(), 1)])
        );
        assert_eq!(offsets(r"[A-Z]earer x", &["earer"]), None);
    }

    #[test]
    fn secret_group_dropped_only_when_it_is_the_whole_match() {
        let w = |p: &str| without_secret_group(p);
        assert_eq!(
            w(r"\b(?P<s>ab[)(]c)\b").as_deref(),
            Some(r"\b(?:ab[)(]c)\b")
        );
        assert_eq!(
            w(r"\b(?P<s>x(?:-[a-z]{8,})*)").as_deref(),
            Some(r"\b(?:x(?:-[a-z]{8,})*)")
        );
        assert_eq!(
            w(r"(?P<s>\bM[^]a)]\))\b").as_deref(),
            Some(r"(?:\bM[^]a)]\))\b")
        );
        // Something that consumes text outside the group, or a second secret group.
        assert_eq!(w(r"\b(?P<s>AIza[0-9]{35})(?:[^0-9]|$)"), None);
        assert_eq!(w(r"bot(?P<s>[0-9]{8})"), None);
        assert_eq!(w(r"(?P<s>a)(?P<s2>b)"), None);
        assert_eq!(w(r"(?:x(?P<s>a)|(?P<s2>b))"), None);
        assert_eq!(w(r"(?P<s>a)(b)"), None);
    }

    /// Runs `rule` with captures over its catalogue examples (alone, inside a longer line, and
    /// twice on a line) and asserts that `locate` gives each match's secret span as the capture
    /// engine does. Returns the rule's id.
    fn check_against_captures(
        e: &Engine,
        rule: &CompiledRule,
        locate: impl Fn(&[u8], usize, usize) -> Option<(usize, usize)>,
    ) -> String {
        let id = e.infos[rule.info].id.to_string();
        let spec = catalogue().iter().find(|s| *s.id == *id).unwrap();
        let mut texts: Vec<String> = spec.examples.clone();
        texts.extend(
            spec.examples
                .iter()
                .map(|x| format!("see: {x} (from the logs)")),
        );
        texts.extend(spec.examples.iter().map(|x| format!("{x} and {x}")));
        let mut matched = 0;
        for t in &texts {
            let hay = t.as_bytes();
            for caps in rule.regex.captures_iter(hay) {
                let whole = caps.get(0).unwrap();
                let want = rule
                    .secret_groups
                    .iter()
                    .find_map(|&g| caps.get(g))
                    .map(|m| (m.start(), m.end()));
                assert_eq!(
                    locate(hay, whole.start(), whole.end()),
                    want,
                    "{id} on {t:?}"
                );
                matched += 1;
            }
        }
        assert!(matched > 0, "{id}: no example matched");
        id
    }

    #[test]
    fn split_rules_locate_what_the_capture_engine_finds() {
        let e = Engine::with_default_policy();
        let with_split: Vec<String> = e
            .rules
            .iter()
            .filter_map(|rule| {
                let split = rule.split.as_ref()?;
                Some(check_against_captures(&e, rule, |hay, ms, me| {
                    split.locate(hay, ms, me)
                }))
            })
            .collect();
        for id in [
            "url_password",
            "jdbc_password",
            "dsn_password",
            "curl_user_password",
        ] {
            assert!(with_split.iter().any(|x| x == id), "{id}: {with_split:?}");
        }
    }

    #[test]
    fn terminated_rules_locate_what_the_capture_engine_finds() {
        let e = Engine::with_default_policy();
        let with_term: Vec<String> = e
            .rules
            .iter()
            .filter_map(|rule| {
                let term = rule.term.as_ref()?;
                Some(check_against_captures(&e, rule, |hay, ms, me| {
                    Some((ms, term_end(hay, ms, me, term)))
                }))
            })
            .collect();
        assert!(
            with_term.iter().any(|x| x == "openai_api_key"),
            "{with_term:?}"
        );
        // At the end of the text (the `$` branch), the secret is the whole match.
        let rule = e
            .rules
            .iter()
            .find(|r| e.infos[r.info].id == "openai_api_key")
            .unwrap();
        let key = "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";
        for text in [key.to_string(), format!("{key}\n"), format!("{key}.")] {
            let m = rule.regex.find(text.as_bytes()).unwrap();
            let end = term_end(
                text.as_bytes(),
                m.start(),
                m.end(),
                rule.term.as_ref().unwrap(),
            );
            assert_eq!(&text[m.start()..end], key, "{text:?}");
        }
    }

    #[test]
    fn term_form_needs_the_secret_then_one_terminator_or_the_end() {
        let has = |p: &str| term_form("t", p).unwrap().is_some();
        assert!(has(r"\b(?P<s>sk-[a-z0-9]{20})(?:[^a-z0-9]|$)"));
        assert!(has(r"(?P<s>k[A-Z]+)(?:$|[ ;])"));
        // The secret may end with a terminator byte: the last byte would be ambiguous.
        assert!(!has(r"\b(?P<s>sk-[a-z0-9 ]{20})(?:[ ;]|$)"));
        // Two bytes after the group, bytes before it, or no end branch.
        assert!(!has(r"(?P<s>k[A-Z]+)(?:[ ;]{2}|$)"));
        assert!(!has(r"x(?P<s>k[A-Z]+)(?:[ ;]|$)"));
        assert!(!has(r"(?P<s>k[A-Z]+)[ ;]"));
        // A secret that may be empty.
        assert!(!has(r"(?P<s>[A-Z]*)(?:[ ;]|$)"));
        // Two secret groups, or an item after the terminator.
        assert!(!has(r"(?P<s>k[A-Z]+(?P<s2>x)?)(?:[ ;]|$)"));
        assert!(!has(r"(?P<s>k[A-Z]+)(?:[ ;]|$)x?"));
    }

    #[test]
    fn tail_rules_locate_what_the_capture_engine_finds() {
        let e = Engine::with_default_policy();
        let with_tail: Vec<String> = e
            .rules
            .iter()
            .filter_map(|rule| {
                let secret = rule.tail.as_ref()?;
                Some(check_against_captures(&e, rule, |hay, ms, me| {
                    Some((tail_start(hay, ms, me, secret), me))
                }))
            })
            .collect();
        assert!(
            with_tail.iter().any(|x| x == "http_auth_header"),
            "{with_tail:?}"
        );
    }

    #[test]
    fn token_walks_end_where_the_anchored_regex_ends_on_every_rule_text() {
        use regex_automata::{Anchored as Anch, Input};
        let e = Engine::with_default_policy();
        let mut with_token = Vec::new();
        let (mut matched, mut secrets) = (0, 0);
        for rule in &e.rules {
            let (Some(t), Some(a)) = (&rule.token, &rule.anchored) else {
                continue;
            };
            let id = e.infos[rule.info].id;
            with_token.push(id);
            let spec = catalogue().iter().find(|s| *s.id == *id).unwrap();
            // Examples and negatives, cut short and run on into more word bytes, from every start.
            let mut texts: Vec<String> = spec
                .examples
                .iter()
                .chain(&spec.negatives)
                .cloned()
                .collect();
            for x in texts.clone() {
                texts.push(format!("{x}Z9_q"));
                texts.push(format!("x{x}-y"));
                // (Cut on a character boundary only; the texts are strings.)
                if let Some(cut) = x.get(..x.len().saturating_sub(3)) {
                    texts.push(cut.to_string());
                }
            }
            let mut caps = a.regex.create_captures();
            for text in &texts {
                let hay = text.as_bytes();
                for start in 0..=hay.len() {
                    let input = Input::new(hay).range(start..).anchored(Anch::Yes);
                    let end = a.regex.search(&input).map(|m| m.end());
                    matched += usize::from(end.is_some());
                    // The end, and the secret group's bounds as the capture engine finds them.
                    a.regex.search_captures(&input, &mut caps);
                    assert_eq!(caps.get_match().map(|m| m.end()), end);
                    let want = caps.get_match().map(|m| {
                        let secret = a.secret_groups.iter().find_map(|&g| caps.get_group(g));
                        (m.end(), secret.map(|s| (s.start, s.end)))
                    });
                    assert_eq!(
                        t.match_marks(hay, start),
                        want,
                        "{id} on {text:?} from {start}"
                    );
                    secrets += usize::from(matches!(want, Some((_, Some(_)))));
                }
            }
        }
        for id in [
            "aws_access_key_id",
            "github_token",
            "gitlab_token",
            "slack_token",
            "stripe_secret_key",
        ] {
            assert!(with_token.contains(&id), "{with_token:?}");
        }
        assert!(matched > 20, "{matched}");
        assert!(secrets > 10, "{secrets}");
    }

    #[test]
    fn back_walks_find_what_a_search_of_the_text_finds() {
        let e = Engine::with_default_policy();
        let mut with_back = Vec::new();
        let (mut matched, mut secrets) = (0, 0);
        let mut rng = TestRng::new(0x0bac_c5ea_2c40_0001);
        for rule in &e.rules {
            let Some((form, back)) = &rule.back else {
                continue;
            };
            let id = e.infos[rule.info].id;
            with_back.push(id);
            let spec = catalogue().iter().find(|s| *s.id == *id).unwrap();
            let keyword = spec.keywords[0].as_bytes();
            // The rule's own texts, and texts cut and joined from their pieces and from bytes
            // that end or continue each part (a scheme too long, `_` before it, `@` and `:` in
            // the password, a missing host).
            let mut texts: Vec<Vec<u8>> = spec
                .examples
                .iter()
                .chain(&spec.negatives)
                .map(|t| t.as_bytes().to_vec())
                .collect();
            let pieces: Vec<&[u8]> = vec![
                keyword,
                keyword,
                b"postgres",
                b"mongodb+srv",
                b"abcdefghijklmnopqrstuvwxyz0123456789",
                b"x",
                b"a.b-c",
                b"_",
                b":",
                b"@",
                b"@@",
                b"/",
                b" ",
                b"\n",
                b"\"",
                b"p4ss:w@rd",
                b"db1.prod",
                b"9",
                b"<",
            ];
            let piece = |rng: &mut TestRng, t: &mut Vec<u8>, n: u64| {
                for _ in 0..rng.below(n) {
                    t.extend_from_slice(pieces[rng.below(pieces.len() as u64)]);
                }
            };
            for round in 0..3000 {
                let mut t = Vec::new();
                piece(&mut rng, &mut t, 4);
                if round % 2 == 0 {
                    // Shaped like the rule's matches: scheme, user, password, host.
                    let scheme_len = 1 + rng.below(34);
                    t.extend(rng.bytes(b"abcXYZ019+.-_", scheme_len));
                    t.extend_from_slice(keyword);
                    let user_len = rng.below(6);
                    t.extend(rng.bytes(b"appuser:@", user_len));
                    t.push(b':');
                    let pass_len = rng.below(14);
                    t.extend(rng.bytes(b"s3cr:t@Pw/-", pass_len));
                    piece(&mut rng, &mut t, 3);
                }
                piece(&mut rng, &mut t, 8);
                texts.push(t);
            }
            for hay in &texts {
                let want: Vec<(usize, (usize, usize))> = rule
                    .regex
                    .captures_iter(hay)
                    .map(|c| {
                        let whole = c.get(0).unwrap();
                        let secret = rule
                            .secret_groups
                            .iter()
                            .find_map(|&g| c.get(g))
                            .unwrap_or(whole);
                        (whole.end(), (secret.start(), secret.end()))
                    })
                    .collect();
                let mut got = Vec::new();
                let mut until = 0;
                for at in memchr::memmem::find_iter(hay, keyword) {
                    if at < until {
                        continue;
                    }
                    let Some(start) = back.start(hay, at, until) else {
                        continue;
                    };
                    if let Some((end, secret)) = form.match_marks(hay, start) {
                        until = end;
                        got.push((end, secret.unwrap_or((start, end))));
                    }
                }
                assert_eq!(got, want, "{id} on {:?}", String::from_utf8_lossy(hay));
                matched += want.len();
                secrets += want.iter().filter(|(e, (_, se))| se != e).count();
            }
        }
        assert!(with_back.contains(&"url_password"), "{with_back:?}");
        assert!(matched > 200 && secrets > 200, "{matched} {secrets}");
    }

    #[test]
    fn tail_form_needs_every_branch_to_end_with_its_secret_after_a_byte_it_cannot_hold() {
        let has = |p: &str| tail_form("t", p).unwrap().is_some();
        assert!(has(r"(?i:bearer)\s+(?P<s>[A-Za-z0-9._-]{16,})"));
        assert!(has(r"(?:a\s+(?P<s>[a-z]+)|b:(?P<s2>[0-9]+)\b)"));
        assert!(!has(r"(?:a\s+(?P<s>[a-z]+)|b:(?P<s2>[0-9]+)=*)"));
        // The byte before may come from several items, the empty ones passed over.
        assert!(has(r#"key[=:]["']?(?P<s>[a-z0-9]{8})\b"#));
        // The byte before could be the secret's own: `=` in both.
        assert!(!has(r"key=?(?P<s>[a-z0-9=]{8})"));
        // Something after the group.
        assert!(!has(r"key (?P<s>[a-z]+);"));
        assert!(!has(r#"key (?P<s>[a-z]+)["']?"#));
        // A branch without a secret, or a secret with nothing before it.
        assert!(!has(r"(?:a (?P<s>[a-z]+)|b)"));
        assert!(!has(r"(?P<s>[a-z]+)"));
        assert!(!has(r"[a-z]*(?P<s>[0-9]+)"));
        let secret = tail_form("t", r"(?:a\s+(?P<s>[a-z]+)|b:(?P<s2>[0-9]+))")
            .unwrap()
            .unwrap();
        assert_eq!(tail_start(b"xx a  bcd", 3, 9, &secret), 6);
        assert_eq!(tail_start(b"b:123", 0, 5, &secret), 2);
    }

    #[test]
    fn split_form_needs_one_top_level_group_and_a_fixed_trail() {
        let has = |p: &str| split_form("t", p).unwrap().is_some();
        assert!(has(r"[a-z]+://[^:@]*:(?P<s>[^@\s]+)@[a-z]"));
        assert!(has(r"pwd=(?P<s>[^;]+)"));
        assert!(has(r"(?:^|\s)-u [^:]+:(?P<s>\S+)\b"));
        // A trail of varying length, an alternation at the top, two secret groups.
        assert!(!has(r"k=(?P<s>[a-z]+)(?:[^a-z]|$)"));
        assert!(!has(r"a|k=(?P<s>[a-z]+)"));
        assert!(!has(r"k=(?P<s>[a-z]+)|j=(?P<s2>[a-z]+)"));
        // The group inside another group is not at the top level.
        assert!(!has(r"(?:k=(?P<s>[a-z]+))"));
        assert!(!has(r"(?:k=(?P<s>[a-z]+)[)])"));
        assert!(group_close(b"[)])", 0).is_none());
    }

    #[test]
    fn anchored_rules_find_what_a_line_search_finds() {
        let e = Engine::with_default_policy();
        let tok = "ghp_aB3dE5fG7hJ9kL1mN3pQ5rS7tU9vW1xY3zA5";
        let stripe = "sk_live_4f9Qx2LmZ8rT1vB6nK3pW7yD";
        let ids = |t: &str| -> Vec<(String, usize, usize)> {
            e.scan(t)
                .into_iter()
                .map(|f| (f.rule.to_string(), f.start, f.end))
                .collect()
        };
        // At the start of the text, after other text, twice on a line, and next to another rule.
        assert_eq!(ids(tok), [("github_token".into(), 0, 40)]);
        let two = format!("a {tok} b {tok}\n");
        let found = ids(&two);
        assert_eq!(found.len(), 2, "{found:?}");
        assert!(found.iter().all(|f| f.0 == "github_token"));
        let line = format!("x=1 stripe {stripe}, gh {tok}");
        let found = ids(&line);
        assert_eq!(
            found.iter().map(|f| f.0.as_str()).collect::<Vec<_>>(),
            ["stripe_secret_key", "github_token"]
        );
        assert_eq!(&line[found[0].1..found[0].2], stripe);
        // `\b` still looks at the byte before the anchor: no match inside a longer word.
        assert!(ids(&format!("x{tok}")).is_empty());
        assert!(ids(&format!("x{stripe}")).is_empty());
        // A keyword hit whose match would start on the previous line.
        assert!(ids("s\nk_live_4f9Qx2LmZ8rT1vB6nK3pW7yD").is_empty());
        // A case-insensitive rule, anchored at either keyword, in any spelling that has one.
        let bearer = "8f2b1c9d7e6a5f4b3c2d1e0f9a8b7c6d";
        for header in [
            "Authorization: Bearer",
            "authorization: bearer",
            "AUTHORIZATION: Bearer",
            "authorization: BEARER",
            "Authorization: BEARER",
            "x-fwd: Bearer",
        ] {
            let text = format!("curl -H '{header} {bearer}' https://api.x\n");
            let found = ids(&text);
            assert_eq!(found.len(), 1, "{header}: {found:?}");
            assert_eq!(found[0].0, "http_auth_header", "{header}");
            assert_eq!(&text[found[0].1..found[0].2], bearer, "{header}");
        }
    }
}
