//! Request screening as a pure function: request parts and body bytes in, a decision out
//! (forward the original bytes, forward a rewritten body, or refuse with a status and a body in the
//! provider's own error shape). No sockets, no clocks other than the scan timer, no logging of values.

use super::provider::{detect_tool, error_body, Provider};
use crate::engine::catalogue::rule_spec;
use crate::engine::{Engine, Finding};
use crate::policy::Mode;
use crate::redact::{redact, Redacted};
use crate::types::{Action, Category, Verdict};
use bytes::Bytes;
use http::HeaderMap;
use serde::Serialize;
use std::borrow::Cow;
use std::collections::{BTreeMap, HashMap};
use std::io::Read;
use std::time::{Duration, Instant};

/// The parts of a request screening looks at (headers are read for content type, encoding and
/// user agent only; they are never scanned or changed).
#[derive(Debug, Clone, Copy)]
pub struct RequestParts<'a> {
    pub method: &'a str,
    pub host: &'a str,
    /// Path and query as sent.
    pub path: &'a str,
    pub headers: &'a HeaderMap,
}

/// What to send upstream.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Forwarded {
    /// The original bytes, headers unchanged.
    Original,
    /// A rewritten, uncompressed body: send without Content-Encoding, with a new Content-Length.
    Rewritten(Bytes),
}

/// The decision.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    Forward {
        body: Forwarded,
        /// A response header to add: (name, value).
        notice: Option<(&'static str, String)>,
    },
    Refuse {
        status: u16,
        /// JSON in the provider's error shape.
        body: Bytes,
    },
}

/// One finding as the audit log shows it: never the value.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FindingSummary {
    pub rule: String,
    pub category: Category,
    #[serde(rename = "box")]
    pub verdict: Verdict,
    pub action: Action,
    pub count: usize,
    /// `hmac-sha256:` and 32 hex digits: a keyed hash of the value, stable across requests.
    pub fingerprint: String,
}

/// What happened, for the audit log.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Disposition {
    /// Forwarded unchanged (nothing found, or allowed).
    Forwarded,
    /// Forwarded unchanged with a warning header.
    Warned,
    /// Forwarded with values replaced.
    Redacted,
    /// Answered locally with the provider's error shape.
    Blocked,
    /// Refused: cannot be screened or cannot be rewritten.
    Refused,
    /// Monitor mode: screened, forwarded unchanged.
    Monitored,
    /// Could not be screened; forwarded because the policy fails open.
    Unscreened,
}

/// The full result of screening one request.
#[derive(Debug, Clone)]
pub struct Screening {
    pub outcome: Outcome,
    pub provider: Provider,
    pub tool: &'static str,
    /// The request's box (worst finding's).
    pub verdict: Verdict,
    /// The policy's decision (the worst finding's action).
    pub action: Action,
    pub result: Disposition,
    pub findings: Vec<FindingSummary>,
    pub scan_time: Duration,
    /// Why a request was refused or not screened (never contains a value).
    pub reason: Option<String>,
}

/// Keys whose string values are opaque media or provider blobs, not prompt text.
const MEDIA_KEYS: &[&str] = &[
    "data",
    "b64_json",
    "file_data",
    "bytes",
    "image",
    "audio",
    "signature",
    "encrypted_content",
    "image_url",
    "url",
];

/// A failure to screen.
struct Failure {
    status: u16,
    code: &'static str,
    reason: String,
}

impl Failure {
    fn new(status: u16, code: &'static str, reason: impl Into<String>) -> Failure {
        Failure {
            status,
            code,
            reason: reason.into(),
        }
    }
}

/// One string value of a JSON body.
#[derive(Debug)]
struct JsonString {
    /// Byte span of the literal (quotes included) in the decoded body.
    start: usize,
    end: usize,
    path: String,
    last_key: Option<String>,
    text: String,
}

/// A finding with its place and policy action.
struct Hit {
    finding: Finding,
    string: Option<usize>,
    place: String,
    action: Action,
    fingerprint: String,
}

/// Screens one request.
pub fn screen(
    engine: &Engine,
    req: &RequestParts<'_>,
    body: &[u8],
    fingerprint_key: &ring::hmac::Key,
) -> Screening {
    let t0 = Instant::now();
    let policy = engine.policy();
    let provider = Provider::detect(req.host, req.path);
    let header = |name: &str| req.headers.get(name).and_then(|v| v.to_str().ok());
    let tool = detect_tool(header("user-agent"));
    let mut s = Screening {
        outcome: Outcome::Forward {
            body: Forwarded::Original,
            notice: None,
        },
        provider,
        tool,
        verdict: Verdict::Safe,
        action: Action::Allow,
        result: Disposition::Forwarded,
        findings: Vec::new(),
        scan_time: Duration::ZERO,
        reason: None,
    };

    if body.len() as u64 > policy.max_body_bytes {
        let reason = format!(
            "the request body ({} bytes) is larger than the screening limit of {} bytes (limits.max_body_bytes)",
            body.len(),
            policy.max_body_bytes
        );
        s.outcome = refuse(provider, 413, "request_too_large", &refusal_text(&reason));
        s.result = Disposition::Refused;
        s.reason = Some(reason);
        return s;
    }
    if body.is_empty() {
        s.scan_time = t0.elapsed();
        return s;
    }

    let scanned = decode(
        body,
        header("content-encoding").unwrap_or(""),
        policy.max_decoded_bytes,
    )
    .and_then(|decoded| {
        let ct = header("content-type");
        let (strings, hits) = scan_body(engine, &decoded, ct, fingerprint_key)?;
        Ok((decoded, strings, hits))
    });
    let (decoded, strings, hits) = match scanned {
        Ok(x) => x,
        Err(f) => {
            s.scan_time = t0.elapsed();
            s.reason = Some(f.reason.clone());
            if policy.fail_open {
                s.result = Disposition::Unscreened;
            } else {
                let msg = format!(
                    "promptgate could not screen this request: {}. It was refused because the policy fails closed (fail_open: false).",
                    f.reason
                );
                s.outcome = refuse(provider, f.status, f.code, &msg);
                s.result = Disposition::Refused;
            }
            return s;
        }
    };

    s.verdict = hits
        .iter()
        .map(|h| h.finding.verdict)
        .max()
        .unwrap_or(Verdict::Safe);
    s.action = hits.iter().map(|h| h.action).max().unwrap_or(Action::Allow);
    s.findings = summarise(&hits);

    if policy.mode == Mode::Monitor {
        s.result = Disposition::Monitored;
        s.scan_time = t0.elapsed();
        return s;
    }
    match s.action {
        Action::Allow => {}
        Action::Warn => {
            s.result = Disposition::Warned;
            s.outcome = Outcome::Forward {
                body: Forwarded::Original,
                notice: Some(("x-promptgate-warning", notice_text("seen", &hits))),
            };
        }
        Action::Block => {
            s.result = Disposition::Blocked;
            s.outcome = refuse(
                provider,
                400,
                "promptgate_blocked",
                &block_message(provider, &policy.source, &hits, None),
            );
        }
        Action::Redact => match strings {
            Some(strings) => match rewrite(&decoded, &strings, &hits) {
                Ok(new_body) => {
                    s.result = Disposition::Redacted;
                    let redacted: Vec<&Hit> =
                        hits.iter().filter(|h| h.action >= Action::Redact).collect();
                    s.outcome = Outcome::Forward {
                        body: Forwarded::Rewritten(Bytes::from(new_body)),
                        notice: Some((
                            "x-promptgate-redacted",
                            notice_text_refs("redacted", &redacted),
                        )),
                    };
                }
                Err(f) => {
                    s.result = Disposition::Refused;
                    s.reason = Some(f.reason.clone());
                    s.outcome = refuse(provider, f.status, f.code, &refusal_text(&f.reason));
                }
            },
            None => {
                let ct = header("content-type").unwrap_or("no content type");
                let why = format!(
                    "its body ({}) is not JSON, so the values cannot be redacted safely",
                    printable(ct)
                );
                s.result = Disposition::Refused;
                s.reason = Some(why.clone());
                s.outcome = refuse(
                    provider,
                    400,
                    "promptgate_cannot_redact",
                    &block_message(provider, &policy.source, &hits, Some(&why)),
                );
            }
        },
    }
    s.scan_time = t0.elapsed();
    s
}

fn refuse(provider: Provider, status: u16, code: &str, message: &str) -> Outcome {
    Outcome::Refuse {
        status,
        body: error_body(provider, status, code, message),
    }
}

fn refusal_text(reason: &str) -> String {
    format!("promptgate refused this request: {reason}.")
}

/// Decodes Content-Encoding (comma-separated, applied in order), capping the decoded size.
fn decode<'a>(body: &'a [u8], encodings: &str, cap: u64) -> Result<Cow<'a, [u8]>, Failure> {
    let mut data: Cow<'a, [u8]> = Cow::Borrowed(body);
    for enc in encodings.split(',').rev() {
        let enc = enc.trim().to_ascii_lowercase();
        let input: &[u8] = &data;
        let reader: Box<dyn Read + '_> =
            match enc.as_str() {
                "" | "identity" => continue,
                "gzip" | "x-gzip" => Box::new(flate2::read::MultiGzDecoder::new(input)),
                "deflate" => {
                    // zlib-wrapped per the RFC; some clients send raw deflate.
                    let zlib = input.len() >= 2
                        && input[0] & 0x0f == 8
                        && (u16::from(input[0]) << 8 | u16::from(input[1])) % 31 == 0;
                    if zlib {
                        Box::new(flate2::read::ZlibDecoder::new(input))
                    } else {
                        Box::new(flate2::read::DeflateDecoder::new(input))
                    }
                }
                "br" => Box::new(brotli::Decompressor::new(input, 4096)),
                "zstd" => Box::new(zstd::stream::read::Decoder::new(input).map_err(|e| {
                    Failure::new(400, "promptgate_decode_error", format!("zstd: {e}"))
                })?),
                other => {
                    return Err(Failure::new(
                        415,
                        "promptgate_unsupported_encoding",
                        format!(
                            "Content-Encoding `{}` is not supported (gzip, deflate, br, zstd are)",
                            printable(other)
                        ),
                    ))
                }
            };
        let mut out = Vec::new();
        reader
            .take(cap.saturating_add(1))
            .read_to_end(&mut out)
            .map_err(|e| {
                Failure::new(
                    400,
                    "promptgate_decode_error",
                    format!("the {enc} body could not be decoded ({})", e.kind()),
                )
            })?;
        if out.len() as u64 > cap {
            return Err(Failure::new(
                413,
                "request_too_large",
                format!(
                    "the decoded body is larger than the limit of {cap} bytes (limits.max_decoded_bytes)"
                ),
            ));
        }
        data = Cow::Owned(out);
    }
    Ok(data)
}

/// Whether to treat a body as JSON: `Some(true)` must be JSON (content type says so),
/// `Some(false)` may be (looks like it), `None` is text.
fn json_kind(content_type: Option<&str>, body: &[u8]) -> Option<bool> {
    let ct = content_type.unwrap_or("").to_ascii_lowercase();
    if ct.contains("ndjson") || ct.contains("jsonl") || ct.contains("json-seq") {
        return None;
    }
    if ct.contains("json") {
        return Some(true);
    }
    let first = body.iter().find(|b| !b.is_ascii_whitespace());
    if matches!(first, Some(b'{') | Some(b'[')) {
        Some(false)
    } else {
        None
    }
}

type Scanned = (Option<Vec<JsonString>>, Vec<Hit>);

fn scan_body(
    engine: &Engine,
    body: &[u8],
    content_type: Option<&str>,
    key: &ring::hmac::Key,
) -> Result<Scanned, Failure> {
    let policy = engine.policy();
    let fp = |v: &[u8]| {
        let tag = ring::hmac::sign(key, v);
        format!(
            "hmac-sha256:{}",
            crate::fingerprint::hex(&tag.as_ref()[..16])
        )
    };
    let mut hits = Vec::new();
    if let Some(strict) = json_kind(content_type, body) {
        match serde_json::from_slice::<serde::de::IgnoredAny>(body) {
            Ok(_) => {
                let strings = json_strings(body);
                for (i, s) in strings.iter().enumerate() {
                    if is_media(s) {
                        continue;
                    }
                    for f in engine.scan(&s.text) {
                        let value = s.text.as_bytes().get(f.start..f.end).unwrap_or(&[]);
                        hits.push(Hit {
                            place: format!(
                                "{}, line {}, column {}",
                                if s.path.is_empty() { "$" } else { &s.path },
                                f.line,
                                f.column
                            ),
                            action: policy.action_for(f.rule, f.category, f.verdict),
                            fingerprint: fp(value),
                            string: Some(i),
                            finding: f,
                        });
                    }
                }
                return Ok((Some(strings), hits));
            }
            Err(e) if strict => {
                return Err(Failure::new(
                    400,
                    "promptgate_malformed_json",
                    format!(
                        "the body is not valid JSON ({:?} error at line {}, column {})",
                        e.classify(),
                        e.line(),
                        e.column()
                    )
                    .to_lowercase()
                    .replace("json", "JSON"),
                ));
            }
            Err(_) => {}
        }
    }
    for f in engine.scan_bytes(body) {
        let value = body.get(f.start..f.end).unwrap_or(&[]);
        hits.push(Hit {
            place: format!("line {}, column {}", f.line, f.column),
            action: policy.action_for(f.rule, f.category, f.verdict),
            fingerprint: fp(value),
            string: None,
            finding: f,
        });
    }
    Ok((None, hits))
}

/// Whether a JSON string is a media payload or an opaque blob (base64 image or document data, a
/// data: URL, a signature) rather than prompt text.
fn is_media(s: &JsonString) -> bool {
    let t = s.text.as_str();
    if t.len() >= 16 && t.starts_with("data:") && t[..t.len().min(200)].contains(";base64,") {
        return true;
    }
    let key = s.last_key.as_deref().unwrap_or("");
    if t.len() >= 64
        && MEDIA_KEYS.iter().any(|k| k.eq_ignore_ascii_case(key))
        && t.bytes().all(|b| {
            b.is_ascii_alphanumeric()
                || matches!(b, b'+' | b'/' | b'=' | b'-' | b'_' | b'\n' | b'\r')
        })
        && !t.contains("-----")
    {
        return true;
    }
    false
}

/// Every string value (not key) of a JSON document already known to be valid, with its path.
fn json_strings(b: &[u8]) -> Vec<JsonString> {
    enum Frame {
        Obj {
            key: Option<String>,
            expect_key: bool,
        },
        Arr {
            index: usize,
        },
    }
    let path_of = |stack: &[Frame]| -> String {
        let mut p = String::new();
        for f in stack {
            match f {
                Frame::Obj { key: Some(k), .. } => {
                    if k.bytes()
                        .all(|c| c.is_ascii_alphanumeric() || c == b'_' || c == b'-')
                        && !k.is_empty()
                    {
                        if !p.is_empty() {
                            p.push('.');
                        }
                        p.push_str(k);
                    } else {
                        p.push_str(&format!(
                            "[{}]",
                            serde_json::to_string(k).unwrap_or_default()
                        ));
                    }
                }
                Frame::Obj { key: None, .. } => {}
                Frame::Arr { index } => p.push_str(&format!("[{index}]")),
            }
        }
        p
    };
    let mut out = Vec::new();
    let mut stack: Vec<Frame> = Vec::new();
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'{' => stack.push(Frame::Obj {
                key: None,
                expect_key: true,
            }),
            b'[' => stack.push(Frame::Arr { index: 0 }),
            b'}' | b']' => {
                stack.pop();
            }
            b',' => match stack.last_mut() {
                Some(Frame::Obj { expect_key, .. }) => *expect_key = true,
                Some(Frame::Arr { index }) => *index += 1,
                None => {}
            },
            b':' => {
                if let Some(Frame::Obj { expect_key, .. }) = stack.last_mut() {
                    *expect_key = false;
                }
            }
            b'"' => {
                let start = i;
                let mut j = i + 1;
                let mut escaped = false;
                // Jump from quote or backslash to the next with memchr2 instead of byte by byte.
                while j < b.len() {
                    match memchr::memchr2(b'"', b'\\', &b[j..]) {
                        Some(k) if b[j + k] == b'\\' => {
                            escaped = true;
                            j += k + 2;
                        }
                        Some(k) => {
                            j += k;
                            break;
                        }
                        None => j = b.len(),
                    }
                }
                let end = (j + 1).min(b.len());
                let raw = &b[start..end];
                let text = if escaped {
                    serde_json::from_slice::<String>(raw).unwrap_or_default()
                } else {
                    String::from_utf8_lossy(&raw[1..raw.len().saturating_sub(1)]).into_owned()
                };
                match stack.last_mut() {
                    Some(Frame::Obj {
                        key,
                        expect_key: true,
                    }) => *key = Some(text),
                    _ => {
                        let last_key = match stack.last() {
                            Some(Frame::Obj { key, .. }) => key.clone(),
                            _ => None,
                        };
                        out.push(JsonString {
                            start,
                            end,
                            path: path_of(&stack),
                            last_key,
                            text,
                        });
                    }
                }
                i = end;
                continue;
            }
            _ => {}
        }
        i += 1;
    }
    out
}

/// Placeholder numbering across all strings of a request: the same value gets the same
/// placeholder everywhere in the body.
#[derive(Default)]
struct Numbering {
    map: HashMap<(Category, String), String>,
    counters: HashMap<&'static str, usize>,
}

impl Numbering {
    fn renumber(&mut self, r: &Redacted) -> String {
        let mut local: HashMap<&str, String> = HashMap::new();
        for rep in &r.replacements {
            let counters = &mut self.counters;
            let global = self
                .map
                .entry((rep.category, rep.value.clone()))
                .or_insert_with(|| {
                    let tag = rep.category.placeholder_tag();
                    let n = counters.entry(tag).or_insert(0);
                    *n += 1;
                    format!("[{tag}_{n}]")
                })
                .clone();
            local.insert(rep.placeholder.as_str(), global);
        }
        let mut out = String::with_capacity(r.text.len());
        let mut rest = r.text.as_str();
        while let Some(i) = rest.find('[') {
            out.push_str(&rest[..i]);
            let tail = &rest[i..];
            if let Some(j) = tail[..tail.len().min(40)].find(']') {
                if let Some(g) = local.get(&tail[..=j]) {
                    out.push_str(g);
                    rest = &tail[j + 1..];
                    continue;
                }
            }
            out.push('[');
            rest = &tail[1..];
        }
        out.push_str(rest);
        out
    }
}

/// Rewrites the strings holding findings whose action is redact (or worse); everything else stays
/// byte for byte.
fn rewrite(body: &[u8], strings: &[JsonString], hits: &[Hit]) -> Result<Vec<u8>, Failure> {
    let mut by_string: BTreeMap<usize, Vec<Finding>> = BTreeMap::new();
    for h in hits.iter().filter(|h| h.action >= Action::Redact) {
        if let Some(i) = h.string {
            by_string.entry(i).or_default().push(h.finding.clone());
        }
    }
    let mut numbering = Numbering::default();
    let mut out = Vec::with_capacity(body.len());
    let mut pos = 0;
    for (i, findings) in by_string {
        let s = &strings[i];
        let text = numbering.renumber(&redact(&s.text, &findings));
        out.extend_from_slice(&body[pos..s.start]);
        out.extend_from_slice(&serde_json::to_vec(&text).map_err(|_| {
            Failure::new(
                500,
                "promptgate_rewrite_error",
                "the body could not be rewritten",
            )
        })?);
        pos = s.end;
    }
    out.extend_from_slice(&body[pos..]);
    if serde_json::from_slice::<serde::de::IgnoredAny>(&out).is_err() {
        return Err(Failure::new(
            500,
            "promptgate_rewrite_error",
            "the redacted body was not valid JSON",
        ));
    }
    Ok(out)
}

fn summarise(hits: &[Hit]) -> Vec<FindingSummary> {
    let mut out: Vec<FindingSummary> = Vec::new();
    for h in hits {
        if let Some(s) = out
            .iter_mut()
            .find(|s| *s.rule == *h.finding.rule && s.fingerprint == h.fingerprint)
        {
            s.count += 1;
        } else {
            out.push(FindingSummary {
                rule: h.finding.rule.to_string(),
                category: h.finding.category,
                verdict: h.finding.verdict,
                action: h.action,
                count: 1,
                fingerprint: h.fingerprint.clone(),
            });
        }
    }
    out
}

/// Keeps header-safe, printable ASCII.
fn printable(s: &str) -> String {
    s.chars()
        .map(|c| {
            if c.is_ascii_graphic() || c == ' ' {
                c
            } else {
                '?'
            }
        })
        .collect()
}

fn notice_text(verb: &str, hits: &[Hit]) -> String {
    notice_text_refs(verb, &hits.iter().collect::<Vec<_>>())
}

/// The value of a notice header: rules and places, never values.
fn notice_text_refs(verb: &str, hits: &[&Hit]) -> String {
    let mut parts: Vec<String> = hits
        .iter()
        .take(10)
        .map(|h| {
            format!(
                "{} ({}, box {}) at {}",
                h.finding.rule, h.finding.category, h.finding.verdict, h.place
            )
        })
        .collect();
    if hits.len() > 10 {
        parts.push(format!("and {} more", hits.len() - 10));
    }
    printable(&format!("promptgate {verb}: {}", parts.join("; ")))
}

/// The developer-facing message for a blocked (or unrewritable) request: which rules, where, why,
/// how to fix. Never the value.
fn block_message(
    provider: Provider,
    policy_source: &str,
    hits: &[Hit],
    unrewritable: Option<&str>,
) -> String {
    let mut sorted: Vec<&Hit> = hits.iter().filter(|h| h.action >= Action::Redact).collect();
    sorted.sort_by_key(|h| std::cmp::Reverse(h.action));
    let n = sorted.len();
    let mut m = match unrewritable {
        None => format!(
            "promptgate blocked this request to {}: it contains {} item{} that the policy ({}) does not allow to be sent. Nothing was sent.",
            provider.display_name(),
            n,
            if n == 1 { "" } else { "s" },
            policy_source
        ),
        Some(why) => format!(
            "promptgate refused this request to {}: it contains {} item{} that must be redacted, but {}. Nothing was sent.",
            provider.display_name(),
            n,
            if n == 1 { "" } else { "s" },
            why
        ),
    };
    for h in sorted.iter().take(10) {
        let f = &h.finding;
        let (why, fix) = rule_spec(f.rule)
            .map(|r| (r.why.trim().to_string(), r.fix.trim().to_string()))
            .unwrap_or_else(|| {
                (
                    format!("{} content must not be sent.", f.category),
                    "Remove it and send again.".to_string(),
                )
            });
        m.push_str(&format!(
            "\n- {} ({}, box {}) at {}: {} Fix: {}",
            f.rule, f.category, f.verdict, h.place, why, fix
        ));
    }
    if n > 10 {
        m.push_str(&format!("\n- and {} more", n - 10));
    }
    m.push_str("\nThe values are not shown here and were not logged. Remove them or replace them with placeholders, then send again; if one is a false positive, add it to the policy allowlist.");
    m
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::policy::Policy;
    use std::io::Write;

    const AWS: &str = "AKIAIOSFODNN7EXAMPLF";

    fn key() -> ring::hmac::Key {
        ring::hmac::Key::new(ring::hmac::HMAC_SHA256, b"0123456789abcdef0123456789abcdef")
    }

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.insert(*k, v.parse().unwrap());
        }
        h
    }

    fn run(engine: &Engine, host: &str, path: &str, h: &HeaderMap, body: &[u8]) -> Screening {
        screen(
            engine,
            &RequestParts {
                method: "POST",
                host,
                path,
                headers: h,
            },
            body,
            &key(),
        )
    }

    fn chat(content: &str) -> Vec<u8> {
        serde_json::to_vec(&serde_json::json!({
            "model": "gpt-4o",
            "messages": [
                {"role": "system", "content": "You are helpful."},
                {"role": "user", "content": content}
            ]
        }))
        .unwrap()
    }

    fn secret_prompt() -> String {
        format!("my key is {AWS} and mail me at jane.doe@corp-mail.org please")
    }

    #[test]
    fn safe_forwards_original() {
        let e = Engine::with_default_policy();
        let h = headers(&[("content-type", "application/json")]);
        let s = run(
            &e,
            "api.openai.com",
            "/v1/chat/completions",
            &h,
            &chat("How do I reverse a list in Rust?"),
        );
        assert_eq!(
            s.outcome,
            Outcome::Forward {
                body: Forwarded::Original,
                notice: None
            }
        );
        assert_eq!(s.verdict, Verdict::Safe);
        assert_eq!(s.provider, Provider::OpenaiChat);
    }

    #[test]
    fn redacts_only_affected_strings() {
        let e = Engine::with_default_policy();
        let h = headers(&[("content-type", "application/json")]);
        let body = chat(&secret_prompt());
        let s = run(&e, "api.openai.com", "/v1/chat/completions", &h, &body);
        assert_eq!(s.result, Disposition::Redacted);
        let Outcome::Forward {
            body: Forwarded::Rewritten(new),
            notice: Some((name, value)),
        } = &s.outcome
        else {
            panic!("{:?}", s.outcome)
        };
        assert_eq!(*name, "x-promptgate-redacted");
        assert!(!value.contains(AWS));
        let text = std::str::from_utf8(new).unwrap();
        assert!(!text.contains(AWS), "{text}");
        assert!(!text.contains("jane.doe@corp-mail.org"), "{text}");
        assert!(text.contains("[SECRET_1]"), "{text}");
        assert!(text.contains(r#""content":"You are helpful.""#), "{text}");
        assert!(s
            .findings
            .iter()
            .all(|f| f.fingerprint.starts_with("hmac-sha256:")));
        // Same value, same fingerprint across requests.
        let s2 = run(&e, "api.openai.com", "/v1/chat/completions", &h, &body);
        assert_eq!(s.findings, s2.findings);
    }

    #[test]
    fn same_value_same_placeholder_across_strings() {
        let e = Engine::with_default_policy();
        let h = headers(&[("content-type", "application/json")]);
        let body = serde_json::to_vec(&serde_json::json!({
            "messages": [
                {"role": "user", "content": format!("key {AWS}")},
                {"role": "user", "content": format!("again {AWS} and AKIAIOSFODNN7EXAMPLG")}
            ]
        }))
        .unwrap();
        let s = run(&e, "api.openai.com", "/v1/chat/completions", &h, &body);
        let Outcome::Forward {
            body: Forwarded::Rewritten(new),
            ..
        } = &s.outcome
        else {
            panic!("{:?}", s.outcome)
        };
        let v: serde_json::Value = serde_json::from_slice(new).unwrap();
        assert_eq!(v["messages"][0]["content"], "key [SECRET_1]");
        assert_eq!(
            v["messages"][1]["content"],
            "again [SECRET_1] and [SECRET_2]"
        );
    }

    #[test]
    fn strict_blocks_with_provider_shape() {
        let p = Policy::load(
            &std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("policies/strict.yaml"),
        )
        .unwrap();
        let e = Engine::new(p).unwrap();
        let h = headers(&[("content-type", "application/json")]);
        let body = serde_json::to_vec(&serde_json::json!({
            "model": "claude",
            "max_tokens": 10,
            "messages": [{"role": "user", "content": secret_prompt()}]
        }))
        .unwrap();
        let s = run(&e, "api.anthropic.com", "/v1/messages", &h, &body);
        assert_eq!(s.result, Disposition::Blocked);
        let Outcome::Refuse { status, body } = &s.outcome else {
            panic!()
        };
        assert_eq!(*status, 400);
        let v: serde_json::Value = serde_json::from_slice(body).unwrap();
        assert_eq!(v["type"], "error");
        let msg = v["error"]["message"].as_str().unwrap();
        assert!(msg.contains("messages[0].content"), "{msg}");
        assert!(msg.contains("Fix:"), "{msg}");
        assert!(!msg.contains(AWS), "{msg}");
        assert!(!msg.contains("jane.doe"), "{msg}");
    }

    #[test]
    fn monitor_forwards_unchanged() {
        let p = Policy::from_yaml("m", "mode: monitor\n").unwrap();
        let e = Engine::new(p).unwrap();
        let h = headers(&[("content-type", "application/json")]);
        let s = run(
            &e,
            "api.openai.com",
            "/v1/chat/completions",
            &h,
            &chat(&secret_prompt()),
        );
        assert_eq!(s.result, Disposition::Monitored);
        assert_eq!(s.action, Action::Redact);
        assert!(matches!(
            s.outcome,
            Outcome::Forward {
                body: Forwarded::Original,
                ..
            }
        ));
    }

    #[test]
    fn warn_adds_notice() {
        let p = Policy::from_yaml("w", "actions:\n  never: warn\n").unwrap();
        let e = Engine::new(p).unwrap();
        let h = headers(&[("content-type", "application/json")]);
        let s = run(
            &e,
            "api.openai.com",
            "/v1/chat/completions",
            &h,
            &chat(&secret_prompt()),
        );
        let Outcome::Forward {
            body: Forwarded::Original,
            notice: Some((name, v)),
        } = &s.outcome
        else {
            panic!("{:?}", s.outcome)
        };
        assert_eq!(*name, "x-promptgate-warning");
        assert!(v.contains("messages[1].content"), "{v}");
        assert!(!v.contains(AWS));
    }

    #[test]
    fn malformed_json_fails_closed_or_open() {
        let e = Engine::with_default_policy();
        let h = headers(&[("content-type", "application/json")]);
        let s = run(
            &e,
            "api.openai.com",
            "/v1/chat/completions",
            &h,
            b"{\"a\": ",
        );
        let Outcome::Refuse { status, body } = &s.outcome else {
            panic!()
        };
        assert_eq!(*status, 400);
        let v: serde_json::Value = serde_json::from_slice(body).unwrap();
        assert!(v["error"]["message"]
            .as_str()
            .unwrap()
            .contains("not valid JSON"));
        let open = Engine::new(Policy::from_yaml("o", "fail_open: true\n").unwrap()).unwrap();
        let s = run(
            &open,
            "api.openai.com",
            "/v1/chat/completions",
            &h,
            b"{\"a\": ",
        );
        assert_eq!(s.result, Disposition::Unscreened);
    }

    #[test]
    fn text_bodies_cannot_be_redacted() {
        let e = Engine::with_default_policy();
        let h = headers(&[("content-type", "text/plain")]);
        let s = run(
            &e,
            "api.openai.com",
            "/v1/x",
            &h,
            secret_prompt().as_bytes(),
        );
        assert_eq!(s.result, Disposition::Refused);
        let s = run(&e, "api.openai.com", "/v1/x", &h, b"hello there");
        assert_eq!(s.result, Disposition::Forwarded);
    }

    #[test]
    fn decodes_encodings() {
        let e = Engine::with_default_policy();
        let body = chat(&secret_prompt());
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        gz.write_all(&body).unwrap();
        let gz = gz.finish().unwrap();
        let zs = zstd::encode_all(&body[..], 3).unwrap();
        let mut br = Vec::new();
        {
            let mut w = brotli::CompressorWriter::new(&mut br, 4096, 5, 22);
            w.write_all(&body).unwrap();
        }
        let mut df = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::default());
        df.write_all(&body).unwrap();
        let df = df.finish().unwrap();
        for (enc, data) in [("gzip", gz), ("zstd", zs), ("br", br), ("deflate", df)] {
            let h = headers(&[
                ("content-type", "application/json"),
                ("content-encoding", enc),
            ]);
            let s = run(&e, "api.openai.com", "/v1/chat/completions", &h, &data);
            assert_eq!(s.result, Disposition::Redacted, "{enc}");
            let Outcome::Forward {
                body: Forwarded::Rewritten(new),
                ..
            } = &s.outcome
            else {
                panic!()
            };
            let v: serde_json::Value = serde_json::from_slice(new).unwrap();
            assert!(!v.to_string().contains(AWS));
        }
        let h = headers(&[
            ("content-type", "application/json"),
            ("content-encoding", "gzip"),
        ]);
        let s = run(
            &e,
            "api.openai.com",
            "/v1/chat/completions",
            &h,
            b"not gzip",
        );
        assert_eq!(s.result, Disposition::Refused);
    }

    #[test]
    fn decoded_cap_and_body_cap() {
        let p = Policy::from_yaml(
            "c",
            "limits:\n  max_body_bytes: 100000\n  max_decoded_bytes: 1000\n",
        )
        .unwrap();
        let e = Engine::new(p).unwrap();
        let body = chat(&"a".repeat(5000));
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        gz.write_all(&body).unwrap();
        let gz = gz.finish().unwrap();
        let h = headers(&[
            ("content-type", "application/json"),
            ("content-encoding", "gzip"),
        ]);
        let s = run(&e, "api.openai.com", "/v1/chat/completions", &h, &gz);
        assert!(matches!(s.outcome, Outcome::Refuse { status: 413, .. }));
        let h = headers(&[("content-type", "application/json")]);
        let s = run(
            &e,
            "api.openai.com",
            "/v1/chat/completions",
            &h,
            &chat(&"a".repeat(200_000)),
        );
        assert!(matches!(s.outcome, Outcome::Refuse { status: 413, .. }));
    }

    #[test]
    fn media_is_skipped() {
        let e = Engine::with_default_policy();
        let h = headers(&[("content-type", "application/json")]);
        // base64 that happens to contain an AWS-key-shaped run
        let b64 = format!("{}{}{}", "QUJD".repeat(30), AWS, "QUJD".repeat(30));
        let body = serde_json::to_vec(&serde_json::json!({
            "messages": [{"role": "user", "content": [
                {"type": "image", "source": {"type": "base64", "media_type": "image/png", "data": b64}},
                {"type": "image_url", "image_url": {"url": format!("data:image/png;base64,{b64}")}},
                {"type": "text", "text": "what is this?"}
            ]}]
        }))
        .unwrap();
        let s = run(&e, "api.anthropic.com", "/v1/messages", &h, &body);
        assert_eq!(s.result, Disposition::Forwarded, "{:?}", s.findings);
    }

    #[test]
    fn json_paths() {
        let body = br#"{"a": [1, "x", {"b\"c": "y", "d": ["z"]}], "e": "w"}"#;
        let s = json_strings(body);
        let paths: Vec<(&str, &str)> = s
            .iter()
            .map(|s| (s.path.as_str(), s.text.as_str()))
            .collect();
        assert_eq!(
            paths,
            vec![
                ("a[1]", "x"),
                ("a[2][\"b\\\"c\"]", "y"),
                ("a[2].d[0]", "z"),
                ("e", "w")
            ]
        );
    }
}
