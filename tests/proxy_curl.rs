//! The proxy with a real `curl` as the client (skipped, with a note, when curl is not installed).
//! curl trusts only the promptgate CA (`--cacert`), so these also check that the CA and its leaves
//! (name constraints included) satisfy OpenSSL.

mod proxy_support;

use promptgate::Policy;
use proxy_support::*;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

const H1: &[&[u8]] = &[b"http/1.1"];
const BOTH: &[&[u8]] = &[b"h2", b"http/1.1"];

fn curl_available() -> bool {
    Command::new("curl")
        .arg("--version")
        .output()
        .map(|o| o.status.success())
        .unwrap_or(false)
}

macro_rules! require_curl {
    () => {
        if !curl_available() {
            eprintln!("note: curl is not installed; skipping this curl test");
            return;
        }
    };
}

struct CurlResult {
    code: u16,
    version: String,
    headers: String,
    body: Vec<u8>,
    exit: i32,
    stderr: String,
}

fn base_command(proxy: std::net::SocketAddr) -> Command {
    let mut c = Command::new("curl");
    for v in [
        "HTTPS_PROXY",
        "HTTP_PROXY",
        "https_proxy",
        "http_proxy",
        "ALL_PROXY",
        "all_proxy",
        "NO_PROXY",
        "no_proxy",
        "CURL_CA_BUNDLE",
        "SSL_CERT_FILE",
    ] {
        c.env_remove(v);
    }
    c.args([
        "-sS",
        "--proxy",
        &format!("http://{proxy}"),
        "--max-time",
        "20",
    ]);
    c
}

/// Runs curl (blocking, on a blocking thread).
async fn curl(proxy: std::net::SocketAddr, dir: PathBuf, args: Vec<String>) -> CurlResult {
    tokio::task::spawn_blocking(move || {
        let headers = dir.join(format!("h-{}", rand_name()));
        let body = dir.join(format!("b-{}", rand_name()));
        let out = base_command(proxy)
            .arg("-D")
            .arg(&headers)
            .arg("-o")
            .arg(&body)
            .args(["-w", "%{http_code} %{http_version}"])
            .args(&args)
            .output()
            .unwrap();
        let w = String::from_utf8_lossy(&out.stdout).to_string();
        let mut it = w.split_whitespace();
        CurlResult {
            code: it.next().and_then(|c| c.parse().ok()).unwrap_or(0),
            version: it.next().unwrap_or("").to_string(),
            headers: std::fs::read_to_string(&headers).unwrap_or_default(),
            body: std::fs::read(&body).unwrap_or_default(),
            exit: out.status.code().unwrap_or(-1),
            stderr: String::from_utf8_lossy(&out.stderr).to_string(),
        }
    })
    .await
    .unwrap()
}

fn rand_name() -> String {
    use std::sync::atomic::{AtomicUsize, Ordering};
    static N: AtomicUsize = AtomicUsize::new(0);
    N.fetch_add(1, Ordering::Relaxed).to_string()
}

fn write(dir: &Path, name: &str, data: &[u8]) -> String {
    let p = dir.join(name);
    std::fs::write(&p, data).unwrap();
    p.display().to_string()
}

fn s(x: &str) -> String {
    x.to_string()
}

fn cacert(h: &Harness) -> String {
    h.proxy.ca_cert.display().to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn curl_safe_prompt_is_byte_identical_http11() {
    require_curl!();
    let h = harness(Policy::embedded_default(), H1).await;
    let body = b"{\"model\":\"gpt-4o\",  \"messages\":[{\"role\":\"user\",\"content\":\"What is a trait object?\"}]}\n";
    let file = write(h.dir.path(), "safe.json", body);
    let r = curl(
        h.proxy.addr,
        h.dir.path().to_path_buf(),
        vec![
            s("--http1.1"),
            s("--cacert"),
            cacert(&h),
            s("-H"),
            s("content-type: application/json"),
            s("-H"),
            s("authorization: Bearer sk-test"),
            s("--data-binary"),
            format!("@{file}"),
            s("https://api.openai.com/v1/chat/completions"),
        ],
    )
    .await;
    assert_eq!(r.code, 200, "exit {}: {}", r.exit, r.stderr);
    assert_eq!(r.version, "1.1");
    let seen = h.mock.seen();
    assert_eq!(&seen[0].body[..], &body[..]);
    assert_eq!(
        seen[0].headers.get("authorization").unwrap(),
        "Bearer sk-test"
    );
    h.proxy.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn curl_redaction_over_http2_and_gzip() {
    require_curl!();
    let h = harness(Policy::embedded_default(), BOTH).await;
    let plain = chat_body(&leaky_prompt());
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    gz.write_all(&plain).unwrap();
    let gz = gz.finish().unwrap();
    for (name, data, enc) in [
        ("p.json", plain.clone(), None),
        ("p.json.gz", gz, Some("gzip")),
    ] {
        let file = write(h.dir.path(), name, &data);
        let mut args = vec![
            s("--http2"),
            s("--cacert"),
            cacert(&h),
            s("-H"),
            s("content-type: application/json"),
        ];
        if let Some(e) = enc {
            args.extend([s("-H"), format!("content-encoding: {e}")]);
        }
        args.extend([
            s("--data-binary"),
            format!("@{file}"),
            s("https://api.openai.com/v1/chat/completions"),
        ]);
        let r = curl(h.proxy.addr, h.dir.path().to_path_buf(), args).await;
        assert_eq!(r.code, 200, "exit {}: {}", r.exit, r.stderr);
        assert_eq!(r.version, "2");
        assert!(r.headers.contains("x-promptgate-redacted"), "{}", r.headers);
    }
    for seen in h.mock.seen() {
        assert_eq!(seen.version, http::Version::HTTP_2);
        let text = String::from_utf8_lossy(&seen.body);
        for v in VALUES {
            assert!(!text.contains(v), "{v} reached the upstream");
        }
        assert!(text.contains("[SECRET_1]"));
    }
    h.proxy.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn curl_strict_policy_error_shape() {
    require_curl!();
    let h = harness(policy_file("strict.yaml"), H1).await;
    let file = write(
        h.dir.path(),
        "a.json",
        &serde_json::to_vec(&serde_json::json!({
            "model": "claude", "max_tokens": 10,
            "messages": [{"role": "user", "content": leaky_prompt()}]
        }))
        .unwrap(),
    );
    let r = curl(
        h.proxy.addr,
        h.dir.path().to_path_buf(),
        vec![
            s("--cacert"),
            cacert(&h),
            s("-H"),
            s("content-type: application/json"),
            s("--data-binary"),
            format!("@{file}"),
            s("https://api.anthropic.com/v1/messages"),
        ],
    )
    .await;
    assert_eq!(r.code, 400, "exit {}: {}", r.exit, r.stderr);
    let v = json(&r.body);
    assert_eq!(v["type"], "error");
    assert_eq!(v["error"]["type"], "invalid_request_error");
    assert!(h.mock.seen().is_empty());
    h.proxy.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn curl_chunked_oversize_is_refused() {
    require_curl!();
    let policy = Policy::from_yaml("small.yaml", "limits:\n  max_body_bytes: 4096\n").unwrap();
    let h = harness(policy, H1).await;
    let file = write(h.dir.path(), "big.json", &chat_body(&"y".repeat(20_000)));
    let r = curl(
        h.proxy.addr,
        h.dir.path().to_path_buf(),
        vec![
            s("--http1.1"),
            s("--cacert"),
            cacert(&h),
            s("-H"),
            s("content-type: application/json"),
            s("-H"),
            s("transfer-encoding: chunked"),
            s("--data-binary"),
            format!("@{file}"),
            s("https://api.openai.com/v1/chat/completions"),
        ],
    )
    .await;
    assert_eq!(r.code, 413, "exit {}: {}", r.exit, r.stderr);
    let msg = json(&r.body)["error"]["message"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(msg.contains("max_body_bytes"), "{msg}");
    assert!(h.mock.seen().is_empty());
    h.proxy.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn curl_tunnel_sees_the_upstream_certificate() {
    require_curl!();
    let h = harness(Policy::embedded_default(), H1).await;
    // Trusting the upstream's own CA works: nothing in between.
    let r = curl(
        h.proxy.addr,
        h.dir.path().to_path_buf(),
        vec![
            s("--cacert"),
            h.mock.ca_pem.display().to_string(),
            s("https://example.org/hello"),
        ],
    )
    .await;
    assert_eq!(r.code, 200, "exit {}: {}", r.exit, r.stderr);
    // Trusting only the promptgate CA fails: the host is not intercepted.
    let r = curl(
        h.proxy.addr,
        h.dir.path().to_path_buf(),
        vec![s("--cacert"), cacert(&h), s("https://example.org/hello")],
    )
    .await;
    assert_eq!(r.exit, 60, "expected a certificate error: {}", r.stderr);
    h.proxy.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn curl_sse_arrives_event_by_event() {
    require_curl!();
    let h = harness(Policy::embedded_default(), BOTH).await;
    let mut child = base_command(h.proxy.addr)
        .args(["-N", "--http2", "--cacert", &cacert(&h)])
        .args(["-H", "content-type: application/json", "--data-binary"])
        .arg(String::from_utf8(chat_body("stream")).unwrap())
        .arg("https://api.openai.com/sse/v1/chat/completions")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdout = child.stdout.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel::<Vec<u8>>();
    std::thread::spawn(move || {
        let mut buf = [0u8; 1024];
        loop {
            match stdout.read(&mut buf) {
                Ok(0) | Err(_) => return,
                Ok(n) => {
                    if tx.send(buf[..n].to_vec()).is_err() {
                        return;
                    }
                }
            }
        }
    });
    let first = tokio::task::spawn_blocking(move || {
        let mut got = Vec::new();
        while !got.ends_with(b"data: one\n\n") {
            got.extend(
                rx.recv_timeout(Duration::from_secs(10))
                    .expect("first event"),
            );
        }
        (got, rx)
    })
    .await
    .unwrap();
    assert_eq!(first.0, b"data: one\n\n");
    h.mock.gate.notify_one();
    let rx = first.1;
    let rest = tokio::task::spawn_blocking(move || {
        let mut got = Vec::new();
        while let Ok(c) = rx.recv_timeout(Duration::from_secs(10)) {
            got.extend(c);
        }
        got
    })
    .await
    .unwrap();
    assert_eq!(rest, b"data: two\n\ndata: [DONE]\n\n");
    let status = child.wait().unwrap();
    assert!(status.success());
    h.proxy.stop().await;
}
