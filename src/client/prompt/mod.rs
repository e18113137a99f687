//! The one-click feedback prompt: when it asks (the rules are in
//! [`crate::feedback::policy`]), and what happens on each answer.
//!
//! It asks by itself once the page has settled ([`SETTLE_MS`] after the
//! module started), after a slow interaction, or shortly after a visitor who
//! left during loading comes back. A rating is sent at once; the optional
//! comment follows in a second beacon of the same page view. Showing the
//! prompt records the time in `localStorage` (`palaute:asked`, a timestamp
//! and nothing else) for the per-origin frequency cap.

use alloc::{string::String, vec::Vec};

mod view;

use wasm_bindgen::prelude::*;

use crate::feedback::policy::{Experience, Moment, Policy};
use crate::feedback::text;

use super::api;
use super::events::after;
use super::js;
use super::session::{with_session, Session};
use view::{Action, PromptView};

/// How long after the module starts the page counts as settled (ms).
pub const SETTLE_MS: u32 = 2000;
/// Delay before asking a visitor who came back to the page (ms).
const RETURN_DELAY_MS: u32 = 1000;
/// How long the thanks stay before the prompt goes (ms).
const THANKS_MS: u32 = 3000;
const ASKED_KEY: &str = "palaute:asked";

/// The prompt's state for the current page view.
#[derive(Default)]
pub struct PromptState {
    /// The page has settled: the prompt may ask by itself.
    settled: bool,
    /// Asked (or answered) in this page view: it will not ask by itself again.
    done: bool,
    /// The rating given in the prompt, awaiting the optional comment.
    rating: Option<u8>,
    /// The prompt, while on the page.
    view: Option<PromptView>,
    /// How many prompts were opened in this page's life, so that a timer
    /// closes only the prompt it was set for.
    opened: u32,
}

impl PromptState {
    /// The state for a new page view of the same page (a bfcache restore):
    /// the page is still settled, nothing asked yet.
    pub fn for_new_view(&self) -> PromptState {
        PromptState { settled: self.settled, opened: self.opened, ..PromptState::default() }
    }
}

/// Starts the settle clock; called once when the module starts.
pub fn schedule_settle() {
    after(SETTLE_MS, || {
        with_session(|s| {
            s.prompt.settled = true;
            consider(s);
        })
    });
}

/// The page became visible again: a visitor who left while it loaded may
/// be asked, after a short moment.
pub fn on_visible() {
    after(RETURN_DELAY_MS, || with_session(consider));
}

/// Asks, if the site's policy says so now.
pub fn consider(s: &mut Session) {
    if s.prompt.done || !s.prompt.settled || s.prompt.view.is_some() {
        return;
    }
    let policy = Policy::from_attributes(s.loader().feedback_mode().as_deref(), s.loader().feedback_days());
    s.flush_observers();
    let view = s.view_mut();
    let hidden_while_loading = view.beacon.load_ms.is_none_or(|load| view.first_hidden < view.origin + load);
    let Some(document) = web_sys::window().and_then(|w| w.document()) else {
        return;
    };
    let visible = !document.hidden();
    let experience = Experience {
        lcp_ms: view.beacon.lcp_ms,
        load_ms: view.beacon.load_ms,
        inp_ms: view.interactions.reported().map(|i| i.latency),
        returned_after_abandoning: hidden_while_loading && view.first_hidden.is_finite() && visible,
    };
    // Called after every batch of performance entries: the storage and
    // navigator are read only when the experience calls for a prompt.
    if !policy.wants(&experience) {
        return;
    }
    let automated = web_sys::window().is_some_and(|w| js::get(&w.navigator(), "webdriver").is_truthy());
    let moment = Moment {
        automated,
        done_in_view: view.beacon.feedback.is_some(),
        visible,
        settled: true,
        last_asked_ms: storage()
            .and_then(|s| s.get_item(ASKED_KEY).ok().flatten())
            .map(|t| js_sys::Number::parse_float(&t))
            .filter(|t| t.is_finite()),
        now_ms: js_sys::Date::now(),
    };
    if policy.asks(&experience, &moment) {
        show(s);
    }
}

/// `palaute.ask()`: shows the prompt now. The page's own call is not held
/// back by the trigger mode or the frequency cap (but counts for the cap).
#[wasm_bindgen]
pub fn ask() {
    with_session(|s| {
        if s.prompt.view.is_none() {
            show(s);
        }
    });
}

fn show(s: &mut Session) {
    let language = web_sys::window().map(|w| w.navigator().languages()).unwrap_or_default();
    let preferred: Vec<String> = language.iter().filter_map(|l| l.as_string()).collect();
    let requested = s.loader().lang();
    let text = text::choose(requested.as_deref(), preferred.iter().map(String::as_str));
    s.prompt.done = true;
    s.prompt.rating = None;
    s.prompt.opened += 1;
    s.prompt.view = PromptView::open(text, s.scale_is_five(), |action| with_session(|s| on_action(s, action)));
    if s.prompt.view.is_some() {
        if let Some(storage) = storage() {
            let now = js_sys::Number::from(js_sys::Date::now())
                .to_string_with_radix(10)
                .map(String::from)
                .unwrap_or_default();
            let _ = storage.set_item(ASKED_KEY, &now);
        }
    }
}

fn on_action(s: &mut Session, action: Action) {
    let Some(prompt) = s.prompt.view.as_ref() else {
        return;
    };
    match action {
        Action::Rate(rating) => {
            if api::record(s, rating, None) {
                s.prompt.rating = Some(rating);
                if let Some(prompt) = s.prompt.view.as_ref() {
                    prompt.ask_comment();
                }
            }
        }
        Action::Send | Action::Skip => {
            let comment = if action == Action::Send { prompt.comment() } else { None };
            prompt.thank();
            if let (Some(rating), Some(comment)) = (s.prompt.rating, comment) {
                api::record(s, rating, Some(comment));
            }
            let thanked = s.prompt.opened;
            after(THANKS_MS, move || {
                with_session(|s| {
                    if s.prompt.opened == thanked {
                        s.prompt.view = None;
                    }
                })
            });
        }
        Action::Close => s.prompt.view = None,
    }
}

fn storage() -> Option<web_sys::Storage> {
    web_sys::window()?.local_storage().ok().flatten()
}
