use nogrow::{Fail, MIN_ARENA_BYTES, Nogrow, c_alloc};

use crate::common::{Config, Rng};

nogrow::arena! {
    #[global_allocator]
    static NOGROW: Nogrow<Fail> = (64 << 20, Fail);
}
// The C allocation family and the canonical ABI's `cabi_realloc`, as a
// component built with `c-malloc` has them.
nogrow::export_abi!(NOGROW);

const _: () = assert!(
    c_alloc::RUST_BLOCKS_HAVE_HEADERS,
    "build with --features c-malloc: one heap for Rust and C blocks"
);

fn memory_size() -> usize {
    core::arch::wasm32::memory_size(0)
}

#[test]
fn one_heap_random_ops_on_wasm32_wasip2_match_the_model_and_never_change_memory_size() {
    let pages = memory_size();
    let seed = option_env!("NOGROW_RANDOM_SEED")
        .and_then(|s| s.parse().ok())
        .unwrap_or(0x0E1F_5EED_u64);
    let (base, len) = NOGROW.static_arena();
    let cfg = Config {
        ops: option_env!("NOGROW_RANDOM_OPS")
            .and_then(|s| s.parse().ok())
            .unwrap_or(100_000),
        max_live: 256,
        max_size: 20 << 20,
        huge_per_mille: 3,
        live_budget: 40 << 20,
        arena: (base.cast_mut(), len),
        mem_base: core::ptr::null_mut(),
        fixed_pages: true,
        grow_guaranteed_below: None,
        memory_pages: Some(memory_size),
        full_check_every: 97,
        // The test harness's own blocks stay in the arena: leave them room.
        whole_arena_slack: Some(MIN_ARENA_BYTES + (NOGROW.stats().in_use * 4).max(64 << 10)),
        c_per_mille: 200,
        one_heap: true,
        space_end: None,
    };
    let run = crate::common::run(&NOGROW, &cfg, &mut Rng(seed))
        .unwrap_or_else(|e| panic!("seed {seed}: {e}"));
    let r = crate::common::finish(run).unwrap_or_else(|e| panic!("seed {seed}: {e}"));
    println!(
        "wasm32-wasip2 seed={seed} pages {pages}->{}: {r}",
        memory_size()
    );
    assert_eq!(memory_size(), pages, "memory.size changed under Fail");
    assert_eq!(NOGROW.stats().growths, 0);
    assert!(
        r.allocs > r.c_allocs && r.c_allocs > 0 && r.reallocs > 0 && r.huge_ok > 0,
        "{r}"
    );
    assert!(r.c_stale_refused > 0, "no moving realloc was checked: {r}");
}
