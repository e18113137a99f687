//! The page-view row's one definition. [`page_view!`](crate::model) lists
//! the fields of [`PageView`](crate::model::PageView) once, with their
//! types; everything a store or the export needs is derived from that list:
//! the struct itself (serde, OpenAPI), the export's column order
//! ([`FIELDS`](crate::model::FIELDS)), each column's storage
//! ([`COLUMNS`](crate::model::COLUMNS): kind, nullability, the ClickHouse
//! type, whether aggregates read it), and the row as store-neutral
//! [`Cell`]s in both directions. Adding a field is one line there and a
//! migration in each store; the schema tests fail until the migrations
//! add its column.

use std::collections::BTreeMap;

use palaute::wire::{InpSubparts, LcpSubparts};

/// One stored value, as every store can hold it.
#[derive(Debug, Clone, PartialEq)]
pub enum Cell {
    /// No value.
    Null,
    /// Text (JSON for nested values and tags).
    Text(String),
    /// A number.
    Real(f64),
    /// A whole number (booleans as 0 and 1).
    Int(i64),
}

/// How a column is stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// Text.
    Text,
    /// A number.
    Real,
    /// A whole number.
    Int,
    /// A boolean, stored as 0 or 1.
    Flag,
    /// A nested object, stored as its JSON.
    Json,
    /// The custom dimensions: a JSON object in SQLite, two arrays in ClickHouse.
    Tags,
}

/// Whether aggregates read a column: those they do not ([`Use::Detail`]:
/// ids, selectors, free text) are left out of their scans.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Use {
    /// Aggregates read it.
    Read,
    /// Only the export and page-view details read it.
    Detail,
}

/// One column of the page-view row.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Column {
    /// Its name, as exported and stored.
    pub name: &'static str,
    /// How it is stored.
    pub kind: Kind,
    /// Whether it may be absent.
    pub nullable: bool,
    /// Its ClickHouse type.
    pub clickhouse: &'static str,
    /// Whether aggregates read it.
    pub aggregates: bool,
}

impl Column {
    /// Its SQLite type.
    pub fn sqlite(&self) -> &'static str {
        match self.kind {
            Kind::Text | Kind::Json | Kind::Tags => "TEXT",
            Kind::Real => "REAL",
            Kind::Int | Kind::Flag => "INTEGER",
        }
    }
}

/// A type that is one column's value.
pub trait Value: Sized {
    /// How it is stored.
    const KIND: Kind;
    /// Whether it may be absent.
    const NULLABLE: bool;
    /// Its ClickHouse type.
    const CLICKHOUSE: &'static str;
    /// The value as a cell.
    fn to_cell(&self) -> Cell;
    /// The value of a cell; what cannot be read is absent (or empty).
    fn from_cell(cell: Cell) -> Self;
}

impl Value for String {
    const KIND: Kind = Kind::Text;
    const NULLABLE: bool = false;
    const CLICKHOUSE: &'static str = "String";
    fn to_cell(&self) -> Cell {
        Cell::Text(self.clone())
    }
    fn from_cell(cell: Cell) -> Self {
        Option::<String>::from_cell(cell).unwrap_or_default()
    }
}

impl Value for Option<String> {
    const KIND: Kind = Kind::Text;
    const NULLABLE: bool = true;
    const CLICKHOUSE: &'static str = "Nullable(String)";
    fn to_cell(&self) -> Cell {
        self.clone().map_or(Cell::Null, Cell::Text)
    }
    fn from_cell(cell: Cell) -> Self {
        match cell {
            Cell::Text(text) => Some(text),
            _ => None,
        }
    }
}

impl Value for i64 {
    const KIND: Kind = Kind::Int;
    const NULLABLE: bool = false;
    const CLICKHOUSE: &'static str = "Int64";
    fn to_cell(&self) -> Cell {
        Cell::Int(*self)
    }
    fn from_cell(cell: Cell) -> Self {
        whole(cell).unwrap_or_default()
    }
}

impl Value for Option<f64> {
    const KIND: Kind = Kind::Real;
    const NULLABLE: bool = true;
    const CLICKHOUSE: &'static str = "Nullable(Float64)";
    fn to_cell(&self) -> Cell {
        self.map_or(Cell::Null, Cell::Real)
    }
    fn from_cell(cell: Cell) -> Self {
        match cell {
            Cell::Real(x) => Some(x),
            Cell::Int(n) => Some(n as f64),
            Cell::Text(text) => text.parse().ok(),
            Cell::Null => None,
        }
    }
}

impl Value for Option<bool> {
    const KIND: Kind = Kind::Flag;
    const NULLABLE: bool = true;
    const CLICKHOUSE: &'static str = "Nullable(UInt8)";
    fn to_cell(&self) -> Cell {
        self.map_or(Cell::Null, |b| Cell::Int(b.into()))
    }
    fn from_cell(cell: Cell) -> Self {
        whole(cell).map(|n| n != 0)
    }
}

/// A whole number from a cell (ClickHouse may quote 64-bit integers).
fn whole(cell: Cell) -> Option<i64> {
    match cell {
        Cell::Int(n) => Some(n),
        Cell::Real(x) if x.fract() == 0.0 => Some(x as i64),
        Cell::Text(text) => text.parse().ok(),
        _ => None,
    }
}

macro_rules! whole_numbers {
    ($($ty:ty => $clickhouse:literal),*) => {
        $(impl Value for Option<$ty> {
            const KIND: Kind = Kind::Int;
            const NULLABLE: bool = true;
            const CLICKHOUSE: &'static str = $clickhouse;
            fn to_cell(&self) -> Cell {
                self.map_or(Cell::Null, |n| Cell::Int(n.into()))
            }
            fn from_cell(cell: Cell) -> Self {
                whole(cell).and_then(|n| <$ty>::try_from(n).ok())
            }
        })*
    };
}
whole_numbers!(u8 => "Nullable(UInt8)", u16 => "Nullable(UInt16)", u32 => "Nullable(UInt32)");

macro_rules! nested {
    ($($ty:ty),*) => {
        $(impl Value for Option<$ty> {
            const KIND: Kind = Kind::Json;
            const NULLABLE: bool = true;
            const CLICKHOUSE: &'static str = "Nullable(String)";
            fn to_cell(&self) -> Cell {
                self.and_then(|v| serde_json::to_string(&v).ok()).map_or(Cell::Null, Cell::Text)
            }
            fn from_cell(cell: Cell) -> Self {
                Option::<String>::from_cell(cell).and_then(|text| serde_json::from_str(&text).ok())
            }
        })*
    };
}
nested!(LcpSubparts, InpSubparts);

impl Value for BTreeMap<String, String> {
    const KIND: Kind = Kind::Tags;
    const NULLABLE: bool = false;
    const CLICKHOUSE: &'static str = "Array(String)";
    fn to_cell(&self) -> Cell {
        Cell::Text(serde_json::to_string(self).unwrap_or_else(|_| "{}".into()))
    }
    fn from_cell(cell: Cell) -> Self {
        Option::<String>::from_cell(cell).and_then(|text| serde_json::from_str(&text).ok()).unwrap_or_default()
    }
}

/// Declares [`PageView`](crate::model::PageView) from its list of fields
/// (`name: Type => Read | Detail`, doc comments and attributes kept), with
/// `FIELDS`, `COLUMNS` and the row as cells.
macro_rules! page_view {
    ($($(#[$meta:meta])* $field:ident: $ty:ty => $use:ident,)*) => {
        /// One page view, in the export's field order. Reads back from the
        /// export's NDJSON (`import`).
        #[derive(Serialize, Deserialize, Debug, Clone, Default, PartialEq, utoipa::ToSchema)]
        #[serde(default)]
        pub struct PageView {
            $($(#[$meta])* pub $field: $ty,)*
        }

        /// The export's columns, in order (CSV header).
        pub const FIELDS: [&str; [$(stringify!($field)),*].len()] = [$(stringify!($field)),*];

        /// How each of [`FIELDS`] is stored, in the same order.
        pub const COLUMNS: [Column; FIELDS.len()] = [$(Column {
            name: stringify!($field),
            kind: <$ty as Value>::KIND,
            nullable: <$ty as Value>::NULLABLE,
            clickhouse: <$ty as Value>::CLICKHOUSE,
            aggregates: matches!(Use::$use, Use::Read),
        }),*];

        impl PageView {
            /// The row's cells, in the order of [`FIELDS`].
            pub fn cells(&self) -> Vec<Cell> {
                vec![$(self.$field.to_cell()),*]
            }

            /// A page view from cells in the order of [`FIELDS`] (missing
            /// ones read as absent).
            pub fn from_cells(cells: impl IntoIterator<Item = Cell>) -> PageView {
                let mut cells = cells.into_iter();
                let mut view = PageView { $($field: <$ty as Value>::from_cell(cells.next().unwrap_or(Cell::Null)),)* };
                view.fill_stored_before();
                view
            }
        }
    };
}
pub(crate) use page_view;
