//! One live block of the model: how its bytes are stamped with a pattern and
//! verified, and what the allocator counts for it.

use nogrow::c_alloc;

#[derive(Debug, Clone, Copy)]
pub(super) struct Block {
    pub(super) ptr: *mut u8,
    pub(super) size: usize,
    pub(super) align: usize,
    pub(super) tag: u32,
    /// Made by the C allocation family (freed with C `free`).
    pub(super) c: bool,
}

/// The layout the allocator sees for a C block of `size` bytes aligned to
/// `align`: the block plus its header space below the pointer.
pub(super) fn c_layout(size: usize, align: usize) -> (usize, usize) {
    let align = align.max(c_alloc::MALLOC_ALIGN);
    (size + align.max(c_alloc::HEADER_SPACE), align)
}

impl Block {
    pub(super) fn addr(&self) -> usize {
        self.ptr.addr()
    }
    /// Bytes the allocator counts in `in_use` for this block.
    pub(super) fn accounted(&self) -> usize {
        if self.c {
            c_layout(self.size, self.align).0
        } else {
            self.size
        }
    }
    pub(super) fn end(&self) -> usize {
        self.addr() + self.size
    }
}

pub(super) const HEAD: usize = 16;
pub(super) const STRIDE: usize = 1021;
pub(super) const HUGE: usize = 16 << 20;

pub(super) fn pattern(tag: u32, i: usize) -> u8 {
    let x = tag ^ (i as u32).wrapping_mul(0x9E37_79B1) ^ (i >> 20) as u32;
    (x ^ (x >> 13) ^ (x >> 24)) as u8
}

/// Calls `f` for the sampled offsets of a block of `n` bytes: head and tail
/// always, every `STRIDE`-th byte in between unless `quick`.
pub(super) fn samples(n: usize, quick: bool, mut f: impl FnMut(usize)) {
    let head = n.min(HEAD);
    (0..head).for_each(&mut f);
    if !quick && n > 2 * HEAD {
        (HEAD..n - HEAD).step_by(STRIDE).for_each(&mut f);
    }
    (n.saturating_sub(HEAD).max(head)..n).for_each(&mut f);
}

pub(super) fn stamp(b: &Block) {
    samples(b.size, false, |i| {
        // SAFETY: `i < b.size` and the block is live and ours.
        unsafe { b.ptr.add(i).write(pattern(b.tag, i)) }
    });
}

/// A violation: what broke, at which operation.
pub type Violation = String;

pub(super) fn verify(op: u64, b: &Block, quick: bool, limit: usize) -> Result<(), Violation> {
    let mut bad = None;
    samples(b.size, quick, |i| {
        if i < limit && bad.is_none() {
            // SAFETY: `i < b.size`: inside the live block.
            let got = unsafe { b.ptr.add(i).read() };
            if got != pattern(b.tag, i) {
                bad = Some((i, got));
            }
        }
    });
    match bad {
        None => Ok(()),
        Some((i, got)) => Err(format!(
            "op {op}: content of block {:#x} (size {}, align {}) changed at offset {i}: {got:#04x}, expected {:#04x}",
            b.addr(),
            b.size,
            b.align,
            pattern(b.tag, i)
        )),
    }
}

pub(super) fn verify_zeroed(op: u64, ptr: *mut u8, n: usize) -> Result<(), Violation> {
    // SAFETY: `ptr` is a live block of `n` bytes just returned by alloc_zeroed.
    let bytes = unsafe { core::slice::from_raw_parts(ptr, n) };
    let zero = if n <= 1 << 20 {
        bytes.iter().all(|&b| b == 0)
    } else {
        bytes[..4096].iter().all(|&b| b == 0)
            && bytes[n - 4096..].iter().all(|&b| b == 0)
            && bytes.iter().step_by(61).all(|&b| b == 0)
    };
    check!(
        op,
        zero,
        "alloc_zeroed({n}) at {:#x} is not zeroed",
        ptr.addr()
    );
    Ok(())
}
