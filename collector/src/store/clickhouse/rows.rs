//! Page views as rows of the `pageviews` table: written in JSONEachRow
//! form, read back in RowBinary (a third of the bytes, and no text to
//! parse: a raw hour of a busy site read in half the time).

use serde_json::{Map, Value};

use crate::model::column::{Cell, Kind};
use crate::model::{PageView, COLUMNS};
use crate::store::{Fields, Snapshot};

/// The columns a page view is read back from: the export's [`FIELDS`](crate::model::FIELDS), with
/// `tags` stored as the arrays `tag_keys` and `tag_values`; only those
/// `fields` reads (fewer columns: a raw hour of a busy site in half the time).
/// Then [`ROW_END`], which [`BinaryRows`] checks after each row.
pub fn columns(fields: Fields) -> String {
    let mut columns: Vec<&str> = COLUMNS
        .iter()
        .filter(|c| fields.reads(c))
        .map(|column| if column.kind == Kind::Tags { "tag_keys, tag_values" } else { column.name })
        .collect();
    columns.push("toUInt8(170) AS row_end");
    columns.join(", ")
}

/// The byte that ends each row of [`columns`] (170). An error ClickHouse
/// meets after it began to answer is written after the rows as text, and
/// text never has this byte where a row ends: the error is read as one,
/// not as a page view.
pub const ROW_END: u8 = 170;

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

/// Reads page views from a `SELECT` of [`columns`] answered in
/// `FORMAT RowBinary`: each value in its column's ClickHouse type
/// ([`Column::clickhouse`](crate::model::column::Column)), little-endian,
/// strings and arrays after their LEB128 length, `Nullable` after a byte
/// that is 1 for NULL.
pub struct BinaryRows {
    /// [`Fields::columns_read`] of the fields read.
    read: Vec<bool>,
}

impl BinaryRows {
    /// A reader of the columns `fields` reads.
    pub fn new(fields: Fields) -> BinaryRows {
        BinaryRows { read: fields.columns_read() }
    }

    /// The page views of the complete rows at the start of `bytes`, and the
    /// bytes they took (a row cut off at the end waits for the rest).
    pub fn views(&self, bytes: &[u8]) -> Result<(Vec<PageView>, usize), String> {
        let mut input = bytes;
        let mut views = Vec::new();
        loop {
            let before = input;
            match self.view(&mut input) {
                Ok(Some(view)) => views.push(view),
                Ok(None) => return Ok((views, bytes.len() - before.len())),
                Err(error) => return Err(error),
            }
        }
    }

    /// One row; `None` when `input` ends before it does.
    fn view(&self, input: &mut &[u8]) -> Result<Option<PageView>, String> {
        if input.is_empty() {
            return Ok(None);
        }
        let before_row = *input;
        let mut cells = Vec::with_capacity(COLUMNS.len());
        let mut tags = Vec::new();
        for (column, read) in COLUMNS.iter().zip(&self.read) {
            if !read {
                cells.push(Cell::Null);
                continue;
            }
            if column.kind == Kind::Tags {
                let (Some(keys), Some(values)) = (strings(input), strings(input)) else { return Ok(None) };
                tags = keys.into_iter().zip(values).collect();
                cells.push(Cell::Null);
                continue;
            }
            match cell(input, column.clickhouse)? {
                Some(cell) => cells.push(cell),
                None => return Ok(None),
            }
        }
        match take(input, 1) {
            None => return Ok(None),
            Some([ROW_END]) => {}
            Some(_) => {
                return Err(format!("not a row: {}", String::from_utf8_lossy(&before_row[..before_row.len().min(200)])))
            }
        }
        let mut view = PageView::from_cells(cells);
        view.tags = tags.into_iter().collect();
        Ok(Some(view))
    }
}

/// Takes `n` bytes off the front of `input`; `None` if it is shorter.
pub(super) fn take<'a>(input: &mut &'a [u8], n: usize) -> Option<&'a [u8]> {
    if input.len() < n {
        return None;
    }
    let (taken, rest) = input.split_at(n);
    *input = rest;
    Some(taken)
}

/// A LEB128 length.
fn length(input: &mut &[u8]) -> Option<usize> {
    let mut value = 0usize;
    for shift in (0..64).step_by(7) {
        let byte = take(input, 1)?[0];
        value |= usize::from(byte & 0x7f) << shift;
        if byte & 0x80 == 0 {
            return Some(value);
        }
    }
    None
}

/// A `String` value's bytes (its LEB128 length, then the bytes).
pub(super) fn bytes<'a>(input: &mut &'a [u8]) -> Option<&'a [u8]> {
    let n = length(input)?;
    take(input, n)
}

fn string(input: &mut &[u8]) -> Option<String> {
    bytes(input).map(|bytes| String::from_utf8_lossy(bytes).into_owned())
}

fn strings(input: &mut &[u8]) -> Option<Vec<String>> {
    let n = length(input)?;
    (0..n).map(|_| string(input)).collect()
}

/// One value of ClickHouse type `kind`: `Ok(None)` when `input` ends first,
/// an error for a type no column has.
fn cell(input: &mut &[u8], kind: &str) -> Result<Option<Cell>, String> {
    if let Some(inner) = kind.strip_prefix("Nullable(").and_then(|k| k.strip_suffix(')')) {
        return match take(input, 1) {
            None => Ok(None),
            Some([1]) => Ok(Some(Cell::Null)),
            Some(_) => cell(input, inner),
        };
    }
    fn bytes<const N: usize>(input: &mut &[u8]) -> Option<[u8; N]> {
        take(input, N).map(|b| b.try_into().unwrap_or([0; N]))
    }
    Ok(match kind {
        "String" => string(input).map(Cell::Text),
        "Float64" => bytes(input).map(|b| Cell::Real(f64::from_le_bytes(b))),
        "Int64" => bytes(input).map(|b| Cell::Int(i64::from_le_bytes(b))),
        "UInt32" => bytes(input).map(|b| Cell::Int(u32::from_le_bytes(b).into())),
        "UInt16" => bytes(input).map(|b| Cell::Int(u16::from_le_bytes(b).into())),
        "UInt8" => bytes::<1>(input).map(|b| Cell::Int(b[0].into())),
        other => return Err(format!("no reader of the ClickHouse type {other}")),
    })
}

#[cfg(test)]
mod tests {
    use palaute::wire::LcpSubparts;

    use super::*;

    /// The columns of a page view that `fields` reads, in RowBinary, as
    /// ClickHouse sends them.
    fn binary(view: &PageView, fields: Fields) -> Vec<u8> {
        fn text(out: &mut Vec<u8>, text: &str) {
            let mut n = text.len();
            loop {
                let byte = (n & 0x7f) as u8;
                n >>= 7;
                out.push(if n == 0 { byte } else { byte | 0x80 });
                if n == 0 {
                    break;
                }
            }
            out.extend_from_slice(text.as_bytes());
        }
        let mut out = Vec::new();
        for (column, value) in COLUMNS.iter().zip(view.cells()).filter(|(c, _)| fields.reads(c)) {
            if column.kind == Kind::Tags {
                for part in [view.tags.keys().collect::<Vec<_>>(), view.tags.values().collect()] {
                    out.push(part.len() as u8);
                    part.iter().for_each(|item| text(&mut out, item));
                }
                continue;
            }
            let kind = column.clickhouse.strip_prefix("Nullable(").map_or(column.clickhouse, |k| &k[..k.len() - 1]);
            if column.clickhouse.starts_with("Nullable(") {
                out.push(u8::from(value == Cell::Null));
            }
            match (value, kind) {
                (Cell::Null, _) => {}
                (Cell::Text(t), _) => text(&mut out, &t),
                (Cell::Real(x), _) => out.extend_from_slice(&x.to_le_bytes()),
                (Cell::Int(n), "Int64") => out.extend_from_slice(&n.to_le_bytes()),
                (Cell::Int(n), "UInt32") => out.extend_from_slice(&(n as u32).to_le_bytes()),
                (Cell::Int(n), "UInt16") => out.extend_from_slice(&(n as u16).to_le_bytes()),
                (Cell::Int(n), _) => out.push(n as u8),
            }
        }
        out.push(ROW_END);
        out
    }

    #[test]
    fn page_views_are_read_back_from_row_binary_and_wait_for_a_cut_row() {
        let original = PageView {
            id: "abc".into(),
            site: "shop".into(),
            url: "/cart?x=1".into(),
            route: "/cart".into(),
            started_at: 1_700_000_000_123,
            lcp_ms: Some(2500.5),
            lcp_subparts: Some(LcpSubparts { ttfb: 1.0, load_delay: 2.0, load_duration: 3.0, render_delay: 4.0 }),
            abandoned: Some(false),
            slow_bounce: Some(true),
            response_status: Some(503),
            feedback_comment: Some(format!("<b>'slow'</b> \\ \"x\" {}", "é".repeat(100))),
            tags: [("ab".to_string(), "b".to_string()), ("plan".to_string(), "pro".to_string())].into(),
            ..PageView::default()
        };
        let second = PageView { id: "def".into(), cls: Some(0.25), ..original.clone() };
        let mut bytes = binary(&original, Fields::All);
        let first_row = bytes.len();
        bytes.extend(binary(&second, Fields::All));
        let reader = BinaryRows::new(Fields::All);
        assert_eq!(reader.views(&bytes), Ok((vec![original.clone(), second], bytes.len())));
        // A row cut anywhere is left for the next part of the answer.
        for cut in [first_row + 1, first_row + 40, bytes.len() - 1] {
            assert_eq!(reader.views(&bytes[..cut]), Ok((vec![original.clone()], first_row)), "cut at {cut}");
        }
        assert_eq!(reader.views(&[]), Ok((vec![], 0)));
        // An error ClickHouse met after the first row is not read as a page view.
        let mut failed = binary(&original, Fields::All);
        failed.extend_from_slice(b"Code: 241, e.displayText() = DB::Exception: Memory limit (for query) exceeded\n");
        let first = binary(&original, Fields::All).len();
        match reader.views(&failed) {
            Ok((views, used)) => assert!(views == [original.clone()] && used == first, "left for the end: {used}"),
            Err(error) => assert!(error.contains("Memory limit"), "{error}"),
        }
        // Wherever the text stops being readable as a row.
        let mut text = b"Code: 241, e.displayText() = DB::Exception: Memory limit (for query) exceeded\n".to_vec();
        text.resize(400, b'x');
        assert!(reader.views(&text).map_or(true, |(views, _)| views.is_empty()), "never a page view");
    }

    #[test]
    fn a_row_of_fewer_columns_leaves_the_others_absent() {
        let view =
            PageView { started_at: 5, lcp_ms: Some(900.0), device: Some("mobile".into()), ..PageView::default() };
        let full =
            PageView { id: "x".into(), url: "/a".into(), tags: [("k".into(), "v".into())].into(), ..view.clone() };
        let fields = Fields::Stats(&["device"]);
        let bytes = binary(&full, fields);
        assert_eq!(BinaryRows::new(fields).views(&bytes), Ok((vec![view], bytes.len())));
    }
}
