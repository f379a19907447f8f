use core::{
    alloc::{GlobalAlloc, Layout},
    cell::Cell,
    mem::MaybeUninit,
    sync::atomic::{AtomicUsize, Ordering::Relaxed},
};

use nogrow::{Arena, Memory, Nogrow, Signal, State, WasmMemory};
use wasm_bindgen_test::wasm_bindgen_test;

/// The bug under test: a `Memory` whose `grow` allocates.
#[derive(Debug)]
struct AllocatingMemory;

// SAFETY: forwards to `WasmMemory`, which upholds the contract, except for the
// one clause this test breaks on purpose: `grow` allocates.
unsafe impl Memory for AllocatingMemory {
    fn pages(&mut self) -> usize {
        WasmMemory.pages()
    }
    fn grow(&mut self, delta: usize) -> Option<usize> {
        let note = core::hint::black_box(Box::new(delta));
        WasmMemory.grow(*note)
    }
    fn region(&mut self, first: usize) -> *mut u8 {
        WasmMemory.region(first)
    }
}

const ARENA_LEN: usize = 1 << 20;
static mut ARENA: [MaybeUninit<u8>; ARENA_LEN] = [MaybeUninit::uninit(); ARENA_LEN];
static STATE: State = State::new();
static NOGROW: Nogrow<Signal, AllocatingMemory> = Nogrow::new(
    // SAFETY: `ARENA` is named only here.
    unsafe { Arena::array(&raw mut ARENA) },
    Signal::new(),
    AllocatingMemory,
    &STATE,
);

const BUMP_LEN: usize = 1 << 20;
static mut BUMP: [MaybeUninit<u8>; BUMP_LEN] = [MaybeUninit::uninit(); BUMP_LEN];
static BUMP_USED: AtomicUsize = AtomicUsize::new(0);

std::thread_local! {
    static DEPTH: Cell<u32> = const { Cell::new(0) };
}

/// nogrow, except for allocations made while nogrow is already re-entered
/// (the panic machinery's), which come from a bump region and are never freed.
struct Switch;

// SAFETY: bump blocks are distinct, aligned and never reused; nogrow blocks are
// freed by nogrow.
unsafe impl GlobalAlloc for Switch {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let depth = DEPTH.get();
        if depth >= 2 {
            let base = (&raw mut BUMP).cast::<u8>();
            let start = (base.addr() + BUMP_USED.load(Relaxed)).next_multiple_of(layout.align());
            let end = start + layout.size();
            if end > base.addr() + BUMP_LEN {
                return core::ptr::null_mut();
            }
            BUMP_USED.store(end - base.addr(), Relaxed);
            return base.wrapping_add(start - base.addr());
        }
        DEPTH.set(depth + 1);
        // SAFETY: forwarded with the caller's guarantees.
        let p = unsafe { NOGROW.alloc(layout) };
        DEPTH.set(depth);
        p
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        let bump = (&raw mut BUMP).addr();
        // After the panic (a trap: the stack is gone, nogrow's lock stays
        // held), the runner still calls in to report: leak instead of freeing.
        if DEPTH.get() < 2 && !(bump..bump + BUMP_LEN).contains(&ptr.addr()) {
            // SAFETY: not a bump block, so it came from nogrow with `layout`.
            unsafe { NOGROW.dealloc(ptr, layout) }
        }
    }
}

#[global_allocator]
static GLOBAL: Switch = Switch;

#[wasm_bindgen_test]
#[should_panic(expected = "nogrow: re-entrant allocation")]
fn a_memory_that_allocates_is_a_reentrant_allocation_panic_on_wasm32() {
    // More than the arena: Signal must grow, and the memory's grow allocates.
    let v = core::hint::black_box(vec![1u8; 4 << 20]);
    assert_eq!(v.len(), 0, "the allocation returned instead of panicking");
}
