//! Shared pieces of the proxy integration tests: a mock upstream with its own test CA (TLS, HTTP/1.1
//! and HTTP/2), a running promptgate proxy routed to it with `--connect-to`/`--upstream-ca`, and a
//! Rust client that goes through the proxy with CONNECT. Loopback only.
#![allow(dead_code)]

use bytes::Bytes;
use http::{HeaderMap, Request, Response, StatusCode, Version};
use http_body_util::{BodyExt, Full};
use hyper::body::{Frame, Incoming};
use hyper::service::service_fn;
use hyper_util::rt::{TokioExecutor, TokioIo};
use promptgate::proxy::{self, Config, Running};
use promptgate::Policy;
use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, KeyPair, KeyUsagePurpose};
use rustls_pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer, ServerName};
use std::convert::Infallible;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{mpsc, Notify};

/// Hosts the mock upstream has certificates for.
pub const MOCK_HOSTS: &[&str] = &[
    "api.openai.com",
    "api.anthropic.com",
    "generativelanguage.googleapis.com",
    "example.org",
];

pub fn provider() -> Arc<rustls::crypto::CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

/// A request the mock upstream received.
#[derive(Debug, Clone)]
pub struct Seen {
    pub version: Version,
    pub method: String,
    pub path: String,
    pub headers: HeaderMap,
    pub body: Bytes,
}

pub struct Mock {
    pub addr: SocketAddr,
    pub seen: Arc<Mutex<Vec<Seen>>>,
    /// Opens the second half of the SSE stream.
    pub gate: Arc<Notify>,
    pub leaf_der: CertificateDer<'static>,
    pub ca_der: CertificateDer<'static>,
    pub ca_pem: PathBuf,
}

impl Mock {
    pub fn seen(&self) -> Vec<Seen> {
        self.seen.lock().unwrap().clone()
    }
}

/// A response body fed from a channel (for SSE).
struct ChannelBody(mpsc::Receiver<Bytes>);

impl hyper::body::Body for ChannelBody {
    type Data = Bytes;
    type Error = Infallible;
    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Infallible>>> {
        match self.0.poll_recv(cx) {
            Poll::Ready(Some(b)) => Poll::Ready(Some(Ok(Frame::data(b)))),
            Poll::Ready(None) => Poll::Ready(None),
            Poll::Pending => Poll::Pending,
        }
    }
}

type MockBody = http_body_util::combinators::BoxBody<Bytes, Infallible>;

async fn mock_service(
    req: Request<Incoming>,
    seen: Arc<Mutex<Vec<Seen>>>,
    gate: Arc<Notify>,
) -> Result<Response<MockBody>, Infallible> {
    let (parts, body) = req.into_parts();
    let body = body
        .collect()
        .await
        .map(|c| c.to_bytes())
        .unwrap_or_default();
    let path = parts
        .uri
        .path_and_query()
        .map(|p| p.as_str().to_string())
        .unwrap_or_default();
    seen.lock().unwrap().push(Seen {
        version: parts.version,
        method: parts.method.to_string(),
        path: path.clone(),
        headers: parts.headers.clone(),
        body: body.clone(),
    });
    if path.starts_with("/sse") {
        let (tx, rx) = mpsc::channel(8);
        tokio::spawn(async move {
            let _ = tx.send(Bytes::from_static(b"data: one\n\n")).await;
            gate.notified().await;
            let _ = tx.send(Bytes::from_static(b"data: two\n\n")).await;
            let _ = tx.send(Bytes::from_static(b"data: [DONE]\n\n")).await;
        });
        let mut r = Response::new(ChannelBody(rx).boxed());
        r.headers_mut()
            .insert("content-type", "text/event-stream".parse().unwrap());
        return Ok(r);
    }
    let mut r = Response::new(
        Full::new(Bytes::from(format!(
            "{{\"id\":\"mock\",\"received\":{}}}",
            body.len()
        )))
        .boxed(),
    );
    r.headers_mut()
        .insert("content-type", "application/json".parse().unwrap());
    r.headers_mut().insert("x-mock", "1".parse().unwrap());
    Ok(r)
}

fn test_ca() -> (rcgen::Certificate, KeyPair) {
    let key = KeyPair::generate().unwrap();
    let mut p = CertificateParams::default();
    p.distinguished_name = rcgen::DistinguishedName::new();
    p.distinguished_name
        .push(DnType::CommonName, "mock upstream test CA");
    p.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    p.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
    (p.self_signed(&key).unwrap(), key)
}

/// Starts the mock upstream: TLS with its own CA when `tls`, offering `alpn`.
pub async fn mock(dir: &Path, tls: bool, alpn: &[&[u8]]) -> Mock {
    let (ca, ca_key) = test_ca();
    let leaf_key = KeyPair::generate().unwrap();
    let mut lp =
        CertificateParams::new(MOCK_HOSTS.iter().map(|s| s.to_string()).collect::<Vec<_>>())
            .unwrap();
    lp.distinguished_name
        .push(DnType::CommonName, "mock upstream");
    lp.use_authority_key_identifier_extension = true;
    let leaf = lp.signed_by(&leaf_key, &ca, &ca_key).unwrap();
    let ca_pem = dir.join("mock-upstream-ca.pem");
    std::fs::write(&ca_pem, ca.pem()).unwrap();

    let mut sc = rustls::ServerConfig::builder_with_provider(provider())
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_no_client_auth()
        .with_single_cert(
            vec![leaf.der().clone(), ca.der().clone()],
            PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(leaf_key.serialize_der())),
        )
        .unwrap();
    sc.alpn_protocols = alpn.iter().map(|a| a.to_vec()).collect();
    let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(sc));

    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let seen = Arc::new(Mutex::new(Vec::new()));
    let gate = Arc::new(Notify::new());
    let (s2, g2) = (seen.clone(), gate.clone());
    tokio::spawn(async move {
        loop {
            let Ok((tcp, _)) = listener.accept().await else {
                return;
            };
            let (seen, gate, acceptor) = (s2.clone(), g2.clone(), acceptor.clone());
            tokio::spawn(async move {
                let svc = service_fn(move |req| mock_service(req, seen.clone(), gate.clone()));
                let builder = hyper_util::server::conn::auto::Builder::new(TokioExecutor::new());
                if tls {
                    if let Ok(t) = acceptor.accept(tcp).await {
                        let _ = builder.serve_connection(TokioIo::new(t), svc).await;
                    }
                } else {
                    let _ = builder.serve_connection(TokioIo::new(tcp), svc).await;
                }
            });
        }
    });
    Mock {
        addr,
        seen,
        gate,
        leaf_der: leaf.der().clone(),
        ca_der: ca.der().clone(),
        ca_pem,
    }
}

pub struct Harness {
    pub dir: tempfile::TempDir,
    pub proxy: Running,
    pub mock: Mock,
    pub audit: PathBuf,
    pub ca_dir: PathBuf,
    /// The promptgate CA certificate.
    pub ca: CertificateDer<'static>,
}

pub fn policy_file(name: &str) -> Policy {
    Policy::load(
        &Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("policies")
            .join(name),
    )
    .unwrap()
}

/// A mock upstream (ALPN `alpn`) and a proxy routed to it for every MOCK_HOST.
pub async fn harness(policy: Policy, alpn: &[&[u8]]) -> Harness {
    harness_with(policy, alpn, |_| {}).await
}

pub async fn harness_with(
    policy: Policy,
    alpn: &[&[u8]],
    tweak: impl FnOnce(&mut Config),
) -> Harness {
    let dir = tempfile::tempdir().unwrap();
    let mock = mock(dir.path(), true, alpn).await;
    let ca_dir = dir.path().join("ca");
    let audit = dir.path().join("audit.jsonl");
    let mut cfg = Config::new(policy, ca_dir.clone());
    cfg.listen = "127.0.0.1:0".into();
    cfg.audit_log = Some(audit.clone());
    cfg.upstream_ca = vec![mock.ca_pem.clone()];
    cfg.connect_to = MOCK_HOSTS
        .iter()
        .map(|h| {
            format!("{h}:443:127.0.0.1:{}", mock.addr.port())
                .parse()
                .unwrap()
        })
        .collect();
    tweak(&mut cfg);
    let proxy = proxy::start(cfg).await.unwrap();
    let pem = std::fs::read_to_string(&proxy.ca_cert).unwrap();
    let ca = promptgate::ca::pem_certs(&pem).remove(0);
    Harness {
        dir,
        proxy,
        mock,
        audit,
        ca_dir,
        ca,
    }
}

impl Harness {
    /// A client through the proxy to host:443, trusting only the promptgate CA.
    pub async fn client(&self, host: &str, alpn: &[&[u8]]) -> Client {
        Client::connect(
            self.proxy.addr,
            host,
            443,
            std::slice::from_ref(&self.ca),
            alpn,
        )
        .await
        .unwrap()
    }

    /// The audit log's events (waits until at least `n` are there).
    pub async fn audit_events(&self, n: usize) -> Vec<serde_json::Value> {
        // Up to 30 s (a loaded CI machine); only whole lines (the writer may be mid-line).
        for _ in 0..600 {
            let text = std::fs::read_to_string(&self.audit).unwrap_or_default();
            let whole = &text[..text.rfind('\n').map_or(0, |i| i + 1)];
            let events: Vec<serde_json::Value> = whole
                .lines()
                .map(|l| serde_json::from_str(l).unwrap())
                .collect();
            if events.len() >= n {
                return events;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!(
            "expected {n} audit events in {}",
            std::fs::read_to_string(&self.audit).unwrap_or_default()
        );
    }

    pub fn audit_text(&self) -> String {
        std::fs::read_to_string(&self.audit).unwrap_or_default()
    }
}

pub enum Sender {
    H1(hyper::client::conn::http1::SendRequest<Full<Bytes>>),
    H2(hyper::client::conn::http2::SendRequest<Full<Bytes>>),
}

pub struct Client {
    pub host: String,
    pub sender: Sender,
    pub peer_cert: CertificateDer<'static>,
}

/// Sends CONNECT and reads the proxy's answer head.
pub async fn proxy_connect(proxy: SocketAddr, host: &str, port: u16) -> Result<TcpStream, String> {
    let mut tcp = TcpStream::connect(proxy).await.map_err(|e| e.to_string())?;
    tcp.write_all(
        format!("CONNECT {host}:{port} HTTP/1.1\r\nHost: {host}:{port}\r\n\r\n").as_bytes(),
    )
    .await
    .map_err(|e| e.to_string())?;
    let mut head = Vec::new();
    let mut b = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") {
        if tcp.read(&mut b).await.map_err(|e| e.to_string())? == 0 {
            return Err(format!("closed: {}", String::from_utf8_lossy(&head)));
        }
        head.push(b[0]);
    }
    let head = String::from_utf8_lossy(&head).to_string();
    if !head.starts_with("HTTP/1.1 200") {
        return Err(head);
    }
    Ok(tcp)
}

impl Client {
    pub async fn connect(
        proxy: SocketAddr,
        host: &str,
        port: u16,
        roots: &[CertificateDer<'static>],
        alpn: &[&[u8]],
    ) -> Result<Client, String> {
        let tcp = proxy_connect(proxy, host, port).await?;
        let mut store = rustls::RootCertStore::empty();
        for r in roots {
            store.add(r.clone()).unwrap();
        }
        let mut cc = rustls::ClientConfig::builder_with_provider(provider())
            .with_safe_default_protocol_versions()
            .unwrap()
            .with_root_certificates(store)
            .with_no_client_auth();
        cc.alpn_protocols = alpn.iter().map(|a| a.to_vec()).collect();
        let tls = tokio_rustls::TlsConnector::from(Arc::new(cc))
            .connect(ServerName::try_from(host.to_string()).unwrap(), tcp)
            .await
            .map_err(|e| format!("TLS: {e}"))?;
        let peer_cert = tls.get_ref().1.peer_certificates().unwrap()[0].clone();
        let h2 = tls.get_ref().1.alpn_protocol() == Some(b"h2");
        let io = TokioIo::new(tls);
        let sender = if h2 {
            let (s, c) = hyper::client::conn::http2::handshake(TokioExecutor::new(), io)
                .await
                .map_err(|e| e.to_string())?;
            tokio::spawn(c);
            Sender::H2(s)
        } else {
            let (s, c) = hyper::client::conn::http1::handshake(io)
                .await
                .map_err(|e| e.to_string())?;
            tokio::spawn(c);
            Sender::H1(s)
        };
        Ok(Client {
            host: host.to_string(),
            sender,
            peer_cert,
        })
    }

    pub fn is_h2(&self) -> bool {
        matches!(self.sender, Sender::H2(_))
    }

    /// Sends a request; returns the response with its body still streaming.
    pub async fn send(
        &mut self,
        method: &str,
        path: &str,
        headers: &[(&str, &str)],
        body: impl Into<Bytes>,
    ) -> Response<Incoming> {
        let mut b = Request::builder().method(method);
        b = match self.sender {
            Sender::H2(_) => b.uri(format!("https://{}{path}", self.host)),
            Sender::H1(_) => b.uri(path).header("host", &self.host),
        };
        for (k, v) in headers {
            b = b.header(*k, *v);
        }
        let req = b.body(Full::new(body.into())).unwrap();
        match &mut self.sender {
            Sender::H1(s) => {
                s.ready().await.unwrap();
                s.send_request(req).await.unwrap()
            }
            Sender::H2(s) => {
                s.ready().await.unwrap();
                s.send_request(req).await.unwrap()
            }
        }
    }

    /// Sends a request and reads the whole response.
    pub async fn call(
        &mut self,
        method: &str,
        path: &str,
        headers: &[(&str, &str)],
        body: impl Into<Bytes>,
    ) -> (StatusCode, HeaderMap, Bytes) {
        let r = self.send(method, path, headers, body).await;
        let status = r.status();
        let headers = r.headers().clone();
        let body = r.into_body().collect().await.unwrap().to_bytes();
        (status, headers, body)
    }

    pub async fn post_json(
        &mut self,
        path: &str,
        body: impl Into<Bytes>,
    ) -> (StatusCode, HeaderMap, Bytes) {
        self.call(
            "POST",
            path,
            &[
                ("content-type", "application/json"),
                ("authorization", "Bearer sk-test-credential-for-provider"),
                ("user-agent", "OpenAI/Python 1.50.0"),
            ],
            body,
        )
        .await
    }
}

pub fn json(b: &[u8]) -> serde_json::Value {
    serde_json::from_slice(b).unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(b)))
}

/// Secrets and personal data used by the tests (all detected by the default policy).
pub const VALUES: &[&str] = &[
    "AKIAF3EYJPTQ6YHGX56Z",
    "ghu_G73w22YGOZQxvPhl8ycr4NT9Zndp121KgQyJ",
    "sk_live_4vreeS16HQxDGJVdktPVT0Jr",
    "omar.mensah@northwind-trading.com",
    "138-07-8581",
];

/// A chat prompt holding every value of VALUES.
pub fn leaky_prompt() -> String {
    format!(
        "Why does this fail?\naws_access_key_id = {}\nGITHUB_TOKEN={}\nexport STRIPE_SECRET_KEY={}\nFrom: {}\nMy SSN is {} if you need",
        VALUES[0], VALUES[1], VALUES[2], VALUES[3], VALUES[4]
    )
}

pub fn chat_body(content: &str) -> Vec<u8> {
    serde_json::to_vec(&serde_json::json!({
        "model": "gpt-4o",
        "messages": [
            {"role": "system", "content": "You are a helpful assistant."},
            {"role": "user", "content": content}
        ]
    }))
    .unwrap()
}
