//! The loader's build-time constants, from their one definition in the
//! crate: `scripts/build-client.sh` passes what this prints to esbuild as
//! `--define`s, so that the loader's own beacon obeys the outbox's key and
//! bounds ([`palaute::outbox`]) as the module's beacons do.
//!
//!     cargo run -q -p palaute --example loader_defines

use palaute::outbox::{KEY, MAX_BYTES, MAX_ENTRIES};

fn main() {
    println!("--define:__OUTBOX_KEY__=\"{KEY}\" --define:__OUTBOX_ENTRIES__={MAX_ENTRIES} --define:__OUTBOX_BYTES__={MAX_BYTES}");
}
