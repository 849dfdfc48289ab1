//! The small vocabulary shared by the engine, the policy and the proxy.

use serde::{Deserialize, Serialize};
use std::fmt;

/// What kind of sensitive content a finding is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Category {
    Secret,
    PrivateKey,
    Dotenv,
    Pii,
    Internal,
}

impl Category {
    pub const ALL: [Category; 5] = [
        Category::Secret,
        Category::PrivateKey,
        Category::Dotenv,
        Category::Pii,
        Category::Internal,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Category::Secret => "secret",
            Category::PrivateKey => "private_key",
            Category::Dotenv => "dotenv",
            Category::Pii => "pii",
            Category::Internal => "internal",
        }
    }

    /// The box a category falls in when the policy does not say otherwise.
    pub fn default_box(self) -> Verdict {
        match self {
            Category::Internal => Verdict::Caution,
            _ => Verdict::Never,
        }
    }

    /// Redaction placeholders name the category, never the value.
    pub fn placeholder_tag(self) -> &'static str {
        match self {
            Category::Secret => "SECRET",
            Category::PrivateKey => "PRIVATE_KEY",
            Category::Dotenv => "ENV_VALUE",
            Category::Pii => "PII",
            Category::Internal => "INTERNAL",
        }
    }
}

impl fmt::Display for Category {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The three boxes: safe, caution (internal names), never (credentials, keys, personal data).
/// Ordered so that `max` gives the worst.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    Safe,
    Caution,
    Never,
}

impl Verdict {
    pub fn as_str(self) -> &'static str {
        match self {
            Verdict::Safe => "safe",
            Verdict::Caution => "caution",
            Verdict::Never => "never",
        }
    }
}

impl fmt::Display for Verdict {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What to do with a prompt (or a finding) of a given box. Ordered by severity.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Action {
    Allow,
    Warn,
    Redact,
    Block,
}

impl Action {
    pub fn as_str(self) -> &'static str {
        match self {
            Action::Allow => "allow",
            Action::Warn => "warn",
            Action::Redact => "redact",
            Action::Block => "block",
        }
    }
}

impl fmt::Display for Action {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}
