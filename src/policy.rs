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
    /// Every policy, in number order.
    pub const ALL: [PolicyKind; 3] = [PolicyKind::Fail, PolicyKind::Reserve, PolicyKind::Signal];

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

    /// Whether this policy has a reserve (`nogrow_reserve`). When `false`, the
    /// reserve code is compiled out and every request is refused with
    /// [`ReserveError::NotReservePolicy`].
    const RESERVES: bool = false;

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
    ///
    /// ```compile_fail
    /// static R: nogrow::Reserve = nogrow::Reserve::pages(0); // reserves nothing
    /// ```
    /// ```compile_fail
    /// static R: nogrow::Reserve = nogrow::Reserve::pages(70_000); // above 4 GiB
    /// ```
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
    const RESERVES: bool = true;

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
    ///
    /// ```compile_fail
    /// static S: nogrow::Signal = nogrow::Signal::new().step_pages(0);
    /// ```
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
    ///
    /// ```compile_fail
    /// static S: nogrow::Signal = nogrow::Signal::new().limit_pages(0);
    /// ```
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
    /// Every error, in code order (-1 down to -5).
    pub const ALL: [ReserveError; 5] = [
        ReserveError::NotReservePolicy,
        ReserveError::AlreadyReserved,
        ReserveError::NoAmount,
        ReserveError::TooLarge,
        ReserveError::Refused,
    ];

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

/// Whether the heap makes its reserve at its first allocation: the policy has
/// a compile-time amount and the host did not reserve first (see [`Reserve`]).
pub fn reserves_at_first_allocation<P: Policy>(policy: &P, reserved: bool) -> bool {
    !reserved && policy.lazy_reserve_pages().is_some()
}

/// Decides a reserve request of `requested` pages (0: the compile-time
/// amount) for a heap that has `reserved` already or not, in a memory of
/// `memory_pages` pages: the pages to grow, or why the request is refused.
/// A refusal is decided before anything is claimed or grown.
pub fn plan_reserve<P: Policy>(
    policy: &P,
    requested: u32,
    reserved: bool,
    memory_pages: usize,
) -> Result<usize, ReserveError> {
    if !P::RESERVES {
        return Err(ReserveError::NotReservePolicy);
    }
    let pages = policy.reserve_pages(requested)?;
    if reserved {
        return Err(ReserveError::AlreadyReserved);
    }
    if memory_pages
        .checked_add(pages)
        .is_none_or(|total| total > MAX_PAGES_32)
    {
        return Err(ReserveError::TooLarge);
    }
    Ok(pages)
}

/// Bytes of fresh memory talc needs to serve `layout` from a new or extended
/// heap, wherever that memory starts: the chunk (size plus its tag, rounded up
/// to a chunk unit), two chunk units for the edges of a new heap (talc's tag
/// below its first chunk, and rounding an unaligned start and end to chunk
/// units), and the alignment padding. Saturates instead of overflowing.
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

/// One past the highest address a pointer can hold, as a `u64`: 2^32 on
/// wasm32. (On 64-bit targets `u64::MAX`: no heap comes near it.)
pub const ADDRESS_SPACE_END: u64 = if usize::BITS < 64 {
    1u64 << usize::BITS
} else {
    u64::MAX
};

/// Bytes at the top of the address space that no heap is given: on wasm32,
/// the last 16 MiB of a 4 GiB memory (256 pages). A heap that reached the
/// top still serves every request up to about this size (see
/// [`max_request_at`]);
/// and no heap end is ever the address 2^32, which a 32-bit pointer cannot
/// hold.
pub const TOP_RESERVE: u64 = 16 << 20;

/// talc's additions to a request in its fit checks, bounded: the chunk's tag
/// and rounding to a chunk unit, and an aligned base up to `align - 1` above a
/// free chunk's base. `2 * CHUNK_UNIT` covers the first two for any size.
const FIT_SLACK: u64 = 2 * talc::base::CHUNK_UNIT as u64;

/// The heap's highest address, and what that allows talc to be asked.
///
/// talc 5.1.1 decides whether a free chunk fits a request by adding the
/// request to the chunk's (aligned) base and comparing the sum with the
/// chunk's end, and grows a block in place by the same sum. On wasm32 the
/// sum is 32 bits wide: for a chunk high in memory and a large request it
/// passes 2^32 and wraps to a small address, the check passes, and talc
/// hands out a block that runs past the end of memory over live ones. So
/// nogrow asks talc only about requests whose sum cannot pass the end of the
/// address space from any chunk of the heap: with the heap's highest address
/// `top`, `size + align <= 2^32 - top - 32`. Every heap that ends below
/// 2 GiB serves every request a `Layout` allows (sizes are below 2 GiB); a
/// heap that reaches higher refuses larger requests (null, recorded as a
/// failure, no growth) even where a free chunk lower in the heap would fit.
#[derive(Debug, Clone, Copy)]
pub(crate) struct HeapTop {
    space_end: u64,
    top: u64,
    max_request: usize,
}

impl HeapTop {
    /// No memory given to talc yet, in this target's address space.
    pub(crate) const fn new() -> Self {
        Self::in_space(ADDRESS_SPACE_END)
    }

    /// No memory given to talc yet, in an address space ending at
    /// `space_end` ([`Memory::address_space_end`](crate::Memory::address_space_end)).
    pub(crate) const fn in_space(space_end: u64) -> Self {
        Self {
            space_end,
            top: 0,
            max_request: clamp(max_request_at(0, space_end)),
        }
    }

    /// Whether talc may be asked for `layout`.
    #[inline(always)]
    pub(crate) fn serves(&self, layout: Layout) -> bool {
        // A `Layout`'s size rounded up to its alignment is at most
        // `isize::MAX`: the sum cannot overflow. Every heap stays below the
        // top reserve, so requests below it never need the stored bound.
        let request = layout.size() + layout.align();
        request <= ALWAYS_SERVED || request <= self.max_request
    }

    /// Memory up to `end` was given to talc.
    pub(crate) fn raise(&mut self, end: usize) {
        let end = end as u64;
        if end > self.top {
            self.top = end;
            self.max_request = clamp(max_request_at(end, self.space_end));
        }
    }

    /// Bytes of the region `base..base + bytes` a heap may take.
    pub(crate) fn usable(&self, base: usize, bytes: usize) -> usize {
        usable_at(base as u64, bytes as u64, self.space_end) as usize
    }

    /// Whether talc may grow the block at `ptr` (a live block of this heap)
    /// in place to `new_size`.
    #[inline(always)]
    pub(crate) fn in_place(&self, ptr: usize, new_size: usize) -> bool {
        // A live block lies below the heap's top, which stays below the top
        // reserve: growing it by less than the reserve cannot pass the end.
        new_size <= ALWAYS_SERVED
            || in_place_below_top_at(ptr as u64, new_size as u64, self.space_end)
    }

    /// A growth plan `least..=preferred` pages, for a memory of
    /// `memory_pages` pages starting at `memory_base`, clipped so that the
    /// heap's new top still allows `layout`; `None` if even `least` would not.
    pub(crate) fn clip_growth(
        &self,
        layout: Layout,
        memory_pages: usize,
        memory_base: usize,
        least: usize,
        preferred: usize,
    ) -> Option<(usize, usize)> {
        let most = most_pages_for(
            layout.size() as u64 + layout.align() as u64,
            memory_base as u64,
            self.space_end,
        );
        let (least, preferred) = clip_plan(memory_pages as u64, most, least, preferred)?;
        let top = memory_base as u64 + memory_pages as u64 * PAGE_SIZE as u64;
        Some((least, taper(top, least, preferred, self.space_end)))
    }
}

/// Requests (`size + align`) that every heap serves, wherever its top: its
/// top stays below [`TOP_RESERVE`].
const ALWAYS_SERVED: usize = clamp(TOP_RESERVE - FIT_SLACK);

const fn clamp(n: u64) -> usize {
    if n > usize::MAX as u64 {
        usize::MAX
    } else {
        n as usize
    }
}

/// The largest `size + align` talc may be asked for when the heap's highest
/// address is `top`, in an address space ending at `space_end`.
pub const fn max_request_at(top: u64, space_end: u64) -> u64 {
    space_end.saturating_sub(top).saturating_sub(FIT_SLACK)
}

/// Bytes of `base..base + bytes` below `space_end - TOP_RESERVE`.
pub const fn usable_at(base: u64, bytes: u64, space_end: u64) -> u64 {
    let limit = space_end.saturating_sub(TOP_RESERVE);
    if base >= limit {
        0
    } else if bytes < limit - base {
        bytes
    } else {
        limit - base
    }
}

/// Whether talc may grow the block at `ptr` in place to `new_size` bytes:
/// its end, with talc's additions, stays below `space_end`.
pub const fn in_place_below_top_at(ptr: u64, new_size: u64, space_end: u64) -> bool {
    match ptr.checked_add(new_size) {
        Some(end) => match end.checked_add(FIT_SLACK) {
            Some(end) => end <= space_end,
            None => false,
        },
        None => false,
    }
}

/// The most pages a memory starting at `memory_base` may have so that a heap
/// reaching its end still serves a request of `request` bytes (`size +
/// align`), and stays below [`TOP_RESERVE`].
pub const fn most_pages_for(request: u64, memory_base: u64, space_end: u64) -> u64 {
    let by_reserve = space_end.saturating_sub(TOP_RESERVE);
    let by_request = space_end.saturating_sub(FIT_SLACK).saturating_sub(request);
    let top = if by_reserve < by_request {
        by_reserve
    } else {
        by_request
    };
    top.saturating_sub(memory_base) / PAGE_SIZE as u64
}

/// The preferred growth of a memory ending at `top`, tapered in the upper half
/// of the address space: there a growth takes at most a quarter of the room
/// left below the top reserve (and always at least `least`), so the heap's
/// top, which bounds the largest request it serves, approaches the end of the
/// address space in shrinking steps instead of reaching it in one doubling.
pub const fn taper(top: u64, least: usize, preferred: usize, space_end: u64) -> usize {
    let end = space_end.saturating_sub(TOP_RESERVE);
    if space_end == u64::MAX || top < space_end / 2 || top >= end {
        return preferred;
    }
    let quarter = ((end - top) / 4 / PAGE_SIZE as u64) as usize;
    let tapered = if quarter > least { quarter } else { least };
    if tapered < preferred {
        tapered
    } else {
        preferred
    }
}

/// `least..=preferred` pages of growth for a memory of `memory_pages`, clipped
/// to `most` pages in total; `None` if even `least` would pass it.
pub fn clip_plan(
    memory_pages: u64,
    most: u64,
    least: usize,
    preferred: usize,
) -> Option<(usize, usize)> {
    let room = most.checked_sub(memory_pages)?;
    if least as u64 > room {
        return None;
    }
    Some((least, (preferred as u64).min(room) as usize))
}

#[cfg(test)]
mod tests {
    use core::{mem::size_of, ptr::NonNull};

    use talc::base::CHUNK_UNIT;

    use super::*;
    use crate::cache::tests::TalcMemory;

    /// Layouts around chunk-unit and page boundaries, from 1 byte to a few
    /// hundred KiB, each with every power-of-two alignment from 1 to 4096.
    /// Under Miri: fewer boundaries and alignments (every kind is kept).
    fn layouts() -> impl Iterator<Item = Layout> {
        let (unit, tail) = (CHUNK_UNIT, size_of::<usize>());
        let units = if cfg!(miri) { 2 } else { 20 };
        let around_units = (1..=units).flat_map(move |k| {
            let chunk = k * unit;
            [
                chunk - tail - 1,
                chunk - tail,
                chunk - tail + 1,
                chunk,
                chunk + 1,
            ]
        });
        let pages = if cfg!(miri) { 1 } else { 4 };
        let around_pages = (1..=pages).flat_map(move |p| {
            let page = p * PAGE_SIZE;
            let below = [2 * unit, unit + tail, unit, tail + 1, tail, 1, 0];
            below.map(|d| page - d).into_iter().chain([page + 1])
        });
        let large = [200_000, (256 << 10) - tail, 300_000];
        let sizes = around_units
            .filter(|&size| size > 0)
            .chain(around_pages)
            .chain(large);
        sizes.flat_map(|size| {
            (0..=12)
                .map(|shift| 1 << shift)
                .filter(|&align| !cfg!(miri) || align == 1 || align == CHUNK_UNIT || align == 4096)
                .map(move |align| Layout::from_size_align(size, align).unwrap())
        })
    }

    /// Test memory for every layout: a page (where the extended heap starts)
    /// and room for twice the largest `bytes_needed` above it, so a request
    /// that does not fit is still weighed inside the memory (see
    /// [`TalcMemory::heap_len`]).
    fn memory() -> TalcMemory {
        let most = layouts().map(bytes_needed).max().unwrap();
        TalcMemory::new(pages_for(2 * most + CHUNK_UNIT) * PAGE_SIZE + PAGE_SIZE)
    }

    /// Whether `block` is a block for `layout` that ends by `end`.
    fn serves(block: Option<NonNull<u8>>, layout: Layout, end: *mut u8) -> bool {
        block.is_some_and(|b| {
            b.addr().get() % layout.align() == 0 && b.addr().get() + layout.size() <= end.addr()
        })
    }

    #[test]
    fn a_new_heap_of_bytes_needed_serves_the_request() {
        let mut memory = memory();
        // Growth claims new memory from a page boundary. A start whose tag
        // slot (the word talc writes below a new heap's first chunk) ends one
        // byte past a chunk boundary loses the most to rounding at the two
        // ends of the heap: two whole chunk units. `bytes_needed` covers that
        // too.
        let worst = CHUNK_UNIT - size_of::<usize>() + 1;
        let starts: &[usize] = if cfg!(miri) { &[0] } else { &[0, worst] };
        for layout in layouts() {
            let need = bytes_needed(layout);
            for &start in starts {
                memory.with_talc(|talc, region, _| {
                    let base = region.wrapping_add(start);
                    // SAFETY: `need` bytes at `base` lie in the region (see
                    // `memory`), which is the test memory's alone (see
                    // `with_talc`).
                    let end = unsafe { talc.claim(base, need) };
                    assert!(end.is_some(), "{layout:?}: no heap in {need} bytes");
                    // SAFETY: non-zero size.
                    let block = unsafe { talc.allocate(layout) };
                    assert!(
                        serves(block, layout, base.wrapping_add(need)),
                        "{layout:?}: a new heap of bytes_needed = {need} bytes \
                         {start} bytes past a page cannot serve it"
                    );
                });
            }
        }
    }

    #[test]
    fn an_exhausted_heap_extended_by_bytes_needed_serves_the_request() {
        let mut memory = memory();
        let small_heap = 4 * CHUNK_UNIT;
        for layout in layouts() {
            let need = bytes_needed(layout);
            // A heap ends where memory ended (a page boundary) when growth
            // extends it; one chunk unit past it is the worst case for the
            // alignment padding of a request.
            for past_page in [0, CHUNK_UNIT] {
                memory.with_talc(|talc, region, _| {
                    let end = region.wrapping_add(PAGE_SIZE + past_page);
                    let base = end.wrapping_sub(small_heap);
                    // SAFETY: `base..end` lies in the region, which is the test
                    // memory's alone (see `with_talc`).
                    let heap_end = unsafe { talc.claim(base, small_heap) }.unwrap();
                    assert_eq!(heap_end.as_ptr(), end);
                    let byte = Layout::new::<u8>();
                    let mut filled = 0;
                    // SAFETY: non-zero size.
                    while unsafe { talc.allocate(byte) }.is_some() {
                        filled += 1;
                        assert!(filled < small_heap / CHUNK_UNIT, "the heap never fills");
                    }
                    assert!(filled > 0, "the small heap served nothing");
                    // SAFETY: `heap_end` is the current end of a heap of this
                    // talc; `end..end + need` lies in the region (see
                    // `memory`), which is the test memory's alone.
                    let new_end = unsafe { talc.extend(heap_end, end.wrapping_add(need)) };
                    assert!(new_end.as_ptr() <= end.wrapping_add(need));
                    // SAFETY: non-zero size.
                    let block = unsafe { talc.allocate(layout) };
                    assert!(
                        serves(block, layout, new_end.as_ptr()),
                        "{layout:?}: a full heap ending {past_page} bytes past a page, \
                         extended by bytes_needed = {need} bytes, cannot serve it"
                    );
                });
            }
        }
    }

    #[test]
    fn pages_for_rounds_bytes_up_to_whole_pages_without_overflow() {
        assert_eq!(pages_for(0), 0);
        assert_eq!(pages_for(1), 1);
        assert_eq!(pages_for(PAGE_SIZE), 1);
        assert_eq!(pages_for(PAGE_SIZE + 1), 2);
        assert_eq!(pages_for(3 * PAGE_SIZE - 1), 3);
        assert_eq!(pages_for(usize::MAX), usize::MAX / PAGE_SIZE + 1);
    }

    fn sized(size: usize) -> Layout {
        Layout::from_size_align(size, 8).unwrap()
    }

    #[test]
    fn the_least_growth_is_the_pages_the_request_needs() {
        // The largest request that needs one page, and one byte more.
        let one_page = (1..=PAGE_SIZE)
            .rev()
            .find(|&size| bytes_needed(sized(size)) <= PAGE_SIZE)
            .unwrap();
        let least = |size| {
            plan_geometric(sized(size), 0, 1, 1, MAX_PAGES_32)
                .unwrap()
                .0
        };
        assert_eq!(least(1), 1);
        assert_eq!(least(one_page), 1);
        assert_eq!(least(one_page + 1), 2);
        assert_eq!(least(3 * PAGE_SIZE), 4, "three pages and talc's overhead");
    }

    #[test]
    fn the_preferred_growth_is_the_largest_of_least_step_and_owned_pages() {
        let small = sized(8);
        assert_eq!(
            plan_geometric(small, 16, 20, 1, MAX_PAGES_32),
            Some((1, 16))
        );
        assert_eq!(plan_geometric(small, 2, 20, 8, MAX_PAGES_32), Some((1, 8)));
        let three_pages = sized(3 * PAGE_SIZE);
        assert_eq!(
            plan_geometric(three_pages, 2, 20, 1, MAX_PAGES_32),
            Some((4, 4))
        );
    }

    #[test]
    fn growth_is_clipped_to_the_limit_and_refused_beyond_it() {
        let small = sized(8);
        let two_pages = sized(PAGE_SIZE);
        assert_eq!(
            plan_geometric(small, 16, 10, 1, 13),
            Some((1, 3)),
            "preferred clipped"
        );
        assert_eq!(
            plan_geometric(two_pages, 16, 10, 1, 12),
            Some((2, 2)),
            "just fits"
        );
        assert_eq!(
            plan_geometric(two_pages, 16, 11, 1, 12),
            None,
            "one page short"
        );
        assert_eq!(plan_geometric(small, 1, 12, 1, 12), None, "at the limit");
        assert_eq!(plan_geometric(small, 1, 13, 1, 12), None, "past the limit");
        // A limit beyond 4 GiB is 4 GiB.
        let no_limit = usize::MAX;
        assert_eq!(
            plan_geometric(small, 1, MAX_PAGES_32 - 1, 1, no_limit),
            Some((1, 1))
        );
        assert_eq!(plan_geometric(small, 1, MAX_PAGES_32, 1, no_limit), None);
        // The largest request: more than half of 4 GiB, no overflow.
        let huge = Layout::from_size_align(isize::MAX as usize - 4095, 4096).unwrap();
        assert_eq!(
            plan_geometric(huge, 1, MAX_PAGES_32 / 2, 1, MAX_PAGES_32),
            None
        );
    }
}

#[cfg(test)]
mod abi_lists {
    use super::*;

    #[test]
    fn every_policy_and_reserve_error_is_listed_once_in_number_order() {
        for (i, kind) in PolicyKind::ALL.iter().enumerate() {
            assert_eq!(*kind as usize, i + 1);
            // Exhaustive: a new policy does not compile here until it is handled.
            match kind {
                PolicyKind::Fail | PolicyKind::Reserve | PolicyKind::Signal => {}
            }
        }
        for (i, e) in ReserveError::ALL.iter().enumerate() {
            assert_eq!(e.code(), -(i as i32) - 1);
            match e {
                ReserveError::NotReservePolicy
                | ReserveError::AlreadyReserved
                | ReserveError::NoAmount
                | ReserveError::TooLarge
                | ReserveError::Refused => {}
            }
        }
    }
}

#[cfg(test)]
mod reserve_decisions {
    use super::*;

    #[test]
    fn only_the_reserve_policy_reserves() {
        assert_eq!(
            plan_reserve(&Fail, 4, false, 1),
            Err(ReserveError::NotReservePolicy)
        );
        assert_eq!(
            plan_reserve(&Signal::new(), 4, false, 1),
            Err(ReserveError::NotReservePolicy)
        );
        assert!(!reserves_at_first_allocation(&Fail, false));
        assert!(!reserves_at_first_allocation(&Signal::new(), false));
    }

    #[test]
    fn zero_pages_means_the_compile_time_amount_or_is_refused() {
        assert_eq!(plan_reserve(&Reserve::pages(16), 0, false, 1), Ok(16));
        assert_eq!(plan_reserve(&Reserve::pages(16), 3, false, 1), Ok(3));
        assert_eq!(
            plan_reserve(&Reserve::runtime(), 0, false, 1),
            Err(ReserveError::NoAmount)
        );
        assert_eq!(plan_reserve(&Reserve::runtime(), 7, false, 1), Ok(7));
    }

    #[test]
    fn a_reserve_happens_once() {
        assert_eq!(
            plan_reserve(&Reserve::pages(16), 0, true, 17),
            Err(ReserveError::AlreadyReserved)
        );
        assert_eq!(
            plan_reserve(&Reserve::runtime(), 0, true, 17),
            Err(ReserveError::NoAmount),
            "a request without an amount is refused for that first"
        );
    }

    #[test]
    fn a_reserve_beyond_4_gib_in_total_is_refused() {
        let r = Reserve::runtime();
        assert_eq!(plan_reserve(&r, 65_535, false, 1), Ok(65_535));
        assert_eq!(
            plan_reserve(&r, 65_535, false, 2),
            Err(ReserveError::TooLarge)
        );
        assert_eq!(
            plan_reserve(&r, 65_537, false, 0),
            Err(ReserveError::TooLarge)
        );
        assert_eq!(
            plan_reserve(&r, u32::MAX, false, 0),
            Err(ReserveError::TooLarge)
        );
        assert_eq!(
            plan_reserve(&r, 1, false, usize::MAX),
            Err(ReserveError::TooLarge),
            "no overflow"
        );
    }

    /// A 32-bit address space, as on wasm32 (the host tests run on 64-bit).
    const SPACE_32: u64 = 1 << 32;
    const GIB: u64 = 1 << 30;
    const MIB: u64 = 1 << 20;

    #[test]
    fn no_request_talc_is_asked_about_can_pass_4_gib_from_the_heap_top() {
        for top in [0, GIB, 2 * GIB, 3 * GIB, SPACE_32 - TOP_RESERVE] {
            let most = max_request_at(top, SPACE_32);
            // The largest sum talc can form: a chunk just below the top, its
            // base aligned up, plus the chunk the request needs.
            assert!(top + most + FIT_SLACK <= SPACE_32, "top {top:#x}");
            assert_eq!(max_request_at(top, SPACE_32), SPACE_32 - top - FIT_SLACK);
        }
        // A heap below 2 GiB serves every request a wasm32 `Layout` allows
        // (size rounded to its alignment at most 2^31 - 1).
        assert!(max_request_at(2 * GIB - MIB, SPACE_32) >= (1 << 31) - 1 + 16);
        // A heap reaching 2.2 GiB may still be asked for 1.7 GiB (it may fit
        // in a free chunk below), not for 1.9 GiB.
        let top = 2 * GIB + GIB / 5;
        assert!(1_700 * MIB + 16 <= max_request_at(top, SPACE_32));
        assert!(1_900 * MIB + 16 > max_request_at(top, SPACE_32));
        // At the top reserve, requests up to about its size still pass.
        let full = SPACE_32 - TOP_RESERVE;
        assert_eq!(max_request_at(full, SPACE_32), TOP_RESERVE - FIT_SLACK);
        assert_eq!(max_request_at(SPACE_32, SPACE_32), 0, "no underflow");
    }

    #[test]
    fn a_block_is_grown_in_place_only_where_its_end_stays_below_4_gib() {
        // The reported case: a block at 0x8cedccf0 grown to 1.9 GiB would end
        // at 0x1_0687_6689, past the end of memory.
        assert!(!in_place_below_top_at(
            0x8ced_ccf0,
            1_900 * MIB + 5,
            SPACE_32
        ));
        assert!(in_place_below_top_at(0x8ced_ccf0, GIB, SPACE_32));
        let edge = SPACE_32 - FIT_SLACK - 0x1000;
        assert!(in_place_below_top_at(0x1000, edge, SPACE_32));
        assert!(!in_place_below_top_at(0x1000, edge + 1, SPACE_32));
        assert!(!in_place_below_top_at(u64::MAX, 1, u64::MAX), "no overflow");
    }

    #[test]
    fn no_heap_region_reaches_the_top_reserve_or_wraps_to_zero() {
        // A growth that ends exactly at 65 536 pages: its end (2^32) is 0 in
        // a 32-bit pointer. The heap takes it only up to the top reserve.
        let last = SPACE_32 - 64 * MIB;
        assert_eq!(usable_at(last, 64 * MIB, SPACE_32), 64 * MIB - TOP_RESERVE);
        assert_eq!(usable_at(SPACE_32 - TOP_RESERVE, 4096, SPACE_32), 0);
        assert_eq!(usable_at(SPACE_32 - 65536, 65536, SPACE_32), 0);
        assert_eq!(usable_at(GIB, GIB, SPACE_32), GIB, "far below: all of it");
        assert_eq!(usable_at(0, SPACE_32, SPACE_32), SPACE_32 - TOP_RESERVE);
    }

    #[test]
    fn growth_is_planned_so_that_the_new_top_still_allows_the_request() {
        let page = PAGE_SIZE as u64;
        // Small requests may grow the memory up to the top reserve.
        let most = most_pages_for(4096, 0, SPACE_32);
        assert_eq!(most, (SPACE_32 - TOP_RESERVE) / page);
        assert_eq!(
            clip_plan(1000, most, 10, 65_536),
            Some((10, (most - 1000) as usize))
        );
        // A 1.5 GiB request with memory at 2.2 GiB: once grown to fit it, the
        // top would forbid it, so nothing grows.
        let request = 1_536 * MIB + 8;
        let most = most_pages_for(request, 0, SPACE_32);
        let pages = (2 * GIB + GIB / 5) / page;
        let least = (request / page + 1) as usize;
        assert_eq!(clip_plan(pages, most, least, 40_000), None);
        // The same request with memory at 0.5 GiB: growth clipped to where
        // the request is still allowed.
        let half = GIB / 2 / page;
        let (l, p) = clip_plan(half, most, least, 40_000).unwrap();
        assert_eq!(l, least);
        assert!(p < 40_000, "clipped");
        assert!((half + p as u64) * page + request + FIT_SLACK <= SPACE_32);
        assert_eq!(clip_plan(most + 1, most, 1, 1), None, "already past it");
    }

    #[test]
    fn above_half_the_address_space_growth_takes_a_quarter_of_the_room_left() {
        let page = PAGE_SIZE as u64;
        // Below 2 GiB: geometric growth as planned.
        assert_eq!(taper(GIB, 1, 16_384, SPACE_32), 16_384);
        // At 2.2 GiB a one-page request would double to the top reserve; it
        // takes a quarter of the room instead.
        let top = 2 * GIB + GIB / 5;
        let room = SPACE_32 - TOP_RESERVE - top;
        assert_eq!(taper(top, 1, 65_536, SPACE_32) as u64, room / 4 / page);
        // Never less than the request needs, never more than planned.
        assert_eq!(taper(top, 20_000, 65_536, SPACE_32), 20_000);
        assert_eq!(taper(top, 1, 2, SPACE_32), 2);
        // Filling up from 2 GiB takes a few dozen growths, not thousands.
        let (mut top, mut growths) = (2 * GIB, 0);
        while top + page <= SPACE_32 - TOP_RESERVE {
            top += (taper(top, 1, 65_536, SPACE_32) as u64).max(1) * page;
            growths += 1;
        }
        assert!(growths < 64, "{growths} growths");
        // 64-bit address spaces are not tapered.
        assert_eq!(taper(1 << 40, 1, 99, u64::MAX), 99);
    }

    #[test]
    fn the_first_allocation_reserves_only_a_compile_time_amount_not_yet_reserved() {
        assert!(reserves_at_first_allocation(&Reserve::pages(2), false));
        assert!(!reserves_at_first_allocation(&Reserve::pages(2), true));
        assert!(!reserves_at_first_allocation(&Reserve::runtime(), false));
    }
}
