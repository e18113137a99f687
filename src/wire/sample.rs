//! A beacon with every field set to a value the collector accepts: the
//! one sample both sides of the wire test with. The wire's own tests
//! round-trip it through `serde_json`, the browser test through the
//! client's encoder (serde-wasm-bindgen and `JSON.stringify`), and the
//! collector's tests ingest it and read every column back.

use super::{Beacon, Feedback, InpPart, InpSubparts, LcpSubparts, NavType, Scale, Source, Trigger, WIRE_VERSION};

/// A module beacon of page view `id` on `site` started at `start` (ms since
/// the Unix epoch), with every field present.
// The update is a no-op today: it makes a field added to `Beacon` and not
// here fail the round-trip tests instead of the build.
#[allow(clippy::needless_update)]
pub fn every_field(site: &str, id: &str, start: f64) -> Beacon {
    Beacon {
        v: WIRE_VERSION,
        site: site.into(),
        id: id.into(),
        seq: 3,
        src: Source::Module,
        url: "/checkout?step=2".into(),
        route: Some("/checkout".into()),
        release: Some("v2.14.0".into()),
        referrer_host: Some("www.search.example".into()),
        start,
        nav_type: Some(NavType::BackForwardCache),
        ttfb_ms: Some(210.5),
        fcp_ms: Some(900.0),
        lcp_ms: Some(2400.0),
        inp_ms: Some(280.0),
        cls: Some(0.12),
        dcl_ms: Some(1100.0),
        load_ms: Some(2600.0),
        lcp_element: Some("main>img.hero".into()),
        lcp_url: Some("https://cdn.example/hero.jpg".into()),
        lcp_subparts: Some(LcpSubparts { ttfb: 210.5, load_delay: 400.0, load_duration: 1500.0, render_delay: 289.5 }),
        inp_target: Some("button#buy".into()),
        inp_subparts: Some(InpSubparts { input_delay: 20.0, processing: 200.0, presentation: 60.0 }),
        inp_script_url: Some("https://tags.ads.example/gpt.js".into()),
        inp_script_function: Some("refreshSlots".into()),
        inp_script_invoker: Some("event-listener".into()),
        inp_script_ms: Some(180.0),
        inp_script_subpart: Some(InpPart::Processing),
        response_status: Some(200),
        visible_ms: Some(8000.0),
        left_at_ms: Some(9000.0),
        lcp_pending: Some(false),
        effective_type: Some("4g".into()),
        downlink_mbps: Some(9.5),
        rtt_ms: Some(50.0),
        save_data: Some(false),
        device_memory: Some(8.0),
        cpu_cores: Some(8),
        errors: Some(1),
        rage_clicks: Some(1),
        dead_clicks: Some(2),
        frustration_target: Some("button#apply".into()),
        frustration_at_ms: Some(5200.0),
        feedback: Some(Feedback {
            rating: 4,
            scale: Scale::Five,
            comment: Some("<b>slow</b> & \"odd\"".into()),
            at_ms: 7000.0,
            trigger: Some(Trigger::Frustration),
        }),
        tags: [("ab", "b"), ("plan", "pro")].into_iter().collect(),
        ..Beacon::default()
    }
}
