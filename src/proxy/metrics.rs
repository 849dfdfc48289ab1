//! Prometheus metrics (text exposition format 0.0.4, written by hand) and the admin listener that
//! serves them (`/metrics`, `/healthz`). The admin listener is off unless `--admin` is given, and
//! only binds loopback addresses.

use super::audit::Event;
use bytes::Bytes;
use http::{header, Method, Request, Response, StatusCode};
use http_body_util::Full;
use hyper::body::Incoming;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use std::collections::BTreeMap;
use std::convert::Infallible;
use std::fmt::Write as _;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::net::TcpListener;

/// Latency buckets in seconds.
const BUCKETS: &[f64] = &[
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0,
];

/// A histogram with fixed buckets.
#[derive(Debug)]
pub struct Histogram {
    counts: Vec<AtomicU64>,
    count: AtomicU64,
    sum_nanos: AtomicU64,
}

impl Default for Histogram {
    fn default() -> Self {
        Histogram {
            counts: BUCKETS.iter().map(|_| AtomicU64::new(0)).collect(),
            count: AtomicU64::new(0),
            sum_nanos: AtomicU64::new(0),
        }
    }
}

impl Histogram {
    pub fn observe(&self, d: Duration) {
        let s = d.as_secs_f64();
        if let Some(i) = BUCKETS.iter().position(|le| s <= *le) {
            self.counts[i].fetch_add(1, Ordering::Relaxed);
        }
        self.count.fetch_add(1, Ordering::Relaxed);
        self.sum_nanos.fetch_add(
            u64::try_from(d.as_nanos()).unwrap_or(u64::MAX),
            Ordering::Relaxed,
        );
    }

    fn render(&self, out: &mut String, name: &str, help: &str) {
        let _ = writeln!(out, "# HELP {name} {help}");
        let _ = writeln!(out, "# TYPE {name} histogram");
        let count = self.count.load(Ordering::Relaxed);
        let mut cum = 0u64;
        for (le, c) in BUCKETS.iter().zip(&self.counts) {
            cum += c.load(Ordering::Relaxed);
            let _ = writeln!(out, "{name}_bucket{{le=\"{le}\"}} {}", cum.min(count));
        }
        let _ = writeln!(out, "{name}_bucket{{le=\"+Inf\"}} {count}");
        let sum = self.sum_nanos.load(Ordering::Relaxed) as f64 / 1e9;
        let _ = writeln!(out, "{name}_sum {sum}");
        let _ = writeln!(out, "{name}_count {count}");
    }
}

/// Which kind of connection a gauge counts.
#[derive(Debug, Clone, Copy)]
pub enum ConnKind {
    /// A client connection to the proxy listener speaking the proxy protocol (plain HTTP, or
    /// until its CONNECT is answered).
    Client,
    /// A TLS connection the proxy terminates for an intercepted host.
    Intercepted,
    /// A CONNECT tunnel to a host that is not intercepted.
    Tunnel,
}

impl ConnKind {
    fn index(self) -> usize {
        self as usize
    }
    const NAMES: [&'static str; 3] = ["client", "intercepted", "tunnel"];
}

/// Decrements its gauge when dropped.
#[derive(Debug)]
pub struct ConnGuard {
    metrics: Arc<Metrics>,
    kind: ConnKind,
}

impl Drop for ConnGuard {
    fn drop(&mut self) {
        self.metrics.open[self.kind.index()].fetch_sub(1, Ordering::Relaxed);
    }
}

type RequestKey = (&'static str, &'static str, &'static str, &'static str);

/// The proxy's metrics.
#[derive(Debug, Default)]
pub struct Metrics {
    requests: Mutex<BTreeMap<RequestKey, u64>>,
    results: Mutex<BTreeMap<&'static str, u64>>,
    findings: Mutex<BTreeMap<(String, &'static str), u64>>,
    pub scan: Histogram,
    pub upstream: Histogram,
    open: [AtomicI64; 3],
    reloads_ok: AtomicU64,
    reloads_failed: AtomicU64,
}

impl Metrics {
    pub fn new() -> Arc<Metrics> {
        Arc::new(Metrics::default())
    }

    /// Counts an open connection until the guard is dropped.
    pub fn open(self: &Arc<Self>, kind: ConnKind) -> ConnGuard {
        self.open[kind.index()].fetch_add(1, Ordering::Relaxed);
        ConnGuard {
            metrics: self.clone(),
            kind,
        }
    }

    /// Counts one request to an intercepted host (box `unscreened` when it was not screened).
    pub fn request(&self, ev: &Event) {
        let verdict = if ev.sampled {
            ev.verdict.as_str()
        } else {
            "unscreened"
        };
        let key = (ev.provider, ev.tool, verdict, ev.action.as_str());
        *lock(&self.requests).entry(key).or_insert(0) += 1;
        let result = serde_json::to_value(ev.result)
            .ok()
            .and_then(|v| v.as_str().map(result_name))
            .unwrap_or("unknown");
        *lock(&self.results).entry(result).or_insert(0) += 1;
        if ev.sampled && !ev.findings.is_empty() {
            let mut f = lock(&self.findings);
            for s in &ev.findings {
                *f.entry((s.rule.clone(), s.category.as_str())).or_insert(0) += s.count as u64;
            }
        }
    }

    pub fn reloaded(&self, ok: bool) {
        if ok {
            self.reloads_ok.fetch_add(1, Ordering::Relaxed);
        } else {
            self.reloads_failed.fetch_add(1, Ordering::Relaxed);
        }
    }

    /// Successful and failed policy reloads.
    pub fn reloads(&self) -> (u64, u64) {
        (
            self.reloads_ok.load(Ordering::Relaxed),
            self.reloads_failed.load(Ordering::Relaxed),
        )
    }

    /// The Prometheus text exposition.
    pub fn render(&self) -> String {
        let mut o = String::with_capacity(4096);
        o.push_str("# HELP promptgate_build_info The running promptgate version.\n");
        o.push_str("# TYPE promptgate_build_info gauge\n");
        let _ = writeln!(
            o,
            "promptgate_build_info{{version=\"{}\"}} 1",
            esc(env!("CARGO_PKG_VERSION"))
        );
        o.push_str("# HELP promptgate_requests_total Requests to intercepted hosts by provider, client tool, box (unscreened when not sampled) and policy action.\n");
        o.push_str("# TYPE promptgate_requests_total counter\n");
        for ((p, t, b, a), n) in lock(&self.requests).iter() {
            let _ = writeln!(
                o,
                "promptgate_requests_total{{provider=\"{}\",tool=\"{}\",box=\"{}\",action=\"{}\"}} {n}",
                esc(p),
                esc(t),
                esc(b),
                esc(a)
            );
        }
        o.push_str("# HELP promptgate_request_results_total Requests to intercepted hosts by what happened to them.\n");
        o.push_str("# TYPE promptgate_request_results_total counter\n");
        for (r, n) in lock(&self.results).iter() {
            let _ = writeln!(
                o,
                "promptgate_request_results_total{{result=\"{}\"}} {n}",
                esc(r)
            );
        }
        o.push_str("# HELP promptgate_findings_total Findings in screened requests by rule and category.\n");
        o.push_str("# TYPE promptgate_findings_total counter\n");
        for ((rule, cat), n) in lock(&self.findings).iter() {
            let _ = writeln!(
                o,
                "promptgate_findings_total{{rule=\"{}\",category=\"{}\"}} {n}",
                esc(rule),
                esc(cat)
            );
        }
        self.scan.render(
            &mut o,
            "promptgate_scan_duration_seconds",
            "Time spent screening a request body.",
        );
        self.upstream.render(
            &mut o,
            "promptgate_upstream_duration_seconds",
            "Time from sending a request upstream to its response headers.",
        );
        o.push_str("# HELP promptgate_open_connections Open connections by kind: client (proxy protocol), intercepted (TLS terminated and screened), tunnel (CONNECT to a host that is not intercepted).\n");
        o.push_str("# TYPE promptgate_open_connections gauge\n");
        for (i, name) in ConnKind::NAMES.iter().enumerate() {
            let _ = writeln!(
                o,
                "promptgate_open_connections{{kind=\"{name}\"}} {}",
                self.open[i].load(Ordering::Relaxed).max(0)
            );
        }
        let (ok, failed) = self.reloads();
        o.push_str("# HELP promptgate_policy_reloads_total Policy reloads (SIGHUP or file change) by result; a failed reload keeps the previous policy.\n");
        o.push_str("# TYPE promptgate_policy_reloads_total counter\n");
        let _ = writeln!(
            o,
            "promptgate_policy_reloads_total{{result=\"success\"}} {ok}"
        );
        let _ = writeln!(
            o,
            "promptgate_policy_reloads_total{{result=\"failure\"}} {failed}"
        );
        o
    }
}

fn result_name(s: &str) -> &'static str {
    match s {
        "forwarded" => "forwarded",
        "warned" => "warned",
        "redacted" => "redacted",
        "blocked" => "blocked",
        "refused" => "refused",
        "monitored" => "monitored",
        "unscreened" => "unscreened",
        _ => "unknown",
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

/// Escapes a label value (backslash, double quote, newline).
fn esc(s: &str) -> String {
    let mut o = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '\\' => o.push_str("\\\\"),
            '"' => o.push_str("\\\""),
            '\n' => o.push_str("\\n"),
            c => o.push(c),
        }
    }
    o
}

/// Parses `--admin`: `PORT`, `HOST:PORT` with a loopback IP, or `localhost:PORT`. Anything that
/// is not loopback is refused: the admin listener is for the local machine only.
pub fn admin_addr(s: &str) -> Result<SocketAddr, String> {
    let s = s.trim();
    if let Ok(port) = s.parse::<u16>() {
        return Ok(SocketAddr::new(IpAddr::V4(Ipv4Addr::LOCALHOST), port));
    }
    if let Some(port) = s.strip_prefix("localhost:") {
        let port = port
            .parse::<u16>()
            .map_err(|_| format!("--admin {s}: bad port"))?;
        return Ok(SocketAddr::new(IpAddr::V4(Ipv4Addr::LOCALHOST), port));
    }
    let addr: SocketAddr = s
        .parse()
        .map_err(|_| format!("--admin {s}: expected PORT, 127.0.0.1:PORT or [::1]:PORT"))?;
    if !addr.ip().is_loopback() {
        return Err(format!(
            "--admin {s}: the admin listener only binds loopback addresses (127.0.0.1, ::1)"
        ));
    }
    Ok(addr)
}

fn text(status: StatusCode, content_type: &'static str, body: String) -> Response<Full<Bytes>> {
    let mut r = Response::new(Full::new(Bytes::from(body)));
    *r.status_mut() = status;
    r.headers_mut().insert(
        header::CONTENT_TYPE,
        header::HeaderValue::from_static(content_type),
    );
    r
}

fn admin_response(metrics: &Metrics, req: &Request<Incoming>) -> Response<Full<Bytes>> {
    if req.method() != Method::GET && req.method() != Method::HEAD {
        return text(
            StatusCode::METHOD_NOT_ALLOWED,
            "text/plain; charset=utf-8",
            "method not allowed\n".into(),
        );
    }
    match req.uri().path() {
        "/metrics" => text(
            StatusCode::OK,
            "text/plain; version=0.0.4; charset=utf-8",
            metrics.render(),
        ),
        "/healthz" => text(StatusCode::OK, "text/plain; charset=utf-8", "ok\n".into()),
        _ => text(
            StatusCode::NOT_FOUND,
            "text/plain; charset=utf-8",
            "not found (try /metrics or /healthz)\n".into(),
        ),
    }
}

/// Serves the admin endpoints on `listener` until `shutdown` turns true.
pub async fn serve_admin(
    listener: TcpListener,
    metrics: Arc<Metrics>,
    mut shutdown: tokio::sync::watch::Receiver<bool>,
) {
    loop {
        tokio::select! {
            _ = shutdown.changed() => return,
            r = listener.accept() => match r {
                Ok((tcp, _)) => {
                    let metrics = metrics.clone();
                    tokio::spawn(async move {
                        let svc = service_fn(move |req| {
                            let r = admin_response(&metrics, &req);
                            async move { Ok::<_, Infallible>(r) }
                        });
                        let _ = hyper::server::conn::http1::Builder::new()
                            .serve_connection(TokioIo::new(tcp), svc)
                            .await;
                    });
                }
                Err(e) => {
                    tracing::warn!("admin accept: {e}");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn admin_addresses() {
        assert_eq!(admin_addr("9100").unwrap().to_string(), "127.0.0.1:9100");
        assert_eq!(
            admin_addr("localhost:9100").unwrap().to_string(),
            "127.0.0.1:9100"
        );
        assert!(admin_addr("[::1]:9100").is_ok());
        assert!(admin_addr("0.0.0.0:9100").is_err());
        assert!(admin_addr("10.1.2.3:9100").is_err());
        assert!(admin_addr("nonsense").is_err());
    }

    #[test]
    fn histogram_is_cumulative() {
        let h = Histogram::default();
        h.observe(Duration::from_micros(100));
        h.observe(Duration::from_millis(3));
        h.observe(Duration::from_secs(100));
        let mut s = String::new();
        h.render(&mut s, "x", "help");
        assert!(s.contains("x_bucket{le=\"0.0005\"} 1\n"), "{s}");
        assert!(s.contains("x_bucket{le=\"0.005\"} 2\n"), "{s}");
        assert!(s.contains("x_bucket{le=\"30\"} 2\n"), "{s}");
        assert!(s.contains("x_bucket{le=\"+Inf\"} 3\n"), "{s}");
        assert!(s.contains("x_count 3\n"), "{s}");
    }
}
