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
//! - [`Compact`], the default: 255 bins, spent where a fixed arena is lost:
//!   two per doubling of size below 8 KiB, 16 per doubling from 8 to 16 KiB,
//!   64 per doubling (1.6 % apart) from 16 to 128 KiB, two per doubling
//!   above up to 2 GiB, one above. Fills a fixed arena better than talc's
//!   binning, for about as many instructions per call (a table lookup
//!   finds a size's bin).
//! - [`Fast`]: talc's own wasm binning (2 bins per doubling, up to 50 %
//!   apart): 64 bins in one word, fills less.
//!
//! `BENCHMARKS.md` ("Binning") has the measured trade-off. Any
//! [`talc::base::binning::Binning`] can be used through [`Nogrow`]'s third type
//! parameter; the arena must then hold [`min_arena_bytes`] of it.
//!
//! [`Nogrow`]: crate::Nogrow

use talc::base::{CHUNK_UNIT, bitfield::BitField};

/// talc's binning trait, the bound on [`Nogrow`](crate::Nogrow)'s binning parameter.
pub use talc::base::binning::Binning;

/// [`Compact`]'s bins per doubling of chunk size, as runs: from the
/// doubling that starts at `2^e` bytes on, `2^k` bins per doubling, for
/// each `(e, k)`, until the next run. Each doubling has at most one bin per
/// chunk unit. On wasm32 the last doubling, 2 to 4 GiB, is one bin, the
/// 255th; on 64-bit targets, bins past talc's last are put in it by talc.
const COMPACT_RUNS: &[(u32, u32)] = &[(4, 1), (13, 4), (14, 6), (17, 1), (31, 0)];

/// The bins of one doubling of chunk size, `[2^e, 2^(e+1))`: the bin of a
/// size in it is `base + ((size >> shift) & mask)`. Four bytes, so that
/// the table is small and indexing it is one shift.
#[derive(Clone, Copy, Debug)]
#[repr(C, align(4))]
struct Doubling {
    /// The doubling's first bin.
    base: u16,
    shift: u8,
    mask: u8,
}

/// One [`Doubling`] per leading-zero count of a size (`usize::BITS + 1`
/// counts, 0 included).
type DoublingTable = [Doubling; usize::BITS as usize + 1];

/// Builds the table for bins per doubling given as runs (see
/// [`COMPACT_RUNS`]). Sizes below [`CHUNK_UNIT`] (no chunk is that small)
/// get bin 0, as in talc's own binnings: talc's search for the smallest
/// chunk then starts at bin 1, and its fallback looks one bin below the
/// start. Panics (at compile time) when a doubling would have more bins than
/// its span has chunk units or a field overflows.
const fn doubling_table(runs: &[(u32, u32)]) -> DoublingTable {
    let below = Doubling {
        base: 0,
        shift: 0,
        mask: 0,
    };
    let mut table = [below; usize::BITS as usize + 1];
    let unit = CHUNK_UNIT.ilog2();
    let mut base = 1u16;
    let mut e = unit;
    while e < usize::BITS {
        // The last run that starts at or below `e`.
        let mut k = 0;
        let mut r = 0;
        while r < runs.len() {
            if runs[r].0 <= e {
                k = runs[r].1;
            }
            r += 1;
        }
        if k > e - unit {
            k = e - unit;
        }
        assert!(k <= 8, "a doubling's mask is one byte");
        assert!(base <= u16::MAX - (1 << k), "a bin index is below 2^16");
        table[(usize::BITS - 1 - e) as usize] = Doubling {
            base,
            shift: (e - k) as u8,
            mask: ((1u32 << k) - 1) as u8,
        };
        base += 1 << k;
        e += 1;
    }
    table
}

/// [`Compact`]'s bins.
static COMPACT_TABLE: DoublingTable = doubling_table(COMPACT_RUNS);

/// The bin of `size` by a [`DoublingTable`].
#[inline(always)]
fn table_bin(table: &DoublingTable, size: usize) -> u32 {
    let d = &table[size.leading_zeros() as usize];
    u32::from(d.base) + ((size >> d.shift) as u32 & u32::from(d.mask))
}

/// The default binning: fine bins where a fixed arena is lost, for
/// capacity. 254 bins for chunks on wasm32 (see the module docs) and talc's
/// unused bin 0, found by one table lookup, with a 256-bit availability
/// field ([`Bits4`]) scanned without a loop.
#[derive(Debug)]
pub struct Compact;

impl Binning for Compact {
    type AvailabilityBitField = Bits4;

    /// The field's last bit spare (talc then skips a branch in its search;
    /// no wasm32 size reaches it).
    const BIN_COUNT: u32 = Bits4::BITS - 1;

    #[inline(always)]
    fn size_to_bin(size: usize) -> u32 {
        table_bin(&COMPACT_TABLE, size)
    }
}

/// [`Compact`]'s availability field: 256 bits in four 64-bit words, bit `b`
/// in word `b / 64`, then three words that stay zero. Its scan, inlined into
/// talc's allocation, looks at the word of the bin asked for and at the
/// three words after it, whatever that word is: the zero words let those
/// four be read at fixed offsets from the first, with no loop and no bounds
/// to check, so nothing of the scan is set up before it is needed. (A fresh
/// arena's one free chunk has its bit in the last word: a small request on
/// a heap being built up reads all four.)
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Bits4([u64; 7]);

impl Bits4 {
    /// The word holding bit `b` (below [`BitField::BITS`], talc's contract;
    /// a larger `b` wraps to a word that exists) and `b`'s bit in it.
    #[inline(always)]
    fn at(b: u32) -> (usize, u64) {
        (((b / 64) & 3) as usize, 1 << (b % 64))
    }
}

impl BitField for Bits4 {
    const BITS: u32 = 256;
    const ZEROES: Self = Self([0; 7]);

    #[inline(always)]
    fn bit_scan_forward(&self, b: u32) -> u32 {
        let (word, bit) = Self::at(b);
        // `b`'s word and the three after it (zero past the last word).
        let w = &self.0[word..word + 4];
        // The bits of `b`'s word from `b` up.
        let first = w[0] & !(bit - 1);
        let (k, bits) = if first != 0 {
            (0, first)
        } else if w[1] != 0 {
            (1, w[1])
        } else if w[2] != 0 {
            (2, w[2])
        } else {
            (3, w[3])
        };
        if bits == 0 {
            return Self::BITS;
        }
        (word as u32 + k) * 64 + bits.trailing_zeros()
    }

    #[inline(always)]
    fn set_bit(&mut self, b: u32) {
        let (word, bit) = Self::at(b);
        self.0[word] |= bit;
    }

    #[inline(always)]
    fn clear_bit(&mut self, b: u32) {
        let (word, bit) = Self::at(b);
        self.0[word] &= !bit;
    }

    #[inline(always)]
    fn read_bit(&self, b: u32) -> bool {
        let (word, bit) = Self::at(b);
        self.0[word] & bit != 0
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

    use talc::base::Talc;
    use talc::source::Manual;

    use super::*;

    /// A bit field kept beside [`Bits4`] by the obvious method, one `bool`
    /// per bit.
    struct Naive([bool; 256]);

    impl Naive {
        fn scan(&self, b: u32) -> u32 {
            (b..256).find(|&i| self.0[i as usize]).unwrap_or(256)
        }
    }

    #[test]
    fn bits4_agrees_with_a_bool_per_bit() {
        let (mut bits, mut naive) = (Bits4::ZEROES, Naive([false; 256]));
        let mut x = 0x9e37_79b9_7f4a_7c15u64;
        for step in 0..4000 {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            let b = (x % 256) as u32;
            // Sets and clears like talc's: clear only what is set.
            if naive.0[b as usize] {
                bits.clear_bit(b);
                naive.0[b as usize] = false;
            } else {
                bits.set_bit(b);
                naive.0[b as usize] = true;
            }
            let probe = ((x >> 8) % 256) as u32;
            assert_eq!(bits.read_bit(probe), naive.0[probe as usize], "step {step}");
            assert_eq!(
                bits.bit_scan_forward(probe),
                naive.scan(probe),
                "step {step}, from {probe}"
            );
            if step % 500 == 0 {
                assert_eq!(bits.0[4..], [0; 3], "the words after the last stay zero");
                for from in 0..256 {
                    assert_eq!(bits.bit_scan_forward(from), naive.scan(from), "from {from}");
                }
            }
        }
        // Only the last bit of each word, then none.
        let mut bits = Bits4::ZEROES;
        for word in 0..4 {
            bits.set_bit(word * 64 + 63);
        }
        assert_eq!(bits.bit_scan_forward(0), 63);
        assert_eq!(bits.bit_scan_forward(64), 127);
        assert_eq!(bits.bit_scan_forward(200), 255);
        bits.clear_bit(255);
        assert_eq!(bits.bit_scan_forward(192), 256);
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
    /// request (`close`, by 1/15: more than a Compact bin from 8 KiB up), one
    /// three times larger (`wide`), separated by live blocks, with the
    /// untouched rest of the heap above. Returns which hole.
    fn hole_taken<B: Binning>(request: usize) -> &'static str {
        const HEAP: usize = 1 << 20;
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
        for request in [10_000, 20_000, 40_000, 100_000] {
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
