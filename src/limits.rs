//! The limits on what a page view may hold, in one table shared by the
//! browser module (which cuts to them, so that it never sends a beacon the
//! collector would refuse) and the collector (which refuses a beacon past
//! them with a `400` naming the field); the README documents them.
//! Lengths are characters (Unicode code points).

/// Most custom dimensions (`palaute.tag`) per page view; past it, new keys
/// are ignored (an existing key may still change its value).
pub const MAX_TAGS: usize = 20;
/// Longest tag key, characters.
pub const MAX_TAG_KEY_CHARS: usize = 40;
/// Longest tag value, characters.
pub const MAX_TAG_VALUE_CHARS: usize = 200;
/// Longest feedback comment, characters.
pub const MAX_COMMENT_CHARS: usize = 1000;
/// Longest URL: the page's path and query (`url`), `lcp_url`,
/// `inp_script_url` (an image inlined as a `data:` URL is cut here).
pub const MAX_URL_CHARS: usize = 2048;
/// Longest route (`route`: `data-route`, `palaute.route`, a declared
/// pattern; a derived route is cut to it too). The collector cuts the
/// page's names (route, release) to their limits rather than refusing the
/// view; the module sends them as the page gave them.
pub const MAX_ROUTE_CHARS: usize = 200;
/// Longest release name (`release`: `data-release`, `palaute.release`).
pub const MAX_RELEASE_CHARS: usize = 100;
/// Longest selector (`lcp_element`, `inp_target`).
pub const MAX_SELECTOR_CHARS: usize = 512;
/// Longest host name (`referrer_host`).
pub const MAX_HOST_CHARS: usize = 253;
/// Longest script function name (`inp_script_function`).
pub const MAX_FUNCTION_CHARS: usize = 256;
/// Longest short word the browser names (`effective_type`,
/// `inp_script_invoker`).
pub const MAX_WORD_CHARS: usize = 64;

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
