//! Redaction: each finding becomes a typed, numbered placeholder such as `[SECRET_1]`. The same value
//! gets the same placeholder within a prompt; the placeholder says nothing of the value. The mapping is
//! returned (in memory only) so that a later stage can restore values in responses.

use crate::engine::Finding;
use crate::types::Category;
use std::collections::HashMap;

/// One placeholder and what it stands for.
#[derive(Clone)]
pub struct Replacement {
    pub placeholder: String,
    pub rule: &'static str,
    pub category: Category,
    /// The original value. Held only in memory; never logged (Debug hides it).
    pub value: String,
}

impl std::fmt::Debug for Replacement {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Replacement")
            .field("placeholder", &self.placeholder)
            .field("rule", &self.rule)
            .field("category", &self.category)
            .field("value", &"<hidden>")
            .finish()
    }
}

#[derive(Debug, Clone, Default)]
pub struct Redacted {
    pub text: String,
    pub replacements: Vec<Replacement>,
}

impl Redacted {
    /// Puts the original values back into a text that carries placeholders (e.g. a response).
    pub fn restore(&self, text: &str) -> String {
        let mut out = text.to_string();
        for r in &self.replacements {
            out = out.replace(&r.placeholder, &r.value);
        }
        out
    }
}

/// The spans to replace for one finding: a dotenv block is redacted value by value (names stay, so the
/// developer's question still makes sense); everything else as a whole.
fn spans(text: &str, f: &Finding) -> Vec<(usize, usize)> {
    if f.category == Category::Dotenv {
        crate::engine::dotenv_values(text.as_bytes(), f.start, f.end)
    } else {
        vec![(f.start, f.end)]
    }
}

/// Replaces every finding in `text` with its placeholder.
pub fn redact(text: &str, findings: &[Finding]) -> Redacted {
    let mut parts: Vec<(usize, usize, &Finding)> = findings
        .iter()
        .flat_map(|f| spans(text, f).into_iter().map(move |(s, e)| (s, e, f)))
        .map(|(mut s, mut e, f)| {
            while s > 0 && !text.is_char_boundary(s) {
                s -= 1;
            }
            while e < text.len() && !text.is_char_boundary(e) {
                e += 1;
            }
            (s, e.min(text.len()), f)
        })
        .filter(|(s, e, _)| s < e)
        .collect();
    // Earliest first, longest first: an enclosing span swallows the ones inside it.
    parts.sort_by(|a, b| a.0.cmp(&b.0).then(b.1.cmp(&a.1)));

    let mut out = String::with_capacity(text.len());
    let mut by_value: HashMap<(&str, Category), usize> = HashMap::new();
    let mut counters: HashMap<&'static str, usize> = HashMap::new();
    let mut replacements: Vec<Replacement> = Vec::new();
    let mut pos = 0;
    for (s, e, f) in parts {
        if s < pos {
            if e > pos {
                // Partial overlap: extend the previous placeholder's reach by dropping the tail.
                pos = e;
            }
            continue;
        }
        out.push_str(&text[pos..s]);
        let value = &text[s..e];
        let idx = *by_value.entry((value, f.category)).or_insert_with(|| {
            let tag = f.category.placeholder_tag();
            let n = counters.entry(tag).or_insert(0);
            *n += 1;
            replacements.push(Replacement {
                placeholder: format!("[{tag}_{n}]"),
                rule: f.rule,
                category: f.category,
                value: value.to_string(),
            });
            replacements.len() - 1
        });
        out.push_str(&replacements[idx].placeholder);
        pos = e;
    }
    out.push_str(&text[pos..]);
    Redacted {
        text: out,
        replacements,
    }
}
