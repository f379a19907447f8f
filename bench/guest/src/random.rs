//! The random stream and the live-block record of the benchmark workloads,
//! shared with the threaded benchmark guest (`bench/threads-guest`, which
//! includes this file), so both run the same actions from the same seeds.
//! `no_std`: only `core`.

/// xorshift64: a few instructions per number, the same stream for everyone.
pub(crate) struct Rng(u64);

impl Rng {
    pub(crate) fn new(seed: u32) -> Self {
        Self(0x9E37_79B9_7F4A_7C15 ^ u64::from(seed).wrapping_mul(0xA076_1D64_78BD_642F) | 1)
    }

    #[inline(always)]
    pub(crate) fn next(&mut self) -> u32 {
        let mut x = self.0;
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        self.0 = x;
        (x >> 32) as u32
    }

    /// Uniform-ish in `lo..hi` (multiply-shift, no rejection).
    #[inline(always)]
    pub(crate) fn range(&mut self, lo: usize, hi: usize) -> usize {
        lo + ((u64::from(self.next()) * (hi - lo) as u64) >> 32) as usize
    }

    /// talc's size distribution: biased towards small sizes, `4..max`.
    #[inline(always)]
    pub(crate) fn size(&mut self, max: usize) -> usize {
        let cap = self.range(16, max);
        self.range(4, cap)
    }

    /// talc's alignment distribution: 75 % 4 B... here `8 << tz/2`, mostly 8.
    #[inline(always)]
    pub(crate) fn align(&mut self) -> usize {
        let tz = (self.next() as u16).trailing_zeros() / 2;
        8 << tz.min(6)
    }
}

/// One live block.
#[derive(Clone, Copy)]
pub(crate) struct Block {
    pub(crate) ptr: *mut u8,
    pub(crate) size: usize,
    pub(crate) align: usize,
}

/// An empty slot: all zero bits, so the tables stay in `.bss`.
pub(crate) const NONE: Block = Block {
    ptr: core::ptr::null_mut(),
    size: 0,
    align: 0,
};
