//! palaute: a real-user performance and feedback beacon.
//!
//! This crate is two things at once:
//!
//! - on every target, the **beacon wire format** ([`wire`]) and the pure,
//!   browser-independent rules that interpret it: the one place the format,
//!   the Web Vitals rules and thresholds, the prompt's policy and words,
//!   the outbox's rules and the client's limits are defined, shared with
//!   the collector and unit-tested natively;
//! - on `wasm32`, the **browser client** (`client`): a Rust/WebAssembly
//!   module on `web-sys`, `js-sys`, `gloo-events`, `gloo-timers` and
//!   `serde-wasm-bindgen` that observes the page, sends the beacons and
//!   shows the feedback prompt. Only the loader (`www/palaute.js`) and
//!   wasm-bindgen's generated glue are JavaScript.
//!
//! # Layout
//!
//! - [`wire`]: the beacon JSON the browser posts to `POST /b`.
//! - [`vitals`]: the page view's measurements by web-vitals' rules,
//!   thresholds, the abandonment / slow-bounce classification, selectors.
//! - [`feedback`]: when the feedback prompt asks, its words per language,
//!   its markup.
//! - [`outbox`]: which beacons the client keeps, batches and re-sends.
//! - [`limits`]: what a page may put into a page view.
//! - `client` (wasm32 only): the browser wiring.
#![deny(missing_docs)]

pub mod feedback;
pub mod limits;
pub mod outbox;
pub mod vitals;
pub mod wire;

#[cfg(target_arch = "wasm32")]
mod client;

/// In the browser a small allocator made for wasm: lol_alloc's free list,
/// kept in address order with neighbours merged on free (dlmalloc, the
/// default, is 2.5 KB brotli larger in the module; talc 0.65 KB).
#[cfg(target_arch = "wasm32")]
#[global_allocator]
// SAFETY: the module runs on the page's one thread (wasm32 without the
// `atomics` feature has no threads), so the allocator is never shared.
static ALLOCATOR: lol_alloc::AssumeSingleThreaded<lol_alloc::FreeListAllocator> =
    unsafe { lol_alloc::AssumeSingleThreaded::new(lol_alloc::FreeListAllocator::new()) };
