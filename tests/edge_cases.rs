//! Edge cases, on the host over the fake memory: each must fail cleanly
//! (null or an error, no panic, no overflow, no growth it should not do),
//! record the failure, and leave the heap usable.
#![cfg(not(target_arch = "wasm32"))]

mod common;

use core::alloc::{GlobalAlloc, Layout};

use common::Region;
use nogrow::{
    Arena, Fail, MIN_ARENA_BYTES, Nogrow, PAGE_SIZE, Policy, Reserve, ReserveError, Signal,
    SliceMemory, State,
};

/// An allocator over fresh regions; the allocator is dropped before them.
struct Fixture<P: Policy> {
    alloc: Nogrow<P, SliceMemory>,
    _arena: Region,
    _memory: Region,
}

fn fixture<P: Policy>(
    policy: P,
    arena: usize,
    max_pages: usize,
    state: &'static State,
) -> Fixture<P> {
    let arena_region = Region::new(arena);
    let memory = Region::new(max_pages.max(1) * PAGE_SIZE);
    // SAFETY: `memory` is fresh, used by nothing else, and outlives the
    // allocator (a later field of the fixture).
    let mem = unsafe { SliceMemory::new(memory.ptr(), 1, max_pages.max(1)) };
    // SAFETY: `arena_region` is fresh and outlives the allocator, as above.
    let arena = unsafe { Arena::from_raw(arena_region.ptr(), arena) };
    Fixture {
        alloc: Nogrow::new(arena, policy, mem, state),
        _arena: arena_region,
        _memory: memory,
    }
}

/// Allocates and frees a few small blocks, writing them: the heap still works.
fn assert_usable<P: Policy>(alloc: &Nogrow<P, SliceMemory>) {
    assert_usable_up_to(alloc, 1000);
}

fn assert_usable_up_to<P: Policy>(alloc: &Nogrow<P, SliceMemory>, largest: usize) {
    let before = alloc.stats().in_use;
    for size in [1usize, 8, 100, 1000].into_iter().filter(|&s| s <= largest) {
        let layout = Layout::from_size_align(size, 8).unwrap();
        // SAFETY: non-zero size.
        let p = unsafe { alloc.alloc(layout) };
        assert!(
            !p.is_null(),
            "heap unusable: {size} bytes failed ({:?})",
            alloc.stats()
        );
        // SAFETY: `p` is a live block of `size` bytes, freed with its layout.
        unsafe {
            p.write_bytes(0xA5, size);
            assert_eq!(p.add(size - 1).read(), 0xA5);
            alloc.dealloc(p, layout);
        }
    }
    assert_eq!(alloc.stats().in_use, before);
}

fn expect_panic_message(f: impl FnOnce() + std::panic::UnwindSafe) -> String {
    let err = std::panic::catch_unwind(f).expect_err("expected a panic");
    err.downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| err.downcast_ref::<String>().cloned())
        .unwrap_or_default()
}

#[test]
fn arena_smaller_than_talc_minimum_is_rejected_at_construction() {
    static STATE: State = State::new();
    let region = Region::new(MIN_ARENA_BYTES);
    let base = region.ptr();
    // `Nogrow::new` is a `const fn`: in a `static` this same assert is a
    // compile-time error; at run time it is a panic with the same message.
    let msg = expect_panic_message(move || {
        // SAFETY: the region is valid for MIN_ARENA_BYTES - 1 bytes; the
        // constructor panics before using it.
        let arena = unsafe { Arena::from_raw(base, MIN_ARENA_BYTES - 1) };
        let _ = Nogrow::new(arena, Fail, nogrow::WasmMemory, &STATE);
    });
    assert!(
        msg.contains("smaller than talc's minimum"),
        "message: {msg}"
    );

    // Exactly the minimum works and serves small allocations.
    static STATE2: State = State::new();
    let f = fixture(Fail, MIN_ARENA_BYTES, 1, &STATE2);
    assert_usable_up_to(&f.alloc, 100);
}

#[test]
fn exhaustion_fails_cleanly_records_the_failure_and_recovers_after_frees() {
    static STATE: State = State::new();
    let f = fixture(Fail, 256 << 10, 64, &STATE);
    let layout = Layout::from_size_align(1024, 16).unwrap();
    let mut blocks = Vec::new();
    loop {
        // SAFETY: non-zero size.
        let p = unsafe { f.alloc.alloc(layout) };
        if p.is_null() {
            break;
        }
        blocks.push(p);
        assert!(blocks.len() < 1000, "a 256 KiB arena served 1000 KiB");
    }
    let n = blocks.len();
    assert!(n > 200, "only {n} KiB of a 256 KiB arena served");
    let s = STATE.stats();
    assert_eq!(s.failures, 1);
    assert_eq!((s.growths, s.pages), (0, 1), "Fail grew memory");
    let fail = f.alloc.last_failure().expect("failure recorded");
    assert_eq!((fail.size, fail.align, fail.in_use), (1024, 16, n * 1024));
    assert_eq!(fail.heap_bytes, 256 << 10);

    // Free everything: the same number of blocks fits again.
    for p in blocks.drain(..) {
        // SAFETY: allocated above with `layout`.
        unsafe { f.alloc.dealloc(p, layout) };
    }
    assert_eq!(STATE.stats().in_use, 0);
    for _ in 0..n {
        // SAFETY: non-zero size.
        let p = unsafe { f.alloc.alloc(layout) };
        assert!(
            !p.is_null(),
            "recovery after frees failed at block {}",
            blocks.len()
        );
        blocks.push(p);
    }
    for p in blocks {
        // SAFETY: allocated above with `layout`.
        unsafe { f.alloc.dealloc(p, layout) };
    }
    assert_usable(&f.alloc);
}

/// Sizes whose arithmetic could overflow: near `isize::MAX`, and around 4 GiB.
fn huge_layouts() -> Vec<Layout> {
    let max = isize::MAX as usize;
    let mut v = vec![
        Layout::from_size_align(max, 1).unwrap(),
        Layout::from_size_align(max - 15, 16).unwrap(),
        Layout::from_size_align(max - 4095, 4096).unwrap(),
        Layout::from_size_align(max / 2 + 1, 8).unwrap(),
        Layout::from_size_align(1, 1 << 62).unwrap(),
        Layout::from_size_align(1 << 40, 1 << 30).unwrap(),
    ];
    for size in [
        (1usize << 32) - 1,
        1 << 32,
        (1 << 32) + 1,
        (1 << 32) - PAGE_SIZE,
        u32::MAX as usize - 100,
    ] {
        v.push(Layout::from_size_align(size, 8).unwrap());
    }
    v
}

fn assert_huge_requests_return_null<P: Policy>(policy: P, name: &str) {
    // One state per policy; leaked states would be reported by Miri.
    static STATES: [State; 3] = [const { State::new() }; 3];
    let state = &STATES[P::KIND as usize - 1];
    let f = fixture(policy, 64 << 10, 16, state);
    let small = Layout::from_size_align(64, 8).unwrap();
    // SAFETY: non-zero size.
    let keep = unsafe { f.alloc.alloc(small) };
    assert!(!keep.is_null());
    // SAFETY: `keep` is a live block of 64 bytes.
    unsafe { keep.write_bytes(0x5A, 64) };
    let before = state.stats();
    let mut failures = before.failures;
    for layout in huge_layouts() {
        // SAFETY: non-zero size.
        let p = unsafe { f.alloc.alloc(layout) };
        assert!(p.is_null(), "{name}: {layout:?} succeeded");
        let fail = f.alloc.last_failure().unwrap();
        assert_eq!(
            (fail.size, fail.align),
            (layout.size(), layout.align()),
            "{name}: failure record"
        );
        failures += 1;
        assert_eq!(state.stats().failures, failures, "{name}: failure counted");
        // realloc to the same size (keeping the small block's alignment) fails too
        // and leaves the block intact.
        if layout.align() <= 8 && Layout::from_size_align(layout.size(), 8).is_ok() {
            // SAFETY: `keep` is live with `small`; the new size rounded up to 8
            // does not overflow isize.
            let q = unsafe { f.alloc.realloc(keep, small, layout.size()) };
            assert!(
                q.is_null(),
                "{name}: realloc to {} succeeded",
                layout.size()
            );
            failures += 1;
            assert_eq!(
                state.stats().failures,
                failures,
                "{name}: realloc failure counted"
            );
            // SAFETY: `keep` is still live (realloc failed): 64 initialized bytes.
            let kept = unsafe { core::slice::from_raw_parts(keep, 64) };
            assert!(
                kept.iter().all(|&b| b == 0x5A),
                "{name}: failed realloc changed the block"
            );
        }
    }
    let after = state.stats();
    assert_eq!(
        (after.pages, after.growths, after.generation),
        (before.pages, before.growths, before.generation),
        "{name}: grew"
    );
    // SAFETY: allocated above with `small`.
    unsafe { f.alloc.dealloc(keep, small) };
    assert_usable(&f.alloc);
}

#[test]
fn sizes_near_isize_max_and_4gib_return_null_without_overflow_under_every_policy() {
    assert_huge_requests_return_null(Fail, "Fail");
    assert_huge_requests_return_null(Reserve::pages(4), "Reserve");
    assert_huge_requests_return_null(Signal::new(), "Signal");
}

#[test]
fn one_byte_requests_and_huge_alignments_are_honoured_or_fail_cleanly() {
    static STATE: State = State::new();
    // Miri: smaller alignments, smaller memory.
    let (top, limit) = if cfg!(miri) { (18, 40) } else { (24, 1024) };
    let f = fixture(
        Signal::new().limit_pages(limit),
        64 << 10,
        limit + 8,
        &STATE,
    );
    let mut live = Vec::new();
    for shift in 0..=top {
        let layout = Layout::from_size_align(1, 1 << shift).unwrap();
        // SAFETY: non-zero size.
        let p = unsafe { f.alloc.alloc(layout) };
        assert!(!p.is_null(), "align 2^{shift} failed");
        assert_eq!(p.addr() % layout.align(), 0, "align 2^{shift} not honoured");
        // SAFETY: one byte.
        unsafe { p.write(shift as u8) };
        live.push((p, layout));
    }
    // An alignment beyond the page limit: null, recorded, no growth.
    let before = STATE.stats();
    let layout = Layout::from_size_align(1, (PAGE_SIZE * limit * 2).next_power_of_two()).unwrap();
    // SAFETY: non-zero size.
    assert!(unsafe { f.alloc.alloc(layout) }.is_null());
    assert_eq!(f.alloc.last_failure().unwrap().align, layout.align());
    assert_eq!(STATE.stats().pages, before.pages);
    for (i, (p, layout)) in live.into_iter().enumerate() {
        // SAFETY: live one-byte blocks.
        unsafe {
            assert_eq!(
                p.read(),
                i as u8,
                "block with align {} changed",
                layout.align()
            );
            f.alloc.dealloc(p, layout);
        }
    }
    assert_usable(&f.alloc);
}

#[test]
fn reserve_twice_or_too_late_is_refused_without_growing() {
    static STATE: State = State::new();
    let f = fixture(Reserve::pages(8), 64 << 10, 64, &STATE);
    assert_eq!(f.alloc.reserve(0), Ok(8));
    assert_eq!(f.alloc.reserve(0), Err(ReserveError::AlreadyReserved));
    assert_eq!(f.alloc.reserve(4), Err(ReserveError::AlreadyReserved));
    assert_eq!(
        f.alloc.reserve_code(4),
        ReserveError::AlreadyReserved.code()
    );
    let s = STATE.stats();
    assert_eq!(
        (s.growths, s.pages, s.heap_bytes),
        (1, 9, (64 << 10) + 8 * PAGE_SIZE)
    );
    assert_usable(&f.alloc);

    // Too late: the first allocation already reserved lazily.
    static LATE: State = State::new();
    let f = fixture(Reserve::pages(8), 64 << 10, 64, &LATE);
    assert_usable(&f.alloc);
    assert_eq!(
        LATE.stats().growths,
        1,
        "lazy reserve on the first allocation"
    );
    assert_eq!(f.alloc.reserve(0), Err(ReserveError::AlreadyReserved));
    assert_eq!(f.alloc.reserve(16), Err(ReserveError::AlreadyReserved));
    assert_eq!(LATE.stats().pages, 9);
}

#[test]
fn reserve_errors_grow_nothing_and_leave_the_reserve_available() {
    static STATE: State = State::new();
    let f = fixture(Reserve::runtime(), 64 << 10, 32, &STATE);
    assert_eq!(f.alloc.reserve(0), Err(ReserveError::NoAmount));
    assert_eq!(f.alloc.reserve(70_000), Err(ReserveError::TooLarge));
    assert_eq!(
        f.alloc.reserve(65_536),
        Err(ReserveError::TooLarge),
        "1 + 65536 pages is beyond 4 GiB"
    );
    assert_eq!(
        f.alloc.reserve(64),
        Err(ReserveError::Refused),
        "beyond the memory's maximum"
    );
    assert_eq!(
        STATE
            .reserve_status
            .load(core::sync::atomic::Ordering::Relaxed) as i32,
        ReserveError::Refused.code()
    );
    let s = STATE.stats();
    assert_eq!((s.growths, s.pages, s.heap_bytes), (0, 1, 64 << 10));
    assert_usable(&f.alloc);
    // Runtime reserve grows nothing by itself, even after allocations…
    assert_eq!(STATE.stats().growths, 0);
    // …and the one real reserve still works after the refused ones.
    assert_eq!(f.alloc.reserve(31), Ok(31));
    assert_eq!(f.alloc.reserve(1), Err(ReserveError::AlreadyReserved));
    assert_eq!(STATE.stats().pages, 32);

    static FAIL: State = State::new();
    let f = fixture(Fail, 64 << 10, 8, &FAIL);
    assert_eq!(f.alloc.reserve(1), Err(ReserveError::NotReservePolicy));
    assert_eq!(FAIL.stats().growths, 0);
}

/// Fills memory with 64 KiB blocks until null; checks the failure is clean,
/// recorded and recoverable.
fn fill_until_null<P: Policy>(f: &Fixture<P>, state: &State, max_pages_expected: usize) {
    let layout = Layout::from_size_align(PAGE_SIZE, 8).unwrap();
    let mut blocks = Vec::new();
    loop {
        // SAFETY: non-zero size.
        let p = unsafe { f.alloc.alloc(layout) };
        if p.is_null() {
            break;
        }
        blocks.push(p);
        assert!(blocks.len() < 10_000, "never failed");
    }
    let s = state.stats();
    assert!(
        s.pages as usize <= max_pages_expected,
        "memory reached {} pages (max {max_pages_expected})",
        s.pages
    );
    assert!(
        s.pages as usize >= max_pages_expected - 2,
        "gave up early at {} pages",
        s.pages
    );
    assert_eq!(s.failures, 1);
    assert_eq!(s.generation, s.growths);
    assert_eq!(f.alloc.last_failure().unwrap().size, PAGE_SIZE);
    // Still usable at the limit, and after freeing one block its space is reused.
    assert_usable(&f.alloc);
    let p = blocks.pop().unwrap();
    // SAFETY: allocated above with `layout`.
    unsafe { f.alloc.dealloc(p, layout) };
    // SAFETY: non-zero size.
    let q = unsafe { f.alloc.alloc(layout) };
    assert!(!q.is_null(), "freed space not reusable");
    assert_eq!(state.stats().pages, s.pages, "reuse grew memory");
    blocks.push(q);
    for p in blocks {
        // SAFETY: allocated above with `layout`.
        unsafe { f.alloc.dealloc(p, layout) };
    }
    assert_eq!(state.stats().in_use, 0);
}

#[test]
fn signal_at_its_page_limit_fails_cleanly_and_stays_usable() {
    static STATE: State = State::new();
    let f = fixture(Signal::new().limit_pages(40), 64 << 10, 256, &STATE);
    fill_until_null(&f, &STATE, 40);
}

#[test]
fn signal_at_the_engine_maximum_fails_cleanly_and_stays_usable() {
    static STATE: State = State::new();
    let f = fixture(Signal::new().step_pages(4), 64 << 10, 40, &STATE);
    fill_until_null(&f, &STATE, 40);
}
