//! Long periods: whole weeks are answered from week rollups (merged from
//! their days), as raw rows answer them, on both stores; a late page view
//! in a rolled-up week makes the week answer from its days and hours until
//! it is merged again.

mod common;

use std::sync::Arc;

use common::clickhouse::ClickHouseServer;
use common::{Backend, Collector};
use palaute_collector::config::Config;
use palaute_collector::model::{format_time, now_ms};
use palaute_collector::store::{RollupQuery, Store, WEEK_MS};
use serde_json::Value;

const HOUR: i64 = 3_600_000;
const DAY: i64 = 24 * HOUR;

async fn api(collector: &Collector, path: &str) -> Value {
    let (status, body) = collector.get(&format!("/api/v1/sites/shop/{path}"), Some(&collector.token)).await;
    assert_eq!(status, 200, "{path}: {body}");
    serde_json::from_str(&body).unwrap()
}

fn views(row: &Value) -> u64 {
    row["page_views"].as_u64().unwrap()
}

/// The spans the store's rollups of every path cover in `[from, to)`, as
/// a query of every value reads them.
async fn covered(store: &Arc<dyn Store>, from: i64, to: i64) -> Vec<(i64, i64)> {
    let query = RollupQuery {
        site: "shop".into(),
        dimension: "path",
        value: None,
        from_ms: from,
        to_ms: to,
        days: true,
        weeks: true,
    };
    store.rollups(query).await.unwrap().covered
}

async fn weeks_answer_as_raw_rows(backend: Backend<'_>) {
    let config = Config { rollup_interval_ms: 0, rate_limit_per_second: 0, ..Config::default() };
    let collector = Collector::start_on(backend, config).await;
    let store: Arc<dyn Store> = palaute_collector::open_store(&collector.config, &Default::default()).await.unwrap();
    let now = now_ms();
    let to = now - now.rem_euclid(HOUR);
    // Over two weeks and a half: at least one whole week that is over.
    let from = to - 17 * DAY;
    palaute_collector::generate::generate(&store, "shop", 8_000, from, to, 11, 400, |_| {}).await.unwrap();
    store.settle().await.unwrap();
    let period = format!("from={}&to={}", format_time(from + 30 * 60_000), format_time(to));
    let exact = [
        format!("summary?{period}"),
        format!("abandonment?{period}"),
        format!("breakdown?by=device&{period}"),
        format!("breakdown?by=route&{period}"),
        format!("timeseries?metric=lcp&interval=day&{period}"),
    ];
    let mut raw = Vec::new();
    for query in &exact {
        raw.push(api(&collector, query).await);
    }
    let raw_paths = api(&collector, &format!("breakdown?by=path&limit=10&{period}")).await;
    assert!(covered(&store, from, to).await.is_empty(), "nothing rolled up yet");

    collector.roll_up().await;
    let spans = covered(&store, from, to).await;
    let weeks: Vec<_> = spans.iter().filter(|(a, b)| b - a == WEEK_MS).collect();
    assert!(!weeks.is_empty(), "a whole week is read from its week rollup: {spans:?}");
    assert!(spans.iter().any(|(a, b)| b - a == DAY), "the days around it from day rollups: {spans:?}");
    assert!(spans.windows(2).all(|w| w[0].1 <= w[1].0), "no span read twice: {spans:?}");
    for (query, expected) in exact.iter().zip(&raw) {
        assert_eq!(&api(&collector, query).await, expected, "{query}: weeks answer as raw rows do");
    }
    let paths = api(&collector, &format!("breakdown?by=path&limit=10&{period}")).await;
    assert_eq!(paths, raw_paths, "the ten most viewed paths and the others, exactly");
    let total = views(&raw[0]);
    assert_eq!(paths.as_array().unwrap().iter().map(views).sum::<u64>(), total, "the rows add up");

    // A late page view in the middle of a rolled-up week: the week is not
    // read until merged again, and the answer counts the view.
    let (week, _) = *weeks[0];
    let late = week + 3 * DAY + 5 * HOUR;
    palaute_collector::generate::generate(&store, "shop", 1, late, late + 60_000, 12, 400, |_| {}).await.unwrap();
    store.settle().await.unwrap();
    let spans = covered(&store, from, to).await;
    assert!(!spans.contains(&(week, week + WEEK_MS)), "a changed week is not read: {spans:?}");
    let summary = api(&collector, &format!("summary?{period}")).await;
    assert_eq!(views(&summary), total + 1);
    let devices = api(&collector, &format!("breakdown?by=device&{period}")).await;
    collector.roll_up().await;
    assert!(covered(&store, from, to).await.contains(&(week, week + WEEK_MS)), "merged again");
    assert_eq!(api(&collector, &format!("summary?{period}")).await, summary);
    assert_eq!(api(&collector, &format!("breakdown?by=device&{period}")).await, devices);
    store.close().await;
    collector.stop().await;
}

#[tokio::test]
async fn weeks_answer_as_raw_rows_on_the_embedded_store() {
    weeks_answer_as_raw_rows(Backend::Embedded).await;
}

#[tokio::test]
async fn weeks_answer_as_raw_rows_on_clickhouse() {
    let server = ClickHouseServer::start().await;
    weeks_answer_as_raw_rows(Backend::ClickHouse(&server)).await;
}
