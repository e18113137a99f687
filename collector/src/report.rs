//! `palaute-collector report`: a site's summary, the pages losing the most
//! visitors to slowness, the elements visitors fight with (rage and dead
//! clicks) and the abandonment curve, as terminal tables. The
//! numbers are the analyst API's, computed by the same code.

use std::fmt::Write;
use std::sync::Arc;

use crate::api::aggregate::{self, Abandonment, BreakdownRow, Dimension, Ranking, Summary};
use crate::api::period::PeriodQuery;
use crate::error::Result;
use crate::metrics::Metrics;
use crate::model::{format_time, now_ms};
use crate::rollup::query;
use crate::store::Store;

/// Rows of the worst-pages table.
const WORST_PAGES: usize = 10;

/// The most viewed routes (and frustrating elements) the report weighs.
const ROUTES_WEIGHED: usize = 100;

/// Of a breakdown's groups, those that lost the most visitors first (the
/// `other` row and page views without a value left out).
fn worst_pages(mut rows: Vec<BreakdownRow>) -> Vec<BreakdownRow> {
    rows.retain(|row| !row.other && row.key.is_some());
    rows.sort_by(|a, b| b.lost.cmp(&a.lost).then(b.page_views.cmp(&a.page_views)).then(a.key.cmp(&b.key)));
    rows
}

/// Rows of the frustrating-elements table.
const WORST_ELEMENTS: usize = 5;

/// The report of `site` since `since` (ISO-8601 or relative like `7d`).
pub async fn report(store: &Arc<dyn Store>, site: &str, since: &str) -> Result<String> {
    let query = PeriodQuery { from: Some(since.to_string()), ..PeriodQuery::default() };
    let selection = query.selection(site, now_ms())?;
    let metrics = Metrics::default();
    let total = query::total(store, &metrics, &selection).await?;
    let routes = query::by_value(store, &metrics, &selection, Dimension::Route).await?;
    let pages = worst_pages(aggregate::breakdown(routes, ROUTES_WEIGHED, Ranking::PageViews));
    let targets = query::by_value(store, &metrics, &selection, Dimension::FrustrationTarget).await?;
    let elements = aggregate::breakdown(targets, ROUTES_WEIGHED, Ranking::Frustrated);
    let period = format!("{} → {} UTC", short_time(selection.from_ms), short_time(selection.to_ms));
    Ok(render(site, &period, &Summary::of(&total), &pages, &elements, &Abandonment::of(&total)))
}

fn short_time(ms: i64) -> String {
    format_time(ms).get(..16).unwrap_or_default().replace('T', " ")
}

fn percent(rate: Option<f64>) -> String {
    rate.map_or("–".into(), |r| format!("{:.1}%", r * 100.0))
}

fn duration(ms: Option<f64>) -> String {
    match ms {
        None => "–".into(),
        Some(ms) if ms >= 1000.0 => format!("{:.2} s", ms / 1000.0),
        Some(ms) => format!("{ms:.0} ms"),
    }
}

/// Renders the report (pure, for tests).
pub fn render(
    site: &str,
    period: &str,
    summary: &Summary,
    pages: &[BreakdownRow],
    elements: &[BreakdownRow],
    curve: &Abandonment,
) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "palaute report: {site}, {period}\n");
    let csat = &summary.csat;
    let _ = writeln!(
        out,
        "page views {}   abandoned {}   slow bounces {}   feedback {} ({} satisfied, CSAT {}, 95% CI {}-{})\n",
        summary.page_views,
        percent(summary.abandonment_rate),
        percent(summary.slow_bounce_rate),
        csat.answers,
        csat.satisfied,
        percent(csat.rate),
        percent(csat.low),
        percent(csat.high)
    );
    let _ =
        writeln!(out, "{:<6} {:>9} {:>9} {:>9} {:>7} {:>7} {:>7}", "vital", "p50", "p75", "p95", "good", "ni", "poor");
    for (name, vital) in &summary.vitals {
        let show =
            |v: Option<f64>| if *name == "cls" { v.map_or("–".into(), |v| format!("{v:.3}")) } else { duration(v) };
        let _ = writeln!(
            out,
            "{:<6} {:>9} {:>9} {:>9} {:>7} {:>7} {:>7}",
            name.trim_end_matches("_ms").to_uppercase(),
            show(vital.p50),
            show(vital.p75),
            show(vital.p95),
            percent(vital.good),
            percent(vital.needs_improvement),
            percent(vital.poor)
        );
    }
    let _ = writeln!(out, "\nroutes losing the most visitors to slowness");
    let _ = writeln!(out, "{:<32} {:>8} {:>7} {:>8} {:>9}", "route", "views", "lost", "lost %", "LCP p75");
    for page in pages.iter().take(WORST_PAGES) {
        let path: String = page.key.as_deref().unwrap_or("(none)").chars().take(32).collect();
        let lcp = page.vitals.get("lcp_ms").and_then(|v| v.p75);
        let _ = writeln!(
            out,
            "{:<32} {:>8} {:>7} {:>8} {:>9}",
            path,
            page.page_views,
            page.lost,
            percent(page.lost_rate),
            duration(lcp)
        );
    }
    let _ = writeln!(
        out,
        "\nelements visitors fight with (rage or dead clicks in {} of page views)",
        percent(summary.frustrated_rate)
    );
    let _ = writeln!(out, "{:<40} {:>10} {:>7} {:>8}", "element", "frustrated", "views", "CSAT");
    for element in elements.iter().filter(|e| !e.other && e.key.is_some()).take(WORST_ELEMENTS) {
        let name: String = element.key.as_deref().unwrap_or_default().chars().take(40).collect();
        let csat = &element.csat;
        let said = if csat.answers > 0 { format!("{} of {}", percent(csat.rate), csat.answers) } else { "–".into() };
        let _ = writeln!(out, "{name:<40} {:>10} {:>7} {said:>8}", element.frustrated, element.page_views);
    }
    let _ = writeln!(out, "\nabandonment and satisfaction by load time (share of those still waiting who left; CSAT)");
    for bucket in &curve.buckets {
        let label = match bucket.to_ms {
            Some(to) => format!("{:.0}-{:.0} s", bucket.from_ms / 1000.0, to / 1000.0),
            None => format!("{:.0}+ s", bucket.from_ms / 1000.0),
        };
        let rate = bucket.left_while_waiting_rate.unwrap_or(0.0);
        let bar = "█".repeat((rate * 40.0).round() as usize);
        let _ = writeln!(
            out,
            "{label:<8} {:>8} views  {:>6}  {:<16} CSAT {:>6} of {}",
            bucket.page_views,
            percent(bucket.left_while_waiting_rate),
            bar,
            percent(bucket.csat.rate),
            bucket.csat.answers
        );
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::PageView;
    use crate::stats::Stats;

    #[test]
    fn renders_the_summary_pages_and_curve() {
        let mut stats = Stats::default();
        let mut groups = std::collections::BTreeMap::new();
        let mut targets = std::collections::BTreeMap::new();
        for (i, (url, load, abandoned)) in
            [("/a", 1500.0, false), ("/b", 6500.0, true), ("/b", 5200.0, false)].into_iter().enumerate()
        {
            let view = PageView {
                url: url.into(),
                lcp_ms: Some(load - 200.0),
                load_ms: (!abandoned).then_some(load),
                left_at_ms: Some(load + 2000.0),
                abandoned: Some(abandoned),
                slow_bounce: Some(!abandoned && load > 4000.0),
                feedback_scale: (i == 0).then(|| "thumbs".into()),
                feedback_rating: (i == 0).then_some(1),
                dead_clicks: Some(u32::from(i > 0)),
                frustration_target: (i > 0).then(|| "button#pay".into()),
                ..PageView::default()
            };
            stats.add(&view);
            groups.entry(Some(url.to_string())).or_insert_with(Stats::default).add(&view);
            targets.entry(view.frustration_target.clone()).or_insert_with(Stats::default).add(&view);
        }
        let text = render(
            "shop",
            "2026-11-17 09:00 → 2026-11-24 09:00 UTC",
            &Summary::of(&stats),
            &worst_pages(aggregate::breakdown(groups, 100, Ranking::PageViews)),
            &aggregate::breakdown(targets, 100, Ranking::Frustrated),
            &Abandonment::of(&stats),
        );
        assert!(text.contains("rage or dead clicks in 66.7% of page views"), "{text}");
        let element = text.lines().skip_while(|l| !l.starts_with("element ")).nth(1).unwrap();
        assert!(element.starts_with("button#pay") && element.split_whitespace().nth(1) == Some("2"), "{text}");
        assert!(
            text.contains("page views 3   abandoned 33.3%   slow bounces 33.3%   feedback 1 (1 satisfied, CSAT 100.0%"),
            "{text}"
        );
        let pages: Vec<&str> = text.lines().skip_while(|l| !l.starts_with("route ")).skip(1).take(2).collect();
        assert!(pages[0].starts_with("/b ") && pages[0].contains("100.0%"), "{pages:?}");
        assert!(text.contains("LCP"), "{text}");
        assert!(text.lines().any(|l| l.starts_with("8-9 s") || l.starts_with("6-7 s")), "{text}");
    }
}
