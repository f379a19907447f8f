//! Random operations against the model on wasm32 under Node, with a Reserve
//! global allocator: after the one (lazy) reserve, `memory.size` never changes.
//! See `tests/common/`.
#![cfg(target_arch = "wasm32")]

mod common;

use core::mem::MaybeUninit;

use nogrow::{Arena, Nogrow, Reserve, ReserveError, State, WasmMemory};
use wasm_bindgen_test::wasm_bindgen_test;

const ARENA_LEN: usize = 8 << 20;
const RESERVE_PAGES: usize = 1024;
static mut ARENA: [MaybeUninit<u8>; ARENA_LEN] = [MaybeUninit::uninit(); ARENA_LEN];
static STATE: State = State::new();

#[global_allocator]
static NOGROW: Nogrow<Reserve> = Nogrow::new(
    // SAFETY: `ARENA` is named only here and in `arena()` (its address).
    unsafe { Arena::array(&raw mut ARENA) },
    Reserve::pages(RESERVE_PAGES),
    WasmMemory,
    &STATE,
);

fn arena() -> (*mut u8, usize) {
    ((&raw mut ARENA).cast(), ARENA_LEN)
}

#[wasm_bindgen_test]
fn reserve_random_ops_on_wasm32_never_change_memory_size_after_the_reserve() {
    // The harness allocated before this test: the lazy reserve happened then.
    let s = NOGROW.stats();
    assert_eq!(s.growths, 1, "the first allocation reserved");
    assert_eq!(NOGROW.reserve(0), Err(ReserveError::AlreadyReserved));
    let pages = common::wasm::memory_size();
    let seed = common::wasm::seed(0x5E5E_3232);
    let r = common::wasm::run_global(
        &NOGROW,
        arena(),
        true,
        None,
        common::wasm::ops(100_000),
        seed,
    );
    assert_eq!(
        common::wasm::memory_size(),
        pages,
        "memory.size changed after the reserve"
    );
    assert_eq!(NOGROW.stats().growths, 1);
    assert!(r.allocs > 0 && r.reallocs > 0 && r.huge_ok > 0, "{r}");
}
