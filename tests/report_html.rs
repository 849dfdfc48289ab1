//! The HTML report: one self-contained file (no network), with charts, that renders in a real
//! browser without errors. The browser part runs headless Chromium (Debian's `chromium`) and is
//! skipped, with a note, when /usr/bin/chromium is absent. It leaves a screenshot at
//! target/report-screenshot.png.

use serde_json::json;
use std::path::{Path, PathBuf};
use std::process::Command;

const CHROMIUM: &str = "/usr/bin/chromium";

/// Six months of events over four tools and a handful of rules; sampled at 0.5 from April.
fn audit_log(dir: &Path) -> PathBuf {
    let tools = ["claude_code", "copilot_chat", "cursor", "codex_cli"];
    let rules = [
        ("aws_access_key_id", "secret", "never"),
        ("github_token", "secret", "never"),
        ("email", "pii", "never"),
        ("private_key_pem", "private_key", "never"),
        ("internal_host", "internal", "caution"),
    ];
    let mut lines = Vec::new();
    let mut n = 0u64;
    for month in 1..=6u32 {
        let rate = if month >= 4 { 0.5 } else { 1.0 };
        for day in 1..=20u32 {
            for (ti, tool) in tools.iter().enumerate() {
                n += 1;
                // Fewer findings after the March training.
                let every = if month >= 4 { 7 } else { 3 };
                let findings = if (day as usize + ti).is_multiple_of(every) {
                    let (rule, cat, verdict) = rules[(n as usize / 3) % rules.len()];
                    vec![
                        json!({"rule": rule, "category": cat, "box": verdict, "action": "redact",
                        "count": 1, "fingerprint": format!("hmac-sha256:{:032x}", n % 23)}),
                    ]
                } else {
                    vec![]
                };
                let verdict = findings
                    .first()
                    .map(|f| f["box"].as_str().unwrap().to_string())
                    .unwrap_or_else(|| "safe".into());
                let result = if findings.is_empty() {
                    "forwarded"
                } else if n.is_multiple_of(5) {
                    "blocked"
                } else {
                    "redacted"
                };
                let user = if ti == 3 {
                    // Hostile label: must be escaped, never markup.
                    "\"><img src=x onerror=alert(1)><script>alert(2)</script>".to_string()
                } else {
                    format!("user{ti}")
                };
                lines.push(
                    json!({
                        "time": format!("2025-{month:02}-{day:02}T{:02}:00:00.000Z", ti + 8),
                        "request_id": n, "client": "127.0.0.1:5000", "user": user,
                        "team": if ti < 2 { "platform" } else { "data" },
                        "host": "api.openai.com", "method": "POST", "path": "/v1/chat/completions",
                        "provider": "openai_chat", "tool": tool, "box": verdict,
                        "action": if findings.is_empty() { "allow" } else { "redact" },
                        "result": result, "monitor": false, "sampled": true, "sample_rate": rate,
                        "findings": findings, "bytes": 100, "bytes_forwarded": 100,
                        "scan_ms": 0.2, "upstream_status": 200, "response_bytes": 10, "total_ms": 3.0
                    })
                    .to_string(),
                );
            }
        }
    }
    let p = dir.join("audit.jsonl");
    std::fs::write(&p, lines.join("\n") + "\n").unwrap();
    p
}

fn render(log: &Path, out: &Path, extra: &[&str]) -> String {
    let o = Command::new(env!("CARGO_BIN_EXE_promptgate"))
        .arg("report")
        .arg("--audit-log")
        .arg(log)
        .args(["--format", "html", "-o"])
        .arg(out)
        .args(extra)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    std::fs::read_to_string(out).unwrap()
}

fn target_dir() -> PathBuf {
    Path::new(env!("CARGO_TARGET_TMPDIR"))
        .parent()
        .unwrap()
        .to_path_buf()
}

/// Checks that hold without a browser.
fn static_checks(html: &str) {
    assert!(html.starts_with("<!DOCTYPE html>"));
    assert!(html.contains("Content-Security-Policy"));
    assert!(html.contains("default-src 'none'"));
    // Nothing loaded from anywhere: no URLs, no external resources.
    for bad in [
        "http://", "https://", " src=\"", " href=\"", "@import", "url(",
    ] {
        assert!(!html.contains(bad), "the report references {bad}");
    }
    assert_eq!(html.matches("<svg class=\"chart\"").count(), 4);
    for id in [
        "chart-exposure-rate",
        "chart-exposures",
        "chart-by-tool",
        "chart-by-rule",
    ] {
        assert!(html.contains(&format!("id=\"{id}\"")), "{id}");
    }
    // The hostile user label is text, not markup.
    assert!(!html.contains("<img"));
    assert!(!html.contains("<script>alert"));
}

struct Browser {
    profile: tempfile::TempDir,
}

impl Browser {
    fn new() -> Option<Browser> {
        if !Path::new(CHROMIUM).exists() {
            eprintln!(
                "note: {CHROMIUM} is absent, skipping the browser check of the HTML report (apt-get install chromium)"
            );
            return None;
        }
        Some(Browser {
            profile: tempfile::tempdir().unwrap(),
        })
    }

    fn run(&self, args: &[&str], page: &Path) -> (String, String) {
        let o = Command::new(CHROMIUM)
            .args([
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--no-first-run",
                "--disable-dev-shm-usage",
                "--enable-logging=stderr",
                "--v=0",
                "--virtual-time-budget=3000",
            ])
            .arg(format!("--user-data-dir={}", self.profile.path().display()))
            .args(args)
            .arg(format!("file://{}", page.display()))
            .output()
            .unwrap();
        assert!(
            o.status.success(),
            "chromium failed: {}",
            String::from_utf8_lossy(&o.stderr)
        );
        (
            String::from_utf8_lossy(&o.stdout).into_owned(),
            String::from_utf8_lossy(&o.stderr).into_owned(),
        )
    }
}

fn browser_checks(b: &Browser, page: &Path, screenshot: Option<&Path>, has_data: bool) {
    let (dom, log) = b.run(&["--dump-dom"], page);
    let body = dom
        .split("<body")
        .nth(1)
        .map(|s| s.split('>').next().unwrap_or(""))
        .unwrap_or_else(|| panic!("no body in the DOM:\n{dom}"));
    assert!(
        !body.contains("data-errors"),
        "script errors: {body}\n{}",
        dom.split("id=\"errors\"").nth(1).unwrap_or("")
    );
    assert!(
        body.contains("data-rendered=\"ok\""),
        "not rendered: {body}"
    );
    assert!(body.contains("data-charts=\"4\""), "{body}");
    let marks: u32 = body
        .split("data-marks=\"")
        .nth(1)
        .and_then(|s| s.split('"').next())
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    assert!(!has_data || marks >= 3, "chart marks: {marks}");
    assert!(
        dom.contains("<pre id=\"errors\" hidden=\"\"></pre>"),
        "{dom}"
    );
    assert!(!has_data || dom.contains("<polyline"), "line chart drawn");
    for line in log.lines() {
        let l = line.to_ascii_lowercase();
        assert!(
            !(l.contains("console") && (l.contains("error") || l.contains("uncaught")))
                && !l.contains("content security policy")
                && !l.contains("uncaught"),
            "browser console: {line}"
        );
    }
    if let Some(png) = screenshot {
        let _ = std::fs::remove_file(png);
        b.run(
            &[
                &format!("--screenshot={}", png.display()),
                "--window-size=1280,2600",
                "--hide-scrollbars",
            ],
            page,
        );
        let data = std::fs::read(png).expect("a screenshot");
        assert!(data.starts_with(b"\x89PNG"), "not a PNG");
        assert!(
            data.len() > 20_000,
            "a blank screenshot? {} bytes",
            data.len()
        );
    }
}

#[test]
fn html_report_is_self_contained_and_renders_in_chromium() {
    let dir = tempfile::tempdir().unwrap();
    let log = audit_log(dir.path());
    let out_dir = target_dir().join("report-html");
    std::fs::create_dir_all(&out_dir).unwrap();

    let full = out_dir.join("report.html");
    let html = render(
        &log,
        &full,
        &["--group", "tool", "--baseline-until", "2025-03-31"],
    );
    static_checks(&html);
    assert!(html.contains("Against the baseline"));
    assert!(html.contains("2025-06"));
    assert!(html.contains("Sampled at rate 0.5, 1"));

    // Other shapes: by week and user (hostile label), a single day, nothing at all.
    let weekly = out_dir.join("weekly.html");
    static_checks(&render(&log, &weekly, &["--by", "week", "--group", "user"]));
    let day = out_dir.join("day.html");
    static_checks(&render(
        &log,
        &day,
        &[
            "--by",
            "day",
            "--since",
            "2025-02-03",
            "--until",
            "2025-02-03",
        ],
    ));
    let empty = out_dir.join("empty.html");
    let html = render(&log, &empty, &["--since", "2030-01-01"]);
    static_checks(&html);
    assert!(html.contains("No events in the selected range."));

    let Some(b) = Browser::new() else { return };
    browser_checks(
        &b,
        &full,
        Some(&target_dir().join("report-screenshot.png")),
        true,
    );
    browser_checks(&b, &weekly, None, true);
    browser_checks(&b, &day, None, true);
    browser_checks(&b, &empty, None, false);
}
