use core::arch::wasm32::memory_size;

use nogrow::ReserveError;
use wasm_bindgen_test::wasm_bindgen_test;

nogrow::install!(arena: 256 << 10, policy: Reserve::runtime());

#[wasm_bindgen_test]
fn runtime_reserve_grows_by_the_hosts_amount_once() {
    let pages = memory_size(0);
    assert_eq!(
        NOGROW.stats().growths,
        0,
        "Reserve::runtime never grows on its own"
    );
    assert_eq!(NOGROW.reserve(0), Err(ReserveError::NoAmount));
    assert_eq!(NOGROW.reserve(70_000), Err(ReserveError::TooLarge));
    assert_eq!(memory_size(0), pages, "failed reserves claimed nothing");
    let generation = NOGROW.generation();

    assert_eq!(NOGROW.reserve(16), Ok(16));
    assert_eq!(memory_size(0), pages + 16);
    assert_eq!(NOGROW.generation(), generation + 1);
    assert_eq!(NOGROW.reserve(1), Err(ReserveError::AlreadyReserved));

    // One block larger than the static arena fits only in the reserve.
    let big: Vec<u8> = vec![7; 512 << 10];
    assert_eq!(
        big.iter().map(|&b| b as usize).sum::<usize>(),
        7 * (512 << 10)
    );
    assert_eq!(
        memory_size(0),
        pages + 16,
        "served from the reserve, no growth"
    );
}
