//! The prompt on the page: a `<palaute-prompt>` element at the end of the
//! body whose Shadow DOM holds the prompt, fixed to a corner of
//! the viewport, so it shifts nothing and the site's CSS and the prompt's
//! never meet. Its text comes only from the prompt's own word lists; what a
//! visitor types is read as a value and never put into markup.

use alloc::{string::String, string::ToString};
use wasm_bindgen::JsCast;
use web_sys::{Element, ShadowRoot, ShadowRootInit, ShadowRootMode};

use crate::feedback::text::Text;

use super::super::events::Listener;
use super::super::js;

/// The stylesheet, minified by `build.rs`.
const STYLE: &str = include_str!(concat!(env!("OUT_DIR"), "/prompt.min.css"));
/// Longest comment the text box takes, in characters.
const MAX_COMMENT_ATTR: &str = "1000";
const THUMB: &str = "<svg class=thumb aria-hidden=true viewBox=\"0 0 24 24\"><path d=\"M1 21h4V9H1v12zm22-11c0-1.1-.9-2-2-2h-6.31l.95-4.57.03-.32c0-.41-.17-.79-.44-1.06L14.17 1 7.59 7.59C7.22 7.95 7 8.45 7 9v10c0 1.1.9 2 2 2h9c.83 0 1.54-.5 1.84-1.22l3.02-7.05c.09-.23.14-.47.14-.73v-2z\"/></svg>";
const CROSS: &str = "<svg aria-hidden=true viewBox=\"0 0 24 24\"><path d=\"M6 6l12 12M18 6L6 18\"/></svg>";
/// Mouth curvature of the five faces, worst to best.
const MOUTHS: [&str; 5] = ["-3", "-1.5", "0", "1.5", "3"];

/// What the visitor did in the prompt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    /// Chose a rating.
    Rate(u8),
    /// Sent the comment.
    Send,
    /// Skipped the comment.
    Skip,
    /// Closed the prompt (its button or Esc).
    Close,
}

impl Action {
    fn parse(name: &str) -> Option<Action> {
        match name {
            "send" => Some(Action::Send),
            "skip" => Some(Action::Skip),
            "close" => Some(Action::Close),
            _ => name.strip_prefix('r')?.parse().ok().map(Action::Rate),
        }
    }
}

/// The prompt element while it is on the page; removed when dropped.
pub struct PromptView {
    host: Element,
    root: ShadowRoot,
    text: &'static Text,
    _listeners: [Listener; 2],
}

impl PromptView {
    /// Puts the prompt on the page, asking for a rating on the five-point
    /// scale or with thumbs. It takes no focus. Every action is handed to
    /// `on_action` with the session.
    pub fn open(text: &'static Text, five: bool, on_action: fn(Action)) -> Option<PromptView> {
        let window = web_sys::window()?;
        let document = window.document()?;
        let host = document.create_element("palaute-prompt").ok()?;
        let root = host.attach_shadow(&ShadowRootInit::new(ShadowRootMode::Open)).ok()?;
        let mut markup = String::with_capacity(2048);
        if !adopt_style(&root) {
            // No constructable stylesheets: an inline one (needs style-src).
            markup.push_str("<style>");
            markup.push_str(STYLE);
            markup.push_str("</style>");
        }
        for part in [
            "<section class=box aria-label=\"",
            text.label,
            "\" lang=",
            text.lang,
            "><button class=x data-a=close aria-label=\"",
            text.close,
            "\" title=\"",
            text.close,
            "\">",
            CROSS,
            "</button><div id=s aria-live=polite>",
        ] {
            markup.push_str(part);
        }
        markup.push_str(&rating_step(text, five));
        markup.push_str("</div></section>");
        root.set_inner_html(&markup);
        let clicks = Listener::new(&root, "click", false, move |event| {
            let button = event
                .target()
                .and_then(|t| t.dyn_into::<Element>().ok())
                .and_then(|t| t.closest("button").ok().flatten());
            if let Some(action) = button.and_then(|b| b.get_attribute("data-a")).as_deref().and_then(Action::parse) {
                on_action(action);
            }
        });
        let escape = Listener::new(&window, "keydown", false, move |event| {
            if js::text(&event, "key").as_deref() == Some("Escape") {
                on_action(Action::Close);
            }
        });
        document.body().map(Element::from).or_else(|| document.document_element())?.append_child(&host).ok()?;
        Some(PromptView { host, root, text, _listeners: [clicks, escape] })
    }

    /// Asks for the optional comment. Focus moves into the text box only
    /// when the visitor's focus was already in the prompt (they rated with
    /// the keyboard or a click on its button).
    pub fn ask_comment(&self) {
        let focused = self.root.active_element().is_some();
        let mut markup = String::with_capacity(512);
        for part in [
            "<label for=c>",
            self.text.comment,
            "</label><textarea id=c rows=3 maxlength=",
            MAX_COMMENT_ATTR,
            "></textarea><div class=row><button class=primary data-a=send>",
            self.text.send,
            "</button><button data-a=skip>",
            self.text.skip,
            "</button></div>",
        ] {
            markup.push_str(part);
        }
        self.set_step(&markup);
        if focused {
            if let Some(field) =
                self.root.get_element_by_id("c").and_then(|e| e.dyn_into::<web_sys::HtmlElement>().ok())
            {
                let _ = field.focus();
            }
        }
    }

    /// Thanks the visitor.
    pub fn thank(&self) {
        let mut markup = String::from("<p role=status>");
        markup.push_str(self.text.thanks);
        markup.push_str("</p>");
        self.set_step(&markup);
    }

    /// The comment typed so far, trimmed; `None` when empty.
    pub fn comment(&self) -> Option<String> {
        let field = self.root.get_element_by_id("c")?;
        let value = js::text(&field, "value")?;
        let trimmed = value.trim();
        (!trimmed.is_empty()).then(|| trimmed.to_string())
    }

    fn set_step(&self, markup: &str) {
        if let Some(step) = self.root.get_element_by_id("s") {
            step.set_inner_html(markup);
        }
    }
}

impl Drop for PromptView {
    fn drop(&mut self) {
        self.host.remove();
    }
}

/// The question and its answer buttons.
fn rating_step(text: &Text, five: bool) -> String {
    let mut markup = String::with_capacity(1536);
    markup.push_str("<p id=q>");
    markup.push_str(text.question);
    markup.push_str("</p><div class=\"row");
    markup.push_str(if five { " five" } else { "" });
    markup.push_str("\" role=group aria-labelledby=q>");
    if five {
        for (index, (label, mouth)) in text.five.iter().zip(MOUTHS).enumerate() {
            let rating = char::from(b'1' + index as u8);
            for part in
                ["<button data-a=r", rating.encode_utf8(&mut [0; 4]), " aria-label=\"", label, "\" title=\"", label]
            {
                markup.push_str(part);
            }
            for part in ["\"><svg aria-hidden=true viewBox=\"0 0 24 24\"><circle cx=12 cy=12 r=10 /><path d=\"M9 9.5v.5M15 9.5v.5M8 16q4 ", mouth, " 8 0\"/></svg></button>"] {
                markup.push_str(part);
            }
        }
    } else {
        for (rating, class, label) in [("1", "up", text.good), ("0", "down", text.poor)] {
            for part in ["<button class=", class, " data-a=r", rating, ">", THUMB, label, "</button>"] {
                markup.push_str(part);
            }
        }
    }
    markup.push_str("</div>");
    markup
}

/// Styles the shadow root with a constructed stylesheet, which a strict
/// Content-Security-Policy allows; `false` where the browser cannot.
fn adopt_style(root: &ShadowRoot) -> bool {
    let Ok(sheet) = web_sys::CssStyleSheet::new() else {
        return false;
    };
    if sheet.replace_sync(STYLE).is_err() {
        return false;
    }
    js::set(root, "adoptedStyleSheets", &js_sys::Array::of1(&sheet));
    true
}
