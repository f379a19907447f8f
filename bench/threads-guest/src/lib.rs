//! Threaded benchmark guest: one shared `WebAssembly.Memory`, one instance
//! per thread, every thread doing talc's random actions (the `ra` workload
//! of `bench/guest`) on the one global allocator at once.
//!
//! Built by `bench/workers.mjs` for `wasm32-unknown-unknown` with
//! `+atomics,+bulk-memory` and `--shared-memory --import-memory`, once per
//! allocator feature: `nogrow-fail` (nogrow's Fail policy), `talc-lock`
//! (bare `TalcLock<spin, Claim>` over the same static arena) or
//! `std-dlmalloc` (std's own allocator; this one is a `std` crate and needs
//! `std` built with atomics: nightly `-Z build-std=std,panic_abort`).
//!
//! Export: `ra(slot, ops, seed)` returns the number of failed allocations.
//! Live blocks are tracked in a static table per slot, never in memory from
//! the allocator under test.

#![cfg_attr(not(feature = "std-dlmalloc"), no_std)]

extern crate alloc;

mod allocator;

use alloc::alloc::{Layout, alloc, dealloc, realloc};

/// Static arena of both allocators.
pub const ARENA_BYTES: usize = 32 << 20;

/// Threads that can run at once (one table each).
const SLOTS: usize = 8;

// The same random stream and live-block record as `bench/guest`.
#[path = "../../guest/src/random.rs"]
mod random;

use random::{Block, NONE, Rng};

const LIVE_MIN: usize = 50;
const LIVE_MAX: usize = 2000;
const MAX_SIZE: usize = 10_000;

static mut TABLES: [[Block; LIVE_MAX]; SLOTS] = [[NONE; LIVE_MAX]; SLOTS];

#[inline(always)]
fn layout(size: usize, align: usize) -> Layout {
    match Layout::from_size_align(size, align) {
        Ok(l) => l,
        Err(_) => unreachable!(),
    }
}

/// Random actions (talc's method): alloc/free/realloc 2:2:1, sizes 4..10 000 B
/// biased small, alignment mostly 8, 50..2 000 live blocks; every block's
/// first byte written. Runs in `slot`'s table; returns the failed allocations.
///
/// Two threads never pass the same `slot` at once.
#[unsafe(no_mangle)]
pub extern "C" fn ra(slot: u32, ops: u32, seed: u32) -> u32 {
    let table = (&raw mut TABLES).cast::<[Block; LIVE_MAX]>();
    // SAFETY: `slot % SLOTS` indexes the array, and the caller runs one
    // thread per slot: this table is ours alone for the call.
    let live = unsafe { &mut *table.add(slot as usize % SLOTS) };
    let mut len = 0usize;
    let mut rng = Rng::new(seed);
    let mut failures = 0;
    for _ in 0..ops {
        let action = rng.range(0, 5);
        if (action >= 2 && len > LIVE_MIN) || len == LIVE_MAX {
            let i = rng.range(0, len);
            let b = &mut live[i];
            if action == 4 {
                let new_size = rng.size(MAX_SIZE);
                // SAFETY: `b` is live with this layout; `new_size >= 4`.
                let ptr = unsafe { realloc(b.ptr, layout(b.size, b.align), new_size) };
                if ptr.is_null() {
                    failures += 1;
                } else {
                    b.ptr = ptr;
                    b.size = new_size;
                }
            } else {
                let b = *b;
                len -= 1;
                live[i] = live[len];
                // SAFETY: `b` came from this allocator with this layout and leaves the table.
                unsafe { dealloc(b.ptr, layout(b.size, b.align)) };
            }
        } else {
            let (size, align) = (rng.size(MAX_SIZE), rng.align());
            // SAFETY: `size >= 4`.
            let ptr = unsafe { alloc(layout(size, align)) };
            if ptr.is_null() {
                failures += 1;
            } else {
                // SAFETY: the block has at least one byte.
                unsafe { ptr.write(size as u8) };
                live[len] = Block { ptr, size, align };
                len += 1;
            }
        }
    }
    while len > 0 {
        len -= 1;
        let b = live[len];
        // SAFETY: as above.
        unsafe { dealloc(b.ptr, layout(b.size, b.align)) };
    }
    failures
}

/// A `no_std` guest has no panic handler of its own: a panic traps.
#[cfg(all(target_arch = "wasm32", not(feature = "std-dlmalloc")))]
#[panic_handler]
fn panic(_: &core::panic::PanicInfo) -> ! {
    core::arch::wasm32::unreachable()
}
