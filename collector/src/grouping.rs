//! The grouping vocabulary, on the ground floor: which page views a query
//! covers ([`Selection`], with its filters and the [`Fields`] it reads),
//! how an answer groups them ([`Grouping`], [`GroupKey`]), the
//! [`Dimension`]s and their names, and the lengths of the rollup periods.
//! The HTTP layer parses into these, the planner (`rollup::query`) and the
//! stores answer them; this module imports neither.

use palaute::vitals::script;

use crate::model::PageView;

/// Length of a rollup period: one hour, in ms.
pub const HOUR_MS: i64 = 3_600_000;

/// Length of a day rollup, in ms.
pub const DAY_MS: i64 = 24 * HOUR_MS;

/// Which page views a query covers.
#[derive(Debug, Clone, PartialEq)]
pub struct Selection {
    /// Site id.
    pub site: String,
    /// Start of the period (inclusive), ms since the Unix epoch.
    pub from_ms: i64,
    /// End of the period (exclusive), ms since the Unix epoch.
    pub to_ms: i64,
    /// Only this path (URL without query), when set.
    pub path: Option<String>,
    /// Only this device class, when set.
    pub device: Option<String>,
    /// Only this browser family, when set.
    pub browser: Option<String>,
    /// Only this OS family, when set.
    pub os: Option<String>,
    /// Only this effective connection type, when set.
    pub effective_type: Option<String>,
    /// Only this navigation type, when set.
    pub nav_type: Option<String>,
    /// Which fields of each page view to read.
    pub fields: Fields,
}

/// Which fields of the selected page views a reader needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Fields {
    /// Every field (exports, the feedback list).
    #[default]
    All,
    /// What [`Stats`](crate::stats::Stats) and the rolled-up dimensions
    /// use; the others (id, attribution, referrer, comment, tags) are left
    /// empty, which makes aggregates over raw rows several times cheaper.
    Aggregates,
}

impl Selection {
    /// Every page view of `site` that started in `[from_ms, to_ms)`.
    pub fn period(site: &str, from_ms: i64, to_ms: i64) -> Selection {
        Selection {
            site: site.to_string(),
            from_ms,
            to_ms,
            path: None,
            device: None,
            browser: None,
            os: None,
            effective_type: None,
            nav_type: None,
            fields: Fields::All,
        }
    }

    /// The filters that are set, as `(dimension name, value)`.
    pub fn filters(&self) -> Vec<(&'static str, &str)> {
        [
            ("path", &self.path),
            ("device", &self.device),
            ("browser", &self.browser),
            ("os", &self.os),
            ("effective_type", &self.effective_type),
            ("nav_type", &self.nav_type),
        ]
        .into_iter()
        .filter_map(|(name, value)| value.as_deref().map(|v| (name, v)))
        .collect()
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
    /// A custom tag, by key.
    Tag(String),
}

impl Dimension {
    /// Every dimension but tags, by its name in `by=` (and in `nav_type=`
    /// style filters, where there is one).
    pub const NAMED: [(&'static str, Dimension); 9] = [
        ("path", Dimension::Path),
        ("device", Dimension::Device),
        ("browser", Dimension::Browser),
        ("os", Dimension::Os),
        ("effective_type", Dimension::EffectiveType),
        ("nav_type", Dimension::NavType),
        ("hour_of_day", Dimension::HourOfDay),
        ("response_status", Dimension::ResponseStatus),
        ("inp_script_host", Dimension::InpScriptHost),
    ];

    /// Parses `by=`: a name of [`Dimension::NAMED`], or `tag:KEY`; what it
    /// is not is said in the error, with the accepted values.
    pub fn parse(by: &str) -> std::result::Result<Dimension, String> {
        if let Some((_, dimension)) = Dimension::NAMED.iter().find(|(name, _)| *name == by) {
            return Ok(dimension.clone());
        }
        let names: Vec<&str> = Dimension::NAMED.iter().map(|(name, _)| *name).collect();
        let refused = || format!("by: {by:?} is not one of {} or tag:KEY", names.join(", "));
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
            named => Dimension::NAMED.iter().find(|(_, d)| d == named).map_or_else(String::new, |(n, _)| n.to_string()),
        }
    }

    /// The group `view` falls in; `None` when it has no value.
    pub fn key(&self, view: &PageView) -> Option<String> {
        match self {
            Dimension::Path => Some(view.path().to_string()),
            Dimension::Device => view.device.clone(),
            Dimension::Browser => view.browser.clone(),
            Dimension::Os => view.os.clone(),
            Dimension::EffectiveType => view.effective_type.clone(),
            Dimension::NavType => view.nav_type.clone(),
            Dimension::HourOfDay => Some(((view.started_at.rem_euclid(86_400_000)) / 3_600_000).to_string()),
            Dimension::ResponseStatus => view.response_status.map(|s| s.to_string()),
            Dimension::InpScriptHost => view.inp_script_url.as_deref().and_then(script::host).map(str::to_string),
            Dimension::Tag(key) => view.tags.get(key).cloned(),
        }
    }
}
