//! Static files: the client (`/palaute.js` and the module under `/m/`), the
//! analyst dashboard (`/dashboard/`, under a strict Content-Security-Policy),
//! and the demo pages when enabled. Files are served precompressed (brotli,
//! gzip) with the right MIME types. The loader keeps a short cache so a new
//! release reaches visitors within minutes; the module's file names carry a
//! content hash, so they are cached for a year. Pages of any origin may load
//! the client (CORS `*`, `Cross-Origin-Resource-Policy: cross-origin`).

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use axum::extract::Path as UrlPath;
use axum::http::{header, HeaderValue, Request};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use axum::Router;
use tower::ServiceExt;
use tower_http::services::{ServeDir, ServeFile};
use tower_http::set_header::SetResponseHeaderLayer;

use crate::app::AppState;

/// Cache policy of the loader.
pub const LOADER_CACHE: &str = "public, max-age=300";
/// Cache policy of the content-hashed module files.
pub const MODULE_CACHE: &str = "public, max-age=31536000, immutable";
/// Content-Security-Policy of the dashboard: its own scripts, styles and API
/// only; no inline code, no framing, no other origin.
pub const DASHBOARD_CSP: &str = "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; \
     img-src 'self' data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

/// Longest delay the demo's slow-resource route applies, ms.
pub const MAX_DEMO_DELAY_MS: u64 = 10_000;

/// Routes serving the client, and the demo pages when `demo` is set.
pub fn routes(www: &Path, demo: bool) -> Router<Arc<AppState>> {
    let dist = www.join("dist");
    // Files are read in pieces of the size the server hands a connection,
    // so a client that reads nothing holds no more than that per response.
    let chunk = crate::serve::MAX_CHUNK_BYTES;
    let loader =
        ServeFile::new(dist.join("palaute.js")).precompressed_br().precompressed_gzip().with_buf_chunk_size(chunk);
    let module = ServeDir::new(dist.join("m")).precompressed_br().precompressed_gzip().with_buf_chunk_size(chunk);
    let cross_origin = |router: Router<Arc<AppState>>| {
        router
            .layer(SetResponseHeaderLayer::overriding(
                header::ACCESS_CONTROL_ALLOW_ORIGIN,
                HeaderValue::from_static("*"),
            ))
            .layer(SetResponseHeaderLayer::overriding(
                header::HeaderName::from_static("cross-origin-resource-policy"),
                HeaderValue::from_static("cross-origin"),
            ))
    };
    let client =
        Router::new()
            .route_service("/palaute.js", loader)
            .layer(SetResponseHeaderLayer::overriding(header::CACHE_CONTROL, HeaderValue::from_static(LOADER_CACHE)))
            .merge(Router::new().nest_service("/m", module).layer(SetResponseHeaderLayer::overriding(
                header::CACHE_CONTROL,
                HeaderValue::from_static(MODULE_CACHE),
            )));
    // The files are chosen by Accept-Encoding (brotli, gzip or plain), so a
    // shared cache must key them by it.
    let router = cross_origin(client)
        .merge(dashboard(&dist.join("dashboard")))
        .layer(SetResponseHeaderLayer::if_not_present(header::VARY, HeaderValue::from_static("accept-encoding")));
    if !demo {
        return router;
    }
    let pages = ServeDir::new(www.join("demo"));
    router
        .route("/", get(|| async { Redirect::temporary("/demo/") }))
        .route("/demo/slow/{ms}/{*file}", get(move |path| slow_file(path, pages.clone())))
        .nest_service("/demo", ServeDir::new(www.join("demo")))
}

/// `/dashboard/`: the built dashboard, revalidated on every load, with a
/// strict CSP and no referrer.
fn dashboard(dir: &Path) -> Router<Arc<AppState>> {
    let files =
        ServeDir::new(dir).precompressed_br().precompressed_gzip().with_buf_chunk_size(crate::serve::MAX_CHUNK_BYTES);
    let headers = [
        (header::CONTENT_SECURITY_POLICY, DASHBOARD_CSP),
        (header::CACHE_CONTROL, "no-cache"),
        (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
        (header::REFERRER_POLICY, "no-referrer"),
        (header::X_FRAME_OPTIONS, "DENY"),
    ];
    let mut router = Router::new()
        .route("/dashboard", get(|| async { Redirect::permanent("/dashboard/") }))
        .nest_service("/dashboard/", files);
    for (name, value) in headers {
        router = router.layer(SetResponseHeaderLayer::overriding(name, HeaderValue::from_static(value)));
    }
    router
}

/// `/demo/slow/{ms}/{file}`: a demo file delivered `ms` late, to show what
/// palaute sees on a slow page.
async fn slow_file(UrlPath((ms, file)): UrlPath<(u64, String)>, pages: ServeDir) -> Response {
    tokio::time::sleep(Duration::from_millis(ms.min(MAX_DEMO_DELAY_MS))).await;
    let request = Request::get(format!("/{file}")).body(axum::body::Body::empty());
    match request {
        Ok(request) => match pages.oneshot(request).await {
            Ok(response) => response.into_response(),
            Err(never) => match never {},
        },
        Err(_) => axum::http::StatusCode::BAD_REQUEST.into_response(),
    }
}
