//! The C allocation family (`nogrow::c_alloc`) on the host, over a fake
//! memory: what C specifies, what wasi-libc does where C leaves a choice, and
//! the bad pointers a C program can pass. Runs under `cargo test` and Miri.
//! (Mixed C and Rust blocks under the random-operation model: `random_ops`.)
#![cfg(not(target_arch = "wasm32"))]

/// The pad behind every arena here (see its docs: talc's search may form a
/// pointer past the heap's end, which Miri reports).
#[path = "common/regions.rs"]
#[allow(dead_code)]
mod regions;
use regions::TALC_OVERSHOOT_PAD;

use std::alloc::{GlobalAlloc, Layout};

use nogrow::{
    Arena, Fail, Nogrow, PAGE_SIZE, Signal, SliceMemory, State,
    c_alloc::{self, Errno, HEADER_SPACE, InvalidPointer, MALLOC_ALIGN},
};

const ARENA: usize = 64 * 1024;

fn make<P: nogrow::Policy>(policy: P) -> &'static Nogrow<P, SliceMemory> {
    let arena_mem: &'static mut [u8] = vec![0u8; ARENA + TALC_OVERSHOOT_PAD].leak();
    let region: &'static mut [u8] = vec![0u8; 4 * PAGE_SIZE].leak();
    let state: &'static State = Box::leak(Box::new(State::new()));
    // SAFETY: both regions are leaked, so they live for the program and
    // nothing else can name them.
    let (arena, memory) = unsafe {
        (
            Arena::from_raw(arena_mem.as_mut_ptr(), ARENA),
            SliceMemory::new(region.as_mut_ptr(), 1, 4),
        )
    };
    Box::leak(Box::new(Nogrow::new(arena, policy, memory, state)))
}

#[test]
fn malloc_zero_returns_distinct_aligned_freeable_pointers() {
    let a = make(Fail);
    let (p, q) = (c_alloc::malloc(a, 0), c_alloc::malloc(a, 0));
    assert!(!p.is_null() && !q.is_null() && p != q);
    assert_eq!(p.addr() % MALLOC_ALIGN, 0);
    // SAFETY: live C blocks of `a`.
    unsafe {
        assert_eq!(c_alloc::malloc_usable_size(a, p), Ok(0));
        c_alloc::free(a, p).unwrap();
        c_alloc::free(a, q).unwrap();
    }
    assert_eq!(a.stats().in_use, 0);
    assert_eq!(a.stats().allocs, a.stats().frees);
}

#[test]
fn c_blocks_are_counted_with_their_header_and_come_back_to_zero() {
    let a = make(Fail);
    let p = c_alloc::malloc(a, 100);
    assert_eq!(a.stats().in_use, 100 + HEADER_SPACE);
    let q = c_alloc::aligned_alloc(a, 4096, 10);
    assert_eq!(q.addr() % 4096, 0);
    assert_eq!(a.stats().in_use, 100 + HEADER_SPACE + 10 + 4096);
    // SAFETY: live C blocks of `a`.
    unsafe {
        c_alloc::free(a, p).unwrap();
        c_alloc::free(a, q).unwrap();
    }
    assert_eq!(a.stats().in_use, 0);
}

#[test]
fn calloc_zeroes_and_refuses_an_overflowing_product() {
    let a = make(Fail);
    let p = c_alloc::calloc(a, 10, 100);
    assert!(
        // SAFETY: a live block of 1000 bytes.
        unsafe { std::slice::from_raw_parts(p, 1000) }
            .iter()
            .all(|&b| b == 0)
    );
    assert!(c_alloc::calloc(a, usize::MAX / 2, 3).is_null());
    assert_eq!(a.stats().failures, 1, "the impossible request is recorded");
    // SAFETY: a live C block of `a`.
    unsafe { c_alloc::free(a, p).unwrap() };
}

#[test]
fn huge_requests_return_null_record_the_failure_and_claim_nothing() {
    let a = make(Fail);
    for size in [usize::MAX, usize::MAX - 8, isize::MAX as usize, ARENA * 2] {
        assert!(c_alloc::malloc(a, size).is_null(), "{size}");
        let f = a.last_failure().unwrap();
        assert!(f.size >= size.min(isize::MAX as usize), "{size}: {f:?}");
    }
    assert_eq!(a.stats().failures, 4);
    assert_eq!(a.stats().in_use, 0);
}

#[test]
fn realloc_of_null_is_malloc_and_realloc_to_zero_keeps_a_minimal_block() {
    let a = make(Fail);
    // SAFETY: null, then live C blocks of `a`.
    unsafe {
        let p = c_alloc::realloc(a, std::ptr::null_mut(), 40).unwrap();
        assert!(!p.is_null());
        assert_eq!(a.stats().allocs, 1);
        p.write_bytes(0x5A, 40);
        let q = c_alloc::realloc(a, p, 4000).unwrap();
        assert!((0..40).all(|i| q.add(i).read() == 0x5A), "contents kept");
        let z = c_alloc::realloc(a, q, 0).unwrap();
        assert!(!z.is_null(), "wasi-libc's dlmalloc returns a minimal block");
        assert_eq!(c_alloc::malloc_usable_size(a, z), Ok(0));
        assert_eq!(a.stats().in_use, HEADER_SPACE);
        c_alloc::free(a, z).unwrap();
    }
    assert_eq!(a.stats().in_use, 0);
}

#[test]
fn a_failed_realloc_leaves_the_block_live_and_intact() {
    let a = make(Fail);
    // SAFETY: live C blocks of `a`.
    unsafe {
        let p = c_alloc::malloc(a, 64);
        p.write_bytes(0xC3, 64);
        assert!(c_alloc::realloc(a, p, ARENA * 4).unwrap().is_null());
        assert!(c_alloc::realloc(a, p, usize::MAX).unwrap().is_null());
        assert!((0..64).all(|i| p.add(i).read() == 0xC3));
        assert_eq!(c_alloc::malloc_usable_size(a, p), Ok(64));
        c_alloc::free(a, p).unwrap();
    }
    assert_eq!(a.stats().failures, 2);
}

#[test]
fn realloc_keeps_an_over_aligned_blocks_alignment() {
    let a = make(Signal::new());
    // SAFETY: live C blocks of `a`.
    unsafe {
        let p = c_alloc::aligned_alloc(a, 256, 8);
        let q = c_alloc::realloc(a, p, 20_000).unwrap();
        assert_eq!(q.addr() % 256, 0);
        c_alloc::free(a, q).unwrap();
    }
}

#[test]
fn invalid_alignments_are_rejected_as_c_specifies() {
    let a = make(Fail);
    for align in [0, 3, 24, 100] {
        assert!(c_alloc::aligned_alloc(a, align, 8).is_null(), "{align}");
    }
    let mut out = std::ptr::null_mut();
    for align in [0, 3, 24, size_of::<usize>() / 2] {
        // SAFETY: `out` is a local pointer.
        let code = unsafe { c_alloc::posix_memalign(a, &mut out, align, 8) };
        assert_eq!(code, Errno::Invalid.wasi(), "{align}");
        assert!(out.is_null(), "left alone");
    }
    // SAFETY: as above.
    let code = unsafe { c_alloc::posix_memalign(a, &mut out, 1 << 20, 8) };
    assert_eq!(code, Errno::NoMemory.wasi(), "beyond the arena");
    // SAFETY: as above.
    assert_eq!(unsafe { c_alloc::posix_memalign(a, &mut out, 64, 8) }, 0);
    assert_eq!(out.addr() % 64, 0);
    assert_eq!(a.stats().in_use, 8 + 64, "no block leaked by the refusals");
    // SAFETY: a live C block of `a`.
    unsafe { c_alloc::free(a, out).unwrap() };
}

#[test]
fn free_of_null_does_nothing() {
    let a = make(Fail);
    // SAFETY: null is always allowed.
    unsafe { c_alloc::free(a, std::ptr::null_mut()).unwrap() };
    assert_eq!(a.stats().frees, 0);
}

#[test]
fn a_second_free_of_a_block_is_caught_and_frees_nothing() {
    let a = make(Fail);
    let p = c_alloc::malloc(a, 32);
    let keep = c_alloc::malloc(a, 32); // so the freed block is not re-used
    // SAFETY: `p` is live the first time. The second call is the C mistake
    // under test: its header bytes are still readable arena memory.
    unsafe {
        c_alloc::free(a, p).unwrap();
        let frees = a.stats().frees;
        assert_eq!(c_alloc::free(a, p), Err(InvalidPointer(p)));
        assert_eq!(c_alloc::realloc(a, p, 8), Err(InvalidPointer(p)));
        assert_eq!(a.stats().frees, frees, "nothing freed twice");
        c_alloc::free(a, keep).unwrap();
    }
}

#[test]
fn pointers_the_family_did_not_hand_out_are_caught() {
    let a = make(Fail);
    let layout = Layout::from_size_align(256, 16).unwrap();
    // SAFETY: non-zero size; a Rust block, zeroed so its bytes are readable.
    let rust = unsafe { a.alloc_zeroed(layout) };
    let c = c_alloc::malloc(a, 64);
    // SAFETY: every pointer below points into live, readable blocks; none is
    // a C block (the mistakes under test).
    unsafe {
        assert!(c_alloc::free(a, rust.add(64)).is_err(), "a Rust block");
        assert!(c_alloc::free(a, c.add(16)).is_err(), "inside a C block");
        assert!(c_alloc::free(a, c.add(1)).is_err(), "misaligned");
        assert!(c_alloc::malloc_usable_size(a, rust.add(32)).is_err());
        assert_eq!(c_alloc::malloc_usable_size(a, c), Ok(64));
        c_alloc::free(a, c).unwrap();
        a.dealloc(rust, layout);
    }
    assert_eq!(a.stats().in_use, 0);
}

#[test]
fn a_pointer_a_moving_realloc_freed_is_refused_and_corrupts_nothing() {
    // The reported sequence: x, p, g = malloc(1000) x3; free(x); q = realloc(p,
    // 100000) moves; then free(p) must be refused, and with a live 100-byte
    // block in the freed gap a later malloc(1900) must not overlap it.
    let a = make(Signal::new());
    let x = c_alloc::malloc(a, 1000);
    let p = c_alloc::malloc(a, 1000);
    let g = c_alloc::malloc(a, 1000);
    assert!(!x.is_null() && !p.is_null() && !g.is_null());
    // SAFETY: `x` and `p` are live C blocks of `a`; `p`'s 1000 bytes are
    // written before the move.
    let q = unsafe {
        c_alloc::free(a, x).unwrap();
        p.write_bytes(0x5A, 1000);
        c_alloc::realloc(a, p, 100_000).unwrap()
    };
    assert!(!q.is_null());
    assert_ne!(q, p, "the block moved (the sequence needs a move)");
    // SAFETY: `p` was freed by the move but lies in the heap: the header
    // bytes below it are readable. The calls must refuse it.
    unsafe {
        assert_eq!(c_alloc::free(a, p), Err(InvalidPointer(p)));
        assert_eq!(c_alloc::realloc(a, p, 10), Err(InvalidPointer(p)));
        assert_eq!(c_alloc::malloc_usable_size(a, p), Err(InvalidPointer(p)));
    }
    // A live block in the gap, then a request that would take the gap again
    // had the stale free gone through.
    let small = c_alloc::malloc(a, 100);
    // SAFETY: `small` is a live 100-byte block.
    unsafe { small.write_bytes(0xC3, 100) };
    let big = c_alloc::malloc(a, 1900);
    assert!(!big.is_null());
    let overlap = |p: *mut u8, n: usize, q: *mut u8, m: usize| {
        p.addr() < q.addr() + m && q.addr() < p.addr() + n
    };
    assert!(
        !overlap(small, 100, big, 1900),
        "malloc(1900) overlaps a live block"
    );
    // SAFETY: `big` is a live 1900-byte block.
    unsafe { big.write_bytes(0x11, 1900) };
    // SAFETY: `small` and `q` are live blocks of 100 and 100 000 bytes.
    unsafe {
        assert!(
            (0..100).all(|i| *small.add(i) == 0xC3),
            "the live block was overwritten"
        );
        assert!(
            (0..1000).all(|i| *q.add(i) == 0x5A),
            "realloc kept the contents"
        );
        for b in [small, big, q, g] {
            c_alloc::free(a, b).unwrap();
        }
    }
    assert_eq!(a.stats().in_use, 0);
}

#[test]
fn of_two_threads_freeing_one_pointer_exactly_one_frees_it() {
    use std::sync::atomic::{AtomicPtr, AtomicUsize, Ordering::SeqCst};
    let a = make(Fail);
    let rounds: usize = if cfg!(miri) { 10 } else { 300 };
    // Round `r` publishes a fresh block in `BLOCK`; both threads spin until
    // they see the round, then free it at once. `DONE` counts the calls.
    static BLOCK: AtomicPtr<u8> = AtomicPtr::new(core::ptr::null_mut());
    static ROUND: AtomicUsize = AtomicUsize::new(0);
    static DONE: AtomicUsize = AtomicUsize::new(0);
    static FREED: AtomicUsize = AtomicUsize::new(0);
    std::thread::scope(|s| {
        for _ in 0..2 {
            s.spawn(|| {
                for r in 1..=rounds {
                    while ROUND.load(SeqCst) < r {
                        std::hint::spin_loop();
                    }
                    let p = BLOCK.load(SeqCst);
                    // SAFETY: `p` is a live C block of `a` until one of the
                    // two calls frees it; the other must be refused. Its
                    // header bytes stay readable (heap memory).
                    if unsafe { c_alloc::free(a, p) }.is_ok() {
                        FREED.fetch_add(1, SeqCst);
                    }
                    DONE.fetch_add(1, SeqCst);
                }
            });
        }
        for r in 1..=rounds {
            let p = c_alloc::malloc(a, 48);
            assert!(!p.is_null());
            BLOCK.store(p, SeqCst);
            ROUND.store(r, SeqCst);
            while DONE.load(SeqCst) < 2 * r {
                std::hint::spin_loop();
            }
            assert_eq!(
                FREED.load(SeqCst),
                r,
                "round {r}: both threads freed one block"
            );
        }
    });
    let s = a.stats();
    assert_eq!(
        (s.allocs as usize, s.frees as usize, s.in_use),
        (rounds, rounds, 0)
    );
}

// One heap for both families (`c_alloc::rust_alloc` and the others, what the
// global allocator runs on wasm32-wasip2 with `c-malloc`): blocks cross from
// one family to the other, and misuse is still caught.

/// Fills `n` bytes at `p` with a pattern from `seed`.
///
/// # Safety
///
/// `p..p + n` is writable.
unsafe fn fill(p: *mut u8, n: usize, seed: u8) {
    for i in 0..n {
        // SAFETY: forwarded from the caller.
        unsafe { p.add(i).write(seed.wrapping_add(i as u8)) };
    }
}

/// Whether `n` bytes at `p` hold the pattern of [`fill`] from `seed`.
///
/// # Safety
///
/// `p..p + n` is readable.
unsafe fn holds(p: *const u8, n: usize, seed: u8) -> bool {
    // SAFETY: forwarded from the caller.
    (0..n).all(|i| unsafe { p.add(i).read() } == seed.wrapping_add(i as u8))
}

#[test]
fn a_block_the_canonical_abi_allocated_is_freed_by_c_free() {
    // cabi_realloc (Rust's allocator) -> wasi-libc's free.
    let a = make(Fail);
    let p = c_alloc::rust_alloc(a, Layout::from_size_align(37, 1).unwrap(), false);
    assert!(!p.is_null());
    // SAFETY: `p` is a live 37-byte block of `a`, freed once.
    unsafe {
        fill(p, 37, 1);
        assert_eq!(c_alloc::malloc_usable_size(a, p), Ok(37));
        c_alloc::free(a, p).unwrap();
    }
    assert_eq!(a.stats().in_use, 0);
    assert_eq!(a.stats().allocs, a.stats().frees);
}

#[test]
fn a_block_c_malloc_allocated_is_freed_by_rust_dealloc() {
    let a = make(Fail);
    let p = c_alloc::malloc(a, 200);
    assert!(!p.is_null());
    // SAFETY: `p` is a live 200-byte block of `a`, freed once.
    unsafe {
        fill(p, 200, 2);
        c_alloc::rust_dealloc(a, p).unwrap();
    }
    assert_eq!(a.stats().in_use, 0);
}

#[test]
fn realloc_across_the_families_keeps_the_contents_and_leaks_nothing() {
    let a = make(Fail);
    let layout = Layout::from_size_align(24, 4).unwrap();
    let p = c_alloc::rust_alloc(a, layout, false);
    // SAFETY: each pointer is the live block the previous call returned,
    // used within its size and freed once at the end.
    unsafe {
        fill(p, 24, 3);
        // C grows a Rust block (moves it: 24 -> 5000 bytes).
        let q = c_alloc::realloc(a, p, 5000).unwrap();
        assert!(!q.is_null() && holds(q, 24, 3));
        fill(q, 5000, 4);
        // Rust shrinks the C block.
        let r =
            c_alloc::rust_realloc(a, q, Layout::from_size_align(5000, 1).unwrap(), 100).unwrap();
        assert!(!r.is_null() && holds(r, 100, 4));
        // And grows it again, then C frees it.
        let s =
            c_alloc::rust_realloc(a, r, Layout::from_size_align(100, 1).unwrap(), 9000).unwrap();
        assert!(!s.is_null() && holds(s, 100, 4));
        assert_eq!(c_alloc::malloc_usable_size(a, s), Ok(9000));
        c_alloc::free(a, s).unwrap();
    }
    assert_eq!(a.stats().in_use, 0);
}

#[test]
fn zero_size_blocks_cross_too() {
    let a = make(Fail);
    let c = c_alloc::malloc(a, 0);
    let r = c_alloc::rust_alloc(a, Layout::from_size_align(0, 8).unwrap(), true);
    assert!(!c.is_null() && !r.is_null() && c != r);
    // SAFETY: live blocks of `a`, each freed once.
    unsafe {
        assert_eq!(c_alloc::malloc_usable_size(a, r), Ok(0));
        c_alloc::rust_dealloc(a, c).unwrap();
        c_alloc::free(a, r).unwrap();
    }
    assert_eq!(a.stats().in_use, 0);
}

#[test]
fn big_alignments_hold_across_the_families() {
    let a = make(Signal::new());
    let p = c_alloc::rust_alloc(a, Layout::from_size_align(100, 4096).unwrap(), true);
    assert_eq!(p.addr() % 4096, 0);
    // SAFETY: each pointer is the live block the previous call returned,
    // used within its size and freed once.
    unsafe {
        assert!(holds(p, 0, 0) && (0..100).all(|i| *p.add(i) == 0), "zeroed");
        // C realloc keeps the block's own alignment.
        let q = c_alloc::realloc(a, p, 20_000).unwrap();
        assert_eq!(q.addr() % 4096, 0);
        c_alloc::free(a, q).unwrap();
        // A C block (16-aligned) that Rust resizes with a stricter alignment
        // moves to a block that has it; the old pointer is retired.
        let c = c_alloc::malloc(a, 48);
        fill(c, 48, 5);
        let layout = Layout::from_size_align(48, 256).unwrap();
        let r = c_alloc::rust_realloc(a, c, layout, 64).unwrap();
        assert_eq!(r.addr() % 256, 0);
        assert!(holds(r, 48, 5));
        if r != c {
            assert_eq!(c_alloc::free(a, c), Err(InvalidPointer(c)));
        }
        c_alloc::rust_dealloc(a, r).unwrap();
    }
    assert_eq!(a.stats().in_use, 0);
}

#[test]
fn rust_dealloc_refuses_pointers_nogrow_never_handed_out_and_second_frees() {
    let a = make(Fail);
    let p = c_alloc::rust_alloc(a, Layout::from_size_align(256, 16).unwrap(), true);
    // A block of user data shaped like a header below a pointer into it: a
    // header's check word binds it to its address, size and alignment, and
    // user bytes sit inside a live block, never where its header is.
    let mut own = [0usize; 16];
    let inside = own.as_mut_ptr().wrapping_add(8).cast::<u8>();
    // SAFETY: the pointers below are readable memory (inside `p`'s block, or
    // `own`); none is a live block of `a` (the mistakes under test), except
    // `p`, freed once.
    unsafe {
        assert!(
            c_alloc::rust_dealloc(a, p.add(64)).is_err(),
            "inside a block"
        );
        assert!(c_alloc::rust_dealloc(a, p.add(1)).is_err(), "misaligned");
        if inside.addr() % MALLOC_ALIGN == 0 {
            assert!(c_alloc::rust_dealloc(a, inside).is_err(), "a stack array");
        }
        assert!(c_alloc::rust_dealloc(a, core::ptr::null_mut()).is_err());
        c_alloc::rust_dealloc(a, p).unwrap();
        assert_eq!(c_alloc::rust_dealloc(a, p), Err(InvalidPointer(p)));
        assert_eq!(c_alloc::free(a, p), Err(InvalidPointer(p)));
        assert!(c_alloc::rust_realloc(a, p, Layout::new::<u64>(), 64).is_err());
    }
    assert_eq!(a.stats().in_use, 0);
}

#[test]
fn a_pointer_a_moving_realloc_freed_is_refused_by_the_other_family() {
    let a = make(Signal::new());
    let layout = Layout::from_size_align(64, 8).unwrap();
    let p = c_alloc::rust_alloc(a, layout, false);
    let fence = c_alloc::malloc(a, 64); // keeps `p` from growing in place
    // SAFETY: `p` and `fence` are live blocks; after each move only the new
    // pointer is used, the old one only handed to calls that must refuse it.
    unsafe {
        let q = c_alloc::realloc(a, p, 50_000).unwrap();
        assert_ne!(q, p, "the block moved");
        assert_eq!(c_alloc::rust_dealloc(a, p), Err(InvalidPointer(p)));
        assert!(c_alloc::rust_realloc(a, p, layout, 10).is_err());
        let r = c_alloc::rust_realloc(a, q, Layout::from_size_align(50_000, 8).unwrap(), 120_000)
            .unwrap();
        assert!(!r.is_null());
        assert_ne!(r, q, "the block moved again");
        assert_eq!(c_alloc::free(a, q), Err(InvalidPointer(q)));
        c_alloc::free(a, r).unwrap();
        c_alloc::rust_dealloc(a, fence).unwrap();
    }
    assert_eq!(a.stats().in_use, 0);
}
