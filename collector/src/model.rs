//! The stored page view: the fields of the product contract (SPEC §3), as
//! exported and as every store keeps them. Built from a validated beacon by
//! `ingest`; the wire format itself lives in the `palaute` crate.

use std::collections::BTreeMap;

use palaute::wire::{InpSubparts, LcpSubparts};
use serde::{Deserialize, Serialize};

/// One page view, in the export's field order. Reads back from the
/// export's NDJSON (`import`).
#[derive(Serialize, Deserialize, Debug, Clone, Default, PartialEq, utoipa::ToSchema)]
#[serde(default)]
pub struct PageView {
    /// Random page-view id.
    pub id: String,
    /// Site id.
    pub site: String,
    /// Path and query.
    pub url: String,
    /// Host of another site that referred the visitor.
    pub referrer_host: Option<String>,
    /// Start of the navigation, ms since the Unix epoch (exported as ISO-8601).
    #[serde(serialize_with = "iso8601", deserialize_with = "from_iso8601")]
    #[schema(value_type = String, format = DateTime)]
    pub started_at: i64,
    /// `navigate`, `reload`, `back_forward`, `back_forward_cache`, `prerender`, `restore`.
    pub nav_type: Option<String>,
    /// Time to first byte, ms.
    pub ttfb_ms: Option<f64>,
    /// First contentful paint, ms.
    pub fcp_ms: Option<f64>,
    /// Largest contentful paint, ms.
    pub lcp_ms: Option<f64>,
    /// Interaction to next paint, ms.
    pub inp_ms: Option<f64>,
    /// Cumulative layout shift.
    pub cls: Option<f64>,
    /// `DOMContentLoaded` start, ms.
    pub dcl_ms: Option<f64>,
    /// `load` event start, ms.
    pub load_ms: Option<f64>,
    /// Selector of the LCP element.
    pub lcp_element: Option<String>,
    /// URL of the LCP resource.
    pub lcp_url: Option<String>,
    /// LCP sub-parts.
    #[schema(value_type = Option<Object>)]
    pub lcp_subparts: Option<LcpSubparts>,
    /// Selector of the INP target.
    pub inp_target: Option<String>,
    /// INP sub-parts.
    #[schema(value_type = Option<Object>)]
    pub inp_subparts: Option<InpSubparts>,
    /// HTTP status of the navigation response.
    pub response_status: Option<u16>,
    /// Visible time, ms.
    pub visible_ms: Option<f64>,
    /// Time from navigation start to leaving, ms.
    pub left_at_ms: Option<f64>,
    /// Left before the page finished loading.
    pub abandoned: Option<bool>,
    /// `before_fcp`, `before_lcp` or `before_load`.
    pub abandon_phase: Option<String>,
    /// Slow load, then left within the dwell.
    pub slow_bounce: Option<bool>,
    /// `desktop`, `mobile`, `tablet`, `bot` or `other`.
    pub device: Option<String>,
    /// Browser family.
    pub browser: Option<String>,
    /// Operating system family.
    pub os: Option<String>,
    /// Effective connection type.
    pub effective_type: Option<String>,
    /// Downlink, Mbit/s.
    pub downlink_mbps: Option<f64>,
    /// Round-trip time, ms.
    pub rtt_ms: Option<f64>,
    /// Data saver on.
    pub save_data: Option<bool>,
    /// Device memory, GiB.
    pub device_memory: Option<f64>,
    /// Logical CPU cores.
    pub cpu_cores: Option<u16>,
    /// Uncaught errors and failed resource loads.
    pub errors: Option<u32>,
    /// Feedback rating.
    pub feedback_rating: Option<u8>,
    /// `thumbs` or `five`.
    pub feedback_scale: Option<String>,
    /// Feedback comment, plain text.
    pub feedback_comment: Option<String>,
    /// When feedback was given, ms from the page view's start.
    pub feedback_at_ms: Option<f64>,
    /// Custom dimensions.
    pub tags: BTreeMap<String, String>,
}

impl PageView {
    /// The URL's path, without the query.
    pub fn path(&self) -> &str {
        self.url.split('?').next().unwrap_or_default()
    }
}

/// The export's columns, in order (CSV header).
pub const FIELDS: [&str; 39] = [
    "id",
    "site",
    "url",
    "referrer_host",
    "started_at",
    "nav_type",
    "ttfb_ms",
    "fcp_ms",
    "lcp_ms",
    "inp_ms",
    "cls",
    "dcl_ms",
    "load_ms",
    "lcp_element",
    "lcp_url",
    "lcp_subparts",
    "inp_target",
    "inp_subparts",
    "response_status",
    "visible_ms",
    "left_at_ms",
    "abandoned",
    "abandon_phase",
    "slow_bounce",
    "device",
    "browser",
    "os",
    "effective_type",
    "downlink_mbps",
    "rtt_ms",
    "save_data",
    "device_memory",
    "cpu_cores",
    "errors",
    "feedback_rating",
    "feedback_scale",
    "feedback_comment",
    "feedback_at_ms",
    "tags",
];

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
        let json = serde_json::to_value(PageView::default()).unwrap();
        let names: Vec<&str> = json.as_object().unwrap().keys().map(String::as_str).collect();
        assert_eq!(names.len(), FIELDS.len());
        assert!(FIELDS.iter().all(|f| names.contains(f)), "{FIELDS:?} vs {names:?}");
    }
}
