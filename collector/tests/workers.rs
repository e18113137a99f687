//! The collector's background work is owned: once `run` returns (after a
//! shutdown), no task of it is left, on either store, with every worker
//! busy (rollups, alert batching and delivery, the outage detector, the
//! rate limiter, the ClickHouse shipper).

mod common;

use std::time::Duration;

use common::clickhouse::ClickHouseServer;
use common::{beacon, Backend, Collector};
use palaute_collector::config::Config;

fn busy() -> Config {
    Config { rollup_interval_ms: 20, outage_check_ms: 20, alert_batch_ms: 20, ..Config::default() }
}

async fn no_task_outlives_run(backend: Backend<'_>) {
    let collector = Collector::start_on(backend, busy()).await;
    for n in 0..20u32 {
        let unhappy = beacon(&format!("{n:032x}"), 1)
            .replace(r#""v":1"#, r#""v":1,"feedback":{"rating":0,"scale":"thumbs","comment":"slow","at_ms":10}"#);
        assert_eq!(collector.beacon(&unhappy).await.0, 204);
    }
    tokio::time::sleep(Duration::from_millis(200)).await;
    let alive = tokio::runtime::Handle::current().metrics().num_alive_tasks();
    assert!(alive > 3, "the workers run while the collector does: {alive} tasks");
    collector.stop().await;
    // The server's own task is counted until the runtime has released it,
    // a moment after its handle answered.
    let alive = || tokio::runtime::Handle::current().metrics().num_alive_tasks();
    let deadline = std::time::Instant::now() + Duration::from_secs(2);
    while alive() > 0 && std::time::Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert_eq!(alive(), 0, "a task outlived run");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_task_outlives_run_on_the_embedded_store() {
    no_task_outlives_run(Backend::Embedded).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_task_outlives_run_on_clickhouse() {
    let server = ClickHouseServer::start().await;
    no_task_outlives_run(Backend::ClickHouse(&server)).await;
}
