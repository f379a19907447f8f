//! A front cache of freed small blocks: one free list per talc chunk size,
//! so small objects freed and allocated again (a `format!` in a loop, a
//! batch of nodes built and dropped) skip talc's bins and its coalescing.
//!
//! Blocks are grouped by talc's chunk size, so a request of a class fits any
//! parked block of it exactly as talc would have sized it, and a block can
//! always be handed back to talc with a size of its class. A parked block's
//! first word links it to the next of its class. The lists are unbounded
//! but cost no capacity: the memory source empties them into talc (where
//! the blocks coalesce) before it lets a policy fail or grow (see
//! `HeapSource::acquire`), so an allocation fails or grows only when it
//! would have without the cache.
use core::{alloc::Layout, mem::size_of, ptr::null_mut};

use talc::base::CHUNK_UNIT;

/// Number of size classes: chunks of 1..=CLASSES units (16..1024 bytes on
/// wasm32, i.e. requests up to 1020 bytes).
pub(crate) const CLASSES: usize = 64;

/// talc's per-chunk tag, after the allocation. talc keeps its size private:
/// the tests check the classes against the chunks talc really allocates.
const TAIL: usize = size_of::<usize>();

/// The head of each class's list of parked blocks (null: empty).
///
/// The key is computed with arithmetic for every request (no branch on "is
/// this a small block?", which mispredicts half the time with random sizes)
/// and bounds-checked once as the index of the list.
#[derive(Debug)]
pub(crate) struct SmallCache {
    heads: [*mut u8; CLASSES],
}

const EMPTY: usize = usize::MAX;

impl SmallCache {
    pub(crate) const fn new() -> Self {
        Self {
            heads: [null_mut(); CLASSES],
        }
    }

    /// The key of a request: talc's chunk size in units, minus one (below
    /// [`CLASSES`] for cacheable requests); `EMPTY - 1`, which indexes no
    /// list, for alignments above a chunk unit (talc may place those inside
    /// a larger chunk).
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
    #[cfg(test)]
    pub(crate) fn class(layout: Layout) -> Option<usize> {
        Some(Self::key(layout)).filter(|&k| k < CLASSES)
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

    /// Takes a parked block of `key`'s class, if any.
    #[inline(always)]
    pub(crate) fn take(&mut self, key: usize) -> Option<*mut u8> {
        let head = *self.heads.get(key)?;
        if head.is_null() {
            return None;
        }
        // SAFETY: every block on a list was given to `park`, whose contract
        // makes it the cache's: a chunk-aligned block of at least a chunk
        // unit whose first word `park` set to the next link.
        self.heads[key] = unsafe { head.cast::<*mut u8>().read() };
        Some(head)
    }

    /// Parks the freed block `ptr` with `key` if it is small (on its class's
    /// list); otherwise returns `false` and the caller frees it to talc.
    ///
    /// # Safety
    ///
    /// When `key` is below [`CLASSES`] (a small block, which this parks),
    /// `ptr` is a live talc block of the heap this cache serves, allocated
    /// for a layout whose key is `key`, that its owner gives up: from then on
    /// the cache owns it. Other keys park nothing, whatever `ptr` is.
    #[inline(always)]
    pub(crate) unsafe fn park(&mut self, key: usize, ptr: *mut u8) -> bool {
        let Some(head) = self.heads.get_mut(key) else {
            return false;
        };
        // SAFETY: the caller gives up `ptr`, a talc block of this class (the
        // key indexed a list, so it is small and at most chunk-aligned): at
        // least a chunk unit, which talc places on a chunk boundary, so its
        // first word is writable and aligned for the link.
        unsafe { ptr.cast::<*mut u8>().write(*head) };
        *head = ptr;
        true
    }

    /// Takes one parked block, with its class, if any is parked (emptying
    /// the cache is calling this until it returns `None`).
    pub(crate) fn drain(&mut self) -> Option<(*mut u8, usize)> {
        let class = self.heads.iter().position(|h| !h.is_null())?;
        let block = self.take(class)?;
        Some((block, class))
    }
}

#[cfg(test)]
pub(crate) mod tests {
    //! The class arithmetic checked against the chunks the real talc (the
    //! exact version nogrow pins) allocates, measured in heaps of test memory.

    extern crate std;

    use core::ptr::NonNull;
    use std::alloc::{alloc, dealloc};

    use talc::{base::Talc, source::Manual};

    use crate::binning::Compact;

    use super::*;
    use crate::memory::PAGE_SIZE;

    /// A talc configured as nogrow's: the same binning and, like nogrow's
    /// source, no heap-end tracking. Its source never adds memory.
    pub(crate) type TestTalc = Talc<Manual, Compact>;

    /// Memory for fresh talc instances: a block for talc's metadata and a
    /// page-aligned region of `len` bytes for the heaps under test. A heap
    /// claimed in the region holds no metadata, like the heaps growth adds.
    pub(crate) struct TalcMemory {
        meta: *mut u8,
        region: *mut u8,
        len: usize,
    }

    impl TalcMemory {
        fn meta_layout() -> Layout {
            let least = talc::min_first_heap_layout::<Compact>();
            // Chunk-aligned, the block leaves no free memory beside talc's
            // metadata (`with_talc` checks), so every block comes from the
            // heap under test.
            least.align_to(CHUNK_UNIT).unwrap()
        }

        fn region_layout(len: usize) -> Layout {
            Layout::from_size_align(len, PAGE_SIZE).unwrap()
        }

        pub(crate) fn new(len: usize) -> Self {
            // SAFETY: both layouts have non-zero sizes.
            let (meta, region) =
                unsafe { (alloc(Self::meta_layout()), alloc(Self::region_layout(len))) };
            assert!(!meta.is_null() && !region.is_null(), "test memory");
            let mut memory = Self { meta, region, len };
            memory.with_talc(|talc, _, _| {
                // SAFETY: non-zero size.
                let spare = unsafe { talc.allocate(Layout::new::<u8>()) };
                assert!(spare.is_none(), "the metadata block leaves no free memory");
            });
            memory
        }

        /// Runs `f` on a new talc that holds its metadata and no heap yet,
        /// with the region's base (page-aligned) and length.
        pub(crate) fn with_talc<R>(
            &mut self,
            f: impl FnOnce(&mut TestTalc, *mut u8, usize) -> R,
        ) -> R {
            let mut talc = TestTalc::new(Manual);
            // SAFETY: the metadata block is this memory's alone; `&mut self`
            // keeps any other talc off it while this one lives (until the end
            // of this call; a talc has no `Drop`).
            unsafe { talc.claim(self.meta, Self::meta_layout().size()) }
                .expect("talc takes its metadata block");
            f(&mut talc, self.region, self.len)
        }

        /// Bytes of the heap [`with_heap`](Self::with_heap) claims: the first
        /// half of the region. talc 5.1.1 computes where a candidate block
        /// would end (`full_search_bin`: `aligned_base.add(required_size)`)
        /// before it compares that with the end of the free gap, so a request
        /// too large for the heap makes a pointer past the heap's end; with
        /// the rest of the region above the heap, it stays in bounds.
        pub(crate) fn heap_len(&self) -> usize {
            self.len / 2
        }

        /// Runs `f` on a new talc whose one heap is the first
        /// [`heap_len`](Self::heap_len) bytes of the region.
        pub(crate) fn with_heap<R>(&mut self, f: impl FnOnce(&mut TestTalc) -> R) -> R {
            let heap_len = self.heap_len();
            self.with_talc(|talc, region, _| {
                // SAFETY: the region is this memory's alone, and no other talc
                // uses it while this one lives (see `with_talc`).
                unsafe { talc.claim(region, heap_len) }.expect("talc claims the heap");
                f(talc)
            })
        }
    }

    impl Drop for TalcMemory {
        fn drop(&mut self) {
            // SAFETY: both blocks were allocated in `new` with these layouts,
            // and no talc uses them any more (`with_talc` has returned).
            unsafe {
                dealloc(self.meta, Self::meta_layout());
                dealloc(self.region, Self::region_layout(self.len));
            }
        }
    }

    /// Allocates `layout` in `talc`'s fresh heap between two one-byte blocks
    /// (one allocated right before it, one right after); returns the blocks
    /// `[before, block, after]` and the chunk talc gave `layout`: the distance
    /// from its block to the next block above it. talc 5.1.1 carves a request
    /// from the low end of a free gap (`Talc::try_allocate`: the block starts
    /// at the gap's base and the rest stays free above it), so the later
    /// one-byte block is the next one up; an allocator carving from the high
    /// end would put the earlier one there. Taking the nearest block above
    /// works for both.
    fn allocate_between(talc: &mut TestTalc, layout: Layout) -> ([NonNull<u8>; 3], usize) {
        let byte = Layout::new::<u8>();
        // SAFETY: all three layouts have non-zero sizes.
        let blocks = unsafe {
            [
                talc.allocate(byte),
                talc.allocate(layout),
                talc.allocate(byte),
            ]
        }
        .map(|b| b.expect("talc serves the request"));
        let [before, block, after] = blocks.map(|b| b.addr().get());
        let above = [before, after]
            .into_iter()
            .filter(|&a| a > block)
            .min()
            .expect("a one-byte block above the request");
        let chunk = above - block;
        assert_eq!(block % CHUNK_UNIT, 0, "{layout:?}: block not chunk-aligned");
        assert_eq!(chunk % CHUNK_UNIT, 0, "{layout:?}: chunk of {chunk} bytes");
        assert!(chunk >= layout.size(), "{layout:?}: chunk of {chunk} bytes");
        (blocks, chunk)
    }

    /// The chunk talc gives `layout` in a fresh heap (see [`allocate_between`]).
    fn measured_chunk(memory: &mut TalcMemory, layout: Layout) -> usize {
        memory.with_heap(|talc| allocate_between(talc, layout).1)
    }

    /// The largest request a fresh heap of [`TalcMemory::with_heap`] serves.
    fn whole_heap(memory: &mut TalcMemory) -> usize {
        let fits = |memory: &mut TalcMemory, size: usize| {
            let layout = Layout::from_size_align(size, 1).unwrap();
            // SAFETY: `size` is at least 1.
            memory.with_heap(|talc| unsafe { talc.allocate(layout) }.is_some())
        };
        let (mut fits_in, mut too_big) = (1, memory.heap_len() + 1);
        assert!(fits(memory, fits_in));
        while too_big - fits_in > 1 {
            let mid = fits_in + (too_big - fits_in) / 2;
            if fits(memory, mid) {
                fits_in = mid;
            } else {
                too_big = mid;
            }
        }
        fits_in
    }

    /// Request sizes from 1 byte to a few chunk units past the largest class.
    /// Under Miri, the sizes on either side of every class boundary (the
    /// last size of each chunk size and the first of the next).
    fn small_sizes() -> impl Iterator<Item = usize> {
        (1..=(CLASSES + 4) * CHUNK_UNIT).filter(|&size| {
            let offset = (size + TAIL) % CHUNK_UNIT;
            !cfg!(miri) || size == 1 || offset <= 1
        })
    }

    /// Alignments up to a chunk unit (every power of two; under Miri, the
    /// smallest and the largest).
    fn small_aligns() -> impl Iterator<Item = usize> {
        (0..=CHUNK_UNIT.trailing_zeros())
            .map(|shift| 1 << shift)
            .filter(|&align| !cfg!(miri) || align == 1 || align == CHUNK_UNIT)
    }

    #[test]
    fn classes_are_the_chunk_sizes_talc_allocates() {
        let mut memory = TalcMemory::new(PAGE_SIZE);
        let whole = Layout::from_size_align(whole_heap(&mut memory), 1).unwrap();
        let class_chunks: [usize; CLASSES] =
            core::array::from_fn(|c| measured_chunk(&mut memory, SmallCache::class_layout(c)));
        for size in small_sizes() {
            for align in small_aligns() {
                let layout = Layout::from_size_align(size, align).unwrap();
                let class = SmallCache::class(layout);
                memory.with_heap(|talc| {
                    let ([before, block, after], chunk) = allocate_between(talc, layout);
                    let Some(c) = class else {
                        assert!(
                            chunk > CLASSES * CHUNK_UNIT,
                            "{layout:?} is not cached, but talc gives it a {chunk}-byte chunk"
                        );
                        return;
                    };
                    assert_eq!(
                        (c + 1) * CHUNK_UNIT,
                        chunk,
                        "{layout:?} has class {c}, but talc gives it a {chunk}-byte chunk"
                    );
                    assert_eq!(
                        class_chunks[c],
                        chunk,
                        "class {c}'s size {} gets another chunk than {layout:?}",
                        SmallCache::class_size(c)
                    );
                    let byte = Layout::new::<u8>();
                    // SAFETY: the blocks are live talc allocations of these
                    // layouts, except that `block` is freed with the layout
                    // the cache frees parked blocks with, which the asserts
                    // above showed has the same talc chunk. It is written
                    // first, as its owner would have.
                    unsafe {
                        block.as_ptr().write_bytes(0, size);
                        talc.deallocate(block.as_ptr(), SmallCache::class_layout(c));
                        talc.deallocate(before.as_ptr(), byte);
                        talc.deallocate(after.as_ptr(), byte);
                    }
                    // SAFETY: non-zero size.
                    let all = unsafe { talc.allocate(whole) };
                    assert!(
                        all.is_some(),
                        "{layout:?} freed as class {c}: the heap is no longer whole"
                    );
                });
            }
        }
    }

    #[test]
    fn talc_chunk_aligns_blocks_so_any_block_of_a_class_fits_its_requests() {
        // Every cached request (alignment up to a chunk unit) may get any
        // parked block of its class: talc places small-aligned blocks on
        // chunk boundaries (`measured_chunk` asserts it for each).
        let mut memory = TalcMemory::new(PAGE_SIZE);
        for class in 0..CLASSES {
            let size = SmallCache::class_size(class);
            for align in small_aligns() {
                let layout = Layout::from_size_align(size, align).unwrap();
                assert_eq!(SmallCache::class(layout), Some(class), "{layout:?}");
                assert_eq!(
                    measured_chunk(&mut memory, layout),
                    (class + 1) * CHUNK_UNIT
                );
            }
        }
    }

    #[test]
    fn alignments_above_a_chunk_unit_are_never_cached() {
        let sizes = [1, CHUNK_UNIT, SmallCache::class_size(CLASSES - 1), 4096];
        let mut align = 2 * CHUNK_UNIT;
        while align <= PAGE_SIZE {
            for size in sizes {
                let layout = Layout::from_size_align(size, align).unwrap();
                let key = SmallCache::key(layout);
                assert_eq!(key, EMPTY - 1, "{layout:?}");
                assert_eq!(SmallCache::class(layout), None, "{layout:?}");
                let mut cache = SmallCache::new();
                // SAFETY: the key is not below `CLASSES`: nothing is parked.
                let parked = unsafe { cache.park(key, core::ptr::null_mut()) };
                assert!(!parked, "{layout:?} parked");
                assert_eq!(cache.take(key), None, "{layout:?} served");
            }
            align *= 2;
        }
        let chunk_aligned = Layout::from_size_align(8, CHUNK_UNIT).unwrap();
        assert_eq!(SmallCache::class(chunk_aligned), Some(0));
    }

    #[test]
    fn each_class_keeps_its_freed_blocks_last_in_first_out_and_gives_them_only_to_it() {
        // Blocks as talc would hand them out: a chunk unit or more, aligned to one.
        #[repr(C, align(32))]
        struct Chunk([u8; 2 * CHUNK_UNIT]);
        let mut chunks: [Chunk; 4] = core::array::from_fn(|_| Chunk([0; 2 * CHUNK_UNIT]));
        let [a, b, x, y] = chunks.each_mut().map(|c| c.0.as_mut_ptr());
        fn park(c: &mut SmallCache, key: usize, block: *mut u8) -> bool {
            // SAFETY: the blocks are this test's chunks, aligned and sized as
            // talc's blocks of these classes, and nothing else uses one while
            // it is parked.
            unsafe { c.park(key, block) }
        }
        let key = |size| SmallCache::key(Layout::from_size_align(size, 8).unwrap());
        let (small, other) = (key(20), key(200));
        let mut c = SmallCache::new();
        assert_eq!(c.take(small), None, "empty");
        assert!(park(&mut c, small, a) && park(&mut c, small, b) && park(&mut c, other, x));
        assert_eq!(c.take(other), Some(x));
        assert_eq!(
            c.take(other),
            None,
            "another class does not get a block of this one"
        );
        assert_eq!(c.take(small), Some(b), "last in, first out");
        assert!(park(&mut c, small, b) && park(&mut c, other, y));
        let mut drained = std::vec::Vec::new();
        while let Some(parked) = c.drain() {
            drained.push(parked);
        }
        let class = |size| SmallCache::class(Layout::from_size_align(size, 8).unwrap()).unwrap();
        assert_eq!(drained, [(b, class(20)), (a, class(20)), (y, class(200))]);
        assert_eq!(c.take(small), None, "drained");
        let largest = SmallCache::class_size(CLASSES - 1);
        assert!(
            !park(&mut c, key(largest + CHUNK_UNIT), a),
            "large blocks are not cached"
        );
        assert!(park(&mut c, key(largest), a), "the largest class is");
        assert_eq!(c.take(EMPTY - 1), None, "over-aligned requests never match");
    }
}
