//! How talc sorts free chunks into bins, which decides how well a fixed arena
//! is filled before a request fails.
//!
//! talc keeps one free list per bin and serves a request from the first
//! non-empty bin whose every chunk is large enough. Chunks in the request's
//! own bin are only searched when no larger bin has any, and there always is
//! one while the untouched rest of the arena is free. So the wider the bins,
//! the more often a request splits a much larger chunk while a close fit
//! waits in a narrower one, and the sooner a large request finds no chunk at
//! all in a fixed arena.
//!
//! - [`Compact`], the default: a bin per chunk size up to 512 bytes, then 16
//!   bins per doubling of size (at most 6.25 % apart) up to 1 MiB, and two
//!   per doubling above. Fills a fixed arena close to dlmalloc's best fit.
//! - [`Fast`]: talc's own wasm binning (2 bins per doubling, up to 50 %
//!   apart): faster on workloads of many mid-sized blocks, fills less.
//!
//! `BENCHMARKS.md` ("Binning") has the measured trade-off. Any
//! [`talc::base::binning::Binning`] can be used through [`Nogrow`]'s third type
//! parameter; the arena must then hold [`min_arena_bytes`] of it.
//!
//! [`Nogrow`]: crate::Nogrow

use talc::base::binning::linear_extent_then_linearly_divided_exponential_binning as linear_then_exponential;

/// talc's binning trait, the bound on [`Nogrow`](crate::Nogrow)'s binning parameter.
pub use talc::base::binning::Binning;

/// Bins per doubling of size in [`Compact`] below [`COMPACT_FINE_BELOW`].
const COMPACT_DIVISIONS: usize = 16;

/// Chunks from this size up get two bins per doubling in [`Compact`]: finer
/// bins buy little for chunks this large, and the coarse ones still tell a
/// 2 MiB chunk from a 64 MiB one, so a small request is served from the
/// smaller (with one last bin for both, talc would take whichever it freed
/// last and could split the large one).
const COMPACT_FINE_BELOW: usize = 1 << 20;

/// The fine bins of [`Compact`].
const fn compact_fine(size: usize) -> u32 {
    linear_then_exponential::<COMPACT_DIVISIONS, 1>(size)
}

/// The coarse bins of [`Compact`], before [`COMPACT_COARSE_OFFSET`].
const fn compact_coarse(size: usize) -> u32 {
    linear_then_exponential::<2, 8>(size)
}

/// Makes the coarse bins continue the fine ones at [`COMPACT_FINE_BELOW`].
const COMPACT_COARSE_OFFSET: u32 =
    compact_fine(COMPACT_FINE_BELOW) - compact_coarse(COMPACT_FINE_BELOW);

/// The default binning: fine bins, for capacity. 256 bins (four 64-bit
/// words of availability bits): one per chunk size up to `32 ×`
/// [`CHUNK_UNIT`](talc::base::CHUNK_UNIT) (512 bytes on wasm32), then 16 per
/// doubling of size up to 1 MiB, then two per doubling (232 bins cover every
/// size on wasm32).
#[derive(Debug)]
pub struct Compact;

impl Binning for Compact {
    type AvailabilityBitField = [u64; 4];

    #[inline(always)]
    fn size_to_bin(size: usize) -> u32 {
        if size < COMPACT_FINE_BELOW {
            compact_fine(size)
        } else {
            compact_coarse(size) + COMPACT_COARSE_OFFSET
        }
    }
}

/// talc's own wasm binning, [`talc::wasm::WasmBinning`]: 64 bins, two per
/// doubling of size above 256 bytes on wasm32. Faster on many mid-sized
/// blocks; fills a fixed arena less well than [`Compact`].
pub type Fast = talc::wasm::WasmBinning;

/// The smallest arena an allocator with binning `B` accepts: talc's minimum
/// first heap (which holds one list head per bin) plus room for at least a
/// few small allocations.
pub const fn min_arena_bytes<B: Binning>() -> usize {
    talc::min_first_heap_size::<B>() + 256
}

#[cfg(test)]
mod tests {
    //! The bins, checked against an independent statement of their bounds,
    //! and what they are for, checked on the real talc.

    extern crate std;

    use core::{alloc::Layout, mem::MaybeUninit, ptr::NonNull};
    use std::vec::Vec;

    use talc::base::{CHUNK_UNIT, Talc};
    use talc::source::Manual;

    use super::*;

    const BINS: u32 = <Compact as Binning>::BIN_COUNT;

    /// The smallest chunk size in bin `bin` of [`Compact`], stated directly:
    /// one bin per chunk size below `2 × D` units, then `D` bins per doubling
    /// up to 1 MiB, then two per doubling. `None` past the largest size.
    fn compact_bin_start(bin: u32) -> Option<usize> {
        let d = COMPACT_DIVISIONS;
        let bin = bin as usize;
        if bin < 2 * d {
            return Some(bin * CHUNK_UNIT);
        }
        let fine_bins = (COMPACT_FINE_BELOW / (d * CHUNK_UNIT)).ilog2() as usize * d + d;
        if bin < fine_bins {
            let octave = bin / d - 1; // 1 for the first doubling above 2·D units
            let octave_start = (d * CHUNK_UNIT) << octave;
            return Some(octave_start + (bin % d) * (octave_start / d));
        }
        let (octave, half) = ((bin - fine_bins) / 2, (bin - fine_bins) % 2);
        let octave_start = COMPACT_FINE_BELOW.checked_shl(octave as u32)?;
        (octave_start.leading_zeros() > 0).then(|| octave_start + half * octave_start / 2)
    }

    #[test]
    fn compact_has_256_bins_in_four_words() {
        assert_eq!(BINS, 256);
        assert_eq!(size_of::<<Compact as Binning>::AvailabilityBitField>(), 32);
        if CHUNK_UNIT == 16 {
            // Every wasm32 size has its own bin: the last one is never shared.
            assert_eq!(Compact::size_to_bin(u32::MAX as usize), 231);
        }
    }

    #[test]
    #[cfg_attr(miri, ignore = "pure arithmetic, slow under Miri")]
    fn every_compact_bin_starts_where_stated() {
        for bin in 1..BINS {
            let Some(start) = compact_bin_start(bin) else {
                break;
            };
            assert_eq!(start % CHUNK_UNIT, 0, "bin {bin} starts off a chunk unit");
            assert_eq!(Compact::size_to_bin(start), bin, "bin {bin} at {start}");
            assert_eq!(
                Compact::size_to_bin(start - CHUNK_UNIT),
                bin - 1,
                "below bin {bin} at {start}"
            );
        }
        // Adjacent bins are at most 1/16 apart from 512 bytes to 1 MiB.
        for bin in 2 * COMPACT_DIVISIONS as u32..BINS {
            let (lo, hi) = (
                compact_bin_start(bin - 1).unwrap(),
                compact_bin_start(bin).unwrap(),
            );
            if hi > COMPACT_FINE_BELOW {
                break;
            }
            assert!(hi - lo <= lo / COMPACT_DIVISIONS, "bins {lo}..{hi}");
        }
    }

    #[test]
    #[cfg_attr(miri, ignore = "pure arithmetic, slow under Miri")]
    fn no_chunk_size_falls_between_bins() {
        // Every chunk size up to four times the end of the fine bins: its bin
        // is the one whose stated range holds it; bins never go down and
        // never skip; talc's search start (`size_to_bin_ceil`) holds only
        // chunks that fit.
        let top = 4 * COMPACT_FINE_BELOW;
        let mut previous = Compact::size_to_bin(CHUNK_UNIT);
        for size in (CHUNK_UNIT..=top).step_by(CHUNK_UNIT) {
            let bin = Compact::size_to_bin(size);
            assert!(bin == previous || bin == previous + 1, "skip at {size}");
            previous = bin;
            let (start, next) = (compact_bin_start(bin), compact_bin_start(bin + 1));
            assert!(
                start.unwrap() <= size && size < next.unwrap(),
                "{size} in bin {bin}"
            );
            let ceil = Compact::size_to_bin_ceil(size);
            assert!(compact_bin_start(ceil).unwrap() >= size, "ceil of {size}");
            assert!(
                compact_bin_start(ceil - 1).unwrap() < size,
                "ceil of {size} is not tight"
            );
        }
    }

    #[test]
    #[cfg_attr(miri, ignore = "walks sizes up to usize::MAX")]
    fn both_binnings_pass_talcs_own_checks() {
        talc::base::binning::test_utils::check_binning_properties(None, &|s| {
            Compact::size_to_bin(s)
        });
        talc::base::binning::test_utils::check_binning_properties(None, &|s| Fast::size_to_bin(s));
    }

    /// The base of the block talc (with binning `B`) gives a `request`-byte
    /// allocation after two holes were made: one a little larger than the
    /// request (`close`, by 1/15: more than a Compact bin), one three times larger (`wide`), separated by live
    /// blocks, with the untouched rest of the heap above. Returns which hole.
    fn hole_taken<B: Binning>(request: usize) -> &'static str {
        const HEAP: usize = 256 << 10;
        // Capacity only: talc needs no initialised bytes, and filling them
        // one by one is slow under Miri.
        let mut memory = Vec::<MaybeUninit<u8>>::with_capacity(HEAP);
        let mut talc = Talc::<Manual, B>::new(Manual);
        let byte = |n: usize| Layout::from_size_align(n, 8).unwrap();
        // SAFETY: `memory`'s buffer holds `HEAP` bytes, is used only by this
        // talc, and outlives it.
        unsafe { talc.claim(memory.as_mut_ptr().cast(), HEAP) }.unwrap();
        let mut alloc = |n: usize| {
            // SAFETY: non-zero sizes; the blocks are only freed, with their layouts.
            unsafe { talc.allocate(byte(n)) }.unwrap()
        };
        let close = alloc(request + request / 15);
        let _fence1 = alloc(64);
        let wide = alloc(3 * request);
        let _fence2 = alloc(64);
        let free = |talc: &mut Talc<Manual, B>, p: NonNull<u8>, n: usize| {
            // SAFETY: `p` came from this talc with `byte(n)`.
            unsafe { talc.deallocate(p.as_ptr(), byte(n)) }
        };
        free(&mut talc, close, request + request / 15);
        free(&mut talc, wide, 3 * request);
        // SAFETY: non-zero size.
        let got = unsafe { talc.allocate(byte(request)) }.unwrap();
        if got == close {
            "close"
        } else if got == wide {
            "wide"
        } else {
            "elsewhere"
        }
    }

    #[test]
    fn compact_fills_the_close_hole_where_fast_splits_a_wide_one() {
        for request in [1200, 10_000, 40_000] {
            assert_eq!(hole_taken::<Compact>(request), "close", "{request} B");
            assert_ne!(hole_taken::<Fast>(request), "close", "{request} B");
        }
    }

    /// Where talc (with binning `B`) puts a small block after two large
    /// holes were freed, the small one first: `true` if in the small hole.
    fn small_block_goes_to_the_small_hole<B: Binning>() -> bool {
        const MIB: usize = 1 << 20;
        const HEAP: usize = 128 * MIB;
        // Capacity only: talc needs no initialised bytes, and filling them
        // one by one is slow under Miri.
        let mut memory = Vec::<MaybeUninit<u8>>::with_capacity(HEAP);
        let mut talc = Talc::<Manual, B>::new(Manual);
        let byte = |n: usize| Layout::from_size_align(n, 8).unwrap();
        // SAFETY: `memory`'s buffer holds `HEAP` bytes, is used only by this
        // talc, and outlives it.
        unsafe { talc.claim(memory.as_mut_ptr().cast(), HEAP) }.unwrap();
        let (small, large) = (20 * MIB, 40 * MIB);
        let mut alloc = |n: usize| {
            // SAFETY: non-zero sizes; the blocks are only freed, with their layouts.
            unsafe { talc.allocate(byte(n)) }.unwrap()
        };
        let a = alloc(small);
        let _fence1 = alloc(64);
        let b = alloc(large);
        let _fence2 = alloc(64);
        // The untouched rest (68 MiB) stays free above.
        // SAFETY: `a` and `b` came from this talc with these layouts.
        unsafe {
            talc.deallocate(a.as_ptr(), byte(small));
            talc.deallocate(b.as_ptr(), byte(large));
        }
        // SAFETY: non-zero size.
        let got = unsafe { talc.allocate(byte(64)) }.unwrap().as_ptr() as usize;
        let a = a.as_ptr() as usize;
        (a..a + small).contains(&got)
    }

    #[test]
    #[cfg_attr(miri, ignore = "a 128 MiB heap")]
    fn large_holes_stay_apart_so_small_blocks_do_not_split_the_larger() {
        assert!(small_block_goes_to_the_small_hole::<Compact>());
        assert!(small_block_goes_to_the_small_hole::<Fast>());
    }

    #[test]
    fn min_arena_bytes_holds_talcs_first_heap() {
        assert!(min_arena_bytes::<Compact>() > min_arena_bytes::<Fast>());
        assert_eq!(crate::MIN_ARENA_BYTES, min_arena_bytes::<Compact>());
    }
}
