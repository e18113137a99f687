//! The collector's limits through the real HTTP interface: per-client rate
//! limiting (429), crawler and headless filtering, and a full store (503),
//! each losing nothing that was acknowledged.

mod common;

use common::{beacon, Collector, BROWSER_UA};
use palaute_collector::config::Config;

fn id(n: usize) -> String {
    format!("{n:032x}")
}

#[tokio::test]
async fn a_client_over_its_rate_gets_429_and_others_are_not_affected() {
    let config = Config { rate_limit_per_second: 2, rate_limit_burst: 5, ..Default::default() };
    let collector = Collector::start_with(config).await;
    let mut statuses = Vec::new();
    for n in 0..12 {
        statuses.push(collector.beacon(&beacon(&id(n), 1)).await.0);
    }
    let accepted = statuses.iter().filter(|s| **s == 204).count();
    let limited = statuses.iter().filter(|s| **s == 429).count();
    assert_eq!(accepted + limited, 12, "{statuses:?}");
    assert!((5..=6).contains(&accepted), "the burst of 5 (and perhaps one refill) passes: {statuses:?}");
    assert_eq!(&statuses[..5], &[204; 5], "{statuses:?}");
    // A forged X-Forwarded-For does not buy a new quota unless the proxy is trusted.
    let forged = format!("User-Agent: {BROWSER_UA}\r\nX-Forwarded-For: 203.0.113.9\r\n");
    let (status, body) = collector.beacon_with(&beacon(&id(100), 1), &forged).await;
    assert_eq!(status, 429, "{body}");
    assert_eq!(collector.metric("palaute_ingest_total{outcome=\"rate_limited\"}").await, Some(limited as f64 + 1.0));
    // Exactly the acknowledged beacons are stored.
    let stored: Vec<String> = collector.export().await.iter().map(|r| r["id"].as_str().unwrap().to_string()).collect();
    let acknowledged: Vec<String> = (0..12).filter(|n| statuses[*n] == 204).map(id).collect();
    assert_eq!(stored, acknowledged);
    collector.stop().await;
}

#[tokio::test]
async fn behind_a_trusted_proxy_each_forwarded_client_has_its_own_quota() {
    let config =
        Config { rate_limit_per_second: 1, rate_limit_burst: 2, trust_forwarded_for: true, ..Default::default() };
    let collector = Collector::start_with(config).await;
    let from = |ip: &str| format!("User-Agent: {BROWSER_UA}\r\nX-Forwarded-For: 198.51.100.1, {ip}\r\n");
    let mut n = 0;
    let mut send = |ip: &'static str| {
        n += 1;
        let (collector, body, headers) = (&collector, beacon(&id(n), 1), from(ip));
        async move { collector.beacon_with(&body, &headers).await.0 }
    };
    assert_eq!([send("192.0.2.1").await, send("192.0.2.1").await, send("192.0.2.1").await], [204, 204, 429]);
    assert_eq!(send("192.0.2.2").await, 204, "another client, its own quota");
    assert_eq!(send("2001:db8:0:1::1").await, 204);
    assert_eq!(send("2001:db8:0:1::2").await, 204);
    assert_eq!(send("2001:db8:0:1::3").await, 429, "one IPv6 /64 is one client");
    collector.stop().await;
}

#[tokio::test]
async fn crawlers_and_headless_browsers_are_answered_but_not_stored() {
    let collector = Collector::start().await;
    let bots = [
        "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)",
        "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) HeadlessChrome/156.0.0.0 Safari/537.36",
        "curl/8.5.0",
    ];
    for (n, ua) in bots.iter().enumerate() {
        let (status, body) = collector.beacon_with(&beacon(&id(n), 1), &format!("User-Agent: {ua}\r\n")).await;
        assert_eq!(status, 204, "{ua}: {body}");
    }
    assert_eq!(collector.beacon(&beacon(&id(9), 1)).await.0, 204);
    let rows = collector.export().await;
    assert_eq!(rows.len(), 1, "only the visitor's page view: {rows:?}");
    assert_eq!(rows[0]["id"], id(9));
    assert_eq!(collector.metric("palaute_ingest_total{outcome=\"bot\"}").await, Some(3.0));
    collector.stop().await;

    let keep = Collector::start_with(Config { drop_bots: false, ..Default::default() }).await;
    let (status, _) = keep.beacon_with(&beacon(&id(1), 1), &format!("User-Agent: {}\r\n", bots[0])).await;
    assert_eq!(status, 204);
    let rows = keep.export().await;
    assert_eq!(rows[0]["device"], "bot", "kept and classified when drop_bots is off");
    keep.stop().await;
}

#[tokio::test]
async fn a_full_store_answers_503_keeps_what_it_acknowledged_and_keeps_serving_reads() {
    let config = Config { max_store_mb: 1, ..Default::default() };
    let collector = Collector::start_with(config).await;
    let padding = "p".repeat(190);
    let mut acknowledged = Vec::new();
    let mut refused = 0;
    for n in 0..4000 {
        // Eight long tags make each row about 2 KB: 1 MiB fills within a few hundred.
        let tags: Vec<String> = (0..8).map(|t| format!(r#""t{t}":"{padding}""#)).collect();
        let body = beacon(&id(n), 1).replace(r#""ab":"b""#, &tags.join(","));
        match collector.beacon(&body).await {
            (204, _) => acknowledged.push(id(n)),
            (503, text) => {
                assert!(text.contains("cannot store now"), "{text}");
                refused += 1;
                if refused == 20 {
                    break;
                }
            }
            (status, text) => panic!("beacon {n}: {status} {text}"),
        }
    }
    assert_eq!(refused, 20, "the quota was reached after {} beacons", acknowledged.len());
    assert!(acknowledged.len() > 100, "{}", acknowledged.len());
    assert_eq!(collector.get("/healthz", None).await.0, 200);
    let stored: Vec<String> = collector.export().await.iter().map(|r| r["id"].as_str().unwrap().to_string()).collect();
    assert_eq!(stored.len(), acknowledged.len(), "every acknowledged beacon and nothing else");
    assert!(acknowledged.iter().all(|a| stored.contains(a)));
    assert_eq!(collector.metric("palaute_ingest_total{outcome=\"unavailable\"}").await, Some(20.0));
    collector.stop().await;
}

#[tokio::test]
async fn a_full_quota_under_concurrent_beacons_names_its_cause_stores_exactly_what_it_acknowledged_and_counts_the_wal()
{
    let config = Config { max_store_mb: 1, rate_limit_per_second: 0, ..Default::default() };
    let collector = Collector::start_with(config).await;
    let padding = "p".repeat(190);
    let (mut acknowledged, mut refused) = (Vec::new(), Vec::new());
    'filling: for round in 0..200 {
        // Fifty at once: the writer commits them in groups, as under real traffic.
        let sends = (0..50).map(|k| {
            let n = round * 50 + k;
            let tags: Vec<String> = (0..8).map(|t| format!(r#""t{t}":"{padding}""#)).collect();
            let body = beacon(&id(n), 1).replace(r#""ab":"b""#, &tags.join(","));
            let collector = &collector;
            async move { (id(n), collector.beacon(&body).await) }
        });
        for (sent, (status, text)) in futures_util::future::join_all(sends).await {
            match status {
                204 => acknowledged.push(sent),
                503 => {
                    assert!(text.contains("store full: max_store_mb (1 MB)"), "the real cause: {text}");
                    refused.push(sent);
                }
                other => panic!("{sent}: {other} {text}"),
            }
        }
        if refused.len() >= 100 {
            break 'filling;
        }
    }
    assert!(refused.len() >= 100 && acknowledged.len() > 100, "{} / {}", acknowledged.len(), refused.len());
    let stored: Vec<String> = collector.export().await.iter().map(|r| r["id"].as_str().unwrap().to_string()).collect();
    let sorted = |mut ids: Vec<String>| {
        ids.sort();
        ids
    };
    assert_eq!(sorted(stored.clone()), sorted(acknowledged.clone()), "every 204 stored, no 503 stored");
    assert!(refused.iter().all(|r| !stored.contains(r)));
    let on_disk: u64 = std::fs::read_dir(collector.data.path())
        .unwrap()
        .filter_map(|e| e.ok())
        .filter(|e| e.file_name().to_string_lossy().starts_with("palaute.db"))
        .map(|e| e.metadata().unwrap().len())
        .sum();
    assert!(on_disk <= 1024 * 1024 * 11 / 10, "database and WAL take {on_disk} B under a 1 MiB quota");
    collector.stop().await;
}
