//! Outage and slowdown alerts: every `outage_check_ms`, each site with a
//! hook compares its last `outage_window_ms` with its own previous 24 hours.
//! A window well above that baseline (server errors, abandonment, or p75
//! LCP) opens an incident and alerts once; the first healthy window with
//! enough traffic closes it with a recovery message. The open incident is
//! kept in the store, so a restart neither repeats nor loses it.
//!
//! An incident opens only when its signal (server errors, abandonment, slow
//! LCP) came from at least `outage_min_clients` distinct clients in the
//! window ([`Reporters`]: the rate limiter's key, IP address or IPv6 /64,
//! held in memory only, for the window, never stored): one client cannot
//! open incidents with beacons of its own making.

use std::collections::{BTreeSet, HashMap};
use std::net::IpAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use palaute::vitals::thresholds::Vital;
use serde_json::json;
use sha2::{Digest, Sha256};

use super::hooks_for;
use crate::error::Result;
use crate::metrics::Metrics;
use crate::model::{format_time, now_ms, PageView};
use crate::rollup::query;
use crate::stats::Stats;
use crate::store::{AlertHook, Delivery, Selection, Store};
use crate::workers::Workers;

/// The baseline: this long before the window.
const BASELINE_MS: i64 = 24 * 3_600_000;

/// When a window counts as an outage or slowdown.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Rules {
    /// Length of the window, ms.
    pub window_ms: i64,
    /// Page views the window needs before it is judged.
    pub min_views: u64,
    /// Distinct clients that must have reported a signal before it opens
    /// an incident.
    pub min_clients: usize,
}

/// How many distinct clients reported each signal in a window.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Reporting {
    /// Page views answered 5xx.
    pub server_errors: usize,
    /// Page views left before they loaded.
    pub abandoned: usize,
    /// Page views with an LCP over 4 s.
    pub slow_lcp: usize,
}

impl Reporting {
    /// As many clients as any rule asks for (a recovery is judged on the
    /// page views alone).
    pub const ANY: Reporting = Reporting { server_errors: usize::MAX, abandoned: usize::MAX, slow_lcp: usize::MAX };
}

/// Most clients remembered per site: enough to tell "several".
const MAX_REPORTERS_PER_SITE: usize = 1_000;

/// The clients that recently sent a page view showing a signal, per site:
/// when each last reported each signal. In memory only; what is older than
/// the window is forgotten at each check.
#[derive(Default)]
pub struct Reporters {
    sites: Mutex<HashMap<String, HashMap<IpAddr, [i64; 3]>>>,
}

impl Reporters {
    /// Notes that `client` sent `view` of `site` at `now_ms`, if it shows
    /// a signal.
    pub fn record(&self, site: &str, client: IpAddr, view: &PageView, now_ms: i64) {
        let signals = [
            view.response_status.is_some_and(|status| status >= 500),
            view.abandoned == Some(true),
            view.lcp_ms.is_some_and(|lcp| lcp > 4000.0),
        ];
        if !signals.contains(&true) {
            return;
        }
        let mut sites = self.sites.lock().unwrap_or_else(|e| e.into_inner());
        if !sites.contains_key(site) {
            sites.insert(site.to_string(), HashMap::new());
        }
        let Some(clients) = sites.get_mut(site) else { return };
        if clients.len() >= MAX_REPORTERS_PER_SITE && !clients.contains_key(&client) {
            return;
        }
        let last = clients.entry(client).or_insert([i64::MIN; 3]);
        for (at, shown) in last.iter_mut().zip(signals) {
            if shown {
                *at = now_ms;
            }
        }
    }

    /// The distinct clients of `site` that reported each signal since
    /// `since_ms`.
    pub fn since(&self, site: &str, since_ms: i64) -> Reporting {
        let sites = self.sites.lock().unwrap_or_else(|e| e.into_inner());
        let count = |signal: usize| {
            sites.get(site).map_or(0, |clients| clients.values().filter(|last| last[signal] >= since_ms).count())
        };
        Reporting { server_errors: count(0), abandoned: count(1), slow_lcp: count(2) }
    }

    /// Forgets what no client reported since `since_ms`.
    fn forget(&self, since_ms: i64) {
        let mut sites = self.sites.lock().unwrap_or_else(|e| e.into_inner());
        for clients in sites.values_mut() {
            clients.retain(|_, last| last.iter().any(|at| *at >= since_ms));
        }
        sites.retain(|_, clients| !clients.is_empty());
    }
}

fn share(part: u64, whole: u64) -> f64 {
    if whole == 0 {
        0.0
    } else {
        part as f64 / whole as f64
    }
}

/// Why `window` is an incident against `baseline`, its signal reported by
/// enough clients (`reporting`); `None` when it is not (or has too little
/// traffic, or too few clients, to tell).
pub fn verdict(window: &Stats, baseline: &Stats, rules: &Rules, reporting: Reporting) -> Option<String> {
    if window.page_views < rules.min_views {
        return None;
    }
    let errors = share(window.server_errors, window.statuses);
    let usual_errors = share(baseline.server_errors, baseline.statuses);
    let enough = |clients: usize| clients >= rules.min_clients;
    if window.statuses >= rules.min_views
        && errors >= 0.2
        && errors >= 5.0 * usual_errors
        && enough(reporting.server_errors)
    {
        return Some(format!(
            "server errors (5xx) on {:.0}% of {} page views (usually {:.1}%)",
            errors * 100.0,
            window.statuses,
            usual_errors * 100.0
        ));
    }
    let abandoned = share(window.leaving.abandoned, window.leaving.known);
    let usual_abandoned = share(baseline.leaving.abandoned, baseline.leaving.known);
    if window.leaving.known >= rules.min_views
        && abandoned >= 0.3
        && abandoned >= 2.0 * usual_abandoned
        && enough(reporting.abandoned)
    {
        return Some(format!(
            "{:.0}% of visitors left before the page loaded (usually {:.1}%)",
            abandoned * 100.0,
            usual_abandoned * 100.0
        ));
    }
    let lcp = window.vital(Vital::Lcp);
    let usual_lcp = baseline.vital(Vital::Lcp).percentile(0.75).unwrap_or(0.0);
    match lcp.percentile(0.75) {
        Some(p75)
            if lcp.count() >= rules.min_views
                && p75 > 4000.0
                && p75 >= 2.0 * usual_lcp
                && enough(reporting.slow_lcp) =>
        {
            Some(format!("p75 LCP {:.1} s (usually {:.1} s)", p75 / 1000.0, usual_lcp / 1000.0))
        }
        _ => None,
    }
}

/// Starts the detector; it stops between two checks.
pub fn spawn(
    workers: &mut Workers,
    store: Arc<dyn Store>,
    configured: Vec<AlertHook>,
    every_ms: u64,
    rules: Rules,
    reporters: Arc<Reporters>,
    metrics: Arc<Metrics>,
) {
    if every_ms == 0 {
        return;
    }
    workers.spawn(|mut stop| async move {
        loop {
            reporters.forget(now_ms() - rules.window_ms);
            if let Err(error) = check(&store, &configured, &rules, &reporters, &metrics).await {
                tracing::warn!(message = "outage check failed", %error);
            }
            if !stop.sleep(Duration::from_millis(every_ms)).await {
                break;
            }
        }
    });
}

async fn total(store: &Arc<dyn Store>, metrics: &Metrics, site: &str, from: i64, to: i64) -> Result<Stats> {
    query::total(store, metrics, &Selection::period(site, from, to)).await
}

async fn check(
    store: &Arc<dyn Store>,
    configured: &[AlertHook],
    rules: &Rules,
    reporters: &Reporters,
    metrics: &Metrics,
) -> Result<()> {
    let stored = store.alert_hooks().await?;
    let sites: BTreeSet<String> = configured.iter().chain(&stored).map(|hook| hook.site.clone()).collect();
    let now = now_ms();
    for site in sites {
        let window = total(store, metrics, &site, now - rules.window_ms, now + 1).await?;
        let open = store.incident(&site).await?;
        let (event, opened_at, reason) = match open {
            None => {
                let baseline =
                    total(store, metrics, &site, now - rules.window_ms - BASELINE_MS, now - rules.window_ms).await?;
                let reporting = reporters.since(&site, now - rules.window_ms);
                let Some(reason) = verdict(&window, &baseline, rules, reporting) else { continue };
                store.set_incident(&site, Some((now, reason.clone()))).await?;
                tracing::warn!(message = "incident opened", %site, %reason);
                ("outage", now, reason)
            }
            Some((opened_at, reason)) => {
                // The baseline the incident was judged against, before its window.
                let before = opened_at - rules.window_ms;
                let baseline = total(store, metrics, &site, before - BASELINE_MS, before).await?;
                if window.page_views < rules.min_views || verdict(&window, &baseline, rules, Reporting::ANY).is_some() {
                    continue;
                }
                store.set_incident(&site, None).await?;
                tracing::info!(message = "incident closed", %site, %reason);
                ("recovered", opened_at, reason)
            }
        };
        let deliveries: Vec<Delivery> = hooks_for(configured, &stored, &site)
            .into_iter()
            .map(|hook| {
                let digest = hex::encode(Sha256::digest(hook.url.as_bytes()));
                Delivery {
                    key: format!("{event}:{site}:{opened_at}:{}", &digest[..16]),
                    body: message(&hook.format, event, &site, opened_at, now, &reason),
                    url: hook.url,
                    attempts: 0,
                }
            })
            .collect();
        metrics.alerts.with_label_values(&[event, "queued"]).inc_by(deliveries.len() as u64);
        store.queue_alerts(deliveries, now).await?;
    }
    Ok(())
}

fn message(format: &str, event: &str, site: &str, opened_at: i64, now: i64, reason: &str) -> String {
    let (opened, at) = (format_time(opened_at), format_time(now));
    if format == "slack" {
        let site = super::message::slack_escaped(site);
        let text = match event {
            "outage" => format!(":rotating_light: *{site}*: {reason} (since {opened})"),
            _ => format!(":white_check_mark: *{site}* recovered at {at} (incident since {opened}: {reason})"),
        };
        return json!({ "text": text }).to_string();
    }
    json!({ "event": event, "site": site, "reason": reason, "opened_at": opened, "at": at }).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::PageView;

    fn stats(views: impl IntoIterator<Item = PageView>) -> Stats {
        let mut stats = Stats::default();
        for view in views {
            stats.add(&view);
        }
        stats
    }

    fn view(status: u16, lcp: f64, abandoned: bool) -> PageView {
        PageView { response_status: Some(status), lcp_ms: Some(lcp), abandoned: Some(abandoned), ..PageView::default() }
    }

    #[test]
    fn an_incident_is_well_above_the_sites_own_baseline() {
        let rules = Rules { window_ms: 300_000, min_views: 20, min_clients: 3 };
        let verdict = |window: &Stats, usual: &Stats, rules: &Rules| verdict(window, usual, rules, Reporting::ANY);
        let usual = stats((0..200).map(|i| view(if i % 100 == 0 { 500 } else { 200 }, 1800.0, i % 10 == 0)));
        let healthy = stats((0..30).map(|_| view(200, 1900.0, false)));
        assert_eq!(verdict(&healthy, &usual, &rules), None);
        let errors = stats((0..30).map(|i| view(if i < 20 { 503 } else { 200 }, 1900.0, false)));
        assert!(verdict(&errors, &usual, &rules).unwrap().starts_with("server errors (5xx) on 67% of 30"));
        let leaving = stats((0..30).map(|i| view(200, 1900.0, i < 15)));
        assert!(verdict(&leaving, &usual, &rules).unwrap().contains("50% of visitors left"));
        let slow = stats((0..30).map(|_| view(200, 6500.0, false)));
        assert!(verdict(&slow, &usual, &rules).unwrap().starts_with("p75 LCP 6.5 s"));
        // Too little traffic to tell; and a site that is always slow is not having an incident.
        assert_eq!(verdict(&stats((0..5).map(|_| view(503, 1900.0, false))), &usual, &rules), None);
        let always_slow = stats((0..200).map(|_| view(200, 5000.0, false)));
        assert_eq!(verdict(&stats((0..30).map(|_| view(200, 5500.0, false))), &always_slow, &rules), None);
    }

    #[test]
    fn an_incident_needs_several_clients_reporting_its_signal() {
        let rules = Rules { window_ms: 300_000, min_views: 20, min_clients: 3 };
        let usual = stats((0..200).map(|_| view(200, 1800.0, false)));
        let errors = stats((0..30).map(|_| view(503, 1900.0, false)));
        let two = Reporting { server_errors: 2, abandoned: 9, slow_lcp: 9 };
        assert_eq!(super::verdict(&errors, &usual, &rules, two), None);
        let three = Reporting { server_errors: 3, ..two };
        assert!(super::verdict(&errors, &usual, &rules, three).is_some());

        let reporters = Reporters::default();
        let (a, b): (IpAddr, IpAddr) = ("10.0.0.1".parse().unwrap(), "10.0.0.2".parse().unwrap());
        for at in 0..30 {
            reporters.record("shop", a, &view(503, 900.0, false), 1_000 + at);
        }
        reporters.record("shop", b, &view(200, 5000.0, false), 2_000);
        reporters.record("shop", b, &view(200, 900.0, false), 2_500);
        assert_eq!(reporters.since("shop", 0), Reporting { server_errors: 1, abandoned: 0, slow_lcp: 1 });
        assert_eq!(reporters.since("shop", 1_500), Reporting { server_errors: 0, abandoned: 0, slow_lcp: 1 });
        reporters.forget(1_500);
        assert_eq!(reporters.since("shop", 0).server_errors, 0, "forgotten past the window");
    }
}
