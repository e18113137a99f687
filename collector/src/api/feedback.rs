//! `GET /api/v1/sites/{site}/feedback`: the visitors' answers, newest first,
//! each with the metrics of the page view it was given on.

use std::collections::VecDeque;
use std::sync::Arc;

use axum::extract::{Query, State};
use axum::Json;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::period::PeriodQuery;
use super::Authorized;
use crate::app::AppState;
use crate::error::{AppError, Result};
use crate::model::{now_ms, PageView};
use crate::rollup::query::fold_raw;
use crate::stats::is_satisfied;
use crate::store::Selection;

/// Answers listed when `limit` is absent.
pub const DEFAULT_LIMIT: usize = 100;
/// Most answers one request lists.
pub const MAX_LIMIT: usize = 1000;

/// Feedback query: a period, page-view filters and answer filters.
#[derive(Deserialize, Debug, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct FeedbackQuery {
    /// Only this rating.
    pub rating: Option<u8>,
    /// `true`: only answers with a comment; `false`: only those without.
    pub comment: Option<bool>,
    /// How many answers to list (newest first), at most [`MAX_LIMIT`].
    pub limit: Option<usize>,
    /// Period and filters.
    #[serde(flatten)]
    #[param(ignore)]
    pub period: PeriodQuery,
}

/// The answers of a period.
#[derive(Serialize, Debug, ToSchema)]
pub struct FeedbackList {
    /// Answers matching the query (all of them, not only those listed).
    pub total: u64,
    /// The newest `limit` answers, newest first.
    pub feedback: Vec<Answer>,
}

/// One answer: the full page view it was given on (`feedback_rating`,
/// `feedback_scale`, `feedback_comment`, `feedback_at_ms` and the view's
/// metrics), and whether it is a satisfied one.
#[derive(Serialize, Debug, ToSchema)]
pub struct Answer {
    /// The page view.
    #[serde(flatten)]
    pub view: PageView,
    /// Thumbs up, or 4-5 of 5 ([`is_satisfied`], as CSAT counts it).
    pub satisfied: bool,
}

/// Keeps the newest matching answers while page views stream by, oldest first.
struct Newest {
    rating: Option<u8>,
    comment: Option<bool>,
    limit: usize,
    total: u64,
    kept: VecDeque<PageView>,
}

impl Newest {
    fn add(&mut self, view: &PageView) {
        let Some(rating) = view.feedback_rating else {
            return;
        };
        if self.rating.is_some_and(|r| r != rating)
            || self.comment.is_some_and(|c| c != view.feedback_comment.is_some())
        {
            return;
        }
        self.total += 1;
        if self.kept.len() == self.limit {
            self.kept.pop_front();
        }
        if self.limit > 0 {
            self.kept.push_back(view.clone());
        }
    }
}

/// Lists feedback with its page views.
#[utoipa::path(get, path = "/api/v1/sites/{site}/feedback", tag = "aggregates",
    params(("site" = String, Path, description = "Site id"), FeedbackQuery, PeriodQuery),
    responses((status = 200, body = FeedbackList), (status = 400, description = "Invalid query"),
        (status = 401, description = "Missing or wrong token")),
    security(("bearer" = [])))]
pub async fn feedback(
    Authorized(site): Authorized,
    State(state): State<Arc<AppState>>,
    Query(query): Query<FeedbackQuery>,
) -> Result<Json<FeedbackList>> {
    let limit = query.limit.unwrap_or(DEFAULT_LIMIT);
    if limit > MAX_LIMIT {
        return Err(AppError::Invalid(format!("limit: at most {MAX_LIMIT}")));
    }
    let mut newest = Newest { rating: query.rating, comment: query.comment, limit, total: 0, kept: VecDeque::new() };
    let selection = Selection { answered: true, ..query.period.selection(&site.id, now_ms())? };
    fold_raw(&state.store, selection, |view| newest.add(view)).await?;
    let answer = |view: PageView| {
        let satisfied =
            view.feedback_scale.as_deref().zip(view.feedback_rating).is_some_and(|(s, r)| is_satisfied(s, r));
        Answer { view, satisfied }
    };
    Ok(Json(FeedbackList { total: newest.total, feedback: newest.kept.into_iter().rev().map(answer).collect() }))
}
