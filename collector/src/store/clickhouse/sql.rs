//! The `WHERE` condition of a selection, as ClickHouse SQL: the period and
//! the filters by their columns ([`Selection::filter_columns`]).

use super::http::quote;
use crate::store::Selection;

/// The `WHERE` condition of a selection.
pub fn condition(selection: &Selection) -> String {
    let mut condition = format!(
        "site = {} AND started_at >= {} AND started_at < {}",
        quote(&selection.site),
        selection.from_ms,
        selection.to_ms
    );
    for (column, value) in selection.filter_columns() {
        condition.push_str(&format!(" AND {column} = {}", quote(value)));
    }
    condition
}
