//! The aggregate endpoints: `summary`, `abandonment`, `breakdown` and
//! `timeseries`, each the merged [`Stats`](crate::stats::Stats) of the
//! selected page views (from rollups and raw rows, see
//! [`rollup::query`](crate::rollup::query)), grouped as the answer needs.

use std::sync::Arc;

use axum::extract::{Query, State};
use axum::Json;
use palaute::vitals::thresholds::Vital;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::aggregate::{
    self, Abandonment, BreakdownRow, Dimension, Ranking, Summary, TimeseriesPoint, DEFAULT_BREAKDOWN_LIMIT,
    MAX_BREAKDOWN_LIMIT,
};
use super::period::PeriodQuery;
use super::Authorized;
use crate::app::AppState;
use crate::error::{AppError, Result};
use crate::grouping::NAMED;
use crate::model::now_ms;
use crate::rollup::query::{self, grouped, GroupKey, Grouping};
use crate::stats::Stats;
use crate::store::HOUR_MS;

/// The merged stats of the period, all page views together.
async fn total(state: &AppState, site: &str, query: &PeriodQuery) -> Result<Stats> {
    query::total(&state.store, &state.metrics, &query.selection(site, now_ms())?).await
}

/// `GET /api/v1/sites/{site}/summary`.
#[utoipa::path(get, path = "/api/v1/sites/{site}/summary", tag = "aggregates",
    params(("site" = String, Path, description = "Site id"), PeriodQuery),
    responses((status = 200, body = Summary), (status = 400, description = "Invalid query"),
        (status = 401, description = "Missing or wrong token")),
    security(("bearer" = [])))]
pub async fn summary(
    Authorized(site): Authorized,
    State(state): State<Arc<AppState>>,
    Query(query): Query<PeriodQuery>,
) -> Result<Json<Summary>> {
    Ok(Json(Summary::of(&total(&state, &site.id, &query).await?)))
}

/// `GET /api/v1/sites/{site}/abandonment`.
#[utoipa::path(get, path = "/api/v1/sites/{site}/abandonment", tag = "aggregates",
    params(("site" = String, Path, description = "Site id"), PeriodQuery),
    responses((status = 200, body = Abandonment), (status = 400, description = "Invalid query"),
        (status = 401, description = "Missing or wrong token")),
    security(("bearer" = [])))]
pub async fn abandonment(
    Authorized(site): Authorized,
    State(state): State<Arc<AppState>>,
    Query(query): Query<PeriodQuery>,
) -> Result<Json<Abandonment>> {
    Ok(Json(Abandonment::of(&total(&state, &site.id, &query).await?)))
}

/// Breakdown query: the dimension, a period and filters.
#[derive(Deserialize, Debug, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct BreakdownQuery {
    /// A dimension's name (`GET .../dimensions` lists them: `path`,
    /// `device`, ..., `inp_script_host`, ranked by page views with poor
    /// INP), `tag:KEY`, or a tag key seen in the period.
    pub by: String,
    /// Most groups (1-1000, default 100), those with the most page views;
    /// one more row, `"other": true`, holds the rest.
    pub limit: Option<usize>,
    /// Period and filters.
    #[serde(flatten)]
    #[param(ignore)]
    pub period: PeriodQuery,
}

/// `GET /api/v1/sites/{site}/breakdown?by=&limit=`: the `limit` groups
/// with the most page views, then one `"other": true` row for the rest.
#[utoipa::path(get, path = "/api/v1/sites/{site}/breakdown", tag = "aggregates",
    params(("site" = String, Path, description = "Site id"), BreakdownQuery, PeriodQuery),
    responses((status = 200, body = Vec<BreakdownRow>), (status = 400, description = "Invalid query"),
        (status = 401, description = "Missing or wrong token")),
    security(("bearer" = [])))]
pub async fn breakdown(
    Authorized(site): Authorized,
    State(state): State<Arc<AppState>>,
    Query(query): Query<BreakdownQuery>,
) -> Result<Json<Vec<BreakdownRow>>> {
    let selection = query.period.selection(&site.id, now_ms())?;
    let dimension = match Dimension::parse(&query.by) {
        Ok(dimension) => dimension,
        Err(refused) => {
            // A bare tag key, as the SPEC allows, if the period has it.
            let keys = state.store.tag_keys(selection.clone()).await?;
            if !keys.contains(&query.by) {
                let seen =
                    if keys.is_empty() { String::new() } else { format!(" (tag keys here: {})", keys.join(", ")) };
                return Err(AppError::Invalid(format!("{refused}{seen}")));
            }
            Dimension::Tag(query.by.clone())
        }
    };
    let limit = query.limit.unwrap_or(DEFAULT_BREAKDOWN_LIMIT);
    if !(1..=MAX_BREAKDOWN_LIMIT).contains(&limit) {
        return Err(AppError::Invalid(format!("limit: 1-{MAX_BREAKDOWN_LIMIT} groups")));
    }
    let ranking = match dimension {
        Dimension::InpScriptHost => Ranking::PoorInp,
        Dimension::FrustrationTarget => Ranking::Frustrated,
        _ => Ranking::PageViews,
    };
    let scripts = dimension == Dimension::InpScriptHost;
    let groups = query::by_value(&state.store, &state.metrics, &selection, dimension).await?;
    let mut rows = aggregate::breakdown(groups, limit, ranking);
    if scripts {
        aggregate::mark_own_hosts(&mut rows, &site.origins);
    }
    Ok(Json(rows))
}

/// `GET .../dimensions`: what `by=` and the filters take.
#[derive(Serialize, Debug, ToSchema)]
pub struct Dimensions {
    /// Every `by=` value: the named dimensions, then `tag:KEY` for each tag
    /// key of the period's newest page views.
    pub breakdowns: Vec<String>,
    /// The filter parameters (`path=`, ...).
    pub filters: Vec<&'static str>,
    /// The tag keys of the period's newest page views.
    pub tags: Vec<String>,
}

/// `GET /api/v1/sites/{site}/dimensions`: the breakdowns and filters the
/// API takes, with the tag keys of the period, for a UI to offer.
#[utoipa::path(get, path = "/api/v1/sites/{site}/dimensions", tag = "aggregates",
    params(("site" = String, Path, description = "Site id"), PeriodQuery),
    responses((status = 200, body = Dimensions), (status = 400, description = "Invalid query"),
        (status = 401, description = "Missing or wrong token")),
    security(("bearer" = [])))]
pub async fn dimensions(
    Authorized(site): Authorized,
    State(state): State<Arc<AppState>>,
    Query(query): Query<PeriodQuery>,
) -> Result<Json<Dimensions>> {
    let tags = state.store.tag_keys(query.selection(&site.id, now_ms())?).await?;
    let named = NAMED.iter().map(|n| n.name.to_string());
    Ok(Json(Dimensions {
        breakdowns: named.chain(tags.iter().map(|key| Dimension::Tag(key.clone()).name())).collect(),
        filters: NAMED.iter().filter(|n| n.column).map(|n| n.name).collect(),
        tags,
    }))
}

/// Time-series query: the vital, the interval, a period and filters.
#[derive(Deserialize, Debug, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct TimeseriesQuery {
    /// `ttfb`, `fcp`, `lcp` (default), `inp` or `cls` (also `lcp_ms` etc.).
    pub metric: Option<String>,
    /// `hour` or `day` (default: `hour` for periods up to 3 days, else `day`).
    pub interval: Option<String>,
    /// Period and filters.
    #[serde(flatten)]
    #[param(ignore)]
    pub period: PeriodQuery,
}

/// `GET .../timeseries`.
#[derive(Serialize, Debug, ToSchema)]
pub struct Timeseries {
    /// The vital each point describes (`lcp_ms`, ...).
    pub metric: &'static str,
    /// `hour` or `day`.
    pub interval: &'static str,
    /// One point per interval of the period, empty ones included, oldest first.
    pub points: Vec<TimeseriesPoint>,
}

/// `GET /api/v1/sites/{site}/timeseries?metric=&interval=`: per UTC hour or
/// day, page views, leaving rates and the vital's percentiles and shares.
#[utoipa::path(get, path = "/api/v1/sites/{site}/timeseries", tag = "aggregates",
    params(("site" = String, Path, description = "Site id"), TimeseriesQuery, PeriodQuery),
    responses((status = 200, body = Timeseries), (status = 400, description = "Invalid query"),
        (status = 401, description = "Missing or wrong token")),
    security(("bearer" = [])))]
pub async fn timeseries(
    Authorized(site): Authorized,
    State(state): State<Arc<AppState>>,
    Query(query): Query<TimeseriesQuery>,
) -> Result<Json<Timeseries>> {
    let metric = query.metric.as_deref().unwrap_or("lcp");
    let vital = Vital::ALL
        .into_iter()
        .find(|v| v.field() == metric || v.field().trim_end_matches("_ms") == metric)
        .ok_or_else(|| AppError::Invalid(format!("metric: {metric:?} is not ttfb, fcp, lcp, inp or cls")))?;
    let selection = query.period.selection(&site.id, now_ms())?;
    let (interval, step) = match query.interval.as_deref() {
        Some("hour") => ("hour", HOUR_MS),
        Some("day") => ("day", 24 * HOUR_MS),
        None if selection.to_ms - selection.from_ms <= 3 * 24 * HOUR_MS => ("hour", HOUR_MS),
        None => ("day", 24 * HOUR_MS),
        Some(other) => return Err(AppError::Invalid(format!("interval: {other:?} is not hour or day"))),
    };
    let first = selection.from_ms - selection.from_ms.rem_euclid(step);
    if (selection.to_ms - first) / step > MAX_POINTS {
        return Err(AppError::Invalid(format!("period: more than {MAX_POINTS} {interval}s")));
    }
    let mut groups = grouped(&state.store, &state.metrics, &selection, &Grouping::Interval(step)).await?;
    let points = (first..selection.to_ms)
        .step_by(step as usize)
        .map(|start| {
            let stats = groups.remove(&GroupKey::Start(start)).unwrap_or_default();
            TimeseriesPoint::of(start, &stats, vital)
        })
        .collect();
    Ok(Json(Timeseries { metric: vital.field(), interval, points }))
}

/// Most points one time series answers.
pub const MAX_POINTS: i64 = 5000;
