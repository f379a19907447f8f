//! The linear memory nogrow's policies act on, behind one small trait.
//!
//! [`Memory`] is the only place where nogrow touches the platform. The wasm32
//! implementation ([`WasmMemory`](crate::WasmMemory)) lives in its own thin
//! module; [`SliceMemory`] simulates a growable linear memory over a byte region
//! the caller owns, so every policy decision runs in `cargo test` on the host and
//! under Miri, including a memory that refuses to grow at chosen moments.

/// Size of a WebAssembly page in bytes.
pub const PAGE_SIZE: usize = 64 * 1024;

/// The most pages a 32-bit linear memory can have (4 GiB).
pub const MAX_PAGES_32: usize = 65_536;

/// A linear memory: something that has a size in pages and may grow.
///
/// # Safety
///
/// Implementors guarantee that:
/// - [`grow`](Memory::grow) only succeeds when the pages
///   `old..old + delta` now exist, are not used by anyone else, and stay valid
///   for as long as the allocator lives; [`region`](Memory::region) returns a
///   pointer to the first byte of page `first`, valid for reads and writes of
///   `pages * PAGE_SIZE` bytes for pages that exist;
/// - [`linker_heap`](Memory::linker_heap), when it returns a region, returns
///   memory that exists and that nothing else in the program uses;
/// - [`linker_heap`](Memory::linker_heap) returns a region at most once in the
///   program's life (so no two allocators can claim it);
/// - no method but [`after_growth`](Memory::after_growth) allocates through the
///   global allocator (nogrow calls them while holding its lock: an allocation
///   there deadlocks, or panics where nogrow can name the thread).
///
/// # Threads
///
/// nogrow calls a memory's methods only while it holds its lock, from whichever
/// thread holds it at the time. So an allocator over `M` is shared between
/// threads (is `Sync`, as a `#[global_allocator]` static must be) only when
/// `M: Send`; a memory that must stay on one thread (one holding an `Rc`, say)
/// simply is not `Send`, and an allocator over it cannot be a `static`.
pub unsafe trait Memory: core::fmt::Debug {
    /// Current size of the memory in pages.
    fn pages(&mut self) -> usize;

    /// Grows the memory by `delta` pages. Returns the previous size in pages,
    /// or `None` when the memory refuses (engine maximum, host limit).
    fn grow(&mut self, delta: usize) -> Option<usize>;

    /// Pointer to the first byte of page `first`.
    fn region(&mut self, first: usize) -> *mut u8;

    /// Size in pages the memory had when the module was instantiated, if the
    /// platform can tell (on wasm32, wasm-ld's `__heap_end`, the end of the
    /// initial memory). nogrow counts growth from there, so growth by anyone
    /// before its first allocation still bumps the generation. `None`: nogrow
    /// counts from its first look.
    fn initial_pages(&mut self) -> Option<usize> {
        None
    }

    /// Free memory the program was given at link time beyond its static data
    /// (on wasm32, `__heap_base..__heap_end`), if any. Using it is not growth.
    fn linker_heap(&mut self) -> Option<(*mut u8, usize)> {
        None
    }

    /// One past the highest address the memory's pointers can have: 2^32 on
    /// wasm32, where the memory spans the whole address space (the default,
    /// [`ADDRESS_SPACE_END`](crate::policy::ADDRESS_SPACE_END)). nogrow keeps
    /// its heap, and the requests it asks talc about, below it (see the crate
    /// docs, "Soundness"). A test memory may end the space earlier, to stand
    /// in for a full 32-bit memory.
    fn address_space_end(&mut self) -> u64 {
        crate::policy::ADDRESS_SPACE_END
    }

    /// Called right after nogrow grew the memory from `old_pages` to
    /// `new_pages` (and after it bumped the generation counter), under the
    /// allocator's lock: it must not allocate.
    fn notify_grown(&mut self, old_pages: usize, new_pages: usize) {
        let _ = (old_pages, new_pages);
    }

    /// Called after nogrow grew the memory (from `old_pages` to `new_pages`
    /// over one allocation, reserve or reallocation) and released its lock,
    /// before that call returns: the place for a host hook. It may allocate
    /// (through the same allocator too), block or take long; other threads
    /// allocate meanwhile.
    fn after_growth(old_pages: usize, new_pages: usize)
    where
        Self: Sized,
    {
        let _ = (old_pages, new_pages);
    }
}

/// A simulated linear memory over a byte region the caller owns.
///
/// Page `i` lives at `base + i * PAGE_SIZE`. The memory starts with `initial`
/// pages and can grow up to `max` pages (the length of the region), unless told
/// to refuse: [`refuse_after`](SliceMemory::refuse_after) makes it refuse every
/// growth once a number of growths succeeded, like an engine or host limit
/// arriving at a chosen moment. It records every growth notification, so tests
/// can check what the host would have been told.
#[derive(Debug)]
pub struct SliceMemory {
    base: *mut u8,
    pages: usize,
    max: usize,
    initial: usize,
    heap_from: usize,
    growths_left: usize,
    spans_address_space: bool,
    /// Number of [`Memory::notify_grown`] calls seen.
    pub notifications: usize,
    /// The last `(old_pages, new_pages)` notification.
    pub last_notification: (usize, usize),
}

// SAFETY: `SliceMemory` owns (by its constructor's contract) the region behind
// `base`; moving it to another thread moves that ownership.
unsafe impl Send for SliceMemory {}

impl SliceMemory {
    /// A memory of `initial` pages that can grow to `max` pages, over
    /// `max * PAGE_SIZE` bytes at `base`.
    ///
    /// # Safety
    ///
    /// `base` must be valid for reads and writes of `max * PAGE_SIZE` bytes for
    /// as long as the memory and any allocator using it live, and nothing else
    /// may use that region.
    pub const unsafe fn new(base: *mut u8, initial: usize, max: usize) -> Self {
        assert!(initial <= max, "SliceMemory: initial pages above max");
        Self {
            base,
            pages: initial,
            max,
            initial,
            heap_from: initial,
            growths_left: usize::MAX,
            spans_address_space: false,
            notifications: 0,
            last_notification: (0, 0),
        }
    }

    /// Offers pages `first..initial` as the linker-given heap
    /// ([`Memory::linker_heap`]); by default there is none.
    pub const fn with_linker_heap_from(mut self, first: usize) -> Self {
        self.heap_from = first;
        self
    }

    /// Stands in for a 32-bit memory that spans the whole address space: the
    /// address space ends where the region ends
    /// ([`Memory::address_space_end`]), so nogrow treats the region's top as
    /// the top of memory on wasm32 (2^32), where sums of addresses wrap.
    pub const fn spanning_the_address_space(mut self) -> Self {
        self.spans_address_space = true;
        self
    }

    /// After `n` more successful growths, refuse every growth.
    pub fn refuse_after(&mut self, n: usize) {
        self.growths_left = n;
    }

    /// The most pages this memory can reach.
    pub fn max_pages(&self) -> usize {
        self.max
    }

    /// Address of the first byte of the region.
    pub fn base(&self) -> *mut u8 {
        self.base
    }
}

// SAFETY: `grow` succeeds only within `max` pages of the region the
// constructor's caller handed over, and hands out each page once (pages only
// increase); `linker_heap` returns pages `heap_from..initial` once (then
// none), below every grown page and untouched by anything else. No method
// allocates.
unsafe impl Memory for SliceMemory {
    fn pages(&mut self) -> usize {
        self.pages
    }

    fn grow(&mut self, delta: usize) -> Option<usize> {
        let new = self.pages.checked_add(delta)?;
        if new > self.max || self.growths_left == 0 {
            return None;
        }
        self.growths_left = self.growths_left.saturating_sub(1);
        let old = self.pages;
        self.pages = new;
        Some(old)
    }

    fn region(&mut self, first: usize) -> *mut u8 {
        self.base.wrapping_add(first.saturating_mul(PAGE_SIZE))
    }

    fn initial_pages(&mut self) -> Option<usize> {
        Some(self.initial)
    }

    fn address_space_end(&mut self) -> u64 {
        if self.spans_address_space {
            (self.base.addr() + self.max * PAGE_SIZE) as u64
        } else {
            crate::policy::ADDRESS_SPACE_END
        }
    }

    fn linker_heap(&mut self) -> Option<(*mut u8, usize)> {
        let first = core::mem::replace(&mut self.heap_from, self.initial);
        (first < self.initial).then(|| {
            let base = self.base.wrapping_add(first * PAGE_SIZE);
            (base, (self.initial - first) * PAGE_SIZE)
        })
    }

    fn notify_grown(&mut self, old_pages: usize, new_pages: usize) {
        self.notifications += 1;
        self.last_notification = (old_pages, new_pages);
    }
}
