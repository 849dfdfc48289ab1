//! Handing freed memory back to the operating system.
//!
//! glibc's malloc keeps freed pages in its arenas. After 1,000 intercepted connections had each sent
//! one request, the proxy's RSS stayed at ~74 MB although ~4 MB was live (benches/proxy_load.rs; a
//! `malloc_trim(0)` from a debugger brought it to ~16 MB). A gateway with bursts of connections should
//! not keep its peak forever, so a background task trims every few seconds. Elsewhere (musl, macOS)
//! this is a no-op.

use std::time::Duration;
use tokio::sync::watch;

/// How often freed memory is returned.
const PERIOD: Duration = Duration::from_secs(5);

/// Spawns the trimming task; it ends when `stop` changes.
pub fn spawn_trimmer(mut stop: watch::Receiver<bool>) {
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(PERIOD);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                _ = stop.changed() => break,
                _ = tick.tick() => trim(),
            }
        }
    });
}

#[cfg(all(target_os = "linux", target_env = "gnu"))]
fn trim() {
    // SAFETY: malloc_trim only walks glibc's own allocator state under its locks; it takes no
    // pointers from us and is safe to call from any thread at any time.
    unsafe {
        libc::malloc_trim(0);
    }
}

#[cfg(not(all(target_os = "linux", target_env = "gnu")))]
fn trim() {}
