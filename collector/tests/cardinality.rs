//! Real sites have thousands of paths: routes, bounded rollups and bounded
//! answers, on both stores, with a shop's generated URL mix
//! (`generate --paths`), at a smaller scale than BENCHMARKS.md's runs.

mod common;

use std::sync::Arc;

use common::clickhouse::ClickHouseServer;
use common::{Backend, Collector};
use palaute_collector::config::Config;
use palaute_collector::model::now_ms;
use palaute_collector::routes::RouteRule;
use palaute_collector::store::Store;
use serde_json::Value;

const HOUR: i64 = 3_600_000;

async fn api(collector: &Collector, path: &str) -> Value {
    let (status, body) = collector.get(&format!("/api/v1/sites/shop/{path}"), Some(&collector.token)).await;
    assert_eq!(status, 200, "{path}: {body}");
    serde_json::from_str(&body).unwrap()
}

fn rows(answer: &Value) -> &Vec<Value> {
    answer.as_array().unwrap()
}

fn views(row: &Value) -> u64 {
    row["page_views"].as_u64().unwrap()
}

/// Three whole hours of a shop with about 3,000 distinct paths (more than
/// `rollup::build::KEPT_VALUES` per hour): breakdowns are bounded and add up, routes
/// need no configuration, the most viewed paths are counted exactly from
/// rollups, and a path folded into an hour's other values is still
/// answered exactly (its hours are read raw).
async fn a_shop_with_thousands_of_paths(backend: Backend<'_>) {
    let config = Config { rollup_interval_ms: 0, rate_limit_per_second: 0, ..Config::default() };
    let collector = Collector::start_on(backend, config).await;
    let store: Arc<dyn Store> = palaute_collector::open_store(&collector.config, &Default::default()).await.unwrap();
    let now = now_ms();
    let to = now - now.rem_euclid(HOUR);
    let from = to - 3 * HOUR;
    palaute_collector::generate::generate(&store, "shop", 12_000, from, to, 3, 3000, |_| {}).await.unwrap();
    store.settle().await.unwrap();
    store.close().await;
    let period = format!(
        "from={}&to={}",
        palaute_collector::model::format_time(from),
        palaute_collector::model::format_time(to)
    );

    // Raw rows first: every path exactly.
    let raw_paths = api(&collector, &format!("breakdown?by=path&limit=1000&{period}")).await;
    let distinct = rows(&raw_paths).len();
    assert_eq!(rows(&raw_paths).last().unwrap()["other"], true, "more paths than the limit: {distinct} rows");
    assert_eq!(distinct, 1001, "1,000 groups and the others");
    assert_eq!(rows(&raw_paths).iter().map(views).sum::<u64>(), 12_000, "the rows add up");
    let raw_routes = api(&collector, &format!("breakdown?by=route&{period}")).await;
    let raw_products = api(&collector, &format!("breakdown?by=path&route=/products/*&limit=10&{period}")).await;
    let rare = rows(&raw_paths).iter().rev().find(|r| r["key"].as_str().is_some_and(|k| k.starts_with("/products/")));
    let rare = rare.unwrap()["key"].as_str().unwrap().to_string();
    let queries = [
        format!("summary?path={rare}&{period}"),
        format!("summary?path=/products/10000&{period}"),
        format!("summary?route=/products/*&{period}"),
        format!("breakdown?by=device&route=/blog/*&{period}"),
        format!("timeseries?metric=lcp&interval=hour&path={rare}&{period}"),
    ];
    let mut raw = Vec::new();
    for query in &queries {
        raw.push(api(&collector, query).await);
    }

    // No configuration: product pages, blog posts and collections are one
    // route each, and a dozen routes cover 95% of the views.
    let routes: Vec<(String, u64)> =
        rows(&raw_routes).iter().map(|r| (r["key"].as_str().unwrap_or_default().to_string(), views(r))).collect();
    for route in ["/products/*", "/blog/*", "/collections/*", "/search/*", "/"] {
        assert!(routes.iter().any(|(r, _)| r == route), "{route} in {routes:?}");
    }
    let twelve: u64 = routes.iter().take(12).map(|r| r.1).sum();
    assert!(twelve as f64 >= 0.95 * 12_000.0, "12 routes cover {twelve} of 12,000: {routes:?}");

    let rolled = collector.roll_up().await;
    assert_eq!(rolled, 3, "three hours rolled up");
    let before = collector.metric("palaute_query_rollup_hours_total").await.unwrap();
    let paths = api(&collector, &format!("breakdown?by=path&limit=1000&{period}")).await;
    assert!(collector.metric("palaute_query_rollup_hours_total").await.unwrap() >= before + 3.0, "from rollups");
    let paths = rows(&paths);
    assert!(paths.len() <= 1001 && paths.last().unwrap()["other"] == true, "{} rows", paths.len());
    assert_eq!(paths.iter().map(views).sum::<u64>(), 12_000, "the rows still add up");
    for (exact, kept) in rows(&raw_paths).iter().zip(paths).take(10) {
        assert_eq!((&exact["key"], views(exact)), (&kept["key"], views(kept)), "the ten most viewed, exactly");
        assert_eq!(exact["vitals"], kept["vitals"], "{}: their vitals too", exact["key"]);
    }
    // The paths of one route (the dashboard's drill-down) from the rollups
    // of the pair path+route: the ten most viewed exactly, the rows add up,
    // and the other row, what the hours folded, has shares, not percentiles.
    let before = collector.metric("palaute_query_rollup_hours_total").await.unwrap();
    let products = api(&collector, &format!("breakdown?by=path&route=/products/*&limit=10&{period}")).await;
    assert!(collector.metric("palaute_query_rollup_hours_total").await.unwrap() >= before + 3.0, "from rollups");
    let (raw_rows, rows_now) = (rows(&raw_products), rows(&products));
    assert_eq!(rows_now.len(), 11, "ten paths and the others");
    let sum = |rows: &[Value]| rows.iter().map(views).sum::<u64>();
    assert_eq!(sum(rows_now), sum(raw_rows), "the rows add up to the route's page views");
    for (exact, kept) in raw_rows.iter().zip(rows_now).take(10) {
        assert_eq!((&exact["key"], views(exact), &exact["vitals"]), (&kept["key"], views(kept), &kept["vitals"]));
    }
    let other = rows_now.last().unwrap();
    assert_eq!(other["other"], true);
    assert!(other["vitals"]["lcp_ms"]["p75"].is_null(), "{other}");
    assert!(other["vitals"]["lcp_ms"]["good"].as_f64().is_some(), "{other}");
    let small = api(&collector, &format!("breakdown?by=path&limit=5&{period}")).await;
    assert_eq!(rows(&small).len(), 6);
    assert_eq!(rows(&small).iter().map(views).sum::<u64>(), 12_000);
    assert_eq!(api(&collector, &format!("breakdown?by=route&{period}")).await, raw_routes, "few routes: all kept");

    let partial = collector.metric("palaute_query_partial_spans_total").await.unwrap();
    for (query, expected) in queries.iter().zip(&raw) {
        assert_eq!(&api(&collector, query).await, expected, "{query}: as from raw rows");
    }
    assert!(
        collector.metric("palaute_query_partial_spans_total").await.unwrap() > partial,
        "the rare path was among some hour's other values: those hours were read raw"
    );
    for limit in ["0", "1001", "x"] {
        let (status, body) =
            collector.get(&format!("/api/v1/sites/shop/breakdown?by=path&limit={limit}"), Some(&collector.token)).await;
        assert_eq!(status, 400, "limit={limit}: {body}");
    }
    collector.stop().await;
}

#[tokio::test]
async fn a_shop_with_thousands_of_paths_on_the_embedded_store() {
    a_shop_with_thousands_of_paths(Backend::Embedded).await;
}

#[tokio::test]
async fn a_shop_with_thousands_of_paths_on_clickhouse() {
    let server = ClickHouseServer::start().await;
    a_shop_with_thousands_of_paths(Backend::ClickHouse(&server)).await;
}

/// Two days over about 3,000 paths: the days' rollups keep their most
/// viewed values and fold the rest too; a value folded into a day's other
/// values is answered from that day's hours, and from raw rows where an
/// hour folded it as well: every answer as from raw rows.
#[tokio::test]
async fn folded_days_answer_from_their_hours() {
    let config = Config { rollup_interval_ms: 0, rate_limit_per_second: 0, ..Config::default() };
    let collector = Collector::start_with(config).await;
    let store: Arc<dyn Store> = palaute_collector::open_store(&collector.config, &Default::default()).await.unwrap();
    let now = now_ms();
    let today = now - now.rem_euclid(24 * HOUR);
    let (from, to) = (today - 2 * 24 * HOUR, today);
    palaute_collector::generate::generate(&store, "shop", 16_000, from, to, 5, 3000, |_| {}).await.unwrap();
    store.close().await;
    let period = format!(
        "from={}&to={}",
        palaute_collector::model::format_time(from),
        palaute_collector::model::format_time(to)
    );
    let paths = api(&collector, &format!("breakdown?by=path&limit=1000&{period}")).await;
    let named: Vec<&str> = rows(&paths).iter().filter_map(|r| r["key"].as_str()).collect();
    // A path seen once: among some day's (and hour's) other values.
    let mut seen: std::collections::HashMap<String, usize> = Default::default();
    for row in collector.export().await {
        *seen.entry(row["url"].as_str().unwrap().split('?').next().unwrap().to_string()).or_default() += 1;
    }
    let once = seen.iter().find(|(path, n)| **n == 1 && path.starts_with("/products/")).unwrap().0.clone();
    let queries: Vec<String> = [named[0], named[40], named[400], named[named.len() - 1], &once]
        .iter()
        .map(|path| format!("summary?path={path}&{period}"))
        .chain([format!("timeseries?metric=lcp&interval=day&route=/blog/*&{period}")])
        .collect();
    let mut raw = Vec::new();
    for query in &queries {
        raw.push(api(&collector, query).await);
    }
    assert_eq!(collector.roll_up().await, 48);
    let db = rusqlite::Connection::open(collector.data.path().join("palaute.db")).unwrap();
    let (days, folded): (i64, i64) = db
        .query_row(
            "SELECT count(DISTINCT day), sum(value = char(30)) FROM day_rollups WHERE dimension = 'path'",
            [],
            |row| Ok((row.get(0)?, row.get(1)?)),
        )
        .unwrap();
    assert_eq!((days, folded), (2, 2), "both days rolled up, each with an other row of paths");
    let kept: i64 = db
        .query_row(
            "SELECT max(n) FROM (SELECT count(*) AS n FROM day_rollups WHERE dimension = 'path' GROUP BY day)",
            [],
            |row| row.get(0),
        )
        .unwrap();
    assert!(kept <= palaute_collector::rollup::build::KEPT_DAY_VALUES as i64 + 2, "{kept} rows in a day");
    for (query, expected) in queries.iter().zip(&raw) {
        assert_eq!(&api(&collector, query).await, expected, "{query}: as from raw rows");
    }
    assert!(collector.metric("palaute_query_partial_spans_total").await.unwrap() > 0.0, "rare paths were folded");
    assert!(collector.metric("palaute_query_rollup_hours_total").await.unwrap() >= 5.0 * 24.0, "the rest from rollups");
    collector.stop().await;
}

/// The page's own route (`data-route`, `palaute.route`) wins; then a
/// declared pattern; then the derived route. The release is the page's.
#[tokio::test]
async fn routes_are_named_declared_or_derived() {
    let rules = vec![RouteRule { site: "shop".into(), pattern: "/p/:slug".into() }];
    let collector = Collector::start_with(Config { routes: rules, ..Config::default() }).await;
    let start = now_ms();
    let sent = [
        ("/p/red-shoe?ref=ad", None, "/p/:slug"),
        ("/p/red-shoe", Some("Product page"), "Product page"),
        ("/products/12345", None, "/products/*"),
        ("/orders/3f2a9c1e-7b4d-4e8a-9c1f-2b3d4e5f6a7b", None, "/orders/*"),
        ("/about", None, "/about"),
    ];
    for (i, (url, route, _)) in sent.iter().enumerate() {
        let mut beacon = serde_json::json!({
            "v": 1, "site": "shop", "id": format!("{i:032x}"), "seq": 1, "url": url, "start": start,
            "nav_type": "navigate", "release": "v2.1.0",
        });
        if let Some(route) = route {
            beacon["route"] = (*route).into();
        }
        let (status, body) = collector.beacon(&beacon.to_string()).await;
        assert_eq!(status, 204, "{body}");
    }
    let long = serde_json::json!({
        "v": 1, "site": "shop", "id": format!("{:032x}", 99), "seq": 1, "url": "/x", "start": start,
        "route": "r".repeat(300), "release": "v".repeat(300),
    });
    assert_eq!(collector.beacon(&long.to_string()).await.0, 204, "a long name is cut, not refused");
    let hostile = long.to_string().replace("rrrr", "\\u202e");
    assert_eq!(collector.beacon(&hostile).await.0, 400, "bidirectional formatting in a route");
    collector.settled().await;
    let export = collector.export().await;
    for (i, (url, _, route)) in sent.iter().enumerate() {
        let row = export.iter().find(|r| r["id"] == format!("{i:032x}")).unwrap();
        assert_eq!((row["url"].as_str(), row["route"].as_str()), (Some(*url), Some(*route)));
        assert_eq!(row["release"], "v2.1.0");
    }
    let cut = export.iter().find(|r| r["id"] == format!("{:032x}", 99)).unwrap();
    let chars = |field: &str| cut[field].as_str().unwrap().chars().count();
    assert_eq!(
        (chars("route"), chars("release")),
        (palaute::limits::MAX_ROUTE_CHARS, palaute::limits::MAX_RELEASE_CHARS)
    );
    let by_release = api(&collector, "breakdown?by=release").await;
    assert_eq!(rows(&by_release)[0]["key"], "v2.1.0");
    let summary = api(&collector, "summary?route=/p/:slug").await;
    assert_eq!(summary["page_views"], 1);

    // A bad pattern in the config is refused at start, naming it.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let bad = Config {
        routes: vec![RouteRule { site: "shop".into(), pattern: "products/:id".into() }],
        data: collector.data.path().join("other"),
        ..Config::default()
    };
    let refused = palaute_collector::run(listener, bad, async {}).await.unwrap_err();
    assert!(refused.to_string().contains("products/:id"), "{refused}");
    collector.stop().await;
}

/// Learned routes survive a restart: the new collector warms its learner
/// from the newest stored page views, so the next new blog post is
/// `/blog/*` at once, not a route of its own.
#[tokio::test]
async fn learned_routes_survive_a_restart() {
    let collector = Collector::start_with(Config { rate_limit_per_second: 0, ..Config::default() }).await;
    let start = now_ms();
    let send = |i: u32, url: String| {
        serde_json::json!({"v": 1, "site": "shop", "id": format!("{i:032x}"), "seq": 1, "url": url, "start": start})
            .to_string()
    };
    for i in 0..40 {
        let url = format!("/blog/a-post-about-{}", "x".repeat(i as usize + 1));
        assert_eq!(collector.beacon(&send(i, url)).await.0, 204);
    }
    collector.settled().await;
    let collector = collector.restart().await;
    // The warm start runs in the background at start: wait for it to learn.
    let mut route = String::new();
    for attempt in 0..50u32 {
        let id = 100 + attempt;
        assert_eq!(collector.beacon(&send(id, format!("/blog/brand-new-{attempt}"))).await.0, 204);
        collector.settled().await;
        let export = collector.export().await;
        route = export.iter().find(|r| r["id"] == format!("{id:032x}")).unwrap()["route"].as_str().unwrap().into();
        if route == "/blog/*" {
            break;
        }
        assert!(attempt < 2, "not learned after the restart: {route}");
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert_eq!(route, "/blog/*");
    collector.stop().await;
}
