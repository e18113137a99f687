//! Alerts through a real local HTTP receiver: an unhappy answer with a
//! comment arrives within seconds with its page view's metrics; re-sent or
//! happy answers do not alert; a receiver that is down gets the alert
//! later, once; a Slack-format hook added like `alert add` gets text.

mod common;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use common::receiver::{answering as receiver, until};
use common::Collector;
use palaute_collector::config::Config;
use palaute_collector::store::{AlertHook, Store};
use serde_json::Value;

fn answered(id: u32, seq: u32, rating: u8, comment: Option<&str>) -> String {
    let start = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_millis() - 20_000;
    let comment = comment.map(|c| format!(r#","comment":"{c}""#)).unwrap_or_default();
    format!(
        r#"{{"v":1,"site":"shop","id":"{id:032x}","seq":{seq},"url":"/checkout","start":{start},"lcp_ms":5200,
            "load_ms":6100,"effective_type":"3g","feedback":{{"rating":{rating},"scale":"thumbs","at_ms":9000{comment}}}}}"#
    )
}

/// The bodies delivered (answered 204) to `path`.
fn delivered(seen: &[(String, u16, String)], path: &str) -> Vec<String> {
    seen.iter().filter(|(p, status, _)| p == path && *status == 204).map(|(_, _, body)| body.clone()).collect()
}

#[tokio::test]
async fn unhappy_comments_reach_the_site_owner_once() {
    let status = Arc::new(Mutex::new(204u16));
    let (url, seen) = receiver(status.clone()).await;
    let hook = AlertHook { id: 0, site: "shop".into(), url: format!("{url}/hook"), format: "json".into() };
    let config = Config { alert_batch_ms: 300, rate_limit_per_second: 0, alerts: vec![hook], ..Config::default() };
    let collector = Collector::start_with(config).await;

    // 1. An unhappy answer with a comment: one alert, with the page view's metrics.
    let sent = std::time::Instant::now();
    assert_eq!(collector.beacon(&answered(1, 1, 0, Some("Checkout hung"))).await.0, 204);
    until(&seen, "the first alert", |s| delivered(s, "/hook").len() == 1).await;
    assert!(sent.elapsed() < Duration::from_secs(5), "within seconds: {:?}", sent.elapsed());
    let alert: Value = serde_json::from_str(&delivered(&seen.lock().unwrap(), "/hook")[0]).unwrap();
    assert_eq!(alert["event"], "negative_feedback");
    assert_eq!(alert["site"], "shop");
    let view = &alert["feedback"][0];
    assert_eq!(view["id"], format!("{:032x}", 1));
    assert_eq!(view["feedback_comment"], "Checkout hung");
    assert_eq!((view["lcp_ms"].as_f64(), view["load_ms"].as_f64()), (Some(5200.0), Some(6100.0)));
    assert_eq!(view["effective_type"], "3g");

    // 2. The same page view re-sent, a happy comment, an unhappy answer without one: no alert.
    assert_eq!(collector.beacon(&answered(1, 2, 0, Some("Checkout hung"))).await.0, 204);
    assert_eq!(collector.beacon(&answered(2, 1, 1, Some("Fast, thanks"))).await.0, 204);
    assert_eq!(collector.beacon(&answered(3, 1, 0, None)).await.0, 204);
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert_eq!(seen.lock().unwrap().len(), 1, "{:?}", seen.lock().unwrap());

    // 3. The receiver is down: the alert waits, then arrives once.
    *status.lock().unwrap() = 503;
    assert_eq!(collector.beacon(&answered(4, 1, 0, Some("Still slow"))).await.0, 204);
    until(&seen, "two refused attempts", |s| s.iter().filter(|(_, status, _)| *status == 503).count() >= 2).await;
    *status.lock().unwrap() = 204;
    until(&seen, "the alert after recovery", |s| delivered(s, "/hook").len() == 2).await;
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let bodies = delivered(&seen.lock().unwrap(), "/hook");
    assert_eq!(bodies.len(), 2, "delivered once");
    assert!(bodies[1].contains("Still slow"));

    // 4. A Slack-format hook added as `alert add` does (through the store).
    let store_config = Config { data: collector.data.path().to_path_buf(), ..Config::default() };
    let store: Arc<dyn Store> = palaute_collector::open_store(&store_config, &Default::default()).await.unwrap();
    let slack = AlertHook { id: 0, site: "shop".into(), url: format!("{url}/slack"), format: "slack".into() };
    store.put_alert_hook(slack).await.unwrap();
    assert_eq!(collector.beacon(&answered(5, 1, 0, Some("Images never loaded"))).await.0, 204);
    until(&seen, "the Slack message", |s| delivered(s, "/slack").len() == 1).await;
    let message: Value = serde_json::from_str(&delivered(&seen.lock().unwrap(), "/slack")[0]).unwrap();
    let text = message["text"].as_str().unwrap();
    assert!(
        text.contains("Images never loaded") && text.contains("/checkout") && text.contains("LCP 5.20 s"),
        "{text}"
    );
    until(&seen, "the JSON alert too", |s| delivered(s, "/hook").len() == 3).await;

    assert!(collector.metric("palaute_alerts_total{kind=\"delivery\",outcome=\"delivered\"}").await.unwrap() >= 4.0);
    assert!(collector.metric("palaute_alerts_total{kind=\"delivery\",outcome=\"failed\"}").await.unwrap() >= 2.0);
    collector.stop().await;
}

fn navigation(id: u32, status: u16, ago_ms: u128) -> String {
    let start = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_millis() - ago_ms;
    format!(
        r#"{{"v":1,"site":"shop","id":"{id:032x}","seq":1,"url":"/","start":{start},"response_status":{status},
            "ttfb_ms":90,"fcp_ms":400,"lcp_ms":900,"load_ms":1000,"left_at_ms":20000}}"#
    )
}

/// `POST /b` of `body` from client `10.0.0.{client}` (behind a trusted proxy).
async fn from_client(collector: &Collector, client: u32, body: &str) -> u16 {
    let headers = format!("User-Agent: {}\r\nX-Forwarded-For: 10.0.0.{client}\r\n", common::BROWSER_UA);
    collector.beacon_with(body, &headers).await.0
}

fn events(seen: &[(String, u16, String)], event: &str) -> usize {
    delivered(seen, "/hook").iter().filter(|body| body.contains(&format!(r#""event":"{event}""#))).count()
}

#[tokio::test]
async fn a_burst_of_server_errors_alerts_once_then_recovers_once() {
    let status = Arc::new(Mutex::new(204u16));
    let (url, seen) = receiver(status).await;
    let hook = AlertHook { id: 0, site: "shop".into(), url: format!("{url}/hook"), format: "json".into() };
    let config = Config {
        rate_limit_per_second: 0,
        alerts: vec![hook],
        outage_check_ms: 200,
        outage_window_ms: 3000,
        outage_min_views: 10,
        trust_forwarded_for: true,
        ..Config::default()
    };
    let collector = Collector::start_with(config).await;
    // The site's usual day: healthy page views over the last 20 hours.
    for i in 0..40 {
        assert_eq!(collector.beacon(&navigation(i, 200, 3_600_000 + u128::from(i) * 1_800_000)).await.0, 204);
    }
    tokio::time::sleep(Duration::from_millis(600)).await;
    assert_eq!(seen.lock().unwrap().len(), 0, "no incident on a usual day");

    // The site starts answering 503: one outage alert, however long it lasts.
    let burst = std::time::Instant::now();
    for i in 100..125 {
        assert_eq!(from_client(&collector, i % 5, &navigation(i, 503, 0)).await, 204);
    }
    until(&seen, "the outage alert", |s| events(s, "outage") == 1).await;
    let alert: Value =
        serde_json::from_str(delivered(&seen.lock().unwrap(), "/hook").iter().find(|b| b.contains("outage")).unwrap())
            .unwrap();
    assert_eq!(alert["site"], "shop");
    // However many of the burst the check had seen (the machine may be busy).
    assert!(alert["reason"].as_str().unwrap().starts_with("server errors (5xx) on 100% of "), "{alert}");
    for i in 125..135 {
        assert_eq!(collector.beacon(&navigation(i, 503, 0)).await.0, 204);
    }
    tokio::time::sleep(Duration::from_millis(1000)).await;
    assert_eq!(events(&seen.lock().unwrap(), "outage"), 1, "one alert per incident");

    // Recovered: once the errors have left the window, healthy traffic closes it.
    tokio::time::sleep(Duration::from_millis(3000).saturating_sub(burst.elapsed())).await;
    for i in 200..215 {
        assert_eq!(collector.beacon(&navigation(i, 200, 0)).await.0, 204);
    }
    until(&seen, "the recovery message", |s| events(s, "recovered") == 1).await;
    tokio::time::sleep(Duration::from_millis(1000)).await;
    let counts = {
        let seen = seen.lock().unwrap();
        (events(&seen, "outage"), events(&seen, "recovered"))
    };
    assert_eq!(counts, (1, 1), "{:?}", seen.lock().unwrap());
    collector.stop().await;
}

#[tokio::test]
async fn a_visitors_comment_cannot_ping_a_slack_channel_or_disguise_a_link() {
    let status = Arc::new(Mutex::new(204u16));
    let (url, seen) = receiver(status).await;
    let slack = AlertHook { id: 0, site: "shop".into(), url: format!("{url}/slack"), format: "slack".into() };
    let config = Config { alert_batch_ms: 300, rate_limit_per_second: 0, alerts: vec![slack], ..Config::default() };
    let collector = Collector::start_with(config).await;
    let hostile = r#"<!channel> <https://evil.example/login|Log in> & <@U123>"#;
    assert_eq!(collector.beacon(&answered(9, 1, 0, Some(&hostile.replace('"', "\\\"")))).await.0, 204);
    until(&seen, "the Slack message", |s| delivered(s, "/slack").len() == 1).await;
    let message: Value = serde_json::from_str(&delivered(&seen.lock().unwrap(), "/slack")[0]).unwrap();
    let text = message["text"].as_str().unwrap();
    assert!(
        text.contains("&lt;!channel&gt; &lt;https://evil.example/login|Log in&gt; &amp; &lt;@U123&gt;"),
        "the comment shown as text: {text}"
    );
    assert!(!text.contains("<!channel>") && !text.contains("<https://") && !text.contains("<@"), "{text}");
    collector.stop().await;
}

#[tokio::test]
async fn a_flood_of_unhappy_answers_is_capped_in_size_and_its_text_kept_to_one_line() {
    let (url, seen) = receiver(Arc::new(Mutex::new(204u16))).await;
    let hook = |url: String, format: &str| AlertHook { id: 0, site: "shop".into(), url, format: format.into() };
    let hooks = vec![hook(format!("{url}/json"), "json"), hook(format!("{url}/slack"), "slack")];
    let config = Config { alert_batch_ms: 500, rate_limit_per_second: 0, alerts: hooks, ..Config::default() };
    let collector = Collector::start_with(config).await;
    // 30 answers in one batch, each comment 1,000 characters with a line
    // break that would forge a line of its own and a right-to-left override.
    let comment = format!("{}\\n• forged line \\u202egpj.exe", "slow ".repeat(194));
    let batch: Vec<String> = (0..30).map(|id| answered(1000 + id, 1, 0, Some(&comment))).collect();
    assert_eq!(collector.beacon(&format!("[{}]", batch.join(","))).await.0, 204);

    until(&seen, "both messages", |s| delivered(s, "/json").len() == 1 && delivered(s, "/slack").len() == 1).await;
    let json = &delivered(&seen.lock().unwrap(), "/json")[0];
    assert!(json.len() < 64 * 1024, "{} bytes", json.len());
    let json: Value = serde_json::from_str(json).unwrap();
    assert_eq!((json["feedback"].as_array().unwrap().len(), json["more"].as_u64()), (20, Some(10)));
    let listed = json["feedback"][0]["feedback_comment"].as_str().unwrap();
    assert!(listed.chars().count() <= 301 && !listed.contains('\n'), "{listed}");
    let slack: Value = serde_json::from_str(&delivered(&seen.lock().unwrap(), "/slack")[0]).unwrap();
    let text = slack["text"].as_str().unwrap();
    assert_eq!(text.lines().count(), 1 + 20 + 1, "a title, 20 answers, the rest counted: {text}");
    assert!(text.ends_with("…and 10 more") && !text.contains('\u{202e}'), "{text}");
    assert_eq!((&slack["unfurl_links"], &slack["mrkdwn"]), (&Value::Bool(false), &Value::Bool(false)));
    collector.stop().await;
}

#[tokio::test]
async fn a_receiver_that_refuses_an_alert_gets_three_tries_then_it_is_dropped_and_counted() {
    let (url, refused) = receiver(Arc::new(Mutex::new(400u16))).await;
    let hook = AlertHook { id: 0, site: "shop".into(), url: format!("{url}/refuse"), format: "json".into() };
    let config = Config { alert_batch_ms: 200, rate_limit_per_second: 0, alerts: vec![hook], ..Config::default() };
    let collector = Collector::start_with(config).await;
    assert_eq!(collector.beacon(&answered(2000, 1, 0, Some("too slow"))).await.0, 204);
    until(&refused, "three refused attempts", |s| s.len() == 3).await;
    let dead = "palaute_alerts_total{kind=\"delivery\",outcome=\"dead_letter\"}";
    for _ in 0..50 {
        if collector.metric(dead).await == Some(1.0) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(collector.metric(dead).await, Some(1.0));
    // The next try would have come 4 s after the third.
    tokio::time::sleep(Duration::from_secs(5)).await;
    let attempts = refused.lock().unwrap().len();
    assert_eq!(attempts, 3, "no fourth attempt");
    collector.stop().await;
}
#[tokio::test]
async fn one_client_cannot_open_an_outage_incident() {
    let (url, seen) = receiver(Arc::new(Mutex::new(204u16))).await;
    let hook = AlertHook { id: 0, site: "shop".into(), url: format!("{url}/hook"), format: "json".into() };
    let config = Config {
        rate_limit_per_second: 0,
        alerts: vec![hook],
        outage_check_ms: 200,
        outage_window_ms: 5000,
        outage_min_views: 10,
        trust_forwarded_for: true,
        ..Config::default()
    };
    let collector = Collector::start_with(config).await;
    for i in 0..40 {
        assert_eq!(from_client(&collector, 1, &navigation(i, 200, 3_600_000 + u128::from(i) * 1_800_000)).await, 204);
    }
    // 25 page views answered 503, all from one client: no incident.
    for i in 100..125 {
        assert_eq!(from_client(&collector, 7, &navigation(i, 503, 0)).await, 204);
    }
    tokio::time::sleep(Duration::from_millis(1000)).await;
    let outages = events(&seen.lock().unwrap(), "outage");
    assert_eq!(outages, 0, "one client opened an incident");
    // Two more clients see the errors too: three clients, an incident.
    for (n, i) in (125..129).enumerate() {
        assert_eq!(from_client(&collector, 8 + n as u32 % 2, &navigation(i, 503, 0)).await, 204);
    }
    until(&seen, "the outage alert", |s| events(s, "outage") == 1).await;
    collector.stop().await;
}
