//! The audit log, the reports (text, JSON, HTML) and the metrics never contain a labelled value of
//! the corpus: every prompt of ../shared/corpus/visible.jsonl goes through the proxy in monitor mode
//! (screened and audited, forwarded unchanged), then the outputs are grepped for every label's text.
//! Skipped, with a note, when the corpus is absent.

mod proxy_support;

use promptgate::report::{self, Options, ReportFormat};
use promptgate::Policy;
use proxy_support::*;
use std::path::Path;

const H2: &[&[u8]] = &[b"h2"];

struct Item {
    text: String,
    values: Vec<String>,
}

fn corpus() -> Option<Vec<Item>> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/corpus/visible.jsonl");
    let Ok(text) = std::fs::read_to_string(&path) else {
        eprintln!(
            "note: {} is absent, skipping the corpus check",
            path.display()
        );
        return None;
    };
    let mut items = Vec::new();
    for line in text.lines().filter(|l| !l.trim().is_empty()) {
        let v: serde_json::Value = serde_json::from_str(line).unwrap();
        let t = v["text"].as_str().unwrap().to_string();
        let values = v["labels"]
            .as_array()
            .unwrap()
            .iter()
            .map(|l| {
                let (s, e) = (
                    l["start"].as_u64().unwrap() as usize,
                    l["end"].as_u64().unwrap() as usize,
                );
                String::from_utf8_lossy(&t.as_bytes()[s..e]).into_owned()
            })
            .filter(|v| v.trim().len() >= 4)
            .collect();
        items.push(Item { text: t, values });
    }
    Some(items)
}

fn corpus_policy() -> Policy {
    let p = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/corpus/policy.yaml");
    let base = std::fs::read_to_string(p).unwrap_or_default();
    Policy::from_yaml("corpus policy", &format!("{base}\nmode: monitor\n")).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_labelled_value_reaches_the_audit_log_or_the_reports() {
    let Some(items) = corpus() else { return };
    let h = harness(corpus_policy(), H2).await;
    let mut c = h.client("api.openai.com", H2).await;
    for it in &items {
        let body = chat_body(&it.text);
        let (status, _, _) = c.post_json("/v1/chat/completions", body.clone()).await;
        assert_eq!(status, 200);
    }
    // Monitor mode: every prompt reached the upstream unchanged.
    let seen = h.mock.seen();
    assert_eq!(seen.len(), items.len());
    for (s, it) in seen.iter().zip(&items) {
        assert_eq!(s.body[..], chat_body(&it.text)[..]);
    }
    let events = h.audit_events(items.len()).await;
    assert!(
        events.iter().filter(|e| e["box"] == "never").count() > items.len() / 3,
        "the corpus is mostly sensitive"
    );

    let log = h.audit.clone();
    let dir = tempfile::tempdir().unwrap();
    let mut outputs = vec![("audit log".to_string(), h.audit_text())];
    outputs.push(("metrics".into(), h.proxy.metrics()));
    let loaded = report::load(std::slice::from_ref(&log)).unwrap();
    assert_eq!(loaded.events.len(), items.len());
    for group in [
        None,
        Some(report::GroupBy::Tool),
        Some(report::GroupBy::User),
    ] {
        let opts = Options {
            by: report::Period::Day,
            group,
            ..Default::default()
        };
        let r = report::build(&loaded, &opts);
        assert!(r.rows[0].secret_exposures > 50);
        for f in [ReportFormat::Text, ReportFormat::Json, ReportFormat::Html] {
            let out = dir.path().join("report.out");
            report::run(std::slice::from_ref(&log), &opts, f, Some(&out)).unwrap();
            outputs.push((
                format!("{f:?} report ({group:?})"),
                std::fs::read_to_string(&out).unwrap(),
            ));
        }
    }
    let mut checked = 0;
    for it in &items {
        for v in &it.values {
            checked += 1;
            for (name, text) in &outputs {
                assert!(
                    !text.contains(v.as_str()),
                    "a labelled value is in the {name}"
                );
            }
        }
    }
    assert!(checked > 500, "{checked} values checked");
    eprintln!(
        "checked {checked} labelled values against {} outputs",
        outputs.len()
    );
    h.proxy.stop().await;
}
