//! Strict validation of a decoded beacon and its conversion into a stored
//! page-view snapshot. Every rule names the field it rejects, so a `400`
//! says exactly what was wrong.

use palaute::limits::{
    MAX_COMMENT_CHARS, MAX_FUNCTION_CHARS, MAX_HOST_CHARS, MAX_RELEASE_CHARS, MAX_ROUTE_CHARS, MAX_SELECTOR_CHARS,
    MAX_TAGS, MAX_TAG_KEY_CHARS, MAX_TAG_VALUE_CHARS, MAX_URL_CHARS, MAX_WORD_CHARS,
};
use palaute::vitals::leave::Milestones;
use palaute::wire::{Beacon, NavType, WIRE_VERSION};

use super::ua::UaClasses;
use crate::error::{AppError, Result};
use crate::model::PageView;
use crate::store::Snapshot;

/// Longest timing accepted for load milestones and vitals (one hour), ms.
pub const MAX_TIMING_MS: f64 = 3_600_000.0;
/// Longest accepted visit (for `left_at_ms`, `visible_ms`): 7 days, ms.
pub const MAX_VISIT_MS: f64 = 7.0 * 86_400_000.0;
/// A client clock further than this from the collector's is not trusted, ms:
/// its page view starts at the beginning of the UTC day its snapshot
/// arrived in (the same start for every snapshot of the view that arrives
/// that day, so the stores keep one row for it; the arrival time itself
/// would differ from snapshot to snapshot).
pub const MAX_CLOCK_SKEW_MS: f64 = 86_400_000.0;

/// Most errors, rage clicks or dead clicks one page view counts; a larger
/// count is stored as this.
pub const MAX_COUNT: u32 = 10_000;

/// What the collector adds to a beacon: when it arrived, the user agent's
/// classes, and the site's slow-bounce dwell.
#[derive(Debug, Clone)]
pub struct Context {
    /// Arrival time, ms since the Unix epoch.
    pub received_at: i64,
    /// Classes of the sender's user agent.
    pub ua: UaClasses,
    /// Slow-bounce dwell, ms.
    pub dwell_ms: f64,
}

/// Decodes a beacon body (JSON). Unknown fields are ignored, so newer
/// clients keep working; a wrong type, a missing brace or a non-finite
/// number is a `400` that names the problem.
pub fn decode(body: &[u8]) -> Result<Beacon> {
    serde_json::from_slice(body).map_err(|e| AppError::Invalid(format!("body: {e}")))
}

/// Most beacons in one batched body.
pub const MAX_BATCH: usize = 50;

/// Decodes a body holding one beacon (a JSON object) or a batch (a JSON
/// array of at most [`MAX_BATCH`] beacons).
pub fn decode_batch(body: &[u8]) -> Result<Vec<Beacon>> {
    if body.trim_ascii_start().first() != Some(&b'[') {
        return decode(body).map(|beacon| vec![beacon]);
    }
    let beacons: Vec<Beacon> = serde_json::from_slice(body).map_err(|e| AppError::Invalid(format!("body: {e}")))?;
    match beacons.len() {
        0 => Err(invalid("body: an empty batch")),
        1..=MAX_BATCH => Ok(beacons),
        _ => Err(invalid(format!("body: more than {MAX_BATCH} beacons in a batch"))),
    }
}

fn invalid(what: impl Into<String>) -> AppError {
    AppError::Invalid(what.into())
}

/// A site id: 1-64 characters of `a-z A-Z 0-9 _ - .`.
pub fn is_site_id(id: &str) -> bool {
    (1..=64).contains(&id.len()) && id.bytes().all(|b| b.is_ascii_alphanumeric() || b"_-.".contains(&b))
}

fn check_id(id: &str) -> Result<()> {
    let ok = (16..=64).contains(&id.len()) && id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
    ok.then_some(()).ok_or_else(|| invalid("id: 16-64 URL-safe characters"))
}

fn check_text(field: &str, value: &Option<String>, max_chars: usize) -> Result<()> {
    match value {
        Some(s) if s.chars().count() > max_chars => {
            Err(invalid(format!("{field}: longer than {max_chars} characters")))
        }
        Some(s) if s.chars().any(|c| c.is_control() && c != '\n' && c != '\t') => {
            Err(invalid(format!("{field}: control characters")))
        }
        _ => Ok(()),
    }
}

/// What no tag key or value may hold: control characters (NUL, ESC, CR,
/// LF, tab…; tags are one line) and the bidirectional formatting
/// characters that make text read other than it is (U+202A-U+202E,
/// U+2066-U+2069, U+200E, U+200F, U+061C).
fn is_forbidden_in_a_tag(c: char) -> bool {
    c.is_control()
        || matches!(c, '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}' | '\u{200E}' | '\u{200F}' | '\u{061C}')
}

/// A name the page gives (`route`, `release`): none of the characters no
/// tag may hold. A longer one than the limit is cut ([`name`]), not
/// refused: the page view it names is still worth keeping.
fn check_name(field: &str, value: &Option<String>) -> Result<()> {
    match value {
        Some(s) if s.chars().any(is_forbidden_in_a_tag) => {
            Err(invalid(format!("{field}: control or bidirectional formatting characters")))
        }
        _ => Ok(()),
    }
}

/// A page's name for something, trimmed and cut to `max` characters;
/// `None` when empty.
fn name(value: Option<String>, max: usize) -> Option<String> {
    value.map(|v| palaute::limits::cut(v.trim(), max).to_string()).filter(|v| !v.is_empty())
}

fn check_range(field: &str, value: Option<f64>, max: f64) -> Result<()> {
    match value {
        Some(x) if !x.is_finite() || !(0.0..=max).contains(&x) => {
            Err(invalid(format!("{field}: out of range 0..{max}")))
        }
        _ => Ok(()),
    }
}

/// Validates `beacon` and turns it into the snapshot to store.
pub fn to_snapshot(beacon: Beacon, context: &Context) -> Result<Snapshot> {
    if beacon.v == 0 || beacon.v > WIRE_VERSION {
        return Err(invalid(format!("v: unsupported version {}", beacon.v)));
    }
    if !is_site_id(&beacon.site) {
        return Err(invalid("site: 1-64 characters of a-z, 0-9, _ - ."));
    }
    check_id(&beacon.id)?;
    if !beacon.url.starts_with('/') {
        return Err(invalid("url: a path starting with /"));
    }
    check_text("url", &Some(beacon.url.clone()), MAX_URL_CHARS)?;
    check_text("referrer_host", &beacon.referrer_host, MAX_HOST_CHARS)?;
    check_name("route", &beacon.route)?;
    check_name("release", &beacon.release)?;
    check_text("lcp_element", &beacon.lcp_element, MAX_SELECTOR_CHARS)?;
    check_text("lcp_url", &beacon.lcp_url, MAX_URL_CHARS)?;
    check_text("inp_target", &beacon.inp_target, MAX_SELECTOR_CHARS)?;
    check_text("frustration_target", &beacon.frustration_target, MAX_SELECTOR_CHARS)?;
    check_text("inp_script_url", &beacon.inp_script_url, MAX_URL_CHARS)?;
    check_text("inp_script_function", &beacon.inp_script_function, MAX_FUNCTION_CHARS)?;
    check_text("inp_script_invoker", &beacon.inp_script_invoker, MAX_WORD_CHARS)?;
    check_text("effective_type", &beacon.effective_type, MAX_WORD_CHARS)?;
    for (field, value) in [
        ("ttfb_ms", beacon.ttfb_ms),
        ("fcp_ms", beacon.fcp_ms),
        ("lcp_ms", beacon.lcp_ms),
        ("inp_ms", beacon.inp_ms),
        ("inp_script_ms", beacon.inp_script_ms),
        ("dcl_ms", beacon.dcl_ms),
        ("load_ms", beacon.load_ms),
        ("downlink_mbps", beacon.downlink_mbps),
        ("rtt_ms", beacon.rtt_ms),
    ] {
        check_range(field, value, MAX_TIMING_MS)?;
    }
    check_range("cls", beacon.cls, 1000.0)?;
    check_range("left_at_ms", beacon.left_at_ms, MAX_VISIT_MS)?;
    check_range("frustration_at_ms", beacon.frustration_at_ms, MAX_VISIT_MS)?;
    check_range("visible_ms", beacon.visible_ms, MAX_VISIT_MS)?;
    check_range("device_memory", beacon.device_memory, 4096.0)?;
    // Counts past what one page view can hold are capped, not refused.
    let capped = |count: Option<u32>| count.map(|n| n.min(MAX_COUNT));
    let beacon = Beacon {
        errors: capped(beacon.errors),
        rage_clicks: capped(beacon.rage_clicks),
        dead_clicks: capped(beacon.dead_clicks),
        ..beacon
    };
    if let Some(parts) = beacon.lcp_subparts {
        for value in [parts.ttfb, parts.load_delay, parts.load_duration, parts.render_delay] {
            check_range("lcp_subparts", Some(value), MAX_TIMING_MS)?;
        }
    }
    if let Some(parts) = beacon.inp_subparts {
        for value in [parts.input_delay, parts.processing, parts.presentation] {
            check_range("inp_subparts", Some(value), MAX_TIMING_MS)?;
        }
    }
    if beacon.response_status.is_some_and(|s| !(100..=599).contains(&s)) {
        return Err(invalid("response_status: not an HTTP status"));
    }
    if let Some(feedback) = &beacon.feedback {
        if !feedback.scale.accepts(feedback.rating) {
            return Err(invalid("feedback.rating: not on its scale"));
        }
        check_text("feedback.comment", &feedback.comment, MAX_COMMENT_CHARS)?;
        check_range("feedback.at_ms", Some(feedback.at_ms), MAX_VISIT_MS)?;
    }
    if beacon.tags.len() > MAX_TAGS {
        return Err(invalid(format!("tags: more than {MAX_TAGS}")));
    }
    for (key, value) in &beacon.tags {
        if key.is_empty() || key.chars().count() > MAX_TAG_KEY_CHARS || value.chars().count() > MAX_TAG_VALUE_CHARS {
            return Err(invalid(format!(
                "tags: keys 1-{MAX_TAG_KEY_CHARS} and values 0-{MAX_TAG_VALUE_CHARS} characters"
            )));
        }
        if key.chars().chain(value.chars()).any(is_forbidden_in_a_tag) {
            return Err(invalid("tags: control or bidirectional formatting characters"));
        }
    }
    if !beacon.start.is_finite() || beacon.start < 0.0 {
        return Err(invalid("start: not a time"));
    }
    Ok(build(beacon, context))
}

fn build(beacon: Beacon, context: &Context) -> Snapshot {
    // A client clock far off the collector's is not trusted for the date.
    let received = context.received_at as f64;
    let trusted = (beacon.start - received).abs() <= MAX_CLOCK_SKEW_MS;
    let started_at = if trusted { beacon.start } else { received - received.rem_euclid(86_400_000.0) };
    let milestones = Milestones {
        fcp_ms: beacon.fcp_ms,
        lcp_ms: beacon.lcp_ms,
        load_ms: beacon.load_ms,
        left_at_ms: beacon.left_at_ms,
        lcp_pending: beacon.lcp_pending == Some(true),
        restored: beacon.nav_type == Some(NavType::BackForwardCache),
        soft: beacon.nav_type == Some(NavType::SoftNavigation),
    };
    let leave = milestones.leave(context.dwell_ms);
    let feedback = beacon.feedback;
    let view = PageView {
        id: beacon.id,
        site: beacon.site,
        // The fragment never leaves the browser in our client; drop it from any other.
        url: beacon.url.split('#').next().unwrap_or_default().to_string(),
        // The page's own; else ingest gives the site's ([`crate::routes`]).
        route: name(beacon.route, MAX_ROUTE_CHARS).unwrap_or_default(),
        release: name(beacon.release, MAX_RELEASE_CHARS),
        referrer_host: beacon.referrer_host,
        started_at: started_at as i64,
        nav_type: beacon.nav_type.map(|n| n.as_str().to_string()),
        ttfb_ms: beacon.ttfb_ms,
        fcp_ms: beacon.fcp_ms,
        lcp_ms: beacon.lcp_ms,
        inp_ms: beacon.inp_ms,
        cls: beacon.cls,
        dcl_ms: beacon.dcl_ms,
        load_ms: beacon.load_ms,
        lcp_element: beacon.lcp_element,
        lcp_url: beacon.lcp_url,
        lcp_subparts: beacon.lcp_subparts,
        inp_target: beacon.inp_target,
        inp_subparts: beacon.inp_subparts,
        inp_script_url: beacon.inp_script_url,
        inp_script_function: beacon.inp_script_function,
        inp_script_invoker: beacon.inp_script_invoker,
        inp_script_ms: beacon.inp_script_ms,
        inp_script_subpart: beacon.inp_script_subpart.map(|p| p.as_str().to_string()),
        response_status: beacon.response_status,
        visible_ms: beacon.visible_ms,
        left_at_ms: beacon.left_at_ms,
        abandoned: milestones.abandoned(leave.as_ref()),
        abandon_phase: leave.and_then(|l| l.phase).map(|p| p.as_str().to_string()),
        slow_bounce: leave.map(|l| l.slow_bounce),
        device: Some(context.ua.device.clone()),
        browser: Some(context.ua.browser.clone()),
        os: Some(context.ua.os.clone()),
        effective_type: beacon.effective_type,
        downlink_mbps: beacon.downlink_mbps,
        rtt_ms: beacon.rtt_ms,
        save_data: beacon.save_data,
        device_memory: beacon.device_memory,
        cpu_cores: beacon.cpu_cores,
        errors: beacon.errors,
        rage_clicks: beacon.rage_clicks,
        dead_clicks: beacon.dead_clicks,
        frustration_target: beacon.frustration_target,
        frustration_at_ms: beacon.frustration_at_ms,
        feedback_rating: feedback.as_ref().map(|f| f.rating),
        feedback_scale: feedback.as_ref().map(|f| f.scale.as_str().to_string()),
        feedback_comment: feedback.as_ref().and_then(|f| f.comment.clone()),
        feedback_at_ms: feedback.as_ref().map(|f| f.at_ms),
        feedback_trigger: feedback.as_ref().and_then(|f| f.trigger).map(|t| t.as_str().to_string()),
        tags: beacon.tags.into(),
    };
    Snapshot { seq: beacon.seq, received_at: context.received_at, view }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::FIELDS;
    use palaute::wire::{Feedback, Scale};

    /// Beacon fields that are not columns of their own: the envelope, and
    /// what is folded into other columns.
    const WIRE_ONLY: [&str; 7] = ["v", "seq", "src", "start", "lcp_pending", "feedback", "tags"];
    /// Columns that are not beacon fields: derived at ingest.
    const DERIVED: [&str; 13] = [
        "started_at",
        "abandoned",
        "abandon_phase",
        "slow_bounce",
        "device",
        "browser",
        "os",
        "feedback_rating",
        "feedback_scale",
        "feedback_comment",
        "feedback_at_ms",
        "feedback_trigger",
        "tags",
    ];

    #[test]
    fn every_beacon_field_has_its_column_and_every_column_its_source() {
        use palaute::wire::object::Fields;
        let beacon = Beacon::default();
        let wire: Vec<&str> = beacon.fields().into_iter().map(|(name, _)| name).collect();
        for name in &wire {
            assert!(FIELDS.contains(name) || WIRE_ONLY.contains(name), "beacon field {name} is stored nowhere");
        }
        for name in &FIELDS {
            assert!(wire.contains(name) || DERIVED.contains(name), "column {name} comes from no beacon field");
        }
        // And a beacon's values reach their columns.
        let full = palaute::wire::sample::every_field("shop", "0123456789abcdef", 1_700_000_000_000.0);
        let view = to_snapshot(full.clone(), &context()).unwrap().view;
        let cells = serde_json::to_value(&view).unwrap();
        let sent = serde_json::to_value(&full).unwrap();
        for name in wire.iter().filter(|n| FIELDS.contains(n)) {
            assert_eq!(cells[name], sent[name], "{name} is stored as sent");
        }
    }

    #[test]
    fn a_clock_more_than_a_day_off_starts_the_view_at_its_arrival_day() {
        let context = context();
        let day = 1_700_000_000_000 - 1_700_000_000_000 % 86_400_000;
        let mut beacon = palaute::wire::sample::every_field("shop", "0123456789abcdef", 1_700_000_000_000.0);
        assert_eq!(to_snapshot(beacon.clone(), &context).unwrap().view.started_at, 1_700_000_000_000, "trusted");
        beacon.start = 1_000_000_000_000.0;
        let first = to_snapshot(beacon.clone(), &context).unwrap();
        let later = to_snapshot(beacon, &Context { received_at: context.received_at + 3_600_000, ..context.clone() });
        assert_eq!(first.view.started_at, day, "the start of its arrival's UTC day");
        assert_eq!(later.unwrap().view.started_at, day, "the same for a later snapshot that day");
    }

    fn context() -> Context {
        Context {
            received_at: 1_700_000_000_000,
            ua: UaClasses { device: "desktop".into(), browser: "Chrome".into(), os: "Linux".into() },
            dwell_ms: 10_000.0,
        }
    }

    fn valid() -> Beacon {
        Beacon {
            v: 1,
            site: "shop".into(),
            id: "0123456789abcdef".into(),
            seq: 1,
            url: "/cart?x=1".into(),
            start: 1_700_000_000_000.0,
            fcp_ms: Some(3000.0),
            left_at_ms: Some(1000.0),
            ..Beacon::default()
        }
    }

    /// Applies `change` to a valid beacon and expects it rejected, naming `field`.
    fn rejects(field: &str, change: impl FnOnce(&mut Beacon)) {
        let mut beacon = valid();
        change(&mut beacon);
        match to_snapshot(beacon, &context()) {
            Err(AppError::Invalid(message)) => {
                assert!(message.contains(field), "{message} should name {field}")
            }
            other => panic!("expected {field} rejected, got {other:?}"),
        }
    }

    #[test]
    fn accepts_a_valid_beacon_and_derives_the_leave() {
        let snapshot = to_snapshot(valid(), &context()).unwrap();
        assert_eq!(snapshot.view.abandoned, Some(true));
        assert_eq!(snapshot.view.abandon_phase.as_deref(), Some("before_fcp"));
        assert_eq!(snapshot.view.device.as_deref(), Some("desktop"));
        assert_eq!(snapshot.view.started_at, 1_700_000_000_000);
    }

    #[test]
    fn rejects_each_bad_field() {
        rejects("v", |b| b.v = 9);
        rejects("site", |b| b.site = "no spaces".into());
        rejects("id", |b| b.id = "short".into());
        rejects("url", |b| b.url = "https://elsewhere/".into());
        rejects("ttfb_ms", |b| b.ttfb_ms = Some(-1.0));
        rejects("lcp_ms", |b| b.lcp_ms = Some(f64::INFINITY));
        rejects("cls", |b| b.cls = Some(f64::NAN));
        rejects("response_status", |b| b.response_status = Some(42));
        rejects("lcp_element", |b| b.lcp_element = Some("x".repeat(600)));
        rejects("feedback.rating", |b| {
            b.feedback = Some(Feedback { rating: 3, scale: Scale::Thumbs, ..Feedback::default() })
        });
        rejects("tags", |b| b.tags = (0..21).map(|i| (i.to_string(), String::new())).collect());
        rejects("url", |b| b.url = "/a\u{0}b".into());
    }
}
