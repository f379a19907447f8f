use core::arch::wasm32::memory_size;

use wasm_bindgen_test::wasm_bindgen_test;

nogrow::install!(arena: 1 << 20, policy: Fail);

const BLOCK: usize = 16 * 1024;

/// Fills the arena with `BLOCK`-byte vectors until `try_reserve` fails.
fn fill() -> Vec<Vec<u8>> {
    let mut blocks: Vec<Vec<u8>> = Vec::new();
    blocks.try_reserve(1024).expect("room for the list itself");
    while blocks.len() < blocks.capacity() {
        let mut v = Vec::new();
        if v.try_reserve_exact(BLOCK).is_err() {
            break;
        }
        v.resize(BLOCK, blocks.len() as u8);
        blocks.push(v);
    }
    blocks
}

#[wasm_bindgen_test]
fn fail_policy_exhausts_with_errors_and_never_grows_memory() {
    let pages = memory_size(0);
    let failures = NOGROW.stats().failures;
    let blocks = fill();
    let (n, pages_full) = (blocks.len(), memory_size(0));
    let last = NOGROW.last_failure();
    let intact = blocks
        .iter()
        .enumerate()
        .all(|(i, b)| b.iter().all(|&x| x == i as u8));
    drop(blocks);

    assert!(
        n > 40 && n < 64,
        "1 MiB arena holds 40..64 blocks of 16 KiB, got {n}"
    );
    assert!(intact, "every block kept its contents");
    assert_eq!(pages_full, pages, "memory.size unchanged at exhaustion");
    assert_eq!(NOGROW.stats().failures, failures + 1);
    let last = last.expect("the failure was recorded");
    assert_eq!(
        (last.size, last.align),
        (BLOCK, 1),
        "record matches the request that failed"
    );
    assert!(
        last.in_use + BLOCK > last.heap_bytes - 64 * 1024,
        "it failed because the arena was full"
    );
    assert_eq!(NOGROW.stats().growths, 0);
    assert_eq!(NOGROW.generation(), 0);
}

#[wasm_bindgen_test]
fn fail_policy_reuses_freed_memory() {
    let pages = memory_size(0);
    let first = fill().len();
    let second = fill().len();
    assert_eq!(
        first, second,
        "after freeing, the same number of blocks fits again"
    );
    assert_eq!(memory_size(0), pages);
    assert_eq!(
        NOGROW.reserve(4),
        Err(nogrow::ReserveError::NotReservePolicy)
    );
    assert_eq!(memory_size(0), pages);
}
