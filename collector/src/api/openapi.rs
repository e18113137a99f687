//! `GET /api/v1/openapi.json`: the analyst API described as OpenAPI 3.1,
//! generated from the handlers' and types' annotations (utoipa), so it
//! cannot drift from the code.

use axum::Json;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};

/// The API's description.
#[derive(OpenApi)]
#[openapi(
    info(
        title = "palaute analyst API",
        description = "Aggregates of real-user page views: percentiles and good / needs-improvement / poor shares \
                       per Web Vital, abandonment, breakdowns, time series, feedback and the raw export. Every \
                       endpoint takes `from`, `to` (ISO-8601 or relative like `7d`) and filters, and needs the \
                       site's analyst token as `Authorization: Bearer TOKEN`."
    ),
    paths(
        super::reports::summary,
        super::reports::timeseries,
        super::reports::breakdown,
        super::reports::dimensions,
        super::reports::abandonment,
        super::compare::compare_sides,
        super::releases::list,
        super::releases::add,
        super::feedback::feedback,
        super::export::pageviews,
    ),
    modifiers(&BearerToken),
    tags(
        (name = "aggregates", description = "Answers computed from rollups and raw page views"),
        (name = "export", description = "Raw page views"),
        (name = "releases", description = "Deploy markers")
    )
)]
pub struct ApiDoc;

struct BearerToken;

impl Modify for BearerToken {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new().scheme(HttpAuthScheme::Bearer).description(Some("The site's analyst token")).build(),
            ),
        );
    }
}

/// Serves the description.
pub async fn openapi() -> Json<utoipa::openapi::OpenApi> {
    Json(ApiDoc::openapi())
}
