//! Synthetic page views for demos and benchmarks: realistic distributions
//! per page, device and connection, a daily traffic rhythm, abandonment that
//! rises with the wait, slow bounces, and feedback that is more often
//! negative on slow pages. Deterministic for a given seed.

use std::collections::BTreeMap;
use std::sync::Arc;

use fastrand::Rng;
use palaute::vitals::leave::{Milestones, DEFAULT_SLOW_BOUNCE_DWELL_MS};

use crate::error::{AppError, Result};
use crate::model::PageView;
use crate::store::{BulkIngest, Snapshot, Store};

/// A page of the synthetic site: its path and how slow it is (a factor on
/// every timing).
const PAGES: [(&str, f64, u32); 8] = [
    // (path, slowness, weight)
    ("/", 0.8, 30),
    ("/search", 1.1, 18),
    ("/products/shoes", 1.3, 14),
    ("/products/42", 1.6, 12),
    ("/cart", 1.0, 9),
    ("/checkout", 1.9, 6),
    ("/blog/fast-pages", 0.7, 7),
    ("/account", 1.2, 4),
];
/// (device, browser, os, slowness, weight)
const DEVICES: [(&str, &str, &str, f64, u32); 5] = [
    ("desktop", "Chrome", "Windows 10", 0.8, 34),
    ("desktop", "Safari", "Mac OSX", 0.75, 12),
    ("mobile", "Chrome", "Android", 1.5, 30),
    ("mobile", "Safari", "iPhone", 1.2, 19),
    ("tablet", "Safari", "iPad", 1.1, 5),
];
/// (effective_type, slowness, weight)
const CONNECTIONS: [(&str, f64, u32); 4] = [("4g", 1.0, 78), ("3g", 2.4, 15), ("2g", 4.5, 4), ("slow-2g", 7.0, 3)];
/// Traffic by UTC hour of day (relative).
const HOURLY: [u32; 24] = [3, 2, 2, 1, 1, 2, 4, 7, 10, 12, 12, 11, 11, 12, 12, 11, 10, 10, 11, 12, 11, 9, 7, 5];

fn pick<'a, T>(rng: &mut Rng, items: &'a [T], weight: impl Fn(&T) -> u32) -> &'a T {
    let total: u32 = items.iter().map(&weight).sum();
    let mut ticket = rng.u32(0..total);
    for item in items {
        let w = weight(item);
        if ticket < w {
            return item;
        }
        ticket -= w;
    }
    &items[items.len() - 1]
}

/// A log-normal sample with the given median.
fn lognormal(rng: &mut Rng, median: f64, sigma: f64) -> f64 {
    // Box-Muller.
    let (u, v) = (rng.f64().max(1e-12), rng.f64());
    median * (sigma * (-2.0 * u.ln()).sqrt() * (2.0 * std::f64::consts::PI * v).cos()).exp()
}

/// Scripts that slow interactions down: URL, function, weight.
const SCRIPTS: [(&str, &str, u32); 4] = [
    ("https://shop.example/assets/app.js", "onAddToCart", 5),
    ("https://cdn.chat-widget.example/widget.js", "", 3),
    ("https://tags.ads.example/gpt.js", "refreshSlots", 2),
    ("https://shop.example/assets/vendor.js", "dispatch", 2),
];

/// Elements visitors fight with: selector, weight of rage clicks, of dead clicks.
const FRUSTRATIONS: [(&str, u32, u32); 4] = [
    ("button#apply-coupon", 1, 6),
    ("#checkout>button.pay", 4, 1),
    ("div.carousel-next", 2, 2),
    ("a.size-guide", 0, 3),
];

/// The URLs a synthetic site's page views go to.
#[derive(Debug, Clone)]
pub enum Catalog {
    /// The eight pages of [`PAGES`]: small tests.
    Demo,
    /// A shop's realistic mix over about `paths` distinct paths
    /// ([`Shop::new`]).
    Shop(Arc<Shop>),
}

impl Catalog {
    /// The demo's eight pages when `paths` is 0, else a shop of about
    /// `paths` distinct paths.
    pub fn with_paths(paths: usize) -> Catalog {
        if paths == 0 {
            Catalog::Demo
        } else {
            Catalog::Shop(Arc::new(Shop::new(paths)))
        }
    }

    /// A URL (path and query) and its page's slowness.
    fn pick(&self, rng: &mut Rng) -> (String, f64) {
        match self {
            Catalog::Demo => {
                let (path, slowness, _) = *pick(rng, &PAGES, |p| p.2);
                (path.to_string(), slowness)
            }
            Catalog::Shop(shop) => shop.pick(rng),
        }
    }
}

/// A shop's pages, as real traffic spreads over them: fixed pages (home,
/// cart, checkout, account, help), a page per product by number and a
/// post per blog slug, each with Zipf-like popularity ([`ZIPF_EXPONENT`]),
/// collection pages, and a search page per query (`/search/red+shoes`).
#[derive(Debug)]
pub struct Shop {
    products: Zipf,
    posts: Zipf,
    collections: Zipf,
}

/// Fixed pages of a shop: (path, slowness, weight out of [`SHOP_MIX`]'s fixed share).
const SHOP_PAGES: [(&str, f64, u32); 8] = [
    ("/", 0.8, 40),
    ("/cart", 1.0, 14),
    ("/checkout", 1.9, 8),
    ("/account", 1.2, 6),
    ("/help", 0.9, 3),
    ("/about", 0.7, 2),
    ("/login", 1.0, 5),
    ("/wishlist", 1.1, 3),
];

/// Share of views, in percent: fixed pages, products, blog, collections, search.
const SHOP_MIX: [u32; 5] = [32, 40, 10, 8, 10];

const WORDS: [&str; 32] = [
    "red", "blue", "fast", "light", "summer", "winter", "running", "shoes", "bags", "guide", "how", "to", "choose",
    "best", "care", "tips", "new", "classic", "leather", "wool", "size", "fit", "travel", "city", "trail", "kids",
    "gift", "ideas", "sale", "review", "vs", "story",
];

/// Zipf-like popularity over `n` ranks: cumulative weights `1/k^s`.
#[derive(Debug)]
struct Zipf(Vec<f64>);

/// The exponent of a shop's popularity: the rank-`k` page is visited
/// `k^-0.7` as often as the first (flatter than `1/k`: a shop's long
/// tail of products is visited, and 120,000 views of a 30,000-path shop
/// reach about 30,000 distinct paths, as the real traffic of #32 did).
const ZIPF_EXPONENT: f64 = 0.7;

impl Zipf {
    fn new(n: usize) -> Zipf {
        let mut total = 0.0;
        Zipf(
            (1..=n.max(1))
                .map(|k| {
                    total += (k as f64).powf(-ZIPF_EXPONENT);
                    total
                })
                .collect(),
        )
    }

    /// A rank, 0-based.
    fn sample(&self, rng: &mut Rng) -> usize {
        let ticket = rng.f64() * self.0.last().copied().unwrap_or(0.0);
        self.0.partition_point(|c| *c < ticket).min(self.0.len() - 1)
    }
}

/// A few words from `seed`, joined by `-` (a slug) or `+` (a query).
fn words(mut seed: u64, count: usize, joiner: &str) -> String {
    let mut out = Vec::with_capacity(count);
    for _ in 0..count {
        seed = seed.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        out.push(WORDS[(seed >> 33) as usize % WORDS.len()]);
    }
    out.join(joiner)
}

impl Shop {
    /// A shop of about `paths` distinct paths: 80% products, 17% posts,
    /// the rest collections and fixed pages.
    pub fn new(paths: usize) -> Shop {
        Shop {
            products: Zipf::new(paths * 80 / 100),
            posts: Zipf::new(paths * 17 / 100),
            collections: Zipf::new((paths * 3 / 100).clamp(1, 300)),
        }
    }

    fn pick(&self, rng: &mut Rng) -> (String, f64) {
        let slowness = |rank: usize, base: f64| {
            base * (0.85 + 0.3 * ((rank as u64).wrapping_mul(2654435761) % 100) as f64 / 100.0)
        };
        match *pick(rng, &[0, 1, 2, 3, 4], |i| SHOP_MIX[*i]) {
            0 => {
                let (path, slowness, _) = *pick(rng, &SHOP_PAGES, |p| p.2);
                (path.to_string(), slowness)
            }
            1 => {
                let rank = self.products.sample(rng);
                (format!("/products/{}", 10_000 + rank * 7), slowness(rank, 1.4))
            }
            2 => {
                let rank = self.posts.sample(rng);
                let slug = words(rank as u64, 3 + rank % 3, "-");
                (format!("/blog/{slug}-{}", rank / WORDS.len()), slowness(rank, 0.7))
            }
            3 => {
                let rank = self.collections.sample(rng);
                (
                    format!("/collections/{}-{}", WORDS[rank % WORDS.len()], WORDS[(rank / WORDS.len()) % WORDS.len()]),
                    slowness(rank, 1.1),
                )
            }
            _ => {
                // A search page per query, in the path as many shops have it.
                let query = words(rng.u64(..), 1 + rng.usize(0..3), "+");
                (format!("/search/{query}"), 1.1)
            }
        }
    }
}

/// One synthetic page view of `site` that started at `started_at`, on one
/// of the demo's eight pages.
pub fn page_view(rng: &mut Rng, site: &str, started_at: i64) -> PageView {
    page_view_of(rng, site, started_at, &Catalog::Demo)
}

/// One synthetic page view of `site` that started at `started_at`, on a
/// page of `catalog`.
pub fn page_view_of(rng: &mut Rng, site: &str, started_at: i64, catalog: &Catalog) -> PageView {
    let (url, page_slowness) = catalog.pick(rng);
    let (device, browser, os, device_slowness, _) = *pick(rng, &DEVICES, |d| d.4);
    let (effective_type, net_slowness, _) = *pick(rng, &CONNECTIONS, |c| c.2);
    let slowness = page_slowness * device_slowness;
    let nav_type = pick(
        rng,
        &[("navigate", 70), ("soft_navigation", 15), ("reload", 6), ("back_forward", 6), ("back_forward_cache", 3)],
        |n| n.1,
    )
    .0;
    // A single-page app's route change: no network wait, a quicker paint.
    let soft = nav_type == "soft_navigation";
    let ttfb = if soft { 0.0 } else { lognormal(rng, 180.0 * net_slowness.sqrt() * page_slowness, 0.5) };
    let fcp = ttfb + lognormal(rng, if soft { 150.0 } else { 600.0 } * slowness * net_slowness.sqrt(), 0.45);
    let lcp = fcp + lognormal(rng, 500.0 * slowness * net_slowness.sqrt(), 0.6);
    let load = lcp + lognormal(rng, 300.0 * slowness, 0.6);
    // The longer the wait, the likelier the visitor leaves before the load.
    let patience = lognormal(rng, 6000.0, 0.8);
    let abandoned = patience < load;
    let left_at = if abandoned { patience } else { load + lognormal(rng, 25_000.0, 1.2) };
    let milestones = Milestones {
        fcp_ms: Some(fcp),
        lcp_ms: Some(lcp),
        load_ms: (!abandoned).then_some(load),
        left_at_ms: Some(left_at),
        soft,
        ..Milestones::default()
    };
    let leave = milestones.leave(DEFAULT_SLOW_BOUNCE_DWELL_MS);
    let abandoned = milestones.abandoned(leave.as_ref()) == Some(true);
    let interacted = !abandoned && rng.f64() < 0.7;
    let inp = interacted.then(|| lognormal(rng, 90.0 * device_slowness * page_slowness, 0.8).max(8.0));
    let cls = if rng.f64() < 0.55 { 0.0 } else { lognormal(rng, 0.04 * page_slowness, 1.1).min(2.0) };
    // A slow interaction's longest script: the site's own, or a third party's.
    let script = inp.filter(|inp| *inp > 150.0 && rng.f64() < 0.8).map(|inp| {
        let (url, function, _) = *pick(rng, &SCRIPTS, |s| s.2);
        (url, function, inp * (0.4 + 0.5 * rng.f64()))
    });
    // Slow interactions are clicked again in anger; some controls do nothing.
    let rage = interacted && rng.f64() < if inp.is_some_and(|i| i > 500.0) { 0.25 } else { 0.02 };
    let dead = interacted && rng.f64() < 0.04;
    let fought = (rage || dead).then(|| {
        let (target, _, _) = *pick(rng, &FRUSTRATIONS, |f| if rage { f.1 } else { f.2 });
        (target, lognormal(rng, 4000.0, 0.6).min(left_at))
    });
    let slow = leave.is_some_and(|l| l.slow_bounce) || lcp > 4000.0 || fought.is_some();
    let answered = !abandoned && rng.f64() < if slow { 0.08 } else { 0.02 };
    let happy = answered && rng.f64() < if slow { 0.25 } else { 0.85 };
    let comment = (answered && !happy && rng.f64() < 0.4)
        .then(|| ["Too slow on my phone", "The images took ages", "Checkout hung", "Fine but slow"][rng.usize(0..4)]);
    let seen = |t: f64| (t <= left_at).then_some(t);
    let mut tags = BTreeMap::new();
    tags.insert("ab".to_string(), if rng.bool() { "a" } else { "b" }.to_string());
    PageView {
        id: format!("{:016x}{:016x}", rng.u64(..), rng.u64(..)),
        site: site.to_string(),
        route: crate::routes::derived(url.split('?').next().unwrap_or_default()),
        url,
        referrer_host: rng.bool().then(|| "www.search.example".to_string()),
        started_at,
        nav_type: Some(nav_type.into()),
        ttfb_ms: (!soft).then_some(ttfb),
        fcp_ms: seen(fcp),
        lcp_ms: seen(lcp),
        inp_ms: inp,
        inp_script_url: script.map(|s| s.0.to_string()),
        inp_script_function: script.map(|s| s.1.to_string()).filter(|f| !f.is_empty()),
        inp_script_invoker: script.map(|_| "event-listener".to_string()),
        inp_script_ms: script.map(|s| s.2),
        inp_script_subpart: script.map(|_| "processing".to_string()),
        cls: seen(fcp).map(|_| cls),
        dcl_ms: seen(fcp + (lcp - fcp) * 0.3).filter(|_| !soft),
        load_ms: (!abandoned && !soft).then_some(load),
        response_status: Some(if rng.f64() < 0.01 { 500 } else { 200 }),
        visible_ms: Some(left_at * 0.95),
        left_at_ms: Some(left_at),
        abandoned: milestones.abandoned(leave.as_ref()),
        abandon_phase: leave.and_then(|l| l.phase).map(|p| p.as_str().to_string()),
        slow_bounce: leave.map(|l| l.slow_bounce),
        device: Some(device.into()),
        browser: Some(browser.into()),
        os: Some(os.into()),
        effective_type: Some(effective_type.into()),
        rtt_ms: Some((50.0 * net_slowness).round()),
        downlink_mbps: Some((10.0 / net_slowness * 10.0).round() / 10.0),
        errors: Some(u32::from(rng.f64() < 0.05)),
        rage_clicks: Some(u32::from(rage)),
        dead_clicks: Some(u32::from(dead)),
        frustration_target: fought.map(|f| f.0.to_string()),
        frustration_at_ms: fought.map(|f| f.1),
        feedback_rating: answered.then_some(u8::from(happy)),
        feedback_scale: answered.then(|| "thumbs".to_string()),
        feedback_comment: comment.map(str::to_string),
        feedback_at_ms: answered.then_some(left_at - 1000.0),
        tags,
        ..PageView::default()
    }
}

/// How many of `count` page views start in each hour of `[from_ms, to_ms)`,
/// following the daily rhythm: `(hour start, hour end, views)`, oldest first.
fn hourly_quotas(count: u64, from_ms: i64, to_ms: i64) -> Vec<(i64, i64, u64)> {
    const HOUR: i64 = 3_600_000;
    let mut hours = Vec::new();
    let mut start = from_ms;
    while start < to_ms {
        let end = (start - start.rem_euclid(HOUR) + HOUR).min(to_ms);
        let weight = f64::from(HOURLY[(start.rem_euclid(86_400_000) / HOUR) as usize]) * (end - start) as f64;
        hours.push((start, end, weight));
        start = end;
    }
    let total: f64 = hours.iter().map(|h| h.2).sum();
    let mut assigned = 0;
    let mut cumulative = 0.0;
    hours
        .into_iter()
        .map(|(start, end, weight)| {
            cumulative += weight;
            let upto = ((cumulative / total) * count as f64).round() as u64;
            let views = upto.min(count) - assigned;
            assigned += views;
            (start, end, views)
        })
        .collect()
}

/// Writes `count` page views of `site` that started in `[from_ms, to_ms)`
/// into `store` (durably, as ingest does), oldest first, calling `progress`
/// now and then. Their ids begin with the start time, so rows are appended
/// in key order (real ids are random; these are only for demos and
/// benchmarks).
///
/// `paths`: 0 for the demo's eight pages, else a shop's realistic mix of
/// about that many distinct paths ([`Shop`]). Routes are derived and
/// learned as ingest does ([`Routes`](crate::routes::Routes)).
#[allow(clippy::too_many_arguments)]
pub async fn generate(
    store: &Arc<dyn Store>,
    site: &str,
    count: u64,
    from_ms: i64,
    to_ms: i64,
    seed: u64,
    paths: usize,
    progress: impl Fn(u64),
) -> Result<()> {
    if from_ms >= to_ms {
        return Err(AppError::Invalid("generate: empty period".into()));
    }
    let catalog = Catalog::with_paths(paths);
    let routes = crate::routes::Routes::default();
    let mut rng = Rng::with_seed(seed);
    let mut bulk = BulkIngest::new(store);
    let mut written = 0u64;
    for (start, end, views) in hourly_quotas(count, from_ms, to_ms) {
        let mut starts: Vec<i64> = (0..views).map(|_| rng.i64(start..end)).collect();
        starts.sort_unstable();
        for started_at in starts {
            let mut view = page_view_of(&mut rng, site, started_at, &catalog);
            view.route = routes.route(site, view.path(), started_at);
            view.id = format!("{:012x}{}", started_at, &view.id[12..]);
            let received_at = view.started_at + view.left_at_ms.unwrap_or(0.0) as i64;
            bulk.add(Snapshot { seq: 1, received_at, view }).await?;
            written += 1;
            if written % 100_000 == 0 {
                progress(written);
            }
        }
    }
    bulk.finish().await?;
    progress(count);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn views_are_valid_and_slower_pages_lose_more_visitors() {
        let mut rng = Rng::with_seed(1);
        let views: Vec<PageView> = (0..20_000).map(|i| page_view(&mut rng, "demo", 1_700_000_000_000 + i)).collect();
        let lost = |path: &str| {
            let of: Vec<&PageView> = views.iter().filter(|v| v.url == path).collect();
            of.iter().filter(|v| v.abandoned == Some(true)).count() as f64 / of.len() as f64
        };
        assert!(
            lost("/checkout") > 2.0 * lost("/blog/fast-pages"),
            "{} vs {}",
            lost("/checkout"),
            lost("/blog/fast-pages")
        );
        for view in &views {
            let soft = view.nav_type.as_deref() == Some("soft_navigation");
            assert!(view.lcp_ms.is_none_or(|l| l >= view.fcp_ms.unwrap()));
            assert!(view.lcp_ms.is_none_or(|l| l <= view.left_at_ms.unwrap()));
            if soft {
                assert_eq!((view.ttfb_ms, view.load_ms, view.abandoned), (None, None, Some(false)), "a route change");
            } else {
                assert!(view.ttfb_ms.unwrap() > 0.0);
                assert_eq!(view.abandoned == Some(true), view.load_ms.is_none());
            }
        }
        let soft = views.iter().filter(|v| v.nav_type.as_deref() == Some("soft_navigation")).count();
        assert!(soft > 2000, "soft navigations: {soft}");
        let scripts = views.iter().filter(|v| v.inp_script_url.is_some()).count();
        assert!(scripts > 500, "slow interactions with their script: {scripts}");
        let answered = views.iter().filter(|v| v.feedback_rating.is_some()).count();
        assert!(answered > 100, "feedback: {answered}");
    }

    #[test]
    fn quotas_add_up_and_follow_the_daily_rhythm() {
        let day = 86_400_000;
        let quotas = hourly_quotas(100_000, 10 * day + 1_800_000, 17 * day);
        assert_eq!(quotas.iter().map(|q| q.2).sum::<u64>(), 100_000);
        assert_eq!(quotas[0].0, 10 * day + 1_800_000, "a partial first hour");
        let at = |hour: i64| quotas.iter().find(|q| q.0 == 12 * day + hour * 3_600_000).unwrap().2;
        assert!(at(10) > 4 * at(3), "more at 10:00 than at 03:00: {} vs {}", at(10), at(3));
    }
}
