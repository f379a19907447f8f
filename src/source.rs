//! [`HeapSource`]: the talc [`Source`] behind every nogrow allocator: the heap
//! (static arena, linker heap, grown memory) and its own bookkeeping.
//!
//! On its first call it claims the static arena (and, if asked, the
//! linker-given heap); after that it asks the [`Policy`] whether to grow
//! the [`Memory`], and records every growth in the [`State`].

use core::{alloc::Layout, ptr::NonNull, sync::atomic::Ordering::Relaxed};

use talc::{base::Talc, base::binning::Binning, source::Source};

use crate::{
    cache::SmallCache,
    memory::{Memory, PAGE_SIZE},
    policy::{Policy, ReserveError, pages_for, plan_reserve, reserves_at_first_allocation},
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

    /// Claims the arena (and linker heap) and records the policy.
    fn initialize<B: Binning>(talc: &mut Talc<Self, B>) {
        let this = &mut talc.source;
        this.initialized = true;
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
        if unsafe { talc.claim(arena, arena_size) }.is_some() {
            talc.source.add_owned(arena_size);
        }
        if let Some((base, size)) = linker {
            // SAFETY: `Memory::linker_heap` promises the region exists and is
            // unused; it is claimed exactly once.
            let end = unsafe { talc.claim(base, size) };
            if end.is_some() {
                talc.source.add_owned(size);
                // The linker heap ends where memory ended: growth extends it.
                if base.wrapping_add(size) == talc.source.memory.region(pages) {
                    talc.source.top = end;
                }
            }
        }
    }

    /// Grows memory by `least..=preferred` pages (preferred first) and gives
    /// the new pages to the heap. Returns the pages grown, or `None` if the
    /// memory refused even `least`.
    fn grow_into<B: Binning>(
        talc: &mut Talc<Self, B>,
        least: usize,
        preferred: usize,
    ) -> Option<usize> {
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
        let bytes = delta * PAGE_SIZE;
        let end = base.wrapping_add(bytes);

        talc.source.top = match talc.source.top.take() {
            // SAFETY: `top` is the end of the heap that ends at the old end of
            // memory (talc rounds heap ends down to a chunk unit, so it may sit
            // a few bytes below), and `base` is that old end: `top..base` is
            // the tail of memory the heap was given, and `base..end` is fresh
            // memory (`Memory::grow` contract) that directly continues it.
            Some(top) if continues(top.as_ptr(), base) => Some(unsafe { talc.extend(top, end) }),
            // SAFETY: `base..end` are the fresh pages just grown, used by
            // nothing else (`Memory::grow` contract).
            _ => unsafe { talc.claim(base, bytes) },
        };

        let this = &mut talc.source;
        this.add_owned(bytes);
        this.record_growth(old, new_pages);
        this.memory.notify_grown(old, new_pages);
        Some(delta)
    }

    /// Performs the policy's one reserve of `requested` pages (0: the
    /// compile-time amount). On error nothing was grown or claimed.
    pub(crate) fn reserve<B: Binning>(
        talc: &mut Talc<Self, B>,
        requested: u32,
    ) -> Result<usize, ReserveError> {
        // The reserve grows memory and may call the growth hook, as `acquire`.
        let in_source = &talc.source.state.in_source;
        let outer = in_source.swap(1, Relaxed);
        let result = Self::try_reserve(talc, requested);
        talc.source.state.in_source.store(outer, Relaxed);
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
    ) -> Result<usize, ReserveError> {
        let this = &mut talc.source;
        let memory_pages = this.observe();
        let pages = plan_reserve(&this.policy, requested, this.reserved, memory_pages)?;
        if !this.initialized {
            Self::initialize(talc);
        }
        let grown = Self::grow_into(talc, pages, pages).ok_or(ReserveError::Refused)?;
        talc.source.reserved = true;
        Ok(grown)
    }
}

impl<P: Policy, M: Memory> HeapSource<P, M> {
    /// Returns the cached small block to talc. Whether there was one.
    pub(crate) fn flush_cache<B: Binning>(talc: &mut Talc<Self, B>) -> bool {
        let Some((block, class)) = talc.source.cache.drain() else {
            return false;
        };
        // SAFETY: a cached block is a talc allocation of this class, freed by
        // its owner; `class_layout` has the same talc chunk size as the size it
        // was allocated with, and talc aligns such blocks to a chunk unit.
        unsafe { talc.deallocate(block, SmallCache::class_layout(class)) };
        true
    }
}

/// Whether a heap ending at `top` continues into memory starting at `next`:
/// `top` is at most one chunk unit below `next` (talc aligns heap ends down).
fn continues(top: *mut u8, next: *mut u8) -> bool {
    let (top, next) = (top as usize, next as usize);
    top <= next && next - top < talc::base::CHUNK_UNIT
}

// SAFETY: `acquire` only touches `talc` and the source's own fields; `Memory`
// implementations promise not to allocate (see `Memory`'s safety contract),
// and the debug re-entrancy flag turns a violation into a panic.
unsafe impl<P: Policy, M: Memory> Source for HeapSource<P, M> {
    // Out of line and cold: inlined, it bloats talc's `allocate` loop and
    // slows every allocation, not just the rare ones that need memory.
    #[cold]
    #[inline(never)]
    fn acquire<B: Binning>(talc: &mut Talc<Self, B>, layout: Layout) -> Result<(), ()> {
        let state = talc.source.state;
        state.in_source.store(1, Relaxed);
        let result = Self::acquire_inner(talc, layout);
        state.in_source.store(0, Relaxed);
        result
    }
}

impl<P: Policy, M: Memory> HeapSource<P, M> {
    fn acquire_inner<B: Binning>(talc: &mut Talc<Self, B>, layout: Layout) -> Result<(), ()> {
        if !talc.source.initialized {
            Self::initialize(talc);
            if reserves_at_first_allocation(&talc.source.policy, talc.source.reserved) {
                // The host did not reserve before the first allocation: do it
                // now (documented on `Reserve`); a refusal leaves the arena.
                let _ = Self::reserve(talc, 0);
            }
            return Ok(());
        }
        // Before failing or growing, give talc the cached small blocks back:
        // they may coalesce into room for this request (talc then retries).
        if Self::flush_cache(talc) {
            return Ok(());
        }
        if !P::GROWS {
            return Err(());
        }
        let this = &mut talc.source;
        let memory_pages = this.observe();
        let (least, preferred) = this
            .policy
            .plan_growth(layout, this.owned_pages(), memory_pages)
            .ok_or(())?;
        Self::grow_into(talc, least, preferred)
            .map(|_| ())
            .ok_or(())
    }
}
