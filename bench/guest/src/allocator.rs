//! The global allocator under test, one per feature.

// ---- std's default: dlmalloc (no feature) ----------------------------------
#[cfg(not(any(
    feature = "talc-dynamic",
    feature = "talc-arena",
    feature = "talc-lock",
    feature = "lol",
    feature = "wee",
    feature = "rlsf",
    feature = "wasmalloc",
    feature = "bump",
    feature = "none",
    feature = "nogrow-fail",
    feature = "nogrow-fail-fast",
    feature = "nogrow-fail-one-heap",
    feature = "nogrow-reserve",
    feature = "nogrow-signal"
)))]
mod chosen {
    pub const STATIC_ARENA: usize = 0;
    pub const GROWS: bool = true;
}

// ---- talc 5.1 WasmDynamicTalc (grows) ---------------------------------------
#[cfg(feature = "talc-dynamic")]
mod chosen {
    pub const STATIC_ARENA: usize = 0;
    pub const GROWS: bool = true;

    #[global_allocator]
    static ALLOC: talc::wasm::WasmDynamicTalc = talc::wasm::new_wasm_dynamic_allocator();
}

// ---- talc 5.1 WasmArenaTalc (static arena, no lock) -------------------------
#[cfg(feature = "talc-arena")]
mod chosen {
    pub const STATIC_ARENA: usize = crate::ARENA_BYTES;
    pub const GROWS: bool = false;

    #[global_allocator]
    static ALLOC: talc::wasm::WasmArenaTalc = {
        static mut ARENA: [core::mem::MaybeUninit<u8>; STATIC_ARENA] =
            [core::mem::MaybeUninit::uninit(); STATIC_ARENA];
        // SAFETY: `ARENA` is named nowhere else: the allocator owns it.
        unsafe { talc::wasm::new_wasm_arena_allocator(&raw mut ARENA) }
    };
}

// ---- bare TalcLock<spin, Claim>: nogrow minus nogrow's own code -------------
#[cfg(feature = "talc-lock")]
mod chosen {
    pub const STATIC_ARENA: usize = crate::ARENA_BYTES;
    pub const GROWS: bool = false;

    #[global_allocator]
    static ALLOC: talc::sync::TalcLock<
        spin::mutex::SpinMutex<()>,
        talc::source::Claim,
        talc::wasm::WasmBinning,
    > = {
        static mut ARENA: [core::mem::MaybeUninit<u8>; STATIC_ARENA] =
            [core::mem::MaybeUninit::uninit(); STATIC_ARENA];
        // SAFETY: `ARENA` is named nowhere else: the allocator owns it.
        talc::sync::TalcLock::new(unsafe { talc::source::Claim::array(&raw mut ARENA) })
    };
}

// ---- lol_alloc FreeListAllocator (grows) ------------------------------------
#[cfg(feature = "lol")]
mod chosen {
    pub const STATIC_ARENA: usize = 0;
    pub const GROWS: bool = true;

    #[global_allocator]
    // SAFETY: this wasm32 module has a single thread.
    static ALLOC: lol_alloc::AssumeSingleThreaded<lol_alloc::FreeListAllocator> =
        unsafe { lol_alloc::AssumeSingleThreaded::new(lol_alloc::FreeListAllocator::new()) };
}

// ---- wee_alloc (grows; unmaintained, leaks on some patterns) ----------------
#[cfg(feature = "wee")]
mod chosen {
    pub const STATIC_ARENA: usize = 0;
    pub const GROWS: bool = true;

    #[global_allocator]
    static ALLOC: wee_alloc::WeeAlloc<'static> = wee_alloc::WeeAlloc::INIT;
}

// ---- rlsf GlobalTlsf (grows) -------------------------------------------------
#[cfg(feature = "rlsf")]
mod chosen {
    pub const STATIC_ARENA: usize = 0;
    pub const GROWS: bool = true;

    #[global_allocator]
    static ALLOC: rlsf::GlobalTlsf = rlsf::GlobalTlsf::new();
}

// ---- wasmalloc WasmAlloc: mimalloc-style size classes (grows) --------------
#[cfg(feature = "wasmalloc")]
mod chosen {
    pub const STATIC_ARENA: usize = 0;
    pub const GROWS: bool = true;

    #[cfg(target_arch = "wasm32")]
    #[global_allocator]
    static ALLOC: wasmalloc::WasmAlloc = wasmalloc::WasmAlloc::new();
}

// ---- bump over the static arena: never frees (the speed ceiling) -----------
#[cfg(feature = "bump")]
mod chosen {
    use core::{
        alloc::{GlobalAlloc, Layout},
        mem::MaybeUninit,
        sync::atomic::{AtomicUsize, Ordering::Relaxed},
    };

    pub const STATIC_ARENA: usize = crate::ARENA_BYTES;
    pub const GROWS: bool = false;

    static mut ARENA: [MaybeUninit<u8>; STATIC_ARENA] = [MaybeUninit::uninit(); STATIC_ARENA];

    /// Hands out `ARENA` front to back; `dealloc` does nothing.
    struct Bump {
        used: AtomicUsize,
    }

    // SAFETY: blocks are disjoint ranges of `ARENA`, aligned as asked, never
    // handed out twice; the module is single-threaded (relaxed load/store).
    unsafe impl GlobalAlloc for Bump {
        #[inline]
        unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
            let base = (&raw mut ARENA).cast::<u8>();
            let used = self.used.load(Relaxed);
            let start = (base as usize + used).next_multiple_of(layout.align()) - base as usize;
            match start.checked_add(layout.size()) {
                Some(end) if end <= STATIC_ARENA => {
                    self.used.store(end, Relaxed);
                    base.wrapping_add(start)
                }
                _ => core::ptr::null_mut(),
            }
        }

        #[inline]
        unsafe fn dealloc(&self, _ptr: *mut u8, _layout: Layout) {}
    }

    #[global_allocator]
    static ALLOC: Bump = Bump {
        used: AtomicUsize::new(0),
    };
}

// ---- no allocator: the size floor (every allocation fails) ------------------
#[cfg(feature = "none")]
mod chosen {
    use core::alloc::{GlobalAlloc, Layout};

    pub const STATIC_ARENA: usize = 0;
    pub const GROWS: bool = false;

    struct Null;

    // SAFETY: never hands out memory, so it can break no contract.
    unsafe impl GlobalAlloc for Null {
        unsafe fn alloc(&self, _layout: Layout) -> *mut u8 {
            // Opaque, so the probe's code around the call is kept.
            core::hint::black_box(core::ptr::null_mut())
        }
        unsafe fn dealloc(&self, _ptr: *mut u8, _layout: Layout) {}
    }

    #[global_allocator]
    static ALLOC: Null = Null;
}

// ---- nogrow -----------------------------------------------------------------
#[cfg(feature = "nogrow-fail")]
mod chosen {
    pub const STATIC_ARENA: usize = crate::ARENA_BYTES;
    pub const GROWS: bool = false;
    nogrow::install!(arena: crate::ARENA_BYTES, policy: Fail);
}

// nogrow Fail with talc's own binning (`binning::Fast`) instead of the
// default `Compact`: the binning's share of nogrow's speed and capacity.
#[cfg(feature = "nogrow-fail-fast")]
mod chosen {
    pub const STATIC_ARENA: usize = crate::ARENA_BYTES;
    pub const GROWS: bool = false;
    nogrow::arena! {
        #[global_allocator]
        pub static NOGROW: nogrow::Nogrow<nogrow::Fail, nogrow::WasmMemory, nogrow::binning::Fast> =
            (crate::ARENA_BYTES, nogrow::Fail);
    }
    nogrow::export_abi!(NOGROW);
    nogrow::policy_section!(nogrow::Fail);
}

// nogrow Fail as the global allocator is on wasm32-wasip2 with `c-malloc`:
// every Rust block carries the C header (`nogrow::c_alloc::rust_alloc` and
// the rest, the functions `GlobalAlloc` runs there), so the price of one heap
// for Rust and C blocks is measured here on the benchmark's own target.
#[cfg(feature = "nogrow-fail-one-heap")]
mod chosen {
    use core::alloc::{GlobalAlloc, Layout};

    use nogrow::c_alloc;

    pub const STATIC_ARENA: usize = crate::ARENA_BYTES;
    pub const GROWS: bool = false;
    nogrow::arena! {
        pub static NOGROW: nogrow::Nogrow<nogrow::Fail> = (crate::ARENA_BYTES, nogrow::Fail);
    }
    nogrow::export_abi!(NOGROW);
    nogrow::policy_section!(nogrow::Fail);

    struct OneHeap;

    // SAFETY: every method forwards to nogrow's one-heap functions over one
    // allocator, which hand out blocks with a header and free or resize only
    // blocks whose header checks out (stopping the program otherwise): the
    // blocks `alloc` returned, as `GlobalAlloc`'s callers guarantee.
    unsafe impl GlobalAlloc for OneHeap {
        unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
            c_alloc::rust_alloc(&NOGROW, layout, false)
        }
        unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
            c_alloc::rust_alloc(&NOGROW, layout, true)
        }
        unsafe fn dealloc(&self, ptr: *mut u8, _layout: Layout) {
            // SAFETY: the caller guarantees `ptr` is a live block of this
            // allocator; a header that does not check out stops the program.
            unsafe { c_alloc::rust_dealloc(&NOGROW, ptr) }.unwrap_or_else(|e| e.abort())
        }
        unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
            // SAFETY: as `dealloc`; `new_size` is valid for `layout`'s alignment.
            unsafe { c_alloc::rust_realloc(&NOGROW, ptr, layout, new_size) }
                .unwrap_or_else(|e| e.abort())
        }
    }

    #[global_allocator]
    static ALLOC: OneHeap = OneHeap;
}

#[cfg(feature = "nogrow-reserve")]
mod chosen {
    pub const STATIC_ARENA: usize = crate::ARENA_BYTES / 2;
    pub const GROWS: bool = false;
    nogrow::install!(
        arena: crate::ARENA_BYTES / 2,
        policy: Reserve::bytes(crate::ARENA_BYTES / 2)
    );
}

#[cfg(feature = "nogrow-signal")]
mod chosen {
    pub const STATIC_ARENA: usize = 1 << 20;
    pub const GROWS: bool = true;
    nogrow::install!(
        arena: 1 << 20,
        policy: Signal::new().limit_pages(crate::MAX_MEMORY_BYTES / nogrow::PAGE_SIZE)
    );
}

pub use chosen::{GROWS, STATIC_ARENA};
