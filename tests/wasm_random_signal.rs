//! Random operations against the model on wasm32 under Node, with a Signal
//! global allocator: memory grows only when it must, geometrically, within the
//! page limit, and nogrow's page count always equals `memory.size`.
//! See `tests/common/`.
#![cfg(target_arch = "wasm32")]

mod common;

use core::mem::MaybeUninit;

use nogrow::{Arena, Nogrow, Signal, State, WasmMemory};
use wasm_bindgen_test::wasm_bindgen_test;

const ARENA_LEN: usize = 1 << 20;
const LIMIT_PAGES: usize = 4096;
static mut ARENA: [MaybeUninit<u8>; ARENA_LEN] = [MaybeUninit::uninit(); ARENA_LEN];
static STATE: State = State::new();

#[global_allocator]
static NOGROW: Nogrow<Signal> = Nogrow::new(
    // SAFETY: `ARENA` is named only here and in `arena()` (its address).
    unsafe { Arena::array(&raw mut ARENA) },
    Signal::new().limit_pages(LIMIT_PAGES),
    WasmMemory,
    &STATE,
);

fn arena() -> (*mut u8, usize) {
    ((&raw mut ARENA).cast(), ARENA_LEN)
}

#[wasm_bindgen_test]
fn signal_random_ops_on_wasm32_grow_within_the_limit_and_match_memory_size() {
    let seed = common::wasm::seed(0x516A_3232);
    let r = common::wasm::run_global(
        &NOGROW,
        arena(),
        false,
        Some(LIMIT_PAGES),
        common::wasm::ops(100_000),
        seed,
    );
    let s = NOGROW.stats();
    assert!(r.growths > 0, "Signal never grew: {r}");
    assert_eq!(s.generation, s.growths, "one generation per growth");
    assert!(common::wasm::memory_size() <= LIMIT_PAGES);
    assert!(r.allocs > 0 && r.reallocs > 0 && r.huge_ok > 0, "{r}");
}
