//! The client's files as a browser and a shared cache see them: media type,
//! precompressed encoding chosen by `Accept-Encoding`, caching by kind of
//! file, and the cross-origin headers a page on another origin needs.

mod common;

use common::Collector;
use palaute_collector::assets::{LOADER_CACHE, MODULE_CACHE};
use palaute_collector::config::Config;

/// A `www` directory with a built client: loader and module, each plain,
/// brotli and gzip (the contents only tell the three apart).
fn built_client() -> tempfile::TempDir {
    let www = tempfile::tempdir().unwrap();
    let dist = www.path().join("dist");
    std::fs::create_dir_all(dist.join("m")).unwrap();
    std::fs::create_dir_all(dist.join("dashboard")).unwrap();
    for (file, body) in [("palaute.js", "loader"), ("m/palaute.0123456789ab.js", "module")] {
        std::fs::write(dist.join(file), format!("{body}-plain")).unwrap();
        std::fs::write(dist.join(format!("{file}.br")), format!("{body}-br")).unwrap();
        std::fs::write(dist.join(format!("{file}.gz")), format!("{body}-gz")).unwrap();
    }
    std::fs::write(dist.join("dashboard/index.html"), "<!doctype html>").unwrap();
    www
}

async fn get(collector: &Collector, path: &str, accept_encoding: Option<&str>) -> (String, String) {
    let encoding = accept_encoding.map(|e| format!("Accept-Encoding: {e}\r\n")).unwrap_or_default();
    let request = format!("GET {path} HTTP/1.1\r\nHost: x\r\n{encoding}Connection: close\r\n\r\n");
    let answer = collector.raw_response(request.as_bytes()).await;
    let (head, body) = answer.split_once("\r\n\r\n").unwrap_or((&answer, ""));
    (head.to_ascii_lowercase(), body.to_string())
}

#[tokio::test]
async fn client_files_are_typed_compressed_cached_and_keyed_by_encoding() {
    let www = built_client();
    let collector = Collector::start_with(Config { www: Some(www.path().to_path_buf()), ..Config::default() }).await;
    let cases = [("/palaute.js", "loader", LOADER_CACHE), ("/m/palaute.0123456789ab.js", "module", MODULE_CACHE)];
    for (path, name, cache) in cases {
        for (accept, encoding, body) in
            [(Some("gzip, deflate, br"), Some("br"), "br"), (Some("gzip"), Some("gzip"), "gz"), (None, None, "plain")]
        {
            let (head, got) = get(&collector, path, accept).await;
            assert!(head.starts_with("http/1.1 200"), "{path} {accept:?}: {head}");
            assert_eq!(got, format!("{name}-{body}"), "{path} {accept:?}");
            assert!(head.contains("content-type: text/javascript"), "{path}: {head}");
            assert!(head.contains(&format!("cache-control: {cache}")), "{path}: {head}");
            assert!(head.contains("vary: accept-encoding"), "{path}: {head}");
            assert!(head.contains("access-control-allow-origin: *"), "{path}: {head}");
            assert!(head.contains("cross-origin-resource-policy: cross-origin"), "{path}: {head}");
            match encoding {
                Some(encoding) => assert!(head.contains(&format!("content-encoding: {encoding}")), "{head}"),
                None => assert!(!head.contains("content-encoding"), "{head}"),
            }
        }
    }
    let (head, _) = get(&collector, "/m/missing.js", Some("br")).await;
    assert!(head.starts_with("http/1.1 404"), "{head}");
    // The dashboard is precompressed in the same way, and revalidated.
    let (head, _) = get(&collector, "/dashboard/", None).await;
    assert!(head.starts_with("http/1.1 200") && head.contains("cache-control: no-cache"), "{head}");
    assert!(head.contains("vary: accept-encoding"), "{head}");
    collector.stop().await;
}
