//! The audit log: JSON Lines, one event per intercepted request. Events carry rules, boxes, counts
//! and keyed fingerprints, never a detected value or any prompt text (the path is logged without its
//! query string, which may carry an API key).

use super::screen::{Disposition, FindingSummary};
use crate::types::{Action, Verdict};
use serde::Serialize;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

/// One audit event.
#[derive(Debug, Clone, Serialize)]
pub struct Event {
    pub time: String,
    /// A per-process request counter (the sampling decision is a keyed hash of it).
    pub request_id: u64,
    pub client: String,
    /// The proxy user: the username of the client's `Proxy-Authorization: Basic` header when it
    /// sends one (not verified: the listener has no authentication), else `--user`.
    pub user: String,
    /// The user's team from the policy's `teams` map (null when unmapped).
    pub team: Option<String>,
    pub host: String,
    pub method: String,
    pub path: String,
    pub provider: &'static str,
    pub tool: &'static str,
    #[serde(rename = "box")]
    pub verdict: Verdict,
    pub action: Action,
    pub result: Disposition,
    pub monitor: bool,
    /// Screened as part of the sample. Unsampled requests are not audited, except those refused
    /// or passed before they could be screened (oversize, WebSocket), which are always audited
    /// with `sampled: false`; a report counts a sampled event as 1/sample_rate interactions.
    pub sampled: bool,
    /// The policy's sample_rate when the request arrived.
    pub sample_rate: f64,
    pub findings: Vec<FindingSummary>,
    /// Request body bytes as received.
    pub bytes: u64,
    /// Body bytes sent upstream (differs when rewritten).
    pub bytes_forwarded: u64,
    pub scan_ms: f64,
    pub upstream_status: Option<u16>,
    /// Response body bytes streamed back.
    pub response_bytes: u64,
    /// From receipt of the request to the end of the response.
    pub total_ms: f64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

/// Strips the query string (it may hold credentials such as `?key=`).
pub fn path_without_query(path: &str) -> String {
    path.split('?').next().unwrap_or("").to_string()
}

/// Now, RFC 3339 UTC with milliseconds.
pub fn now() -> String {
    let t = time::OffsetDateTime::now_utc();
    let t = t
        .replace_nanosecond(t.millisecond() as u32 * 1_000_000)
        .unwrap_or(t);
    t.format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_default()
}

/// The audit log file.
#[derive(Debug)]
pub struct Audit {
    pub path: PathBuf,
    file: Mutex<std::fs::File>,
}

impl Audit {
    /// Opens (appending, creating owner-only) the audit log.
    pub fn open(path: &Path) -> std::io::Result<Audit> {
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir)?;
        }
        let mut opts = std::fs::OpenOptions::new();
        opts.create(true).append(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt;
            opts.mode(0o600);
        }
        Ok(Audit {
            path: path.to_path_buf(),
            file: Mutex::new(opts.open(path)?),
        })
    }

    /// Appends one event as a line.
    pub fn write(&self, event: &Event) {
        let mut line = match serde_json::to_vec(event) {
            Ok(l) => l,
            Err(e) => {
                tracing::error!("audit event not serialisable: {e}");
                return;
            }
        };
        line.push(b'\n');
        let mut f = self.file.lock().unwrap_or_else(|p| p.into_inner());
        if let Err(e) = f.write_all(&line) {
            tracing::error!("writing the audit log {}: {e}", self.path.display());
        }
    }
}
