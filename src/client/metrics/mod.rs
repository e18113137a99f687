//! What is measured, one module per source of truth. Entry handlers follow
//! the `web-vitals` library's rules so the values match it.

use alloc::vec::Vec;

pub mod attribution;
pub mod device;
pub mod nav;
pub mod paint;
pub mod responsiveness;

use super::observe::{EntryHandler, Observer};

/// Starts every buffered observer the client needs.
pub fn observers() -> Vec<Observer> {
    let handlers: [(&str, EntryHandler); 5] = [
        ("paint", paint::on_paint),
        ("largest-contentful-paint", paint::on_lcp),
        ("layout-shift", responsiveness::on_layout_shift),
        ("event", responsiveness::on_event),
        ("first-input", responsiveness::on_event),
    ];
    handlers.into_iter().filter_map(|(entry_type, handler)| Observer::new(entry_type, handler)).collect()
}
