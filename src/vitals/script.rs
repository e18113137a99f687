//! Which script made the INP interaction slow, as web-vitals' attribution
//! build picks its `longestScript`: among the scripts of the Long Animation
//! Frames that overlap the interaction (from its start to the end of its
//! processing), the one that ran longest after the interaction began; the
//! INP part it started in names where it ran.

/// Long Animation Frames kept besides those of INP's interaction (the most
/// recent ones: entries of a frame and of its events arrive in any order);
/// also the frames of Event Timing entries kept besides those of the longest
/// interactions ([`super::inp::Frame`]), as web-vitals' one constant for both.
pub const MAX_PENDING_FRAMES: usize = 10;

pub use crate::wire::InpPart as Subpart;

/// An interaction as the choice needs it: when it began, its input delay
/// and its processing time, ms.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Window {
    /// The interaction's `startTime`.
    pub start: f64,
    /// Input delay.
    pub input_delay: f64,
    /// Processing time.
    pub processing: f64,
}

impl Window {
    /// When its processing ended.
    pub fn end(&self) -> f64 {
        self.start + self.input_delay + self.processing
    }

    /// Whether a frame from `start` lasting `duration` overlaps it.
    pub fn overlaps(&self, start: f64, duration: f64) -> bool {
        start + duration >= self.start && start <= self.end()
    }
}

/// The choice of the longest script, offered the scripts one by one (in
/// the frames' order) against an interaction's [`Window`]: the one that
/// ran longest after the interaction began, the first of equally long
/// ones; scripts that ended before it began do not count.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Longest {
    window: Window,
    /// The longest so far: how long it ran after the interaction began,
    /// and the part it started in.
    pub best: Option<(f64, Subpart)>,
}

impl Longest {
    /// No script yet.
    pub fn new(window: Window) -> Longest {
        Longest { window, best: None }
    }

    /// Offers a script of `startTime` and `duration`; `true` when it is
    /// now the longest.
    pub fn offer(&mut self, start: f64, duration: f64) -> bool {
        let window = &self.window;
        let end = start + duration;
        let intersecting = end - window.start.max(start);
        if end < window.start || intersecting <= self.best.map_or(0.0, |b| b.0) {
            return false;
        }
        let subpart = if start < window.start + window.input_delay {
            Subpart::InputDelay
        } else if start >= window.end() {
            Subpart::Presentation
        } else {
            Subpart::Processing
        };
        self.best = Some((intersecting, subpart));
        true
    }
}

/// A script's `sourceURL` as exported: without its query and fragment.
pub fn source_url(url: &str) -> &str {
    let end = url.find(['?', '#']).unwrap_or(url.len());
    &url[..end]
}

/// The host of a URL (`https://cdn.example:8443/app.js` → `cdn.example`),
/// as ClickHouse's `domain()` reads it; `None` without one.
pub fn host(url: &str) -> Option<&str> {
    let rest = &url[url.find("://")? + 3..];
    let authority = &rest[..rest.find(['/', '?', '#']).unwrap_or(rest.len())];
    let authority = authority.rsplit('@').next().unwrap_or(authority);
    let host = match authority.strip_prefix('[') {
        Some(v6) => v6.split(']').next().unwrap_or(v6),
        None => authority.split(':').next().unwrap_or(authority),
    };
    (!host.is_empty()).then_some(host)
}

#[cfg(test)]
mod tests {
    use super::*;

    const CLICK: Window = Window { start: 2530.4, input_delay: 1.6, processing: 120.5 };

    /// The longest of `scripts` offered in order: its index, how long it
    /// ran during the interaction, and the part it started in.
    fn longest(window: &Window, scripts: impl IntoIterator<Item = (f64, f64)>) -> Option<(usize, f64, Subpart)> {
        let mut choice = Longest::new(*window);
        let mut index = None;
        for (at, (start, duration)) in scripts.into_iter().enumerate() {
            if choice.offer(start, duration) {
                index = Some(at);
            }
        }
        let (ms, subpart) = choice.best?;
        Some((index?, ms, subpart))
    }

    #[test]
    fn picks_the_script_that_ran_longest_during_the_interaction() {
        // From the Chromium probe: one LoAF with the click handler's script.
        let (index, ms, subpart) = longest(&CLICK, [(2532.0, 120.4)]).unwrap();
        assert_eq!((index, subpart), (0, Subpart::Processing));
        assert!((ms - 120.4).abs() < 1e-9);
        let scripts = [(2400.0, 100.0), (2520.0, 30.0), (2540.0, 80.0), (2660.0, 50.0)];
        let (index, ms, subpart) = longest(&CLICK, scripts).unwrap();
        assert_eq!((index, subpart), (2, Subpart::Processing));
        assert_eq!(ms, 80.0);
    }

    #[test]
    fn counts_only_the_time_after_the_interaction_began() {
        // 100 ms script that began 90 ms before the click: 10 ms of it count.
        let (index, ms, subpart) = longest(&CLICK, [(2440.4, 100.0), (2531.0, 5.0)]).unwrap();
        assert_eq!(index, 0);
        assert!((ms - 10.0).abs() < 1e-9);
        assert_eq!(subpart, Subpart::InputDelay);
        assert_eq!(longest(&CLICK, [(2300.0, 100.0)]), None, "ended before the interaction");
    }

    #[test]
    fn names_the_part_a_script_started_in() {
        let presentation = longest(&CLICK, [(2655.0, 40.0)]).unwrap();
        assert_eq!(presentation.2, Subpart::Presentation);
        assert_eq!(Subpart::InputDelay.as_str(), "input_delay");
    }

    #[test]
    fn the_first_of_equally_long_scripts_wins() {
        assert_eq!(longest(&CLICK, [(2540.0, 30.0), (2580.0, 30.0)]).unwrap().0, 0);
    }

    #[test]
    fn frames_overlap_from_the_start_to_the_end_of_processing() {
        assert!(CLICK.overlaps(2531.0, 123.9));
        assert!(CLICK.overlaps(2500.0, 31.0));
        assert!(!CLICK.overlaps(2400.0, 100.0));
        assert!(!CLICK.overlaps(2653.0, 50.0), "after processing ended");
    }

    #[test]
    fn hosts_of_script_urls() {
        assert_eq!(host("https://cdn.example:8443/app.js?v=1"), Some("cdn.example"));
        assert_eq!(host("http://localhost:1234/x.js"), Some("localhost"));
        assert_eq!(host("https://user@shop.example"), Some("shop.example"));
        assert_eq!(host("http://[::1]:80/a"), Some("::1"));
        assert_eq!(host("inline"), None);
        assert_eq!(host("https:///nohost"), None);
    }

    #[test]
    fn source_urls_lose_query_and_fragment() {
        assert_eq!(source_url("https://cdn.example/app.js?v=3#x"), "https://cdn.example/app.js");
        assert_eq!(source_url("https://cdn.example/app.js"), "https://cdn.example/app.js");
        assert_eq!(source_url(""), "");
    }
}
