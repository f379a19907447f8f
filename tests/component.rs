//! `nogrow::component` over a real heap: `cabi_realloc`, the canonical ABI's
//! allocation function on WASI component targets (what it allocates,
//! resizes and returns, and how it stops when the heap cannot hold a
//! value), and the answers of the WIT interface's `check-alloc` and
//! `explain`.
//! Runs under `cargo test` and under Miri.
#![cfg(not(target_arch = "wasm32"))]

#[path = "common/regions.rs"]
#[allow(dead_code)]
mod regions;
use regions::TALC_OVERSHOOT_PAD;

use std::{
    alloc::{GlobalAlloc, Layout},
    panic::AssertUnwindSafe,
};

use nogrow::{
    Arena, Fail, Nogrow, SliceMemory, State,
    component::{
        CABI_REALLOC_FAILED, ExplainReturn, INVALID_LAYOUT, answer_text, cabi_realloc, explanation,
    },
    host,
};

const ARENA: usize = 64 << 10;

fn make() -> (&'static Nogrow<Fail, SliceMemory>, &'static State) {
    let arena_mem: &'static mut [u8] = vec![0u8; ARENA + TALC_OVERSHOOT_PAD].leak();
    let state: &'static State = Box::leak(Box::new(State::for_policy(&Fail)));
    // SAFETY: the region is leaked, so it lives for the program and nothing
    // else can name it; the memory has no pages of its own.
    let (arena, memory) = unsafe {
        (
            Arena::from_raw(arena_mem.as_mut_ptr(), ARENA),
            SliceMemory::new(core::ptr::NonNull::dangling().as_ptr(), 0, 0),
        )
    };
    (
        Box::leak(Box::new(Nogrow::new(arena, Fail, memory, state))),
        state,
    )
}

#[test]
fn cabi_realloc_allocates_resizes_and_keeps_the_bytes() {
    let (heap, state) = make();
    // SAFETY: the canonical ABI's calls: nothing, a fresh block, a resize of
    // it; the block is freed once with its last layout.
    unsafe {
        let empty = cabi_realloc(heap, state, core::ptr::null_mut(), 0, 8, 0);
        assert_eq!(
            empty.addr(),
            8,
            "an empty value gets a dangling, aligned pointer"
        );
        assert_eq!(state.stats().allocs, 0);
        let p = cabi_realloc(heap, state, core::ptr::null_mut(), 0, 4, 100);
        assert!(!p.is_null() && p.addr() % 4 == 0);
        p.write_bytes(0xab, 100);
        let q = cabi_realloc(heap, state, p, 100, 4, 5000);
        assert_eq!(core::slice::from_raw_parts(q, 100), &[0xab; 100][..]);
        assert_eq!(state.stats().in_use, 5000);
        assert_eq!(state.stats().reallocs, 1);
        heap.dealloc(q, Layout::from_size_align(5000, 4).unwrap());
    }
    assert_eq!(state.stats().in_use, 0);
}

#[test]
fn a_value_too_large_for_the_heap_stops_with_the_explanation() {
    let (heap, state) = make();
    // The heap is not left mid-update by the stop: the allocation had
    // returned before it.
    let stopped = std::panic::catch_unwind(AssertUnwindSafe(|| {
        // SAFETY: a fresh block with a valid layout.
        unsafe { cabi_realloc(heap, state, core::ptr::null_mut(), 0, 1, 300_000) }
    }))
    .unwrap_err();
    let line = stopped.downcast_ref::<String>().expect("a formatted line");
    let e = explanation(state).expect("the failure was recorded");
    assert_eq!(*line, format!("{CABI_REALLOC_FAILED}{e}"));
    assert!(
        line.contains("out of heap memory: requested 300000 bytes (align 1)"),
        "{line}"
    );
    assert!(line.ends_with(host::ADVICE_FAIL), "{line}");
    // The heap is whole: the next value that fits is served.
    // SAFETY: as above; freed once with its layout.
    unsafe {
        let p = cabi_realloc(heap, state, core::ptr::null_mut(), 0, 1, 1000);
        assert!(!p.is_null());
        heap.dealloc(p, Layout::from_size_align(1000, 1).unwrap());
    }
}

#[test]
fn a_resize_that_does_not_fit_stops_and_keeps_the_old_block() {
    let (heap, state) = make();
    // SAFETY: a fresh block, then a resize of it; freed once.
    unsafe {
        let p = cabi_realloc(heap, state, core::ptr::null_mut(), 0, 8, 64);
        p.write_bytes(7, 64);
        let stopped = std::panic::catch_unwind(AssertUnwindSafe(|| {
            cabi_realloc(heap, state, p, 64, 8, 1 << 20)
        }));
        let line = stopped
            .unwrap_err()
            .downcast_ref::<String>()
            .unwrap()
            .clone();
        assert!(line.contains("requested 1048576 bytes (align 8)"), "{line}");
        assert_eq!(core::slice::from_raw_parts(p, 64), &[7; 64][..]);
        heap.dealloc(p, Layout::from_size_align(64, 8).unwrap());
    }
    assert_eq!(state.stats().in_use, 0);
}

#[test]
fn check_alloc_answers_none_when_a_block_fits_and_the_explanation_when_not() {
    let (heap, state) = make();
    let answers = ExplainReturn::new();
    let ask = |size, align| {
        let at = answers.check_alloc(heap, state, size, align);
        // SAFETY: the address of the answer just given; the text is copied
        // before the next one.
        unsafe { answer_text(at) }.map(String::from)
    };
    assert_eq!(ask(1000, 8), None);
    assert_eq!(ask(0, 1), None, "nothing to allocate");
    assert_eq!(state.stats().in_use, 0, "the block is freed again");
    assert_eq!(state.stats().failures, 0);

    let refused = ask(1 << 20, 4).expect("1 MiB does not fit a 64 KiB arena");
    assert_eq!(state.stats().failures, 1, "recorded as every failure is");
    assert_eq!(refused, explanation(state).unwrap().to_string());
    assert!(
        refused.starts_with("out of heap memory: requested 1048576 bytes (align 4); heap"),
        "{refused}"
    );
    let at = answers.explain(state);
    // SAFETY: as in `ask`.
    let explained = unsafe { answer_text(at) }.map(String::from);
    assert_eq!(
        explained.as_deref(),
        Some(refused.as_str()),
        "explain tells the same"
    );

    assert_eq!(ask(8, 3).as_deref(), Some(INVALID_LAYOUT));
    assert_eq!(
        state.stats().failures,
        1,
        "an invalid layout is no allocation"
    );
}
