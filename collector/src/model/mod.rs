//! The stored page view: the fields of the product contract (SPEC §3), as
//! exported and as every store keeps them. Built from a validated beacon by
//! `ingest`; the wire format itself lives in the `palaute` crate.

use std::collections::BTreeMap;

use palaute::wire::{InpSubparts, LcpSubparts};
use serde::{Deserialize, Serialize};

pub mod column;

use column::{page_view, Cell, Column, Use, Value};

page_view! {
    /// Random page-view id.
    id: String => Detail,
    /// Site id.
    site: String => Read,
    /// Path and query.
    url: String => Read,
    /// The page's kind (`/products/*`): the page's own name for it, else the
    /// site's declared pattern, else derived from the path (`crate::routes`).
    /// Never empty once stored (rows stored before it existed read the
    /// path's derived route).
    route: String => Read,
    /// The site's release the view saw, if the page named it.
    release: Option<String> => Read,
    /// Host of another site that referred the visitor.
    referrer_host: Option<String> => Detail,
    /// Start of the navigation, ms since the Unix epoch (exported as ISO-8601).
    #[serde(serialize_with = "iso8601", deserialize_with = "from_iso8601")]
    #[schema(value_type = String, format = DateTime)]
    started_at: i64 => Read,
    /// `navigate`, `reload`, `back_forward`, `back_forward_cache`, `prerender`, `restore`.
    nav_type: Option<String> => Read,
    /// Time to first byte, ms.
    ttfb_ms: Option<f64> => Read,
    /// First contentful paint, ms.
    fcp_ms: Option<f64> => Read,
    /// Largest contentful paint, ms.
    lcp_ms: Option<f64> => Read,
    /// Interaction to next paint, ms.
    inp_ms: Option<f64> => Read,
    /// Cumulative layout shift.
    cls: Option<f64> => Read,
    /// `DOMContentLoaded` start, ms.
    dcl_ms: Option<f64> => Read,
    /// `load` event start, ms.
    load_ms: Option<f64> => Read,
    /// Selector of the LCP element.
    lcp_element: Option<String> => Detail,
    /// URL of the LCP resource.
    lcp_url: Option<String> => Detail,
    /// LCP sub-parts.
    #[schema(value_type = Option<Object>)]
    lcp_subparts: Option<LcpSubparts> => Detail,
    /// Selector of the INP target.
    inp_target: Option<String> => Detail,
    /// INP sub-parts.
    #[schema(value_type = Option<Object>)]
    inp_subparts: Option<InpSubparts> => Detail,
    /// The longest script during the INP interaction: its URL without query and fragment.
    inp_script_url: Option<String> => Read,
    /// Its function name.
    inp_script_function: Option<String> => Detail,
    /// How it was invoked (`event-listener`, `user-callback`, ...).
    inp_script_invoker: Option<String> => Detail,
    /// How long it ran during the interaction, ms.
    inp_script_ms: Option<f64> => Detail,
    /// The part of INP it started in: `input_delay`, `processing` or `presentation`.
    inp_script_subpart: Option<String> => Detail,
    /// HTTP status of the navigation response.
    response_status: Option<u16> => Read,
    /// Visible time, ms.
    visible_ms: Option<f64> => Read,
    /// Time from navigation start to leaving, ms.
    left_at_ms: Option<f64> => Read,
    /// Left before the page finished loading.
    abandoned: Option<bool> => Read,
    /// `before_fcp`, `before_lcp` or `before_load`.
    abandon_phase: Option<String> => Detail,
    /// Slow load, then left within the dwell.
    slow_bounce: Option<bool> => Read,
    /// `desktop`, `mobile`, `tablet`, `bot` or `other`.
    device: Option<String> => Read,
    /// Browser family.
    browser: Option<String> => Read,
    /// Operating system family.
    os: Option<String> => Read,
    /// Effective connection type.
    effective_type: Option<String> => Read,
    /// Downlink, Mbit/s.
    downlink_mbps: Option<f64> => Read,
    /// Round-trip time, ms.
    rtt_ms: Option<f64> => Read,
    /// Data saver on.
    save_data: Option<bool> => Read,
    /// Device memory, GiB.
    device_memory: Option<f64> => Read,
    /// Logical CPU cores.
    cpu_cores: Option<u16> => Read,
    /// Uncaught errors and failed resource loads.
    errors: Option<u32> => Read,
    /// Rage clicks: bursts of rapid clicks on one spot of one element.
    rage_clicks: Option<u32> => Read,
    /// Dead clicks: clicks on a control after which nothing happened.
    dead_clicks: Option<u32> => Read,
    /// Selector of the first element of a rage or dead click.
    frustration_target: Option<String> => Read,
    /// When that frustration began, ms from the page view's start.
    frustration_at_ms: Option<f64> => Detail,
    /// Feedback rating.
    feedback_rating: Option<u8> => Read,
    /// `thumbs` or `five`.
    feedback_scale: Option<String> => Read,
    /// Feedback comment, plain text.
    feedback_comment: Option<String> => Detail,
    /// When feedback was given, ms from the page view's start.
    feedback_at_ms: Option<f64> => Read,
    /// What made the prompt ask: `slow`, `interaction`, `frustration`,
    /// `returned` or `api`.
    feedback_trigger: Option<String> => Detail,
    /// Custom dimensions.
    tags: BTreeMap<String, String> => Detail,
}

impl PageView {
    /// The URL's path, without the query.
    pub fn path(&self) -> &str {
        self.url.split('?').next().unwrap_or_default()
    }

    /// Fills what a row stored before a field existed lacks: its route,
    /// derived from its path ([`crate::routes::derived`]).
    pub fn fill_stored_before(&mut self) {
        if self.route.is_empty() && !self.url.is_empty() {
            self.route = crate::routes::derived(self.path());
        }
    }
}

fn iso8601<S: serde::Serializer>(ms: &i64, serializer: S) -> Result<S::Ok, S::Error> {
    serializer.serialize_str(&format_time(*ms))
}

fn from_iso8601<'de, D: serde::Deserializer<'de>>(deserializer: D) -> Result<i64, D::Error> {
    let text = String::deserialize(deserializer)?;
    let time = time::OffsetDateTime::parse(&text, &time::format_description::well_known::Rfc3339)
        .map_err(|e| serde::de::Error::custom(format!("started_at {text:?}: {e}")))?;
    Ok((time.unix_timestamp_nanos() / 1_000_000) as i64)
}

/// Now, in ms since the Unix epoch.
pub fn now_ms() -> i64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_millis() as i64).unwrap_or(0)
}

/// Formats ms since the Unix epoch as `YYYY-MM-DDTHH:MM:SS.mmmZ`.
pub fn format_time(ms: i64) -> String {
    let time = time::OffsetDateTime::from_unix_timestamp_nanos(i128::from(ms) * 1_000_000)
        .unwrap_or(time::OffsetDateTime::UNIX_EPOCH);
    let format =
        time::macros::format_description!("[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond digits:3]Z");
    time.format(&format).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_times_as_utc_iso8601_with_milliseconds() {
        assert_eq!(format_time(0), "1970-01-01T00:00:00.000Z");
        assert_eq!(format_time(1_700_000_000_123), "2023-11-14T22:13:20.123Z");
    }

    #[test]
    fn the_csv_header_names_every_exported_field_in_order() {
        let json = serde_json::to_string(&PageView::default()).unwrap();
        let at = |field: &str| json.find(&format!("\"{field}\":")).unwrap_or_else(|| panic!("{field} not exported"));
        assert!(FIELDS.windows(2).all(|pair| at(pair[0]) < at(pair[1])), "{FIELDS:?} vs {json}");
        let exported = json.matches("\":").count();
        assert_eq!(exported, FIELDS.len(), "every exported field is a column");
    }

    #[test]
    fn every_field_survives_the_row_as_cells() {
        let view = PageView {
            id: "abc".into(),
            site: "shop".into(),
            url: "/a?b=1".into(),
            route: "/a".into(),
            release: Some("v1.2".into()),
            referrer_host: Some("news.example".into()),
            started_at: 1_700_000_000_123,
            nav_type: Some("soft_navigation".into()),
            ttfb_ms: Some(1.5),
            lcp_subparts: Some(LcpSubparts { ttfb: 1.0, load_delay: 2.0, load_duration: 3.0, render_delay: 4.0 }),
            inp_subparts: Some(InpSubparts { input_delay: 1.0, processing: 2.0, presentation: 3.0 }),
            response_status: Some(503),
            abandoned: Some(false),
            slow_bounce: Some(true),
            cpu_cores: Some(8),
            errors: Some(70_000),
            feedback_rating: Some(4),
            inp_script_url: Some("https://cdn.example/app.js".into()),
            inp_script_ms: Some(120.5),
            tags: [("ab".to_string(), "b".to_string())].into(),
            ..PageView::default()
        };
        let cells = view.cells();
        assert_eq!(cells.len(), COLUMNS.len());
        assert_eq!(PageView::from_cells(cells), view);
    }
}
