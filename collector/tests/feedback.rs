//! `GET /api/v1/sites/{site}/feedback` over answers posted through `POST /b`:
//! newest first, each with its own page view's metrics, filters by rating and
//! comment, a limit with the total, and comments returned verbatim.

mod common;

use common::Collector;
use serde_json::Value;

/// One answer: rating, scale, comment, and the view's LCP (to check that
/// the metrics come from the very page view the answer was given on).
struct Answer {
    rating: u8,
    scale: &'static str,
    comment: Option<&'static str>,
    lcp_ms: f64,
}

const ANSWERS: [Answer; 5] = [
    Answer { rating: 1, scale: "thumbs", comment: None, lcp_ms: 1200.0 },
    Answer { rating: 0, scale: "thumbs", comment: Some("Took ages to load"), lcp_ms: 6100.0 },
    Answer {
        rating: 0,
        scale: "thumbs",
        comment: Some("<script>alert(1)</script><b>slow</b> & \"quoted\""),
        lcp_ms: 5200.0,
    },
    Answer { rating: 4, scale: "five", comment: None, lcp_ms: 2000.0 },
    Answer { rating: 0, scale: "thumbs", comment: None, lcp_ms: 4500.0 },
];

fn answered(i: usize, answer: &Answer, seq: u32, with_comment: bool) -> String {
    let start = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_millis() - 60_000
        + i as u128 * 1000;
    let comment = match answer.comment.filter(|_| with_comment) {
        Some(text) => format!(r#","comment":{}"#, serde_json::to_string(text).unwrap()),
        None => String::new(),
    };
    format!(
        r#"{{"v":1,"site":"shop","id":"{i:032x}","seq":{seq},"url":"/p{i}","start":{start},"lcp_ms":{lcp},
            "feedback":{{"rating":{rating},"scale":"{scale}","at_ms":{at}{comment}}}}}"#,
        lcp = answer.lcp_ms,
        rating = answer.rating,
        scale = answer.scale,
        at = 3000 + i,
    )
}

async fn list(collector: &Collector, query: &str) -> (u64, Vec<Value>) {
    let (status, body) = collector.get(&format!("/api/v1/sites/shop/feedback{query}"), Some(&collector.token)).await;
    assert_eq!(status, 200, "{query}: {body}");
    let body: Value = serde_json::from_str(&body).unwrap();
    (body["total"].as_u64().unwrap(), body["feedback"].as_array().unwrap().clone())
}

fn ids(rows: &[Value]) -> Vec<usize> {
    rows.iter().map(|r| usize::from_str_radix(r["id"].as_str().unwrap(), 16).unwrap()).collect()
}

#[tokio::test]
async fn feedback_is_listed_with_its_page_view_newest_first() {
    let collector = Collector::start().await;
    // A view without feedback is not listed.
    assert_eq!(collector.beacon(&common::beacon(&format!("{:032x}", 99), 1)).await.0, 204);
    for (i, answer) in ANSWERS.iter().enumerate() {
        // The rating first, then the comment in a later beacon of the same view.
        assert_eq!(collector.beacon(&answered(i, answer, 1, false)).await.0, 204);
        if answer.comment.is_some() {
            assert_eq!(collector.beacon(&answered(i, answer, 2, true)).await.0, 204);
        }
    }

    let (total, rows) = list(&collector, "").await;
    assert_eq!(total, 5);
    assert_eq!(ids(&rows), [4, 3, 2, 1, 0], "newest first");
    for row in &rows {
        let answer = &ANSWERS[ids(std::slice::from_ref(row))[0]];
        assert_eq!(row["feedback_rating"], answer.rating);
        assert_eq!(row["feedback_scale"], answer.scale);
        assert_eq!(row["feedback_comment"].as_str(), answer.comment, "verbatim, HTML and all");
        assert_eq!(row["lcp_ms"], answer.lcp_ms, "the metrics of the same page view");
        let satisfied = if answer.scale == "five" { answer.rating >= 4 } else { answer.rating == 1 };
        assert_eq!(row["satisfied"], satisfied, "as CSAT counts it: {row}");
    }

    let (total, rows) = list(&collector, "?rating=0").await;
    assert_eq!((total, ids(&rows)), (3, vec![4, 2, 1]));
    let (total, rows) = list(&collector, "?comment=true").await;
    assert_eq!((total, ids(&rows)), (2, vec![2, 1]));
    let (total, rows) = list(&collector, "?comment=false&limit=2").await;
    assert_eq!((total, ids(&rows)), (3, vec![4, 3]), "the total counts past the limit");
    let (total, rows) = list(&collector, "?path=/p3").await;
    assert_eq!((total, ids(&rows)), (1, vec![3]));

    // The summary counts ratings per scale.
    let (_, summary) = collector.get("/api/v1/sites/shop/summary", Some(&collector.token)).await;
    let summary: Value = serde_json::from_str(&summary).unwrap();
    assert_eq!(summary["feedback"]["thumbs"]["0"], 3, "{summary}");
    assert_eq!(summary["feedback"]["thumbs"]["1"], 1);
    assert_eq!(summary["feedback"]["five"]["4"], 1);

    for bad in ["?limit=5000", "?rating=x", "?comment=maybe"] {
        let (status, _) = collector.get(&format!("/api/v1/sites/shop/feedback{bad}"), Some(&collector.token)).await;
        assert_eq!(status, 400, "{bad}");
    }
    let (status, _) = collector.get("/api/v1/sites/shop/feedback", Some("wrong")).await;
    assert_eq!(status, 401);

    // The site's settings for the client: public, cacheable, any origin.
    let answer = collector.raw_response(b"GET /s/shop HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n").await;
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    let lower = answer.to_lowercase();
    assert!(lower.contains("access-control-allow-origin: *") && lower.contains("cache-control: public, max-age=300"));
    assert!(answer.ends_with(r#"{"feedback_scale":"thumbs"}"#), "{answer}");
    let (status, _) = collector.get("/s/nobody", None).await;
    assert_eq!(status, 404);
    collector.stop().await;
}
