//! Analyst exports whose client stops reading, through the real socket: they
//! are bounded in number (503 past it), closed after the send timeout, and
//! hold no read transaction, so the rest of the collector keeps working and
//! the SQLite WAL keeps being reset.

mod common;

use std::sync::Arc;
use std::time::{Duration, Instant};

use common::Collector;
use palaute_collector::config::Config;
use palaute_collector::store::Store;
use tokio::io::AsyncWriteExt;
use tokio::net::TcpStream;

const HOUR_MS: i64 = 3_600_000;

/// Writes `count` synthetic page views of `shop` into the collector's
/// store, through a second handle (as the `generate` command beside it).
async fn generate(collector: &Collector, count: u64, seed: u64) {
    let store: Arc<dyn Store> = palaute_collector::open_store(&collector.config, &Default::default()).await.unwrap();
    let now = palaute_collector::model::now_ms();
    palaute_collector::generate::generate(
        &store,
        "shop",
        count,
        now - 48 * HOUR_MS,
        now - 2 * HOUR_MS,
        seed,
        0,
        |_| {},
    )
    .await
    .unwrap();
    store.close().await;
}

/// An export request whose client then reads nothing.
async fn stalled_export(collector: &Collector) -> TcpStream {
    let mut stream = TcpStream::connect(collector.addr).await.unwrap();
    let request = format!(
        "GET /api/v1/sites/shop/pageviews?from=7d HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {}\r\n\r\n",
        collector.token
    );
    stream.write_all(request.as_bytes()).await.unwrap();
    stream
}

/// Polls metric `name` until it reaches `at_least`, for at most `wait`.
async fn metric_reaches(collector: &Collector, name: &str, at_least: f64, wait: Duration) -> Option<f64> {
    let started = Instant::now();
    loop {
        let value = collector.metric(name).await;
        if value.is_some_and(|v| v >= at_least) || started.elapsed() > wait {
            return value;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test]
async fn exports_past_the_bound_get_503_stalled_ones_are_closed_and_beacons_flow() {
    let config = Config { max_api_requests: 2, send_timeout_ms: 1_000, rate_limit_per_second: 0, ..Config::default() };
    let collector = Collector::start_with(config).await;
    // Far more than the sockets' buffers hold (22 MB): the exports stall.
    generate(&collector, 20_000, 1).await;
    let stalled = [stalled_export(&collector).await, stalled_export(&collector).await];
    tokio::time::sleep(Duration::from_millis(500)).await;

    let (status, body) = collector.get("/api/v1/sites/shop/summary?from=7d", Some(&collector.token)).await;
    assert_eq!(status, 503, "a third analyst request past max_api_requests = 2: {}", &body[..body.len().min(200)]);
    assert!(body.contains("max_api_requests"), "{body}");
    assert_eq!(collector.metric("palaute_api_busy_total").await, Some(1.0));
    let (status, body) = collector.beacon(&common::beacon("export-stall-00001", 1)).await;
    assert_eq!(status, 204, "beacons are stored meanwhile: {body}");
    assert_eq!(collector.get("/healthz", None).await.0, 200);

    // The stalled exports are closed after the send timeout, and free
    // their permits.
    let closed = metric_reaches(
        &collector,
        "palaute_connections_closed_total{reason=\"send_timeout\"}",
        2.0,
        Duration::from_secs(5),
    )
    .await;
    assert!(closed.is_some_and(|n| n >= 2.0), "{closed:?}");
    let (status, _) = collector.get("/api/v1/sites/shop/summary?from=7d", Some(&collector.token)).await;
    assert_eq!(status, 200);
    let started = Instant::now();
    let (status, body) = collector.get("/api/v1/sites/shop/pageviews?from=7d", Some(&collector.token)).await;
    eprintln!("export of {} bytes in {:?}", body.len(), started.elapsed());
    assert_eq!(status, 200);
    assert_eq!(body.lines().count(), 20_001, "a client that reads gets every row");
    drop(stalled);
    collector.stop().await;
}

/// Size of the collector's SQLite WAL file, bytes.
fn wal_bytes(collector: &Collector) -> u64 {
    std::fs::metadata(collector.data.path().join("palaute.db-wal")).map(|m| m.len()).unwrap_or(0)
}

#[tokio::test]
async fn a_stalled_export_does_not_keep_the_wal_from_being_reset() {
    let config = Config { rate_limit_per_second: 0, ..Config::default() };
    let collector = Collector::start_with(config).await;
    generate(&collector, 20_000, 1).await;
    let stalled = stalled_export(&collector).await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    // About 40 MB of WAL frames written while the export waits for its
    // reader; the WAL is checkpointed at 2,000 pages (8 MB) and must start
    // over, which a reader's open transaction would prevent.
    generate(&collector, 60_000, 2).await;
    let wal = wal_bytes(&collector);
    eprintln!("WAL: {} KB", wal >> 10);
    assert!(wal < 16 << 20, "the WAL grew to {} MB behind a stalled export", wal >> 20);
    let (status, body) = collector.beacon(&common::beacon("wal-after-stall01", 1)).await;
    assert_eq!(status, 204, "{body}");
    drop(stalled);
    collector.stop().await;
}
