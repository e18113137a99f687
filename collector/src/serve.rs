//! The HTTP server around the router, with the bounds that servers facing
//! the open internet keep (as nginx's `client_header_timeout`,
//! `keepalive_timeout`, `worker_connections` and its reuse of idle
//! connections):
//!
//! - **a header timeout**: a connection whose next request head is not
//!   complete within `header_timeout_ms` (10 s) is closed. hyper times the
//!   wait for a head from the moment it is ready to read one, so the same
//!   bound is the **idle keep-alive timeout**;
//! - **a connection cap**, `max_connections`, kept under the process' file
//!   limit (whose soft value is raised to the hard one at start). At the
//!   cap, the connection idle longest (no request in flight: keep-alive, or
//!   a head still arriving) is closed to make room; only when every
//!   connection has a request in flight is the new one refused. Either is
//!   logged at most once a minute;
//! - **a bounded graceful shutdown**: the listener closes, connections
//!   finish the requests in flight, and whatever is left after
//!   `shutdown_grace_ms` is closed.
//!
//! Each is counted in `palaute_connections_closed_total{reason}`.

use std::collections::HashMap;
use std::convert::Infallible;
use std::pin::Pin;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use axum::body::Body;
use axum::extract::ConnectInfo;
use axum::Router;
use hyper::body::Incoming;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto;
use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio::task::JoinSet;
use tower::ServiceExt;

use crate::metrics::Metrics;

/// The server's bounds (from [`crate::config::Config`]).
#[derive(Debug, Clone, Copy)]
pub struct Bounds {
    /// A request head (and the wait for the next one) must arrive within this.
    pub header_timeout: Duration,
    /// Most connections at once (lowered to fit the file limit).
    pub max_connections: usize,
    /// How long a shutdown waits for requests in flight.
    pub shutdown_grace: Duration,
}

impl Bounds {
    /// The bounds `config` sets; the connection cap lowered to fit the
    /// open-file limit, once its soft value is raised to the hard one.
    pub fn of(config: &crate::config::Config) -> Bounds {
        let fits = raise_file_limit().unwrap_or(u64::MAX);
        let max_connections = (config.max_connections as u64).min(fits).max(1) as usize;
        if max_connections < config.max_connections {
            tracing::warn!(max_connections, "max_connections lowered to fit the open-file limit");
        }
        Bounds {
            header_timeout: Duration::from_millis(config.header_timeout_ms.max(1)),
            max_connections,
            shutdown_grace: Duration::from_millis(config.shutdown_grace_ms),
        }
    }
}

/// Files kept for everything but connections: the store, its WAL, the
/// client files, logs.
const FILES_FOR_OTHER_USES: u64 = 128;

/// Raises the soft limit on open files to the hard one; returns how many
/// connections fit under it.
pub fn raise_file_limit() -> Option<u64> {
    let mut limit = libc::rlimit { rlim_cur: 0, rlim_max: 0 };
    // SAFETY: getrlimit and setrlimit only read and write the struct passed.
    unsafe {
        if libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit) != 0 {
            return None;
        }
        if limit.rlim_cur < limit.rlim_max {
            let raised = libc::rlimit { rlim_cur: limit.rlim_max, rlim_max: limit.rlim_max };
            if libc::setrlimit(libc::RLIMIT_NOFILE, &raised) == 0 {
                limit = raised;
            }
        }
    }
    Some(limit.rlim_cur.saturating_sub(FILES_FOR_OTHER_USES))
}

/// `mutex` locked; a panic elsewhere while it was held does not matter
/// to what it guards here (counters and times).
fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|e| e.into_inner())
}

/// What a connection's requests tell the cap: shared by its task (which
/// counts requests) and the registry (which chooses whom to close).
struct Activity {
    /// Requests whose response is not yet complete.
    in_flight: AtomicUsize,
    /// When it last went idle (or was accepted), for choosing which to close.
    idle_since: Mutex<Instant>,
}

/// One open connection: its activity, and what closes it at once.
struct Tracked {
    activity: Arc<Activity>,
    close: tokio::task::AbortHandle,
}

/// The open connections, by number.
#[derive(Default)]
struct Registry {
    open: Mutex<HashMap<u64, Tracked>>,
}

/// Takes a connection out of the registry when its task ends, however it
/// ends (done, timed out, closed to make room, or at shutdown).
struct Deregister(Arc<Registry>, u64);

impl Drop for Deregister {
    fn drop(&mut self) {
        lock(&self.0.open).remove(&self.1);
    }
}

impl Registry {
    /// Makes room for one more under `cap`: `true` when there is room (the
    /// connection idle longest was closed if needed).
    fn make_room(&self, cap: usize, metrics: &Metrics, warn: &Warn) -> bool {
        let mut open = lock(&self.open);
        if open.len() < cap {
            return true;
        }
        let idle = open
            .iter()
            .filter(|(_, c)| c.activity.in_flight.load(Ordering::Acquire) == 0)
            .min_by_key(|(_, c)| *lock(&c.activity.idle_since))
            .map(|(id, _)| *id);
        // Out of the registry at once, so that it is not chosen again
        // while its task is being cancelled.
        match idle.and_then(|id| open.remove(&id)) {
            Some(connection) => {
                connection.close.abort();
                metrics.connections_closed.with_label_values(&["evicted_at_cap"]).inc();
                warn.once_a_minute("at max_connections: closed an idle connection to make room");
                true
            }
            None => {
                metrics.connections_closed.with_label_values(&["refused_at_cap"]).inc();
                warn.once_a_minute("at max_connections, every connection busy: refused a new one");
                false
            }
        }
    }
}

/// A warning logged at most once a minute.
#[derive(Default)]
struct Warn {
    last: Mutex<Option<Instant>>,
}

impl Warn {
    fn once_a_minute(&self, message: &'static str) {
        let mut last = lock(&self.last);
        if last.is_none_or(|at| at.elapsed() >= Duration::from_secs(60)) {
            *last = Some(Instant::now());
            tracing::warn!(message, "connection cap");
        }
    }
}

/// Counts a request in flight on its connection until its response body
/// is done (or dropped).
struct InFlight(Arc<Activity>);

impl InFlight {
    fn new(activity: &Arc<Activity>) -> InFlight {
        activity.in_flight.fetch_add(1, Ordering::AcqRel);
        InFlight(activity.clone())
    }
}

impl Drop for InFlight {
    fn drop(&mut self) {
        if self.0.in_flight.fetch_sub(1, Ordering::AcqRel) == 1 {
            *lock(&self.0.idle_since) = Instant::now();
        }
    }
}

/// A response body that keeps its request counted until it is sent.
struct CountedBody {
    body: Body,
    _in_flight: InFlight,
}

impl http_body::Body for CountedBody {
    type Data = axum::body::Bytes;
    type Error = axum::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<http_body::Frame<Self::Data>, Self::Error>>> {
        Pin::new(&mut self.body).poll_frame(cx)
    }

    fn is_end_stream(&self) -> bool {
        self.body.is_end_stream()
    }

    fn size_hint(&self) -> http_body::SizeHint {
        self.body.size_hint()
    }
}

/// Serves `router` on `listener` within `bounds` until `shutdown`
/// completes, then drains as the module documentation says.
pub async fn serve(
    listener: TcpListener,
    router: Router,
    bounds: Bounds,
    metrics: Arc<Metrics>,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) {
    let registry = Arc::new(Registry::default());
    let warn = Warn::default();
    let (stopping, stop) = watch::channel(false);
    let mut connections = JoinSet::new();
    let mut next_id = 0u64;
    tokio::pin!(shutdown);
    loop {
        let (stream, peer) = tokio::select! {
            () = &mut shutdown => break,
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(error) => {
                    // Out of files or memory for a moment: the cap should
                    // prevent it; wait rather than spin.
                    tracing::warn!(%error, "accept failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            Some(_) = connections.join_next(), if !connections.is_empty() => continue,
        };
        if !registry.make_room(bounds.max_connections, &metrics, &warn) {
            drop(stream);
            continue;
        }
        next_id += 1;
        let id = next_id;
        let (router, registry_for_task, metrics, mut stop) =
            (router.clone(), registry.clone(), metrics.clone(), stop.clone());
        let activity = Arc::new(Activity { in_flight: AtomicUsize::new(0), idle_since: Mutex::new(Instant::now()) });
        let counted = activity.clone();
        // The task is registered under its abort handle before it can end
        // and deregister (the registry lock is held across the spawn).
        let mut open = lock(&registry.open);
        let close = connections.spawn(async move {
            let _deregister = Deregister(registry_for_task, id);
            let service = hyper::service::service_fn(move |mut request: hyper::Request<Incoming>| {
                let in_flight = InFlight::new(&counted);
                request.extensions_mut().insert(ConnectInfo(peer));
                let router = router.clone();
                async move {
                    let response =
                        router.oneshot(request.map(Body::new)).await.unwrap_or_else(|e: Infallible| match e {});
                    Ok::<_, Infallible>(response.map(|body| CountedBody { body, _in_flight: in_flight }))
                }
            });
            let mut builder = auto::Builder::new(TokioExecutor::new());
            builder.http1().timer(TokioTimer::new()).header_read_timeout(bounds.header_timeout);
            let connection = builder.serve_connection(TokioIo::new(stream), service);
            tokio::pin!(connection);
            let result = tokio::select! {
                result = connection.as_mut() => result,
                _ = stop.changed() => {
                    connection.as_mut().graceful_shutdown();
                    connection.await
                }
            };
            if let Err(error) = result {
                let timed_out = error.downcast_ref::<hyper::Error>().is_some_and(hyper::Error::is_timeout);
                if timed_out {
                    metrics.connections_closed.with_label_values(&["header_timeout"]).inc();
                }
            }
        });
        open.insert(id, Tracked { activity, close });
        drop(open);
    }
    // Shutdown: no new connections; those open finish their requests in
    // flight, within the grace period.
    drop(listener);
    let _ = stopping.send(true);
    let drained =
        tokio::time::timeout(bounds.shutdown_grace, async { while connections.join_next().await.is_some() {} }).await;
    if drained.is_err() {
        let left = connections.len();
        metrics.connections_closed.with_label_values(&["shutdown"]).inc_by(left as u64);
        tracing::warn!(left, grace_ms = bounds.shutdown_grace.as_millis() as u64, "closing connections still open");
        connections.shutdown().await;
    }
}
