//! Reading the page: the document and its state, the location, CSS
//! selectors of elements (web-vitals' `getSelector`, [`selector`]), the
//! navigation entry, what the engine observes, and `localStorage`. Leaves:
//! no state, nothing of the session.

use js_sys::Array;
use wasm_bindgen::prelude::*;
use web_sys::{Document, Element, Node, PerformanceResourceTiming, Storage};

use super::js;
use crate::limits::{cut, MAX_URL_CHARS};
use crate::vitals::selector::{self, Part};
use crate::vitals::view::Observable;

/// The page's document.
pub fn document() -> Document {
    js::window().document().unwrap_throw()
}

/// Whether the page is hidden now.
pub fn hidden() -> bool {
    document().hidden()
}

/// Whether the page is being prerendered (not shown yet).
pub fn prerendering(d: &Document) -> bool {
    js::flag(d, "prerendering") == Some(true)
}

/// `performance.interactionCount` (0 where the engine has none).
pub fn interaction_count() -> f64 {
    js::num(&js::performance(), "interactionCount").unwrap_or(0.0)
}

/// The navigation entry when it is valid, as web-vitals: `responseStart`
/// positive and not in the future.
pub fn nav_entry() -> Option<PerformanceResourceTiming> {
    let p = js::performance();
    let entry: PerformanceResourceTiming = p.get_entries_by_type("navigation").get(0).dyn_into().ok()?;
    let start = entry.response_start();
    (start > 0.0 && start < p.now()).then_some(entry)
}

/// What this engine observes: `PerformanceObserver.supportedEntryTypes`.
pub fn observable() -> Observable {
    let types = js::get(&js::get(&js::window(), "PerformanceObserver"), "supportedEntryTypes");
    let types: Array = types.dyn_into().unwrap_or_else(|_| Array::new());
    Observable::from_entry_types(|t| types.includes(&JsValue::from_str(t), 0))
}

/// The page's `localStorage`, when it has one it may use.
pub fn storage() -> Option<Storage> {
    js::window().local_storage().ok().flatten()
}

/// The page's path and query now.
pub fn location() -> String {
    path_of(None)
}

/// The path and query of `url` (absolute), else of the page's location.
pub fn path_of(url: Option<&str>) -> String {
    let location = js::window().location();
    let (mut path, search) = match url.and_then(|u| web_sys::Url::new(u).ok()) {
        Some(u) => (u.pathname(), u.search()),
        None => (location.pathname().unwrap_or_default(), location.search().unwrap_or_default()),
    };
    path.push_str(&search);
    limited(path, MAX_URL_CHARS)
}

/// `text` cut to `max` characters, as the collector accepts it.
pub fn limited(text: String, max: usize) -> String {
    if text.len() <= max {
        text
    } else {
        String::from(cut(&text, max))
    }
}

/// The short selector of `node` and its ancestors ([`selector::selector`]).
pub fn selector_of(node: Option<Node>) -> Option<String> {
    let mut node = node;
    selector::selector(|| {
        let here = node.take().filter(|n| n.node_type() != Node::DOCUMENT_NODE)?;
        let element = here.node_type() == Node::ELEMENT_NODE;
        let mut part = Part { element, name: here.node_name(), ..Part::default() };
        if element {
            let el: &Element = here.unchecked_ref();
            part.id = el.id();
            // `classList.value` is the attribute's value, as web-vitals reads it.
            part.classes = el.get_attribute("class").unwrap_or_default();
        }
        node = here.parent_node();
        Some(part)
    })
}
