//! The C allocation family — `malloc`, `calloc`, `realloc`, `free`,
//! `aligned_alloc`, `posix_memalign`, `malloc_usable_size` — over a nogrow
//! allocator, so C code in the module (wasi-libc itself, `cc`-built
//! dependencies) allocates from the same heap, under the same policy and
//! accounting, and never calls `sbrk`.
//!
//! With the `c-malloc` cargo feature, [`install!`](crate::install) and
//! [`export_abi!`](crate::export_abi) define the C symbols on wasm targets
//! (on WASI, wasi-libc's own `malloc` is then not linked at all). The
//! functions here are the portable logic behind those symbols, usable and
//! tested on any target.
//!
//! Every C block carries a small header just below the pointer C sees: its
//! size, its alignment and a check word. That is how `free` finds the layout
//! Rust's allocator interface needs, and how a `free` of a pointer this family
//! did not hand out, or a second `free` of one, is caught (most of the time:
//! see [`free`]) instead of corrupting the heap. A block's header is checked
//! and retired in one step under the allocator's lock, before the block goes
//! back to the heap, so of two `free`s of one pointer (or a `free` after a
//! `realloc` that moved it) only one gets the block, on any thread. The header costs
//! [`HEADER_SPACE`] bytes per block, which the allocator's counters include
//! (`in_use` counts a C block of `n` bytes as `n + HEADER_SPACE` or more).
//!
//! # One heap for Rust and C blocks (`wasm32-wasip2`)
//!
//! In a `wasm32-wasip2` component, blocks cross between the two families:
//! the canonical ABI's `cabi_realloc` (std's, over the global allocator)
//! allocates every string and list the host lowers into the guest, and
//! wasi-libc frees the ones its own imports received with C `free`; a
//! wit-bindgen export frees its arguments with Rust's `dealloc`. So in those
//! builds ([`RUST_BLOCKS_HAVE_HEADERS`]: `c-malloc` on `target_os = "wasi"`
//! other than `target_env = "p1"`) the global allocator's blocks carry the same header
//! as C blocks: [`rust_alloc`], [`rust_dealloc`] and [`rust_realloc`] are what
//! `GlobalAlloc` runs, and a block may be allocated by one family and freed
//! or resized by the other. A block's header lies outside the bytes of every
//! live block, so no safe code can write it, and freeing is decided by the
//! header alone: a Rust `dealloc` of a pointer whose header does not check
//! out (one nogrow never handed out, or one already freed) stops the
//! program, as C `free` does.
//!
//! Behaviour where C leaves a choice follows wasi-libc's dlmalloc:
//! `malloc(0)` and `realloc(p, 0)` return a unique, freeable pointer;
//! blocks are aligned to [`MALLOC_ALIGN`] (16); a failure returns null and
//! sets `errno` to `ENOMEM` (on WASI; other wasm targets have no `errno`).
//! `aligned_alloc` with an alignment that is not a power of two returns null
//! with `EINVAL`, as C17 specifies (dlmalloc would round it up).

use core::{alloc::Layout, mem::size_of, ptr::null_mut};

use talc::base::binning::Binning;

use crate::{Memory, Nogrow, Policy, alloc::Guard};

/// Alignment of every block `malloc`, `calloc` and `realloc` return:
/// `alignof(max_align_t)` on wasm32, as wasi-libc's dlmalloc.
pub const MALLOC_ALIGN: usize = 16;

/// Whether the global allocator's own blocks ([`GlobalAlloc`](core::alloc::GlobalAlloc) on a
/// [`Nogrow`]) carry the C header, so that Rust and C blocks are one kind:
/// true with the `c-malloc` feature on WASI's component targets
/// (`wasm32-wasip2`: `target_os = "wasi"` and a `target_env` other than
/// `p1`, the targets whose std defines `cabi_realloc`), where the canonical
/// ABI makes blocks cross between the families. The price is
/// [`HEADER_SPACE`] bytes per Rust block, and blocks aligned to at least
/// [`MALLOC_ALIGN`].
pub const RUST_BLOCKS_HAVE_HEADERS: bool = cfg!(all(
    feature = "c-malloc",
    target_os = "wasi",
    not(target_env = "p1")
));

/// What sits below every C block's pointer.
#[repr(C)]
#[derive(Clone, Copy)]
struct Header {
    /// Alignment of the underlying allocation (at least [`MALLOC_ALIGN`]).
    align: usize,
    /// Bytes C asked for.
    size: usize,
    /// [`check_word`] of the block while it is live.
    check: usize,
}

const HEADER: usize = size_of::<Header>();

/// Bytes reserved below a C block for its header (for alignments up to
/// itself): 16 on wasm32, 32 on 64-bit targets.
pub const HEADER_SPACE: usize = if HEADER.next_power_of_two() > MALLOC_ALIGN {
    HEADER.next_power_of_two()
} else {
    MALLOC_ALIGN
};

/// An `errno` value, as wasi-libc numbers them (the numbers C code in a
/// wasm module sees).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Errno {
    /// `ENOMEM`: out of memory.
    NoMemory,
    /// `EINVAL`: an invalid alignment.
    Invalid,
}

impl Errno {
    /// The number (WASI's: `ENOMEM` 48, `EINVAL` 28).
    pub const fn wasi(self) -> i32 {
        match self {
            Errno::NoMemory => 48,
            Errno::Invalid => 28,
        }
    }
}

/// `free`, `realloc` or `malloc_usable_size` was given a pointer that this
/// family did not hand out, or one already freed. C calls this undefined
/// behaviour; the C symbols abort (trap) with it, since carrying on would
/// corrupt the heap.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct InvalidPointer(pub *mut u8);

impl InvalidPointer {
    /// Stops the program: a trap on wasm32 in release builds (no message
    /// code), a panic naming the pointer otherwise.
    #[cold]
    #[inline(never)]
    pub fn abort(self) -> ! {
        #[cfg(target_arch = "wasm32")]
        if !cfg!(debug_assertions) {
            core::arch::wasm32::unreachable()
        }
        panic!(
            "nogrow: free/realloc of {:p}, which the C allocation family did not hand out \
             or which was already freed",
            self.0
        )
    }
}

fn check_word(user: *mut u8, size: usize, align: usize) -> usize {
    const MAGIC: usize = 0x6e67_726f_u32 as usize; // "ngro"
    MAGIC ^ user.addr() ^ size.rotate_left(7) ^ align.rotate_left(13)
}

/// Bytes between the underlying allocation and the pointer C sees.
const fn offset(align: usize) -> usize {
    if align > HEADER_SPACE {
        align
    } else {
        HEADER_SPACE
    }
}

/// The underlying layout of a C block of `size` bytes aligned to `align` (a
/// power of two, at least [`MALLOC_ALIGN`]), if it can exist.
fn underlying(size: usize, align: usize) -> Option<Layout> {
    let total = offset(align).checked_add(size)?;
    Layout::from_size_align(total, align).ok()
}

/// Allocates a C block. On failure: null, `errno = ENOMEM`, and the failure
/// recorded in the state block.
fn allocate<P: Policy, M: Memory, B: Binning>(
    alloc: &Nogrow<P, M, B>,
    size: usize,
    align: usize,
    zeroed: bool,
) -> *mut u8 {
    let user = allocate_block(alloc, size, align, zeroed);
    if user.is_null() {
        crate::wasm::set_errno(Errno::NoMemory);
    }
    user
}

/// Allocates a block with a header, of `size` bytes aligned to `align` (a
/// power of two; raised to [`MALLOC_ALIGN`]). On failure: null, and the
/// failure recorded in the state block.
fn allocate_block<P: Policy, M: Memory, B: Binning>(
    alloc: &Nogrow<P, M, B>,
    size: usize,
    align: usize,
    zeroed: bool,
) -> *mut u8 {
    let align = align.max(MALLOC_ALIGN);
    let Some(layout) = underlying(size, align) else {
        // No such block can exist: fail as the allocator would, recorded.
        alloc.record_failure(size, align);
        return null_mut();
    };
    // SAFETY: `layout` has a non-zero size (the header space).
    let base = unsafe {
        if zeroed {
            alloc.block_alloc_zeroed(layout)
        } else {
            alloc.block_alloc(layout)
        }
    };
    if base.is_null() {
        return base;
    }
    // SAFETY: the block has `offset(align) + size` bytes, so `user` is inside
    // it (or one past its end when `size == 0`).
    let user = unsafe { base.add(offset(align)) };
    // SAFETY: `user - HEADER ..user` lies in the block's header space, which
    // is at least `HEADER` bytes; `user` is aligned to at least 16 and `HEADER`
    // is a multiple of `usize`'s alignment, so the header is aligned.
    unsafe { write_header(user, size, align) };
    user
}

/// # Safety
///
/// `user - HEADER..user` must be writable and belong to the C block at `user`.
unsafe fn write_header(user: *mut u8, size: usize, align: usize) {
    let header = Header {
        align,
        size,
        check: check_word(user, size, align),
    };
    // SAFETY: forwarded from the caller; aligned as explained in `allocate`.
    unsafe { user.sub(HEADER).cast::<Header>().write(header) };
}

/// Reads and checks the header of the C block at `user`.
///
/// # Safety
///
/// `user` is non-null, and if it is aligned to [`MALLOC_ALIGN`] and at least
/// [`HEADER_SPACE`], the `HEADER` bytes below it are readable.
unsafe fn header(user: *mut u8) -> Result<Header, InvalidPointer> {
    let invalid = InvalidPointer(user);
    if user.addr() % MALLOC_ALIGN != 0 || user.addr() < HEADER_SPACE {
        return Err(invalid);
    }
    // SAFETY: readable by the caller's guarantee; aligned since `user` is
    // 16-aligned and `HEADER` a multiple of `usize`'s size.
    let h = unsafe { user.sub(HEADER).cast::<Header>().read() };
    let valid = h.check == check_word(user, h.size, h.align)
        && h.align.is_power_of_two()
        && h.align >= MALLOC_ALIGN
        && user.addr() % h.align == 0
        && underlying(h.size, h.align).is_some();
    if valid { Ok(h) } else { Err(invalid) }
}

/// Checks the header of the C block at `user` and, if it checks out, retires
/// it (spoils its check word), under `alloc`'s lock: of several callers with
/// one pointer, exactly one gets its header.
///
/// # Safety
///
/// As [`header`].
unsafe fn take_header<P: Policy, M: Memory, B: Binning>(
    alloc: &Nogrow<P, M, B>,
    user: *mut u8,
) -> Result<Header, InvalidPointer> {
    let mut lock = alloc.lock();
    // SAFETY: forwarded from the caller.
    unsafe { take_header_locked(&mut lock, user) }
}

/// [`take_header`] under `alloc`'s lock, which the caller holds.
///
/// # Safety
///
/// As [`header`].
unsafe fn take_header_locked<P: Policy, M: Memory, B: Binning>(
    _lock: &mut Guard<'_, P, M, B>,
    user: *mut u8,
) -> Result<Header, InvalidPointer> {
    // SAFETY: forwarded from the caller.
    let h = unsafe { header(user)? };
    // SAFETY: the header checked out, so it lies in the live block's header
    // space; spoiling its check word makes every later check of `user` fail.
    unsafe {
        user.sub(HEADER).cast::<Header>().write(Header {
            check: !h.check,
            ..h
        })
    };
    Ok(h)
}

/// The underlying block of the live C block at `user` with header `h`.
fn base_and_layout(user: *mut u8, h: Header) -> (*mut u8, Layout) {
    // `header` checked that the layout exists.
    let layout = underlying(h.size, h.align).unwrap_or(Layout::new::<u8>());
    (user.wrapping_sub(offset(h.align)), layout)
}

/// C `malloc`: `size` bytes aligned to [`MALLOC_ALIGN`], or null (`ENOMEM`).
/// `malloc(0)` returns a unique pointer that `free` accepts.
pub fn malloc<P: Policy, M: Memory, B: Binning>(alloc: &Nogrow<P, M, B>, size: usize) -> *mut u8 {
    allocate(alloc, size, MALLOC_ALIGN, false)
}

/// C `calloc`: `count * size` zeroed bytes, or null (`ENOMEM`, also when the
/// product overflows).
pub fn calloc<P: Policy, M: Memory, B: Binning>(
    alloc: &Nogrow<P, M, B>,
    count: usize,
    size: usize,
) -> *mut u8 {
    match count.checked_mul(size) {
        Some(bytes) => allocate(alloc, bytes, MALLOC_ALIGN, true),
        None => {
            alloc.record_failure(usize::MAX, MALLOC_ALIGN);
            crate::wasm::set_errno(Errno::NoMemory);
            null_mut()
        }
    }
}

/// C11 `aligned_alloc`: `size` bytes aligned to `align`. Null with `EINVAL`
/// when `align` is not a power of two, null with `ENOMEM` when out of memory.
pub fn aligned_alloc<P: Policy, M: Memory, B: Binning>(
    alloc: &Nogrow<P, M, B>,
    align: usize,
    size: usize,
) -> *mut u8 {
    if !align.is_power_of_two() {
        crate::wasm::set_errno(Errno::Invalid);
        return null_mut();
    }
    allocate(alloc, size, align, false)
}

/// POSIX `posix_memalign`: on success stores the block in `*out` and returns
/// 0; returns `EINVAL` when `align` is not a power of two multiple of
/// `size_of::<*mut u8>()`, `ENOMEM` when out of memory, leaving `*out` alone.
///
/// # Safety
///
/// `out` must be valid for a write of a pointer.
pub unsafe fn posix_memalign<P: Policy, M: Memory, B: Binning>(
    alloc: &Nogrow<P, M, B>,
    out: *mut *mut u8,
    align: usize,
    size: usize,
) -> i32 {
    if !align.is_power_of_two() || align % size_of::<*mut u8>() != 0 {
        return Errno::Invalid.wasi();
    }
    let block = allocate(alloc, size, align, false);
    if block.is_null() {
        return Errno::NoMemory.wasi();
    }
    // SAFETY: the caller guarantees `out` is writable.
    unsafe { out.write(block) };
    0
}

/// C `free`. Null is ignored. Returns [`InvalidPointer`] (and frees nothing)
/// for a pointer whose header does not check out.
///
/// # Safety
///
/// `ptr` must be null or a block from this family on `alloc`, not freed
/// since. Anything else is undefined behaviour, as in C. The header check
/// catches a second `free` of a block, a `free` of a pointer a moving
/// `realloc` already freed, and most pointers from elsewhere, but not all: it
/// reads the bytes below `ptr`, which must at least be readable; a pointer
/// whose block was freed and then handed out again at the same address is
/// that new block (as with any `malloc`); and the check word guards against
/// mistakes, not against code that forges a header on purpose (it is
/// computed from the address, size and alignment, with no secret).
pub unsafe fn free<P: Policy, M: Memory, B: Binning>(
    alloc: &Nogrow<P, M, B>,
    ptr: *mut u8,
) -> Result<(), InvalidPointer> {
    if ptr.is_null() {
        return Ok(());
    }
    // One lock for the check, the retirement and the freeing.
    let mut lock = alloc.lock();
    // SAFETY: `ptr` is non-null and, by the caller's guarantee, a live C block.
    let h = unsafe { take_header_locked(&mut lock, ptr)? };
    let (base, layout) = base_and_layout(ptr, h);
    // SAFETY: the block came from `alloc` with `layout` (its header says so,
    // and checked out), and this call took its header: no other can free it.
    unsafe { alloc.block_dealloc_locked(&mut lock, base, layout) };
    Ok(())
}

/// C `realloc`: null `ptr` is `malloc(size)`; otherwise the block is resized
/// (moved if needed, contents kept up to the smaller size, alignment kept).
/// `size == 0` returns a unique minimal block, as wasi-libc does. On failure
/// returns null with `ENOMEM` and the old block is untouched and still live.
///
/// # Safety
///
/// As [`free`] for `ptr`.
pub unsafe fn realloc<P: Policy, M: Memory, B: Binning>(
    alloc: &Nogrow<P, M, B>,
    ptr: *mut u8,
    size: usize,
) -> Result<*mut u8, InvalidPointer> {
    if ptr.is_null() {
        return Ok(malloc(alloc, size));
    }
    // SAFETY: forwarded from the caller.
    let user = unsafe { reallocate(alloc, ptr, size, MALLOC_ALIGN)? };
    if user.is_null() {
        crate::wasm::set_errno(Errno::NoMemory);
    }
    Ok(user)
}

/// Resizes the block with a header at `ptr` (non-null) to `size` bytes,
/// aligned to at least `align` and to its own alignment; null when out of
/// memory (the failure recorded, the old block untouched and still live).
///
/// # Safety
///
/// As [`free`] for `ptr`.
unsafe fn reallocate<P: Policy, M: Memory, B: Binning>(
    alloc: &Nogrow<P, M, B>,
    ptr: *mut u8,
    size: usize,
    align: usize,
) -> Result<*mut u8, InvalidPointer> {
    // SAFETY: `ptr` is non-null and, by the caller's guarantee, a live block
    // with a header.
    let h = unsafe { take_header(alloc, ptr)? };
    let (base, layout) = base_and_layout(ptr, h);
    let restore = || {
        let _lock = alloc.lock();
        // SAFETY: the block is still live and this call holds its header
        // (taken above): the header space is the block's, and writable.
        unsafe { write_header(ptr, h.size, h.align) };
    };
    if align > h.align {
        // A stricter alignment than the block has: a new block, the bytes
        // copied, the old one freed.
        let new = allocate_block(alloc, size, align, false);
        if new.is_null() {
            restore();
            return Ok(new);
        }
        // SAFETY: both blocks are live and distinct; `ptr` has `h.size`
        // bytes, `new` has `size`.
        unsafe { new.copy_from_nonoverlapping(ptr, h.size.min(size)) };
        // SAFETY: the block came from `alloc` with `layout` (checked header)
        // and this call took its header: no other can free it.
        unsafe { alloc.block_dealloc(base, layout) };
        return Ok(new);
    }
    let Some(new_layout) = underlying(size, h.align) else {
        restore();
        alloc.record_failure(size, h.align);
        return Ok(null_mut());
    };
    // SAFETY: `base` came from `alloc` with `layout` (checked header); the
    // new size is non-zero and valid for the alignment (`underlying`). If the
    // block moves, the old one is freed with its header already retired, so
    // a stale `free(ptr)` later fails the check.
    let new_base = unsafe { alloc.block_realloc(base, layout, new_layout.size()) };
    if new_base.is_null() {
        // The old block is untouched and still the caller's.
        restore();
        return Ok(null_mut());
    }
    // SAFETY: as in `allocate_block`: the header space of the (possibly
    // moved) block, which realloc kept at the same offset and alignment.
    let user = unsafe { new_base.add(offset(h.align)) };
    // SAFETY: see above.
    unsafe { write_header(user, size, h.align) };
    Ok(user)
}

/// The global allocator's `alloc` (and `alloc_zeroed`) where Rust blocks
/// carry the C header ([`RUST_BLOCKS_HAVE_HEADERS`]): a block for `layout`
/// that C `free`, `realloc` and `malloc_usable_size` accept, aligned to
/// `layout.align()` and at least [`MALLOC_ALIGN`]; null when out of memory
/// (the failure recorded; `errno` is left alone).
pub fn rust_alloc<P: Policy, M: Memory, B: Binning>(
    alloc: &Nogrow<P, M, B>,
    layout: Layout,
    zeroed: bool,
) -> *mut u8 {
    allocate_block(alloc, layout.size(), layout.align(), zeroed)
}

/// The global allocator's `dealloc` where Rust blocks carry the C header: a
/// block from [`rust_alloc`] or from the C family, freed by what its header
/// says (so the layout Rust passes is not needed). Returns
/// [`InvalidPointer`] (and frees nothing) when the header does not check out.
///
/// # Safety
///
/// As [`free`] for `ptr`.
pub unsafe fn rust_dealloc<P: Policy, M: Memory, B: Binning>(
    alloc: &Nogrow<P, M, B>,
    ptr: *mut u8,
) -> Result<(), InvalidPointer> {
    if ptr.is_null() {
        return Err(InvalidPointer(ptr));
    }
    // SAFETY: forwarded from the caller.
    unsafe { free(alloc, ptr) }
}

/// The global allocator's `realloc` where Rust blocks carry the C header:
/// the block at `ptr` (from [`rust_alloc`] or the C family) resized to
/// `new_size` bytes, aligned to `layout.align()` (moved if its own alignment
/// is less); null when out of memory, the old block untouched and live.
///
/// # Safety
///
/// As [`free`] for `ptr`.
pub unsafe fn rust_realloc<P: Policy, M: Memory, B: Binning>(
    alloc: &Nogrow<P, M, B>,
    ptr: *mut u8,
    layout: Layout,
    new_size: usize,
) -> Result<*mut u8, InvalidPointer> {
    if ptr.is_null() {
        return Err(InvalidPointer(ptr));
    }
    // SAFETY: forwarded from the caller.
    unsafe { reallocate(alloc, ptr, new_size, layout.align()) }
}

/// `malloc_usable_size`: the bytes C may use at `ptr` (the size it asked
/// for); 0 for null.
///
/// # Safety
///
/// As [`free`] for `ptr`.
pub unsafe fn malloc_usable_size<P: Policy, M: Memory, B: Binning>(
    alloc: &Nogrow<P, M, B>,
    ptr: *mut u8,
) -> Result<usize, InvalidPointer> {
    if ptr.is_null() {
        return Ok(0);
    }
    let _lock = alloc.lock();
    // SAFETY: `ptr` is non-null and, by the caller's guarantee, a live C block.
    Ok(unsafe { header(ptr)? }.size)
}

/// The C symbols a module needs so that no other `malloc` is linked: the
/// seven standard functions and the three `__libc_*` aliases wasi-libc's own
/// code calls. (Found with the linker: wasi-libc's `dlmalloc.c.obj` defines
/// exactly these, and nothing else in its `libc.a` references an allocation
/// symbol outside them.)
pub const SYMBOLS: [&str; 10] = [
    "malloc",
    "calloc",
    "realloc",
    "free",
    "aligned_alloc",
    "posix_memalign",
    "malloc_usable_size",
    "__libc_malloc",
    "__libc_calloc",
    "__libc_free",
];
