//! The wasm32 linear memory: the only module that uses wasm intrinsics.
//!
//! On other targets [`WasmMemory`] is a stand-in that has no pages and never
//! grows, so code naming it still builds and tests on the host.

use crate::memory::Memory;
#[cfg(target_arch = "wasm32")]
use crate::memory::PAGE_SIZE;

/// Memory index 0 of the running wasm32 module.
///
/// Growth executes `memory.grow`; [`Memory::linker_heap`] is
/// `__heap_base..__heap_end`, the memory wasm-ld already declared beyond the
/// module's static data (set its size with `-C link-arg=--initial-memory=N`).
#[derive(Debug, Default, Clone, Copy)]
pub struct WasmMemory;

#[cfg(target_arch = "wasm32")]
unsafe extern "C" {
    static __heap_base: u8;
    static __heap_end: u8;
}

#[cfg(all(target_arch = "wasm32", feature = "host-notify"))]
#[link(wasm_import_module = "nogrow")]
unsafe extern "C" {
    #[link_name = "memory_grown"]
    fn host_memory_grown(old_pages: u32, new_pages: u32);
}

// SAFETY: `memory.grow` hands out fresh pages `old..old+delta` that nothing else
// uses. `__heap_base..__heap_end` is, by wasm-ld's layout, past all static data
// and the stack; the only allocators that take it are a libc `malloc` and
// nogrow. On WASI, wasi-libc's malloc is linked unless nogrow provides the C
// allocation family (feature `c-malloc`), and `Arena::with_linker_heap` refuses
// to compile there without it; with it, a second `malloc` in the module is a
// duplicate-symbol link error. Elsewhere no libc allocator is linked by the
// toolchain. No method allocates.
#[cfg(target_arch = "wasm32")]
unsafe impl Memory for WasmMemory {
    #[inline]
    fn pages(&mut self) -> usize {
        core::arch::wasm32::memory_size(0)
    }

    // Never inlined: every `memory.grow` nogrow executes is in this one
    // function, `<nogrow::wasm::WasmMemory as nogrow::memory::Memory>::grow`
    // in the name section, which is how `nogrow check` tells nogrow's growth
    // from anyone else's. Growth is rare; the call costs nothing measurable.
    #[inline(never)]
    fn grow(&mut self, delta: usize) -> Option<usize> {
        match core::arch::wasm32::memory_grow(0, delta) {
            usize::MAX => None,
            old => Some(old),
        }
    }

    #[inline]
    fn region(&mut self, first: usize) -> *mut u8 {
        core::ptr::with_exposed_provenance_mut(first.wrapping_mul(PAGE_SIZE))
    }

    fn initial_pages(&mut self) -> Option<usize> {
        // wasm-ld defines `__heap_end` as the end of the initial memory.
        let end = &raw const __heap_end as usize;
        (end != 0).then(|| end.div_ceil(PAGE_SIZE))
    }

    fn linker_heap(&mut self) -> Option<(*mut u8, usize)> {
        let base = &raw const __heap_base as usize;
        let end = &raw const __heap_end as usize;
        (end > base).then(|| (core::ptr::with_exposed_provenance_mut(base), end - base))
    }

    #[inline]
    fn notify_grown(&mut self, old_pages: usize, new_pages: usize) {
        #[cfg(feature = "host-notify")]
        // SAFETY: the import takes two integers and has no Rust-side contract;
        // the host is documented not to call allocating exports from it.
        unsafe {
            host_memory_grown(old_pages as u32, new_pages as u32)
        };
        let _ = (old_pages, new_pages);
    }
}

// SAFETY: the host stand-in never grows and offers no region.
#[cfg(not(target_arch = "wasm32"))]
unsafe impl Memory for WasmMemory {
    fn pages(&mut self) -> usize {
        0
    }
    fn grow(&mut self, _delta: usize) -> Option<usize> {
        None
    }
    fn region(&mut self, _first: usize) -> *mut u8 {
        core::ptr::null_mut()
    }
}

/// Sets the C `errno` (WASI: through wasi-libc's `__errno_location`); a no-op
/// where there is no C library.
#[inline]
pub(crate) fn set_errno(code: crate::c_alloc::Errno) {
    #[cfg(all(target_family = "wasm", target_os = "wasi"))]
    {
        unsafe extern "C" {
            fn __errno_location() -> *mut i32;
        }
        // SAFETY: wasi-libc's `__errno_location` returns the calling thread's
        // `errno`, valid for writes for the thread's lifetime.
        unsafe { *__errno_location() = code.wasi() };
    }
    let _ = code;
}
