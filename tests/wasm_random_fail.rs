//! Random operations against the model on wasm32 under Node, with a Fail
//! global allocator: `memory.size` never changes. See `tests/common/`.
#![cfg(target_arch = "wasm32")]

mod common;

use core::mem::MaybeUninit;

use nogrow::{Arena, Fail, Nogrow, State, WasmMemory};
use wasm_bindgen_test::wasm_bindgen_test;

const ARENA_LEN: usize = 64 << 20;
static mut ARENA: [MaybeUninit<u8>; ARENA_LEN] = [MaybeUninit::uninit(); ARENA_LEN];
static STATE: State = State::new();

#[global_allocator]
static NOGROW: Nogrow<Fail> = Nogrow::new(
    // SAFETY: `ARENA` is named only here and in `arena()` (its address).
    unsafe { Arena::array(&raw mut ARENA) },
    Fail,
    WasmMemory,
    &STATE,
);

fn arena() -> (*mut u8, usize) {
    ((&raw mut ARENA).cast(), ARENA_LEN)
}

#[wasm_bindgen_test]
fn fail_random_ops_on_wasm32_never_change_memory_size() {
    let pages = common::wasm::memory_size();
    let seed = common::wasm::seed(0xF417_3232);
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
        "memory.size changed under Fail"
    );
    assert_eq!(NOGROW.stats().growths, 0);
    assert!(r.allocs > 0 && r.reallocs > 0 && r.huge_ok > 0, "{r}");
}
