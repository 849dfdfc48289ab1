//! `promptgate scan`: the offline scanner.

use crate::output::{self, ScanResult};
use crate::{Engine, Verdict};
use std::io::{Read, Write};
use std::path::{Path, PathBuf};

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    Text,
    Json,
    Sarif,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum FailOn {
    Caution,
    Never,
}

/// Expands the command line's paths into inputs: `-` is stdin, a directory is walked recursively.
fn inputs(paths: &[PathBuf], errors: &mut Vec<String>) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for p in paths {
        if p.as_os_str() == "-" {
            out.push(p.clone());
        } else if p.is_dir() {
            walk(p, &mut out, errors);
        } else {
            out.push(p.clone());
        }
    }
    out
}

fn walk(dir: &Path, out: &mut Vec<PathBuf>, errors: &mut Vec<String>) {
    let mut entries: Vec<PathBuf> = match std::fs::read_dir(dir) {
        Ok(rd) => rd.filter_map(|e| e.ok().map(|e| e.path())).collect(),
        Err(e) => {
            errors.push(format!("{}: {e}", dir.display()));
            return;
        }
    };
    entries.sort();
    for p in entries {
        let name = p
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        // Like ripgrep: symbolic links to directories are not followed (no loops), links to files are.
        let Ok(meta) = std::fs::symlink_metadata(&p) else {
            continue;
        };
        if meta.is_dir() {
            if name != ".git" {
                walk(&p, out, errors);
            }
        } else if meta.is_file() || (meta.file_type().is_symlink() && p.is_file()) {
            out.push(p);
        }
    }
}

fn is_binary(bytes: &[u8]) -> bool {
    memchr::memchr(0, &bytes[..bytes.len().min(8192)]).is_some()
}

/// Runs the scan; returns the process exit code.
pub fn run(engine: &Engine, paths: &[PathBuf], format: Format, fail_on: FailOn) -> i32 {
    let mut errors = Vec::new();
    let stdin_only = vec![PathBuf::from("-")];
    let paths = if paths.is_empty() { &stdin_only } else { paths };
    let explicit: Vec<&PathBuf> = paths.iter().filter(|p| !p.is_dir()).collect();
    let list = inputs(paths, &mut errors);
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::new(stdout.lock());
    let mut results = Vec::new();
    let mut worst = Verdict::Safe;
    for p in list {
        let (name, bytes) = if p.as_os_str() == "-" {
            let mut buf = Vec::new();
            if let Err(e) = std::io::stdin().read_to_end(&mut buf) {
                errors.push(format!("<stdin>: {e}"));
                continue;
            }
            ("-".to_string(), buf)
        } else {
            match std::fs::read(&p) {
                Ok(b) => (p.display().to_string(), b),
                Err(e) => {
                    errors.push(format!("{}: {e}", p.display()));
                    continue;
                }
            }
        };
        // Binary files found while walking a directory are skipped; a file named explicitly is scanned.
        if is_binary(&bytes) && !explicit.contains(&&p) {
            continue;
        }
        let findings = engine.scan_bytes(&bytes);
        let verdict = Engine::verdict(&findings);
        worst = worst.max(verdict);
        let r = ScanResult {
            path: name,
            bytes,
            findings,
            verdict,
        };
        let w = match format {
            Format::Json => writeln!(out, "{}", output::json_line(&r)),
            Format::Text => write!(out, "{}", output::text_lines(&r)),
            Format::Sarif => Ok(()),
        };
        if w.is_err() {
            return 2;
        }
        // SARIF is written at the end and needs the bytes for its columns; the others are done.
        results.push(ScanResult {
            bytes: if format == Format::Sarif {
                r.bytes
            } else {
                Vec::new()
            },
            ..r
        });
    }
    let _ = match format {
        Format::Sarif => writeln!(out, "{}", output::sarif(&results)),
        Format::Text => write!(out, "{}", output::text_summary(&results)),
        Format::Json => Ok(()),
    };
    let _ = out.flush();
    for e in &errors {
        eprintln!("promptgate: error: {e}");
    }
    if !errors.is_empty() {
        return 2;
    }
    let threshold = match fail_on {
        FailOn::Caution => Verdict::Caution,
        FailOn::Never => Verdict::Never,
    };
    i32::from(worst >= threshold)
}
