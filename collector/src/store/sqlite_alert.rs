//! The embedded store's alert tables: hooks added with `alert add`, the
//! keys already alerted (so a re-sent beacon alerts once), and the durable
//! delivery queue with its retry times.

use rusqlite::{params, Connection};

use super::{AlertHook, Delivery};

/// The open incident of a site.
pub fn incident(connection: &mut Connection, site: &str) -> rusqlite::Result<Option<(i64, String)>> {
    use rusqlite::OptionalExtension;
    connection
        .query_row("SELECT opened_at, reason FROM incidents WHERE site = ?1", params![site], |row| {
            Ok((row.get(0)?, row.get(1)?))
        })
        .optional()
}

/// Opens or closes a site's incident.
pub fn set_incident(connection: &mut Connection, site: &str, incident: Option<&(i64, String)>) -> rusqlite::Result<()> {
    match incident {
        Some((opened_at, reason)) => connection.execute(
            "INSERT INTO incidents (site, opened_at, reason) VALUES (?1, ?2, ?3)
             ON CONFLICT (site) DO UPDATE SET opened_at = excluded.opened_at, reason = excluded.reason",
            params![site, opened_at, reason],
        )?,
        None => connection.execute("DELETE FROM incidents WHERE site = ?1", params![site])?,
    };
    Ok(())
}

/// Every stored hook.
pub fn hooks(connection: &mut Connection) -> rusqlite::Result<Vec<AlertHook>> {
    let mut statement = connection.prepare("SELECT id, site, url, format FROM alert_hooks ORDER BY id")?;
    let hooks = statement
        .query_map([], |row| {
            Ok(AlertHook { id: row.get(0)?, site: row.get(1)?, url: row.get(2)?, format: row.get(3)? })
        })?
        .collect();
    hooks
}

/// Stores a hook; its id.
pub fn put_hook(connection: &mut Connection, hook: &AlertHook) -> rusqlite::Result<i64> {
    connection.execute(
        "INSERT INTO alert_hooks (site, url, format) VALUES (?1, ?2, ?3)",
        params![hook.site, hook.url, hook.format],
    )?;
    Ok(connection.last_insert_rowid())
}

/// Removes a hook.
pub fn remove_hook(connection: &mut Connection, id: i64) -> rusqlite::Result<bool> {
    Ok(connection.execute("DELETE FROM alert_hooks WHERE id = ?1", params![id])? > 0)
}

/// Records keys; returns those not recorded before.
pub fn first_alerted(connection: &mut Connection, keys: &[String], now_ms: i64) -> rusqlite::Result<Vec<String>> {
    let transaction = connection.transaction()?;
    let mut fresh = Vec::new();
    {
        let mut insert = transaction.prepare("INSERT OR IGNORE INTO alerted (key, at) VALUES (?1, ?2)")?;
        for key in keys {
            if insert.execute(params![key, now_ms])? > 0 {
                fresh.push(key.clone());
            }
        }
    }
    transaction.commit()?;
    Ok(fresh)
}

/// Queues deliveries, due now.
pub fn queue(connection: &mut Connection, deliveries: &[Delivery], now_ms: i64) -> rusqlite::Result<()> {
    let transaction = connection.transaction()?;
    {
        let mut insert = transaction.prepare(
            "INSERT OR IGNORE INTO alert_queue (key, url, body, attempts, next_at, queued_at) VALUES (?1, ?2, ?3, 0, ?4, ?4)",
        )?;
        for delivery in deliveries {
            insert.execute(params![delivery.key, delivery.url, delivery.body, now_ms])?;
        }
    }
    transaction.commit()
}

/// Deliveries due at `now_ms`.
pub fn due(connection: &mut Connection, now_ms: i64, limit: usize) -> rusqlite::Result<Vec<Delivery>> {
    let mut statement = connection.prepare(
        "SELECT key, url, body, attempts FROM alert_queue WHERE next_at <= ?1 ORDER BY queued_at, key LIMIT ?2",
    )?;
    let due = statement
        .query_map(params![now_ms, limit as i64], |row| {
            Ok(Delivery { key: row.get(0)?, url: row.get(1)?, body: row.get(2)?, attempts: row.get(3)? })
        })?
        .collect();
    due
}

/// Removes a delivered alert, or schedules its retry.
pub fn settle(connection: &mut Connection, key: &str, delivered: bool, retry_at: i64) -> rusqlite::Result<()> {
    if delivered {
        connection.execute("DELETE FROM alert_queue WHERE key = ?1", params![key])?;
    } else {
        connection.execute(
            "UPDATE alert_queue SET attempts = attempts + 1, next_at = ?2 WHERE key = ?1",
            params![key, retry_at],
        )?;
    }
    Ok(())
}
