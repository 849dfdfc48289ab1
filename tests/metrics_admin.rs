//! The admin listener: /metrics parses as Prometheus text exposition (format 0.0.4) and counts what
//! the proxy did; /healthz answers; the listener only binds loopback.

mod proxy_support;

use promptgate::Policy;
use proxy_support::*;
use std::collections::{BTreeMap, HashMap};
use std::net::SocketAddr;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

const H1: &[&[u8]] = &[b"http/1.1"];

/// GET over HTTP/1.1: (status, content type, body).
pub async fn get(addr: SocketAddr, path: &str) -> (u16, String, String) {
    let mut tcp = tokio::net::TcpStream::connect(addr).await.unwrap();
    tcp.write_all(
        format!("GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n").as_bytes(),
    )
    .await
    .unwrap();
    let mut buf = Vec::new();
    tcp.read_to_end(&mut buf).await.unwrap();
    let text = String::from_utf8(buf).unwrap();
    let (head, body) = text.split_once("\r\n\r\n").unwrap();
    let status = head[9..12].parse().unwrap();
    let ct = head
        .lines()
        .find_map(|l| {
            let (k, v) = l.split_once(':')?;
            k.eq_ignore_ascii_case("content-type")
                .then(|| v.trim().to_string())
        })
        .unwrap_or_default();
    (status, ct, body.to_string())
}

/// A sample: metric name, labels, value.
#[derive(Debug, Clone)]
pub struct Sample {
    pub name: String,
    pub labels: BTreeMap<String, String>,
    pub value: f64,
}

fn valid_name(s: &str) -> bool {
    let mut c = s.chars();
    matches!(c.next(), Some(x) if x.is_ascii_alphabetic() || x == '_' || x == ':')
        && c.all(|x| x.is_ascii_alphanumeric() || x == '_' || x == ':')
}

fn valid_label(s: &str) -> bool {
    let mut c = s.chars();
    matches!(c.next(), Some(x) if x.is_ascii_alphabetic() || x == '_')
        && c.all(|x| x.is_ascii_alphanumeric() || x == '_')
}

fn parse_value(s: &str) -> Option<f64> {
    match s {
        "+Inf" => Some(f64::INFINITY),
        "-Inf" => Some(f64::NEG_INFINITY),
        "NaN" => Some(f64::NAN),
        _ => s.parse().ok(),
    }
}

/// Parses and checks the Prometheus text exposition format strictly (per the 0.0.4 spec): HELP
/// and TYPE lines, names, label syntax and escapes, values, TYPE before samples, one TYPE per
/// metric, samples of a metric grouped together, counters non-negative, histogram buckets
/// cumulative with `+Inf` equal to `_count`. Panics with the offending line.
pub fn parse_exposition(text: &str) -> Vec<Sample> {
    assert!(
        text.ends_with('\n'),
        "the exposition must end with a newline"
    );
    let mut types: HashMap<String, String> = HashMap::new();
    let mut helped: HashMap<String, bool> = HashMap::new();
    let mut samples = Vec::new();
    let mut finished: Vec<String> = Vec::new();
    let mut current: Option<String> = None;
    for line in text.lines() {
        if line.is_empty() {
            continue;
        }
        if let Some(rest) = line.strip_prefix('#') {
            let rest = rest.trim_start();
            let mut parts = rest.splitn(3, ' ');
            match parts.next() {
                Some("HELP") => {
                    let name = parts.next().unwrap_or("");
                    assert!(valid_name(name), "bad HELP name: {line}");
                    assert!(
                        helped.insert(name.to_string(), true).is_none(),
                        "second HELP: {line}"
                    );
                }
                Some("TYPE") => {
                    let name = parts.next().unwrap_or("");
                    let t = parts.next().unwrap_or("");
                    assert!(valid_name(name), "bad TYPE name: {line}");
                    assert!(
                        ["counter", "gauge", "histogram", "summary", "untyped"].contains(&t),
                        "bad type: {line}"
                    );
                    assert!(
                        types.insert(name.to_string(), t.to_string()).is_none(),
                        "second TYPE: {line}"
                    );
                    assert!(
                        !samples
                            .iter()
                            .any(|s: &Sample| family(&s.name, &types) == name),
                        "TYPE after samples: {line}"
                    );
                }
                _ => {}
            }
            continue;
        }
        // name{labels} value [timestamp]
        let name_end = line
            .find(['{', ' '])
            .unwrap_or_else(|| panic!("no value: {line}"));
        let name = &line[..name_end];
        assert!(valid_name(name), "bad metric name: {line}");
        let mut rest = &line[name_end..];
        let mut labels = BTreeMap::new();
        if rest.starts_with('{') {
            let b = rest.as_bytes();
            let mut i = 1;
            loop {
                if b[i] == b'}' {
                    i += 1;
                    break;
                }
                let eq = rest[i..].find('=').unwrap_or_else(|| panic!("{line}")) + i;
                let key = &rest[i..eq];
                assert!(valid_label(key), "bad label name {key:?}: {line}");
                assert_eq!(b[eq + 1], b'"', "label value must be quoted: {line}");
                let mut j = eq + 2;
                let mut val = String::new();
                loop {
                    match b[j] {
                        b'\\' => {
                            match b[j + 1] {
                                b'\\' => val.push('\\'),
                                b'"' => val.push('"'),
                                b'n' => val.push('\n'),
                                _ => panic!("bad escape: {line}"),
                            }
                            j += 2;
                        }
                        b'"' => break,
                        b'\n' => panic!("newline in label value: {line}"),
                        _ => {
                            let ch = rest[j..].chars().next().unwrap();
                            val.push(ch);
                            j += ch.len_utf8();
                        }
                    }
                }
                assert!(
                    labels.insert(key.to_string(), val).is_none(),
                    "duplicate label: {line}"
                );
                i = j + 1;
                match b[i] {
                    b',' => i += 1,
                    b'}' => {}
                    _ => panic!("expected , or }}: {line}"),
                }
            }
            rest = &rest[i..];
        }
        let rest = rest
            .strip_prefix(' ')
            .unwrap_or_else(|| panic!("expected a space before the value: {line}"));
        let mut fields = rest.split(' ');
        let value =
            parse_value(fields.next().unwrap()).unwrap_or_else(|| panic!("bad value: {line}"));
        if let Some(ts) = fields.next() {
            ts.parse::<i64>()
                .unwrap_or_else(|_| panic!("bad timestamp: {line}"));
        }
        assert!(fields.next().is_none(), "trailing fields: {line}");
        let fam = family(name, &types).to_string();
        let t = types
            .get(&fam)
            .unwrap_or_else(|| panic!("sample without TYPE: {line}"));
        if current.as_deref() != Some(fam.as_str()) {
            assert!(
                !finished.contains(&fam),
                "samples of {fam} are not together: {line}"
            );
            if let Some(c) = current.take() {
                finished.push(c);
            }
            current = Some(fam.clone());
        }
        if t == "counter" || t == "histogram" {
            assert!(value >= 0.0, "negative {t}: {line}");
        }
        if t == "histogram" && name.ends_with("_bucket") {
            assert!(labels.contains_key("le"), "bucket without le: {line}");
        }
        samples.push(Sample {
            name: name.to_string(),
            labels,
            value,
        });
    }
    // Histograms: cumulative buckets, +Inf == count.
    for (fam, t) in &types {
        if t != "histogram" {
            continue;
        }
        let buckets: Vec<&Sample> = samples
            .iter()
            .filter(|s| s.name == format!("{fam}_bucket"))
            .collect();
        assert!(!buckets.is_empty(), "{fam} has no buckets");
        let mut prev = (f64::NEG_INFINITY, 0.0);
        for b in &buckets {
            let le = parse_value(&b.labels["le"]).unwrap();
            assert!(le > prev.0, "{fam}: buckets out of order");
            assert!(b.value >= prev.1, "{fam}: buckets not cumulative");
            prev = (le, b.value);
        }
        assert_eq!(prev.0, f64::INFINITY, "{fam}: no +Inf bucket");
        let count = samples
            .iter()
            .find(|s| s.name == format!("{fam}_count"))
            .unwrap_or_else(|| panic!("{fam}_count missing"));
        assert_eq!(count.value, prev.1, "{fam}: +Inf bucket != count");
        assert!(
            samples.iter().any(|s| s.name == format!("{fam}_sum")),
            "{fam}_sum missing"
        );
    }
    samples
}

fn family<'a>(name: &'a str, types: &HashMap<String, String>) -> &'a str {
    for suffix in ["_bucket", "_sum", "_count"] {
        if let Some(base) = name.strip_suffix(suffix) {
            if types.get(base).map(String::as_str) == Some("histogram") {
                return base;
            }
        }
    }
    name
}

fn value(samples: &[Sample], name: &str, labels: &[(&str, &str)]) -> f64 {
    samples
        .iter()
        .filter(|s| s.name == name)
        .filter(|s| {
            labels
                .iter()
                .all(|(k, v)| s.labels.get(*k).map(String::as_str) == Some(*v))
        })
        .map(|s| s.value)
        .sum()
}

#[test]
fn the_parser_rejects_bad_expositions() {
    for bad in [
        "x 1\n",                           // no TYPE
        "# TYPE x counter\nx{a=b} 1\n",    // unquoted
        "# TYPE x counter\nx{a=\"b\"}1\n", // no space
        "# TYPE x counter\nx -1\n",        // negative counter
        "# TYPE x gauge\nx one\n",         // bad value
        "# TYPE 1x gauge\n",               // bad name
        "# TYPE h histogram\nh_bucket{le=\"1\"} 2\nh_bucket{le=\"+Inf\"} 1\nh_sum 1\nh_count 1\n",
        "# TYPE x gauge\nx 1", // no final newline
    ] {
        assert!(
            std::panic::catch_unwind(|| parse_exposition(bad)).is_err(),
            "accepted {bad:?}"
        );
    }
    parse_exposition("# HELP x a \"help\"\n# TYPE x gauge\nx{a=\"q\\\"\\\\\\n\"} 1.5e3 123\n");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metrics_parse_as_prometheus_text_and_count_requests() {
    let p = Policy::from_yaml("m.yaml", "limits:\n  max_body_bytes: 100000\n").unwrap();
    let h = harness_with(p, H1, |c| c.admin = Some("127.0.0.1:0".into())).await;
    let admin = h.proxy.admin_addr.expect("admin listener");
    assert!(admin.ip().is_loopback());

    let (status, ct, body) = get(admin, "/healthz").await;
    assert_eq!((status, body.as_str()), (200, "ok\n"));
    assert!(ct.starts_with("text/plain"));
    let (status, _, _) = get(admin, "/nope").await;
    assert_eq!(status, 404);

    // Before any request: valid, with zeroed histograms and gauges.
    let (status, ct, body) = get(admin, "/metrics").await;
    assert_eq!(status, 200);
    assert_eq!(ct, "text/plain; version=0.0.4; charset=utf-8");
    parse_exposition(&body);

    let mut c = h.client("api.openai.com", H1).await;
    let (s1, _, _) = c
        .post_json("/v1/chat/completions", chat_body("How do I sort in Rust?"))
        .await;
    let (s2, _, _) = c
        .post_json("/v1/chat/completions", chat_body(&leaky_prompt()))
        .await;
    // Oversize on a second connection (the proxy closes a connection whose body it did not read).
    let mut c2 = h.client("api.openai.com", H1).await;
    let (s3, _, _) = c2
        .post_json("/v1/chat/completions", chat_body(&"x".repeat(200_000)))
        .await;
    assert_eq!((s1.as_u16(), s2.as_u16(), s3.as_u16()), (200, 200, 413));

    let (_, _, body) = get(admin, "/metrics").await;
    let samples = parse_exposition(&body);
    let req = |b: &str, a: &str| {
        value(
            &samples,
            "promptgate_requests_total",
            &[
                ("provider", "openai_chat"),
                ("tool", "openai_python"),
                ("box", b),
                ("action", a),
            ],
        )
    };
    assert_eq!(req("safe", "allow"), 1.0, "{body}");
    assert_eq!(req("never", "redact"), 1.0, "{body}");
    assert_eq!(req("unscreened", "allow"), 1.0, "{body}");
    assert_eq!(
        value(
            &samples,
            "promptgate_request_results_total",
            &[("result", "refused")]
        ),
        1.0
    );
    assert_eq!(
        value(
            &samples,
            "promptgate_findings_total",
            &[("rule", "email"), ("category", "pii")]
        ),
        1.0,
        "{body}"
    );
    assert!(
        value(
            &samples,
            "promptgate_findings_total",
            &[("category", "secret")]
        ) >= 3.0
    );
    assert_eq!(
        value(&samples, "promptgate_scan_duration_seconds_count", &[]),
        2.0
    );
    assert_eq!(
        value(&samples, "promptgate_upstream_duration_seconds_count", &[]),
        2.0
    );
    // The first client's intercepted TLS connection is still open.
    assert!(
        value(
            &samples,
            "promptgate_open_connections",
            &[("kind", "intercepted")]
        ) >= 1.0,
        "{body}"
    );
    assert_eq!(
        value(
            &samples,
            "promptgate_policy_reloads_total",
            &[("result", "success")]
        ),
        0.0
    );
    // Never a value in the metrics.
    for v in VALUES {
        assert!(!body.contains(v));
    }
    drop(c);
    h.proxy.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn admin_listener_is_off_by_default_and_loopback_only() {
    let h = harness(Policy::embedded_default(), H1).await;
    assert!(h.proxy.admin_addr.is_none());
    h.proxy.stop().await;
    let dir = tempfile::tempdir().unwrap();
    let mut cfg = promptgate::proxy::Config::new(Policy::embedded_default(), dir.path().join("ca"));
    cfg.listen = "127.0.0.1:0".into();
    cfg.admin = Some("0.0.0.0:0".into());
    let err = promptgate::proxy::start(cfg).await.err().expect("refused");
    assert!(err.to_string().contains("loopback"), "{err}");
}
