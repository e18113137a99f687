//! What is measured, one module per source of truth. Entry handlers follow
//! the `web-vitals` library's rules so the values match it.

pub mod device;
pub mod nav;
pub mod paint;

use super::observe::Observer;

/// Starts every buffered observer the client needs.
pub fn observers() -> Vec<Observer> {
    [("paint", paint::on_paint as super::observe::EntryHandler), ("largest-contentful-paint", paint::on_lcp)]
        .into_iter()
        .filter_map(|(entry_type, handler)| Observer::new(entry_type, handler))
        .collect()
}
