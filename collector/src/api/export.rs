//! `GET /api/v1/sites/{site}/pageviews?format=ndjson|csv`: the raw export,
//! streamed row by row from the store (never buffered whole). An export that
//! fails after its first bytes fails visibly: its body is aborted (an
//! HTTP/1.1 chunked body without its last chunk, the connection closed; an
//! HTTP/2 stream reset), never ended as if complete; counted in
//! `palaute_exports_failed_total`.

use std::sync::Arc;

use axum::body::Body;
use axum::extract::{Query, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use futures_util::{stream, StreamExt};
use serde::Deserialize;
use serde_json::Value;
use tokio::sync::{mpsc, oneshot};
use utoipa::IntoParams;

use super::period::PeriodQuery;
use super::Authorized;
use crate::app::AppState;
use crate::error::{AppError, Result};
use crate::model::now_ms;
use crate::model::{PageView, FIELDS};

/// Export query: a period, filters and the format.
#[derive(Deserialize, Debug, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ExportQuery {
    /// `ndjson` (default) or `csv`.
    pub format: Option<String>,
    /// Period and filters.
    #[serde(flatten)]
    #[param(ignore)]
    pub period: PeriodQuery,
}

#[derive(Clone, Copy)]
enum Format {
    Ndjson,
    Csv,
}

/// Streams the site's page views in the requested format.
#[utoipa::path(get, path = "/api/v1/sites/{site}/pageviews", tag = "export",
    params(("site" = String, Path, description = "Site id"), ExportQuery, PeriodQuery),
    responses(
        (status = 200, description = "One page view per line (NDJSON) or a CSV with a header row; the fields of `PageView`", content_type = "application/x-ndjson", body = PageView),
        (status = 400, description = "Invalid query"), (status = 401, description = "Missing or wrong token")),
    security(("bearer" = [])))]
pub async fn pageviews(
    Authorized(site): Authorized,
    State(state): State<Arc<AppState>>,
    Query(query): Query<ExportQuery>,
) -> Result<Response> {
    let format = match query.format.as_deref() {
        None | Some("ndjson") => Format::Ndjson,
        Some("csv") => Format::Csv,
        Some(other) => return Err(AppError::Invalid(format!("format: {other:?} is not ndjson or csv"))),
    };
    let selection = query.period.selection(&site.id, now_ms())?;
    let (sink, chunks) = mpsc::channel::<Vec<PageView>>(4);
    let (store, metrics) = (state.store.clone(), state.metrics.clone());
    let (finish, finished) = oneshot::channel();
    tokio::spawn(async move {
        let result = store.export(selection, sink).await;
        if let Err(error) = &result {
            metrics.exports_failed.inc();
            tracing::error!(message = "export failed", %error);
        }
        let _ = finish.send(result);
    });
    let header_line = matches!(format, Format::Csv).then(|| csv_line(FIELDS.iter().map(|f| f.to_string())));
    // One body frame per chunk of rows; after the last, the export's
    // outcome: an error aborts the body.
    let lines = stream::unfold((chunks, Some(finished)), move |(mut chunks, finished)| async move {
        if let Some(chunk) = chunks.recv().await {
            let bytes: Vec<u8> = chunk.iter().flat_map(|view| encode(view, format)).collect();
            return Some((Ok::<_, std::io::Error>(bytes), (chunks, finished)));
        }
        match finished?.await {
            Ok(Err(error)) => Some((Err(std::io::Error::other(format!("export failed: {error}"))), (chunks, None))),
            _ => None,
        }
    });
    let body = Body::from_stream(stream::iter(header_line.map(Ok)).chain(lines).fuse());
    let (content_type, extension) = match format {
        Format::Ndjson => ("application/x-ndjson", "ndjson"),
        Format::Csv => ("text/csv; charset=utf-8", "csv"),
    };
    let disposition = format!("attachment; filename=\"{}-pageviews.{extension}\"", site.id);
    Ok(([(header::CONTENT_TYPE, content_type.to_string()), (header::CONTENT_DISPOSITION, disposition)], body)
        .into_response())
}

fn encode(view: &PageView, format: Format) -> Vec<u8> {
    match format {
        Format::Ndjson => {
            let mut line = serde_json::to_vec(view).unwrap_or_default();
            line.push(b'\n');
            line
        }
        Format::Csv => {
            let value = serde_json::to_value(view).unwrap_or_default();
            csv_line(FIELDS.iter().map(|field| match &value[*field] {
                Value::Null => String::new(),
                Value::String(s) => neutralised(s),
                other => other.to_string(),
            }))
        }
    }
}

/// A text cell as a spreadsheet will not run it: one that begins with `=`,
/// `+`, `-`, `@`, a tab or a carriage return gets a leading `'`, as OWASP's
/// CSV injection advice says. Numbers are written as numbers, and NDJSON
/// stays verbatim.
fn neutralised(text: &str) -> String {
    if text.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        let mut cell = String::with_capacity(text.len() + 1);
        cell.push('\'');
        cell.push_str(text);
        cell
    } else {
        text.to_string()
    }
}

fn csv_line(cells: impl Iterator<Item = String>) -> Vec<u8> {
    let mut writer = csv::Writer::from_writer(Vec::new());
    let _ = writer.write_record(cells);
    writer.into_inner().unwrap_or_default()
}
