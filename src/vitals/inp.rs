//! Interaction to Next Paint, as web-vitals computes it: `event` entries of
//! at least [`MIN_DURATION_MS`] (the observer's threshold) and the
//! `first-input` entry (delivered whatever its duration) are grouped by `interactionId`
//! (an interaction's latency is its longest entry); the 10 longest
//! interactions are kept, and INP is the one at index
//! `min(kept − 1, ⌊interactions / 50⌋)`, an approximate 98th percentile.

/// The `durationThreshold` of `event` observers (web-vitals' default):
/// shorter entries are not delivered, except the `first-input` one.
pub const MIN_DURATION_MS: f64 = 40.0;

/// Interactions considered at most.
pub const MAX_KEPT: usize = 10;

/// One interaction: its id, latency, the entry that set the latency, and
/// when its event handlers ran (for attribution).
#[derive(Debug, Clone, PartialEq)]
pub struct Interaction<E> {
    /// `interactionId`.
    pub id: u64,
    /// The longest entry's duration, ms.
    pub latency: f64,
    /// That entry.
    pub entry: E,
    /// Its entries' earliest `processingStart` and latest `processingEnd`.
    pub processing: (f64, f64),
}

/// One `event` or `first-input` entry, as INP needs it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct EventTiming {
    /// `interactionId` (0: not part of an interaction).
    pub interaction_id: u64,
    /// `duration`, ms.
    pub duration: f64,
    /// `processingStart`, ms.
    pub processing_start: f64,
    /// `processingEnd`, ms.
    pub processing_end: f64,
}

/// The longest interactions of a page view, and the one reported as INP.
/// A fixed array, not a `Vec`: the browser module then needs no allocator.
#[derive(Debug, Clone, PartialEq)]
pub struct Interactions<E> {
    /// Longest first; the kept ones are the leading `Some`s.
    longest: [Option<Interaction<E>>; MAX_KEPT],
    reported: Option<Interaction<E>>,
}

impl<E> Default for Interactions<E> {
    fn default() -> Self {
        Interactions { longest: [const { None }; MAX_KEPT], reported: None }
    }
}

impl<E: Clone> Interactions<E> {
    /// Adds an `event` or `first-input` entry. `true` when `entry` is now
    /// the one that sets its interaction's latency.
    pub fn add(&mut self, timing: EventTiming, entry: &E) -> bool {
        let EventTiming { interaction_id, duration, processing_start, processing_end } = timing;
        if interaction_id == 0 {
            return false;
        }
        let mut represents = true;
        let known_at = self.longest().position(|i| i.id == interaction_id);
        let interaction = match known_at {
            Some(index) => {
                let Some(mut known) = self.longest[index].take() else { return false };
                // The free slot to the end (swaps: a slice's `rotate_*` is
                // 0.5 KB in the browser module).
                for i in index..MAX_KEPT - 1 {
                    self.longest.swap(i, i + 1);
                }
                known.processing = (known.processing.0.min(processing_start), known.processing.1.max(processing_end));
                represents = duration > known.latency;
                if represents {
                    known.latency = duration;
                    known.entry = entry.clone();
                }
                known
            }
            None if self.longest().count() < MAX_KEPT
                || self.longest().last().is_some_and(|min| duration > min.latency) =>
            {
                let processing = (processing_start, processing_end);
                Interaction { id: interaction_id, latency: duration, entry: entry.clone(), processing }
            }
            None => return false,
        };
        // Longest first; among equals, the earlier stays first (as a stable
        // sort in web-vitals keeps them). The list is short: insert in place,
        // the last one (a free slot, or the shortest when full) dropped.
        let shorter_at = self.longest().position(|i| i.latency < interaction.latency);
        let at = shorter_at.unwrap_or(self.longest().count());
        if at < MAX_KEPT {
            for i in (at..MAX_KEPT - 1).rev() {
                self.longest.swap(i, i + 1);
            }
            self.longest[at] = Some(interaction);
        }
        represents
    }

    /// The longest interactions kept, longest first.
    pub fn longest(&self) -> impl Iterator<Item = &Interaction<E>> {
        self.longest.iter().flatten()
    }

    /// The INP candidate given the page view's interaction count: `None`
    /// before any interaction was delivered.
    pub fn estimate(&self, interaction_count: u64) -> Option<&Interaction<E>> {
        let index = (self.longest().count().checked_sub(1)?).min((interaction_count / 50) as usize);
        self.longest().nth(index)
    }

    /// Re-evaluates INP after entries were added. As web-vitals, the reported
    /// interaction changes only when the candidate's latency differs, so an
    /// equally long later interaction does not take over the attribution.
    pub fn update(&mut self, interaction_count: u64) {
        let Some(candidate) = self.estimate(interaction_count) else { return };
        let reported_id = match &self.reported {
            Some(reported) if reported.latency == candidate.latency => reported.id,
            _ => candidate.id,
        };
        // Keep the reported interaction current (later entries of it widen
        // its processing span) while it is among the longest.
        if let Some(current) = self.longest.iter().flatten().find(|i| i.id == reported_id) {
            self.reported = Some(current.clone());
        }
    }

    /// INP as last updated.
    pub fn reported(&self) -> Option<&Interaction<E>> {
        self.reported.as_ref()
    }
}

impl<E> Interaction<E> {
    /// INP's three parts (input delay, processing, presentation), as
    /// web-vitals' attribution computes them from the entry's `startTime`.
    pub fn subparts(&self, start_time: f64) -> (f64, f64, f64) {
        let processing_start = self.processing.0.max(start_time);
        let next_paint = (start_time + self.latency).max(processing_start);
        let processing_end = self.processing.1.min(next_paint);
        (processing_start - start_time, processing_end - processing_start, next_paint - processing_end)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn timing(interaction_id: u64, duration: f64) -> EventTiming {
        EventTiming { interaction_id, duration, processing_start: 0.0, processing_end: 0.0 }
    }

    fn inp(entries: &[(u64, f64)], count: u64) -> Option<f64> {
        let mut interactions = Interactions::default();
        for &(id, duration) in entries {
            interactions.add(timing(id, duration), &());
        }
        interactions.estimate(count).map(|i| i.latency)
    }

    #[test]
    fn the_longest_interaction_with_few_interactions() {
        assert_eq!(inp(&[], 0), None);
        // A quick first input (delivered as `first-input`) counts.
        assert_eq!(inp(&[(1, 16.0)], 1), Some(16.0));
        assert_eq!(inp(&[(1, 48.0), (2, 120.0), (3, 64.0)], 3), Some(120.0));
        // Entries of one interaction: the longest sets its latency.
        assert_eq!(inp(&[(5, 56.0), (5, 88.0), (5, 72.0)], 1), Some(88.0));
        // Non-interaction events (id 0) never count.
        assert_eq!(inp(&[(0, 500.0), (1, 48.0)], 1), Some(48.0));
    }

    #[test]
    fn a_high_percentile_with_many_interactions() {
        let many: Vec<(u64, f64)> = (1..=120).map(|i| (i, 40.0 + i as f64)).collect();
        // 120 interactions: index ⌊120/50⌋ = 2, the third longest.
        assert_eq!(inp(&many, 120), Some(158.0));
        assert_eq!(inp(&many, 49), Some(160.0));
        assert_eq!(inp(&many, 1000), Some(151.0), "index capped at the 10 kept");
    }

    #[test]
    fn an_equally_long_interaction_does_not_take_over_the_report() {
        let mut interactions = Interactions::default();
        let mut count = 0;
        for id in 1..=60 {
            // Every tenth interaction is 256 ms, the others 48 ms.
            let duration = if id % 10 == 4 { 256.0 } else { 48.0 };
            interactions.add(timing(id, duration), &id);
            count += 1;
            interactions.update(count);
        }
        // With 60 interactions the candidate is the second longest (id 14),
        // but it is as long as the one reported before (id 4): 4 stays.
        assert_eq!(interactions.estimate(60).map(|i| i.entry), Some(14));
        assert_eq!(interactions.reported().map(|i| (i.entry, i.latency)), Some((4, 256.0)));
    }

    #[test]
    fn the_reported_interaction_follows_its_later_entries() {
        let mut interactions = Interactions::default();
        let entry = |duration, processing_end| EventTiming {
            interaction_id: 3,
            duration,
            processing_start: 10.0,
            processing_end,
        };
        interactions.add(entry(200.0, 12.0), &());
        interactions.update(1);
        interactions.add(entry(200.0, 180.0), &());
        interactions.update(1);
        assert_eq!(interactions.reported().unwrap().processing, (10.0, 180.0));
    }

    #[test]
    fn subparts_add_up_to_the_latency() {
        let mut interactions = Interactions::default();
        // pointerdown, then click of the same interaction: handlers 110..230, paint at 100 + 200.
        interactions.add(
            EventTiming { interaction_id: 7, duration: 96.0, processing_start: 110.0, processing_end: 150.0 },
            &(),
        );
        interactions.add(
            EventTiming { interaction_id: 7, duration: 200.0, processing_start: 160.0, processing_end: 230.0 },
            &(),
        );
        let inp = interactions.estimate(1).unwrap();
        assert_eq!(inp.latency, 200.0);
        assert_eq!(inp.subparts(100.0), (10.0, 120.0, 70.0));
    }
}
