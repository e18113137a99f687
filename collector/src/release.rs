//! Releases: deploy markers (`release add`, `POST .../releases`) and which
//! page views a release is, for comparisons and the regression alert.
//!
//! A release's page views are those that carry its name (`data-release`,
//! `palaute.release`), from its marker (or the request's start, whichever
//! is earlier) to the request's end; for a site whose page views carry no
//! release, those from its marker until the next marker (or now). [`sides`] chooses the two sets a comparison puts side by side
//! when none is named: the latest release against the one before; with one
//! marker, the latest release against as long a time before it; with none,
//! the period against the previous period of equal length.

use std::sync::Arc;

use serde::Serialize;
use utoipa::ToSchema;

use crate::error::{AppError, Result};
use crate::grouping::Dimension;
use crate::metrics::Metrics;
use crate::model::format_time;
use crate::rollup::query;
use crate::stats::Stats;
use crate::store::{Release, Selection, Store};

/// Longest release name, characters: the page view's own limit.
pub const MAX_NAME_CHARS: usize = palaute::limits::MAX_RELEASE_CHARS;

/// Refuses a name that is empty, too long or holds control characters.
pub fn check_name(name: &str) -> Result<()> {
    let length = name.chars().count();
    if length == 0 || length > MAX_NAME_CHARS || name.chars().any(char::is_control) || name.trim() != name {
        return Err(AppError::Invalid(format!(
            "release name {name:?}: 1-{MAX_NAME_CHARS} characters, no control characters or surrounding spaces"
        )));
    }
    Ok(())
}

/// Records the deploy of `name` at `at_ms` for `site`.
pub async fn record(store: &Arc<dyn Store>, site: &str, name: &str, at_ms: i64) -> Result<Release> {
    check_name(name)?;
    let release = Release { name: name.to_string(), at_ms };
    store.put_release(site, release.clone()).await?;
    Ok(release)
}

/// One side of a comparison: a release, or a period.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Side {
    /// The page views of a release.
    Release(String),
    /// The page views of `[from_ms, to_ms)`.
    Period {
        /// Start, inclusive.
        from_ms: i64,
        /// End, exclusive.
        to_ms: i64,
        /// How to name it (`previous 7 days`, `before v2`).
        label: String,
    },
}

/// What a side turned out to be.
#[derive(Serialize, Debug, Clone, PartialEq, ToSchema)]
pub struct Described {
    /// How to name it: the release, or the period.
    pub label: String,
    /// The release, when the side is one.
    pub release: Option<String>,
    /// Start of its page views, ISO-8601.
    pub from: String,
    /// End of its page views (exclusive), ISO-8601.
    pub to: String,
    /// Its page views.
    pub page_views: u64,
    /// Start, ms since the Unix epoch.
    pub from_ms: i64,
    /// End, ms since the Unix epoch.
    pub to_ms: i64,
}

/// The period of release `name`: from its marker until the next marker,
/// or `now_ms`; `None` when it has no marker.
pub fn span(releases: &[Release], name: &str, now_ms: i64) -> Option<(i64, i64)> {
    let index = releases.iter().position(|release| release.name == name)?;
    let from = releases[index].at_ms;
    let to = releases.get(index + 1).map_or(now_ms, |next| next.at_ms);
    Some((from, to.max(from)))
}

/// The two sides compared when none is named (see the module docs):
/// `(A, B)`. `period` is the request's period, for a site without markers.
pub fn sides(releases: &[Release], period: (i64, i64), now_ms: i64) -> (Side, Side) {
    match releases {
        [.., before, latest] => (Side::Release(before.name.clone()), Side::Release(latest.name.clone())),
        [latest] => {
            let length = (now_ms - latest.at_ms).max(0);
            let label = format!("before {}", latest.name);
            (
                Side::Period { from_ms: latest.at_ms - length, to_ms: latest.at_ms, label },
                Side::Release(latest.name.clone()),
            )
        }
        [] => {
            let (from, to) = period;
            let days = (to - from) as f64 / 86_400_000.0;
            let (this, previous) = if (days - days.round()).abs() < 0.01 && days >= 1.0 {
                (format!("last {} days", days.round()), format!("the {} days before", days.round()))
            } else {
                ("this period".to_string(), "the period before".to_string())
            };
            let a = Side::Period { from_ms: from - (to - from), to_ms: from, label: previous };
            (a, Side::Period { from_ms: from, to_ms: to, label: this })
        }
    }
}

/// The stats of `side`, with `filters`'s filters, and what it was.
pub async fn read(
    store: &Arc<dyn Store>,
    metrics: &Metrics,
    filters: &Selection,
    releases: &[Release],
    side: &Side,
    now_ms: i64,
) -> Result<(Described, Stats)> {
    let (from_ms, to_ms, label, release, stats) = match side {
        Side::Period { from_ms, to_ms, label } => {
            let selection = Selection { from_ms: *from_ms, to_ms: *to_ms, ..filters.clone() };
            (*from_ms, *to_ms, label.clone(), None, query::total(store, metrics, &selection).await?)
        }
        Side::Release(name) => {
            let marker = span(releases, name, now_ms);
            // The page views that carry the release's name.
            let from = marker.map_or(filters.from_ms, |(from, _)| from.min(filters.from_ms));
            let carried = Selection { from_ms: from, ..filters.clone() }
                .with(Dimension::Release, name)
                .map_err(AppError::Internal)?;
            // The marker's span at the same time: a site whose views carry
            // no release needs it, and waiting for the first answer to ask
            // for it doubles the time to answer.
            let in_span = marker.map(|(from, to)| Selection { from_ms: from, to_ms: to, ..filters.clone() });
            let span_total = async {
                match &in_span {
                    Some(selection) => query::total(store, metrics, selection).await.map(Some),
                    None => Ok(None),
                }
            };
            let (stats, span_stats) = tokio::try_join!(query::total(store, metrics, &carried), span_total)?;
            match (marker, span_stats) {
                // None: the site's views carry no release; its marker's span.
                (Some((from, to)), Some(span_stats)) if stats.page_views == 0 => {
                    (from, to, name.clone(), Some(name.clone()), span_stats)
                }
                (None, _) if stats.page_views == 0 => {
                    return Err(AppError::NotFound(format!(
                        "release {name:?}: no page view carries it and it has no deploy marker"
                    )))
                }
                _ => (from, carried.to_ms, name.clone(), Some(name.clone()), stats),
            }
        }
    };
    let described = Described {
        label,
        release,
        from: format_time(from_ms),
        to: format_time(to_ms),
        page_views: stats.page_views,
        from_ms,
        to_ms,
    };
    Ok((described, stats))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn release(name: &str, at_ms: i64) -> Release {
        Release { name: name.into(), at_ms }
    }

    #[test]
    fn a_release_runs_until_the_next_marker() {
        let releases = [release("v1", 100), release("v2", 500)];
        assert_eq!(span(&releases, "v1", 900), Some((100, 500)));
        assert_eq!(span(&releases, "v2", 900), Some((500, 900)));
        assert_eq!(span(&releases, "v3", 900), None);
    }

    #[test]
    fn the_default_sides_follow_the_markers_there_are() {
        let two = [release("v1", 100), release("v2", 500), release("v3", 700)];
        assert_eq!(sides(&two, (0, 1000), 1000), (Side::Release("v2".into()), Side::Release("v3".into())));
        let (a, b) = sides(&two[..1], (0, 1000), 1000);
        assert_eq!(b, Side::Release("v1".into()));
        assert_eq!(a, Side::Period { from_ms: -800, to_ms: 100, label: "before v1".into() });
        let week = 7 * 86_400_000;
        let (a, b) = sides(&[], (week, 2 * week), 2 * week);
        assert_eq!(a, Side::Period { from_ms: 0, to_ms: week, label: "the 7 days before".into() });
        assert_eq!(b, Side::Period { from_ms: week, to_ms: 2 * week, label: "last 7 days".into() });
    }

    #[test]
    fn names_are_bounded_text() {
        assert!(check_name("v1.4.2").is_ok());
        assert!(check_name("2026-12-06 deploy 7f3a").is_ok());
        for bad in ["", " v1", "v1\n", &"x".repeat(MAX_NAME_CHARS + 1)] {
            assert!(check_name(bad).is_err(), "{bad:?}");
        }
    }
}
