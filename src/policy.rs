//! What happens when the arena is exhausted: [`Fail`], [`Reserve`], [`Signal`].
//!
//! A policy is a value chosen in code. The decisions are pure functions of
//! numbers (pages, bytes), so they are unit-tested on the host without any
//! memory at all.

use core::alloc::Layout;

use crate::memory::{MAX_PAGES_32, PAGE_SIZE};

/// Which policy an allocator runs, as reported to the host (`State::policy`).
#[repr(u32)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PolicyKind {
    /// [`Fail`]: never grows.
    Fail = 1,
    /// [`Reserve`]: grows once, up front.
    Reserve = 2,
    /// [`Signal`]: grows when it must and bumps the generation.
    Signal = 3,
}

impl PolicyKind {
    /// The policy's name, as the host sees it.
    pub const fn name(self) -> &'static str {
        match self {
            PolicyKind::Fail => "Fail",
            PolicyKind::Reserve => "Reserve",
            PolicyKind::Signal => "Signal",
        }
    }
}

/// A growth policy. Implemented by [`Fail`], [`Reserve`] and [`Signal`]; sealed.
pub trait Policy: core::fmt::Debug + Send + private::Sealed {
    /// The kind reported to the host.
    const KIND: PolicyKind;

    /// Whether this policy can ever grow memory. When `false`, nogrow's growth
    /// path is compiled out, so the module contains no `memory.grow`.
    const GROWS: bool;

    /// The heap cannot fit `layout` and the arena is exhausted. Return how many
    /// pages to grow: `(least that fits, preferred)`, or `None` to fail.
    /// `owned_pages` is the heap nogrow owns (arena included, rounded up),
    /// `memory_pages` the current memory size.
    fn plan_growth(
        &self,
        layout: Layout,
        owned_pages: usize,
        memory_pages: usize,
    ) -> Option<(usize, usize)> {
        let _ = (layout, owned_pages, memory_pages);
        None
    }

    /// Pages to grow for a reserve request of `requested` pages (0: the
    /// compile-time amount). Policies other than [`Reserve`] refuse.
    fn reserve_pages(&self, requested: u32) -> Result<usize, ReserveError> {
        let _ = requested;
        Err(ReserveError::NotReservePolicy)
    }

    /// Pages to reserve on the first allocation if the host never called
    /// `nogrow_reserve` (only [`Reserve::pages`] has such an amount).
    fn lazy_reserve_pages(&self) -> Option<usize> {
        None
    }

    /// The page limit reported to the host (0: none but the engine's).
    fn limit_pages(&self) -> usize {
        0
    }
}

mod private {
    pub trait Sealed {}
    impl Sealed for super::Fail {}
    impl Sealed for super::Reserve {}
    impl Sealed for super::Signal {}
}

/// Never executes `memory.grow`. When the arena is exhausted, allocation
/// returns null: `Vec::try_reserve` returns `Err`, and infallible allocations
/// reach `handle_alloc_error` (a trap by default). The failure is recorded for
/// the host first.
#[derive(Debug, Clone, Copy, Default)]
pub struct Fail;

impl Policy for Fail {
    const KIND: PolicyKind = PolicyKind::Fail;
    const GROWS: bool = false;
}

/// Grows memory exactly once, up front, then behaves like [`Fail`].
///
/// The growth happens when the host calls the exported
/// `nogrow_reserve(pages)` right after instantiation, before it creates any
/// view (`pages == 0` asks for the compile-time amount of
/// [`Reserve::pages`]). A Rust guest cannot run code at instantiation on its
/// own, so if the host never calls it, a [`Reserve::pages`] guest reserves on
/// its first allocation instead, which detaches views made before it (the
/// generation counter says so). [`Reserve::runtime`] has no compile-time amount
/// and never grows unless asked.
#[derive(Debug, Clone, Copy)]
pub struct Reserve {
    pages: usize,
}

impl Reserve {
    /// Reserve `pages` pages (64 KiB each), by the host's call or lazily.
    ///
    /// Zero pages, or more than 4 GiB, is a compile-time error in a `static`.
    pub const fn pages(pages: usize) -> Self {
        assert!(
            pages > 0,
            "nogrow: Reserve::pages(0) reserves nothing; use Fail, or Reserve::runtime() to let the host choose"
        );
        assert!(
            pages <= MAX_PAGES_32,
            "nogrow: Reserve::pages above 65536 pages (4 GiB), the wasm32 maximum"
        );
        Self { pages }
    }

    /// Reserve `bytes`, rounded up to whole pages.
    pub const fn bytes(bytes: usize) -> Self {
        assert!(bytes > 0, "nogrow: Reserve::bytes(0) reserves nothing");
        Self::pages(bytes.div_ceil(PAGE_SIZE))
    }

    /// Reserve only what the host asks for at run time with `nogrow_reserve(pages)`.
    pub const fn runtime() -> Self {
        Self { pages: 0 }
    }

    /// The compile-time amount in pages (0 for [`Reserve::runtime`]).
    pub const fn compile_time_pages(&self) -> usize {
        self.pages
    }
}

impl Policy for Reserve {
    const KIND: PolicyKind = PolicyKind::Reserve;
    const GROWS: bool = true;

    fn reserve_pages(&self, requested: u32) -> Result<usize, ReserveError> {
        match (requested as usize, self.pages) {
            (0, 0) => Err(ReserveError::NoAmount),
            (0, compile_time) => Ok(compile_time),
            (n, _) if n > MAX_PAGES_32 => Err(ReserveError::TooLarge),
            (n, _) => Ok(n),
        }
    }

    fn lazy_reserve_pages(&self) -> Option<usize> {
        (self.pages > 0).then_some(self.pages)
    }
}

/// Grows when it must, and bumps the generation counter after every growth so
/// the host knows to renew its views.
///
/// Growth is geometric: each growth adds at least as many pages as nogrow
/// already owns (and at least [`step_pages`](Signal::step_pages) and what the
/// request needs), so N growths cover N doublings and the host renews its
/// views O(log n) times. An optional page limit caps the memory size.
#[derive(Debug, Clone, Copy)]
pub struct Signal {
    step: usize,
    limit: usize,
}

impl Signal {
    /// Grow by at least 1 page at a time, up to the engine's limit.
    pub const fn new() -> Self {
        Self { step: 1, limit: 0 }
    }

    /// Grow by at least `pages` pages at a time (compile-time error if 0).
    pub const fn step_pages(mut self, pages: usize) -> Self {
        assert!(
            pages > 0,
            "nogrow: Signal::step_pages(0): a growth must add at least one page"
        );
        assert!(
            pages <= MAX_PAGES_32,
            "nogrow: Signal::step_pages above 65536 pages (4 GiB)"
        );
        self.step = pages;
        self
    }

    /// Never let memory exceed `pages` pages in total (compile-time error if 0).
    pub const fn limit_pages(mut self, pages: usize) -> Self {
        assert!(
            pages > 0,
            "nogrow: Signal::limit_pages(0) would forbid all memory"
        );
        assert!(
            pages <= MAX_PAGES_32,
            "nogrow: Signal::limit_pages above 65536 pages (4 GiB)"
        );
        self.limit = pages;
        self
    }
}

impl Default for Signal {
    fn default() -> Self {
        Self::new()
    }
}

impl Policy for Signal {
    const KIND: PolicyKind = PolicyKind::Signal;
    const GROWS: bool = true;

    fn plan_growth(
        &self,
        layout: Layout,
        owned_pages: usize,
        memory_pages: usize,
    ) -> Option<(usize, usize)> {
        let limit = if self.limit == 0 {
            MAX_PAGES_32
        } else {
            self.limit
        };
        plan_geometric(layout, owned_pages, memory_pages, self.step, limit)
    }

    fn limit_pages(&self) -> usize {
        self.limit
    }
}

/// Why a reserve failed. It claimed nothing and did not grow memory.
/// `nogrow_reserve` returns these as negative codes.
#[repr(i32)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReserveError {
    /// The allocator's policy is not [`Reserve`] (code -1).
    NotReservePolicy = -1,
    /// A reserve already happened (by the host, or lazily) (code -2).
    AlreadyReserved = -2,
    /// `pages == 0` and the policy has no compile-time amount (code -3).
    NoAmount = -3,
    /// The request is beyond 4 GiB of memory in total (code -4).
    TooLarge = -4,
    /// The engine refused to grow (the module's declared maximum) (code -5).
    Refused = -5,
}

impl ReserveError {
    /// The code `nogrow_reserve` returns.
    pub const fn code(self) -> i32 {
        self as i32
    }

    /// A one-line explanation for humans.
    pub const fn message(self) -> &'static str {
        match self {
            ReserveError::NotReservePolicy => "the allocator's policy is not Reserve",
            ReserveError::AlreadyReserved => "memory was already reserved once",
            ReserveError::NoAmount => "0 pages requested and no compile-time amount",
            ReserveError::TooLarge => "the reserve would take memory beyond 4 GiB",
            ReserveError::Refused => "the engine refused to grow (module maximum)",
        }
    }
}

/// Bytes of fresh memory talc needs to serve `layout` from a new or extended
/// heap: the chunk (size rounded up plus its tag), one chunk unit of heap
/// overhead, and the alignment padding. Saturates instead of overflowing.
pub fn bytes_needed(layout: Layout) -> usize {
    let unit = talc::base::CHUNK_UNIT;
    let mut need = layout
        .size()
        .saturating_add(core::mem::size_of::<usize>() + unit - 1)
        & !(unit - 1);
    need = need.saturating_add(2 * unit);
    if layout.align() > unit {
        need = need.saturating_add(layout.align());
    }
    need
}

/// Whole pages that hold `bytes`, without overflow.
pub const fn pages_for(bytes: usize) -> usize {
    bytes / PAGE_SIZE + (bytes % PAGE_SIZE != 0) as usize
}

/// The geometric growth plan behind [`Signal`]: `(least, preferred)` pages, or
/// `None` when even the least would cross `limit` pages of memory.
///
/// `least` fits `layout`; `preferred` is the largest of `least`, `step` and
/// `owned_pages` (doubling), clipped to the limit.
pub fn plan_geometric(
    layout: Layout,
    owned_pages: usize,
    memory_pages: usize,
    step: usize,
    limit: usize,
) -> Option<(usize, usize)> {
    let room = limit.min(MAX_PAGES_32).checked_sub(memory_pages)?;
    let least = pages_for(bytes_needed(layout)).max(1);
    if least > room {
        return None;
    }
    let preferred = least.max(step).max(owned_pages).min(room);
    Some((least, preferred))
}
