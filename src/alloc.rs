//! [`Nogrow`]: the global allocator. A talc [`TalcLock`] over a [`HeapSource`]
//! source, with accounting done under the same lock.

use core::{
    alloc::{GlobalAlloc, Layout},
    mem::MaybeUninit,
    ptr::null_mut,
    sync::atomic::Ordering::Relaxed,
};

#[cfg(feature = "sizing")]
use core::sync::atomic::AtomicUsize;

use talc::{base::binning::Binning, sync::TalcLock};

use crate::{
    binning::{Compact, min_arena_bytes},
    c_alloc,
    cache::SmallCache,
    lock::RawLock,
    memory::Memory,
    policy::{Policy, ReserveError},
    reentry::{Holder, reentrant, thread_mark},
    source::{Growth, HeapSource},
    state::{Failure, ReserveStatus, State, Stats},
};

type Lock<P, M, B> = TalcLock<RawLock, HeapSource<P, M>, B>;
pub(crate) type Guard<'a, P, M, B> =
    talc::lock_api::MutexGuard<'a, RawLock, talc::base::Talc<HeapSource<P, M>, B>>;

/// The smallest static arena nogrow accepts with the default binning
/// ([`Compact`]; enough for [`Fast`](crate::binning::Fast) too): talc's
/// minimum first heap plus room for at least a few small allocations.
pub const MIN_ARENA_BYTES: usize = min_arena_bytes::<Compact>();

/// The memory nogrow starts with: a static arena, and optionally the heap the
/// linker declared.
///
/// An `Arena` is the one handle to its memory. Making one is `unsafe`: its
/// caller promises the memory is the allocator's alone, and that the
/// constructor is evaluated once for it (see [`Arena::array`]). After that an
/// `Arena` is neither `Clone` nor `Copy`, and giving it to [`Nogrow::new`]
/// moves it, so safe code cannot make a second allocator from it:
///
/// ```compile_fail,E0382
/// use core::mem::MaybeUninit;
/// use nogrow::{Arena, Fail, Nogrow, State, WasmMemory};
/// static mut ARENA: [MaybeUninit<u8>; 1 << 16] = [MaybeUninit::uninit(); 1 << 16];
/// static STATE: State = State::new();
/// // SAFETY: `ARENA` is handed over here, once, and named nowhere else.
/// let arena = unsafe { Arena::array(&raw mut ARENA) };
/// let a = Nogrow::new(arena, Fail, WasmMemory, &STATE);
/// let b = Nogrow::new(arena, Fail, WasmMemory, &STATE); // error: use of moved value
/// ```
///
/// [`arena!`](crate::arena) keeps both promises by construction: it declares
/// the array inside the allocator's own `static` initializer.
#[derive(Debug)]
pub struct Arena {
    base: *mut u8,
    size: usize,
    linker_heap: bool,
}

// SAFETY: an `Arena` is a handle to memory its constructor's caller gave to
// the allocator for good; it carries no thread affinity.
unsafe impl Send for Arena {}

impl Arena {
    /// The `N` bytes of `array`.
    ///
    /// # Safety
    ///
    /// - The array must be used by nothing but the allocator this arena is
    ///   given to, for the program's lifetime (a `static mut` handed over
    ///   entirely, named nowhere else).
    /// - This call must be evaluated once for that array: not in a `const`
    ///   (a constant's value is copied at every use, and each copy would be
    ///   another arena over the same array), not in a function, loop or
    ///   closure that may run more than once. A `static`'s initializer is
    ///   evaluated exactly once.
    pub const unsafe fn array<const N: usize>(array: *mut [MaybeUninit<u8>; N]) -> Self {
        Self {
            base: array.cast(),
            size: N,
            linker_heap: false,
        }
    }

    /// `size` bytes at `base`.
    ///
    /// # Safety
    ///
    /// `base` must be valid for reads and writes of `size` bytes for the
    /// program's lifetime and used by nothing but the allocator; and, as for
    /// [`Arena::array`], this call must be evaluated once for that memory.
    pub const unsafe fn from_raw(base: *mut u8, size: usize) -> Self {
        Self {
            base,
            size,
            linker_heap: false,
        }
    }

    /// Also give the heap the memory the linker declared beyond the module's
    /// static data (`__heap_base..__heap_end` on wasm32; size it with
    /// `-C link-arg=--initial-memory=N`). Using memory that exists is not growth.
    ///
    /// On WASI this is a compile-time error unless nogrow's `c-malloc` feature
    /// is on: wasi-libc's own `malloc` also starts at `__heap_base`, and two
    /// allocators there corrupt each other's blocks. With the feature, nogrow
    /// is the module's `malloc` and the linker heap is nogrow's alone.
    pub const fn with_linker_heap(mut self) -> Self {
        if cfg!(all(target_os = "wasi", not(feature = "c-malloc"))) {
            panic!(
                "nogrow: linker_heap on WASI needs nogrow's `c-malloc` feature: wasi-libc's own \
                 malloc also allocates from __heap_base. Add `features = [\"c-malloc\"]` to the \
                 nogrow dependency (nogrow then serves malloc), or drop linker_heap"
            );
        }
        self.linker_heap = true;
        self
    }

    /// Bytes in the static part.
    pub const fn size(&self) -> usize {
        self.size
    }
}

/// A global allocator over a static arena with growth policy `P`, growing (or
/// not) memory `M`, sorting free chunks with binning `B` (see
/// [`binning`](crate::binning)).
///
/// Usually made by [`install!`](crate::install) or
/// [`arena!`](crate::arena); see the crate docs.
pub struct Nogrow<P: Policy, M: Memory = crate::DefaultMemory, B: Binning = Compact> {
    talc: Lock<P, M, B>,
    state: &'static State,
    /// The thread running the memory or a `with_memory` closure under the
    /// lock (see [`reentry`](crate::reentry)): beside the lock, never in the
    /// host-visible state block.
    holder: Holder,
    /// The highest end address of a block handed out so far (feature
    /// `sizing`; written under the lock).
    #[cfg(feature = "sizing")]
    high_water: AtomicUsize,
}

impl<P: Policy, M: Memory> Nogrow<P, M> {
    /// An allocator over `arena`, growing (or not) `memory` according to
    /// `policy`, reporting to `state` (which should serve this allocator only),
    /// with the default binning ([`Compact`]).
    ///
    /// Panics (a compile-time error in a `static`) if the arena is smaller than
    /// [`MIN_ARENA_BYTES`].
    ///
    /// ```compile_fail
    /// nogrow::arena! {
    ///     static A: nogrow::Nogrow<nogrow::Fail> = (64, nogrow::Fail); // below MIN_ARENA_BYTES
    /// }
    /// ```
    pub const fn new(arena: Arena, policy: P, memory: M, state: &'static State) -> Self {
        Self::with_binning(arena, policy, memory, state)
    }
}

impl<P: Policy, M: Memory, B: Binning> Nogrow<P, M, B> {
    /// [`new`](Nogrow::new) with the binning `B` (usually inferred from the
    /// allocator's declared type; [`arena!`](crate::arena) uses this).
    ///
    /// Panics (a compile-time error in a `static`) if the arena is smaller than
    /// [`min_arena_bytes`]`::<B>()`.
    pub const fn with_binning(arena: Arena, policy: P, memory: M, state: &'static State) -> Self {
        assert!(
            arena.size >= min_arena_bytes::<B>(),
            "nogrow: the arena is smaller than talc's minimum first heap (nogrow::MIN_ARENA_BYTES, or nogrow::binning::min_arena_bytes of a custom binning); raise it"
        );
        // On a WASI component target blocks cross between the global
        // allocator and C's `malloc` whatever the program does (see
        // `c_alloc`, "One heap"): without nogrow serving both, each would free
        // the other's blocks.
        if cfg!(all(
            target_os = "wasi",
            not(target_env = "p1"),
            not(feature = "c-malloc")
        )) {
            panic!(
                "nogrow: on wasm32-wasip2 (a WASI component target) nogrow needs its `c-malloc` feature: the canonical ABI's cabi_realloc allocates what the host passes in through one allocator and wasi-libc frees it with free, so Rust's allocator and wasi-libc's malloc must be one heap. Add `features = [\"c-malloc\"]` to the nogrow dependency"
            );
        }
        // SAFETY: `Arena`'s constructors required the region to be the heap's
        // alone for the program's lifetime.
        let heap = unsafe {
            HeapSource::new(
                arena.base,
                arena.size,
                policy,
                memory,
                state,
                arena.linker_heap,
            )
        };
        Self {
            talc: TalcLock::new(heap),
            state,
            holder: Holder::new(),
            #[cfg(feature = "sizing")]
            high_water: AtomicUsize::new(0),
        }
    }

    /// The host-readable state block.
    pub fn state(&self) -> &'static State {
        self.state
    }

    /// Current counters.
    pub fn stats(&self) -> Stats {
        self.state.stats()
    }

    /// The last failed request, if any.
    pub fn last_failure(&self) -> Option<Failure> {
        self.state.last_failure()
    }

    /// The generation counter, after noticing growth by anyone else (memory
    /// size differs from the last size nogrow saw). Never blocks: while the
    /// allocator is busy (a host hook called mid-growth) it returns the counter
    /// as is, which that growth has already bumped.
    pub fn generation(&self) -> u32 {
        match self.talc.try_lock() {
            Some(mut talc) => talc.source.observe_generation(),
            None => self.state.generation.load(Relaxed),
        }
    }

    /// The static arena's address and size in bytes (for diagnostics and
    /// tests: whether a block lies in the arena or in memory grown later).
    pub fn static_arena(&self) -> (*const u8, usize) {
        let talc = self.lock();
        (talc.source.arena.cast_const(), talc.source.arena_size)
    }

    /// The heap's high-water mark: bytes from the start of the static arena
    /// to the end of the highest block handed out so far (0 before the first
    /// allocation), with the `sizing` cargo feature. talc places a block at
    /// the low end of the free chunk it takes, so this is how much of the
    /// heap the program has reached, which is more than the bytes ever in use
    /// at once (`peak_in_use`) by what fragmentation and bookkeeping take.
    /// Blocks in memory below the arena (none in a module wasm-ld laid out)
    /// do not count.
    ///
    /// ```
    /// nogrow::install!(arena: 1 << 20, policy: Fail);
    /// # fn main() {
    /// let a = vec![0u8; 1000];
    /// let b = vec![0u8; 3000];
    /// let (base, _) = NOGROW.static_arena();
    /// let highest = (b.as_ptr() as usize + 3000).max(a.as_ptr() as usize + 1000);
    /// assert_eq!(NOGROW.high_water(), highest - base as usize);
    /// drop(b);
    /// drop(a);
    /// assert_eq!(NOGROW.high_water(), highest - base as usize); // a mark, not a level
    /// # }
    /// ```
    #[cfg(feature = "sizing")]
    pub fn high_water(&self) -> usize {
        let base = self.static_arena().0.addr();
        self.high_water.load(Relaxed).saturating_sub(base)
    }

    /// Records a block handed out for the high-water mark (under the lock;
    /// nothing without the `sizing` feature).
    #[inline(always)]
    fn reached(&self, block: *mut u8, size: usize) {
        #[cfg(feature = "sizing")]
        {
            let end = block.addr().saturating_add(size);
            if end > self.high_water.load(Relaxed) {
                self.high_water.store(end, Relaxed);
            }
        }
        #[cfg(not(feature = "sizing"))]
        let _ = (block, size);
    }

    /// Runs `f` on the allocator's memory under its lock (for tests and
    /// diagnostics: a memory's size, a test memory's counters).
    ///
    /// `f` must not allocate through this allocator: the lock is held. Where
    /// the platform names the calling thread (see the crate docs,
    /// "Soundness"), that is a clear panic; elsewhere it waits forever, as a
    /// `std::sync::Mutex` locked twice does.
    ///
    /// # Safety
    ///
    /// `f` must leave the memory as the allocator's memory: not replace it
    /// (`core::mem::swap`, `core::mem::replace`, assignment) with another
    /// value, and not make it offer again what it already handed out (its
    /// linker heap, its pages). The allocator has claimed what this memory
    /// handed out; a memory swapped in from another allocator would hand out
    /// that allocator's memory a second time. So safe code cannot call it:
    ///
    /// ```compile_fail,E0133
    /// nogrow::arena! {
    ///     static A: nogrow::Nogrow<nogrow::Fail> = (64 << 10, nogrow::Fail);
    /// }
    /// nogrow::arena! {
    ///     static B: nogrow::Nogrow<nogrow::Fail> = (64 << 10, nogrow::Fail);
    /// }
    /// A.with_memory(|a| B.with_memory(|b| core::mem::swap(a, b))); // error: unsafe
    /// ```
    pub unsafe fn with_memory<R>(&self, f: impl FnOnce(&mut M) -> R) -> R {
        let mut talc = self.lock();
        let _inside = self.holder.enter();
        f(&mut talc.source.memory)
    }

    /// Grows memory once by `pages` (0: the compile-time amount) for a
    /// [`Reserve`](crate::Reserve) allocator. Returns the pages grown. On error
    /// nothing was grown or claimed, and the reason is also in
    /// `State::reserve_status`.
    pub fn reserve(&self, pages: u32) -> Result<usize, ReserveError> {
        let mut talc = self.lock();
        if !P::RESERVES {
            // Decided at compile time: other policies carry no reserve code.
            let error = ReserveError::NotReservePolicy;
            self.state.set_reserve_status(ReserveStatus::Failed(error));
            return Err(error);
        }
        let result = {
            let _inside = self.holder.enter();
            HeapSource::reserve(&mut talc, pages)
        };
        drop(talc);
        let growth = result?;
        growth.tell_host::<M>();
        Ok(growth.pages())
    }

    /// `reserve` as the C ABI returns it: 0 on success, a negative
    /// [`ReserveError`] code otherwise.
    pub fn reserve_code(&self, pages: u32) -> i32 {
        match self.reserve(pages) {
            Ok(_) => 0,
            Err(e) => e.code(),
        }
    }

    /// Records, as a failure, a request no block could ever serve (its size
    /// and alignment do not form a layout).
    #[cold]
    pub(crate) fn record_failure(&self, size: usize, align: usize) {
        let talc = self.lock();
        self.state
            .on_failure(size, align, talc.source.owned_bytes());
    }

    #[inline(always)]
    pub(crate) fn lock(&self) -> Guard<'_, P, M, B> {
        match self.talc.try_lock() {
            Some(guard) => guard,
            None => self.lock_contended(),
        }
    }

    #[cold]
    #[inline(never)]
    fn lock_contended(&self) -> Guard<'_, P, M, B> {
        // A held lock is another thread's, and waiting is right, however long
        // it takes, unless the holder is this very thread: then it is inside
        // code the allocator runs under its lock (a `Memory` or `with_memory`
        // closure that allocates) and would wait forever. Who holds it is
        // recorded beside the lock (`Holder`), never guessed from time.
        // One look is enough: only this thread writes its own mark there,
        // and it cannot start or stop running such code while it waits here.
        if self.holder.is(thread_mark()) {
            reentrant();
        }
        // Then the lock's wait, which reads the lock until it looks free and
        // only then tries to take it: waiters that kept trying (a write to the
        // lock's cache line each time) would slow the holder down.
        self.talc.lock()
    }
}

impl<P: Policy, M: Memory, B: Binning> Nogrow<P, M, B> {
    /// A block for `layout` when talc's first search found none: claims the
    /// heap on the first call, grows memory if the policy says so, and asks
    /// talc again. Returns the block and the growth to tell the host about
    /// once the lock is released.
    ///
    /// # Safety
    ///
    /// `layout` has a non-zero size.
    #[cold]
    #[inline(never)]
    unsafe fn allocate_slow(
        &self,
        talc: &mut Guard<'_, P, M, B>,
        layout: Layout,
    ) -> (*mut u8, Option<Growth>) {
        let mut growth = None;
        if !talc.source.initialized() {
            let _inside = self.holder.enter();
            growth = HeapSource::initialize(talc);
        }
        loop {
            // A request talc cannot be asked about (its fit checks could pass
            // the end of the address space) fails here, without growth.
            if talc.source.serves(layout) {
                // SAFETY: non-zero size (caller's guarantee).
                if let Some(block) = unsafe { talc.allocate(layout) } {
                    return (block.as_ptr(), growth);
                }
            }
            if !P::GROWS {
                return (null_mut(), growth);
            }
            let grown = {
                let _inside = self.holder.enter();
                HeapSource::grow_for(talc, layout)
            };
            match grown {
                Some(g) => growth = Some(Growth::merge(growth, g)),
                None => return (null_mut(), growth),
            }
        }
    }

    /// [`allocate_slow`](Self::allocate_slow) for `alloc`: accounts for the
    /// result, releases the lock, then tells the host about any growth.
    ///
    /// # Safety
    ///
    /// `layout` has a non-zero size.
    #[cold]
    #[inline(never)]
    unsafe fn alloc_slow(&self, mut talc: Guard<'_, P, M, B>, layout: Layout) -> *mut u8 {
        // SAFETY: forwarded from the caller.
        let (block, growth) = unsafe { self.allocate_slow(&mut talc, layout) };
        if block.is_null() {
            let owned = talc.source.owned_bytes();
            self.state.on_failure(layout.size(), layout.align(), owned);
        } else {
            self.state.on_alloc(layout.size());
            self.reached(block, layout.size());
        }
        drop(talc);
        if let Some(g) = growth {
            g.tell_host::<M>();
        }
        block
    }
}

/// Frees a block to talc, under the caller's lock.
///
/// # Safety
///
/// `ptr` must have come from this allocator with a layout of the same talc
/// chunk size as `layout`, and be unused.
#[inline(always)]
unsafe fn dealloc_talc<P: Policy, M: Memory, B: Binning>(
    talc: &mut Guard<'_, P, M, B>,
    ptr: *mut u8,
    layout: Layout,
) {
    // SAFETY: forwarded from the caller.
    unsafe { talc.deallocate(ptr, layout) }
}

impl<P: Policy, M: Memory, B: Binning> core::fmt::Debug for Nogrow<P, M, B> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Nogrow")
            .field("policy", &P::KIND)
            .field("stats", &self.stats())
            .finish()
    }
}

/// The heap's own blocks, without any header: what [`GlobalAlloc`] serves
/// (where Rust blocks carry no C header, see
/// [`c_alloc::RUST_BLOCKS_HAVE_HEADERS`]) and what every C block lies in.
impl<P: Policy, M: Memory, B: Binning> Nogrow<P, M, B> {
    /// A block for `layout`, or null (the failure recorded).
    ///
    /// # Safety
    ///
    /// As [`GlobalAlloc::alloc`].
    // One lock per call, then the cache, then talc, all in one function:
    // splitting talc's path out of line costs ~5 ns per operation (measured
    // on LIFO batches).
    #[inline(always)]
    pub(crate) unsafe fn block_alloc(&self, layout: Layout) -> *mut u8 {
        let mut talc = self.lock();
        let block = match talc.source.cache.take(SmallCache::key(layout)) {
            Some(block) => block,
            None => match talc.source.serves(layout) {
                // SAFETY: `GlobalAlloc::alloc`'s caller guarantees a non-zero size.
                true => match unsafe { talc.allocate(layout) } {
                    Some(block) => block.as_ptr(),
                    // SAFETY: as above.
                    None => return unsafe { self.alloc_slow(talc, layout) },
                },
                // SAFETY: as above.
                false => return unsafe { self.alloc_slow(talc, layout) },
            },
        };
        self.state.on_alloc(layout.size());
        self.reached(block, layout.size());
        block
    }

    /// A zeroed block for `layout`, or null.
    ///
    /// # Safety
    ///
    /// As [`GlobalAlloc::alloc_zeroed`].
    pub(crate) unsafe fn block_alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        // SAFETY: forwarded from the caller.
        let block = unsafe { self.block_alloc(layout) };
        if !block.is_null() {
            // SAFETY: the block is live, `layout.size()` bytes, and ours.
            unsafe { block.write_bytes(0, layout.size()) };
        }
        block
    }

    /// Frees a block.
    ///
    /// # Safety
    ///
    /// As [`GlobalAlloc::dealloc`], for a block from
    /// [`block_alloc`](Self::block_alloc) or [`block_realloc`](Self::block_realloc).
    #[inline(always)]
    pub(crate) unsafe fn block_dealloc(&self, ptr: *mut u8, layout: Layout) {
        let mut talc = self.lock();
        // SAFETY: forwarded from the caller.
        unsafe { self.block_dealloc_locked(&mut talc, ptr, layout) }
    }

    /// [`block_dealloc`](Self::block_dealloc) under the lock `talc` the
    /// caller holds (this allocator's).
    ///
    /// # Safety
    ///
    /// As [`block_dealloc`](Self::block_dealloc); `talc` is this
    /// allocator's lock.
    #[inline(always)]
    pub(crate) unsafe fn block_dealloc_locked(
        &self,
        talc: &mut Guard<'_, P, M, B>,
        ptr: *mut u8,
        layout: Layout,
    ) {
        self.state.on_free(layout.size());
        // SAFETY: the caller guarantees `ptr` came from this allocator with
        // `layout` (so from this heap's talc, as every block) and gives it up.
        if unsafe { talc.source.cache.park(SmallCache::key(layout), ptr) } {
            return;
        }
        // SAFETY: the caller guarantees `ptr` came from this allocator with
        // `layout` and is unused.
        unsafe { dealloc_talc(talc, ptr, layout) }
    }

    /// Resizes a block, moving it if needed; null (the block untouched) when
    /// out of memory.
    ///
    /// # Safety
    ///
    /// As [`GlobalAlloc::realloc`], for a block from
    /// [`block_alloc`](Self::block_alloc) or [`block_realloc`](Self::block_realloc).
    // In place inline, moving out of line: the move's locals and frame stay
    // off the common path (a block growing into the free chunk above it).
    #[inline(always)]
    pub(crate) unsafe fn block_realloc(
        &self,
        ptr: *mut u8,
        old_layout: Layout,
        new_size: usize,
    ) -> *mut u8 {
        let old_size = old_layout.size();
        let mut talc = self.lock();
        // talc resizes in place where its fit check cannot pass the end of
        // the address space (shrinking never moves the end up).
        let may_resize = new_size <= old_size || talc.source.grows_in_place(ptr, new_size);
        // SAFETY: the caller guarantees `ptr` came from this allocator with
        // `old_layout` and that `new_size` is non-zero and valid for its
        // alignment.
        if may_resize && unsafe { talc.try_realloc_in_place(ptr, old_layout, new_size) } {
            self.state.on_realloc(old_size, new_size);
            self.reached(ptr, new_size);
            return ptr;
        }
        // SAFETY: forwarded from the caller; `talc` is this allocator's lock.
        unsafe { self.realloc_move(talc, ptr, old_layout, new_size) }
    }

    /// [`block_realloc`](Self::block_realloc) where the block cannot grow in
    /// place: a new block, the bytes copied, the old one freed.
    ///
    /// # Safety
    ///
    /// As [`block_realloc`](Self::block_realloc), with `new_size` above
    /// the old size (talc shrinks in place); `talc` is this allocator's lock.
    #[inline(never)]
    unsafe fn realloc_move(
        &self,
        mut talc: Guard<'_, P, M, B>,
        ptr: *mut u8,
        old_layout: Layout,
        new_size: usize,
    ) -> *mut u8 {
        let old_size = old_layout.size();
        let align = old_layout.align();
        // SAFETY: the caller guarantees `new_size` is a valid non-zero size for `align`.
        let layout = unsafe { Layout::from_size_align_unchecked(new_size, align) };
        let (new, growth) = match talc.source.serves(layout) {
            // SAFETY: non-zero size (caller's guarantee).
            true => match unsafe { talc.allocate(layout) } {
                Some(new) => (new.as_ptr(), None),
                // SAFETY: as above.
                None => unsafe { self.allocate_slow(&mut talc, layout) },
            },
            // SAFETY: as above.
            false => unsafe { self.allocate_slow(&mut talc, layout) },
        };
        if new.is_null() {
            let owned = talc.source.owned_bytes();
            self.state.on_failure(new_size, align, owned);
        } else {
            // SAFETY: both blocks are live and distinct, at least `old_size`
            // bytes (new_size > old_size here); `ptr` came from this allocator
            // with `old_layout` and its contents now live at `new`.
            // (Straight to talc, not the cache: a moved-from block is rarely
            // the next request's size, and parking it would evict a hot one.)
            unsafe {
                new.copy_from_nonoverlapping(ptr, old_size.min(new_size));
                dealloc_talc(&mut talc, ptr, old_layout);
            }
            self.state.on_realloc(old_size, new_size);
            self.reached(new, new_size);
        }
        drop(talc);
        if let Some(g) = growth {
            g.tell_host::<M>();
        }
        new // null: the old block is untouched
    }
}

// SAFETY: every method forwards to talc under the lock with the caller's
// guarantees (non-zero sizes, pointers and layouts that came from this
// allocator), directly or, where Rust blocks carry the C header
// (`c_alloc::RUST_BLOCKS_HAVE_HEADERS`), through the C family's header logic,
// which hands out and frees whole underlying blocks the same way and checks
// every header before freeing; accounting only touches the state block.
unsafe impl<P: Policy, M: Memory, B: Binning> GlobalAlloc for Nogrow<P, M, B> {
    #[inline]
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        if c_alloc::RUST_BLOCKS_HAVE_HEADERS {
            c_alloc::rust_alloc(self, layout, false)
        } else {
            // SAFETY: forwarded from the caller.
            unsafe { self.block_alloc(layout) }
        }
    }

    #[inline]
    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        if c_alloc::RUST_BLOCKS_HAVE_HEADERS {
            c_alloc::rust_alloc(self, layout, true)
        } else {
            // SAFETY: forwarded from the caller.
            unsafe { self.block_alloc_zeroed(layout) }
        }
    }

    #[inline]
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        if c_alloc::RUST_BLOCKS_HAVE_HEADERS {
            // SAFETY: the caller guarantees `ptr` is a live block of this
            // allocator, which carries a header; one that does not check out
            // stops the program.
            unsafe { c_alloc::rust_dealloc(self, ptr) }.unwrap_or_else(|e| e.abort())
        } else {
            // SAFETY: forwarded from the caller.
            unsafe { self.block_dealloc(ptr, layout) }
        }
    }

    #[inline]
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        if c_alloc::RUST_BLOCKS_HAVE_HEADERS {
            // SAFETY: as `dealloc`.
            unsafe { c_alloc::rust_realloc(self, ptr, layout, new_size) }
                .unwrap_or_else(|e| e.abort())
        } else {
            // SAFETY: forwarded from the caller.
            unsafe { self.block_realloc(ptr, layout, new_size) }
        }
    }
}
