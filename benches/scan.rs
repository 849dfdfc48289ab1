//! Engine throughput: corpus text, clean code, English prose, secret-dense text, logs and numeric
//! CSV; a 4 KB prompt; compile.
//!
//! `cargo bench --bench scan`. Figures go in the issue notes; no test asserts on time.

use criterion::{black_box, criterion_group, criterion_main, Criterion, Throughput};
use promptgate::{Engine, Policy};
use std::time::Duration;

#[path = "support/textgen.rs"]
mod textgen;

const SIZE: usize = 1 << 20;

/// The labelled corpus' texts concatenated, if `../shared/corpus` is beside the checkout.
fn corpus_text() -> Option<String> {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../shared/corpus/visible.jsonl"
    );
    let raw = std::fs::read_to_string(path).ok()?;
    let mut out = String::new();
    for line in raw.lines() {
        let v: serde_json::Value = serde_json::from_str(line).ok()?;
        out.push_str(v["text"].as_str()?);
        out.push('\n');
    }
    Some(out)
}

fn throughput(c: &mut Criterion) {
    let engine = Engine::with_default_policy();
    let mut inputs = vec![
        ("prose", textgen::prose(SIZE, 1)),
        ("clean_code", textgen::clean_code(SIZE, 2)),
        ("secret_dense", textgen::secret_dense(SIZE, 3, 4)),
        ("secret_saturated", textgen::secret_dense(SIZE, 3, 1)),
        ("logs", textgen::logs(SIZE, 4)),
        ("numeric_csv", textgen::numeric_csv(SIZE, 5)),
    ];
    if let Some(t) = corpus_text() {
        inputs.push(("corpus", t));
    }
    let mut g = c.benchmark_group("scan");
    g.measurement_time(Duration::from_secs(4)).sample_size(20);
    for (name, text) in &inputs {
        g.throughput(Throughput::Bytes(text.len() as u64));
        g.bench_function(*name, |b| {
            b.iter(|| black_box(engine.scan(black_box(text))))
        });
    }
    g.finish();
}

fn prompt_4k(c: &mut Criterion) {
    let engine = Engine::with_default_policy();
    let mut g = c.benchmark_group("prompt_4k");
    g.measurement_time(Duration::from_secs(3));
    let code = textgen::clean_code(4096, 9);
    let prose = textgen::prose(4096, 10);
    let mixed = format!(
        "{}\nexport OPENAI_API_KEY=sk-proj-{}T3BlbkFJ{}\n",
        &prose[..3000],
        textgen::Rng::new(5).alnum(40),
        textgen::Rng::new(6).alnum(40)
    );
    for (name, text) in [("code", &code), ("prose", &prose), ("with_secret", &mixed)] {
        g.throughput(Throughput::Bytes(text.len() as u64));
        g.bench_function(name, |b| b.iter(|| black_box(engine.scan(black_box(text)))));
    }
    g.finish();
}

fn compile(c: &mut Criterion) {
    let policy = Policy::from_yaml(
        "bench",
        "internal:\n  domains: [corp.example.net]\n  codenames: [\"Project Bluefin\", NIGHTJAR]\n",
    )
    .unwrap();
    let mut g = c.benchmark_group("engine");
    g.sample_size(20);
    g.bench_function("compile", |b| {
        b.iter(|| black_box(Engine::new(policy.clone()).unwrap()))
    });
    g.finish();
}

criterion_group!(benches, throughput, prompt_4k, compile);
criterion_main!(benches);
