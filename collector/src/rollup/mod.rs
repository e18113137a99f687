//! Rollups: per site, hour and dimension value, the page views' mergeable
//! [`Stats`](crate::stats::Stats), so that a month of a busy site is
//! answered by merging a few thousand small records instead of reading
//! millions of rows.
//!
//! - [`build`]: the background task that (re)builds the rollups of hours
//!   whose page views changed, once the hour is over.
//! - [`query`]: answers a selection by merging the clean rolled-up hours
//!   and folding raw rows for the rest (the current hour, hours changed
//!   since their rollup, the edges of the period, and selections the
//!   rollups cannot answer), so answers are always complete and current.

pub mod build;
pub mod query;

use std::sync::LazyLock;

use crate::grouping::{Dimension, NAMED};
use crate::model::PageView;

/// The rollups' name for every page view together: it answers summaries,
/// time series, the abandonment curve and the hour-of-day breakdown.
pub const ALL: &str = "all";

/// Between the two values of a pair rollup's key.
pub const PAIR_SEPARATOR: &str = "\u{1f}";

/// One kind of rollup row: every page view ([`ALL`]), one dimension's
/// values, or a pair of filters' values (a page on a device type: a
/// summary with two filters reads rollups too).
#[derive(Debug)]
pub struct Rollup {
    /// Its name in the store: `all`, the dimension's name, or the two
    /// filters' names joined by `+` (`path+device`).
    pub name: String,
    /// The dimensions whose values key its rows (none for `all`).
    pub parts: Vec<&'static Dimension>,
}

impl Rollup {
    /// The key of `view`'s row: `None` for `all`, and for a view without
    /// the value (a pair needs both).
    pub fn key(&self, view: &PageView) -> Option<String> {
        match self.parts.as_slice() {
            [] => None,
            [one] => one.key(view),
            parts => parts.iter().map(|d| d.key(view)).collect::<Option<Vec<_>>>().map(|v| v.join(PAIR_SEPARATOR)),
        }
    }
}

/// Every rollup: [`ALL`], each rolled-up dimension of [`NAMED`], then each
/// pair of filters in [`NAMED`]'s order.
pub static ROLLUPS: LazyLock<Vec<Rollup>> = LazyLock::new(|| {
    let all = Rollup { name: ALL.into(), parts: Vec::new() };
    let single =
        NAMED.iter().filter(|n| n.rolled_up).map(|n| Rollup { name: n.name.into(), parts: vec![&n.dimension] });
    let filters: Vec<_> = NAMED.iter().filter(|n| n.column).collect();
    let pairs = filters.iter().enumerate().flat_map(|(i, a)| {
        filters[i + 1..]
            .iter()
            .map(|b| Rollup { name: format!("{}+{}", a.name, b.name), parts: vec![&a.dimension, &b.dimension] })
    });
    std::iter::once(all).chain(single).chain(pairs.collect::<Vec<_>>()).collect()
});

/// The rollup named `name`.
pub fn named(name: &str) -> Option<&'static Rollup> {
    ROLLUPS.iter().find(|r| r.name == name)
}
