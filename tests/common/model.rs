//! The model of the live blocks and the checks after every operation: [`run`]
//! drives the allocator, [`finish`] frees everything and checks it is all back.

use core::alloc::{GlobalAlloc, Layout};

use nogrow::{
    Memory, Nogrow, PAGE_SIZE, Policy, Stats, binning::Binning, c_alloc, policy::bytes_needed,
    policy::pages_for,
};

use super::blocks::*;
use super::{Choices, Config, Report};

struct Model<'a, P: Policy, M: Memory, B: Binning> {
    alloc: &'a Nogrow<P, M, B>,
    cfg: &'a Config,
    base: Stats,
    /// Live blocks sorted by address.
    live: Vec<Block>,
    live_bytes: usize,
    peak_in_use: usize,
    next_tag: u32,
    report: Report,
    op: u64,
    /// `(op, pages)` after each growth seen (the first 32), for diagnostics.
    growth_log: [(u64, u32); 32],
    growths_seen: u32,
}

impl<P: Policy, M: Memory, B: Binning> Model<'_, P, M, B> {
    fn in_bounds(&self, ptr: *mut u8, size: usize, s: &Stats) -> bool {
        let (a, e) = (ptr.addr(), ptr.addr() + size);
        let (arena, arena_len) = (self.cfg.arena.0.addr(), self.cfg.arena.1);
        if a >= arena && e <= arena + arena_len {
            return true;
        }
        if let Some(space_end) = self.cfg.space_end {
            // Grown contiguously, up to the end of memory or the top reserve,
            // whichever is lower (the heap owns less than the pages grown).
            let memory_end =
                self.cfg.mem_base.addr() as u64 + u64::from(s.pages) * PAGE_SIZE as u64;
            let hi = memory_end.min(space_end - nogrow::policy::TOP_RESERVE);
            let lo = hi - (s.heap_bytes - arena_len) as u64;
            return a as u64 >= lo && e as u64 <= hi;
        }
        let grown_pages = (s.heap_bytes - arena_len) / PAGE_SIZE;
        let pages = s.pages as usize;
        let lo = self.cfg.mem_base.addr() + (pages - grown_pages) * PAGE_SIZE;
        let hi = self.cfg.mem_base.addr() + pages * PAGE_SIZE;
        a >= lo && e <= hi
    }

    /// Checks a block the allocator just returned and adds it to the model.
    fn admit(&mut self, b: Block) -> Result<usize, Violation> {
        let op = self.op;
        let s = self.alloc.stats();
        check!(
            op,
            b.addr() % b.align == 0,
            "block {:#x} is not aligned to {}",
            b.addr(),
            b.align
        );
        check!(
            op,
            self.in_bounds(b.ptr, b.size, &s),
            "block {:#x}..{:#x} is outside the arena {:#x}+{:#x} and the grown region ({} pages, {} owned bytes)",
            b.addr(),
            b.end(),
            self.cfg.arena.0.addr(),
            self.cfg.arena.1,
            s.pages,
            s.heap_bytes
        );
        let at = self.live.partition_point(|x| x.addr() < b.addr());
        if let Some(prev) = at.checked_sub(1).map(|i| self.live[i]) {
            check!(
                op,
                prev.end() <= b.addr(),
                "block {:#x}+{} overlaps live {:#x}+{}",
                b.addr(),
                b.size,
                prev.addr(),
                prev.size
            );
        }
        if let Some(next) = self.live.get(at) {
            check!(
                op,
                b.end() <= next.addr(),
                "block {:#x}+{} overlaps live {:#x}+{}",
                b.addr(),
                b.size,
                next.addr(),
                next.size
            );
        }
        assert!(
            self.live.len() < self.live.capacity(),
            "model storage must not grow"
        );
        self.live.insert(at, b);
        self.live_bytes += b.accounted();
        self.report.peak_live = self.report.peak_live.max(self.live_bytes);
        self.report.peak_blocks = self.report.peak_blocks.max(self.live.len());
        self.peak_in_use = self.peak_in_use.max(self.base.in_use + self.live_bytes);
        if b.size >= HUGE {
            self.report.huge_ok += 1;
        }
        Ok(at)
    }

    /// Verifies the neighbours of position `at` (their heads and tails sit next
    /// to the allocator's metadata).
    fn check_neighbours(&self, at: usize) -> Result<(), Violation> {
        for i in [at.wrapping_sub(1), at, at + 1] {
            if let Some(b) = self.live.get(i) {
                verify(self.op, b, true, usize::MAX)?;
            }
        }
        Ok(())
    }

    fn check_failure(&self, size: usize, align: usize) -> Result<(), Violation> {
        let op = self.op;
        let f = self.alloc.last_failure();
        check!(
            op,
            f.is_some_and(|f| f.size == size
                && f.align == align
                && f.in_use == self.base.in_use + self.live_bytes),
            "failure of ({size}, {align}) recorded as {f:?}"
        );
        if let Some(limit) = self.cfg.grow_guaranteed_below {
            let pages = self.alloc.stats().pages as usize;
            let layout = Layout::from_size_align(size, align).expect("valid layout");
            let least = pages_for(bytes_needed(layout)).max(1);
            check!(
                op,
                pages + least > limit,
                "Signal returned null for ({size}, {align}) at {pages} pages although {least} more pages fit below {limit}"
            );
        }
        Ok(())
    }

    fn check_stats(&self) -> Result<(), Violation> {
        let (op, b, r) = (self.op, &self.base, &self.report);
        let s = self.alloc.stats();
        check!(
            op,
            s.in_use == b.in_use + self.live_bytes,
            "in_use {} != baseline {} + model {}",
            s.in_use,
            b.in_use,
            self.live_bytes
        );
        check!(
            op,
            s.peak_in_use == b.peak_in_use.max(self.peak_in_use),
            "peak_in_use {} != model {}",
            s.peak_in_use,
            b.peak_in_use.max(self.peak_in_use)
        );
        check!(
            op,
            u64::from(s.allocs - b.allocs) == r.allocs,
            "allocs {} != model {}",
            s.allocs - b.allocs,
            r.allocs
        );
        check!(
            op,
            u64::from(s.frees - b.frees) == r.frees,
            "frees {} != model {}",
            s.frees - b.frees,
            r.frees
        );
        check!(
            op,
            u64::from(s.reallocs - b.reallocs) == r.reallocs,
            "reallocs {} != model {}",
            s.reallocs - b.reallocs,
            r.reallocs
        );
        check!(
            op,
            u64::from(s.failures - b.failures) == r.failures,
            "failures {} != model {}",
            s.failures - b.failures,
            r.failures
        );
        check!(
            op,
            s.heap_bytes - b.heap_bytes == (s.pages - b.pages) as usize * PAGE_SIZE,
            "owned bytes grew by {} but memory by {} pages",
            s.heap_bytes - b.heap_bytes,
            s.pages - b.pages
        );
        check!(
            op,
            s.generation - b.generation == s.growths - b.growths,
            "generation +{} but growths +{}",
            s.generation - b.generation,
            s.growths - b.growths
        );
        if self.cfg.fixed_pages {
            check!(
                op,
                s.pages == b.pages && s.growths == b.growths,
                "memory grew from {} to {} pages under a fixed-size policy",
                b.pages,
                s.pages
            );
        }
        if let Some(real) = self.cfg.memory_pages {
            check!(
                op,
                real() == s.pages as usize,
                "memory.size is {} pages but nogrow reports {}",
                real(),
                s.pages
            );
        }
        Ok(())
    }

    fn full_check(&self) -> Result<(), Violation> {
        for b in &self.live {
            verify(self.op, b, false, usize::MAX)?;
        }
        for w in self.live.windows(2) {
            check!(
                self.op,
                w[0].end() <= w[1].addr(),
                "live blocks {:#x} and {:#x} overlap",
                w[0].addr(),
                w[1].addr()
            );
        }
        self.check_stats()
    }

    fn pick_size(&self, c: &mut impl Choices) -> Option<usize> {
        let class = c.next()? % 1000;
        let r = c.next()? as usize;
        let size = if class < self.cfg.huge_per_mille {
            HUGE - (4 << 20) + r % (8 << 20)
        } else {
            match class % 100 {
                0..60 => 1 + r % 64,
                60..85 => 1 + r % 1024,
                85..96 => 1 + r % 16384,
                _ => 1 + r % (1 << 20),
            }
        };
        Some(size.clamp(1, self.cfg.max_size))
    }

    fn pick_align(c: &mut impl Choices) -> Option<usize> {
        let r = c.next()?;
        Some(match r % 100 {
            0..70 => 1 << (r / 100 % 4),
            70..95 => 1 << (r / 100 % 7),
            _ => 1 << (r / 100 % 13),
        })
    }

    fn do_alloc(&mut self, c: &mut impl Choices) -> Option<Result<(), Violation>> {
        let size = self.pick_size(c)?;
        let align = Self::pick_align(c)?;
        let zeroed = c.next()? % 4 == 0;
        if self.cfg.c_per_mille > 0 && c.next()? % 1000 < self.cfg.c_per_mille {
            let how = c.next()?;
            return Some(self.do_c_alloc(size, align, how));
        }
        let layout = Layout::from_size_align(size, align).expect("valid layout");
        if self.cfg.one_heap {
            return Some(self.do_one_heap_alloc(layout, zeroed));
        }
        Some((|| {
            // SAFETY: `size >= 1`.
            let ptr = unsafe {
                if zeroed {
                    self.alloc.alloc_zeroed(layout)
                } else {
                    self.alloc.alloc(layout)
                }
            };
            if ptr.is_null() {
                self.report.failures += 1;
                return self.check_failure(size, align);
            }
            self.report.allocs += 1;
            if zeroed {
                verify_zeroed(self.op, ptr, size)?;
            }
            self.add_block(ptr, size, align, false)
        })())
    }

    /// Stamps a block the allocator just handed out with a fresh tag, checks
    /// it and its neighbours, and adds it to the model.
    fn add_block(
        &mut self,
        ptr: *mut u8,
        size: usize,
        align: usize,
        c: bool,
    ) -> Result<(), Violation> {
        let tag = self.next_tag;
        self.next_tag = self.next_tag.wrapping_add(0x9E37_79B9);
        let b = Block {
            ptr,
            size,
            align,
            tag,
            c,
        };
        stamp(&b);
        let at = self.admit(b)?;
        self.check_neighbours(at)
    }

    /// A Rust block on one heap: it carries the C header, so it is a C
    /// block for the model. Made by the global allocator's interface where
    /// that is one heap (`c_alloc::RUST_BLOCKS_HAVE_HEADERS`: the real
    /// `wasm32-wasip2` build), else by `c_alloc::rust_alloc`, what that
    /// interface runs there.
    fn do_one_heap_alloc(&mut self, layout: Layout, zeroed: bool) -> Result<(), Violation> {
        let (size, align) = (layout.size(), layout.align());
        let ptr = if c_alloc::RUST_BLOCKS_HAVE_HEADERS {
            // SAFETY: `size >= 1`.
            unsafe {
                if zeroed {
                    self.alloc.alloc_zeroed(layout)
                } else {
                    self.alloc.alloc(layout)
                }
            }
        } else {
            c_alloc::rust_alloc(self.alloc, layout, zeroed)
        };
        if ptr.is_null() {
            self.report.failures += 1;
            let (under_size, under_align) = c_layout(size, align);
            return self.check_failure(under_size, under_align);
        }
        self.report.allocs += 1;
        if zeroed {
            verify_zeroed(self.op, ptr, size)?;
        }
        self.add_block(ptr, size, align.max(c_alloc::MALLOC_ALIGN), true)
    }

    /// A block from the C allocation family: `how` picks `malloc`, `calloc`,
    /// `aligned_alloc` or `posix_memalign`, and sometimes a zero size.
    fn do_c_alloc(&mut self, size: usize, align: usize, how: u32) -> Result<(), Violation> {
        let size = if how % 16 == 0 { 0 } else { size };
        let (ptr, align, zeroed) = match how / 16 % 4 {
            0 => (c_alloc::malloc(self.alloc, size), 1, false),
            1 => (c_alloc::calloc(self.alloc, 1, size), 1, true),
            2 => (
                c_alloc::aligned_alloc(self.alloc, align, size),
                align,
                false,
            ),
            _ => {
                let align = align.max(size_of::<usize>());
                let mut out = core::ptr::null_mut();
                // SAFETY: `out` is a local pointer, valid for a write.
                let code = unsafe { c_alloc::posix_memalign(self.alloc, &mut out, align, size) };
                check!(
                    self.op,
                    (code == 0) != out.is_null(),
                    "posix_memalign returned {code} with {out:?}"
                );
                (out, align, false)
            }
        };
        let (under_size, under_align) = c_layout(size, align);
        if ptr.is_null() {
            self.report.failures += 1;
            return self.check_failure(under_size, under_align);
        }
        self.report.allocs += 1;
        self.report.c_allocs += 1;
        if zeroed {
            verify_zeroed(self.op, ptr, size)?;
        }
        // SAFETY: `ptr` is a live C block of this allocator.
        let usable = unsafe { c_alloc::malloc_usable_size(self.alloc, ptr) };
        check!(
            self.op,
            usable == Ok(size),
            "malloc_usable_size of a {size}-byte block is {usable:?}"
        );
        self.add_block(ptr, size, align.max(c_alloc::MALLOC_ALIGN), true)
    }

    fn do_free(&mut self, c: &mut impl Choices) -> Option<Result<(), Violation>> {
        let at = c.next()? as usize % self.live.len();
        let rust = self.cfg.one_heap && c.next()? % 2 == 0;
        Some((|| {
            let b = self.live.remove(at);
            verify(self.op, &b, false, usize::MAX)?;
            self.live_bytes -= b.accounted();
            free_block(self.alloc, &b, rust).map_err(|e| format!("op {}: {e}", self.op))?;
            self.report.frees += 1;
            self.check_neighbours(at)
        })())
    }

    fn do_realloc(&mut self, c: &mut impl Choices) -> Option<Result<(), Violation>> {
        let at = c.next()? as usize % self.live.len();
        let how = c.next()? % 8;
        let rust = self.cfg.one_heap && c.next()? % 2 == 0;
        let old = self.live[at];
        let new_size = match how {
            0..3 => self.pick_size(c)?,
            3..5 => old.size.saturating_mul(2).min(self.cfg.max_size),
            5..7 => (old.size / 2).max(1),
            _ => old.size,
        };
        Some((|| {
            verify(self.op, &old, false, usize::MAX)?;
            let ptr = if old.c && rust && c_alloc::RUST_BLOCKS_HAVE_HEADERS {
                // SAFETY: `old` is a live block of this allocator (one heap:
                // the global allocator's interface takes any block);
                // `new_size` is non-zero and far below isize::MAX.
                unsafe {
                    self.alloc.realloc(
                        old.ptr,
                        Layout::from_size_align_unchecked(old.size, old.align),
                        new_size,
                    )
                }
            } else if old.c && rust {
                // SAFETY: `old` is a live block with a header (one heap).
                unsafe {
                    c_alloc::rust_realloc(
                        self.alloc,
                        old.ptr,
                        Layout::from_size_align_unchecked(old.size, 1),
                        new_size,
                    )
                }
                .map_err(|e| format!("op {}: rust_realloc refused a live block: {e:?}", self.op))?
            } else if old.c {
                // SAFETY: `old` is a live C block of this allocator.
                unsafe { c_alloc::realloc(self.alloc, old.ptr, new_size) }
                    .map_err(|e| format!("op {}: C realloc refused a live block: {e:?}", self.op))?
            } else {
                // SAFETY: `old` is live, allocated here with this layout;
                // `new_size` is non-zero and far below isize::MAX.
                unsafe {
                    self.alloc.realloc(
                        old.ptr,
                        Layout::from_size_align_unchecked(old.size, old.align),
                        new_size,
                    )
                }
            };
            if ptr.is_null() {
                self.report.failures += 1;
                if old.c {
                    let (size, align) = c_layout(new_size, old.align);
                    self.check_failure(size, align)?;
                } else {
                    self.check_failure(new_size, old.align)?;
                }
                // The old block must be untouched.
                return verify(self.op, &old, false, usize::MAX);
            }
            self.report.reallocs += 1;
            self.live.remove(at);
            self.live_bytes -= old.accounted();
            let b = Block {
                ptr,
                size: new_size,
                ..old
            };
            verify(
                self.op,
                &Block {
                    size: old.size,
                    ..b
                },
                false,
                new_size,
            )
            .map_err(|e| format!("{e} (after realloc {} -> {new_size})", old.size))?;
            if old.c && ptr != old.ptr {
                self.misuse_stale_pointer(old.ptr)?;
            }
            stamp(&b);
            let at = self.admit(b)?;
            self.check_neighbours(at)
        })())
    }

    /// C misuse: `stale` is the pointer a moving `realloc` just freed, and no
    /// live block starts there (the new block was allocated while the old one
    /// was live). Freeing it, reallocating it or asking its size must be
    /// refused, and must change nothing (every live block is checked later).
    fn misuse_stale_pointer(&mut self, stale: *mut u8) -> Result<(), Violation> {
        let op = self.op;
        // SAFETY: `stale` lies in memory the allocator owns (its heap), so the
        // header bytes below it are readable; the calls are expected to refuse.
        let (freed, moved, size) = unsafe {
            (
                c_alloc::free(self.alloc, stale),
                c_alloc::realloc(self.alloc, stale, 64),
                c_alloc::malloc_usable_size(self.alloc, stale),
            )
        };
        let refused = c_alloc::InvalidPointer(stale);
        check!(
            op,
            freed == Err(refused) && moved == Err(refused) && size == Err(refused),
            "a pointer a moving realloc freed was accepted: free {freed:?}, realloc {moved:?}, malloc_usable_size {size:?}"
        );
        if self.cfg.one_heap {
            // SAFETY: as above.
            let (dealloc, rust_moved) = unsafe {
                (
                    c_alloc::rust_dealloc(self.alloc, stale),
                    c_alloc::rust_realloc(self.alloc, stale, Layout::new::<u8>(), 64),
                )
            };
            check!(
                op,
                dealloc == Err(refused) && rust_moved == Err(refused),
                "a pointer a moving realloc freed was accepted: rust_dealloc {dealloc:?}, rust_realloc {rust_moved:?}"
            );
        }
        self.report.c_stale_refused += 1;
        Ok(())
    }

    /// One random operation; `None` when the choices ran out.
    fn step(&mut self, c: &mut impl Choices) -> Option<Result<(), Violation>> {
        let r = c.next()? % 100;
        let full = self.live.len() == self.live.capacity();
        let over = self.live_bytes > self.cfg.live_budget;
        let result = if self.live.is_empty() || (r < 45 && !full && !(over && r < 35)) {
            self.do_alloc(c)?
        } else if r < 75 || full || over {
            self.do_free(c)?
        } else {
            self.do_realloc(c)?
        };
        let s = self.alloc.stats();
        if s.growths != self.base.growths + self.growths_seen {
            if let Some(slot) = self.growth_log.get_mut(self.growths_seen as usize) {
                *slot = (self.op, s.pages);
            }
            self.growths_seen = s.growths - self.base.growths;
        }
        Some(result.and_then(|()| {
            if self.op % self.cfg.full_check_every == 0 {
                self.full_check()
            } else {
                self.check_stats()
            }
        }))
    }
}

/// Frees a live block the way it was made (C `free` or Rust's `dealloc`);
/// with `rust`, a block with a header (one heap) by `c_alloc::rust_dealloc`.
fn free_block<P: Policy, M: Memory, B: Binning>(
    alloc: &Nogrow<P, M, B>,
    b: &Block,
    rust: bool,
) -> Result<(), Violation> {
    if b.c && rust && c_alloc::RUST_BLOCKS_HAVE_HEADERS {
        // SAFETY: `b` is a live block of this allocator (one heap: the
        // global allocator's interface frees any block).
        unsafe { alloc.dealloc(b.ptr, Layout::from_size_align_unchecked(b.size, b.align)) };
        Ok(())
    } else if b.c && rust {
        // SAFETY: `b` is a live block with a header of this allocator.
        unsafe { c_alloc::rust_dealloc(alloc, b.ptr) }
            .map_err(|e| format!("rust_dealloc refused a live block: {e:?}"))
    } else if b.c {
        // SAFETY: `b` is a live C block of this allocator.
        unsafe { c_alloc::free(alloc, b.ptr) }
            .map_err(|e| format!("C free refused a live block: {e:?}"))
    } else {
        // SAFETY: `b` is live and was allocated by this allocator with this layout.
        unsafe { alloc.dealloc(b.ptr, Layout::from_size_align_unchecked(b.size, b.align)) };
        Ok(())
    }
}

/// The state of a run, kept between [`run`] and [`finish`].
pub struct Run<'a, P: Policy, M: Memory, B: Binning>(Model<'a, P, M, B>);

/// Runs `cfg.ops` random operations (fewer if `choices` runs out) on `alloc`,
/// checking each. The allocator must already have served its first allocation
/// (so the arena is claimed). Returns the run for [`finish`].
pub fn run<'a, P: Policy, M: Memory, B: Binning>(
    alloc: &'a Nogrow<P, M, B>,
    cfg: &'a Config,
    choices: &mut impl Choices,
) -> Result<Run<'a, P, M, B>, Violation> {
    let mut m = Model {
        alloc,
        cfg,
        base: Stats::default(),
        live: Vec::with_capacity(cfg.max_live),
        live_bytes: 0,
        peak_in_use: 0,
        next_tag: 1,
        report: Report::default(),
        op: 0,
        growth_log: [(0, 0); 32],
        growths_seen: 0,
    };
    m.base = alloc.stats();
    m.peak_in_use = m.base.in_use;
    while m.op < cfg.ops {
        match m.step(choices) {
            None => break,
            Some(Err(e)) => return Err(e),
            Some(Ok(())) => m.op += 1,
        }
    }
    m.report.ops = m.op;
    m.full_check()?;
    Ok(Run(m))
}

/// The largest block of at most `upper` bytes (align 8) that `alloc` serves
/// now, found by bisection (each probe is freed at once). For diagnostics.
fn largest_block<P: Policy, M: Memory, B: Binning>(alloc: &Nogrow<P, M, B>, upper: usize) -> usize {
    let (mut lo, mut hi) = (0usize, upper);
    while lo < hi {
        let mid = lo + (hi - lo).div_ceil(2);
        let layout = Layout::from_size_align(mid, 8).expect("valid layout");
        // SAFETY: non-zero size (mid >= 1); freed at once with the same layout.
        let p = unsafe { alloc.alloc(layout) };
        if p.is_null() {
            hi = mid - 1;
        } else {
            // SAFETY: just allocated with `layout`.
            unsafe { alloc.dealloc(p, layout) };
            lo = mid;
        }
    }
    lo
}

/// The free space `alloc` can serve now, as the largest blocks found one
/// after the other (at most 8, each at least 4 KiB): `(address, size)`.
/// For diagnostics; every probe is freed before returning.
fn free_map<P: Policy, M: Memory, B: Binning>(
    alloc: &Nogrow<P, M, B>,
    upper: usize,
) -> [(usize, usize); 8] {
    let mut map = [(0, 0); 8];
    let mut held = [(core::ptr::null_mut(), 0); 8];
    for i in 0..8 {
        let size = largest_block(alloc, upper);
        if size < 4096 {
            break;
        }
        let layout = Layout::from_size_align(size, 8).expect("valid layout");
        // SAFETY: non-zero size.
        let p = unsafe { alloc.alloc(layout) };
        if p.is_null() {
            break;
        }
        map[i] = (p.addr(), size);
        held[i] = (p, size);
    }
    for (p, size) in held {
        if !p.is_null() {
            // SAFETY: allocated above with this size and align 8.
            unsafe { alloc.dealloc(p, Layout::from_size_align_unchecked(size, 8)) };
        }
    }
    map
}

/// Frees every live block (checking each), checks the counters are back to
/// the baseline, then allocates nearly the whole arena and the whole grown
/// region (each must succeed without growing memory), and frees them.
pub fn finish<P: Policy, M: Memory, B: Binning>(
    run: Run<'_, P, M, B>,
) -> Result<Report, Violation> {
    let mut m = run.0;
    m.op = u64::MAX;
    while let Some(b) = m.live.pop() {
        verify(m.op, &b, false, usize::MAX)?;
        m.live_bytes -= b.accounted();
        free_block(m.alloc, &b, m.cfg.one_heap && b.tag % 2 == 0)?;
        m.report.frees += 1;
    }
    m.full_check()?;
    let s = m.alloc.stats();
    let op = m.op;
    check!(
        op,
        s.in_use == m.base.in_use,
        "after freeing all, in_use is {} (baseline {})",
        s.in_use,
        m.base.in_use
    );

    // No `Vec` here: on wasm32 it would come from the allocator under test
    // and split the region we are about to allocate whole.
    let grown = s.heap_bytes - m.cfg.arena.1;
    let wholes = [
        m.cfg.whole_arena_slack.map(|slack| m.cfg.arena.1 - slack),
        // The grown region is one heap (contiguous growth): all but its
        // metadata and a tag is allocatable.
        (grown > 0).then(|| grown - 256),
    ];
    for size in wholes.into_iter().flatten() {
        let layout = Layout::from_size_align(size, 8).expect("valid layout");
        // SAFETY: non-zero size.
        let ptr = unsafe { m.alloc.alloc(layout) };
        if let Some(space_end) = m.cfg.space_end {
            // Near the top of the address space a request is served only if
            // its fit sums cannot pass the end from the heap's top.
            let top = m.cfg.mem_base.addr() as u64 + u64::from(s.pages) * PAGE_SIZE as u64;
            let top = top.min(space_end - nogrow::policy::TOP_RESERVE);
            let allowed = nogrow::policy::max_request_at(top, space_end);
            if (size + 8) as u64 > allowed + 32 {
                check!(
                    op,
                    ptr.is_null() && m.alloc.stats().growths == s.growths,
                    "a {size}-byte request beyond the top's allowance ({allowed}) was served or grew memory"
                );
                continue;
            }
        }
        check!(
            op,
            !ptr.is_null(),
            "after freeing all, allocating {size} bytes failed; free space (address, bytes): {:x?} ({:?}); growths (op, pages) from {} pages: {:?}",
            free_map(m.alloc, size),
            m.alloc.stats(),
            m.base.pages,
            &m.growth_log[..(m.growths_seen as usize).min(32)]
        );
        check!(
            op,
            m.in_bounds(ptr, size, &m.alloc.stats()),
            "whole-region block {:#x}+{size} out of bounds",
            ptr.addr()
        );
        check!(
            op,
            m.alloc.stats().growths == s.growths,
            "allocating {size} bytes after freeing all grew memory"
        );
        let b = Block {
            ptr,
            size,
            align: 8,
            tag: 7,
            c: false,
        };
        stamp(&b);
        verify(op, &b, false, usize::MAX)?;
        // SAFETY: just allocated with `layout`.
        unsafe { m.alloc.dealloc(ptr, layout) };
    }
    let s = m.alloc.stats();
    check!(
        op,
        s.in_use == m.base.in_use,
        "in_use {} after the whole-region checks",
        s.in_use
    );
    m.report.pages = s.pages as usize;
    m.report.growths = s.growths - m.base.growths;
    Ok(m.report)
}
