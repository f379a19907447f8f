//! The global allocator under test, one per feature.

// ---- nogrow Fail over the static arena --------------------------------------
#[cfg(feature = "nogrow-fail")]
mod chosen {
    nogrow::install!(arena: crate::ARENA_BYTES, policy: Fail);
}

// ---- bare TalcLock<spin, Claim> over the same arena -------------------------
#[cfg(feature = "talc-lock")]
mod chosen {
    use core::mem::MaybeUninit;

    type Lock = talc::sync::TalcLock<
        spin::mutex::SpinMutex<()>,
        talc::source::Claim,
        talc::wasm::WasmBinning,
    >;

    #[global_allocator]
    static ALLOC: Lock = {
        static mut ARENA: [MaybeUninit<u8>; crate::ARENA_BYTES] =
            [MaybeUninit::uninit(); crate::ARENA_BYTES];
        // SAFETY: `ARENA` is named nowhere else: the allocator owns it.
        talc::sync::TalcLock::new(unsafe { talc::source::Claim::array(&raw mut ARENA) })
    };
}

// ---- std's own allocator: no #[global_allocator] ---------------------------
#[cfg(feature = "std-dlmalloc")]
mod chosen {}

/// C `aligned_alloc`/`free` for the host (each thread's stack and TLS block)
/// in the peers without nogrow's `c-malloc`: a block is preceded by its total
/// size and alignment, so `free` needs only the pointer.
#[cfg(any(feature = "talc-lock", feature = "std-dlmalloc"))]
mod c_abi {
    use alloc::alloc::{Layout, alloc, dealloc};

    /// Allocates `size` bytes aligned to `align` (at least 8); null on failure.
    #[unsafe(no_mangle)]
    pub extern "C" fn aligned_alloc(align: usize, size: usize) -> *mut u8 {
        let align = align.max(8);
        let Some(total) = size.checked_add(align) else {
            return core::ptr::null_mut();
        };
        let Ok(layout) = Layout::from_size_align(total, align) else {
            return core::ptr::null_mut();
        };
        // SAFETY: `total >= 8`.
        let base = unsafe { alloc(layout) };
        if base.is_null() {
            return base;
        }
        let user = base.wrapping_add(align);
        // SAFETY: `align >= 8` bytes of the block precede `user`, which is
        // aligned to at least 8.
        unsafe { user.cast::<usize>().sub(2).write(total) };
        // SAFETY: as above.
        unsafe { user.cast::<usize>().sub(1).write(align) };
        user
    }

    /// Frees a block from [`aligned_alloc`].
    ///
    /// # Safety
    ///
    /// `ptr` is null or came from `aligned_alloc` and is freed once.
    #[unsafe(no_mangle)]
    pub unsafe extern "C" fn free(ptr: *mut u8) {
        if ptr.is_null() {
            return;
        }
        // SAFETY: `aligned_alloc` wrote both words right before `ptr`.
        let (total, align) = unsafe {
            (
                ptr.cast::<usize>().sub(2).read(),
                ptr.cast::<usize>().sub(1).read(),
            )
        };
        // SAFETY: the block starts `align` bytes before `ptr`, with this
        // layout (checked when it was allocated).
        unsafe {
            dealloc(
                ptr.wrapping_sub(align),
                Layout::from_size_align_unchecked(total, align),
            )
        };
    }
}
