//! The host-readable state: generation counter, statistics and the last
//! failure record, as one `#[repr(C)]` block in linear memory.
//!
//! The host finds it through the exported `nogrow_state()` (its address) and
//! reads it without further calls. Every field is a 32-bit little-endian
//! integer on wasm32; offsets are in the README's ABI table and in
//! [`offsets`]. Fields are written only while the allocator's lock is held and
//! read with relaxed loads, so on shared memory a host may read them with
//! `Atomics.load`.

use core::sync::atomic::{AtomicU32, AtomicUsize, Ordering::Relaxed};

use crate::policy::PolicyKind;

/// Version of the state layout; bumped on any incompatible change.
pub const ABI_VERSION: u32 = 1;

/// The record of the custom section `nogrow` (see
/// [`policy_section!`](crate::policy_section)): [`ABI_VERSION`] then the
/// policy, each a little-endian `u32`.
pub const fn policy_record(kind: PolicyKind) -> [u8; 8] {
    let v = ABI_VERSION.to_le_bytes();
    let k = (kind as u32).to_le_bytes();
    [v[0], v[1], v[2], v[3], k[0], k[1], k[2], k[3]]
}

/// The host-readable allocator state. See the [module docs](self).
#[repr(C)]
#[derive(Debug)]
pub struct State {
    /// +1 after every growth of linear memory nogrow performed, and +1 each
    /// time nogrow finds memory larger than when it last looked (growth by
    /// anyone else; the first look compares with the size the module was
    /// instantiated with). 0 at start. At offset 0.
    pub generation: AtomicU32,
    /// [`ABI_VERSION`].
    pub abi_version: AtomicU32,
    /// [`PolicyKind`] as a number (1 Fail, 2 Reserve, 3 Signal): set from the
    /// start by [`State::for_policy`] (as `install!` / `arena!` do), otherwise
    /// 0 until the first allocation or reserve.
    pub policy: AtomicU32,
    /// Memory size in pages when nogrow last looked.
    pub pages: AtomicU32,
    /// Bytes of memory the heap owns: static arena + linker heap + grown.
    pub arena_bytes: AtomicUsize,
    /// Bytes requested by live allocations.
    pub in_use: AtomicUsize,
    /// Highest `in_use` so far.
    pub peak_in_use: AtomicUsize,
    /// Successful allocations (`alloc`, `alloc_zeroed`).
    pub allocs: AtomicU32,
    /// Deallocations.
    pub frees: AtomicU32,
    /// Successful reallocations.
    pub reallocs: AtomicU32,
    /// Allocations and reallocations that returned null.
    pub failures: AtomicU32,
    /// Growths of linear memory performed by nogrow (reserve included).
    pub growths: AtomicU32,
    /// Size in bytes of the last request that failed.
    pub last_fail_size: AtomicUsize,
    /// Alignment of the last request that failed.
    pub last_fail_align: AtomicUsize,
    /// `in_use` when the last failure happened.
    pub last_fail_in_use: AtomicUsize,
    /// `arena_bytes` when the last failure happened.
    pub last_fail_arena: AtomicUsize,
    /// Result of the last reserve: 0 none yet, 1 done, or a negative
    /// [`ReserveError`](crate::ReserveError) code.
    pub reserve_status: AtomicU32,
    /// The policy's page limit (0: only the engine's).
    pub limit_pages: AtomicU32,
    /// Internal: nonzero while the memory source runs (re-entrancy checks).
    pub in_source: AtomicU32,
}

/// Byte offsets of [`State`]'s fields on wasm32 (for hosts reading memory).
pub mod offsets {
    #![allow(missing_docs)]
    pub const GENERATION: usize = 0;
    pub const ABI_VERSION: usize = 4;
    pub const POLICY: usize = 8;
    pub const PAGES: usize = 12;
    pub const ARENA_BYTES: usize = 16;
    pub const IN_USE: usize = 20;
    pub const PEAK_IN_USE: usize = 24;
    pub const ALLOCS: usize = 28;
    pub const FREES: usize = 32;
    pub const REALLOCS: usize = 36;
    pub const FAILURES: usize = 40;
    pub const GROWTHS: usize = 44;
    pub const LAST_FAIL_SIZE: usize = 48;
    pub const LAST_FAIL_ALIGN: usize = 52;
    pub const LAST_FAIL_IN_USE: usize = 56;
    pub const LAST_FAIL_ARENA: usize = 60;
    pub const RESERVE_STATUS: usize = 64;
    pub const LIMIT_PAGES: usize = 68;
    pub const SIZE: usize = 76;
}

#[cfg(target_pointer_width = "32")]
const _: () = {
    use core::mem::offset_of;
    assert!(offset_of!(State, generation) == offsets::GENERATION);
    assert!(offset_of!(State, arena_bytes) == offsets::ARENA_BYTES);
    assert!(offset_of!(State, last_fail_size) == offsets::LAST_FAIL_SIZE);
    assert!(offset_of!(State, limit_pages) == offsets::LIMIT_PAGES);
    assert!(core::mem::size_of::<State>() == offsets::SIZE);
};

/// A copy of the counters at one moment.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Stats {
    /// See [`State::generation`].
    pub generation: u32,
    /// See [`State::arena_bytes`].
    pub arena_bytes: usize,
    /// See [`State::in_use`].
    pub in_use: usize,
    /// See [`State::peak_in_use`].
    pub peak_in_use: usize,
    /// See [`State::allocs`].
    pub allocs: u32,
    /// See [`State::frees`].
    pub frees: u32,
    /// See [`State::reallocs`].
    pub reallocs: u32,
    /// See [`State::failures`].
    pub failures: u32,
    /// See [`State::growths`].
    pub growths: u32,
    /// See [`State::pages`].
    pub pages: u32,
}

/// The last allocation that failed, for explaining an out-of-memory trap.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Failure {
    /// Requested size in bytes.
    pub size: usize,
    /// Requested alignment.
    pub align: usize,
    /// Bytes in use when it failed.
    pub in_use: usize,
    /// Bytes the heap owned when it failed.
    pub arena_bytes: usize,
}

#[inline(always)]
fn add(a: &AtomicUsize, n: usize) -> usize {
    let v = a.load(Relaxed).wrapping_add(n);
    a.store(v, Relaxed);
    v
}

#[inline(always)]
fn bump(a: &AtomicU32) {
    a.store(a.load(Relaxed).wrapping_add(1), Relaxed);
}

impl State {
    /// A zeroed state (generation 0).
    pub const fn new() -> Self {
        Self {
            generation: AtomicU32::new(0),
            abi_version: AtomicU32::new(ABI_VERSION),
            policy: AtomicU32::new(0),
            pages: AtomicU32::new(0),
            arena_bytes: AtomicUsize::new(0),
            in_use: AtomicUsize::new(0),
            peak_in_use: AtomicUsize::new(0),
            allocs: AtomicU32::new(0),
            frees: AtomicU32::new(0),
            reallocs: AtomicU32::new(0),
            failures: AtomicU32::new(0),
            growths: AtomicU32::new(0),
            last_fail_size: AtomicUsize::new(0),
            last_fail_align: AtomicUsize::new(0),
            last_fail_in_use: AtomicUsize::new(0),
            last_fail_arena: AtomicUsize::new(0),
            reserve_status: AtomicU32::new(0),
            limit_pages: AtomicU32::new(0),
            in_source: AtomicU32::new(0),
        }
    }

    /// A zeroed state that already names `policy`'s kind, so a host that
    /// attaches before the first allocation sees it (used by
    /// [`arena!`](crate::arena)).
    pub const fn for_policy<P: crate::Policy>(policy: &P) -> Self {
        let _ = policy;
        let mut state = Self::new();
        state.policy = AtomicU32::new(P::KIND as u32);
        state
    }

    /// Reads the counters.
    pub fn stats(&self) -> Stats {
        Stats {
            generation: self.generation.load(Relaxed),
            arena_bytes: self.arena_bytes.load(Relaxed),
            in_use: self.in_use.load(Relaxed),
            peak_in_use: self.peak_in_use.load(Relaxed),
            allocs: self.allocs.load(Relaxed),
            frees: self.frees.load(Relaxed),
            reallocs: self.reallocs.load(Relaxed),
            failures: self.failures.load(Relaxed),
            growths: self.growths.load(Relaxed),
            pages: self.pages.load(Relaxed),
        }
    }

    /// The last failed request, if any failed.
    pub fn last_failure(&self) -> Option<Failure> {
        (self.failures.load(Relaxed) != 0).then(|| Failure {
            size: self.last_fail_size.load(Relaxed),
            align: self.last_fail_align.load(Relaxed),
            in_use: self.last_fail_in_use.load(Relaxed),
            arena_bytes: self.last_fail_arena.load(Relaxed),
        })
    }

    /// The policy reported to the host, once known.
    pub fn policy(&self) -> Option<PolicyKind> {
        match self.policy.load(Relaxed) {
            1 => Some(PolicyKind::Fail),
            2 => Some(PolicyKind::Reserve),
            3 => Some(PolicyKind::Signal),
            _ => None,
        }
    }

    // Writers below run under the allocator's lock.

    #[inline(always)]
    pub(crate) fn on_alloc(&self, size: usize) {
        let now = add(&self.in_use, size);
        if now > self.peak_in_use.load(Relaxed) {
            self.peak_in_use.store(now, Relaxed);
        }
        bump(&self.allocs);
    }

    #[inline(always)]
    pub(crate) fn on_free(&self, size: usize) {
        add(&self.in_use, size.wrapping_neg());
        bump(&self.frees);
    }

    #[inline(always)]
    pub(crate) fn on_realloc(&self, old: usize, new: usize) {
        let now = add(&self.in_use, new.wrapping_sub(old));
        if now > self.peak_in_use.load(Relaxed) {
            self.peak_in_use.store(now, Relaxed);
        }
        bump(&self.reallocs);
    }

    #[cold]
    pub(crate) fn on_failure(&self, size: usize, align: usize, owned_bytes: usize) {
        self.last_fail_size.store(size, Relaxed);
        self.last_fail_align.store(align, Relaxed);
        self.last_fail_in_use
            .store(self.in_use.load(Relaxed), Relaxed);
        self.last_fail_arena.store(owned_bytes, Relaxed);
        bump(&self.failures);
    }

    // Mirrors of the heap's own bookkeeping (`Heap`), written in one place each.

    pub(crate) fn set_generation(&self, generation: u32) {
        self.generation.store(generation, Relaxed);
    }

    pub(crate) fn set_pages(&self, pages: usize) {
        self.pages.store(pages as u32, Relaxed);
    }

    pub(crate) fn set_owned_bytes(&self, bytes: usize) {
        self.arena_bytes.store(bytes, Relaxed);
    }

    pub(crate) fn set_policy(&self, kind: PolicyKind, limit_pages: usize) {
        self.policy.store(kind as u32, Relaxed);
        self.limit_pages.store(limit_pages as u32, Relaxed);
    }

    pub(crate) fn set_reserve_status(&self, status: ReserveStatus) {
        let code = match status {
            ReserveStatus::Reserved => 1,
            ReserveStatus::Failed(e) => e.code() as u32,
        };
        self.reserve_status.store(code, Relaxed);
    }

    /// nogrow grew memory once.
    pub(crate) fn on_growth(&self) {
        bump(&self.growths);
    }
}

/// What the state block's `reserve_status` says after a reserve attempt.
#[derive(Debug, Clone, Copy)]
pub(crate) enum ReserveStatus {
    /// A reserve is in effect.
    Reserved,
    /// The last attempt failed (and none is in effect).
    Failed(crate::ReserveError),
}

impl Default for State {
    fn default() -> Self {
        Self::new()
    }
}
