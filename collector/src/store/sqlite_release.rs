//! The embedded store's deploy markers (`releases`): one row per site and
//! release name.

use rusqlite::{params, Connection};

use super::Release;

/// The markers of `site`, oldest first.
pub fn releases(connection: &mut Connection, site: &str) -> rusqlite::Result<Vec<Release>> {
    let mut statement = connection.prepare("SELECT name, at FROM releases WHERE site = ?1 ORDER BY at, name")?;
    let releases = statement.query_map(params![site], |row| Ok(Release { name: row.get(0)?, at_ms: row.get(1)? }))?;
    releases.collect()
}

/// Records a marker; one of the same name moves to the new time.
pub fn put(connection: &mut Connection, site: &str, release: &Release) -> rusqlite::Result<()> {
    connection.execute(
        "INSERT INTO releases (site, name, at) VALUES (?1, ?2, ?3)
         ON CONFLICT (site, name) DO UPDATE SET at = excluded.at",
        params![site, release.name, release.at_ms],
    )?;
    Ok(())
}
