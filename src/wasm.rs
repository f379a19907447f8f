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
    static __stack_low: u8;
    static __stack_high: u8;
}

/// Whether an allocator of this module has taken the linker heap: it is
/// handed out once per module, whichever allocator (or [`WasmMemory`] value)
/// asks first.
#[cfg(target_arch = "wasm32")]
static LINKER_HEAP_TAKEN: core::sync::atomic::AtomicBool =
    core::sync::atomic::AtomicBool::new(false);

/// The end of the memory wasm-ld declared (`__heap_end`) as an address that
/// may be 2^32 (a 4 GiB initial memory, whose end a 32-bit pointer shows as 0).
#[cfg(target_arch = "wasm32")]
fn initial_end() -> Option<u64> {
    let base = &raw const __heap_base as usize;
    match &raw const __heap_end as usize {
        0 if base != 0 => Some(1 << 32),
        0 => None,
        end => Some(end as u64),
    }
}

/// The calling thread's mark for re-entrancy checks (see `reentry`): 1 for
/// the thread on the stack wasm-ld laid out (`__stack_low..__stack_high`),
/// which at most one thread can use; 0 (not named) for threads on stacks a
/// host placed elsewhere.
#[cfg(target_arch = "wasm32")]
#[inline]
pub(crate) fn thread_mark() -> usize {
    let frame = 0u8;
    // The local's address is in the running thread's stack frame.
    let here = core::ptr::from_ref(core::hint::black_box(&frame)).addr();
    let low = &raw const __stack_low as usize;
    let high = &raw const __stack_high as usize;
    usize::from(low <= here && here < high)
}

#[cfg(all(target_arch = "wasm32", feature = "host-notify"))]
#[link(wasm_import_module = "nogrow")]
unsafe extern "C" {
    #[link_name = "memory_grown"]
    fn host_memory_grown(old_pages: u32, new_pages: u32);
}

// SAFETY: `memory.grow` hands out fresh pages `old..old+delta` that nothing else
// uses. `__heap_base..__heap_end` is, by wasm-ld's layout, past all static data
// and the stack. nogrow hands it out once per module (`LINKER_HEAP_TAKEN`), so
// of nogrow's allocators only one ever claims it. The other allocators that
// could take it are a libc `malloc`: on WASI, wasi-libc's malloc is linked
// unless nogrow provides the C allocation family (feature `c-malloc`), and
// `Arena::with_linker_heap` refuses to compile there without it; with it, a
// second `malloc` in the module is a duplicate-symbol link error. Elsewhere no
// libc allocator is linked by the toolchain, and Rust's own `System` allocator
// on wasm32 (dlmalloc) grows memory for itself. No method but `after_growth`
// allocates.
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
        initial_end().map(|end| end.div_ceil(PAGE_SIZE as u64) as usize)
    }

    fn linker_heap(&mut self) -> Option<(*mut u8, usize)> {
        use core::sync::atomic::Ordering::Relaxed;
        let base = &raw const __heap_base as usize;
        let end = initial_end()?;
        if end <= base as u64 || LINKER_HEAP_TAKEN.swap(true, Relaxed) {
            return None;
        }
        // At most 2^32 - 1 bytes: `base` is above 0 when `end` is 2^32.
        let size = (end - base as u64) as usize;
        Some((core::ptr::with_exposed_provenance_mut(base), size))
    }

    #[inline]
    fn after_growth(old_pages: usize, new_pages: usize) {
        #[cfg(feature = "host-notify")]
        // SAFETY: the import takes two integers and has no Rust-side contract.
        // It runs with nogrow's lock released: the host may call allocating
        // exports from it.
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
