//! The analyst API over a known, generated mix of page views posted through
//! `POST /b` across the last 20 hours: every aggregate (summary, abandonment
//! curve, each breakdown, time series, filters, a period with partial
//! hours) is compared with values computed independently here from what was
//! sent: counts and rates exactly, percentiles within 1% of the exact
//! nearest-rank value. The same checks run on raw rows, then on rollups,
//! then after a late beacon changed a rolled-up hour.

mod common;

use common::clickhouse::ClickHouseServer;
use common::{Backend, Collector};
use palaute_collector::config::Config;
use serde_json::Value;

const HOUR: i64 = 3_600_000;
const DESKTOP: &str =
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36";
const IPHONE: &str = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.0 Mobile/15E148 Safari/604.1";
const ANDROID: &str = "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Mobile Safari/537.36";
/// User agents and the classes the collector gives them.
const AGENTS: [(&str, &str, &str, &str); 3] = [
    (DESKTOP, "desktop", "Chrome", "Windows 10"),
    (IPHONE, "mobile", "Safari", "iPhone"),
    (ANDROID, "mobile", "Chrome", "Android"),
];
const PATHS: [&str; 4] = ["/", "/cart", "/search", "/product"];

/// One generated page view, as sent.
#[derive(Clone, Debug)]
struct Visit {
    id: usize,
    started_at: i64,
    path: &'static str,
    agent: usize,
    effective_type: &'static str,
    nav_type: &'static str,
    status: u16,
    ttfb: f64,
    fcp: f64,
    lcp: f64,
    inp: Option<f64>,
    cls: f64,
    /// Load time; `None`: the visitor left before the load, after `wait`.
    load: Option<f64>,
    wait: f64,
    dwell: f64,
    feedback: Option<u8>,
    variant: &'static str,
}

impl Visit {
    fn left_at(&self) -> f64 {
        match self.load {
            Some(load) => load.max(self.lcp) + self.dwell,
            None => self.wait,
        }
    }

    /// The product's rules, restated: slow is load or LCP over 4 s; a slow
    /// bounce leaves within 10 s of the later of the two.
    fn slow_bounce(&self) -> bool {
        self.load.is_some_and(|load| (load > 4000.0 || self.lcp > 4000.0) && self.dwell <= 10_000.0)
    }

    fn abandoned(&self) -> bool {
        self.load.is_none()
    }

    fn hour_of_day(&self) -> String {
        (self.started_at.rem_euclid(86_400_000) / HOUR).to_string()
    }

    fn key(&self, by: &str) -> Option<String> {
        Some(match by {
            "path" => self.path.to_string(),
            "device" => AGENTS[self.agent].1.to_string(),
            "browser" => AGENTS[self.agent].2.to_string(),
            "os" => AGENTS[self.agent].3.to_string(),
            "effective_type" => self.effective_type.to_string(),
            "nav_type" => self.nav_type.to_string(),
            "hour_of_day" => self.hour_of_day(),
            "response_status" => self.status.to_string(),
            "tag:ab" => self.variant.to_string(),
            _ => unreachable!("{by}"),
        })
    }

    fn vital(&self, name: &str) -> Option<f64> {
        match name {
            "ttfb_ms" => Some(self.ttfb),
            "fcp_ms" => Some(self.fcp),
            // LCP is reported only once the visitor saw it.
            "lcp_ms" => (self.load.is_some() || self.lcp < self.wait).then_some(self.lcp),
            "inp_ms" => self.inp,
            "cls" => Some(self.cls),
            _ => unreachable!(),
        }
    }

    fn beacon(&self) -> String {
        let load = self.load.map(|l| format!(r#","load_ms":{l}"#)).unwrap_or_default();
        let lcp = self.vital("lcp_ms").map(|l| format!(r#","lcp_ms":{l}"#)).unwrap_or_default();
        let inp = self.inp.map(|i| format!(r#","inp_ms":{i}"#)).unwrap_or_default();
        let feedback = self
            .feedback
            .map(|r| format!(r#","feedback":{{"rating":{r},"scale":"thumbs","at_ms":{}}}"#, self.left_at() - 500.0))
            .unwrap_or_default();
        format!(
            r#"{{"v":1,"site":"shop","id":"{:032x}","seq":1,"url":"{}?q={}","start":{},"nav_type":"{}",
            "ttfb_ms":{},"fcp_ms":{},"cls":{},"left_at_ms":{},"response_status":{},"effective_type":"{}",
            "tags":{{"ab":"{}"}}{lcp}{load}{inp}{feedback}}}"#,
            self.id,
            self.path,
            self.id,
            self.started_at,
            self.nav_type,
            self.ttfb,
            self.fcp,
            self.cls,
            self.left_at(),
            self.status,
            self.effective_type,
            self.variant
        )
    }
}

fn now_ms() -> i64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_millis() as i64
}

/// A deterministic mix over the last 20 hours and the current one, where
/// slower pages lose more visitors and slow phones on 3g are slowest.
fn visits(now: i64, count: usize, first_id: usize) -> Vec<Visit> {
    let mut seed: u64 = 42 + first_id as u64;
    let mut next = move |n: u64| {
        seed = seed.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        (seed >> 33) % n
    };
    let this_hour = now - now.rem_euclid(HOUR);
    (0..count)
        .map(|i| {
            let hours_ago = next(21) as i64;
            // Within the hour, but never in the future.
            let started_at = (this_hour - hours_ago * HOUR + next(HOUR as u64) as i64).min(now - 1000);
            let agent = next(3) as usize;
            let effective_type = ["4g", "4g", "3g"][next(3) as usize];
            let slow = if effective_type == "3g" { 2.5 } else { 1.0 };
            let ttfb = (40 + next(900)) as f64 * slow;
            let fcp = ttfb + (100 + next(1500)) as f64;
            let lcp = fcp + next(4000) as f64 * slow;
            let load = lcp + next(1500) as f64;
            let loaded = next(100) as f64 >= load / 250.0; // slower → likelier to leave
            Visit {
                id: first_id + i,
                started_at,
                path: PATHS[next(4) as usize],
                agent,
                effective_type,
                nav_type: ["navigate", "navigate", "reload", "back_forward"][next(4) as usize],
                status: [200, 200, 200, 200, 404, 500][next(6) as usize],
                ttfb,
                fcp,
                lcp,
                inp: (next(4) > 0).then(|| (16 + next(700)) as f64),
                cls: [0.0, 0.0, 0.02, 0.08, 0.15, 0.3][next(6) as usize],
                load: loaded.then_some(load),
                wait: if loaded { load } else { fcp + next(load as u64 - fcp as u64) as f64 },
                dwell: [3_000.0, 30_000.0][next(2) as usize],
                feedback: (next(5) == 0).then(|| u8::from(load < 4000.0)),
                variant: ["a", "b"][next(2) as usize],
            }
        })
        .collect()
}

async fn api(collector: &Collector, path: &str) -> Value {
    let (status, body) = collector.get(&format!("/api/v1/sites/shop/{path}"), Some(&collector.token)).await;
    assert_eq!(status, 200, "{path}: {body}");
    serde_json::from_str(&body).unwrap()
}

fn rate(part: usize, whole: usize) -> Option<f64> {
    (whole > 0).then(|| part as f64 / whole as f64)
}

fn exactly(actual: &Value, expected: Option<f64>, what: &str) {
    match expected {
        None => assert!(actual.is_null(), "{what}: {actual} should be null"),
        Some(e) => assert!((actual.as_f64().unwrap() - e).abs() < 1e-9, "{what}: {actual} != {e}"),
    }
}

fn within_one_percent(actual: &Value, expected: Option<f64>, what: &str) {
    match expected {
        None => assert!(actual.is_null(), "{what}: {actual} should be null"),
        Some(e) => {
            let a = actual.as_f64().unwrap_or_else(|| panic!("{what}: {actual} is not a number"));
            assert!((a - e).abs() <= 0.01 * e.abs() + 1e-12, "{what}: {a} not within 1% of {e}");
        }
    }
}

/// Nearest rank: the value at rank ⌈q·n⌉.
fn percentile(values: &[f64], q: f64) -> Option<f64> {
    let mut sorted = values.to_vec();
    sorted.sort_by(f64::total_cmp);
    (!sorted.is_empty()).then(|| sorted[((q * sorted.len() as f64).ceil() as usize).clamp(1, sorted.len()) - 1])
}

/// The Web Vitals thresholds, restated: (good ≤, poor >).
fn thresholds(vital: &str) -> (f64, f64) {
    match vital {
        "ttfb_ms" => (800.0, 1800.0),
        "fcp_ms" => (1800.0, 3000.0),
        "lcp_ms" => (2500.0, 4000.0),
        "inp_ms" => (200.0, 500.0),
        "cls" => (0.1, 0.25),
        _ => unreachable!(),
    }
}

/// Checks a `vitals` object and the leaving rates against `visits`.
fn check_group(json: &Value, visits: &[&Visit], what: &str) {
    assert_eq!(json["page_views"], visits.len(), "{what}: page views");
    let known = visits.len();
    let abandoned = visits.iter().filter(|v| v.abandoned()).count();
    let bounces = visits.iter().filter(|v| v.slow_bounce()).count();
    exactly(&json["abandonment_rate"], rate(abandoned, known), &format!("{what}: abandonment_rate"));
    exactly(&json["slow_bounce_rate"], rate(bounces, known), &format!("{what}: slow_bounce_rate"));
    let answers = visits.iter().filter(|v| v.feedback.is_some()).count();
    let satisfied = visits.iter().filter(|v| v.feedback == Some(1)).count();
    assert_eq!(json["csat"]["answers"], answers, "{what}: csat answers");
    assert_eq!(json["csat"]["satisfied"], satisfied, "{what}: csat satisfied");
    exactly(&json["csat"]["rate"], rate(satisfied, answers), &format!("{what}: csat"));
    if answers > 0 {
        let (low, high) = (json["csat"]["low"].as_f64().unwrap(), json["csat"]["high"].as_f64().unwrap());
        let csat = satisfied as f64 / answers as f64;
        assert!(low <= csat && csat <= high && high - low < 1.0, "{what}: csat interval {low}..{high}");
    }
    for vital in ["ttfb_ms", "fcp_ms", "lcp_ms", "inp_ms", "cls"] {
        let values: Vec<f64> = visits.iter().filter_map(|v| v.vital(vital)).collect();
        let got = &json["vitals"][vital];
        assert_eq!(got["count"], values.len(), "{what}: {vital} count");
        for (q, name) in [(0.5, "p50"), (0.75, "p75"), (0.95, "p95"), (0.99, "p99")] {
            within_one_percent(&got[name], percentile(&values, q), &format!("{what}: {vital} {name}"));
        }
        let (good, poor) = thresholds(vital);
        let n = values.len();
        exactly(&got["good"], rate(values.iter().filter(|v| **v <= good).count(), n), &format!("{what}: {vital} good"));
        exactly(&got["poor"], rate(values.iter().filter(|v| **v > poor).count(), n), &format!("{what}: {vital} poor"));
        exactly(
            &got["needs_improvement"],
            rate(values.iter().filter(|v| **v > good && **v <= poor).count(), n),
            &format!("{what}: {vital} needs_improvement"),
        );
    }
}

/// Every aggregate, checked against `visits` (all of the collector's page views).
async fn check_everything(collector: &Collector, visits: &[Visit], now: i64) {
    let all: Vec<&Visit> = visits.iter().collect();

    let summary = api(collector, "summary").await;
    check_group(&summary, &all, "summary");
    let thumbs = |r: u8| visits.iter().filter(|v| v.feedback == Some(r)).count();
    assert_eq!(summary["feedback"]["thumbs"]["1"], thumbs(1));
    assert_eq!(summary["feedback"]["thumbs"]["0"], thumbs(0));

    let curve = api(collector, "abandonment").await;
    for (b, bucket) in curve["buckets"].as_array().unwrap().iter().enumerate() {
        let from = b as f64 * 1000.0;
        let waits = |v: &&Visit| if v.abandoned() { v.wait } else { v.load.unwrap() };
        let in_bucket: Vec<&Visit> =
            all.iter().copied().filter(|v| ((waits(v) / 1000.0).floor() as usize).min(10) == b).collect();
        let waiting: Vec<&Visit> = all.iter().copied().filter(|v| waits(v) >= from).collect();
        assert_eq!(bucket["page_views"], in_bucket.len(), "bucket {b}");
        assert_eq!(bucket["abandoned"], in_bucket.iter().filter(|v| v.abandoned()).count(), "bucket {b}");
        assert_eq!(bucket["slow_bounces"], in_bucket.iter().filter(|v| v.slow_bounce()).count(), "bucket {b}");
        assert_eq!(bucket["still_waiting"], waiting.len(), "bucket {b}");
        let left = waiting.iter().filter(|v| v.abandoned()).count();
        exactly(&bucket["left_while_waiting_rate"], rate(left, waiting.len()), &format!("bucket {b}"));
        let answered: Vec<&&Visit> = in_bucket.iter().filter(|v| v.feedback.is_some()).collect();
        assert_eq!(bucket["csat"]["answers"], answered.len(), "bucket {b}: answers");
        assert_eq!(
            bucket["csat"]["satisfied"],
            answered.iter().filter(|v| v.feedback == Some(1)).count(),
            "bucket {b}"
        );
    }

    for by in
        ["path", "device", "browser", "os", "effective_type", "nav_type", "hour_of_day", "response_status", "tag:ab"]
    {
        let rows = api(collector, &format!("breakdown?by={by}")).await;
        let rows = rows.as_array().unwrap();
        let mut keys: Vec<String> = visits.iter().filter_map(|v| v.key(by)).collect();
        keys.sort();
        keys.dedup();
        assert_eq!(rows.len(), keys.len(), "{by}: groups");
        for key in keys {
            let group: Vec<&Visit> =
                all.iter().copied().filter(|v| v.key(by).as_deref() == Some(key.as_str())).collect();
            let row = rows.iter().find(|r| r["key"] == key.as_str()).unwrap_or_else(|| panic!("{by}={key} missing"));
            check_group(row, &group, &format!("{by}={key}"));
            let lost = group.iter().filter(|v| v.abandoned() || v.slow_bounce()).count();
            assert_eq!(row["lost"], lost, "{by}={key}: lost");
        }
        let views: Vec<u64> = rows.iter().map(|r| r["page_views"].as_u64().unwrap()).collect();
        assert!(views.windows(2).all(|w| w[0] >= w[1]), "{by}: ranked by page views: {views:?}");
        assert!(rows.iter().all(|r| r["other"] == false), "{by}: fewer groups than the limit, no other row");
    }

    let series = api(collector, "timeseries?metric=lcp&interval=hour&from=21h").await;
    let points = series["points"].as_array().unwrap();
    let first = now - 21 * HOUR;
    assert_eq!(points.len() as i64, (now - (first - first.rem_euclid(HOUR))) / HOUR + 1);
    for point in points {
        let start =
            time::OffsetDateTime::parse(point["t"].as_str().unwrap(), &time::format_description::well_known::Rfc3339)
                .unwrap()
                .unix_timestamp()
                * 1000;
        let hour: Vec<&Visit> =
            all.iter().copied().filter(|v| v.started_at >= start.max(first) && v.started_at < start + HOUR).collect();
        assert_eq!(point["page_views"], hour.len(), "hour {start}");
        let lcps: Vec<f64> = hour.iter().filter_map(|v| v.vital("lcp_ms")).collect();
        within_one_percent(&point["vital"]["p75"], percentile(&lcps, 0.75), &format!("hour {start}: p75"));
        assert_eq!(
            point["csat"]["answers"],
            hour.iter().filter(|v| v.feedback.is_some()).count(),
            "hour {start}: answers"
        );
    }

    // Filters: one path (rollups of `path` answer it), a device (its own
    // rollups), two at once (raw rows), and a period starting mid-hour.
    let cart: Vec<&Visit> = all.iter().copied().filter(|v| v.path == "/cart").collect();
    check_group(&api(collector, "summary?path=/cart").await, &cart, "path=/cart");
    let cart_series = api(collector, "timeseries?metric=inp&interval=day&path=/cart").await;
    let per_day: u64 =
        cart_series["points"].as_array().unwrap().iter().map(|p| p["page_views"].as_u64().unwrap()).sum();
    assert_eq!(per_day as usize, cart.len());
    let mobile_cart: Vec<&Visit> = cart.iter().copied().filter(|v| AGENTS[v.agent].1 == "mobile").collect();
    check_group(&api(collector, "summary?path=/cart&device=mobile").await, &mobile_cart, "/cart on mobile");
    let rows = api(collector, "breakdown?by=device&path=/cart").await;
    assert_eq!(
        rows.as_array().unwrap().iter().map(|r| r["page_views"].as_u64().unwrap()).sum::<u64>() as usize,
        cart.len()
    );
    // The raw export filters as the aggregates do.
    let (status, export) =
        collector.get("/api/v1/sites/shop/pageviews?path=/cart&device=mobile", Some(&collector.token)).await;
    assert_eq!((status, export.lines().count()), (200, mobile_cart.len()), "export of /cart on mobile");

    // What breakdowns and filters take: the one list, and the tag keys seen.
    let vocabulary = api(collector, "dimensions").await;
    assert_eq!(vocabulary["tags"], serde_json::json!(["ab"]));
    assert_eq!(
        vocabulary["filters"],
        serde_json::json!(["path", "route", "release", "device", "browser", "os", "effective_type", "nav_type"])
    );
    let breakdowns: Vec<&str> = vocabulary["breakdowns"].as_array().unwrap().iter().filter_map(Value::as_str).collect();
    assert_eq!(breakdowns.last(), Some(&"tag:ab"), "{breakdowns:?}");
    for by in breakdowns {
        let (status, answer) =
            collector.get(&format!("/api/v1/sites/shop/breakdown?by={by}"), Some(&collector.token)).await;
        assert_eq!(status, 200, "by={by}: {answer}");
    }
    // A bare tag key seen in the period is a tag breakdown; anything else is refused with what is accepted.
    assert_eq!(api(collector, "breakdown?by=ab").await, api(collector, "breakdown?by=tag:ab").await);
    for (query, names) in [
        ("breakdown?by=nonsense", "path, route, release, device, browser, os, effective_type, nav_type, hour_of_day"),
        ("breakdown?by=nonsense", "tag keys here: ab"),
        ("summary?devise=mobile", "filters are path, route, release, device, browser, os, effective_type, nav_type"),
        ("summary?hour_of_day=3", "filters are path, route, release, device"),
        ("timeseries?metric=speed", "ttfb, fcp, lcp, inp or cls"),
        ("timeseries?interval=week", "hour or day"),
    ] {
        let (status, answer) = collector.get(&format!("/api/v1/sites/shop/{query}"), Some(&collector.token)).await;
        assert_eq!(status, 400, "{query}: {answer}");
        assert!(answer.contains(names), "{query}: {answer}");
    }

    let from = now - 10 * HOUR - 30 * 60_000;
    let since: Vec<&Visit> = all.iter().copied().filter(|v| v.started_at >= from).collect();
    let from_iso = palaute_collector::model::format_time(from);
    check_group(&api(collector, &format!("summary?from={from_iso}")).await, &since, "a period from mid-hour");
}

#[tokio::test]
async fn every_aggregate_matches_values_computed_from_what_was_sent_on_raw_rows_and_rollups() {
    aggregates_match_what_was_sent(Backend::Embedded).await;
}

#[tokio::test]
async fn every_aggregate_matches_values_computed_from_what_was_sent_on_clickhouse() {
    let server = ClickHouseServer::start().await;
    aggregates_match_what_was_sent(Backend::ClickHouse(&server)).await;
}

/// The analyst API suite, on either store: the embedded store answers from
/// raw rows, then rollups, then both after a late beacon; ClickHouse answers
/// every step with SQL.
async fn aggregates_match_what_was_sent(backend: Backend<'_>) {
    // No background rollups: the test decides when they are built.
    let config = Config { rollup_interval_ms: 0, rate_limit_per_second: 0, ..Config::default() };
    let collector = Collector::start_on(backend, config).await;
    let now = now_ms();
    let mut visits = visits(now, 700, 0);
    for visit in &visits {
        let agent = format!("User-Agent: {}\r\n", AGENTS[visit.agent].0);
        let (status, body) = collector.beacon_with(&visit.beacon(), &agent).await;
        assert_eq!(status, 204, "{body}");
    }
    assert!(visits.iter().filter(|v| v.slow_bounce()).count() >= 20, "the mix has slow bounces");
    assert!(visits.iter().filter(|v| v.abandoned()).count() >= 50, "the mix has abandonment");
    collector.settled().await;

    // 1. Raw rows only.
    check_everything(&collector, &visits, now).await;
    assert_eq!(collector.metric("palaute_query_rollup_hours_total").await, Some(0.0));
    answers_from_rollups_match(&collector, &mut visits, now).await;

    for bad in [
        "timeseries?metric=speed",
        "timeseries?interval=week",
        "timeseries?interval=hour&from=2000-01-01",
        "breakdown?by=",
    ] {
        let (status, body) = collector.get(&format!("/api/v1/sites/shop/{bad}"), Some(&collector.token)).await;
        assert_eq!(status, 400, "{bad}: {body}");
    }
    collector.stop().await;
}

/// The store's rollups answer as raw rows do, also after a late beacon
/// (delivered twice) changed a rolled-up hour.
async fn answers_from_rollups_match(collector: &Collector, visits: &mut Vec<Visit>, now: i64) {
    // 2. Rollups: every hour that is over is answered from them.
    let rolled = collector.roll_up().await;
    assert!(rolled >= 20, "rolled up {rolled} hours");
    let raw_before = collector.metric("palaute_query_raw_rows_total").await.unwrap();
    // From an absolute time: "20h" would move with the seconds the test has run.
    let from = now - 20 * HOUR;
    let summary = api(collector, &format!("summary?from={}", palaute_collector::model::format_time(from))).await;
    let raw_rows = collector.metric("palaute_query_raw_rows_total").await.unwrap() - raw_before;
    let edges = visits
        .iter()
        .filter(|v| {
            v.started_at >= from
                && (v.started_at < from - from.rem_euclid(HOUR) + HOUR || v.started_at >= now - now.rem_euclid(HOUR))
        })
        .count();
    assert_eq!(raw_rows as usize, edges, "only the partial first hour and the current hour are read raw");
    assert!(summary["page_views"].as_u64().unwrap() > edges as u64);
    check_everything(collector, visits, now).await;
    assert!(collector.metric("palaute_query_rollup_hours_total").await.unwrap() >= 20.0 * 10.0);

    // 3. A late beacon for a rolled-up hour, delivered twice: that hour is
    // read raw until rolled up again, and counted once.
    let mut late = self::visits(now, 1, 10_000).remove(0);
    late.started_at = now - now.rem_euclid(HOUR) - 5 * HOUR + 60_000;
    let agent = format!("User-Agent: {}\r\n", AGENTS[late.agent].0);
    for _ in 0..2 {
        assert_eq!(collector.beacon_with(&late.beacon(), &agent).await.0, 204);
    }
    // And a page view of a rolled-up hour re-sent with its final values (a later seq).
    let early = now - now.rem_euclid(HOUR) - 12 * HOUR;
    let resent = visits.iter_mut().find(|v| v.started_at >= early && v.started_at < early + HOUR).unwrap();
    resent.lcp += 1500.0;
    resent.cls += 0.3;
    let agent_of_resent = format!("User-Agent: {}\r\n", AGENTS[resent.agent].0);
    let final_snapshot = resent.beacon().replace(r#""seq":1"#, r#""seq":2"#);
    assert_eq!(collector.beacon_with(&final_snapshot, &agent_of_resent).await.0, 204);
    visits.push(late);
    collector.settled().await;
    check_everything(collector, visits, now).await;
    assert_eq!(collector.roll_up().await, 2, "only the two changed hours are rolled up again");
    check_everything(collector, visits, now).await;
}

/// Three days of generated page views (written through the store, as the
/// `generate` command does): every answer is the same from raw rows, from
/// hour rollups and from day rollups, and whole days are read from day
/// rollups.
#[tokio::test]
async fn hour_and_day_rollups_answer_exactly_as_raw_rows() {
    use palaute_collector::store::Store;
    use std::sync::Arc;

    let collector =
        Collector::start_with(Config { rollup_interval_ms: 0, rate_limit_per_second: 0, ..Config::default() }).await;
    let config = Config { data: collector.data.path().to_path_buf(), ..Config::default() };
    let store: Arc<dyn Store> = palaute_collector::open_store(&config, &Default::default()).await.unwrap();
    let now = now_ms();
    palaute_collector::generate::generate(&store, "shop", 6000, now - 3 * 86_400_000, now, 7, 0, |_| {}).await.unwrap();

    let queries = [
        "summary?from=4d",
        "abandonment?from=4d",
        "timeseries?metric=lcp&interval=day&from=4d",
        "timeseries?metric=inp&interval=hour&from=4d",
        "breakdown?by=path&from=4d",
        "breakdown?by=device&from=4d",
        "breakdown?by=hour_of_day&from=4d",
        "breakdown?by=tag:ab&from=4d",
        "summary?from=4d&path=/checkout",
        "summary?from=4d&path=/cart&device=mobile",
    ];
    let mut raw = Vec::new();
    for query in queries {
        raw.push(api(&collector, query).await);
    }
    assert!(raw[0]["page_views"].as_u64().unwrap() == 6000);
    assert_eq!(collector.metric("palaute_query_rollup_hours_total").await, Some(0.0));

    let rolled = collector.roll_up().await;
    assert!((71..=73).contains(&rolled), "three days of hours: {rolled}");
    for (query, expected) in queries.iter().zip(&raw) {
        let before = collector.metric("palaute_query_rollup_hours_total").await.unwrap();
        assert_eq!(&api(&collector, query).await, expected, "{query}: rollups answer as raw rows do");
        let hours = collector.metric("palaute_query_rollup_hours_total").await.unwrap() - before;
        // Tags are not rolled up; two filters read their pair's rollups.
        let expect_rollups = !query.contains("tag:");
        assert_eq!(hours >= 48.0, expect_rollups, "{query}: {hours} hours from rollups");
    }
    // The two whole days before today are over: each was merged into a day rollup.
    let days = rusqlite_days(&collector);
    assert!(days >= 2, "day rollups built: {days}");
    collector.stop().await;
}

/// Days rolled up in the collector's database.
fn rusqlite_days(collector: &Collector) -> i64 {
    let db = rusqlite::Connection::open(collector.data.path().join("palaute.db")).unwrap();
    db.query_row("SELECT count(*) FROM rolled_days", [], |row| row.get(0)).unwrap()
}
