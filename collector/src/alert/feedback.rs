//! Negative feedback with a comment, from ingest to queued deliveries.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use sha2::{Digest, Sha256};
use tokio::sync::mpsc;

use super::{hooks_for, message};
use crate::metrics::Metrics;
use crate::model::{now_ms, PageView};
use crate::stats::is_satisfied;
use crate::store::{AlertHook, Delivery, Store};
use crate::workers::Workers;

/// Unhappy answers waiting for the worker, at most.
const QUEUE: usize = 1024;

/// Ingest's side: hands unhappy commented answers to the worker.
#[derive(Clone)]
pub struct FeedbackAlerts {
    sender: mpsc::Sender<PageView>,
    metrics: Arc<Metrics>,
}

impl FeedbackAlerts {
    /// Hands over a stored page view for which [`wants_alert`] holds (ingest
    /// checks, and clones the view only then); never waits.
    pub fn notify(&self, view: PageView) {
        let outcome = if self.sender.try_send(view).is_ok() { "noticed" } else { "dropped" };
        self.metrics.alerts.with_label_values(&["feedback", outcome]).inc();
    }
}

/// An unhappy answer with a comment.
pub fn wants_alert(view: &PageView) -> bool {
    let unhappy = view.feedback_scale.as_deref().zip(view.feedback_rating).is_some_and(|(s, r)| !is_satisfied(s, r));
    unhappy && view.feedback_comment.as_deref().is_some_and(|c| !c.trim().is_empty())
}

/// Starts the worker: it gathers answers for `batch_ms`, then queues one
/// delivery per site and hook. When the collector stops, the batch being
/// gathered is queued at once.
pub fn spawn(
    workers: &mut Workers,
    store: Arc<dyn Store>,
    configured: Vec<AlertHook>,
    batch_ms: u64,
    metrics: Arc<Metrics>,
) -> FeedbackAlerts {
    let (sender, mut answers) = mpsc::channel::<PageView>(QUEUE);
    let handle = FeedbackAlerts { sender, metrics: metrics.clone() };
    workers.spawn(|mut stop| async move {
        loop {
            let first = tokio::select! {
                first = answers.recv() => first,
                () = stop.stopped() => answers.try_recv().ok(),
            };
            let Some(first) = first else { break };
            let mut batch = vec![first];
            let deadline = tokio::time::Instant::now() + Duration::from_millis(batch_ms);
            while !stop.requested() {
                tokio::select! {
                    more = tokio::time::timeout_at(deadline, answers.recv()) => match more {
                        Ok(Some(more)) => batch.push(more),
                        _ => break,
                    },
                    () = stop.stopped() => break,
                }
            }
            while let Ok(more) = answers.try_recv() {
                batch.push(more);
            }
            if let Err(error) = queue_batch(&store, &configured, batch, &metrics).await {
                tracing::warn!(message = "feedback alerts not queued", %error);
            }
        }
    });
    handle
}

async fn queue_batch(
    store: &Arc<dyn Store>,
    configured: &[AlertHook],
    batch: Vec<PageView>,
    metrics: &Metrics,
) -> crate::error::Result<()> {
    // The hooks are read once per batch, before any page view is marked alerted.
    let stored = store.alert_hooks().await?;
    let mut by_site: BTreeMap<String, BTreeMap<String, PageView>> = BTreeMap::new();
    for view in batch {
        by_site.entry(view.site.clone()).or_default().insert(view.id.clone(), view);
    }
    for (site, views) in by_site {
        let keys: Vec<String> = views.keys().map(|id| format!("feedback:{site}:{id}")).collect();
        let fresh = store.first_alerted(keys).await?;
        let fresh: Vec<PageView> =
            views.into_values().filter(|v| fresh.contains(&format!("feedback:{site}:{}", v.id))).collect();
        if fresh.is_empty() {
            continue;
        }
        let deliveries: Vec<Delivery> = hooks_for(configured, &stored, &site)
            .into_iter()
            .map(|hook| {
                let mut digest = Sha256::new();
                digest.update(hook.url.as_bytes());
                for view in &fresh {
                    digest.update(view.id.as_bytes());
                }
                Delivery {
                    key: format!("feedback:{}", hex::encode(digest.finalize())),
                    body: message::feedback(&hook.format, &site, &fresh),
                    url: hook.url,
                    attempts: 0,
                }
            })
            .collect();
        metrics.alerts.with_label_values(&["feedback", "queued"]).inc_by(deliveries.len() as u64);
        store.queue_alerts(deliveries, now_ms()).await?;
    }
    Ok(())
}
