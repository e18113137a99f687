//! What made LCP and INP what they are, as web-vitals' attribution build
//! computes it: LCP's element, resource and four sub-parts; INP's target and
//! three sub-parts.

use alloc::string::String;
use wasm_bindgen::JsValue;

use crate::wire::{InpSubparts, LcpSubparts};

use super::super::js;
use super::super::page_view::PageView;
use super::nav;

/// LCP's sub-parts: TTFB, resource load delay, load duration, render delay.
/// Without an LCP entry (a bfcache restore) it is all render delay.
pub fn lcp_subparts(view: &PageView, lcp: f64) -> LcpSubparts {
    let unattributed = LcpSubparts { render_delay: lcp, ..LcpSubparts::default() };
    let (Some(entry), Some(navigation)) = (&view.lcp_entry, nav::entry()) else { return unattributed };
    let activation = view.origin;
    let ttfb = (js::num(&navigation, "responseStart").unwrap_or(0.0) - activation).max(0.0);
    let resource = lcp_resource(entry);
    let request_start = ttfb.max(resource.as_ref().map_or(0.0, |r| request_start(r) - activation));
    let response_end = lcp.min(
        request_start.max(resource.as_ref().map_or(0.0, |r| js::num(r, "responseEnd").unwrap_or(0.0) - activation)),
    );
    LcpSubparts {
        ttfb,
        load_delay: request_start - ttfb,
        load_duration: response_end - request_start,
        render_delay: lcp - response_end,
    }
}

/// The latest resource entry that loaded the LCP entry's URL before it painted.
fn lcp_resource(entry: &JsValue) -> Option<JsValue> {
    let url = js::text(entry, "url")?;
    let painted = js::num(entry, "startTime")?;
    let resources = js::performance().get_entries_by_type("resource");
    resources.iter().rev().find(|r| js::text(r, "name").as_deref() == Some(&url) && request_start(r) <= painted)
}

fn request_start(resource: &JsValue) -> f64 {
    js::num(resource, "requestStart").filter(|t| *t > 0.0).or_else(|| js::num(resource, "startTime")).unwrap_or(0.0)
}

/// INP's target selector and sub-parts for the interaction reported as INP.
pub fn inp(view: &PageView) -> (Option<String>, Option<InpSubparts>) {
    let Some(interaction) = view.interactions.reported() else { return (None, None) };
    let start = js::num(&interaction.entry, "startTime").unwrap_or(0.0);
    let (input_delay, processing, presentation) = interaction.subparts(start);
    let target = super::super::selector::of(&js::get(&interaction.entry, "target"));
    (target, Some(InpSubparts { input_delay, processing, presentation }))
}
