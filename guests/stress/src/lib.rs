//! Edge-test guest for nogrow's Signal policy at the engine's maximum.
//!
//! `cargo xtask test` builds it with `-C link-arg=--max-memory=4194304`
//! (64 pages) to `target/guests/edge-max-memory.wasm`; `js/test/guests/max-memory.test.mjs`
//! fills memory through these exports until the engine refuses to grow, and
//! checks the failure is clean, recorded, and that the heap stays usable.

use std::{
    alloc::{Layout, alloc, dealloc},
    ptr::null_mut,
};

nogrow::install!(arena: 256 << 10, policy: Signal::new());

const MAX_HELD: usize = 4096;
static mut HELD: [*mut u8; MAX_HELD] = [null_mut(); MAX_HELD];
static mut HELD_SIZE: [usize; MAX_HELD] = [0; MAX_HELD];
static mut COUNT: usize = 0;

fn layout(size: usize) -> Layout {
    Layout::from_size_align(size.max(1), 8).expect("small size")
}

/// Allocates `size`-byte blocks (written) until the allocator returns null or
/// `MAX_HELD` are held; returns how many are held.
#[unsafe(no_mangle)]
pub extern "C" fn edge_fill(size: u32) -> u32 {
    let size = size as usize;
    // SAFETY: single-threaded guest; the statics are only used by these exports.
    unsafe {
        while COUNT < MAX_HELD {
            let p = alloc(layout(size));
            if p.is_null() {
                break;
            }
            p.write_bytes(0xA5, size.max(1));
            HELD[COUNT] = p;
            HELD_SIZE[COUNT] = size;
            COUNT += 1;
        }
        COUNT as u32
    }
}

/// Frees the most recent held block; returns how many are still held.
#[unsafe(no_mangle)]
pub extern "C" fn edge_free_one() -> u32 {
    // SAFETY: single-threaded guest; HELD[COUNT - 1] was allocated with its size.
    unsafe {
        if COUNT > 0 {
            COUNT -= 1;
            dealloc(HELD[COUNT], layout(HELD_SIZE[COUNT]));
        }
        COUNT as u32
    }
}

/// Frees every held block, checking each still holds its pattern; returns
/// the number of corrupted blocks.
#[unsafe(no_mangle)]
pub extern "C" fn edge_free_all() -> u32 {
    let mut bad = 0;
    // SAFETY: single-threaded guest; every held block was allocated with its size.
    unsafe {
        while COUNT > 0 {
            COUNT -= 1;
            let (p, size) = (HELD[COUNT], HELD_SIZE[COUNT].max(1));
            if p.read() != 0xA5 || p.add(size - 1).read() != 0xA5 {
                bad += 1;
            }
            dealloc(p, layout(size));
        }
    }
    bad
}

/// Allocates, writes and frees one `size`-byte block: 1 if it worked, 0 if
/// the allocator returned null.
#[unsafe(no_mangle)]
pub extern "C" fn edge_try(size: u32) -> u32 {
    let l = layout(size as usize);
    // SAFETY: non-zero size; the block is written within bounds and freed with `l`.
    unsafe {
        let p = alloc(l);
        if p.is_null() {
            return 0;
        }
        p.write_bytes(1, l.size());
        dealloc(p, l);
    }
    1
}
