//! Routes: every page view's kind (`/products/*`, `/blog/*`), so that
//! 50,000 product pages are one row of a breakdown, not 50,000.
//!
//! A page view's route is, in order:
//! 1. the page's own name for it (`data-route`, `palaute.route(name)`),
//!    sent on the beacon;
//! 2. the first of the site's declared [`Pattern`]s that matches its path
//!    (`[[routes]]` in the config file: `/products/:id`, `/docs/**`), as
//!    declared;
//! 3. derived from the path ([`Learner::route`]): segments that look like
//!    identifiers ([`is_identifier`]: numbers, hex ids, UUIDs, dates, random
//!    tokens) become `*`, and so does a path position whose distinct values
//!    under one parent exceed [`LEARN_THRESHOLD`] in the site's recent
//!    traffic: blog slugs become `/blog/*` with no configuration.
//!
//! The learning is bounded: per site at most [`MAX_PARENTS`] parents, each
//! remembering at most [`LEARN_THRESHOLD`] values (each cut to
//! [`MAX_SEGMENT_CHARS`]) until it turns into `*`; about 2 MB per site at
//! worst. It forgets: what it learned lives for one to two
//! [`LEARN_WINDOW_MS`] (two generations, the older dropped at each turn),
//! so a section that stops having many pages gets its names back. It lives
//! in memory only: at start each site's learner is warmed from its newest
//! stored page views ([`WARM_VIEWS`]), so a restart does not turn `/blog/*`
//! back into slugs; several collectors each learn from the traffic they
//! receive plus that warm start, and agree once a section has more than
//! [`LEARN_THRESHOLD`] pages in their traffic. Routes are stored on each row
//! at ingest, so a route never changes after the fact.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use palaute::limits::{cut, MAX_ROUTE_CHARS};
use serde::Deserialize;

/// Distinct values under one parent past which a path position is `*`.
pub const LEARN_THRESHOLD: usize = 24;
/// Most parents (route prefixes) a site's learner remembers values for.
pub const MAX_PARENTS: usize = 4_096;
/// A segment is remembered by its first this many characters.
pub const MAX_SEGMENT_CHARS: usize = 48;
/// How long one generation of learning lasts, ms (a day).
pub const LEARN_WINDOW_MS: i64 = 86_400_000;
/// Newest page views per site that warm its learner at start.
pub const WARM_VIEWS: usize = 50_000;
/// Most segments of a derived route (deeper ones are one `**`).
const MAX_DEPTH: usize = 12;

/// A site's declared route pattern (`[[routes]]` in the config file).
#[derive(Deserialize, Debug, Clone, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct RouteRule {
    /// Site id.
    pub site: String,
    /// The pattern: `/`-separated segments, each literal, `:name` or `*`
    /// (any one segment), and a last segment `**` (any rest, or none).
    pub pattern: String,
}

/// A parsed route pattern.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pattern {
    text: String,
    segments: Vec<Segment>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Segment {
    Literal(String),
    One,
    Rest,
}

impl Pattern {
    /// Parses a pattern; what is wrong is said.
    pub fn parse(text: &str) -> Result<Pattern, String> {
        if !text.starts_with('/') {
            return Err(format!("route pattern {text:?}: starts with /"));
        }
        if text.chars().count() > MAX_ROUTE_CHARS || text.contains('?') || text.chars().any(char::is_control) {
            return Err(format!("route pattern {text:?}: a path of at most {MAX_ROUTE_CHARS} characters, no query"));
        }
        let parts: Vec<&str> = text[1..].split('/').collect();
        let mut segments = Vec::with_capacity(parts.len());
        for (i, part) in parts.iter().enumerate() {
            segments.push(match *part {
                "**" if i + 1 == parts.len() => Segment::Rest,
                "**" => return Err(format!("route pattern {text:?}: ** only as the last segment")),
                "*" => Segment::One,
                p if p.starts_with(':') && p.len() > 1 => Segment::One,
                p => Segment::Literal(p.to_string()),
            });
        }
        Ok(Pattern { text: text.to_string(), segments })
    }

    /// Whether `path` (no query) is of this route.
    pub fn matches(&self, path: &str) -> bool {
        let mut parts = path.strip_prefix('/').unwrap_or(path).split('/');
        for segment in &self.segments {
            match segment {
                Segment::Rest => return true,
                Segment::One => {
                    if parts.next().is_none_or(str::is_empty) {
                        return false;
                    }
                }
                Segment::Literal(literal) => {
                    if parts.next() != Some(literal.as_str()) {
                        return false;
                    }
                }
            }
        }
        parts.next().is_none()
    }

    /// The pattern as declared: the route of the page views it matches.
    pub fn as_str(&self) -> &str {
        &self.text
    }
}

/// Whether a path segment names one thing among many rather than a kind:
/// a number, a hex id of 8 or more characters with a digit, a UUID, a date
/// or version of digits and separators, or a random token (12 or more
/// characters that switch between letters and digits at least 3 times).
pub fn is_identifier(segment: &str) -> bool {
    let bytes = segment.as_bytes();
    if bytes.is_empty() {
        return false;
    }
    let digits = bytes.iter().filter(|b| b.is_ascii_digit()).count();
    if digits == bytes.len() {
        return true;
    }
    if digits > 0 && bytes.iter().all(|b| b.is_ascii_digit() || b"-_.,:".contains(b)) {
        return true;
    }
    let hex = bytes.iter().all(|b| b.is_ascii_hexdigit() || *b == b'-');
    if hex && digits > 0 && bytes.iter().filter(|b| **b != b'-').count() >= 8 {
        return true;
    }
    // Letters and digits interleaved, as random tokens are and slugs are not.
    let switches = bytes
        .windows(2)
        .filter(|w| w[0].is_ascii_alphanumeric() && w[1].is_ascii_alphanumeric())
        .filter(|w| w[0].is_ascii_digit() != w[1].is_ascii_digit())
        .count();
    bytes.len() >= 12 && switches >= 3
}

/// What one generation learned: per parent route prefix, the values seen
/// under it, or `None` once they passed [`LEARN_THRESHOLD`] (a `*`).
#[derive(Debug, Default)]
struct Generation {
    started_at: i64,
    parents: HashMap<String, Option<Vec<String>>>,
}

impl Generation {
    fn is_wild(&self, parent: &str) -> bool {
        matches!(self.parents.get(parent), Some(None))
    }

    /// Learns `value` under `parent`; whether the position is `*` now.
    fn learn(&mut self, parent: &str, value: &str) -> bool {
        let value = cut(value, MAX_SEGMENT_CHARS);
        if !self.parents.contains_key(parent) {
            if self.parents.len() >= MAX_PARENTS {
                // Full: forget the parents seen with one value (most often
                // pages of their own, not sections); else learn nothing
                // new until the next generation.
                self.parents.retain(|_, values| values.as_ref().is_none_or(|v| v.len() > 1));
                if self.parents.len() >= MAX_PARENTS {
                    return false;
                }
            }
            self.parents.insert(parent.to_string(), Some(Vec::new()));
        }
        let Some(entry) = self.parents.get_mut(parent) else { return false };
        let Some(values) = entry else { return true };
        if !values.iter().any(|v| v == value) {
            if values.len() >= LEARN_THRESHOLD {
                *entry = None;
                return true;
            }
            values.push(value.to_string());
        }
        false
    }
}

/// One site's route learning (see the module docs).
#[derive(Debug, Default)]
pub struct Learner {
    current: Generation,
    previous: Generation,
}

impl Learner {
    /// The derived route of `path` seen at `now_ms`, learning from it.
    pub fn route(&mut self, path: &str, now_ms: i64) -> String {
        if now_ms - self.current.started_at >= LEARN_WINDOW_MS {
            self.previous = std::mem::take(&mut self.current);
            self.current.started_at = now_ms;
        }
        let mut route = String::with_capacity(path.len());
        let segments: Vec<&str> = path.strip_prefix('/').unwrap_or(path).split('/').collect();
        for (depth, segment) in segments.iter().enumerate() {
            if depth == MAX_DEPTH {
                route.push_str("/**");
                break;
            }
            let parent_len = route.len();
            route.push('/');
            if segment.is_empty() {
                continue;
            }
            // The first level is not learned: a site's top pages are few
            // and named (a site with slugs at the top declares a pattern).
            let wild = is_identifier(segment)
                || (depth > 0 && {
                    let parent = &route[..parent_len.max(1)];
                    let was_wild = self.previous.is_wild(parent) || self.current.is_wild(parent);
                    self.current.learn(parent, segment) || was_wild
                });
            if wild {
                route.push('*');
            } else {
                route.push_str(segment);
            }
        }
        if route.is_empty() {
            route.push('/');
        }
        cut(&route, MAX_ROUTE_CHARS).to_string()
    }
}

/// The route of a path by the identifier rule alone, without learning:
/// for rows stored before routes existed, and where no learner is at hand.
pub fn derived(path: &str) -> String {
    let mut route = String::with_capacity(path.len());
    for segment in path.strip_prefix('/').unwrap_or(path).split('/') {
        route.push('/');
        route.push_str(if is_identifier(segment) { "*" } else { segment });
    }
    cut(&route, MAX_ROUTE_CHARS).to_string()
}

/// Every site's declared patterns and learners.
#[derive(Debug, Default)]
pub struct Routes {
    declared: HashMap<String, Vec<Pattern>>,
    learners: Mutex<HashMap<String, Learner>>,
}

impl Routes {
    /// Routes with the config's declared patterns; a pattern that does not
    /// parse is an error naming it.
    pub fn new(rules: &[RouteRule]) -> Result<Routes, String> {
        let mut declared: HashMap<String, Vec<Pattern>> = HashMap::new();
        for rule in rules {
            declared.entry(rule.site.clone()).or_default().push(Pattern::parse(&rule.pattern)?);
        }
        Ok(Routes { declared, learners: Mutex::default() })
    }

    /// The route of a page view of `site` at `path` (no query) seen at
    /// `now_ms`, when the page did not name it: a declared pattern's, else
    /// derived (and learned from).
    pub fn route(&self, site: &str, path: &str, now_ms: i64) -> String {
        if let Some(pattern) = self.declared.get(site).and_then(|p| p.iter().find(|p| p.matches(path))) {
            return pattern.as_str().to_string();
        }
        let mut learners = self.learners.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        learners.entry(site.to_string()).or_default().route(path, now_ms)
    }
}

/// How far back the warm start reads a site's page views, ms.
const WARM_PERIOD_MS: i64 = 6 * 3_600_000;

/// Warms every site's learner from its newest stored page views (at most
/// [`WARM_VIEWS`] of the last six hours each), in the background: beacons
/// that arrive meanwhile are routed with what is learned so far.
pub fn spawn_warm(workers: &mut crate::workers::Workers, store: Arc<dyn crate::store::Store>, routes: Arc<Routes>) {
    workers.spawn(|_stop| async move {
        if let Err(error) = warm(&store, &routes).await {
            tracing::warn!(message = "route learning not warmed from the store", %error);
        }
    });
}

async fn warm(store: &Arc<dyn crate::store::Store>, routes: &Routes) -> crate::error::Result<()> {
    use crate::store::{Fields, Selection};
    let now = crate::model::now_ms();
    for site in store.sites().await? {
        let selection =
            Selection { fields: Fields::Stats(&["url"]), ..Selection::period(&site.id, now - WARM_PERIOD_MS, now + 1) };
        let (sink, mut chunks) = tokio::sync::mpsc::channel(2);
        let reader = {
            let store = store.clone();
            tokio::spawn(async move { store.export(selection, sink).await })
        };
        let mut seen = 0;
        while let Some(chunk) = chunks.recv().await {
            for view in &chunk {
                routes.route(&site.id, view.path(), now);
            }
            seen += chunk.len();
            if seen >= WARM_VIEWS {
                break;
            }
        }
        drop(chunks);
        reader.await.map_err(|e| crate::error::AppError::Internal(e.to_string()))??;
        tracing::debug!(message = "route learning warmed", site = site.id, views = seen);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn identifiers_are_told_from_names() {
        for id in
            ["42", "0", "2024-01-05", "1.2.3", "9f86d081", "3f2a9c1e-7b4d-4e8a-9c1f-2b3d4e5f6a7b", "aB3dE5fG7hJ9kL1m"]
        {
            assert!(is_identifier(id), "{id}");
        }
        for name in
            ["products", "blog", "fast-pages", "top-10-shoes-for-2024", "v2", "deadbeef", "cafe", "", "ipad-pro"]
        {
            assert!(!is_identifier(name), "{name}");
        }
    }

    #[test]
    fn patterns_match_whole_paths() {
        let product = Pattern::parse("/products/:id").unwrap();
        assert!(product.matches("/products/42") && product.matches("/products/red-shoe"));
        assert!(!product.matches("/products") && !product.matches("/products/") && !product.matches("/products/1/x"));
        let docs = Pattern::parse("/docs/**").unwrap();
        assert!(docs.matches("/docs") && docs.matches("/docs/a/b/c") && !docs.matches("/doc/a"));
        assert!(Pattern::parse("/x/*/y").unwrap().matches("/x/1/y"));
        assert!(Pattern::parse("products").is_err() && Pattern::parse("/a/**/b").is_err());
        assert!(Pattern::parse("/a?b").is_err());
    }

    #[test]
    fn identifiers_and_many_slugs_become_stars() {
        let mut learner = Learner::default();
        assert_eq!(learner.route("/products/12345", 0), "/products/*");
        assert_eq!(learner.route("/", 0), "/");
        assert_eq!(learner.route("/cart", 0), "/cart");
        assert_eq!(learner.route("/orders/3f2a9c1e-7b4d-4e8a-9c1f-2b3d4e5f6a7b/items", 0), "/orders/*/items");
        let mut routes = Vec::new();
        for i in 0..200 {
            routes
                .push(learner.route(&format!("/blog/post-about-{}-things", ["a", "b", "c", "d"][i % 4].repeat(i)), 0));
        }
        assert_eq!(routes[0], "/blog/post-about--things", "a few posts keep their names");
        assert!(routes[LEARN_THRESHOLD + 1..].iter().all(|r| r == "/blog/*"), "{routes:?}");
        assert_eq!(learner.route("/blog/post-about--things", 0), "/blog/*", "once many, all are one route");
        assert_eq!(learner.route("/blog/x/comments", 0), "/blog/*/comments");
        assert_eq!(learner.route("/about", 0), "/about", "the first level is not learned");
    }

    #[test]
    fn learning_is_bounded_and_forgets() {
        let mut learner = Learner::default();
        for i in 0..(MAX_PARENTS + 500) {
            learner.route(&format!("/section-{i}/page"), 0);
        }
        assert!(learner.current.parents.len() <= MAX_PARENTS);
        assert_eq!(learner.route("/section-1/page", 0), "/section-1/page");
        for i in 0..100 {
            learner.route(&format!("/tag/name-{}", "x".repeat(i)), 0);
        }
        assert_eq!(learner.route("/tag/anything", 0), "/tag/*");
        assert_eq!(learner.route("/tag/anything", LEARN_WINDOW_MS), "/tag/*", "the previous generation still knows");
        assert_eq!(learner.route("/tag/anything", 2 * LEARN_WINDOW_MS + 1), "/tag/anything", "forgotten after two");
    }

    #[test]
    fn declared_patterns_come_first() {
        let rules = [RouteRule { site: "shop".into(), pattern: "/p/:slug".into() }];
        let routes = Routes::new(&rules).unwrap();
        assert_eq!(routes.route("shop", "/p/red-shoe", 0), "/p/:slug");
        assert_eq!(routes.route("other", "/p/red-shoe", 0), "/p/red-shoe");
        assert_eq!(routes.route("shop", "/p/1/2", 0), "/p/*/*");
        assert!(Routes::new(&[RouteRule { site: "s".into(), pattern: "p".into() }]).is_err());
        assert_eq!(derived("/products/42"), "/products/*");
    }
}
