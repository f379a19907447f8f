use nogrow::{Nogrow, Signal};
use wasm_bindgen_test::wasm_bindgen_test;

const LIMIT_PAGES: usize = 4096;

nogrow::arena! {
    #[global_allocator]
    static NOGROW: Nogrow<Signal> = (1 << 20, Signal::new().limit_pages(LIMIT_PAGES));
}

fn arena() -> (*mut u8, usize) {
    let (base, len) = NOGROW.static_arena();
    (base.cast_mut(), len)
}

#[wasm_bindgen_test]
fn signal_random_ops_on_wasm32_grow_within_the_limit_and_match_memory_size() {
    let seed = crate::common::wasm::seed(0x516A_3232);
    let r = crate::common::wasm::run_global(
        &NOGROW,
        arena(),
        false,
        Some(LIMIT_PAGES),
        crate::common::wasm::ops(100_000),
        seed,
        None,
    );
    let s = NOGROW.stats();
    assert!(r.growths > 0, "Signal never grew: {r}");
    assert_eq!(s.generation, s.growths, "one generation per growth");
    assert!(crate::common::wasm::memory_size() <= LIMIT_PAGES);
    assert!(r.allocs > 0 && r.reallocs > 0 && r.huge_ok > 0, "{r}");
}
