//! `GET /api/v1/sites/{site}/compare`: two sets of page views, A and B,
//! each a release or a period, with the same filters, compared measure by
//! measure ([`crate::compare`]): the values, B − A with a 95% interval and
//! a verdict.

use std::sync::Arc;

use axum::extract::{Query, State};
use axum::Json;
use serde::ser::SerializeMap;
use serde::{Deserialize, Serialize, Serializer};
use utoipa::{IntoParams, ToSchema};

use super::period::{parse_time, PeriodQuery};
use super::Authorized;
use crate::app::AppState;
use crate::compare::{compare, Measure, MINIMUMS, Z_95};
use crate::error::{AppError, Result};
use crate::model::now_ms;
use crate::release::{self, Described, Side};

/// Compare query: each side a release or a period (neither: the latest
/// release against the one before, or without releases the period against
/// the one before it); `from`, `to` and the filters of every endpoint.
#[derive(Deserialize, Debug, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct CompareQuery {
    /// A is this release's page views (from its deploy marker to the next).
    pub a_release: Option<String>,
    /// A's start: ISO-8601 or relative (`14d`); with `a_to`.
    pub a_from: Option<String>,
    /// A's end: ISO-8601 or relative.
    pub a_to: Option<String>,
    /// B is this release's page views.
    pub b_release: Option<String>,
    /// B's start.
    pub b_from: Option<String>,
    /// B's end.
    pub b_to: Option<String>,
    /// The filters (and `from`, `to`: the period compared with the one
    /// before it when no side and no release is given).
    #[serde(flatten)]
    #[param(ignore)]
    pub period: PeriodQuery,
}

/// `GET .../compare`.
#[derive(Serialize, Debug, ToSchema)]
pub struct Comparison {
    /// What A is.
    pub a: Described,
    /// What B is.
    pub b: Described,
    /// The confidence of the intervals: 0.95.
    pub confidence: f64,
    /// Per measure (`ttfb_ms` .. `cls`: p75; `abandonment_rate`,
    /// `slow_bounce_rate`, `frustrated_rate`, `csat`), A, B, B − A with its
    /// interval, and the verdict.
    #[serde(serialize_with = "in_order")]
    #[schema(value_type = std::collections::BTreeMap<String, Measure>)]
    pub measures: Vec<(&'static str, Measure)>,
}

fn in_order<S: Serializer>(
    measures: &[(&'static str, Measure)],
    serializer: S,
) -> std::result::Result<S::Ok, S::Error> {
    let mut map = serializer.serialize_map(Some(measures.len()))?;
    for (name, measure) in measures {
        map.serialize_entry(name, measure)?;
    }
    map.end()
}

/// One side from its parameters; `None` when none is given.
fn side(
    which: &str,
    release: &Option<String>,
    from: &Option<String>,
    to: &Option<String>,
    now: i64,
) -> Result<Option<Side>> {
    match (release, from, to) {
        (Some(name), None, None) if !name.is_empty() => Ok(Some(Side::Release(name.clone()))),
        (None, Some(from), Some(to)) => {
            let (from_ms, to_ms) = (parse_time(from, now)?, parse_time(to, now)?);
            if from_ms > to_ms {
                return Err(AppError::Invalid(format!("{which}_from: after {which}_to")));
            }
            Ok(Some(Side::Period { from_ms, to_ms, label: format!("{from} .. {to}") }))
        }
        (None, None, None) => Ok(None),
        _ => Err(AppError::Invalid(format!(
            "{which}: give {which}_release, or both {which}_from and {which}_to, not both kinds"
        ))),
    }
}

/// `GET /api/v1/sites/{site}/compare`: B against A, measure by measure.
#[utoipa::path(get, path = "/api/v1/sites/{site}/compare", tag = "aggregates",
    params(("site" = String, Path, description = "Site id"), CompareQuery, PeriodQuery),
    responses((status = 200, body = Comparison), (status = 400, description = "Invalid query"),
        (status = 401, description = "Missing or wrong token"),
        (status = 404, description = "A release named has no deploy marker")),
    security(("bearer" = [])))]
pub async fn compare_sides(
    Authorized(site): Authorized,
    State(state): State<Arc<AppState>>,
    Query(query): Query<CompareQuery>,
) -> Result<Json<Comparison>> {
    let now = now_ms();
    let filters = query.period.selection(&site.id, now)?;
    let a = side("a", &query.a_release, &query.a_from, &query.a_to, now)?;
    let b = side("b", &query.b_release, &query.b_from, &query.b_to, now)?;
    let releases = state.store.releases(&site.id).await?;
    let (a, b) = match (a, b) {
        (Some(a), Some(b)) => (a, b),
        (None, None) => release::sides(&releases, (filters.from_ms, filters.to_ms), now),
        _ => return Err(AppError::Invalid("give both sides (a_... and b_...), or neither".into())),
    };
    let (store, metrics) = (&state.store, &state.metrics);
    let (a, b) = tokio::try_join!(
        release::read(store, metrics, &filters, &releases, &a, now),
        release::read(store, metrics, &filters, &releases, &b, now)
    )?;
    let measures = compare(&a.1, &b.1, Z_95, &MINIMUMS);
    Ok(Json(Comparison { a: a.0, b: b.0, confidence: 0.95, measures }))
}
