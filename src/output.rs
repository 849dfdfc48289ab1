//! `promptgate scan` output formats: json (one object per input per line), text (ripgrep-like) and
//! SARIF 2.1.0. No format prints a detected value.

use crate::engine::catalogue::rule_spec;
use crate::engine::Finding;
use crate::types::Verdict;
use serde::Serialize;
use serde_json::json;

/// The result of scanning one input.
pub struct ScanResult {
    pub path: String,
    pub bytes: Vec<u8>,
    pub findings: Vec<Finding>,
    pub verdict: Verdict,
}

#[derive(Serialize)]
struct JsonLine<'a> {
    path: &'a str,
    #[serde(rename = "box")]
    verdict: Verdict,
    findings: &'a [Finding],
}

pub fn json_line(r: &ScanResult) -> String {
    serde_json::to_string(&JsonLine {
        path: &r.path,
        verdict: r.verdict,
        findings: &r.findings,
    })
    .expect("scan results serialise")
}

/// The finding's line with every finding on it masked, cut to about 100 characters around it.
pub fn masked_excerpt(bytes: &[u8], f: &Finding, all: &[Finding]) -> String {
    let ls = memchr::memrchr(b'\n', &bytes[..f.start]).map_or(0, |i| i + 1);
    let le = memchr::memchr(b'\n', &bytes[f.start..]).map_or(bytes.len(), |i| f.start + i);
    let mut out = Vec::new();
    let mut pos = ls;
    let mut spans: Vec<(usize, usize, &Finding)> = all
        .iter()
        .filter(|g| g.start < le && g.end > ls)
        .map(|g| (g.start.max(ls), g.end.min(le), g))
        .collect();
    spans.sort_by_key(|s| s.0);
    for (s, e, g) in spans {
        if s < pos {
            pos = pos.max(e);
            continue;
        }
        out.extend_from_slice(&bytes[pos..s]);
        out.extend_from_slice(format!("[{}]", g.rule).as_bytes());
        pos = e;
    }
    if pos < le {
        out.extend_from_slice(&bytes[pos..le]);
    }
    let s = String::from_utf8_lossy(&out);
    let s = s.trim();
    if s.chars().count() > 120 {
        let cut: String = s.chars().take(117).collect();
        format!("{cut}...")
    } else {
        s.to_string()
    }
}

pub fn text_lines(r: &ScanResult) -> String {
    let mut out = String::new();
    for f in &r.findings {
        let spec = rule_spec(f.rule);
        out.push_str(&format!(
            "{}:{}:{}: {} [{}, {}] {}\n",
            r.path,
            f.line,
            f.column,
            f.rule,
            f.category,
            f.verdict,
            masked_excerpt(&r.bytes, f, &r.findings)
        ));
        if let Some(spec) = spec {
            out.push_str(&format!("    why: {}\n    fix: {}\n", spec.why, spec.fix));
        }
    }
    out
}

pub fn text_summary(results: &[ScanResult]) -> String {
    let mut counts = [0usize; 3];
    for r in results {
        counts[r.verdict as usize] += 1;
    }
    format!(
        "{} input(s): {} safe, {} caution, {} never\n",
        results.len(),
        counts[0],
        counts[1],
        counts[2]
    )
}

pub fn sarif(results: &[ScanResult]) -> String {
    let mut used: Vec<&str> = results
        .iter()
        .flat_map(|r| r.findings.iter().map(|f| f.rule))
        .collect();
    used.sort_unstable();
    used.dedup();
    let rules: Vec<_> = used
        .iter()
        .map(|id| {
            let spec = rule_spec(id);
            json!({
                "id": id,
                "shortDescription": {"text": spec.map(|s| s.why.as_str()).unwrap_or(id)},
                "help": {"text": spec.map(|s| s.fix.as_str()).unwrap_or("")},
                "properties": {"category": spec.map(|s| s.category.as_str()).unwrap_or("")},
            })
        })
        .collect();
    let mut res = Vec::new();
    for r in results {
        for f in &r.findings {
            // Columns in Unicode code points, as `columnKind` declares.
            let column = if r.bytes.len() >= f.start {
                let ls = memchr::memrchr(b'\n', &r.bytes[..f.start]).map_or(0, |i| i + 1);
                String::from_utf8_lossy(&r.bytes[ls..f.start])
                    .chars()
                    .count()
                    + 1
            } else {
                f.column
            };
            let spec = rule_spec(f.rule);
            res.push(json!({
                "ruleId": f.rule,
                "level": if f.verdict == Verdict::Never { "error" } else { "warning" },
                "message": {"text": format!("{} ({} box): {}", f.rule, f.verdict, spec.map(|s| s.why.as_str()).unwrap_or(""))},
                "locations": [{
                    "physicalLocation": {
                        "artifactLocation": {"uri": r.path},
                        "region": {
                            "startLine": f.line,
                            "startColumn": column,
                            "byteOffset": f.start,
                            "byteLength": f.end - f.start,
                        }
                    }
                }],
                "properties": {"category": f.category.as_str(), "box": f.verdict.as_str()},
            }));
        }
    }
    let doc = json!({
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [{
            "columnKind": "unicodeCodePoints",
            "tool": {"driver": {
                "name": "promptgate",
                "version": env!("CARGO_PKG_VERSION"),
                "informationUri": "https://github.com/promptgate/promptgate",
                "rules": rules,
            }},
            "results": res,
        }]
    });
    serde_json::to_string_pretty(&doc).expect("sarif serialises")
}
