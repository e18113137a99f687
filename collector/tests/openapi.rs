//! `GET /api/v1/openapi.json` describes the API that is served: every
//! endpoint, its parameters and auth, and response schemas whose properties
//! are exactly the fields real answers carry.

mod common;

use common::Collector;
use serde_json::Value;

/// The schema's property names, following one `$ref`.
fn properties(spec: &Value, schema: &Value) -> Vec<String> {
    let schema = match schema["$ref"].as_str() {
        Some(reference) => &spec["components"]["schemas"][reference.rsplit('/').next().unwrap()],
        None => schema,
    };
    let mut names: Vec<String> = schema["properties"].as_object().unwrap().keys().cloned().collect();
    names.sort();
    names
}

/// Picks the item a response schema describes out of a real answer.
type Item = fn(&Value) -> &Value;

fn keys(value: &Value) -> Vec<String> {
    let mut names: Vec<String> = value.as_object().unwrap().keys().cloned().collect();
    names.sort();
    names
}

#[tokio::test]
async fn the_description_matches_what_is_served() {
    let collector = Collector::start().await;
    assert_eq!(collector.beacon(&common::beacon(&format!("{:032x}", 1), 1)).await.0, 204);
    let (status, body) = collector.get("/api/v1/openapi.json", None).await;
    assert_eq!(status, 200, "served without a token");
    let spec: Value = serde_json::from_str(&body).unwrap();
    assert!(spec["openapi"].as_str().unwrap().starts_with("3."));
    assert_eq!(spec["components"]["securitySchemes"]["bearer"]["scheme"], "bearer");

    // (endpoint, query, response schema of one item, how to find that item in a real answer)
    let endpoints: [(&str, &str, Item); 8] = [
        ("summary", "", |v| v),
        ("timeseries", "?metric=lcp", |v| v),
        ("breakdown", "?by=path", |v| &v[0]),
        ("dimensions", "", |v| v),
        ("abandonment", "", |v| v),
        ("feedback", "", |v| v),
        ("pageviews", "", |v| v),
        ("compare", "", |v| v),
    ];
    let paths = spec["paths"].as_object().unwrap();
    assert_eq!(paths.len(), endpoints.len() + 1, "and releases: {:?}", paths.keys());
    for (name, query, item) in endpoints {
        let operation = &paths[&format!("/api/v1/sites/{{site}}/{name}")]["get"];
        assert_eq!(operation["security"][0]["bearer"], serde_json::json!([]), "{name}: needs the token");
        let parameters: Vec<&str> =
            operation["parameters"].as_array().unwrap().iter().map(|p| p["name"].as_str().unwrap()).collect();
        for expected in ["site", "from", "to", "path", "device"] {
            assert!(parameters.contains(&expected), "{name}: {expected} in {parameters:?}");
        }
        let (status, answer) =
            collector.get(&format!("/api/v1/sites/shop/{name}{query}"), Some(&collector.token)).await;
        assert_eq!(status, 200, "{name}: {answer}");
        let answer: Value = if name == "pageviews" {
            serde_json::from_str(answer.lines().next().unwrap()).unwrap()
        } else {
            serde_json::from_str(&answer).unwrap()
        };
        let content = operation["responses"]["200"]["content"].as_object().unwrap();
        let mut schema = &content.values().next().unwrap()["schema"];
        if schema["type"] == "array" {
            schema = &schema["items"];
        }
        assert_eq!(properties(&spec, schema), keys(item(&answer)), "{name}: documented fields = served fields");
    }
    // Deploy markers: GET and POST, with the token; the list's items as documented.
    let releases = &paths["/api/v1/sites/{site}/releases"];
    for method in ["get", "post"] {
        assert_eq!(releases[method]["security"][0]["bearer"], serde_json::json!([]), "releases: {method}");
    }
    let body = r#"{"name":"v1","at":"1h"}"#;
    let request = format!(
        "POST /api/v1/sites/shop/releases HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {}\r\n\
         Content-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        collector.token,
        body.len()
    );
    let (status, created) = collector.raw(request.as_bytes()).await;
    assert_eq!(status, 201, "{created}");
    let created: Value = serde_json::from_str(&created).unwrap();
    let schema = &releases["post"]["responses"]["201"]["content"]["application/json"]["schema"];
    assert_eq!(properties(&spec, schema), keys(&created), "releases: documented fields = served fields");
    let (_, listed) = collector.get("/api/v1/sites/shop/releases", Some(&collector.token)).await;
    let listed: Value = serde_json::from_str(&listed).unwrap();
    let schema = &releases["get"]["responses"]["200"]["content"]["application/json"]["schema"]["items"];
    assert_eq!(properties(&spec, schema), keys(&listed[0]));
    let request_schema = &releases["post"]["requestBody"]["content"]["application/json"]["schema"];
    assert_eq!(properties(&spec, request_schema), ["at", "name"]);

    let (status, _) = collector.get("/api/v1/sites/shop/summary", None).await;
    assert_eq!(status, 401);
    collector.stop().await;
}
