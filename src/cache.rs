//! A one-block front cache: the small block freed last, kept for the next
//! request of its size class, so the hot path of small objects (free, then
//! allocate the same size again) skips talc's bins.
//!
//! One block at most: a cache that pins many freed blocks keeps talc from
//! coalescing freed neighbours and slows batch workloads down (measured:
//! LIFO/FIFO batches at 0.57× bare talc with per-class lists). Blocks are
//! grouped by talc's chunk size, so a request of a class fits the parked block
//! exactly as talc would have sized it, and the block can always be handed
//! back to talc with a size of its class. The memory source empties the cache
//! into talc before it lets a policy fail or grow (see `Heap::acquire`).

use core::{alloc::Layout, mem::size_of, ptr::null_mut};

use talc::base::CHUNK_UNIT;

/// Number of size classes: chunks of 1..=CLASSES units (16..256 bytes on
/// wasm32, i.e. requests up to 252 bytes).
pub(crate) const CLASSES: usize = 16;

/// talc's per-chunk tag, after the allocation.
const TAIL: usize = size_of::<usize>();

/// The parked block and its class key (`EMPTY`: none).
///
/// The paths are written for the branch predictor: with random sizes, a
/// branch on "is this a small block?" mispredicts half the time (measured:
/// +7 ns per operation in LIFO batches). Instead the key is computed with
/// arithmetic for every request and compared once with the parked key.
#[derive(Debug)]
pub(crate) struct SmallCache {
    block: *mut u8,
    key: usize,
}

/// The key of an empty cache; no request has it.
const EMPTY: usize = usize::MAX;

impl SmallCache {
    pub(crate) const fn new() -> Self {
        Self {
            block: null_mut(),
            key: EMPTY,
        }
    }

    /// The key of a request: talc's chunk size in units, minus one (below
    /// [`CLASSES`] for cacheable requests); `EMPTY - 1` for alignments above a
    /// chunk unit (talc may place those inside a larger chunk).
    #[inline(always)]
    pub(crate) fn key(layout: Layout) -> usize {
        // `size <= isize::MAX` and `size >= 1`: no overflow, no underflow.
        let class = (layout.size() + TAIL - 1) / CHUNK_UNIT;
        if layout.align() > CHUNK_UNIT {
            EMPTY - 1
        } else {
            class
        }
    }

    /// The class of `layout`, if blocks of that layout are cached.
    #[inline(always)]
    pub(crate) fn class(layout: Layout) -> Option<usize> {
        Some(Self::key(layout)).filter(|&k| k < CLASSES)
    }

    /// [`class`](Self::class) of a size and alignment (`size` at most `isize::MAX`).
    #[inline(always)]
    pub(crate) fn class_of(size: usize, align: usize) -> Option<usize> {
        Layout::from_size_align(size, align)
            .ok()
            .and_then(Self::class)
    }

    /// A request size whose talc chunk is exactly the chunk of `class`.
    pub(crate) const fn class_size(class: usize) -> usize {
        (class + 1) * CHUNK_UNIT - TAIL
    }

    /// The layout a parked block of `class` is handed back to talc with.
    pub(crate) const fn class_layout(class: usize) -> Layout {
        // SAFETY: align 1 is a power of two; the size is far below isize::MAX.
        unsafe { Layout::from_size_align_unchecked(Self::class_size(class), 1) }
    }

    /// Takes the parked block if it has `key` (see [`key`](Self::key)).
    #[inline(always)]
    pub(crate) fn take(&mut self, key: usize) -> Option<*mut u8> {
        if self.key != key {
            return None;
        }
        self.key = EMPTY;
        Some(self.block)
    }

    /// Parks the freed block `ptr` with `key` if the slot is empty and the
    /// block is small; otherwise returns `false` and the caller frees it to
    /// talc. (A parked block stays until a request of its class or until the
    /// memory source empties the cache, so at most one block is pinned.)
    #[inline(always)]
    pub(crate) fn park(&mut self, key: usize, ptr: *mut u8) -> bool {
        if self.key != EMPTY || key >= CLASSES {
            return false;
        }
        self.key = key;
        self.block = ptr;
        true
    }

    /// Empties the cache: the parked block, if any, with its class.
    pub(crate) fn drain(&mut self) -> Option<(*mut u8, usize)> {
        let key = core::mem::replace(&mut self.key, EMPTY);
        (key != EMPTY).then_some((self.block, key))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn required_chunk(size: usize) -> usize {
        (size + TAIL + CHUNK_UNIT - 1) & !(CHUNK_UNIT - 1)
    }

    #[test]
    fn every_size_of_a_class_has_the_same_talc_chunk() {
        for size in 1..=CLASSES * CHUNK_UNIT + 64 {
            let layout = Layout::from_size_align(size, 1).unwrap();
            match SmallCache::class(layout) {
                Some(c) => {
                    assert_eq!(
                        required_chunk(size),
                        required_chunk(SmallCache::class_size(c))
                    );
                    assert_eq!(required_chunk(size), (c + 1) * CHUNK_UNIT);
                }
                None => assert!(required_chunk(size) > CLASSES * CHUNK_UNIT, "{size}"),
            }
        }
    }

    #[test]
    fn large_alignments_are_not_cached() {
        let layout = Layout::from_size_align(8, CHUNK_UNIT * 2).unwrap();
        assert_eq!(SmallCache::class(layout), None);
        let layout = Layout::from_size_align(8, CHUNK_UNIT).unwrap();
        assert_eq!(SmallCache::class(layout), Some(0));
    }

    #[test]
    fn the_cache_holds_one_small_block_and_gives_it_only_to_its_class() {
        let mut c = SmallCache::new();
        let (a, b) = (
            core::ptr::without_provenance_mut(0x1000),
            core::ptr::without_provenance_mut(0x2000),
        );
        let small = |size| SmallCache::key(Layout::from_size_align(size, 8).unwrap());
        assert!(c.park(small(20), a));
        assert_eq!(
            c.take(small(20)),
            Some(a),
            "free then allocate of one class: a hit"
        );
        assert!(c.park(small(20), a));
        assert_eq!(c.take(small(200)), None, "another class does not get it");
        assert!(!c.park(small(200), b), "one block at most");
        assert_eq!(
            c.drain(),
            Some((
                a,
                SmallCache::class(Layout::from_size_align(20, 8).unwrap()).unwrap()
            ))
        );
        assert_eq!(c.drain(), None);
        assert!(!c.park(small(4000), b), "large blocks are not cached");
        assert_eq!(c.take(EMPTY - 1), None, "over-aligned requests never match");
    }
}
