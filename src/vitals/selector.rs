//! The short CSS-like selector of an element (`lcp_element`, `inp_target`),
//! exactly as web-vitals' `getSelector` builds it: `tag.classes` parts
//! (classes sorted) joined by `>` from the element up, stopping at an
//! element with an id (`#id`) and at 100 characters (UTF-16 units, as
//! JavaScript counts). The browser client walks the DOM and hands each
//! node's [`Part`] here.

/// Longest selector, UTF-16 units (web-vitals' `MAX_LEN`).
pub const MAX_LEN: usize = 100;

/// One node on the way up, as the DOM gives it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Part {
    /// `nodeType == 1` (an element).
    pub element: bool,
    /// `nodeName` as the DOM gives it.
    pub name: String,
    /// `id` (empty: none).
    pub id: String,
    /// `classList.value`.
    pub classes: String,
}

impl Part {
    /// The node's part of the selector: `#id`, else the name (lowercase for
    /// elements; `#text` → `TEXT` for other nodes) and its sorted classes.
    #[expect(clippy::single_char_add_str, reason = "push(char) costs UTF-8 encoding code in the browser module")]
    pub fn text(&self) -> String {
        if !self.id.is_empty() {
            let mut part = String::from("#");
            part.push_str(&self.id);
            return part;
        }
        let mut part = if self.element {
            self.name.to_ascii_lowercase()
        } else {
            self.name.strip_prefix('#').unwrap_or(&self.name).to_ascii_uppercase()
        };
        let mut classes: Vec<&str> = Vec::new();
        // An insertion sort: a few classes at most, and a fraction of the
        // browser module's bytes that the standard sorts cost.
        for class in self.classes.split_ascii_whitespace() {
            let at = classes.partition_point(|c| *c < class);
            if classes.get(at) != Some(&class) {
                classes.insert(at, class);
            }
        }
        for class in classes {
            part.push_str(".");
            part.push_str(class);
        }
        part
    }
}

fn js_len(text: &str) -> usize {
    text.encode_utf16().count()
}

/// Builds the selector from the parts of a node and its ancestors, nearest
/// first (`next` is asked for one more, up to the document); `None` when
/// there is none.
#[expect(clippy::single_char_add_str, reason = "push(char) costs UTF-8 encoding code in the browser module")]
pub fn selector(mut next: impl FnMut() -> Option<Part>) -> Option<String> {
    let mut sel = String::new();
    while let Some(node) = next() {
        let part = node.text();
        if js_len(&sel) + js_len(&part) > MAX_LEN - 1 {
            return Some(if sel.is_empty() { part } else { sel });
        }
        sel = if sel.is_empty() {
            part
        } else {
            let mut joined = part;
            joined.push_str(">");
            joined.push_str(&sel);
            joined
        };
        if !node.id.is_empty() {
            break;
        }
    }
    (!sel.is_empty()).then_some(sel)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn el(name: &str, id: &str, classes: &str) -> Part {
        Part { element: true, name: name.into(), id: id.into(), classes: classes.into() }
    }

    fn of(parts: Vec<Part>) -> Option<String> {
        let mut parts = parts.into_iter();
        selector(|| parts.next())
    }

    #[test]
    fn parts_from_the_element_up_to_an_id() {
        let parts = vec![el("IMG", "", "hero b a"), el("DIV", "", ""), el("MAIN", "top", "x"), el("BODY", "", "")];
        assert_eq!(of(parts).as_deref(), Some("#top>div>img.a.b.hero"));
        assert_eq!(of(vec![el("svg", "", "icon")]).as_deref(), Some("svg.icon"));
        let text = Part { element: false, name: "#text".into(), ..Part::default() };
        assert_eq!(of(vec![text, el("P", "", "")]).as_deref(), Some("p>TEXT"));
        assert_eq!(of(vec![]), None);
    }

    #[test]
    fn at_most_100_characters_keeping_the_nearest_parts() {
        let long = "c".repeat(60);
        let parts = vec![el("SPAN", "", &long), el("DIV", "", &long), el("BODY", "", "")];
        assert_eq!(of(parts).unwrap(), format!("span.{long}"));
        let huge = "d".repeat(120);
        assert_eq!(of(vec![el("B", "", &huge)]).unwrap(), format!("b.{huge}"), "one part alone is kept whole");
        // JavaScript counts UTF-16 units: an emoji is two.
        let emoji = "😀".repeat(48);
        let parts = vec![el("I", "", &emoji), el("PRE", "", "")];
        assert_eq!(of(parts).unwrap(), format!("i.{emoji}"));
    }
}
