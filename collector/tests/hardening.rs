//! What a hostile client or page may send, through the real socket: tag
//! text that would mislead a reader, cells a spreadsheet would run, and the
//! case of the `Authorization` scheme.

mod common;

use common::{beacon, Collector, BROWSER_UA, ORIGIN};
use palaute_collector::config::Config;

/// A beacon of page view `id` whose tags are the JSON object `tags`.
fn tagged(id: &str, tags: &str) -> String {
    beacon(id, 1).replace(r#""tags":{"ab":"b"}"#, &format!(r#""tags":{tags}"#))
}

#[tokio::test]
async fn tags_with_control_or_bidirectional_characters_are_refused() {
    let collector = Collector::start().await;
    let cases = [
        ("nul in a value", r#"{"ab":"a\u0000b"}"#),
        ("escape in a value", r#"{"ab":"\u001b[31mred"}"#),
        ("a line break in a key", r#"{"a\nb":"x"}"#),
        ("carriage return", r#"{"ab":"x\ry"}"#),
        ("right-to-left override", r#"{"ab":"gpj.\u202eexe"}"#),
    ];
    for (n, (case, tags)) in cases.iter().enumerate() {
        let (status, body) = collector.beacon(&tagged(&format!("{n:0>16}-control"), tags)).await;
        assert_eq!(status, 400, "{case}: {body}");
        assert!(body.contains("tags"), "{case}: the error names the field: {body}");
    }
    assert_eq!(collector.beacon(&tagged("0000000000000000-plain", r#"{"ab":"é ü 😀"}"#)).await.0, 204);
    assert_eq!(collector.export().await.len(), 1, "only the plain one is stored");
    collector.stop().await;
}

#[tokio::test]
async fn csv_cells_that_a_spreadsheet_would_run_are_neutralised_and_ndjson_is_verbatim() {
    let collector = Collector::start().await;
    let body = beacon("formula-0000000001", 1)
        .replace(r#""tags":{"ab":"b"}"#, r#""tags":{"ab":"=1+1"},"lcp_element":"@SUM(1)","referrer_host":"-2+3""#)
        .replace(
            r#""left_at_ms":5000"#,
            r#""left_at_ms":5000,"feedback":{"rating":0,"scale":"thumbs","at_ms":100,"comment":"=HYPERLINK(\"http://x\")"}"#,
        );
    assert_eq!(collector.beacon(&body).await.0, 204, "{body}");
    let (status, csv) = collector.get("/api/v1/sites/shop/pageviews?format=csv", Some(&collector.token)).await;
    assert_eq!(status, 200, "{csv}");
    let mut rows = csv::Reader::from_reader(csv.as_bytes());
    let header = rows.headers().unwrap().clone();
    let row = rows.records().next().unwrap().unwrap();
    let cell = |name: &str| row.get(header.iter().position(|h| h == name).unwrap()).unwrap().to_string();
    assert_eq!(cell("lcp_element"), "'@SUM(1)");
    assert_eq!(cell("referrer_host"), "'-2+3");
    assert_eq!(cell("feedback_comment"), "'=HYPERLINK(\"http://x\")");
    assert_eq!(cell("lcp_ms"), "1900.0", "numbers stay numbers");
    let ndjson = collector.export().await;
    assert_eq!(ndjson[0]["feedback_comment"], "=HYPERLINK(\"http://x\")", "NDJSON is verbatim");
    assert_eq!(ndjson[0]["lcp_element"], "@SUM(1)");
    collector.stop().await;
}

#[tokio::test]
async fn the_bearer_scheme_is_case_insensitive() {
    let collector = Collector::start().await;
    let path = "/api/v1/sites/shop/summary?from=7d";
    for scheme in ["Bearer", "bearer", "BEARER"] {
        let request = format!(
            "GET {path} HTTP/1.1\r\nHost: x\r\nAuthorization: {scheme} {}\r\nConnection: close\r\n\r\n",
            collector.token
        );
        let (status, body) = collector.raw(request.as_bytes()).await;
        assert_eq!(status, 200, "{scheme}: {body}");
    }
    for header in ["Basic abc", "Bearer", &format!("Token {}", collector.token)] {
        let request = format!("GET {path} HTTP/1.1\r\nHost: x\r\nAuthorization: {header}\r\nConnection: close\r\n\r\n");
        assert_eq!(collector.raw(request.as_bytes()).await.0, 401, "{header}");
    }
    collector.stop().await;
}

/// Resident memory of this process, bytes.
fn rss() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap();
    let line = status.lines().find(|l| l.starts_with("VmRSS:")).unwrap();
    line.split_whitespace().nth(1).unwrap().parse::<u64>().unwrap() * 1024
}

#[tokio::test]
async fn huge_distinct_user_agents_do_not_stay_in_memory() {
    let collector = Collector::start_with(Config { rate_limit_per_second: 0, ..Config::default() }).await;
    let padding = "x".repeat(200 * 1024);
    // Warm up (the allocator's first arenas, the store), then measure.
    for n in 0..20 {
        let headers = format!("User-Agent: Mozilla/5.0 {n} {padding}\r\n");
        collector.beacon_with(&beacon(&format!("{n:0>16}-warm"), 1), &headers).await;
    }
    let before = rss();
    for n in 0..1_000 {
        let headers = format!("User-Agent: Mozilla/5.0 (X11; Linux x86_64) Chrome/120.0 {n} {padding}\r\n");
        let (status, body) = collector.beacon_with(&beacon(&format!("{n:0>16}-huge"), 1), &headers).await;
        assert_eq!(status, 204, "{body}");
    }
    let grown = rss().saturating_sub(before);
    // 1,000 distinct 200 KB user agents are 200 MB if kept; cut to 512 B, under 1 MB.
    assert!(grown < 40 * 1024 * 1024, "RSS grew by {} MB", grown / 1024 / 1024);
    collector.stop().await;
}

#[tokio::test]
async fn the_rate_limit_counts_beacons_not_requests() {
    let config = Config { rate_limit_per_second: 1, rate_limit_burst: 10, ..Config::default() };
    let collector = Collector::start_with(config).await;
    let batch = |from: usize, n: usize| {
        let beacons: Vec<String> = (from..from + n).map(|i| beacon(&format!("{i:0>16}-batch"), 1)).collect();
        format!("[{}]", beacons.join(","))
    };
    assert_eq!(collector.beacon(&batch(0, 50)).await.0, 429, "50 beacons are over a burst of 10");
    assert_eq!(collector.beacon(&batch(100, 5)).await.0, 204, "5 fit in what is left");
    assert_eq!(collector.beacon(&batch(200, 6)).await.0, 429, "6 more do not");
    let stored = collector.export().await;
    assert_eq!(stored.len(), 5, "a refused batch stores nothing");
    assert_eq!(collector.metric("palaute_ingest_total{outcome=\"rate_limited\"}").await, Some(2.0));
    collector.stop().await;
}

#[tokio::test]
async fn a_body_trickled_past_the_deadline_is_refused_whatever_its_pieces() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let collector = Collector::start_with(Config { ingest_body_timeout_ms: 1_000, ..Config::default() }).await;
    let body = beacon("trickled-00000001", 1);
    let head = format!(
        "POST /b HTTP/1.1\r\nHost: x\r\nOrigin: {}\r\nUser-Agent: {}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        common::ORIGIN,
        common::BROWSER_UA,
        body.len()
    );
    let mut stream = tokio::net::TcpStream::connect(collector.addr).await.unwrap();
    stream.write_all(head.as_bytes()).await.unwrap();
    let third = body.len() / 3;
    let started = std::time::Instant::now();
    for piece in [&body[..third], &body[third..2 * third], &body[2 * third..]] {
        // Each gap is under the deadline; together they are over it.
        let _ = stream.write_all(piece.as_bytes()).await;
        tokio::time::sleep(std::time::Duration::from_millis(600)).await;
    }
    let mut answer = String::new();
    let _ = stream.read_to_string(&mut answer).await;
    assert!(answer.starts_with("HTTP/1.1 400"), "{answer}");
    assert!(answer.contains("not complete within 1000 ms"), "{answer}");
    assert!(started.elapsed() < std::time::Duration::from_secs(3));
    assert!(collector.export().await.is_empty());
    assert_eq!(collector.metric("palaute_connections_closed_total{reason=\"body_timeout\"}").await, Some(1.0));
    collector.stop().await;
}

/// Reads one response on a kept-alive connection: its status and body (by
/// its `Content-Length`).
async fn response(stream: &mut tokio::net::TcpStream) -> (u16, String) {
    use tokio::io::AsyncReadExt;
    let mut data = Vec::new();
    let mut byte = [0u8; 1];
    while !data.ends_with(b"\r\n\r\n") {
        assert_eq!(stream.read(&mut byte).await.unwrap(), 1, "the connection closed before the answer");
        data.push(byte[0]);
    }
    let head = String::from_utf8_lossy(&data).to_lowercase();
    let length: usize =
        head.lines().find_map(|l| l.strip_prefix("content-length:")).map_or(0, |n| n.trim().parse().unwrap());
    let mut body = vec![0u8; length];
    stream.read_exact(&mut body).await.unwrap();
    (head[9..12].parse().unwrap(), String::from_utf8_lossy(&body).into())
}

#[tokio::test]
async fn a_10_mb_body_gets_its_413_on_a_fresh_and_on_a_reused_connection() {
    use tokio::io::AsyncWriteExt;
    let collector = Collector::start().await;
    let request = |body: &str| {
        format!(
            "POST /b HTTP/1.1\r\nHost: x\r\nOrigin: {ORIGIN}\r\nUser-Agent: {BROWSER_UA}\r\n\
             Content-Type: text/plain\r\nContent-Length: {}\r\n\r\n{body}",
            body.len()
        )
    };
    let huge = request(&format!("{{\"pad\":\"{}\"}}", "x".repeat(10 << 20)));
    // A fresh connection: the whole body is written (read by the
    // collector, not reset under the writer), and the answer is 413.
    let mut fresh = tokio::net::TcpStream::connect(collector.addr).await.unwrap();
    fresh.write_all(huge.as_bytes()).await.expect("the collector reads the whole body");
    assert_eq!(response(&mut fresh).await.0, 413);
    // A reused one: a beacon, the oversized body, and a beacon again.
    let mut kept = tokio::net::TcpStream::connect(collector.addr).await.unwrap();
    kept.write_all(request(&beacon(&format!("{:032x}", 1), 1)).as_bytes()).await.unwrap();
    assert_eq!(response(&mut kept).await.0, 204);
    kept.write_all(huge.as_bytes()).await.expect("the collector reads the whole body");
    assert_eq!(response(&mut kept).await.0, 413);
    kept.write_all(request(&beacon(&format!("{:032x}", 2), 1)).as_bytes()).await.unwrap();
    assert_eq!(response(&mut kept).await.0, 204, "the connection serves the next beacon");
    assert_eq!(collector.export().await.len(), 2);
    collector.stop().await;
}

#[tokio::test]
async fn a_beacon_of_thousands_of_tag_keys_is_refused_at_its_first_key_too_many() {
    let collector = Collector::start().await;
    // 5,800 distinct keys in 58 KB: read whole and then deduplicated key by
    // key, this cost a quadratic 42-60 ms of CPU per request.
    let keys: Vec<String> = (0..5800).map(|i| format!(r#""k{i:04}":"""#)).collect();
    let body = tagged("0000000000000000-many", &format!("{{{}}}", keys.join(","))).replace('\n', " ");
    assert!(body.len() < palaute::wire::MAX_BEACON_BYTES, "{}", body.len());
    let (status, answer) = collector.beacon(&body).await;
    assert_eq!(status, 400, "{answer}");
    // Refused while decoding, where the 21st key is: serde names the column
    // it stopped at, a few hundred bytes in, not after the whole object.
    let column: usize = answer
        .split_once("tags: more than 20 at line 1 column ")
        .and_then(|(_, rest)| rest.split(|c: char| !c.is_ascii_digit()).next()?.parse().ok())
        .unwrap_or_else(|| panic!("not refused while decoding: {answer}"));
    let tags_start = body.find(r#""tags":"#).unwrap();
    assert!(column < tags_start + 21 * 12, "stopped at column {column} of {}: {answer}", body.len());
    assert_eq!(collector.metric(r#"palaute_ingest_total{outcome="invalid"}"#).await, Some(1.0));
    collector.stop().await;
}

#[tokio::test]
async fn api_answers_are_never_cached_nor_sniffed() {
    let collector = Collector::start().await;
    let auth = format!("Authorization: Bearer {}\r\n", collector.token);
    let cases = [
        ("/api/v1/sites/shop/summary?from=7d", auth.as_str(), "200"),
        ("/api/v1/sites/shop/pageviews?format=csv", auth.as_str(), "200"),
        ("/api/v1/sites/shop/summary", "", "401"),
        ("/api/v1/sites/shop/summary?from=nonsense", auth.as_str(), "400"),
        ("/api/v1/openapi.json", "", "200"),
    ];
    for (path, auth, status) in cases {
        let answer = collector
            .raw_response(format!("GET {path} HTTP/1.1\r\nHost: x\r\n{auth}Connection: close\r\n\r\n").as_bytes())
            .await;
        let head = answer.split("\r\n\r\n").next().unwrap().to_ascii_lowercase();
        assert!(head.starts_with(&format!("http/1.1 {status}")), "{path}: {head}");
        assert!(head.contains("\r\ncache-control: no-store\r\n"), "{path}: {head}");
        assert!(head.contains("\r\nx-content-type-options: nosniff\r\n"), "{path}: {head}");
    }
    collector.stop().await;
}
