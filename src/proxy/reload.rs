//! Policy reload without restart: on SIGHUP and when the policy file changes (its modification
//! time or size, polled about once a second). A policy that does not load (bad YAML, unknown key,
//! bad value, engine error) is logged and the previous one stays in force.

use super::metrics::Metrics;
use crate::engine::Engine;
use crate::policy::Policy;
use std::path::{Path, PathBuf};
use std::sync::{Arc, RwLock};
use std::time::{Duration, SystemTime};

/// The engine in force, swapped whole on reload. Requests take an `Arc` at their start and keep it
/// to the end, so a reload never changes a request half way.
pub struct EngineCell(RwLock<Arc<Engine>>);

impl EngineCell {
    pub fn new(engine: Engine) -> EngineCell {
        EngineCell(RwLock::new(Arc::new(engine)))
    }

    pub fn load(&self) -> Arc<Engine> {
        self.0.read().unwrap_or_else(|p| p.into_inner()).clone()
    }

    pub fn store(&self, engine: Engine) {
        let old = {
            let mut cell = self.0.write().unwrap_or_else(|p| p.into_inner());
            std::mem::replace(&mut *cell, Arc::new(engine))
        };
        // The old engine (when no request holds it) is freed outside the lock.
        drop(old);
    }
}

/// Reloads policies from one file.
pub struct Reloader {
    pub path: PathBuf,
    pub cell: Arc<EngineCell>,
    pub metrics: Arc<Metrics>,
    /// Called with a new policy before it goes into force (warnings only).
    pub check: Box<dyn Fn(&Policy) + Send + Sync>,
}

impl Reloader {
    /// Loads the file and, when it is valid, puts it in force. `why` is for the log.
    pub fn reload(&self, why: &str) -> Result<(), String> {
        let result = Policy::load(&self.path)
            .map_err(|e| e.to_string())
            .and_then(|p| {
                (self.check)(&p);
                Engine::new(p).map_err(|e| e.to_string())
            });
        match result {
            Ok(engine) => {
                // Counted first: whoever sees the new policy also sees the count.
                self.metrics.reloaded(true);
                self.cell.store(engine);
                tracing::info!("reloaded the policy from {} ({why})", self.path.display());
                Ok(())
            }
            Err(e) => {
                self.metrics.reloaded(false);
                tracing::error!("policy reload ({why}) failed, keeping the previous policy: {e}");
                Err(e)
            }
        }
    }
}

/// What identifies a version of the file.
fn stamp(path: &Path) -> Option<(SystemTime, u64)> {
    let m = std::fs::metadata(path).ok()?;
    Some((m.modified().ok()?, m.len()))
}

/// Watches for SIGHUP (Unix) and file changes until `shutdown` turns true. The SIGHUP handler is
/// installed before this returns, so a signal sent afterwards is never lost.
pub fn watch(
    reloader: Arc<Reloader>,
    poll: Duration,
    mut shutdown: tokio::sync::watch::Receiver<bool>,
) -> tokio::task::JoinHandle<()> {
    #[cfg(unix)]
    let mut hup = match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::hangup()) {
        Ok(s) => Some(s),
        Err(e) => {
            tracing::warn!("cannot listen for SIGHUP ({e}); the policy is still reloaded when its file changes");
            None
        }
    };
    let mut last = stamp(&reloader.path);
    tokio::spawn(async move {
        let mut missing_logged = false;
        loop {
            #[cfg(unix)]
            let hup_recv = async {
                match hup.as_mut() {
                    Some(h) => h.recv().await,
                    None => std::future::pending().await,
                }
            };
            #[cfg(not(unix))]
            let hup_recv = std::future::pending::<Option<()>>();
            tokio::select! {
                _ = shutdown.changed() => return,
                _ = hup_recv => {
                    last = stamp(&reloader.path);
                    let r = reloader.clone();
                    let _ = tokio::task::spawn_blocking(move || r.reload("SIGHUP")).await;
                }
                _ = tokio::time::sleep(poll) => {
                    let now = stamp(&reloader.path);
                    match now {
                        None => {
                            if !missing_logged {
                                tracing::warn!(
                                    "the policy file {} cannot be read; keeping the current policy",
                                    reloader.path.display()
                                );
                                missing_logged = true;
                            }
                        }
                        Some(s) if Some(s) != last => {
                            missing_logged = false;
                            last = now;
                            let r = reloader.clone();
                            let _ = tokio::task::spawn_blocking(move || r.reload("file changed")).await;
                        }
                        Some(_) => {}
                    }
                }
            }
        }
    })
}
