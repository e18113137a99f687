//! The collector's background work, owned: every loop (rollups, alert
//! delivery and batching, the outage detector, the rate limiter's
//! forgetting) is a task of one [`Workers`] set, started with a [`Stop`]
//! it watches between two rounds of its work. At shutdown, once the server
//! has drained ingest, [`Workers::stop`] signals them and waits for each
//! to finish the round it is in (a rollup's hour, an alert's delivery), up
//! to a grace period; none outlives [`crate::run`]. The ClickHouse store
//! owns its shipper the same way and stops it in [`Store::close`](crate::store::Store::close).

use std::future::Future;
use std::time::Duration;

use tokio::sync::watch;
use tokio::task::JoinSet;

/// The signal a worker watches: the collector is stopping.
#[derive(Debug, Clone)]
pub struct Stop(watch::Receiver<bool>);

impl Stop {
    /// Whether the collector is stopping.
    pub fn requested(&self) -> bool {
        *self.0.borrow()
    }

    /// Waits until the collector stops (at once when it is stopping).
    pub async fn stopped(&mut self) {
        let _ = self.0.wait_for(|stopping| *stopping).await;
    }

    /// Sleeps `wait`: `true` when the time is up, `false` as soon as the
    /// collector stops instead.
    pub async fn sleep(&mut self, wait: Duration) -> bool {
        tokio::select! {
            () = tokio::time::sleep(wait) => !self.requested(),
            () = self.stopped() => false,
        }
    }
}

/// The running workers and their stop signal.
#[derive(Debug)]
pub struct Workers {
    tasks: JoinSet<()>,
    stop: watch::Sender<bool>,
}

impl Default for Workers {
    fn default() -> Self {
        Workers::new()
    }
}

impl Workers {
    /// No workers yet.
    pub fn new() -> Workers {
        Workers { tasks: JoinSet::new(), stop: watch::channel(false).0 }
    }

    /// The signal for a worker to watch.
    pub fn stop_signal(&self) -> Stop {
        Stop(self.stop.subscribe())
    }

    /// Starts `work`, made from its stop signal.
    pub fn spawn<F: Future<Output = ()> + Send + 'static>(&mut self, work: impl FnOnce(Stop) -> F) {
        let stop = self.stop_signal();
        self.tasks.spawn(work(stop));
    }

    /// How many are running.
    pub fn len(&self) -> usize {
        self.tasks.len()
    }

    /// Whether none is running.
    pub fn is_empty(&self) -> bool {
        self.tasks.is_empty()
    }

    /// Signals every worker to stop and waits for them, `grace` at most;
    /// those still running then are aborted (and logged).
    pub async fn stop(mut self, grace: Duration) {
        let _ = self.stop.send(true);
        let finished = tokio::time::timeout(grace, async { while self.tasks.join_next().await.is_some() {} }).await;
        if finished.is_err() {
            tracing::warn!(message = "workers did not stop in time; aborted", running = self.tasks.len());
            self.tasks.shutdown().await;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn workers_stop_between_rounds_and_none_is_left() {
        let mut workers = Workers::new();
        let rounds = std::sync::Arc::new(std::sync::atomic::AtomicU32::new(0));
        for _ in 0..3 {
            let rounds = rounds.clone();
            workers.spawn(|mut stop| async move {
                while stop.sleep(Duration::from_millis(5)).await {
                    rounds.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                }
            });
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
        assert_eq!(workers.len(), 3);
        let started = std::time::Instant::now();
        workers.stop(Duration::from_secs(5)).await;
        assert!(started.elapsed() < Duration::from_secs(1), "stopped at once, not after the grace");
        assert!(rounds.load(std::sync::atomic::Ordering::Relaxed) > 3);
    }

    #[tokio::test]
    async fn a_worker_that_does_not_stop_is_aborted_after_the_grace() {
        let mut workers = Workers::new();
        workers.spawn(|_| std::future::pending::<()>());
        let started = std::time::Instant::now();
        workers.stop(Duration::from_millis(100)).await;
        assert!(started.elapsed() >= Duration::from_millis(100));
    }
}
