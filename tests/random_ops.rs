//! Random operations against a model, on the host, for every policy over the
//! fake memory (`SliceMemory`), including memories that refuse to grow at
//! chosen moments. The same body runs on wasm32 (`tests/wasm_*_random_ops.rs`),
//! under libFuzzer (`fuzz-alloc/`) and in `cargo xtask stress`.
//!
//! Counts: `NOGROW_RANDOM_OPS` (default 20 000 per test, 100 under Miri) and
//! `NOGROW_RANDOM_SEED` (default: a fixed seed per test) at run time.
#![cfg(not(target_arch = "wasm32"))]

mod common;

use core::alloc::{GlobalAlloc, Layout};

use common::{Config, Region, Report, Rng};
use nogrow::binning::{Binning, Compact, Fast};
use nogrow::{
    Arena, Fail, MIN_ARENA_BYTES, Nogrow, PAGE_SIZE, Policy, Reserve, Signal, SliceMemory, State,
};

/// The shape of one host run.
struct Setup {
    arena: usize,
    initial_pages: usize,
    max_pages: usize,
    refuse_after: Option<usize>,
    host_reserve: Option<u32>,
    max_size: usize,
    huge_per_mille: u32,
    live_budget: usize,
    ops: u64,
    /// Regions without the overshoot pad (see `common::TALC_OVERSHOOT_PAD`).
    exact_regions: bool,
    /// The memory stands for a 32-bit memory spanning the address space.
    spans_address_space: bool,
    /// One heap for Rust and C blocks (`common::Config::one_heap`).
    one_heap: bool,
}

fn full(arena: usize, max_pages: usize) -> Setup {
    if cfg!(miri) {
        // Miri interprets every byte: small regions, small requests.
        Setup {
            arena: 64 << 10,
            initial_pages: 1,
            max_pages: 24,
            refuse_after: None,
            host_reserve: None,
            max_size: 24 << 10,
            huge_per_mille: 0,
            live_budget: 256 << 10,
            ops: common::ops(100),
            exact_regions: false,
            spans_address_space: false,
            one_heap: false,
        }
    } else {
        Setup {
            arena,
            initial_pages: 1,
            max_pages,
            refuse_after: None,
            host_reserve: None,
            max_size: 20 << 20,
            huge_per_mille: 3,
            live_budget: 40 << 20,
            ops: common::ops(20_000),
            exact_regions: false,
            spans_address_space: false,
            one_heap: false,
        }
    }
}

/// Smallest slack that lets "allocate nearly the whole arena" succeed: talc's
/// bins live in the first heap, plus a chunk tag and the heap's end.
const WHOLE_ARENA_SLACK: usize = MIN_ARENA_BYTES;

fn run_host<P: Policy>(policy: P, state: &'static State, setup: Setup, seed: u64) -> Report {
    run_host_binned::<P, Compact>(policy, state, setup, seed)
}

fn run_host_binned<P: Policy, B: Binning>(
    policy: P,
    state: &'static State,
    setup: Setup,
    seed: u64,
) -> Report {
    let seed = common::seed(seed);
    let region = if setup.exact_regions {
        Region::exact
    } else {
        Region::new
    };
    // A memory that spans the address space ends it, so the static arena must
    // lie below it, as in a real memory (and not wherever the host's
    // allocator puts a second region): one region, the arena first, the
    // memory's pages from the next page boundary.
    let arena_span = setup.arena.next_multiple_of(PAGE_SIZE);
    let memory_len = setup.max_pages * PAGE_SIZE;
    let (regions, arena_at, memory_at) = if setup.spans_address_space {
        (
            vec![region(arena_span + memory_len)],
            (0, 0),
            (0, arena_span),
        )
    } else {
        (
            vec![region(setup.arena), region(memory_len)],
            (0, 0),
            (1, 0),
        )
    };
    let arena_ptr = regions[arena_at.0].ptr().wrapping_add(arena_at.1);
    let memory_ptr = regions[memory_at.0].ptr().wrapping_add(memory_at.1);
    // SAFETY: `memory_ptr..+max_pages` pages lie in a fresh region that
    // outlives the allocator below (declared after it, dropped first), apart
    // from the arena's bytes, and nothing else uses them.
    let mut mem = unsafe { SliceMemory::new(memory_ptr, setup.initial_pages, setup.max_pages) };
    if let Some(n) = setup.refuse_after {
        mem.refuse_after(n);
    }
    if setup.spans_address_space {
        mem = mem.spanning_the_address_space();
    }
    // SAFETY: `arena_ptr..+setup.arena` lies in a fresh region, apart from
    // the memory's pages, used only by this allocator, which is dropped first.
    let alloc = Nogrow::<P, SliceMemory, B>::with_binning(
        unsafe { Arena::from_raw(arena_ptr, setup.arena) },
        policy,
        mem,
        state,
    );
    if let Some(pages) = setup.host_reserve {
        alloc
            .reserve(pages)
            .expect("host reserve right after creation");
    }
    // The first allocation claims the arena (and, for a lazy Reserve, reserves).
    let one = Layout::new::<u8>();
    // SAFETY: non-zero size; freed right away with the same layout.
    unsafe { alloc.dealloc(alloc.alloc(one), one) };

    let fixed = !P::GROWS || matches!(P::KIND, nogrow::PolicyKind::Reserve);
    let grow_guaranteed_below = (matches!(P::KIND, nogrow::PolicyKind::Signal)
        && setup.refuse_after.is_none()
        && !setup.spans_address_space)
        .then(|| {
            setup.max_pages.min(if policy_limit(state) == 0 {
                usize::MAX
            } else {
                policy_limit(state)
            })
        });
    let cfg = Config {
        ops: setup.ops,
        max_live: 256,
        max_size: setup.max_size,
        huge_per_mille: setup.huge_per_mille,
        live_budget: setup.live_budget,
        arena: (arena_ptr, setup.arena),
        mem_base: memory_ptr,
        fixed_pages: fixed,
        grow_guaranteed_below,
        memory_pages: None,
        full_check_every: 97,
        whole_arena_slack: Some(WHOLE_ARENA_SLACK),
        c_per_mille: 200,
        one_heap: setup.one_heap,
        space_end: setup
            .spans_address_space
            .then(|| (memory_ptr.addr() + memory_len) as u64),
    };
    let run =
        common::run(&alloc, &cfg, &mut Rng(seed)).unwrap_or_else(|e| panic!("seed {seed}: {e}"));
    let report = common::finish(run).unwrap_or_else(|e| panic!("seed {seed}: {e}"));
    println!("{} host seed={seed} violations=0: {report}", P::KIND.name());
    drop(alloc);
    report
}

fn policy_limit(state: &State) -> usize {
    state
        .limit_pages
        .load(core::sync::atomic::Ordering::Relaxed) as usize
}

#[test]
fn fail_random_ops_match_the_model_and_never_grow() {
    static STATE: State = State::new();
    let r = run_host(Fail, &STATE, full(48 << 20, 64), 0xF417);
    let s = STATE.stats();
    assert_eq!(
        (s.growths, s.generation, r.growths),
        (0, 0, 0),
        "Fail grew memory"
    );
    assert_eq!(s.pages, 1, "memory size under Fail");
    assert!(
        r.allocs > 0 && r.frees > 0 && r.reallocs > 0,
        "all operations ran: {r}"
    );
}

#[test]
fn fail_random_ops_with_talcs_fast_binning_match_the_model() {
    static STATE: State = State::new();
    let r = run_host_binned::<_, Fast>(Fail, &STATE, full(48 << 20, 64), 0xFA57);
    assert_eq!(
        (STATE.stats().growths, r.growths),
        (0, 0),
        "Fail grew memory"
    );
    assert!(
        r.allocs > 0 && r.frees > 0 && r.reallocs > 0,
        "all operations ran: {r}"
    );
}

#[test]
fn reserve_random_ops_after_host_reserve_never_grow_again() {
    static STATE: State = State::new();
    let mut setup = full(4 << 20, 1 + 640);
    setup.host_reserve = Some(if cfg!(miri) { 16 } else { 640 });
    let reserved = setup.host_reserve.unwrap();
    let r = run_host(Reserve::pages(8), &STATE, setup, 0x5E5E);
    let s = STATE.stats();
    assert_eq!(s.growths, 1, "exactly the reserve");
    assert_eq!(s.pages as usize, 1 + reserved as usize);
    assert_eq!(r.growths, 0);
}

#[test]
fn reserve_random_ops_after_lazy_reserve_never_grow_again() {
    static STATE: State = State::new();
    let pages = if cfg!(miri) { 16 } else { 512 };
    let setup = full(4 << 20, 1 + pages);
    let r = run_host(Reserve::pages(pages), &STATE, setup, 0x1A2B);
    let s = STATE.stats();
    assert_eq!(
        (s.growths, s.pages as usize),
        (1, 1 + pages),
        "one lazy reserve of {pages} pages"
    );
    assert_eq!(r.growths, 0);
}

#[test]
fn one_heap_random_ops_cross_the_families_and_match_the_model() {
    // Rust blocks with headers, every block resized and freed by either
    // family: the wasm32-wasip2 global allocator with c-malloc.
    static FAIL: State = State::new();
    let r = run_host(
        Fail,
        &FAIL,
        Setup {
            one_heap: true,
            ..full(48 << 20, 64)
        },
        0x0E1F,
    );
    assert!(
        r.allocs > r.c_allocs && r.c_allocs > 0 && r.frees > 0 && r.reallocs > 0,
        "{r}"
    );
    assert!(r.c_stale_refused > 0, "no moving realloc was checked: {r}");
    static SIGNAL: State = State::new();
    let r = run_host(
        Signal::new(),
        &SIGNAL,
        Setup {
            one_heap: true,
            ..full(1 << 20, 1500)
        },
        0x0E20,
    );
    // (Miri's 100 operations need no growth.)
    assert!(r.growths > 0 || cfg!(miri), "Signal never had to grow: {r}");
}

#[test]
fn signal_random_ops_grow_geometrically_and_match_the_model() {
    static STATE: State = State::new();
    let setup = full(1 << 20, 1500);
    let max = setup.max_pages;
    let r = run_host(Signal::new(), &STATE, setup, 0x516A);
    let s = STATE.stats();
    assert!(r.growths > 0, "Signal never had to grow: {r}");
    assert_eq!(s.generation, s.growths, "one generation per growth");
    assert!(s.pages as usize <= max);
}

#[test]
fn signal_random_ops_respect_the_page_limit() {
    static STATE: State = State::new();
    let setup = full(1 << 20, 1500);
    let limit = if cfg!(miri) { 12 } else { 600 };
    let r = run_host(
        Signal::new().step_pages(4).limit_pages(limit),
        &STATE,
        setup,
        0x11A1,
    );
    assert!(
        r.pages <= limit,
        "memory reached {} pages, limit {limit}",
        r.pages
    );
    assert!(STATE.stats().pages as usize <= limit);
}

#[test]
fn signal_random_ops_survive_a_memory_that_refuses_to_grow() {
    let moments: &[usize] = if cfg!(miri) { &[1] } else { &[0, 1, 3] };
    for (i, &refuse_after) in moments.iter().enumerate() {
        static STATES: [State; 3] = [State::new(), State::new(), State::new()];
        let mut setup = full(1 << 20, 1500);
        setup.refuse_after = Some(refuse_after);
        let r = run_host(Signal::new(), &STATES[i], setup, 0x2EF0 + i as u64);
        let s = STATES[i].stats();
        assert!(
            s.growths as usize <= refuse_after,
            "grew {} times after refusing from {refuse_after}",
            s.growths
        );
        assert!(
            r.failures > 0 || cfg!(miri),
            "the refusing memory never made an allocation fail: {r}"
        );
    }
}

#[test]
fn reserve_random_ops_survive_a_refused_lazy_reserve() {
    static STATE: State = State::new();
    let mut setup = full(4 << 20, 64);
    setup.refuse_after = Some(0);
    // The lazy reserve is refused: the arena alone serves, like Fail.
    run_host(Reserve::pages(32), &STATE, setup, 0x4EF);
    let s = STATE.stats();
    assert_eq!((s.growths, s.pages), (0, 1));
    assert_eq!(
        STATE
            .reserve_status
            .load(core::sync::atomic::Ordering::Relaxed) as i32,
        nogrow::ReserveError::Refused.code()
    );
}

#[test]
fn fail_random_ops_with_a_tiny_arena_exhaust_and_recover() {
    static STATE: State = State::new();
    let mut setup = full(MIN_ARENA_BYTES + 8192, 1);
    setup.arena = MIN_ARENA_BYTES + 8192;
    setup.max_size = 4096;
    setup.huge_per_mille = 0;
    let r = run_host(Fail, &STATE, setup, 0x7171);
    assert!(
        r.failures > 0 && r.allocs > r.failures / 4,
        "exhaustion and recovery both happened: {r}"
    );
}

/// A memory standing in for a 32-bit memory that spans the address space
/// (its region ends where the address space would): the heap reaches its top,
/// where talc's fit sums would wrap on wasm32.
fn spanning(max_pages: usize) -> Setup {
    let mut setup = full(1 << 20, max_pages);
    setup.spans_address_space = true;
    setup
}

#[test]
#[cfg_attr(
    miri,
    ignore = "the top reserve alone is 16 MiB: too large to model under Miri"
)]
fn signal_random_ops_at_the_top_of_the_address_space_stay_below_it() {
    static STATE: State = State::new();
    // 40 MiB: 24 MiB below the top reserve; requests up to 20 MiB.
    let r = run_host(Signal::new(), &STATE, spanning(640), 0x70F5);
    let s = STATE.stats();
    assert!(s.growths >= 1, "the heap grew towards the top: {r}");
    // Grown from page 1 (the arena is 1 MiB on its own).
    assert!(
        s.heap_bytes - (1 << 20) <= 639 * PAGE_SIZE - nogrow::policy::TOP_RESERVE as usize,
        "the heap reached into the top reserve: {s:?}"
    );
    assert!(
        r.failures > 0,
        "some requests were too large for the top: {r}"
    );
}

#[test]
#[cfg_attr(
    miri,
    ignore = "the top reserve alone is 16 MiB: too large to model under Miri"
)]
fn reserve_random_ops_after_reserving_to_the_end_of_the_address_space() {
    static STATE: State = State::new();
    let mut setup = spanning(640);
    // Every page up to the end of the address space, as `nogrow_reserve`
    // up to 65 536 pages does on wasm32.
    setup.host_reserve = Some(639);
    let r = run_host(Reserve::runtime(), &STATE, setup, 0x5E70);
    let s = STATE.stats();
    assert_eq!((s.growths, s.pages), (1, 640), "exactly the reserve");
    assert_eq!(
        s.heap_bytes,
        (1 << 20) + 639 * PAGE_SIZE - nogrow::policy::TOP_RESERVE as usize,
        "the heap owns the reserve below the top reserve"
    );
    assert_eq!(r.growths, 0);
}

#[test]
fn random_ops_hold_for_several_seeds() {
    // Under Miri the other tests already cover both policies once.
    let seeds: u64 = if cfg!(miri) { 0 } else { 4 };
    static STATES: [State; 8] = [const { State::new() }; 8];
    for k in 0..seeds {
        let mut setup = full(8 << 20, 1200);
        setup.ops /= 2;
        run_host(Fail, &STATES[2 * k as usize], setup, 1000 + k);
        let mut setup = full(1 << 20, 1200);
        setup.ops /= 2;
        run_host(
            Signal::new().step_pages(2),
            &STATES[2 * k as usize + 1],
            setup,
            2000 + k,
        );
    }
}

/// `cargo xtask stress`: at least 10^7 operations per policy (the count is
/// `NOGROW_RANDOM_OPS`, default 10^7), in a release build.
#[test]
#[ignore = "stress: run by `cargo xtask stress` in a release build"]
fn stress_every_policy_on_the_host() {
    let ops = common::ops(10_000_000);
    static STATES: [State; 4] = [const { State::new() }; 4];
    let setup = |arena, max_pages| Setup {
        ops,
        ..full(arena, max_pages)
    };
    run_host(Fail, &STATES[0], setup(48 << 20, 64), 0x57F0);
    let mut reserve = setup(4 << 20, 1 + 640);
    reserve.host_reserve = Some(640);
    run_host(Reserve::pages(8), &STATES[1], reserve, 0x57F1);
    run_host(
        Signal::new().limit_pages(4096),
        &STATES[2],
        setup(1 << 20, 4200),
        0x57F2,
    );
    let mut refusing = setup(1 << 20, 1500);
    refusing.refuse_after = Some(3);
    run_host(Signal::new(), &STATES[3], refusing, 0x57F3);
}

/// Known upstream issue, kept reproducible: talc 5.1.1's `full_search_bin`
/// forms `aligned_base.add(required_size)` past the end of the allocation
/// holding the heap. Miri reports it as undefined behaviour when the heap ends
/// where the Rust allocation ends (the other tests pad their regions). Passes
/// natively. Reproduce with
/// `cargo +nightly miri test -p nogrow --test random_ops -- --ignored talc_`.
#[test]
#[ignore = "talc 5.1.1 overshoot: UB under Miri; run with --ignored under Miri to reproduce"]
fn talc_full_search_overshoot_past_the_heap_end() {
    static STATE: State = State::new();
    let mut setup = full(1 << 20, 1500);
    setup.exact_regions = true;
    setup.ops = common::ops(150);
    run_host(Signal::new(), &STATE, setup, 0x516A);
}
