//! The one-click feedback prompt on the page: when it asks, what happens on
//! each answer, and its Shadow DOM.
//!
//! It asks by itself once the page has settled ([`SETTLE_MS`] after the
//! module started), after a slow interaction, or shortly after a visitor
//! who left during loading comes back, when [`Policy`] says so (trigger
//! mode, frequency cap, never for robots, never twice). A rating is sent at
//! once; the optional comment follows in a second beacon of the same page
//! view. Showing the prompt records the time in
//! `localStorage['palaute:asked']` (a timestamp and nothing else) for the
//! per-origin cap.
//!
//! On the page it is a `<palaute-prompt>` element at the end of the body
//! whose Shadow DOM holds the prompt, fixed to a corner of the viewport, so
//! it shifts nothing and the site's CSS and the prompt's never meet. Its
//! markup is [`crate::feedback::markup`]'s, from the prompt's own words
//! only; what a visitor types is read as a value, never put into markup.

use gloo_events::{EventListener, EventListenerOptions};
use wasm_bindgen::prelude::*;
use web_sys::{
    CssStyleSheet, Element, HtmlElement, HtmlTextAreaElement, KeyboardEvent, ShadowRoot, ShadowRootInit, ShadowRootMode,
};

use super::dom::{hidden, storage};
use super::js::{self, Timeout};
use super::session::{self, Session};
use crate::feedback::markup::{self, Action, COMMENT_ID, STEP_ID};
use crate::feedback::policy::{Experience, Moment, Policy};
use crate::feedback::words::{self, Words};
use crate::limits::{cut, MAX_COMMENT_CHARS};
use crate::vitals::view::Metric;
use crate::wire::{Feedback, Scale, Trigger};

/// How long after the module starts the page counts as settled, ms.
pub const SETTLE_MS: u32 = 2000;
/// Delay before asking a visitor who came back to the page, ms.
pub const RETURN_DELAY_MS: u32 = 1000;
/// How long the thanks stay before the prompt goes, ms.
pub const THANKS_MS: u32 = 3000;
/// The `localStorage` key of the time the prompt last asked on this origin.
pub const ASKED_KEY: &str = "palaute:asked";
/// The prompt's stylesheet (`prompt.css`, minified by `build.rs`), adopted as a constructed sheet.
const STYLE: &str = include_str!(concat!(env!("OUT_DIR"), "/prompt.css"));

/// The prompt's state over the page's life.
#[derive(Default)]
pub struct Prompt {
    /// The page has settled: the prompt may ask by itself.
    settled: bool,
    /// Asked (or answered) in this page view: it will not ask by itself again.
    done: bool,
    /// The rating given in the prompt, awaiting the optional comment.
    rating: Option<u8>,
    /// What made the prompt ask, for its answer.
    trigger: Option<Trigger>,
    /// The prompt while it is on the page.
    open: Option<Open>,
    /// The settle timer, then the return timer (a visitor back on the
    /// page): a new one replaces (cancels) the one before.
    timer: Option<Timeout>,
    /// Prompts asked for in this page's life, so that a part fetched for one
    /// draws only that one (not one of another view, or after another).
    opened: u32,
    /// The module's second part, the prompt's interface, is there.
    part: bool,
}

/// The prompt on the page; dropping it takes it away (its listeners, and
/// the thanks' timer with it).
struct Open {
    host: Element,
    root: ShadowRoot,
    words: &'static Words,
    /// Takes the prompt away once the thanks have been read.
    thanks: Option<Timeout>,
    _click: EventListener,
    _escape: EventListener,
}

impl Drop for Open {
    fn drop(&mut self) {
        self.host.remove();
    }
}

impl Open {
    /// Replaces the current step. Focus moves to `focus` only when the
    /// visitor's focus was already in the prompt (as after rating with the
    /// keyboard): the prompt never takes focus by itself.
    fn step(&self, markup: &str, focus: Option<&str>) {
        let focused = self.root.active_element().is_some();
        if let Some(step) = self.root.get_element_by_id(STEP_ID) {
            step.set_inner_html(markup);
        }
        if let Some(id) = focus.filter(|_| focused) {
            if let Some(field) = self.root.get_element_by_id(id) {
                let _ = field.unchecked_into::<HtmlElement>().focus();
            }
        }
    }
}

impl Prompt {
    /// A new page view of the same page (a bfcache restore): still settled,
    /// nothing asked yet.
    pub fn new_view(&mut self) {
        self.done = false;
        self.rating = None;
        self.open = None;
        // A prompt of the view before that still awaits the part is not
        // for this one.
        self.opened += 1;
    }
}

/// Starts the settle clock; called once when the module starts.
pub fn schedule_settle(s: &mut Session) {
    s.prompt.timer = Some(js::after(
        SETTLE_MS,
        Box::new(|| {
            session::with(|s| {
                s.prompt.settled = true;
                consider(s, None);
            });
        }),
    ));
}

/// The page is visible again: a visitor who left while it loaded may be
/// asked, after a short moment (one moment: a later return restarts it).
pub fn on_visible(s: &mut Session) {
    if s.prompt.settled {
        s.prompt.timer = Some(js::after(
            RETURN_DELAY_MS,
            Box::new(|| {
                session::with(|s| consider(s, None));
            }),
        ));
    }
}

fn experience(s: &Session, visible: bool) -> Experience {
    let rules = &s.view.rules;
    Experience {
        lcp_ms: rules.metric(Metric::Lcp),
        load_ms: rules.metric(Metric::Load),
        inp_ms: rules.metric(Metric::Inp),
        returned_after_abandoning: rules.returned_after_abandoning(visible),
        frustrated: s.view.frustration.first.is_some(),
    }
}

/// Asks, if the site's policy says so now (once the readings are
/// collected); `asking`: what just happened (a rage or dead click), which
/// is then what asked.
pub fn consider(s: &mut Session, asking: Option<Trigger>) {
    s.measure();
    decide(s, asking);
}

/// Asks, if the site's policy says so from the readings already collected
/// (an observer's callback has just collected them). Before the page has
/// settled, a view that calls for a prompt has the prompt's interface (the
/// module's second part) fetched, so that it shows at once when it asks.
pub fn decide(s: &mut Session, asking: Option<Trigger>) {
    if s.prompt.done || s.prompt.open.is_some() {
        return;
    }
    let settled = s.prompt.settled;
    let w = js::window();
    let visible = !hidden();
    let policy = Policy::new(s.settings.mode, s.settings.cap_days);
    let experience = experience(s, visible);
    // Called after every batch of performance entries: the storage is read
    // only when the experience calls for a prompt.
    if !policy.wants(&experience) {
        return;
    }
    let last = storage().and_then(|s| s.get_item(ASKED_KEY).ok().flatten()).map(|t| js_sys::parse_float(&t));
    let moment = Moment {
        automated: js::flag(&w.navigator(), "webdriver") == Some(true),
        done_in_view: s.view.beacon.feedback.is_some(),
        visible,
        settled: true,
        last_asked_ms: last.and_then(js::known),
        now_ms: js_sys::Date::now(),
    };
    if !settled {
        // The view calls for a prompt before the prompt may ask: its
        // interface (the module's second part) is fetched now, so that it
        // shows at once when it does.
        if policy.asks(&experience, &Moment { visible: true, ..moment }) {
            let _ = load_part(s);
        }
    } else if policy.asks(&experience, &moment) {
        show(s, asking.or(experience.reason()));
    }
}

/// `palaute.ask()`: shows the prompt now. The page's own call is not held
/// back by the trigger mode or the cap (but counts for the cap).
pub fn ask(s: &mut Session) {
    if s.prompt.open.is_none() {
        show(s, Some(Trigger::Api));
    }
}

/// Records the visitor's answer on the page view, with what asked for it,
/// and sends it at once; `false` when the rating is not on the site's scale.
pub fn record(s: &mut Session, rating: f64, comment: Option<&str>, trigger: Option<Trigger>) -> bool {
    let scale = s.scale();
    let whole = rating as u8;
    if f64::from(whole) != rating || !scale.accepts(whole) {
        return false;
    }
    let view = &mut s.view;
    let earlier = view.beacon.feedback.as_ref();
    // A comment for the rating already given keeps the time of the rating.
    let at_ms = match earlier {
        Some(e) if e.rating == whole && comment.is_some() => e.at_ms,
        _ => view.rules.since_start(js::now()),
    };
    let comment = comment.map(|c| String::from(cut(c, MAX_COMMENT_CHARS)));
    view.beacon.feedback = Some(Feedback { rating: whole, scale, comment, at_ms, trigger });
    s.collect(None);
    s.send(false);
    true
}

fn show(s: &mut Session, trigger: Option<Trigger>) {
    let p = &mut s.prompt;
    p.done = true;
    p.rating = None;
    p.trigger = trigger;
    p.opened += 1;
    // The interface is the module's second part: drawn now if the loader
    // has it, else when it has (unless another prompt was asked for, or
    // another view began, since).
    let Some(loading) = load_part(s) else {
        draw_and_count(s);
        return;
    };
    let opened = s.prompt.opened;
    js::when_settled(
        &loading,
        Box::new(move |loaded| {
            session::with(|s| {
                if loaded.is_truthy() && s.prompt.opened == opened && s.prompt.open.is_none() {
                    s.prompt.part = true;
                    draw_and_count(s);
                }
            });
        }),
    );
}

/// Puts the prompt on the page, and records the time it asked for the
/// per-origin cap (only once it is there: a part that could not be
/// fetched asked nothing).
fn draw_and_count(s: &mut Session) {
    palaute_prompt(s);
    if let (Some(storage), Ok(now)) = (storage(), js_sys::JSON::stringify(&js_sys::Date::now().into())) {
        let _ = storage.set_item(ASKED_KEY, &String::from(now));
    }
}

/// Has the loader fetch and instantiate the module's second part (the
/// prompt's interface, split off by `scripts/build-client.sh`): the
/// loader's `L.part()`, a promise of whether it is there. `None` when it
/// is already there, or when the module is whole (a build without the
/// split, or the module's own tests: no `L.part`).
pub fn load_part(s: &Session) -> Option<js_sys::Promise> {
    if s.prompt.part {
        return None;
    }
    s.loader.part()
}

/// The prompt's interface, from here on: the root of the module's second
/// part. `scripts/build-client.sh` moves this function, and every function
/// and datum that only it reaches (its markup, words and stylesheet, its
/// buttons' handlers), into that part, by the call graph; it stays
/// exported under this name for that. The rest calls it only once the
/// part is there ([`load_part`]).
#[no_mangle]
#[inline(never)]
pub extern "C" fn palaute_prompt(s: &mut Session) {
    let languages = js::window().navigator().languages();
    let words = words::choose(&s.settings.lang, languages.iter().filter_map(|l| l.as_string()));
    let five = s.scale() == Scale::Five;
    let stuck = s.prompt.trigger == Some(Trigger::Frustration);
    s.prompt.open = draw(words, five, stuck);
}

fn on_action(s: &mut Session, action: Action) {
    let Some(words) = s.prompt.open.as_ref().map(|open| open.words) else { return };
    match action {
        Action::Rate(value) => {
            if record(s, f64::from(value), None, s.prompt.trigger) {
                s.prompt.rating = Some(value);
                if let Some(open) = &s.prompt.open {
                    open.step(&markup::comment(words), Some(COMMENT_ID));
                }
            }
        }
        Action::Close => s.prompt.open = None,
        Action::Send | Action::Skip => {
            let Some(open) = &s.prompt.open else { return };
            let field = open.root.get_element_by_id(COMMENT_ID);
            // Trimmed as JavaScript trims (Unicode white space), by the
            // browser: Rust's `trim` brings its own tables (0.7 KB).
            let typed = field.map(|f| f.unchecked_into::<HtmlTextAreaElement>().value());
            let comment = typed.map(|t| String::from(js_sys::JsString::from(t).trim())).unwrap_or_default();
            open.step(&markup::thanks(words), None);
            if let (Some(rating), Action::Send, false) = (s.prompt.rating, action, comment.is_empty()) {
                record(s, f64::from(rating), Some(&comment), s.prompt.trigger);
            }
            if let Some(open) = &mut s.prompt.open {
                open.thanks = Some(js::after(
                    THANKS_MS,
                    Box::new(|| {
                        session::with(|s| s.prompt.open = None);
                    }),
                ));
            }
        }
    }
}

/// Puts the prompt on the page. It takes no focus.
fn draw(words: &'static Words, five: bool, stuck: bool) -> Option<Open> {
    let d = js::window().document()?;
    let host = d.create_element("palaute-prompt").ok()?;
    let root = host.attach_shadow(&ShadowRootInit::new(ShadowRootMode::Open)).ok()?;
    let mut html = String::new();
    // A constructed stylesheet, which a strict Content-Security-Policy
    // allows; without constructable stylesheets, an inline one (needs style-src).
    match CssStyleSheet::new() {
        Ok(sheet) => {
            let _ = sheet.replace_sync(STYLE);
            root.set_adopted_style_sheets(&js_sys::Array::of1(&sheet));
        }
        Err(_) => {
            html.push_str("<style>");
            html.push_str(STYLE);
            html.push_str("</style>");
        }
    }
    html.push_str(&markup::prompt(words, five, stuck));
    root.set_inner_html(&html);
    let click = js::listen(&root, "click", EventListenerOptions::default(), |e| {
        let button = e.target().and_then(|t| t.dyn_into::<Element>().ok()).and_then(|t| t.closest("button").ok()?);
        if let Some(action) = button.and_then(|b| b.get_attribute("data-a")).and_then(|a| Action::parse(&a)) {
            session::with(|s| on_action(s, action));
        }
    });
    let escape = js::listen(&js::window(), "keydown", EventListenerOptions::default(), |e| {
        if e.unchecked_ref::<KeyboardEvent>().key() == "Escape" {
            session::with(|s| on_action(s, Action::Close));
        }
    });
    d.body().map_or_else(|| d.document_element(), |b| Some(b.into()))?.append_child(&host).ok()?;
    Some(Open { host, root, words, thanks: None, _click: click, _escape: escape })
}
