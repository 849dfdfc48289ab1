//! Deterministic text generators for the benchmarks: English prose, clean code, secret-dense text,
//! service logs and numeric CSV.

/// A small deterministic PRNG (xorshift64*), so the benches need no extra crate and are repeatable.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed.max(1))
    }
    pub fn next_u64(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    pub fn pick<'a>(&mut self, xs: &[&'a str]) -> &'a str {
        xs[(self.next_u64() % xs.len() as u64) as usize]
    }
    pub fn alnum(&mut self, n: usize) -> String {
        const A: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
        (0..n)
            .map(|_| A[(self.next_u64() % A.len() as u64) as usize] as char)
            .collect()
    }
    pub fn hex(&mut self, n: usize) -> String {
        const H: &[u8] = b"0123456789abcdef";
        (0..n)
            .map(|_| H[(self.next_u64() % 16) as usize] as char)
            .collect()
    }
}

const WORDS: &[&str] = &[
    "the",
    "of",
    "and",
    "to",
    "in",
    "a",
    "is",
    "that",
    "for",
    "it",
    "as",
    "was",
    "with",
    "be",
    "by",
    "on",
    "not",
    "he",
    "this",
    "are",
    "or",
    "his",
    "from",
    "at",
    "which",
    "but",
    "have",
    "an",
    "had",
    "they",
    "you",
    "were",
    "their",
    "one",
    "all",
    "we",
    "can",
    "her",
    "has",
    "there",
    "been",
    "if",
    "more",
    "when",
    "will",
    "would",
    "who",
    "so",
    "no",
    "system",
    "function",
    "request",
    "between",
    "explain",
    "difference",
    "example",
    "service",
    "deploy",
    "review",
    "change",
    "question",
    "why",
    "should",
    "because",
    "error",
    "handle",
    "refactor",
    "design",
    "people",
    "water",
    "history",
    "morning",
    "garden",
    "window",
    "program",
    "network",
    "simple",
    "important",
    "understand",
];

/// English-like prose with sentences and paragraphs.
pub fn prose(bytes: usize, seed: u64) -> String {
    let mut r = Rng::new(seed);
    let mut s = String::with_capacity(bytes + 64);
    while s.len() < bytes {
        let n = 6 + (r.next_u64() % 14) as usize;
        for i in 0..n {
            let w = r.pick(WORDS);
            if i == 0 {
                let mut c = w.chars();
                let first = c.next().unwrap().to_ascii_uppercase();
                s.push(first);
                s.push_str(c.as_str());
            } else {
                s.push(' ');
                s.push_str(w);
            }
        }
        s.push_str(if r.next_u64().is_multiple_of(7) {
            ".\n\n"
        } else {
            ". "
        });
    }
    s.truncate(bytes);
    s
}

const IDENTS: &[&str] = &[
    "count", "items", "result", "buffer", "index", "value", "config", "handler", "request",
    "response", "user", "order", "total", "offset", "limit", "cache", "queue", "worker", "state",
    "path",
];

/// Clean source code (Rust and Python shapes) with no secrets.
pub fn clean_code(bytes: usize, seed: u64) -> String {
    let mut r = Rng::new(seed);
    let mut s = String::with_capacity(bytes + 256);
    while s.len() < bytes {
        let a = r.pick(IDENTS);
        let b = r.pick(IDENTS);
        let c = r.pick(IDENTS);
        let n = r.next_u64() % 1000;
        match r.next_u64() % 4 {
            0 => s.push_str(&format!(
                "fn process_{a}({b}: &mut Vec<u64>, {c}: usize) -> Option<u64> {{\n    let mut acc = 0u64;\n    for (i, x) in {b}.iter().enumerate().skip({c}) {{\n        if i % {n} == 0 {{ acc = acc.wrapping_add(*x); }}\n    }}\n    Some(acc)\n}}\n\n"
            )),
            1 => s.push_str(&format!(
                "def load_{a}(self, {b}, {c}=None):\n    \"\"\"Load {a} from {b}.\"\"\"\n    if {c} is None:\n        {c} = self.{b}.get('{a}', {n})\n    return [x for x in {b} if x.{c} > {n}]\n\n"
            )),
            2 => s.push_str(&format!(
                "// Update the {a} when the {b} changes; see issue #{n}.\nconst {a}Map = new Map();\nexport function update{n}({b}, {c}) {{\n  return {a}Map.set({b}.id, {{ ...{c}, updated: Date.now() }});\n}}\n\n"
            )),
            _ => s.push_str(&format!(
                "SELECT {a}.id, {b}.name, COUNT(*) AS {c}_count\nFROM {a} JOIN {b} ON {b}.{a}_id = {a}.id\nWHERE {a}.created_at > now() - interval '{n} days'\nGROUP BY 1, 2 ORDER BY 3 DESC LIMIT 50;\n\n"
            )),
        }
    }
    s.truncate(bytes);
    s
}

/// Secret-laden text: one line in `every` carries a secret, personal data or an internal name, the
/// others are code. `every = 1` is saturated (a finding per ~47 bytes); `every = 4` is about as
/// dense as the labelled corpus of real-shaped prompts (a finding per ~170 bytes).
pub fn secret_dense(bytes: usize, seed: u64, every: u64) -> String {
    let mut r = Rng::new(seed);
    let mut s = String::with_capacity(bytes + 256);
    let filler = clean_code(bytes, seed ^ 0x5eed);
    let mut filler_lines = filler.lines().cycle();
    while s.len() < bytes {
        if !r.next_u64().is_multiple_of(every) {
            s.push_str(filler_lines.next().unwrap_or(""));
            s.push('\n');
            continue;
        }
        let line = match r.next_u64() % 12 {
            0 => format!("export GITHUB_TOKEN=ghp_{}\n", r.alnum(36)),
            1 => format!(
                "aws_access_key_id = AKIA{}\n",
                r.alnum(16).to_ascii_uppercase()
            ),
            2 => format!("password = \"{}-{}!\"\n", r.alnum(8), r.next_u64() % 10000),
            3 => format!(
                "DATABASE_URL=postgres://app:{}@db{}.prod.internal:5432/app\n",
                r.alnum(12),
                r.next_u64() % 99
            ),
            4 => format!(
                "contact: {}.{}@northwind-mail.com, +44 20 {} {}\n",
                r.pick(IDENTS),
                r.pick(IDENTS),
                7000 + r.next_u64() % 999,
                1000 + r.next_u64() % 8999
            ),
            5 => format!(
                "upstream = 10.{}.{}.{}:8443\n",
                r.next_u64() % 255,
                r.next_u64() % 255,
                r.next_u64() % 255
            ),
            6 => format!("Authorization: Bearer {}\n", r.alnum(40)),
            7 => format!(
                "card 4242 4242 4242 4242 for order {}\n",
                r.next_u64() % 100000
            ),
            8 => format!(
                "SLACK_BOT_TOKEN=xoxb-{}-{}-{}\n",
                100000000000u64 + r.next_u64() % 899999999999,
                1000000000000u64 + r.next_u64() % 8999999999999,
                r.alnum(24)
            ),
            9 => format!("api_key: \"{}\"\n", r.hex(40)),
            10 => format!("STRIPE_KEY=sk_live_{}\n", r.alnum(24)),
            _ => format!("{}\n", prose(60, r.next_u64())),
        };
        s.push_str(&line);
    }
    s.truncate(bytes);
    s
}

/// Service log lines with nothing sensitive: timestamps, request ids (hex), public IPv4 addresses
/// (documentation ranges), durations.
pub fn logs(bytes: usize, seed: u64) -> String {
    let mut r = Rng::new(seed);
    let mut s = String::with_capacity(bytes + 256);
    while s.len() < bytes {
        s.push_str(&format!(
            "2026-11-21T10:{:02}:{:02}.{:03}Z INFO request id={} from 203.0.113.{} took {}ms status=200 trace={}\n",
            r.next_u64() % 60,
            r.next_u64() % 60,
            r.next_u64() % 1000,
            r.hex(32),
            r.next_u64() % 255,
            r.next_u64() % 1000,
            r.hex(16)
        ));
    }
    s.truncate(bytes);
    s
}

/// Numeric CSV rows with nothing sensitive: ids of 6 to 11 digits, amounts, ISO timestamps.
pub fn numeric_csv(bytes: usize, seed: u64) -> String {
    let mut r = Rng::new(seed);
    let mut s = String::with_capacity(bytes + 256);
    s.push_str("id,account,amount,ref,created\n");
    while s.len() < bytes {
        s.push_str(&format!(
            "{},{},{}.{:02},{},2026-{:02}-{:02}T{:02}:{:02}:{:02}Z\n",
            r.next_u64() % 1_000_000,
            10_000_000_000 + r.next_u64() % 90_000_000_000,
            r.next_u64() % 1000,
            r.next_u64() % 100,
            r.next_u64() % 9_999_999_999,
            r.next_u64() % 12 + 1,
            r.next_u64() % 28 + 1,
            r.next_u64() % 24,
            r.next_u64() % 60,
            r.next_u64() % 60
        ));
    }
    s.truncate(bytes);
    s
}
