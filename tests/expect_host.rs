//! `nogrow::expect` on the host, over allocators on `SliceMemory`: every
//! assertion passes when its property holds and panics, naming the numbers,
//! when it is broken. Runs under `cargo test` and under Miri.
#![cfg(not(target_arch = "wasm32"))]

/// The pad behind every arena here (see its docs: talc's search may form a
/// pointer past the heap's end, which Miri reports).
#[path = "common/regions.rs"]
#[allow(dead_code)]
mod regions;
use regions::TALC_OVERSHOOT_PAD;

use std::alloc::{GlobalAlloc, Layout};
use std::sync::atomic::Ordering::Relaxed;

use nogrow::expect::{self, Mark, Peak};
use nogrow::{Arena, Fail, Memory, Nogrow, PAGE_SIZE, Policy, Signal, SliceMemory, State};

const ARENA: usize = 64 * 1024;

/// An allocator over a leaked `ARENA`-byte arena and a fake memory of 2
/// pages that can grow to 16, reporting to `state`.
fn make_with<P: Policy>(policy: P, state: State) -> &'static Nogrow<P, SliceMemory> {
    let arena_mem: &'static mut [u8] = vec![0u8; ARENA + TALC_OVERSHOOT_PAD].leak();
    let region: &'static mut [u8] = vec![0u8; 16 * PAGE_SIZE].leak();
    let state: &'static State = Box::leak(Box::new(state));
    // SAFETY: both regions are leaked, so they live for the program and
    // nothing else can name them.
    let (arena, memory) = unsafe {
        (
            Arena::from_raw(arena_mem.as_mut_ptr(), ARENA),
            SliceMemory::new(region.as_mut_ptr(), 2, 16),
        )
    };
    Box::leak(Box::new(Nogrow::new(arena, policy, memory, state)))
}

fn make<P: Policy>(policy: P) -> &'static Nogrow<P, SliceMemory> {
    make_with(policy, State::new())
}

/// A block of `size` bytes (align 8) from `a`, or null.
fn alloc<P: Policy>(a: &Nogrow<P, SliceMemory>, size: usize) -> *mut u8 {
    let layout = Layout::from_size_align(size, 8).unwrap();
    // SAFETY: non-zero size.
    unsafe { a.alloc(layout) }
}

fn free<P: Policy>(a: &Nogrow<P, SliceMemory>, ptr: *mut u8, size: usize) {
    // SAFETY: `ptr` came from `alloc` on `a` with this size and alignment.
    unsafe { a.dealloc(ptr, Layout::from_size_align(size, 8).unwrap()) }
}

fn realloc<P: Policy>(a: &Nogrow<P, SliceMemory>, ptr: *mut u8, old: usize, new: usize) -> *mut u8 {
    // SAFETY: `ptr` came from `alloc` on `a` with `old` bytes, align 8; `new`
    // is non-zero.
    unsafe { a.realloc(ptr, Layout::from_size_align(old, 8).unwrap(), new) }
}

#[test]
fn measure_counts_what_the_closure_did() {
    let a = make(Fail);
    let kept = alloc(a, 100);
    let (value, usage) = expect::measure(a, || {
        let p = alloc(a, 200);
        let p = realloc(a, p, 200, 300);
        free(a, p, 300);
        let q = alloc(a, 50);
        assert!(alloc(a, 10 * ARENA).is_null());
        (q, 42)
    });
    let (q, answer) = value;
    assert_eq!(answer, 42, "the closure's value comes back");
    assert_eq!(
        (usage.allocs, usage.frees, usage.reallocs, usage.failures),
        (2, 1, 1, 1)
    );
    assert_eq!((usage.growths, usage.generation), (0, 0));
    assert_eq!((usage.pages_before, usage.pages_after), (2, 2));
    assert_eq!((usage.in_use_before, usage.in_use_after), (100, 150));
    assert_eq!(usage.in_use_change(), 50);
    assert_eq!(usage.peak, Peak::Exact(300), "the realloc to 300 bytes");
    free(a, q, 50);
    free(a, kept, 100);
}

#[test]
fn no_allocations_passes_a_closure_that_allocates_nothing_and_returns_its_value() {
    let a = make(Fail);
    let data = [3u32; 64];
    let sum = expect::no_allocations(a, || data.iter().sum::<u32>());
    assert_eq!(sum, 192);
}

#[test]
fn no_allocations_allows_freeing_a_block_made_before() {
    let a = make(Fail);
    let p = alloc(a, 64);
    let (_, usage) = expect::measure(a, || free(a, p, 64));
    usage.assert_no_allocations();
    assert_eq!(usage.frees, 1);
    assert_eq!(usage.in_use_change(), -64);
}

#[test]
#[should_panic(
    expected = "expected no allocations, but the closure allocated: allocs +1, reallocs +0, failures +0"
)]
fn no_allocations_panics_on_an_allocation() {
    let a = make(Fail);
    expect::no_allocations(a, || free(a, alloc(a, 16), 16));
}

#[test]
#[should_panic(
    expected = "expected no allocations, but the closure allocated: allocs +0, reallocs +1, failures +0"
)]
fn no_allocations_panics_on_a_reallocation() {
    let a = make(Fail);
    let p = alloc(a, 16);
    expect::no_allocations(a, || realloc(a, p, 16, 4096));
}

#[test]
#[should_panic(
    expected = "expected no allocations, but the closure allocated: allocs +0, reallocs +0, failures +1"
)]
fn no_allocations_panics_on_a_failed_attempt() {
    let a = make(Fail);
    expect::no_allocations(a, || assert!(alloc(a, 4 * ARENA).is_null()));
}

#[test]
fn no_growth_passes_when_the_closure_fits_the_arena() {
    let a = make(Signal::new());
    let (p, usage) = expect::measure(a, || alloc(a, ARENA / 2));
    assert!(!p.is_null());
    usage.assert_no_growth();
    assert!(!usage.grew());
    free(a, p, ARENA / 2);
}

#[test]
#[should_panic(
    expected = "expected no memory growth, but memory grew: growths +1, generation +1, pages 2 -> "
)]
fn no_growth_panics_when_nogrow_grows_memory() {
    let a = make(Signal::new());
    expect::no_growth(a, || assert!(!alloc(a, 2 * ARENA).is_null()));
}

#[test]
#[should_panic(
    expected = "expected no memory growth, but memory grew: growths +0, generation +1, pages 2 -> 3 (all:"
)]
fn no_growth_panics_when_someone_else_grows_memory() {
    let a = make(Fail);
    // SAFETY: the closure grows it by pages the region has, as a host would; it neither replaces the memory nor allocates.
    expect::no_growth(a, || unsafe { a.with_memory(|m| m.grow(1)) });
}

#[test]
fn no_leak_passes_when_every_byte_returns_and_drops_the_value_inside() {
    let a = make(Fail);
    struct Owned<'a>(&'a Nogrow<Fail, SliceMemory>, *mut u8);
    impl Drop for Owned<'_> {
        fn drop(&mut self) {
            free(self.0, self.1, 500);
        }
    }
    // The block is returned, and freed by the drop inside the measurement.
    let usage = expect::no_leak(a, || Owned(a, alloc(a, 500)));
    assert_eq!(
        (usage.allocs, usage.frees, usage.in_use_change()),
        (1, 1, 0)
    );
    assert_eq!(usage.peak, Peak::Exact(500));
}

#[test]
fn no_leak_accepts_freeing_memory_made_before() {
    let a = make(Fail);
    let p = alloc(a, 128);
    let usage = expect::no_leak(a, || free(a, p, 128));
    assert_eq!(usage.in_use_change(), -128);
}

#[test]
#[should_panic(
    expected = "expected every byte returned, but 96 bytes are still in use: in use 0 -> 96 bytes"
)]
fn no_leak_panics_naming_the_bytes_kept() {
    let a = make(Fail);
    expect::no_leak(a, || {
        let kept = alloc(a, 96);
        free(a, alloc(a, 1000), 1000);
        kept
    });
}

#[test]
fn peak_is_exact_when_the_closure_raises_the_high_water_mark() {
    let a = make(Fail);
    let base = alloc(a, 1000);
    let (_, usage) = expect::measure(a, || {
        let p = alloc(a, 3000);
        free(a, p, 3000);
    });
    assert_eq!(usage.peak, Peak::Exact(3000));
    assert_eq!(usage.peak.exact(), Some(3000));
    usage.assert_peak_at_most(3000);
    free(a, base, 1000);
}

#[test]
fn peak_below_an_earlier_high_water_mark_is_only_bounded() {
    let a = make(Fail);
    free(a, alloc(a, 5000), 5000);
    let base = alloc(a, 1000);
    let (kept, usage) = expect::measure(a, || {
        free(a, alloc(a, 2000), 2000);
        alloc(a, 300)
    });
    // Earlier mark 5000, start 1000: the peak (2000) is in 300..=4000.
    assert_eq!(
        usage.peak,
        Peak::Within {
            at_least: 300,
            at_most: 4000
        }
    );
    assert_eq!(usage.peak.exact(), None);
    assert_eq!((usage.peak.at_least(), usage.peak.at_most()), (300, 4000));
    usage.assert_peak_at_most(4000);
    free(a, kept, 300);
    free(a, base, 1000);
}

#[test]
#[should_panic(
    expected = "expected a peak of at most 2999 bytes above the start, but it was 3000 bytes"
)]
fn assert_peak_at_most_panics_on_an_exact_peak_above_the_limit() {
    let a = make(Fail);
    let (_, usage) = expect::measure(a, || free(a, alloc(a, 3000), 3000));
    usage.assert_peak_at_most(2999);
}

#[test]
#[should_panic(expected = "but at least 300 bytes were still in use at the end")]
fn assert_peak_at_most_panics_when_the_lower_bound_is_above_the_limit() {
    let a = make(Fail);
    free(a, alloc(a, 5000), 5000);
    let (_, usage) = expect::measure(a, || alloc(a, 300));
    usage.assert_peak_at_most(299);
}

#[test]
#[should_panic(expected = "cannot tell whether the peak stayed at most 1000 bytes above the start")]
fn assert_peak_at_most_refuses_to_guess_below_an_earlier_high_water_mark() {
    let a = make(Fail);
    free(a, alloc(a, 5000), 5000);
    let (_, usage) = expect::measure(a, || free(a, alloc(a, 10), 10));
    usage.assert_peak_at_most(1000);
}

#[test]
fn counter_deltas_wrap_around_the_32_bit_counters() {
    let state = State::new();
    state.allocs.store(u32::MAX, Relaxed);
    state.frees.store(u32::MAX - 1, Relaxed);
    let a = make_with(Fail, state);
    let (_, usage) = expect::measure(a, || {
        for _ in 0..3 {
            free(a, alloc(a, 8), 8);
        }
    });
    assert_eq!(a.stats().allocs, 2, "the counter itself wrapped");
    assert_eq!((usage.allocs, usage.frees), (3, 3));
}

#[test]
fn mark_measures_across_statements() {
    let a = make(Fail);
    let mark = Mark::new(a);
    let p = alloc(a, 64);
    let first = mark.usage();
    free(a, p, 64);
    let second = mark.usage();
    assert_eq!(
        (first.allocs, first.frees, first.in_use_change()),
        (1, 0, 64)
    );
    assert_eq!(
        (second.allocs, second.frees, second.in_use_change()),
        (1, 1, 0)
    );
}

#[test]
fn assertions_chain_and_the_summary_names_every_number() {
    let a = make(Signal::new());
    let (_, usage) = expect::measure(a, || free(a, alloc(a, 10), 10));
    usage
        .assert_no_growth()
        .assert_no_leak()
        .assert_peak_at_most(10);
    assert_eq!(
        usage.to_string(),
        "allocs +1, frees +1, reallocs +0, failures +0, growths +0, generation +0, \
         pages 2 -> 2, in use 0 -> 0 bytes (+0), peak above start 10 bytes"
    );
}
