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

use crate::api::aggregate::Dimension;

/// The dimensions rolled up, with their names in the store. `all` (every
/// page view) answers summaries, time series, the abandonment curve and
/// the hour-of-day breakdown.
pub const DIMENSIONS: [(&str, Option<Dimension>); 9] = [
    ("all", None),
    ("path", Some(Dimension::Path)),
    ("device", Some(Dimension::Device)),
    ("browser", Some(Dimension::Browser)),
    ("os", Some(Dimension::Os)),
    ("effective_type", Some(Dimension::EffectiveType)),
    ("nav_type", Some(Dimension::NavType)),
    ("response_status", Some(Dimension::ResponseStatus)),
    ("inp_script_host", Some(Dimension::InpScriptHost)),
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rolled_up_dimensions_are_stored_by_their_names() {
        for (name, dimension) in DIMENSIONS.iter().skip(1) {
            assert_eq!(dimension.as_ref().map(Dimension::name).as_deref(), Some(*name));
        }
    }
}
