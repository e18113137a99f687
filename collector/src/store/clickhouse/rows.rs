//! Page views as rows of the `pageviews` table, in JSONEachRow form.

use serde_json::{Map, Value};

use crate::model::column::{Cell, Kind};
use crate::model::{PageView, COLUMNS};
use crate::store::{Fields, Snapshot};

/// The columns a page view is read back from: the export's [`FIELDS`](crate::model::FIELDS), with
/// `tags` stored as the arrays `tag_keys` and `tag_values`; only those
/// `fields` reads (fewer columns: a raw hour of a busy site in half the time).
pub fn columns(fields: Fields) -> String {
    COLUMNS
        .iter()
        .filter(|c| fields.reads(c))
        .map(|column| if column.kind == Kind::Tags { "tag_keys, tag_values" } else { column.name })
        .collect::<Vec<_>>()
        .join(", ")
}

/// A snapshot as one JSONEachRow line (without the newline): the page
/// view's columns, then `path`, `seq` and `received_at`.
pub fn row(snapshot: &Snapshot) -> String {
    let v = &snapshot.view;
    let mut row = Map::new();
    for (column, cell) in COLUMNS.iter().zip(v.cells()) {
        if column.kind == Kind::Tags {
            row.insert("tag_keys".into(), v.tags.keys().cloned().collect());
            row.insert("tag_values".into(), v.tags.values().cloned().collect());
            continue;
        }
        let value = match cell {
            Cell::Null => Value::Null,
            Cell::Text(text) => Value::String(text),
            Cell::Real(x) => serde_json::Number::from_f64(x).map_or(Value::Null, Value::Number),
            Cell::Int(n) => Value::from(n),
        };
        row.insert(column.name.into(), value);
    }
    row.insert("path".into(), v.path().into());
    row.insert("seq".into(), snapshot.seq.into());
    row.insert("received_at".into(), snapshot.received_at.into());
    Value::Object(row).to_string()
}

/// A page view from a row of [`columns`]; `None` if it is not one.
pub fn view(row: &Value) -> Option<PageView> {
    let row: &Map<String, Value> = row.as_object()?;
    let strings = |key: &str| -> Vec<String> {
        row.get(key)
            .and_then(Value::as_array)
            .map_or_else(Vec::new, |items| items.iter().filter_map(|item| item.as_str().map(str::to_string)).collect())
    };
    // Its start must be there (every read has it); any other column may
    // be absent (not read).
    row.get("started_at").filter(|v| !v.is_null())?;
    let cells = COLUMNS.iter().map(|column| match (column.kind, row.get(column.name)) {
        (Kind::Tags, _) => Cell::Null,
        (_, Some(Value::String(text))) => Cell::Text(text.clone()),
        (_, Some(Value::Number(n))) => n
            .as_i64()
            .filter(|_| column.kind != Kind::Real)
            .map_or_else(|| n.as_f64().map_or(Cell::Null, Cell::Real), Cell::Int),
        (_, Some(Value::Bool(b))) => Cell::Int((*b).into()),
        _ => Cell::Null,
    });
    let mut view = PageView::from_cells(cells);
    view.tags = strings("tag_keys").into_iter().zip(strings("tag_values")).collect();
    Some(view)
}

#[cfg(test)]
mod tests {
    use palaute::wire::LcpSubparts;

    use super::*;

    #[test]
    fn a_page_view_survives_the_row_form() {
        let original = PageView {
            id: "abc".into(),
            site: "shop".into(),
            url: "/cart?x=1".into(),
            started_at: 1_700_000_000_123,
            lcp_ms: Some(2500.5),
            lcp_subparts: Some(LcpSubparts { ttfb: 1.0, load_delay: 2.0, load_duration: 3.0, render_delay: 4.0 }),
            abandoned: Some(false),
            slow_bounce: Some(true),
            response_status: Some(503),
            feedback_comment: Some("<b>'slow'</b> \\ \"x\"".into()),
            tags: [("ab".to_string(), "b".to_string()), ("plan".to_string(), "pro".to_string())].into(),
            ..PageView::default()
        };
        let line = row(&Snapshot { seq: 3, received_at: 5, view: original.clone() });
        let value: Value = serde_json::from_str(&line).unwrap();
        assert_eq!(value["path"], "/cart");
        assert_eq!(value["abandoned"], 0);
        assert_eq!(view(&value), Some(original));
    }
}
