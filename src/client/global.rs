//! [`Global`]: the module's state in a `static` (the client is `no_std`, so
//! it has no `thread_local!`).

use core::cell::RefCell;

/// A value shared by the module's entry points and callbacks.
pub struct Global<T>(RefCell<T>);

// SAFETY: the module runs on the page's one thread (wasm32 without the
// `atomics` feature has no threads), so the cell is never shared between
// threads.
unsafe impl<T> Sync for Global<T> {}

impl<T> Global<T> {
    /// A global holding `value`.
    pub const fn new(value: T) -> Self {
        Global(RefCell::new(value))
    }

    /// Runs `f` on the cell.
    pub fn with<R>(&self, f: impl FnOnce(&RefCell<T>) -> R) -> R {
        f(&self.0)
    }
}
