//! [`HeapSource`]: the talc [`Source`] behind every nogrow allocator: the heap
//! (static arena, linker heap, grown memory) and its own bookkeeping.
//!
//! On its first call it claims the static arena (and, if asked, the
//! linker-given heap); after that it asks the [`Policy`] whether to grow
//! the [`Memory`], and records every growth in the [`State`].

use core::{alloc::Layout, ptr::NonNull};

use talc::{base::Talc, base::binning::Binning, source::Source};

use crate::{
    cache::SmallCache,
    memory::{Memory, PAGE_SIZE},
    policy::{
        HeapTop, Policy, ReserveError, pages_for, plan_reserve, reserves_at_first_allocation,
    },
    state::{ReserveStatus, State},
};

/// The talc memory source of a nogrow allocator with policy `P` over memory `M`.
///
/// Manual heap management on a talc instance using this source (`claim`,
/// `extend`, …) is not supported: it would bypass the accounting.
#[derive(Debug)]
pub struct HeapSource<P: Policy, M: Memory> {
    pub(crate) policy: P,
    pub(crate) memory: M,
    pub(crate) state: &'static State,
    pub(crate) arena: *mut u8,
    pub(crate) arena_size: usize,
    linker_heap: bool,
    initialized: bool,
    reserved: bool,
    /// Bytes of memory the heap owns (arena + linker heap + grown). The
    /// state block mirrors it; growth is planned from this, never from the
    /// block (which anyone can write).
    owned_bytes: usize,
    /// Memory size in pages when nogrow last looked (`None`: not yet).
    seen_pages: Option<usize>,
    /// The generation counter; the state block mirrors it.
    generation: u32,
    /// End of the heap that ends where memory ends (extended by growth).
    top: Option<NonNull<u8>>,
    /// The highest address of any memory given to talc, and the largest
    /// request talc may be asked about with it (see [`HeapTop`]).
    heap_top: HeapTop,
    /// Freed small blocks, handed back to talc before any failure or growth.
    pub(crate) cache: SmallCache,
}

// SAFETY: the arena and heap pointers are owned by the heap (by `HeapSource::new`'s
// contract); moving the heap to another thread moves that ownership. The
// memory is moved with it, which `M: Send` allows (see `Memory`'s thread
// contract): nogrow uses it only from the thread that holds the lock.
unsafe impl<P: Policy, M: Memory + Send> Send for HeapSource<P, M> {}

impl<P: Policy, M: Memory> HeapSource<P, M> {
    /// A source that will claim `arena_size` bytes at `arena` on first use.
    ///
    /// # Safety
    ///
    /// `arena` must be valid for reads and writes of `arena_size` bytes for the
    /// program's lifetime and used by nothing else (a `static mut` array handed
    /// over entirely satisfies this).
    pub const unsafe fn new(
        arena: *mut u8,
        arena_size: usize,
        policy: P,
        memory: M,
        state: &'static State,
        linker_heap: bool,
    ) -> Self {
        Self {
            policy,
            memory,
            state,
            arena,
            arena_size,
            linker_heap,
            initialized: false,
            reserved: false,
            owned_bytes: 0,
            seen_pages: None,
            generation: 0,
            top: None,
            heap_top: HeapTop::new(),
            cache: SmallCache::new(),
        }
    }

    /// Looks at the memory size: if it differs from the size nogrow last saw
    /// (at first, the size the module was instantiated with), memory grew
    /// behind nogrow's back and the generation goes up once. Returns the size.
    pub(crate) fn observe(&mut self) -> usize {
        let pages = self.memory.pages();
        let seen = match self.seen_pages {
            Some(seen) => seen,
            None => self.memory.initial_pages().unwrap_or(pages),
        };
        if pages != seen {
            self.generation = self.generation.wrapping_add(1);
            self.state.set_generation(self.generation);
        }
        self.seen_pages = Some(pages);
        self.state.set_pages(pages);
        pages
    }

    /// [`observe`](Self::observe)s, then returns the generation (and
    /// rewrites its mirror, in case someone wrote over it).
    pub(crate) fn observe_generation(&mut self) -> u32 {
        self.observe();
        self.state.set_generation(self.generation);
        self.generation
    }

    /// nogrow grew memory from `old` to `new` pages: one generation, plus one
    /// more if someone else had grown it since nogrow last looked.
    fn record_growth(&mut self, old: usize, new: usize) {
        let behind_our_back = self.seen_pages.is_some_and(|seen| seen != old);
        self.generation = self.generation.wrapping_add(1 + u32::from(behind_our_back));
        self.seen_pages = Some(new);
        self.state.set_generation(self.generation);
        self.state.set_pages(new);
        self.state.on_growth();
    }

    /// Bytes of memory the heap owns.
    pub(crate) fn owned_bytes(&self) -> usize {
        self.owned_bytes
    }

    fn add_owned(&mut self, bytes: usize) {
        self.owned_bytes += bytes;
        self.state.set_owned_bytes(self.owned_bytes);
    }

    /// Pages of memory the heap owns, rounded up (the base of geometric growth).
    fn owned_pages(&self) -> usize {
        pages_for(self.owned_bytes)
    }

    /// Whether the heap has claimed its memory (the first allocation or
    /// reserve does).
    pub(crate) fn initialized(&self) -> bool {
        self.initialized
    }

    /// Whether talc may be asked for `layout` now: its fit checks cannot
    /// pass the end of the address space anywhere in the heap.
    #[inline(always)]
    pub(crate) fn serves(&self, layout: Layout) -> bool {
        self.heap_top.serves(layout)
    }

    /// Whether talc may grow the block at `ptr` in place to `new_size`
    /// without its fit check passing the end of the address space.
    #[inline(always)]
    pub(crate) fn grows_in_place(&self, ptr: *mut u8, new_size: usize) -> bool {
        self.heap_top.in_place(ptr.addr(), new_size)
    }

    /// Gives talc `bytes` at `base` as a new heap, clipped below the top of
    /// the address space. Returns the heap's end, if talc took it.
    ///
    /// # Safety
    ///
    /// `base..base + bytes` is memory the heap owns from now on, used by
    /// nothing else.
    unsafe fn claim<B: Binning>(
        talc: &mut Talc<Self, B>,
        base: *mut u8,
        bytes: usize,
    ) -> Option<NonNull<u8>> {
        let usable = talc.source.heap_top.usable(base.addr(), bytes);
        // SAFETY: `..usable` is within the region the caller hands over.
        let end = unsafe { talc.claim(base, usable) }?;
        talc.source.add_owned(usable);
        talc.source.heap_top.raise(end.as_ptr().addr());
        Some(end)
    }

    /// Claims the arena (and linker heap) and records the policy; a
    /// [`Reserve::pages`](crate::Reserve::pages) heap not yet reserved also
    /// makes its reserve. Returns that growth.
    pub(crate) fn initialize<B: Binning>(talc: &mut Talc<Self, B>) -> Option<Growth> {
        let this = &mut talc.source;
        this.initialized = true;
        this.heap_top = HeapTop::in_space(this.memory.address_space_end());
        this.state.set_policy(P::KIND, this.policy.limit_pages());
        let pages = this.observe();
        let (arena, arena_size) = (this.arena, this.arena_size);
        let linker = if this.linker_heap {
            this.memory.linker_heap()
        } else {
            None
        };

        // SAFETY: `HeapSource::new`'s caller handed the arena over for the program's
        // lifetime; it is claimed exactly once (guarded by `initialized`).
        let _ = unsafe { Self::claim(talc, arena, arena_size) };
        if let Some((base, size)) = linker {
            // SAFETY: `Memory::linker_heap` promises the region exists, is
            // unused, and is offered once; it is claimed exactly once.
            let end = unsafe { Self::claim(talc, base, size) };
            // The linker heap ends where memory ended: growth extends it.
            if end.is_some()
                && base.addr().checked_add(size) == Some(talc.source.memory.region(pages).addr())
            {
                talc.source.top = end;
            }
        }
        if reserves_at_first_allocation(&talc.source.policy, talc.source.reserved) {
            // The host did not reserve before the first allocation: do it
            // now (documented on `Reserve`); a refusal leaves the arena.
            return Self::reserve(talc, 0).ok();
        }
        None
    }

    /// Grows memory by `least..=preferred` pages (preferred first) and gives
    /// the new pages to the heap. Returns the growth, or `None` if the
    /// memory refused even `least`.
    fn grow_into<B: Binning>(
        talc: &mut Talc<Self, B>,
        least: usize,
        preferred: usize,
    ) -> Option<Growth> {
        if !P::GROWS {
            return None;
        }
        let this = &mut talc.source;
        let (old, delta) = match this.memory.grow(preferred) {
            Some(old) => (old, preferred),
            None if least < preferred => (this.memory.grow(least)?, least),
            None => return None,
        };
        let new_pages = old + delta;
        let base = this.memory.region(old);
        // The fresh pages, up to where the heap may end (the last pages of a
        // 32-bit memory stay out of it: see `HeapTop`).
        let bytes = this.heap_top.usable(base.addr(), delta * PAGE_SIZE);
        let end = base.wrapping_add(bytes);

        talc.source.top = match talc.source.top.take() {
            Some(top) if continues(top.as_ptr(), base) && bytes > 0 => {
                // SAFETY: `top` is the end of the heap that ends at the old
                // end of memory (talc rounds heap ends down to a chunk unit,
                // so it may sit a few bytes below), and `base` is that old
                // end: `top..base` is the tail of memory the heap was given,
                // and `base..end` is fresh memory (`Memory::grow` contract)
                // that directly continues it.
                let new_top = unsafe { talc.extend(top, end) };
                talc.source.add_owned(bytes);
                talc.source.heap_top.raise(new_top.as_ptr().addr());
                Some(new_top)
            }
            // SAFETY: `base..end` are the fresh pages just grown, used by
            // nothing else (`Memory::grow` contract).
            _ => unsafe { Self::claim(talc, base, bytes) },
        };

        let this = &mut talc.source;
        this.record_growth(old, new_pages);
        this.memory.notify_grown(old, new_pages);
        Some(Growth {
            old,
            new: new_pages,
        })
    }

    /// Grows memory for `layout` as the policy plans it (the arena is
    /// exhausted and the cache empty). Returns the growth, or `None` when the
    /// policy or the memory refuses.
    pub(crate) fn grow_for<B: Binning>(talc: &mut Talc<Self, B>, layout: Layout) -> Option<Growth> {
        if !P::GROWS {
            return None;
        }
        let this = &mut talc.source;
        let memory_pages = this.observe();
        let (least, preferred) =
            this.policy
                .plan_growth(layout, this.owned_pages(), memory_pages)?;
        // Never so far that the heap's new top would forbid the request.
        let memory_base = this.memory.region(0).addr();
        let (least, preferred) =
            this.heap_top
                .clip_growth(layout, memory_pages, memory_base, least, preferred)?;
        Self::grow_into(talc, least, preferred)
    }

    /// Performs the policy's one reserve of `requested` pages (0: the
    /// compile-time amount). On error nothing was grown or claimed.
    pub(crate) fn reserve<B: Binning>(
        talc: &mut Talc<Self, B>,
        requested: u32,
    ) -> Result<Growth, ReserveError> {
        let result = Self::try_reserve(talc, requested);
        // Reserved once a reserve is in effect; otherwise the last failure.
        let this = &talc.source;
        this.state.set_reserve_status(match result {
            Ok(_) => ReserveStatus::Reserved,
            Err(_) if this.reserved => ReserveStatus::Reserved,
            Err(e) => ReserveStatus::Failed(e),
        });
        result
    }

    fn try_reserve<B: Binning>(
        talc: &mut Talc<Self, B>,
        requested: u32,
    ) -> Result<Growth, ReserveError> {
        let this = &mut talc.source;
        let memory_pages = this.observe();
        let pages = plan_reserve(&this.policy, requested, this.reserved, memory_pages)?;
        // Marked first: a lazy reserve inside `initialize` must not recurse.
        talc.source.reserved = true;
        if !talc.source.initialized {
            Self::initialize(talc);
        }
        match Self::grow_into(talc, pages, pages) {
            Some(growth) => Ok(growth),
            None => {
                talc.source.reserved = false;
                Err(ReserveError::Refused)
            }
        }
    }
}

/// A growth nogrow performed: memory went from `old` to `new` pages.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Growth {
    old: usize,
    new: usize,
}

impl Growth {
    /// Pages grown.
    pub(crate) fn pages(self) -> usize {
        self.new - self.old
    }

    /// One growth for two in a row (`first`, if any, then `then`).
    pub(crate) fn merge(first: Option<Growth>, then: Growth) -> Growth {
        match first {
            Some(first) => Growth {
                old: first.old,
                new: then.new,
            },
            None => then,
        }
    }

    /// Tells the host (`Memory::after_growth`); called with the lock released.
    pub(crate) fn tell_host<M: Memory>(self) {
        M::after_growth(self.old, self.new);
    }
}

impl<P: Policy, M: Memory> HeapSource<P, M> {
    /// Returns every parked small block to talc. Whether there was any.
    pub(crate) fn flush_cache<B: Binning>(talc: &mut Talc<Self, B>) -> bool {
        let mut any = false;
        while let Some((block, class)) = talc.source.cache.drain() {
            // SAFETY: a cached block is a talc allocation of this class, freed by
            // its owner; `class_layout` has the same talc chunk size as the size it
            // was allocated with, and talc aligns such blocks to a chunk unit.
            unsafe { talc.deallocate(block, SmallCache::class_layout(class)) };
            any = true;
        }
        any
    }
}

/// Whether a heap ending at `top` continues into memory starting at `next`:
/// `top` is at most one chunk unit below `next` (talc aligns heap ends down).
fn continues(top: *mut u8, next: *mut u8) -> bool {
    let (top, next) = (top as usize, next as usize);
    top <= next && next - top < talc::base::CHUNK_UNIT
}

// SAFETY: `acquire` only touches `talc` and the source's own cache; it calls
// no `Memory` method and nothing that allocates.
unsafe impl<P: Policy, M: Memory> Source for HeapSource<P, M> {
    // talc found no room. Before anything fails or grows, the parked small
    // blocks go back to talc: they may coalesce into room for the request
    // (talc then retries). Claiming the heap and growing memory happen in
    // the allocator's slow path, where it records who runs the memory.
    #[cold]
    #[inline(never)]
    fn acquire<B: Binning>(talc: &mut Talc<Self, B>, _layout: Layout) -> Result<(), ()> {
        if Self::flush_cache(talc) {
            Ok(())
        } else {
            Err(())
        }
    }
}
