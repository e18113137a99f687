//! What a hostile client or page may send, through the real socket: tag
//! text that would mislead a reader, cells a spreadsheet would run, and the
//! case of the `Authorization` scheme.

mod common;

use common::{beacon, Collector};

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
        let request = format!("GET {path} HTTP/1.1\r\nHost: x\r\nAuthorization: {scheme} {}\r\nConnection: close\r\n\r\n", collector.token);
        let (status, body) = collector.raw(request.as_bytes()).await;
        assert_eq!(status, 200, "{scheme}: {body}");
    }
    for header in ["Basic abc", "Bearer", &format!("Token {}", collector.token)] {
        let request = format!("GET {path} HTTP/1.1\r\nHost: x\r\nAuthorization: {header}\r\nConnection: close\r\n\r\n");
        assert_eq!(collector.raw(request.as_bytes()).await.0, 401, "{header}");
    }
    collector.stop().await;
}
