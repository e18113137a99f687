//! The module's exports: the measurement and feedback rules, called by the
//! client's JavaScript half (`www/client/`).
//!
//! The split keeps the client small. JavaScript does the browser wiring,
//! which it does in far fewer bytes than bindings can: observers, listeners,
//! timers, `fetch` / `sendBeacon`, the outbox and the prompt's DOM. This
//! module keeps the rules that give the numbers their meaning, shared with
//! the collector and unit-tested natively: the page view's metrics from the
//! browser's raw readings ([`crate::vitals::view`]: time origin, paints
//! before the page was hidden, CLS windows, INP, LCP sub-parts) and when the
//! prompt asks. Every export takes and returns numbers only.

mod global;
mod measure;
mod prompt;
