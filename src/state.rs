//! The host-readable state: generation counter, statistics and the last
//! failure record, as one `#[repr(C)]` block in linear memory.
//!
//! The host finds it through the exported `nogrow_state()` (its address) and
//! reads it without further calls. Every field is a 32-bit little-endian
//! integer on wasm32; the layout is defined once, in this module ([`FIELDS`],
//! [`offsets`]), and the README table and the JS constants are generated from
//! it (`cargo xtask abi`). Fields are written only while the allocator's lock is held and
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

/// Declares [`State`] and its host ABI from one list: each field's wasm32
/// byte offset and name sit next to its declaration, and [`FIELDS`],
/// [`offsets`], [`LAYOUT_RECORD`] and the generated JS, TypeScript and README
/// tables all come from here. On 32-bit targets every offset is checked
/// against the real layout at compile time.
macro_rules! state_block {
    (
        $(#[doc = $sdoc:literal])*
        pub struct State {
            $(
                $(#[doc = $doc:literal])*
                [$offset:literal, $konst:ident] $field:ident : $ty:ty,
            )*
        }
    ) => {
        $(#[doc = $sdoc])*
        #[repr(C)]
        #[derive(Debug)]
        pub struct State {
            $( $(#[doc = $doc])* pub $field: $ty, )*
        }

        /// The host ABI's fields in layout order: name, wasm32 byte offset,
        /// and meaning.
        pub const FIELDS: &[Field] = &[
            $( Field {
                name: stringify!($field),
                offset: $offset,
                doc: concat!($($doc, "\n"),*),
            }, )*
        ];

        /// Byte offsets of [`State`]'s host ABI fields on wasm32 (little-endian
        /// 32-bit integers), for hosts reading memory.
        pub mod offsets {
            $(
                #[doc = concat!("Offset of `", stringify!($field), "`.")]
                pub const $konst: usize = $offset;
            )*
            /// Bytes of the host ABI part of the block (the fields above).
            pub const SIZE: usize = super::FIELDS.len() * 4;
        }

        /// The text of the custom section `nogrow.layout`: the ABI version
        /// and every field as `name=offset`, one per line.
        pub const LAYOUT_TEXT: &str = concat!(
            "nogrow-layout ", 1, "\n",
            $( stringify!($field), "=", $offset, "\n", )*
        );

        #[cfg(target_pointer_width = "32")]
        const _: () = {
            $( assert!(core::mem::offset_of!(State, $field) == $offset); )*
        };
    };
}

/// One field of the host ABI (see [`FIELDS`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Field {
    /// The Rust name (`snake_case`).
    pub name: &'static str,
    /// Byte offset in the block on wasm32.
    pub offset: usize,
    /// What it holds (the field's documentation).
    pub doc: &'static str,
}

state_block! {
    /// The host-readable allocator state. See the [module docs](self).
    pub struct State {
        /// Count: +1 after every growth of linear memory nogrow performed, and
        /// +1 each time nogrow finds memory larger than when it last looked
        /// (growth by anyone else; the first look compares with the size the
        /// module was instantiated with). 0 at start.
        [0, GENERATION] generation: AtomicU32,
        /// [`ABI_VERSION`] of this layout.
        [4, ABI_VERSION] abi_version: AtomicU32,
        /// [`PolicyKind`] as a number (1 Fail, 2 Reserve, 3 Signal), set from
        /// the start by `install!` / `arena!` (0 in a `State::new()` until the
        /// first allocation or reserve).
        [8, POLICY] policy: AtomicU32,
        /// Memory size in 64 KiB pages when nogrow last looked.
        [12, PAGES] pages: AtomicU32,
        /// Bytes of memory the heap owns: static arena + linker heap + grown.
        [16, HEAP_BYTES] heap_bytes: AtomicUsize,
        /// Bytes requested by live allocations.
        [20, IN_USE] in_use: AtomicUsize,
        /// Bytes: the highest `in_use` so far.
        [24, PEAK_IN_USE] peak_in_use: AtomicUsize,
        /// Count: successful allocations (`alloc`, `alloc_zeroed`).
        [28, ALLOCS] allocs: AtomicU32,
        /// Count: deallocations.
        [32, FREES] frees: AtomicU32,
        /// Count: successful reallocations.
        [36, REALLOCS] reallocs: AtomicU32,
        /// Count: allocations and reallocations that returned null.
        [40, FAILURES] failures: AtomicU32,
        /// Count: growths of linear memory nogrow performed (reserve included).
        [44, GROWTHS] growths: AtomicU32,
        /// Bytes requested by the last failure.
        [48, LAST_FAIL_SIZE] last_fail_size: AtomicUsize,
        /// Alignment of the last failure.
        [52, LAST_FAIL_ALIGN] last_fail_align: AtomicUsize,
        /// Bytes: `in_use` when the last failure happened.
        [56, LAST_FAIL_IN_USE] last_fail_in_use: AtomicUsize,
        /// Bytes: `heap_bytes` when the last failure happened.
        [60, LAST_FAIL_HEAP_BYTES] last_fail_heap_bytes: AtomicUsize,
        /// Result of the last reserve: 0 none yet, 1 reserved, else the
        /// failure's negative [`ReserveError`](crate::ReserveError) code (as i32).
        [64, RESERVE_STATUS] reserve_status: AtomicU32,
        /// Pages: the policy's memory limit (0: only the engine's).
        [68, LIMIT_PAGES] limit_pages: AtomicU32,
    }
}

const _: () = assert!(
    ABI_VERSION == 1,
    "LAYOUT_TEXT names the ABI version: update both"
);

/// [`LAYOUT_TEXT`] as the bytes of the `nogrow.layout` custom section.
pub const LAYOUT_RECORD: [u8; LAYOUT_TEXT.len()] = {
    let text = LAYOUT_TEXT.as_bytes();
    let mut out = [0u8; LAYOUT_TEXT.len()];
    let mut i = 0;
    while i < out.len() {
        out[i] = text[i];
        i += 1;
    }
    out
};

/// A copy of the counters at one moment.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Stats {
    /// See [`State::generation`].
    pub generation: u32,
    /// See [`State::heap_bytes`].
    pub heap_bytes: usize,
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
    pub heap_bytes: usize,
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
            heap_bytes: AtomicUsize::new(0),
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
            last_fail_heap_bytes: AtomicUsize::new(0),
            reserve_status: AtomicU32::new(0),
            limit_pages: AtomicU32::new(0),
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
            heap_bytes: self.heap_bytes.load(Relaxed),
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
            heap_bytes: self.last_fail_heap_bytes.load(Relaxed),
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
        self.last_fail_heap_bytes.store(owned_bytes, Relaxed);
        bump(&self.failures);
    }

    // Mirrors of the heap's own bookkeeping (`HeapSource`), written in one place each.

    pub(crate) fn set_generation(&self, generation: u32) {
        self.generation.store(generation, Relaxed);
    }

    pub(crate) fn set_pages(&self, pages: usize) {
        self.pages.store(pages as u32, Relaxed);
    }

    pub(crate) fn set_owned_bytes(&self, bytes: usize) {
        self.heap_bytes.store(bytes, Relaxed);
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
