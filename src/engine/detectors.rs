//! The built-in detectors (private keys, `.env` blocks, personal data, internal names), the generic
//! assignment check, and overlap resolution.

use super::lines::Lines;
use super::validators::{self, card_issuer_ok, iban_length, iban_mod97, luhn, ssn_ok};
use super::{byte_regex, Engine, EngineError, Raw, RuleInfo};
use crate::types::Category;
use regex::bytes::Regex;

/// Host suffixes that are internal by convention (RFC 6762, RFC 8375, common practice).
pub const INTERNAL_SUFFIXES: &[&str] = &[
    ".internal",
    ".corp",
    ".local",
    ".lan",
    ".intranet",
    ".home.arpa",
];

/// The capacity to give a list that gets about one entry per `bytes_per_entry` bytes of dense
/// text: none below 64 KiB, where growing it costs little.
pub fn presize(len: usize, bytes_per_entry: usize) -> usize {
    if len < 64 * 1024 {
        0
    } else {
        len / bytes_per_entry
    }
}

/// Mutable state of one scan.
pub struct State {
    pub found: Vec<Raw>,
    pub scanned_until: Vec<usize>,
    pub key_until: usize,
    pub generic_until: usize,
    /// Spans of the secret and private-key findings made so far, sorted by start (see
    /// [`State::note_secret_spans`]).
    secret_spans: Vec<(usize, usize)>,
    /// How many of `found` `secret_spans` has seen.
    noted: usize,
    /// Where `overlaps_secret` last stopped in `secret_spans`.
    secret_cursor: Rising,
    /// The assignment reader's key strengths so far.
    pub key_memo: super::generic::KeyMemo,
}

impl State {
    /// The state for a scan of `len` bytes with `rules` catalogue rules.
    pub fn new(rules: usize, len: usize) -> State {
        State {
            found: Vec::with_capacity(presize(len, 128)),
            scanned_until: vec![0; rules],
            key_until: 0,
            generic_until: 0,
            secret_spans: Vec::new(),
            noted: 0,
            secret_cursor: Rising::default(),
            key_memo: super::generic::KeyMemo::new(),
        }
    }

    /// Records the spans of the secret and private-key findings made so far, for
    /// [`State::overlaps_secret`] and the digit scan's claims.
    /// Findings are only ever added during a scan, so each call looks at the new ones only.
    pub fn note_secret_spans(&mut self, infos: &[RuleInfo]) {
        let new = &self.found[self.noted.min(self.found.len())..];
        let old = self.secret_spans.len();
        self.secret_spans.extend(
            new.iter()
                .filter(|r| class(infos[r.info].category) == 0)
                .map(|r| (r.start, r.end)),
        );
        self.noted = self.found.len();
        // Each pass adds a sorted run, mostly (keyword hits are walked in text order).
        merge_tail(&mut self.secret_spans, old);
    }

    /// Whether `start..end` overlaps a span recorded by [`State::note_secret_spans`]. Looks at the
    /// few spans that start before `end`: a miss only costs the caller some work.
    pub fn overlaps_secret(&mut self, start: usize, end: usize) -> bool {
        // k: how many spans start before `end` (callers ask in text order).
        let k = self
            .secret_cursor
            .point(&self.secret_spans, |&(s, _)| s < end);
        self.secret_spans[..k]
            .iter()
            .rev()
            .take(4)
            .any(|&(_, e)| e > start)
    }
}

/// Sorts `v`, whose first `mid` items are sorted already: when the rest are sorted too (a pass's
/// findings, in text order), one merge from the back, with only the rest copied aside; else a
/// sort. (Equal spans are the same value, so the order ties take cannot show.)
fn merge_tail(v: &mut [(usize, usize)], mid: usize) {
    debug_assert!(v[..mid].is_sorted());
    if !v[mid..].is_sorted() {
        v.sort();
        return;
    }
    if mid == 0 || mid == v.len() || v[mid - 1] <= v[mid] {
        return;
    }
    let tail = v[mid..].to_vec();
    let (mut i, mut j) = (mid, tail.len());
    while j > 0 {
        // The largest of the two runs' last items goes last.
        let k = i + j - 1;
        if i > 0 && v[i - 1] > tail[j - 1] {
            v[k] = v[i - 1];
            i -= 1;
        } else {
            v[k] = tail[j - 1];
            j -= 1;
        }
    }
}

/// `partition_point` for questions asked mostly in rising order: each answer is found by walking
/// on from the last one, and a question further back (a new pass, items added since) starts over
/// with a binary search. A binary search per question waits on a chain of dependent loads, which
/// cost more than the walk at every keyword hit, run of digits or finding.
#[derive(Default)]
struct Rising(usize);

impl Rising {
    /// How many items of `v` (partitioned by `below`: all that hold it come first) hold `below`.
    fn point<T>(&mut self, v: &[T], below: impl Fn(&T) -> bool) -> usize {
        let mut k = self.0.min(v.len());
        if k > 0 && !below(&v[k - 1]) {
            k = v.partition_point(below);
        } else {
            while k < v.len() && below(&v[k]) {
                k += 1;
            }
        }
        self.0 = k;
        k
    }
}

/// Spans whose digits belong to a finding already made: secrets and private keys (a Slack token's
/// digit runs, a hex key's) and private IP addresses. The digit scan for personal data skips them.
struct Claims {
    /// Sorted by start.
    spans: Vec<(usize, usize)>,
    cursor: Rising,
}

impl Claims {
    /// Claims on `spans`, in any order (the tests' way to make them).
    #[cfg(test)]
    fn new(mut spans: Vec<(usize, usize)>) -> Claims {
        if !spans.is_sorted() {
            spans.sort();
        }
        Claims {
            spans,
            cursor: Rising::default(),
        }
    }

    /// The secret spans found so far, and the private addresses.
    fn of(e: &Engine, st: &State) -> Claims {
        let mut spans = st.secret_spans.clone();
        let ip = e.builtins.private_ip;
        spans.extend(
            st.found
                .iter()
                .filter(|r| r.info == ip)
                .map(|r| (r.start, r.end)),
        );
        // The secret spans are sorted, and the addresses were found in text order.
        merge_tail(&mut spans, st.secret_spans.len());
        Claims {
            spans,
            cursor: Rising::default(),
        }
    }

    /// Whether `start..end` lies inside one span (looking at the few that start last before it).
    fn contain(&mut self, start: usize, end: usize) -> bool {
        // k: how many spans start at or before `start` (the digit scan asks in text order).
        let k = self.cursor.point(&self.spans, |&(s, _)| s <= start);
        self.spans[..k].iter().rev().take(4).any(|&(_, e)| e >= end)
    }
}

/// [`line_window`] from the bounds of the line around `at` (as [`line_bounds`] gives them): the
/// same window, with no search.
pub fn clip_line(line: (usize, usize), at: usize, before: usize, after: usize) -> (usize, usize) {
    (
        line.0.max(at.saturating_sub(before)),
        line.1.min(at.saturating_add(after)),
    )
}

/// The line around `at`, clipped to `before`/`after` bytes.
pub fn line_window(bytes: &[u8], at: usize, before: usize, after: usize) -> (usize, usize) {
    let lo = at.saturating_sub(before);
    let hi = (at + after).min(bytes.len());
    let s = super::lines::rfind_newline(bytes, lo, at).map_or(lo, |i| i + 1);
    let e = super::lines::find_newline(bytes, at, hi).unwrap_or(hi);
    (s, e)
}

fn is_word(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_'
}

fn byte_at(bytes: &[u8], i: usize) -> u8 {
    bytes.get(i).copied().unwrap_or(b' ')
}

fn prev(bytes: &[u8], i: usize) -> u8 {
    if i == 0 {
        b' '
    } else {
        bytes[i - 1]
    }
}

// ---------------------------------------------------------------------------------------------
// Emails

const RESERVED_DOMAINS: &[&str] = &["example.com", "example.org", "example.net"];
const RESERVED_TLDS: &[&str] = &["test", "example", "invalid", "localhost", "local"];
const FILE_TLDS: &[&str] = &[
    "png", "jpg", "jpeg", "gif", "svg", "webp", "avif", "js", "mjs", "ts", "css", "json", "map",
    "ico", "py", "rs", "go", "txt", "md",
    // systemd instance units: `wg-quick@wg0.service`, `postgresql@15-main.service`
    "service", "socket", "timer", "mount", "target",
];

fn is_local_char(b: u8) -> bool {
    const LOCAL: [bool; 256] = byte_table!(b => b.is_ascii_alphanumeric()
        || b >= 0x80
        || matches!(b, b'.' | b'_' | b'%' | b'+' | b'-'));
    LOCAL[usize::from(b)]
}

/// Login names that, before an `@`, make `name@host` an SSH/SCP target rather than a mailbox.
const SYSTEM_ACCOUNTS: &[&str] = &[
    "git",
    "root",
    "ubuntu",
    "ec2-user",
    "admin",
    "deploy",
    "centos",
    "debian",
    "pi",
    "core",
    "postgres",
    "www-data",
    "jenkins",
    "ansible",
    "vagrant",
    "opc",
    "azureuser",
    "fedora",
    "alpine",
];

fn is_host_char(b: u8) -> bool {
    const HOST: [bool; 256] = byte_table!(b => b.is_ascii_alphanumeric() || b == b'-' || b == b'.');
    HOST[usize::from(b)]
}

/// Whether a line holds an ssh-family command or URL (`ssh `, `scp `, `sftp `, `rsync `, `ssh://`,
/// `git+ssh`) before a `user@host`: one pass over the line's `s` and `r` bytes.
fn after_ssh_command(line: &[u8]) -> bool {
    memchr::memchr2_iter(b's', b'r', line).any(|i| {
        let rest = &line[i..];
        [&b"ssh "[..], b"scp ", b"sftp ", b"rsync ", b"ssh://"]
            .iter()
            .any(|k| rest.starts_with(k))
            || (rest.starts_with(b"ssh") && line[..i].ends_with(b"git+"))
    })
}

pub fn email(e: &Engine, bytes: &[u8], at: usize, st: &mut State) {
    let mut s = at;
    while s > 0 && at - s < 64 && is_local_char(bytes[s - 1]) {
        s -= 1;
    }
    while s < at && matches!(bytes[s], b'.' | b'-' | b'+') {
        s += 1;
    }
    if s == at || bytes[at - 1] == b'.' {
        return;
    }
    // The line up to the local part, found only when a check needs it: most `@`s fail the host
    // checks first.
    let line_before = || &bytes[memchr::memrchr(b'\n', &bytes[..s]).map_or(0, |i| i + 1)..s];
    // `scheme://user:pass@host`, `scheme://user@host`: the part before '@' is a URL's
    // credentials, not a mailbox (but `mailto:x@y` is a mailbox). Checked first: a URL's host
    // needs no further look.
    if s >= 3 && &bytes[s - 3..s] == b"://" {
        return;
    }
    if prev(bytes, s) == b':' {
        let line_before = line_before();
        let token_start = line_before
            .iter()
            .rposition(|b| {
                b.is_ascii_whitespace() || matches!(b, b'"' | b'\'' | b'`' | b'<' | b'(')
            })
            .map_or(0, |i| i + 1);
        if validators::memfind(&line_before[token_start..], b"://") {
            return;
        }
    }
    let mut end = at + 1;
    while end < bytes.len() && end - at < 254 && is_host_char(bytes[end]) {
        end += 1;
    }
    while end > at + 1 && matches!(bytes[end - 1], b'.' | b'-') {
        end -= 1;
    }
    let domain = &bytes[at + 1..end];
    let Some(dot) = memchr::memrchr(b'.', domain) else {
        return;
    };
    let tld = &domain[dot + 1..];
    // A top-level domain is one case (`.com`, `.COM`); `this@MainActivity.startActivity` is code.
    let one_case = tld.iter().all(u8::is_ascii_lowercase) || tld.iter().all(u8::is_ascii_uppercase);
    if tld.len() < 2 || !one_case || dot == 0 {
        return;
    }
    let ends_with = |suffix: &str| {
        domain.len() >= suffix.len()
            && domain[domain.len() - suffix.len()..].eq_ignore_ascii_case(suffix.as_bytes())
            && (domain.len() == suffix.len() || domain[domain.len() - suffix.len() - 1] == b'.')
    };
    let reserved = RESERVED_DOMAINS.iter().any(|r| ends_with(r))
        || RESERVED_TLDS
            .iter()
            .any(|t| tld.eq_ignore_ascii_case(t.as_bytes()))
        || FILE_TLDS
            .iter()
            .any(|t| tld.eq_ignore_ascii_case(t.as_bytes()));
    if reserved {
        return;
    }
    let local = &bytes[s..at];
    if SYSTEM_ACCOUNTS
        .iter()
        .any(|a| local.eq_ignore_ascii_case(a.as_bytes()))
        || after_ssh_command(line_before())
    {
        return;
    }
    st.found.push(Raw {
        info: e.builtins.email,
        start: s,
        end,
    });
}

// ---------------------------------------------------------------------------------------------
// Internal names

/// A host ending at `end` (exclusive) that is a whole name: not followed by more labels, a call or a
/// file extension.
fn host_ends_cleanly(bytes: &[u8], end: usize) -> bool {
    let next = byte_at(bytes, end);
    if is_word(next) || next == b'-' || next == b'(' {
        return false;
    }
    if next == b'.' && byte_at(bytes, end + 1).is_ascii_alphanumeric() {
        return false;
    }
    true
}

/// Expands left from `from` over host characters; returns the host's start.
fn host_start(bytes: &[u8], from: usize) -> usize {
    let mut s = from;
    while s > 0 && from - s < 253 && is_host_char(bytes[s - 1]) {
        s -= 1;
    }
    while s < from && matches!(bytes[s], b'.' | b'-') {
        s += 1;
    }
    s
}

const CODE_RECEIVERS: &[&[u8]] = &[b"self", b"this", b"threading", b"os", b"ctx", b"cls"];

/// Names that end in an internal suffix but are well-known public conventions, not your network.
const WELL_KNOWN_HOSTS: &[&str] = &[
    "host.docker.internal",
    "gateway.docker.internal",
    "kubernetes.docker.internal",
    "host.containers.internal",
    "metadata.google.internal",
    // Every Kubernetes cluster's default DNS domain (its services' names under it are internal).
    "cluster.local",
];

/// Lines that are source-code module paths (`package com.acme.internal;`, `from app.internal import x`).
fn is_module_line(bytes: &[u8], at: usize) -> bool {
    let ls = memchr::memrchr(b'\n', &bytes[..at]).map_or(0, |i| i + 1);
    let line = bytes[ls..at].trim_ascii_start();
    [
        "package ",
        "import ",
        "from ",
        "using ",
        "namespace ",
        "module ",
        "mod ",
        "use ",
        "require ",
    ]
    .iter()
    .any(|k| line.starts_with(k.as_bytes()))
}

pub fn internal_suffix(e: &Engine, bytes: &[u8], at: usize, st: &mut State) {
    let Some(suffix) = INTERNAL_SUFFIXES
        .iter()
        .find(|s| bytes[at..].starts_with(s.as_bytes()))
    else {
        return;
    };
    let end = at + suffix.len();
    if at == 0 || !bytes[at - 1].is_ascii_alphanumeric() || !host_ends_cleanly(bytes, end) {
        return;
    }
    let s = host_start(bytes, at);
    if s >= at || CODE_RECEIVERS.contains(&&bytes[s..at]) {
        return;
    }
    // Part of a file name or a path (.env.local, ~/.local, ./build.local): not a host.
    let p = prev(bytes, s);
    let url_authority = p == b'/' && prev(bytes, s - 1) == b'/';
    if matches!(p, b'.' | b'\\' | b'_' | b'$') || (p == b'/' && !url_authority) {
        return;
    }
    let host = &bytes[s..end];
    if WELL_KNOWN_HOSTS
        .iter()
        .any(|h| host.eq_ignore_ascii_case(h.as_bytes()))
        || is_module_line(bytes, at)
        || reverse_dns(host)
    {
        return;
    }
    st.found.push(Raw {
        info: e.builtins.internal_host,
        start: s,
        end,
    });
}

/// A Java or Kotlin package name (`com.acme.internal`, `logging.level.io.grpc.internal`): reverse
/// DNS, so a label before the last two is a top-level domain. Or a file (`Makefile.local`).
fn reverse_dns(host: &[u8]) -> bool {
    const TLDS: &[&[u8]] = &[
        b"com", b"org", b"net", b"io", b"dev", b"edu", b"gov", b"de", b"uk", b"fr", b"nl",
    ];
    let labels: Vec<&[u8]> = host.split(|&b| b == b'.').collect();
    let n = labels.len();
    let file = n == 2 && labels[0].len() > 4 && labels[0].to_ascii_lowercase().ends_with(b"file");
    file || (n >= 3 && labels[..n - 2].iter().any(|l| TLDS.contains(l)))
}

pub fn policy_domain(e: &Engine, bytes: &[u8], at: usize, end: usize, st: &mut State) {
    if !host_ends_cleanly(bytes, end) {
        return;
    }
    let p = prev(bytes, at);
    let s = if p == b'.' {
        host_start(bytes, at)
    } else if is_host_char(p) {
        return; // part of a longer label, e.g. notcorp.example.net
    } else {
        at
    };
    st.found.push(Raw {
        info: e.builtins.internal_host,
        start: s,
        end,
    });
}

pub fn codename(e: &Engine, bytes: &[u8], at: usize, end: usize, st: &mut State) {
    // Whole word, where `_` separates words (BLUEFIN_ENABLED, enable_bluefin); a letter or a
    // digit next to it makes another word (Bluefinch, HalcyonDB).
    let (p, n) = (prev(bytes, at), byte_at(bytes, end));
    if p.is_ascii_alphanumeric() || n.is_ascii_alphanumeric() {
        return;
    }
    st.found.push(Raw {
        info: e.builtins.codename,
        start: at,
        end,
    });
}

/// Parses a dotted quad at `at`; returns its end and octets.
fn dotted_quad(bytes: &[u8], at: usize) -> Option<(usize, [u32; 4])> {
    let mut i = at;
    let mut oct = [0u32; 4];
    for (k, o) in oct.iter_mut().enumerate() {
        let st = i;
        while i < bytes.len() && bytes[i].is_ascii_digit() && i - st < 3 {
            *o = *o * 10 + (bytes[i] - b'0') as u32;
            i += 1;
        }
        if i == st || *o > 255 || (i - st > 1 && bytes[st] == b'0') {
            return None;
        }
        if k < 3 {
            if byte_at(bytes, i) != b'.' {
                return None;
            }
            i += 1;
        }
    }
    Some((i, oct))
}

pub fn private_ip(e: &Engine, bytes: &[u8], at: usize, st: &mut State) {
    let p = prev(bytes, at);
    if p.is_ascii_alphanumeric() || p == b'.' || p == b'_' || p == b'-' {
        return;
    }
    let Some((end, o)) = dotted_quad(bytes, at) else {
        return;
    };
    let next = byte_at(bytes, end);
    if next.is_ascii_alphanumeric() || (next == b'.' && byte_at(bytes, end + 1).is_ascii_digit()) {
        return;
    }
    // A CIDR network (`10.0.0.0/16`) names a range in a plan, not a machine.
    if next == b'/' && byte_at(bytes, end + 1).is_ascii_digit() && o[3] == 0 {
        return;
    }
    let private =
        o[0] == 10 || (o[0] == 172 && (16..=31).contains(&o[1])) || (o[0] == 192 && o[1] == 168);
    if !private {
        return;
    }
    // "version 10.4.12.1", "v10.1.0.2", "upgrading the agent from 10.4.6.1": a version number,
    // not an address.
    let word = word_before(bytes, at);
    let mut buf = [0u8; 16];
    if word.len() >= 7 && word[word.len() - 7..].eq_ignore_ascii_case(b"version")
        || matches!(
            lowercase(word, &mut buf),
            Some(b"ver" | b"v" | b"release" | b"build" | b"firmware" | b"tag")
        )
        || upgrade_before(bytes, at)
    {
        return;
    }
    st.found.push(Raw {
        info: e.builtins.private_ip,
        start: at,
        end,
    });
}

/// Whether the 48 bytes before `at`, on its line, speak of an upgrade or a downgrade: the dotted
/// quads after such words are versions.
fn upgrade_before(bytes: &[u8], at: usize) -> bool {
    const UPGRADE_WORDS: validators::WordList =
        validators::WordList::new(&[(b"upgrad", false), (b"downgrad", false)]);
    let before = &bytes[at.saturating_sub(48)..at];
    let line = before
        .iter()
        .rposition(|&b| b == b'\n')
        .map_or(before, |i| &before[i + 1..]);
    validators::contains_any_word_ci(line, &UPGRADE_WORDS)
}

// ---------------------------------------------------------------------------------------------
// Private keys

pub fn private_key(e: &Engine, bytes: &[u8], at: usize, st: &mut State) {
    if at < st.key_until || !bytes[at..].starts_with(b"-----BEGIN") {
        return;
    }
    // -----BEGIN [WORDS ]PRIVATE KEY[ BLOCK]-----
    let head_end = match memchr::memmem::find(&bytes[at..(at + 80).min(bytes.len())], b"-----\\n")
        .or_else(|| {
            memchr::memmem::find(&bytes[at + 10..(at + 80).min(bytes.len())], b"-----")
                .map(|i| i + 10)
        }) {
        Some(i) => at + i,
        None => return,
    };
    if !validators::private_key_label(&bytes[at + 10..head_end]) {
        return;
    }
    let body_start = head_end + 5;
    let limit = (body_start + 64 * 1024).min(bytes.len());
    let end = match memchr::memmem::find(&bytes[body_start..limit], b"-----END ") {
        Some(i) => {
            let tail = body_start + i + 9;
            match memchr::memmem::find(&bytes[tail..(tail + 80).min(bytes.len())], b"-----") {
                Some(j) => tail + j + 5,
                None => tail,
            }
        }
        None => {
            // Truncated paste: the block runs as far as its base64 body does.
            let mut i = body_start;
            let mut last = body_start;
            while i < limit {
                let b = bytes[i];
                if b == b'\n' && byte_at(bytes, i + 1) == b'\n' {
                    break;
                }
                if b.is_ascii_alphanumeric() || matches!(b, b'+' | b'/' | b'=' | b'\\') {
                    last = i + 1;
                } else if !matches!(b, b'\n' | b'\r' | b' ' | b':' | b',' | b'-') {
                    break;
                }
                i += 1;
            }
            last
        }
    };
    // A header in prose or a template (`<paste your key here>`) is not a key: demand key material.
    let body_end = end.min(limit);
    let material = bytes[body_start.min(body_end)..body_end]
        .iter()
        .filter(|b| b.is_ascii_alphanumeric() || matches!(b, b'+' | b'/'))
        .count();
    if material < 40 {
        return;
    }
    // A JSON-escaped block ends with its escaped newline.
    let end = if bytes[end..].starts_with(b"\\n") {
        end + 2
    } else {
        end
    };
    st.key_until = end;
    st.found.push(Raw {
        info: e.builtins.private_key,
        start: at,
        end,
    });
}

// ---------------------------------------------------------------------------------------------
// Digit-shaped personal data: cards, SSNs, phones, IBANs

pub struct PiiRegexes {
    ssn: Regex,
    ssn_plain: Regex,
    phone_nanp: Regex,
    phone_national: Regex,
    phone_bare: Regex,
    phone_area: Regex,
    phone_br: Regex,
    iban: Regex,
}

impl PiiRegexes {
    pub fn new() -> Result<PiiRegexes, EngineError> {
        Ok(PiiRegexes {
            ssn: byte_regex("us_ssn", r"[0-9]{3}-[0-9]{2}-[0-9]{4}")?,
            ssn_plain: byte_regex("us_ssn", r"[0-9]{3} [0-9]{2} [0-9]{4}|[0-9]{9}")?,
            phone_nanp: byte_regex(
                "phone_number",
                r"(?:\+?1[ .-]?)?(?:\([2-9][0-9]{2}\)[ .-]?|[2-9][0-9]{2}[ .-])[2-9][0-9]{2}[ .-][0-9]{4}|\+1[2-9][0-9]{2}[2-9][0-9]{6}",
            )?,
            // National numbers with a trunk prefix: 020 7946 0958, 06 12 34 56 78, (02) 9374 2373
            phone_national: byte_regex(
                "phone_number",
                r"(?:\(0[1-9][0-9]{0,3}\)|0[1-9][0-9]{0,3})(?:[ .-][0-9]{2,8}){1,4}",
            )?,
            phone_bare: byte_regex("phone_number", r"[2-9][0-9]{9}")?,
            phone_area: byte_regex(
                "phone_number",
                r"\([1-9][0-9]{1,3}\) ?[0-9]{4,5}[ -][0-9]{4}",
            )?,
            phone_br: byte_regex("phone_number", r"\([1-9][0-9]\) ?9[0-9]{4}-[0-9]{4}")?,
            iban: byte_regex("iban", r"[A-Z]{2}[0-9]{2}(?: ?[A-Z0-9]){11,32}")?,
        })
    }
}

/// The card shapes `card_matches` finds, as a pattern (the tests hold the two to the same answers).
#[cfg(test)]
const CARD_PATTERN: &str = r"[0-9]{4}[ -][0-9]{4}[ -][0-9]{4}[ -][0-9]{1,7}|[0-9]{4}[ -][0-9]{6}[ -][0-9]{4,5}|[0-9]{13,19}";

/// The international phone shape [`intl_matches`] finds, as a pattern (a test holds the two to
/// the same answers).
#[cfg(test)]
const PHONE_INTL_PATTERN: &str = r"(?:\+|00)[1-9][0-9]{0,3}(?:[ .-]?\(?[0-9]{1,5}\)?){1,6}";

/// Where an international phone shape starting at `i` ends: `+` or `00`, a country code
/// (`[1-9][0-9]{0,3}`), then one to six groups of an optional separator, an optional `(`, one to
/// five digits and an optional `)`, as a leftmost-first regex takes them. Each optional byte is
/// taken when it is there (not taking it would leave a byte no digit run can start at), each run
/// of digits is as long as it may be, and groups go on while one can; only when no group can
/// follow the country code does it give its last digit to the first group.
fn intl_match_at(w: &[u8], i: usize) -> Option<usize> {
    let at = |k: usize| w.get(k).copied().unwrap_or(0);
    let mut j = match (at(i), at(i + 1)) {
        (b'+', _) => i + 1,
        (b'0', b'0') => i + 2,
        _ => return None,
    };
    if !matches!(at(j), b'1'..=b'9') {
        return None;
    }
    j += 1;
    let code = digit_run(w, j, 3);
    j += code;
    // One group from `q`: where it ends, if one starts there.
    let group = |q: usize| {
        let mut k = q;
        if matches!(at(k), b' ' | b'.' | b'-') {
            k += 1;
        }
        if at(k) == b'(' {
            k += 1;
        }
        let digits = digit_run(w, k, 5);
        if digits == 0 {
            return None;
        }
        k += digits;
        if at(k) == b')' {
            k += 1;
        }
        Some(k)
    };
    let mut end = match group(j) {
        Some(end) => end,
        // The first group takes the country code's last digit (no byte at `j` can start a group,
        // so that group is the digit alone, and a `)` after it).
        None if code > 0 => j + usize::from(at(j) == b')'),
        None => return None,
    };
    for _ in 1..6 {
        match group(end) {
            Some(next) => end = next,
            None => break,
        }
    }
    Some(end)
}

/// The leftmost-first, non-overlapping international phone shapes in `w` (see
/// [`intl_match_at`]), as a regex's `find_iter` gives them. Hand-written: a regex search costs a
/// prefilter, a forward and a reverse DFA walk per window, several times what this does.
fn intl_matches(w: &[u8]) -> impl Iterator<Item = (usize, usize)> + '_ {
    matches_at_candidates(w, |rest| memchr::memchr2(b'+', b'0', rest), intl_match_at)
}

/// The leftmost-first, non-overlapping matches of `match_at` (the end of the match starting at a
/// position, if any) in `w`, tried where `candidate` (the first place in the rest of `w` one may
/// start) points: after a match, the search goes on from its end; after a miss, from the next
/// byte.
fn matches_at_candidates<'w>(
    w: &'w [u8],
    candidate: impl Fn(&[u8]) -> Option<usize> + 'w,
    match_at: impl Fn(&[u8], usize) -> Option<usize> + 'w,
) -> impl Iterator<Item = (usize, usize)> + 'w {
    let mut i = 0;
    std::iter::from_fn(move || {
        while let Some(k) = candidate(w.get(i..)?) {
            i += k;
            if let Some(end) = match_at(w, i) {
                let start = i;
                i = end;
                return Some((start, end));
            }
            i += 1;
        }
        None
    })
}

/// The spans of `re`'s matches in `w`.
fn spans<'a>(re: &'a Regex, w: &'a [u8]) -> impl Iterator<Item = (usize, usize)> + 'a {
    re.find_iter(w).map(|m| (m.start(), m.end()))
}

/// How many ASCII digits `w` holds in a row from `i`, at most `max`.
fn digit_run(w: &[u8], i: usize, max: usize) -> usize {
    w.get(i..).map_or(0, |rest| {
        rest.iter()
            .take(max)
            .take_while(|b| b.is_ascii_digit())
            .count()
    })
}

/// Where a card-shaped match starting at `i` ends, trying the shapes in the order a leftmost-first
/// regex would: 4-4-4-(1..7), 4-6-(4..5) (Amex), then 13 to 19 digits in a row. Each shape's last
/// part is greedy, as the regex's is.
fn card_match_at(w: &[u8], i: usize) -> Option<usize> {
    let sep = |k: usize| matches!(w.get(k), Some(b' ' | b'-'));
    if digit_run(w, i, 4) == 4 && sep(i + 4) {
        if digit_run(w, i + 5, 4) == 4 && sep(i + 9) && digit_run(w, i + 10, 4) == 4 && sep(i + 14)
        {
            let tail = digit_run(w, i + 15, 7);
            if tail >= 1 {
                return Some(i + 15 + tail);
            }
        }
        if digit_run(w, i + 5, 6) == 6 && sep(i + 11) {
            let tail = digit_run(w, i + 12, 5);
            if tail >= 4 {
                return Some(i + 12 + tail);
            }
        }
    }
    let solid = digit_run(w, i, 19);
    (solid >= 13).then_some(i + solid)
}

/// The leftmost-first, non-overlapping matches of [`card_match_at`]'s shapes in `w`, as a regex's
/// `find_iter` gives them. Hand-written: a card check runs on every window with 13 digits, and this
/// costs a few compares per digit where a regex search costs a DFA walk and an iterator.
fn card_matches(w: &[u8]) -> impl Iterator<Item = (usize, usize)> + '_ {
    matches_at_candidates(
        w,
        |rest| rest.iter().position(u8::is_ascii_digit),
        card_match_at,
    )
}

/// The digits of `s`, into `buf`; None when there are more than `buf` holds.
fn digits_into<'b>(s: &[u8], buf: &'b mut [u8]) -> Option<&'b [u8]> {
    let mut n = 0;
    for &c in s {
        if c.is_ascii_digit() {
            *buf.get_mut(n)? = c;
            n += 1;
        }
    }
    Some(&buf[..n])
}

const fn is_cluster_byte(b: u8) -> bool {
    const CLUSTER: [bool; 256] = byte_table!(b => b.is_ascii_digit() || matches!(b, b' ' | b'-' | b'.' | b'(' | b')' | b'+'));
    CLUSTER[b as usize]
}

/// Finds runs of digits and separators holding at least nine digits, and runs the digit-shaped PII
/// checks on a window around each.
pub fn digit_pii(e: &Engine, bytes: &[u8], st: &mut State) {
    let b = &e.builtins;
    let on = |i: usize| e.infos[i].enabled;
    if !(on(b.credit_card) || on(b.us_ssn) || on(b.phone_number) || on(b.iban)) {
        return;
    }
    let n = bytes.len();
    let mut window: Option<(usize, usize)> = None;
    let mut region: Option<(usize, usize)> = None;
    let mut claims = Claims::of(e, st);
    let mut table = None;
    // Adds `s..e2` to the region being gathered; a region it does not touch is looked at first.
    let mut add = |s: usize, e2: usize, st: &mut State| {
        region = match region {
            Some((rs, re)) if s <= re => Some((rs, re.max(e2))),
            Some(r) => {
                clusters(e, bytes, r, (&mut window, &mut table), &mut claims, st);
                Some((s, e2))
            }
            None => Some((s, e2)),
        };
    };
    // Only the regions around hot words get the byte-by-byte look (16 bytes before a word, 8
    // after: a group's regions meet),
    hot_words(bytes, |first, last| {
        add(first.saturating_sub(16), last + 8, st)
    });
    // and the last partial word, whatever it holds.
    if !n.is_multiple_of(8) {
        add((n - n % 8).saturating_sub(16), n, st);
    }
    if let Some(r) = region {
        clusters(e, bytes, r, (&mut window, &mut table), &mut claims, st);
    }
    if let Some((ps, pe)) = window {
        scan_pii_window(e, bytes, ps, pe, st);
    }
}

/// Calls `hot(first, last)` with the starts of the first and last word of groups of hot words,
/// in order: an aligned 8-byte word of `bytes` is hot when, with the two words before it, it holds
/// nine digits or more, and hot words at most three words apart may share a group (the regions
/// the caller gives them, 16 bytes before a word and 8 after, meet). Every real card, SSN, phone
/// or IBAN has at least nine digits within 24 bytes, so it makes some word hot. (The last partial
/// word is the caller's.)
///
/// This pass reads every byte of every text, so with AVX2 the digits of a 64-byte block are
/// found by two vector compares and a byte-lane popcount (~0.4 instructions a byte, where the
/// 8-byte SWAR count took ~2.3).
fn hot_words(bytes: &[u8], hot: impl FnMut(usize, usize)) {
    #[cfg(target_arch = "x86_64")]
    if std::arch::is_x86_feature_detected!("avx2") {
        // SAFETY: the CPU has AVX2.
        return unsafe { hot_words_avx2(bytes, hot) };
    }
    hot_words_swar(bytes, hot)
}

/// [`hot_words`] eight bytes at a time, in plain integers.
fn hot_words_swar(bytes: &[u8], hot: impl FnMut(usize, usize)) {
    hot_words_in(bytes, hot, |block| {
        let mut counts = 0u64;
        for (k, w) in block.chunks_exact(8).enumerate() {
            let w = u64::from_le_bytes(w.try_into().expect("8 bytes"));
            counts |= u64::from(digit_count(w)) << (8 * k);
        }
        counts
    })
}

/// [`hot_words`] with AVX2.
///
/// # Safety
/// The CPU must have AVX2.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
unsafe fn hot_words_avx2(bytes: &[u8], hot: impl FnMut(usize, usize)) {
    use std::arch::x86_64::{
        __m256i, _mm256_and_si256, _mm256_cmpeq_epi8, _mm256_loadu_si256, _mm256_max_epu8,
        _mm256_min_epu8, _mm256_movemask_epi8, _mm256_set1_epi8,
    };
    let lo = _mm256_set1_epi8(b'0' as i8);
    let hi = _mm256_set1_epi8(b'9' as i8);
    hot_words_in(bytes, hot, |block| {
        // A bit per digit of the block: '0' <= b <= '9', unsigned.
        let digits = |k: usize| {
            // SAFETY: `block` holds 64 bytes and k is 0 or 32.
            let v = unsafe { _mm256_loadu_si256(block.as_ptr().add(k).cast::<__m256i>()) };
            let ge = _mm256_cmpeq_epi8(_mm256_max_epu8(v, lo), v);
            let le = _mm256_cmpeq_epi8(_mm256_min_epu8(v, hi), v);
            u64::from(_mm256_movemask_epi8(_mm256_and_si256(ge, le)) as u32)
        };
        let m = digits(0) | digits(32) << 32;
        // Each byte lane's bits counted in place (the classic SWAR popcount, stopped at bytes).
        let x = m - ((m >> 1) & 0x5555_5555_5555_5555);
        let x = (x & 0x3333_3333_3333_3333) + ((x >> 2) & 0x3333_3333_3333_3333);
        (x + (x >> 4)) & 0x0f0f_0f0f_0f0f_0f0f
    })
}

/// The body of [`hot_words`], given `counts`: the digit counts of a 64-byte block's eight words,
/// one per byte lane.
#[inline(always)]
fn hot_words_in(bytes: &[u8], mut hot: impl FnMut(usize, usize), counts: impl Fn(&[u8]) -> u64) {
    let n = bytes.len();
    // Sixty-four bytes at a time: the eight word counts side by side in the lanes of one u64, and
    // the three-word sums of all eight at once, with no branch per word. A block where some sum
    // reaches nine reports its groups (most often one: a number's digits make neighbouring words
    // hot), where a call per word cost a branch that mispredicts on the count.
    let mut i = 0;
    let mut prev = 0u64;
    while i + 64 <= n {
        let counts = counts(&bytes[i..i + 64]);
        let sums = counts + ((counts << 8) | (prev >> 56)) + ((counts << 16) | (prev >> 48));
        // Each sum is at most 24: adding 0x77 sets a lane's high bit exactly when it is 9 or more.
        let nine = sums.wrapping_add(0x7777_7777_7777_7777) & 0x8080_8080_8080_8080;
        if nine != 0 {
            // Bit k: word k is hot (the lanes' high bits gathered by one multiply: each lands
            // alone in the top byte).
            let hot_lanes = ((nine >> 7).wrapping_mul(0x0102_0408_1020_4080) >> 56) as u32;
            // Gaps of one or two cold words between hot ones are filled: one group.
            let (l, r) = (hot_lanes << 1, hot_lanes >> 1);
            let mut groups = hot_lanes | (l & r) | (l & (hot_lanes >> 2)) | ((hot_lanes << 2) & r);
            groups &= 0xff;
            while groups != 0 {
                let first = groups.trailing_zeros();
                let len = (groups >> first).trailing_ones();
                hot(i + 8 * first as usize, i + 8 * (first + len - 1) as usize);
                groups &= !(((1u32 << len) - 1) << first);
            }
        }
        prev = counts;
        i += 64;
    }
    let (mut c2, mut c1) = ((prev >> 48 & 0xff) as u32, (prev >> 56) as u32);
    while i + 8 <= n {
        let w = u64::from_le_bytes(bytes[i..i + 8].try_into().expect("8 bytes"));
        let c = digit_count(w);
        if c + c1 + c2 >= 9 {
            hot(i, i);
        }
        (c2, c1) = (c1, c);
        i += 8;
    }
}

/// Finds runs of digits and separators holding at least nine digits in `region` (widened to whole
/// runs), and runs the digit-shaped PII checks on a window around each; windows that overlap are
/// merged so each byte is checked once.
fn clusters(
    e: &Engine,
    bytes: &[u8],
    (mut i, mut end): (usize, usize),
    (window, table): (&mut Option<(usize, usize)>, &mut Option<Table>),
    claims: &mut Claims,
    st: &mut State,
) {
    let n = bytes.len();
    while i > 0 && is_cluster_byte(bytes[i - 1]) {
        i -= 1;
    }
    while end < n && is_cluster_byte(bytes[end]) {
        end += 1;
    }
    // Nine digits need nine cluster bytes in a row: only such runs get the byte-by-byte walk.
    for (rs, re) in LongRuns::new(bytes, i, end) {
        // The first digit, the last and how many: one pass.
        let (mut first, mut last_digit, mut digits) = (usize::MAX, rs, 0);
        for (k, b) in bytes[rs..re].iter().enumerate() {
            if b.is_ascii_digit() {
                first = first.min(rs + k);
                last_digit = rs + k;
                digits += 1;
            }
        }
        let start = first;
        // Digits inside a finding already made (a Slack or Telegram token, an address) are its own.
        if digits < 9
            || in_lowercase_token(bytes, start, re, digits)
            || claims.contain(start, last_digit + 1)
        {
            continue;
        }
        // A whole field of nine to eleven digits under a header that names the column.
        let cell = digits == last_digit + 1 - start && (9..=11).contains(&digits);
        if cell {
            column_finding(e, bytes, (start, last_digit + 1), table, st);
        }
        // A table's row is labelled by its own cells, not by the header above it (where `phone`
        // names another column).
        let in_table = cell
            && table
                .as_ref()
                .is_some_and(|t| start > t.header_end && start <= t.rows_until);
        let window_of = || {
            let (ls, le) = line_window(bytes, start, 48, 256);
            let ws = start.saturating_sub(40).max(ls);
            (ws, (last_digit + 40).min(le).max(ws))
        };
        // A label is looked for around the window this run's would merge into, as the window's
        // own patterns would look for it (a CSV header's `tel` before a row of several numbers).
        let pending = *window;
        let label_region = |back: usize| {
            if in_table {
                return line_bounds(Lines::plain(bytes), start);
            }
            let (ws, we) = window_of();
            let (ws, we) = match pending {
                Some((ps, pe)) if ws <= pe => (ps, we.max(pe)),
                _ => (ws, we),
            };
            (ws.saturating_sub(back), we)
        };
        if digits_may_be_pii(bytes, (rs, re), (start, last_digit), digits, label_region) {
            let (ws, we) = window_of();
            *window = match *window {
                Some((ps, pe)) if ws <= pe => Some((ps, pe.max(we))),
                Some((ps, pe)) => {
                    scan_pii_window(e, bytes, ps, pe, st);
                    Some((ws, we))
                }
                None => Some((ws, we)),
            };
        }
    }
}

/// An SSN or a phone number given as a bare field of a table whose header names the column
/// (`ssn` / `SSN/TIN`, `phone` / `tel` / `mobile`): the checks the window applies to a labelled
/// number, without the words-around search.
fn column_finding(
    e: &Engine,
    bytes: &[u8],
    (s, end): (usize, usize),
    table: &mut Option<Table>,
    st: &mut State,
) {
    let b = &e.builtins;
    let d = &bytes[s..end];
    if !(left_clear(bytes, s) && right_clear(bytes, end)) {
        return;
    }
    let info = match column_label(bytes, s, end, table) {
        Some(Column::Ssn) if e.infos[b.us_ssn].enabled && d.len() == 9 => {
            ssn_digits_ok(d).then_some(b.us_ssn)
        }
        Some(Column::Phone) if e.infos[b.phone_number].enabled => {
            // Ten digits (NANP, no trunk), or a national number after its trunk `0`.
            let shape = (d.len() == 10 && d[0] >= b'2') || (d[0] == b'0' && d[1] != b'0');
            (shape && !fictional_phone(d) && !id_context(bytes, s)).then_some(b.phone_number)
        }
        _ => None,
    };
    if let Some(info) = info {
        st.found.push(Raw {
            info,
            start: s,
            end,
        });
    }
}

/// The whole runs of nine cluster bytes or more that start in `from..end`, in order, where `from`
/// is no run's middle and `end` no run's end but its last. Random values (a hex digest) hold short
/// runs by the dozen, and a byte-by-byte walk over them mispredicts a branch at every one: this
/// looks at 64 bytes at a time, as bit masks, and walks only a long run.
struct LongRuns<'a> {
    bytes: &'a [u8],
    /// Where the next run may start: the end of the last one.
    from: usize,
    end: usize,
    /// The block the mask below is for, and whether it is loaded.
    block: usize,
    loaded: bool,
    /// Bit p: nine cluster bytes in a row start at `block + p`, past the last run.
    starts: u64,
}

impl<'a> LongRuns<'a> {
    fn new(bytes: &'a [u8], from: usize, end: usize) -> LongRuns<'a> {
        LongRuns {
            bytes,
            from,
            end,
            block: from,
            loaded: false,
            starts: 0,
        }
    }
}

impl Iterator for LongRuns<'_> {
    type Item = (usize, usize);

    fn next(&mut self) -> Option<(usize, usize)> {
        // Blocks of 64 bytes, 56 apart: nine bytes in a row always lie inside one block.
        while self.starts == 0 {
            if self.loaded {
                self.block = (self.block + 56).max(self.from);
            }
            if self.block >= self.end {
                return None;
            }
            // Windows that start before `end` need the eight bytes after it.
            let cm = cluster_bits(self.bytes, self.block, self.end - self.block + 8);
            let mut x = cm & (cm >> 1);
            x &= x >> 2;
            x &= x >> 4;
            x &= cm >> 8;
            self.starts = x;
            self.loaded = true;
        }
        let mut rs = self.block + self.starts.trailing_zeros() as usize;
        if rs >= self.end {
            self.starts = 0;
            self.block = self.end;
            return None;
        }
        while rs > self.from && is_cluster_byte(self.bytes[rs - 1]) {
            rs -= 1;
        }
        let mut re = rs + 9;
        while re < self.bytes.len() && is_cluster_byte(self.bytes[re]) {
            re += 1;
        }
        self.from = re;
        // Every start before `re` lies in this run.
        let past = re - self.block;
        self.starts = if past >= 64 {
            0
        } else {
            self.starts & !((1u64 << past) - 1)
        };
        Some((rs, re))
    }
}

/// Bit k is set when byte `at + k` of `bytes` is a cluster byte (a digit or one of ` -.()+`), for
/// the first `len` (at most 64) bytes from `at`; bytes past the end of `bytes` count as none.
fn cluster_bits(bytes: &[u8], at: usize, len: usize) -> u64 {
    #[cfg(target_arch = "x86_64")]
    if at + 64 <= bytes.len() && std::arch::is_x86_feature_detected!("avx2") {
        // SAFETY: the CPU has AVX2, and 64 bytes from `at` are the text's.
        let bits = unsafe { cluster_bits_avx2(bytes[at..at + 64].as_ptr()) };
        return if len < 64 {
            bits & ((1 << len) - 1)
        } else {
            bits
        };
    }
    cluster_bits_swar(bytes, at, len)
}

/// The cluster bytes of the 64 bytes at `p`, two nibble lookups a byte: every cluster byte is
/// `0x2L` or `0x3L`, so the low nibble's entry holds the high nibbles it goes with, and the high
/// nibble's entry is its own bit (none for the other fifteen).
///
/// # Safety
/// The CPU must have AVX2, and 64 bytes must be readable at `p`.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
unsafe fn cluster_bits_avx2(p: *const u8) -> u64 {
    use std::arch::x86_64::{
        __m256i, _mm256_and_si256, _mm256_cmpeq_epi8, _mm256_loadu_si256, _mm256_movemask_epi8,
        _mm256_set1_epi8, _mm256_setzero_si256, _mm256_shuffle_epi8, _mm256_srli_epi16,
    };
    const fn tables() -> ([u8; 32], [u8; 32]) {
        let (mut lo, mut hi) = ([0u8; 32], [0u8; 32]);
        let mut b = 0x20;
        while b < 0x40 {
            if is_cluster_byte(b as u8) {
                let bit = 1 << ((b >> 4) - 2);
                lo[b & 0xf] |= bit;
                lo[16 + (b & 0xf)] |= bit;
                hi[b >> 4] = bit;
                hi[16 + (b >> 4)] = bit;
            }
            b += 1;
        }
        (lo, hi)
    }
    const TABLES: ([u8; 32], [u8; 32]) = tables();
    let lo = _mm256_loadu_si256(TABLES.0.as_ptr().cast::<__m256i>());
    let hi = _mm256_loadu_si256(TABLES.1.as_ptr().cast::<__m256i>());
    let nibble = _mm256_set1_epi8(0x0f);
    let half = |k: usize| {
        // SAFETY: 64 bytes are readable at `p`, and k is 0 or 32.
        let v = unsafe { _mm256_loadu_si256(p.add(k).cast::<__m256i>()) };
        let l = _mm256_shuffle_epi8(lo, _mm256_and_si256(v, nibble));
        let h = _mm256_shuffle_epi8(hi, _mm256_and_si256(_mm256_srli_epi16(v, 4), nibble));
        let none = _mm256_cmpeq_epi8(_mm256_and_si256(l, h), _mm256_setzero_si256());
        u64::from(!(_mm256_movemask_epi8(none) as u32))
    };
    half(0) | half(32) << 32
}

/// [`cluster_bits`] eight bytes at a time, in plain integers.
fn cluster_bits_swar(bytes: &[u8], at: usize, len: usize) -> u64 {
    let eq = byte_eq_mask;
    let mut bits = 0u64;
    for k in 0..len.min(64).div_ceil(8) {
        let s = at + 8 * k;
        let w = match bytes.get(s..s + 8) {
            Some(w) => u64::from_le_bytes(w.try_into().expect("8 bytes")),
            None => {
                let mut buf = [0u8; 8];
                let tail = bytes.get(s..).unwrap_or_default();
                buf[..tail.len()].copy_from_slice(tail);
                u64::from_le_bytes(buf)
            }
        };
        let m = digit_mask(w)
            | eq(w, b' ')
            | eq(w, b'-')
            | eq(w, b'.')
            | eq(w, b'(')
            | eq(w, b')')
            | eq(w, b'+');
        // One bit per byte: byte j's high bit moves to bit j of the top byte.
        let packed = (m >> 7).wrapping_mul(0x0102_0408_1020_4080) >> 56;
        bits |= packed << (8 * k);
    }
    if len < 64 {
        bits &= (1 << len) - 1;
    }
    bits
}

/// Whether the digits of a run of cluster bytes `rs..re`, `start..=last` (the first digit to the
/// last, `digits` of them) can be a card, SSN, phone or IBAN. `label_region(back)` is the text to
/// look for a label in: around the window the run's would merge into, from `back` bytes before
/// it; or, in a table, the run's row. Ids, amounts and addresses in logs and CSV data hold runs of
/// nine digits or more on every line, and each would cost a window of regexes for nothing:
/// - digits alone are a card when there are 13 to 16 of them (17 to 19 only come in groups) and
///   they pass the card checks; a plain SSN (9) or a bare phone (10) when the text says so, as the
///   window would require. An international number opens with `+` (or a spaced `00`), a national
///   one with a trunk prefix and groups; other lengths are only the digits of a compact IBAN,
///   after its uppercase letters.
/// - four groups of one to three digits between dots are an IPv4 address (no phone layout has
///   four groups that short); a date and an hour are a timestamp;
/// - digits in a card's groups are a card only if they pass the card checks;
/// - any other run must have the shape that opens one of the window's patterns.
fn digits_may_be_pii(
    bytes: &[u8],
    (rs, re): (usize, usize),
    (start, last): (usize, usize),
    digits: usize,
    label_region: impl Fn(usize) -> (usize, usize),
) -> bool {
    let core = &bytes[start..=last];
    let before = prev(bytes, start);
    // The digits of an IBAN follow its letters, maybe after a space (`NL58 TRIO 9320 4856 21`).
    let after_letters = before.is_ascii_uppercase() || prev(bytes, rs).is_ascii_uppercase();
    if digits == core.len() {
        return after_letters
            || matches!(before, b'+' | b'(')
            || match digits {
                9 => {
                    let (a, z) = label_region(300);
                    validators::contains_any_word_ci(&bytes[a..z], &SSN_WORDS)
                }
                10 => {
                    core[0] >= b'2' && {
                        let (a, z) = label_region(40);
                        validators::contains_any_word_ci(&bytes[a..z], &PHONE_LABELS)
                    }
                }
                13..=16 => may_be_card(core),
                _ => false,
            };
    }
    // Four groups of four, or Amex's 4-6-5, with one separator: only a card has that layout (a
    // phone's groups are shorter or open with a trunk `0` or `+`, an SSN's are 3-2-4).
    if core[0] != b'0' && !after_letters && !matches!(before, b'+' | b'(') {
        let sep = core[4];
        let (mut lens, mut n) = ([0usize; 4], 0);
        for g in core.split(|&b| b == sep) {
            if n == lens.len() {
                n += 1;
                break;
            }
            lens[n] = g.len();
            n += 1;
        }
        let mut buf = [0u8; 24];
        if matches!(sep, b' ' | b'-')
            && matches!(&lens[..n.min(4)], [4, 4, 4, 4] | [4, 6, 5])
            && n <= 4
            && core.iter().all(|&b| b == sep || b.is_ascii_digit())
        {
            return digits_into(core, &mut buf).is_some_and(may_be_card);
        }
    }
    let mut groups = 0;
    let dotted_quad = core.split(|&b| b == b'.').all(|g| {
        groups += 1;
        (1..=3).contains(&g.len()) && g.iter().all(u8::is_ascii_digit)
    }) && groups == 4;
    if dotted_quad || iso_date_hour(core) {
        return false;
    }
    // Otherwise the run must open one of the window's patterns by its own shape (a finding is made
    // of cluster bytes, so it lies inside one run), or be the digits of an IBAN after its letters.
    let run = &bytes[rs..re];
    after_letters || WindowShape::opens_a_pattern(run) || run.contains(&b'(')
}

/// Whether an SSN's nine digits are in the ranges the SSA issues.
fn ssn_digits_ok(d: &[u8]) -> bool {
    let num =
        |r: std::ops::Range<usize>| d[r].iter().fold(0u32, |a, &x| a * 10 + u32::from(x - b'0'));
    d.len() == 9 && ssn_ok(num(0..3), num(3..5), num(5..9))
}

/// Whether a phone number's digits end in 555-01xx, the range kept for fiction.
fn fictional_phone(d: &[u8]) -> bool {
    let n = d.len();
    n >= 10 && &d[n - 7..n - 4] == b"555" && &d[n - 4..n - 2] == b"01"
}

/// Whether card digits pass the checks every card finding needs: an issuer's prefix, Luhn, and
/// not one of the published test numbers.
fn may_be_card(d: &[u8]) -> bool {
    card_issuer_ok(d) && luhn(d) && !validators::TEST_CARDS.iter().any(|t| t.as_bytes() == d)
}

/// `2026-05-12 11`: an ISO date and the hour of a time after it (`:` ends the run), as logs, SQL
/// dumps and CSV data write them.
fn iso_date_hour(core: &[u8]) -> bool {
    let digits = |r: std::ops::Range<usize>| core[r].iter().all(u8::is_ascii_digit);
    matches!(core.len(), 12 | 13)
        && digits(0..4)
        && core[4] == b'-'
        && digits(5..7)
        && core[7] == b'-'
        && digits(8..10)
        && core[10] == b' '
        && digits(11..core.len())
}

/// Whether the run of cluster bytes `start..end`, holding `digits` digits, is only digits with a
/// lowercase letter beside it: the middle of a hex digest or another token. No digit-shaped finding
/// can use it. A card, SSN or phone is made of cluster bytes, so it would lie inside the run, and
/// its far edge would touch a digit or that letter, where `left_clear` or `right_clear` fail. An
/// IBAN is uppercase letters, digits and spaces: it cannot take in the lowercase letter, so it
/// would have to start in the run (it opens with letters) or end in it (not clear).
/// Hex digests hold such runs often, and each would cost a window of regexes for nothing.
fn in_lowercase_token(bytes: &[u8], start: usize, end: usize, digits: usize) -> bool {
    digits == end - start
        && (start > 0 && bytes[start - 1].is_ascii_lowercase()
            || bytes.get(end).is_some_and(u8::is_ascii_lowercase))
}

/// SWAR: the high bit of each byte of `w` equal to `c`, exactly: the low seven bits are added to
/// separately, so no carry crosses into the next byte.
#[inline]
fn byte_eq_mask(w: u64, c: u8) -> u64 {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const LOW7: u64 = 0x7f7f_7f7f_7f7f_7f7f;
    let t = w ^ (ONES * u64::from(c));
    !(((t & LOW7).wrapping_add(LOW7)) | t | LOW7)
}

/// SWAR: the high bit of each byte of `w` that is an ASCII digit. Bytes are masked to seven bits
/// first, so no addition carries into its neighbour (non-ASCII bytes are never digits).
#[inline]
fn digit_mask(w: u64) -> u64 {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGH: u64 = 0x8080_8080_8080_8080;
    let x = w & !HIGH;
    let ge0 = x.wrapping_add(ONES * (0x80 - b'0' as u64));
    let gt9 = x.wrapping_add(ONES * (0x80 - (b'9' as u64 + 1)));
    ge0 & !gt9 & !w & HIGH
}

/// How many bytes of `w` are ASCII digits. A multiply sums the per-byte bits (no popcnt needed on
/// baseline x86-64).
#[inline]
fn digit_count(w: u64) -> u32 {
    ((digit_mask(w) >> 7).wrapping_mul(0x0101_0101_0101_0101) >> 56) as u32
}

#[cfg(test)]
mod hot_words_tests {
    #[test]
    fn hot_words_are_the_words_a_word_by_word_count_finds() {
        let mut rng = super::super::TestRng::new(0x5eed_d161_7500_0001);
        for round in 0..300 {
            let len = rng.below(700);
            // Digits sparse to dense, so that some texts have no hot word and some have many.
            let density = 1 + rng.below(10);
            let bytes: Vec<u8> = (0..len)
                .map(|_| {
                    if rng.below(10) < density {
                        b'0' + rng.below(10) as u8
                    } else {
                        // Bytes next to the digits, and bytes that are digits once their
                        // high bit is dropped.
                        b"ab -.\n/:\xb0\xb9\xff"[rng.below(11)]
                    }
                })
                .collect();
            let mut got = Vec::new();
            super::hot_words(&bytes, |f, l| got.push((f, l)));
            let mut swar = Vec::new();
            super::hot_words_swar(&bytes, |f, l| swar.push((f, l)));
            assert_eq!(got, swar, "round {round}, length {len}");
            let mut want = Vec::new();
            let counts: Vec<usize> = bytes
                .chunks_exact(8)
                .map(|w| w.iter().filter(|b| b.is_ascii_digit()).count())
                .collect();
            for k in 0..counts.len() {
                let sum: usize = counts[k.saturating_sub(2)..=k].iter().sum();
                if sum >= 9 {
                    want.push(8 * k);
                }
            }
            // Each group opens and closes on a hot word, holds every hot word between, and
            // groups come in order: together they name every hot word.
            let mut named = Vec::new();
            for &(f, l) in &got {
                assert!(
                    want.contains(&f) && want.contains(&l),
                    "round {round}: {f}..{l}"
                );
                assert!(named.last().is_none_or(|&p| p < f), "round {round}: order");
                named.extend(want.iter().copied().filter(|&w| f <= w && w <= l));
            }
            assert_eq!(named, want, "round {round}, length {len}");
            // The regions the caller builds from the groups are those it would build from the
            // words one by one.
            let regions = |spans: &mut dyn Iterator<Item = (usize, usize)>| {
                let mut out: Vec<(usize, usize)> = Vec::new();
                for (f, l) in spans {
                    let (s, e) = (f.saturating_sub(16), l + 8);
                    match out.last_mut() {
                        Some(r) if s <= r.1 => r.1 = r.1.max(e),
                        _ => out.push((s, e)),
                    }
                }
                out
            };
            assert_eq!(
                regions(&mut got.iter().copied()),
                regions(&mut want.iter().map(|&w| (w, w))),
                "round {round}, length {len}"
            );
        }
    }
}

#[cfg(test)]
mod line_tests {
    use super::super::lines::{Lines, Newlines};
    use super::{clip_line, line_after, line_before, line_bounds, line_window};

    /// The lines next to a line are the lines of the bytes next to it, with the text's newline
    /// index and without.
    #[test]
    fn the_lines_before_and_after_are_the_bounds_of_the_bytes_beside() {
        let text = b"\nab\n\ncd\nef";
        let index = Newlines::new(text);
        for lines in [
            Lines::plain(text),
            Lines {
                bytes: text,
                index: Some(&index),
            },
        ] {
            let mut pos = 0;
            let mut seen = 0;
            while pos <= text.len() {
                let (ls, le) = line_bounds(lines, pos);
                if ls > 0 {
                    assert_eq!(line_before(lines, ls), line_bounds(lines, ls - 1), "{pos}");
                    seen += 1;
                }
                if le < text.len() {
                    assert_eq!(line_after(lines, le), line_bounds(lines, le + 1), "{pos}");
                    seen += 1;
                }
                pos = le + 1;
            }
            assert_eq!(seen, 8);
        }
    }

    /// The window a hit's line gives by clipping is the one a search around the hit finds.
    #[test]
    fn a_clipped_line_is_the_line_window() {
        let mut rng = super::super::TestRng::new(0x11e5_0000_0000_0004);
        let mut clipped = 0;
        for round in 0..3000 {
            let len = rng.below(400) + 1;
            let text: Vec<u8> = (0..len)
                .map(|_| if rng.below(25) == 0 { b'\n' } else { b'a' })
                .collect();
            let at = rng.below(len as u64);
            let (before, after) = (rng.below(90), rng.below(90));
            let want = line_window(&text, at, before, after);
            let line = line_bounds(Lines::plain(&text), at);
            assert_eq!(clip_line(line, at, before, after), want, "round {round}");
            clipped += usize::from(want != line);
        }
        // Windows cut short by the limits, and whole lines.
        assert!(clipped > 500 && clipped < 2500, "{clipped}");
    }
}

#[cfg(test)]
mod long_run_tests {
    use super::{cluster_bits, cluster_bits_swar, is_cluster_byte, LongRuns};

    fn random_text(rng: &mut super::super::TestRng, len: usize) -> Vec<u8> {
        // Digits often, so that long runs are common but not the rule.
        const ALPHABET: &[u8] = b"0123456789012345678901234567890123456789 -.()+abcfXYZ_\n:/";
        (0..len)
            .map(|_| ALPHABET[rng.below(ALPHABET.len() as u64)])
            .collect()
    }

    #[test]
    fn cluster_bits_mark_exactly_the_cluster_bytes() {
        let mut rng = super::super::TestRng::new(0xc1c1_0000_0000_0001);
        for round in 0..300 {
            let len = rng.below(150);
            let mut text = random_text(&mut rng, len);
            // Non-ASCII bytes too: none of them is a cluster byte.
            if round % 3 == 0 && !text.is_empty() {
                let i = rng.below(text.len() as u64);
                text[i] = 0xa0 + (round % 16) as u8;
            }
            let at = rng.below(text.len() as u64 + 1);
            let len = rng.below(80);
            let bits = cluster_bits(&text, at, len);
            assert_eq!(bits, cluster_bits_swar(&text, at, len), "round {round}");
            for k in 0..64 {
                let want = k < len && text.get(at + k).is_some_and(|&b| is_cluster_byte(b));
                assert_eq!(bits >> k & 1 == 1, want, "round {round}, byte {k}");
            }
        }
    }

    #[test]
    fn long_runs_are_the_runs_of_nine_a_byte_walk_finds() {
        let mut rng = super::super::TestRng::new(0x1095_0000_0000_0002);
        for round in 0..400 {
            let len = rng.below(400);
            let text = random_text(&mut rng, len);
            let mut want = Vec::new();
            let mut i = 0;
            while i < text.len() {
                let s = i;
                while i < text.len() && is_cluster_byte(text[i]) {
                    i += 1;
                }
                if i - s >= 9 {
                    want.push((s, i));
                }
                i = i.max(s + 1);
            }
            let got: Vec<(usize, usize)> = LongRuns::new(&text, 0, text.len()).collect();
            assert_eq!(got, want, "round {round}");
            // From a later run boundary, and up to an earlier end: the runs that start between.
            if let Some(&(s0, _)) = want.get(1) {
                let end = want.last().map_or(text.len(), |r| r.0 + 1);
                let from = want[0].1;
                let got: Vec<(usize, usize)> = LongRuns::new(&text, from, end).collect();
                let sub: Vec<(usize, usize)> = want
                    .iter()
                    .copied()
                    .filter(|r| r.0 >= from && r.0 < end)
                    .collect();
                assert_eq!(got, sub, "round {round}, {from}..{end}");
                assert_eq!(got.first().map(|r| r.0), Some(s0));
            }
        }
    }
}

#[cfg(test)]
mod table_tests {
    use super::{column_label, fields, Column};

    #[test]
    fn fields_keep_quoted_separators() {
        let line = b"1,\"Doe, Jane\",,x";
        let got: Vec<&[u8]> = fields(line, b',').map(|(s, e)| &line[s..e]).collect();
        assert_eq!(got, [&b"1"[..], b"\"Doe, Jane\"", b"", b"x"]);
        assert_eq!(fields(b"", b',').count(), 1);
    }

    #[test]
    fn a_cell_takes_its_label_from_the_header_of_its_own_table() {
        let label = |text: &str, cell: &str| {
            let s = text.rfind(cell).unwrap();
            column_label(text.as_bytes(), s, s + cell.len(), &mut None)
        };
        // A Markdown rule row is passed on the way up; a header far up is found.
        let mut md = String::from("| id | Mobile | amount |\n|---|---|---|\n");
        for i in 0..50 {
            md.push_str(&format!("| {i} | 98616629{:02} | 1.50 |\n", i));
        }
        assert_eq!(label(&md, "9861662949"), Some(Column::Phone));
        assert_eq!(
            label("id\tSSN/TIN\tx\n1\t278988036\tz\n", "278988036"),
            Some(Column::Ssn)
        );
        // Another column, a row of another width between, part of a field, no table.
        assert_eq!(
            label("id,account,phone\n1,4155552671,2\n", "4155552671"),
            None
        );
        assert_eq!(label("a,phone,c\nx\n1,4155552671,2\n", "4155552671"), None);
        assert_eq!(label("a,phone,c\n1,x4155552671,2\n", "4155552671"), None);
        assert_eq!(label("phone: 4155552671", "4155552671"), None);
        // More than 64 rows below a header that was never read: not found.
        let mut long = String::from("id,phone,x\n");
        for i in 0..70 {
            long.push_str(&format!("{i},41555520{:02},x\n", i));
        }
        assert_eq!(label(&long, "4155552069"), None);
        // Read top to bottom, as the scan does, the table is remembered.
        let mut table = None;
        let mut found = 0;
        for i in 0..70 {
            let cell = format!("41555520{:02}", i);
            let s = long.find(&cell).unwrap();
            found += usize::from(
                column_label(long.as_bytes(), s, s + cell.len(), &mut table) == Some(Column::Phone),
            );
        }
        assert_eq!(found, 70);
    }
}

#[cfg(test)]
mod claims_tests {
    use super::{Claims, Rising, State};

    #[test]
    fn overlaps_secret_answers_as_a_fresh_search_does_in_any_order() {
        let mut rng = super::super::TestRng::new(0x1234_5678_9abc_def1);
        let mut next = |m: u64| rng.below(m);
        let mut st = State::new(0, 0);
        let mut spans: Vec<(usize, usize)> = (0..300)
            .map(|_| {
                let s = next(5000);
                (s, s + 1 + next(40))
            })
            .collect();
        spans.sort();
        st.secret_spans = spans.clone();
        let fresh = |spans: &[(usize, usize)], s: usize, e: usize| {
            let k = spans.partition_point(|&(a, _)| a < e);
            spans[..k].iter().rev().take(4).any(|&(_, b)| b > s)
        };
        let mut hits = 0;
        for round in 0..4000 {
            // Mostly forward, sometimes back; now and then spans are added, as passes add them.
            let s = if round % 50 == 0 {
                next(5000)
            } else {
                (round * 5000 / 4000 + next(8)).min(5000)
            };
            let e = s + 1 + next(30);
            if round % 700 == 0 {
                let a = next(5000);
                st.secret_spans.push((a, a + 5));
                st.secret_spans.sort();
            }
            let want = fresh(&st.secret_spans, s, e);
            assert_eq!(st.overlaps_secret(s, e), want, "round {round}: {s}..{e}");
            hits += usize::from(want);
        }
        assert!(hits > 500 && hits < 3500, "{hits}");
    }

    #[test]
    fn merge_tail_sorts_as_a_sort_does() {
        let mut rng = super::super::TestRng::new(0x3e76_0000_0000_0005);
        let mut merged = 0;
        for round in 0..3000 {
            let mut head: Vec<(usize, usize)> = (0..rng.below(40))
                .map(|_| (rng.below(60), rng.below(9)))
                .collect();
            head.sort();
            let mut tail: Vec<(usize, usize)> = (0..rng.below(40))
                .map(|_| (rng.below(60), rng.below(9)))
                .collect();
            if round % 4 != 0 {
                tail.sort();
            }
            let mid = head.len();
            let mut v = head;
            v.extend(&tail);
            let mut want = v.clone();
            want.sort();
            merged += usize::from(!v.is_sorted() && tail.is_sorted());
            super::merge_tail(&mut v, mid);
            assert_eq!(v, want, "round {round}");
        }
        assert!(merged > 1000, "{merged}");
    }

    #[test]
    fn claims_contain_a_span_inside_one_of_them() {
        // Unsorted on purpose; the second span lies inside the first, the third overlaps nothing.
        let mut c = Claims::new(vec![(40, 50), (10, 30), (12, 20)]);
        assert!(c.contain(12, 30) && c.contain(40, 50) && c.contain(14, 18));
        assert!(!c.contain(25, 35) && !c.contain(5, 12) && !c.contain(45, 51));
    }

    #[test]
    fn rising_points_agree_with_partition_point_in_any_order() {
        let mut rng = super::super::TestRng::new(0xc1a1_0000_0000_0017);
        let (mut walked, mut asked) = (0, 0);
        for round in 0..300 {
            let mut v: Vec<usize> = (0..rng.below(40)).map(|_| rng.below(400)).collect();
            v.sort();
            let mut at = Rising::default();
            // Mostly in rising order, as the passes ask; now and then a step back.
            let mut q = 0;
            for _ in 0..60 {
                q = if rng.below(8) == 0 {
                    rng.below(q as u64 + 1)
                } else {
                    q + rng.below(20)
                };
                let before = at.0;
                let (lt, le) = (|&x: &usize| x < q, |&x: &usize| x <= q);
                for below in [&lt as &dyn Fn(&usize) -> bool, &le] {
                    let want = v.partition_point(below);
                    assert_eq!(at.point(&v, below), want, "round {round}: {q} in {v:?}");
                }
                walked += usize::from(at.0 > before);
                asked += 1;
            }
        }
        // The walk moves on often, not only the binary search.
        assert!(walked > 2000 && asked > walked, "{walked} of {asked}");
    }
}

#[cfg(test)]
mod card_shape_tests {
    use super::{card_matches, intl_matches, WindowShape, CARD_PATTERN, PHONE_INTL_PATTERN};
    use regex::bytes::Regex;

    /// Strings of digits, separators and a few other bytes, from a fixed seed (xorshift).
    fn samples() -> Vec<Vec<u8>> {
        generated(b"0123456789012345678901234567890123456789 - -  --x.")
    }

    fn generated(alphabet: &[u8]) -> Vec<Vec<u8>> {
        let mut rng = super::super::TestRng::new(0x9e37_79b9_7f4a_7c15);
        let mut out: Vec<Vec<u8>> = [
            &b"4111 1111 1111 1111"[..],
            b"4111-1111-1111-1111-22",
            b"3782 822463 10005",
            b"3782-822463-1000",
            b"12345 6789 1234 5678 9012 3456",
            b"123456789012345678901234567",
            b"1234 5678 9012 34567890",
            b"123 45 6789",
            b"123-45-6789 and 987 65 4321",
            b"",
        ]
        .iter()
        .map(|s| s.to_vec())
        .collect();
        for _ in 0..20_000 {
            let len = rng.below(48);
            out.push(
                (0..len)
                    .map(|_| alphabet[rng.below(alphabet.len() as u64)])
                    .collect(),
            );
        }
        out
    }

    #[test]
    fn card_matches_are_the_card_patterns_matches() {
        let re = Regex::new(CARD_PATTERN).unwrap();
        let mut matched = 0;
        for s in samples() {
            let want: Vec<(usize, usize)> =
                re.find_iter(&s).map(|m| (m.start(), m.end())).collect();
            let got: Vec<(usize, usize)> = card_matches(&s).collect();
            assert_eq!(got, want, "{:?}", String::from_utf8_lossy(&s));
            matched += got.len();
        }
        // The samples reach every shape, not only the empty answer.
        assert!(matched > 1000, "{matched}");
    }

    #[test]
    fn intl_matches_are_the_intl_patterns_matches() {
        let re = Regex::new(PHONE_INTL_PATTERN).unwrap();
        let mut matched = 0;
        let mut lengths = std::collections::BTreeSet::new();
        let mut cases = generated(b"0123456789000011112222 .-()()++x");
        cases.extend(
            [
                &b"+44 20 7946 0958"[..],
                b"+1 (415) 555-2671",
                b"0044 (0)20-7946.0958)",
                b"+44)",
                b"+441 )",
                b"+4 2",
                b"+12345678901234567890123456789012345678",
                b"+1 2 3 4 5 6 7 8 9",
                b"000 0001 2",
                b"+0 +9",
            ]
            .iter()
            .map(|s| s.to_vec()),
        );
        for s in cases {
            let want: Vec<(usize, usize)> =
                re.find_iter(&s).map(|m| (m.start(), m.end())).collect();
            let got: Vec<(usize, usize)> = intl_matches(&s).collect();
            assert_eq!(got, want, "{:?}", String::from_utf8_lossy(&s));
            matched += got.len();
            lengths.extend(got.iter().map(|(a, b)| b - a));
        }
        // The samples reach short and long shapes, not only the empty answer.
        assert!(
            matched > 1000 && lengths.len() > 15,
            "{matched} {lengths:?}"
        );
    }

    #[test]
    fn window_shape_skips_nothing_a_byte_by_byte_look_sees() {
        let mut cases = generated(b"0123456789000111 -.()++x");
        cases.extend(generated(b"0123456789 -.+Ab_,@\n\t"));
        cases.push(b"call +44 20 7946 0958 or 555-0142, ssn 123-45-6789, DE89 3704".to_vec());
        let mut varied = std::collections::BTreeSet::new();
        let mut opens = [0usize; 2];
        for s in cases {
            let want = WindowShape::of_bytewise(&s);
            assert_eq!(
                WindowShape::of(&s),
                want,
                "{:?}",
                String::from_utf8_lossy(&s)
            );
            // The walk that stops early gives the whole walk's answer.
            assert_eq!(
                WindowShape::opens_a_pattern(&s),
                want.opens(),
                "{:?}",
                String::from_utf8_lossy(&s)
            );
            opens[usize::from(want.opens())] += 1;
            varied.insert(format!("{want:?}"));
        }
        // The samples reach many shapes, not only the empty one, and both answers.
        assert!(varied.len() > 200, "{}", varied.len());
        assert!(opens[0] > 100 && opens[1] > 100, "{opens:?}");
    }

    #[test]
    fn window_shape_never_skips_a_phone_pattern_that_can_match() {
        let re = super::PiiRegexes::new().unwrap();
        let intl = Regex::new(PHONE_INTL_PATTERN).unwrap();
        let mut hits = [0usize; 3];
        for s in generated(b"0123456789012345678901234567891111 -.()++00") {
            let shape = WindowShape::of(&s);
            let text = String::from_utf8_lossy(&s);
            let guarded = [
                (&re.phone_nanp, shape.three_sep || shape.plus_one),
                (&intl, shape.intl),
                (&re.phone_national, shape.trunk),
            ];
            for (k, (pattern, guard)) in guarded.into_iter().enumerate() {
                if pattern.is_match(&s) {
                    hits[k] += 1;
                    // The trunk `0` must start its run of digits: a national match inside a
                    // longer number (`9012 3456`) is never a phone, so the guard may skip it.
                    let counts = k != 2
                        || (0..s.len()).any(|p| {
                            (p == 0 || !s[p - 1].is_ascii_digit())
                                && pattern.find_at(&s, p).is_some_and(|m| m.start() == p)
                        });
                    assert!(guard || !counts, "pattern {k} matches {text:?}");
                }
            }
        }
        assert!(hits.iter().all(|&h| h > 100), "{hits:?}");
    }

    #[test]
    fn window_shape_says_when_a_plain_ssn_pattern_matches() {
        let re = super::PiiRegexes::new().unwrap();
        let (plain, dashed) = (&re.ssn_plain, &re.ssn);
        let (mut plain_hits, mut dashed_hits) = (0, 0);
        for s in samples() {
            let shape = WindowShape::of(&s);
            let text = String::from_utf8_lossy(&s);
            assert_eq!(
                shape.solid_digits >= 9 || shape.ssn_space,
                plain.is_match(&s),
                "{text:?}"
            );
            assert_eq!(shape.ssn_dash, dashed.is_match(&s), "{text:?}");
            plain_hits += usize::from(plain.is_match(&s));
            dashed_hits += usize::from(shape.ssn_dash);
        }
        assert!(
            plain_hits > 100 && dashed_hits > 10,
            "{plain_hits} {dashed_hits}"
        );
    }
}

#[cfg(test)]
mod swar_tests {
    use super::{digit_count, digit_mask};

    #[test]
    fn digit_mask_matches_a_byte_loop() {
        let samples: [&[u8; 8]; 5] = [
            b"ab12cd90",
            b"/09:;AZ ",
            b"\xbf9\xba9\xff0\x809",
            b"99999999",
            b"        ",
        ];
        for s in samples {
            let w = u64::from_le_bytes(*s);
            let want = s.iter().filter(|b| b.is_ascii_digit()).count() as u32;
            assert_eq!(digit_mask(w).count_ones(), want, "{s:?}");
            assert_eq!(digit_count(w), want, "{s:?}");
        }
        // Every byte value in every lane.
        for v in 0u8..=255 {
            for lane in 0..8 {
                let mut s = [0xbfu8; 8];
                s[lane] = v;
                let want = s.iter().filter(|b| b.is_ascii_digit()).count() as u32;
                assert_eq!(
                    digit_mask(u64::from_le_bytes(s)).count_ones(),
                    want,
                    "{v} at {lane}"
                );
            }
        }
    }
}

fn left_clear(bytes: &[u8], s: usize) -> bool {
    let p = prev(bytes, s);
    if p == b':' {
        // "ssn:123-45-6789", "tel:+1...": fine; "12:30:..." is a time.
        return !prev(bytes, s - 1).is_ascii_digit();
    }
    !(p.is_ascii_alphanumeric() || matches!(p, b'_' | b'.' | b'-' | b'/' | b'+' | b'#'))
}

fn right_clear(bytes: &[u8], e: usize) -> bool {
    let n = byte_at(bytes, e);
    if n.is_ascii_alphanumeric() || n == b'_' {
        return false;
    }
    !(matches!(n, b'.' | b'-' | b'/' | b':') && byte_at(bytes, e + 1).is_ascii_digit())
}

/// The word that ends just before `at` (skipping spaces and punctuation), at most 24 bytes back.
fn word_before(bytes: &[u8], at: usize) -> &[u8] {
    let lo = at.saturating_sub(24);
    let mut e = at;
    while e > lo && !bytes[e - 1].is_ascii_alphanumeric() {
        e -= 1;
    }
    let mut s = e;
    while s > lo && bytes[s - 1].is_ascii_alphanumeric() {
        s -= 1;
    }
    &bytes[s..e]
}

/// Whether `s` follows the opening groups of an IBAN written in fours (`GB01 ABBY 0901 ...`), so
/// the digits from `s` are its tail, whether or not its checksum holds, and no phone.
fn iban_tail(bytes: &[u8], s: usize) -> bool {
    let mut i = s;
    // Groups of four letters or digits, each followed by one space, back to the country code.
    while i >= 5 && bytes[i - 1] == b' ' {
        let g = &bytes[i - 5..i - 1];
        if !g
            .iter()
            .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit())
        {
            return false;
        }
        if g[..2].iter().all(u8::is_ascii_uppercase)
            && g[2..].iter().all(u8::is_ascii_digit)
            && left_clear(bytes, i - 5)
        {
            return true;
        }
        i -= 5;
    }
    false
}

/// Words just before a number that make it an identifier, not a card or a phone.
fn id_context(bytes: &[u8], s: usize) -> bool {
    let mut buf = [0u8; 16];
    let mut word = word_before(bytes, s);
    // "order number 4000...", "invoice no. 1234...": the word before "number" decides.
    if matches!(
        lowercase(word, &mut buf),
        Some(b"number" | b"no" | b"num" | b"nr")
    ) {
        let start = word.as_ptr() as usize - bytes.as_ptr() as usize;
        word = word_before(bytes, start);
    }
    matches!(
        lowercase(word, &mut buf),
        Some(
            b"order"
                | b"orders"
                | b"invoice"
                | b"tracking"
                | b"shipment"
                | b"ref"
                | b"reference"
                | b"ticket"
                | b"txn"
                | b"transaction"
                | b"id"
                | b"isbn"
                | b"issn"
                | b"build"
                | b"version"
                | b"time"
                | b"timestamp"
                | b"epoch"
                | b"sku"
                | b"serial"
                | b"imei"
                | b"account"
                | b"case"
                | b"request"
                | b"job"
                | b"run"
                | b"batch"
                | b"trace"
                | b"span"
        )
    ) || after_http_request(bytes, s)
}

/// `word` in ASCII lowercase, in `buf`; None when it is longer than `buf` (and so than any word
/// it is compared with). One `match` on the result compares it with a list of words by length
/// and bytes, where a list walked with a case-blind compare per word cost ~300 instructions.
fn lowercase<'b>(word: &[u8], buf: &'b mut [u8; 16]) -> Option<&'b [u8]> {
    let out = buf.get_mut(..word.len())?;
    for (d, &c) in out.iter_mut().zip(word) {
        *d = c.to_ascii_lowercase();
    }
    Some(out)
}

/// Whether `s` follows the request of an access log line (`"GET /api HTTP/1.1" 200 532 1234`): the
/// numbers there are the status, the size and the time.
fn after_http_request(bytes: &[u8], s: usize) -> bool {
    let before = bytes[s.saturating_sub(16)..s].trim_ascii_end();
    before.strip_suffix(b"\"").is_some_and(|q| {
        let version = q
            .iter()
            .rev()
            .take_while(|b| b.is_ascii_digit() || **b == b'.')
            .count();
        version > 0 && q[..q.len() - version].ends_with(b"HTTP/")
    })
}

/// What a window could hold, found in one pass, so that patterns that cannot match are not run.
/// Every test is implied by the pattern it guards.
#[cfg_attr(test, derive(Debug, PartialEq))]
struct WindowShape {
    /// most digits in a run of digits, spaces and dashes (a card has 13 or more)
    card_digits: u32,
    /// `+` or `00`, then 1-9 (the international phone pattern starts so)
    intl: bool,
    /// `+1` (the one NANP form without an exchange separator starts so)
    plus_one: bool,
    /// two capitals then two digits (an IBAN starts so)
    iban: bool,
    /// three digits, a dash, two digits, a dash, four digits (`123-45-6789`)
    ssn_dash: bool,
    /// the same with spaces (`123 45 6789`)
    ssn_space: bool,
    /// most digits in a row, with nothing between them
    solid_digits: u32,
    /// exactly three digits, then a space, dot or dash, then a digit (a NANP exchange `555-0142`)
    three_sep: bool,
    /// a `0` that starts a run of digits and is followed by 1-9 (a national trunk prefix)
    trunk: bool,
}

impl WindowShape {
    fn of(w: &[u8]) -> WindowShape {
        WindowShape::of_skipping::<false>(w, true)
    }

    /// [`WindowShape::of`] a byte at a time: the reference a test holds it to.
    #[cfg(test)]
    fn of_bytewise(w: &[u8]) -> WindowShape {
        WindowShape::of_skipping::<false>(w, false)
    }

    /// Whether the shape opens one of the patterns a number may match by its own digits (the
    /// IBAN's letters aside).
    fn opens(&self) -> bool {
        self.card_digits >= 13
            || self.ssn_dash
            || self.ssn_space
            || self.solid_digits >= 9
            || self.intl
            || self.plus_one
            || self.three_sep
            || self.trunk
    }

    /// `WindowShape::of(w).opens()`, with the walk stopped at the first byte that settles it (every
    /// feature only grows along the walk): a phone number's `+44` answers at its second byte.
    fn opens_a_pattern(w: &[u8]) -> bool {
        WindowShape::of_skipping::<true>(w, true).opens()
    }

    /// The shape, skipping the stretches no run is going in when `skip`; when `OPENS`, only as far
    /// as the first byte after which [`WindowShape::opens`] holds.
    #[inline(always)]
    fn of_skipping<const OPENS: bool>(w: &[u8], skip: bool) -> WindowShape {
        let mut s = WindowShape {
            card_digits: 0,
            intl: false,
            plus_one: false,
            iban: false,
            ssn_dash: false,
            ssn_space: false,
            solid_digits: 0,
            three_sep: false,
            trunk: false,
        };
        let (mut run, mut solid) = (0u32, 0u32);
        let mut i = 0;
        loop {
            // With no run going, only a digit or a `+` changes anything (a separator ends no run
            // and starts none): the words around a number, and its spaces, are skipped.
            if skip && run == 0 && solid == 0 {
                match next_digit_or_plus(w, i) {
                    Some(k) => i = k,
                    None => break,
                }
            }
            let Some(&c) = w.get(i) else {
                break;
            };
            // A byte no pattern part looks at ends both runs.
            if QUIET_IN_WINDOW[usize::from(c)] {
                (run, solid) = (0, 0);
                i += 1;
                continue;
            }
            if c.is_ascii_digit() {
                if solid == 0 && c == b'0' && matches!(w.get(i + 1), Some(b'1'..=b'9')) {
                    s.trunk = true;
                }
                solid += 1;
                s.solid_digits = s.solid_digits.max(solid);
            } else {
                if (c == b'-' || c == b' ') && solid >= 3 {
                    let d = |k: usize| w.get(i + k).is_some_and(u8::is_ascii_digit);
                    let ssn = d(1) && d(2) && w.get(i + 3) == Some(&c) && (4..8).all(d);
                    if c == b'-' {
                        s.ssn_dash |= ssn;
                    } else {
                        s.ssn_space |= ssn;
                    }
                }
                if solid == 3
                    && matches!(c, b' ' | b'.' | b'-')
                    && w.get(i + 1).is_some_and(u8::is_ascii_digit)
                {
                    s.three_sep = true;
                }
                solid = 0;
            }
            match c {
                b'0'..=b'9' => {
                    run += 1;
                    s.card_digits = s.card_digits.max(run);
                    if c == b'0'
                        && w.get(i + 1) == Some(&b'0')
                        && matches!(w.get(i + 2), Some(b'1'..=b'9'))
                    {
                        s.intl = true;
                    }
                    if i >= 3
                        && w[i - 3].is_ascii_uppercase()
                        && w[i - 2].is_ascii_uppercase()
                        && w[i - 1].is_ascii_digit()
                    {
                        s.iban = true;
                    }
                }
                b' ' => {}
                b'-' => {}
                b'+' => {
                    s.intl |= matches!(w.get(i + 1), Some(b'1'..=b'9'));
                    s.plus_one |= w.get(i + 1) == Some(&b'1');
                    run = 0;
                }
                _ => run = 0,
            }
            i += 1;
            if OPENS && s.opens() {
                break;
            }
        }
        s
    }
}

/// The first ASCII digit or `+` in `w[from..]`: 16 bytes a step (SSE2, which every x86-64 has).
fn next_digit_or_plus(w: &[u8], from: usize) -> Option<usize> {
    let mut i = from;
    #[cfg(target_arch = "x86_64")]
    {
        use std::arch::x86_64::{
            __m128i, _mm_cmpeq_epi8, _mm_loadu_si128, _mm_min_epu8, _mm_movemask_epi8,
            _mm_or_si128, _mm_set1_epi8, _mm_sub_epi8,
        };
        while i + 16 <= w.len() {
            // SAFETY: SSE2 is part of x86-64; the load reads `w[i..i + 16]`, inside `w`.
            let m = unsafe {
                let v = _mm_loadu_si128(w.as_ptr().add(i).cast::<__m128i>());
                // A digit is a byte whose distance above '0', wrapping, is at most 9.
                let d = _mm_sub_epi8(v, _mm_set1_epi8(b'0' as i8));
                let digit = _mm_cmpeq_epi8(_mm_min_epu8(d, _mm_set1_epi8(9)), d);
                let plus = _mm_cmpeq_epi8(v, _mm_set1_epi8(b'+' as i8));
                _mm_movemask_epi8(_mm_or_si128(digit, plus))
            };
            if m != 0 {
                return Some(i + m.trailing_zeros() as usize);
            }
            i += 16;
        }
    }
    w.get(i..)?
        .iter()
        .position(|&b| b.is_ascii_digit() || b == b'+')
        .map(|k| i + k)
}

/// The bytes whose only effect on a [`WindowShape`] is to end the runs of digits: all but digits
/// and `space - + .`.
const QUIET_IN_WINDOW: [bool; 256] = {
    let mut t = [true; 256];
    let mut b = b'0';
    while b <= b'9' {
        t[b as usize] = false;
        b += 1;
    }
    t[b' ' as usize] = false;
    t[b'-' as usize] = false;
    t[b'+' as usize] = false;
    t[b'.' as usize] = false;
    t
};

/// Whether the text around the window `ws..we` (and 300 bytes before it) names an SSN.
fn ssn_context(bytes: &[u8], ws: usize, we: usize) -> bool {
    validators::contains_any_word_ci(&bytes[ws.saturating_sub(300)..we], &SSN_WORDS)
}

/// Words that label a phone number. Words, not parts of words: `tel` is no label inside
/// `telemetry` or `stateless`.
const PHONE_LABELS: validators::WordList = validators::WordList::new(&[
    (b"phone", false),
    (b"telephone", false),
    (b"tel", true),
    (b"mobile", false),
    (b"cell", false),
    (b"fax", false),
    (b"sms", false),
    (b"whatsapp", false),
    (b"call ", false),
]);

/// Words that name an SSN.
const SSN_WORDS: validators::WordList =
    validators::WordList::new(&[(b"ssn", false), (b"social security", false)]);

/// Whether the text around the window `ws..we` (and 40 bytes before it) labels a phone number.
fn phone_label(bytes: &[u8], ws: usize, we: usize) -> bool {
    validators::contains_any_word_ci(&bytes[ws.saturating_sub(40)..we], &PHONE_LABELS)
}

/// What a table's column header says its values are.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Column {
    Phone,
    Ssn,
}

/// The fields of a delimited line, as (start, end) within it; a separator inside double quotes
/// is part of its field.
fn fields(line: &[u8], sep: u8) -> impl Iterator<Item = (usize, usize)> + '_ {
    let mut start = 0;
    let mut quoted = false;
    let mut done = false;
    let mut i = 0;
    std::iter::from_fn(move || {
        while !done {
            if i == line.len() {
                done = true;
                return Some((start, i));
            }
            let c = line[i];
            i += 1;
            if c == b'"' {
                quoted = !quoted;
            } else if c == sep && !quoted {
                let f = (start, i - 1);
                start = i;
                return Some(f);
            }
        }
        None
    })
}

/// A field's text without the spaces and quotes around it.
fn field_text(line: &[u8], (s, e): (usize, usize)) -> &[u8] {
    let f = line[s..e].trim_ascii();
    let f = f.strip_prefix(b"\"").unwrap_or(f);
    f.strip_suffix(b"\"").unwrap_or(f)
}

/// A delimited table (CSV, TSV, a Markdown or psql table) met by the digit scan: its separator,
/// its width, what its header names each column (the first 32), and how far its rows are known
/// to run. Exports put a column's label in the header, often many rows up, where the
/// words-around checks cannot see it; the header is found once per table.
struct Table {
    sep: u8,
    width: usize,
    header_end: usize,
    rows_until: usize,
    columns: [Option<Column>; 32],
}

/// What a header cell names: SSNs or phone numbers.
fn column_kind(cell: &[u8]) -> Option<Column> {
    if validators::contains_any_word_ci(cell, &SSN_WORDS) {
        Some(Column::Ssn)
    } else if validators::contains_any_word_ci(cell, &PHONE_LABELS) {
        Some(Column::Phone)
    } else {
        None
    }
}

/// If `s..e` is a whole field of a row of a delimited table whose header names its column as
/// phone numbers or SSNs: which. `table` keeps the last table found.
fn column_label(bytes: &[u8], s: usize, e: usize, table: &mut Option<Table>) -> Option<Column> {
    // A row (or the next row) of a table whose header labels no column: nothing to read.
    let unlabelled = |t: &Table| t.columns.iter().all(Option::is_none);
    if table
        .as_ref()
        .is_some_and(|t| unlabelled(t) && s > t.header_end && e <= t.rows_until)
    {
        return None;
    }
    let (ls, le) = line_bounds(Lines::plain(bytes), s);
    if let Some(t) = table.as_mut() {
        if unlabelled(t) && ls > t.header_end && ls <= t.rows_until + 1 {
            t.rows_until = t.rows_until.max(le);
            return None;
        }
    }
    let line = &bytes[ls..le];
    let sep = [b',', b'\t', b'|', b';']
        .into_iter()
        .max_by_key(|&c| memchr::memchr_iter(c, line).count())?;
    let (mut width, mut idx) = (0, None);
    for (k, f) in fields(line, sep).enumerate() {
        width += 1;
        if f.0 <= s - ls && e - ls <= f.1 {
            idx = Some((k, f));
        }
    }
    let (idx, f) = idx?;
    if width < 3 || field_text(line, f) != &bytes[s..e] {
        return None;
    }
    let same = |t: &Table| t.sep == sep && t.width == width;
    let known = table
        .as_ref()
        .is_some_and(|t| same(t) && ls > t.header_end && ls <= t.rows_until + 1);
    if !known {
        // Up the table, row by row (at most 64), to its header: the first row whose cells have
        // letters and no digit (a Markdown rule row `|---|` has neither and is passed), or the
        // rows of a table already read.
        let mut top = ls;
        let mut found = None;
        for _ in 0..64 {
            if top == 0 {
                break;
            }
            let (ps, pe) = line_bounds(Lines::plain(bytes), top - 1);
            if table
                .as_ref()
                .is_some_and(|t| same(t) && ps > t.header_end && pe <= t.rows_until)
            {
                found = table.take();
                break;
            }
            let row = &bytes[ps..pe];
            if fields(row, sep).count() != width {
                break;
            }
            let header = fields(row, sep).any(|c| {
                let h = field_text(row, c);
                h.iter().any(u8::is_ascii_alphabetic)
            }) && fields(row, sep)
                .all(|c| !field_text(row, c).iter().any(u8::is_ascii_digit));
            if header {
                let mut columns = [None; 32];
                for (k, c) in fields(row, sep).take(32).enumerate() {
                    columns[k] = column_kind(field_text(row, c));
                }
                found = Some(Table {
                    sep,
                    width,
                    header_end: pe,
                    rows_until: pe,
                    columns,
                });
                break;
            }
            top = ps;
        }
        *table = Some(found?);
    }
    let t = table.as_mut()?;
    t.rows_until = t.rows_until.max(le);
    t.columns.get(idx).copied().flatten()
}

/// Runs the digit-shaped personal-data patterns that the window's shape allows. A pattern added
/// here needs its gate in `digits_may_be_pii` too, which decides which runs get a window at all.
fn scan_pii_window(e: &Engine, bytes: &[u8], ws: usize, we: usize, st: &mut State) {
    let b = e.builtins;
    let w = &bytes[ws..we];
    let shape = WindowShape::of(w);
    let on = |i: usize| e.infos[i].enabled;
    let mut push = |info, s, end| {
        st.found.push(Raw {
            info,
            start: s,
            end,
        })
    };

    if on(b.credit_card) && shape.card_digits >= 13 {
        for (ms, me) in card_matches(w) {
            let (s, end) = (ws + ms, ws + me);
            let m = &w[ms..me];
            // One kind of separator throughout (a match is at most 22 bytes, 19 of them digits).
            let mut seps = m.iter().filter(|c| !c.is_ascii_digit());
            let one_sep = seps.next().is_none_or(|&first| seps.all(|&c| c == first));
            let mut buf = [0u8; 24];
            let Some(d) = digits_into(m, &mut buf) else {
                continue;
            };
            if left_clear(bytes, s)
                && right_clear(bytes, end)
                && one_sep
                && (13..=19).contains(&d.len())
                // 17 to 19 digits in a row are an id or an amount (snowflake ids, wei), not a
                // card: the cards that long are printed in groups.
                && (d.len() <= 16 || m.len() > d.len())
                && may_be_card(d)
                && !id_context(bytes, s)
                && d.iter().any(|&x| x != d[0])
            {
                push(b.credit_card, s, end);
            }
        }
    }
    if on(b.us_ssn) {
        // Plain nine digits count as an SSN only when the text around says so (a header, a label).
        // The shape says exactly whether `ssn_plain` matches somewhere in the window: nine digits
        // in a row, or 3 2 4 with spaces.
        let context = (shape.solid_digits >= 9 || shape.ssn_space) && ssn_context(bytes, ws, we);
        let plain = context.then_some(&e.pii.ssn_plain);
        let dashed = shape.ssn_dash.then_some(&e.pii.ssn);
        for re in dashed.into_iter().chain(plain) {
            for m in re.find_iter(w) {
                let (s, end) = (ws + m.start(), ws + m.end());
                // Both SSN patterns match exactly nine digits.
                let mut buf = [0u8; 9];
                let Some(d) = digits_into(m.as_bytes(), &mut buf) else {
                    continue;
                };
                if left_clear(bytes, s) && right_clear(bytes, end) && ssn_digits_ok(d) {
                    push(b.us_ssn, s, end);
                }
            }
        }
    }
    if on(b.phone_number) {
        // Ten bare digits are a phone number only when labelled so (`phone: 4155552671`), and so
        // is an area code in parentheses without a trunk prefix (`(11) 95595-4852`, Brazil).
        let label = || phone_label(bytes, ws, we);
        let labelled = shape.solid_digits >= 10 && e.pii.phone_bare.is_match(w) && label();
        let paren = memchr::memchr(b'(', w).is_some();
        let area = paren && e.pii.phone_area.is_match(w) && label();
        let area = area.then_some(&e.pii.phone_area);
        // Brazil's mobile layout needs no label: a two-digit area code, then 9xxxx-xxxx.
        let mobile_br = paren.then_some(&e.pii.phone_br);
        let bare = labelled.then_some(&e.pii.phone_bare);
        // Every NANP match holds its exchange (3 digits, a separator, a digit) or starts with `+1`;
        // every national match starts with a trunk `0`.
        let nanp = (shape.three_sep || shape.plus_one).then_some(&e.pii.phone_nanp);
        let national = shape.trunk.then_some(&e.pii.phone_national);
        let found = |re| spans(re, w);
        let intl = shape.intl.then(|| intl_matches(w));
        let matches = nanp
            .into_iter()
            .flat_map(found)
            .chain(intl.into_iter().flatten())
            .chain(
                national
                    .into_iter()
                    .chain(bare)
                    .chain(area)
                    .chain(mobile_br)
                    .flat_map(found),
            );
        for (ms, me) in matches {
            let (s, mut end) = (ws + ms, ws + me);
            // The international pattern may end on a separator or an unclosed group.
            while end > s && !bytes[end - 1].is_ascii_digit() {
                end -= 1;
            }
            // More than 16 digits is no phone (15 at most pass below): no need to hold them.
            let mut buf = [0u8; 16];
            let Some(d) = digits_into(&bytes[s..end], &mut buf) else {
                continue;
            };
            let fictional = fictional_phone(d);
            // The tail of a longer run of digit groups (a card, an IBAN) is not a phone.
            let inside_run = s >= 2
                && matches!(bytes[s - 1], b' ' | b'-' | b'.')
                && bytes[s - 2].is_ascii_digit();
            // A trunk `0` opens numbers of nine digits or more (`0159-8902` is an ISSN); an
            // `00` exit code, a country code and a national number of seven or more, in
            // spaced groups (`002589828358` is a barcode, `0057-1431` a serial).
            let national_short = bytes[s] == b'0' && bytes[s + 1] != b'0' && d.len() < 9;
            let solid_exit =
                bytes[s..end].starts_with(b"00") && (d.len() == end - s || d.len() < 11);
            if (8..=15).contains(&d.len())
                && !national_short
                && !solid_exit
                && left_clear(bytes, s)
                && !inside_run
                && !iban_tail(bytes, s)
                && right_clear(bytes, end)
                && !id_context(bytes, s)
                && !fictional
            {
                push(b.phone_number, s, end);
            }
        }
    }
    if on(b.iban) && shape.iban {
        for m in e.pii.iban.find_iter(w) {
            let s = ws + m.start();
            if !left_clear(bytes, s) {
                continue;
            }
            let Some(len) = iban_length(&bytes[s..s + 2]) else {
                continue;
            };
            // Walk the candidate until the country's length is reached.
            let mut compact = Vec::with_capacity(len);
            let mut end = s;
            for (k, &c) in bytes[s..ws + m.end()].iter().enumerate() {
                if c == b' ' {
                    continue;
                }
                compact.push(c);
                if compact.len() == len {
                    end = s + k + 1;
                    break;
                }
            }
            if compact.len() == len
                && right_clear(bytes, end)
                && iban_mod97(&compact)
                && !validators::EXAMPLE_IBANS
                    .iter()
                    .any(|x| x.as_bytes() == compact.as_slice())
            {
                push(b.iban, s, end);
            }
        }
    }
}

// ---------------------------------------------------------------------------------------------
// .env blocks

/// The line's margin: its indentation, with the `>` of a quoted email (`> KEY=VALUE`) or the
/// `+` of a diff's added line.
fn indent(bytes: &[u8], ls: usize, le: usize) -> usize {
    bytes[ls..le]
        .iter()
        .take_while(|&&b| matches!(b, b' ' | b'\t' | b'>' | b'+'))
        .count()
}

/// Where a `KEY=VALUE` pair starts that opens a multi-line string at the end of the line `ls..le`
/// (`ENV = """DATABASE_URL=...`, a template literal's backtick): the first line of a dotenv
/// block written into code.
fn string_opening_pair(bytes: &[u8], ls: usize, le: usize) -> Option<usize> {
    let line = &bytes[ls..le];
    // The line's last quote: a backtick, or the last of three quotes of a kind.
    let q = memchr::memrchr3(b'"', b'\'', b'`', line)?;
    let opens = line[q] == b'`' || (q >= 2 && line[q - 2..q].iter().all(|&b| b == line[q]));
    let at = ls + q + 1;
    (opens && at < le && env_line(bytes, at, le).is_some()).then_some(at)
}

/// If the line `ls..le` looks like `KEY=VALUE` of a dotenv file (optionally indented, optionally
/// `export `), returns ((key start, key end), (value start, value end)); the key start is the line's.
fn env_line(bytes: &[u8], ls: usize, le: usize) -> Option<((usize, usize), (usize, usize))> {
    let ks = ls;
    let mut i = ls + indent(bytes, ls, le);
    if bytes[i..le].starts_with(b"export ") {
        i += 7;
    }
    if i >= le || !bytes[i].is_ascii_uppercase() {
        return None;
    }
    const KEY: [bool; 256] =
        byte_table!(b => b.is_ascii_uppercase() || b.is_ascii_digit() || b == b'_');
    while i < le && KEY[usize::from(bytes[i])] {
        i += 1;
    }
    if i >= le || bytes[i] != b'=' {
        return None;
    }
    let mut ve = le;
    while ve > i + 1 && matches!(bytes[ve - 1], b'\r' | b' ' | b'\t') {
        ve -= 1;
    }
    Some(((ks, i), (i + 1, ve)))
}

/// What a line is, for growing a dotenv block.
#[derive(Clone, Copy, PartialEq, Eq)]
enum EnvLine {
    Pair,
    Comment,
    Blank,
    Other,
}

fn env_kind(bytes: &[u8], ls: usize, le: usize, want_indent: usize) -> EnvLine {
    let ind = indent(bytes, ls, le);
    let rest = bytes[ls + ind..le].trim_ascii_end();
    if rest.is_empty() {
        EnvLine::Blank
    } else if ind != want_indent {
        EnvLine::Other
    } else if rest.starts_with(b"#") {
        EnvLine::Comment
    } else if env_line(bytes, ls, le).is_some() {
        EnvLine::Pair
    } else {
        EnvLine::Other
    }
}

/// The line before the one that starts at `start` (> 0): [`line_bounds`] of the newline that
/// ends it, with one search, not two.
fn line_before(lines: Lines, start: usize) -> (usize, usize) {
    let end = start - 1;
    let s = lines.rfind(0, end).map_or(0, |i| i + 1);
    (s, end)
}

/// The line after the one that ends at `end` (a newline): [`line_bounds`] of the byte after it.
fn line_after(lines: Lines, end: usize) -> (usize, usize) {
    (
        end + 1,
        lines
            .find(end + 1, lines.bytes.len())
            .unwrap_or(lines.bytes.len()),
    )
}

/// The line holding `at`: where it starts, and where it ends (its newline, or the end of the text).
pub fn line_bounds(lines: Lines, at: usize) -> (usize, usize) {
    let n = lines.bytes.len();
    let s = lines.rfind(0, at).map_or(0, |i| i + 1);
    (s, lines.find(at, n).unwrap_or(n))
}

/// Where the line holding `at` ends: its newline, or the end of the text.
pub fn line_end(bytes: &[u8], at: usize) -> usize {
    super::lines::find_newline(bytes, at, bytes.len()).unwrap_or(bytes.len())
}

const SECRET_KEY_WORDS: &[&str] = &[
    "PASS",
    "PWD",
    "SECRET",
    "TOKEN",
    "KEY",
    "CREDENTIAL",
    "AUTH",
    "PRIVATE",
    "DSN",
    "WEBHOOK",
    "DATABASE_URL",
    "CONNECTION",
];

/// Whether a `.env` key names a credential: one of its `_` segments is a secret word (or ends
/// with one: `APIKEY`, `DBPASSWORD`), and the last segment does not say it is about the secret
/// (`API_KEY_HEADER`, `PUBLIC_KEY_PATH`, `PASSWORD_POLICY`). Segments, not substrings:
/// `KEYCLOAK_REALM`, `TOKENIZER_NAME`, `BYPASS_CACHE` name no credential.
fn env_secret_key(key: &[u8]) -> bool {
    const ABOUT: &[&[u8]] = &[
        b"PATH",
        b"PATHS",
        b"FILE",
        b"HEADER",
        b"POLICY",
        b"NAME",
        b"TYPE",
        b"ID",
        b"LENGTH",
        b"TTL",
        b"EXPIRY",
        b"ALGORITHM",
        b"ENABLED",
        b"PREFIX",
        b"ISSUER",
        b"AUDIENCE",
        b"SUBJECT",
        b"SCOPE",
        b"SCOPES",
        b"URL",
        b"ENDPOINT",
        b"HOST",
        b"PORT",
    ];
    let upper = key.to_ascii_uppercase();
    if SECRET_KEY_WORDS
        .iter()
        .any(|w| w.contains('_') && validators::memfind(&upper, w.as_bytes()))
    {
        return true;
    }
    let segs: Vec<&[u8]> = upper.split(|&b| b == b'_').collect();
    if segs.iter().any(|s| matches!(*s, b"PUBLIC" | b"SITE"))
        || segs.last().is_some_and(|l| ABOUT.contains(l))
    {
        return false;
    }
    // `PASS` opens its word (`PASSWORD`, `PASSPHRASE`); the others may end one (`APIKEY`).
    segs.iter().any(|s| {
        s.starts_with(b"PASS")
            || SECRET_KEY_WORDS
                .iter()
                .any(|w| !w.contains('_') && *w != "PASS" && s.ends_with(w.as_bytes()))
    })
}

fn harmless_value(v: &[u8]) -> bool {
    let v = v.trim_ascii();
    let v = v
        .strip_prefix(b"\"")
        .and_then(|x| x.strip_suffix(b"\""))
        .or_else(|| v.strip_prefix(b"'").and_then(|x| x.strip_suffix(b"'")))
        .unwrap_or(v);
    let lower = v.to_ascii_lowercase();
    v.is_empty()
        || (v.len() <= 6 && v.iter().all(u8::is_ascii_digit))
        || matches!(
            lower.as_slice(),
            b"true"
                | b"false"
                | b"yes"
                | b"no"
                | b"on"
                | b"off"
                | b"null"
                | b"none"
                | b"localhost"
                | b"127.0.0.1"
                | b"0.0.0.0"
                | b"production"
                | b"development"
                | b"staging"
                | b"test"
                | b"debug"
                | b"info"
                | b"warn"
                | b"error"
                | b"dev"
                | b"prod"
        )
        || validators::is_stand_in_password(v)
        || validators::is_placeholder(v)
        // a URL's password is judged by the url_password rule inside the block
        || validators::memfind(v, b"://")
}

/// Finds `.env` blocks around the keyword hits (`hits` in text order, as the keyword pass gives
/// them; `hit_lines` each one's line, as [`line_bounds`] gives it).
pub fn dotenv(
    e: &Engine,
    text: Lines,
    hits: &[(usize, usize, usize)],
    hit_lines: &[(usize, usize)],
    st: &mut State,
) {
    let bytes = text.bytes;
    let mut covered_until = 0;
    // Every secret and private-key finding is made by now (this runs last).
    st.note_secret_spans(&e.infos);
    let secret_spans = std::mem::take(&mut st.secret_spans);
    let mut lines: Vec<(usize, usize, EnvLine)> = Vec::new();
    // Starts of internal findings, sorted: made when a block first asks.
    let mut internal_starts: Option<Vec<usize>> = None;
    // Blocks come in text order.
    let (mut secret_at, mut internal_at) = (Rising::default(), Rising::default());
    for (&(h, _, _), &(ls, le)) in hits.iter().zip(hit_lines) {
        if h < covered_until {
            continue;
        }
        if env_line(bytes, ls, le).is_none() {
            // Other hits on this line would ask the same question.
            covered_until = le;
            continue;
        }
        let want = indent(bytes, ls, le);
        // Lines of the block: pairs and comments at the same indentation; a single blank line
        // between sections; leading comments belong to the block, trailing ones do not.
        lines.clear();
        lines.push((ls, le, EnvLine::Pair));
        let mut cur = (ls, le);
        while cur.0 > 0 {
            let (ps, pe) = line_before(text, cur.0);
            match env_kind(bytes, ps, pe, want) {
                EnvLine::Pair | EnvLine::Comment => {}
                EnvLine::Blank if ps > 0 => {
                    let (qs, qe) = line_before(text, ps);
                    if env_kind(bytes, qs, qe, want) != EnvLine::Pair {
                        break;
                    }
                }
                _ => {
                    if let Some(at) = (want == 0)
                        .then(|| string_opening_pair(bytes, ps, pe))
                        .flatten()
                    {
                        lines.insert(0, (at, pe, EnvLine::Pair));
                    }
                    break;
                }
            }
            lines.insert(0, (ps, pe, env_kind(bytes, ps, pe, want)));
            cur = (ps, pe);
        }
        cur = (ls, le);
        while cur.1 < bytes.len() {
            let (ns, ne) = line_after(text, cur.1);
            let kind = env_kind(bytes, ns, ne, want);
            match kind {
                EnvLine::Pair | EnvLine::Comment => {}
                EnvLine::Blank if ne < bytes.len() => {
                    let (qs, qe) = line_after(text, ne);
                    if !matches!(
                        env_kind(bytes, qs, qe, want),
                        EnvLine::Pair | EnvLine::Comment
                    ) {
                        break;
                    }
                }
                _ => break,
            }
            lines.push((ns, ne, kind));
            cur = (ns, ne);
        }
        // Leading blank lines never belong; trailing blanks and comments neither.
        while lines.first().is_some_and(|l| l.2 == EnvLine::Blank) {
            lines.remove(0);
        }
        while lines
            .last()
            .is_some_and(|l| matches!(l.2, EnvLine::Blank | EnvLine::Comment))
        {
            lines.pop();
        }
        let (Some(first), Some(last)) = (lines.first(), lines.last()) else {
            continue;
        };
        let (bs, be) = (first.0, last.1);
        covered_until = be.max(le);
        let pair_lines = lines.iter().filter(|l| l.2 == EnvLine::Pair);
        let three_pairs = pair_lines.clone().nth(2).is_some();
        if pair_lines.clone().nth(1).is_none() {
            continue;
        }
        let mut pairs = pair_lines.filter_map(|l| env_line(bytes, l.0, l.1));
        let first_in = secret_at.point(&secret_spans, |&(s, _)| s < bs);
        let has_secret_finding = secret_spans[first_in..]
            .iter()
            .take_while(|&&(s, _)| s < be)
            .any(|&(_, end)| end <= be);
        // A block holding a secret finding needs no look at its keys. A block of three pairs or
        // more that names internal hosts or addresses is a deployment's real configuration, not
        // an example (examples point at localhost).
        let sensitive = has_secret_finding
            || pairs.any(|((ks, ke), (vs, ve))| {
                env_secret_key(&bytes[ks..ke]) && !harmless_value(&bytes[vs..ve])
            })
            || (three_pairs && {
                let starts = internal_starts.get_or_insert_with(|| {
                    let mut v: Vec<usize> = st
                        .found
                        .iter()
                        .filter(|r| e.infos[r.info].category == Category::Internal)
                        .map(|r| r.start)
                        .collect();
                    v.sort_unstable();
                    v
                });
                starts
                    .get(internal_at.point(starts, |&s| s < bs))
                    .is_some_and(|&s| s < be)
            });
        if sensitive {
            st.found.push(Raw {
                info: e.builtins.dotenv,
                start: bs,
                end: be,
            });
        }
    }
    st.secret_spans = secret_spans;
}

/// The value spans of a dotenv block that redaction replaces (harmless values stay).
pub fn dotenv_values(bytes: &[u8], start: usize, end: usize) -> Vec<(usize, usize)> {
    let mut out = Vec::new();
    let mut pos = start;
    while pos < end {
        let le = memchr::memchr(b'\n', &bytes[pos..end]).map_or(end, |i| pos + i);
        if let Some((_, (vs, ve))) = env_line(bytes, pos, le) {
            if !harmless_value(&bytes[vs..ve]) {
                out.push((vs, ve));
            }
        }
        pos = le + 1;
    }
    out
}

// ---------------------------------------------------------------------------------------------
// Overlaps

fn class(c: Category) -> u8 {
    match c {
        Category::Secret | Category::PrivateKey => 0,
        Category::Pii => 1,
        Category::Internal => 2,
        Category::Dotenv => 3,
    }
}

/// Within a class of categories, overlapping findings keep the highest priority (then the longest);
/// an email inside a secret (the `user:pass@host` of a URL) is dropped. The findings come back in
/// text order: by start, then end, then class.
pub fn resolve_overlaps(infos: &[RuleInfo], mut raw: Vec<Raw>, email: usize) -> Vec<Raw> {
    if raw.len() <= 1 {
        return raw;
    }
    let class_of = |r: &Raw| usize::from(class(infos[r.info].category));
    let rank = |r: &Raw| (infos[r.info].priority, r.end - r.start);
    // One stable sort into the order the findings leave in: each pass pushes its findings in
    // text order, so this merges a few sorted runs, and equal ones keep the order the passes
    // found them in. Each class's findings are then in order among themselves too.
    // (The class is looked up only for findings with the same span: most comparisons end at the
    // start.)
    raw.sort_by(|a, b| {
        (a.start, a.end)
            .cmp(&(b.start, b.end))
            .then_with(|| class_of(a).cmp(&class_of(b)))
    });
    // Sweep each class in start order, one cluster of transitively overlapping findings at a time
    // (the classes side by side, each with its open cluster); inside a cluster (small), pick
    // greedily by rank. Dropped findings are marked, then taken out in one pass, which keeps the
    // order.
    let mut keep = vec![true; raw.len()];
    let mut open: [Vec<usize>; 4] = Default::default();
    let mut reach = [0usize; 4];
    let mut settle = |cluster: &mut Vec<usize>, raw: &[Raw]| {
        if cluster.len() > 1 {
            cluster.sort_by(|&a, &b| {
                rank(&raw[b])
                    .cmp(&rank(&raw[a]))
                    .then(raw[a].start.cmp(&raw[b].start))
            });
            let mut kept: Vec<usize> = Vec::with_capacity(cluster.len());
            for &i in cluster.iter() {
                let r = &raw[i];
                if kept
                    .iter()
                    .all(|&k| raw[k].end <= r.start || r.end <= raw[k].start)
                {
                    kept.push(i);
                } else {
                    keep[i] = false;
                }
            }
        }
        cluster.clear();
    };
    for (i, r) in raw.iter().enumerate() {
        let c = class_of(r);
        if open[c].is_empty() || r.start >= reach[c] {
            settle(&mut open[c], &raw);
            reach[c] = r.end;
        } else {
            reach[c] = reach[c].max(r.end);
        }
        open[c].push(i);
    }
    for cluster in &mut open {
        settle(cluster, &raw);
    }
    let mut flags = keep.iter();
    raw.retain(|_| *flags.next().expect("a flag per finding"));
    let mut out = raw;
    // Emails inside secrets go.
    // (Secrets and emails both in text order, as `out` is.)
    let secrets: Vec<(usize, usize)> = out
        .iter()
        .filter(|r| class(infos[r.info].category) == 0)
        .map(|r| (r.start, r.end))
        .collect();
    if !secrets.is_empty() {
        let mut at = Rising::default();
        out.retain(|r| {
            if r.info != email {
                return true;
            }
            let k = at.point(&secrets, |&(s, _)| s < r.end);
            !secrets[..k].iter().rev().take(8).any(|&(_, e)| e > r.start)
        });
    }
    out
}

#[cfg(test)]
mod overlap_tests {
    use super::super::{Category, RuleInfo, TestRng};
    use super::{class, resolve_overlaps, Raw};
    use crate::types::Verdict;

    /// The rule as stated, one class at a time: the class's findings by start (a stable sort),
    /// cut where no finding reaches the next; in each cluster, greedily by priority then length
    /// (then start); then emails that overlap a kept secret go; all in text order (start, end,
    /// class).
    fn reference(infos: &[RuleInfo], raw: &[Raw], email: usize) -> Vec<(usize, usize, usize)> {
        let rank = |r: &Raw| (infos[r.info].priority, r.end - r.start);
        let mut kept: Vec<Raw> = Vec::new();
        for c in 0..4 {
            let mut v: Vec<Raw> = raw
                .iter()
                .filter(|r| usize::from(class(infos[r.info].category)) == c)
                .copied()
                .collect();
            v.sort_by_key(|r| (r.start, r.end));
            let mut i = 0;
            while i < v.len() {
                let (mut j, mut reach) = (i + 1, v[i].end);
                while j < v.len() && v[j].start < reach {
                    reach = reach.max(v[j].end);
                    j += 1;
                }
                let mut cluster = v[i..j].to_vec();
                cluster.sort_by(|a, b| rank(b).cmp(&rank(a)).then(a.start.cmp(&b.start)));
                let mut chosen: Vec<Raw> = Vec::new();
                for r in cluster {
                    if chosen.iter().all(|k| k.end <= r.start || r.end <= k.start) {
                        chosen.push(r);
                    }
                }
                kept.extend(chosen);
                i = j;
            }
        }
        let secrets: Vec<Raw> = kept
            .iter()
            .filter(|r| class(infos[r.info].category) == 0)
            .copied()
            .collect();
        kept.retain(|r| {
            r.info != email || !secrets.iter().any(|s| s.start < r.end && r.start < s.end)
        });
        let mut out: Vec<(usize, usize, usize)> =
            kept.iter().map(|r| (r.start, r.end, r.info)).collect();
        out.sort_by_key(|&(s, e, info)| (s, e, class(infos[info].category)));
        out
    }

    #[test]
    fn overlaps_resolve_as_the_rule_states_them() {
        let info = |category, priority| RuleInfo {
            id: "t",
            category,
            verdict: Verdict::Never,
            priority,
            enabled: true,
        };
        // Every class, priorities that tie and that differ; info 4 is the email rule.
        let infos = vec![
            info(Category::Secret, 1),
            info(Category::Secret, 3),
            info(Category::PrivateKey, 2),
            info(Category::Pii, 0),
            info(Category::Pii, 0),
            info(Category::Pii, 2),
            info(Category::Internal, 1),
            info(Category::Dotenv, 0),
        ];
        let email = 4;
        let mut rng = TestRng::new(0x0e1a_95ed);
        for _ in 0..20_000 {
            let n = rng.below(24);
            let mut raw: Vec<Raw> = Vec::new();
            // Runs in text order, as the passes push them, and some strays.
            let mut at = 0;
            for _ in 0..n {
                if rng.below(4) == 0 {
                    at = rng.below(80);
                }
                let start = at + rng.below(6);
                let end = start + 1 + rng.below(12);
                at = start;
                raw.push(Raw {
                    info: rng.below(infos.len() as u64),
                    start,
                    end,
                });
            }
            let want = reference(&infos, &raw, email);
            let got: Vec<(usize, usize, usize)> = resolve_overlaps(&infos, raw.clone(), email)
                .iter()
                .map(|r| (r.start, r.end, r.info))
                .collect();
            assert_eq!(got, want, "{raw:?}");
        }
    }
}
