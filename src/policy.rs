//! Policy: which box each category falls in, what each box does, allowlists, internal names, and the
//! proxy's intercept list. `policies/default.yaml` is embedded; a file given with `--policy` may hold
//! only some keys, the rest come from the default.

use crate::engine::catalogue::is_rule_id;
use crate::types::{Action, Category, Verdict};
use serde::{Deserialize, Deserializer};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// The embedded default policy.
pub const DEFAULT_POLICY_YAML: &str = include_str!("../policies/default.yaml");

#[derive(Debug, thiserror::Error)]
pub enum PolicyError {
    #[error("cannot read policy {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    /// serde_yaml's message names the line and column.
    #[error("invalid policy {path}: {message}")]
    Invalid { path: String, message: String },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Mode {
    Enforce,
    Monitor,
}

/// A policy file as written: every key optional, unknown keys rejected.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct PolicyFile {
    mode: Option<Mode>,
    sample_rate: Option<Fraction>,
    fail_open: Option<bool>,
    categories: Option<BTreeMap<Category, CategoryFile>>,
    actions: Option<ActionsFile>,
    rules: Option<BTreeMap<RuleName, RuleFile>>,
    allowlist: Option<Vec<AllowFile>>,
    internal: Option<InternalFile>,
    intercept: Option<InterceptFile>,
    limits: Option<LimitsFile>,
    teams: Option<BTreeMap<String, String>>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct CategoryFile {
    #[serde(rename = "box")]
    verdict: Option<Verdict>,
    action: Option<Action>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct ActionsFile {
    never: Option<Action>,
    caution: Option<Action>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RuleFile {
    enabled: Option<bool>,
    #[serde(rename = "box")]
    verdict: Option<Verdict>,
    action: Option<Action>,
}

/// `- literal: ...`, `- regex: ...` or `- fingerprint: sha256:...`: exactly one key.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct AllowFile {
    literal: Option<String>,
    regex: Option<RegexPattern>,
    fingerprint: Option<FingerprintHex>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct InternalFile {
    domains: Option<Vec<Domain>>,
    codenames: Option<Vec<Codename>>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct InterceptFile {
    hosts: Option<Vec<HostPattern>>,
    allow_websocket: Option<bool>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct LimitsFile {
    max_body_bytes: Option<u64>,
    max_decoded_bytes: Option<u64>,
}

/// Validated scalar types. The check runs inside the visitor, so serde_yaml reports the bad
/// value's own line (an error raised after deserialising would carry the enclosing map's line).
macro_rules! validated_string {
    ($name:ident, $check:expr) => {
        #[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
        struct $name(String);
        impl<'de> Deserialize<'de> for $name {
            fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                struct V;
                impl serde::de::Visitor<'_> for V {
                    type Value = $name;
                    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                        f.write_str("a string")
                    }
                    fn visit_str<E: serde::de::Error>(self, s: &str) -> Result<$name, E> {
                        let check: fn(&str) -> Result<String, String> = $check;
                        check(s).map($name).map_err(E::custom)
                    }
                }
                d.deserialize_str(V)
            }
        }
    };
}

validated_string!(RuleName, |s| if is_rule_id(s) {
    Ok(s.to_string())
} else {
    Err(format!("unknown rule id `{s}`"))
});
validated_string!(RegexPattern, |s| regex::Regex::new(s)
    .map(|_| s.to_string())
    .map_err(|e| format!("bad allowlist regex: {e}")));
validated_string!(FingerprintHex, |s| {
    let hex = s.strip_prefix("sha256:").unwrap_or(s);
    if hex.len() == 64 && hex.bytes().all(|b| b.is_ascii_hexdigit()) {
        Ok(hex.to_ascii_lowercase())
    } else {
        Err("a fingerprint is `sha256:` and 64 hex digits (sha256 of the value)".to_string())
    }
});
validated_string!(Domain, |s| {
    let d = s
        .trim()
        .trim_start_matches("*.")
        .trim_start_matches('.')
        .to_ascii_lowercase();
    if !d.is_empty()
        && d.contains('.')
        && d.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'.' || b == b'-')
    {
        Ok(d)
    } else {
        Err(format!(
            "`{s}` is not a domain name (like corp.example.net)"
        ))
    }
});
validated_string!(Codename, |s| {
    let t = s.trim();
    if t.len() >= 2 && t.is_ascii() {
        Ok(t.to_string())
    } else {
        Err(format!(
            "codename `{s}` must be at least 2 ASCII characters"
        ))
    }
});
validated_string!(HostPattern, |s| {
    let h = s.trim().to_ascii_lowercase();
    if !h.is_empty()
        && h.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'.' || b == b'-' || b == b'*')
    {
        Ok(h)
    } else {
        Err(format!(
            "`{s}` is not a host pattern (like api.openai.com or *.cursor.sh)"
        ))
    }
});

#[derive(Debug, Clone, Copy)]
struct Fraction(f64);
impl<'de> Deserialize<'de> for Fraction {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl serde::de::Visitor<'_> for V {
            type Value = Fraction;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a number between 0 and 1")
            }
            fn visit_f64<E: serde::de::Error>(self, v: f64) -> Result<Fraction, E> {
                if (0.0..=1.0).contains(&v) {
                    Ok(Fraction(v))
                } else {
                    Err(E::custom(format!(
                        "sample_rate must be between 0 and 1, got {v}"
                    )))
                }
            }
            fn visit_u64<E: serde::de::Error>(self, v: u64) -> Result<Fraction, E> {
                self.visit_f64(v as f64)
            }
            fn visit_i64<E: serde::de::Error>(self, v: i64) -> Result<Fraction, E> {
                self.visit_f64(v as f64)
            }
        }
        d.deserialize_f64(V)
    }
}

/// One allowlist entry, resolved.
#[derive(Debug, Clone)]
pub enum Allow {
    Literal(String),
    Regex(regex::Regex),
    /// lowercase hex sha256 of the value
    Fingerprint(String),
}

/// Per-rule override.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct RulePolicy {
    pub enabled: bool,
    pub verdict: Option<Verdict>,
    pub action: Option<Action>,
}

/// A complete, validated policy.
#[derive(Debug, Clone)]
pub struct Policy {
    pub mode: Mode,
    pub sample_rate: f64,
    pub fail_open: bool,
    pub category_box: BTreeMap<Category, Verdict>,
    pub category_action: BTreeMap<Category, Action>,
    pub never_action: Action,
    pub caution_action: Action,
    pub rules: BTreeMap<String, RulePolicy>,
    pub allowlist: Vec<Allow>,
    pub internal_domains: Vec<String>,
    pub codenames: Vec<String>,
    pub intercept_hosts: Vec<String>,
    pub allow_websocket: bool,
    pub max_body_bytes: u64,
    pub max_decoded_bytes: u64,
    pub teams: BTreeMap<String, String>,
    /// Where the policy came from (for messages).
    pub source: String,
}

impl Default for Policy {
    fn default() -> Self {
        Policy::embedded_default()
    }
}

impl Policy {
    /// The embedded default policy.
    pub fn embedded_default() -> Policy {
        Policy::from_layers("<embedded default>", None).expect("embedded default policy is valid")
    }

    /// Reads a policy file and lays it over the embedded default.
    pub fn load(path: &Path) -> Result<Policy, PolicyError> {
        let text = std::fs::read_to_string(path).map_err(|source| PolicyError::Read {
            path: path.to_path_buf(),
            source,
        })?;
        Policy::from_yaml(&path.display().to_string(), &text)
    }

    /// Parses policy text (named `name` in errors) and lays it over the embedded default.
    pub fn from_yaml(name: &str, text: &str) -> Result<Policy, PolicyError> {
        let file = parse_file(name, text)?;
        Policy::from_layers(name, Some(file))
    }

    fn from_layers(name: &str, over: Option<PolicyFile>) -> Result<Policy, PolicyError> {
        let base = parse_file("<embedded default>", DEFAULT_POLICY_YAML)?;
        let over = over.unwrap_or_default();
        let mut p = Policy {
            mode: Mode::Enforce,
            sample_rate: 1.0,
            fail_open: false,
            category_box: Category::ALL
                .iter()
                .map(|&c| (c, c.default_box()))
                .collect(),
            category_action: BTreeMap::new(),
            never_action: Action::Redact,
            caution_action: Action::Redact,
            rules: BTreeMap::new(),
            allowlist: Vec::new(),
            internal_domains: Vec::new(),
            codenames: Vec::new(),
            intercept_hosts: Vec::new(),
            allow_websocket: false,
            max_body_bytes: 16 << 20,
            max_decoded_bytes: 64 << 20,
            teams: BTreeMap::new(),
            source: name.to_string(),
        };
        for layer in [base, over] {
            p.apply(layer);
        }
        Ok(p)
    }

    fn apply(&mut self, f: PolicyFile) {
        if let Some(m) = f.mode {
            self.mode = m;
        }
        if let Some(r) = f.sample_rate {
            self.sample_rate = r.0;
        }
        if let Some(o) = f.fail_open {
            self.fail_open = o;
        }
        for (cat, c) in f.categories.unwrap_or_default() {
            if let Some(v) = c.verdict {
                self.category_box.insert(cat, v);
            }
            if let Some(a) = c.action {
                self.category_action.insert(cat, a);
            }
        }
        if let Some(a) = f.actions {
            if let Some(n) = a.never {
                self.never_action = n;
            }
            if let Some(c) = a.caution {
                self.caution_action = c;
            }
        }
        for (name, r) in f.rules.unwrap_or_default() {
            let entry = self.rules.entry(name.0).or_insert(RulePolicy {
                enabled: true,
                ..Default::default()
            });
            if let Some(e) = r.enabled {
                entry.enabled = e;
            }
            if r.verdict.is_some() {
                entry.verdict = r.verdict;
            }
            if r.action.is_some() {
                entry.action = r.action;
            }
        }
        if let Some(list) = f.allowlist {
            for a in list {
                self.allowlist.extend(a.literal.map(Allow::Literal));
                self.allowlist.extend(a.regex.map(|r| {
                    Allow::Regex(regex::Regex::new(&r.0).expect("validated while parsing"))
                }));
                self.allowlist
                    .extend(a.fingerprint.map(|h| Allow::Fingerprint(h.0)));
            }
        }
        if let Some(i) = f.internal {
            if let Some(d) = i.domains {
                self.internal_domains = d.into_iter().map(|d| d.0).collect();
            }
            if let Some(c) = i.codenames {
                self.codenames = c.into_iter().map(|c| c.0).collect();
            }
        }
        if let Some(i) = f.intercept {
            if let Some(h) = i.hosts {
                self.intercept_hosts = h.into_iter().map(|h| h.0).collect();
            }
            if let Some(w) = i.allow_websocket {
                self.allow_websocket = w;
            }
        }
        if let Some(l) = f.limits {
            if let Some(m) = l.max_body_bytes {
                self.max_body_bytes = m;
            }
            if let Some(m) = l.max_decoded_bytes {
                self.max_decoded_bytes = m;
            }
        }
        if let Some(t) = f.teams {
            self.teams.extend(t);
        }
    }

    /// Whether a rule is switched on.
    pub fn rule_enabled(&self, rule: &str) -> bool {
        self.rules.get(rule).map(|r| r.enabled).unwrap_or(true)
    }

    /// The box of a finding of `rule` in `category`.
    pub fn box_for(&self, rule: &str, category: Category) -> Verdict {
        self.rules
            .get(rule)
            .and_then(|r| r.verdict)
            .unwrap_or_else(|| self.category_box[&category])
    }

    /// The action for a finding: rule override, then category override, then the box's action.
    pub fn action_for(&self, rule: &str, category: Category, verdict: Verdict) -> Action {
        if let Some(a) = self.rules.get(rule).and_then(|r| r.action) {
            return a;
        }
        if let Some(&a) = self.category_action.get(&category) {
            return a;
        }
        match verdict {
            Verdict::Never => self.never_action,
            Verdict::Caution => self.caution_action,
            Verdict::Safe => Action::Allow,
        }
    }

    /// Whether the proxy intercepts `host` (wildcards: `*` matches one or more labels' worth of text
    /// within the pattern's position, e.g. `*.cursor.sh`, `codewhisperer.*.amazonaws.com`).
    pub fn intercepts(&self, host: &str) -> bool {
        let host = host.trim_end_matches('.').to_ascii_lowercase();
        self.intercept_hosts.iter().any(|p| host_matches(p, &host))
    }
}

/// Matches a host against a pattern where `*` stands for one or more DNS labels.
pub fn host_matches(pattern: &str, host: &str) -> bool {
    let p: Vec<&str> = pattern.split('.').collect();
    let h: Vec<&str> = host.split('.').collect();
    fn go(p: &[&str], h: &[&str]) -> bool {
        match (p.first(), h.first()) {
            (None, None) => true,
            (Some(&"*"), Some(_)) => (1..=h.len()).any(|k| go(&p[1..], &h[k..])),
            (Some(a), Some(b)) => a.eq_ignore_ascii_case(b) && go(&p[1..], &h[1..]),
            _ => false,
        }
    }
    go(&p, &h)
}

fn parse_file(name: &str, text: &str) -> Result<PolicyFile, PolicyError> {
    if text.trim().is_empty() {
        return Ok(PolicyFile::default());
    }
    serde_yaml::from_str::<Option<PolicyFile>>(text)
        .map(Option::unwrap_or_default)
        .map_err(|e| PolicyError::Invalid {
            path: name.to_string(),
            message: e.to_string(),
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_is_complete() {
        let p = Policy::embedded_default();
        assert_eq!(p.mode, Mode::Enforce);
        assert_eq!(p.box_for("email", Category::Pii), Verdict::Never);
        assert_eq!(
            p.box_for("private_ip", Category::Internal),
            Verdict::Caution
        );
        assert_eq!(
            p.action_for("email", Category::Pii, Verdict::Never),
            Action::Redact
        );
        assert!(p.intercepts("api.openai.com"));
        assert!(p.intercepts("API.Anthropic.com."));
        assert!(p.intercepts("api2.cursor.sh"));
        assert!(p.intercepts("codewhisperer.us-east-1.amazonaws.com"));
        assert!(!p.intercepts("example.com"));
        assert!(!p.intercepts("cursor.sh"));
    }

    #[test]
    fn partial_file_overrides_only_its_keys() {
        let p = Policy::from_yaml("t.yaml", "actions:\n  never: block\n").unwrap();
        assert_eq!(p.never_action, Action::Block);
        assert_eq!(p.caution_action, Action::Redact);
        assert!(!p.intercept_hosts.is_empty());
    }

    #[test]
    fn unknown_key_names_file_and_line() {
        let e = Policy::from_yaml("bad.yaml", "mode: enforce\nbogus: 1\n").unwrap_err();
        let msg = e.to_string();
        assert!(msg.contains("bad.yaml"), "{msg}");
        assert!(msg.contains("line 2"), "{msg}");
        assert!(msg.contains("bogus"), "{msg}");
    }

    #[test]
    fn bad_values_name_the_line() {
        for (text, line) in [
            ("categories:\n  pii: { box: nevermore }\n", "line 2"),
            ("rules:\n  no_such_rule: { enabled: false }\n", "line 2"),
            ("allowlist:\n  - regex: '('\n", "line 2"),
            ("mode: enforce\nsample_rate: 2\n", "line 2"),
            ("internal:\n  domains: ['not a domain']\n", "line 2"),
        ] {
            let msg = Policy::from_yaml("p.yaml", text).unwrap_err().to_string();
            assert!(
                msg.contains(line) && msg.contains("p.yaml"),
                "{text:?}: {msg}"
            );
        }
    }

    #[test]
    fn allowlist_forms() {
        let p = Policy::from_yaml(
            "a.yaml",
            "allowlist:\n  - literal: abc\n  - regex: '^x+$'\n  - fingerprint: sha256:0000000000000000000000000000000000000000000000000000000000000000\n",
        )
        .unwrap();
        assert_eq!(p.allowlist.len(), 3);
    }

    #[test]
    fn shipped_policies_parse() {
        for f in ["strict.yaml", "monitor.yaml", "default.yaml"] {
            let path = Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("policies")
                .join(f);
            Policy::load(&path).unwrap_or_else(|e| panic!("{f}: {e}"));
        }
        let strict =
            Policy::load(&Path::new(env!("CARGO_MANIFEST_DIR")).join("policies/strict.yaml"))
                .unwrap();
        assert_eq!(strict.never_action, Action::Block);
        let monitor =
            Policy::load(&Path::new(env!("CARGO_MANIFEST_DIR")).join("policies/monitor.yaml"))
                .unwrap();
        assert_eq!(monitor.mode, Mode::Monitor);
    }
}
