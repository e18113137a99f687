//! The aggregate endpoints: `summary`, `abandonment` and `breakdown`, each
//! a one-pass fold over the selected page views.

use std::sync::Arc;

use axum::extract::{Query, State};
use axum::Json;
use serde::Deserialize;
use tokio::sync::mpsc;

use super::aggregate::{
    Abandonment, AbandonmentBuilder, BreakdownBuilder, BreakdownRow, Dimension, Summary, SummaryBuilder,
};
use super::period::PeriodQuery;
use super::Authorized;
use crate::app::AppState;
use crate::error::{AppError, Result};
use crate::model::now_ms;
use crate::model::PageView;

/// Feeds every selected page view (period and filters applied by the store) to `add`.
pub(super) async fn fold<B: Send + 'static>(
    state: &AppState,
    site: &str,
    query: &PeriodQuery,
    mut builder: B,
    add: fn(&mut B, &PageView),
) -> Result<B> {
    let selection = query.selection(site, now_ms())?;
    let (sink, mut rows) = mpsc::channel::<PageView>(1024);
    let store = state.store.clone();
    let export = tokio::spawn(async move { store.export(selection, sink).await });
    while let Some(view) = rows.recv().await {
        add(&mut builder, &view);
    }
    export.await.map_err(|e| AppError::Internal(e.to_string()))??;
    Ok(builder)
}

/// `GET /api/v1/sites/{site}/summary`.
pub async fn summary(
    Authorized(site): Authorized,
    State(state): State<Arc<AppState>>,
    Query(query): Query<PeriodQuery>,
) -> Result<Json<Summary>> {
    let builder = fold(&state, &site.id, &query, SummaryBuilder::default(), SummaryBuilder::add).await?;
    Ok(Json(builder.finish()))
}

/// `GET /api/v1/sites/{site}/abandonment`.
pub async fn abandonment(
    Authorized(site): Authorized,
    State(state): State<Arc<AppState>>,
    Query(query): Query<PeriodQuery>,
) -> Result<Json<Abandonment>> {
    let builder = fold(&state, &site.id, &query, AbandonmentBuilder::default(), AbandonmentBuilder::add).await?;
    Ok(Json(builder.finish()))
}

/// Breakdown query: the dimension, a period and filters.
#[derive(Deserialize, Debug)]
pub struct BreakdownQuery {
    /// `path`, `device`, `browser`, `os`, `effective_type`, `nav_type`,
    /// `hour_of_day`, `response_status`, or `tag:KEY`.
    pub by: String,
    /// Period and filters.
    #[serde(flatten)]
    pub period: PeriodQuery,
}

/// `GET /api/v1/sites/{site}/breakdown?by=`: groups ranked by visitors lost
/// to slowness.
pub async fn breakdown(
    Authorized(site): Authorized,
    State(state): State<Arc<AppState>>,
    Query(query): Query<BreakdownQuery>,
) -> Result<Json<Vec<BreakdownRow>>> {
    let dimension = Dimension::parse(&query.by)
        .ok_or_else(|| AppError::Invalid(format!("by: {:?} is not a dimension", query.by)))?;
    let builder =
        fold(&state, &site.id, &query.period, BreakdownBuilder::new(dimension), BreakdownBuilder::add).await?;
    Ok(Json(builder.finish()))
}
