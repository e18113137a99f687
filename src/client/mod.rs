//! The module's exports: the measurement and feedback rules, called by the
//! client's JavaScript half (`www/client/`).
//!
//! The split keeps the client small. JavaScript does the browser wiring,
//! which it does in far fewer bytes than bindings can: observers, listeners,
//! timers, `fetch` / `sendBeacon`, the outbox and the prompt's DOM. This
//! module keeps the rules that give the numbers their meaning, shared with
//! the collector and unit-tested natively: CLS session windows, INP
//! interaction grouping, its percentile and sub-parts, when the prompt asks
//! and in which language. Every export takes and returns numbers, except
//! the two that take language tags and the trigger mode.

mod global;
mod measure;
mod prompt;
