//! The size probe: every `GlobalAlloc` entry point reached with run-time
//! layouts, and nothing else, so module size minus the `none` module's size
//! is the allocator's code.

use std::alloc::{Layout, alloc, alloc_zeroed, dealloc, realloc};

/// Allocates `size` bytes at alignment `1 << (align_log2 & 7)` (zeroed if
/// `zeroed != 0`), reallocates to `new_size`, frees; returns 1 on success.
#[unsafe(no_mangle)]
pub extern "C" fn size_probe(size: u32, align_log2: u32, new_size: u32, zeroed: u32) -> u32 {
    let align = 1usize << (align_log2 & 7);
    let (size, new_size) = (size.max(1) as usize, new_size.max(1) as usize);
    let Ok(l) = Layout::from_size_align(size, align) else {
        return 0;
    };
    // SAFETY: `l` has a non-zero size.
    let p = unsafe {
        if zeroed != 0 {
            alloc_zeroed(l)
        } else {
            alloc(l)
        }
    };
    if p.is_null() {
        return 0;
    }
    if Layout::from_size_align(new_size, align).is_err() {
        // SAFETY: `p` is live with layout `l`.
        unsafe { dealloc(p, l) };
        return 0;
    }
    // SAFETY: `p` is live with layout `l`; `new_size` is non-zero and valid for `align`.
    let q = unsafe { realloc(p, l, new_size) };
    if q.is_null() {
        // SAFETY: a failed realloc leaves `p` live with layout `l`.
        unsafe { dealloc(p, l) };
        return 0;
    }
    // SAFETY: `q` is live with `new_size` at `align` (checked above).
    unsafe { dealloc(q, Layout::from_size_align_unchecked(new_size, align)) };
    1
}
