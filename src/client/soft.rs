//! Soft navigations (the Soft Navigation API): each entry goes to the view
//! of its `navigationId` ([`Navigations`]); a `soft-navigation` entry
//! ends the view before (its final snapshot is sent at that moment) and
//! starts the next, which gets the entries that waited for it, its largest
//! contentful paint so far and the view's tags. Browsers without the API
//! see one view per page load.

use js_sys::{Array, Function};
use wasm_bindgen::prelude::*;

use super::dom::{hidden, interaction_count};
use super::js;
use super::session::Session;
use super::view::{Handler, View};
use crate::vitals::navigations::{Navigations, Owner};
use crate::vitals::view::PageView;
use crate::wire::NavType;

/// Entries that wait for a soft navigation's view to start, at most.
const MAX_WAITING: usize = 100;

/// Whose entries are whose, and the soft navigations whose views are to start.
pub struct Routing {
    navs: Navigations,
    /// `soft-navigation` entries whose views are to start.
    pending: Vec<JsValue>,
    /// Entries waiting for their soft navigation's view: `(navigationId, handler, entry)`.
    waiting: Vec<(f64, Handler, JsValue)>,
}

impl Routing {
    /// The page's own view is navigation `id`'s.
    pub fn new(id: Option<f64>) -> Routing {
        Routing { navs: Navigations::current(id), pending: Vec::new(), waiting: Vec::new() }
    }
}

impl Session {
    /// `soft-navigation` entries: their views start once the entries
    /// queued for the view before have been handed to it ([`Session::measure`]).
    pub fn on_soft_navigations(&mut self, entries: Array) {
        for e in entries.iter() {
            if let Some(id) = js::num(&e, "navigationId") {
                self.routing.navs.announce(id);
            }
            self.routing.pending.push(e);
        }
    }

    /// Hands `entries` of one observed type to `handler`, each to the view
    /// it belongs to.
    pub fn take(&mut self, handler: Handler, entries: Array) {
        let r = &mut self.routing;
        for entry in entries.iter() {
            let nav = js::num(&entry, "navigationId");
            match r.navs.owner(nav) {
                Owner::Current => handler(&mut self.view, entry),
                Owner::Next if r.waiting.len() < MAX_WAITING => r.waiting.push((nav.unwrap_or(0.0), handler, entry)),
                Owner::Next | Owner::Ended => {}
            }
        }
    }

    /// Starts the views of the soft navigations announced, in order: the
    /// view before gets its final snapshot sent, the new one the entries
    /// that waited for it and its largest contentful paint so far.
    pub fn start_soft_views(&mut self) {
        while !self.routing.pending.is_empty() {
            let soft = self.routing.pending.remove(0);
            let start = js::num(&soft, "startTime").unwrap_or_else(js::now);
            self.view.ended_at = Some(start);
            self.send(false);
            let nav = js::num(&soft, "navigationId");
            self.routing.navs.begin(nav);
            let painted = js::num(&soft, "presentationTime").filter(|t| *t > 0.0);
            let painted = painted.or_else(|| js::num(&soft, "paintTime")).unwrap_or(0.0);
            let rules = PageView::soft(start, painted, interaction_count(), hidden()).observing(self.observable);
            let id = self.loader.new_id();
            let mut view = View::new(&self.loader, id, rules, js::text(&soft, "name").as_deref());
            view.beacon.nav_type = Some(NavType::SoftNavigation);
            view.soft_interaction = js::num(&soft, "interactionId");
            view.beacon.tags = std::mem::take(&mut self.view.beacon.tags);
            self.begin(view);
            let waiting = std::mem::take(&mut self.routing.waiting);
            for (id, handler, entry) in waiting {
                if Some(id) == nav {
                    handler(&mut self.view, entry);
                } else {
                    self.routing.waiting.push((id, handler, entry));
                }
            }
            let largest = js::get(&soft, "getLargestInteractionContentfulPaint");
            if let Some(largest) = largest.dyn_ref::<Function>() {
                if let Ok(icp) = largest.call0(&soft) {
                    self.view.on_icp(icp);
                }
            }
        }
    }
}
