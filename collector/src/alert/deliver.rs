//! Delivers queued alerts: POSTs each to its hook, retries with backoff
//! (1 s doubling to 5 min) until a 2xx answer, then forgets it. A receiver
//! that refuses it (a 3xx, since redirects are not followed, or a 4xx other
//! than 408 and 429) [`MAX_REFUSED_ATTEMPTS`] times will not take it: it is
//! dropped, logged and counted as `dead_letter`, so the queue does not grow.

use std::sync::Arc;
use std::time::Duration;

use crate::metrics::Metrics;
use crate::model::now_ms;
use crate::store::{Delivery, Store};
use crate::workers::Workers;

/// How often the queue is looked at.
const POLL: Duration = Duration::from_millis(500);
/// Longest wait between two attempts, ms.
const MAX_BACKOFF_MS: i64 = 300_000;

/// Attempts a delivery gets when its receiver refuses it.
pub const MAX_REFUSED_ATTEMPTS: u32 = 3;

/// When to try again after `attempts` failed attempts.
pub fn retry_at(now_ms: i64, attempts: u32) -> i64 {
    now_ms + (1000i64 << attempts.min(20)).min(MAX_BACKOFF_MS)
}

/// Starts the delivery loop; it stops between two deliveries.
pub fn spawn(workers: &mut Workers, store: Arc<dyn Store>, metrics: Arc<Metrics>) {
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(10))
        .redirect(reqwest::redirect::Policy::none())
        .user_agent(concat!("palaute/", env!("CARGO_PKG_VERSION")))
        .build();
    let Ok(client) = client else {
        tracing::error!("no HTTP client: alerts will not be delivered");
        return;
    };
    workers.spawn(|mut stop| async move {
        while stop.sleep(POLL).await {
            let due = match store.due_alerts(now_ms(), 20).await {
                Ok(due) => due,
                Err(error) => {
                    tracing::warn!(message = "cannot read the alert queue", %error);
                    continue;
                }
            };
            for delivery in due {
                if stop.requested() {
                    break;
                }
                deliver(&client, &store, &metrics, delivery).await;
            }
        }
    });
}

async fn deliver(client: &reqwest::Client, store: &Arc<dyn Store>, metrics: &Metrics, delivery: Delivery) {
    let sent = client
        .post(&delivery.url)
        .header(reqwest::header::CONTENT_TYPE, "application/json")
        .body(delivery.body.clone())
        .send()
        .await;
    let attempts = delivery.attempts + 1;
    let outcome = match &sent {
        Ok(answer) if answer.status().is_success() => "delivered",
        Ok(answer) if refuses(answer.status()) && attempts >= MAX_REFUSED_ATTEMPTS => "dead_letter",
        Ok(answer) => {
            tracing::warn!(message = "alert refused; will retry", key = %delivery.key, status = %answer.status());
            "failed"
        }
        Err(error) => {
            tracing::warn!(message = "alert not delivered; will retry", key = %delivery.key, %error);
            "failed"
        }
    };
    match outcome {
        "delivered" => tracing::info!(message = "alert delivered", key = %delivery.key, attempts),
        "dead_letter" => tracing::warn!(message = "alert refused, dropped", key = %delivery.key, attempts),
        _ => {}
    }
    metrics.alerts.with_label_values(&["delivery", outcome]).inc();
    let done = outcome != "failed";
    let settled = store.settle_alert(delivery.key.clone(), done, retry_at(now_ms(), delivery.attempts)).await;
    if let Err(error) = settled {
        tracing::warn!(message = "cannot settle an alert", key = %delivery.key, %error);
    }
}

/// Whether an answer says the receiver will not take this alert however
/// often it is sent: a redirect (not followed) or a client error, but for
/// a timeout (408) or a rate limit (429).
fn refuses(status: reqwest::StatusCode) -> bool {
    status.is_redirection() || (status.is_client_error() && status != 408 && status != 429)
}
