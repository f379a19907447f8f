//! Policy behaviour on the host, against `SliceMemory` (a fake linear memory
//! that can refuse to grow). Runs under `cargo test` and under Miri.
#![cfg(not(target_arch = "wasm32"))]

/// The pad behind every arena here (see its docs: talc's search may form a
/// pointer past the heap's end, which Miri reports).
#[path = "common/regions.rs"]
#[allow(dead_code)]
mod regions;
use regions::TALC_OVERSHOOT_PAD;

use std::alloc::{GlobalAlloc, Layout};
use std::sync::atomic::Ordering::Relaxed;

use nogrow::{
    Arena, Fail, MIN_ARENA_BYTES, Memory, Nogrow, PAGE_SIZE, Policy, PolicyKind, Reserve,
    ReserveError, Signal, SliceMemory, State,
};

/// An allocator with `arena` bytes of static arena over a fake memory of
/// `initial` pages that can grow to `max`.
fn make<P: Policy>(
    policy: P,
    arena: usize,
    initial: usize,
    max: usize,
) -> &'static Nogrow<P, SliceMemory> {
    let arena_mem: &'static mut [u8] = vec![0u8; arena + TALC_OVERSHOOT_PAD].leak();
    let region: &'static mut [u8] = vec![0u8; max * PAGE_SIZE].leak();
    let state: &'static State = Box::leak(Box::new(State::new()));
    // SAFETY: both regions are leaked, so they live for the program and
    // nothing else can name them.
    let (arena, memory) = unsafe {
        (
            Arena::from_raw(arena_mem.as_mut_ptr(), arena),
            SliceMemory::new(region.as_mut_ptr(), initial, max),
        )
    };
    Box::leak(Box::new(Nogrow::new(arena, policy, memory, state)))
}

fn pages<P: Policy>(a: &Nogrow<P, SliceMemory>) -> usize {
    // SAFETY: the closure only reads it; it neither replaces the memory nor allocates.
    unsafe { a.with_memory(|m| m.pages()) }
}

fn alloc<P: Policy>(a: &Nogrow<P, SliceMemory>, size: usize, align: usize) -> *mut u8 {
    let layout = Layout::from_size_align(size, align).unwrap();
    // SAFETY: non-zero size.
    unsafe { a.alloc(layout) }
}

fn free<P: Policy>(a: &Nogrow<P, SliceMemory>, ptr: *mut u8, size: usize, align: usize) {
    // SAFETY: `ptr` came from `alloc` with this layout.
    unsafe { a.dealloc(ptr, Layout::from_size_align(size, align).unwrap()) }
}

const ARENA: usize = 64 * 1024;

#[test]
fn fail_policy_never_grows_memory() {
    let a = make(Fail, ARENA, 2, 16);
    let mut live = Vec::new();
    loop {
        let p = alloc(a, 1000, 8);
        if p.is_null() {
            break;
        }
        live.push(p);
    }
    assert!(
        live.len() > 50,
        "the 64 KiB arena holds dozens of 1000 B blocks, got {}",
        live.len()
    );
    assert_eq!(pages(a), 2, "Fail must not grow memory");
    let s = a.stats();
    assert_eq!((s.growths, s.generation, s.failures), (0, 0, 1));
    // Bigger than anything: null, no growth.
    assert!(alloc(a, 10 * PAGE_SIZE, 8).is_null());
    assert_eq!(pages(a), 2);
    assert_eq!(a.state().policy(), Some(PolicyKind::Fail));
    for p in live {
        free(a, p, 1000, 8);
    }
}

#[test]
fn fail_policy_reuses_freed_memory() {
    let a = make(Fail, ARENA, 1, 4);
    let mut live = Vec::new();
    while let Some(p) = Some(alloc(a, 4096, 16)).filter(|p| !p.is_null()) {
        live.push(p);
    }
    let n = live.len();
    for p in live.drain(..) {
        free(a, p, 4096, 16);
    }
    while let Some(p) = Some(alloc(a, 4096, 16)).filter(|p| !p.is_null()) {
        live.push(p);
    }
    assert_eq!(
        live.len(),
        n,
        "after freeing everything, the same number of blocks fits again"
    );
    assert_eq!(pages(a), 1);
}

#[test]
fn accounting_returns_to_zero_after_freeing_all() {
    let a = make(Signal::new(), ARENA, 1, 64);
    let sizes = [1usize, 7, 32, 100, 4096, 70_000, 3, 200_000];
    let ptrs: Vec<_> = sizes.iter().map(|&s| (alloc(a, s, 8), s)).collect();
    assert!(ptrs.iter().all(|(p, _)| !p.is_null()));
    let total: usize = sizes.iter().sum();
    assert_eq!(a.stats().in_use, total);
    assert_eq!(a.stats().peak_in_use, total);
    // Realloc grows and shrinks are accounted too.
    let (p0, s0) = ptrs[4];
    // SAFETY: `p0` is live with this layout; the new size is non-zero.
    let p0 = unsafe { a.realloc(p0, Layout::from_size_align(s0, 8).unwrap(), 9000) };
    assert!(!p0.is_null());
    assert_eq!(a.stats().in_use, total - s0 + 9000);
    free(a, p0, 9000, 8);
    for (i, &(p, s)) in ptrs.iter().enumerate() {
        if i != 4 {
            free(a, p, s, 8);
        }
    }
    let s = a.stats();
    assert_eq!(s.in_use, 0);
    assert_eq!(s.allocs, sizes.len() as u32);
    assert_eq!(s.frees, sizes.len() as u32);
    assert_eq!(s.reallocs, 1);
    assert_eq!(s.peak_in_use, total - s0 + 9000);
}

#[test]
fn last_failure_record_matches_the_failed_request() {
    let a = make(Fail, ARENA, 1, 1);
    let keep = alloc(a, 1234, 8);
    assert!(!keep.is_null());
    assert_eq!(a.last_failure(), None);
    assert!(alloc(a, 1_000_000, 64).is_null());
    let f = a.last_failure().expect("a failure was recorded");
    assert_eq!((f.size, f.align, f.in_use), (1_000_000, 64, 1234));
    assert_eq!(f.heap_bytes, ARENA);
    // A failed realloc is recorded with its new size, and keeps the block.
    // SAFETY: `keep` is live with this layout.
    let r = unsafe { a.realloc(keep, Layout::from_size_align(1234, 8).unwrap(), 500_000) };
    assert!(r.is_null());
    let f = a.last_failure().unwrap();
    assert_eq!((f.size, f.align), (500_000, 8));
    assert_eq!(a.stats().failures, 2);
    assert_eq!(
        a.stats().in_use,
        1234,
        "a failed realloc leaves the old block accounted"
    );
    free(a, keep, 1234, 8);
}

#[test]
fn reserve_grows_once_then_never() {
    let a = make(Reserve::pages(8), ARENA, 2, 64);
    assert_eq!(a.reserve(0), Ok(8));
    assert_eq!(pages(a), 10);
    let s = a.stats();
    assert_eq!((s.growths, s.generation), (1, 1));
    assert_eq!(s.heap_bytes, ARENA + 8 * PAGE_SIZE);
    assert_eq!(a.reserve(0), Err(ReserveError::AlreadyReserved));
    assert_eq!(a.reserve(4), Err(ReserveError::AlreadyReserved));
    // Allocate into the reserve, then exhaust it: no further growth.
    let mut live = Vec::new();
    loop {
        let p = alloc(a, 30_000, 8);
        if p.is_null() {
            break;
        }
        live.push(p);
    }
    assert!(
        live.len() * 30_000 > 8 * PAGE_SIZE,
        "the reserved pages were used"
    );
    assert_eq!(pages(a), 10, "no growth after the reserve");
    assert_eq!(a.stats().growths, 1);
    assert_eq!(
        a.state()
            .reserve_status
            .load(std::sync::atomic::Ordering::Relaxed),
        1,
        "a refused second reserve does not hide that the first one is in effect"
    );
}

#[test]
fn reserve_without_host_call_happens_on_first_allocation() {
    let a = make(Reserve::pages(4), ARENA, 2, 64);
    assert!(!alloc(a, 16, 8).is_null());
    assert_eq!(pages(a), 6);
    assert_eq!(a.stats().growths, 1);
    assert_eq!(a.reserve(0), Err(ReserveError::AlreadyReserved));
}

#[test]
fn runtime_reserve_takes_the_hosts_amount_and_refuses_zero() {
    let a = make(Reserve::runtime(), ARENA, 2, 64);
    assert!(
        !alloc(a, 16, 8).is_null(),
        "the static arena serves before any reserve"
    );
    assert_eq!(pages(a), 2, "Reserve::runtime never grows on its own");
    assert_eq!(a.reserve(0), Err(ReserveError::NoAmount));
    assert_eq!(a.reserve(70_000), Err(ReserveError::TooLarge));
    assert_eq!(a.reserve(5), Ok(5));
    assert_eq!(pages(a), 7);
}

#[test]
fn failed_reserve_claims_nothing_and_says_why() {
    let a = make(Reserve::runtime(), ARENA, 2, 10);
    let before = a.stats();
    assert_eq!(
        a.reserve(9),
        Err(ReserveError::Refused),
        "2 + 9 pages exceed the maximum of 10"
    );
    let after = a.stats();
    assert_eq!(pages(a), 2);
    assert_eq!(
        (after.growths, after.generation),
        (before.growths, before.generation)
    );
    assert_eq!(
        after.heap_bytes, ARENA,
        "only the static arena, nothing grown was claimed"
    );
    assert_eq!(
        a.state()
            .reserve_status
            .load(std::sync::atomic::Ordering::Relaxed) as i32,
        -5
    );
    // A refused reserve may be retried with a smaller amount.
    assert_eq!(a.reserve(8), Ok(8));
    assert_eq!(pages(a), 10);

    let f = make(Fail, ARENA, 2, 10);
    assert_eq!(f.reserve(1), Err(ReserveError::NotReservePolicy));
    assert_eq!(pages(f), 2);
}

#[test]
fn signal_bumps_the_generation_exactly_once_per_growth() {
    let a = make(Signal::new(), ARENA, 1, 256);
    let mut live = Vec::new();
    let mut last = (pages(a), a.stats());
    for i in 0..400 {
        let size = 1000 + (i * 7919) % 20_000;
        let p = alloc(a, size, 8);
        assert!(!p.is_null());
        live.push((p, size));
        let now = (pages(a), a.stats());
        let grew = now.0 != last.0;
        assert_eq!(
            now.1.generation - last.1.generation,
            grew as u32,
            "one bump per growth"
        );
        assert_eq!(now.1.growths - last.1.growths, grew as u32);
        last = now;
    }
    let s = a.stats();
    assert!(
        s.growths >= 2,
        "400 blocks of ~10 KB outgrow a 64 KiB arena several times"
    );
    assert_eq!(s.generation, s.growths);
    assert_eq!(
        s.heap_bytes,
        ARENA + (pages(a) - 1) * PAGE_SIZE,
        "every grown page went to the heap"
    );
    assert_eq!(
        // SAFETY: the closure only reads it; it neither replaces the memory nor allocates.
        unsafe { a.with_memory(|m| m.notifications) },
        s.growths as usize,
        "the host is told once per growth"
    );
    for (p, s) in live {
        free(a, p, s, 8);
    }
}

#[test]
fn signal_never_bumps_on_a_refused_growth() {
    let a = make(Signal::new(), ARENA, 1, 256);
    // SAFETY: the closure only sets when the memory refuses growth; it neither replaces the memory nor allocates.
    unsafe { a.with_memory(|m| m.refuse_after(1)) };
    let mut nulls = 0;
    for _ in 0..100 {
        if alloc(a, 30_000, 8).is_null() {
            nulls += 1;
        }
    }
    let s = a.stats();
    assert_eq!(
        (s.growths, s.generation),
        (1, 1),
        "one growth allowed, then refused without bumping"
    );
    assert_eq!(s.failures, nulls);
    assert!(nulls > 0);
}

#[test]
fn signal_growth_is_geometric() {
    // Each growth adds at least what the heap already owns: N growths cover
    // N doublings, so 1-byte-at-a-time pressure needs few growths.
    let a = make(Signal::new(), MIN_ARENA_BYTES.max(4096), 1, 4096);
    let mut owned = vec![a.stats().heap_bytes];
    // Miri is ~1000x slower: 2 MB there still takes several doublings.
    let blocks = if cfg!(miri) { 2_000 } else { 20_000 };
    for _ in 0..blocks {
        assert!(!alloc(a, 1024, 8).is_null());
        let s = a.stats();
        if s.heap_bytes != *owned.last().unwrap() {
            owned.push(s.heap_bytes);
        }
    }
    // 20 MB of blocks; doubling from 64 KiB needs ~9 growths, linear would need ~300.
    assert!(owned.len() - 1 <= 12, "growths: {}", owned.len() - 1);
    for w in owned.windows(2).skip(1) {
        assert!(
            w[1] + PAGE_SIZE >= 2 * w[0],
            "each growth at least doubles the heap: {w:?}"
        );
    }
}

#[test]
fn signal_respects_its_page_limit() {
    let a = make(Signal::new().limit_pages(6), ARENA, 2, 64);
    let mut n = 0;
    while !alloc(a, 10_000, 8).is_null() {
        n += 1;
    }
    assert!(n > 20);
    assert_eq!(pages(a), 6, "grew up to the limit and no further");
    assert_eq!(
        a.state()
            .limit_pages
            .load(std::sync::atomic::Ordering::Relaxed),
        6
    );
    let f = a.last_failure().unwrap();
    assert_eq!(f.size, 10_000);
}

#[test]
fn generation_notices_growth_by_someone_else() {
    let a = make(Fail, ARENA, 2, 8);
    assert_eq!(a.generation(), 0);
    assert!(!alloc(a, 8, 8).is_null());
    assert_eq!(a.generation(), 0);
    // The host (or another allocator) grows memory behind nogrow's back.
    // SAFETY: the closure grows it by pages the region has, as a host would; it neither replaces the memory nor allocates.
    unsafe { a.with_memory(|m| m.grow(1)) };
    assert_eq!(
        a.generation(),
        1,
        "a size change nogrow did not make is still counted"
    );
    assert_eq!(a.generation(), 1, "and counted once");
    assert_eq!(a.stats().growths, 0, "nogrow itself did not grow");
}

#[test]
fn linker_heap_is_claimed_without_growth_and_extended_by_signal() {
    let arena_mem: &'static mut [u8] = vec![0u8; ARENA + TALC_OVERSHOOT_PAD].leak();
    let region: &'static mut [u8] = vec![0u8; 32 * PAGE_SIZE].leak();
    let region_base = region.as_mut_ptr();
    let state: &'static State = Box::leak(Box::new(State::new()));
    // SAFETY: leaked regions, owned by the allocator from here on.
    let (arena, memory) = unsafe {
        (
            Arena::from_raw(arena_mem.as_mut_ptr(), ARENA).with_linker_heap(),
            SliceMemory::new(region_base, 4, 32).with_linker_heap_from(1),
        )
    };
    let a: &'static Nogrow<Signal, SliceMemory> =
        Box::leak(Box::new(Nogrow::new(arena, Signal::new(), memory, state)));
    let p = alloc(a, 100_000, 8);
    assert!(!p.is_null(), "fits the 3-page linker heap, no growth");
    assert_eq!(pages(a), 4);
    assert_eq!(a.stats().heap_bytes, ARENA + 3 * PAGE_SIZE);
    free(a, p, 100_000, 8);
    // Growth extends the linker heap (which ends where memory ended) instead
    // of starting a new heap: the big block then starts inside the old pages.
    let big = alloc(a, 4 * PAGE_SIZE, 8);
    assert!(!big.is_null());
    assert!(pages(a) > 4);
    assert_eq!(a.stats().growths, 1);
    let old_end = region_base as usize + 4 * PAGE_SIZE;
    assert!(
        (big as usize) < old_end,
        "the grown pages were merged with the linker heap"
    );
}

/// Fills the allocator with `size`-byte blocks until null; returns them.
fn fill<P: Policy>(a: &Nogrow<P, SliceMemory>, size: usize) -> Vec<*mut u8> {
    let mut live = Vec::new();
    loop {
        let p = alloc(a, size, 8);
        if p.is_null() {
            return live;
        }
        live.push(p);
    }
}

#[test]
fn freed_small_blocks_are_reused_first_and_given_back_before_failing() {
    let a = make(Fail, ARENA, 1, 1);
    let small = fill(a, 24);
    assert!(small.len() > 1000);
    let last = *small.last().unwrap();
    free(a, last, 24, 8);
    assert_eq!(
        alloc(a, 24, 8),
        last,
        "the block just freed serves the next request of its size"
    );
    // Free the middle block first, into the empty cache, where it stays
    // parked and splits the free arena in two halves; then all the others.
    let mid = small.len() / 2;
    free(a, small[mid], 24, 8);
    for (i, &p) in small.iter().enumerate() {
        if i != mid {
            free(a, p, 24, 8);
        }
    }
    // A request bigger than either half still finds the whole arena (but
    // talc's bins, which live in it): the cache is emptied into talc before
    // the allocation fails.
    let big = alloc(a, ARENA - MIN_ARENA_BYTES, 8);
    assert!(
        !big.is_null(),
        "the parked block was given back and coalesced"
    );
    free(a, big, ARENA - MIN_ARENA_BYTES, 8);
    assert_eq!(a.stats().in_use, 0);
}

#[test]
fn signal_empties_the_small_block_cache_before_growing() {
    let a = make(Signal::new(), ARENA, 1, 64);
    // 36 KB of small blocks, all in the static arena (no growth yet).
    let small: Vec<_> = (0..900).map(|_| alloc(a, 40, 8)).collect();
    assert!(small.iter().all(|p| !p.is_null()));
    assert_eq!(a.stats().growths, 0);
    // Park the middle block (freed first, into the empty cache): it splits
    // the arena's free space.
    let mid = small.len() / 2;
    free(a, small[mid], 40, 8);
    for (i, &p) in small.iter().enumerate() {
        if i != mid {
            free(a, p, 40, 8);
        }
    }
    let big = alloc(a, ARENA - 4096, 8);
    assert!(!big.is_null());
    assert_eq!(
        (pages(a), a.stats().growths),
        (1, 0),
        "served by the arena once the cache was emptied, no growth"
    );
}

#[test]
fn growth_before_the_first_allocation_is_counted_from_instantiation() {
    let a = make(Fail, ARENA, 2, 8);
    // wasi-libc or the host grows memory before nogrow ever looked.
    // SAFETY: the closure grows it by pages the region has, as a host would; it neither replaces the memory nor allocates.
    unsafe { a.with_memory(|m| m.grow(3)) };
    assert_eq!(a.state().generation.load(Relaxed), 0, "nobody looked yet");
    assert!(!alloc(a, 8, 8).is_null());
    assert_eq!(
        a.state().generation.load(Relaxed),
        1,
        "the first allocation compares with the size at instantiation"
    );
    assert_eq!(a.generation(), 1, "nogrow_generation() agrees");
    assert_eq!(a.stats().pages, 5);
    assert_eq!(a.stats().growths, 0);
}

#[test]
fn growth_by_the_host_between_calls_counts_once_each() {
    let a = make(Fail, ARENA, 2, 8);
    assert_eq!(a.generation(), 0, "a look with no growth");
    // SAFETY: the closure grows it by pages the region has, as a host would; it neither replaces the memory nor allocates.
    unsafe { a.with_memory(|m| m.grow(1)) };
    assert_eq!(a.generation(), 1);
    assert!(!alloc(a, 8, 8).is_null());
    assert_eq!(a.generation(), 1);
    // SAFETY: the closure grows it by pages the region has, as a host would; it neither replaces the memory nor allocates.
    unsafe { a.with_memory(|m| m.grow(1)) };
    assert!(!alloc(a, 8, 8).is_null());
    assert_eq!(a.generation(), 2);
    assert_eq!(a.generation(), 2, "looking again counts nothing");
}

#[test]
fn growth_by_someone_else_right_before_nogrow_grows_counts_both() {
    let a = make(Signal::new(), ARENA, 2, 16);
    assert!(!alloc(a, 8, 8).is_null());
    // SAFETY: the closure grows it by pages the region has, as a host would; it neither replaces the memory nor allocates.
    unsafe { a.with_memory(|m| m.grow(1)) };
    assert!(!alloc(a, 3 * PAGE_SIZE, 8).is_null(), "Signal grows");
    assert_eq!(a.stats().growths, 1);
    assert_eq!(a.generation(), 2, "one for the host, one for nogrow");
}

/// A memory whose host grows it once more from inside the growth hook, as a
/// `memory_grown` import that calls `memory.grow` would.
#[derive(Debug)]
struct HookGrows {
    inner: SliceMemory,
    grown_in_hook: bool,
}

// SAFETY: every method forwards to `SliceMemory`; the page grown in the hook
// is never offered to the heap (nogrow only claims what its own `grow` call
// returned), so it is "someone else's" growth. Nothing allocates.
unsafe impl Memory for HookGrows {
    fn pages(&mut self) -> usize {
        self.inner.pages()
    }
    fn grow(&mut self, delta: usize) -> Option<usize> {
        self.inner.grow(delta)
    }
    fn region(&mut self, first: usize) -> *mut u8 {
        self.inner.region(first)
    }
    fn initial_pages(&mut self) -> Option<usize> {
        self.inner.initial_pages()
    }
    fn notify_grown(&mut self, old_pages: usize, new_pages: usize) {
        self.inner.notify_grown(old_pages, new_pages);
        if !self.grown_in_hook {
            self.grown_in_hook = true;
            self.inner.grow(1);
        }
    }
}

#[test]
fn growth_inside_the_growth_hook_is_counted_once() {
    let arena_mem: &'static mut [u8] = vec![0u8; ARENA + TALC_OVERSHOOT_PAD].leak();
    let region: &'static mut [u8] = vec![0u8; 16 * PAGE_SIZE].leak();
    let state: &'static State = Box::leak(Box::new(State::new()));
    // SAFETY: leaked regions, owned by the allocator from here on.
    let (arena, memory) = unsafe {
        (
            Arena::from_raw(arena_mem.as_mut_ptr(), ARENA),
            SliceMemory::new(region.as_mut_ptr(), 2, 16),
        )
    };
    let memory = HookGrows {
        inner: memory,
        grown_in_hook: false,
    };
    let a = Box::leak(Box::new(Nogrow::new(arena, Signal::new(), memory, state)));
    let layout = Layout::from_size_align(3 * PAGE_SIZE, 8).unwrap();
    // SAFETY: non-zero size.
    assert!(!unsafe { a.alloc(layout) }.is_null());
    assert_eq!(a.stats().growths, 1);
    assert_eq!(state.generation.load(Relaxed), 1, "nogrow's own growth");
    assert_eq!(
        a.generation(),
        2,
        "plus the hook's, noticed at the next look"
    );
    assert_eq!(a.generation(), 2);
}

#[test]
fn overwriting_the_state_block_does_not_change_what_the_allocator_does() {
    let plain = make(Signal::new(), ARENA, 2, 64);
    let tampered = make(Signal::new(), ARENA, 2, 64);
    let scribble = |s: &State| {
        s.generation.store(77, Relaxed);
        s.pages.store(9999, Relaxed);
        s.heap_bytes.store(0, Relaxed);
        s.reserve_status.store(1, Relaxed);
        s.limit_pages.store(1, Relaxed);
        s.policy.store(0, Relaxed);
    };
    for i in 0..8 {
        scribble(tampered.state());
        let size = (i + 1) * 3 * PAGE_SIZE;
        let (p, q) = (alloc(plain, size, 8), alloc(tampered, size, 8));
        assert_eq!(p.is_null(), q.is_null());
        assert_eq!(pages(plain), pages(tampered), "the same growth plan");
    }
    assert_eq!(plain.stats().growths, tampered.stats().growths);
    assert_eq!(plain.generation(), tampered.generation());
    assert!(plain.last_failure().is_some(), "the run reached the limit");
    assert_eq!(
        plain.last_failure(),
        tampered.last_failure(),
        "failure records (heap size included) come from the heap's own count"
    );
    assert_eq!(
        tampered.reserve(1),
        Err(ReserveError::NotReservePolicy),
        "a scribbled reserve status is not believed"
    );
}

#[test]
fn a_memory_offers_its_linker_heap_once() {
    let region: &'static mut [u8] = vec![0u8; 4 * PAGE_SIZE].leak();
    // SAFETY: the region is leaked and named nowhere else.
    let mut m = unsafe { SliceMemory::new(region.as_mut_ptr(), 3, 4) }.with_linker_heap_from(1);
    let (base, len) = m.linker_heap().expect("pages 1..3");
    assert_eq!(
        (base.addr(), len),
        (region.as_ptr().addr() + PAGE_SIZE, 2 * PAGE_SIZE)
    );
    assert_eq!(m.linker_heap(), None, "a second claim gets nothing");
}
