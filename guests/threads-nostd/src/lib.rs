//! A `no_std` threaded guest built on stable Rust: one shared
//! `WebAssembly.Memory`, one instance per thread (the main thread and each
//! worker), every instance allocating from the same nogrow heap.
//!
//! `cargo xtask build-guests` builds it for `wasm32-unknown-unknown` with
//! `+atomics,+bulk-memory` and `--shared-memory --import-memory
//! --max-memory=N` (see `xtask/src/guests.rs`) to
//! `target/guests/threads/nostd-{fail,reserve,signal,notify}.wasm`;
//! `js/test/guests/threads.test.mjs` runs it in Node `worker_threads`. On the
//! host (clippy, tests) it is an ordinary `std` library.
//!
//! Exports:
//! - `work(slot, seed, ops)`: random allocations, frees and reallocations of
//!   `Box<[u8]>` and `Vec<u8>`, every block filled with a pattern and checked
//!   before it is freed; returns the number of bytes found wrong. What it did
//!   is counted under `slot` (`counted(slot, what)`).
//! - `give(slot, size)` / `take(slot, ptr, size)`: one thread allocates and
//!   fills a block, another checks and frees it.
//! - `grab(bytes)`: an infallible allocation of `bytes` that is kept (the
//!   out-of-memory case traps in it).

#![cfg_attr(all(target_arch = "wasm32", not(test)), no_std)]

extern crate alloc;

use alloc::{boxed::Box, vec::Vec};
use core::sync::atomic::{AtomicU32, Ordering::Relaxed};

#[cfg(not(any(feature = "reserve", feature = "signal")))]
nogrow::install!(arena: 4 << 20, policy: Fail);
#[cfg(all(feature = "reserve", not(feature = "signal")))]
nogrow::install!(arena: 256 << 10, policy: Reserve::pages(80)); // + 5 MiB, once
#[cfg(feature = "signal")]
nogrow::install!(arena: 1 << 20, policy: Signal::new().step_pages(16));

/// Slots for per-thread counts (a thread passes its own slot).
const SLOTS: usize = 16;

/// What a slot counts: allocations, frees, reallocations, bytes checked.
#[derive(Clone, Copy)]
enum Count {
    Allocs = 0,
    Frees = 1,
    Reallocs = 2,
}

static COUNTS: [[AtomicU32; 3]; SLOTS] = [const { [const { AtomicU32::new(0) }; 3] }; SLOTS];

fn count(slot: u32, what: Count) {
    COUNTS[slot as usize % SLOTS][what as usize].fetch_add(1, Relaxed);
}

/// How many allocations (`what` 0), frees (1) or reallocations (2) the
/// exports made for `slot`.
#[unsafe(no_mangle)]
pub extern "C" fn counted(slot: u32, what: u32) -> u32 {
    COUNTS[slot as usize % SLOTS][what as usize % 3].load(Relaxed)
}

/// xorshift32.
fn next(state: &mut u32) -> u32 {
    let mut x = *state;
    x ^= x << 13;
    x ^= x >> 17;
    x ^= x << 5;
    *state = x;
    x
}

/// The byte at `i` of a block stamped with `tag`.
fn pattern(tag: u32, i: usize) -> u8 {
    (tag.wrapping_mul(31).wrapping_add(i as u32 * 7) >> 3) as u8 ^ (i as u8)
}

fn fill(tag: u32, bytes: &mut [u8]) {
    for (i, b) in bytes.iter_mut().enumerate() {
        *b = pattern(tag, i);
    }
}

/// Bytes of `bytes` that differ from the pattern of `tag`.
fn wrong(tag: u32, bytes: &[u8]) -> u32 {
    bytes
        .iter()
        .enumerate()
        .filter(|&(i, &b)| b != pattern(tag, i))
        .count() as u32
}

/// A live block of the random run: a boxed slice or a vector.
enum Block {
    Boxed(u32, Box<[u8]>),
    Grown(u32, Vec<u8>),
}

impl Block {
    fn check(&self) -> u32 {
        match self {
            Block::Boxed(tag, b) => wrong(*tag, b),
            Block::Grown(tag, v) => wrong(*tag, v),
        }
    }
}

/// Sizes: mostly small, sometimes a few KiB.
fn size(rng: &mut u32) -> usize {
    let r = next(rng);
    if r.is_multiple_of(16) {
        1 + (r >> 8) as usize % 8192
    } else {
        1 + (r >> 8) as usize % 256
    }
}

/// `ops` random operations over at most 64 live blocks, seeded by `seed`:
/// allocate a boxed slice or a vector, free one, grow a vector by
/// reallocation (`reserve_exact` at full capacity) or shrink it
/// (`shrink_to_fit`; vectors of 16 KiB or more only shrink). Every block is stamped when made and checked before it
/// is freed or reallocated, and after. Returns the number of wrong bytes;
/// the allocations, frees and reallocations are counted under `slot`.
#[unsafe(no_mangle)]
pub extern "C" fn work(slot: u32, seed: u32, ops: u32) -> u32 {
    let mut rng = seed | 1;
    let mut live: Vec<Block> = Vec::with_capacity(64);
    count(slot, Count::Allocs);
    let mut violations = 0u32;
    for _ in 0..ops {
        let r = next(&mut rng);
        let full = live.len() == live.capacity();
        match r % 8 {
            0..=3 if !full => {
                let tag = next(&mut rng);
                let n = size(&mut rng);
                let block = if r & 0x100 == 0 {
                    let mut b: Box<[u8]> = alloc::vec![0u8; n].into_boxed_slice();
                    fill(tag, &mut b);
                    Block::Boxed(tag, b)
                } else {
                    // One allocation of exactly `n` (the iterator's length is known).
                    let mut v: Vec<u8> = Vec::with_capacity(n);
                    v.extend((0..n).map(|i| pattern(tag, i)));
                    Block::Grown(tag, v)
                };
                count(slot, Count::Allocs);
                live.push(block);
            }
            4 | 5 if !live.is_empty() => {
                let at = r as usize % live.len();
                if let Block::Grown(tag, v) = &mut live[at] {
                    violations += wrong(*tag, v);
                    let old = v.len();
                    if (r & 0x100 == 0 && old < 16 << 10) || old < 2 {
                        // Grow: len == capacity, so reserve_exact reallocates.
                        v.shrink_to_fit();
                        if v.capacity() != old {
                            violations += 1;
                        }
                        let more = size(&mut rng);
                        v.reserve_exact(more);
                        v.resize(old + more, 0);
                    } else {
                        // Shrink: truncate, then give the tail back.
                        v.truncate(old / 2);
                        v.shrink_to_fit();
                        violations += wrong(*tag, v);
                    }
                    fill(*tag, v);
                    count(slot, Count::Reallocs);
                }
            }
            _ if !live.is_empty() => {
                let block = live.swap_remove(r as usize % live.len());
                violations += block.check();
                drop(block);
                count(slot, Count::Frees);
            }
            _ => {}
        }
    }
    for block in live.drain(..) {
        violations += block.check();
        count(slot, Count::Frees);
    }
    drop(live);
    count(slot, Count::Frees);
    violations
}

/// Allocates `size` bytes (at least 1), stamps them with the block's own
/// address and returns it; 0 if the allocation failed. The block belongs to
/// whoever calls `take` with it.
#[unsafe(no_mangle)]
pub extern "C" fn give(slot: u32, size: u32) -> usize {
    let n = size.max(1) as usize;
    let mut v: Vec<u8> = Vec::new();
    if v.try_reserve_exact(n).is_err() {
        return 0;
    }
    v.resize(n, 0);
    let mut b = v.into_boxed_slice();
    let ptr = b.as_mut_ptr();
    fill(ptr as u32, &mut b);
    count(slot, Count::Allocs);
    Box::into_raw(b).cast::<u8>() as usize
}

/// Checks and frees a block made by `give(_, size)` (in any thread);
/// returns the number of wrong bytes.
///
/// # Safety
///
/// `ptr` and `size` come from one `give` call and the block is taken once.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn take(slot: u32, ptr: usize, size: u32) -> u32 {
    let n = size.max(1) as usize;
    let raw = core::ptr::slice_from_raw_parts_mut(ptr as *mut u8, n);
    // SAFETY: the caller passes a block `give` made as a `Box<[u8]>` of `n`
    // bytes, and takes it once: this box is its only owner.
    let b = unsafe { Box::from_raw(raw) };
    let bad = wrong(ptr as u32, &b);
    drop(b);
    count(slot, Count::Frees);
    bad
}

/// Allocates `bytes` with the infallible API and keeps them (a leak on
/// purpose): past the heap, nogrow records the request and the allocation
/// error handler traps. Returns the block's address. A buffer on the
/// shadow stack is live across the allocation, as in most real callers, so
/// a trap in it leaves the instance's `__stack_pointer` lowered.
#[unsafe(no_mangle)]
pub extern "C" fn grab(bytes: u32) -> usize {
    let mut frame = [0u8; 64];
    core::hint::black_box(&mut frame);
    let b: Box<[u8]> = alloc::vec![1u8; bytes as usize].into_boxed_slice();
    core::hint::black_box(&frame);
    Box::leak(b).as_ptr() as usize
}

/// The guest's own panic handler: `no_std` on wasm has none. A panic
/// traps (`unreachable`).
#[cfg(all(target_arch = "wasm32", not(test)))]
#[panic_handler]
fn panic(_: &core::panic::PanicInfo) -> ! {
    core::arch::wasm32::unreachable()
}
