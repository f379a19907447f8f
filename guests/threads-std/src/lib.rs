//! A threaded `std` guest: one shared `WebAssembly.Memory`, one instance
//! per thread, `Vec`, `String` and `HashMap` from every thread on one nogrow
//! heap. `std` itself must be built with atomics (nightly
//! `-Z build-std=std,panic_abort`, `RUSTFLAGS=-Ctarget-feature=+atomics,+bulk-memory`)
//! and linked with `--shared-memory --import-memory --max-memory=N`; std's
//! thread-locals (the `HashMap` hasher keys) need each thread's
//! `__wasm_init_tls`. `cargo xtask stress` builds it (`xtask/src/stress.rs`)
//! to `target/guests/threads/std-{fail,signal}.wasm`.
//!
//! Exports `work(slot, seed, ops)`, `give(slot, size)`, `take(slot, ptr,
//! size)` and `counted(slot, what)`, used as in `guests/threads-nostd`.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU32, Ordering::Relaxed};

#[cfg(not(feature = "signal"))]
nogrow::install!(arena: 4 << 20, policy: Fail);
#[cfg(feature = "signal")]
nogrow::install!(arena: 1 << 20, policy: Signal::new().step_pages(16));

const SLOTS: usize = 16;

static COUNTS: [[AtomicU32; 3]; SLOTS] = [const { [const { AtomicU32::new(0) }; 3] }; SLOTS];

/// What the exports did for `slot`: `what` 0 the steps `work` ran, 1 the
/// blocks `give` made, 2 the blocks `take` freed. (How many allocator calls
/// `std`'s collections make is theirs to decide; the host checks that every
/// allocation was freed instead.)
#[unsafe(no_mangle)]
pub extern "C" fn counted(slot: u32, what: u32) -> u32 {
    COUNTS[slot as usize % SLOTS][what as usize % 3].load(Relaxed)
}

fn add(slot: u32, what: usize, n: u32) {
    COUNTS[slot as usize % SLOTS][what].fetch_add(n, Relaxed);
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

/// The text stored under `key`: its decimal digits repeated `len` times.
fn text(key: u32, len: usize) -> String {
    key.to_string().repeat(len)
}

/// Whether `value` is `text(key, n)` for some `n` >= 1.
fn holds(key: u32, value: &str) -> bool {
    let unit = key.to_string();
    !value.is_empty()
        && value.len().is_multiple_of(unit.len())
        && value
            .as_bytes()
            .chunks(unit.len())
            .all(|c| c == unit.as_bytes())
}

/// `ops` random steps over a `HashMap<u32, String>` and a `Vec<Vec<u32>>`
/// (insert, replace, remove, push onto a vector, drop one): each value is
/// checked against what it must hold before it goes. Returns the number of
/// wrong values; counts the steps under `slot`.
#[unsafe(no_mangle)]
pub extern "C" fn work(slot: u32, seed: u32, ops: u32) -> u32 {
    let mut rng = seed | 1;
    let mut map: HashMap<u32, String> = HashMap::new();
    let mut lists: Vec<Vec<u32>> = Vec::new();
    let mut wrong = 0u32;
    for _ in 0..ops {
        let r = next(&mut rng);
        let key = (r >> 8) % 512;
        match r % 6 {
            0 | 1 => {
                let len = 1 + (r >> 20) as usize % 24;
                if let Some(old) = map.insert(key, text(key, len)) {
                    wrong += u32::from(!holds(key, &old));
                }
            }
            2 => {
                if let Some(old) = map.remove(&key) {
                    wrong += u32::from(!holds(key, &old));
                }
            }
            3 | 4 => {
                if lists.len() < 32 {
                    lists.push(Vec::new());
                }
                let at = key as usize % lists.len();
                let list = &mut lists[at];
                let n = list.len() as u32;
                list.push(n.wrapping_mul(2_654_435_761) ^ at as u32);
            }
            _ => {
                if !lists.is_empty() {
                    let at = key as usize % lists.len();
                    let list = lists.swap_remove(at);
                    for (i, &v) in list.iter().enumerate() {
                        wrong += u32::from(v != (i as u32).wrapping_mul(2_654_435_761) ^ at as u32);
                    }
                    if at != lists.len() {
                        // The last list moved to `at`: re-stamp it for its new place.
                        let moved = &mut lists[at];
                        for (i, v) in moved.iter_mut().enumerate() {
                            *v = (i as u32).wrapping_mul(2_654_435_761) ^ at as u32;
                        }
                    }
                }
            }
        }
    }
    for (key, value) in &map {
        wrong += u32::from(!holds(*key, value));
    }
    add(slot, 0, ops);
    wrong
}

/// The byte at `i` of a block given at `ptr`.
fn pattern(ptr: usize, i: usize) -> u8 {
    (ptr as u32)
        .wrapping_mul(31)
        .wrapping_add(i as u32 * 7)
        .to_le_bytes()[1]
        ^ i as u8
}

/// Allocates `size` bytes (at least 1) as a `Vec<u8>`, stamps them, and
/// returns the address; 0 if the allocation failed.
#[unsafe(no_mangle)]
pub extern "C" fn give(slot: u32, size: u32) -> usize {
    let n = size.max(1) as usize;
    let mut v: Vec<u8> = Vec::new();
    if v.try_reserve_exact(n).is_err() {
        return 0;
    }
    let ptr = v.as_ptr() as usize;
    v.extend((0..n).map(|i| pattern(ptr, i)));
    add(slot, 1, 1);
    Box::into_raw(v.into_boxed_slice()).cast::<u8>() as usize
}

/// Checks and frees a block made by `give(_, size)` in any thread; returns
/// the number of wrong bytes.
///
/// # Safety
///
/// `ptr` and `size` come from one `give` call and the block is taken once.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn take(slot: u32, ptr: usize, size: u32) -> u32 {
    let n = size.max(1) as usize;
    let raw = std::ptr::slice_from_raw_parts_mut(ptr as *mut u8, n);
    // SAFETY: the caller passes a block `give` made as a `Box<[u8]>` of `n`
    // bytes, and takes it once: this box is its only owner.
    let b = unsafe { Box::from_raw(raw) };
    let bad = b
        .iter()
        .enumerate()
        .filter(|&(i, &x)| x != pattern(ptr, i))
        .count() as u32;
    add(slot, 2, 1);
    bad
}
