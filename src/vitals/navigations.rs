//! Which page view a performance entry belongs to, by its `navigationId`.
//!
//! Chromium gives every entry the `navigationId` of the navigation it
//! happened in: the page's own, a back/forward-cache restore's, or a single
//! page app's soft navigation's. When a `soft-navigation` entry starts a
//! new view, the entries still queued for the view before are handed to it
//! first; queued entries that already carry the new navigation's id wait
//! for the new view ([`Owner::Next`]); late entries of a view that has
//! ended are dropped ([`Owner::Ended`]): its beacon was final. Browsers
//! without `navigationId` give every entry to the current view. A
//! back/forward-cache restore is no new navigation here: its view leaves
//! out what happened before it by time.

/// Ended views whose ids are remembered, at most.
pub const MAX_ENDED: usize = 8;

/// The page's navigations: the current view's and the ended ones' ids.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Navigations {
    current: Option<f64>,
    next: Option<f64>,
    ended: Vec<f64>,
}

/// Whose an entry is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Owner {
    /// The current view's.
    Current,
    /// The view about to start: it waits for it.
    Next,
    /// A view that has ended: it is dropped.
    Ended,
}

impl Navigations {
    /// The current view's navigation has id `id` (`None`: unknown, as
    /// after a restore until an entry tells).
    pub fn current(id: Option<f64>) -> Navigations {
        Navigations { current: id, ..Navigations::default() }
    }

    /// A soft navigation `id` is about to start: its entries wait.
    pub fn announce(&mut self, id: f64) {
        self.next = Some(id);
    }

    /// The current view ended; the one of navigation `id` begins.
    pub fn begin(&mut self, id: Option<f64>) {
        if let Some(ended) = self.current.take() {
            if self.ended.len() == MAX_ENDED {
                self.ended.remove(0);
            }
            self.ended.push(ended);
        }
        self.current = id;
        self.next = None;
    }

    /// The owner of an entry of navigation `id` (`None`: the browser gives none).
    pub fn owner(&self, id: Option<f64>) -> Owner {
        match id {
            Some(id) if self.next == Some(id) => Owner::Next,
            Some(id) if self.current != Some(id) && self.ended.contains(&id) => Owner::Ended,
            _ => Owner::Current,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entries_go_to_their_own_navigation() {
        let mut navs = Navigations::current(Some(2557.0));
        assert_eq!(navs.owner(Some(2557.0)), Owner::Current);
        assert_eq!(navs.owner(None), Owner::Current, "no navigationId: the current view");
        navs.announce(2564.0);
        assert_eq!(navs.owner(Some(2557.0)), Owner::Current, "queued entries of the ending view are its own");
        assert_eq!(navs.owner(Some(2564.0)), Owner::Next, "the new view's entries wait for it");
        navs.begin(Some(2564.0));
        assert_eq!(navs.owner(Some(2564.0)), Owner::Current);
        assert_eq!(navs.owner(Some(2557.0)), Owner::Ended, "a late entry of an ended view is dropped");
    }

    #[test]
    fn a_view_of_unknown_id_takes_what_is_not_an_ended_views() {
        let mut navs = Navigations::current(None);
        assert_eq!(navs.owner(Some(9.0)), Owner::Current);
        navs.begin(Some(10.0));
        assert_eq!(navs.owner(Some(9.0)), Owner::Current, "an unknown id was never ended");
        navs.begin(Some(11.0));
        assert_eq!(navs.owner(Some(10.0)), Owner::Ended);
    }

    #[test]
    fn remembers_a_bounded_number_of_ended_views() {
        let mut navs = Navigations::current(Some(0.0));
        for id in 1..=100 {
            navs.begin(Some(f64::from(id)));
        }
        assert_eq!(navs.ended.len(), MAX_ENDED);
        assert_eq!(navs.owner(Some(99.0)), Owner::Ended);
        assert_eq!(navs.owner(Some(100.0)), Owner::Current);
    }
}
