//! Releases and comparisons through a real collector: two releases of
//! generated page views posted through `POST /b`, whose p75 LCP is 1.6 s
//! and 2.4 s (2,000 page views each) and whose other measures are the same
//! draws from one distribution; deploy markers posted through the API. The
//! comparison finds LCP `worse` and nothing else, whichever way the sides
//! are named, from raw rows and from rollups, on both stores. The
//! regression alert reaches a real HTTP receiver exactly once, and not
//! while the release has too few page views.

mod common;

use std::time::Duration;

use common::clickhouse::ClickHouseServer;
use common::receiver;
use common::{Backend, Collector};
use palaute_collector::config::Config;
use palaute_collector::store::AlertHook;
use serde_json::Value;

const HOUR: i64 = 3_600_000;

fn now_ms() -> i64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_millis() as i64
}

fn iso(ms: i64) -> String {
    palaute_collector::model::format_time(ms)
}

/// `n` page views starting evenly in `[from, from + HOUR)`, p75 LCP
/// `lcp_p75` (log-normal, drawn with `rng`); every other measure the same
/// draws from one distribution whatever the release (left equal).
fn views(
    rng: &mut fastrand::Rng,
    first_id: u64,
    n: u64,
    from: i64,
    lcp_p75: f64,
    release: Option<&str>,
) -> Vec<String> {
    let release = release.map(|name| format!(r#","release":"{name}""#)).unwrap_or_default();
    let rest = &mut fastrand::Rng::with_seed(5);
    let log_normal = |rng: &mut fastrand::Rng, p75: f64, sigma: f64| {
        let normal = (-2.0 * (1.0 - rng.f64()).ln()).sqrt() * (std::f64::consts::TAU * rng.f64()).cos();
        p75 / (0.674_49 * sigma).exp() * (sigma * normal).exp()
    };
    (0..n)
        .map(|i| {
            let start = from + (i as i64 * HOUR) / n as i64;
            let lcp = log_normal(rng, lcp_p75, 0.5);
            let (ttfb, fcp) = (log_normal(rest, 300.0, 0.5), log_normal(rest, 900.0, 0.5));
            let inp = log_normal(rest, 150.0, 0.6);
            let cls = if rest.f64() < 0.5 { 0.0 } else { (log_normal(rest, 0.05, 1.0) * 1000.0).round() / 1000.0 };
            let rage = u32::from(rest.f64() < 0.08);
            let feedback = if rest.f64() < 0.2 {
                format!(r#","feedback":{{"rating":{},"scale":"thumbs","at_ms":30000}}"#, u8::from(rest.f64() < 0.8))
            } else {
                String::new()
            };
            format!(
                r#"{{"v":1,"site":"shop","id":"{:032x}","seq":1,"url":"/p","start":{start},"nav_type":"navigate",
                "ttfb_ms":{ttfb:.1},"fcp_ms":{fcp:.1},"lcp_ms":{lcp:.1},"inp_ms":{inp:.1},"cls":{cls},
                "load_ms":{:.1},"left_at_ms":60000,"rage_clicks":{rage},"dead_clicks":0{feedback}{release}}}"#,
                first_id + i,
                lcp.max(fcp) + 100.0
            )
        })
        .collect()
}

/// Posts beacons in batches.
async fn send(collector: &Collector, beacons: &[String]) {
    for batch in beacons.chunks(50) {
        let (status, body) = collector.beacon(&format!("[{}]", batch.join(","))).await;
        assert_eq!(status, 204, "{body}");
    }
}

/// `POST path` with a JSON body and the site's token.
async fn post(collector: &Collector, path: &str, body: &str, token: Option<&str>) -> (u16, String) {
    let auth = token.map(|t| format!("Authorization: Bearer {t}\r\n")).unwrap_or_default();
    let request = format!(
        "POST {path} HTTP/1.1\r\nHost: x\r\n{auth}Content-Type: application/json\r\nContent-Length: {}\r\n\
         Connection: close\r\n\r\n{body}",
        body.len()
    );
    collector.raw(request.as_bytes()).await
}

async fn api(collector: &Collector, path: &str) -> (u16, Value) {
    let (status, body) = collector.get(&format!("/api/v1/sites/shop/{path}"), Some(&collector.token)).await;
    (status, serde_json::from_str(&body).unwrap_or(Value::String(body)))
}

/// Two releases an hour apart, their page views carrying their names
/// (`data-release`): v1 (p75 LCP 1.6 s) two hours ago, v2 (2.4 s) an hour
/// ago; and, the hour before, 300 views of a canary, `v2-canary`, with no marker.
async fn two_releases(collector: &Collector, now: i64) -> (i64, i64) {
    let (v1, v2) = (now - now.rem_euclid(HOUR) - 2 * HOUR, now - now.rem_euclid(HOUR) - HOUR);
    let mut rng = fastrand::Rng::with_seed(36);
    send(collector, &views(&mut rng, 0, 2000, v1, 1600.0, Some("v1"))).await;
    send(collector, &views(&mut rng, 10_000, 2000, v2, 2400.0, Some("v2"))).await;
    send(collector, &views(&mut rng, 20_000, 300, v1 - HOUR, 1600.0, Some("v2-canary"))).await;
    for (name, at) in [("v1", v1), ("v2", v2)] {
        let body = format!(r#"{{"name":"{name}","at":"{}"}}"#, iso(at));
        let (status, answer) = post(collector, "/api/v1/sites/shop/releases", &body, Some(&collector.token)).await;
        assert_eq!(status, 201, "{answer}");
    }
    collector.settled().await;
    (v1, v2)
}

/// LCP worse by about 800 ms; every other measure without a verdict.
fn only_lcp_is_worse(answer: &Value, what: &str) {
    let measures = answer["measures"].as_object().unwrap_or_else(|| panic!("{what}: {answer}"));
    assert_eq!(measures.len(), 9, "{what}");
    let lcp = &measures["lcp_ms"];
    assert_eq!(lcp["verdict"], "worse", "{what}: {lcp}");
    let (a, b) = (lcp["a"].as_f64().unwrap(), lcp["b"].as_f64().unwrap());
    assert!((a - 1600.0).abs() < 100.0 && (b - 2400.0).abs() < 150.0, "{what}: {lcp}");
    assert!(lcp["low"].as_f64().unwrap() > 0.0 && lcp["high"].as_f64().unwrap() > 800.0, "{what}: {lcp}");
    assert_eq!((lcp["a_count"].as_u64(), lcp["b_count"].as_u64()), (Some(2000), Some(2000)), "{what}");
    for (name, measure) in measures {
        if name != "lcp_ms" {
            assert_eq!(measure["verdict"], "no_clear_change", "{what}: {name}: {measure}");
            assert!(
                measure["low"].as_f64().unwrap() < 0.0 && measure["high"].as_f64().unwrap() > 0.0,
                "{what}: {name}"
            );
        }
    }
    assert_eq!((answer["a"]["page_views"].as_u64(), answer["b"]["page_views"].as_u64()), (Some(2000), Some(2000)));
}

async fn releases_and_comparisons(collector: &Collector) {
    let now = now_ms();
    // Bad markers first: no token, a bad name, a bad time, an unknown field.
    let url = "/api/v1/sites/shop/releases";
    assert_eq!(post(collector, url, r#"{"name":"v0"}"#, None).await.0, 401);
    for bad in [r#"{"name":""}"#, r#"{"name":"v0","at":"yesterday"}"#, r#"{"name":"v0","when":"1h"}"#, "not json"] {
        let (status, body) = post(collector, url, bad, Some(&collector.token)).await;
        assert_eq!(status, 400, "{bad}: {body}");
    }
    let (v1, v2) = two_releases(collector, now).await;
    let (status, markers) = api(collector, "releases").await;
    assert_eq!(status, 200);
    assert_eq!(
        markers.as_array().unwrap().iter().map(|m| m["name"].as_str().unwrap()).collect::<Vec<_>>(),
        ["v1", "v2"]
    );
    assert_eq!(markers[0]["at_ms"], v1);

    let named = [
        "compare".to_string(),
        "compare?a_release=v1&b_release=v2".to_string(),
        format!("compare?a_from={}&a_to={}&b_from={}&b_to={}", iso(v1), iso(v2), iso(v2), iso(v2 + HOUR)),
        "compare?a_release=v1&b_release=v2&device=desktop".to_string(),
    ];
    for raw_or_rolled in ["raw rows", "rollups"] {
        for query in &named {
            let (status, answer) = api(collector, query).await;
            assert_eq!(status, 200, "{query}: {answer}");
            only_lcp_is_worse(&answer, &format!("{query} ({raw_or_rolled})"));
        }
        let (_, default) = api(collector, "compare").await;
        assert_eq!((default["a"]["release"].as_str(), default["b"]["release"].as_str()), (Some("v1"), Some("v2")));
        // A release without a marker is the page views that carry it.
        let (status, canary) = api(collector, "compare?a_release=v1&b_release=v2-canary").await;
        assert_eq!(status, 200, "{canary}");
        assert_eq!((canary["a"]["page_views"].as_u64(), canary["b"]["page_views"].as_u64()), (Some(2000), Some(300)));
        assert_eq!(canary["measures"]["lcp_ms"]["verdict"], "no_clear_change", "{canary}");
        collector.roll_up().await;
    }
    assert!(collector.metric("palaute_query_rollup_hours_total").await.unwrap_or(0.0) > 0.0, "rollups answered");

    // A filter that selects nothing: no verdict, with the reason.
    let (_, nothing) = api(collector, "compare?a_release=v1&b_release=v2&device=mobile").await;
    assert_eq!(nothing["measures"]["lcp_ms"]["verdict"], "no_clear_change");
    assert!(nothing["measures"]["lcp_ms"]["reason"].as_str().unwrap().starts_with("too few to tell"), "{nothing}");
    // Bad sides.
    for (query, status) in [
        ("compare?a_release=v9&b_release=v2", 404),
        ("compare?a_release=v1&a_from=2h&a_to=1h&b_release=v2", 400),
        ("compare?a_release=v1", 400),
        ("compare?a_from=1h&a_to=2h&b_release=v2", 400),
        ("compare?nonsense=1", 400),
    ] {
        assert_eq!(api(collector, query).await.0, status, "{query}");
    }
}

#[tokio::test]
async fn releases_compare_on_the_embedded_store() {
    let collector = Collector::start_with(Config { rate_limit_per_second: 0, ..Config::default() }).await;
    releases_and_comparisons(&collector).await;
    collector.stop().await;
}

#[tokio::test]
async fn releases_compare_on_clickhouse() {
    let server = ClickHouseServer::start().await;
    let config = Config { rate_limit_per_second: 0, ..Config::default() };
    let collector = Collector::start_on(Backend::ClickHouse(&server), config).await;
    releases_and_comparisons(&collector).await;
    collector.stop().await;
}

/// `release add` on the command line, as CI would run it.
#[tokio::test]
async fn release_add_records_a_marker_from_the_command_line() {
    let collector = Collector::start_with(Config { rate_limit_per_second: 0, ..Config::default() }).await;
    let data = collector.data.path().to_str().unwrap().to_string();
    let run = |args: &[&str]| {
        std::process::Command::new(env!("CARGO_BIN_EXE_palaute-collector"))
            .args(["--data", &data])
            .args(args)
            .output()
            .unwrap()
    };
    let added = run(&["release", "add", "shop", "v7.1", "--at", "2026-12-01T10:00:00Z"]);
    assert!(added.status.success(), "{}", String::from_utf8_lossy(&added.stderr));
    assert!(String::from_utf8_lossy(&added.stdout).contains("release v7.1 of shop at 2026-12-01T10:00:00"));
    let refused = run(&["release", "add", "nosuchsite", "v1"]);
    assert!(!refused.status.success());
    assert!(String::from_utf8_lossy(&refused.stderr).contains("no site nosuchsite"), "{refused:?}");
    let (_, markers) = api(&collector, "releases").await;
    assert_eq!(markers[0]["name"], "v7.1");
    assert_eq!(markers[0]["at"].as_str().unwrap().get(..19), Some("2026-12-01T10:00:00"));
    collector.stop().await;
}

/// Waits (up to 30 s) until the counter `metric` reaches `at_least`.
async fn checks(collector: &Collector, metric: &str, at_least: f64) {
    let started = std::time::Instant::now();
    while collector.metric(metric).await.unwrap_or(0.0) < at_least {
        assert!(started.elapsed() < Duration::from_secs(30), "{metric} did not reach {at_least} in 30 s");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// The regression alert: nothing while v2 has too few page views; once it
/// has enough, one alert for LCP, delivered once, and never again (not
/// after more checks, not after a restart).
#[tokio::test]
async fn a_slower_release_alerts_once_and_not_before_it_has_enough_views() {
    let (url, seen) = receiver::start().await;
    let hook = AlertHook { id: 0, site: "shop".into(), url: format!("{url}/hook"), format: "json".into() };
    let config = Config {
        rate_limit_per_second: 0,
        regression_check_ms: 100,
        regression_min_views: 2000,
        public_url: Some("https://palaute.example".into()),
        alerts: vec![hook],
        ..Config::default()
    };
    let collector = Collector::start_with(config).await;
    let now = now_ms();
    let (v1, v2) = (now - now.rem_euclid(HOUR) - 2 * HOUR, now - now.rem_euclid(HOUR) - HOUR);
    let mut rng = fastrand::Rng::with_seed(7);
    // Page views that carry no release: each release is its marker's span.
    send(&collector, &views(&mut rng, 0, 2000, v1, 1600.0, None)).await;
    let slow = views(&mut rng, 10_000, 2000, v2, 2400.0, None);
    send(&collector, &slow[..1000]).await;
    for (name, at) in [("v1", v1), ("v2", v2)] {
        let body = format!(r#"{{"name":"{name}","at":"{}"}}"#, iso(at));
        assert_eq!(post(&collector, "/api/v1/sites/shop/releases", &body, Some(&collector.token)).await.0, 201);
    }
    collector.settled().await;
    let waiting = r#"palaute_alerts_total{kind="regression",outcome="waiting"}"#;
    let checks_from = collector.metric(waiting).await.unwrap_or(0.0);
    checks(&collector, waiting, checks_from + 5.0).await;
    assert!(
        seen.lock().unwrap().is_empty(),
        "no alert with 1,000 of the 2,000 page views needed: {:?}",
        seen.lock().unwrap()
    );

    send(&collector, &slow[1000..]).await;
    receiver::until(&seen, "the regression alert", |seen| !seen.is_empty()).await;
    let checked = r#"palaute_alerts_total{kind="regression",outcome="checked"}"#;
    let after = collector.metric(checked).await.unwrap();
    checks(&collector, checked, after + 5.0).await;
    let collector = collector.restart().await;
    checks(&collector, checked, 5.0).await;
    let seen = seen.lock().unwrap().clone();
    assert_eq!(seen.len(), 1, "exactly one delivery: {seen:?}");
    let (path, _, body) = &seen[0];
    assert_eq!(path, "/hook");
    let alert: Value = serde_json::from_str(body).unwrap();
    assert_eq!(alert["event"], "regression");
    assert_eq!((alert["release"].as_str(), alert["previous_release"].as_str()), (Some("v2"), Some("v1")));
    assert_eq!(alert["measure"], "lcp_ms");
    let (a, b) = (alert["a"].as_f64().unwrap(), alert["b"].as_f64().unwrap());
    assert!((a - 1600.0).abs() < 100.0 && (b - 2400.0).abs() < 150.0, "{alert}");
    assert!(alert["low"].as_f64().unwrap() > 0.0 && alert["high"].as_f64().unwrap() > alert["low"].as_f64().unwrap());
    assert_eq!(alert["dashboard"], "https://palaute.example/dashboard/");
    assert_eq!(alert["page_views"]["b"], 2000);
    collector.stop().await;
}
