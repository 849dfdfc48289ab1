//! Fuzzes the scanner with arbitrary bytes (default policy).
//!
//! `cargo +nightly fuzz run scan` (from the repository root). Checks that scanning never panics, that
//! findings are in bounds, sorted and carry a consistent line and column, and that redacting valid
//! UTF-8 removes every value found and leaves text that scans without panicking.

#![no_main]

use libfuzzer_sys::fuzz_target;
use promptgate::engine::dotenv_values;
use promptgate::{Category, Engine, Finding};
use std::sync::OnceLock;

fn engine() -> &'static Engine {
    static ENGINE: OnceLock<Engine> = OnceLock::new();
    ENGINE.get_or_init(Engine::with_default_policy)
}

/// 1-based line and byte column of `offset` in `bytes`.
fn line_column(bytes: &[u8], offset: usize) -> (usize, usize) {
    let before = &bytes[..offset];
    let line = 1 + before.iter().filter(|&&b| b == b'\n').count();
    let line_start = before
        .iter()
        .rposition(|&b| b == b'\n')
        .map_or(0, |i| i + 1);
    (line, offset - line_start + 1)
}

fn check_findings(bytes: &[u8], findings: &[Finding]) {
    let mut prev_start = 0;
    for f in findings {
        assert!(
            f.start < f.end && f.end <= bytes.len(),
            "finding out of bounds: {f:?} (input is {} bytes)",
            bytes.len()
        );
        assert!(
            f.start >= prev_start,
            "findings not sorted by start: {findings:?}"
        );
        prev_start = f.start;
        assert!(
            f.line >= 1 && f.column >= 1,
            "line/column not 1-based: {f:?}"
        );
        assert_eq!(
            (f.line, f.column),
            line_column(bytes, f.start),
            "line/column do not match the offset: {f:?}"
        );
    }
}

/// The byte spans `redact` replaces for `findings`: a dotenv block value by value (its names and
/// harmless values stay), every other finding whole.
fn redacted_spans(bytes: &[u8], findings: &[Finding]) -> Vec<(usize, usize)> {
    findings
        .iter()
        .flat_map(|f| {
            if f.category == Category::Dotenv {
                dotenv_values(bytes, f.start, f.end)
            } else {
                vec![(f.start, f.end)]
            }
        })
        .collect()
}

/// Whether the value of `f` also occurs in `bytes` outside `f` and every redacted span, i.e. as a
/// second copy the scanner did not report; the redacted text then legitimately keeps it.
fn occurs_unredacted(bytes: &[u8], spans: &[(usize, usize)], f: &Finding) -> bool {
    let needle = &bytes[f.start..f.end];
    let mut masked = bytes.to_vec();
    let len = masked.len();
    for &(s, e) in spans.iter().chain([(f.start, f.end)].iter()) {
        masked[s.min(e)..e.min(len)].fill(0);
    }
    masked.windows(needle.len()).any(|w| w == needle)
}

fuzz_target!(|data: &[u8]| {
    let engine = engine();
    let findings = engine.scan_bytes(data);
    check_findings(data, &findings);

    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let redacted = promptgate::redact::redact(text, &findings);
    let spans = redacted_spans(data, &findings);
    for f in &findings {
        let value = &data[f.start..f.end];
        // Short values may occur by chance; a value with `[` or `]` could be re-formed from
        // placeholder text; a value that also occurs where nothing was reported legitimately
        // stays (redaction replaces reported spans, not every copy of their text).
        if value.len() < 8
            || value.iter().any(|&b| b == b'[' || b == b']')
            || occurs_unredacted(data, &spans, f)
        {
            continue;
        }
        assert!(
            !redacted
                .text
                .as_bytes()
                .windows(value.len())
                .any(|w| w == value),
            "redaction left the value of {f:?} in the text"
        );
    }
    // The redacted text must itself scan without panicking, with sane findings.
    let again = engine.scan(&redacted.text);
    check_findings(redacted.text.as_bytes(), &again);
});
