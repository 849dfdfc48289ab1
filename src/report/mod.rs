//! `promptgate report`: behavioural metrics from audit logs.
//!
//! Reads audit JSON Lines (one event per intercepted request, see `proxy::audit`), and computes per
//! period and group: interactions (scaled back up by the sample rate), the share with a never-box
//! finding, the share in caution, secret exposures (distinct fingerprints of `secret`/`private_key`
//! findings: one key pasted ten times is one incident), top rules, blocked and redacted counts; and,
//! with a baseline date, the change against the baseline period.
//!
//! Scaling: a sampled event recorded with `sample_rate: r` stands for `1/r` interactions. An event
//! with `sampled: false` (a request refused before it could be screened, which is always audited)
//! stands for itself. Events from before sampling existed (no `sampled` field) count as sampled at
//! rate 1. Rates are computed over the screened (sampled) interactions only; distinct exposures are
//! counted as observed, never scaled.
//!
//! The report only ever holds rule names, categories, groups, periods and counts: never a detected
//! value (the audit log does not hold any either).

pub mod html;

use serde::{Deserialize, Serialize, Serializer};
use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use time::{Date, OffsetDateTime};

/// How rows are split in time.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Period {
    Day,
    Week,
    Month,
}

/// How rows are split by identity.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum GroupBy {
    Tool,
    User,
    Team,
}

/// Output format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ReportFormat {
    Text,
    Json,
    Html,
}

/// What to report on.
#[derive(Debug, Clone)]
pub struct Options {
    pub since: Option<Date>,
    pub until: Option<Date>,
    pub by: Period,
    pub group: Option<GroupBy>,
    pub baseline_until: Option<Date>,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            since: None,
            until: None,
            by: Period::Month,
            group: None,
            baseline_until: None,
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ReportError {
    #[error("cannot read {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("`{0}` is not a date (YYYY-MM-DD)")]
    Date(String),
}

/// Parses `YYYY-MM-DD`.
pub fn parse_date(s: &str) -> Result<Date, ReportError> {
    let fmt = time::macros::format_description!("[year]-[month]-[day]");
    Date::parse(s.trim(), &fmt).map_err(|_| ReportError::Date(s.to_string()))
}

fn date_str(d: Date) -> String {
    format!("{:04}-{:02}-{:02}", d.year(), u8::from(d.month()), d.day())
}

/// One finding as the audit log records it.
#[derive(Debug, Clone, Deserialize)]
struct RecordFinding {
    #[serde(default)]
    rule: String,
    #[serde(default)]
    category: String,
    #[serde(rename = "box", default)]
    verdict: Option<String>,
    #[serde(default)]
    fingerprint: Option<String>,
}

/// One audit event, as far as the report needs it (unknown fields ignored).
#[derive(Debug, Clone, Deserialize)]
struct Record {
    time: String,
    #[serde(default)]
    tool: Option<String>,
    #[serde(default)]
    user: Option<String>,
    #[serde(default)]
    team: Option<String>,
    #[serde(rename = "box", default)]
    verdict: Option<String>,
    #[serde(default)]
    action: Option<String>,
    #[serde(default)]
    result: Option<String>,
    #[serde(default)]
    findings: Vec<RecordFinding>,
    #[serde(default)]
    sampled: Option<bool>,
    #[serde(default)]
    sample_rate: Option<f64>,
}

/// An audit event, parsed.
#[derive(Debug, Clone)]
pub struct Event {
    pub date: Date,
    pub tool: String,
    pub user: String,
    pub team: String,
    /// Screened as part of the sample (stands for 1/rate interactions).
    pub sampled: bool,
    /// The sample rate in force (1 when not recorded).
    pub rate: f64,
    pub never: bool,
    pub caution: bool,
    pub blocked: bool,
    pub redacted: bool,
    /// Distinct rules that fired.
    pub rules: BTreeSet<String>,
    /// Fingerprints of secret / private key findings.
    pub exposures: BTreeSet<String>,
}

impl Event {
    fn from_record(r: Record, line_id: usize) -> Option<Event> {
        let t = OffsetDateTime::parse(&r.time, &time::format_description::well_known::Rfc3339)
            .ok()?
            .to_offset(time::UtcOffset::UTC);
        let finding_box = |v: &str| r.findings.iter().any(|f| f.verdict.as_deref() == Some(v));
        let verdict = r.verdict.clone().unwrap_or_else(|| {
            if finding_box("never") {
                "never".into()
            } else if finding_box("caution") {
                "caution".into()
            } else {
                "safe".into()
            }
        });
        let never = verdict == "never" || finding_box("never");
        let caution = !never && verdict == "caution";
        let (blocked, redacted) = match r.result.as_deref() {
            Some(res) => (res == "blocked", res == "redacted"),
            None => (
                r.action.as_deref() == Some("block"),
                r.action.as_deref() == Some("redact"),
            ),
        };
        let rate = r
            .sample_rate
            .filter(|x| x.is_finite() && *x > 0.0 && *x <= 1.0)
            .unwrap_or(1.0);
        let mut exposures = BTreeSet::new();
        for (i, f) in r.findings.iter().enumerate() {
            if f.category == "secret" || f.category == "private_key" {
                exposures.insert(match &f.fingerprint {
                    Some(fp) if !fp.is_empty() => fp.clone(),
                    // Without a fingerprint each finding is its own incident.
                    _ => format!("line{line_id}-{i}"),
                });
            }
        }
        let nonempty = |s: Option<String>, d: &str| {
            s.filter(|s| !s.trim().is_empty())
                .unwrap_or_else(|| d.to_string())
        };
        Some(Event {
            date: t.date(),
            tool: nonempty(r.tool, "unknown"),
            user: nonempty(r.user, "unknown"),
            team: nonempty(r.team, "unassigned"),
            sampled: r.sampled.unwrap_or(true),
            rate,
            never,
            caution,
            blocked,
            redacted,
            rules: r
                .findings
                .iter()
                .filter(|f| !f.rule.is_empty())
                .map(|f| f.rule.clone())
                .collect(),
            exposures,
        })
    }
}

/// Events read from audit logs.
#[derive(Debug, Clone, Default)]
pub struct Loaded {
    pub events: Vec<Event>,
    /// Lines that were not audit events (blank lines are not counted).
    pub skipped: usize,
    pub files: usize,
}

/// Parses audit JSON Lines text.
pub fn parse_audit(text: &str, into: &mut Loaded) {
    for line in text.lines() {
        let line = line.trim();
        if line.is_empty() {
            continue;
        }
        let id = into.events.len() + into.skipped;
        match serde_json::from_str::<Record>(line)
            .ok()
            .and_then(|r| Event::from_record(r, id))
        {
            Some(e) => into.events.push(e),
            None => into.skipped += 1,
        }
    }
}

/// Reads audit logs.
pub fn load(paths: &[PathBuf]) -> Result<Loaded, ReportError> {
    let mut out = Loaded::default();
    for p in paths {
        let bytes = std::fs::read(p).map_err(|source| ReportError::Read {
            path: p.clone(),
            source,
        })?;
        parse_audit(&String::from_utf8_lossy(&bytes), &mut out);
        out.files += 1;
    }
    Ok(out)
}

/// A count scaled by sample rates: sampled events per rate, plus events that stand for themselves.
#[derive(Debug, Clone, Default)]
struct Scaled {
    /// rate (f64 bits) -> sampled events
    by_rate: BTreeMap<u64, u64>,
    unscaled: u64,
}

impl Scaled {
    fn add(&mut self, e: &Event) {
        if e.sampled {
            *self.by_rate.entry(e.rate.to_bits()).or_insert(0) += 1;
        } else {
            self.unscaled += 1;
        }
    }

    /// The estimate: each sampled event counts 1/rate (computed per rate: count / rate).
    fn value(&self) -> f64 {
        let v: f64 = self
            .by_rate
            .iter()
            .map(|(r, n)| *n as f64 / f64::from_bits(*r))
            .sum::<f64>()
            + self.unscaled as f64;
        tidy(v)
    }

    fn sampled(&self) -> u64 {
        self.by_rate.values().sum()
    }
}

/// Rounds away floating-point noise (1e-6).
fn tidy(v: f64) -> f64 {
    (v * 1e6).round() / 1e6
}

/// A number written as an integer when it is one (so `10` rather than `10.0`).
fn ser_num<S: Serializer>(v: &f64, s: S) -> Result<S::Ok, S::Error> {
    if v.fract() == 0.0 && v.abs() < 9.0e15 {
        s.serialize_i64(*v as i64)
    } else {
        s.serialize_f64(*v)
    }
}

/// A rule and how many interactions (scaled) it fired in.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct RuleCount {
    pub rule: String,
    #[serde(serialize_with = "ser_num")]
    pub count: f64,
}

/// One line of the report.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Row {
    pub period: String,
    pub group: String,
    /// Scaled by the sample rate.
    #[serde(serialize_with = "ser_num")]
    pub interactions: f64,
    /// Events actually screened.
    pub sampled: u64,
    /// Fraction (0..1) of screened interactions with a never-box finding.
    pub never_rate: f64,
    /// Fraction (0..1) of screened interactions whose worst box is caution.
    pub caution_rate: f64,
    /// Distinct fingerprints of secret / private key findings (not scaled).
    pub secret_exposures: u64,
    #[serde(serialize_with = "ser_num")]
    pub blocked: f64,
    #[serde(serialize_with = "ser_num")]
    pub redacted: f64,
    pub top_rules: Vec<RuleCount>,
}

impl Row {
    /// Secret exposures per 1,000 interactions.
    pub fn exposures_per_1k(&self) -> f64 {
        if self.interactions > 0.0 {
            self.secret_exposures as f64 * 1000.0 / self.interactions
        } else {
            0.0
        }
    }
}

/// How many rules `top_rules` lists.
pub const TOP_RULES: usize = 5;

#[derive(Debug, Default)]
struct Acc {
    all: Scaled,
    screened: Scaled,
    never: Scaled,
    caution: Scaled,
    blocked: Scaled,
    redacted: Scaled,
    exposures: BTreeSet<String>,
    rules: BTreeMap<String, Scaled>,
}

impl Acc {
    fn add(&mut self, e: &Event) {
        self.all.add(e);
        if !e.sampled {
            return;
        }
        self.screened.add(e);
        if e.never {
            self.never.add(e);
        }
        if e.caution {
            self.caution.add(e);
        }
        if e.blocked {
            self.blocked.add(e);
        }
        if e.redacted {
            self.redacted.add(e);
        }
        self.exposures.extend(e.exposures.iter().cloned());
        for r in &e.rules {
            self.rules.entry(r.clone()).or_default().add(e);
        }
    }

    fn row(&self, period: String, group: String, top: usize) -> Row {
        let screened = self.screened.value();
        let frac = |s: &Scaled| {
            if screened > 0.0 {
                s.value() / screened
            } else {
                0.0
            }
        };
        let mut rules: Vec<RuleCount> = self
            .rules
            .iter()
            .map(|(r, s)| RuleCount {
                rule: r.clone(),
                count: s.value(),
            })
            .collect();
        rules.sort_by(|a, b| b.count.total_cmp(&a.count).then(a.rule.cmp(&b.rule)));
        rules.truncate(top);
        Row {
            period,
            group,
            interactions: self.all.value(),
            sampled: self.all.sampled(),
            never_rate: frac(&self.never),
            caution_rate: frac(&self.caution),
            secret_exposures: self.exposures.len() as u64,
            blocked: self.blocked.value(),
            redacted: self.redacted.value(),
            top_rules: rules,
        }
    }
}

/// The period label of a date.
pub fn period_of(d: Date, by: Period) -> String {
    match by {
        Period::Day => date_str(d),
        Period::Week => {
            let (y, w, _) = d.to_iso_week_date();
            format!("{y:04}-W{w:02}")
        }
        Period::Month => format!("{:04}-{:02}", d.year(), u8::from(d.month())),
    }
}

fn group_of(e: &Event, g: Option<GroupBy>) -> String {
    match g {
        None => "all".into(),
        Some(GroupBy::Tool) => e.tool.clone(),
        Some(GroupBy::User) => e.user.clone(),
        Some(GroupBy::Team) => e.team.clone(),
    }
}

/// Aggregates events into rows keyed by (period, group), sorted.
fn aggregate<'a>(
    events: impl Iterator<Item = &'a Event>,
    key: impl Fn(&Event) -> (String, String),
    top: usize,
) -> Vec<Row> {
    let mut accs: BTreeMap<(String, String), Acc> = BTreeMap::new();
    for e in events {
        accs.entry(key(e)).or_default().add(e);
    }
    accs.into_iter()
        .map(|((p, g), a)| a.row(p, g, top))
        .collect()
}

/// The change of a row against the baseline.
#[derive(Debug, Clone, PartialEq)]
pub struct Change {
    pub period: String,
    pub group: String,
    /// Relative change of secret exposures per 1,000 interactions (-0.5 = 50% fewer); None when the
    /// baseline has none.
    pub exposures: Option<f64>,
    /// Relative change of the never rate.
    pub never_rate: Option<f64>,
    pub exposures_per_1k: f64,
}

/// The report.
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    pub rows: Vec<Row>,
    pub baseline: Option<Row>,
    #[serde(skip)]
    pub meta: Meta,
}

/// Context for the text and HTML renderings.
#[derive(Debug, Clone, Default)]
pub struct Meta {
    pub files: usize,
    pub events: usize,
    pub skipped: usize,
    pub first: Option<Date>,
    pub last: Option<Date>,
    pub by: Option<Period>,
    pub group: Option<GroupBy>,
    pub baseline_until: Option<Date>,
    /// Distinct sample rates seen on sampled events.
    pub rates: Vec<f64>,
    /// All events per period (no grouping).
    pub over_time: Vec<Row>,
    /// All events per tool.
    pub by_tool: Vec<Row>,
    /// Rules over the whole range: (rule, scaled interactions).
    pub by_rule: Vec<RuleCount>,
    /// Everything selected, as one row (every rule in `top_rules`).
    pub overall: Option<Row>,
    /// Rows after the baseline compared with it.
    pub changes: Vec<Change>,
    /// The baseline's secret exposures per 1,000 interactions, counted per period like the rows
    /// (distinct within each period, summed), so that a three-month baseline compares fairly with
    /// one-month rows.
    pub baseline_exposures_per_1k: Option<f64>,
}

fn relative(now: f64, base: f64) -> Option<f64> {
    (base > 0.0).then(|| (now - base) / base)
}

/// Builds the report.
pub fn build(loaded: &Loaded, opts: &Options) -> Report {
    let selected: Vec<&Event> = loaded
        .events
        .iter()
        .filter(|e| opts.since.is_none_or(|s| e.date >= s))
        .filter(|e| opts.until.is_none_or(|u| e.date <= u))
        .collect();
    let rows = aggregate(
        selected.iter().copied(),
        |e| (period_of(e.date, opts.by), group_of(e, opts.group)),
        TOP_RULES,
    );
    let first = selected.iter().map(|e| e.date).min();
    let last = selected.iter().map(|e| e.date).max();
    let baseline = opts.baseline_until.map(|bu| {
        let start = opts
            .since
            .or_else(|| selected.iter().map(|e| e.date).filter(|d| *d <= bu).min())
            .unwrap_or(bu);
        let label = format!("{}..{}", date_str(start), date_str(bu));
        let mut acc = Acc::default();
        for e in selected.iter().filter(|e| e.date <= bu) {
            acc.add(e);
        }
        acc.row(label, "all".into(), TOP_RULES)
    });
    let mut rates: Vec<f64> = Vec::new();
    for e in selected.iter().filter(|e| e.sampled) {
        if !rates.contains(&e.rate) {
            rates.push(e.rate);
        }
    }
    rates.sort_by(f64::total_cmp);
    let over_time = aggregate(
        selected.iter().copied(),
        |e| (period_of(e.date, opts.by), "all".into()),
        TOP_RULES,
    );
    let by_tool = aggregate(
        selected.iter().copied(),
        |e| ("all".into(), e.tool.clone()),
        TOP_RULES,
    );
    let overall = aggregate(
        selected.iter().copied(),
        |_| ("all".into(), "all".into()),
        usize::MAX,
    )
    .pop();
    let by_rule = overall
        .as_ref()
        .map(|r| r.top_rules.clone())
        .unwrap_or_default();
    let mut changes = Vec::new();
    let mut baseline_exposures_per_1k = None;
    if let (Some(base), Some(bu)) = (&baseline, opts.baseline_until) {
        let per_period: u64 = aggregate(
            selected.iter().copied().filter(|e| e.date <= bu),
            |e| (period_of(e.date, opts.by), "all".into()),
            0,
        )
        .iter()
        .map(|r| r.secret_exposures)
        .sum();
        let base_rate = if base.interactions > 0.0 {
            per_period as f64 * 1000.0 / base.interactions
        } else {
            0.0
        };
        baseline_exposures_per_1k = Some(base_rate);
        let after = period_of(bu, opts.by);
        // Rows with nothing screened have no rates to compare.
        for r in rows.iter().filter(|r| r.period > after && r.sampled > 0) {
            changes.push(Change {
                period: r.period.clone(),
                group: r.group.clone(),
                exposures: relative(r.exposures_per_1k(), base_rate),
                never_rate: relative(r.never_rate, base.never_rate),
                exposures_per_1k: r.exposures_per_1k(),
            });
        }
    }
    Report {
        rows,
        baseline,
        meta: Meta {
            files: loaded.files,
            events: selected.len(),
            skipped: loaded.skipped,
            first,
            last,
            by: Some(opts.by),
            group: opts.group,
            baseline_until: opts.baseline_until,
            rates,
            over_time,
            by_tool,
            by_rule,
            overall,
            changes,
            baseline_exposures_per_1k,
        },
    }
}

/// The report as JSON: `{"rows": [...], "baseline": {...} | null}`.
pub fn to_json(r: &Report) -> String {
    let mut s = serde_json::to_string_pretty(r).expect("the report serialises");
    s.push('\n');
    s
}

fn pct(f: f64) -> String {
    format!("{:.1}%", f * 100.0)
}

/// A count: integer when whole, else one decimal.
pub fn num(v: f64) -> String {
    if v.fract() == 0.0 {
        format!("{v:.0}")
    } else {
        format!("{v:.1}")
    }
}

/// A signed relative change: "-50%", "+20%".
pub fn change_str(c: Option<f64>) -> String {
    match c {
        Some(c) => format!("{:+.0}%", c * 100.0),
        None => "n/a".into(),
    }
}

fn rules_str(r: &[RuleCount]) -> String {
    if r.is_empty() {
        return "-".into();
    }
    r.iter()
        .map(|r| format!("{} ({})", r.rule, num(r.count)))
        .collect::<Vec<_>>()
        .join(", ")
}

pub fn by_name(p: Option<Period>) -> &'static str {
    match p {
        Some(Period::Day) => "day",
        Some(Period::Week) => "week",
        Some(Period::Month) | None => "month",
    }
}

pub fn group_name(g: Option<GroupBy>) -> &'static str {
    match g {
        None => "none",
        Some(GroupBy::Tool) => "tool",
        Some(GroupBy::User) => "user",
        Some(GroupBy::Team) => "team",
    }
}

/// A one-line description of the data, shared by the text and HTML renderings.
pub fn describe(m: &Meta) -> String {
    let range = match (m.first, m.last) {
        (Some(a), Some(b)) => format!("{} to {}", date_str(a), date_str(b)),
        _ => "no events".into(),
    };
    let mut s = format!(
        "{} event{} from {} audit log{} ({range}), by {}, grouped by {}",
        m.events,
        if m.events == 1 { "" } else { "s" },
        m.files,
        if m.files == 1 { "" } else { "s" },
        by_name(m.by),
        group_name(m.group),
    );
    if m.skipped > 0 {
        let _ = write!(s, "; {} unreadable line(s) skipped", m.skipped);
    }
    s
}

/// A note on sampling, when any event was sampled below 1.
pub fn sampling_note(m: &Meta) -> Option<String> {
    if m.rates.iter().all(|r| *r >= 1.0) {
        return None;
    }
    let rates: Vec<String> = m.rates.iter().map(|r| format!("{r}")).collect();
    Some(format!(
        "Sampled at rate {}: each screened interaction counts 1/rate towards interactions, blocked and redacted; rates are over screened interactions; secret exposures are distinct fingerprints as observed (not scaled).",
        rates.join(", ")
    ))
}

/// The report as a plain-text table.
pub fn to_text(r: &Report) -> String {
    let m = &r.meta;
    let mut out = format!("promptgate report: {}\n", describe(m));
    if let Some(n) = sampling_note(m) {
        out.push_str(&n);
        out.push('\n');
    }
    out.push('\n');
    let header = [
        "period",
        "group",
        "interactions",
        "sampled",
        "never",
        "caution",
        "exposures",
        "blocked",
        "redacted",
        "top rules",
    ];
    let mut table: Vec<Vec<String>> = vec![header.iter().map(|s| s.to_string()).collect()];
    let line = |row: &Row| {
        vec![
            row.period.clone(),
            row.group.clone(),
            num(row.interactions),
            row.sampled.to_string(),
            pct(row.never_rate),
            pct(row.caution_rate),
            row.secret_exposures.to_string(),
            num(row.blocked),
            num(row.redacted),
            rules_str(&row.top_rules),
        ]
    };
    table.extend(r.rows.iter().map(line));
    if r.rows.is_empty() {
        out.push_str("no events in the selected range\n");
    } else {
        let widths: Vec<usize> = (0..header.len())
            .map(|i| {
                table
                    .iter()
                    .map(|row| row[i].chars().count())
                    .max()
                    .unwrap_or(0)
            })
            .collect();
        for row in &table {
            let mut l = String::new();
            for (i, cell) in row.iter().enumerate() {
                if i + 1 == row.len() {
                    l.push_str(cell);
                } else {
                    let _ = write!(l, "{cell:<w$}  ", w = widths[i]);
                }
            }
            out.push_str(l.trim_end());
            out.push('\n');
        }
    }
    if let Some(b) = &r.baseline {
        let _ = writeln!(
            out,
            "\nbaseline {}: {} interactions ({} sampled), never {}, caution {}, {} secret exposure{} ({:.2} per 1k interactions, counted per {}), blocked {}, redacted {}",
            b.period,
            num(b.interactions),
            b.sampled,
            pct(b.never_rate),
            pct(b.caution_rate),
            b.secret_exposures,
            if b.secret_exposures == 1 { "" } else { "s" },
            m.baseline_exposures_per_1k.unwrap_or(0.0),
            by_name(m.by),
            num(b.blocked),
            num(b.redacted)
        );
        if m.changes.is_empty() {
            out.push_str("no periods after the baseline to compare\n");
        } else {
            out.push_str("change against the baseline:\n");
            for c in &m.changes {
                let _ = writeln!(
                    out,
                    "  {} {}: secret exposures per 1k interactions {:.2} ({}), never rate {}",
                    c.period,
                    c.group,
                    c.exposures_per_1k,
                    change_str(c.exposures),
                    change_str(c.never_rate)
                );
            }
        }
    }
    out
}

/// Renders in a format.
pub fn render(r: &Report, f: ReportFormat) -> String {
    match f {
        ReportFormat::Text => to_text(r),
        ReportFormat::Json => to_json(r),
        ReportFormat::Html => html::render(r),
    }
}

/// `promptgate report`: loads, builds, renders and writes (to `out` or stdout).
pub fn run(
    paths: &[PathBuf],
    opts: &Options,
    format: ReportFormat,
    out: Option<&Path>,
) -> Result<(), String> {
    let loaded = load(paths).map_err(|e| e.to_string())?;
    if loaded.skipped > 0 {
        eprintln!(
            "promptgate: note: skipped {} line(s) that are not audit events",
            loaded.skipped
        );
    }
    let report = build(&loaded, opts);
    let text = render(&report, format);
    match out {
        Some(p) => std::fs::write(p, text).map_err(|e| format!("writing {}: {e}", p.display())),
        None => {
            use std::io::Write;
            std::io::stdout()
                .write_all(text.as_bytes())
                .map_err(|e| format!("writing the report: {e}"))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ev(time: &str, extra: &str) -> String {
        format!(r#"{{"time":"{time}","tool":"curl"{extra}}}"#)
    }

    #[test]
    fn periods() {
        let d = parse_date("2025-01-01").unwrap();
        assert_eq!(period_of(d, Period::Day), "2025-01-01");
        assert_eq!(period_of(d, Period::Week), "2025-W01");
        assert_eq!(period_of(d, Period::Month), "2025-01");
        assert_eq!(
            period_of(parse_date("2024-12-30").unwrap(), Period::Week),
            "2025-W01"
        );
        assert!(parse_date("2025-13-01").is_err());
        assert!(parse_date("yesterday").is_err());
    }

    #[test]
    fn scaling_and_rates() {
        let mut l = Loaded::default();
        let mut text = String::new();
        for i in 0..3 {
            let extra = if i == 0 {
                r#","box":"never","sampled":true,"sample_rate":0.25,"findings":[{"rule":"aws_access_key_id","category":"secret","box":"never","fingerprint":"hmac-sha256:aa"}]"#
            } else {
                r#","box":"safe","result":"forwarded","sampled":true,"sample_rate":0.25"#
            };
            text.push_str(&ev("2025-03-01T10:00:00.000Z", extra));
            text.push('\n');
        }
        text.push_str(&ev(
            "2025-03-02T10:00:00Z",
            r#","sampled":false,"sample_rate":0.25,"result":"refused""#,
        ));
        text.push_str("\nnot json\n");
        parse_audit(&text, &mut l);
        assert_eq!(l.skipped, 1);
        let r = build(&l, &Options::default());
        assert_eq!(r.rows.len(), 1);
        let row = &r.rows[0];
        assert_eq!(row.interactions, 13.0);
        assert_eq!(row.sampled, 3);
        assert!((row.never_rate - 1.0 / 3.0).abs() < 1e-9);
        assert_eq!(row.secret_exposures, 1);
        assert_eq!(row.top_rules[0].count, 4.0);
        let j: serde_json::Value = serde_json::from_str(&to_json(&r)).unwrap();
        assert_eq!(j["rows"][0]["interactions"], 13);
        assert!(j["baseline"].is_null());
    }
}
