//! Minifies the feedback prompt's stylesheet into `OUT_DIR` (comments and
//! layout whitespace out), so the module carries only what the browser reads.

use std::{env, fs, path::Path};

const STYLESHEET: &str = "src/client/prompt/prompt.css";

fn main() {
    println!("cargo:rerun-if-changed={STYLESHEET}");
    let css = fs::read_to_string(STYLESHEET).expect("the prompt's stylesheet");
    let out = Path::new(&env::var("OUT_DIR").expect("OUT_DIR")).join("prompt.min.css");
    fs::write(out, minify(&css)).expect("OUT_DIR is writable");
}

/// Drops `/* */` comments, collapses whitespace, and removes it around
/// `{`, `}`, `;`, `,` and after `:`, which CSS does not need. Spaces inside
/// `calc()` and before `:` (a descendant's pseudo-class) are kept.
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
    let chars: Vec<char> = collapsed.chars().collect();
    for (i, &c) in chars.iter().enumerate() {
        let tight = |c: char| matches!(c, '{' | '}' | ';' | ',');
        let previous = out.chars().last();
        if c == ' ' && (previous.is_some_and(|p| tight(p) || p == ':') || chars.get(i + 1).is_some_and(|n| tight(*n))) {
            continue;
        }
        out.push(c);
    }
    out.replace(";}", "}")
}
