//! Interaction to Next Paint, as web-vitals computes it: `event` entries of
//! at least [`MIN_DURATION_MS`] (the observer's threshold) and the
//! `first-input` entry (delivered whatever its duration) are grouped by `interactionId`
//! (an interaction's latency is its longest entry); the 10 longest
//! interactions are kept, and INP is the one at index
//! `min(kept − 1, ⌊interactions / 50⌋)`, an approximate 98th percentile.
//!
//! Its sub-parts follow web-vitals' attribution build
//! (`attribution/onINP.ts`): every delivered entry, whatever its
//! interaction (a `pointerover` with none too), joins the [`Frame`] whose
//! render time (`startTime + duration`) is within [`SAME_FRAME_MS`] of its
//! own; an interaction's processing is that of the frame of its first
//! longest entry, from the frame's earliest `processingStart` to its latest
//! `processingEnd`.

use super::script::MAX_PENDING_FRAMES;

/// The `durationThreshold` of `event` observers (web-vitals' default):
/// shorter entries are not delivered, except the `first-input` one.
pub const MIN_DURATION_MS: f64 = 40.0;

/// Interactions considered at most.
pub const MAX_KEPT: usize = 10;

/// Entries whose render times are at most this far apart were presented in
/// the same frame (durations are rounded to 8 ms).
pub const SAME_FRAME_MS: f64 = 8.0;

/// The entries presented in one animation frame, as web-vitals' attribution
/// groups them (`pendingEntriesGroup`).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Frame {
    /// Its first entry's `startTime + duration` (NaN: no frame yet), which
    /// also tells it apart: a later frame's is more than [`SAME_FRAME_MS`] on.
    render_time: f64,
    /// Its entries' earliest `processingStart` and latest `processingEnd`.
    pub processing: (f64, f64),
}

/// One interaction: its id, latency, and the entry that set the latency
/// (the first of its longest entries) with the frame it was presented in.
#[derive(Debug, Clone, PartialEq)]
pub struct Interaction {
    /// `interactionId`.
    pub id: u64,
    /// The longest entry's duration, ms.
    pub latency: f64,
    /// That entry's `startTime`.
    pub start_time: f64,
    /// Its frame, kept current as later entries join it.
    pub frame: Frame,
}

/// One `event` or `first-input` entry, as INP needs it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct EventTiming {
    /// `interactionId` (0: not part of an interaction).
    pub interaction_id: u64,
    /// `startTime`, ms.
    pub start_time: f64,
    /// `duration`, ms.
    pub duration: f64,
    /// `processingStart`, ms.
    pub processing_start: f64,
    /// `processingEnd`, ms.
    pub processing_end: f64,
}

/// The longest interactions of a page view, the one reported as INP, and
/// the frames recent entries were presented in.
/// Fixed arrays, not `Vec`s: the browser module then needs no allocator.
#[derive(Debug, Clone, PartialEq)]
pub struct Interactions {
    /// Longest first; the kept ones are the leading `Some`s.
    longest: [Option<Interaction>; MAX_KEPT],
    reported: Option<Interaction>,
    /// The latest [`MAX_PENDING_FRAMES`] frames, the latest first.
    frames: [Frame; MAX_PENDING_FRAMES],
}

impl Default for Interactions {
    fn default() -> Self {
        let none = Frame { render_time: f64::NAN, processing: (0.0, 0.0) };
        Interactions { longest: [const { None }; MAX_KEPT], reported: None, frames: [none; MAX_PENDING_FRAMES] }
    }
}

impl Interactions {
    /// Adds an `event` or `first-input` entry. `true` when it is now the
    /// one that sets its interaction's latency.
    pub fn add(&mut self, timing: EventTiming) -> bool {
        let frame = self.present(&timing);
        let EventTiming { interaction_id, start_time, duration, .. } = timing;
        if interaction_id == 0 {
            return false;
        }
        let known_at = self.longest().position(|i| i.id == interaction_id);
        let interaction = match known_at {
            // As web-vitals: an entry no longer than the interaction's
            // latency changes nothing (its frame was updated above), and
            // the interaction keeps its place among equally long ones.
            Some(index) if self.longest[index].as_ref().is_some_and(|known| duration > known.latency) => {
                let Some(mut known) = self.longest[index].take() else { return false };
                // The free slot to the end (swaps: a slice's `rotate_*` is
                // 0.5 KB in the browser module).
                for i in index..MAX_KEPT - 1 {
                    self.longest.swap(i, i + 1);
                }
                known.latency = duration;
                known.start_time = start_time;
                known.frame = frame;
                known
            }
            Some(_) => return false,
            None if self.longest().count() < MAX_KEPT
                || self.longest().last().is_some_and(|min| duration > min.latency) =>
            {
                Interaction { id: interaction_id, latency: duration, start_time, frame }
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
        true
    }

    /// The frame `timing`'s entry was presented in, with the entry added:
    /// the latest frame whose render time is within [`SAME_FRAME_MS`] of the
    /// entry's (as web-vitals searches its pending groups from the latest:
    /// the recent ones, then those of the interactions kept), else a new one.
    fn present(&mut self, timing: &EventTiming) -> Frame {
        let (start, end) = (timing.processing_start, timing.processing_end);
        let render_time = timing.start_time + timing.duration;
        let near = |frame: &Frame| (render_time - frame.render_time).abs() <= SAME_FRAME_MS;
        let at = self.frames.iter().position(near).unwrap_or_else(|| {
            // Not a recent one: an earlier frame of an interaction kept,
            // else a new one; the latest first, the oldest dropped.
            let kept = self.longest().map(|i| i.frame).find(near);
            self.frames.copy_within(..MAX_PENDING_FRAMES - 1, 1);
            self.frames[0] = kept.unwrap_or(Frame { render_time, processing: (start, end) });
            0
        });
        let frame = &mut self.frames[at];
        frame.processing = (frame.processing.0.min(start), frame.processing.1.max(end));
        let frame = *frame;
        // The interactions it presented keep a copy (the reported one
        // takes it in `update`).
        for interaction in self.longest.iter_mut().flatten() {
            if interaction.frame.render_time == frame.render_time {
                interaction.frame = frame;
            }
        }
        frame
    }

    /// The longest interactions kept, longest first.
    pub fn longest(&self) -> impl Iterator<Item = &Interaction> {
        self.longest.iter().flatten()
    }

    /// The INP candidate given the page view's interaction count: `None`
    /// before any interaction was delivered.
    pub fn estimate(&self, interaction_count: u64) -> Option<&Interaction> {
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
        // Keep the reported interaction current while it is among the longest.
        if let Some(current) = self.longest.iter().flatten().find(|i| i.id == reported_id) {
            self.reported = Some(current.clone());
        }
    }

    /// INP as last updated.
    pub fn reported(&self) -> Option<&Interaction> {
        self.reported.as_ref()
    }
}

impl Interaction {
    /// INP's three parts (input delay, processing, presentation), as
    /// web-vitals' attribution computes them: processing from the frame's
    /// earliest start (not before the interaction's `startTime`) to its
    /// latest end (not after the next paint, `startTime + latency`).
    pub fn subparts(&self) -> (f64, f64, f64) {
        let (frame_start, frame_end) = self.frame.processing;
        let processing_start = frame_start.max(self.start_time);
        let next_paint = (self.start_time + self.latency).max(processing_start);
        let processing_end = frame_end.min(next_paint);
        (processing_start - self.start_time, processing_end - processing_start, next_paint - processing_end)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// An entry of `interaction_id` lasting `duration` whose handlers ran
    /// from `processing_start` to `processing_end`.
    fn entry(interaction_id: u64, start_time: f64, duration: f64, processing: (f64, f64)) -> EventTiming {
        EventTiming {
            interaction_id,
            start_time,
            duration,
            processing_start: processing.0,
            processing_end: processing.1,
        }
    }

    fn timing(interaction_id: u64, duration: f64) -> EventTiming {
        entry(interaction_id, 0.0, duration, (0.0, 0.0))
    }

    fn inp(entries: &[(u64, f64)], count: u64) -> Option<f64> {
        let mut interactions = Interactions::default();
        for &(id, duration) in entries {
            interactions.add(timing(id, duration));
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
            interactions.add(timing(id, duration));
            count += 1;
            interactions.update(count);
        }
        // With 60 interactions the candidate is the second longest (id 14),
        // but it is as long as the one reported before (id 4): 4 stays.
        assert_eq!(interactions.estimate(60).map(|i| i.id), Some(14));
        assert_eq!(interactions.reported().map(|i| (i.id, i.latency)), Some((4, 256.0)));
    }

    #[test]
    fn a_later_entry_no_longer_than_its_interaction_keeps_its_place_among_equals() {
        let mut interactions = Interactions::default();
        interactions.add(timing(1, 104.0));
        interactions.add(timing(2, 104.0));
        // Interaction 1's click, after its pointerdown (or the same entry
        // again, buffered): web-vitals' stable sort leaves 1 first.
        assert!(!interactions.add(timing(1, 104.0)));
        assert_eq!(interactions.longest().map(|i| i.id).collect::<Vec<_>>(), [1, 2]);
    }

    #[test]
    fn processing_spans_the_frame_whatever_the_interaction_of_its_entries() {
        // One click as headless Chromium presents it: the hover events (no
        // interaction) whose slow `pointerover` handler runs first, then
        // the click's pointerdown, pointerup and click, all in one frame,
        // all 240 ms long (rounded to 8 ms).
        let mut interactions = Interactions::default();
        assert!(!interactions.add(entry(0, 100.0, 240.0, (101.0, 131.0))), "pointerover");
        assert!(interactions.add(entry(7, 100.5, 240.0, (133.0, 134.0))), "pointerdown");
        assert!(!interactions.add(entry(0, 100.5, 240.0, (134.0, 134.0))), "mousedown");
        // pointerup and click start later: as long, they do not take over.
        assert!(!interactions.add(entry(7, 101.0, 240.0, (134.5, 135.0))), "pointerup");
        assert!(!interactions.add(entry(7, 101.0, 240.0, (135.0, 337.0))), "click");
        interactions.update(1);
        let inp = interactions.reported().unwrap();
        assert_eq!((inp.latency, inp.start_time), (240.0, 100.5));
        // web-vitals: the input delay ends when the frame's first handler
        // began (the pointerover's, after the pointerdown's `startTime`),
        // not when the interaction's own handlers began (133.0).
        assert_eq!(inp.subparts(), (0.5, 236.0, 3.5));
    }

    #[test]
    fn processing_is_that_of_the_frame_of_the_longest_entry() {
        let mut interactions = Interactions::default();
        // pointerdown presented at 196, then the click of the same
        // interaction presented at 300: the click's frame counts alone.
        interactions.add(entry(7, 100.0, 96.0, (110.0, 150.0)));
        interactions.add(entry(7, 100.0, 200.0, (160.0, 230.0)));
        let inp = interactions.estimate(1).unwrap();
        assert_eq!(inp.latency, 200.0);
        assert_eq!(inp.subparts(), (60.0, 70.0, 70.0));
        // Parts add up to the latency, processing clamped to the next paint
        // (a synchronous `alert()` keeps handlers running past it).
        interactions.add(entry(0, 120.0, 176.0, (170.0, 320.0)));
        assert_eq!(interactions.estimate(1).unwrap().subparts(), (60.0, 140.0, 0.0));
    }

    #[test]
    fn the_reported_interaction_follows_its_frames_later_entries() {
        let mut interactions = Interactions::default();
        interactions.add(entry(3, 8.0, 200.0, (10.0, 12.0)));
        interactions.update(1);
        // A later entry of the frame (within 8 ms of its render time, 208),
        // of the same interaction or of none.
        interactions.add(entry(3, 9.0, 200.0, (12.0, 180.0)));
        interactions.add(entry(0, 9.0, 192.0, (180.0, 190.0)));
        interactions.update(1);
        assert_eq!(interactions.reported().unwrap().frame.processing, (10.0, 190.0));
        // Entries of the next frame (16 ms on) do not join it.
        interactions.add(entry(0, 20.0, 200.0, (5.0, 200.0)));
        assert_eq!(interactions.reported().unwrap().frame.processing, (10.0, 190.0));
    }

    #[test]
    fn an_interactions_frame_outlives_the_recent_frames() {
        let mut interactions = Interactions::default();
        interactions.add(entry(3, 0.0, 104.0, (2.0, 90.0)));
        interactions.update(1);
        // 30 frames of entries of no interaction, 16 ms apart, after it.
        for frame in 1..=30 {
            let start = 104.0 + 16.0 * frame as f64;
            interactions.add(entry(0, start, 48.0, (start, start + 1.0)));
        }
        // A late entry of the interaction's frame still joins it.
        interactions.add(entry(0, 1.0, 104.0, (1.0, 95.0)));
        interactions.update(1);
        assert_eq!(interactions.reported().unwrap().frame.processing, (1.0, 95.0));
    }
}
