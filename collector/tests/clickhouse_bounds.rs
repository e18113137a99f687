//! The ClickHouse store's bounds against a real `clickhouse-server`, through
//! the collector's socket: an export cut by ClickHouse fails visibly, and
//! "all time" is one range in a query, whatever the period's length.

mod common;

use std::sync::Arc;
use std::time::{Duration, Instant};

use common::clickhouse::ClickHouseServer;
use common::{Backend, Collector};
use palaute_collector::config::Config;
use palaute_collector::store::Store;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// Writes `count` page views of `shop` into the collector's ClickHouse
/// database through a second store (its own spool), and waits until
/// ClickHouse holds them.
async fn generate(server: &ClickHouseServer, collector: &Collector, count: u64) {
    let spool = tempfile::tempdir().unwrap();
    let config = Config { data: spool.path().to_path_buf(), ..collector.config.clone() };
    let store: Arc<dyn Store> = palaute_collector::open_store(&config, &Default::default()).await.unwrap();
    let now = palaute_collector::model::now_ms();
    palaute_collector::generate::generate(&store, "shop", count, now - 3 * 86_400_000, now - 3_600_000, 3, 0, |_| {})
        .await
        .unwrap();
    let started = Instant::now();
    let counted = format!("SELECT count() FROM {}.pageviews", config.clickhouse_database);
    while server.query(&counted).await.trim() != count.to_string() {
        assert!(started.elapsed() < Duration::from_secs(120), "not shipped: {}", server.query(&counted).await);
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    store.close().await;
}

#[tokio::test]
async fn an_export_that_clickhouse_cuts_short_fails_visibly() {
    let mut server = ClickHouseServer::start().await;
    let collector = Collector::start_on(Backend::ClickHouse(&server), Config::default()).await;
    // Far more than the sockets between ClickHouse, the collector and this
    // client hold while the client reads nothing.
    generate(&server, &collector, 100_000).await;
    let mut stream = TcpStream::connect(collector.addr).await.unwrap();
    let request = format!(
        "GET /api/v1/sites/shop/pageviews?from=7d HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {}\r\nConnection: close\r\n\r\n",
        collector.token
    );
    stream.write_all(request.as_bytes()).await.unwrap();
    // Read until the first rows arrived, then stop reading and kill
    // ClickHouse in the middle of its answer.
    let mut whole = Vec::new();
    let mut buffer = vec![0u8; 16 * 1024];
    let started = Instant::now();
    while whole.iter().filter(|b| **b == b'\n').count() < 20 {
        assert!(started.elapsed() < Duration::from_secs(60), "{}", String::from_utf8_lossy(&whole));
        let n = stream.read(&mut buffer).await.unwrap();
        assert!(n > 0, "{}", String::from_utf8_lossy(&whole));
        whole.extend_from_slice(&buffer[..n]);
    }
    assert!(whole.starts_with(b"HTTP/1.1 200"), "{}", String::from_utf8_lossy(&whole[..whole.len().min(300)]));
    tokio::time::sleep(Duration::from_millis(300)).await;
    server.stop();
    let read = tokio::time::timeout(Duration::from_secs(30), stream.read_to_end(&mut whole)).await;
    assert!(read.is_ok(), "the answer neither ended nor was aborted");
    let rows = whole.iter().filter(|b| **b == b'\n').count();
    assert!(rows < 90_000, "ClickHouse was stopped early enough to cut the export: {rows} lines");
    let end = String::from_utf8_lossy(&whole[whole.len().saturating_sub(12)..]).into_owned();
    assert!(!whole.ends_with(b"\r\n0\r\n\r\n"), "an export cut short ended as a complete chunked body: {end:?}");
    assert_eq!(collector.metric("palaute_exports_failed_total").await, Some(1.0));
    collector.stop().await;
}

#[tokio::test]
async fn all_time_on_clickhouse_is_answered_by_a_query_whose_size_does_not_grow_with_the_period() {
    let server = ClickHouseServer::start().await;
    let collector = Collector::start_on(Backend::ClickHouse(&server), Config::default()).await;
    assert_eq!(collector.beacon(&common::beacon("all-time-00000001", 1)).await.0, 204);
    collector.settled().await;
    for from in ["2000-01-01T00:00:00Z", "1970-01-01T00:00:00Z", "2000w"] {
        let path = format!("/api/v1/sites/shop/summary?from={from}");
        let (status, body) = collector.get(&path, Some(&collector.token)).await;
        assert_eq!(status, 200, "{from}: {}", &body[..body.len().min(300)]);
        let summary: serde_json::Value = serde_json::from_str(&body).unwrap();
        assert_eq!(summary["page_views"], 1, "{from}: {summary}");
    }
    collector.stop().await;
}
