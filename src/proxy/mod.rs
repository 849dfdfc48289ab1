//! The screening proxy: an HTTP/1.1 forward proxy with CONNECT.
//!
//! - CONNECT to a host on the policy's intercept list: TLS is terminated with a leaf minted by the
//!   local CA (HTTP/1.1 or HTTP/2 by ALPN), every request is screened, then sent upstream over TLS
//!   verified against webpki roots plus `--upstream-ca` (HTTP/2 when the upstream offers it).
//! - CONNECT to any other host: a byte tunnel, never decrypted.
//! - Plain-HTTP requests: screened when the host is intercepted, otherwise forwarded as is.
//!
//! Responses stream back without buffering.
//!
//! Monitoring: `sample_rate` picks the requests that are screened and audited (see `sampling`);
//! `--admin` serves Prometheus metrics (see `metrics`); the policy file is reloaded on SIGHUP and
//! when it changes (see `reload`).

pub mod audit;
mod memory;
pub mod metrics;
pub mod provider;
pub mod reload;
pub mod sampling;
pub mod screen;
pub mod tls;
pub mod upstream;

use crate::ca::{Ca, CaError, Created};
use crate::engine::{Engine, EngineError};
use crate::policy::Policy;
use audit::{Audit, Event};
use bytes::Bytes;
use dashmap::DashMap;
use http::header::{self, HeaderMap, HeaderName, HeaderValue};
use http::{Method, Request, Response, StatusCode, Version};
use http_body_util::{combinators::BoxBody, BodyExt, Empty, Full};
use hyper::body::{Frame, Incoming, SizeHint};
use hyper::service::service_fn;
use hyper_util::rt::{TokioExecutor, TokioIo};
use metrics::{ConnKind, Metrics};
use provider::{detect_client, error_body, Provider};
use reload::{EngineCell, Reloader};
use rustls::ServerConfig;
use sampling::Sampler;
use screen::{Disposition, Forwarded, Outcome, RequestParts};
use std::convert::Infallible;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};
use tokio::net::TcpListener;
use tokio::sync::watch;
use upstream::{Net, Origin, Pool};

pub use upstream::{ConnectTo, ParentProxy};

pub type BoxError = Box<dyn std::error::Error + Send + Sync>;
/// The body type used for requests and responses the proxy builds.
pub type Body = BoxBody<Bytes, BoxError>;

/// The default listen address.
pub const DEFAULT_LISTEN: &str = "127.0.0.1:8080";

/// Everything `run` needs.
#[derive(Debug, Clone)]
pub struct Config {
    pub listen: String,
    pub policy: Policy,
    pub ca_dir: PathBuf,
    pub audit_log: Option<PathBuf>,
    /// PEM files of extra roots trusted for upstream TLS.
    pub upstream_ca: Vec<PathBuf>,
    pub connect_to: Vec<ConnectTo>,
    pub upstream_proxy: Option<ParentProxy>,
    /// The file `policy` came from: reloaded on SIGHUP and when it changes. None: no reloads.
    pub policy_path: Option<PathBuf>,
    /// How often the policy file is checked for changes.
    pub reload_poll: Duration,
    /// The admin listener (`/metrics`, `/healthz`): PORT or a loopback HOST:PORT. None: off.
    pub admin: Option<String>,
    /// The user label for audit events when the client does not name one (`--user`).
    pub user: String,
    /// A fixed sampling seed (tests, reproducible runs); random when None.
    pub sample_seed: Option<u64>,
}

/// The default user label: $USER, else $USERNAME, else "unknown".
pub fn default_user() -> String {
    ["USER", "USERNAME"]
        .iter()
        .filter_map(|k| std::env::var(k).ok())
        .map(|v| v.trim().to_string())
        .find(|v| !v.is_empty())
        .unwrap_or_else(|| "unknown".to_string())
}

impl Config {
    pub fn new(policy: Policy, ca_dir: PathBuf) -> Config {
        Config {
            listen: DEFAULT_LISTEN.to_string(),
            policy,
            ca_dir,
            audit_log: None,
            upstream_ca: Vec::new(),
            connect_to: Vec::new(),
            upstream_proxy: None,
            policy_path: None,
            reload_poll: Duration::from_secs(1),
            admin: None,
            user: default_user(),
            sample_seed: None,
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ProxyError {
    #[error("CA: {0}")]
    Ca(#[from] CaError),
    #[error("engine: {0}")]
    Engine(#[from] EngineError),
    #[error("TLS: {0}")]
    Tls(#[from] rustls::Error),
    #[error("{what}: {source}")]
    Io {
        what: String,
        source: std::io::Error,
    },
    #[error("{0}")]
    Config(String),
}

/// A running proxy.
pub struct Running {
    pub addr: SocketAddr,
    /// The CA certificate clients must trust.
    pub ca_cert: PathBuf,
    /// The admin listener's address, when `admin` was set.
    pub admin_addr: Option<SocketAddr>,
    state: Arc<State>,
    reloader: Option<Arc<Reloader>>,
    shutdown: watch::Sender<bool>,
    task: tokio::task::JoinHandle<()>,
}

impl Running {
    /// Stops accepting connections (and serving metrics, watching the policy) and waits for the
    /// accept loop to end.
    pub async fn stop(mut self) {
        let _ = self.shutdown.send(true);
        let _ = (&mut self.task).await;
    }

    /// The policy in force.
    pub fn policy(&self) -> Arc<Policy> {
        self.state.engine.load().policy().clone()
    }

    /// Reloads the policy file now (as SIGHUP does); an invalid file keeps the current policy.
    pub fn reload(&self) -> Result<(), String> {
        match &self.reloader {
            Some(r) => r.reload("requested"),
            None => Err("the proxy was not started from a policy file".into()),
        }
    }

    /// The metrics in Prometheus text format.
    pub fn metrics(&self) -> String {
        self.state.metrics.render()
    }

    /// Runs until the accept loop ends (it does not end by itself).
    pub async fn wait(mut self) {
        let _ = (&mut self.task).await;
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.shutdown.send(true);
    }
}

struct State {
    engine: Arc<EngineCell>,
    ca: Ca,
    net: Net,
    audit: Option<Arc<Audit>>,
    server_configs: DashMap<String, Arc<ServerConfig>>,
    /// Upstream connection pools, one per origin, shared by all client connections.
    pools: DashMap<Origin, Arc<Pool>>,
    sampler: Sampler,
    metrics: Arc<Metrics>,
    /// The default user label.
    user: String,
}

impl State {
    /// The shared upstream pool for an origin.
    fn pool(&self, origin: Origin) -> Arc<Pool> {
        self.pools
            .entry(origin.clone())
            .or_insert_with(|| Arc::new(Pool::new(origin)))
            .clone()
    }

    /// Counts a request in the metrics and, when `write`, audits it.
    fn record(&self, ev: &Event, write: bool) {
        self.metrics.request(ev);
        if write {
            if let Some(a) = &self.audit {
                a.write(ev);
            }
        }
    }
}

/// Starts the proxy: loads or creates the CA, builds the engine, binds, and serves in the background.
pub async fn start(cfg: Config) -> Result<Running, ProxyError> {
    let (ca, created) = Ca::ensure(&cfg.ca_dir, &cfg.policy)?;
    if created == Created::New {
        tracing::info!(
            "created a new CA in {} (name-constrained to the intercept list); trust {} in your clients (see `promptgate env`)",
            ca.paths.dir.display(),
            ca.paths.cert.display()
        );
    }
    for p in ca.unpermitted_patterns(&cfg.policy) {
        tracing::warn!(
            "the policy intercepts `{p}` but the CA's name constraints do not permit it: clients will reject its certificates (recreate the CA with `promptgate ca init --force --policy ...`)"
        );
    }
    let mut extra = Vec::new();
    for path in &cfg.upstream_ca {
        let pem = std::fs::read_to_string(path).map_err(|source| ProxyError::Io {
            what: format!("--upstream-ca {}", path.display()),
            source,
        })?;
        let certs = crate::ca::pem_certs(&pem);
        if certs.is_empty() {
            return Err(ProxyError::Config(format!(
                "--upstream-ca {}: no PEM certificate found",
                path.display()
            )));
        }
        extra.extend(certs);
    }
    let net = Net {
        connect_to: cfg.connect_to.clone(),
        parent: cfg.upstream_proxy.clone(),
        tls: tls::client_config(&extra)?,
    };
    let audit = match &cfg.audit_log {
        Some(p) => Some(Arc::new(Audit::open(p).map_err(|source| {
            ProxyError::Io {
                what: format!("audit log {}", p.display()),
                source,
            }
        })?)),
        None => None,
    };
    let engine = Engine::new(cfg.policy.clone())?;
    let admin = match &cfg.admin {
        Some(a) => {
            let addr = metrics::admin_addr(a).map_err(ProxyError::Config)?;
            Some(
                TcpListener::bind(addr)
                    .await
                    .map_err(|source| ProxyError::Io {
                        what: format!("admin listener on {addr}"),
                        source,
                    })?,
            )
        }
        None => None,
    };
    let listener = TcpListener::bind(&cfg.listen)
        .await
        .map_err(|source| ProxyError::Io {
            what: format!("listen on {}", cfg.listen),
            source,
        })?;
    let addr = listener.local_addr().map_err(|source| ProxyError::Io {
        what: "listener address".into(),
        source,
    })?;
    let ca_cert = ca.paths.cert.clone();
    let metrics = Metrics::new();
    let state = Arc::new(State {
        engine: Arc::new(EngineCell::new(engine)),
        ca,
        net,
        audit,
        server_configs: DashMap::new(),
        pools: DashMap::new(),
        sampler: match cfg.sample_seed {
            Some(seed) => Sampler::with_seed(seed),
            None => Sampler::random(),
        },
        metrics: metrics.clone(),
        user: cfg.user.clone(),
    });
    let (tx, mut rx) = watch::channel(false);
    let admin_addr = match admin {
        Some(l) => {
            let a = l.local_addr().map_err(|source| ProxyError::Io {
                what: "admin listener address".into(),
                source,
            })?;
            tokio::spawn(metrics::serve_admin(l, metrics.clone(), rx.clone()));
            tracing::info!("promptgate admin listening on http://{a} (/metrics, /healthz)");
            Some(a)
        }
        None => None,
    };
    let reloader = cfg.policy_path.as_ref().map(|path| {
        let ca_state = state.clone();
        let r = Arc::new(Reloader {
            path: path.clone(),
            cell: state.engine.clone(),
            metrics: metrics.clone(),
            check: Box::new(move |p: &Policy| {
                for pat in ca_state.ca.unpermitted_patterns(p) {
                    tracing::warn!(
                        "the reloaded policy intercepts `{pat}` but the CA's name constraints do not permit it: clients will reject its certificates"
                    );
                }
            }),
        });
        reload::watch(r.clone(), cfg.reload_poll, rx.clone());
        r
    });
    memory::spawn_trimmer(rx.clone());
    let accept_state = state.clone();
    let task = tokio::spawn(async move {
        let state = accept_state;
        loop {
            tokio::select! {
                _ = rx.changed() => break,
                r = listener.accept() => match r {
                    Ok((tcp, peer)) => {
                        let state = state.clone();
                        tokio::spawn(serve_client(state, tcp, peer));
                    }
                    Err(e) => {
                        tracing::warn!("accept: {e}");
                        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
                    }
                }
            }
        }
    });
    tracing::info!(
        "promptgate listening on http://{addr}; CA certificate: {}",
        ca_cert.display()
    );
    Ok(Running {
        addr,
        ca_cert,
        admin_addr,
        state,
        reloader,
        shutdown: tx,
        task,
    })
}

async fn serve_client(state: Arc<State>, tcp: tokio::net::TcpStream, peer: SocketAddr) {
    let _open = state.metrics.open(ConnKind::Client);
    let _ = tcp.set_nodelay(true);
    let svc = service_fn(move |req| {
        let state = state.clone();
        async move { Ok::<_, Infallible>(handle(state, peer, req).await) }
    });
    if let Err(e) = hyper::server::conn::http1::Builder::new()
        .serve_connection(TokioIo::new(tcp), svc)
        .with_upgrades()
        .await
    {
        tracing::debug!("client {peer}: {e}");
    }
}

fn empty() -> Body {
    Empty::<Bytes>::new().map_err(|e| match e {}).boxed()
}

fn full(b: impl Into<Bytes>) -> Body {
    Full::new(b.into()).map_err(|e| match e {}).boxed()
}

fn text_response(status: u16, msg: &str) -> Response<Body> {
    let mut r = Response::new(full(format!("{msg}\n")));
    *r.status_mut() = StatusCode::from_u16(status).unwrap_or(StatusCode::BAD_GATEWAY);
    r.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    r
}

fn json_response(status: u16, body: Bytes) -> Response<Body> {
    let mut r = Response::new(full(body));
    *r.status_mut() = StatusCode::from_u16(status).unwrap_or(StatusCode::BAD_REQUEST);
    r.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    r.headers_mut()
        .insert("x-promptgate", HeaderValue::from_static("refused"));
    r
}

/// The proxy listener's request handler.
async fn handle(state: Arc<State>, peer: SocketAddr, req: Request<Incoming>) -> Response<Body> {
    if req.method() == Method::CONNECT {
        return connect(state, peer, req).await;
    }
    let uri = req.uri().clone();
    match (uri.scheme_str(), uri.host()) {
        (Some("http"), Some(host)) => {
            let host = host.trim_matches(|c| c == '[' || c == ']').to_string();
            let port = uri.port_u16().unwrap_or(80);
            if state.engine.load().policy().intercepts(&host) {
                let pool = state.pool(Origin {
                    host,
                    port,
                    tls: false,
                });
                let user = proxy_user(req.headers());
                intercept(state, peer, pool, req, user).await
            } else {
                forward_plain(state, req, &host, port).await
            }
        }
        _ => {
            drain_in_background(req.into_body());
            text_response(
                400,
                "promptgate is a forward proxy: send absolute-form http:// requests or CONNECT",
            )
        }
    }
}

/// CONNECT: intercept or tunnel.
async fn connect(state: Arc<State>, peer: SocketAddr, req: Request<Incoming>) -> Response<Body> {
    let Some(auth) = req.uri().authority().cloned() else {
        return text_response(400, "CONNECT needs host:port");
    };
    let host = auth
        .host()
        .trim_matches(|c| c == '[' || c == ']')
        .to_string();
    let port = auth.port_u16().unwrap_or(443);
    if state.engine.load().policy().intercepts(&host) {
        let user = proxy_user(req.headers());
        tokio::spawn(async move {
            match hyper::upgrade::on(req).await {
                Ok(up) => serve_intercepted(state, peer, host, port, up, user).await,
                Err(e) => tracing::debug!("CONNECT upgrade for {host}: {e}"),
            }
        });
        return Response::new(empty());
    }
    match state.net.dial(&host, port).await {
        Ok(mut upstream) => {
            let open = state.metrics.open(ConnKind::Tunnel);
            tokio::spawn(async move {
                let _open = open;
                match hyper::upgrade::on(req).await {
                    Ok(up) => {
                        let mut client = TokioIo::new(up);
                        let _ = tokio::io::copy_bidirectional(&mut client, &mut upstream).await;
                    }
                    Err(e) => tracing::debug!("CONNECT upgrade for {host}: {e}"),
                }
            });
            Response::new(empty())
        }
        Err(reason) => {
            tracing::info!("tunnel to {host}:{port} failed: {reason}");
            text_response(502, &format!("promptgate: {reason}"))
        }
    }
}

impl State {
    fn server_config(&self, host: &str) -> Result<Arc<ServerConfig>, String> {
        if let Some(c) = self.server_configs.get(host) {
            return Ok(c.clone());
        }
        if !self.ca.permits(host) {
            tracing::warn!(
                "{host} is outside the CA's name constraints: clients will reject its certificate"
            );
        }
        let leaf = self.ca.leaf(host).map_err(|e| e.to_string())?;
        let c = tls::server_config(leaf).map_err(|e| e.to_string())?;
        self.server_configs.insert(host.to_string(), c.clone());
        Ok(c)
    }
}

async fn serve_intercepted(
    state: Arc<State>,
    peer: SocketAddr,
    host: String,
    port: u16,
    up: hyper::upgrade::Upgraded,
    user: Option<String>,
) {
    let _open = state.metrics.open(ConnKind::Intercepted);
    let config = match state.server_config(&host.to_ascii_lowercase()) {
        Ok(c) => c,
        Err(e) => {
            tracing::error!("minting a certificate for {host}: {e}");
            return;
        }
    };
    let tls = match tokio_rustls::TlsAcceptor::from(config)
        .accept(TokioIo::new(up))
        .await
    {
        Ok(t) => t,
        Err(e) => {
            tracing::info!(
                "TLS handshake with client {peer} for {host} failed: {e} (does the client trust the promptgate CA?)"
            );
            return;
        }
    };
    let pool = state.pool(Origin {
        host,
        port,
        tls: true,
    });
    let svc = service_fn(move |req| {
        let state = state.clone();
        let pool = pool.clone();
        let user = user.clone();
        async move { Ok::<_, Infallible>(intercept(state, peer, pool, req, user).await) }
    });
    if let Err(e) = hyper_util::server::conn::auto::Builder::new(TokioExecutor::new())
        .serve_connection_with_upgrades(TokioIo::new(tls), svc)
        .await
    {
        tracing::debug!("intercepted connection from {peer}: {e}");
    }
}

const HOP_BY_HOP: &[&str] = &[
    "connection",
    "keep-alive",
    "proxy-connection",
    "proxy-authenticate",
    "proxy-authorization",
    "te",
    "trailer",
    "transfer-encoding",
    "upgrade",
];

/// Removes hop-by-hop headers (and those the Connection header names).
fn strip_hop_by_hop(h: &mut HeaderMap) {
    let named: Vec<HeaderName> = h
        .get_all(header::CONNECTION)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .filter_map(|t| HeaderName::from_bytes(t.trim().as_bytes()).ok())
        .collect();
    for n in named {
        h.remove(n);
    }
    for n in HOP_BY_HOP {
        h.remove(*n);
    }
}

fn is_websocket_upgrade(h: &HeaderMap) -> bool {
    h.get(header::UPGRADE).is_some()
        && h.get_all(header::CONNECTION)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .any(|v| {
                v.split(',')
                    .any(|t| t.trim().eq_ignore_ascii_case("upgrade"))
            })
}

/// The username of a `Proxy-Authorization: Basic` header (never the password). The proxy does not
/// verify it: it is a label, like `--user`.
fn proxy_user(h: &HeaderMap) -> Option<String> {
    use base64::Engine as _;
    let v = h.get(header::PROXY_AUTHORIZATION)?.to_str().ok()?.trim();
    let (scheme, cred) = v.split_once(' ')?;
    if !scheme.eq_ignore_ascii_case("basic") {
        return None;
    }
    let raw = base64::engine::general_purpose::STANDARD
        .decode(cred.trim())
        .ok()?;
    let text = String::from_utf8(raw).ok()?;
    let user = text.split(':').next()?.trim();
    (!user.is_empty() && user.len() <= 128 && !user.chars().any(char::is_control))
        .then(|| user.to_string())
}

/// Builds the request sent upstream.
fn upstream_request(
    parts: &http::request::Parts,
    origin: &Origin,
    h2: bool,
    body: Bytes,
    rewritten: bool,
) -> Request<Body> {
    let pq = parts
        .uri
        .path_and_query()
        .map(|p| p.as_str())
        .unwrap_or("/");
    let authority = origin.authority();
    let uri = if h2 {
        format!("{}://{}{}", origin.scheme(), authority, pq)
    } else {
        pq.to_string()
    };
    let mut headers = parts.headers.clone();
    strip_hop_by_hop(&mut headers);
    headers.remove(header::EXPECT);
    if h2 {
        headers.remove(header::HOST);
    } else if !headers.contains_key(header::HOST) {
        if let Ok(v) = HeaderValue::from_str(&authority) {
            headers.insert(header::HOST, v);
        }
    }
    if rewritten {
        headers.remove(header::CONTENT_ENCODING);
    }
    if rewritten || !body.is_empty() || headers.contains_key(header::CONTENT_LENGTH) {
        headers.insert(header::CONTENT_LENGTH, HeaderValue::from(body.len()));
    }
    let mut req = Request::new(full(body));
    *req.method_mut() = parts.method.clone();
    *req.uri_mut() = uri.parse().unwrap_or_else(|_| http::Uri::from_static("/"));
    *req.version_mut() = if h2 {
        Version::HTTP_2
    } else {
        Version::HTTP_11
    };
    *req.headers_mut() = headers;
    req
}

/// One request to an intercepted host: buffer, screen (when sampled), then forward, answer
/// locally or refuse.
async fn intercept(
    state: Arc<State>,
    peer: SocketAddr,
    pool: Arc<Pool>,
    req: Request<Incoming>,
    proxy_user: Option<String>,
) -> Response<Body> {
    let t0 = Instant::now();
    let request_id = state.sampler.next_id();
    // The engine in force when the request arrived serves it to the end, whatever reloads happen.
    let engine = state.engine.load();
    let policy = engine.policy();
    let (parts, body) = req.into_parts();
    let host = pool.origin.host.clone();
    let path = parts
        .uri
        .path_and_query()
        .map(|p| p.as_str().to_string())
        .unwrap_or_else(|| "/".into());
    let provider = Provider::detect(&host, &path);
    let tool = detect_client(
        &host,
        &path,
        parts
            .headers
            .get(header::USER_AGENT)
            .and_then(|v| v.to_str().ok()),
    );
    let user = proxy_user.unwrap_or_else(|| state.user.clone());
    let team = policy.teams.get(&user).cloned();
    let mut ev = Event {
        time: audit::now(),
        request_id,
        client: peer.to_string(),
        user,
        team,
        host: host.clone(),
        method: parts.method.to_string(),
        path: audit::path_without_query(&path),
        provider: provider.as_str(),
        tool,
        verdict: crate::types::Verdict::Safe,
        action: crate::types::Action::Allow,
        result: Disposition::Forwarded,
        monitor: policy.mode == crate::policy::Mode::Monitor,
        sampled: false,
        sample_rate: policy.sample_rate,
        findings: Vec::new(),
        bytes: 0,
        bytes_forwarded: 0,
        scan_ms: 0.0,
        upstream_status: None,
        response_bytes: 0,
        total_ms: 0.0,
        reason: None,
    };
    // Refusals are always audited (sampled or not: they were not forwarded).
    let refuse = |mut ev: Event, status: u16, code: &str, reason: String| {
        ev.result = Disposition::Refused;
        ev.total_ms = ms(t0);
        let body = error_body(
            provider,
            status,
            code,
            &format!("promptgate refused this request: {reason}."),
        );
        ev.reason = Some(reason);
        state.record(&ev, true);
        json_response(status, body)
    };

    if is_websocket_upgrade(&parts.headers) {
        if !policy.allow_websocket {
            let mut r = refuse(
                ev,
                426,
                "promptgate_websocket_refused",
                format!("WebSocket connections to {host} cannot be screened and the policy does not allow them (intercept.allow_websocket: false)"),
            );
            r.headers_mut().insert(
                "x-promptgate",
                HeaderValue::from_static("websocket-refused"),
            );
            return r;
        }
        return websocket(state.clone(), pool, parts, body, ev, t0).await;
    }

    let max = policy.max_body_bytes;
    let declared = parts
        .headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok());
    if let Some(len) = declared.filter(|&l| l > max) {
        ev.bytes = len;
        drain_in_background(body);
        return refuse(
            ev,
            413,
            "request_too_large",
            format!("the request body ({len} bytes) is larger than the screening limit of {max} bytes (limits.max_body_bytes)"),
        );
    }
    let bytes = match collect_limited(body, max).await {
        Ok(b) => b,
        Err(BodyRead::TooLarge(rest)) => {
            drain_in_background(rest);
            return refuse(
                ev,
                413,
                "request_too_large",
                format!("the request body is larger than the screening limit of {max} bytes (limits.max_body_bytes)"),
            );
        }
        Err(BodyRead::Failed(e)) => {
            return refuse(
                ev,
                400,
                "promptgate_body_error",
                format!("the request body could not be read ({e})"),
            );
        }
    };
    ev.bytes = bytes.len() as u64;

    // Not sampled: forwarded as received, with no scan.
    let sampled = state.sampler.sampled(request_id, policy.sample_rate);
    ev.sampled = sampled;
    let (outcome, notice) = if sampled {
        let run = {
            let (engine, state, bytes) = (engine.clone(), state.clone(), bytes.clone());
            let (method, host, path, headers) = (
                parts.method.clone(),
                host.clone(),
                path.clone(),
                parts.headers.clone(),
            );
            move || {
                screen::screen(
                    &engine,
                    &RequestParts {
                        method: method.as_str(),
                        host: &host,
                        path: &path,
                        headers: &headers,
                    },
                    &bytes,
                    state.ca.fingerprint_key(),
                )
            }
        };
        // Large bodies are scanned off the async workers.
        let s = if bytes.len() > 64 * 1024 {
            match tokio::task::spawn_blocking(run).await {
                Ok(s) => s,
                Err(e) => {
                    return refuse(
                        ev,
                        500,
                        "promptgate_internal_error",
                        format!("screening failed ({e})"),
                    )
                }
            }
        } else {
            run()
        };
        state.metrics.scan.observe(s.scan_time);
        ev.verdict = s.verdict;
        ev.action = s.action;
        ev.result = s.result;
        ev.findings = s.findings;
        ev.scan_ms = s.scan_time.as_secs_f64() * 1000.0;
        ev.reason = s.reason;
        match s.outcome {
            Outcome::Refuse { status, body } => {
                ev.total_ms = ms(t0);
                state.record(&ev, true);
                return json_response(status, body);
            }
            Outcome::Forward { body, notice } => (body, notice),
        }
    } else {
        (Forwarded::Original, None)
    };
    let (send_body, rewritten) = match outcome {
        Forwarded::Original => (bytes, false),
        Forwarded::Rewritten(b) => (b, true),
    };
    ev.bytes_forwarded = send_body.len() as u64;
    let make = |h2: bool| upstream_request(&parts, &pool.origin, h2, send_body.clone(), rewritten);
    let sent = Instant::now();
    match pool.send(&state.net, &make).await {
        Ok(resp) => {
            state.metrics.upstream.observe(sent.elapsed());
            ev.upstream_status = Some(resp.status().as_u16());
            state.metrics.request(&ev);
            let (mut rp, rb) = resp.into_parts();
            strip_hop_by_hop(&mut rp.headers);
            rp.version = Version::HTTP_11;
            if let Some((name, value)) = notice {
                if let Ok(v) = HeaderValue::from_str(&value) {
                    rp.headers.insert(name, v);
                }
            }
            let body = Tracked {
                inner: rb,
                bytes: 0,
                done: match &state.audit {
                    Some(a) if sampled => Some((a.clone(), ev, t0)),
                    _ => None,
                },
            };
            Response::from_parts(rp, body.boxed())
        }
        Err(reason) => {
            tracing::info!("upstream {host}: {reason}");
            ev.total_ms = ms(t0);
            let msg = format!("promptgate could not reach {host}: {reason}");
            ev.reason = Some(reason);
            state.record(&ev, sampled);
            json_response(
                502,
                error_body(provider, 502, "promptgate_upstream_error", &msg),
            )
        }
    }
}

/// A WebSocket upgrade the policy allows: passed through without screening (audited).
/// Why a request body could not be buffered for screening.
enum BodyRead {
    /// Over the limit: the rest of the body, still unread.
    TooLarge(Incoming),
    Failed(hyper::Error),
}

/// Buffers a request body of at most `max` bytes.
async fn collect_limited(mut body: Incoming, max: u64) -> Result<Bytes, BodyRead> {
    let mut buf = bytes::BytesMut::new();
    while let Some(frame) = body.frame().await {
        let frame = frame.map_err(BodyRead::Failed)?;
        if let Ok(data) = frame.into_data() {
            if (buf.len() + data.len()) as u64 > max {
                return Err(BodyRead::TooLarge(body));
            }
            buf.extend_from_slice(&data);
        }
    }
    Ok(buf.freeze())
}

/// Most bytes read and thrown away after an oversize refusal.
const DRAIN_MAX: u64 = 256 * 1024 * 1024;
/// Longest time spent doing so.
const DRAIN_TIME: Duration = Duration::from_secs(30);

/// Reads and discards the rest of a refused body so that the client, still sending it, gets the
/// refusal instead of a reset connection (closing a socket with unread data sends a TCP RST, which
/// can destroy a response the client has not read yet). Bounded in bytes and time; past either
/// bound the body is dropped and the connection closes.
fn drain_in_background(mut body: Incoming) {
    tokio::spawn(async move {
        let mut seen = 0u64;
        let drain = async {
            while let Some(Ok(frame)) = body.frame().await {
                if let Ok(d) = frame.into_data() {
                    seen += d.len() as u64;
                    if seen > DRAIN_MAX {
                        break;
                    }
                }
            }
        };
        let _ = tokio::time::timeout(DRAIN_TIME, drain).await;
    });
}

async fn websocket(
    state: Arc<State>,
    pool: Arc<Pool>,
    parts: http::request::Parts,
    body: Incoming,
    mut ev: Event,
    t0: Instant,
) -> Response<Body> {
    let mut headers = parts.headers.clone();
    for n in [
        "keep-alive",
        "proxy-connection",
        "proxy-authorization",
        "te",
        "trailer",
        "transfer-encoding",
    ] {
        headers.remove(n);
    }
    headers.insert(header::CONNECTION, HeaderValue::from_static("upgrade"));
    if !headers.contains_key(header::HOST) {
        if let Ok(v) = HeaderValue::from_str(&pool.origin.authority()) {
            headers.insert(header::HOST, v);
        }
    }
    let mut up = Request::new(empty());
    *up.method_mut() = parts.method.clone();
    *up.uri_mut() = parts
        .uri
        .path_and_query()
        .map(|p| p.as_str())
        .unwrap_or("/")
        .parse()
        .unwrap_or_else(|_| http::Uri::from_static("/"));
    *up.headers_mut() = headers;
    let client_req = Request::from_parts(parts, body);
    ev.reason = Some("websocket passed through unscreened (allow_websocket)".into());
    let sent = Instant::now();
    match upstream::send_upgrade(&state.net, &pool.origin, up).await {
        Ok(mut resp) => {
            state.metrics.upstream.observe(sent.elapsed());
            ev.upstream_status = Some(resp.status().as_u16());
            ev.total_ms = ms(t0);
            // Not screened, so not part of the sample: always audited.
            state.record(&ev, true);
            if resp.status() == StatusCode::SWITCHING_PROTOCOLS {
                let upstream_up = hyper::upgrade::on(&mut resp);
                tokio::spawn(async move {
                    if let (Ok(c), Ok(u)) =
                        (hyper::upgrade::on(client_req).await, upstream_up.await)
                    {
                        let _ = tokio::io::copy_bidirectional(
                            &mut TokioIo::new(c),
                            &mut TokioIo::new(u),
                        )
                        .await;
                    }
                });
            }
            let (rp, rb) = resp.into_parts();
            Response::from_parts(rp, rb.map_err(|e| Box::new(e) as BoxError).boxed())
        }
        Err(reason) => {
            let msg = format!("promptgate could not reach {}: {reason}", pool.origin.host);
            ev.total_ms = ms(t0);
            ev.reason = Some(reason);
            state.record(&ev, true);
            json_response(
                502,
                error_body(
                    Provider::detect(&pool.origin.host, ""),
                    502,
                    "promptgate_upstream_error",
                    &msg,
                ),
            )
        }
    }
}

/// A plain-HTTP request to a host that is not intercepted: forwarded as an ordinary proxy does.
async fn forward_plain(
    state: Arc<State>,
    req: Request<Incoming>,
    host: &str,
    port: u16,
) -> Response<Body> {
    let (tcp, via_parent) = match state.net.dial_http(host, port).await {
        Ok(x) => x,
        Err(reason) => {
            drain_in_background(req.into_body());
            return text_response(502, &format!("promptgate: {reason}"));
        }
    };
    let (mut sender, conn) = match hyper::client::conn::http1::Builder::new()
        .handshake::<_, Body>(TokioIo::new(tcp))
        .await
    {
        Ok(x) => x,
        Err(e) => {
            drain_in_background(req.into_body());
            return text_response(502, &format!("promptgate: {host}:{port}: {e}"));
        }
    };
    tokio::spawn(async move {
        if let Err(e) = conn.await {
            tracing::debug!("plain upstream: {e}");
        }
    });
    let (mut parts, body) = req.into_parts();
    let authority = parts.uri.authority().map(|a| a.to_string());
    strip_hop_by_hop(&mut parts.headers);
    if let Some(a) = state.net.parent_authorization().filter(|_| via_parent) {
        if let Ok(v) = HeaderValue::from_str(a) {
            parts.headers.insert(header::PROXY_AUTHORIZATION, v);
        }
    }
    if !parts.headers.contains_key(header::HOST) {
        if let Some(v) = authority.and_then(|a| HeaderValue::from_str(&a).ok()) {
            parts.headers.insert(header::HOST, v);
        }
    }
    if !via_parent {
        let pq = parts
            .uri
            .path_and_query()
            .map(|p| p.as_str())
            .unwrap_or("/")
            .to_string();
        parts.uri = pq.parse().unwrap_or_else(|_| http::Uri::from_static("/"));
    }
    parts.version = Version::HTTP_11;
    let req = Request::from_parts(parts, body.map_err(|e| Box::new(e) as BoxError).boxed());
    match sender.send_request(req).await {
        Ok(resp) => {
            let (mut rp, rb) = resp.into_parts();
            strip_hop_by_hop(&mut rp.headers);
            Response::from_parts(rp, rb.map_err(|e| Box::new(e) as BoxError).boxed())
        }
        Err(e) => text_response(502, &format!("promptgate: {host}:{port}: {e}")),
    }
}

fn ms(t0: Instant) -> f64 {
    t0.elapsed().as_secs_f64() * 1000.0
}

/// A response body streamed through frame by frame; writes the audit event when it ends.
struct Tracked {
    inner: Incoming,
    bytes: u64,
    done: Option<(Arc<Audit>, Event, Instant)>,
}

impl Tracked {
    fn finish(&mut self, error: Option<String>) {
        if let Some((audit, mut ev, t0)) = self.done.take() {
            ev.response_bytes = self.bytes;
            ev.total_ms = ms(t0);
            if let Some(e) = error {
                ev.reason = Some(format!("response stream: {e}"));
            }
            audit.write(&ev);
        }
    }
}

impl hyper::body::Body for Tracked {
    type Data = Bytes;
    type Error = BoxError;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, BoxError>>> {
        match Pin::new(&mut self.inner).poll_frame(cx) {
            Poll::Pending => Poll::Pending,
            Poll::Ready(Some(Ok(f))) => {
                if let Some(d) = f.data_ref() {
                    self.bytes += d.len() as u64;
                }
                Poll::Ready(Some(Ok(f)))
            }
            Poll::Ready(Some(Err(e))) => {
                self.finish(Some(e.to_string()));
                Poll::Ready(Some(Err(Box::new(e))))
            }
            Poll::Ready(None) => {
                self.finish(None);
                Poll::Ready(None)
            }
        }
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}

impl Drop for Tracked {
    fn drop(&mut self) {
        self.finish(None);
    }
}
