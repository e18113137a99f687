//! LCP and its attribution (web-vitals' `onLCP` and `attribution/onLCP.ts`):
//! the candidates of the page's own view or a restore's
//! (`largest-contentful-paint`), a soft view's (`interaction-contentful-paint`
//! of its interaction), the element and URL of the latest, and the
//! sub-parts from the navigation and the resource that loaded it.

use wasm_bindgen::prelude::*;
use web_sys::PerformanceResourceTiming;

use super::dom::{self, limited, selector_of};
use super::js::{self, LcpEntry};
use super::view::View;
use crate::limits::{MAX_SELECTOR_CHARS, MAX_URL_CHARS};
use crate::vitals::view::Start;
use crate::wire::LcpSubparts;

impl View {
    /// An LCP candidate of the page's own view or a restore's.
    pub fn on_lcp(&mut self, e: JsValue) {
        if self.rules.start() != Start::Soft {
            let e: LcpEntry = e.unchecked_into();
            self.take_lcp(e.start_time(), e);
        }
    }

    /// An `interaction-contentful-paint` entry: a soft view's LCP candidate
    /// when it belongs to the view's interaction (as web-vitals).
    pub fn on_icp(&mut self, e: JsValue) {
        let ours = self.soft_interaction.is_some_and(|id| js::num(&e, "interactionId") == Some(id));
        let lcp = js::get(&e, "largestContentfulPaint");
        if ours && lcp.is_object() {
            let render = js::num(&lcp, "renderTime").unwrap_or(0.0);
            self.take_lcp(render, lcp.unchecked_into());
        }
    }

    /// An LCP candidate painted at `time`; when the rules take it (painted
    /// while visible), its element and URL are the attribution.
    fn take_lcp(&mut self, time: f64, e: LcpEntry) {
        if !self.rules.largest_contentful_paint(time) {
            return;
        }
        let b = &mut self.beacon;
        b.lcp_url = Some(e.url()).filter(|u| !u.is_empty()).map(|u| limited(u, MAX_URL_CHARS));
        b.lcp_element = selector_of(e.element()).or_else(|| {
            let id = e.id();
            (!id.is_empty()).then(|| {
                let mut sel = String::from("#");
                sel.push_str(&id);
                limited(sel, MAX_SELECTOR_CHARS)
            })
        });
        self.lcp_entry = Some(e);
    }

    /// LCP's sub-parts, from the navigation and the latest resource entry
    /// that loaded the LCP's URL before it painted.
    pub fn lcp_subparts(&self) -> Option<LcpSubparts> {
        let response_start = dom::nav_entry().map_or(0.0, |n| n.response_start());
        let request_start = |r: &PerformanceResourceTiming| {
            let start = r.request_start();
            if start > 0.0 {
                start
            } else {
                r.start_time()
            }
        };
        let resource = self.lcp_entry.as_ref().and_then(|e| {
            let url = e.url();
            if url.is_empty() {
                return None;
            }
            let resources = js::performance().get_entries_by_type("resource");
            resources
                .iter()
                .rev()
                .map(|r| r.unchecked_into::<PerformanceResourceTiming>())
                .find(|r| r.name() == url && request_start(r) <= e.start_time())
                .map(|r| (request_start(&r), r.response_end()))
        });
        let [ttfb, load_delay, load_duration, render_delay] = self.rules.lcp_subparts(response_start, resource)?;
        Some(LcpSubparts { ttfb, load_delay, load_duration, render_delay })
    }
}
