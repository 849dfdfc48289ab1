//! Generic credential assignments: `password = "..."`, `API_KEY: ...`, `"client_secret": "..."`,
//! `export TOKEN=...`, `setPassword("...")`, `define('DB_PASSWORD', '...')`, `<password>...</password>`,
//! `--password ...`, `.netrc`'s `password ...`, "my password is ...".
//!
//! Hand-written rather than a regex: a keyword hit already says where the key is, so the detector
//! reads the key around it, then the operator, then the value, in one pass over a few bytes. The value
//! must look like a credential: not a placeholder, a reference to the environment, an identifier, a
//! path, a URL, a number or a boolean.

use super::detectors::State;
use super::validators::{
    b64_decode, entropy, is_placeholder, is_public_key_der, is_stand_in_password, memfind,
};
use super::{Engine, Raw};

fn is_key_char(b: u8) -> bool {
    const KEY: [bool; 256] =
        byte_table!(b => b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.' | b'-'));
    KEY[usize::from(b)]
}

/// A key split into lowercase words at `_ . -` and camelCase boundaries, on the stack: keys are
/// at most a few dozen bytes and this runs at every keyword hit.
struct Segments {
    low: [u8; Segments::MAX_KEY],
    spans: [(u8, u8); Segments::MAX_SEGS],
    n: usize,
}

impl Segments {
    const MAX_KEY: usize = 255;
    const MAX_SEGS: usize = 32;

    fn new(key: &[u8]) -> Segments {
        let mut s = Segments {
            low: [0; Segments::MAX_KEY],
            spans: [(0, 0); Segments::MAX_SEGS],
            n: 0,
        };
        let key = &key[..key.len().min(Segments::MAX_KEY)];
        let mut start: Option<usize> = None;
        let mut prev_lower = false;
        for (i, &b) in key.iter().enumerate() {
            s.low[i] = b.to_ascii_lowercase();
            if !b.is_ascii_alphanumeric() {
                if let Some(st) = start.take() {
                    s.push(st, i);
                }
                prev_lower = false;
                continue;
            }
            if b.is_ascii_uppercase() && prev_lower {
                if let Some(st) = start.take() {
                    s.push(st, i);
                }
            }
            start.get_or_insert(i);
            prev_lower = b.is_ascii_lowercase() || b.is_ascii_digit();
        }
        if let Some(st) = start {
            s.push(st, key.len());
        }
        s
    }

    /// Adds a word; past MAX_SEGS the last slot keeps the latest word, so the key's last word
    /// (which decides a lot) is always right.
    fn push(&mut self, start: usize, end: usize) {
        let i = self.n.min(Segments::MAX_SEGS - 1);
        // Both fit in a u8: the key is cut to MAX_KEY bytes.
        self.spans[i] = (start as u8, end as u8);
        self.n = (self.n + 1).min(Segments::MAX_SEGS);
    }

    fn get(&self, i: usize) -> &[u8] {
        let (s, e) = self.spans[i];
        &self.low[s as usize..e as usize]
    }

    fn len(&self) -> usize {
        self.n
    }

    fn iter(&self) -> impl Iterator<Item = &[u8]> + '_ {
        (0..self.n).map(|i| self.get(i))
    }
}

/// Words ending a segment that make a key a credential's name.
const STRONG_ENDINGS: &[&str] = &[
    "password",
    "passwd",
    "pwd",
    "passphrase",
    "secret",
    "token",
    "apikey",
    "accesskey",
    "secretkey",
    "privatekey",
    "credential",
    "credentials",
    "requirepass",
];
/// Words before `key` that make it a credential's name (`api_key`, `accessKey`, ...). Kept sorted
/// for the reader (a test checks the order); looked up through a [`WordSet`].
const KEY_QUALIFIERS: &[&str] = &[
    "access",
    "account",
    "admin",
    "api",
    "app",
    "auth",
    "client",
    "encryption",
    "license",
    "master",
    "private",
    "sas",
    "secret",
    "service",
    "shared",
    "signing",
    "storage",
    "subscription",
    "webhook",
];
/// A key whose last word is one of these names metadata about a secret, not the secret. Sorted, as
/// above.
const DENY_LAST: &[&str] = &[
    "alg",
    "algo",
    "algorithm",
    "arn",
    "audience",
    "bits",
    "budget",
    "bytes",
    "changed",
    "chars",
    "charset",
    "class",
    "col",
    "column",
    "confirm",
    "confirmation",
    "count",
    "counter",
    "desc",
    "description",
    "digest",
    "dir",
    "display",
    "duration",
    "enabled",
    "encoder",
    "encryption",
    "endpoint",
    "env",
    "error",
    "errors",
    "example",
    "expiration",
    "expire",
    "expires",
    "expiresin",
    "expiry",
    "field",
    "file",
    "filename",
    "format",
    "hash",
    "hashed",
    "header",
    "help",
    "hint",
    "host",
    "icon",
    "id",
    "ids",
    "index",
    "input",
    "key",
    "keyboard",
    "keys",
    "kind",
    "label",
    "len",
    "length",
    "lifetime",
    "limit",
    "location",
    "manager",
    "maps",
    "max",
    "message",
    "method",
    "min",
    "mode",
    "name",
    "names",
    "param",
    "path",
    "pattern",
    "placeholder",
    "policy",
    "port",
    "prefix",
    "prompt",
    "provider",
    "ref",
    "regex",
    "region",
    "required",
    "reset",
    "rotation",
    "rules",
    "schema",
    "scheme",
    "scope",
    "scopes",
    "secrets",
    "service",
    "size",
    "source",
    "store",
    "strength",
    "style",
    "suffix",
    "table",
    "template",
    "text",
    "timeout",
    "title",
    "tokenizer",
    "tokens",
    "ttl",
    "type",
    "types",
    "uri",
    "url",
    "urls",
    "usage",
    "user",
    "username",
    "validator",
    "validity",
    "var",
    "version",
    "visible",
];

/// A set of short words, each packed into a u128 and looked up by binary search: integer compares,
/// where comparing byte slices calls memcmp at every step (this runs at every keyword hit).
struct WordSet(Vec<u128>);

impl WordSet {
    fn new(words: &[&str]) -> WordSet {
        let mut v: Vec<u128> = words
            .iter()
            .map(|w| WordSet::pack(w.as_bytes()).expect("list words are at most 16 bytes"))
            .collect();
        v.sort_unstable();
        WordSet(v)
    }

    /// Big-endian, zero-padded: words hold no zero byte, so two words pack alike only if equal.
    fn pack(w: &[u8]) -> Option<u128> {
        let mut b = [0u8; 16];
        b.get_mut(..w.len())?.copy_from_slice(w);
        Some(u128::from_be_bytes(b))
    }

    fn contains(&self, w: &[u8]) -> bool {
        WordSet::pack(w).is_some_and(|x| self.0.binary_search(&x).is_ok())
    }
}

/// (KEY_QUALIFIERS, DENY_LAST) as word sets, built once.
fn word_sets() -> &'static (WordSet, WordSet) {
    static SETS: std::sync::OnceLock<(WordSet, WordSet)> = std::sync::OnceLock::new();
    SETS.get_or_init(|| (WordSet::new(KEY_QUALIFIERS), WordSet::new(DENY_LAST)))
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Strength {
    Strong,
    Weak,
}

fn key_strength(key: &[u8]) -> Option<Strength> {
    let segs = Segments::new(key);
    let n = segs.len();
    if n == 0 {
        return None;
    }
    let last = segs.get(n - 1);
    let is = |w: &[u8], set: &WordSet| set.contains(w);
    let (key_qualifiers, deny_last) = word_sets();
    // `existingSecret: pg-credentials` names a Kubernetes Secret object.
    // `csrftoken`, `XSRF-TOKEN`: a form's anti-forgery nonce, which logs no one in. A
    // `hashed_secret` (a scanner's baseline) is a digest.
    if segs.iter().any(|s| {
        s == b"existing" || s == b"hashed" || s.starts_with(b"csrf") || s.starts_with(b"xsrf")
    }) {
        return None;
    }
    let strong = segs.iter().any(|s| {
        s == b"pass" || s == b"pw" || STRONG_ENDINGS.iter().any(|e| s.ends_with(e.as_bytes()))
    }) || (1..n).any(|i| segs.get(i) == b"key" && is(segs.get(i - 1), key_qualifiers));
    if strong {
        // `password_hash`, `token_ttl`, `secret_id`: about the secret, not the secret. A trailing
        // `key` is fine when a qualifier says what kind (api_key), and `key` alone is weak.
        let denied = is(last, deny_last)
            && !(last == b"key" && n >= 2 && is(segs.get(n - 2), key_qualifiers));
        return (!denied).then_some(Strength::Strong);
    }
    // A key into data, or one that is public by design, is no credential: `partition_key`,
    // `cache_key`, `publicKey`, reCAPTCHA's `siteKey`.
    const DATA_KEYS: &[&[u8]] = &[
        b"partition",
        b"object",
        b"cache",
        b"translation",
        b"sort",
        b"primary",
        b"foreign",
        b"routing",
        b"lookup",
        b"public",
        b"site",
        b"gpg",
        b"pgp",
        b"row",
        b"shard",
        b"dedup",
        b"i18n",
        b"map",
        b"dict",
        b"hash",
    ];
    if last == b"key" && n >= 2 && DATA_KEYS.contains(&segs.get(n - 2)) {
        return None;
    }
    // `AUTH_SALT` (WordPress): random bytes that sign sessions, weak like a bare key.
    (last == b"key" || last == b"auth" || last == b"salt").then_some(Strength::Weak)
}

/// The strengths of the keys met so far in a scan: a config file, a log or a table names the same
/// keys again and again, and splitting a key into words and matching them against the lists cost
/// ~900 instructions a key. Sixteen slots, picked by a hash of the key; a slot holds where in the
/// text its key is (so a hit is a compare, with no copy of the key kept).
pub struct KeyMemo {
    slots: [Option<(usize, usize, Option<Strength>)>; 16],
}

impl KeyMemo {
    pub fn new() -> KeyMemo {
        KeyMemo { slots: [None; 16] }
    }

    /// `key_strength` of the key at `ks..ke` of `bytes`.
    fn strength(&mut self, bytes: &[u8], ks: usize, ke: usize) -> Option<Strength> {
        let key = &bytes[ks..ke];
        let h = key
            .iter()
            .fold(key.len() as u32, |h, &b| h.rotate_left(5) ^ u32::from(b))
            .wrapping_mul(0x9e37_79b9);
        let slot = &mut self.slots[(h >> 28) as usize];
        if let Some((s, e, strength)) = *slot {
            if bytes[s..e] == *key {
                return strength;
            }
        }
        let strength = key_strength(key);
        *slot = Some((ks, ke, strength));
        strength
    }
}

/// How the value was written.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Form {
    /// a quoted string literal
    Quoted,
    /// a bare token after `=` or `:`
    Bare,
    /// a bare token after whitespace only (`password P`, `--password P`, "password is P")
    Spaced,
}

/// The byte classes `value_ok` counts.
#[derive(Clone, Copy)]
enum Class {
    Space,
    /// digits and `. : - _ +` (what versions, times and numbers are made of)
    Numeric,
    Digit,
    Upper,
    Lower,
    Slash,
    Colon,
}

/// Per byte: a one in the 8-bit lane of each class it belongs to (lanes in `Class` order).
const CLASS_LANES: [u64; 256] = {
    let mut t = [0u64; 256];
    let mut i = 0;
    while i < 256 {
        let b = i as u8;
        let on = [
            b.is_ascii_whitespace(),
            b.is_ascii_digit() || matches!(b, b'.' | b':' | b'-' | b'_' | b'+'),
            b.is_ascii_digit(),
            b.is_ascii_uppercase(),
            b.is_ascii_lowercase(),
            b == b'/',
            b == b':',
        ];
        let mut v = 0u64;
        let mut k = 0;
        while k < on.len() {
            if on[k] {
                v |= 1 << (8 * k);
            }
            k += 1;
        }
        t[i] = v;
        i += 1;
    }
    t
};

/// How many bytes of a value fall in each class, counted in one pass: each byte adds its table
/// entry to one word whose 8-bit lanes are the counts, flushed to full counters every 255 bytes
/// (before a lane could carry into the next).
struct ClassCounts([usize; 8]);

impl ClassCounts {
    fn of(value: &[u8]) -> ClassCounts {
        let mut counts = [0usize; 8];
        for chunk in value.chunks(255) {
            let lanes = chunk
                .iter()
                .fold(0u64, |acc, &b| acc + CLASS_LANES[usize::from(b)]);
            for (k, c) in counts.iter_mut().enumerate() {
                *c += (lanes >> (8 * k) & 0xff) as usize;
            }
        }
        ClassCounts(counts)
    }

    fn get(&self, c: Class) -> usize {
        self.0[c as usize]
    }
}

/// Whether a value holds a credential.
fn value_ok(value: &[u8], form: Form, strength: Strength, next: u8) -> bool {
    let n = value.len();
    if !(6..=1024).contains(&n) {
        return false;
    }
    // One pass for the byte classes every branch below needs: a table add per byte (see
    // `ClassCounts`), where a chain of `any`/`filter` passes cost about a fifth of the reader's
    // time on long random values, and five branch-free counters per byte still ~15 instructions.
    let c = ClassCounts::of(value);
    let (space, numeric) = (c.get(Class::Space), c.get(Class::Numeric));
    let (digits, uppers, lowers) = (
        c.get(Class::Digit),
        c.get(Class::Upper),
        c.get(Class::Lower),
    );
    let symbols = n - digits - uppers - lowers;
    // Whitespace, or only digits and separators (a version, a time, a number).
    if space > 0 || numeric == n {
        return false;
    }
    if form != Form::Quoted && matches!(next, b'(' | b'[' | b'{' | b'.') {
        return false; // a call or an index: code, not a literal
    }
    // A lowercase path of three parts or more: where a secret is kept (`secret/data/app/config`).
    if c.get(Class::Slash) >= 2
        && value.split(|&b| b == b'/').all(|p| {
            !p.is_empty()
                && p.iter().all(|&b| {
                    b.is_ascii_lowercase() || b.is_ascii_digit() || matches!(b, b'-' | b'_' | b'.')
                })
        })
    {
        return false;
    }
    // A YAML tag (`!vault |`, `!Ref`, `!env_var`), not a value.
    if value[0] == b'!'
        && value[1..]
            .iter()
            .all(|b| b.is_ascii_alphabetic() || *b == b'_')
    {
        return false;
    }
    // A path in code: `std::nullopt`, `Foo::BAR`.
    let colons = c.get(Class::Colon) > 0;
    if colons
        && memfind(value, b"::")
        && value
            .split(|&b| b == b':')
            .all(|p| p.iter().all(|b| b.is_ascii_alphanumeric() || *b == b'_'))
    {
        return false;
    }
    let starts = |p: &[u8]| value.len() >= p.len() && value[..p.len()].eq_ignore_ascii_case(p);
    let ends = |x: &[u8]| value.len() >= x.len() && value[n - x.len()..].eq_ignore_ascii_case(x);
    // Lowercase: a value's lowercased first byte picks the few to compare.
    const ENV_PREFIXES: &[&[u8]] = &[
        b"process.env",
        b"os.environ",
        b"os.getenv",
        b"getenv",
        b"env(",
        b"env[",
        b"env.",
        b"system.getenv",
        b"import.meta",
        b"deno.env",
        b"secrets.",
        b"vars.",
        b"config.",
        b"settings.",
        b"self.",
        b"this.",
        b"ctx.",
        b"context.",
        b"request.",
        b"req.",
        b"args.",
        b"options.",
        b"params.",
        b"props.",
        b"vault:",
        b"ref+",
        b"arn:",
        b"sha256:",
        b"sha512-",
        b"sha384-",
        b"sha1-",
        // Stripe's publishable keys are public by design; `$(...)` runs a command.
        b"pk_live_",
        b"pk_test_",
        b"$(",
        // SOPS ciphertext (meant to be committed) and Azure's Key Vault references.
        b"enc[aes256_gcm,",
        b"@microsoft.keyvault(",
    ];
    const WORDS: &[&[u8]] = &[
        b"true",
        b"false",
        b"null",
        b"none",
        b"nil",
        b"undefined",
        b"required",
        b"optional",
        b"string",
        b"boolean",
        b"integer",
        b"number",
        b"object",
        b"bytes",
    ];
    const FILE_ENDINGS: &[&[u8]] = &[
        b".pem", b".key", b".json", b".txt", b".yaml", b".yml", b".crt", b".p12", b".env", b".cfg",
        b".toml", b".der", b".jks",
    ];
    const WORDS_MAX: usize = {
        let (mut m, mut i) = (0, 0);
        while i < WORDS.len() {
            if WORDS[i].len() > m {
                m = WORDS[i].len();
            }
            i += 1;
        }
        m
    };
    // The bytes the prefixes open with: most values open with none of them.
    const ENV_FIRST: [bool; 256] = first_bytes(ENV_PREFIXES);
    let first = value[0].to_ascii_lowercase();
    if (ENV_FIRST[usize::from(first)] && ENV_PREFIXES.iter().any(|p| p[0] == first && starts(p)))
        || (n <= WORDS_MAX && WORDS.iter().any(|w| value.eq_ignore_ascii_case(w)))
        || (colons && memfind(value, b"://"))
        || ([&b"~/"[..], b"./", b"../"].iter().any(|p| starts(p))
            || (value[0] == b'/' && !base64_with_random_part(value)))
        // Every ending has its dot among the last six bytes: most values have none there.
        || (value[n.saturating_sub(6)..].contains(&b'.') && FILE_ENDINGS.iter().any(|x| ends(x)))
    {
        return false;
    }
    // The costlier looks last: most values that are code end above.
    if is_placeholder(value) || is_stand_in_password(value) || is_public_key_der(value) {
        return false;
    }
    let has_digit = digits > 0;
    let has_symbol = symbols > 0;
    let classes = [has_digit, lowers > 0, uppers > 0, has_symbol]
        .iter()
        .filter(|&&x| x)
        .count();
    let ent = entropy(value);
    // Code: `some_var`, `cfg.password2`, `DB_PASSWORD`, `process.env.X!`: identifier parts with at most
    // trailing digits, joined by dots.
    let trimmed = value
        .strip_suffix(b"!")
        .or_else(|| value.strip_suffix(b"?"))
        .unwrap_or(value);
    // Shapes of code, each computed only by the branch that asks.
    let identifier = || {
        trimmed.split(|&b| b == b'.').all(|part| {
            let letters = part
                .iter()
                .take_while(|b| b.is_ascii_alphabetic() || matches!(b, b'_' | b'$'))
                .count();
            letters > 0
                && part[letters..]
                    .iter()
                    .all(|b| b.is_ascii_digit() || *b == b'_')
        })
    };
    let dotted_code = || {
        trimmed.contains(&b'.')
            && trimmed.split(|&b| b == b'.').all(|p| {
                !p.is_empty()
                    && (p[0].is_ascii_alphabetic() || p[0] == b'_' || p[0] == b'$')
                    // `&.` is Ruby's safe navigation (`credentials.github&.secret`).
                    && p.strip_suffix(b"&")
                        .unwrap_or(p)
                        .iter()
                        .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'$'))
            })
    };
    // camelCase / PascalCase words (`accessToken`, `PasswordField`): letters only, every capital
    // starts a lowercase run.
    let camel_words = || {
        digits == 0
            && symbols == 0
            && !value[n - 1].is_ascii_uppercase()
            && value
                .windows(2)
                .all(|w| !(w[0].is_ascii_uppercase() && w[1].is_ascii_uppercase()))
    };
    if strength == Strength::Weak {
        // An id under a bare `key` (`idempotency_key`, a cache key) is a UUID, not a secret; a
        // lowercase path (`prod/payments/stripe-api-key-v2`) names where a secret is kept.
        let path = uppers == 0 && value.contains(&b'/');
        return n >= 16
            && !path
            && ent >= 3.5
            && has_digit
            && (uppers + lowers) > 0
            && !identifier()
            && !is_uuid(value)
            // A UUID in base64 (a Kafka record's key), an id all the same.
            && !b64_decode(value).is_some_and(|d| is_uuid(&d));
    }
    // A PowerShell cmdlet (`$pass = ConvertTo-SecureString "..."`): the call, not the value.
    if form == Form::Bare && is_cmdlet(value) {
        return false;
    }
    match form {
        Form::Quoted => {
            if has_digit || has_symbol {
                classes >= 2 && ent >= 2.5
            } else {
                // letters only: random case, long, not camelCase words
                n >= 10 && uppers >= 2 && lowers >= 2 && !camel_words() && ent >= 3.0
            }
        }
        Form::Bare | Form::Spaced => {
            // Random letters in both cases (`WUcvTrEGNkJWUxHE`, `Gbc_EFfpdEWrQUwqkG!`): the case
            // changes often, where words in code change it once per word (`XMLHttpRequest`,
            // `MAX_Retry_Count`). Only the letters count, so an identifier's `_` is no change.
            if digits == 0
                && (symbols == 0 || identifier())
                && n >= 12
                && uppers >= 3
                && lowers >= 3
            {
                let mut letters = value.iter().filter(|b| b.is_ascii_alphabetic());
                let mut last = letters.next().map(u8::is_ascii_uppercase);
                let (mut changes, mut caps_pair, mut last_upper) = (0, false, false);
                for b in letters {
                    let upper = b.is_ascii_uppercase();
                    changes += usize::from(last != Some(upper));
                    caps_pair |= upper && last == Some(true);
                    (last, last_upper) = (Some(upper), upper);
                }
                // camelCase words: each capital opens a lowercase run.
                let words = !caps_pair && !last_upper;
                return changes >= 4 && changes * 3 >= n && !words && ent >= 3.3;
            }
            // Code shapes, unless a dotted part mixes letters and digits as no name does: a
            // Helm value's `KS52.wNVSEV684u3f`, a Discord token's three parts.
            if (dotted_code() && !mixed_part(value) && !human_password(value))
                || (identifier() && !(n >= 16 && ent >= 3.3 && has_digit) && !human_password(value))
            {
                return false;
            }
            let min = if form == Form::Spaced { 8 } else { 6 };
            n >= min
                && (has_digit || has_symbol)
                && classes >= 2
                && ent >= 2.5
                && (form == Form::Bare || has_digit)
        }
    }
}

/// Whether a dot-separated part of `v` holds both cases and switches between digits and other
/// bytes four times or more (`wNVSEV684u3f`), where names hold a number once or twice
/// (`v1beta1`, `Base64Url`).
fn mixed_part(v: &[u8]) -> bool {
    v.split(|&b| b == b'.').any(|p| {
        p.iter().any(u8::is_ascii_uppercase)
            && p.iter().any(u8::is_ascii_lowercase)
            && p.windows(2)
                .filter(|w| w[0].is_ascii_digit() != w[1].is_ascii_digit())
                .count()
                >= 4
    })
}

/// The shape people give passwords: a word (or words joined by dots), two or more digits, at most
/// one symbol after them (`Summer2024!`, `letmein2024!`, `Dragon2023`, `Violet.harbor3316`). A
/// capital or the symbol sets it apart from a variable (`pass2`, `cfg12`, `cfg.db12`).
fn human_password(v: &[u8]) -> bool {
    let letters = v
        .iter()
        .take_while(|b| b.is_ascii_alphabetic() || **b == b'.')
        .count();
    if v[..letters].split(|&b| b == b'.').any(|w| w.len() < 3) {
        return false;
    }
    let digits = v[letters..]
        .iter()
        .take_while(|b| b.is_ascii_digit())
        .count();
    let rest = &v[letters + digits..];
    let symbol = matches!(
        rest,
        [b'!' | b'@' | b'#' | b'$' | b'%' | b'&' | b'*' | b'?']
    );
    letters >= 3
        && digits >= 2
        && (rest.is_empty() || symbol)
        && (v[0].is_ascii_uppercase() || symbol)
}

/// `8-4-4-4-12` hex digits.
fn is_uuid(v: &[u8]) -> bool {
    v.len() == 36
        && v.iter().enumerate().all(|(i, b)| {
            if matches!(i, 8 | 13 | 18 | 23) {
                *b == b'-'
            } else {
                b.is_ascii_hexdigit()
            }
        })
}

/// A PowerShell cmdlet that makes or reads a value (`ConvertTo-SecureString`, `Get-Content`): one
/// of those verbs, a dash, a capitalised noun of letters only.
fn is_cmdlet(v: &[u8]) -> bool {
    const VERBS: &[&[u8]] = &[
        b"ConvertTo",
        b"ConvertFrom",
        b"Get",
        b"Read",
        b"Import",
        b"New",
        b"Invoke",
    ];
    let Some(d) = v.iter().position(|&b| b == b'-') else {
        return false;
    };
    let noun = &v[d + 1..];
    VERBS.contains(&&v[..d])
        && noun.len() >= 2
        && noun[0].is_ascii_uppercase()
        && noun.iter().all(u8::is_ascii_alphabetic)
}

/// The bytes that `words` (none empty) open with.
const fn first_bytes(words: &[&[u8]]) -> [bool; 256] {
    let mut t = [false; 256];
    let mut i = 0;
    while i < words.len() {
        t[words[i][0] as usize] = true;
        i += 1;
    }
    t
}

/// Calls and literals that wrap a string value (see [`unwrap_value`]).
const WRAPPERS: &[&[u8]] = &[
    b"[]byte(",
    b"Buffer.from(",
    b"SecretStr(",
    b"SecretString(",
    b"String::from(",
    b"Secret::new(",
    b"new String(",
    b"String(",
    b"str(",
    b"bytes(",
    b"ConvertTo-SecureString ",
    b"b",
];

/// Calls and literals that wrap a string value: `[]byte("...")`, `b"..."`, `Buffer.from("...")`,
/// `ConvertTo-SecureString "..."`. Returns where the quoted literal starts, if `line[v..]` opens
/// with one of them.
fn unwrap_value(line: &[u8], v: usize) -> Option<usize> {
    // The wrappers' first bytes, so that most values are passed over with one look.
    const FIRST: [bool; 256] = first_bytes(WRAPPERS);
    let rest = &line[v..];
    if !FIRST[usize::from(*rest.first()?)] {
        return None;
    }
    let w = WRAPPERS.iter().find(|w| rest.starts_with(w))?;
    let q = skip_spaces(line, v + w.len());
    matches!(line.get(q), Some(b'"' | b'\'')).then_some(q)
}

fn skip_spaces(line: &[u8], mut i: usize) -> usize {
    while i < line.len() && (line[i] == b' ' || line[i] == b'\t') {
        i += 1;
    }
    i
}

/// The bytes that end a bare value: whitespace, quotes, brackets and list separators.
const ENDS_BARE: [bool; 256] = {
    let mut t = [false; 256];
    let mut b = 0;
    while b < 256 {
        let c = b as u8;
        t[b] = c.is_ascii_whitespace()
            || matches!(
                c,
                b'"' | b'\''
                    | b'`'
                    | b','
                    | b';'
                    | b'&'
                    | b')'
                    | b'('
                    | b'['
                    | b']'
                    | b'{'
                    | b'}'
                    | b'<'
                    | b'>'
            );
        b += 1;
    }
    t
};

/// Base64 with a part between slashes of 16 bytes or more that mixes upper and lower case and
/// digits: a key that happens to open with `/` (an AWS secret key, say), not a path.
fn base64_with_random_part(value: &[u8]) -> bool {
    value
        .iter()
        .all(|&b| b.is_ascii_alphanumeric() || matches!(b, b'+' | b'/' | b'='))
        && value.split(|&b| b == b'/').any(|p| {
            p.len() >= 16
                && p.iter().any(u8::is_ascii_uppercase)
                && p.iter().any(u8::is_ascii_lowercase)
                && p.iter().any(u8::is_ascii_digit)
        })
}

/// Reads a value starting at `i`: a quoted literal, or a bare token. Returns (start, end, form).
fn read_value(line: &[u8], i: usize, bare_form: Form) -> Option<(usize, usize, Form)> {
    let q = *line.get(i)?;
    if matches!(q, b'"' | b'\'' | b'`') {
        let s = i + 1;
        let e = s + memchr::memchr(q, &line[s..])?;
        return Some((s, e, Form::Quoted));
    }
    // A string inside a JSON string: `\"password\":\"...\"`.
    if q == b'\\' && matches!(line.get(i + 1), Some(b'"' | b'\'')) {
        let s = i + 2;
        let close = [b'\\', line[i + 1]];
        let e = s + line[s..].windows(2).position(|w| w == close)?;
        return Some((s, e, Form::Quoted));
    }
    let s = i;
    let e = s + line[s..]
        .iter()
        .position(|&b| ENDS_BARE[usize::from(b)])
        .unwrap_or(line.len() - s);
    (e > s).then_some((s, e, bare_form))
}

/// Runs at a keyword hit `at..end` (the keyword lies inside the key) on the line `line`.
pub fn assignment(
    e: &Engine,
    bytes: &[u8],
    at: usize,
    end: usize,
    line: (usize, usize),
    st: &mut State,
) {
    if at < st.generic_until {
        return;
    }
    let line_start = line.0;
    let (ls, le) = super::detectors::clip_line(line, at, 512, 2048);
    let line = &bytes[ls..le];
    let (mut hit, hit_end) = (at - ls, end - ls);
    // A keyword may open with the byte before the key (`&appid`).
    while hit < hit_end && !is_key_char(line[hit]) {
        hit += 1;
    }
    // The key: key characters around the keyword.
    let mut ks = hit;
    while ks > 0 && hit - ks < 64 && is_key_char(line[ks - 1]) {
        ks -= 1;
    }
    let mut ke = hit_end;
    while ke < line.len() && ke - hit_end < 64 && is_key_char(line[ke]) {
        ke += 1;
    }
    while ks < hit && line[ks] == b'.' {
        ks += 1;
    }
    st.generic_until = ls + ke;
    let key = &line[ks..ke];
    let before = if ks == 0 { b' ' } else { line[ks - 1] };
    // `${API_TOKEN:?must be set}`, `${DB_PASSWORD:-}`: a shell expansion reads the variable.
    if before == b'{' && ks >= 2 && line[ks - 2] == b'$' {
        return;
    }
    // A property list (Info.plist, a macOS profile): `<key>API_SECRET</key>`, then the value as
    // `<string>...</string>`, usually on the next line.
    if line[..ks].ends_with(b"<key>") && line[ke..].starts_with(b"</key>") {
        plist_value(e, bytes, ls + ke + b"</key>".len(), key, st);
        return;
    }
    // Terraform: `variable "db_password" {`, its `default = "..."` on a line below.
    if line[..ks].ends_with(b"variable \"") && line[ke..].starts_with(b"\"") {
        variable_default(e, bytes, ls + ke, key, st);
        return;
    }
    // `- name: API_TOKEN` then `value: ...`, `{"key": "apiKey", "value": "..."}`: the key is itself
    // the value of a name field, and the secret is in the value field beside it.
    if named_by_field(line, ks) {
        pair_assignment(e, bytes, (ls, le), key, ke, st);
        return;
    }
    // The value as a strong key would have it. A weaker key finds the same value or none, so when
    // a specific rule has found this one already (it outranks this reader), or there is none,
    // the key needs no look.
    // A bare value whose first byte a found secret covers overlaps it, whatever its end: it is
    // not read.
    let covered = |v: usize| st.overlaps_secret(ls + v, ls + v + 1);
    let strong_value = find_value(line, ks, ke, before, Strength::Strong, covered);
    match strong_value {
        Some((vs, ve, _)) if !st.overlaps_secret(ls + vs, ls + ve) => {}
        _ => return,
    }
    let strength = match st.key_memo.strength(bytes, ls + ks, ls + ke) {
        Some(s) => s,
        // `?appid=` in a URL's query (OpenWeatherMap and others) is an API key; elsewhere an app
        // id is public (Firebase's appId).
        None if key == b"appid" && matches!(before, b'?' | b'&') => Strength::Weak,
        None => return,
    };
    // Inside a value (`arn:aws:secretsmanager:...`, `a=b-token`) the word is not a key, unless a
    // command-line flag takes the pair (`--from-literal=DB_PASSWORD=...`, `--build-arg=K=V`).
    // `.npmrc` scopes a key to a registry path: `//registry.example/:_authToken=...`.
    // Two prefixes make a key of it all the same: a diff's added line (`+SECRET_KEY = ...`) and
    // PowerShell's environment drive (`$env:API_TOKEN = "..."`).
    let diff_line = before == b'+' && ks == 1 && ls == line_start;
    let env_drive = before == b':' && ks >= 5 && line[ks - 5..ks - 1].eq_ignore_ascii_case(b"$env");
    if matches!(before, b':' | b'=' | b'/' | b'@' | b'+' | b'\\')
        && !(before == b'=' && flag_before(line, ks - 1))
        && !(before == b':' && ks >= 2 && line[ks - 2] == b'/')
        && !diff_line
        && !env_drive
    {
        return;
    }
    let found = match strength {
        Strength::Strong => strong_value,
        _ => find_value(line, ks, ke, before, strength, |_| false),
    };
    if let Some((vs, ve, form)) = found {
        push_value(e, bytes, ls, line, (vs, ve, form), (key, strength), st);
    }
}

/// The `<string>` element that follows a plist `<key>` ending at `from` (after whitespace), if
/// the key names a credential and the string holds one.
fn plist_value(e: &Engine, bytes: &[u8], from: usize, key: &[u8], st: &mut State) {
    let Some(strength) = key_strength(key) else {
        return;
    };
    let gap = bytes[from..]
        .iter()
        .take(256)
        .take_while(|b| b.is_ascii_whitespace())
        .count();
    let Some(vs) = bytes[from + gap..]
        .strip_prefix(b"<string>")
        .map(|_| from + gap + b"<string>".len())
    else {
        return;
    };
    let Some(len) = bytes[vs..]
        .iter()
        .take(1025)
        .position(|&b| b == b'<' || b == b'\n')
    else {
        return;
    };
    if bytes[vs + len..].starts_with(b"</string>") {
        push_value(
            e,
            bytes,
            0,
            bytes,
            (vs, vs + len, Form::Quoted),
            (key, strength),
            st,
        );
    }
}

/// Lowercase words of two letters or more, joined by `-` or `_`: `fc-runner-cache`.
fn slug(v: &[u8]) -> bool {
    v.split(|&b| b == b'-' || b == b'_')
        .all(|w| w.len() >= 2 && w.iter().all(u8::is_ascii_lowercase))
        && v.iter().any(|&b| b == b'-' || b == b'_')
}

/// A slug with the word password or secret in it (`wrong-password`, `my-secret-pass`): a test's
/// or a tutorial's stand-in, not a passphrase someone chose.
fn slug_names_secret(v: &[u8]) -> bool {
    v.split(|&b| b == b'-' || b == b'_')
        .any(|w| matches!(w, b"password" | b"passwd" | b"pass" | b"secret"))
}

/// A key that names a password (`DB_PASSWORD`, `pwd`, `passphrase`).
fn password_key(key: &[u8]) -> bool {
    let lower = key.to_ascii_lowercase();
    memfind(&lower, b"pass") || memfind(&lower, b"pw")
}

/// Whether `line[..eq]` ends with a long command-line flag (`--from-literal`), whose value is the
/// `KEY=VALUE` pair that follows the `=` at `eq`.
fn flag_before(line: &[u8], eq: usize) -> bool {
    let word = line[..eq]
        .rsplit(|b| b.is_ascii_whitespace())
        .next()
        .unwrap_or_default();
    word.len() > 2
        && word.starts_with(b"--")
        && word[2..]
            .iter()
            .all(|b| b.is_ascii_lowercase() || *b == b'-')
}

/// Records the value `vs..ve` of `line` (which starts at `ls` in `bytes`) if it holds a credential.
fn push_value(
    e: &Engine,
    bytes: &[u8],
    ls: usize,
    line: &[u8],
    (vs, ve, form): (usize, usize, Form),
    (key, strength): (&[u8], Strength),
    st: &mut State,
) {
    let value = &line[vs..ve];
    // Lowercase words joined by dashes (`fc-runner-cache`) name something; only a password may
    // be a passphrase.
    if slug(value) && (!password_key(key) || slug_names_secret(value)) {
        return;
    }
    let next = line
        .get(ve + usize::from(form == Form::Quoted))
        .copied()
        .unwrap_or(b' ');
    if value_ok(value, form, strength, next) && !sealed(bytes, ls + vs, value) {
        st.found.push(Raw {
            info: e.builtins.generic,
            start: ls + vs,
            end: ls + ve,
        });
    }
}

/// A Bitnami SealedSecret's `encryptedData` value: ciphertext only its cluster can open, meant to be
/// committed. (Long base64 under an `encryptedData:` map a little earlier.)
fn sealed(bytes: &[u8], at: usize, value: &[u8]) -> bool {
    value.len() >= 64 && memfind(&bytes[at.saturating_sub(4096)..at], b"encryptedData")
}

/// Whether the word at `ks` of `line` is the value of a `name`/`key` field (`- name: X`,
/// `"key": "X"`, `name = "X"`).
fn named_by_field(line: &[u8], ks: usize) -> bool {
    let mut i = ks;
    if i > 0 && matches!(line[i - 1], b'"' | b'\'') {
        i -= 1;
    }
    while i > 0 && line[i - 1] == b' ' {
        i -= 1;
    }
    if i == 0 || !matches!(line[i - 1], b':' | b'=') {
        return false;
    }
    i -= 1;
    while i > 0 && line[i - 1] == b' ' {
        i -= 1;
    }
    if i > 0 && matches!(line[i - 1], b'"' | b'\'') {
        i -= 1;
    }
    let fe = i;
    while i > 0 && line[i - 1].is_ascii_alphabetic() {
        i -= 1;
    }
    let field = &line[i..fe];
    [&b"name"[..], b"key", b"parameterkey"]
        .iter()
        .any(|f| field.eq_ignore_ascii_case(f))
}

/// The `value` field that goes with a name field: later on the same line, or at the start of one of
/// the next two lines. `ls..le` is the window around the name (inside its line); `ke` is where the
/// name ends in it.
fn pair_assignment(
    e: &Engine,
    bytes: &[u8],
    (ls, le): (usize, usize),
    key: &[u8],
    ke: usize,
    st: &mut State,
) {
    let Some(strength) = key_strength(key) else {
        return;
    };
    let line = &bytes[ls..le];
    // The value field's operator, then the value: `value: x`, `"value": "x"`, `Value = "x"`.
    let value_after = |l: &[u8], at: usize| -> Option<(usize, usize, Form)> {
        let mut i = at + 5;
        if matches!(l.get(i), Some(b'"' | b'\'')) {
            i += 1;
        }
        let j = skip_spaces(l, i);
        if !matches!(l.get(j), Some(b':' | b'=')) {
            return None;
        }
        read_value(l, skip_spaces(l, j + 1), Form::Bare)
    };
    let is_field = |l: &[u8], at: usize| {
        l.len() >= at + 5
            && l[at..at + 5].eq_ignore_ascii_case(b"value")
            && (at == 0 || !l[at - 1].is_ascii_alphanumeric())
    };
    // Same line: `{"key": "apiKey", "value": "..."}`. `found` is (line start, line end, value).
    let line_end = super::detectors::line_end(bytes, ls);
    let mut found = None;
    let mut i = ke;
    while let Some(k) = memchr::memchr2(b'v', b'V', &line[i..]) {
        let at = i + k;
        if is_field(line, at) {
            found = value_after(line, at).map(|v| (ls, line_end, v));
            break;
        }
        i = at + 1;
    }
    // The next lines: `- name: API_TOKEN` / `  value: ...`
    let mut next = line_end + 1;
    for _ in 0..2 {
        if found.is_some() || next >= bytes.len() {
            break;
        }
        let ne = super::detectors::line_end(bytes, next);
        let l = &bytes[next..ne];
        let at = skip_spaces(l, 0);
        let at = if l[at..].starts_with(b"- ") {
            at + 2
        } else {
            at
        };
        let at = if matches!(l.get(at), Some(b'"' | b'\'')) {
            at + 1
        } else {
            at
        };
        if is_field(l, at) {
            found = value_after(l, at).map(|v| (next, ne, v));
        }
        next = ne + 1;
    }
    push_line_value(e, bytes, found, (key, strength), st);
}

/// Reads the value `found` (the bounds of its line, and its span and form there) as `key`'s, unless
/// a secret found already overlaps it.
fn push_line_value(
    e: &Engine,
    bytes: &[u8],
    found: Option<(usize, usize, (usize, usize, Form))>,
    key: (&[u8], Strength),
    st: &mut State,
) {
    if let Some((base, end, v)) = found {
        if !st.overlaps_secret(base + v.0, base + v.1) {
            push_value(e, bytes, base, &bytes[base..end], v, key, st);
        }
    }
}

/// The `default` of a Terraform variable block whose name `key` ends at `from`: on the block's own
/// line (`{ default = "..." }`) or on one of the next eight, before the line that closes it.
fn variable_default(e: &Engine, bytes: &[u8], from: usize, key: &[u8], st: &mut State) {
    let Some(strength) = key_strength(key) else {
        return;
    };
    let default_at = |l: &[u8], at: usize| -> Option<(usize, usize, Form)> {
        let rest = l.get(at..)?.strip_prefix(b"default")?;
        let j = skip_spaces(rest, 0);
        if rest.get(j) != Some(&b'=') {
            return None;
        }
        read_value(l, skip_spaces(l, at + 7 + j + 1), Form::Bare)
    };
    let mut start = from;
    let mut end = super::detectors::line_end(bytes, from);
    let mut found = memchr::memmem::find(&bytes[start..end], b"default")
        .and_then(|k| default_at(&bytes[start..end], k))
        .map(|v| (start, end, v));
    for _ in 0..8 {
        if found.is_some() || end + 1 >= bytes.len() {
            break;
        }
        start = end + 1;
        end = super::detectors::line_end(bytes, start);
        let l = &bytes[start..end];
        let at = skip_spaces(l, 0);
        if l.get(at) == Some(&b'}') {
            break;
        }
        found = default_at(l, at).map(|v| (start, end, v));
    }
    push_line_value(e, bytes, found, (key, strength), st);
}

/// Whether the quoted key at `ks` opens an argument list or a pair: `(` or `{` before its quote.
fn opens_arguments(line: &[u8], ks: usize) -> bool {
    let mut i = ks;
    if i > 0 && matches!(line[i - 1], b'"' | b'\'' | b'`') {
        i -= 1;
    }
    while i > 0 && line[i - 1] == b' ' {
        i -= 1;
    }
    i > 0 && matches!(line[i - 1], b'(' | b'{')
}

/// Finds the value that a key at `ks..ke` of `line` is given, in the forms the module lists.
/// None, too, for a bare value after an operator that starts where `covered` says (the caller
/// skips a value that overlaps a found secret: any such value does).
fn find_value(
    line: &[u8],
    ks: usize,
    ke: usize,
    before: u8,
    strength: Strength,
    mut covered: impl FnMut(usize) -> bool,
) -> Option<(usize, usize, Form)> {
    let mut i = ke;
    // closing quote or bracket of the key: "key": / ['key'] = / key"]
    let mut closed_quote = false;
    while i < line.len() && i - ke < 2 && matches!(line[i], b'"' | b'\'' | b']' | b'`') {
        closed_quote |= line[i] != b']';
        i += 1;
    }
    // The escaped closing quote of a key inside a JSON string: `\"password\":`.
    if i == ke && line[i..].starts_with(b"\\\"") {
        closed_quote = true;
        i += 2;
    }
    let j = skip_spaces(line, i);
    let c = *line.get(j).unwrap_or(&b'\n');
    // XML element: <password>value</password>
    if before == b'<' && c == b'>' {
        let s = j + 1;
        let e = s + line[s..].iter().position(|&b| b == b'<')?;
        return Some((s, e, Form::Quoted));
    }
    // Operators: = == := => : <-
    let op_len = if line[j..].starts_with(b":=")
        || line[j..].starts_with(b"=>")
        || line[j..].starts_with(b"==")
        || line[j..].starts_with(b"<-")
    {
        2
    } else if c == b'=' || (c == b':' && line.get(j + 1) != Some(&b':')) {
        // (`::` is a path, `hash_password::<Sha256>`, not an assignment.)
        1
    } else {
        0
    };
    if op_len > 0 {
        let mut v = skip_spaces(line, j + op_len);
        // A type annotation: `password: str = "..."`
        if c == b':' && op_len == 1 {
            let t = v;
            let mut k = v;
            while k < line.len()
                && (line[k].is_ascii_alphanumeric() || matches!(line[k], b'_' | b'[' | b']' | b'.'))
            {
                k += 1;
            }
            let k2 = skip_spaces(line, k);
            if k > t && k2 > k && line.get(k2) == Some(&b'=') && line.get(k2 + 1) != Some(&b'=') {
                v = skip_spaces(line, k2 + 1);
            }
        }
        if let Some(q) = unwrap_value(line, v) {
            return read_value(line, q, Form::Bare);
        }
        // A bare value: every value read below starts at `v` and holds a byte at least (a
        // quote ends a bare value; a backslash may open an escaped quoted one).
        if line
            .get(v)
            .is_some_and(|&b| !ENDS_BARE[usize::from(b)] && b != b'\\')
            && covered(v)
        {
            return None;
        }
        let found = read_value(line, v, Form::Bare);
        // A bare value that stops at a bracket but is no identifier (`x0b++Zs%(sg46^R)` in a
        // .properties file) runs on to the next space when the key starts its line: there a
        // bracket is part of the value, not a call.
        if let Some((s, e, Form::Bare)) = found {
            let line_key = line[..ks].iter().all(|b| b.is_ascii_whitespace())
                || line[..ks].trim_ascii_start() == b"export ";
            let stopped = matches!(
                line.get(e),
                Some(b'(' | b')' | b'[' | b']' | b'{' | b'}' | b'<' | b'>')
            );
            // A separator (`,;&`) inside the line's last token is the value's own; one that ends
            // it (`accessToken: string;`) is not.
            let separated = matches!(line.get(e), Some(b',' | b';' | b'&'));
            // A call (`models.CharField(max_length=128)`, `jwt.NewWithClaims(a, b)`) is code.
            let call = matches!(line.get(e), Some(b'(' | b'<' | b'['))
                && line[s..e]
                    .iter()
                    .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.' | b':' | b'$'));
            if line_key && (stopped || separated) && !call {
                let mut run = e;
                while run < line.len()
                    && !line[run].is_ascii_whitespace()
                    && !matches!(line[run], b'"' | b'\'' | b'`')
                {
                    run += 1;
                }
                if separated && (run == e + 1 || !line[run..].iter().all(u8::is_ascii_whitespace)) {
                    return found;
                }
                // Symbols no call or index holds (`get_password(user)` has none).
                let symbols = line[s..run].iter().any(|b| {
                    !(b.is_ascii_alphanumeric()
                        || matches!(
                            b,
                            b'_' | b'.' | b'$' | b'-' | b'(' | b')' | b'[' | b']' | b'{' | b'}'
                        ))
                });
                if symbols {
                    return Some((s, run, Form::Bare));
                }
            }
        }
        return found;
    }
    // Function call or argument list: setPassword("..."), define('DB_PASSWORD', '...'), Setenv("K", "v")
    if c == b'(' {
        let v = skip_spaces(line, j + 1);
        return read_value(line, v, Form::Bare).filter(|x| x.2 == Form::Quoted);
    }
    // (Only as a call's or a pair's first item: inside a list, `['password', 'client_secret']`,
    // the next item is another name.)
    if closed_quote && c == b',' && opens_arguments(line, ks) {
        let v = skip_spaces(line, j + 1);
        return read_value(line, v, Form::Bare).filter(|x| x.2 == Form::Quoted);
    }
    // <add key="PaymentsApiKey" value="..."/>
    if closed_quote && line[j..].starts_with(b"value=") {
        return read_value(line, j + 6, Form::Bare).filter(|x| x.2 == Form::Quoted);
    }
    if strength != Strength::Strong || j == i {
        return None;
    }
    // Whitespace forms: "password is X", `--password X`, `.netrc`'s `password X`, `requirepass X`
    let rest = &line[j..];
    let v = if let Some(w) = [&b"is "[..], b"was ", b"to "]
        .iter()
        .find(|w| rest.starts_with(w))
    {
        skip_spaces(line, j + w.len())
    } else {
        let flag = line[ks..].starts_with(b"--") || line[ks..].starts_with(b"-");
        let bare_word = ks == 0 || line[ks - 1].is_ascii_whitespace();
        if !(flag || bare_word) || closed_quote {
            return None;
        }
        j
    };
    read_value(line, v, Form::Spaced)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_wrapper_is_unwrapped() {
        for w in WRAPPERS {
            let w = std::str::from_utf8(w).unwrap();
            for quote in ['"', '\''] {
                let line = format!("{w}{quote}v4lue-x9{quote})");
                assert_eq!(unwrap_value(line.as_bytes(), 0), Some(w.len()), "{line}");
            }
        }
        for line in ["x\"v\"", "bx", "", "Strin(\"v\")", "c\"v\""] {
            assert_eq!(unwrap_value(line.as_bytes(), 0), None, "{line}");
        }
    }

    #[test]
    fn a_bare_value_a_secret_covers_is_not_read_and_others_are() {
        // (line, value) for `KEY` at the line's start.
        for (line, value) in [
            ("API_KEY=ghp_abc123", Some("ghp_abc123")),
            ("API_KEY = ghp_abc123 # x", Some("ghp_abc123")),
            ("API_KEY: str = tok3n-xyz", Some("tok3n-xyz")),
            ("API_KEY=\"quoted-v4lue\"", Some("quoted-v4lue")),
            ("API_KEY=bytes('wr4pped')", Some("wr4pped")),
            ("API_KEY= ;", None),
        ] {
            let line = line.as_bytes();
            let read = |covered: &dyn Fn(usize) -> bool| {
                find_value(line, 0, 7, b' ', Strength::Strong, covered)
                    .map(|(s, e, _)| std::str::from_utf8(&line[s..e]).unwrap())
            };
            assert_eq!(read(&|_| false), value, "{line:?}");
            // Covered where the value starts: a bare value is not read, a quoted one still is
            // (its start is past the quote).
            let Some(v) = value else { continue };
            let at = line
                .windows(v.len())
                .position(|w| w == v.as_bytes())
                .unwrap();
            let quoted = matches!(line[at - 1], b'"' | b'\'');
            let got = read(&|p| p == at || quoted && p == at - 1);
            assert_eq!(got, value.filter(|_| quoted), "{line:?}");
            // Covered elsewhere: read as before.
            assert_eq!(read(&|p| p != at && p != at - 1), value, "{line:?}");
        }
    }

    #[test]
    fn class_counts_match_a_count_per_class() {
        // Lengths around the 255-byte flush, bytes of every class and of none.
        let mut rng = crate::engine::TestRng::new(0x51ce_0fc1_a55e_5000);
        let alphabet = b"aZ09 \t/:.-_+!@#$%^&*()~\x80\xffqQ";
        for len in [0, 1, 7, 40, 254, 255, 256, 511, 767, 1024] {
            // Random bytes, and one class only (a lane at its fullest).
            for v in [rng.bytes(alphabet, len), vec![b'7'; len]] {
                check_class_counts(&v);
            }
        }
    }

    fn check_class_counts(v: &[u8]) {
        let len = v.len();
        let c = ClassCounts::of(v);
        let count = |f: fn(&u8) -> bool| v.iter().filter(|b| f(b)).count();
        assert_eq!(c.get(Class::Space), count(u8::is_ascii_whitespace), "{len}");
        assert_eq!(
            c.get(Class::Numeric),
            count(|b| b.is_ascii_digit() || b".:-_+".contains(b)),
            "{len}"
        );
        assert_eq!(c.get(Class::Digit), count(u8::is_ascii_digit), "{len}");
        assert_eq!(c.get(Class::Upper), count(u8::is_ascii_uppercase), "{len}");
        assert_eq!(c.get(Class::Lower), count(u8::is_ascii_lowercase), "{len}");
        assert_eq!(c.get(Class::Slash), count(|b| *b == b'/'), "{len}");
        assert_eq!(c.get(Class::Colon), count(|b| *b == b':'), "{len}");
    }

    #[test]
    fn the_key_memo_answers_as_key_strength_does() {
        // More keys than slots, several of one length, strong, weak and none, met in a random
        // order and again: every answer must be key_strength's own.
        let keys = [
            "api_key",
            "apiKey",
            "password",
            "db_pass",
            "cache_key",
            "idempotency_key",
            "token",
            "token_ttl",
            "AUTH_SALT",
            "secret_id",
            "GITHUB_TOKEN",
            "passwd",
            "username",
            "pwd",
            "client_secret",
            "csrf_token",
            "sort_key",
            "x",
            "ACCESS_KEY",
            "hashed_secret",
        ];
        let text = keys.join(" ");
        let mut spans = Vec::new();
        let mut at = 0;
        for k in keys {
            spans.push((at, at + k.len()));
            at += k.len() + 1;
        }
        let mut memo = KeyMemo::new();
        let mut rng = super::super::TestRng::new(0x0bad_5eed_cafe_f00d);
        let mut strong = 0;
        for _ in 0..2000 {
            let (s, e) = spans[rng.below(spans.len() as u64)];
            let want = key_strength(&text.as_bytes()[s..e]);
            assert!(
                memo.strength(text.as_bytes(), s, e) == want,
                "{}",
                &text[s..e]
            );
            strong += usize::from(want == Some(Strength::Strong));
        }
        assert!(strong > 500, "{strong}");
    }

    #[test]
    fn word_lists_are_sorted_and_their_sets_hold_exactly_them() {
        let (q, d) = word_sets();
        for (list, set) in [(KEY_QUALIFIERS, q), (DENY_LAST, d)] {
            assert!(list.windows(2).all(|w| w[0] < w[1]), "{list:?}");
            for w in list {
                assert!(set.contains(w.as_bytes()), "{w}");
                // Prefixes, extensions and over-long words are not members.
                assert!(
                    !set.contains(&w.as_bytes()[..w.len() - 1])
                        || list.contains(&&w[..w.len() - 1])
                );
                assert!(
                    !set.contains(format!("{w}s").as_bytes())
                        || list.contains(&format!("{w}s").as_str())
                );
            }
        }
        assert!(!q.contains(b"") && !q.contains(b"apikey") && !q.contains(b"ap"));
        assert!(!d.contains(b"a_very_long_word_past_16"));
        assert!(WordSet::pack(&[b'a'; 17]).is_none());
    }

    #[test]
    fn key_names() {
        for k in [
            "password",
            "DB_PASSWORD",
            "PGPASSWORD",
            "client_secret",
            "apiKey",
            "X-API-Key",
            "auth_token",
            "app_key",
            "--password",
        ] {
            assert!(key_strength(k.as_bytes()).is_some(), "{k}");
        }
        for k in [
            "tokenizer",
            "token_ttl",
            "secret_id",
            "password_hash",
            "passwordField",
            "tokens",
            "author",
            "keyboard",
            "primary",
        ] {
            assert!(key_strength(k.as_bytes()).is_none(), "{k}");
        }
        assert!(key_strength(b"key") == Some(Strength::Weak));
    }

    #[test]
    fn keys_split_into_lowercase_words() {
        let words = |k: &str| {
            let s = Segments::new(k.as_bytes());
            s.iter()
                .map(|w| String::from_utf8_lossy(w).into_owned())
                .collect::<Vec<_>>()
        };
        assert_eq!(words("DB_PASSWORD"), ["db", "password"]);
        assert_eq!(words("apiKey2.secret-x"), ["api", "key2", "secret", "x"]);
        assert_eq!(words("HTTPProxy"), ["httpproxy"]);
        assert_eq!(words("__a__"), ["a"]);
        assert!(words("").is_empty());
        // Over-long keys are cut, never overflow.
        let long = format!("{}password_hash", "ab_".repeat(40));
        let w = words(&long);
        assert_eq!(w.len(), Segments::MAX_SEGS);
        assert_eq!(w.last().map(String::as_str), Some("hash"));
        assert!(
            key_strength(long.as_bytes()).is_none(),
            "the last word still decides"
        );
    }
}
