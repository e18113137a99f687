//! The HTTP server around the router, with the bounds that servers facing
//! the open internet keep (as nginx's `client_header_timeout`,
//! `keepalive_timeout`, `worker_connections` and its reuse of idle
//! connections):
//!
//! - **a header timeout**: a connection whose next request head is not
//!   complete within `header_timeout_ms` (10 s) is closed. hyper times the
//!   wait for an HTTP/1 head from the moment it is ready to read one, so the
//!   same bound is the **idle keep-alive timeout**; a watchdog of each
//!   connection applies it to every connection with no request in flight
//!   whatever its protocol: a silent socket, a partial HTTP/2 preface, an
//!   idle HTTP/2 connection (sent a `GOAWAY` first);
//! - **a send timeout** (nginx's `send_timeout`): a response the client
//!   takes nothing of for `send_timeout_ms` (60 s; an HTTP/2 stream whose
//!   window stays 0, an HTTP/1 client that stops reading) closes its
//!   connection. A response's body is handed over in pieces of at most
//!   [`MAX_CHUNK_BYTES`], so this is also a slowest rate;
//! - **HTTP/2 streams and buffers**: at most `h2_max_streams` (128, as
//!   nginx) concurrent streams per connection, and at most
//!   [`MAX_CHUNK_BYTES`] buffered per stream beyond what the client's window
//!   takes;
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

/// Largest piece of a response body handed to a connection at once (as
/// nginx's `http2_chunk_size`), and the HTTP/2 send buffer of a stream:
/// what a client that reads nothing makes the server hold per stream.
pub const MAX_CHUNK_BYTES: usize = 8 * 1024;

/// How long an idle connection may take to answer its `GOAWAY` when it is
/// closed, before its socket is.
const GOAWAY_WAIT: Duration = Duration::from_millis(500);

/// The server's bounds (from [`crate::config::Config`]).
#[derive(Debug, Clone, Copy)]
pub struct Bounds {
    /// A request head (and the wait for the next one, and any connection
    /// with no request in flight) must arrive within this.
    pub header_timeout: Duration,
    /// A response the client takes nothing of for this long closes its
    /// connection.
    pub send_timeout: Duration,
    /// Most concurrent streams of one HTTP/2 connection.
    pub h2_max_streams: u32,
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
            send_timeout: Duration::from_millis(config.send_timeout_ms.max(1)),
            h2_max_streams: config.h2_max_streams.max(1),
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
    /// Response bodies waiting for the client to take their last piece, by
    /// number, with when they began to wait.
    waiting: Mutex<HashMap<u64, Instant>>,
    /// The number of the next response body.
    next_body: AtomicUsize,
}

impl Activity {
    fn new() -> Activity {
        Activity {
            in_flight: AtomicUsize::new(0),
            idle_since: Mutex::new(Instant::now()),
            waiting: Mutex::new(HashMap::new()),
            next_body: AtomicUsize::new(0),
        }
    }

    /// Since when the response waiting longest for its client has waited.
    fn longest_wait(&self) -> Option<Instant> {
        lock(&self.waiting).values().min().copied()
    }
}

/// Why a connection's watchdog closed it.
enum Expired {
    /// No request in flight for the header timeout.
    Idle,
    /// A response the client took nothing of for the send timeout.
    Stalled,
}

/// Resolves when the connection of `activity` passes a bound: idle (no
/// request in flight) for `idle`, or a response waiting on its client for
/// `send`. It looks again at least every half of the shorter bound.
async fn watchdog(activity: &Activity, idle: Duration, send: Duration) -> Expired {
    let tick = (idle.min(send) / 2).max(Duration::from_millis(10));
    loop {
        let now = Instant::now();
        let due = if let Some(since) = activity.longest_wait() {
            let due = since + send;
            if due <= now {
                return Expired::Stalled;
            }
            due
        } else if activity.in_flight.load(Ordering::Acquire) == 0 {
            let due = *lock(&activity.idle_since) + idle;
            if due <= now {
                return Expired::Idle;
            }
            due
        } else {
            now + tick
        };
        tokio::time::sleep_until(due.min(now + tick).into()).await;
    }
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

/// A response body that keeps its request counted until it is sent, hands
/// its data over in pieces of at most [`MAX_CHUNK_BYTES`], and tells its
/// connection's watchdog while a piece waits for the client to take it.
struct CountedBody {
    body: Body,
    /// The rest of a data frame larger than a piece.
    rest: axum::body::Bytes,
    /// Its number in `in_flight`'s `waiting`.
    id: u64,
    in_flight: InFlight,
}

impl CountedBody {
    fn new(body: Body, in_flight: InFlight) -> CountedBody {
        let id = in_flight.0.next_body.fetch_add(1, Ordering::Relaxed) as u64;
        // Until it is first polled, the connection has not taken its head.
        lock(&in_flight.0.waiting).insert(id, Instant::now());
        CountedBody { body, rest: axum::body::Bytes::new(), id, in_flight }
    }

    fn waits(&self, waiting: bool) {
        let mut map = lock(&self.in_flight.0.waiting);
        if waiting {
            map.insert(self.id, Instant::now());
        } else {
            map.remove(&self.id);
        }
    }
}

impl Drop for CountedBody {
    fn drop(&mut self) {
        self.waits(false);
    }
}

impl http_body::Body for CountedBody {
    type Data = axum::body::Bytes;
    type Error = axum::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<http_body::Frame<Self::Data>, Self::Error>>> {
        self.waits(false);
        let this = &mut *self;
        let frame = if !this.rest.is_empty() {
            let piece = this.rest.split_to(this.rest.len().min(MAX_CHUNK_BYTES));
            Poll::Ready(Some(Ok(http_body::Frame::data(piece))))
        } else {
            match Pin::new(&mut this.body).poll_frame(cx) {
                Poll::Ready(Some(Ok(frame))) => match frame.into_data() {
                    Ok(mut data) if data.len() > MAX_CHUNK_BYTES => {
                        this.rest = data.split_off(MAX_CHUNK_BYTES);
                        Poll::Ready(Some(Ok(http_body::Frame::data(data))))
                    }
                    Ok(data) => Poll::Ready(Some(Ok(http_body::Frame::data(data)))),
                    Err(frame) => Poll::Ready(Some(Ok(frame))),
                },
                other => other,
            }
        };
        // A piece handed over waits for the client until the next poll.
        if matches!(frame, Poll::Ready(Some(Ok(_)))) {
            self.waits(true);
        }
        frame
    }

    fn is_end_stream(&self) -> bool {
        self.rest.is_empty() && self.body.is_end_stream()
    }

    fn size_hint(&self) -> http_body::SizeHint {
        let inner = self.body.size_hint();
        let rest = self.rest.len() as u64;
        let mut hint = http_body::SizeHint::new();
        hint.set_lower(inner.lower() + rest);
        if let Some(upper) = inner.upper() {
            hint.set_upper(upper + rest);
        }
        hint
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
        let activity = Arc::new(Activity::new());
        let counted = activity.clone();
        let watched = activity.clone();
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
                    Ok::<_, Infallible>(response.map(|body| CountedBody::new(body, in_flight)))
                }
            });
            let mut builder = auto::Builder::new(TokioExecutor::new());
            builder.http1().timer(TokioTimer::new()).header_read_timeout(bounds.header_timeout);
            builder
                .http2()
                .timer(TokioTimer::new())
                .max_concurrent_streams(bounds.h2_max_streams)
                .max_send_buf_size(MAX_CHUNK_BYTES);
            let connection = builder.serve_connection(TokioIo::new(stream), service);
            tokio::pin!(connection);
            let (idle, send) = (bounds.header_timeout, bounds.send_timeout);
            let closed = |reason: &str| metrics.connections_closed.with_label_values(&[reason]).inc();
            let result = tokio::select! {
                result = connection.as_mut() => result,
                expired = watchdog(&watched, idle, send) => match expired {
                    Expired::Stalled => return closed("send_timeout"),
                    Expired::Idle => {
                        closed("header_timeout");
                        connection.as_mut().graceful_shutdown();
                        let _ = tokio::time::timeout(GOAWAY_WAIT, connection).await;
                        return;
                    }
                },
                _ = stop.changed() => {
                    // Requests in flight finish (within the grace); a
                    // connection idle after its GOAWAY's moment (a silent
                    // socket, a preface never finished) is closed.
                    connection.as_mut().graceful_shutdown();
                    match tokio::time::timeout(GOAWAY_WAIT, connection.as_mut()).await {
                        Ok(result) => result,
                        Err(_) => tokio::select! {
                            result = connection.as_mut() => result,
                            _ = watchdog(&watched, Duration::ZERO, send) => return,
                        },
                    }
                }
            };
            if let Err(error) = result {
                let timed_out = error.downcast_ref::<hyper::Error>().is_some_and(hyper::Error::is_timeout);
                if timed_out {
                    closed("header_timeout");
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
