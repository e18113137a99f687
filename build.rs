//! Minifies the feedback prompt's stylesheet (`src/client/prompt.css`,
//! kept readable and commented) into `OUT_DIR/prompt.css`, which the
//! browser module embeds: comments dropped, whitespace collapsed.

use std::{env, fs, path::Path};

fn minify(css: &str) -> String {
    let mut text = String::with_capacity(css.len());
    let mut rest = css;
    while let Some(start) = rest.find("/*") {
        text.push_str(&rest[..start]);
        rest = rest[start..].find("*/").map_or("", |end| &rest[start + end + 2..]);
    }
    text.push_str(rest);
    let collapsed = text.split_whitespace().collect::<Vec<_>>().join(" ");
    let mut out = String::with_capacity(collapsed.len());
    let mut chars = collapsed.chars().peekable();
    while let Some(c) = chars.next() {
        // No space next to punctuation that separates (a space before `:`
        // may be a descendant selector, so it stays).
        if c == ' '
            && (out.ends_with(['{', '}', ';', ',', ':', '>'])
                || matches!(chars.peek(), Some('{' | '}' | ';' | ',' | '>')))
        {
            continue;
        }
        if c == '}' && out.ends_with(';') {
            out.pop();
        }
        out.push(c);
    }
    out
}

fn main() {
    let source = "src/client/prompt.css";
    println!("cargo:rerun-if-changed={source}");
    let css = fs::read_to_string(source).expect("src/client/prompt.css is readable");
    let out = Path::new(&env::var("OUT_DIR").expect("cargo sets OUT_DIR")).join("prompt.css");
    fs::write(out, minify(&css)).expect("OUT_DIR is writable");
}
