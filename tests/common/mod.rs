//! The random-operation body shared by the host tests (`tests/random_ops.rs`,
//! also run under Miri), the wasm32 tests (`tests/wasm_*_random_ops.rs`), the
//! fuzz target (`fuzz-alloc/`) and `cargo xtask stress`.
//!
//! [`run`] drives a [`Nogrow`] with alloc / alloc_zeroed / free / realloc
//! (grow and shrink), sizes 1 B to above 16 MiB, alignments 1 to 4096, and
//! checks after every operation, against a model of the live blocks:
//! no overlap, alignment, every block inside the arena or the grown region,
//! content preserved (across realloc too), zeroed memory reads zero, and the
//! allocator's statistics equal the model's sums. [`finish`] frees everything,
//! checks the counters are back, and allocates (nearly) the whole arena and the
//! whole grown region again.
//!
//! The body allocates nothing itself while it runs (the model's storage is
//! reserved up front), so on wasm32, where the allocator under test is the
//! global allocator, statistics are compared as deltas from a baseline.
#![allow(dead_code, unused_imports)]

/// A failed check: which operation, what broke.
macro_rules! check {
    ($op:expr, $cond:expr, $($msg:tt)+) => {
        if !$cond {
            return Err(format!("op {}: {}", $op, format_args!($($msg)+)));
        }
    };
}

mod blocks;
mod choices;
mod env;
mod model;
mod regions;
#[cfg(target_arch = "wasm32")]
pub mod wasm;

pub use blocks::Violation;
pub use choices::{Bytes, Choices, Rng};
#[cfg(not(target_arch = "wasm32"))]
pub use env::{ops, seed};
pub use model::{Run, finish, run};
#[cfg(not(target_arch = "wasm32"))]
pub use regions::{Region, TALC_OVERSHOOT_PAD};

/// How a run is shaped and what it may assume.
#[derive(Debug, Clone)]
pub struct Config {
    /// Operations to perform (a [`Bytes`] input may end sooner).
    pub ops: u64,
    /// Most live blocks at once (the model's storage, reserved up front).
    pub max_live: usize,
    /// Largest request in bytes (above 16 MiB for the full runs).
    pub max_size: usize,
    /// Chance, per thousand requests, of a request around 16 MiB (16 MiB ± 4 MiB).
    pub huge_per_mille: u32,
    /// Above this many live bytes, frees are favoured.
    pub live_budget: usize,
    /// The static arena: address and length.
    pub arena: (*mut u8, usize),
    /// Address of page 0 of the linear memory the policy grows.
    pub mem_base: *mut u8,
    /// The memory size must never change during the run (Fail, Reserve).
    pub fixed_pages: bool,
    /// For Signal: below this many pages of memory growth cannot be refused,
    /// so a null return that would have fit below it is a violation.
    pub grow_guaranteed_below: Option<usize>,
    /// Reads the real memory size (wasm32's `memory.size`), to compare with
    /// what nogrow reports.
    pub memory_pages: Option<fn() -> usize>,
    /// Check every live block's content and the full statistics every this many ops.
    pub full_check_every: u64,
    /// At the end, allocate `arena length - slack` bytes: must succeed.
    pub whole_arena_slack: Option<usize>,
    /// Chance, per thousand allocations, that a block is made by the C
    /// allocation family (`malloc`, `calloc`, `aligned_alloc`,
    /// `posix_memalign`); such blocks are then resized with C `realloc` and
    /// freed with C `free`, mixed with Rust's blocks. 0: none (and the
    /// random sequence is the one of a Rust-only run).
    pub c_per_mille: u32,
    /// One heap for both families, as the global allocator is on
    /// `wasm32-wasip2` with `c-malloc`: Rust's blocks are made by
    /// `c_alloc::rust_alloc` (with a header), and every block is resized and
    /// freed by either family, chosen at random (`rust_realloc` or C
    /// `realloc`, `rust_dealloc` or C `free`).
    pub one_heap: bool,
    /// Where the address space ends, when the memory stands for one that
    /// spans it (`SliceMemory::spanning_the_address_space`): then no block
    /// may reach into its top [`TOP_RESERVE`](nogrow::policy::TOP_RESERVE),
    /// and a request too large for the heap's top must fail without growth.
    pub space_end: Option<u64>,
}

/// What a run did.
#[derive(Debug, Clone, Copy, Default)]
pub struct Report {
    /// Operations performed.
    pub ops: u64,
    /// Successful alloc / alloc_zeroed.
    pub allocs: u64,
    /// Frees.
    pub frees: u64,
    /// Successful reallocs.
    pub reallocs: u64,
    /// Null returns (alloc or realloc).
    pub failures: u64,
    /// Requests of 16 MiB or more that succeeded.
    pub huge_ok: u64,
    /// Most live bytes at once.
    pub peak_live: usize,
    /// Most live blocks at once.
    pub peak_blocks: usize,
    /// Memory size at the end of the run, in pages (memory never shrinks, so
    /// also the peak).
    pub pages: usize,
    /// Growths performed during the run.
    pub growths: u32,
    /// Blocks made by the C allocation family.
    pub c_allocs: u64,
    /// Stale C pointers (left behind by a `realloc` that moved the block)
    /// handed to `free`, `realloc` and `malloc_usable_size`, and refused.
    pub c_stale_refused: u64,
}

impl core::fmt::Display for Report {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(
            f,
            "ops={} allocs={} (C {}, stale pointers refused {}) frees={} reallocs={} failures={} huge_ok={} peak_live={} peak_blocks={} peak_pages={} growths={}",
            self.ops,
            self.allocs,
            self.c_allocs,
            self.c_stale_refused,
            self.frees,
            self.reallocs,
            self.failures,
            self.huge_ok,
            self.peak_live,
            self.peak_blocks,
            self.pages,
            self.growths
        )
    }
}

/// In a wasm32 test binary: on any other target the binary holds only this
/// ignored test, which says where its tests run.
#[macro_export]
macro_rules! wasm32_only {
    () => {
        #[cfg(not(target_arch = "wasm32"))]
        #[test]
        #[ignore = "a wasm32 test binary: `cargo test --target wasm32-unknown-unknown` runs it in Node (cargo xtask test does)"]
        fn runs_on_wasm32_in_node() {}
    };
}
