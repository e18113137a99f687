//! The loader's hand-over object, `window.palaute.L` (made by
//! `www/palaute.js`, shared with the module for the page's lifetime): one
//! typed view of it, each method named after the key it reads, so that the
//! contract between the two languages is written down once, here. The
//! loader's comments name the same keys.

use js_sys::{Array, Function};
use wasm_bindgen::prelude::*;

use super::js;

/// `palaute.L`.
pub struct Loader(JsValue);

/// The keys of the page's names (`palaute.route()`, `palaute.release()`),
/// each with the key of the URL it was named at.
pub const NAMES: [(&str, &str); 2] = [("route", "routeAt"), ("release", "releaseAt")];

impl Loader {
    /// The hand-over object the loader passed to `start`.
    pub fn new(l: JsValue) -> Loader {
        Loader(l)
    }

    /// The page's `window.palaute.L` (for a start deferred by prerendering).
    pub fn of_page() -> Loader {
        Loader(js::get(&js::get(&js::window(), "palaute"), "L"))
    }

    /// `L.site`: `data-site`.
    pub fn site(&self) -> String {
        js::text(&self.0, "site").unwrap_or_default()
    }

    /// `L.endpoint`: the collector's origin (`data-endpoint`, else the script's).
    pub fn endpoint(&self) -> String {
        js::text(&self.0, "endpoint").unwrap_or_default()
    }

    /// `L.id`: the page view's id, made by the loader.
    pub fn id(&self) -> String {
        js::text(&self.0, "id").unwrap_or_default()
    }

    /// `L.newId()`: a new page-view id (the loader is the one source of ids).
    pub fn new_id(&self) -> String {
        let new_id = js::get(&self.0, "newId").unchecked_into::<Function>().call0(&self.0);
        new_id.ok().and_then(|id| id.as_string()).unwrap_or_default()
    }

    /// `L.part()`: has the loader fetch and instantiate the module's second
    /// part (the prompt's interface), once; a promise of whether it is
    /// there. `None` in a module that is whole (a build without the split,
    /// or the module's own tests: no `L.part`).
    pub fn part(&self) -> Option<js_sys::Promise> {
        let part = js::get(&self.0, "part").dyn_into::<Function>().ok()?;
        part.call0(&self.0).ok().map(JsCast::unchecked_into)
    }

    /// `L.seq`: beacons the loader sent for the page's own view.
    pub fn seq(&self) -> u32 {
        self.num("seq") as u32
    }

    /// `L.feedback`, `L.scale`, `L.lang`, `L.days`: the script tag's
    /// `data-feedback`, `data-feedback-scale`, `data-lang`,
    /// `data-feedback-days` (`key` one of those four).
    pub fn setting(&self, key: &str) -> Option<String> {
        js::text(&self.0, key)
    }

    /// `L.route`, `L.release` (`key` one of [`NAMES`]): the page's names
    /// for its views; `L.routeAt`, `L.releaseAt`: the URL the page showed
    /// when it named them.
    pub fn name(&self, key: &str) -> Option<String> {
        js::text(&self.0, key)
    }

    /// `L.ev`: Event Timing entries the loader kept before the module ran.
    pub fn early_events(&self) -> Option<Array> {
        js::get(&self.0, "ev").dyn_into().ok()
    }

    /// `L.hid`: when the page was first hidden (infinite while it has not been).
    pub fn first_hidden(&self) -> f64 {
        js::num(&self.0, "hid").unwrap_or(f64::INFINITY)
    }

    /// `L.painted`: when a page restored from the back/forward cache
    /// painted (0 until then).
    pub fn painted(&self) -> f64 {
        self.num("painted")
    }

    /// `L.err`: errors on the page since the start.
    pub fn errors(&self) -> f64 {
        self.num("err")
    }

    /// Total visible time of the page up to `now`, from `L.vis` (visible
    /// time before `L.vs`) and `L.vs` (when it last became visible, -1
    /// while hidden).
    pub fn visible_until(&self, now: f64) -> f64 {
        let since = self.num("vs");
        self.num("vis") + if since >= 0.0 { (now - since).max(0.0) } else { 0.0 }
    }

    /// A number the loader keeps, 0 when it has none.
    fn num(&self, key: &str) -> f64 {
        js::num(&self.0, key).unwrap_or(0.0)
    }
}
