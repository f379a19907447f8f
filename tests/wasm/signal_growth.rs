use core::arch::wasm32::memory_size;

use wasm_bindgen_test::wasm_bindgen_test;

nogrow::install!(arena: 64 << 10, policy: Signal::new().limit_pages(1024));

#[wasm_bindgen_test]
fn signal_generation_delta_equals_growths_and_pages_match_then_limit_holds() {
    let (pages0, s0) = (memory_size(0), NOGROW.stats());
    // Outgrow whatever the heap has now, by ~6 MB.
    let n = (s0.heap_bytes - s0.in_use) / 100_000 + 64;
    let mut blocks: Vec<Vec<u8>> = Vec::with_capacity(n);
    for i in 0..n {
        blocks.push(vec![i as u8; 100_000]);
    }
    let (pages1, s1) = (memory_size(0), NOGROW.stats());
    assert!(
        s1.growths > s0.growths,
        "more than the free heap forces growth"
    );
    assert_eq!(s1.generation - s0.generation, s1.growths - s0.growths);
    assert_eq!(
        (pages1 - pages0) * 65536,
        s1.heap_bytes - s0.heap_bytes,
        "every grown page went to the heap, and nothing else grew memory"
    );
    assert_eq!(s1.pages as usize, pages1);
    assert!(
        s1.growths - s0.growths <= 8,
        "geometric growth: {} growths",
        s1.growths - s0.growths
    );
    assert!(
        blocks
            .iter()
            .enumerate()
            .all(|(i, b)| b.iter().all(|&x| x == i as u8))
    );
    drop(blocks);

    // Then up to the page limit (one test: the instance is shared, and after
    // the limit an infallible allocation would trap).
    signal_stops_at_its_page_limit_without_bumping();
}

fn signal_stops_at_its_page_limit_without_bumping() {
    let mut blocks: Vec<Vec<u8>> = Vec::new();
    blocks.try_reserve(128).unwrap();
    while blocks.len() < blocks.capacity() {
        let mut b = Vec::new();
        if b.try_reserve_exact(1 << 20).is_err() {
            break;
        }
        b.push(1);
        blocks.push(b);
    }
    let n = blocks.len();
    let (pages, generation) = (memory_size(0), NOGROW.generation());
    let failed = NOGROW.last_failure();
    // A refused growth leaves memory and the generation alone.
    let mut b: Vec<u8> = Vec::new();
    assert!(b.try_reserve_exact(1 << 20).is_err());
    assert_eq!((memory_size(0), NOGROW.generation()), (pages, generation));
    drop(blocks);
    assert!(
        n > 40 && n < 64,
        "a 1024-page limit holds 40..64 blocks of 1 MiB, got {n}"
    );
    assert!(
        pages <= 1024,
        "memory stayed within the limit: {pages} pages"
    );
    assert_eq!(failed.map(|f| f.size), Some(1 << 20));
}
