//! Fuzzes what `POST /b` does with a body and a user agent: decode, classify,
//! validate, and turn into a stored page view. Nothing may panic, and what
//! validation accepts must hold the stored invariants.
#![no_main]

use libfuzzer_sys::fuzz_target;
use palaute_collector::ingest::ua;
use palaute_collector::ingest::validate::{self, Context, MAX_TIMING_MS, MAX_VISIT_MS};

fuzz_target!(|data: &[u8]| {
    // The first line doubles as a user agent; the whole input is the body.
    let user_agent = data.split(|b| *b == b'\n').next().map(String::from_utf8_lossy).unwrap_or_default();
    let Ok(beacon) = validate::decode(data) else { return };
    let context = Context { received_at: 1_700_000_000_000, ua: ua::classify(&user_agent), dwell_ms: 10_000.0 };
    let Ok(snapshot) = validate::to_snapshot(beacon, &context) else { return };
    let view = &snapshot.view;
    for timing in [view.ttfb_ms, view.fcp_ms, view.lcp_ms, view.inp_ms, view.dcl_ms, view.load_ms].into_iter().flatten() {
        assert!(timing.is_finite() && (0.0..=MAX_TIMING_MS).contains(&timing), "{timing}");
    }
    for visit in [view.left_at_ms, view.visible_ms].into_iter().flatten() {
        assert!(visit.is_finite() && (0.0..=MAX_VISIT_MS).contains(&visit), "{visit}");
    }
    if let Some(cls) = view.cls {
        assert!(cls.is_finite() && cls >= 0.0, "{cls}");
    }
    assert!(view.url.starts_with('/'), "{}", view.url);
    serde_json::to_string(view).expect("a stored view serialises");
});
