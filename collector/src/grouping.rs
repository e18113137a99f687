//! The grouping vocabulary, on the ground floor: which page views a query
//! covers ([`Selection`], with its filters and the [`Fields`] it reads),
//! how an answer groups them ([`Grouping`], [`GroupKey`]), the
//! [`Dimension`]s and their names, and the lengths of the rollup periods.
//! The HTTP layer parses into these, the planner (`rollup::query`) and the
//! stores answer them; this module imports neither.

use palaute::vitals::script;

use crate::model::column::Column;
use crate::model::{PageView, COLUMNS};
use crate::stats::STATS_COLUMNS;

/// Length of a rollup period: one hour, in ms.
pub const HOUR_MS: i64 = 3_600_000;

/// Length of a day rollup, in ms.
pub const DAY_MS: i64 = 24 * HOUR_MS;

/// Length of a week rollup, in ms. Weeks start where the epoch's does (a
/// Thursday, 00:00 UTC): storage spans, never shown as calendar weeks.
pub const WEEK_MS: i64 = 7 * DAY_MS;

/// The value of a rollup's row that holds every value of its hour past the
/// kept ones (`rollup::build`), and of a breakdown's group of them. No
/// dimension's value holds this control character (ingest refuses them).
pub const OTHER: &str = "\u{1e}";

/// Which page views a query covers.
#[derive(Debug, Clone, PartialEq)]
pub struct Selection {
    /// Site id.
    pub site: String,
    /// Start of the period (inclusive), ms since the Unix epoch.
    pub from_ms: i64,
    /// End of the period (exclusive), ms since the Unix epoch.
    pub to_ms: i64,
    /// Only page views with these values, each of a dimension that is a
    /// column ([`Named::column`]), at most one per dimension, in the order
    /// of [`NAMED`].
    pub filters: Vec<(Dimension, String)>,
    /// Which fields of each page view to read.
    pub fields: Fields,
    /// Only page views with a feedback answer (the feedback list): the
    /// stores select them by an index of their own instead of reading every
    /// page view of the period.
    pub answered: bool,
}

/// Which fields of the selected page views a reader needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Fields {
    /// Every field (exports, the feedback list).
    #[default]
    All,
    /// What [`Stats`](crate::stats::Stats) and the rolled-up dimensions
    /// use (a rollup's build); the others (id, attribution, referrer,
    /// comment, tags) are left empty, which makes aggregates over raw rows
    /// several times cheaper.
    Aggregates,
    /// What [`Stats`](crate::stats::Stats) reads
    /// ([`STATS_COLUMNS`](crate::stats::STATS_COLUMNS)) and these columns
    /// (a grouping's key, [`Dimension::key_columns`]): an answer's raw rows.
    Stats(&'static [&'static str]),
}

impl Fields {
    /// Whether a reader of these fields needs `column`.
    pub fn reads(self, column: &Column) -> bool {
        match self {
            Fields::All => true,
            Fields::Aggregates => column.aggregates,
            Fields::Stats(key) => {
                column.name == "started_at" || STATS_COLUMNS.contains(&column.name) || key.contains(&column.name)
            }
        }
    }

    /// [`reads`](Self::reads) for each of [`COLUMNS`], in their order: for
    /// readers of many rows, which ask once per query, not per row.
    pub fn columns_read(self) -> Vec<bool> {
        COLUMNS.iter().map(|column| self.reads(column)).collect()
    }

    /// Whether a reader of these fields needs the rows in the export's
    /// order (start, then id): an answer's raw rows are folded into
    /// statistics, in any order, and a store may save itself the sort.
    pub fn in_order(self) -> bool {
        !matches!(self, Fields::Stats(_))
    }
}

impl Selection {
    /// Every page view of `site` that started in `[from_ms, to_ms)`.
    pub fn period(site: &str, from_ms: i64, to_ms: i64) -> Selection {
        Selection { site: site.to_string(), from_ms, to_ms, filters: Vec::new(), fields: Fields::All, answered: false }
    }

    /// The same, only page views whose `dimension` is `value` as well; a
    /// filter on a dimension that is not a column is refused.
    pub fn with(mut self, dimension: Dimension, value: &str) -> std::result::Result<Selection, String> {
        if dimension.column().is_none() {
            return Err(format!("{} is not a filter; filters are {}", dimension.name(), Named::names(|n| n.column)));
        }
        self.filters.retain(|(d, _)| *d != dimension);
        self.filters.push((dimension, value.to_string()));
        self.filters.sort_by_key(|(d, _)| NAMED.iter().position(|n| n.dimension == *d));
        Ok(self)
    }

    /// The filters, as `(column, value)`.
    pub fn filter_columns(&self) -> impl Iterator<Item = (&'static str, &str)> {
        self.filters.iter().filter_map(|(dimension, value)| Some((dimension.column()?, value.as_str())))
    }
}

/// How an answer groups page views.
#[derive(Debug, Clone, PartialEq)]
pub enum Grouping {
    /// All together (summary, abandonment curve).
    Total,
    /// By a dimension's value (breakdown).
    By(Dimension),
    /// By UTC intervals of this many ms, a multiple of an hour (time series).
    Interval(i64),
}

/// A group's key.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub enum GroupKey {
    /// The one group of [`Grouping::Total`].
    Total,
    /// A dimension's value (`None`: page views without one).
    Value(Option<String>),
    /// An interval's start, ms since the Unix epoch.
    Start(i64),
}

/// A dimension page views can be broken down by.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Dimension {
    /// URL path (without query).
    Path,
    /// The page's route (its kind: `/products/*`).
    Route,
    /// The site's release the view saw.
    Release,
    /// Device class.
    Device,
    /// Browser family.
    Browser,
    /// OS family.
    Os,
    /// Effective connection type.
    EffectiveType,
    /// Navigation type.
    NavType,
    /// UTC hour of the page view's start (0-23).
    HourOfDay,
    /// HTTP status of the navigation.
    ResponseStatus,
    /// The host of the longest script of INP's interaction.
    InpScriptHost,
    /// The first element of a rage or dead click.
    FrustrationTarget,
    /// A custom tag, by key.
    Tag(String),
}

/// A dimension with a name: what the collector knows of it.
#[derive(Debug)]
pub struct Named {
    /// Its name in `by=`, in filters and in the rollups.
    pub name: &'static str,
    /// The dimension.
    pub dimension: Dimension,
    /// Whether a page-view column of the same name holds its value; these
    /// are the filters (`path=`, `device=`, ...).
    pub column: bool,
    /// Whether the hourly rollups keep it (hour of day is read off the
    /// rollups' hours, tags are not rolled up).
    pub rolled_up: bool,
    /// What it is, for the API's description.
    pub description: &'static str,
}

/// Every dimension but tags: the one list of their names.
pub static NAMED: [Named; 12] = [
    Named {
        name: "path",
        dimension: Dimension::Path,
        column: true,
        rolled_up: true,
        description: "URL path (without query)",
    },
    Named {
        name: "route",
        dimension: Dimension::Route,
        column: true,
        rolled_up: true,
        description: "The page's route, its kind (`/products/*`): named by the page, declared, or derived",
    },
    Named {
        name: "release",
        dimension: Dimension::Release,
        column: true,
        rolled_up: true,
        description: "The site's release the view saw (`data-release`, `palaute.release`)",
    },
    Named {
        name: "device",
        dimension: Dimension::Device,
        column: true,
        rolled_up: true,
        description: "Device class: mobile, tablet, desktop",
    },
    Named {
        name: "browser",
        dimension: Dimension::Browser,
        column: true,
        rolled_up: true,
        description: "Browser family",
    },
    Named { name: "os", dimension: Dimension::Os, column: true, rolled_up: true, description: "OS family" },
    Named {
        name: "effective_type",
        dimension: Dimension::EffectiveType,
        column: true,
        rolled_up: true,
        description: "Effective connection type: slow-2g, 2g, 3g, 4g",
    },
    Named {
        name: "nav_type",
        dimension: Dimension::NavType,
        column: true,
        rolled_up: true,
        description: "Navigation type",
    },
    Named {
        name: "hour_of_day",
        dimension: Dimension::HourOfDay,
        column: false,
        rolled_up: false,
        description: "UTC hour of the page view's start (0-23)",
    },
    Named {
        name: "response_status",
        dimension: Dimension::ResponseStatus,
        column: false,
        rolled_up: true,
        description: "HTTP status of the navigation",
    },
    Named {
        name: "inp_script_host",
        dimension: Dimension::InpScriptHost,
        column: false,
        rolled_up: true,
        description: "Host of the longest script of INP's interaction (ranked by page views with poor INP)",
    },
    Named {
        name: "frustration_target",
        dimension: Dimension::FrustrationTarget,
        column: false,
        rolled_up: true,
        description: "The first element of a rage or dead click (ranked by frustrated page views)",
    },
];

impl Named {
    /// The names of those for which `which` holds, comma-separated.
    pub fn names(which: impl Fn(&Named) -> bool) -> String {
        NAMED.iter().filter(|n| which(n)).map(|n| n.name).collect::<Vec<_>>().join(", ")
    }
}

impl Dimension {
    /// Its entry in [`NAMED`]; `None` for a tag.
    pub fn named(&self) -> Option<&'static Named> {
        NAMED.iter().find(|n| n.dimension == *self)
    }

    /// The columns its [`key`](Self::key) reads (besides `started_at`).
    pub fn key_columns(&self) -> &'static [&'static str] {
        match self {
            Dimension::Path => &["url"],
            // A row stored before routes existed is read with the route
            // derived from its URL (`PageView::fill_stored_before`).
            Dimension::Route => &["route", "url"],
            Dimension::Release => &["release"],
            // A filter's value is its column of the same name.
            Dimension::Device | Dimension::Browser | Dimension::Os | Dimension::EffectiveType | Dimension::NavType => {
                self.named().map_or(&[], |n| std::slice::from_ref(&n.name))
            }
            Dimension::HourOfDay => &[],
            Dimension::ResponseStatus => &["response_status"],
            Dimension::InpScriptHost => &["inp_script_url"],
            Dimension::FrustrationTarget => &["frustration_target"],
            Dimension::Tag(_) => &["tags"],
        }
    }

    /// The page-view column that holds its value, for a filter.
    pub fn column(&self) -> Option<&'static str> {
        self.named().filter(|n| n.column).map(|n| n.name)
    }

    /// Parses `by=`: a name of [`NAMED`], or `tag:KEY`; what it
    /// is not is said in the error, with the accepted values.
    pub fn parse(by: &str) -> std::result::Result<Dimension, String> {
        if let Some(named) = NAMED.iter().find(|n| n.name == by) {
            return Ok(named.dimension.clone());
        }
        let refused = || format!("by: {by:?} is not one of {} or tag:KEY", Named::names(|_| true));
        let key = by.strip_prefix("tag:").ok_or_else(refused)?;
        if key.is_empty() || key.chars().count() > palaute::limits::MAX_TAG_KEY_CHARS {
            return Err(format!("by: a tag key is 1-{} characters", palaute::limits::MAX_TAG_KEY_CHARS));
        }
        Ok(Dimension::Tag(key.to_string()))
    }

    /// Its name in `by=` (`tag:KEY` for a tag).
    pub fn name(&self) -> String {
        match self {
            Dimension::Tag(key) => format!("tag:{key}"),
            named => named.named().map_or_else(String::new, |n| n.name.to_string()),
        }
    }

    /// The group `view` falls in; `None` when it has no value.
    pub fn key(&self, view: &PageView) -> Option<String> {
        match self {
            Dimension::Path => Some(view.path().to_string()),
            Dimension::Route => Some(view.route.clone()),
            Dimension::Release => view.release.clone(),
            Dimension::Device => view.device.clone(),
            Dimension::Browser => view.browser.clone(),
            Dimension::Os => view.os.clone(),
            Dimension::EffectiveType => view.effective_type.clone(),
            Dimension::NavType => view.nav_type.clone(),
            Dimension::HourOfDay => Some(((view.started_at.rem_euclid(86_400_000)) / 3_600_000).to_string()),
            Dimension::ResponseStatus => view.response_status.map(|s| s.to_string()),
            Dimension::InpScriptHost => view.inp_script_url.as_deref().and_then(script::host).map(str::to_string),
            Dimension::FrustrationTarget => view.frustration_target.clone(),
            Dimension::Tag(key) => view.tags.get(key).cloned(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::column::Cell;

    /// `view` with only the columns `fields` reads.
    fn stripped(view: &PageView, fields: Fields) -> PageView {
        let cells = COLUMNS.iter().zip(view.cells()).map(|(c, cell)| if fields.reads(c) { cell } else { Cell::Null });
        let mut kept = PageView::from_cells(cells);
        if fields.reads(COLUMNS.iter().find(|c| c.name == "tags").unwrap()) {
            kept.tags = view.tags.clone();
        }
        kept
    }

    #[test]
    fn stats_and_each_key_read_only_their_columns() {
        let mut rng = fastrand::Rng::with_seed(3);
        let views: Vec<PageView> =
            (0..3000).map(|i| crate::generate::page_view(&mut rng, "s", 1_700_000_000_000 + i * 60_000)).collect();
        let (mut full, mut narrow) = (crate::stats::Stats::default(), crate::stats::Stats::default());
        for view in &views {
            full.add(view);
            narrow.add(&stripped(view, Fields::Stats(&[])));
        }
        assert_eq!(full.encode(), narrow.encode(), "Stats::add reads STATS_COLUMNS only");
        let dimensions = NAMED.iter().map(|n| n.dimension.clone()).chain([Dimension::Tag("ab".into())]);
        for dimension in dimensions {
            for view in &views {
                let kept = stripped(view, Fields::Stats(dimension.key_columns()));
                assert_eq!(dimension.key(&kept), dimension.key(view), "{dimension:?} reads its key_columns");
            }
        }
    }

    #[test]
    fn dimensions_parse_from_their_names_and_nothing_else() {
        for named in &NAMED {
            assert_eq!(Dimension::parse(named.name).as_ref(), Ok(&named.dimension));
            assert_eq!(named.dimension.name(), named.name);
            assert_eq!(named.dimension.column().is_some(), named.column);
        }
        assert_eq!(Dimension::parse("tag:ab"), Ok(Dimension::Tag("ab".into())));
        assert_eq!(Dimension::Tag("ab".into()).name(), "tag:ab");
        let refused = Dimension::parse("nonsense").unwrap_err();
        assert!(refused.contains("nonsense") && refused.contains("frustration_target or tag:KEY"), "{refused}");
        assert!(Dimension::parse("tag:").is_err() && Dimension::parse(&format!("tag:{}", "k".repeat(41))).is_err());
    }

    #[test]
    fn only_columns_filter_once_each_in_one_order() {
        let selection = Selection::period("s", 0, 1).with(Dimension::Device, "mobile").unwrap();
        let selection = selection.with(Dimension::Path, "/a").unwrap().with(Dimension::Device, "tablet").unwrap();
        assert_eq!(selection.filter_columns().collect::<Vec<_>>(), [("path", "/a"), ("device", "tablet")]);
        assert!(Selection::period("s", 0, 1).with(Dimension::HourOfDay, "3").is_err());
        assert!(Selection::period("s", 0, 1).with(Dimension::Tag("ab".into()), "x").is_err());
    }
}
