//! User agent → device, browser and OS classes (with the `woothee` parser).
//! The raw user agent is never stored.

/// The classes a user agent is reduced to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UaClasses {
    /// `desktop`, `mobile`, `tablet`, `bot` or `other`.
    pub device: String,
    /// Browser family, e.g. `Chrome`, `Firefox`, `Safari`.
    pub browser: String,
    /// OS family, e.g. `Windows 10`, `Android`, `iOS`, `Linux`.
    pub os: String,
}

/// Distinct user agents whose classes are kept: a site's visitors share a
/// few hundred browsers, and parsing one takes dozens of regex searches.
const CACHED_USER_AGENTS: usize = 4_096;

/// The part of a user agent that is classified and cached, bytes. Real
/// browsers' are under 300 (every class is decided within it); a client
/// sending 380 KB headers then holds at most this much per cache entry,
/// so the cache stays under 4,096 × 512 B, about 2 MB.
pub const MAX_USER_AGENT_BYTES: usize = 512;

/// `user_agent` cut to [`MAX_USER_AGENT_BYTES`], at a character boundary.
fn truncated(user_agent: &str) -> &str {
    let mut end = user_agent.len().min(MAX_USER_AGENT_BYTES);
    while !user_agent.is_char_boundary(end) {
        end -= 1;
    }
    &user_agent[..end]
}

/// Classifies a user agent string (its first [`MAX_USER_AGENT_BYTES`]),
/// from a bounded cache when it was seen lately.
pub fn classify(user_agent: &str) -> UaClasses {
    let user_agent = truncated(user_agent);
    static CACHE: std::sync::OnceLock<quick_cache::sync::Cache<String, UaClasses>> = std::sync::OnceLock::new();
    let cache = CACHE.get_or_init(|| quick_cache::sync::Cache::new(CACHED_USER_AGENTS));
    if let Some(classes) = cache.get(user_agent) {
        return classes;
    }
    let classes = parse(user_agent);
    cache.insert(user_agent.to_string(), classes.clone());
    classes
}

/// Classifies a user agent string with the parser.
fn parse(user_agent: &str) -> UaClasses {
    let parsed = woothee::parser::Parser::new().parse(user_agent);
    let (category, browser, os) = parsed.map(|r| (r.category, r.name.to_string(), r.os.to_string())).unwrap_or((
        "UNKNOWN",
        "UNKNOWN".into(),
        "UNKNOWN".into(),
    ));
    let tablet = user_agent.contains("iPad")
        || user_agent.contains("Tablet")
        || (user_agent.contains("Android") && !user_agent.contains("Mobile"));
    let device = match category {
        "crawler" => "bot",
        _ if is_headless(user_agent) => "bot",
        "smartphone" | "mobilephone" if tablet => "tablet",
        "smartphone" | "mobilephone" => "mobile",
        "pc" => "desktop",
        _ => "other",
    };
    let known = |s: String| {
        if s == "UNKNOWN" {
            "other".to_string()
        } else {
            s
        }
    };
    UaClasses { device: device.into(), browser: known(browser), os: known(os) }
}

/// Headless browsers, audit tools and HTTP libraries announce themselves in
/// the user agent.
pub fn is_headless(user_agent: &str) -> bool {
    ["HeadlessChrome", "PhantomJS", "Lighthouse", "curl/", "Wget/", "python-requests", "Go-http-client", "okhttp"]
        .iter()
        .any(|m| user_agent.contains(m))
}

impl UaClasses {
    /// A crawler, headless browser or script rather than a visitor.
    pub fn is_bot(&self) -> bool {
        self.device == "bot"
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_first_512_bytes_are_classified_and_cut_between_characters() {
        let long =
            format!("{}{}", "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) Mobile/15E148 ", "é".repeat(400));
        assert!(truncated(&long).len() <= MAX_USER_AGENT_BYTES && truncated(&long).len() >= MAX_USER_AGENT_BYTES - 1);
        assert_eq!(classify(&long).device, "mobile");
        assert_eq!(truncated("short"), "short");
    }

    fn check(ua: &str, device: &str, browser: &str, os: &str) {
        let got = classify(ua);
        assert_eq!((got.device.as_str(), got.browser.as_str(), got.os.as_str()), (device, browser, os), "{ua}");
    }

    #[test]
    fn classifies_common_user_agents() {
        check(
            "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36",
            "desktop", "Chrome", "Windows 10",
        );
        check(
            "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.0 Mobile/15E148 Safari/604.1",
            "mobile", "Safari", "iPhone",
        );
        check(
            "Mozilla/5.0 (Linux; Android 13; SM-X700) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36",
            "tablet", "Chrome", "Android",
        );
        check("Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)", "bot", "Googlebot", "other");
        check(
            "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) HeadlessChrome/156.0.0.0 Safari/537.36",
            "bot", "Chrome", "Linux",
        );
        check("", "other", "other", "other");
        check("curl/8.5.0", "bot", "HTTP Library", "other");
    }
}
