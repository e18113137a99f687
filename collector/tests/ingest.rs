//! `POST /b` and the export through the real HTTP interface: every bad input
//! gets its documented status, the server stays up, and what was valid is
//! stored exactly once.

mod common;

use common::{beacon, Collector, ORIGIN};

#[tokio::test]
async fn a_beacon_is_stored_once_and_the_highest_seq_wins() {
    let collector = Collector::start().await;
    let id = "0123456789abcdef0123456789abcdef";
    for seq in [1, 2, 2, 1] {
        let (status, body) = collector.beacon(&beacon(id, seq)).await;
        assert_eq!(status, 204, "seq {seq}: {body}");
    }
    let final_values = beacon(id, 3).replace(r#""lcp_ms":1900"#, r#""lcp_ms":2222"#);
    assert_eq!(collector.beacon(&final_values).await.0, 204);
    let rows = collector.export().await;
    assert_eq!(rows.len(), 1, "{rows:?}");
    let row = &rows[0];
    assert_eq!(row["id"], id);
    assert_eq!(row["url"], "/cart?step=2", "the fragment is dropped");
    assert_eq!(row["lcp_ms"], 2222.0);
    assert_eq!(row["ttfb_ms"], 120.5);
    assert_eq!(row["inp_ms"], serde_json::Value::Null, "unknown stays null, never 0");
    assert_eq!(row["abandoned"], false);
    assert_eq!(row["device"], "desktop");
    assert_eq!(row["tags"]["ab"], "b");
    assert!(row["started_at"].as_str().unwrap().ends_with('Z'));
    collector.stop().await;
}

#[tokio::test]
async fn bad_input_gets_its_documented_status_and_loses_nothing() {
    let collector = Collector::start().await;
    let good = |n: u32| beacon(&format!("{n:032x}"), 1);
    let cases: Vec<(&str, Vec<u8>, u16)> = vec![
        ("malformed JSON", post(r#"{"v":1,"site":"#), 400),
        ("not an object", post("[1,2,3]"), 400),
        ("wrong types", post(&good(1).replace(r#""seq":1"#, r#""seq":"one""#)), 400),
        ("negative timing", post(&good(2).replace("120.5", "-5")), 400),
        ("huge number", post(&good(3).replace("120.5", "1e300")), 400),
        ("unknown site", post(&good(4).replace(r#""site":"shop""#, r#""site":"nope""#)), 400),
        ("invalid UTF-8", post_bytes(b"{\"v\":1,\"site\":\"\xff\xfe\"}"), 400),
        ("oversized body", post(&" ".repeat(70 * 1024)), 413),
        ("disallowed origin", post(&good(5)).replace_origin("https://evil.example"), 400),
        ("SQL metacharacters", post(&good(6).replace("/cart?step=2#top", "/x'); DROP TABLE pageviews;--")), 204),
        ("NaN", post(&good(9).replace("120.5", "NaN")), 400),
        ("Infinity", post(&good(10).replace("120.5", "Infinity")), 400),
        ("overflowing float", post(&good(11).replace("120.5", "1e999")), 400),
        ("10 MB body", post(&format!("{{\"pad\":\"{}\"}}", "x".repeat(10 << 20))), 413),
        ("10k tags (over 64 KiB)", post(&good(12).replace(r#""ab":"b""#, &tags(10_000))), 413),
        ("21 tags", post(&good(16).replace(r#""ab":"b""#, &tags(21))), 400),
        ("empty body", post(""), 400),
        ("id not hex", post(&good(13).replace(&format!("{:032x}", 13), "../../etc/passwd")), 400),
        ("url not a path", post(&good(14).replace("/cart?step=2#top", "javascript:alert(1)")), 400),
        ("version from the future", post(&good(15).replace(r#""v":1"#, r#""v":99"#)), 400),
    ];
    for (name, request, expected) in cases {
        let (status, body) = collector.raw(&request).await;
        assert_eq!(status, expected, "{name}: {body}");
    }
    // A Content-Length longer than the body: the server must not hang or panic.
    let short = format!(
        "POST /b HTTP/1.1\r\nHost: x\r\nOrigin: {ORIGIN}\r\nContent-Length: 500\r\nConnection: close\r\n\r\n{}",
        good(7)
    );
    let (status, _) = collector.raw_then(short.as_bytes(), true).await;
    assert!(status == 400 || status == 0, "wrong content length answered {status}");
    // The server is still up and stored exactly the valid beacons.
    assert_eq!(collector.beacon(&good(8)).await.0, 204);
    let rows = collector.export().await;
    let urls: Vec<&str> = rows.iter().map(|r| r["url"].as_str().unwrap()).collect();
    assert_eq!(rows.len(), 2, "{urls:?}");
    assert!(urls.contains(&"/x'); DROP TABLE pageviews;--"));
    collector.stop().await;
}

#[tokio::test]
async fn a_batch_is_stored_whole_and_answered_by_its_worst_beacon_with_cors_for_allowed_origins() {
    let collector = Collector::start().await;
    let id = |n: u32| format!("{n:032x}");
    let batch = |beacons: &[String]| format!("[{}]", beacons.join(","));
    // Three beacons, one of them twice (a re-sent queue): 204, two rows.
    let answer =
        collector.raw_response(&post(&batch(&[beacon(&id(1), 1), beacon(&id(2), 1), beacon(&id(1), 1)]))).await;
    assert!(answer.starts_with("HTTP/1.1 204"), "{answer}");
    let headers = answer.to_ascii_lowercase();
    assert!(headers.contains(&format!("access-control-allow-origin: {ORIGIN}\r\n")), "{answer}");
    assert!(headers.contains("vary: origin"), "{answer}");
    // One invalid beacon: 400, and the valid one beside it is kept.
    let answer = collector.raw_response(&post(&batch(&[beacon(&id(3), 1), beacon("short", 1)]))).await;
    assert!(answer.starts_with("HTTP/1.1 400") && answer.contains("id:"), "{answer}");
    // No CORS grant for an origin the site does not allow, nor for a batch too big.
    let answer = collector.raw_response(&post(&beacon(&id(4), 1)).replace_origin("https://evil.example")).await;
    assert!(answer.starts_with("HTTP/1.1 400"), "{answer}");
    assert!(!answer.to_ascii_lowercase().contains("access-control-allow-origin"), "{answer}");
    let too_many: Vec<String> = (10..61).map(|n| beacon(&id(n), 1)).collect();
    assert_eq!(collector.raw(&post(&batch(&too_many))).await.0, 400);
    assert_eq!(collector.raw(&post("[]")).await.0, 400);
    let ids: Vec<String> = collector.export().await.iter().map(|r| r["id"].as_str().unwrap().to_string()).collect();
    assert_eq!(ids, vec![id(1), id(2), id(3)]);
    collector.stop().await;
}

#[tokio::test]
async fn the_export_needs_the_sites_token_and_speaks_csv() {
    let collector = Collector::start().await;
    assert_eq!(collector.beacon(&beacon(&"a".repeat(32), 1)).await.0, 204);
    let path = "/api/v1/sites/shop/pageviews?format=csv";
    assert_eq!(collector.get(path, None).await.0, 401);
    assert_eq!(collector.get(path, Some("pal_wrong")).await.0, 401);
    assert_eq!(collector.get("/api/v1/sites/other/pageviews", Some(&collector.token)).await.0, 401);
    let (status, csv) = collector.get(path, Some(&collector.token)).await;
    assert_eq!(status, 200);
    let mut lines = csv.lines();
    assert!(lines.next().unwrap().starts_with("id,site,url,route,release,referrer_host,started_at,nav_type,ttfb_ms"));
    let row = lines.next().unwrap();
    assert!(row.starts_with(&format!("{},shop,/cart?step=2,/cart,,", "a".repeat(32))), "{row}");
    assert!(row.contains(r#""{""ab"":""b""}""#), "tags as JSON in one cell: {row}");
    assert_eq!(lines.next(), None);
    // Compressed and empty: the stream ends cleanly (it once panicked when
    // the compressor polled it after its end).
    let compressed = format!(
        "GET /api/v1/sites/shop/pageviews?from=2020-01-01&to=2020-01-02 HTTP/1.1\r\nHost: x\r\n\
         Authorization: Bearer {}\r\nAccept-Encoding: br\r\nConnection: close\r\n\r\n",
        collector.token
    );
    let (status, raw_body) = collector.raw(compressed.as_bytes()).await;
    assert_eq!(status, 200);
    assert!(raw_body.ends_with("0\r\n\r\n"), "the chunked body ends cleanly: {raw_body:?}");
    let (status, _) = collector.get("/api/v1/sites/shop/pageviews?format=xml", Some(&collector.token)).await;
    assert_eq!(status, 400);
    let (status, _) = collector.get("/api/v1/sites/shop/pageviews?from=yesterday", Some(&collector.token)).await;
    assert_eq!(status, 400);
    collector.stop().await;
}

#[tokio::test]
async fn a_body_that_trickles_in_is_cut_off_with_400_and_the_server_stays_up() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let config = palaute_collector::config::Config { ingest_body_timeout_ms: 300, ..Default::default() };
    let collector = Collector::start_with(config).await;
    let body = beacon(&"b".repeat(32), 1);
    let head = format!(
        "POST /b HTTP/1.1\r\nHost: x\r\nOrigin: {ORIGIN}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    );
    let mut stream = tokio::net::TcpStream::connect(collector.addr).await.unwrap();
    stream.write_all(head.as_bytes()).await.unwrap();
    // Slowloris: a few bytes, then nothing for longer than the timeout.
    stream.write_all(&body.as_bytes()[..10]).await.unwrap();
    let mut answer = Vec::new();
    let read = tokio::time::timeout(std::time::Duration::from_secs(5), stream.read_to_end(&mut answer)).await;
    assert!(read.is_ok(), "the server cut the slow request off");
    assert!(String::from_utf8_lossy(&answer).starts_with("HTTP/1.1 400"), "{}", String::from_utf8_lossy(&answer));
    assert_eq!(collector.beacon(&beacon(&"c".repeat(32), 1)).await.0, 204, "still serving");
    collector.stop().await;
}

#[tokio::test]
async fn metrics_count_ingest_outcomes_and_commits() {
    let collector = Collector::start().await;
    for n in 0..2u32 {
        assert_eq!(collector.beacon(&beacon(&format!("{n:032x}"), 1)).await.0, 204);
    }
    assert_eq!(collector.raw(&post("{not json")).await.0, 400);
    assert_eq!(collector.raw(&post(&" ".repeat(70 * 1024))).await.0, 413);
    let (status, text) = collector.get("/metrics", None).await;
    assert_eq!(status, 200);
    let line = |prefix: &str| text.lines().find(|l| l.starts_with(prefix)).map(str::to_string);
    assert_eq!(
        line("palaute_ingest_total{outcome=\"stored\"}").as_deref(),
        Some("palaute_ingest_total{outcome=\"stored\"} 2")
    );
    assert_eq!(
        line("palaute_ingest_total{outcome=\"invalid\"}").as_deref(),
        Some("palaute_ingest_total{outcome=\"invalid\"} 1")
    );
    assert_eq!(
        line("palaute_ingest_total{outcome=\"too_large\"}").as_deref(),
        Some("palaute_ingest_total{outcome=\"too_large\"} 1")
    );
    let commits: u64 = line("palaute_commit_seconds_count").unwrap().rsplit(' ').next().unwrap().parse().unwrap();
    assert!((1..=2).contains(&commits), "one or two group commits for two beacons: {commits}");
    let bytes: u64 = line("palaute_store_bytes ").unwrap().rsplit(' ').next().unwrap().parse().unwrap();
    assert!(bytes > 0, "the store's size on disk");
    assert_eq!(line("palaute_ingest_queue_depth ").as_deref(), Some("palaute_ingest_queue_depth 0"));
    collector.stop().await;
}

/// `count` tags as the inside of a JSON object.
fn tags(count: usize) -> String {
    (0..count).map(|n| format!(r#""k{n}":"v""#)).collect::<Vec<_>>().join(",")
}

fn post(body: &str) -> Vec<u8> {
    post_bytes(body.as_bytes())
}

fn post_bytes(body: &[u8]) -> Vec<u8> {
    let mut request = format!(
        "POST /b HTTP/1.1\r\nHost: x\r\nOrigin: {ORIGIN}\r\nContent-Type: text/plain\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    )
    .into_bytes();
    request.extend_from_slice(body);
    request
}

trait ReplaceOrigin {
    fn replace_origin(self, origin: &str) -> Vec<u8>;
}

impl ReplaceOrigin for Vec<u8> {
    fn replace_origin(self, origin: &str) -> Vec<u8> {
        String::from_utf8(self).unwrap().replace(ORIGIN, origin).into_bytes()
    }
}

/// The one sample beacon with every wire field set (`palaute::wire::sample`)
/// goes in through `POST /b` and comes out of the export with every column
/// filled, on both stores: a field the wire has and a store or the export
/// drops shows here.
#[tokio::test]
async fn every_beacon_field_is_stored_and_exported_on_both_stores() {
    let server = common::clickhouse::ClickHouseServer::start().await;
    for backend in [common::Backend::Embedded, common::Backend::ClickHouse(&server)] {
        let collector = Collector::start_on(backend, palaute_collector::config::Config::default()).await;
        let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_millis() as f64;
        let id = "0123456789abcdef0123456789abcdef";
        let beacon = palaute::wire::sample::every_field("shop", id, now - 60_000.0);
        let (status, body) = collector.beacon(&serde_json::to_string(&beacon).unwrap()).await;
        assert_eq!(status, 204, "{body}");
        collector.settled().await;
        let rows = collector.export().await;
        assert_eq!(rows.len(), 1, "{rows:?}");
        let row = &rows[0];
        // `abandon_phase` alone is empty: it names when a visitor left before
        // the load, and this one stayed.
        let empty: Vec<&str> = palaute_collector::model::FIELDS.iter().copied().filter(|f| row[f].is_null()).collect();
        assert_eq!(empty, ["abandon_phase"], "columns left empty in {row}");
        assert_eq!(row["url"], "/checkout?step=2");
        assert_eq!(row["inp_script_url"], "https://tags.ads.example/gpt.js");
        assert_eq!(row["feedback_comment"], "<b>slow</b> & \"odd\"");
        assert_eq!(row["tags"], serde_json::json!({"ab": "b", "plan": "pro"}));
        collector.stop().await;
    }
}
