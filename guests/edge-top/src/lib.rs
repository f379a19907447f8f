//! Edge-test guest for heaps that reach the top of the 4 GiB wasm32 address
//! space, where a 32-bit `ptr + size` passes 2^32 and wraps.
//!
//! `cargo xtask test` builds it three times (`stress::EDGE_TOP_*`):
//! `edge-top-signal-limit` (`Signal::new().limit_pages(65535)`, the default
//! features), `edge-top-signal` (feature `unlimited`: `Signal::new()`, memory
//! may reach exactly 65536 pages) and `edge-top-reserve` (feature `reserve`:
//! `Reserve::runtime()`, also with `linker_heap` so the reserve extends the
//! heap that ends where memory ends). `js/test/guests/edge-top.test.mjs`
//! drives the exports below.
//!
//! Every allocation is safe Rust (`Vec::try_reserve_exact`); the blocks stay
//! alive in `SLOTS`. Each block gets a tag byte at its first and last byte
//! (only when the block lies inside memory: a block past the end is reported
//! by the host's check, and writing it would trap or, with a wrapped address,
//! scribble low memory). The host reads every block's address and size to
//! check that the blocks are inside memory and disjoint; `edge_verify` checks
//! the tags. Only a few bytes per block are ever written, so gigabytes of
//! grown memory stay untouched (and cost no RAM).

use std::sync::{Mutex, MutexGuard};

#[cfg(not(any(feature = "unlimited", feature = "reserve")))]
nogrow::install!(arena: 256 << 10, policy: Signal::new().limit_pages(65535));
#[cfg(feature = "unlimited")]
nogrow::install!(arena: 256 << 10, policy: Signal::new());
#[cfg(feature = "reserve")]
nogrow::install!(arena: 256 << 10, linker_heap, policy: Reserve::runtime());

/// A 4096-aligned element: a `Vec<Page>` is a block aligned to 4096 bytes,
/// which makes talc search its bins with a fit check (`full_search_bin`).
#[repr(C, align(4096))]
pub struct Page(pub [u8; 4096]);

/// One held block.
enum Slot {
    Empty,
    Bytes(Vec<u8>),
    Pages(Vec<Page>),
}

impl Slot {
    /// The block's address and size in bytes (its capacity), if any.
    fn block(&self) -> Option<(usize, usize)> {
        match self {
            Slot::Empty => None,
            Slot::Bytes(v) => Some((v.as_ptr().expose_provenance(), v.capacity())),
            Slot::Pages(v) => Some((
                v.as_ptr().expose_provenance(),
                v.capacity() * size_of::<Page>(),
            )),
        }
        .filter(|&(_, size)| size > 0)
    }
}

const MAX_SLOTS: usize = 2048;

/// The held blocks, in allocation order; a slot is never reused.
struct Slots {
    slots: [Slot; MAX_SLOTS],
    used: usize,
}

static SLOTS: Mutex<Slots> = Mutex::new(Slots {
    slots: [const { Slot::Empty }; MAX_SLOTS],
    used: 0,
});

fn slots() -> MutexGuard<'static, Slots> {
    SLOTS.lock().unwrap_or_else(|e| e.into_inner())
}

/// Bytes of linear memory now.
fn memory_bytes() -> u64 {
    #[cfg(target_arch = "wasm32")]
    {
        core::arch::wasm32::memory_size(0) as u64 * 65536
    }
    #[cfg(not(target_arch = "wasm32"))]
    {
        u64::MAX
    }
}

/// Whether `addr..addr + size` lies inside linear memory.
fn inside_memory(addr: usize, size: usize) -> bool {
    addr as u64 + size as u64 <= memory_bytes()
}

/// The tag of slot `slot`: never 0 (fresh memory reads 0).
fn tag(slot: usize) -> u8 {
    (slot % 251) as u8 + 1
}

/// Writes the slot's tag at the first and last byte of its block, if the
/// block lies inside memory.
fn mark(slot: usize, block: Option<(usize, usize)>) {
    if let Some((addr, size)) = block.filter(|&(a, s)| inside_memory(a, s)) {
        let p = core::ptr::with_exposed_provenance_mut::<u8>(addr);
        // SAFETY: the block is a live allocation of `size` bytes held in
        // `SLOTS` (only these exports touch it), inside memory.
        unsafe {
            p.write(tag(slot));
            p.add(size - 1).write(tag(slot));
        }
    }
}

/// Keeps `slot` (if the allocation worked) and marks it; returns its index,
/// or -1.
fn keep(slot: Option<Slot>) -> i32 {
    let mut s = slots();
    let Some(slot) = slot else { return -1 };
    if s.used == MAX_SLOTS {
        return -1;
    }
    let index = s.used;
    let block = slot.block();
    s.slots[index] = slot;
    s.used += 1;
    mark(index, block);
    index as i32
}

/// A `Vec<u8>` of capacity `bytes` (`try_reserve_exact`); returns its slot,
/// or -1 if the allocation failed.
#[unsafe(no_mangle)]
pub extern "C" fn edge_vec(bytes: u32) -> i32 {
    let mut v = Vec::<u8>::new();
    keep(
        v.try_reserve_exact(bytes as usize)
            .ok()
            .map(|()| Slot::Bytes(v)),
    )
}

/// A `Vec<Page>` of `pages` 4096-byte, 4096-aligned elements; returns its
/// slot, or -1 if the allocation failed.
#[unsafe(no_mangle)]
pub extern "C" fn edge_pages(pages: u32) -> i32 {
    let mut v = Vec::<Page>::new();
    keep(
        v.try_reserve_exact(pages as usize)
            .ok()
            .map(|()| Slot::Pages(v)),
    )
}

/// `edge_vec(bytes)` until it fails or the slots run out; returns how many
/// blocks were added.
#[unsafe(no_mangle)]
pub extern "C" fn edge_fill(bytes: u32) -> u32 {
    let mut n = 0;
    while edge_vec(bytes) >= 0 {
        n += 1;
    }
    n
}

/// Grows the `Vec<u8>` in `slot` to a capacity of at least `bytes`
/// (`try_reserve_exact`: in place if talc can, else moved). 1: done, 0: the
/// allocation failed (the block is unchanged), -1: no such `Vec<u8>`.
#[unsafe(no_mangle)]
pub extern "C" fn edge_grow(slot: u32, bytes: u32) -> i32 {
    let slot = slot as usize;
    let mut s = slots();
    let Some(Slot::Bytes(v)) = s.slots.get_mut(slot) else {
        return -1;
    };
    let ok = v
        .try_reserve_exact((bytes as usize).saturating_sub(v.len()))
        .is_ok();
    let block = s.slots[slot].block();
    if ok {
        mark(slot, block);
    }
    i32::from(ok)
}

/// Frees the block in `slot`.
#[unsafe(no_mangle)]
pub extern "C" fn edge_free(slot: u32) {
    if let Some(held) = slots().slots.get_mut(slot as usize) {
        *held = Slot::Empty;
    }
}

/// Slots used so far (freed ones included).
#[unsafe(no_mangle)]
pub extern "C" fn edge_slots() -> u32 {
    slots().used as u32
}

/// The address of the block in `slot` (0: none).
#[unsafe(no_mangle)]
pub extern "C" fn edge_addr(slot: u32) -> u32 {
    let s = slots();
    s.slots
        .get(slot as usize)
        .and_then(Slot::block)
        .map_or(0, |b| b.0 as u32)
}

/// The size in bytes of the block in `slot` (0: none).
#[unsafe(no_mangle)]
pub extern "C" fn edge_size(slot: u32) -> u32 {
    let s = slots();
    s.slots
        .get(slot as usize)
        .and_then(Slot::block)
        .map_or(0, |b| b.1 as u32)
}

/// Checks the tags of every held block inside memory: -1 if all hold, else
/// the first slot whose first or last byte lost its tag.
#[unsafe(no_mangle)]
pub extern "C" fn edge_verify() -> i32 {
    let s = slots();
    for (i, slot) in s.slots[..s.used].iter().enumerate() {
        let Some((addr, size)) = slot.block() else {
            continue;
        };
        if !inside_memory(addr, size) {
            continue;
        }
        let p = core::ptr::with_exposed_provenance::<u8>(addr);
        // SAFETY: the block is live, `size` bytes, inside memory; its first
        // and last byte were written by `mark`.
        let (first, last) = unsafe { (p.read(), p.add(size - 1).read()) };
        if first != tag(i) || last != tag(i) {
            return i as i32;
        }
    }
    -1
}
