//! The site's settings on the collector (`GET {endpoint}/s/{site}`), read
//! once per page when the script tag leaves them to the collector: today the
//! feedback scale (`data-feedback-scale` on the tag wins). Browsers cache
//! the answer for 5 minutes; if it cannot be read, the defaults apply.

use alloc::string::ToString;
use wasm_bindgen::prelude::*;
use web_sys::{RequestCredentials, RequestInit, RequestMode};

use super::js;
use super::session::with_session;

/// Reads the site's settings and hands the feedback scale to the session.
pub fn fetch(endpoint: &str, site: &str) {
    let Some(window) = web_sys::window() else { return };
    let init = RequestInit::new();
    init.set_mode(RequestMode::Cors);
    init.set_credentials(RequestCredentials::Omit);
    let url = endpoint.to_string() + "/s/" + site;
    let settings = Closure::once_into_js(|settings: JsValue| {
        let five = js::text(&settings, "feedback_scale").as_deref() == Some("five");
        with_session(|s| s.set_site_scale_five(five));
    });
    let answered = Closure::once_into_js(move |response: JsValue| {
        if !js::get(&response, "ok").is_truthy() {
            return;
        }
        // response.json().then(settings), all through JavaScript by name.
        let json = js_sys::Function::from(js::get(&response, "json"));
        if let Ok(parsed) = json.call0(&response) {
            js::then(&parsed, &settings, &JsValue::UNDEFINED);
        }
    });
    // A failure leaves the defaults: nothing to do.
    let ignore = Closure::once_into_js(|_: JsValue| {});
    js::then(&window.fetch_with_str_and_init(&url, &init), &answered, &ignore);
}
