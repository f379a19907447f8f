//! The heap's high-water mark (`Nogrow::high_water`, feature `sizing`): the
//! end of the highest block ever handed out, from the arena's start, through
//! every path that hands out a block. Runs under `cargo test` and under Miri.
#![cfg(not(target_arch = "wasm32"))]

#[path = "common/regions.rs"]
#[allow(dead_code)]
mod regions;
use regions::TALC_OVERSHOOT_PAD;

use std::alloc::{GlobalAlloc, Layout};

use nogrow::{Arena, Fail, Nogrow, SliceMemory, State};

const ARENA: usize = 64 << 10;

fn make() -> &'static Nogrow<Fail, SliceMemory> {
    let arena_mem: &'static mut [u8] = vec![0u8; ARENA + TALC_OVERSHOOT_PAD].leak();
    let state: &'static State = Box::leak(Box::new(State::new()));
    // SAFETY: the region is leaked, so it lives for the program and nothing
    // else can name it; the memory has no pages of its own.
    let (arena, memory) = unsafe {
        (
            Arena::from_raw(arena_mem.as_mut_ptr(), ARENA),
            SliceMemory::new(core::ptr::NonNull::dangling().as_ptr(), 0, 0),
        )
    };
    Box::leak(Box::new(Nogrow::new(arena, Fail, memory, state)))
}

/// `ptr + size` as bytes from the arena's start.
fn end(a: &Nogrow<Fail, SliceMemory>, ptr: *mut u8, size: usize) -> usize {
    ptr.addr() + size - a.static_arena().0.addr()
}

fn layout(size: usize) -> Layout {
    Layout::from_size_align(size, 8).unwrap()
}

#[test]
fn the_mark_is_the_end_of_the_highest_block_and_never_falls() {
    let a = make();
    assert_eq!(a.high_water(), 0, "nothing handed out yet");
    // SAFETY: non-zero sizes; each block is freed once, with its layout.
    unsafe {
        let x = a.alloc(layout(1000));
        let y = a.alloc(layout(3000));
        assert!(!x.is_null() && !y.is_null());
        let highest = end(a, x, 1000).max(end(a, y, 3000));
        assert_eq!(a.high_water(), highest);
        assert!((4000..ARENA).contains(&highest), "{highest}");

        // Freeing lowers what is in use, not the mark.
        a.dealloc(y, layout(3000));
        a.dealloc(x, layout(1000));
        assert_eq!(a.high_water(), highest);
        assert_eq!(a.stats().in_use, 0);

        // A small block parked in the cache and taken again, and a block that
        // fits below the mark, leave it where it is.
        let small = a.alloc(layout(24));
        a.dealloc(small, layout(24));
        let again = a.alloc(layout(24));
        assert_eq!(again, small, "the cache hands the parked block back");
        assert_eq!(a.high_water(), highest.max(end(a, again, 24)));
        a.dealloc(again, layout(24));

        // A failed request does not move it.
        let before = a.high_water();
        assert!(a.alloc(layout(2 * ARENA)).is_null());
        assert_eq!(a.high_water(), before);
    }
}

#[test]
fn realloc_raises_the_mark_in_place_and_when_it_moves() {
    let a = make();
    // SAFETY: non-zero sizes; every block is used with the layout it has.
    unsafe {
        let x = a.alloc(layout(100));
        let grown = a.realloc(x, layout(100), 5000);
        assert!(!grown.is_null());
        assert_eq!(a.high_water(), end(a, grown, 5000));

        // Pin a block above, so the next growth must move.
        let above = a.alloc(layout(64));
        let mark = a.high_water();
        let moved = a.realloc(grown, layout(5000), 20_000);
        assert!(!moved.is_null());
        assert_eq!(
            a.high_water(),
            end(a, moved, 20_000).max(end(a, above, 64)).max(mark)
        );
        a.dealloc(moved, layout(20_000));
        a.dealloc(above, layout(64));
    }
}

#[test]
fn a_block_from_the_cache_raises_the_mark_by_its_new_size() {
    let a = make();
    // SAFETY: non-zero sizes; every block is freed once, with its layout.
    unsafe {
        let low = a.alloc(layout(1000));
        let top = a.alloc(layout(17));
        assert!(top > low, "talc hands out from the low end");
        assert_eq!(a.high_water(), end(a, top, 17));
        a.dealloc(top, layout(17));
        // The same small-block class: the parked block comes back, longer.
        let again = a.alloc(layout(24));
        assert_eq!(again, top);
        assert_eq!(a.high_water(), end(a, again, 24));
        a.dealloc(again, layout(24));
        a.dealloc(low, layout(1000));
    }
}
