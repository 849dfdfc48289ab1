//! The `run`, `ca` and `env` subcommands of the binary.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

fn bin() -> Command {
    Command::new(env!("CARGO_BIN_EXE_promptgate"))
}

#[test]
fn ca_init_show_path() {
    let dir = tempfile::tempdir().unwrap();
    let ca = dir.path().join("certs");
    let out = bin()
        .args(["ca", "path", "--ca-dir"])
        .arg(&ca)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1), "no CA yet");
    let out = bin()
        .args(["ca", "init", "--ca-dir"])
        .arg(&ca)
        .output()
        .unwrap();
    assert!(out.status.success());
    assert!(String::from_utf8_lossy(&out.stdout).contains("api.openai.com"));
    let out = bin()
        .args(["ca", "path", "--ca-dir"])
        .arg(&ca)
        .output()
        .unwrap();
    assert!(out.status.success());
    let path = String::from_utf8(out.stdout).unwrap();
    assert!(path.trim().ends_with("promptgate-ca.pem"), "{path}");
    let out = bin()
        .args(["ca", "show", "--ca-dir"])
        .arg(&ca)
        .output()
        .unwrap();
    let show = String::from_utf8(out.stdout).unwrap();
    assert!(show.contains("permitted:"), "{show}");
    assert!(show.contains("-----BEGIN CERTIFICATE-----"), "{show}");
    assert!(!show.contains("PRIVATE KEY"), "{show}");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let m = std::fs::metadata(ca.join("promptgate-ca.key")).unwrap();
        assert_eq!(m.permissions().mode() & 0o777, 0o600);
    }
}

#[test]
fn env_prints_exports_and_writes_the_bundle() {
    let dir = tempfile::tempdir().unwrap();
    let ca = dir.path().join("certs");
    let out = bin()
        .args(["env", "--listen", "127.0.0.1:9911", "--ca-dir"])
        .arg(&ca)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8(out.stdout).unwrap();
    let get = |name: &str| {
        text.lines()
            .find_map(|l| l.strip_prefix(&format!("export {name}=")))
            .unwrap_or_else(|| panic!("no {name} in {text}"))
            .to_string()
    };
    assert_eq!(get("HTTPS_PROXY"), "http://127.0.0.1:9911");
    assert_eq!(get("HTTP_PROXY"), "http://127.0.0.1:9911");
    assert!(get("NO_PROXY").contains("localhost"));
    assert!(get("NODE_EXTRA_CA_CERTS").ends_with("promptgate-ca.pem"));
    let bundle = get("SSL_CERT_FILE");
    assert_eq!(get("REQUESTS_CA_BUNDLE"), bundle);
    assert_eq!(get("CURL_CA_BUNDLE"), bundle);
    let pem = std::fs::read_to_string(&bundle).unwrap();
    let ca_pem = std::fs::read_to_string(ca.join("promptgate-ca.pem")).unwrap();
    assert!(pem.contains(ca_pem.trim()));
    assert!(
        pem.matches("BEGIN CERTIFICATE").count() > 10,
        "system roots included"
    );
}

#[test]
fn run_logs_address_and_ca_path_when_ready() {
    let dir = tempfile::tempdir().unwrap();
    let ca = dir.path().join("certs");
    let mut child = bin()
        .args(["run", "--listen", "127.0.0.1:0", "--ca-dir"])
        .arg(&ca)
        .env("RUST_LOG", "info")
        .stderr(Stdio::piped())
        .stdout(Stdio::null())
        .spawn()
        .unwrap();
    let stderr = child.stderr.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            if tx.send(line).is_err() {
                return;
            }
        }
    });
    let deadline = Instant::now() + Duration::from_secs(30);
    let mut ready = None;
    while Instant::now() < deadline {
        match rx.recv_timeout(Duration::from_millis(200)) {
            Ok(l) if l.contains("listening on") => {
                ready = Some(l);
                break;
            }
            _ => {}
        }
    }
    let _ = child.kill();
    let _ = child.wait();
    let line = ready.expect("no ready line");
    assert!(line.contains("http://127.0.0.1:"), "{line}");
    assert!(line.contains("promptgate-ca.pem"), "{line}");
    assert!(
        ca.join("promptgate-ca.pem").exists(),
        "CA created on first start"
    );
}
