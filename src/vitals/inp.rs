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

/// One interaction: its id, latency, and the entry that set the latency
/// (for attribution).
#[derive(Debug, Clone, PartialEq)]
pub struct Interaction<E> {
    /// `interactionId`.
    pub id: u64,
    /// The longest entry's duration, ms.
    pub latency: f64,
    /// That entry.
    pub entry: E,
}

/// The longest interactions of a page view.
#[derive(Debug, Clone, PartialEq)]
pub struct Interactions<E> {
    longest: Vec<Interaction<E>>,
}

impl<E> Default for Interactions<E> {
    fn default() -> Self {
        Interactions { longest: Vec::new() }
    }
}

impl<E: Clone> Interactions<E> {
    /// Adds an `event` or `first-input` entry.
    pub fn add(&mut self, interaction_id: u64, duration: f64, entry: &E) {
        if interaction_id == 0 {
            return;
        }
        if let Some(known) = self.longest.iter_mut().find(|i| i.id == interaction_id) {
            if duration > known.latency {
                known.latency = duration;
                known.entry = entry.clone();
            }
        } else if self.longest.len() < MAX_KEPT || self.longest.last().is_some_and(|min| duration > min.latency) {
            self.longest.push(Interaction { id: interaction_id, latency: duration, entry: entry.clone() });
        } else {
            return;
        }
        // Stable, like JavaScript's sort: equal latencies keep their order.
        self.longest.sort_by(|a, b| b.latency.total_cmp(&a.latency));
        self.longest.truncate(MAX_KEPT);
    }

    /// INP given the page view's interaction count: `None` before any
    /// interaction was delivered.
    pub fn estimate(&self, interaction_count: u64) -> Option<&Interaction<E>> {
        let index = (self.longest.len().checked_sub(1)?).min((interaction_count / 50) as usize);
        self.longest.get(index)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn inp(entries: &[(u64, f64)], count: u64) -> Option<f64> {
        let mut interactions = Interactions::default();
        for &(id, duration) in entries {
            interactions.add(id, duration, &());
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
}
