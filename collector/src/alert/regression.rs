//! The regression alert: did the latest release make things worse? Every
//! `regression_check_ms`, each site with a hook and at least two deploy
//! markers: once its latest release has `regression_min_views` page views,
//! it is compared with the release before ([`crate::compare`]), once. A
//! `worse` verdict on LCP, INP, CLS, abandonment or CSAT (the measures
//! marked `alerts` in [`MEASURES`]) queues one alert per release, measure
//! and hook, naming the measure, both values, the interval and a dashboard
//! link. The intervals are 99% ([`Z_99`]): five measures judged at once
//! keep the chance that an unchanged release alerts under 5% (Bonferroni).
//!
//! Judged once per release (the `regression-judged:` key, with the alerted
//! keys of [`Store::first_alerted`]): a release is not tested again and
//! again as views come in, which would make a false alarm ever likelier;
//! and a restart neither repeats an alert nor loses the judgement.

use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::Duration;

use serde_json::json;
use sha2::{Digest, Sha256};

use super::{hooks_for, message::slack_escaped};
use crate::compare::{measure, Measure, MeasureDef, Verdict, MEASURES, MINIMUMS, Z_99};
use crate::error::Result;
use crate::metrics::Metrics;
use crate::model::now_ms;
use crate::release::{self, Described, Side};
use crate::stats::Stats;
use crate::store::{AlertHook, Delivery, Selection, Store, DAY_MS};
use crate::workers::Workers;

/// When a release is judged.
#[derive(Debug, Clone, PartialEq)]
pub struct Rules {
    /// Page views the latest release needs first.
    pub min_views: u64,
    /// The dashboard's address, for the alert's link.
    pub dashboard_url: String,
}

/// The measures of `b` that alert as worse than `a`, at 99%.
pub fn regressions(a: &Stats, b: &Stats) -> Vec<(&'static MeasureDef, Measure)> {
    MEASURES
        .iter()
        .filter(|def| def.alerts)
        .map(|def| (def, measure(def, a, b, Z_99, &MINIMUMS)))
        .filter(|(_, measure)| measure.verdict == Verdict::Worse)
        .collect()
}

/// Starts the checker; it stops between two checks.
pub fn spawn(
    workers: &mut Workers,
    store: Arc<dyn Store>,
    configured: Vec<AlertHook>,
    every_ms: u64,
    rules: Rules,
    metrics: Arc<Metrics>,
) {
    if every_ms == 0 {
        return;
    }
    workers.spawn(|mut stop| async move {
        loop {
            if let Err(error) = check(&store, &configured, &rules, &metrics).await {
                tracing::warn!(message = "regression check failed", %error);
            }
            if !stop.sleep(Duration::from_millis(every_ms)).await {
                break;
            }
        }
    });
}

async fn check(store: &Arc<dyn Store>, configured: &[AlertHook], rules: &Rules, metrics: &Metrics) -> Result<()> {
    let stored = store.alert_hooks().await?;
    let sites: BTreeSet<String> = configured.iter().chain(&stored).map(|hook| hook.site.clone()).collect();
    let now = now_ms();
    for site in sites {
        metrics.alerts.with_label_values(&["regression", "checked"]).inc();
        let releases = store.releases(&site).await?;
        let [.., before, latest] = releases.as_slice() else { continue };
        // The releases' own page views from a day before the earlier marker.
        let everything = Selection::period(&site, before.at_ms.min(latest.at_ms) - DAY_MS, now + 1);
        let (latest_side, before_side) = (Side::Release(latest.name.clone()), Side::Release(before.name.clone()));
        let (b, b_stats) = release::read(store, metrics, &everything, &releases, &latest_side, now).await?;
        if b.page_views < rules.min_views {
            metrics.alerts.with_label_values(&["regression", "waiting"]).inc();
            continue;
        }
        let judged = format!("regression-judged:{site}:{}", latest.name);
        if store.first_alerted(vec![judged]).await?.is_empty() {
            continue;
        }
        let (a, a_stats) = release::read(store, metrics, &everything, &releases, &before_side, now).await?;
        let worse = regressions(&a_stats, &b_stats);
        metrics.alerts.with_label_values(&["regression", "judged"]).inc();
        tracing::info!(message = "release judged", %site, release = %latest.name, worse = worse.len());
        let keys: Vec<String> =
            worse.iter().map(|(def, _)| format!("regression:{site}:{}:{}", latest.name, def.name)).collect();
        let fresh = store.first_alerted(keys).await?;
        let hooks = hooks_for(configured, &stored, &site);
        let mut deliveries = Vec::new();
        for (def, measure) in
            worse.iter().filter(|(def, _)| fresh.contains(&format!("regression:{site}:{}:{}", latest.name, def.name)))
        {
            for hook in &hooks {
                let digest = hex::encode(Sha256::digest(hook.url.as_bytes()));
                deliveries.push(Delivery {
                    key: format!("regression:{site}:{}:{}:{}", latest.name, def.name, &digest[..16]),
                    body: message(&hook.format, &site, def, measure, &a, &b, &rules.dashboard_url),
                    url: hook.url.clone(),
                    attempts: 0,
                });
            }
        }
        metrics.alerts.with_label_values(&["regression", "queued"]).inc_by(deliveries.len() as u64);
        store.queue_alerts(deliveries, now).await?;
    }
    Ok(())
}

/// A value of `def` as a person reads it: ms as seconds, rates as percent.
fn shown(def: &MeasureDef, value: f64) -> String {
    match def.name {
        "cls" => format!("{value:.3}"),
        name if name.ends_with("_ms") && value.abs() >= 1000.0 => format!("{:.2} s", value / 1000.0),
        name if name.ends_with("_ms") => format!("{value:.0} ms"),
        _ => format!("{:.1}%", value * 100.0),
    }
}

/// The alert's body in the hook's `format`.
pub fn message(
    format: &str,
    site: &str,
    def: &MeasureDef,
    measure: &Measure,
    a: &Described,
    b: &Described,
    dashboard_url: &str,
) -> String {
    let value = |v: Option<f64>| v.map_or("–".to_string(), |v| shown(def, v));
    let signed = |v: Option<f64>| {
        v.map_or("–".to_string(), |v| format!("{}{}", if v > 0.0 { "+" } else { "" }, shown(def, v)))
    };
    if format == "slack" {
        let text = format!(
            ":warning: *{}*: release *{}* made {} worse: {} (was {} in {}), {} (99% interval {} to {}), \
             over {} and {} page views. <{}|Open the dashboard>",
            slack_escaped(site),
            slack_escaped(b.release.as_deref().unwrap_or(&b.label)),
            def.label,
            value(measure.b),
            value(measure.a),
            slack_escaped(a.release.as_deref().unwrap_or(&a.label)),
            signed(measure.difference),
            signed(measure.low),
            signed(measure.high),
            b.page_views,
            a.page_views,
            dashboard_url,
        );
        return json!({ "text": text }).to_string();
    }
    json!({
        "event": "regression",
        "site": site,
        "release": b.release,
        "previous_release": a.release,
        "measure": def.name,
        "label": def.label,
        "a": measure.a,
        "b": measure.b,
        "difference": measure.difference,
        "low": measure.low,
        "high": measure.high,
        "confidence": 0.99,
        "a_count": measure.a_count,
        "b_count": measure.b_count,
        "page_views": { "a": a.page_views, "b": b.page_views },
        "since": b.from,
        "dashboard": dashboard_url,
    })
    .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::PageView;

    fn stats(lcp: impl Fn(usize) -> f64, n: usize) -> Stats {
        let mut stats = Stats::default();
        for i in 0..n {
            stats.add(&PageView { lcp_ms: Some(lcp(i)), abandoned: Some(i % 20 == 0), ..PageView::default() });
        }
        stats
    }

    fn described(release: &str, page_views: u64) -> Described {
        Described {
            label: release.into(),
            release: Some(release.into()),
            from: "2026-12-06T00:00:00Z".into(),
            to: "2026-12-06T01:00:00Z".into(),
            page_views,
            from_ms: 0,
            to_ms: 0,
        }
    }

    #[test]
    fn a_slower_release_alerts_on_lcp_alone_with_both_values_and_the_interval() {
        let a = stats(|i| 1000.0 + (i % 100) as f64 * 8.0, 2000);
        let b = stats(|i| 1500.0 + (i % 100) as f64 * 12.0, 2000);
        let worse = regressions(&a, &b);
        assert_eq!(worse.iter().map(|(def, _)| def.name).collect::<Vec<_>>(), ["lcp_ms"]);
        let (def, measure) = &worse[0];
        let (old, new) = (described("v1 <!channel>", 2000), described("v2", 2000));
        let slack = message("slack", "shop", def, measure, &old, &new, "https://c.example/dashboard/");
        let text = serde_json::from_str::<serde_json::Value>(&slack).unwrap()["text"].as_str().unwrap().to_string();
        assert!(text.contains("release *v2* made p75 LCP worse: 2.40 s (was 1.58 s in v1 &lt;!channel&gt;)"), "{text}");
        assert!(text.contains("99% interval +") && text.contains("<https://c.example/dashboard/|"), "{text}");
        let body: serde_json::Value =
            serde_json::from_str(&message("json", "shop", def, measure, &old, &new, "https://c.example/dashboard/"))
                .unwrap();
        assert_eq!(body["measure"], "lcp_ms");
        assert!(body["low"].as_f64().unwrap() > 0.0 && body["high"].as_f64().unwrap() > body["low"].as_f64().unwrap());
        assert_eq!(body["dashboard"], "https://c.example/dashboard/");
        // The same release: nothing.
        assert!(regressions(&a, &a).is_empty());
    }
}
