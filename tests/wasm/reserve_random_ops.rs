use nogrow::{Nogrow, Reserve, ReserveError};
use wasm_bindgen_test::wasm_bindgen_test;

const RESERVE_PAGES: usize = 1024;

nogrow::arena! {
    #[global_allocator]
    static NOGROW: Nogrow<Reserve> = (8 << 20, Reserve::pages(RESERVE_PAGES));
}

fn arena() -> (*mut u8, usize) {
    let (base, len) = NOGROW.static_arena();
    (base.cast_mut(), len)
}

#[wasm_bindgen_test]
fn reserve_random_ops_on_wasm32_never_change_memory_size_after_the_reserve() {
    // The harness allocated before this test: the lazy reserve happened then.
    let s = NOGROW.stats();
    assert_eq!(s.growths, 1, "the first allocation reserved");
    assert_eq!(NOGROW.reserve(0), Err(ReserveError::AlreadyReserved));
    let pages = crate::common::wasm::memory_size();
    let seed = crate::common::wasm::seed(0x5E5E_3232);
    let r = crate::common::wasm::run_global(
        &NOGROW,
        arena(),
        true,
        None,
        crate::common::wasm::ops(100_000),
        seed,
        None,
    );
    assert_eq!(
        crate::common::wasm::memory_size(),
        pages,
        "memory.size changed after the reserve"
    );
    assert_eq!(NOGROW.stats().growths, 1);
    assert!(r.allocs > 0 && r.reallocs > 0 && r.huge_ok > 0, "{r}");
}
