//! Beacons dated in past hours (#34, item 10): an hour changed again after
//! its rollup is rebuilt at most once per `rollup_rebuild_gap_ms`, and is
//! answered exactly from raw rows meanwhile. Without the gap (0, as before
//! it existed) every round rebuilds the hour: the test sets
//! `PALAUTE_TEST_REBUILD_GAP_MS=0` to show that.

mod common;

use std::time::Duration;

use common::Collector;
use palaute_collector::config::Config;
use palaute_collector::model::now_ms;

const HOUR: i64 = 3_600_000;

fn beacon(i: u32, start: i64) -> String {
    format!(
        r#"{{"v":1,"site":"shop","id":"{i:032x}","seq":1,"url":"/late","start":{start},
            "nav_type":"navigate","ttfb_ms":100,"fcp_ms":500,"lcp_ms":900,"load_ms":1000,"left_at_ms":5000}}"#
    )
}

async fn built(collector: &Collector) -> f64 {
    collector.metric("palaute_rollup_hours_built_total").await.unwrap()
}

#[tokio::test]
async fn late_beacons_rebuild_their_hour_at_most_once_per_gap() {
    let gap = std::env::var("PALAUTE_TEST_REBUILD_GAP_MS").ok().and_then(|v| v.parse().ok()).unwrap_or(60_000);
    let config =
        Config { rollup_interval_ms: 50, rollup_rebuild_gap_ms: gap, rate_limit_per_second: 0, ..Config::default() };
    let collector = Collector::start_with(config).await;
    let now = now_ms();
    let past = now - now.rem_euclid(HOUR) - 2 * HOUR + 600_000;
    for i in 0..20 {
        assert_eq!(collector.beacon(&beacon(i, past + i64::from(i))).await.0, 204);
    }
    let started = std::time::Instant::now();
    while built(&collector).await < 1.0 {
        assert!(started.elapsed() < Duration::from_secs(20), "the past hour was never rolled up");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let first = built(&collector).await;
    // A late beacon every 100 ms for 2 s, each changing the rolled-up hour.
    for i in 20..40 {
        assert_eq!(collector.beacon(&beacon(i, past + i64::from(i))).await.0, 204);
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let rebuilt = built(&collector).await - first;
    assert!(rebuilt <= 1.0, "the hour was rebuilt {rebuilt} times in 2 s");
    // Meanwhile answers are exact: the changed hour is read raw.
    let (status, body) = collector.get("/api/v1/sites/shop/summary?from=1d", Some(&collector.token)).await;
    assert_eq!(status, 200);
    let summary: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(summary["page_views"], 40, "{summary}");
    collector.stop().await;
}
