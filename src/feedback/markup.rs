//! The prompt's markup, one step at a time, built from the prompt's own
//! [`Words`] and nothing else: what a visitor types is read as a value,
//! never put into markup. The browser client puts it into the prompt's
//! Shadow DOM; buttons carry their action in `data-a`
//! ([`Action::parse`] reads it back).

use super::words::Words;

/// The opening of the prompt's icons (a macro, so that templates can be
/// joined at compile time with `concat!`).
macro_rules! svg {
    () => {
        "<svg aria-hidden=true viewBox=\"0 0 24 24\">"
    };
}
macro_rules! thumb {
    () => {
        "<svg class=thumb aria-hidden=true viewBox=\"0 0 24 24\"><path d=\"M1 21h4V9H1v12zm22-11c0-1.1-.9-2-2-2h-6.31l.95-4.57.03-.32c0-.41-.17-.79-.44-1.06L14.17 1 7.59 7.59C7.22 7.95 7 8.45 7 9v10c0 1.1.9 2 2 2h9c.83 0 1.54-.5 1.84-1.22l3.02-7.05c.09-.23.14-.47.14-.73v-2z\"/></svg>"
    };
}

// Each template is its pieces of fixed markup, with one value between
// every two ([`fill`]).
const PROMPT: [&str; 6] = [
    "<section class=box aria-label=\"",
    "\" lang=",
    "><button class=x data-a=close aria-label=\"",
    "\" title=\"",
    concat!("\">", svg!(), "<path d=\"M6 6l12 12M18 6L6 18\"/></svg></button><div id=s aria-live=polite>"),
    "</div></section>",
];
const QUESTION: [&str; 4] = ["<p id=q>", "</p><div class=\"row", "\" role=group aria-labelledby=q>", "</div>"];
const FACE: [&str; 5] = [
    "<button data-a=r",
    " aria-label=\"",
    "\" title=\"",
    concat!("\">", svg!(), "<circle cx=12 cy=12 r=10 /><path d=\"M9 9.5v.5M15 9.5v.5M8 16q4 "),
    " 8 0\"/></svg></button>",
];
const THUMBS: [&str; 3] = [
    concat!("<button class=up data-a=r1>", thumb!()),
    concat!("</button><button class=down data-a=r0>", thumb!()),
    "</button>",
];
const COMMENT: [&str; 4] = [
    "<label for=c>",
    "</label><textarea id=c rows=3 maxlength=1000></textarea><div class=row><button class=primary data-a=send>",
    "</button><button data-a=skip>",
    "</button></div>",
];
const THANKS: [&str; 2] = ["<p role=status>", "</p>"];
/// Mouth curvature of the five faces, worst to best.
const MOUTHS: [&str; 5] = ["-3", "-1.5", "0", "1.5", "3"];
const DIGITS: [&str; 5] = ["1", "2", "3", "4", "5"];

/// The markup of `pieces` with `values` between them, in order.
fn fill(pieces: &[&str], values: &[&str]) -> String {
    let mut out = String::new();
    for (n, piece) in pieces.iter().enumerate() {
        if n > 0 {
            out.push_str(values.get(n - 1).copied().unwrap_or_default());
        }
        out.push_str(piece);
    }
    out
}

/// The id of the comment field (`root.getElementById`).
pub const COMMENT_ID: &str = "c";
/// The id of the element whose content is the current step.
pub const STEP_ID: &str = "s";

/// What a button of the prompt does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    /// Answer with this rating.
    Rate(u8),
    /// Send the comment.
    Send,
    /// Skip the comment.
    Skip,
    /// Close the prompt.
    Close,
}

impl Action {
    /// The action of a button's `data-a`.
    pub fn parse(code: &str) -> Option<Action> {
        match code {
            "send" => Some(Action::Send),
            "skip" => Some(Action::Skip),
            "close" => Some(Action::Close),
            _ => match code.as_bytes() {
                [b'r', digit @ b'0'..=b'5'] => Some(Action::Rate(digit - b'0')),
                _ => None,
            },
        }
    }
}

/// The whole prompt: its frame, the close button, and the question
/// (`stuck`: the one after a rage or dead click).
pub fn prompt(words: &Words, five: bool, stuck: bool) -> String {
    fill(&PROMPT, &[words.label, words.lang, words.close, words.close, &question(words, five, stuck)])
}

/// The question and its answer buttons.
pub fn question(words: &Words, five: bool, stuck: bool) -> String {
    let answers = if five {
        let faces = words.five.iter().zip(MOUTHS).zip(DIGITS);
        faces.map(|((answer, mouth), digit)| fill(&FACE, &[digit, answer, answer, mouth])).collect()
    } else {
        fill(&THUMBS, &[words.good, words.poor])
    };
    fill(&QUESTION, &[if stuck { words.stuck } else { words.question }, if five { " five" } else { "" }, &answers])
}

/// The optional comment, after a rating (its `maxlength` is
/// [`MAX_COMMENT_CHARS`](crate::limits::MAX_COMMENT_CHARS), checked by a test).
pub fn comment(words: &Words) -> String {
    fill(&COMMENT, &[words.comment, words.send, words.skip])
}

/// The thanks, announced to screen readers.
pub fn thanks(words: &Words) -> String {
    fill(&THANKS, &[words.thanks])
}

#[cfg(test)]
mod tests {
    use super::super::words::LANGUAGES;
    use super::*;
    use crate::limits::MAX_COMMENT_CHARS;

    #[test]
    fn actions_read_back_from_their_codes() {
        assert_eq!(Action::parse("r0"), Some(Action::Rate(0)));
        assert_eq!(Action::parse("r5"), Some(Action::Rate(5)));
        assert_eq!(Action::parse("close"), Some(Action::Close));
        for bad in ["r6", "r", "r12", "", "x"] {
            assert_eq!(Action::parse(bad), None, "{bad}");
        }
    }

    #[test]
    fn each_step_holds_its_words_and_buttons() {
        let en = &LANGUAGES[0];
        let thumbs = prompt(en, false, false);
        assert!(thumbs.contains("How was the speed of this page?") && thumbs.contains("lang=en"));
        let stuck = prompt(&LANGUAGES[1], false, true);
        assert!(stuck.contains("Eikö jokin toimi täällä?") && !stuck.contains(LANGUAGES[1].question));
        assert!(thumbs.contains("data-a=r1>") && thumbs.contains("data-a=r0>") && !thumbs.contains("data-a=r5"));
        let five = question(&LANGUAGES[1], true, false);
        for (i, answer) in LANGUAGES[1].five.iter().enumerate() {
            let button = format!("<button data-a=r{} aria-label=\"{answer}\"", i + 1);
            assert!(five.contains(&button), "{button}");
        }
        assert!(comment(en).contains("maxlength=1000>") && comment(en).contains("data-a=send"));
        assert_eq!(thanks(en), "<p role=status>Thank you for your feedback!</p>");
        assert!(COMMENT[1].contains(&format!("maxlength={MAX_COMMENT_CHARS}>")));
        assert_eq!(fill(&["a", "b", ""], &["1", "2"]), "a1b2");
    }

    #[test]
    fn the_markup_is_balanced() {
        for words in &LANGUAGES {
            for markup in [prompt(words, true, false), prompt(words, false, true), comment(words), thanks(words)] {
                for tag in ["section", "button", "div", "svg", "p", "label", "textarea"] {
                    let opened =
                        markup.matches(&format!("<{tag}>")).count() + markup.matches(&format!("<{tag} ")).count();
                    assert_eq!(opened, markup.matches(&format!("</{tag}>")).count(), "{tag} in {markup}");
                }
            }
        }
    }
}
