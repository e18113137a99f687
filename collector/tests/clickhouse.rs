//! The ClickHouse store against a real `clickhouse-server`: it answers every
//! analyst endpoint as the embedded store does on the same data, and no
//! acknowledged beacon is lost or doubled while ClickHouse is down, across a
//! collector restart included. (The aggregate suite of `analytics.rs` runs
//! on both stores too.)

mod common;

use std::collections::BTreeSet;
use std::sync::Arc;

use common::clickhouse::ClickHouseServer;
use common::{beacon, Backend, Collector};
use palaute_collector::config::Config;
use palaute_collector::store::Store;
use serde_json::Value;

fn now_ms() -> i64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_millis() as i64
}

async fn api(collector: &Collector, path: &str) -> Value {
    let (status, body) = collector.get(&format!("/api/v1/sites/shop/{path}"), Some(&collector.token)).await;
    assert_eq!(status, 200, "{path}: {body}");
    serde_json::from_str(&body).unwrap()
}

/// `a` and `b` are the same answer: percentiles (sketched on one side,
/// exact on the other) within 1%, everything else equal.
fn same_answer(a: &Value, b: &Value, at: &str) {
    match (a, b) {
        (Value::Object(x), Value::Object(y)) => {
            assert_eq!(x.keys().collect::<Vec<_>>(), y.keys().collect::<Vec<_>>(), "{at}: fields");
            for (key, value) in x {
                let at = format!("{at}.{key}");
                if matches!(key.as_str(), "p50" | "p75" | "p95" | "p99") && !value.is_null() {
                    let (p, q) = (value.as_f64().unwrap(), y[key].as_f64().unwrap_or(f64::NAN));
                    assert!((p - q).abs() <= 0.01 * p.abs().max(1e-9), "{at}: {p} vs {q}");
                } else {
                    same_answer(value, &y[key], &at);
                }
            }
        }
        (Value::Array(x), Value::Array(y)) => {
            assert_eq!(x.len(), y.len(), "{at}: length");
            for (i, (p, q)) in x.iter().zip(y).enumerate() {
                same_answer(p, q, &format!("{at}[{i}]"));
            }
        }
        (Value::Number(p), Value::Number(q)) => {
            let (p, q) = (p.as_f64().unwrap(), q.as_f64().unwrap());
            assert!((p - q).abs() <= 1e-9 * p.abs().max(1.0), "{at}: {p} vs {q}");
        }
        _ => assert_eq!(a, b, "{at}"),
    }
}

#[tokio::test]
async fn clickhouse_answers_every_endpoint_as_the_embedded_store_on_the_same_data() {
    let server = ClickHouseServer::start().await;
    let config = Config { rollup_interval_ms: 0, rate_limit_per_second: 0, ..Config::default() };
    let embedded = Collector::start_on(Backend::Embedded, config.clone()).await;
    let clickhouse = Collector::start_on(Backend::ClickHouse(&server), config).await;
    let now = now_ms();
    for collector in [&embedded, &clickhouse] {
        let store: Arc<dyn Store> =
            palaute_collector::open_store(&collector.config, &Default::default()).await.unwrap();
        palaute_collector::generate::generate(&store, "shop", 5000, now - 3 * 86_400_000, now, 11, 0, |_| {})
            .await
            .unwrap();
        store.settle().await.unwrap();
    }
    // Both stores answer whole hours from their rollups; on ClickHouse two
    // collectors build them at the same moment.
    assert!(embedded.roll_up().await >= 71);
    let (first, second) = tokio::join!(clickhouse.roll_up(), clickhouse.roll_up());
    assert!(first + second >= 71, "{first} + {second} hours rolled up");

    let day = |days: i64| palaute_collector::model::format_time(now - days * 86_400_000);
    let queries = [
        "summary?from=4d".to_string(),
        "abandonment?from=4d".into(),
        "timeseries?metric=lcp&interval=day&from=4d".into(),
        "timeseries?metric=inp&interval=hour&from=4d".into(),
        "timeseries?metric=cls&from=30h".into(),
        "breakdown?by=path&from=4d".into(),
        "breakdown?by=device&from=4d".into(),
        "breakdown?by=browser&from=4d".into(),
        "breakdown?by=os&from=4d".into(),
        "breakdown?by=effective_type&from=4d".into(),
        "breakdown?by=nav_type&from=4d".into(),
        "breakdown?by=response_status&from=4d".into(),
        "breakdown?by=hour_of_day&from=4d".into(),
        "breakdown?by=tag:ab&from=4d".into(),
        "summary?from=4d&path=/checkout".into(),
        "summary?from=4d&path=/cart&device=mobile".into(),
        format!("summary?from={}&to={}", day(2), day(1)),
        "feedback?from=4d&limit=50".into(),
        "feedback?from=4d&rating=0&comment=true".into(),
    ];
    for query in &queries {
        same_answer(&api(&embedded, query).await, &api(&clickhouse, query).await, query);
    }
    let summary = api(&clickhouse, "summary?from=4d").await;
    assert_eq!(summary["page_views"], 5000);
    // The example queries of docs/clickhouse.md run on these rows.
    let docs = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../docs/clickhouse.md")).unwrap();
    let own = docs.split("## Your own SQL").nth(1).unwrap().split("\n## ").next().unwrap();
    let examples: Vec<&str> = own.split("```sql").skip(1).map(|block| block.split("```").next().unwrap()).collect();
    assert_eq!(examples.len(), 2, "{own}");
    let database = format!("{}.", clickhouse.config.clickhouse_database);
    for example in examples {
        let sql = example.replace("palaute.", &database).trim().trim_end_matches(';').to_string();
        let answer = server.query(&sql).await;
        assert!(!answer.trim().is_empty(), "{sql}: no rows");
    }
    let (exported, embedded_export) = (clickhouse.export().await, embedded.export().await);
    assert_eq!(exported.len(), 5000);
    // Row by row (ClickHouse 18.16 may print a double's last digit differently).
    same_answer(&Value::from(exported), &Value::from(embedded_export), "export");
    let rolled = clickhouse.metric("palaute_query_rollup_hours_total").await.unwrap();
    assert!(rolled >= 48.0 * queries.len() as f64 / 2.0, "answered from rollups: {rolled} hours");
    embedded.stop().await;
    clickhouse.stop().await;
}

#[tokio::test]
async fn beacons_acknowledged_while_clickhouse_is_down_arrive_exactly_once() {
    let mut server = ClickHouseServer::start().await;
    let config = Config { rate_limit_per_second: 0, ..Config::default() };
    let collector = Collector::start_on(Backend::ClickHouse(&server), config).await;
    let send = |id: String, seq: u32| {
        let collector = &collector;
        async move {
            let (status, body) = collector.beacon(&beacon(&id, seq)).await;
            assert_eq!(status, 204, "{id}/{seq}: {body}");
        }
    };
    for n in 0..100 {
        send(format!("view-{n:04}-abcdefghij"), 1).await;
    }
    collector.settled().await;
    assert_eq!(api(&collector, "summary").await["page_views"], 100);

    // ClickHouse crashes: beacons are still acknowledged, and spooled.
    server.stop();
    for n in 100..300 {
        send(format!("view-{n:04}-abcdefghij"), 1).await;
    }
    for n in 0..50 {
        send(format!("view-{n:04}-abcdefghij"), 2).await;
    }
    for n in 100..150 {
        send(format!("view-{n:04}-abcdefghij"), 1).await; // sent twice
    }
    tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    let spooled = collector.metric("palaute_ingest_queue_depth").await.unwrap();
    assert!(spooled >= 200.0, "spooled: {spooled}");
    let (status, body) = collector.get("/api/v1/sites/shop/summary", Some(&collector.token)).await;
    assert_eq!(status, 503, "queries say ClickHouse is unavailable: {body}");

    // The collector restarts while ClickHouse is still down, then ClickHouse comes back.
    let collector = collector.restart().await;
    server.resume().await;
    collector.settled().await;
    let rows = collector.export().await;
    let ids: BTreeSet<&str> = rows.iter().map(|row| row["id"].as_str().unwrap()).collect();
    assert_eq!(rows.len(), 300, "every page view once");
    assert_eq!(ids.len(), 300);
    assert_eq!(api(&collector, "summary").await["page_views"], 300);
    let table = format!("{}.pageviews", collector.config.clickhouse_database);
    let seq2 = server.query(&format!("SELECT count() FROM {table} FINAL WHERE seq = 2")).await;
    assert_eq!(seq2.trim(), "50", "the later snapshot of each updated page view won");
    collector.stop().await;
}

#[tokio::test]
async fn clickhouse_killed_during_a_rollup_leaves_nothing_half_counted() {
    let mut server = ClickHouseServer::start().await;
    let config = Config { rollup_interval_ms: 0, rate_limit_per_second: 0, ..Config::default() };
    let collector = Collector::start_on(Backend::ClickHouse(&server), config).await;
    let store: Arc<dyn Store> = palaute_collector::open_store(&collector.config, &Default::default()).await.unwrap();
    let now = now_ms();
    palaute_collector::generate::generate(&store, "shop", 20_000, now - 3 * 86_400_000, now, 5, 0, |_| {})
        .await
        .unwrap();
    store.settle().await.unwrap();
    store.close().await;
    let queries = ["summary?from=4d", "breakdown?by=path&from=4d", "timeseries?metric=lcp&interval=hour&from=4d"];
    let mut raw = Vec::new();
    for query in queries {
        raw.push(api(&collector, query).await);
    }
    tokio::time::sleep(std::time::Duration::from_millis(3100)).await;

    // ClickHouse dies while the hours are being rolled up.
    let store: Arc<dyn Store> = palaute_collector::open_store(&collector.config, &Default::default()).await.unwrap();
    let rolling = tokio::spawn({
        let store = store.clone();
        async move { palaute_collector::rollup::build::catch_up(&store, now_ms()).await }
    });
    let table = format!("{}.rollups", collector.config.clickhouse_database);
    let started = std::time::Instant::now();
    while server.query(&format!("SELECT count() FROM {table}")).await.trim() == "0" {
        assert!(started.elapsed().as_secs() < 30, "no rollup was written");
    }
    server.stop();
    assert!(rolling.await.unwrap().is_err(), "the rollup failed with ClickHouse");
    store.close().await;

    // Back up: what was built answers, the rest is read raw, then built.
    server.resume().await;
    for (query, expected) in queries.iter().zip(&raw) {
        assert_eq!(&api(&collector, query).await, expected, "{query}: after the crash, as from raw rows");
    }
    assert!(collector.roll_up().await > 0, "the hours left are built");
    for (query, expected) in queries.iter().zip(&raw) {
        assert_eq!(&api(&collector, query).await, expected, "{query}: from rollups, as from raw rows");
    }
    assert!(collector.metric("palaute_query_rollup_hours_total").await.unwrap() >= 3.0 * 70.0);

    // A page view arrives late for a day already merged: that day's other
    // hours come from their hour rollups, its changed hour from raw rows.
    let day = now - now.rem_euclid(86_400_000) - 2 * 86_400_000;
    let late = beacon(&format!("{:032x}", 77), 1).replacen(
        r#""start":"#,
        &format!(r#""start":{},"x":"#, day + 5 * 3_600_000),
        1,
    );
    assert_eq!(collector.beacon(&late).await.0, 204);
    collector.settled().await;
    let summary = api(&collector, "summary?from=4d").await;
    assert_eq!(summary["page_views"], raw[0]["page_views"].as_u64().unwrap() + 1, "counted once, at once");
    assert!(collector.roll_up().await >= 1);
    assert_eq!(api(&collector, "summary?from=4d").await["page_views"], summary["page_views"], "and after its rebuild");
    collector.stop().await;
}

/// Runs the collector binary with `args`, `stdin` as its input; its output.
fn cli(args: &[&str], stdin: Option<&std::path::Path>) -> String {
    String::from_utf8(cli_output(args, stdin).stdout).unwrap()
}

/// Like [`cli`]: its whole output, standard error (warnings) too.
fn cli_output(args: &[&str], stdin: Option<&std::path::Path>) -> std::process::Output {
    let mut command = std::process::Command::new(env!("CARGO_BIN_EXE_palaute-collector"));
    command.args(args).env("RUST_LOG", "warn");
    if let Some(path) = stdin {
        command.stdin(std::fs::File::open(path).unwrap());
    }
    let output = command.output().unwrap();
    assert!(output.status.success(), "{args:?}: {}", String::from_utf8_lossy(&output.stderr));
    output
}

#[tokio::test]
async fn a_site_moves_from_the_embedded_store_to_clickhouse_by_export_and_import() {
    let server = ClickHouseServer::start().await;
    let (embedded, spool) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let embedded_data = embedded.path().to_str().unwrap();
    cli(&["generate", "--site", "shop", "--views", "2000", "--days", "2", "--data", embedded_data], None);
    let exported = cli(&["export", "--site", "shop", "--data", embedded_data], None);
    let file = embedded.path().join("shop.ndjson");
    std::fs::write(&file, &exported).unwrap();
    assert_eq!(exported.lines().count(), 2000);

    let url = server.url();
    let target = ["--store", "clickhouse", "--clickhouse-url", &url, "--clickhouse-database", "moved", "--data"];
    let target: Vec<&str> = target.into_iter().chain([spool.path().to_str().unwrap()]).collect();
    for _ in 0..2 {
        // Twice: an import is idempotent.
        cli(&[&["import"], &target[..]].concat(), Some(&file));
    }
    assert_eq!(server.query("SELECT count() FROM moved.pageviews FINAL").await.trim(), "2000");
    let moved = cli(&[&["export", "--site", "shop"], &target[..]].concat(), None);
    let rows = |text: &str| Value::from(text.lines().map(|l| serde_json::from_str(l).unwrap()).collect::<Vec<Value>>());
    same_answer(&rows(&moved), &rows(&exported), "moved export");
}

/// A database made before `pageviews` was sorted by the hour of the start
/// works as it is, and the collector says at start how to sort it.
#[tokio::test]
async fn a_table_sorted_the_old_way_is_used_and_pointed_out() {
    let server = ClickHouseServer::start().await;
    let spool = tempfile::tempdir().unwrap();
    let url = server.url();
    let store = ["--store", "clickhouse", "--clickhouse-url", &url, "--clickhouse-database", "old"];
    let run = |command: &[&str]| {
        let args: Vec<&str> =
            store.iter().chain(command).copied().chain(["--data", spool.path().to_str().unwrap()]).collect();
        let output = cli_output(&args, None);
        (String::from_utf8(output.stdout).unwrap(), String::from_utf8(output.stderr).unwrap())
    };
    let warning = "pageviews is not sorted by the hour of the start";
    // A new database: sorted by hour, nothing to say.
    let (_, fresh) = run(&["site", "list"]);
    assert!(!fresh.contains(warning), "{fresh}");
    // The same table sorted by (site, id), as databases made before 2026-12-03 are.
    server.query("RENAME TABLE old.pageviews TO old.pageviews_new").await;
    server
        .query(
            "CREATE TABLE old.pageviews AS old.pageviews_new ENGINE = ReplacingMergeTree(seq) \
             PARTITION BY toYYYYMMDD(toDate(intDiv(started_at, 1000))) ORDER BY (site, id)",
        )
        .await;
    let (_, old) = run(&["generate", "--site", "shop", "--views", "300", "--days", "1"]);
    assert!(old.contains(warning) && old.contains("docs/clickhouse.md"), "{old}");
    let (exported, _) = run(&["export", "--site", "shop"]);
    assert_eq!(exported.lines().count(), 300, "its page views are read as before");
}
