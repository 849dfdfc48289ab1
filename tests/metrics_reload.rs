//! Policy reload without restart: on file change and on SIGHUP; an invalid policy is logged and the
//! previous one stays in force; reloads are counted in /metrics.

mod proxy_support;

use promptgate::types::Action;
use promptgate::Policy;
use proxy_support::*;
use std::io::{BufRead, BufReader, Read, Write};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const H1: &[&[u8]] = &[b"http/1.1"];

fn write(path: &Path, text: &str) {
    // Write then rename, as editors and config management do.
    let tmp = path.with_extension("tmp");
    std::fs::write(&tmp, text).unwrap();
    std::fs::rename(&tmp, path).unwrap();
}

fn reloads(metrics: &str, result: &str) -> u64 {
    metrics
        .lines()
        .find_map(|l| {
            l.strip_prefix(&format!(
                "promptgate_policy_reloads_total{{result=\"{result}\"}} "
            ))
        })
        .unwrap()
        .parse()
        .unwrap()
}

async fn wait_until(what: &str, mut f: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(10);
    while !f() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn file_changes_reload_and_invalid_policies_keep_the_old_one() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("policy.yaml");
    write(&path, "actions:\n  never: redact\n");
    let p = Policy::load(&path).unwrap();
    let h = harness_with(p, H1, |c| {
        c.policy_path = Some(path.clone());
        c.reload_poll = Duration::from_millis(100);
    })
    .await;
    let mut c = h.client("api.openai.com", H1).await;
    let leaky = chat_body(&leaky_prompt());
    let (status, _, _) = c.post_json("/v1/chat/completions", leaky.clone()).await;
    assert_eq!(status, 200, "redacted and forwarded");

    // A valid change goes into force.
    write(&path, "actions:\n  never: block\n");
    wait_until("the new policy and its count", || {
        h.proxy.policy().never_action == Action::Block
            && reloads(&h.proxy.metrics(), "success") == 1
    })
    .await;
    assert_eq!(reloads(&h.proxy.metrics(), "success"), 1);
    let (status, _, _) = c.post_json("/v1/chat/completions", leaky.clone()).await;
    assert_eq!(status, 400, "blocked by the reloaded policy");

    // Invalid: bad value, unknown key, broken YAML, unknown rule. Each is counted as a failure
    // and the blocking policy stays.
    for (i, bad) in [
        "actions:\n  never: explode\n",
        "actions:\n  never: redact\nbogus_key: 1\n",
        "actions: [never: redact\n",
        "actions:\n  never: redact\nrules:\n  no_such_rule: { enabled: false }\n",
    ]
    .iter()
    .enumerate()
    {
        write(&path, bad);
        wait_until("the failed reload", || {
            reloads(&h.proxy.metrics(), "failure") == i as u64 + 1
        })
        .await;
        assert_eq!(h.proxy.policy().never_action, Action::Block, "{bad}");
        let (status, _, _) = c.post_json("/v1/chat/completions", leaky.clone()).await;
        assert_eq!(
            status, 400,
            "the old policy is still in force after {bad:?}"
        );
    }
    assert_eq!(reloads(&h.proxy.metrics(), "success"), 1);

    // An explicit reload of the invalid file says why and keeps the policy.
    let err = h.proxy.reload().unwrap_err();
    assert!(err.contains("no_such_rule"), "{err}");
    assert_eq!(h.proxy.policy().never_action, Action::Block);

    // A deleted file keeps the policy too.
    std::fs::remove_file(&path).unwrap();
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(h.proxy.policy().never_action, Action::Block);

    // Fixed: monitor mode now forwards the prompt unchanged.
    write(&path, "mode: monitor\n");
    wait_until("the fixed policy", || {
        h.proxy.policy().mode == promptgate::policy::Mode::Monitor
    })
    .await;
    let (status, _, _) = c.post_json("/v1/chat/completions", leaky.clone()).await;
    assert_eq!(status, 200);
    assert_eq!(h.mock.seen().last().unwrap().body[..], leaky[..]);
    h.proxy.stop().await;
}

/// Reads the child's stderr lines into a channel.
fn lines(child: &mut std::process::Child) -> std::sync::mpsc::Receiver<String> {
    let stderr = child.stderr.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            if tx.send(line).is_err() {
                return;
            }
        }
    });
    rx
}

fn wait_line(rx: &std::sync::mpsc::Receiver<String>, all: &mut Vec<String>, pat: &str) -> String {
    let deadline = Instant::now() + Duration::from_secs(20);
    while Instant::now() < deadline {
        if let Ok(l) = rx.recv_timeout(Duration::from_millis(100)) {
            all.push(l.clone());
            if l.contains(pat) {
                return l;
            }
        }
    }
    panic!("no line with {pat:?} in:\n{}", all.join("\n"));
}

fn http_get(addr: &str, path: &str) -> String {
    let mut tcp = std::net::TcpStream::connect(addr).unwrap();
    write!(
        tcp,
        "GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut s = String::new();
    tcp.read_to_string(&mut s).unwrap();
    s
}

#[cfg(unix)]
#[test]
fn sighup_reloads_the_running_binary() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("policy.yaml");
    std::fs::write(&path, "actions:\n  never: redact\n").unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_promptgate"))
        .args(["run", "--listen", "127.0.0.1:0", "--admin", "127.0.0.1:0"])
        .arg("--ca-dir")
        .arg(dir.path().join("ca"))
        .arg("--policy")
        .arg(&path)
        .env("RUST_LOG", "info")
        .stderr(Stdio::piped())
        .stdout(Stdio::null())
        .spawn()
        .unwrap();
    let rx = lines(&mut child);
    let mut all = Vec::new();
    let admin = wait_line(&rx, &mut all, "admin listening on http://");
    let admin = admin
        .split("http://")
        .nth(1)
        .unwrap()
        .split_whitespace()
        .next()
        .unwrap()
        .to_string();
    wait_line(&rx, &mut all, "promptgate listening on");
    let pid = child.id().to_string();
    let hup = || {
        assert!(Command::new("kill")
            .args(["-HUP", &pid])
            .status()
            .unwrap()
            .success());
    };

    // SIGHUP with a valid file: reloaded, still running.
    hup();
    let l = wait_line(&rx, &mut all, "reloaded the policy");
    assert!(l.contains("SIGHUP"), "{l}");

    // An invalid file: logged with the reason, the old policy kept, the process alive.
    std::fs::write(&path, "actions:\n  never: sometimes\n").unwrap();
    hup();
    let l = wait_line(&rx, &mut all, "keeping the previous policy");
    assert!(l.contains("sometimes") || l.contains("never"), "{l}");
    assert!(child.try_wait().unwrap().is_none(), "the proxy exited");
    let health = http_get(&admin, "/healthz");
    assert!(health.starts_with("HTTP/1.1 200"), "{health}");
    let metrics = http_get(&admin, "/metrics");
    assert!(reloads(&metrics, "failure") >= 1, "{metrics}");
    assert!(reloads(&metrics, "success") >= 1, "{metrics}");

    let _ = child.kill();
    let _ = child.wait();
}
