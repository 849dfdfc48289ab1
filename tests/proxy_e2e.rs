//! End-to-end tests of the screening proxy with a Rust client: loopback only, a mock upstream with
//! its own test CA reached through `--connect-to`/`--upstream-ca`, a fresh promptgate CA per test.

mod proxy_support;

use bytes::Bytes;
use http::Version;
use http_body_util::BodyExt;
use promptgate::Policy;
use proxy_support::*;
use std::io::Write;
use std::time::Duration;

const H1: &[&[u8]] = &[b"http/1.1"];
const H2: &[&[u8]] = &[b"h2"];
const BOTH: &[&[u8]] = &[b"h2", b"http/1.1"];

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn safe_prompt_arrives_byte_identical() {
    let h = harness(Policy::embedded_default(), H1).await;
    let mut c = h.client("api.openai.com", H1).await;
    // Odd spacing and key order: must survive byte for byte.
    let body = br#"{ "messages":[{"content":"How do I reverse a Vec in Rust?","role":"user"}],
      "model" : "gpt-4o",  "temperature":0.2 }"#;
    let (status, headers, resp) = c.post_json("/v1/chat/completions", &body[..]).await;
    assert_eq!(status, 200, "{}", String::from_utf8_lossy(&resp));
    assert_eq!(headers.get("x-mock").unwrap(), "1");
    assert!(headers.get("x-promptgate-warning").is_none());
    let seen = h.mock.seen();
    assert_eq!(seen.len(), 1);
    assert_eq!(&seen[0].body[..], &body[..]);
    assert_eq!(seen[0].path, "/v1/chat/completions");
    assert_eq!(seen[0].headers.get("host").unwrap(), "api.openai.com");
    // The request's own credentials pass untouched.
    assert_eq!(
        seen[0].headers.get("authorization").unwrap(),
        "Bearer sk-test-credential-for-provider"
    );
    // The client saw a promptgate leaf, not the upstream's certificate.
    assert_ne!(c.peer_cert, h.mock.leaf_der);
    let ev = &h.audit_events(1).await[0];
    assert_eq!(ev["box"], "safe");
    assert_eq!(ev["provider"], "openai_chat");
    assert_eq!(ev["tool"], "openai_python");
    assert_eq!(ev["upstream_status"], 200);
    h.proxy.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn secrets_and_pii_are_redacted() {
    let h = harness(Policy::embedded_default(), H1).await;
    let mut c = h.client("api.openai.com", H1).await;
    let body = chat_body(&leaky_prompt());
    let (status, headers, _) = c.post_json("/v1/chat/completions", body).await;
    assert_eq!(status, 200);
    let note = headers
        .get("x-promptgate-redacted")
        .unwrap()
        .to_str()
        .unwrap();
    assert!(note.contains("messages[1].content"), "{note}");
    let seen = h.mock.seen();
    assert_eq!(seen.len(), 1);
    let got = String::from_utf8_lossy(&seen[0].body).to_string();
    for v in VALUES {
        assert!(!got.contains(v), "{v} reached the upstream: {got}");
        assert!(!note.contains(v));
    }
    assert_eq!(
        seen[0].headers.get("content-length").unwrap(),
        &seen[0].body.len().to_string()
    );
    assert!(seen[0].headers.get("content-encoding").is_none());
    let v = json(&seen[0].body);
    assert_eq!(v["messages"][0]["content"], "You are a helpful assistant.");
    let content = v["messages"][1]["content"].as_str().unwrap();
    assert!(content.contains("[SECRET_1]"), "{content}");
    assert!(content.contains("[PII_1]"), "{content}");
    assert!(content.starts_with("Why does this fail?"), "{content}");
    h.proxy.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn strict_policy_answers_in_each_providers_error_shape() {
    let h = harness(policy_file("strict.yaml"), BOTH).await;
    let prompt = leaky_prompt();

    let mut c = h.client("api.openai.com", H1).await;
    let (status, _, body) = c
        .post_json("/v1/chat/completions", chat_body(&prompt))
        .await;
    assert_eq!(status, 400);
    let v = json(&body);
    let msg = v["error"]["message"].as_str().unwrap();
    assert_eq!(v["error"]["type"], "invalid_request_error");
    assert_eq!(v["error"]["code"], "promptgate_blocked");
    assert!(msg.contains("aws_access_key_id"), "{msg}");
    assert!(msg.contains("messages[1].content, line 2"), "{msg}");
    assert!(msg.contains("Fix:"), "{msg}");
    for val in VALUES {
        assert!(!msg.contains(val), "{msg}");
    }

    let mut c = h.client("api.anthropic.com", H2).await;
    let anthropic = serde_json::to_vec(&serde_json::json!({
        "model": "claude-sonnet-4", "max_tokens": 100,
        "messages": [{"role": "user", "content": prompt}]
    }))
    .unwrap();
    let (status, _, body) = c
        .call(
            "POST",
            "/v1/messages",
            &[
                ("content-type", "application/json"),
                ("x-api-key", "sk-ant-test"),
                ("user-agent", "claude-cli/1.0.0 (external, cli)"),
            ],
            anthropic,
        )
        .await;
    assert_eq!(status, 400);
    let v = json(&body);
    assert_eq!(v["type"], "error");
    assert_eq!(v["error"]["type"], "invalid_request_error");
    assert!(v["error"]["message"]
        .as_str()
        .unwrap()
        .contains("promptgate blocked"));

    let mut c = h.client("generativelanguage.googleapis.com", H1).await;
    let gemini = serde_json::to_vec(&serde_json::json!({
        "contents": [{"role": "user", "parts": [{"text": prompt}]}]
    }))
    .unwrap();
    let (status, _, body) = c
        .call(
            "POST",
            "/v1beta/models/gemini-2.0-flash:generateContent?key=AIzaTestKey",
            &[("content-type", "application/json")],
            gemini,
        )
        .await;
    assert_eq!(status, 400);
    let v = json(&body);
    assert_eq!(v["error"]["code"], 400);
    assert_eq!(v["error"]["status"], "INVALID_ARGUMENT");
    assert!(v["error"]["message"]
        .as_str()
        .unwrap()
        .contains("contents[0].parts[0].text"));

    assert!(
        h.mock.seen().is_empty(),
        "a blocked request reached the upstream"
    );
    let events = h.audit_events(3).await;
    assert!(events.iter().all(|e| e["result"] == "blocked"));
    assert_eq!(events[1]["tool"], "claude_code");
    assert_eq!(events[2]["provider"], "gemini");
    // The query string (it may hold an API key) is not logged.
    assert!(!h.audit_text().contains("AIzaTestKey"));
    h.proxy.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn gzip_and_zstd_bodies() {
    let h = harness(Policy::embedded_default(), H1).await;
    let mut c = h.client("api.openai.com", H1).await;
    let leaky = chat_body(&leaky_prompt());
    let safe = chat_body("What is a monad?");
    let gzip = |b: &[u8]| {
        let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        e.write_all(b).unwrap();
        e.finish().unwrap()
    };
    let zstd = |b: &[u8]| zstd::encode_all(b, 3).unwrap();
    let cases: [(&str, Vec<u8>, Vec<u8>); 2] = [
        ("gzip", gzip(&leaky), gzip(&safe)),
        ("zstd", zstd(&leaky), zstd(&safe)),
    ];
    for (enc, leaky_enc, safe_enc) in cases {
        let hdrs = [
            ("content-type", "application/json"),
            ("content-encoding", enc),
        ];
        let (status, _, _) = c
            .call("POST", "/v1/chat/completions", &hdrs, leaky_enc)
            .await;
        assert_eq!(status, 200, "{enc}");
        let (status, _, _) = c
            .call("POST", "/v1/chat/completions", &hdrs, safe_enc.clone())
            .await;
        assert_eq!(status, 200, "{enc}");
        let seen = h.mock.seen();
        let (red, orig) = (&seen[seen.len() - 2], &seen[seen.len() - 1]);
        // Redacted: decoded, rewritten, sent without Content-Encoding.
        assert!(red.headers.get("content-encoding").is_none(), "{enc}");
        let text = String::from_utf8_lossy(&red.body);
        for v in VALUES {
            assert!(!text.contains(v), "{enc}: {text}");
        }
        assert!(text.contains("[SECRET_1]"));
        // Safe: the original compressed bytes, encoding intact.
        assert_eq!(orig.headers.get("content-encoding").unwrap(), enc);
        assert_eq!(&orig.body[..], &safe_enc[..], "{enc}");
    }
    h.proxy.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn http2_on_both_sides() {
    let h = harness(Policy::embedded_default(), BOTH).await;
    let mut c = h.client("api.openai.com", BOTH).await;
    assert!(c.is_h2(), "the proxy should offer h2 to the client");
    let safe = chat_body("Explain lifetimes.");
    let (status, _, _) = c.post_json("/v1/chat/completions", safe.clone()).await;
    assert_eq!(status, 200);
    let (status, _, _) = c
        .post_json("/v1/chat/completions", chat_body(&leaky_prompt()))
        .await;
    assert_eq!(status, 200);
    let seen = h.mock.seen();
    assert_eq!(seen.len(), 2);
    assert!(seen.iter().all(|s| s.version == Version::HTTP_2));
    assert_eq!(&seen[0].body[..], &safe[..]);
    let text = String::from_utf8_lossy(&seen[1].body);
    for v in VALUES {
        assert!(!text.contains(v));
    }
    h.proxy.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_protocol_mix_and_large_bodies() {
    for (client, upstream, want) in [
        (H2, H1, Version::HTTP_11),
        (H1, H2, Version::HTTP_2),
        (H1, H1, Version::HTTP_11),
        (H2, H2, Version::HTTP_2),
    ] {
        let h = harness(Policy::embedded_default(), upstream).await;
        let mut c = h.client("api.anthropic.com", client).await;
        // Large enough to be screened off the async workers.
        let big = chat_body(&format!(
            "{} {}",
            "lorem ipsum ".repeat(20_000),
            leaky_prompt()
        ));
        for _ in 0..2 {
            let (status, _, _) = c.post_json("/v1/messages", big.clone()).await;
            assert_eq!(status, 200);
        }
        let seen = h.mock.seen();
        assert_eq!(seen.len(), 2);
        for s in &seen {
            assert_eq!(s.version, want);
            assert_eq!(s.path, "/v1/messages");
            if want == Version::HTTP_11 {
                assert_eq!(s.headers.get("host").unwrap(), "api.anthropic.com");
            }
            let text = String::from_utf8_lossy(&s.body);
            assert!(!text.contains(VALUES[0]));
            assert!(text.contains("lorem ipsum"));
        }
        h.proxy.stop().await;
    }
}

async fn sse_case(client_alpn: &[&[u8]], upstream_alpn: &[&[u8]]) {
    let h = harness(Policy::embedded_default(), upstream_alpn).await;
    let mut c = h.client("api.openai.com", client_alpn).await;
    let resp = c
        .send(
            "POST",
            "/sse/v1/chat/completions",
            &[("content-type", "application/json")],
            chat_body("stream please"),
        )
        .await;
    assert_eq!(resp.status(), 200);
    let mut body = resp.into_body();
    // The first event arrives while the upstream is still holding the rest back.
    let mut got = Vec::new();
    while !got.ends_with(b"data: one\n\n") {
        let frame = tokio::time::timeout(Duration::from_secs(30), body.frame())
            .await
            .expect("first event did not arrive before the upstream finished")
            .unwrap()
            .unwrap();
        if let Ok(d) = frame.into_data() {
            got.extend_from_slice(&d);
        }
    }
    assert_eq!(got, b"data: one\n\n");
    h.mock.gate.notify_one();
    let rest = tokio::time::timeout(Duration::from_secs(30), body.collect())
        .await
        .unwrap()
        .unwrap()
        .to_bytes();
    assert_eq!(&rest[..], b"data: two\n\ndata: [DONE]\n\n");
    let ev = &h.audit_events(1).await[0];
    assert_eq!(ev["response_bytes"], 11 + 11 + 14);
    h.proxy.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sse_streams_event_by_event_h1() {
    sse_case(H1, H1).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sse_streams_event_by_event_h2() {
    sse_case(H2, BOTH).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn non_intercepted_host_is_tunnelled() {
    let h = harness(Policy::embedded_default(), H1).await;
    // The client trusts only the upstream's own CA: the handshake works only if nothing is
    // decrypted in between.
    let mut c = Client::connect(
        h.proxy.addr,
        "example.org",
        443,
        std::slice::from_ref(&h.mock.ca_der),
        H1,
    )
    .await
    .unwrap();
    assert_eq!(c.peer_cert, h.mock.leaf_der);
    let secret = chat_body(&leaky_prompt());
    let (status, _, _) = c.post_json("/anything", secret.clone()).await;
    assert_eq!(status, 200);
    assert_eq!(&h.mock.seen()[0].body[..], &secret[..]);
    // Trusting only the promptgate CA fails for a tunnelled host.
    let err = Client::connect(
        h.proxy.addr,
        "example.org",
        443,
        std::slice::from_ref(&h.ca),
        H1,
    )
    .await;
    assert!(err.is_err());
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert_eq!(h.audit_text(), "", "tunnels are not audited as intercepted");
    h.proxy.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn malformed_json_is_refused_with_a_reason() {
    let h = harness(Policy::embedded_default(), H1).await;
    let mut c = h.client("api.openai.com", H1).await;
    let (status, _, body) = c
        .post_json("/v1/chat/completions", &b"{\"messages\": [ {\"role\": "[..])
        .await;
    assert_eq!(status, 400);
    let v = json(&body);
    let msg = v["error"]["message"].as_str().unwrap();
    assert!(msg.contains("not valid JSON"), "{msg}");
    assert!(msg.contains("fail_open"), "{msg}");
    assert!(h.mock.seen().is_empty());
    let ev = &h.audit_events(1).await[0];
    assert_eq!(ev["result"], "refused");
    h.proxy.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn oversize_bodies_are_refused_with_413() {
    let policy = Policy::from_yaml("small.yaml", "limits:\n  max_body_bytes: 2000\n").unwrap();
    let h = harness(policy, BOTH).await;
    // Just over the limit, and far over it: the client is still sending when the refusal is
    // written, and must still get the refusal rather than a reset connection.
    for size in [5000, 8 << 20] {
        for alpn in [H1, H2] {
            let mut c = h.client("api.openai.com", alpn).await;
            let (status, _, body) = c
                .post_json("/v1/chat/completions", chat_body(&"x".repeat(size)))
                .await;
            assert_eq!(status, 413, "{size} bytes over {alpn:?}");
            let v = json(&body);
            let msg = v["error"]["message"].as_str().unwrap();
            assert!(msg.contains("max_body_bytes"), "{msg}");
        }
    }
    assert!(h.mock.seen().is_empty());
    h.proxy.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn upstream_down_gives_502_with_a_reason() {
    // A port with nothing listening.
    // Bound but not listening, and held for the whole test: connections are refused, and no
    // other test can take the port meanwhile.
    let dead = tokio::net::TcpSocket::new_v4().unwrap();
    dead.bind("127.0.0.1:0".parse().unwrap()).unwrap();
    let port = dead.local_addr().unwrap().port();
    let h = harness_with(Policy::embedded_default(), H1, |cfg| {
        cfg.connect_to = vec![format!("api.openai.com:443:127.0.0.1:{port}")
            .parse()
            .unwrap()];
    })
    .await;
    let mut c = h.client("api.openai.com", H1).await;
    let (status, _, body) = c
        .post_json("/v1/chat/completions", chat_body("hello"))
        .await;
    assert_eq!(status, 502);
    let v = json(&body);
    let msg = v["error"]["message"].as_str().unwrap();
    assert!(msg.contains("could not reach api.openai.com"), "{msg}");
    assert!(msg.contains(&port.to_string()), "{msg}");
    // A tunnel to a dead upstream fails at CONNECT with 502.
    let h2 = harness_with(Policy::embedded_default(), H1, |cfg| {
        cfg.connect_to = vec![format!("example.org:443:127.0.0.1:{port}").parse().unwrap()];
    })
    .await;
    let err = proxy_connect(h2.proxy.addr, "example.org", 443)
        .await
        .unwrap_err();
    assert!(err.starts_with("HTTP/1.1 502"), "{err}");
    h.proxy.stop().await;
    h2.proxy.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn audit_log_holds_no_values() {
    let h = harness(Policy::embedded_default(), H1).await;
    let mut c = h.client("api.openai.com", H1).await;
    let body = chat_body(&leaky_prompt());
    for _ in 0..2 {
        let (status, _, _) = c.post_json("/v1/chat/completions", body.clone()).await;
        assert_eq!(status, 200);
    }
    let (status, _, _) = c.post_json("/v1/chat/completions", &b"{broken"[..]).await;
    assert_eq!(status, 400);
    let events = h.audit_events(3).await;
    let text = h.audit_text();
    for v in VALUES {
        assert!(!text.contains(v), "{v} in the audit log");
    }
    assert!(
        !text.contains("Why does this fail"),
        "prompt text in the audit log"
    );
    assert!(
        !text.contains("sk-test-credential"),
        "credential in the audit log"
    );
    let e = &events[0];
    for field in [
        "time",
        "client",
        "host",
        "method",
        "path",
        "provider",
        "tool",
        "box",
        "action",
        "findings",
        "bytes",
        "scan_ms",
        "upstream_status",
        "total_ms",
    ] {
        assert!(e.get(field).is_some(), "missing {field}: {e}");
    }
    assert_eq!(e["box"], "never");
    assert_eq!(e["action"], "redact");
    assert_eq!(e["result"], "redacted");
    let f = &e["findings"][0];
    for field in ["rule", "category", "box", "count", "fingerprint"] {
        assert!(f.get(field).is_some(), "missing {field}: {f}");
    }
    // The same secret gets the same fingerprint across requests.
    assert_eq!(events[0]["findings"], events[1]["findings"]);
    assert!(f["fingerprint"]
        .as_str()
        .unwrap()
        .starts_with("hmac-sha256:"));
    // The HMAC key lives beside the CA, owner-only.
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let m = std::fs::metadata(h.ca_dir.join("promptgate-audit.key")).unwrap();
        assert_eq!(m.permissions().mode() & 0o777, 0o600);
    }
    h.proxy.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn websocket_upgrade_is_refused_with_426() {
    let h = harness(Policy::embedded_default(), H1).await;
    let mut c = h.client("api.openai.com", H1).await;
    let (status, _, body) = c
        .call(
            "GET",
            "/v1/realtime",
            &[
                ("connection", "Upgrade"),
                ("upgrade", "websocket"),
                ("sec-websocket-version", "13"),
                ("sec-websocket-key", "dGhlIHNhbXBsZSBub25jZQ=="),
            ],
            Bytes::new(),
        )
        .await;
    assert_eq!(status, 426);
    assert!(json(&body)["error"]["message"]
        .as_str()
        .unwrap()
        .contains("allow_websocket"));
    assert!(h.mock.seen().is_empty());
    h.proxy.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn monitor_mode_forwards_unchanged_and_audits() {
    let h = harness(policy_file("monitor.yaml"), H1).await;
    let mut c = h.client("api.openai.com", H1).await;
    let body = chat_body(&leaky_prompt());
    let (status, _, _) = c.post_json("/v1/chat/completions", body.clone()).await;
    assert_eq!(status, 200);
    assert_eq!(&h.mock.seen()[0].body[..], &body[..]);
    let ev = &h.audit_events(1).await[0];
    assert_eq!(ev["result"], "monitored");
    assert_eq!(ev["box"], "never");
    h.proxy.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn plain_http_to_other_hosts_is_forwarded() {
    let dir = tempfile::tempdir().unwrap();
    let plain = mock(dir.path(), false, H1).await;
    let h = harness_with(Policy::embedded_default(), H1, |cfg| {
        cfg.connect_to.push(
            format!("plain.test:80:127.0.0.1:{}", plain.addr.port())
                .parse()
                .unwrap(),
        );
    })
    .await;
    let tcp = tokio::net::TcpStream::connect(h.proxy.addr).await.unwrap();
    let (mut s, conn) = hyper::client::conn::http1::handshake(hyper_util::rt::TokioIo::new(tcp))
        .await
        .unwrap();
    tokio::spawn(conn);
    let req = http::Request::builder()
        .method("POST")
        .uri("http://plain.test/hello?x=1")
        .header("host", "plain.test")
        .header("proxy-connection", "keep-alive")
        .body(http_body_util::Full::new(Bytes::from_static(b"plain body")))
        .unwrap();
    let resp = s.send_request(req).await.unwrap();
    assert_eq!(resp.status(), 200);
    let seen = plain.seen();
    assert_eq!(seen[0].path, "/hello?x=1");
    assert_eq!(&seen[0].body[..], b"plain body");
    assert!(seen[0].headers.get("proxy-connection").is_none());
    h.proxy.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn upstream_proxy_is_used_for_tunnels_and_intercepts() {
    // A minimal parent proxy: counts CONNECTs and tunnels them.
    let parent = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let parent_addr = parent.local_addr().unwrap();
    let connects = std::sync::Arc::new(std::sync::Mutex::new(Vec::<String>::new()));
    let seen_connects = connects.clone();
    tokio::spawn(async move {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        loop {
            let Ok((mut tcp, _)) = parent.accept().await else {
                return;
            };
            let connects = seen_connects.clone();
            tokio::spawn(async move {
                let mut head = Vec::new();
                let mut b = [0u8; 1];
                while !head.ends_with(b"\r\n\r\n") {
                    if tcp.read(&mut b).await.unwrap_or(0) == 0 {
                        return;
                    }
                    head.push(b[0]);
                }
                let line = String::from_utf8_lossy(&head)
                    .lines()
                    .next()
                    .unwrap()
                    .to_string();
                let target = line.split_whitespace().nth(1).unwrap().to_string();
                connects.lock().unwrap().push(target.clone());
                let Ok(mut up) = tokio::net::TcpStream::connect(&target).await else {
                    let _ = tcp.write_all(b"HTTP/1.1 502 Bad Gateway\r\n\r\n").await;
                    return;
                };
                let _ = tcp
                    .write_all(b"HTTP/1.1 200 Connection established\r\n\r\n")
                    .await;
                let _ = tokio::io::copy_bidirectional(&mut tcp, &mut up).await;
            });
        }
    });
    let h = harness_with(Policy::embedded_default(), H1, |cfg| {
        cfg.upstream_proxy = Some(format!("http://{parent_addr}").parse().unwrap());
    })
    .await;
    let mut c = h.client("api.openai.com", H1).await;
    let (status, _, _) = c.post_json("/v1/chat/completions", chat_body("hi")).await;
    assert_eq!(status, 200);
    let mut t = Client::connect(
        h.proxy.addr,
        "example.org",
        443,
        std::slice::from_ref(&h.mock.ca_der),
        H1,
    )
    .await
    .unwrap();
    let (status, _, _) = t.post_json("/x", &b"{}"[..]).await;
    assert_eq!(status, 200);
    let want = format!("127.0.0.1:{}", h.mock.addr.port());
    let got = connects.lock().unwrap().clone();
    assert_eq!(got, vec![want.clone(), want]);
    h.proxy.stop().await;
}
