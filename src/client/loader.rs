//! The loader's hand-over object (`window.palaute.L`): configuration from the
//! script tag, and what the loader observed before the module ran and keeps
//! observing for the page's lifetime (errors, visibility).

use alloc::string::String;
use wasm_bindgen::JsValue;

use super::js;

/// A typed view of the loader's hand-over object.
pub struct Loader(JsValue);

impl Loader {
    /// Wraps the object the loader passed to `start`.
    pub fn new(object: JsValue) -> Self {
        Loader(object)
    }

    /// The site id (`data-site`).
    pub fn site(&self) -> String {
        js::text(&self.0, "site").unwrap_or_default()
    }

    /// The collector's base URL (`data-endpoint`).
    pub fn endpoint(&self) -> String {
        js::text(&self.0, "endpoint").unwrap_or_default()
    }

    /// The beacon URL, `{data-endpoint}/b`.
    pub fn beacon_url(&self) -> String {
        self.endpoint() + "/b"
    }

    /// The page-view id the loader chose.
    pub fn page_view_id(&self) -> String {
        js::text(&self.0, "id").unwrap_or_else(js::new_page_view_id)
    }

    /// How many beacons the loader already sent for this page view.
    pub fn sent(&self) -> u32 {
        js::num(&self.0, "seq").unwrap_or(0.0) as u32
    }

    /// The feedback scale set on the script tag, if it is: `Some(true)`
    /// for `five`.
    pub fn tag_scale_is_five(&self) -> Option<bool> {
        js::text(&self.0, "scale").map(|scale| scale == "five")
    }

    /// The prompt's trigger mode (`data-feedback`).
    pub fn feedback_mode(&self) -> Option<String> {
        js::text(&self.0, "feedback")
    }

    /// The prompt's frequency cap in days (`data-feedback-days`), parsed
    /// by JavaScript's `parseFloat` (NaN when it is not a number).
    pub fn feedback_days(&self) -> Option<f64> {
        js::text(&self.0, "days").map(|days| js_sys::Number::parse_float(&days))
    }

    /// The prompt language the site asks for (`data-lang`).
    pub fn lang(&self) -> Option<String> {
        js::text(&self.0, "lang")
    }

    /// Uncaught errors and failed resource loads so far.
    pub fn errors(&self) -> u32 {
        js::num(&self.0, "err").unwrap_or(0.0) as u32
    }

    /// First time the page was hidden, in `performance.now()` time
    /// (`f64::INFINITY` while it has always been visible).
    pub fn first_hidden(&self) -> f64 {
        js::num(&self.0, "hid").unwrap_or(f64::INFINITY)
    }

    /// Total visible time of the page up to `now`, ms.
    pub fn visible_until(&self, now: f64) -> f64 {
        let accumulated = js::num(&self.0, "vis").unwrap_or(0.0);
        let since = js::num(&self.0, "vs").unwrap_or(-1.0);
        accumulated + if since >= 0.0 { (now - since).max(0.0) } else { 0.0 }
    }

    /// When the page restored from the back/forward cache painted, as the
    /// loader read it (`None` until then).
    pub fn restored_paint(&self) -> Option<f64> {
        js::num(&self.0, "painted").filter(|t| *t > 0.0)
    }

    /// Event Timing entries the loader kept from before the module ran.
    pub fn early_event_entries(&self) -> js_sys::Array {
        let entries = js::get(&self.0, "ev");
        if js_sys::Array::is_array(&entries) {
            entries.into()
        } else {
            js_sys::Array::new()
        }
    }
}
