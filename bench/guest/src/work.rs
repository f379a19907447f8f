//! The workloads. Each export runs `ops` operations from a fixed-seed PRNG and
//! returns the number of allocations that failed (0 unless the allocator ran
//! out of memory). Live blocks are tracked in static tables, never in memory
//! from the allocator under test.

use core::hint::black_box;
use std::alloc::{Layout, alloc, dealloc, realloc};

use crate::random::{Block, NONE, Rng};

/// A fixed table of live blocks in `.bss`.
struct Table<const N: usize> {
    blocks: *mut [Block; N],
    len: usize,
}

impl<const N: usize> Table<N> {
    /// # Safety
    ///
    /// `blocks` must be a static table used by no other live `Table`.
    unsafe fn new(blocks: *mut [Block; N]) -> Self {
        Self { blocks, len: 0 }
    }

    #[inline(always)]
    fn get(&mut self, i: usize) -> &mut Block {
        assert!(i < N);
        // SAFETY: `i < N`, and `new`'s caller gave us the table alone.
        unsafe { &mut (*self.blocks)[i] }
    }

    #[inline(always)]
    fn push(&mut self, b: Block) -> bool {
        if self.len == N {
            return false;
        }
        let i = self.len;
        *self.get(i) = b;
        self.len += 1;
        true
    }

    #[inline(always)]
    fn swap_remove(&mut self, i: usize) -> Block {
        let b = *self.get(i);
        self.len -= 1;
        let last = *self.get(self.len);
        *self.get(i) = last;
        b
    }

    /// Frees every block.
    fn clear(&mut self) {
        while self.len > 0 {
            let b = self.swap_remove(self.len - 1);
            free(b);
        }
    }
}

#[inline(always)]
fn layout(size: usize, align: usize) -> Layout {
    match Layout::from_size_align(size, align) {
        Ok(l) => l,
        Err(_) => unreachable!(),
    }
}

/// Allocates and touches the first byte; `None` on failure.
#[inline(always)]
fn new_block(size: usize, align: usize) -> Option<Block> {
    // SAFETY: `size >= 1` everywhere this is called.
    let ptr = unsafe { alloc(layout(size, align)) };
    if ptr.is_null() {
        return None;
    }
    // SAFETY: the block has at least one byte.
    unsafe { ptr.write(size as u8) };
    Some(Block { ptr, size, align })
}

#[inline(always)]
fn free(b: Block) {
    // SAFETY: `b` came from `new_block`/`grow` with this layout and is freed once.
    unsafe { dealloc(b.ptr, layout(b.size, b.align)) }
}

/// Reallocates `b` to `new_size`; false (and `b` unchanged) on failure.
#[inline(always)]
fn grow(b: &mut Block, new_size: usize) -> bool {
    // SAFETY: `b` is live with this layout; `new_size >= 1`.
    let ptr = unsafe { realloc(b.ptr, layout(b.size, b.align), new_size) };
    if ptr.is_null() {
        return false;
    }
    b.ptr = ptr;
    b.size = new_size;
    true
}

/// Runs `ops` PRNG steps and nothing else: the loop cost the host subtracts.
#[unsafe(no_mangle)]
pub extern "C" fn bench_empty(ops: u32, seed: u32) -> u32 {
    let mut rng = Rng::new(seed);
    let mut acc = 0u32;
    for _ in 0..ops {
        acc = acc.wrapping_add(black_box(rng.next()));
    }
    black_box(acc);
    0
}

const RA_LIVE_MIN: usize = 50;
const RA_LIVE_MAX: usize = 2000;
const RA_MAX_SIZE: usize = 10_000;

static mut RA_TABLE: [Block; RA_LIVE_MAX] = [NONE; RA_LIVE_MAX];

fn random_actions(ops: u32, seed: u32, with_realloc: bool) -> u32 {
    let mut rng = Rng::new(seed);
    // SAFETY: exports never run concurrently or re-entrantly; this is the
    // only user of `RA_TABLE`.
    let mut live = unsafe { Table::new(&raw mut RA_TABLE) };
    let mut failures = 0;
    let kinds = if with_realloc { 5 } else { 4 };
    for _ in 0..ops {
        // 2:2:1 alloc:free:realloc; alloc below RA_LIVE_MIN, free at RA_LIVE_MAX.
        let action = rng.range(0, kinds);
        if (action >= 2 && live.len > RA_LIVE_MIN) || live.len == RA_LIVE_MAX {
            let i = rng.range(0, live.len);
            if action == 4 {
                let new_size = rng.size(RA_MAX_SIZE);
                failures += !grow(live.get(i), new_size) as u32;
            } else {
                free(live.swap_remove(i));
            }
        } else {
            let (size, align) = (rng.size(RA_MAX_SIZE), rng.align());
            match new_block(size, align) {
                Some(b) => _ = live.push(b),
                None => failures += 1,
            }
        }
    }
    live.clear();
    failures
}

/// Random actions (talc's method): alloc/free/realloc 2:2:1, sizes 4..10 000 B
/// biased small, alignment mostly 8, 50..2 000 live blocks.
#[unsafe(no_mangle)]
pub extern "C" fn ra(ops: u32, seed: u32) -> u32 {
    random_actions(ops, seed, true)
}

/// Random actions without realloc: alloc/free 1:1.
#[unsafe(no_mangle)]
pub extern "C" fn ra_norealloc(ops: u32, seed: u32) -> u32 {
    random_actions(ops, seed, false)
}

fn hot(ops: u32, align: usize) -> u32 {
    let l = layout(32, align);
    let mut failures = 0;
    for _ in 0..ops {
        // SAFETY: non-zero size.
        let p = black_box(unsafe { alloc(l) });
        if p.is_null() {
            failures += 1;
            continue;
        }
        // SAFETY: `p` is live with layout `l`.
        unsafe { dealloc(p, l) };
    }
    failures
}

/// Hot path: 32 B alloc + free at align 8, `ops` times.
#[unsafe(no_mangle)]
pub extern "C" fn hot32a8(ops: u32, _seed: u32) -> u32 {
    hot(ops, 8)
}

/// Hot path: 32 B alloc + free at align 16, `ops` times.
#[unsafe(no_mangle)]
pub extern "C" fn hot32a16(ops: u32, _seed: u32) -> u32 {
    hot(ops, 16)
}

const BATCH: usize = 100;
static mut BATCH_TABLE: [Block; BATCH] = [NONE; BATCH];

fn batches(ops: u32, seed: u32, lifo: bool) -> u32 {
    let mut rng = Rng::new(seed);
    // SAFETY: as for `RA_TABLE`; the only user of `BATCH_TABLE`.
    let mut t = unsafe { Table::new(&raw mut BATCH_TABLE) };
    let mut failures = 0;
    for _ in 0..ops as usize / BATCH {
        for _ in 0..BATCH {
            match new_block(rng.range(8, 513), 8) {
                Some(b) => _ = t.push(b),
                None => failures += 1,
            }
        }
        if lifo {
            t.clear();
        } else {
            for i in 0..t.len {
                free(*t.get(i));
            }
            t.len = 0;
        }
    }
    failures
}

/// Batches of 100 blocks (8..512 B), freed last-in first-out; `ops` alloc+free pairs.
#[unsafe(no_mangle)]
pub extern "C" fn lifo(ops: u32, seed: u32) -> u32 {
    batches(ops, seed, true)
}

/// Batches of 100 blocks (8..512 B), freed first-in first-out.
#[unsafe(no_mangle)]
pub extern "C" fn fifo(ops: u32, seed: u32) -> u32 {
    batches(ops, seed, false)
}

const CHURN_LIVE: usize = 10_000;
static mut CHURN_TABLE: [Block; CHURN_LIVE] = [NONE; CHURN_LIVE];

/// Churn's untimed set-up: fills 10 000 live blocks (8..1 024 B). Returns 1
/// if the allocator ran out.
#[unsafe(no_mangle)]
pub extern "C" fn churn_setup(_ops: u32, seed: u32) -> u32 {
    let mut rng = Rng::new(seed ^ 0x5EED);
    // SAFETY: as for `RA_TABLE`; the only user of `CHURN_TABLE`.
    let mut t = unsafe { Table::new(&raw mut CHURN_TABLE) };
    while t.len < CHURN_LIVE {
        match new_block(rng.range(8, 1025), 8) {
            Some(b) => _ = t.push(b),
            None => return 1,
        }
    }
    0
}

/// Churn: with the 10 000 live blocks of `churn_setup` (filled here if the
/// host did not), `ops` times frees a random one and allocates a new random
/// size in its place; frees all at the end.
#[unsafe(no_mangle)]
pub extern "C" fn churn(ops: u32, seed: u32) -> u32 {
    // SAFETY: no `Table` over `CHURN_TABLE` is alive; reads the first slot only.
    if unsafe {
        (&raw const CHURN_TABLE)
            .cast::<Block>()
            .read()
            .ptr
            .is_null()
    } && churn_setup(ops, seed) != 0
    {
        return 1;
    }
    let mut rng = Rng::new(seed);
    // SAFETY: churn_setup's table is gone; this is the only user of `CHURN_TABLE`.
    let mut t = unsafe { Table::new(&raw mut CHURN_TABLE) };
    t.len = CHURN_LIVE;
    let mut failures = 0;
    for _ in 0..ops {
        let i = rng.range(0, CHURN_LIVE);
        let slot = t.get(i);
        free(*slot);
        match new_block(rng.range(8, 1025), 8) {
            Some(b) => *slot = b,
            None => {
                failures += 1;
                *slot = new_block(1, 1).unwrap_or(NONE);
                if slot.ptr.is_null() {
                    t.swap_remove(i);
                    return failures;
                }
            }
        }
    }
    t.clear();
    // SAFETY: as above; marks the table empty for the next call.
    unsafe { (&raw mut CHURN_TABLE).cast::<Block>().write(NONE) };
    failures
}

/// Builds `ops` vectors of bytes up to 1 MiB by appending 256 B at a time
/// (amortized doubling through `realloc`); drops each.
#[unsafe(no_mangle)]
pub extern "C" fn vec_grow(ops: u32, seed: u32) -> u32 {
    let chunk = [seed as u8; 256];
    let mut failures = 0;
    for _ in 0..ops {
        let mut v: Vec<u8> = Vec::new();
        while v.len() < 1 << 20 {
            if v.try_reserve(chunk.len()).is_err() {
                failures += 1;
                break;
            }
            v.extend_from_slice(black_box(&chunk));
        }
        black_box(&v);
    }
    failures
}

/// `ops` times: allocates 16 B and reallocates it doubling to 1 MiB, then frees it.
#[unsafe(no_mangle)]
pub extern "C" fn realloc_double(ops: u32, _seed: u32) -> u32 {
    let mut failures = 0;
    for _ in 0..ops {
        let Some(mut b) = new_block(16, 8) else {
            failures += 1;
            continue;
        };
        while b.size < 1 << 20 {
            let new_size = b.size * 2;
            if !grow(&mut b, new_size) {
                failures += 1;
                break;
            }
        }
        free(b);
    }
    failures
}

const EFF_MAX_LIVE: usize = 50_000;
static mut EFF_TABLE: [Block; EFF_MAX_LIVE] = [NONE; EFF_MAX_LIVE];

/// Heap efficiency (talc's method): alloc/free/realloc 5:1:4, sizes 4..10 000
/// B, realloc to 1..100 000 B, until the first failed allocation or
/// reallocation. Returns the bytes requested by the blocks live at that
/// moment (the host divides by the capacity); leaves them allocated.
#[unsafe(no_mangle)]
pub extern "C" fn efficiency(_ops: u32, seed: u32) -> u32 {
    let mut rng = Rng::new(seed);
    // SAFETY: as for `RA_TABLE`; the only user of `EFF_TABLE`.
    let mut t = unsafe { Table::new(&raw mut EFF_TABLE) };
    loop {
        match rng.range(0, 10) {
            0..=4 => {
                let Some(b) = new_block(rng.size(10_000), rng.align()) else {
                    break;
                };
                if !t.push(b) {
                    break;
                }
            }
            5 => {
                if t.len > 0 {
                    let i = rng.range(0, t.len);
                    free(t.swap_remove(i));
                }
            }
            _ => {
                if t.len > 0 {
                    let i = rng.range(0, t.len);
                    let new_size = rng.range(1, 100_000);
                    if !grow(t.get(i), new_size) {
                        break;
                    }
                }
            }
        }
    }
    (0..t.len).map(|i| t.get(i).size).sum::<usize>() as u32
}
