//! The HTML report: one self-contained file (inline CSS, JS and SVG; no network, enforced by a
//! Content-Security-Policy) that a security lead can mail around.
//!
//! The charts are drawn here as inline SVG, so they show even with scripts disabled; the small
//! script only adds table sorting and hover tips, and marks the page (`data-rendered="ok"`,
//! `data-charts`) once it has run; errors are caught and written into the page (`#errors`,
//! `data-errors`) so a headless browser check can see them.

use super::{by_name, change_str, describe, group_name, num, sampling_note, Report, Row};
use std::fmt::Write as _;

/// Escapes text for HTML content and attribute values.
pub fn esc(s: &str) -> String {
    let mut o = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => o.push_str("&amp;"),
            '<' => o.push_str("&lt;"),
            '>' => o.push_str("&gt;"),
            '"' => o.push_str("&quot;"),
            '\'' => o.push_str("&#39;"),
            c if c.is_control() && c != '\n' && c != '\t' => o.push('\u{fffd}'),
            c => o.push(c),
        }
    }
    o
}

const W: f64 = 680.0;
const H: f64 = 260.0;
const ML: f64 = 56.0;
const MR: f64 = 16.0;
const MT: f64 = 16.0;
const MB: f64 = 44.0;

const BLUE: &str = "#2563eb";
const ORANGE: &str = "#d97706";
const RED: &str = "#dc2626";
const GREY: &str = "#6b7280";

fn pct(v: f64) -> String {
    format!("{:.1}%", v * 100.0)
}

fn f2(v: f64) -> String {
    format!("{v:.2}")
}

/// A "nice" upper bound for an axis.
fn nice_max(v: f64) -> f64 {
    if !v.is_finite() || v <= 0.0 {
        return 1.0;
    }
    let mag = 10f64.powf(v.log10().floor());
    for m in [1.0, 2.0, 2.5, 5.0, 10.0] {
        if v <= m * mag {
            return m * mag;
        }
    }
    10.0 * mag
}

fn svg_open(id: &str, title: &str) -> String {
    format!(
        r#"<svg class="chart" id="{id}" data-chart="{id}" viewBox="0 0 {W} {H}" width="{W}" height="{H}" role="img" aria-label="{t}"><title>{t}</title>"#,
        t = esc(title)
    )
}

fn y_axis(s: &mut String, max: f64, fmt: fn(f64) -> String) {
    let ph = H - MT - MB;
    for i in 0..=4 {
        let v = max * f64::from(i) / 4.0;
        let y = MT + ph - ph * f64::from(i) / 4.0;
        let _ = write!(
            s,
            r##"<line x1="{ML}" x2="{x2}" y1="{y:.1}" y2="{y:.1}" stroke="#e5e7eb"/><text x="{tx}" y="{ty:.1}" text-anchor="end" class="tick">{l}</text>"##,
            x2 = W - MR,
            tx = ML - 6.0,
            ty = y + 4.0,
            l = esc(&fmt(v))
        );
    }
}

fn x_labels(s: &mut String, labels: &[String], xs: &[f64]) {
    let step = (labels.len() / 12).max(1);
    for (i, (l, x)) in labels.iter().zip(xs).enumerate() {
        if i % step != 0 {
            continue;
        }
        let _ = write!(
            s,
            r#"<text x="{x:.1}" y="{y}" text-anchor="middle" class="tick">{l}</text>"#,
            y = H - MB + 18.0,
            l = esc(l)
        );
    }
}

fn no_data(s: &mut String) {
    let _ = write!(
        s,
        r#"<text x="{x}" y="{y}" text-anchor="middle" class="empty">no data</text>"#,
        x = W / 2.0,
        y = H / 2.0
    );
}

fn baseline_line(s: &mut String, v: f64, max: f64, label: &str) {
    let ph = H - MT - MB;
    let y = MT + ph - ph * (v / max).min(1.0);
    let _ = write!(
        s,
        r#"<line class="baseline" x1="{ML}" x2="{x2}" y1="{y:.1}" y2="{y:.1}" stroke="{GREY}" stroke-dasharray="6 4"/><text x="{tx}" y="{ty:.1}" text-anchor="end" class="tick">{l}</text>"#,
        x2 = W - MR,
        tx = W - MR,
        ty = y - 4.0,
        l = esc(label)
    );
}

/// A line chart of one or more series over labelled points.
fn line_chart(
    id: &str,
    title: &str,
    labels: &[String],
    series: &[(&str, &str, Vec<f64>)],
    fmt: fn(f64) -> String,
    baseline: Option<(f64, String)>,
) -> String {
    let mut s = svg_open(id, title);
    let data_max = series
        .iter()
        .flat_map(|(_, _, v)| v.iter().copied())
        .chain(baseline.as_ref().map(|b| b.0))
        .fold(0.0, f64::max);
    let max = nice_max(data_max);
    y_axis(&mut s, max, fmt);
    if labels.is_empty() {
        no_data(&mut s);
        s.push_str("</svg>");
        return s;
    }
    let pw = W - ML - MR;
    let ph = H - MT - MB;
    let n = labels.len();
    let xs: Vec<f64> = (0..n)
        .map(|i| {
            if n == 1 {
                ML + pw / 2.0
            } else {
                ML + 10.0 + (pw - 20.0) * i as f64 / (n - 1) as f64
            }
        })
        .collect();
    let y = |v: f64| MT + ph - ph * (v / max).clamp(0.0, 1.0);
    if let Some((v, l)) = &baseline {
        baseline_line(&mut s, *v, max, l);
    }
    for (name, color, values) in series {
        let pts: Vec<String> = xs
            .iter()
            .zip(values)
            .map(|(x, v)| format!("{x:.1},{:.1}", y(*v)))
            .collect();
        let _ = write!(
            s,
            r#"<polyline class="series" fill="none" stroke="{color}" stroke-width="2" points="{}"/>"#,
            pts.join(" ")
        );
        for ((x, v), l) in xs.iter().zip(values).zip(labels) {
            let tip = format!("{name}, {l}: {}", fmt(*v));
            let _ = write!(
                s,
                r#"<circle class="mark" cx="{x:.1}" cy="{:.1}" r="4" fill="{color}" data-tip="{t}"><title>{t}</title></circle>"#,
                y(*v),
                t = esc(&tip)
            );
        }
    }
    x_labels(&mut s, labels, &xs);
    // legend
    let mut lx = ML;
    for (name, color, _) in series {
        let _ = write!(
            s,
            r#"<rect x="{lx}" y="{ly}" width="10" height="10" fill="{color}"/><text x="{tx}" y="{ty}" class="tick">{n}</text>"#,
            ly = H - 14.0,
            tx = lx + 14.0,
            ty = H - 5.0,
            n = esc(name)
        );
        lx += 22.0 + name.len() as f64 * 6.5;
    }
    s.push_str("</svg>");
    s
}

/// A vertical bar chart over labelled points.
fn vbar_chart(
    id: &str,
    title: &str,
    labels: &[String],
    values: &[f64],
    fmt: fn(f64) -> String,
    baseline: Option<(f64, String)>,
) -> String {
    let mut s = svg_open(id, title);
    let data_max = values
        .iter()
        .copied()
        .chain(baseline.as_ref().map(|b| b.0))
        .fold(0.0, f64::max);
    let max = nice_max(data_max);
    y_axis(&mut s, max, fmt);
    if labels.is_empty() {
        no_data(&mut s);
        s.push_str("</svg>");
        return s;
    }
    let pw = W - ML - MR;
    let ph = H - MT - MB;
    let slot = pw / labels.len() as f64;
    let bw = (slot * 0.7).min(60.0);
    let xs: Vec<f64> = (0..labels.len())
        .map(|i| ML + slot * (i as f64 + 0.5))
        .collect();
    for ((x, v), l) in xs.iter().zip(values).zip(labels) {
        let h = ph * (v / max).clamp(0.0, 1.0);
        let tip = format!("{l}: {}", fmt(*v));
        let _ = write!(
            s,
            r#"<rect class="mark" x="{:.1}" y="{:.1}" width="{bw:.1}" height="{h:.1}" fill="{RED}" data-tip="{t}"><title>{t}</title></rect>"#,
            x - bw / 2.0,
            MT + ph - h,
            t = esc(&tip)
        );
    }
    if let Some((v, l)) = &baseline {
        baseline_line(&mut s, *v, max, l);
    }
    x_labels(&mut s, labels, &xs);
    s.push_str("</svg>");
    s
}

/// A horizontal bar chart: (label, value, note) per bar.
fn hbar_chart(
    id: &str,
    title: &str,
    items: &[(String, f64, String)],
    fmt: fn(f64) -> String,
    color: &str,
) -> String {
    let bar = 22.0;
    let height = (MT + 8.0 + bar * items.len().max(1) as f64 + 12.0).max(80.0);
    let label_w = 170.0;
    let mut s = format!(
        r#"<svg class="chart" id="{id}" data-chart="{id}" viewBox="0 0 {W} {height}" width="{W}" height="{height}" role="img" aria-label="{t}"><title>{t}</title>"#,
        t = esc(title)
    );
    if items.is_empty() {
        let _ = write!(
            s,
            r#"<text x="{x}" y="{y}" text-anchor="middle" class="empty">no data</text></svg>"#,
            x = W / 2.0,
            y = height / 2.0
        );
        return s;
    }
    let max = nice_max(items.iter().map(|i| i.1).fold(0.0, f64::max));
    let pw = W - label_w - 150.0;
    for (i, (label, v, note)) in items.iter().enumerate() {
        let y = MT + bar * i as f64;
        let w = (pw * (v / max).clamp(0.0, 1.0)).max(1.0);
        let short: String = label.chars().take(26).collect();
        let tip = format!("{label}: {}{}", fmt(*v), note);
        let _ = write!(
            s,
            r#"<text x="{lx}" y="{ty:.1}" text-anchor="end" class="tick">{l}</text><rect class="mark" x="{label_w}" y="{y:.1}" width="{w:.1}" height="{bh}" fill="{color}" data-tip="{t}"><title>{t}</title></rect><text x="{vx:.1}" y="{ty:.1}" class="tick">{v}{n}</text>"#,
            lx = label_w - 8.0,
            ty = y + bar * 0.62,
            l = esc(&short),
            bh = bar - 6.0,
            vx = label_w + w + 6.0,
            v = esc(&fmt(*v)),
            n = esc(note),
            t = esc(&tip)
        );
    }
    s.push_str("</svg>");
    s
}

const CSS: &str = r#"
:root { color-scheme: light; }
* { box-sizing: border-box; }
body { font: 14px/1.45 -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif; color: #111827; margin: 0; background: #f9fafb; }
main { max-width: 1100px; margin: 0 auto; padding: 24px; }
h1 { font-size: 22px; margin: 0 0 4px; }
h2 { font-size: 16px; margin: 28px 0 8px; }
.sub { color: #4b5563; margin: 0 0 4px; }
.cards { display: flex; flex-wrap: wrap; gap: 12px; margin: 16px 0; }
.card { background: #fff; border: 1px solid #e5e7eb; border-radius: 8px; padding: 12px 16px; min-width: 150px; }
.card .v { font-size: 22px; font-weight: 600; }
.card .k { color: #6b7280; font-size: 12px; text-transform: uppercase; letter-spacing: .04em; }
.charts { display: grid; grid-template-columns: repeat(auto-fit, minmax(560px, 1fr)); gap: 16px; }
figure { background: #fff; border: 1px solid #e5e7eb; border-radius: 8px; margin: 0; padding: 12px; overflow-x: auto; }
figcaption { font-weight: 600; margin-bottom: 6px; }
svg.chart { max-width: 100%; height: auto; display: block; }
svg .tick { font-size: 11px; fill: #4b5563; }
svg .empty { font-size: 14px; fill: #9ca3af; }
svg .mark:hover { opacity: .75; }
table { border-collapse: collapse; width: 100%; background: #fff; font-size: 13px; }
th, td { border-bottom: 1px solid #e5e7eb; padding: 6px 8px; text-align: left; vertical-align: top; }
th { background: #f3f4f6; cursor: pointer; user-select: none; white-space: nowrap; }
td:first-child { white-space: nowrap; }
td.n { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
.down { color: #047857; } .up { color: #b91c1c; }
.note { color: #4b5563; font-size: 13px; }
#errors { background: #fee2e2; color: #991b1b; padding: 8px; white-space: pre-wrap; }
#tip { position: fixed; pointer-events: none; background: #111827; color: #fff; padding: 4px 8px; border-radius: 4px; font-size: 12px; display: none; }
footer { color: #6b7280; font-size: 12px; margin-top: 32px; }
@media print { body { background: #fff; } #tip { display: none !important; } th { cursor: auto; } }
"#;

const JS: &str = r#"
(function () {
  var errors = [];
  function report(msg) {
    errors.push(String(msg));
    if (document.body) {
      document.body.setAttribute('data-errors', String(errors.length));
      document.body.setAttribute('data-rendered', 'error');
      var el = document.getElementById('errors');
      if (el) { el.textContent = errors.join('\n'); el.hidden = false; }
    }
  }
  window.addEventListener('error', function (e) { report(e.message || 'script error'); });
  window.addEventListener('unhandledrejection', function (e) { report('unhandled rejection: ' + e.reason); });
  document.addEventListener('securitypolicyviolation', function (e) { report('blocked by the content security policy: ' + e.violatedDirective + ' ' + e.blockedURI); });
  var consoleError = console.error;
  console.error = function () {
    report(Array.prototype.join.call(arguments, ' '));
    return consoleError.apply(console, arguments);
  };

  function cellValue(td) {
    var s = td.getAttribute('data-sort');
    if (s !== null && s !== '' && !isNaN(Number(s))) { return Number(s); }
    return td.textContent.trim().toLowerCase();
  }

  function sortTable(table, col, th) {
    var body = table.tBodies[0];
    var rows = Array.prototype.slice.call(body.rows);
    var asc = th.getAttribute('data-dir') !== 'asc';
    Array.prototype.forEach.call(table.tHead.rows[0].cells, function (c) { c.removeAttribute('data-dir'); });
    th.setAttribute('data-dir', asc ? 'asc' : 'desc');
    rows.sort(function (a, b) {
      var x = cellValue(a.cells[col]), y = cellValue(b.cells[col]);
      var r = (typeof x === 'number' && typeof y === 'number') ? x - y : String(x).localeCompare(String(y));
      return asc ? r : -r;
    });
    rows.forEach(function (r) { body.appendChild(r); });
  }

  function ready() {
    var tables = document.querySelectorAll('table.sortable');
    Array.prototype.forEach.call(tables, function (table) {
      Array.prototype.forEach.call(table.tHead.rows[0].cells, function (th, i) {
        th.addEventListener('click', function () { sortTable(table, i, th); });
      });
    });
    var tip = document.getElementById('tip');
    var marks = document.querySelectorAll('svg.chart [data-tip]');
    Array.prototype.forEach.call(marks, function (m) {
      m.addEventListener('mousemove', function (e) {
        tip.textContent = m.getAttribute('data-tip');
        tip.style.left = (e.clientX + 12) + 'px';
        tip.style.top = (e.clientY + 12) + 'px';
        tip.style.display = 'block';
      });
      m.addEventListener('mouseleave', function () { tip.style.display = 'none'; });
    });
    var charts = document.querySelectorAll('svg.chart');
    document.body.setAttribute('data-charts', String(charts.length));
    document.body.setAttribute('data-marks', String(marks.length));
    if (errors.length === 0) { document.body.setAttribute('data-rendered', 'ok'); }
  }

  if (document.readyState === 'loading') {
    document.addEventListener('DOMContentLoaded', function () {
      try { ready(); } catch (e) { report(e && e.message ? e.message : e); }
    });
  } else {
    try { ready(); } catch (e) { report(e && e.message ? e.message : e); }
  }
})();
"#;

fn card(s: &mut String, k: &str, v: &str) {
    let _ = write!(
        s,
        r#"<div class="card"><div class="k">{}</div><div class="v">{}</div></div>"#,
        esc(k),
        esc(v)
    );
}

fn row_cells(s: &mut String, r: &Row) {
    let rules: Vec<String> = r
        .top_rules
        .iter()
        .map(|x| format!("{} ({})", x.rule, num(x.count)))
        .collect();
    let _ = write!(
        s,
        r#"<td>{}</td><td>{}</td><td class="n" data-sort="{}">{}</td><td class="n" data-sort="{}">{}</td><td class="n" data-sort="{}">{}</td><td class="n" data-sort="{}">{}</td><td class="n" data-sort="{}">{}</td><td class="n" data-sort="{}">{}</td><td class="n" data-sort="{}">{}</td><td>{}</td>"#,
        esc(&r.period),
        esc(&r.group),
        r.interactions,
        num(r.interactions),
        r.sampled,
        r.sampled,
        r.never_rate,
        pct(r.never_rate),
        r.caution_rate,
        pct(r.caution_rate),
        r.secret_exposures,
        r.secret_exposures,
        r.blocked,
        num(r.blocked),
        r.redacted,
        num(r.redacted),
        esc(&rules.join(", "))
    );
}

const HEAD: &str = "<th>Period</th><th>Group</th><th>Interactions</th><th>Sampled</th><th>Never</th><th>Caution</th><th>Secret exposures</th><th>Blocked</th><th>Redacted</th><th>Top rules</th>";

/// Renders the report as one self-contained HTML document.
pub fn render(r: &Report) -> String {
    let m = &r.meta;
    let mut s = String::with_capacity(32 * 1024);
    s.push_str("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">");
    s.push_str("<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'; img-src data:\">");
    s.push_str("<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">");
    s.push_str("<title>promptgate report</title><style>");
    s.push_str(CSS);
    s.push_str("</style><script>");
    s.push_str(JS);
    s.push_str("</script></head><body><main>");
    s.push_str("<h1>promptgate: prompt hygiene report</h1>");
    let _ = write!(s, r#"<p class="sub">{}</p>"#, esc(&describe(m)));
    if let Some(n) = sampling_note(m) {
        let _ = write!(s, r#"<p class="note">{}</p>"#, esc(&n));
    }
    s.push_str(r#"<pre id="errors" hidden></pre>"#);

    // Totals over the whole range.
    s.push_str(r#"<div class="cards">"#);
    if let Some(o) = &m.overall {
        card(&mut s, "Interactions (scaled)", &num(o.interactions));
        card(&mut s, "Screened", &o.sampled.to_string());
        card(&mut s, "With a never-box finding", &pct(o.never_rate));
        card(&mut s, "In caution", &pct(o.caution_rate));
        card(&mut s, "Secret exposures", &o.secret_exposures.to_string());
        card(
            &mut s,
            "Blocked / redacted",
            &format!("{} / {}", num(o.blocked), num(o.redacted)),
        );
    }
    if let Some(b) = m.baseline_exposures_per_1k {
        card(&mut s, "Baseline exposures per 1k", &format!("{b:.2}"));
        if let Some(c) = m.changes.iter().rev().find(|c| c.group == "all") {
            card(
                &mut s,
                &format!("Change by {}", c.period),
                &change_str(c.exposures),
            );
        }
    }
    s.push_str("</div>");

    // Charts.
    let labels: Vec<String> = m.over_time.iter().map(|r| r.period.clone()).collect();
    let base_never = r
        .baseline
        .as_ref()
        .map(|b| (b.never_rate, "baseline".to_string()));
    let base_exp = m
        .baseline_exposures_per_1k
        .map(|b| (b, "baseline".to_string()));
    s.push_str(r#"<h2>Charts</h2><div class="charts">"#);
    let _ = write!(
        s,
        "<figure><figcaption>Exposure rate over time (per {})</figcaption>{}</figure>",
        by_name(m.by),
        line_chart(
            "chart-exposure-rate",
            "Share of interactions with a never-box finding, and in caution, per period",
            &labels,
            &[
                (
                    "never box",
                    RED,
                    m.over_time.iter().map(|r| r.never_rate).collect()
                ),
                (
                    "caution",
                    ORANGE,
                    m.over_time.iter().map(|r| r.caution_rate).collect()
                ),
            ],
            pct,
            base_never,
        )
    );
    let _ = write!(
        s,
        "<figure><figcaption>Secret exposures per 1,000 interactions</figcaption>{}</figure>",
        vbar_chart(
            "chart-exposures",
            "Distinct secret and private key exposures per 1,000 interactions, per period",
            &labels,
            &m.over_time
                .iter()
                .map(|r| r.exposures_per_1k())
                .collect::<Vec<_>>(),
            f2,
            base_exp,
        )
    );
    let tools: Vec<(String, f64, String)> = m
        .by_tool
        .iter()
        .map(|r| {
            (
                r.group.clone(),
                r.never_rate,
                format!(" of {}", num(r.interactions)),
            )
        })
        .collect();
    let _ = write!(
        s,
        "<figure><figcaption>By tool: share with a never-box finding</figcaption>{}</figure>",
        hbar_chart(
            "chart-by-tool",
            "Share of interactions with a never-box finding, per client tool",
            &tools,
            pct,
            BLUE
        )
    );
    let rules: Vec<(String, f64, String)> = m
        .by_rule
        .iter()
        .take(12)
        .map(|r| (r.rule.clone(), r.count, String::new()))
        .collect();
    let _ = write!(
        s,
        "<figure><figcaption>By rule: interactions with a finding</figcaption>{}</figure>",
        hbar_chart(
            "chart-by-rule",
            "Interactions (scaled) in which each rule found something",
            &rules,
            num,
            ORANGE
        )
    );
    s.push_str("</div>");

    // Tables.
    let _ = write!(
        s,
        "<h2>Per {} and {}</h2>",
        by_name(m.by),
        match m.group {
            None => "overall".to_string(),
            Some(_) => group_name(m.group).to_string(),
        }
    );
    if r.rows.is_empty() {
        s.push_str(r#"<p class="note">No events in the selected range.</p>"#);
    } else {
        s.push_str(r#"<table class="sortable" id="rows"><thead><tr>"#);
        s.push_str(HEAD);
        s.push_str("</tr></thead><tbody>");
        for row in &r.rows {
            s.push_str("<tr>");
            row_cells(&mut s, row);
            s.push_str("</tr>");
        }
        s.push_str("</tbody></table>");
    }
    if let Some(b) = &r.baseline {
        s.push_str("<h2>Against the baseline</h2>");
        s.push_str(r#"<table id="baseline"><thead><tr>"#);
        s.push_str(HEAD);
        s.push_str("</tr></thead><tbody><tr>");
        row_cells(&mut s, b);
        s.push_str("</tr></tbody></table>");
        if m.changes.is_empty() {
            s.push_str(r#"<p class="note">No periods after the baseline yet.</p>"#);
        } else {
            s.push_str(r#"<h2>Change against the baseline (secret exposures per 1,000 interactions, never rate)</h2>"#);
            s.push_str(r#"<table class="sortable" id="changes"><thead><tr><th>Period</th><th>Group</th><th>Secret exposures per 1k</th><th>Change in exposures</th><th>Change in never rate</th></tr></thead><tbody>"#);
            for c in &m.changes {
                let cls = |v: Option<f64>| match v {
                    Some(v) if v < 0.0 => "n down",
                    Some(v) if v > 0.0 => "n up",
                    _ => "n",
                };
                let _ = write!(
                    s,
                    r#"<tr><td>{}</td><td>{}</td><td class="n" data-sort="{}">{:.2}</td><td class="{}" data-sort="{}">{}</td><td class="{}" data-sort="{}">{}</td></tr>"#,
                    esc(&c.period),
                    esc(&c.group),
                    c.exposures_per_1k,
                    c.exposures_per_1k,
                    cls(c.exposures),
                    c.exposures.unwrap_or(0.0),
                    change_str(c.exposures),
                    cls(c.never_rate),
                    c.never_rate.unwrap_or(0.0),
                    change_str(c.never_rate)
                );
            }
            s.push_str("</tbody></table>");
        }
    }
    s.push_str(r#"<footer>Generated by promptgate. Rates are over screened interactions; secret exposures are distinct fingerprints of secret and private key findings (one key pasted ten times is one incident). The audit log and this report hold rule names and counts, never detected values.</footer>"#);
    s.push_str(r#"</main><div id="tip"></div></body></html>"#);
    s.push('\n');
    s
}
