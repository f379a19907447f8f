use core::alloc::{GlobalAlloc, Layout};

use nogrow::{Nogrow, Signal};
use wasm_bindgen_test::wasm_bindgen_test;

const ARENA_LEN: usize = 1 << 20;
const LIMIT_PAGES: usize = 1024;

nogrow::arena! {
    #[global_allocator]
    static NOGROW: Nogrow<Signal> = (ARENA_LEN, Signal::new().limit_pages(LIMIT_PAGES));
}

/// The largest block of at most `upper` bytes served now (no growth possible:
/// memory is at the limit).
fn largest(upper: usize) -> usize {
    let (mut lo, mut hi) = (0usize, upper);
    while lo < hi {
        let mid = lo + (hi - lo).div_ceil(2);
        let layout = Layout::from_size_align(mid, 8).unwrap();
        // SAFETY: non-zero size; freed at once.
        let p = unsafe { NOGROW.alloc(layout) };
        if p.is_null() {
            hi = mid - 1
        } else {
            // SAFETY: just allocated with `layout`.
            unsafe { NOGROW.dealloc(p, layout) };
            lo = mid;
        }
    }
    lo
}

#[wasm_bindgen_test]
fn signal_at_its_page_limit_on_wasm32_fails_cleanly_and_the_grown_region_is_reusable_whole() {
    for round in 0..3 {
        let mut live = Vec::with_capacity(4096);
        let mut k = 0usize;
        let failures = NOGROW.stats().failures;
        // Fill to the limit with varied sizes; stop at the first small failure.
        let small_failure = loop {
            let n = [
                17usize << 20,
                3 << 20,
                100,
                5 << 20,
                64 << 10,
                19 << 20,
                1 << 20,
            ][k % 7]
                + round * 4096;
            k += 1;
            let layout = Layout::from_size_align(n, 8).unwrap();
            // SAFETY: non-zero size.
            let p = unsafe { NOGROW.alloc(layout) };
            if p.is_null() {
                let f = NOGROW.last_failure().expect("failure recorded");
                assert_eq!((f.size, f.align), (n, 8), "failure record");
                if n < 1 << 20 {
                    break n;
                }
                continue;
            }
            // SAFETY: `p` is a live block of `n` bytes.
            unsafe { p.write_bytes(round as u8, n.min(4096)) };
            live.push((p, layout));
        };
        let s = NOGROW.stats();
        let memory_size = core::arch::wasm32::memory_size(0);

        // Usable at the limit: freeing one block makes room for a request.
        let i = live
            .iter()
            .position(|(_, l)| l.size() >= 64 << 10)
            .expect("a large block");
        let (p, layout) = live.swap_remove(i);
        // SAFETY: allocated above with `layout`.
        unsafe { NOGROW.dealloc(p, layout) };
        let v = vec![7u8; 1000];
        let sum = v.iter().map(|&b| b as usize).sum::<usize>();
        drop(v);

        for (p, l) in live {
            // SAFETY: allocated above with `l`.
            unsafe { NOGROW.dealloc(p, l) };
        }
        // Memory is free again: assertion messages can be formatted.
        assert_eq!(s.pages as usize, LIMIT_PAGES, "filled to the limit");
        assert_eq!(memory_size, LIMIT_PAGES, "memory.size");
        assert!(s.failures > failures, "no failure recorded");
        assert!(small_failure < 1 << 20);
        assert_eq!(s.generation, s.growths);
        assert_eq!(sum, 7000);

        let s = NOGROW.stats();
        let grown = s.heap_bytes - ARENA_LEN;
        let big = largest(grown);
        assert_eq!(NOGROW.stats().pages, s.pages, "the probe grew memory");
        assert!(
            grown - big <= 256,
            "round {round}: only {big} of {grown} grown bytes allocatable as one block"
        );
    }
}
