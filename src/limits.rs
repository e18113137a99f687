//! The client's limits on what a page may put into a page view, in one
//! table: the browser module cuts to them, the README documents them.

/// Most custom dimensions (`palaute.tag`) per page view; past it, new keys
/// are ignored (an existing key may still change its value).
pub const MAX_TAGS: usize = 20;
/// Longest tag key, characters (Unicode code points).
pub const MAX_TAG_KEY_CHARS: usize = 40;
/// Longest tag value, characters.
pub const MAX_TAG_VALUE_CHARS: usize = 200;
/// Longest feedback comment, characters.
pub const MAX_COMMENT_CHARS: usize = 1000;

/// `text` cut to `max` characters (code points, never half of one).
pub fn cut(text: &str, max: usize) -> &str {
    // The byte where character `max` starts: count the bytes that start a
    // character (a byte loop: a fraction of `char_indices`' code in the
    // browser module).
    let mut chars = 0;
    for (at, byte) in text.bytes().enumerate() {
        if (byte as i8) >= -0x40 {
            if chars == max {
                return text.get(..at).unwrap_or(text);
            }
            chars += 1;
        }
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cut_counts_characters_not_bytes() {
        assert_eq!(cut("abc", 2), "ab");
        assert_eq!(cut("äöü€", 3), "äöü");
        assert_eq!(cut("👍👍", 1), "👍");
        assert_eq!(cut("short", 40), "short");
        assert_eq!(cut("", 0), "");
    }
}
