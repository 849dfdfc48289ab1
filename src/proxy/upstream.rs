//! Upstream connections: `--connect-to` routing, the optional parent proxy, TLS, HTTP/1.1 or HTTP/2
//! by ALPN, and a small per-client-connection pool.

use super::Body;
use hyper::body::Incoming;
use hyper::client::conn::{http1, http2};
use hyper::{Request, Response};
use hyper_util::rt::{TokioExecutor, TokioIo};
use rustls::ClientConfig;
use rustls_pki_types::ServerName;
use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::TcpStream;

const CONNECT_TIMEOUT: Duration = Duration::from_secs(15);

/// `HOST:PORT:TARGET_HOST:TARGET_PORT` (curl's `--connect-to`): connections for HOST:PORT go to
/// TARGET_HOST:TARGET_PORT; TLS still checks HOST. An empty HOST or PORT matches any; an empty
/// TARGET part keeps the original. IPv6 addresses go in brackets.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConnectTo {
    pub host: Option<String>,
    pub port: Option<u16>,
    pub target_host: Option<String>,
    pub target_port: Option<u16>,
}

impl FromStr for ConnectTo {
    type Err = String;
    fn from_str(s: &str) -> Result<ConnectTo, String> {
        let mut parts = Vec::new();
        let mut cur = String::new();
        let mut depth = 0;
        for c in s.chars() {
            match c {
                '[' => depth += 1,
                ']' => depth -= 1,
                ':' if depth == 0 => {
                    parts.push(std::mem::take(&mut cur));
                    continue;
                }
                _ => {}
            }
            cur.push(c);
        }
        parts.push(cur);
        if parts.len() != 4 {
            return Err(format!(
                "--connect-to `{s}`: expected HOST:PORT:TARGET_HOST:TARGET_PORT"
            ));
        }
        let host = |h: &str| {
            let h = h.trim_start_matches('[').trim_end_matches(']');
            (!h.is_empty()).then(|| h.to_ascii_lowercase())
        };
        let port = |p: &str| -> Result<Option<u16>, String> {
            if p.is_empty() {
                Ok(None)
            } else {
                p.parse()
                    .map(Some)
                    .map_err(|_| format!("--connect-to `{s}`: bad port `{p}`"))
            }
        };
        Ok(ConnectTo {
            host: host(&parts[0]),
            port: port(&parts[1])?,
            target_host: host(&parts[2]),
            target_port: port(&parts[3])?,
        })
    }
}

/// A parent HTTP proxy (`--upstream-proxy http://[user:pass@]host:port`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParentProxy {
    pub host: String,
    pub port: u16,
    /// `Basic ...` credentials, if the URL had some.
    authorization: Option<String>,
}

impl FromStr for ParentProxy {
    type Err = String;
    fn from_str(s: &str) -> Result<ParentProxy, String> {
        let rest = if let Some(r) = s.strip_prefix("http://") {
            r
        } else if s.contains("://") {
            return Err(format!(
                "--upstream-proxy: only http:// parent proxies are supported, got `{}`",
                s.split("://").next().unwrap_or("")
            ));
        } else {
            s
        };
        let rest = rest.trim_end_matches('/');
        let (userinfo, hostport) = match rest.rsplit_once('@') {
            Some((u, h)) => (Some(u), h),
            None => (None, rest),
        };
        let (host, port) = match hostport.rsplit_once(':') {
            Some((h, p)) if !h.ends_with(']') || hostport.starts_with('[') => (
                h.trim_start_matches('[').trim_end_matches(']'),
                p.parse::<u16>()
                    .map_err(|_| "--upstream-proxy: bad port".to_string())?,
            ),
            _ => (hostport, 8080),
        };
        if host.is_empty() {
            return Err("--upstream-proxy: missing host".into());
        }
        Ok(ParentProxy {
            host: host.to_string(),
            port,
            authorization: userinfo.map(|u| format!("Basic {}", base64(u.as_bytes()))),
        })
    }
}

use crate::ca::base64;

fn host_for_authority(host: &str) -> String {
    if host.contains(':') {
        format!("[{host}]")
    } else {
        host.to_string()
    }
}

/// How to reach upstreams.
#[derive(Debug)]
pub struct Net {
    pub connect_to: Vec<ConnectTo>,
    pub parent: Option<ParentProxy>,
    pub tls: Arc<ClientConfig>,
}

impl Net {
    /// Where a connection for host:port really goes.
    pub fn target(&self, host: &str, port: u16) -> (String, u16) {
        let lower = host.to_ascii_lowercase();
        for c in &self.connect_to {
            if c.host.as_deref().is_none_or(|h| h == lower) && c.port.is_none_or(|p| p == port) {
                return (
                    c.target_host.clone().unwrap_or_else(|| host.to_string()),
                    c.target_port.unwrap_or(port),
                );
            }
        }
        (host.to_string(), port)
    }

    /// A TCP stream to host:port (through the parent proxy's CONNECT if there is one).
    pub async fn dial(&self, host: &str, port: u16) -> Result<TcpStream, String> {
        let (th, tp) = self.target(host, port);
        let routed = if (th.as_str(), tp) != (host, port) {
            format!(" (routed to {}:{tp})", host_for_authority(&th))
        } else {
            String::new()
        };
        match &self.parent {
            None => tcp(&th, tp)
                .await
                .map_err(|e| format!("cannot connect to {host}:{port}{routed}: {e}")),
            Some(p) => {
                let mut s = tcp(&p.host, p.port).await.map_err(|e| {
                    format!(
                        "cannot connect to the upstream proxy {}:{}: {e}",
                        p.host, p.port
                    )
                })?;
                parent_connect(&mut s, p, &th, tp)
                    .await
                    .map_err(|e| format!("upstream proxy CONNECT to {host}:{port}{routed}: {e}"))?;
                Ok(s)
            }
        }
    }

    /// A TCP stream for a plain-HTTP request: to the parent proxy (true: send absolute-form) or to
    /// the origin.
    pub async fn dial_http(&self, host: &str, port: u16) -> Result<(TcpStream, bool), String> {
        match &self.parent {
            Some(p) => tcp(&p.host, p.port).await.map(|s| (s, true)).map_err(|e| {
                format!(
                    "cannot connect to the upstream proxy {}:{}: {e}",
                    p.host, p.port
                )
            }),
            None => self.dial(host, port).await.map(|s| (s, false)),
        }
    }

    pub fn parent_authorization(&self) -> Option<&str> {
        self.parent
            .as_ref()
            .and_then(|p| p.authorization.as_deref())
    }
}

async fn tcp(host: &str, port: u16) -> std::io::Result<TcpStream> {
    let s = tokio::time::timeout(CONNECT_TIMEOUT, TcpStream::connect((host, port)))
        .await
        .map_err(|_| std::io::Error::new(std::io::ErrorKind::TimedOut, "connect timed out"))??;
    let _ = s.set_nodelay(true);
    Ok(s)
}

async fn parent_connect(
    s: &mut TcpStream,
    p: &ParentProxy,
    host: &str,
    port: u16,
) -> Result<(), String> {
    let auth = host_for_authority(host);
    let mut req = format!("CONNECT {auth}:{port} HTTP/1.1\r\nHost: {auth}:{port}\r\n");
    if let Some(a) = &p.authorization {
        req.push_str(&format!("Proxy-Authorization: {a}\r\n"));
    }
    req.push_str("\r\n");
    s.write_all(req.as_bytes())
        .await
        .map_err(|e| e.to_string())?;
    let mut head = Vec::new();
    let mut byte = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") {
        if head.len() > 16 * 1024 {
            return Err("response head too long".into());
        }
        let n = tokio::time::timeout(CONNECT_TIMEOUT, s.read(&mut byte))
            .await
            .map_err(|_| "timed out".to_string())?
            .map_err(|e| e.to_string())?;
        if n == 0 {
            return Err("connection closed".into());
        }
        head.push(byte[0]);
    }
    let line = String::from_utf8_lossy(&head);
    let status_line = line.lines().next().unwrap_or("");
    let code = status_line.split_whitespace().nth(1).unwrap_or("");
    if code.starts_with('2') {
        Ok(())
    } else {
        Err(format!("refused: {}", status_line.trim()))
    }
}

/// Where an intercepted connection's requests go.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Origin {
    pub host: String,
    pub port: u16,
    pub tls: bool,
}

impl Origin {
    /// `host` or `host:port` when the port is not the scheme's default.
    pub fn authority(&self) -> String {
        let default = if self.tls { 443 } else { 80 };
        if self.port == default {
            host_for_authority(&self.host)
        } else {
            format!("{}:{}", host_for_authority(&self.host), self.port)
        }
    }

    pub fn scheme(&self) -> &'static str {
        if self.tls {
            "https"
        } else {
            "http"
        }
    }
}

/// A client connection to an upstream.
pub enum Sender {
    H1(http1::SendRequest<Body>),
    H2(http2::SendRequest<Body>),
}

impl Sender {
    pub fn is_h2(&self) -> bool {
        matches!(self, Sender::H2(_))
    }

    /// Sends; on failure says whether the request was never sent (so it can be retried).
    async fn send(&mut self, req: Request<Body>) -> Result<Response<Incoming>, (bool, String)> {
        let r = match self {
            Sender::H1(s) => s.try_send_request(req).await,
            Sender::H2(s) => s.try_send_request(req).await,
        };
        r.map_err(|mut e| {
            let unsent = e.take_message().is_some();
            (unsent, describe(&e.into_error()))
        })
    }
}

fn describe(e: &hyper::Error) -> String {
    use std::error::Error;
    let mut s = e.to_string();
    let mut src = e.source();
    while let Some(x) = src {
        s.push_str(": ");
        s.push_str(&x.to_string());
        src = x.source();
    }
    s
}

/// Opens a connection to an origin: TCP (routed), TLS verified against the configured roots
/// for the origin's own name, then HTTP/2 if the upstream chose it by ALPN, else HTTP/1.1.
pub async fn open(net: &Net, origin: &Origin, upgrades: bool) -> Result<Sender, String> {
    let tcp = net.dial(&origin.host, origin.port).await?;
    if !origin.tls {
        return handshake(tcp, false, upgrades).await;
    }
    let name = ServerName::try_from(origin.host.clone())
        .map_err(|_| format!("`{}` is not a valid TLS server name", origin.host))?;
    let config = if upgrades {
        // An upgrade (WebSocket) needs HTTP/1.1.
        let mut c = (*net.tls).clone();
        c.alpn_protocols = vec![b"http/1.1".to_vec()];
        Arc::new(c)
    } else {
        net.tls.clone()
    };
    let tls = tokio_rustls::TlsConnector::from(config)
        .connect(name, tcp)
        .await
        .map_err(|e| format!("TLS with {} failed: {e}", origin.host))?;
    let h2 = tls.get_ref().1.alpn_protocol() == Some(b"h2");
    handshake(tls, h2, upgrades).await
}

async fn handshake<I>(io: I, h2: bool, upgrades: bool) -> Result<Sender, String>
where
    I: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let io = TokioIo::new(io);
    if h2 {
        let (s, conn) = http2::Builder::new(TokioExecutor::new())
            .handshake(io)
            .await
            .map_err(|e| format!("HTTP/2 handshake: {}", describe(&e)))?;
        tokio::spawn(async move {
            if let Err(e) = conn.await {
                tracing::debug!("upstream h2 connection: {e}");
            }
        });
        Ok(Sender::H2(s))
    } else {
        let (s, conn) = http1::Builder::new()
            .handshake(io)
            .await
            .map_err(|e| format!("HTTP/1.1 handshake: {}", describe(&e)))?;
        tokio::spawn(async move {
            let r = if upgrades {
                conn.with_upgrades().await
            } else {
                conn.await
            };
            if let Err(e) = r {
                tracing::debug!("upstream h1 connection: {e}");
            }
        });
        Ok(Sender::H1(s))
    }
}

/// Upstream connections to one origin, shared by every client connection of the proxy: one HTTP/2
/// connection serves all streams; idle HTTP/1.1 connections are kept (up to `MAX_IDLE`) and reused,
/// and a new one is opened when all are busy. Sharing keeps one upstream TLS session per busy
/// request rather than one per client connection (1,000 idle SDK clients no longer hold 1,000
/// upstream sessions), and a client's first request usually finds a warm connection.
pub struct Pool {
    pub origin: Origin,
    idle: tokio::sync::Mutex<Vec<Sender>>,
}

/// Idle HTTP/1.1 upstream connections kept per origin.
const MAX_IDLE: usize = 32;

impl Pool {
    pub fn new(origin: Origin) -> Pool {
        Pool {
            origin,
            idle: tokio::sync::Mutex::new(Vec::new()),
        }
    }

    async fn take(&self) -> Option<Sender> {
        let mut idle = self.idle.lock().await;
        // Closed connections go; busy HTTP/1.1 ones (a response still streaming) stay for later.
        idle.retain(|s| match s {
            Sender::H2(h) => !h.is_closed(),
            Sender::H1(h) => !h.is_closed(),
        });
        if let Some(Sender::H2(h)) = idle.iter().find(|s| s.is_h2()) {
            return Some(Sender::H2(h.clone()));
        }
        let ready = idle
            .iter()
            .position(|s| matches!(s, Sender::H1(h) if h.is_ready()))?;
        Some(idle.swap_remove(ready))
    }

    async fn give_back(&self, s: Sender) {
        let mut idle = self.idle.lock().await;
        match &s {
            Sender::H2(_) if idle.iter().any(Sender::is_h2) => {}
            Sender::H2(_) => idle.push(s),
            Sender::H1(_) if idle.len() < MAX_IDLE => idle.push(s),
            Sender::H1(_) => {}
        }
    }

    /// Sends a request built by `make(is_h2)`, reusing the pooled connection when possible.
    pub async fn send(
        &self,
        net: &Net,
        make: &(dyn Fn(bool) -> Request<Body> + Send + Sync),
    ) -> Result<Response<Incoming>, String> {
        if let Some(mut s) = self.take().await {
            match s.send(make(s.is_h2())).await {
                Ok(r) => {
                    self.give_back(s).await;
                    return Ok(r);
                }
                Err((true, _)) => {} // never sent: retry on a new connection
                Err((false, e)) => return Err(e),
            }
        }
        let mut s = open(net, &self.origin, false).await?;
        let r = s.send(make(s.is_h2())).await.map_err(|(_, e)| e)?;
        self.give_back(s).await;
        Ok(r)
    }
}

/// Sends one request on a fresh HTTP/1.1 connection that allows upgrades (WebSocket).
pub async fn send_upgrade(
    net: &Net,
    origin: &Origin,
    req: Request<Body>,
) -> Result<Response<Incoming>, String> {
    let mut s = open(net, origin, true).await?;
    s.send(req).await.map_err(|(_, e)| e)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn connect_to_parses() {
        let c: ConnectTo = "api.openai.com:443:127.0.0.1:9443".parse().unwrap();
        assert_eq!(c.host.as_deref(), Some("api.openai.com"));
        assert_eq!(c.port, Some(443));
        assert_eq!(c.target_host.as_deref(), Some("127.0.0.1"));
        assert_eq!(c.target_port, Some(9443));
        let c: ConnectTo = "::[::1]:8443".parse().unwrap();
        assert_eq!(c.host, None);
        assert_eq!(c.target_host.as_deref(), Some("::1"));
        assert!("a:b".parse::<ConnectTo>().is_err());
        let net = Net {
            connect_to: vec![c],
            parent: None,
            tls: super::super::tls::client_config(&[]).unwrap(),
        };
        assert_eq!(net.target("x", 443), ("::1".to_string(), 8443));
    }

    #[test]
    fn parent_parses() {
        let p: ParentProxy = "http://user:pw@proxy.local:3128".parse().unwrap();
        assert_eq!(p.host, "proxy.local");
        assert_eq!(p.port, 3128);
        assert_eq!(p.authorization.as_deref(), Some("Basic dXNlcjpwdw=="));
        assert!("https://x:1".parse::<ParentProxy>().is_err());
        assert_eq!(base64(b"a"), "YQ==");
        assert_eq!(base64(b"ab"), "YWI=");
        assert_eq!(base64(b"abc"), "YWJj");
    }
}
