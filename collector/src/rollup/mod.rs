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

use crate::grouping::{Dimension, NAMED};

/// The rollups' name for every page view together: it answers summaries,
/// time series, the abandonment curve and the hour-of-day breakdown.
pub const ALL: &str = "all";

/// The dimensions rolled up, by their names in the store: [`ALL`] (no
/// dimension), then those of [`NAMED`] that are rolled up.
pub fn dimensions() -> impl Iterator<Item = (&'static str, Option<&'static Dimension>)> {
    std::iter::once((ALL, None)).chain(NAMED.iter().filter(|n| n.rolled_up).map(|n| (n.name, Some(&n.dimension))))
}
