use nogrow::{Fail, Nogrow};
use wasm_bindgen_test::wasm_bindgen_test;

nogrow::arena! {
    #[global_allocator]
    static NOGROW: Nogrow<Fail> = (64 << 20, Fail);
}

fn arena() -> (*mut u8, usize) {
    let (base, len) = NOGROW.static_arena();
    (base.cast_mut(), len)
}

#[wasm_bindgen_test]
fn fail_random_ops_on_wasm32_never_change_memory_size() {
    let pages = crate::common::wasm::memory_size();
    let seed = crate::common::wasm::seed(0xF417_3232);
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
        "memory.size changed under Fail"
    );
    assert_eq!(NOGROW.stats().growths, 0);
    assert!(r.allocs > 0 && r.reallocs > 0 && r.huge_ok > 0, "{r}");
}
