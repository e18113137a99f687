//! Alerts that reach the site owner: webhooks (generic JSON, or a
//! Slack-compatible `{"text": ...}`) for new negative feedback with a
//! comment, batched per site, and for outages and slowdowns.
//!
//! - [`feedback`]: ingest hands unhappy commented answers over without
//!   waiting (a bounded channel; when full they are counted and dropped);
//!   a worker batches them per site, keeps each page view to one alert
//!   (re-sent beacons do not alert again), and queues one delivery per hook.
//! - [`deliver`]: the durable delivery queue, retried with backoff until the
//!   receiver answers 2xx; each alert is delivered once.
//! - [`outage`]: outage and slowdown incidents against the site's own
//!   baseline, alerted once when they open and once when they close.
//! - [`regression`]: a release that made LCP, INP, CLS, abandonment or
//!   CSAT worse than the release before, alerted once per measure.
//!
//! Hooks come from `alert add` (stored) and from `[[alerts]]` in the config.

pub mod deliver;
pub mod feedback;
mod message;
pub mod outage;
pub mod regression;

use std::sync::Arc;

use crate::config::Config;
use crate::metrics::Metrics;
use crate::store::{AlertHook, Store};
use crate::workers::Workers;

pub use feedback::FeedbackAlerts;

/// Every hook of `site`: the config file's and the `stored` ones.
pub fn hooks_for(configured: &[AlertHook], stored: &[AlertHook], site: &str) -> Vec<AlertHook> {
    configured.iter().chain(stored).filter(|hook| hook.site == site).cloned().collect()
}

/// Starts the alert workers among `workers`; the handle ingest notifies.
/// `reporters` is where ingest notes which clients report an outage's signals.
pub fn spawn(
    workers: &mut Workers,
    store: Arc<dyn Store>,
    config: &Config,
    reporters: Arc<outage::Reporters>,
    metrics: Arc<Metrics>,
) -> FeedbackAlerts {
    deliver::spawn(workers, store.clone(), metrics.clone());
    let rules = outage::Rules {
        window_ms: config.outage_window_ms as i64,
        min_views: config.outage_min_views,
        min_clients: config.outage_min_clients,
    };
    let (hooks, every) = (config.alerts.clone(), config.outage_check_ms);
    outage::spawn(workers, store.clone(), hooks, every, rules, reporters, metrics.clone());
    let rules = regression::Rules { min_views: config.regression_min_views, dashboard_url: config.dashboard_url() };
    regression::spawn(
        workers,
        store.clone(),
        config.alerts.clone(),
        config.regression_check_ms,
        rules,
        metrics.clone(),
    );
    feedback::spawn(workers, store, config.alerts.clone(), config.alert_batch_ms, metrics)
}
