//! `export` and `import`: a site's page views as NDJSON (the API export's
//! format) out of one store and into another, e.g. from the embedded store
//! to ClickHouse. Imported snapshots have `seq` 0, so a page view the target
//! already has (from the live site or an earlier import) is kept.

use std::io::{BufRead, Write};
use std::sync::Arc;

use tokio::sync::mpsc;

use crate::api::period::parse_time;
use crate::error::{AppError, Result};
use crate::model::{now_ms, PageView};
use crate::store::{BulkIngest, Selection, Snapshot, Store};

/// Writes `site`'s page views since `since` to standard output.
pub async fn export(store: &Arc<dyn Store>, site: &str, since: &str) -> Result<()> {
    let now = now_ms();
    let selection = Selection::period(site, parse_time(since, now)?, now + 1);
    let (sink, mut chunks) = mpsc::channel::<Vec<PageView>>(4);
    let reader = {
        let store = store.clone();
        tokio::spawn(async move { store.export(selection, sink).await })
    };
    let mut out = std::io::BufWriter::new(std::io::stdout().lock());
    let mut written = 0u64;
    while let Some(chunk) = chunks.recv().await {
        for view in chunk {
            serde_json::to_writer(&mut out, &view).map_err(|e| AppError::Internal(e.to_string()))?;
            out.write_all(b"\n").map_err(|e| AppError::Internal(format!("cannot write: {e}")))?;
            written += 1;
        }
    }
    out.flush().map_err(|e| AppError::Internal(format!("cannot write: {e}")))?;
    reader.await.map_err(|e| AppError::Internal(e.to_string()))??;
    eprintln!("{written} page views of {site} exported");
    Ok(())
}

/// Reads page views from standard input into the store; stops at the
/// first line that is not one, naming it.
pub async fn import(store: &Arc<dyn Store>) -> Result<()> {
    let mut bulk = BulkIngest::new(store);
    let mut imported = 0u64;
    for (index, line) in std::io::stdin().lock().lines().enumerate() {
        let line = line.map_err(|e| AppError::Invalid(format!("cannot read standard input: {e}")))?;
        if line.trim().is_empty() {
            continue;
        }
        let view = parse(&line).map_err(|e| AppError::Invalid(format!("line {}: {e}", index + 1)))?;
        bulk.add(Snapshot { seq: 0, received_at: view.started_at, view }).await?;
        imported += 1;
    }
    bulk.finish().await?;
    store.settle().await?;
    eprintln!("{imported} page views imported");
    Ok(())
}

/// One exported page view, checked as far as the store relies on it.
fn parse(line: &str) -> std::result::Result<PageView, String> {
    let view: PageView = serde_json::from_str(line).map_err(|e| e.to_string())?;
    if !crate::ingest::validate::is_site_id(&view.site) {
        return Err(format!("site {:?} is not a site id", view.site));
    }
    if view.id.is_empty() || view.id.len() > 64 {
        return Err(format!("id {:?} is not a page-view id", view.id));
    }
    Ok(view)
}

#[cfg(test)]
mod tests {
    use super::parse;

    #[test]
    fn reads_an_exported_line_and_names_what_is_wrong() {
        let line = r#"{"id":"abc","site":"shop","url":"/a","started_at":"2026-11-24T10:00:00.000Z","lcp_ms":1200.5,
            "abandoned":false,"tags":{"ab":"b"}}"#;
        let view = parse(line).unwrap();
        assert_eq!(view.started_at, 1_795_514_400_000);
        assert_eq!(view.lcp_ms, Some(1200.5));
        assert!(parse(r#"{"id":"abc","site":"shop","started_at":"yesterday"}"#).unwrap_err().contains("started_at"));
        assert!(parse(r#"{"id":"","site":"shop","started_at":"2026-11-24T10:00:00Z"}"#).unwrap_err().contains("id"));
        assert!(parse("{").is_err());
    }
}
