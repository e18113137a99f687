//! The aggregate endpoints over a known mix of synthetic page views posted
//! through `POST /b`: buckets, rates and rankings are compared with values
//! computed independently here from what was sent.

mod common;

use common::Collector;
use serde_json::Value;

/// One synthetic visit: path, how long the visitor waited (ms), whether the
/// page loaded, and how long they stayed after it loaded.
struct Visit {
    path: &'static str,
    wait: f64,
    loaded: bool,
    dwell: f64,
}

fn visits() -> Vec<Visit> {
    // A deterministic mix where abandonment rises with the wait.
    let mut seed: u64 = 42;
    let mut next = move |n: u64| {
        seed = seed.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        (seed >> 33) % n
    };
    (0..240)
        .map(|i| {
            let wait = 200.0 + next(13_000) as f64;
            let loaded = next(100) as f64 >= wait / 200.0; // slower → likelier to leave
            let dwell = if next(2) == 0 { 3_000.0 } else { 30_000.0 };
            let path = ["/", "/cart", "/search", "/product"][i % 4];
            Visit { path, wait, loaded, dwell }
        })
        .collect()
}

fn beacon(i: usize, visit: &Visit) -> String {
    let start = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_millis() - 60_000;
    let timing = if visit.loaded {
        format!(
            r#""fcp_ms":100,"lcp_ms":{lcp},"load_ms":{load},"left_at_ms":{left}"#,
            lcp = visit.wait * 0.9,
            load = visit.wait,
            left = visit.wait + visit.dwell
        )
    } else {
        format!(r#""fcp_ms":100,"left_at_ms":{}"#, visit.wait)
    };
    format!(
        r#"{{"v":1,"site":"shop","id":"{i:032x}","seq":1,"url":"{path}?q={i}","start":{start},{timing}}}"#,
        path = visit.path
    )
}

/// The product's rules, restated: slow is load or LCP over 4 s; a slow
/// bounce leaves within 10 s of the load.
fn slow_bounce(visit: &Visit) -> bool {
    visit.loaded && visit.wait > 4000.0 && visit.dwell <= 10_000.0
}

async fn api(collector: &Collector, path: &str) -> Value {
    let (status, body) = collector.get(&format!("/api/v1/sites/shop/{path}"), Some(&collector.token)).await;
    assert_eq!(status, 200, "{path}: {body}");
    serde_json::from_str(&body).unwrap()
}

fn close(actual: &Value, expected: Option<f64>, what: &str) {
    match expected {
        None => assert!(actual.is_null(), "{what}: {actual} should be null"),
        Some(e) => assert!((actual.as_f64().unwrap() - e).abs() < 1e-9, "{what}: {actual} != {e}"),
    }
}

#[tokio::test]
async fn abandonment_curve_summary_and_breakdown_match_the_mix() {
    let collector = Collector::start().await;
    let visits = visits();
    for (i, visit) in visits.iter().enumerate() {
        let (status, body) = collector.beacon(&beacon(i, visit)).await;
        assert_eq!(status, 204, "{body}");
    }

    let curve = api(&collector, "abandonment").await;
    assert_eq!(curve["page_views"], visits.len());
    let buckets = curve["buckets"].as_array().unwrap();
    assert_eq!(buckets.len(), 11);
    for (b, bucket) in buckets.iter().enumerate() {
        let from = b as f64 * 1000.0;
        let in_bucket: Vec<&Visit> =
            visits.iter().filter(|v| ((v.wait / 1000.0).floor() as usize).min(10) == b).collect();
        let abandoned = in_bucket.iter().filter(|v| !v.loaded).count();
        let bounces = in_bucket.iter().filter(|v| slow_bounce(v)).count();
        let waiting: Vec<&Visit> = visits.iter().filter(|v| v.wait >= from).collect();
        let left_waiting = waiting.iter().filter(|v| !v.loaded).count();
        let rate = |part: usize, whole: usize| (whole > 0).then(|| part as f64 / whole as f64);
        assert_eq!(bucket["from_ms"], from);
        assert_eq!(bucket["page_views"], in_bucket.len(), "bucket {b}");
        assert_eq!(bucket["abandoned"], abandoned, "bucket {b}");
        assert_eq!(bucket["slow_bounces"], bounces, "bucket {b}");
        assert_eq!(bucket["still_waiting"], waiting.len(), "bucket {b}");
        close(&bucket["abandonment_rate"], rate(abandoned, in_bucket.len()), "abandonment_rate");
        close(&bucket["slow_bounce_rate"], rate(bounces, in_bucket.len()), "slow_bounce_rate");
        close(&bucket["left_while_waiting_rate"], rate(left_waiting, waiting.len()), "left_while_waiting_rate");
    }
    // The mix makes slower loads lose more visitors: the curve must show it.
    let first = buckets[0]["left_while_waiting_rate"].as_f64().unwrap();
    let late = buckets[8]["left_while_waiting_rate"].as_f64().unwrap();
    assert!(late > first, "abandonment rises with the wait: {first} → {late}");

    assert!(visits.iter().filter(|v| slow_bounce(v)).count() >= 10, "the mix has slow bounces");
    let summary = api(&collector, "summary").await;
    let abandoned = visits.iter().filter(|v| !v.loaded).count() as f64;
    let bounces = visits.iter().filter(|v| slow_bounce(v)).count() as f64;
    assert_eq!(summary["page_views"], visits.len());
    close(&summary["abandonment_rate"], Some(abandoned / visits.len() as f64), "summary abandonment");
    close(&summary["slow_bounce_rate"], Some(bounces / visits.len() as f64), "summary slow bounce");
    let mut lcps: Vec<f64> = visits.iter().filter(|v| v.loaded).map(|v| v.wait * 0.9).collect();
    lcps.sort_by(f64::total_cmp);
    let p75 = lcps[(0.75 * lcps.len() as f64).ceil() as usize - 1];
    close(&summary["vitals"]["lcp_ms"]["p75"], Some(p75), "p75 LCP");

    let by_path = api(&collector, "breakdown?by=path").await;
    let rows = by_path.as_array().unwrap();
    assert_eq!(rows.len(), 4);
    let mut expected: Vec<(String, usize)> = ["/", "/cart", "/search", "/product"]
        .iter()
        .map(|p| {
            let lost = visits.iter().filter(|v| v.path == *p && (!v.loaded || slow_bounce(v))).count();
            (p.to_string(), lost)
        })
        .collect();
    expected.sort_by_key(|e| std::cmp::Reverse(e.1));
    let got: Vec<(String, usize)> =
        rows.iter().map(|r| (r["key"].as_str().unwrap().to_string(), r["lost"].as_u64().unwrap() as usize)).collect();
    assert_eq!(got.iter().map(|g| g.1).collect::<Vec<_>>(), expected.iter().map(|e| e.1).collect::<Vec<_>>());
    for (key, lost) in &expected {
        assert!(got.contains(&(key.clone(), *lost)), "{key} lost {lost}: {got:?}");
    }

    // Filters apply to every aggregate and the export: one path only, one
    // device class (every beacon here came from a desktop browser), none.
    let cart = api(&collector, "abandonment?path=/cart").await;
    assert_eq!(cart["page_views"], visits.iter().filter(|v| v.path == "/cart").count());
    assert_eq!(api(&collector, "summary?device=desktop&nav_type=").await["page_views"], visits.len());
    assert_eq!(api(&collector, "summary?device=mobile").await["page_views"], 0);
    assert_eq!(api(&collector, "breakdown?by=path&browser=Chrome&path=/search").await.as_array().unwrap().len(), 1);
    let (status, body) =
        collector.get("/api/v1/sites/shop/pageviews?os=Linux&path=/product", Some(&collector.token)).await;
    assert_eq!(status, 200);
    assert_eq!(body.lines().count(), visits.iter().filter(|v| v.path == "/product").count());
    let (_, none) = collector.get("/api/v1/sites/shop/pageviews?os=Windows", Some(&collector.token)).await;
    assert_eq!(none.lines().count(), 0);
    let (status, _) = collector.get("/api/v1/sites/shop/breakdown?by=", Some(&collector.token)).await;
    assert_eq!(status, 400);
    collector.stop().await;
}
