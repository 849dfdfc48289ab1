//! `promptgate report` on a generated audit log whose figures are computed by hand: incident dedupe
//! by fingerprint, scaling by the sample rate, grouping, date filters and the baseline comparison.

use serde_json::{json, Value};
use std::path::{Path, PathBuf};
use std::process::Command;

fn bin() -> Command {
    Command::new(env!("CARGO_BIN_EXE_promptgate"))
}

struct F {
    rule: &'static str,
    category: &'static str,
    verdict: &'static str,
    fp: &'static str,
}

const AWS_K1: F = F {
    rule: "aws_access_key_id",
    category: "secret",
    verdict: "never",
    fp: "hmac-sha256:k1",
};
const PEM_K2: F = F {
    rule: "private_key_pem",
    category: "private_key",
    verdict: "never",
    fp: "hmac-sha256:k2",
};
const GH_K3: F = F {
    rule: "github_token",
    category: "secret",
    verdict: "never",
    fp: "hmac-sha256:k3",
};
const HOST: F = F {
    rule: "internal_host",
    category: "internal",
    verdict: "caution",
    fp: "hmac-sha256:h1",
};
const EMAIL: F = F {
    rule: "email",
    category: "pii",
    verdict: "never",
    fp: "hmac-sha256:p1",
};

#[allow(clippy::too_many_arguments)]
fn event(
    time: &str,
    tool: &str,
    user: Option<(&str, &str)>,
    findings: &[&F],
    result: &str,
    sampled: bool,
    rate: f64,
) -> String {
    let verdict = if findings.iter().any(|f| f.verdict == "never") {
        "never"
    } else if findings.is_empty() {
        "safe"
    } else {
        "caution"
    };
    let action = match result {
        "blocked" => "block",
        "redacted" => "redact",
        _ => "allow",
    };
    let mut v = json!({
        "time": time,
        "client": "127.0.0.1:50000",
        "host": "api.openai.com",
        "method": "POST",
        "path": "/v1/chat/completions",
        "provider": "openai_chat",
        "tool": tool,
        "box": verdict,
        "action": action,
        "result": result,
        "monitor": false,
        "findings": findings.iter().map(|f| json!({
            "rule": f.rule, "category": f.category, "box": f.verdict,
            "action": action, "count": 1, "fingerprint": f.fp
        })).collect::<Vec<_>>(),
        "sampled": sampled,
        "sample_rate": rate,
        "bytes": 100, "bytes_forwarded": 100, "scan_ms": 0.1,
        "upstream_status": 200, "response_bytes": 10, "total_ms": 1.0
    });
    if let Some((u, t)) = user {
        v["user"] = json!(u);
        v["team"] = json!(t);
    }
    v.to_string()
}

/// The generated log, split over two files. See the expectations in the tests.
fn write_logs(dir: &Path) -> Vec<PathBuf> {
    let alice = Some(("alice", "red"));
    let bob = Some(("bob", "blue"));
    let mut a = Vec::new();
    // Outside --since.
    a.push(event(
        "2024-12-31T23:59:59.000Z",
        "claude_code",
        alice,
        &[&AWS_K1],
        "redacted",
        true,
        1.0,
    ));
    // January (baseline), rate 1: claude_code 10 events.
    for d in 0..4 {
        a.push(event(
            &format!("2025-01-{:02}T09:00:00.000Z", d + 2),
            "claude_code",
            alice,
            &[&AWS_K1],
            "redacted",
            true,
            1.0,
        ));
    }
    a.push(event(
        "2025-01-10T09:00:00Z",
        "claude_code",
        alice,
        &[&PEM_K2],
        "blocked",
        true,
        1.0,
    ));
    for _ in 0..2 {
        a.push(event(
            "2025-01-11T09:00:00Z",
            "claude_code",
            alice,
            &[&HOST],
            "redacted",
            true,
            1.0,
        ));
    }
    for _ in 0..3 {
        a.push(event(
            "2025-01-12T09:00:00Z",
            "claude_code",
            alice,
            &[],
            "forwarded",
            true,
            1.0,
        ));
    }
    let mut b = Vec::new();
    // January copilot: 10 safe.
    for _ in 0..10 {
        b.push(event(
            "2025-01-15T12:00:00+02:00",
            "copilot",
            bob,
            &[],
            "forwarded",
            true,
            1.0,
        ));
    }
    // February: one request refused before screening (not sampled, no identity recorded).
    b.push(event(
        "2025-02-03T08:00:00Z",
        "copilot",
        None,
        &[],
        "refused",
        false,
        0.5,
    ));
    b.push("{not an audit event".to_string());
    // March, rate 0.5: claude_code 5 sampled (one key twice), copilot 5 sampled (one email).
    for _ in 0..2 {
        b.push(event(
            "2025-03-05T10:00:00Z",
            "claude_code",
            alice,
            &[&GH_K3],
            "redacted",
            true,
            0.5,
        ));
    }
    for _ in 0..3 {
        b.push(event(
            "2025-03-06T10:00:00Z",
            "claude_code",
            alice,
            &[],
            "forwarded",
            true,
            0.5,
        ));
    }
    b.push(event(
        "2025-03-07T10:00:00Z",
        "copilot",
        bob,
        &[&EMAIL],
        "redacted",
        true,
        0.5,
    ));
    for _ in 0..4 {
        b.push(event(
            "2025-03-08T10:00:00Z",
            "copilot",
            bob,
            &[],
            "forwarded",
            true,
            0.5,
        ));
    }
    // After --until.
    b.push(event(
        "2025-04-01T00:00:00Z",
        "copilot",
        bob,
        &[&GH_K3],
        "redacted",
        true,
        1.0,
    ));
    let pa = dir.join("a.jsonl");
    let pb = dir.join("b.jsonl");
    std::fs::write(&pa, a.join("\n") + "\n").unwrap();
    std::fs::write(&pb, b.join("\n") + "\n").unwrap();
    vec![pa, pb]
}

fn report(logs: &[PathBuf], args: &[&str]) -> String {
    let mut c = bin();
    c.arg("report").arg("--audit-log").args(logs).args(args);
    let out = c.output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

#[allow(clippy::too_many_arguments)]
fn row(
    period: &str,
    group: &str,
    interactions: u64,
    sampled: u64,
    never: f64,
    caution: f64,
    exposures: u64,
    blocked: u64,
    redacted: u64,
    top: &[(&str, u64)],
) -> Value {
    json!({
        "period": period, "group": group, "interactions": interactions, "sampled": sampled,
        "never_rate": never, "caution_rate": caution, "secret_exposures": exposures,
        "blocked": blocked, "redacted": redacted,
        "top_rules": top.iter().map(|(r, c)| json!({"rule": r, "count": c})).collect::<Vec<_>>()
    })
}

#[test]
fn json_by_month_and_tool_with_baseline() {
    let dir = tempfile::tempdir().unwrap();
    let logs = write_logs(dir.path());
    let out = report(
        &logs,
        &[
            "--since",
            "2025-01-01",
            "--until",
            "2025-03-31",
            "--by",
            "month",
            "--group",
            "tool",
            "--baseline-until",
            "2025-01-31",
            "--format",
            "json",
        ],
    );
    let v: Value = serde_json::from_str(&out).unwrap();
    let expected = json!({
        "rows": [
            row("2025-01", "claude_code", 10, 10, 0.5, 0.2, 2, 1, 6,
                &[("aws_access_key_id", 4), ("internal_host", 2), ("private_key_pem", 1)]),
            row("2025-01", "copilot", 10, 10, 0.0, 0.0, 0, 0, 0, &[]),
            // Not sampled: stands for itself, excluded from rates.
            row("2025-02", "copilot", 1, 0, 0.0, 0.0, 0, 0, 0, &[]),
            // 5 sampled at 0.5 = 10; one key pasted twice = one exposure.
            row("2025-03", "claude_code", 10, 5, 0.4, 0.0, 1, 0, 4, &[("github_token", 4)]),
            // pii is never-box but not a secret exposure.
            row("2025-03", "copilot", 10, 5, 0.2, 0.0, 0, 0, 2, &[("email", 2)]),
        ],
        "baseline": row("2025-01-01..2025-01-31", "all", 20, 20, 0.25, 0.1, 2, 1, 6,
            &[("aws_access_key_id", 4), ("internal_host", 2), ("private_key_pem", 1)]),
    });
    assert_eq!(v, expected, "{out}");
}

#[test]
fn text_shows_the_change_against_the_baseline() {
    let dir = tempfile::tempdir().unwrap();
    let logs = write_logs(dir.path());
    let out = report(
        &logs,
        &[
            "--since",
            "2025-01-01",
            "--until",
            "2025-03-31",
            "--baseline-until",
            "2025-01-31",
        ],
    );
    // Baseline: 2 exposures in 20 interactions = 100 per 1k. March: 1 in 20 = 50 per 1k: -50%.
    // Never rate: baseline 0.25, March (2+1)/10 screened = 0.3: +20%.
    let march = out
        .lines()
        .find(|l| l.trim_start().starts_with("2025-03 all:"))
        .unwrap_or_else(|| panic!("{out}"));
    assert!(march.contains("50.00 (-50%)"), "{march}");
    assert!(march.contains("never rate +20%"), "{march}");
    assert!(
        out.contains("baseline 2025-01-01..2025-01-31: 20 interactions"),
        "{out}"
    );
    assert!(out.contains("100.00 per 1k"), "{out}");
    assert!(out.contains("Sampled at rate 0.5, 1"), "{out}");
    // February (only the unscreened event) is no comparison row with a rate.
    let jan = out.lines().find(|l| l.starts_with("2025-01")).unwrap();
    assert!(jan.contains("25.0%"), "{jan}");
}

#[test]
fn json_ungrouped_and_other_groupings() {
    let dir = tempfile::tempdir().unwrap();
    let logs = write_logs(dir.path());
    let v: Value = serde_json::from_str(&report(
        &logs,
        &[
            "--since",
            "2025-01-01",
            "--until",
            "2025-03-31",
            "--format",
            "json",
        ],
    ))
    .unwrap();
    assert!(v["baseline"].is_null());
    let rows = v["rows"].as_array().unwrap();
    assert_eq!(rows.len(), 3);
    assert_eq!(rows[2]["period"], "2025-03");
    assert_eq!(rows[2]["group"], "all");
    assert_eq!(rows[2]["interactions"], 20);
    assert_eq!(rows[2]["sampled"], 10);
    assert_eq!(rows[2]["never_rate"], 0.3);
    assert_eq!(rows[2]["secret_exposures"], 1);
    assert_eq!(rows[2]["redacted"], 6);

    let v: Value = serde_json::from_str(&report(
        &logs,
        &[
            "--since",
            "2025-01-01",
            "--until",
            "2025-03-31",
            "--group",
            "team",
            "--format",
            "json",
        ],
    ))
    .unwrap();
    let groups: Vec<(&str, &str)> = v["rows"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| (r["period"].as_str().unwrap(), r["group"].as_str().unwrap()))
        .collect();
    assert_eq!(
        groups,
        [
            ("2025-01", "blue"),
            ("2025-01", "red"),
            ("2025-02", "unassigned"),
            ("2025-03", "blue"),
            ("2025-03", "red")
        ]
    );

    // Everything, by ISO week and user: the out-of-range events are back.
    let v: Value = serde_json::from_str(&report(
        &logs,
        &["--by", "week", "--group", "user", "--format", "json"],
    ))
    .unwrap();
    let rows = v["rows"].as_array().unwrap();
    assert_eq!(rows[0]["period"], "2025-W01");
    assert_eq!(rows[0]["group"], "alice");
    // 2024-12-31 (ISO week 2025-W01) and 2025-01-02..05: k1 five times, one exposure.
    assert_eq!(rows[0]["secret_exposures"], 1);
    assert_eq!(rows[0]["interactions"], 5);
    let total: f64 = rows
        .iter()
        .map(|r| r["interactions"].as_f64().unwrap())
        .sum();
    assert_eq!(total, 20.0 + 1.0 + 20.0 + 1.0 + 1.0);

    // By day, with -o.
    let out_file = dir.path().join("r.json");
    let stdout = report(
        &logs,
        &[
            "--by",
            "day",
            "--since",
            "2025-03-05",
            "--until",
            "2025-03-05",
            "--format",
            "json",
            "-o",
            out_file.to_str().unwrap(),
        ],
    );
    assert!(stdout.is_empty());
    let v: Value = serde_json::from_str(&std::fs::read_to_string(&out_file).unwrap()).unwrap();
    assert_eq!(v["rows"].as_array().unwrap().len(), 1);
    assert_eq!(v["rows"][0]["period"], "2025-03-05");
    assert_eq!(v["rows"][0]["interactions"], 4);
}

#[test]
fn bad_arguments_fail_cleanly() {
    let out = bin()
        .args(["report", "--audit-log", "/nonexistent/audit.jsonl"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("/nonexistent/audit.jsonl"));
    let dir = tempfile::tempdir().unwrap();
    let logs = write_logs(dir.path());
    let out = bin()
        .arg("report")
        .arg("--audit-log")
        .args(&logs)
        .args(["--since", "March"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("YYYY-MM-DD"));
}

#[test]
fn baseline_exposures_are_counted_per_period_like_the_rows() {
    // Baseline: January and February, 10 interactions each, the same key once in each month.
    // March: 10 interactions, one key. Per month that is 1 exposure per 10 interactions in every
    // month: no change. (Counted distinct over the whole baseline it would look like +100%.)
    let mut text = String::new();
    for (month, key) in [(1, "k1"), (2, "k1"), (3, "k9")] {
        for i in 0..10 {
            let f = if i == 0 {
                format!(
                    r#"[{{"rule":"aws_access_key_id","category":"secret","box":"never","fingerprint":"hmac-sha256:{key}"}}]"#
                )
            } else {
                "[]".into()
            };
            text.push_str(&format!(
                r#"{{"time":"2025-{month:02}-10T10:00:00Z","tool":"codex_cli","box":"{}","result":"redacted","findings":{f},"sampled":true,"sample_rate":1.0}}"#,
                if i == 0 { "never" } else { "safe" }
            ));
            text.push('\n');
        }
    }
    let mut l = promptgate::report::Loaded::default();
    promptgate::report::parse_audit(&text, &mut l);
    let opts = promptgate::report::Options {
        baseline_until: Some(promptgate::report::parse_date("2025-02-28").unwrap()),
        ..Default::default()
    };
    let r = promptgate::report::build(&l, &opts);
    let b = r.baseline.as_ref().unwrap();
    assert_eq!(b.secret_exposures, 1, "distinct over the baseline");
    assert_eq!(b.interactions, 20.0);
    assert_eq!(r.meta.baseline_exposures_per_1k, Some(100.0));
    assert_eq!(r.meta.changes.len(), 1);
    assert_eq!(r.meta.changes[0].period, "2025-03");
    assert_eq!(r.meta.changes[0].exposures, Some(0.0));
    assert_eq!(r.meta.changes[0].never_rate, Some(0.0));
}
