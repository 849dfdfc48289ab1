//! `promptgate scan` through the binary: formats, exit codes, inputs (files, directories, stdin) and
//! policies, checked against the scan contract:
//!
//! `promptgate scan [--policy FILE] [--format text|json|sarif] [--fail-on caution|never] [PATH...]`
//! - json: one object per input per line, `start`/`end` are UTF-8 byte offsets (end exclusive);
//! - text: `path:line:column`, rule, box, a masked excerpt and the rule's advice;
//! - sarif: SARIF 2.1.0;
//! - no format prints a detected value;
//! - exit 0 when nothing reaches `--fail-on` (default never), 1 when something does, 2 on error.

use serde_json::Value;
use std::ffi::OsString;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

// ---------------------------------------------------------------------------------------------
// Fixtures

const URL_PASSWORD: &str = "Winter_2024!171";
const EMAIL: &str = "omar.mensah@northwind-trading.com";
const PRIVATE_KEY: &str = "-----BEGIN RSA PRIVATE KEY-----\n\
MIIEowIBAAKCAQEA4+FfR/1AOXG6FxKQBsd0z3E2TS+nDbTV41RsKb3npRwycKKM\n\
5EWBP8GEY6PKRA5vip5f++QHkq+mU648IBRiUDxd6SfYNGUrP3ZNOuWCl0i1W0HE\n\
-----END RSA PRIVATE KEY-----";
const GITHUB_TOKEN: &str = "ghu_G73w22YGOZQxvPhl8ycr4NT9Zndp121KgQyJ";
const AWS_KEY_ID: &str = "AKIAF3EYJPTQ6YHGX56Z";
const STRIPE_KEY: &str = "sk_live_4vreeS16HQxDGJVdktPVT0Jr";
const JWT: &str = "eyJhbGciOiAiSFMyNTYiLCAidHlwIjogIkpXVCJ9.eyJzdWIiOiAiMjE1NTc1OTM4IiwgIm5hbWUiOiAiRmF0aW1hIER1Ym9pcyIsICJpYXQiOiAxNzMwMTcxMDkyfQ.T1SaQ6dDwxlGejkc5bJFIoxSLivuGvIL6P_8odNXR1y";
const CARD: &str = "5387-5175-0346-2348";
const SSN: &str = "138-07-8581";

/// (rule, value) of every finding `secrets_input` must produce, in input order.
const EXPECTED: &[(&str, &str)] = &[
    ("url_password", URL_PASSWORD),
    ("email", EMAIL),
    ("private_key", PRIVATE_KEY),
    ("github_token", GITHUB_TOKEN),
    ("aws_access_key_id", AWS_KEY_ID),
    ("stripe_secret_key", STRIPE_KEY),
    ("jwt", JWT),
    ("credit_card", CARD),
    ("us_ssn", SSN),
];

/// A prompt with several kinds of secrets and personal data. Multi-byte characters precede some
/// findings on their line (byte columns differ from character columns) and one line ends in CRLF.
fn secrets_input() -> String {
    format!(
        "Deploy notes for the café → billing service\n\
         DATABASE_URL=postgres://app:{URL_PASSWORD}@pg-primary02.example.com:5432/app\n\
         \u{20}\u{20}contact → Zoë: {EMAIL}\r\n\
         {PRIVATE_KEY}\n\
         token = \"{GITHUB_TOKEN}\" # née ✓\n\
         aws_access_key_id = {AWS_KEY_ID}\n\
         export STRIPE_SECRET_KEY={STRIPE_KEY}\n\
         Authorization: Bearer {JWT}\n\
         Card {CARD}, SSN {SSN}.\n\
         thanks\n"
    )
}

/// Only internal names: box caution.
const INTERNAL_ONLY: &str = "the service runs on pg01.prod.internal behind 10.1.2.3\n";
const CLEAN: &str = "fn main() { println!(\"hello\"); }\n";

// ---------------------------------------------------------------------------------------------
// Helpers

struct Run {
    code: i32,
    stdout: String,
    stderr: String,
}

/// Command-line arguments of mixed types (`&str`, `&Path`, `&String`).
macro_rules! args {
    ($($a:expr),* $(,)?) => { vec![$(OsString::from($a)),*] };
}

fn bin() -> Command {
    Command::new(env!("CARGO_BIN_EXE_promptgate"))
}

/// Runs `promptgate scan ARGS` with `stdin` (or none) and collects its output.
fn scan(args: Vec<OsString>, stdin: Option<&[u8]>) -> Run {
    let mut cmd = bin();
    cmd.arg("scan")
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .stdin(if stdin.is_some() {
            Stdio::piped()
        } else {
            Stdio::null()
        });
    let mut child = cmd.spawn().expect("spawn promptgate");
    // Feed stdin from a thread so that a child writing before it has read everything cannot
    // deadlock; a child that exits without reading (bad arguments or policy) closes the pipe.
    let feeder = stdin.map(|input| {
        let mut w = child.stdin.take().unwrap();
        let input = input.to_vec();
        std::thread::spawn(move || match w.write_all(&input) {
            Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => panic!("writing stdin: {e}"),
            _ => {}
        })
    });
    let out = child.wait_with_output().unwrap();
    if let Some(f) = feeder {
        f.join().unwrap();
    }
    Run {
        code: out.status.code().expect("exited normally"),
        stdout: String::from_utf8(out.stdout).expect("stdout is UTF-8"),
        stderr: String::from_utf8(out.stderr).expect("stderr is UTF-8"),
    }
}

fn write(dir: &Path, name: &str, contents: impl AsRef<[u8]>) -> PathBuf {
    let p = dir.join(name);
    if let Some(parent) = p.parent() {
        std::fs::create_dir_all(parent).unwrap();
    }
    std::fs::write(&p, contents).unwrap();
    p
}

fn json_lines(stdout: &str) -> Vec<Value> {
    stdout
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON ({e}): {l}")))
        .collect()
}

/// The 1-based line and byte column of `offset` in `bytes`.
fn line_column(bytes: &[u8], offset: usize) -> (u64, u64) {
    let before = &bytes[..offset];
    let line = 1 + before.iter().filter(|&&b| b == b'\n').count();
    let line_start = before
        .iter()
        .rposition(|&b| b == b'\n')
        .map_or(0, |i| i + 1);
    (line as u64, (offset - line_start + 1) as u64)
}

/// The result object of `path` among json lines.
fn result_for<'a>(lines: &'a [Value], path: &Path) -> &'a Value {
    let p = path.display().to_string();
    lines
        .iter()
        .find(|l| l["path"] == p.as_str())
        .unwrap_or_else(|| panic!("no result for {p} in {lines:#?}"))
}

fn paths_of(lines: &[Value]) -> Vec<String> {
    lines
        .iter()
        .map(|l| l["path"].as_str().unwrap().to_string())
        .collect()
}

/// Fails if `output` shows any of `values` (whole, or any line of a multi-line value such as a
/// private key's base64 body).
fn assert_no_values(output: &str, values: &[&str], what: &str) {
    for v in values {
        assert!(
            !output.contains(v),
            "{what} prints a detected value {v:?}:\n{output}"
        );
        for part in v.lines().map(str::trim).filter(|p| p.len() >= 8) {
            if part.starts_with("-----") {
                continue; // the PEM armour lines are not secret
            }
            assert!(
                !output.contains(part),
                "{what} prints part {part:?} of a detected value:\n{output}"
            );
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Formats

#[test]
fn json_reports_findings_with_byte_offsets_lines_and_columns() {
    let dir = tempfile::tempdir().unwrap();
    let input = secrets_input();
    let bytes = input.as_bytes();
    let file = write(dir.path(), "notes.txt", &input);
    let r = scan(args!["--format", "json", &file], None);
    assert_eq!(
        r.code, 1,
        "never findings, default --fail-on never: {}",
        r.stderr
    );
    assert!(r.stderr.is_empty(), "{}", r.stderr);
    let lines = json_lines(&r.stdout);
    assert_eq!(lines.len(), 1, "one object per input: {}", r.stdout);
    let obj = lines[0].as_object().unwrap();
    let mut keys: Vec<&str> = obj.keys().map(String::as_str).collect();
    keys.sort_unstable();
    assert_eq!(keys, ["box", "findings", "path"]);
    assert_eq!(obj["path"], file.display().to_string().as_str());
    assert_eq!(obj["box"], "never");

    let findings = obj["findings"].as_array().unwrap();
    let got: Vec<(&str, &str)> = findings
        .iter()
        .map(|f| {
            let (s, e) = (
                f["start"].as_u64().unwrap() as usize,
                f["end"].as_u64().unwrap() as usize,
            );
            assert!(s < e && e <= bytes.len(), "offsets out of range: {f}");
            (
                f["rule"].as_str().unwrap(),
                std::str::from_utf8(&bytes[s..e]).expect("offsets on char boundaries"),
            )
        })
        .collect();
    assert_eq!(
        got, EXPECTED,
        "rule and the exact byte span of each finding"
    );

    let mut last_start = 0;
    for f in findings {
        let fo = f.as_object().unwrap();
        let mut keys: Vec<&str> = fo.keys().map(String::as_str).collect();
        keys.sort_unstable();
        assert_eq!(
            keys,
            ["box", "category", "column", "end", "line", "rule", "start"],
            "{f}"
        );
        let start = f["start"].as_u64().unwrap() as usize;
        assert!(start >= last_start, "findings sorted by start");
        last_start = start;
        let (line, column) = line_column(bytes, start);
        assert_eq!(
            (f["line"].as_u64().unwrap(), f["column"].as_u64().unwrap()),
            (line, column),
            "line/column of {f}"
        );
        assert_eq!(f["box"], "never", "{f}");
        let want_category = match f["rule"].as_str().unwrap() {
            "email" | "credit_card" | "us_ssn" => "pii",
            "private_key" => "private_key",
            _ => "secret",
        };
        assert_eq!(f["category"], want_category, "{f}");
    }
    // Byte (not character) columns: "  contact → Zoë: " is 17 characters but 20 bytes.
    let email = findings.iter().find(|f| f["rule"] == "email").unwrap();
    assert_eq!(
        (email["line"].as_u64(), email["column"].as_u64()),
        (Some(3), Some(21))
    );
}

#[test]
fn json_prints_one_object_per_input_including_safe_ones() {
    let dir = tempfile::tempdir().unwrap();
    let a = write(dir.path(), "a.txt", CLEAN);
    let b = write(dir.path(), "b.txt", INTERNAL_ONLY);
    let c = write(dir.path(), "c.txt", format!("mail {EMAIL}\n"));
    let r = scan(args!["--format", "json", &a, &b, &c], None);
    assert_eq!(r.code, 1, "{}", r.stderr);
    let lines = json_lines(&r.stdout);
    assert_eq!(
        paths_of(&lines),
        [&a, &b, &c].map(|p| p.display().to_string()),
        "one line per input, in argument order"
    );
    let clean = result_for(&lines, &a);
    assert_eq!(clean["box"], "safe");
    assert_eq!(clean["findings"].as_array().unwrap().len(), 0);
    let internal = result_for(&lines, &b);
    assert_eq!(internal["box"], "caution");
    let rules: Vec<&str> = internal["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["rule"].as_str().unwrap())
        .collect();
    assert_eq!(rules, ["internal_host", "private_ip"]);
    assert!(internal["findings"]
        .as_array()
        .unwrap()
        .iter()
        .all(|f| f["box"] == "caution" && f["category"] == "internal"));
    let pii = result_for(&lines, &c);
    assert_eq!(pii["box"], "never");
    assert_eq!(pii["findings"][0]["start"], 5);
    assert_eq!(pii["findings"][0]["end"], 5 + EMAIL.len());
}

#[test]
fn text_is_ripgrep_like_with_rule_box_masked_excerpt_and_advice() {
    let dir = tempfile::tempdir().unwrap();
    let input = secrets_input();
    let file = write(dir.path(), "notes.txt", &input);
    let json = json_lines(&scan(args!["--format", "json", &file], None).stdout);
    let r = scan(args![&file], None); // text is the default format
    assert_eq!(r.code, 1, "{}", r.stderr);
    let path = file.display().to_string();
    let out_lines: Vec<&str> = r.stdout.lines().collect();
    for f in json[0]["findings"].as_array().unwrap() {
        let rule = f["rule"].as_str().unwrap();
        let head = format!("{path}:{}:{}: {rule} ", f["line"], f["column"]);
        let i = out_lines
            .iter()
            .position(|l| l.starts_with(&head))
            .unwrap_or_else(|| panic!("no `{head}` line in:\n{}", r.stdout));
        let line = out_lines[i];
        assert!(line.contains("never"), "box on the line: {line}");
        assert!(
            line.contains(&format!("[{rule}]")),
            "the excerpt masks the value with the rule id: {line}"
        );
        // The advice follows its finding.
        let advice = &out_lines[i + 1..(i + 3).min(out_lines.len())];
        assert!(
            advice
                .iter()
                .any(|l| l.trim_start().starts_with("fix: ") && l.len() > 10),
            "no fix: advice after {line}:\n{}",
            r.stdout
        );
    }
    // The excerpt keeps the context around the masked value.
    assert!(
        r.stdout
            .contains("export STRIPE_SECRET_KEY=[stripe_secret_key]"),
        "{}",
        r.stdout
    );
    assert!(
        r.stdout
            .contains("postgres://app:[url_password]@pg-primary02.example.com"),
        "{}",
        r.stdout
    );
    let heads = out_lines
        .iter()
        .filter(|l| l.starts_with(&format!("{path}:")))
        .count();
    assert_eq!(heads, EXPECTED.len(), "one line per finding:\n{}", r.stdout);
}

#[test]
fn sarif_is_2_1_0_with_rule_ids_and_regions() {
    let dir = tempfile::tempdir().unwrap();
    let input = secrets_input();
    let file = write(dir.path(), "notes.txt", &input);
    let other = write(dir.path(), "hosts.txt", INTERNAL_ONLY);
    let clean = write(dir.path(), "clean.txt", CLEAN);
    let r = scan(args!["--format", "sarif", &file, &other, &clean], None);
    assert_eq!(r.code, 1, "{}", r.stderr);
    let doc: Value = serde_json::from_str(&r.stdout).expect("one SARIF JSON document");
    assert_eq!(doc["version"], "2.1.0");
    assert!(doc["$schema"].as_str().unwrap().contains("sarif"), "{doc}");
    let runs = doc["runs"].as_array().unwrap();
    assert_eq!(runs.len(), 1);
    let driver = &runs[0]["tool"]["driver"];
    assert_eq!(driver["name"], "promptgate");
    let rule_ids: Vec<&str> = driver["rules"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["id"].as_str().unwrap())
        .collect();
    let results = runs[0]["results"].as_array().unwrap();
    assert_eq!(results.len(), EXPECTED.len() + 2, "{results:#?}");

    let path = file.display().to_string();
    let bytes = input.as_bytes();
    let mine: Vec<&Value> = results
        .iter()
        .filter(|res| {
            res["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] == path.as_str()
        })
        .collect();
    assert_eq!(mine.len(), EXPECTED.len());
    for (res, (rule, value)) in mine.iter().zip(EXPECTED) {
        assert_eq!(res["ruleId"], *rule, "{res}");
        assert!(
            rule_ids.contains(rule),
            "{rule} missing from tool.driver.rules"
        );
        assert_eq!(res["level"], "error", "never box is an error: {res}");
        assert!(res["message"]["text"].as_str().unwrap().len() > 5);
        let region = &res["locations"][0]["physicalLocation"]["region"];
        let offset = region["byteOffset"].as_u64().unwrap() as usize;
        let length = region["byteLength"].as_u64().unwrap() as usize;
        assert_eq!(&bytes[offset..offset + length], value.as_bytes(), "{res}");
        let (line, _) = line_column(bytes, offset);
        assert_eq!(region["startLine"].as_u64(), Some(line), "{res}");
        assert!(region["startColumn"].as_u64().unwrap() >= 1, "{res}");
    }
    let cautions: Vec<&Value> = results
        .iter()
        .filter(|res| {
            res["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
                == other.display().to_string().as_str()
        })
        .collect();
    assert_eq!(cautions.len(), 2);
    assert!(
        cautions.iter().all(|c| c["level"] == "warning"),
        "{cautions:#?}"
    );

    // No findings: still a valid document with an empty result list.
    let r = scan(args!["--format", "sarif", &clean], None);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let doc: Value = serde_json::from_str(&r.stdout).unwrap();
    assert_eq!(doc["version"], "2.1.0");
    assert_eq!(doc["runs"][0]["results"].as_array().map(Vec::len), Some(0));
}

/// BUG (found by this test): SARIF `startColumn` is the byte column, but the document declares no
/// `run.columnKind`, and SARIF 2.1.0 then means UTF-16 code units. On a line with non-ASCII text
/// before a finding, viewers (GitHub code scanning, VS Code) highlight the wrong column.
/// Fix: emit `"columnKind": "utf16CodeUnits"` with UTF-16 columns, or `"unicodeCodePoints"` with
/// code-point columns.
#[test]

fn sarif_start_column_matches_the_declared_column_kind() {
    let input = format!("naïve → {EMAIL}\n");
    let r = scan(args!["--format", "sarif"], Some(input.as_bytes()));
    assert_eq!(r.code, 1, "{}", r.stderr);
    let doc: Value = serde_json::from_str(&r.stdout).unwrap();
    let run = &doc["runs"][0];
    let region = &run["results"][0]["locations"][0]["physicalLocation"]["region"];
    let offset = region["byteOffset"].as_u64().unwrap() as usize;
    let prefix = &input[..offset];
    let want = match run["columnKind"].as_str().unwrap_or("utf16CodeUnits") {
        "unicodeCodePoints" => prefix.chars().count() + 1,
        _ => prefix.encode_utf16().count() + 1,
    };
    assert_eq!(
        region["startColumn"].as_u64(),
        Some(want as u64),
        "columnKind {:?}, region {region}",
        run["columnKind"]
    );
}

#[test]
fn no_format_prints_a_detected_value() {
    let dir = tempfile::tempdir().unwrap();
    // The fixture, plus a private key inside a JSON string (a service-account file) and a
    // password in a URL on a long line that the text excerpt has to cut.
    let sa_key = "-----BEGIN PRIVATE KEY-----\\nMIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQgLBC4cvxk8aTNf6cb\\n-----END PRIVATE KEY-----\\n";
    let long_pw = "tiger-piano-1136";
    let extra = format!(
        "{{\"type\": \"service_account\", \"private_key\": \"{sa_key}\"}}\n{}mongodb+srv://app:{long_pw}@cluster0.mongodb.net/app {}\n",
        "x ".repeat(80),
        "y ".repeat(80)
    );
    let input = secrets_input() + &extra;
    let file = write(dir.path(), "prompt.txt", &input);
    let mut values: Vec<&str> = EXPECTED.iter().map(|(_, v)| *v).collect();
    values.extend([
        long_pw,
        "MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQgLBC4cvxk8aTNf6cb",
    ]);

    for format in ["text", "json", "sarif"] {
        for (how, r) in [
            ("file", scan(args!["--format", format, &file], None)),
            (
                "stdin",
                scan(args!["--format", format], Some(input.as_bytes())),
            ),
        ] {
            assert_eq!(r.code, 1, "{format} {how}: {}", r.stderr);
            assert!(
                r.stdout.len() > 50,
                "{format} {how} printed nothing: {}",
                r.stdout
            );
            assert_no_values(
                &r.stdout,
                &values,
                &format!("--format {format} ({how}) stdout"),
            );
            assert_no_values(
                &r.stderr,
                &values,
                &format!("--format {format} ({how}) stderr"),
            );
        }
    }
    // And the scanner did find them all (otherwise the check above proves nothing).
    let r = scan(args!["--format", "json", &file], None);
    let lines = json_lines(&r.stdout);
    let bytes = input.as_bytes();
    let spans: Vec<&[u8]> = lines[0]["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| &bytes[f["start"].as_u64().unwrap() as usize..f["end"].as_u64().unwrap() as usize])
        .collect();
    for v in &values {
        assert!(
            spans
                .iter()
                .any(|s| s.windows(v.len()).any(|w| w == v.as_bytes())),
            "{v:?} was not detected: {}",
            r.stdout
        );
    }
}

// ---------------------------------------------------------------------------------------------
// Exit codes

#[test]
fn exit_codes_follow_fail_on() {
    let never = format!("mail {EMAIL}\n");
    let formats = ["text", "json", "sarif"];
    for (i, (input, fail_on, want)) in [
        (CLEAN, None, 0),
        (CLEAN, Some("never"), 0),
        (CLEAN, Some("caution"), 0),
        (INTERNAL_ONLY, None, 0),
        (INTERNAL_ONLY, Some("never"), 0),
        (INTERNAL_ONLY, Some("caution"), 1),
        (never.as_str(), None, 1),
        (never.as_str(), Some("never"), 1),
        (never.as_str(), Some("caution"), 1),
    ]
    .into_iter()
    .enumerate()
    {
        // Every format goes through each input once (the exit code does not depend on it).
        let mut args = vec!["--format", formats[i % 3]];
        if let Some(f) = fail_on {
            args.extend(["--fail-on", f]);
        }
        let r = scan(
            args.iter().map(OsString::from).collect(),
            Some(input.as_bytes()),
        );
        assert_eq!(
            r.code, want,
            "{args:?} on {input:?}: stdout {} stderr {}",
            r.stdout, r.stderr
        );
        assert!(r.stderr.is_empty(), "{args:?}: {}", r.stderr);
    }
    // The internal-only input really is caution (so the 0 above is the threshold, not a miss).
    let r = scan(args!["--format", "json"], Some(INTERNAL_ONLY.as_bytes()));
    assert_eq!(json_lines(&r.stdout)[0]["box"], "caution");
}

#[test]
fn bad_arguments_exit_2() {
    let r = scan(args!["--format", "xml"], Some(&b"x"[..]));
    assert_eq!(r.code, 2);
    assert!(r.stderr.contains("xml"), "{}", r.stderr);
    let r = scan(args!["--fail-on", "safe"], Some(&b"x"[..]));
    assert_eq!(r.code, 2);
    assert!(r.stderr.contains("safe"), "{}", r.stderr);
}

// ---------------------------------------------------------------------------------------------
// Inputs

#[test]
fn stdin_without_path_and_with_dash() {
    let input = format!("ping pg01.prod.internal\ntoken = \"{GITHUB_TOKEN}\"\n");
    for args in [vec!["--format", "json"], vec!["--format", "json", "-"]] {
        let r = scan(
            args.iter().map(OsString::from).collect(),
            Some(input.as_bytes()),
        );
        assert_eq!(r.code, 1, "{args:?}: {}", r.stderr);
        let lines = json_lines(&r.stdout);
        assert_eq!(lines.len(), 1, "{args:?}: {}", r.stdout);
        assert_eq!(lines[0]["path"], "-");
        assert_eq!(lines[0]["box"], "never");
        let f = &lines[0]["findings"];
        assert_eq!(f[0]["rule"], "internal_host");
        assert_eq!(
            (f[0]["line"].as_u64(), f[0]["column"].as_u64()),
            (Some(1), Some(6))
        );
        assert_eq!(f[1]["rule"], "github_token");
        let start = f[1]["start"].as_u64().unwrap() as usize;
        assert_eq!(
            &input[start..f[1]["end"].as_u64().unwrap() as usize],
            GITHUB_TOKEN
        );
        assert_eq!(
            (f[1]["line"].as_u64(), f[1]["column"].as_u64()),
            (Some(2), Some(10))
        );
    }
    // Text format names stdin `-` in the ripgrep-like location.
    let r = scan(args!["-"], Some(input.as_bytes()));
    assert!(r.stdout.contains("-:2:10: github_token"), "{}", r.stdout);
    // Empty stdin is one safe input.
    let r = scan(args!["--format", "json"], Some(&b""[..]));
    assert_eq!(r.code, 0);
    let lines = json_lines(&r.stdout);
    assert_eq!(lines.len(), 1);
    assert_eq!(lines[0]["box"], "safe");
    // `-` next to a file: both are scanned.
    let dir = tempfile::tempdir().unwrap();
    let file = write(dir.path(), "a.txt", CLEAN);
    let r = scan(
        args!["--format", "json", &file, "-"],
        Some(input.as_bytes()),
    );
    let lines = json_lines(&r.stdout);
    assert_eq!(
        paths_of(&lines),
        [file.display().to_string(), "-".to_string()]
    );
    assert_eq!(r.code, 1);
}

#[test]
fn directory_is_walked_recursively_skipping_binary_files_and_git() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    let top = write(root, "top.txt", CLEAN);
    let deep = write(
        root,
        "src/nested/deeper/config.py",
        format!("TOKEN = \"{GITHUB_TOKEN}\"\n"),
    );
    let hosts = write(root, "src/hosts.txt", INTERNAL_ONLY);
    // Binary (NUL bytes) with a secret in it: skipped while walking.
    let mut binary = format!("AKIA\0\0\0 key {AWS_KEY_ID} ").into_bytes();
    binary.extend_from_slice(&[0, 159, 146, 150, 0, 1, 2]);
    write(root, "src/blob.bin", &binary);
    // .git at the top and nested: skipped.
    write(
        root,
        ".git/config",
        format!("[remote]\n\turl = https://x:{URL_PASSWORD}@github.com/a/b\n"),
    );
    write(root, "src/nested/.git/HEAD", format!("mail {EMAIL}\n"));

    let r = scan(args!["--format", "json", &root], None);
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert!(r.stderr.is_empty(), "{}", r.stderr);
    let lines = json_lines(&r.stdout);
    let mut paths = paths_of(&lines);
    paths.sort();
    let mut want: Vec<String> = [&top, &deep, &hosts]
        .iter()
        .map(|p| p.display().to_string())
        .collect();
    want.sort();
    assert_eq!(paths, want, "exactly the text files outside .git");
    assert_eq!(
        result_for(&lines, &deep)["findings"][0]["rule"],
        "github_token"
    );
    assert_eq!(result_for(&lines, &hosts)["box"], "caution");
    assert_eq!(result_for(&lines, &top)["box"], "safe");
    assert!(!r.stdout.contains("aws_access_key_id"), "{}", r.stdout);
    assert!(!r.stdout.contains(".git"), "{}", r.stdout);

    // Text and SARIF walk the same way.
    let r = scan(args![&root], None);
    assert!(r.stdout.contains("3 input(s)"), "{}", r.stdout);
    assert!(
        !r.stdout.contains("blob.bin") && !r.stdout.contains(".git"),
        "{}",
        r.stdout
    );
    let r = scan(args!["--format", "sarif", &root], None);
    let doc: Value = serde_json::from_str(&r.stdout).unwrap();
    let uris: Vec<&str> = doc["runs"][0]["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|res| {
            res["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
                .as_str()
                .unwrap()
        })
        .collect();
    assert!(!uris.is_empty());
    assert!(
        uris.iter()
            .all(|u| !u.contains(".git") && !u.contains("blob.bin")),
        "{uris:?}"
    );
}

/// BUG (found by this test): the walk follows symbolic links to directories, so a link back up the
/// tree (`ln -s .. loop`) makes every file above it scanned again at each level until the OS stops
/// resolving the path (about 40 levels): the same findings are reported ~40 times.
/// Fix: do not follow directory symlinks while walking (ripgrep's default), or remember visited
/// (device, inode) pairs.
#[cfg(unix)]
#[test]

fn directory_walk_does_not_follow_a_symlink_loop() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    let file = write(
        root,
        "a/secret.txt",
        format!("TOKEN = \"{GITHUB_TOKEN}\"\n"),
    );
    std::os::unix::fs::symlink("..", root.join("a/loop")).unwrap();
    let r = scan(args!["--format", "json", &root], None);
    let lines = json_lines(&r.stdout);
    assert_eq!(
        paths_of(&lines),
        [file.display().to_string()],
        "each file once (exit {}, stderr {})",
        r.code,
        r.stderr
    );
}

#[test]
fn missing_or_unreadable_file_exits_2_and_the_rest_is_still_reported() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("does-not-exist.txt");
    let good = write(dir.path(), "good.txt", format!("mail {EMAIL}\n"));
    let clean = write(dir.path(), "clean.txt", CLEAN);
    let not_a_dir = good.join("child.txt"); // ENOTDIR: a read error other than "not found"
    for format in ["json", "text", "sarif"] {
        let r = scan(
            args!["--format", format, &missing, &good, &not_a_dir, &clean],
            None,
        );
        assert_eq!(r.code, 2, "{format}: {}", r.stderr);
        for bad in [&missing, &not_a_dir] {
            assert!(
                r.stderr.contains(&bad.display().to_string()),
                "{format}: stderr names {}: {}",
                bad.display(),
                r.stderr
            );
        }
        assert!(r.stderr.contains("error"), "{}", r.stderr);
        let good_s = good.display().to_string();
        assert!(
            r.stdout.contains(&good_s),
            "{format}: the other inputs are still reported: {}",
            r.stdout
        );
        if format == "json" {
            let lines = json_lines(&r.stdout);
            assert_eq!(lines.len(), 2, "{}", r.stdout);
            assert_eq!(result_for(&lines, &good)["box"], "never");
            assert_eq!(result_for(&lines, &clean)["box"], "safe");
        }
    }
    // Error beats the fail-on threshold in both directions.
    let r = scan(args!["--fail-on", "never", &clean, &missing], None);
    assert_eq!(r.code, 2);

    // A file without read permission (not testable as root, who may read anything).
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let locked = write(dir.path(), "locked.txt", format!("mail {EMAIL}\n"));
        std::fs::set_permissions(&locked, std::fs::Permissions::from_mode(0o000)).unwrap();
        if std::fs::read(&locked).is_err() {
            let r = scan(args!["--format", "json", &locked, &good], None);
            assert_eq!(r.code, 2, "{}", r.stderr);
            assert!(
                r.stderr.contains(&locked.display().to_string()),
                "{}",
                r.stderr
            );
            assert_eq!(json_lines(&r.stdout).len(), 1, "{}", r.stdout);
        }
        std::fs::set_permissions(&locked, std::fs::Permissions::from_mode(0o600)).unwrap();
    }
}

// ---------------------------------------------------------------------------------------------
// Policies

#[test]
fn bad_policy_exits_2_naming_the_file_and_line() {
    let dir = tempfile::tempdir().unwrap();
    for (i, (name, text, line, word)) in [
        (
            "unknown-key.yaml",
            "mode: enforce\nbogus: 1\n",
            "line 2",
            "bogus",
        ),
        (
            "bad-box.yaml",
            "mode: enforce\ncategories:\n  pii: { box: nevermore }\n",
            "line 3",
            "nevermore",
        ),
        (
            "bad-rule.yaml",
            "mode: enforce\nrules:\n  no_such_rule: { enabled: false }\n",
            "line 3",
            "no_such_rule",
        ),
        (
            "bad-rate.yaml",
            "mode: monitor\nsample_rate: 2\n",
            "line 2",
            "sample_rate",
        ),
        (
            "bad-domain.yaml",
            "internal:\n  domains: ['not a domain']\n",
            "line 2",
            "not a domain",
        ),
        (
            "nested-unknown.yaml",
            "internal:\n  codenames: [NIGHTJAR]\n  hostnames: [x.example.net]\n",
            "line 3",
            "hostnames",
        ),
    ]
    .into_iter()
    .enumerate()
    {
        let policy = write(dir.path(), name, text);
        {
            let format = ["text", "json", "sarif"][i % 3];
            let r = scan(
                args!["--policy", &policy, "--format", format],
                Some(format!("mail {EMAIL}\n").as_bytes()),
            );
            assert_eq!(r.code, 2, "{name}: {}", r.stderr);
            assert!(
                r.stderr.contains(&policy.display().to_string()),
                "{name}: stderr names the file: {}",
                r.stderr
            );
            assert!(
                r.stderr.contains(line),
                "{name}: stderr names {line}: {}",
                r.stderr
            );
            assert!(
                r.stderr.contains(word),
                "{name}: stderr names {word:?}: {}",
                r.stderr
            );
            assert!(r.stdout.is_empty(), "{name}: nothing scanned: {}", r.stdout);
        }
    }
    // A policy file that cannot be read.
    let missing = dir.path().join("nope.yaml");
    let r = scan(args!["--policy", &missing], Some(&b"x"[..]));
    assert_eq!(r.code, 2);
    assert!(
        r.stderr.contains(&missing.display().to_string()),
        "{}",
        r.stderr
    );
}

/// BUG (found by this test): a value rejected by the policy's own validation (an unknown rule id,
/// a bad domain, codename or host pattern) is reported at the line where the enclosing map or list
/// starts, not at the offending entry, so for any entry but the first the line is wrong. Below, the
/// bad entries are on line 3 or 4 and the message says line 2 or 3. (serde_yaml attaches the
/// position of the collection to errors made with `de::Error::custom` inside it; the structural
/// errors, unknown keys and bad enum variants, get the right line.)
#[test]

fn bad_policy_entry_after_the_first_is_reported_at_its_own_line() {
    let dir = tempfile::tempdir().unwrap();
    for (name, text, line) in [
        (
            "rules.yaml",
            "rules:\n  email: { box: caution }\n  no_such_rule: { enabled: false }\n",
            "line 3",
        ),
        (
            "domains.yaml",
            "internal:\n  domains:\n    - corp.example.net\n    - not a domain\n",
            "line 4",
        ),
        (
            "hosts.yaml",
            "intercept:\n  hosts:\n    - api.openai.com\n    - bad host!\n",
            "line 4",
        ),
    ] {
        let policy = write(dir.path(), name, text);
        let r = scan(args!["--policy", &policy], Some(&b"x"[..]));
        assert_eq!(r.code, 2, "{name}: {}", r.stderr);
        assert!(
            r.stderr.contains(&policy.display().to_string()) && r.stderr.contains(line),
            "{name}: the bad entry is on {line}: {}",
            r.stderr
        );
    }
}

#[test]
fn partial_policy_keeps_the_defaults_and_adds_the_codename() {
    let dir = tempfile::tempdir().unwrap();
    let policy = write(
        dir.path(),
        "team.yaml",
        "internal:\n  codenames: [NIGHTJAR]\n",
    );
    let input =
        format!("Nightjar launch: db on pg01.prod.internal, mail {EMAIL}, key {AWS_KEY_ID}\n");
    let r = scan(
        args!["--policy", &policy, "--format", "json"],
        Some(input.as_bytes()),
    );
    assert_eq!(r.code, 1, "{}", r.stderr);
    let lines = json_lines(&r.stdout);
    let findings = lines[0]["findings"].as_array().unwrap();
    let got: Vec<(&str, &str, &str)> = findings
        .iter()
        .map(|f| {
            let (s, e) = (
                f["start"].as_u64().unwrap() as usize,
                f["end"].as_u64().unwrap() as usize,
            );
            (
                f["rule"].as_str().unwrap(),
                f["box"].as_str().unwrap(),
                &input[s..e],
            )
        })
        .collect();
    assert_eq!(
        got,
        [
            ("codename", "caution", "Nightjar"),
            ("internal_host", "caution", "pg01.prod.internal"),
            ("email", "never", EMAIL),
            ("aws_access_key_id", "never", AWS_KEY_ID),
        ],
        "codename added (case-insensitive), every default detector and box kept"
    );

    // Codename alone is caution: the default box of internal names.
    let only = "the NIGHTJAR launch\n";
    let args = |fail_on: &'static str| {
        vec![
            "--policy".into(),
            policy.clone().into_os_string(),
            "--format".into(),
            "json".into(),
            "--fail-on".into(),
            fail_on.into(),
        ]
    };
    let r = scan(args("never"), Some(only.as_bytes()));
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(json_lines(&r.stdout)[0]["box"], "caution");
    let r = scan(args("caution"), Some(only.as_bytes()));
    assert_eq!(r.code, 1, "{}", r.stderr);
    // Without the policy the word is nothing.
    let r = scan(args!["--format", "json"], Some(only.as_bytes()));
    assert_eq!(json_lines(&r.stdout)[0]["box"], "safe");
}

#[test]
fn shipped_policies_load() {
    let policies = Path::new(env!("CARGO_MANIFEST_DIR")).join("policies");
    for name in ["strict.yaml", "monitor.yaml", "default.yaml"] {
        let policy = policies.join(name);
        let arg = |format: &str| {
            vec![
                "--policy".into(),
                policy.clone().into_os_string(),
                "--format".into(),
                std::ffi::OsString::from(format),
            ]
        };
        let r = scan(arg("json"), Some(format!("mail {EMAIL}\n").as_bytes()));
        assert_eq!(r.code, 1, "{name}: {}", r.stderr);
        assert!(r.stderr.is_empty(), "{name}: {}", r.stderr);
        let lines = json_lines(&r.stdout);
        assert_eq!(lines[0]["box"], "never", "{name}");
        assert_eq!(lines[0]["findings"][0]["rule"], "email", "{name}");
        let r = scan(arg("json"), Some(INTERNAL_ONLY.as_bytes()));
        assert_eq!(r.code, 0, "{name}: {}", r.stderr);
        assert_eq!(json_lines(&r.stdout)[0]["box"], "caution", "{name}");
        let r = scan(arg("text"), Some(CLEAN.as_bytes()));
        assert_eq!(r.code, 0, "{name}: {}", r.stderr);
        assert!(r.stdout.contains("1 safe"), "{name}: {}", r.stdout);
    }
}
