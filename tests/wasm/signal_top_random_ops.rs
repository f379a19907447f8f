use nogrow::{Nogrow, PAGE_SIZE, Signal, policy::TOP_RESERVE};
use wasm_bindgen_test::wasm_bindgen_test;

nogrow::arena! {
    #[global_allocator]
    static NOGROW: Nogrow<Signal> = (1 << 20, Signal::new());
}

fn arena() -> (*mut u8, usize) {
    let (base, len) = NOGROW.static_arena();
    (base.cast_mut(), len)
}

/// 80 MiB below the top reserve, in pages: the model's live blocks (up to
/// 40 MiB, requests up to 20 MiB) take the heap to the top.
const HIGH_PAGES: usize = 65_536 - 256 - 1280;

#[wasm_bindgen_test]
fn signal_random_ops_near_4_gib_on_wasm32_stay_below_the_top_of_the_address_space() {
    use crate::common::wasm::memory_size;
    let before = memory_size();
    assert_ne!(
        core::arch::wasm32::memory_grow(0, HIGH_PAGES - before),
        usize::MAX,
        "the engine allows a memory of nearly 4 GiB"
    );
    // nogrow notices the growth (the generation goes up once).
    assert_eq!(NOGROW.generation(), 1);
    let seed = crate::common::wasm::seed(0x70B3_2323);
    let r = crate::common::wasm::run_global(
        &NOGROW,
        arena(),
        false,
        None,
        crate::common::wasm::ops(100_000),
        seed,
        Some(1 << 32),
    );
    let s = NOGROW.stats();
    assert!(r.growths > 0, "Signal never grew: {r}");
    assert!(
        r.failures > 0,
        "some requests were too large for the heap's top: {r}"
    );
    let top_pages = (((1u64 << 32) - TOP_RESERVE) / PAGE_SIZE as u64) as usize;
    assert!(memory_size() <= top_pages, "grew into the top reserve");
    assert_eq!(
        s.generation,
        s.growths + 1,
        "nogrow's growths plus the test's one"
    );
}
