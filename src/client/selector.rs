//! A short CSS-like selector for an element, as web-vitals' `getSelector`
//! builds it: `tag.classes` parts joined by `>` from the element up, stopping
//! at an element with an id (`#id`) and at 100 characters.

use alloc::{string::String, string::ToString, vec::Vec};
use wasm_bindgen::JsValue;

use super::js;

const MAX_LEN: usize = 100;

/// The selector of `node`, or `None` when it is not an element.
pub fn of(node: &JsValue) -> Option<String> {
    let mut selector = String::new();
    let mut node = node.clone();
    while node.is_object() && js::num(&node, "nodeType") != Some(9.0) {
        let id = js::text(&node, "id");
        let mut part = match &id {
            Some(id) => by_id(id),
            None => name_and_classes(&node),
        };
        if selector.len() + part.len() > MAX_LEN - 1 {
            return Some(if selector.is_empty() { part } else { selector });
        }
        if !selector.is_empty() {
            part.push('>');
            part.push_str(&selector);
        }
        selector = part;
        if id.is_some() {
            break;
        }
        node = js::get(&node, "parentNode");
    }
    (!selector.is_empty()).then_some(selector)
}

/// The selector of the element with id `id`: `#id`.
pub fn by_id(id: &str) -> String {
    let mut selector = String::from("#");
    selector.push_str(id);
    selector
}

fn name_and_classes(node: &JsValue) -> String {
    let name = js::text(node, "nodeName").unwrap_or_default();
    let mut name = if js::num(node, "nodeType") == Some(1.0) {
        name.to_ascii_lowercase()
    } else {
        name.to_ascii_uppercase().trim_start_matches('#').to_string()
    };
    let list = js::get(node, "classList");
    if list.is_object() {
        // Sorted by insertion: elements have few classes.
        let mut classes: Vec<String> = Vec::new();
        for class in js_sys::Array::from(&list).iter().filter_map(|c| c.as_string()) {
            let at = classes.iter().position(|c| *c > class).unwrap_or(classes.len());
            classes.insert(at, class);
        }
        for class in classes {
            name.push('.');
            name.push_str(&class);
        }
    }
    name
}
