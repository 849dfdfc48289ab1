//! The rule catalogue: data embedded in the binary (`src/rules.yaml`), parsed once per engine build.

use crate::types::Category;
use serde::Deserialize;
use std::sync::OnceLock;

/// The catalogue's source text, embedded at build time.
pub const RULES_YAML: &str = include_str!("../rules.yaml");

/// One rule as written in the catalogue.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RuleSpec {
    pub id: String,
    pub category: Category,
    #[serde(default)]
    pub builtin: bool,
    #[serde(default)]
    pub keywords: Vec<String>,
    #[serde(default)]
    pub pattern: Option<String>,
    /// More patterns of the same rule, each with its own keywords: a rule whose forms share no
    /// keyword (`Bearer x`, `Authorization: Basic x`) as one alternation runs the whole pattern
    /// from every keyword's hit, where each part alone may take a walk (see `token`).
    #[serde(default)]
    pub also: Vec<AlsoSpec>,
    #[serde(default)]
    pub entropy: Option<f64>,
    #[serde(default)]
    pub validate: Option<Validator>,
    #[serde(default)]
    pub priority: Option<i32>,
    /// How many lines after the keyword's the match may run onto (a command, then its output; a
    /// call with one argument per line).
    #[serde(default)]
    pub more_lines: u8,
    pub why: String,
    pub fix: String,
    #[serde(default)]
    pub examples: Vec<String>,
    #[serde(default)]
    pub negatives: Vec<String>,
}

impl RuleSpec {
    /// The keywords of all the rule's patterns.
    pub fn all_keywords(&self) -> impl Iterator<Item = &str> {
        self.keywords
            .iter()
            .chain(self.also.iter().flat_map(|x| &x.keywords))
            .map(String::as_str)
    }
}

/// One more pattern of a rule (see [`RuleSpec::also`]); the rule's checks apply to its matches.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AlsoSpec {
    pub keywords: Vec<String>,
    pub pattern: String,
}

/// Named post-match checks a rule may ask for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Validator {
    Jwt,
    NotPlaceholderPassword,
    Bearer,
    /// Base64 of `user:password` (a registry's `auth`).
    BasicAuth,
    /// Base64 of a PEM private key (`-----BEGIN ... PRIVATE KEY-----`).
    Base64PrivateKey,
}

/// The parsed catalogue (parsed once per process; it is static data).
pub fn catalogue() -> &'static [RuleSpec] {
    static CAT: OnceLock<Vec<RuleSpec>> = OnceLock::new();
    CAT.get_or_init(|| {
        serde_yaml::from_str(RULES_YAML).expect("embedded rules.yaml is valid (checked by tests)")
    })
}

/// Looks up a rule's text by id.
pub fn rule_spec(id: &str) -> Option<&'static RuleSpec> {
    catalogue().iter().find(|r| r.id == id)
}

/// Whether `id` names a rule of the catalogue.
pub fn is_rule_id(id: &str) -> bool {
    rule_spec(id).is_some()
}
