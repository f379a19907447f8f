//! Edge-test guest: two allocators with `linker_heap` in one module.
//!
//! The global allocator (`install!`, `NOGROW`) and a second one (`SECOND`,
//! used through `nogrow::c_alloc::malloc`) both ask for the memory wasm-ld
//! declared past the static data (`__heap_base..__heap_end`; `cargo xtask
//! test` links with `--initial-memory=8388608`). The linker heap must be
//! handed out once: the allocator that claims first gets it, the other has
//! only its 64 KiB arena. `js/test/guests/edge-linker-heap.test.mjs` makes
//! large and small blocks from both, in both orders, and checks that no two
//! blocks overlap and that the two heaps own no more than memory holds.

use std::sync::{Mutex, MutexGuard};

nogrow::install!(arena: 64 << 10, linker_heap, policy: Fail);

nogrow::arena! {
    static SECOND: nogrow::Nogrow<nogrow::Fail> = (64 << 10, nogrow::Fail, linker_heap);
}

/// Bytes of the C block header below a `malloc` pointer (see `nogrow::c_alloc`).
const C_HEADER: usize = 16;

/// One held block.
enum Slot {
    Empty,
    /// From the global allocator.
    First(Vec<u8>),
    /// From `SECOND` (`c_alloc::malloc`): the address and size requested.
    Second(usize, usize),
}

impl Slot {
    /// The block's address and size in bytes, if any (a C block's header
    /// excluded).
    fn block(&self) -> Option<(usize, usize)> {
        match *self {
            Slot::Empty => None,
            Slot::First(ref v) => Some((v.as_ptr().expose_provenance(), v.capacity())),
            Slot::Second(addr, size) => Some((addr, size)),
        }
        .filter(|&(_, size)| size > 0)
    }
}

const MAX_SLOTS: usize = 1024;

/// The held blocks, in allocation order (never freed). A fixed array, so
/// keeping a block allocates nothing: the first allocation the host asks for
/// is the first either allocator sees.
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

fn inside_memory(addr: usize, size: usize) -> bool {
    addr as u64 + size as u64 <= memory_bytes()
}

/// The tag of slot `slot`: never 0.
fn tag(slot: usize) -> u8 {
    (slot % 251) as u8 + 1
}

/// Keeps `slot` (if the allocation worked) and tags its first and last byte;
/// returns its index, or -1.
fn keep(slot: Option<Slot>) -> i32 {
    let mut s = slots();
    let Some(slot) = slot else { return -1 };
    if s.used == MAX_SLOTS {
        return -1;
    }
    let index = s.used;
    if let Some((addr, size)) = slot.block().filter(|&(a, n)| inside_memory(a, n)) {
        let p = core::ptr::with_exposed_provenance_mut::<u8>(addr);
        // SAFETY: a live block of `size` bytes inside memory, held in `SLOTS`.
        unsafe {
            p.write(tag(index));
            p.add(size - 1).write(tag(index));
        }
    }
    s.slots[index] = slot;
    s.used += 1;
    index as i32
}

/// A `Vec<u8>` of capacity `bytes` from the global allocator; its slot or -1.
#[unsafe(no_mangle)]
pub extern "C" fn first_vec(bytes: u32) -> i32 {
    let mut v = Vec::<u8>::new();
    keep(
        v.try_reserve_exact(bytes as usize)
            .ok()
            .map(|()| Slot::First(v)),
    )
}

/// `nogrow::c_alloc::malloc(&SECOND, bytes)`; its slot or -1.
#[unsafe(no_mangle)]
pub extern "C" fn second_malloc(bytes: u32) -> i32 {
    let p = nogrow::c_alloc::malloc(&SECOND, bytes as usize);
    keep((!p.is_null()).then(|| Slot::Second(p.expose_provenance(), bytes as usize)))
}

/// The second allocator's state block (the first's is `nogrow_state`).
#[unsafe(no_mangle)]
pub extern "C" fn second_state() -> *const nogrow::State {
    SECOND.state()
}

/// Slots used so far.
#[unsafe(no_mangle)]
pub extern "C" fn edge_slots() -> u32 {
    slots().used as u32
}

/// Which allocator served `slot`: 1 the global one, 2 `SECOND`, 0 none.
#[unsafe(no_mangle)]
pub extern "C" fn edge_owner(slot: u32) -> u32 {
    match slots().slots.get(slot as usize) {
        Some(Slot::First(_)) => 1,
        Some(Slot::Second(..)) => 2,
        _ => 0,
    }
}

/// The address of the memory `slot`'s block occupies (a C block from its
/// header); 0: none.
#[unsafe(no_mangle)]
pub extern "C" fn edge_addr(slot: u32) -> u32 {
    let s = slots();
    match s.slots.get(slot as usize) {
        Some(held @ Slot::Second(..)) => held.block().map_or(0, |b| (b.0 - C_HEADER) as u32),
        Some(held) => held.block().map_or(0, |b| b.0 as u32),
        None => 0,
    }
}

/// Bytes of memory `slot`'s block occupies (a C block's header included).
#[unsafe(no_mangle)]
pub extern "C" fn edge_size(slot: u32) -> u32 {
    let s = slots();
    match s.slots.get(slot as usize) {
        Some(held @ Slot::Second(..)) => held.block().map_or(0, |b| (b.1 + C_HEADER) as u32),
        Some(held) => held.block().map_or(0, |b| b.1 as u32),
        None => 0,
    }
}

/// -1 if every held block still has its tags, else the first slot that lost one.
#[unsafe(no_mangle)]
pub extern "C" fn edge_verify() -> i32 {
    let s = slots();
    for (i, slot) in s.slots[..s.used].iter().enumerate() {
        let Some((addr, size)) = slot.block().filter(|&(a, n)| inside_memory(a, n)) else {
            continue;
        };
        let p = core::ptr::with_exposed_provenance::<u8>(addr);
        // SAFETY: a live block of `size` bytes inside memory, tagged by `keep`.
        let (first, last) = unsafe { (p.read(), p.add(size - 1).read()) };
        if first != tag(i) || last != tag(i) {
            return i as i32;
        }
    }
    -1
}
