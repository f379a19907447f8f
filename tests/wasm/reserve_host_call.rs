use core::arch::wasm32::memory_size;

use nogrow::ReserveError;
use wasm_bindgen_test::wasm_bindgen_test;

nogrow::install!(arena: 128 << 10, policy: Reserve::pages(32));

#[wasm_bindgen_test]
fn reserve_grows_memory_once_then_never() {
    let mut v: Vec<u8> = Vec::with_capacity(8);
    v.push(1);
    let s = NOGROW.stats();
    assert_eq!(s.growths, 1, "the reserve happened exactly once");
    assert_eq!(s.generation, 1);
    assert_eq!(s.heap_bytes, (128 << 10) + 32 * 65536);
    assert_eq!(NOGROW.reserve(0), Err(ReserveError::AlreadyReserved));
    assert_eq!(NOGROW.reserve(8), Err(ReserveError::AlreadyReserved));

    let pages = memory_size(0);
    let mut blocks: Vec<Vec<u8>> = Vec::new();
    blocks.try_reserve(256).unwrap();
    while blocks.len() < blocks.capacity() {
        let mut b = Vec::new();
        if b.try_reserve_exact(32 * 1024).is_err() {
            break;
        }
        b.push(0);
        blocks.push(b);
    }
    let n = blocks.len();
    drop(blocks);
    assert!(
        n * 32 * 1024 > 32 * 65536 / 2,
        "the reserved pages were used: {n} blocks"
    );
    assert_eq!(memory_size(0), pages, "no growth after the reserve");
    assert_eq!(NOGROW.stats().growths, 1);
    assert!(NOGROW.stats().failures >= 1);
}
