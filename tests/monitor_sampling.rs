//! Monitor mode and DLP sampling: the sample rate holds statistically, monitor mode forwards bytes
//! unchanged, unsampled requests pass unscanned and unaudited, and audit events carry identity.

mod proxy_support;

use promptgate::proxy::sampling::Sampler;
use promptgate::Policy;
use proxy_support::*;
use std::io::Write;

const H1: &[&[u8]] = &[b"http/1.1"];

#[test]
fn sampling_rate_holds_on_10000_requests() {
    let samplers = [
        Sampler::with_seed(1),
        Sampler::with_seed(0xdead_beef),
        Sampler::random(),
    ];
    for s in &samplers {
        for rate in [0.05, 0.1, 0.25, 0.5, 0.75, 0.95] {
            let ids: Vec<u64> = (0..10_000).map(|_| s.next_id()).collect();
            let n = ids.iter().filter(|&&id| s.sampled(id, rate)).count();
            let got = n as f64 / 10_000.0;
            assert!(
                (got - rate).abs() <= 0.02,
                "rate {rate}: {n} of 10000 sampled"
            );
            // Deterministic per request.
            let again = ids.iter().filter(|&&id| s.sampled(id, rate)).count();
            assert_eq!(n, again);
        }
        assert!((0..1000).all(|id| s.sampled(id, 1.0)));
        assert!((0..1000).all(|id| !s.sampled(id, 0.0)));
    }
}

fn policy(yaml: &str) -> Policy {
    Policy::from_yaml("test.yaml", yaml).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn monitor_mode_forwards_bytes_unchanged() {
    // Monitor overrides even a blocking policy.
    let p = policy(
        "mode: monitor\nactions:\n  never: block\n  caution: block\nteams:\n  carol: platform\n",
    );
    let h = harness_with(p, H1, |c| c.user = "carol".into()).await;
    let mut c = h.client("api.openai.com", H1).await;

    // Odd spacing, every value of VALUES: byte for byte.
    let mut bodies: Vec<(Vec<u8>, Option<&str>)> = Vec::new();
    let leaky = format!(
        "{{ \"model\" : \"gpt-4o\",\"messages\":[ {{\"role\":\"user\",\"content\":{}}} ] }}",
        serde_json::to_string(&leaky_prompt()).unwrap()
    );
    bodies.push((leaky.clone().into_bytes(), None));
    // Compressed: forwarded compressed, as sent.
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    gz.write_all(leaky.as_bytes()).unwrap();
    bodies.push((gz.finish().unwrap(), Some("gzip")));
    for (body, enc) in &bodies {
        let mut headers = vec![
            ("content-type", "application/json"),
            ("user-agent", "claude-cli/1.0.0 (external, cli)"),
        ];
        if let Some(e) = enc {
            headers.push(("content-encoding", e));
        }
        let (status, resp_headers, _) = c
            .call("POST", "/v1/chat/completions", &headers, body.clone())
            .await;
        assert_eq!(status, 200);
        assert!(resp_headers.get("x-promptgate-redacted").is_none());
    }
    let seen = h.mock.seen();
    assert_eq!(seen.len(), bodies.len());
    for (s, (body, enc)) in seen.iter().zip(&bodies) {
        assert_eq!(&s.body[..], &body[..], "monitor mode changed the body");
        assert_eq!(
            s.headers
                .get("content-encoding")
                .map(|v| v.to_str().unwrap()),
            *enc
        );
        assert_eq!(
            s.headers.get("content-length").unwrap(),
            &body.len().to_string()
        );
    }
    let events = h.audit_events(2).await;
    for ev in &events {
        assert_eq!(ev["result"], "monitored", "{ev}");
        assert_eq!(ev["monitor"], true);
        assert_eq!(ev["box"], "never");
        assert_eq!(ev["action"], "block", "the action the policy would take");
        assert_eq!(ev["sampled"], true);
        assert_eq!(ev["sample_rate"], 1.0);
        assert_eq!(ev["tool"], "claude_code");
        assert_eq!(ev["user"], "carol");
        assert_eq!(ev["team"], "platform");
        assert!(!ev["findings"].as_array().unwrap().is_empty());
    }
    let text = h.audit_text();
    for v in VALUES {
        assert!(!text.contains(v), "{v} in the audit log");
    }
    h.proxy.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sampled_monitor_forwards_everything_and_audits_the_sample() {
    const N: u64 = 300;
    const RATE: f64 = 0.3;
    let p = policy("mode: monitor\nsample_rate: 0.3\n");
    let h = harness_with(p, H1, |c| c.sample_seed = Some(42)).await;
    let mut c = h.client("api.openai.com", H1).await;
    let body = chat_body(&leaky_prompt());
    for _ in 0..N {
        let (status, _, _) = c.post_json("/v1/chat/completions", body.clone()).await;
        assert_eq!(status, 200);
    }
    let seen = h.mock.seen();
    assert_eq!(seen.len() as u64, N);
    assert!(seen.iter().all(|s| s.body[..] == body[..]));

    // The proxy numbers requests 0..N and samples exactly those the seeded sampler picks.
    let sampler = Sampler::with_seed(42);
    let expected: Vec<u64> = (0..N).filter(|&id| sampler.sampled(id, RATE)).collect();
    assert!(!expected.is_empty() && expected.len() < N as usize);
    h.audit_events(expected.len()).await;
    tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    let events: Vec<serde_json::Value> = h
        .audit_text()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let mut ids: Vec<u64> = events
        .iter()
        .map(|e| e["request_id"].as_u64().unwrap())
        .collect();
    ids.sort();
    assert_eq!(ids, expected, "audited requests are the sampled ones");
    for e in &events {
        assert_eq!(e["sampled"], true);
        assert_eq!(e["sample_rate"], RATE);
        assert_eq!(e["result"], "monitored");
        assert!(e["scan_ms"].as_f64().unwrap() > 0.0);
    }

    // The report scales the sample back up.
    let text = h.audit_text();
    let mut loaded = promptgate::report::Loaded::default();
    promptgate::report::parse_audit(&text, &mut loaded);
    let r = promptgate::report::build(&loaded, &Default::default());
    assert_eq!(r.rows.len(), 1);
    let want = expected.len() as f64 / RATE;
    assert!(
        (r.rows[0].interactions - want).abs() < 1e-6,
        "{} vs {want}",
        r.rows[0].interactions
    );
    assert_eq!(r.rows[0].sampled, expected.len() as u64);
    assert_eq!(r.rows[0].never_rate, 1.0);
    // Same values every time: one incident per distinct secret.
    assert_eq!(r.rows[0].secret_exposures, 3);
    // The estimate is near the truth.
    assert!((r.rows[0].interactions - N as f64).abs() / (N as f64) < 0.25);

    // Metrics count every request; unsampled ones as unscreened.
    let m = h.proxy.metrics();
    let count = |b: &str| -> u64 {
        m.lines()
            .filter(|l| {
                l.starts_with("promptgate_requests_total{") && l.contains(&format!("box=\"{b}\""))
            })
            .map(|l| l.rsplit(' ').next().unwrap().parse::<u64>().unwrap())
            .sum()
    };
    assert_eq!(count("never"), expected.len() as u64, "{m}");
    assert_eq!(count("unscreened"), N - expected.len() as u64, "{m}");
    h.proxy.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn zero_rate_scans_nothing_but_still_refuses_unscreenable_requests() {
    let p = policy("sample_rate: 0\nlimits:\n  max_body_bytes: 1000\n");
    let h = harness(p, H1).await;
    let mut c = h.client("api.openai.com", H1).await;
    let body = chat_body(&leaky_prompt());
    let (status, headers, _) = c.post_json("/v1/chat/completions", body.clone()).await;
    assert_eq!(status, 200);
    assert!(headers.get("x-promptgate-redacted").is_none());
    assert_eq!(&h.mock.seen()[0].body[..], &body[..]);
    // Oversize: refused before sampling, always audited, marked not sampled.
    let (status, _, _) = c
        .post_json("/v1/chat/completions", chat_body(&"a".repeat(2000)))
        .await;
    assert_eq!(status, 413);
    let events = h.audit_events(1).await;
    assert_eq!(
        events.len(),
        1,
        "the unsampled forwarded request is not audited"
    );
    assert_eq!(events[0]["result"], "refused");
    assert_eq!(events[0]["sampled"], false);
    assert_eq!(events[0]["sample_rate"], 0.0);
    h.proxy.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn proxy_authorization_names_the_user() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    // A port with nothing listening: the plain-HTTP upstream fails fast, the event is still audited.
    // Bound but not listening, and held for the whole test: connections are refused, and no
    // other test can take the port meanwhile.
    let closed = tokio::net::TcpSocket::new_v4().unwrap();
    closed.bind("127.0.0.1:0".parse().unwrap()).unwrap();
    let port = closed.local_addr().unwrap().port();
    let p = policy("teams:\n  alice: payments\n");
    let h = harness_with(p, H1, |c| {
        c.user = "fallback-user".into();
        c.connect_to.push(
            format!("api.openai.com:80:127.0.0.1:{port}")
                .parse()
                .unwrap(),
        );
    })
    .await;
    let mut tcp = tokio::net::TcpStream::connect(h.proxy.addr).await.unwrap();
    let body = chat_body("hello");
    // alice:s3cret-proxy-pass
    let req = format!(
        "POST http://api.openai.com/v1/chat/completions HTTP/1.1\r\nHost: api.openai.com\r\nProxy-Authorization: Basic YWxpY2U6czNjcmV0LXByb3h5LXBhc3M=\r\nUser-Agent: GitHubCopilotChat/0.22\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    );
    tcp.write_all(req.as_bytes()).await.unwrap();
    tcp.write_all(&body).await.unwrap();
    let mut resp = Vec::new();
    tcp.read_to_end(&mut resp).await.unwrap();
    assert!(
        String::from_utf8_lossy(&resp).starts_with("HTTP/1.1 502"),
        "{}",
        String::from_utf8_lossy(&resp)
    );
    let ev = &h.audit_events(1).await[0];
    assert_eq!(ev["user"], "alice");
    assert_eq!(ev["team"], "payments");
    assert_eq!(ev["tool"], "copilot_chat");
    let text = h.audit_text();
    assert!(!text.contains("s3cret-proxy-pass"));
    assert!(!text.contains("YWxpY2U6"));

    // Through CONNECT without Proxy-Authorization: the configured label, no team.
    let mut c = h.client("api.openai.com", H1).await;
    let (status, _, _) = c.post_json("/v1/chat/completions", chat_body("hi")).await;
    assert_eq!(status, 200);
    let ev = &h.audit_events(2).await[1];
    assert_eq!(ev["user"], "fallback-user");
    assert!(ev["team"].is_null());
    assert_eq!(ev["tool"], "openai_python");
    h.proxy.stop().await;
}
