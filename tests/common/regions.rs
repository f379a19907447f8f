//! Page-aligned byte regions the host tests own, for arenas and fake memories.

use core::alloc::Layout;

use nogrow::PAGE_SIZE;

/// Bytes left unused after every [`Region`].
///
/// talc 5.1.1's `full_search_bin` tests a free gap with
/// `aligned_base.add(required_size) <= end`, which, for a gap at the end of a
/// heap, forms a pointer past the end of the Rust allocation holding the heap:
/// undefined behaviour by `ptr::add`'s rules, reported by Miri (found by
/// `signal_random_ops_grow_geometrically_and_match_the_model`). On wasm32 the
/// same sum is what could wrap past 2^32; nogrow never asks talc about a
/// request for which it could (see `nogrow::policy::HeapTop`), so there it is
/// plain address arithmetic below the end of memory, but in Rust's model it
/// is still a pointer past the allocation holding the heap. The pad
/// keeps the overshoot (at most a request's size plus its alignment, both
/// small under Miri) inside the allocation so Miri checks everything else.
#[cfg(not(target_arch = "wasm32"))]
pub const TALC_OVERSHOOT_PAD: usize = 64 << 10;

/// A page-aligned, caller-owned byte region for arenas and fake memories.
#[cfg(not(target_arch = "wasm32"))]
pub struct Region {
    ptr: *mut u8,
    layout: Layout,
    pad: usize,
}

#[cfg(not(target_arch = "wasm32"))]
impl Region {
    /// `len` bytes, aligned to a wasm page like linear memory, followed by
    /// [`TALC_OVERSHOOT_PAD`] bytes nobody is given.
    pub fn new(len: usize) -> Self {
        Self::with_pad(len, TALC_OVERSHOOT_PAD)
    }

    /// `len` bytes with no pad: the heap ends where the Rust allocation ends
    /// (reproduces talc's overshoot under Miri).
    pub fn exact(len: usize) -> Self {
        Self::with_pad(len, 0)
    }

    fn with_pad(len: usize, pad: usize) -> Self {
        let layout = Layout::from_size_align(len + pad, PAGE_SIZE).expect("region layout");
        // SAFETY: non-zero size.
        let ptr = unsafe { std::alloc::alloc(layout) };
        assert!(!ptr.is_null(), "region of {len} bytes");
        Self { ptr, layout, pad }
    }
    /// First byte.
    pub fn ptr(&self) -> *mut u8 {
        self.ptr
    }
    /// Length in bytes (without the pad).
    pub fn len(&self) -> usize {
        self.layout.size() - self.pad
    }
}

#[cfg(not(target_arch = "wasm32"))]
impl Drop for Region {
    fn drop(&mut self) {
        // SAFETY: allocated in `new` with this layout.
        unsafe { std::alloc::dealloc(self.ptr, self.layout) }
    }
}
