//! Pure checks on candidate values: checksums, entropy, placeholder shapes.

use super::wordscreen::WordScreen;

/// `c * log2(c)` for counts up to 1024, so entropy needs no logarithm per byte value.
fn table() -> &'static [f64] {
    static TABLE: std::sync::OnceLock<Vec<f64>> = std::sync::OnceLock::new();
    TABLE.get_or_init(|| {
        (0..=1024u32)
            .map(|c| {
                if c == 0 {
                    0.0
                } else {
                    c as f64 * (c as f64).log2()
                }
            })
            .collect()
    })
}

/// Shannon entropy in bits per byte: log2(n) - sum(c log2 c) / n.
pub fn entropy(s: &[u8]) -> f64 {
    let n = s.len();
    if n == 0 {
        return 0.0;
    }
    let t = table();
    if n >= t.len() {
        // Past the table (over 1 KiB): logarithms computed.
        let mut counts = vec![0usize; 256];
        for &b in s {
            counts[b as usize] += 1;
        }
        let f = |c: usize| c as f64 * (c as f64).log2();
        let mut sum = 0.0;
        for &b in s {
            let c = std::mem::take(&mut counts[b as usize]);
            if c > 0 {
                sum += f(c);
            }
        }
        return (f(n) - sum) / n as f64;
    }
    if n < 256 {
        // Keys and tokens: u8 counts, a quarter of the table to clear.
        sum_counts::<u8>(s, t)
    } else {
        sum_counts::<u16>(s, t)
    }
}

/// Entropy for a value shorter than the table, with counts of type `C` (wide enough for `s.len()`).
#[inline(always)]
fn sum_counts<C: Copy + Default + Into<usize> + std::ops::AddAssign + From<u8>>(
    s: &[u8],
    t: &[f64],
) -> f64 {
    let mut counts = [C::default(); 256];
    for &b in s {
        counts[b as usize] += C::from(1);
    }
    entropy_of_counts(s, &mut counts, t)
}

/// The entropy of `s` from its byte counts (which it zeroes), for `s` shorter than the table.
#[inline(always)]
fn entropy_of_counts<C: Copy + Default + Into<usize>>(
    s: &[u8],
    counts: &mut [C; 256],
    t: &[f64],
) -> f64 {
    let n = s.len();
    // Sum over the distinct bytes, met in the value itself: values are short (tens of bytes), so
    // this beats a pass over all 256 counts. Each count is taken once, then zeroed; a byte seen
    // again adds t[0] = 0.0, which leaves the sum exactly as it was. No branch on the count: random
    // values mispredict it about half the time, which made this function 2.7 times slower. Four
    // sums, not one: a single chain of additions waits out each one's latency (two chains still
    // left the additions as the bound). (The order of the additions moves the result by rounding
    // only, ~1e-15.)
    let mut sums = [0.0f64; 4];
    let mut quads = s.chunks_exact(4);
    for q in &mut quads {
        for (sum, &b) in sums.iter_mut().zip(q) {
            *sum += t[std::mem::take(&mut counts[b as usize]).into()];
        }
    }
    for &b in quads.remainder() {
        sums[0] += t[std::mem::take(&mut counts[b as usize]).into()];
    }
    (t[n] - ((sums[0] + sums[1]) + (sums[2] + sums[3]))) / n as f64
}

/// A rule's entropy floor: whether a value's [`entropy`] reaches `min`, mostly without the sum.
///
/// Shannon entropy is never below min-entropy, `log2(n / c)` for the count `c` of the most
/// common byte. Random keys clear their floor by that bound alone (a 40-byte token's commonest
/// byte shows up two or three times), so the counting pass decides them and only the rest get the
/// sum of logarithms. The bound must clear `min` by a margin far above the sum's rounding
/// (~1e-15), so that the answer is always the one `entropy(value) >= min` gives.
#[derive(Clone, Copy, Debug)]
pub struct EntropyFloor {
    min: f64,
    /// The largest share of the value one byte may have for the bound to decide.
    share: f64,
}

impl EntropyFloor {
    pub fn new(min: f64) -> EntropyFloor {
        EntropyFloor {
            min,
            share: (-min).exp2() * (1.0 - 1e-9),
        }
    }

    /// Whether `entropy(value) >= min`.
    pub fn holds(&self, value: &[u8]) -> bool {
        let n = value.len();
        if n == 0 || n >= 256 {
            return entropy(value) >= self.min;
        }
        let mut counts = [0u8; 256];
        for &b in value {
            counts[b as usize] += 1;
        }
        // The largest count, from all 256 at once (vector maxima: fewer steps than tracking it
        // byte by byte, for any value of more than a dozen bytes).
        let most = counts.iter().fold(0u8, |m, &c| m.max(c));
        if f64::from(most) <= n as f64 * self.share {
            return true;
        }
        entropy_of_counts(value, &mut counts, table()) >= self.min
    }
}

/// Luhn checksum over the digits of `s` (other bytes ignored).
pub fn luhn(s: &[u8]) -> bool {
    let mut sum = 0u32;
    let mut double = false;
    let mut n = 0;
    for &b in s.iter().rev() {
        if !b.is_ascii_digit() {
            continue;
        }
        let mut d = (b - b'0') as u32;
        if double {
            d *= 2;
            if d > 9 {
                d -= 9;
            }
        }
        sum += d;
        double = !double;
        n += 1;
    }
    n > 0 && sum.is_multiple_of(10)
}

/// Whether a run of card digits starts with a known issuer prefix and has that issuer's length.
pub fn card_issuer_ok(digits: &[u8]) -> bool {
    let len = digits.len();
    let prefix = |k: usize| -> u32 {
        digits[..k.min(len)]
            .iter()
            .fold(0u32, |a, &d| a * 10 + (d - b'0') as u32)
    };
    let p1 = prefix(1);
    let p2 = prefix(2);
    let p3 = prefix(3);
    let p4 = prefix(4);
    match p1 {
        4 => matches!(len, 16 | 19),
        5 => (51..=55).contains(&p2) && len == 16,
        2 => (2221..=2720).contains(&p4) && len == 16,
        3 => {
            ((p2 == 34 || p2 == 37) && len == 15)
                || (((300..=305).contains(&p3) || p2 == 36 || p2 == 38 || p2 == 39)
                    && (14..=19).contains(&len))
                || ((3528..=3589).contains(&p4) && (16..=19).contains(&len))
        }
        6 => {
            (p4 == 6011 || p2 == 65 || (644..=649).contains(&p3) || p2 == 62)
                && (16..=19).contains(&len)
        }
        _ => false,
    }
}

/// US SSN ranges: area 001-899 but not 666, group 01-99, serial 0001-9999.
pub fn ssn_ok(area: u32, group: u32, serial: u32) -> bool {
    area != 0 && area != 666 && area < 900 && group != 0 && serial != 0
}

/// IBAN length by country (ISO 13616 registry).
pub fn iban_length(country: &[u8]) -> Option<usize> {
    const TABLE: &[(&[u8; 2], usize)] = &[
        (b"AD", 24),
        (b"AE", 23),
        (b"AL", 28),
        (b"AT", 20),
        (b"AZ", 28),
        (b"BA", 20),
        (b"BE", 16),
        (b"BG", 22),
        (b"BH", 22),
        (b"BR", 29),
        (b"BY", 28),
        (b"CH", 21),
        (b"CR", 22),
        (b"CY", 28),
        (b"CZ", 24),
        (b"DE", 22),
        (b"DK", 18),
        (b"DO", 28),
        (b"EE", 20),
        (b"EG", 29),
        (b"ES", 24),
        (b"FI", 18),
        (b"FO", 18),
        (b"FR", 27),
        (b"GB", 22),
        (b"GE", 22),
        (b"GI", 23),
        (b"GL", 18),
        (b"GR", 27),
        (b"GT", 28),
        (b"HR", 21),
        (b"HU", 28),
        (b"IE", 22),
        (b"IL", 23),
        (b"IQ", 23),
        (b"IS", 26),
        (b"IT", 27),
        (b"JO", 30),
        (b"KW", 30),
        (b"KZ", 20),
        (b"LB", 28),
        (b"LC", 32),
        (b"LI", 21),
        (b"LT", 20),
        (b"LU", 20),
        (b"LV", 21),
        (b"MC", 27),
        (b"MD", 24),
        (b"ME", 22),
        (b"MK", 19),
        (b"MR", 27),
        (b"MT", 31),
        (b"MU", 30),
        (b"NL", 18),
        (b"NO", 15),
        (b"PK", 24),
        (b"PL", 28),
        (b"PS", 29),
        (b"PT", 25),
        (b"QA", 29),
        (b"RO", 24),
        (b"RS", 22),
        (b"SA", 24),
        (b"SC", 31),
        (b"SE", 24),
        (b"SI", 19),
        (b"SK", 24),
        (b"SM", 27),
        (b"ST", 25),
        (b"SV", 28),
        (b"TL", 23),
        (b"TN", 24),
        (b"TR", 26),
        (b"UA", 29),
        (b"VA", 22),
        (b"VG", 24),
        (b"XK", 20),
    ];
    TABLE
        .iter()
        .find(|(c, _)| c.as_slice() == country)
        .map(|&(_, n)| n)
}

/// ISO 7064 mod-97 check of a compact IBAN (uppercase letters and digits, no spaces).
pub fn iban_mod97(iban: &[u8]) -> bool {
    if iban.len() < 15 {
        return false;
    }
    let mut rem: u32 = 0;
    for &b in iban[4..].iter().chain(iban[..4].iter()) {
        let v = match b {
            b'0'..=b'9' => (b - b'0') as u32,
            b'A'..=b'Z' => (b - b'A') as u32 + 10,
            _ => return false,
        };
        rem = if v >= 10 {
            (rem * 100 + v) % 97
        } else {
            (rem * 10 + v) % 97
        };
    }
    rem == 1
}

/// Words that mark a value as a placeholder or documentation sample, not a live credential.
const PLACEHOLDER_WORDS: &[&str] = &[
    "example",
    "xxxx",
    "your",
    "placeholder",
    "dummy",
    "redacted",
    "changeme",
    "change_me",
    "sample",
    "insert",
    "replace",
    "todo",
    "fixme",
    "...",
    "${",
    "{{",
    "****",
    "0123456789",
    "123456789",
    "abcdefgh",
    "secret_here",
    "token_here",
    "key_here",
    "here_",
    // Documentation samples that are published on purpose: jwt.io's signature, Stripe's docs key.
    "SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c",
    // RFC 7617's and MDN's Basic credentials (Aladdin, open sesame).
    "QWxhZGRpbjpvcGVuIHNlc2FtZQ",
    "YWxhZGRpbjpvcGVuc2VzYW1l",
    "not-a-real",
    "not_a_real",
    "4eC39HqLyjWDarjtT1zdp7dc",
    // The TOTP secret of the Key Uri Format documentation and most authenticator tutorials.
    "JBSWY3DPEHPK3PXP",
];

/// IBANs that standards bodies and references publish as examples (the IBAN registry, the ECBS,
/// Wikipedia): documentation, like AKIAIOSFODNN7EXAMPLE.
pub const EXAMPLE_IBANS: &[&str] = &[
    "GB82WEST12345698765432",
    "GB29NWBK60161331926819",
    "GB33BUKB20201555555555",
    "DE89370400440532013000",
    "FR1420041010050500013M02606",
    "NL91ABNA0417164300",
    "ES9121000418450200051332",
    "IT60X0542811101000000123456",
    "CH9300762011623852957",
    "BE68539007547034",
];

/// Card numbers that payment providers publish for testing.
pub const TEST_CARDS: &[&str] = &[
    "4242424242424242",
    "4111111111111111",
    "5555555555554444",
    "4000056655665556",
    "378282246310005",
    "371449635398431",
    "6011111111111117",
    "3056930009020004",
    "5105105105105100",
    "4012888888881881",
    "5200828282828210",
    "2223003122003222",
    "6011000990139424",
    "3566002020360505",
    "6200000000000005",
    "36227206271667",
    "4000000000000002",
    "4000000000009995",
    "5454545454545454",
    "4444333322221111",
    // Stripe's cards for declines, fraud checks and 3D Secure.
    "4000002500003155",
    "4000002760003184",
    "4000003800000446",
    "4000000000003220",
    "4000000000003063",
    "4000008400001629",
    "4000000000000077",
    "4000000000000093",
    "4000000000000341",
    "4000000000000069",
    "4000000000000119",
    "4000000000000127",
    "4000000000000101",
    "4000000000009987",
    "4000000000009979",
    "4000000000000259",
    "4100000000000019",
    "4000000000004954",
    "4000000000006975",
];

/// One case-insensitive automaton over the placeholder words, built once.
fn placeholder_words() -> &'static aho_corasick::AhoCorasick {
    static AC: std::sync::OnceLock<aho_corasick::AhoCorasick> = std::sync::OnceLock::new();
    AC.get_or_init(|| {
        // A DFA: values are short, so the automaton's per-byte step is all that counts,
        aho_corasick::AhoCorasick::builder()
            .ascii_case_insensitive(true)
            .kind(Some(aho_corasick::AhoCorasickKind::DFA))
            // and no prefilter: on tens of bytes, setting one up costs more than the DFA's walk.
            .prefilter(false)
            .build(PLACEHOLDER_WORDS)
            .expect("placeholder words compile")
    })
}

/// The screen in front of the placeholder automaton (see `wordscreen`), built once.
fn word_screen() -> &'static WordScreen {
    static SCREEN: std::sync::OnceLock<WordScreen> = std::sync::OnceLock::new();
    SCREEN.get_or_init(|| {
        // The words, and the `<` every angle-bracket placeholder holds.
        let words: Vec<&[u8]> = PLACEHOLDER_WORDS
            .iter()
            .map(|w| w.as_bytes())
            .chain([&b"<"[..]])
            .collect();
        WordScreen::new(&words)
    })
}

/// Whether `value` holds a placeholder word (ASCII case ignored) behind the screen: the tests'
/// check that the screen never hides one.
#[cfg(test)]
fn has_placeholder_word(value: &[u8]) -> bool {
    passes_word_screen(value) && placeholder_words().is_match(value)
}

/// Whether `value` holds a placeholder word (ASCII case ignored) or an angle-bracket placeholder
/// ([`angle_placeholder`]). The automaton walks a value one dependent table step per byte; the
/// screen looks at many positions at once, so most values (which hold no word) are cleared
/// several times faster, and only the rest get the walk. Every value that holds a word passes
/// the screen, and so does every value with a `<` (one of the screen's words): a value the
/// screen clears needs no look for either.
fn has_placeholder_word_or_angle(value: &[u8]) -> bool {
    passes_word_screen(value) && (placeholder_words().is_match(value) || angle_placeholder(value))
}

fn passes_word_screen(value: &[u8]) -> bool {
    word_screen().may_hold(value)
}

/// True when the value looks like a placeholder: a documentation marker, or too few distinct bytes.
pub fn is_placeholder(value: &[u8]) -> bool {
    has_placeholder_word_or_angle(value) || distinct_alnum_upto(value, 5) <= 4
}

/// `<YOUR_API_KEY>`, `<paste token here>`, `<%= ENV["X"] %>`, `<<EOF`: a name in angle brackets,
/// or a value that opens with one or with a template tag. A `<` amid random bytes (a WordPress
/// salt's `<]#r;...` or `<<qJ:11US%^...`) is no placeholder.
fn angle_placeholder(value: &[u8]) -> bool {
    if value.first() == Some(&b'<') {
        // A template's tag: `<%= ... %>`, `<{{ ... }}>`, `<${VAR}>`.
        if value
            .get(1)
            .is_some_and(|c| matches!(c, b'%' | b'{' | b'$'))
        {
            return true;
        }
        // A name, then its `>` or the value's end.
        let rest = value.strip_prefix(b"<<").unwrap_or(&value[1..]);
        if angle_name(rest, b" -.:@/,'()", true) {
            return true;
        }
    }
    memchr::memchr_iter(b'<', value).any(|i| angle_name(&value[i + 1..], b" -.", false))
}

/// Whether `rest`, the bytes after a `<`, open with a name: a letter or `_`, then letters, digits,
/// `_` and bytes of `extra`, up to a `>` (or, where `to_end`, the end of `rest`).
fn angle_name(rest: &[u8], extra: &[u8], to_end: bool) -> bool {
    let close = memchr::memchr(b'>', rest);
    let name = &rest[..close.unwrap_or(rest.len())];
    (close.is_some() || to_end)
        && name
            .first()
            .is_some_and(|c| c.is_ascii_alphabetic() || *c == b'_')
        && name
            .iter()
            .all(|c| c.is_ascii_alphanumeric() || *c == b'_' || extra.contains(c))
}

/// Per byte: its bit among the 62 letters and digits (none for other bytes).
const ALNUM_BIT: [u64; 256] = {
    let mut t = [0u64; 256];
    let mut b = 0;
    let mut bit = 0;
    while b < 256 {
        if (b as u8).is_ascii_alphanumeric() {
            t[b] = 1 << bit;
            bit += 1;
        }
        b += 1;
    }
    t
};

/// How many distinct letters and digits `value` holds, counted up to `cap` and no further: a bit
/// per letter or digit, with a look at the count every eight bytes. A random value shows five
/// within its first eight bytes and is done; a 256-byte table cleared and summed per value cost
/// as much as the rest of the placeholder check.
fn distinct_alnum_upto(value: &[u8], cap: u32) -> u32 {
    let mut seen = 0u64;
    for chunk in value.chunks(8) {
        for &b in chunk {
            seen |= ALNUM_BIT[usize::from(b)];
        }
        if seen.count_ones() >= cap {
            return cap;
        }
    }
    seen.count_ones()
}

/// Words to look for in one pass (lowercase ASCII, each with a `whole` flag), with the bytes that
/// open them (either case) set at compile time.
pub struct WordList {
    words: &'static [(&'static [u8], bool)],
    first: [bool; 256],
}

impl WordList {
    pub const fn new(words: &'static [(&'static [u8], bool)]) -> WordList {
        let mut first = [false; 256];
        let mut i = 0;
        while i < words.len() {
            if let [c, ..] = words[i].0 {
                first[*c as usize] = true;
                first[c.to_ascii_uppercase() as usize] = true;
            }
            i += 1;
        }
        WordList { words, first }
    }
}

/// Whether `hay` contains any word of `list`, ignoring ASCII case, where a word starts: not after
/// a letter; for a word flagged `whole`, not before a letter either. One pass: a label list
/// searched word by word cost a memchr pass per word, on every window of digits.
pub fn contains_any_word_ci(hay: &[u8], list: &WordList) -> bool {
    let at = |i: usize| {
        list.first[usize::from(hay[i])]
            && (i == 0 || !hay[i - 1].is_ascii_alphabetic())
            && list.words.iter().any(|&(w, whole)| {
                let end = i + w.len();
                !w.is_empty()
                    && hay.get(i..end).is_some_and(|h| h.eq_ignore_ascii_case(w))
                    && (!whole || hay.get(end).is_none_or(|b| !b.is_ascii_alphabetic()))
            })
    };
    // Every letter has bit 0x40 set, and digits and punctuation do not: eight bytes of numbers and
    // separators (the usual text around digits) are passed over at once.
    let mut chunks = hay.chunks_exact(8);
    let mut i = 0;
    for c in chunks.by_ref() {
        let w = u64::from_le_bytes(c.try_into().expect("8 bytes"));
        if w & 0x4040_4040_4040_4040 != 0 && (i..i + 8).any(at) {
            return true;
        }
        i += 8;
    }
    (i..hay.len()).any(at)
}

/// Whether `hay` contains `needle`. For the short haystacks here (a value, a key, a line), memchr
/// on the needle's first byte and a compare at each candidate beat `memmem::find`, which builds a
/// searcher on every call.
pub fn memfind(hay: &[u8], needle: &[u8]) -> bool {
    let Some((&first, rest)) = needle.split_first() else {
        return false;
    };
    if hay.len() < needle.len() {
        return false;
    }
    memchr::memchr_iter(first, &hay[..=hay.len() - needle.len()])
        .any(|i| &hay[i + 1..i + needle.len()] == rest)
}

/// Common stand-in passwords that documentation uses, and template references.
pub fn is_placeholder_password(value: &[u8]) -> bool {
    is_stand_in_password(value) || has_placeholder_word_or_angle(value)
}

/// [`is_placeholder_password`] without the placeholder words, for callers that check
/// [`is_placeholder`] anyway.
pub fn is_stand_in_password(value: &[u8]) -> bool {
    const WORDS: &[&[u8]] = &[
        b"password",
        b"pass",
        b"passwd",
        b"pwd",
        b"secret",
        b"user",
        b"username",
        b"changeme",
        b"admin",
        b"root",
        b"test",
        b"guest",
        b"x",
        b"xxx",
        b"pw",
        b"token",
        b"mypassword",
        b"yourpassword",
    ];
    if value.len() <= 12 && WORDS.iter().any(|w| w.eq_ignore_ascii_case(value)) {
        return true;
    }
    if value
        .iter()
        .all(|&b| b == b'*' || b == b'x' || b == b'X' || b == b'.')
    {
        return true;
    }
    // Template references: $VAR, ${VAR}, $(cmd), $1, %VAR%, {{ var }}, {var}, <var>, [var], :var
    // (and bcrypt's `$2b$12$...`, a hash). A random value may open with one of those bytes too (a
    // WordPress salt `$$-?tf...`): the reference needs a name, a digit or a bracket after it.
    let name = |i: usize| {
        value
            .get(i)
            .is_some_and(|&c| c.is_ascii_alphabetic() || c == b'_')
    };
    // Deployment tools' tokens: `#{Var}#` (Azure DevOps), `__VAR__`, `@var@` (Maven filtering),
    // `%(var)s` (configparser).
    let wrapped = |open: &[u8], close: &[u8]| {
        value.len() > open.len() + close.len()
            && value.starts_with(open)
            && value.ends_with(close)
            && name(open.len())
    };
    if wrapped(b"#{", b"}") || wrapped(b"#{", b"}#") || wrapped(b"__", b"__") || wrapped(b"@", b"@")
    {
        return true;
    }
    match value.first() {
        Some(b'$') => name(1) || matches!(value.get(1), Some(b'{' | b'(' | b'0'..=b'9')),
        Some(b'{') => name(1) || matches!(value.get(1), Some(b'{' | b'$' | b' ')),
        Some(b'%') => name(1) || value.get(1) == Some(&b'('),
        Some(b'<' | b'[' | b':') => name(1),
        _ => false,
    }
}

/// Base64 of a DER public key (SubjectPublicKeyInfo: `MIIBIjAN...`, `MFkwEwYH...`, `MCowBQYD...`):
/// a SEQUENCE whose first element is a SEQUENCE that opens with an algorithm OID. Published by
/// design (browser extension `key` fields, JWKS, pinned keys). A PKCS#8 private key opens its
/// outer SEQUENCE with a version INTEGER instead, and is not matched.
pub fn is_public_key_der(value: &[u8]) -> bool {
    if value.len() < 40 || value[0] != b'M' {
        return false;
    }
    let Some(der) = b64_decode(&value[..16]) else {
        return false;
    };
    // A DER length: one byte under 0x80, else 0x81/0x82 then that many bytes.
    let skip_len = |i: usize| match der.get(i) {
        Some(&l) if l < 0x80 => Some(i + 1),
        Some(0x81) => Some(i + 2),
        Some(0x82) => Some(i + 3),
        _ => None,
    };
    let Some(i) = (der[0] == 0x30).then(|| skip_len(1)).flatten() else {
        return false;
    };
    der.get(i) == Some(&0x30) && skip_len(i + 1).is_some_and(|j| der.get(j) == Some(&0x06))
}

/// Decodes base64url (or standard base64) without padding; None on bad input.
pub fn b64_decode(s: &[u8]) -> Option<Vec<u8>> {
    fn val(c: u8) -> Option<u32> {
        Some(match c {
            b'A'..=b'Z' => (c - b'A') as u32,
            b'a'..=b'z' => (c - b'a') as u32 + 26,
            b'0'..=b'9' => (c - b'0') as u32 + 52,
            b'+' | b'-' => 62,
            b'/' | b'_' => 63,
            _ => return None,
        })
    }
    let s = s
        .strip_suffix(b"==")
        .or_else(|| s.strip_suffix(b"="))
        .unwrap_or(s);
    let mut out = Vec::with_capacity(s.len() * 3 / 4);
    let mut acc = 0u32;
    let mut bits = 0;
    for &c in s {
        acc = (acc << 6) | val(c)?;
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((acc >> bits) as u8);
            acc &= (1 << bits) - 1;
        }
    }
    Some(out)
}

/// Base64 of `user:password`: printable, a user before the first colon, and a password after it
/// that is no placeholder.
pub fn basic_auth_ok(value: &[u8]) -> bool {
    let Some(plain) = b64_decode(value) else {
        return false;
    };
    let Some(colon) = plain.iter().position(|&b| b == b':') else {
        return false;
    };
    let (user, pass) = (&plain[..colon], &plain[colon + 1..]);
    !user.is_empty()
        && !pass.is_empty()
        && plain.iter().all(|b| b.is_ascii_graphic() || *b == b' ')
        && !is_placeholder_password(pass)
}

/// A PEM header's label that names a private key: capitals, digits and spaces ending in
/// `PRIVATE KEY` (RSA, EC, OPENSSH, ENCRYPTED, or none), or PGP's `PRIVATE KEY BLOCK`.
pub fn private_key_label(label: &[u8]) -> bool {
    let label = label.strip_suffix(b" BLOCK").unwrap_or(label);
    label.ends_with(b"PRIVATE KEY")
        && label
            .iter()
            .all(|&b| b.is_ascii_uppercase() || b.is_ascii_digit() || b == b' ')
}

/// Base64 whose head decodes to a PEM private key's first line: `-----BEGIN `, a private key's
/// label, then `-----`.
pub fn base64_private_key(value: &[u8]) -> bool {
    // The first line fits in 80 decoded bytes; decode whole quads only.
    let head = &value[..value.len().min(108) / 4 * 4];
    let Some(plain) = b64_decode(head) else {
        return false;
    };
    let Some(label) = plain.strip_prefix(b"-----BEGIN ") else {
        return false;
    };
    let end = label.iter().position(|&b| b == b'-').unwrap_or(label.len());
    private_key_label(&label[..end]) && label[end..].starts_with(b"-----")
}

/// A JWT's first segment decodes to a JSON header naming an algorithm or a type.
pub fn jwt_ok(token: &[u8]) -> bool {
    let header = token.split(|&b| b == b'.').next().unwrap_or_default();
    match b64_decode(header) {
        Some(h) => {
            let h = String::from_utf8_lossy(&h);
            h.trim_start().starts_with('{') && (h.contains("\"alg\"") || h.contains("\"typ\""))
        }
        None => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// One word, searched on its own: the reference `contains_any_word_ci` is held to. Whether
    /// `hay` contains `needle_lower` (lowercase ASCII), ignoring ASCII case, where a word starts:
    /// not after a letter. With `whole`, not before a letter either.
    fn contains_word_ci(hay: &[u8], needle_lower: &[u8], whole: bool) -> bool {
        let Some((&first, rest)) = needle_lower.split_first() else {
            return false;
        };
        if hay.len() < needle_lower.len() {
            return false;
        }
        let starts = &hay[..=hay.len() - needle_lower.len()];
        memchr::memchr2_iter(first, first.to_ascii_uppercase(), starts).any(|i| {
            let end = i + needle_lower.len();
            hay[i + 1..end].eq_ignore_ascii_case(rest)
                && (i == 0 || !hay[i - 1].is_ascii_alphabetic())
                && (!whole || hay.get(end).is_none_or(|b| !b.is_ascii_alphabetic()))
        })
    }

    #[test]
    fn distinct_alnum_counts_each_letter_and_digit_once_up_to_the_cap() {
        let naive = |v: &[u8]| {
            let mut seen: Vec<u8> = v
                .iter()
                .copied()
                .filter(u8::is_ascii_alphanumeric)
                .collect();
            seen.sort_unstable();
            seen.dedup();
            seen.len()
        };
        for v in [
            &b""[..],
            b"aaaa",
            b"aAzZ09_-+/=",
            b"\xff\x80\x7f~ 09",
            b"sk-proj-0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ",
        ] {
            assert_eq!(distinct_alnum_upto(v, 62) as usize, naive(v), "{v:?}");
            assert_eq!(distinct_alnum_upto(v, 5) as usize, naive(v).min(5), "{v:?}");
        }
    }

    #[test]
    fn private_key_labels_raw_and_in_base64() {
        for l in [
            &b" RSA PRIVATE KEY"[..],
            b"PRIVATE KEY",
            b" PGP PRIVATE KEY BLOCK",
        ] {
            assert!(private_key_label(l), "{}", String::from_utf8_lossy(l));
        }
        for l in [
            &b" PUBLIC KEY"[..],
            b" CERTIFICATE",
            b" rsa private key",
            b"PRIVATE KEY X",
        ] {
            assert!(!private_key_label(l), "{}", String::from_utf8_lossy(l));
        }
        // base64 of "-----BEGIN PGP PRIVATE KEY BLOCK-----\n" and of a certificate's header.
        assert!(base64_private_key(
            b"LS0tLS1CRUdJTiBQR1AgUFJJVkFURSBLRVkgQkxPQ0stLS0tLQo="
        ));
        assert!(!base64_private_key(
            b"LS0tLS1CRUdJTiBDRVJUSUZJQ0FURS0tLS0tCk1JSUR2MzdLU2hYMkZWNHM3"
        ));
    }

    #[test]
    fn entropy_of_known_strings() {
        assert_eq!(entropy(b""), 0.0);
        assert_eq!(entropy(b"aaaa"), 0.0);
        assert!((entropy(b"abcd") - 2.0).abs() < 1e-9);
        assert!((entropy(b"aabb") - 1.0).abs() < 1e-9);
        // Past the table (1,024) and past u16 counts, the same formula holds.
        let long: Vec<u8> = b"ab".iter().copied().cycle().take(70_000).collect();
        assert!((entropy(&long) - 1.0).abs() < 1e-9);
        assert!((entropy(&long[..2_000]) - 1.0).abs() < 1e-9);
        // Either side of the table's end, and repeated bytes, against the textbook formula.
        let naive = |s: &[u8]| {
            let n = s.len() as f64;
            (0u8..=255)
                .map(|b| s.iter().filter(|&&x| x == b).count() as f64 / n)
                .filter(|&p| p > 0.0)
                .map(|p| -p * p.log2())
                .sum::<f64>()
        };
        let mixed: Vec<u8> = (0..1_100u32).map(|i| (i * i % 61) as u8 + b'A').collect();
        for n in [1, 2, 7, 40, 255, 256, 1_023, 1_024, 1_025, 1_100] {
            let s = &mixed[..n];
            assert!((entropy(s) - naive(s)).abs() < 1e-9, "length {n}");
        }
    }

    #[test]
    fn entropy_floors_answer_as_the_entropy_does() {
        let mut rng = super::super::TestRng::new(0xe7a0_0000_0000_0001);
        let alphabet: Vec<u8> = (b'!'..=b'~').collect();
        let (mut held, mut total) = (0, 0);
        for round in 0..20_000 {
            // Alphabets from one byte to all printable ones, lengths across the u8 counts' range
            // and past it.
            let k = 1 + rng.below(alphabet.len() as u64);
            let n = 1 + rng.below(if round % 10 == 0 { 400 } else { 80 });
            let v = rng.bytes(&alphabet[..k], n);
            for min in [2.5, 3.0, 3.3, 3.5, 4.0, 4.5] {
                let floor = EntropyFloor::new(min);
                let want = entropy(&v) >= min;
                assert_eq!(
                    floor.holds(&v),
                    want,
                    "{min} {:?}",
                    String::from_utf8_lossy(&v)
                );
                total += 1;
                held += usize::from(want);
            }
        }
        // Values whose entropy sits exactly on a floor (eight bytes, each as often): the bound
        // meets the floor there, so the sum decides, as `entropy` does.
        for c in 1..30 {
            let v: Vec<u8> = (0..8 * c).map(|i| b'a' + (i % 8) as u8).collect();
            assert_eq!(EntropyFloor::new(3.0).holds(&v), entropy(&v) >= 3.0, "{c}");
        }
        assert!(!EntropyFloor::new(0.5).holds(b""));
        assert!(held > 10_000 && total - held > 10_000, "{held} of {total}");
    }

    #[test]
    fn luhn_known_numbers() {
        assert!(luhn(b"4242 4242 4242 4242"));
        assert!(luhn(b"370326963994232"));
        assert!(!luhn(b"4242424242424241"));
    }

    #[test]
    fn issuers() {
        assert!(card_issuer_ok(b"4242424242424242"));
        assert!(card_issuer_ok(b"370326963994232"));
        assert!(card_issuer_ok(b"5387517503462348"));
        assert!(!card_issuer_ok(b"9999999999999999"));
        assert!(!card_issuer_ok(b"42424242424242")); // visa of length 14
    }

    #[test]
    fn ssn_ranges() {
        assert!(ssn_ok(138, 7, 8581));
        assert!(!ssn_ok(0, 7, 8581));
        assert!(!ssn_ok(666, 7, 8581));
        assert!(!ssn_ok(912, 7, 8581));
        assert!(!ssn_ok(138, 0, 8581));
        assert!(!ssn_ok(138, 7, 0));
    }

    #[test]
    fn iban_checks() {
        assert!(iban_mod97(b"GB82WEST12345698765432"));
        assert!(iban_mod97(b"DE89370400440532013000"));
        assert!(!iban_mod97(b"DE89370400440532013001"));
        assert_eq!(iban_length(b"FR"), Some(27));
        assert_eq!(iban_length(b"ZZ"), None);
    }

    #[test]
    fn entropy_ranges() {
        assert!(entropy(b"aaaaaaaa") < 0.01);
        assert!(entropy(b"N5Mq4ruGb2eV1ZKcllaXI7IV9RX6o9Ts1scwHVqK") > 4.0);
    }

    #[test]
    fn placeholders() {
        assert!(is_placeholder(b"AKIAIOSFODNN7EXAMPLE"));
        assert!(is_placeholder(b"ghp_XXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXX"));
        assert!(is_placeholder(b"<YOUR_API_KEY>"));
        assert!(is_placeholder(b"Bearer <paste token here>"));
        assert!(is_placeholder_password(b"<%= ENV[\"DB\"] %>"));
        // A `<` amid random bytes (a WordPress salt) marks nothing.
        assert!(!is_placeholder(
            b"8-)KG5vo{V6y;LSWp#*<hu27<wE0L5~^8nxaYa)_Z=I;Wcl"
        ));
        assert!(!is_placeholder(b"N5Mq4ruGb2eV1ZKcllaXI7IV9RX6o9Ts1scwHVqK"));
        // A value that opens with `<`: a name to its `>` (or the end) is one; a salt is not.
        for t in [
            &b"<<PUT_KEY_HERE>>"[..],
            b"<<EOF",
            b"<db password: ops@vault>",
        ] {
            assert!(angle_placeholder(t), "{}", String::from_utf8_lossy(t));
        }
        for t in [
            &b"<<qJ:11US%^.[V!sP^>mofZrn.=9t]P;>A#320eHmQvdrXfmdl92yGq*W]c-~eZo"[..],
            b"<]#r;LZWsLvSuY7w5s>;KfdMeLn&vKP",
            b"<x7!kQ>>b2",
        ] {
            assert!(!angle_placeholder(t), "{}", String::from_utf8_lossy(t));
        }
        assert!(is_placeholder_password(b"${DB_PASSWORD}"));
        assert!(is_placeholder_password(b"password"));
        assert!(!is_placeholder_password(b"Winter_2024!171"));
        // Template references need a name, a digit or a bracket after their opening byte.
        for t in [
            &b"$HOME"[..],
            b"$(pass show db)",
            b"$2b$12$KIXQJ1mhk2yWb6eYqYgZ.O",
            b"%DB_PASSWORD%",
            b"{{ db_password }}",
            b"{password}",
            b":password",
        ] {
            assert!(is_stand_in_password(t), "{}", String::from_utf8_lossy(t));
        }
        for t in [
            &b"$$-?tfmpV78wL+WCd"[..],
            b"%%7Kq!x2",
            b"{#Zq8!vB",
            b":-)Kq7v",
        ] {
            assert!(!is_stand_in_password(t), "{}", String::from_utf8_lossy(t));
        }
    }

    #[test]
    fn the_word_screen_never_hides_a_placeholder_word() {
        // Random values over letters, digits and symbols, some with a word spliced in in random
        // case; the screened answer must equal the automaton's on every one.
        let mut rng = super::super::TestRng::new(0x2545_f491_4f6c_dd1d);
        let alphabet = b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.$*{<>/+=";
        let (mut with_word, mut screened_out) = (0, 0);
        for round in 0..20_000 {
            let len = rng.below(40);
            let mut v = rng.bytes(alphabet, len);
            if round % 3 == 0 {
                let w = PLACEHOLDER_WORDS[rng.below(PLACEHOLDER_WORDS.len() as u64)];
                rng.splice_cased(&mut v, w.as_bytes());
            }
            if round % 5 == 0 {
                rng.splice_cased(&mut v, b"<api_token>");
            }
            let want = placeholder_words().is_match(&v);
            assert_eq!(
                has_placeholder_word(&v),
                want,
                "{:?}",
                String::from_utf8_lossy(&v)
            );
            assert_eq!(
                has_placeholder_word_or_angle(&v),
                want || angle_placeholder(&v),
                "{:?}",
                String::from_utf8_lossy(&v)
            );
            with_word += usize::from(want);
            screened_out += usize::from(!passes_word_screen(&v));
        }
        // Both answers occur, and the screen does clear values on its own.
        assert!(
            with_word > 6000 && screened_out > 1000,
            "{with_word} {screened_out}"
        );
    }

    #[test]
    fn memfind_finds_what_a_window_search_finds() {
        let hay = b"a://b:/c//d:///e::f";
        for len in 0..=hay.len() {
            for needle in [&b"://"[..], b":", b"//", b"f", b"::f", b"x", b""] {
                let h = &hay[..len];
                let want = !needle.is_empty() && h.windows(needle.len()).any(|w| w == needle);
                assert_eq!(memfind(h, needle), want, "{len} {needle:?}");
            }
        }
    }

    #[test]
    fn case_insensitive_contains_at_word_starts() {
        let has = |h: &[u8], n: &[u8]| contains_word_ci(h, n, false);
        assert!(has(b"Customer SSN: 123", b"ssn"));
        assert!(has(b"ssn", b"ssn"));
        assert!(has(b"xx Social Security", b"social security"));
        assert!(has(b"x sSn", b"ssn"));
        assert!(has(b"SSNs on file", b"ssn"));
        assert!(!has(b"ss n", b"ssn"));
        assert!(!has(b"ss", b"ssn"));
        assert!(!has(b"anything", b""));
        // Not inside a word; with `whole`, not as a word's start either.
        assert!(!has(b"import classnames", b"ssn"));
        assert!(!has(b"businessName", b"ssn"));
        assert!(has(b"telemetry", b"tel"));
        assert!(!contains_word_ci(b"telemetry", b"tel", true));
        assert!(contains_word_ci(b"tel: +1", b"tel", true));
        assert!(contains_word_ci(b"Tel", b"tel", true));
    }

    #[test]
    fn any_word_in_one_pass_finds_what_each_word_search_finds() {
        const WORDS: &[(&[u8], bool)] = &[
            (b"phone", false),
            (b"tel", true),
            (b"call ", false),
            (b"ssn", false),
        ];
        const LIST: WordList = WordList::new(WORDS);
        const NONE: WordList = WordList::new(&[]);
        let mut rng = super::super::TestRng::new(0xa11_0000_0000_0003);
        const ALPHABET: &[u8] = b"phonePHONEtelTELcalsnSN x9-:";
        for round in 0..3000 {
            let len = rng.below(40);
            let hay: Vec<u8> = (0..len)
                .map(|_| ALPHABET[rng.below(ALPHABET.len() as u64)])
                .collect();
            let want = WORDS
                .iter()
                .any(|&(w, whole)| contains_word_ci(&hay, w, whole));
            assert_eq!(
                contains_any_word_ci(&hay, &LIST),
                want,
                "round {round}: {:?}",
                String::from_utf8_lossy(&hay)
            );
        }
        assert!(contains_any_word_ci(b"Tel: 1", &LIST));
        assert!(!contains_any_word_ci(b"telemetry 1", &LIST));
        assert!(!contains_any_word_ci(b"anything", &NONE));
    }

    #[test]
    fn jwt_header() {
        assert!(jwt_ok(
            b"eyJhbGciOiAiSFMyNTYiLCAidHlwIjogIkpXVCJ9.eyJzdWIi.sig"
        ));
        assert!(!jwt_ok(b"eyJmb28iOiJiYXIifQ.x.y"));
    }
}
