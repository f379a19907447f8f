//! Sizing an arena by measurement: the guest's side.
//!
//! The smallest arena a workload needs is found by running the workload
//! again and again, each time in a fresh instance of one module built with a
//! generous arena, with less of that arena left to it: right after
//! instantiation a *ballast* of `capacity - n` bytes is taken from the heap
//! and never freed, so the workload has what an arena of `n` bytes would
//! give it (talc's own bookkeeping, claimed at the first allocation, is
//! inside `n` as in a real arena), and `n` is bisected. The host's side, the
//! bisection, the report and the recommended `install!` line, is
//! `sizeArena` in the JS module (`js/nogrow.mjs`) and the `nogrow-size`
//! command over it; the guide's sizing page (`docs/sizing.md` in the
//! repository) walks through it on serde_json.
//!
//! [`ballast`] takes the bytes from an allocator. With the `sizing` cargo
//! feature, on wasm targets, nogrow also exports it over the global allocator
//! as `nogrow_ballast(bytes: u32) -> u32` (the bytes taken), which the host
//! helper calls; a measuring build needs no code change:
//! `cargo build --release --target wasm32-unknown-unknown --features nogrow/sizing`.
//! (Without the feature the helper uses the C `malloc` of the `c-malloc`
//! feature, when the guest has it.)

use core::alloc::{GlobalAlloc, Layout};

use talc::base::binning::Binning;

use crate::{Memory, Nogrow, Policy};

/// Alignment of the ballast's blocks.
const ALIGN: usize = 8;

/// The smallest block [`ballast`] tries once a larger one did not fit.
const MIN_PIECE: usize = 1024;

/// Takes `bytes` bytes of `alloc`'s heap for good (the blocks are never
/// freed), so that only the rest is left to what runs next, and returns the
/// bytes taken: `bytes`, or fewer when the heap has no more room.
///
/// One block when the heap's free memory is one piece (a static arena);
/// otherwise the largest blocks that fit, halving the size after each miss,
/// down to 1 KiB. A miss is a failed allocation like any other: the state
/// block counts it (and a growing policy may grow memory for it, so measure
/// with [`Fail`](crate::Fail) or a [`Reserve`](crate::Reserve) already made).
///
/// ```
/// nogrow::install!(arena: 1 << 20, policy: Fail);
/// # fn main() {
/// // Leave about 256 KiB of the 1 MiB arena to what follows.
/// assert_eq!(nogrow::sizing::ballast(&NOGROW, 768 << 10), 768 << 10);
/// let mut fits: Vec<u8> = Vec::new();
/// assert!(fits.try_reserve_exact(200 << 10).is_ok());
/// let mut too_big: Vec<u8> = Vec::new();
/// assert!(too_big.try_reserve_exact(300 << 10).is_err());
/// # }
/// ```
pub fn ballast<P: Policy, M: Memory, B: Binning>(alloc: &Nogrow<P, M, B>, bytes: usize) -> usize {
    take(bytes, |layout| {
        // SAFETY: `take` asks only for layouts of non-zero size.
        unsafe { alloc.alloc(layout) }
    })
}

/// Takes `bytes` in blocks from `alloc` (called with non-zero sizes only);
/// returns the bytes taken.
fn take(bytes: usize, mut alloc: impl FnMut(Layout) -> *mut u8) -> usize {
    let mut left = bytes;
    let mut size = bytes;
    while left > 0 {
        size = size.min(left);
        let Ok(layout) = Layout::from_size_align(size, ALIGN) else {
            break;
        };
        // Opaque: an allocation whose pointer is only compared with null may
        // be removed by the optimizer, and then nothing would be taken.
        if core::hint::black_box(alloc(layout)).is_null() {
            if size <= MIN_PIECE {
                break;
            }
            size = (size / 2) & !(ALIGN - 1);
        } else {
            left -= size;
        }
    }
    bytes - left
}

#[cfg(all(feature = "sizing", target_family = "wasm"))]
extern crate alloc as rust_alloc;

/// [`ballast`] over the global allocator, for the host's sizing helper
/// (`sizeArena` in the JS module): takes `bytes` bytes of the heap for good
/// and returns the bytes taken. Exported with the `sizing` feature on wasm
/// targets; call it right after instantiation, before the workload.
#[cfg(all(feature = "sizing", target_family = "wasm"))]
#[unsafe(no_mangle)]
pub extern "C" fn nogrow_ballast(bytes: u32) -> u32 {
    take(bytes as usize, |layout| {
        // SAFETY: `take` asks only for layouts of non-zero size.
        unsafe { rust_alloc::alloc::alloc(layout) }
    }) as u32
}

#[cfg(test)]
mod tests {
    extern crate std;

    use std::vec::Vec;

    use super::*;

    /// A heap of free pieces of the given sizes, first fit.
    fn pieces(sizes: &[usize]) -> impl FnMut(Layout) -> *mut u8 {
        let mut free: Vec<usize> = sizes.to_vec();
        move |layout| {
            assert!(layout.size() > 0);
            match free.iter_mut().find(|f| **f >= layout.size()) {
                Some(f) => {
                    *f -= layout.size();
                    core::ptr::dangling_mut::<u8>()
                }
                None => core::ptr::null_mut(),
            }
        }
    }

    #[test]
    fn one_piece_is_taken_in_one_block() {
        let mut calls = 0;
        let mut heap = pieces(&[1 << 20]);
        let taken = take(700_000, |l| {
            calls += 1;
            heap(l)
        });
        assert_eq!((taken, calls), (700_000, 1));
    }

    #[test]
    fn several_pieces_are_taken_by_halving() {
        let taken = take(600 << 10, pieces(&[256 << 10, 512 << 10]));
        assert_eq!(taken, 600 << 10);
    }

    #[test]
    fn more_than_the_heap_takes_what_there_is_and_says_so() {
        let taken = take(2 << 20, pieces(&[1 << 20]));
        assert!(
            ((1 << 20) - MIN_PIECE..=1 << 20).contains(&taken),
            "{taken}"
        );
        assert_eq!(take(0, pieces(&[])), 0);
        assert_eq!(take(100, pieces(&[])), 0);
    }
}
