//! Page views as rows of the `pageviews` table, in JSONEachRow form.

use serde::Serialize;
use serde_json::{Map, Value};

use crate::model::{PageView, FIELDS};
use crate::store::Snapshot;

/// The columns a page view is read back from: the export's [`FIELDS`], with
/// `tags` stored as the arrays `tag_keys` and `tag_values`.
pub fn columns() -> String {
    FIELDS
        .iter()
        .map(|field| if *field == "tags" { "tag_keys, tag_values" } else { field })
        .collect::<Vec<_>>()
        .join(", ")
}

/// A `pageviews` row as inserted.
#[derive(Serialize)]
struct Row<'a> {
    site: &'a str,
    id: &'a str,
    seq: u32,
    received_at: i64,
    path: &'a str,
    url: &'a str,
    referrer_host: &'a Option<String>,
    started_at: i64,
    nav_type: &'a Option<String>,
    ttfb_ms: Option<f64>,
    fcp_ms: Option<f64>,
    lcp_ms: Option<f64>,
    inp_ms: Option<f64>,
    cls: Option<f64>,
    dcl_ms: Option<f64>,
    load_ms: Option<f64>,
    lcp_element: &'a Option<String>,
    lcp_url: &'a Option<String>,
    lcp_subparts: Option<String>,
    inp_target: &'a Option<String>,
    inp_subparts: Option<String>,
    response_status: Option<u16>,
    visible_ms: Option<f64>,
    left_at_ms: Option<f64>,
    abandoned: Option<u8>,
    abandon_phase: &'a Option<String>,
    slow_bounce: Option<u8>,
    device: &'a Option<String>,
    browser: &'a Option<String>,
    os: &'a Option<String>,
    effective_type: &'a Option<String>,
    downlink_mbps: Option<f64>,
    rtt_ms: Option<f64>,
    save_data: Option<u8>,
    device_memory: Option<f64>,
    cpu_cores: Option<u16>,
    errors: Option<u32>,
    feedback_rating: Option<u8>,
    feedback_scale: &'a Option<String>,
    feedback_comment: &'a Option<String>,
    feedback_at_ms: Option<f64>,
    tag_keys: Vec<&'a String>,
    tag_values: Vec<&'a String>,
}

/// A snapshot as one JSONEachRow line (without the newline).
pub fn row(snapshot: &Snapshot) -> String {
    let v = &snapshot.view;
    let flag = |b: Option<bool>| b.map(u8::from);
    let row = Row {
        site: &v.site,
        id: &v.id,
        seq: snapshot.seq,
        received_at: snapshot.received_at,
        path: v.path(),
        url: &v.url,
        referrer_host: &v.referrer_host,
        started_at: v.started_at,
        nav_type: &v.nav_type,
        ttfb_ms: v.ttfb_ms,
        fcp_ms: v.fcp_ms,
        lcp_ms: v.lcp_ms,
        inp_ms: v.inp_ms,
        cls: v.cls,
        dcl_ms: v.dcl_ms,
        load_ms: v.load_ms,
        lcp_element: &v.lcp_element,
        lcp_url: &v.lcp_url,
        lcp_subparts: v.lcp_subparts.and_then(|p| serde_json::to_string(&p).ok()),
        inp_target: &v.inp_target,
        inp_subparts: v.inp_subparts.and_then(|p| serde_json::to_string(&p).ok()),
        response_status: v.response_status,
        visible_ms: v.visible_ms,
        left_at_ms: v.left_at_ms,
        abandoned: flag(v.abandoned),
        abandon_phase: &v.abandon_phase,
        slow_bounce: flag(v.slow_bounce),
        device: &v.device,
        browser: &v.browser,
        os: &v.os,
        effective_type: &v.effective_type,
        downlink_mbps: v.downlink_mbps,
        rtt_ms: v.rtt_ms,
        save_data: flag(v.save_data),
        device_memory: v.device_memory,
        cpu_cores: v.cpu_cores,
        errors: v.errors,
        feedback_rating: v.feedback_rating,
        feedback_scale: &v.feedback_scale,
        feedback_comment: &v.feedback_comment,
        feedback_at_ms: v.feedback_at_ms,
        tag_keys: v.tags.keys().collect(),
        tag_values: v.tags.values().collect(),
    };
    serde_json::to_string(&row).unwrap_or_default()
}

/// A page view from a row of [`COLUMNS`]; `None` if it is not one.
pub fn view(row: &Value) -> Option<PageView> {
    let row: &Map<String, Value> = row.as_object()?;
    let text = |key: &str| row.get(key).and_then(Value::as_str).map(str::to_string);
    let real = |key: &str| row.get(key).and_then(Value::as_f64);
    let int = |key: &str| row.get(key).and_then(Value::as_u64);
    let flag = |key: &str| int(key).map(|n| n != 0);
    let strings = |key: &str| -> Vec<String> {
        row.get(key)
            .and_then(Value::as_array)
            .map_or_else(Vec::new, |items| items.iter().filter_map(|item| item.as_str().map(str::to_string)).collect())
    };
    Some(PageView {
        id: text("id")?,
        site: text("site")?,
        url: text("url")?,
        referrer_host: text("referrer_host"),
        started_at: row.get("started_at").and_then(Value::as_i64)?,
        nav_type: text("nav_type"),
        ttfb_ms: real("ttfb_ms"),
        fcp_ms: real("fcp_ms"),
        lcp_ms: real("lcp_ms"),
        inp_ms: real("inp_ms"),
        cls: real("cls"),
        dcl_ms: real("dcl_ms"),
        load_ms: real("load_ms"),
        lcp_element: text("lcp_element"),
        lcp_url: text("lcp_url"),
        lcp_subparts: text("lcp_subparts").and_then(|s| serde_json::from_str(&s).ok()),
        inp_target: text("inp_target"),
        inp_subparts: text("inp_subparts").and_then(|s| serde_json::from_str(&s).ok()),
        response_status: int("response_status").map(|n| n as u16),
        visible_ms: real("visible_ms"),
        left_at_ms: real("left_at_ms"),
        abandoned: flag("abandoned"),
        abandon_phase: text("abandon_phase"),
        slow_bounce: flag("slow_bounce"),
        device: text("device"),
        browser: text("browser"),
        os: text("os"),
        effective_type: text("effective_type"),
        downlink_mbps: real("downlink_mbps"),
        rtt_ms: real("rtt_ms"),
        save_data: flag("save_data"),
        device_memory: real("device_memory"),
        cpu_cores: int("cpu_cores").map(|n| n as u16),
        errors: int("errors").map(|n| n as u32),
        feedback_rating: int("feedback_rating").map(|n| n as u8),
        feedback_scale: text("feedback_scale"),
        feedback_comment: text("feedback_comment"),
        feedback_at_ms: real("feedback_at_ms"),
        tags: strings("tag_keys").into_iter().zip(strings("tag_values")).collect(),
    })
}

#[cfg(test)]
mod tests {
    use palaute::wire::LcpSubparts;

    use super::*;

    #[test]
    fn a_page_view_survives_the_row_form() {
        let original = PageView {
            id: "abc".into(),
            site: "shop".into(),
            url: "/cart?x=1".into(),
            started_at: 1_700_000_000_123,
            lcp_ms: Some(2500.5),
            lcp_subparts: Some(LcpSubparts { ttfb: 1.0, load_delay: 2.0, load_duration: 3.0, render_delay: 4.0 }),
            abandoned: Some(false),
            slow_bounce: Some(true),
            response_status: Some(503),
            feedback_comment: Some("<b>'slow'</b> \\ \"x\"".into()),
            tags: [("ab".to_string(), "b".to_string()), ("plan".to_string(), "pro".to_string())].into(),
            ..PageView::default()
        };
        let line = row(&Snapshot { seq: 3, received_at: 5, view: original.clone() });
        let value: Value = serde_json::from_str(&line).unwrap();
        assert_eq!(value["path"], "/cart");
        assert_eq!(value["abandoned"], 0);
        assert_eq!(view(&value), Some(original));
    }
}
