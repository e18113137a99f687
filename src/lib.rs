//! palaute: a real-user performance and feedback beacon.
//!
//! This crate is two things at once:
//!
//! - on every target, the **beacon wire format** ([`wire`]) and the pure,
//!   browser-independent rules that interpret it ([`vitals`]): the one place
//!   the format and the Web Vitals thresholds are defined, shared with the
//!   collector;
//! - on `wasm32`, the Rust half of the **browser client** (`client`): the
//!   rules its JavaScript half (`www/client/`) calls with each entry.
//!
//! # Layout
//!
//! - [`wire`]: the beacon JSON the browser posts to `POST /b`.
//! - [`vitals`]: thresholds and the abandonment / slow-bounce classification.
//! - [`feedback`]: when the feedback prompt asks, and its words per language.
//! - `client` (wasm32 only): CLS and INP of the current page view, and
//!   whether the feedback prompt asks, behind a numbers-only interface.
#![deny(missing_docs)]
// In the browser the module is `no_std`: std's panic and formatting
// machinery would be most of its size. Everything here uses `core` and
// `alloc` only; natively (the collector, tests) the crate links std as usual.
#![cfg_attr(target_arch = "wasm32", no_std)]

extern crate alloc;

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

/// A panic stops the module (a trap, seen by the loader as a failed call)
/// without formatting a message. Client code does not panic on browser
/// input: missing APIs and odd values are `None`.
#[cfg(target_arch = "wasm32")]
#[panic_handler]
fn panic(_: &core::panic::PanicInfo) -> ! {
    core::arch::wasm32::unreachable()
}
