//! The embedded store as a spool: when page views live in another store
//! (ClickHouse), the local SQLite file keeps each acknowledged snapshot
//! durably until that store has it. The spool is the `pageviews` table
//! itself, written by the same group-committing writer, so a spooled beacon
//! is exactly as durable as an embedded one.

use rusqlite::{params, Connection};

use super::sqlite::{read_view, select_sql, SqliteStore};
use super::{Fields, Snapshot};
use crate::error::Result;
use crate::model::FIELDS;

/// A shipped snapshot: site, page-view id and the sequence number shipped.
pub type Shipped = (String, String, u32);

impl SqliteStore {
    /// The `limit` spooled snapshots of the earliest page views (per site, by start: the `(site, started_at)` index).
    pub async fn spooled(&self, limit: usize) -> Result<Vec<Snapshot>> {
        self.with_connection(move |connection| {
            let sql =
                format!("{} ORDER BY site, started_at LIMIT ?1", select_sql(Fields::All, &["seq", "received_at"]));
            let mut statement = connection.prepare(&sql)?;
            // The extra columns follow the page view's own.
            let (seq, received_at) = (FIELDS.len(), FIELDS.len() + 1);
            let read = Fields::All.columns_read();
            let snapshots = statement
                .query_map([limit as i64], |row| {
                    Ok(Snapshot {
                        view: read_view(row, &read)?,
                        seq: row.get(seq)?,
                        received_at: row.get(received_at)?,
                    })
                })?
                .collect();
            snapshots
        })
        .await
    }

    /// Removes shipped snapshots; one replaced by a newer snapshot meanwhile
    /// stays, to be shipped in turn.
    pub async fn unspool(&self, shipped: Vec<Shipped>) -> Result<()> {
        self.with_connection(move |connection| unspool(connection, &shipped)).await
    }

    /// Snapshots spooled.
    pub async fn spooled_count(&self) -> Result<u64> {
        self.with_connection(|connection| connection.query_row("SELECT count(*) FROM pageviews", [], |row| row.get(0)))
            .await
    }
}

fn unspool(connection: &mut Connection, shipped: &[Shipped]) -> rusqlite::Result<()> {
    let transaction = connection.transaction()?;
    {
        let mut remove =
            transaction.prepare_cached("DELETE FROM pageviews WHERE site = ?1 AND id = ?2 AND seq <= ?3")?;
        for (site, id, seq) in shipped {
            remove.execute(params![site, id, seq])?;
        }
        // The spool's hours are never rolled up here.
        transaction.execute("DELETE FROM dirty_hours", [])?;
    }
    transaction.commit()
}
