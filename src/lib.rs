//! palaute: a real-user performance and feedback beacon.
//!
//! This crate is two things at once:
//!
//! - on every target, the **beacon wire format** ([`wire`]) and the pure,
//!   browser-independent rules that interpret it ([`vitals`]): the one place
//!   the format and the Web Vitals thresholds are defined, shared with the
//!   collector;
//! - on `wasm32`, the **browser client** (`client`), started by the loader
//!   `www/palaute.js` once the page has loaded.
//!
//! # Layout
//!
//! - [`wire`]: the beacon JSON the browser posts to `POST /b`.
//! - [`vitals`]: thresholds and the abandonment / slow-bounce classification.
//! - [`feedback`]: when the feedback prompt asks, and its words per language.
//! - `client` (wasm32 only): observers, page-view state, lifecycle, transport,
//!   the feedback prompt.
#![deny(missing_docs)]

pub mod feedback;
pub mod vitals;
pub mod wire;

#[cfg(target_arch = "wasm32")]
mod client;

/// In the browser a small allocator made for wasm (the default one, dlmalloc,
/// is several times larger in the module).
#[cfg(target_arch = "wasm32")]
#[global_allocator]
static ALLOCATOR: talc::wasm::WasmDynamicTalc = talc::wasm::new_wasm_dynamic_allocator();
