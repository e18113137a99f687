//! Rage and dead clicks through the real HTTP interface, on both stores:
//! the summary's share of frustrated page views, the elements ranked by
//! frustrated page views with their satisfaction, and the fields exported.

mod common;

use common::clickhouse::ClickHouseServer;
use common::{Backend, Collector};
use palaute_collector::config::Config;
use serde_json::Value;

/// One page view: `(rage, dead, target, feedback rating)`; `None` counts:
/// a loader beacon, which could not watch clicks.
type View = (Option<u32>, Option<u32>, Option<&'static str>, Option<u8>);

const VIEWS: [View; 6] = [
    (Some(1), Some(0), Some("button#buy"), Some(0)),
    (Some(0), Some(2), Some("button#buy"), None),
    (Some(2), Some(1), Some("button#buy"), Some(0)),
    (Some(0), Some(1), Some("a.menu"), Some(1)),
    (Some(0), Some(0), None, Some(1)),
    (None, None, None, None),
];

fn beacon(i: usize, now: u128) -> String {
    let (rage, dead, target, rating) = VIEWS[i];
    let mut fields =
        vec![format!(r#""v":1,"site":"shop","id":"{i:032x}","seq":1,"url":"/p","start":{}"#, now - 60_000)];
    if let (Some(rage), Some(dead)) = (rage, dead) {
        fields.push(format!(r#""rage_clicks":{rage},"dead_clicks":{dead}"#));
    } else {
        fields.push(r#""src":"loader""#.into());
    }
    if let Some(target) = target {
        fields.push(format!(r#""frustration_target":"{target}","frustration_at_ms":1500"#));
    }
    if let Some(rating) = rating {
        fields
            .push(format!(r#""feedback":{{"rating":{rating},"scale":"thumbs","at_ms":2000,"trigger":"frustration"}}"#));
    }
    format!("{{{}}}", fields.join(","))
}

async fn api(collector: &Collector, path: &str) -> Value {
    let (status, body) = collector.get(&format!("/api/v1/sites/shop/{path}"), Some(&collector.token)).await;
    assert_eq!(status, 200, "{path}: {body}");
    serde_json::from_str(&body).unwrap()
}

async fn frustration_is_counted(backend: Backend<'_>) {
    let collector = Collector::start_on(backend, Config::default()).await;
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_millis();
    for i in 0..VIEWS.len() {
        let (status, body) = collector.beacon(&beacon(i, now)).await;
        assert_eq!(status, 204, "{body}");
    }
    collector.settled().await;

    let summary = api(&collector, "summary").await;
    let counts = &summary["frustration"];
    assert_eq!((counts["known"].as_u64(), counts["frustrated"].as_u64()), (Some(5), Some(4)), "{summary}");
    assert_eq!((counts["rage_clicks"].as_u64(), counts["dead_clicks"].as_u64()), (Some(3), Some(4)));
    assert_eq!(summary["frustrated_rate"].as_f64(), Some(0.8));

    let rows = api(&collector, "breakdown?by=frustration_target").await;
    let rows = rows.as_array().unwrap();
    let ranked: Vec<(Option<&str>, u64, u64)> = rows
        .iter()
        .map(|r| (r["key"].as_str(), r["frustrated"].as_u64().unwrap(), r["page_views"].as_u64().unwrap()))
        .collect();
    assert_eq!(
        ranked,
        [(Some("button#buy"), 3, 3), (Some("a.menu"), 1, 1), (None, 0, 2)],
        "most frustrated first; the views without one are a row too, so the rows add up"
    );
    assert_eq!((rows[0]["csat"]["answers"].as_u64(), rows[0]["csat"]["satisfied"].as_u64()), (Some(2), Some(0)));
    assert_eq!((rows[1]["csat"]["answers"].as_u64(), rows[1]["csat"]["satisfied"].as_u64()), (Some(1), Some(1)));

    let export = collector.export().await;
    let first = export.iter().find(|r| r["id"] == format!("{:032x}", 0)).unwrap();
    assert_eq!((first["rage_clicks"].as_u64(), first["dead_clicks"].as_u64()), (Some(1), Some(0)));
    assert_eq!(
        (first["frustration_target"].as_str(), first["frustration_at_ms"].as_f64()),
        (Some("button#buy"), Some(1500.0))
    );
    assert_eq!(first["feedback_trigger"], "frustration");
    let loader = export.iter().find(|r| r["id"] == format!("{:032x}", 5)).unwrap();
    assert!(loader["rage_clicks"].is_null() && loader["dead_clicks"].is_null(), "unknown, not 0: {loader}");
    collector.stop().await;
}

#[tokio::test]
async fn frustration_is_counted_on_the_embedded_store() {
    frustration_is_counted(Backend::Embedded).await;
}

#[tokio::test]
async fn frustration_is_counted_on_clickhouse() {
    let server = ClickHouseServer::start().await;
    frustration_is_counted(Backend::ClickHouse(&server)).await;
}
