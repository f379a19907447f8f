//! A front cache of freed small blocks, so that the hot path of small
//! objects (free then allocate the same size) skips talc's bins.
//!
//! Blocks are grouped by talc's chunk size, so any request of a class fits any
//! block of that class exactly as talc would have sized it, and a block can
//! always be handed back to talc with a size of its class. The cache is
//! unbounded but never costs memory: the memory source empties it into talc
//! before it lets a policy fail or grow (see `Heap::acquire`).

use core::{alloc::Layout, mem::size_of, ptr::null_mut};

use talc::base::CHUNK_UNIT;

/// Number of cached classes: chunks of 1..=CLASSES units (16..128 bytes on
/// wasm32, i.e. requests up to 124 bytes).
pub(crate) const CLASSES: usize = 8;

/// talc's per-chunk tag, after the allocation.
const TAIL: usize = size_of::<usize>();

/// Heads of singly linked free lists, one per class. The link lives in the
/// first word of each free block.
#[derive(Debug)]
pub(crate) struct SmallCache {
    heads: [*mut u8; CLASSES],
}

impl SmallCache {
    pub(crate) const fn new() -> Self {
        Self {
            heads: [null_mut(); CLASSES],
        }
    }

    /// The class of `layout`, if blocks of that layout are cached: talc's
    /// chunk size in units, minus one. Alignments above a chunk unit are not
    /// cached (talc may place those blocks inside a larger chunk).
    #[inline(always)]
    pub(crate) fn class(layout: Layout) -> Option<usize> {
        Self::class_of(layout.size(), layout.align())
    }

    /// [`class`](Self::class) of a size and alignment (`size` at most `isize::MAX`).
    #[inline(always)]
    pub(crate) fn class_of(size: usize, align: usize) -> Option<usize> {
        if align > CHUNK_UNIT || size == 0 {
            return None;
        }
        let class = (size + TAIL - 1) / CHUNK_UNIT;
        (class < CLASSES).then_some(class)
    }

    /// A request size whose talc chunk is exactly the chunk of `class`.
    pub(crate) const fn class_size(class: usize) -> usize {
        (class + 1) * CHUNK_UNIT - TAIL
    }

    /// Takes a cached block of `class`.
    #[inline(always)]
    pub(crate) fn pop(&mut self, class: usize) -> Option<*mut u8> {
        let head = *self.heads.get(class)?;
        if head.is_null() {
            return None;
        }
        // SAFETY: `head` is a free block pushed by `push`, whose first word
        // holds the next link; blocks are at least a chunk unit and aligned to it.
        self.heads[class] = unsafe { head.cast::<*mut u8>().read() };
        Some(head)
    }

    /// Caches the freed block `ptr` of `class`.
    ///
    /// # Safety
    ///
    /// `ptr` must be a block talc allocated with a layout of class `class`,
    /// now freed by its owner and not cached already.
    #[inline(always)]
    pub(crate) unsafe fn push(&mut self, class: usize, ptr: *mut u8) {
        if let Some(head) = self.heads.get_mut(class) {
            // SAFETY: the block is ours now, at least a chunk unit long and
            // aligned to it (caller's contract), so its first word is writable.
            unsafe { ptr.cast::<*mut u8>().write(*head) };
            *head = ptr;
        }
    }

    /// Empties the cache, calling `free(block, class)` for every block.
    /// Returns whether there was any.
    pub(crate) fn drain(&mut self, mut free: impl FnMut(*mut u8, usize)) -> bool {
        let mut any = false;
        for class in 0..CLASSES {
            while let Some(block) = self.pop(class) {
                free(block, class);
                any = true;
            }
        }
        any
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
}
