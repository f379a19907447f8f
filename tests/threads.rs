//! Threads on the host: a lock held by a thread that is inside the memory
//! source (growing memory, slowly here) is waited out by the others, never
//! taken for re-entrancy; blocks stay intact and the counters add up. (The
//! re-entrancy case itself, a `Memory` that allocates, is `tests/reentrancy.rs`.)
#![cfg(not(target_arch = "wasm32"))]

use std::{
    alloc::{GlobalAlloc, Layout},
    sync::atomic::{AtomicUsize, Ordering::Relaxed},
    time::Duration,
};

use nogrow::{Arena, Memory, Nogrow, PAGE_SIZE, Signal, SliceMemory, State};

/// A memory whose growth takes a while, so other threads contend for the
/// lock while its holder is inside the memory source.
#[derive(Debug)]
struct SlowMemory {
    inner: SliceMemory,
    growths: usize,
}

// SAFETY: every method forwards to `SliceMemory`, which upholds the contract;
// the pause in `grow` allocates nothing.
unsafe impl Memory for SlowMemory {
    fn pages(&mut self) -> usize {
        self.inner.pages()
    }
    fn grow(&mut self, delta: usize) -> Option<usize> {
        self.growths += 1;
        std::thread::sleep(Duration::from_millis(30));
        self.inner.grow(delta)
    }
    fn region(&mut self, first: usize) -> *mut u8 {
        self.inner.region(first)
    }
    fn initial_pages(&mut self) -> Option<usize> {
        self.inner.initial_pages()
    }
}

#[test]
#[cfg_attr(
    miri,
    ignore = "Miri's scheduler can keep a sleeping thread off the CPU for any number of spins"
)]
fn contention_during_a_slow_growth_is_waited_out_not_taken_for_reentrancy() {
    const MAX_PAGES: usize = 256;
    let (threads, rounds) = (4, 3000);
    let arena: &'static mut [u8] = vec![0u8; 64 << 10].leak();
    let region: &'static mut [u8] = vec![0u8; MAX_PAGES * PAGE_SIZE].leak();
    let state: &'static State = Box::leak(Box::new(State::new()));
    // SAFETY: both regions are leaked, so they live for the program, and
    // nothing else names them.
    let (arena, memory) = unsafe {
        (
            Arena::from_raw(arena.as_mut_ptr(), arena.len()),
            SliceMemory::new(region.as_mut_ptr(), 1, MAX_PAGES),
        )
    };
    let memory = SlowMemory {
        inner: memory,
        growths: 0,
    };
    let a: &'static Nogrow<Signal, SlowMemory> =
        Box::leak(Box::new(Nogrow::new(arena, Signal::new(), memory, state)));
    static CHECKED: AtomicUsize = AtomicUsize::new(0);

    std::thread::scope(|s| {
        for t in 0..threads {
            s.spawn(move || {
                let mut live: Vec<(*mut u8, usize)> = Vec::new();
                for i in 0..rounds {
                    let size = match (i * 7 + t) % 50 {
                        0 => 40_000 + t * 1000, // grows memory now and then
                        n => 1 + n * 37,
                    };
                    let layout = Layout::from_size_align(size, 8).unwrap();
                    // SAFETY: non-zero size.
                    let p = unsafe { a.alloc(layout) };
                    assert!(!p.is_null(), "thread {t}: {size} bytes failed");
                    // SAFETY: a fresh block of `size` bytes.
                    unsafe { p.write_bytes(t as u8 + 1, size) };
                    live.push((p, size));
                    if live.len() > 16 || i % 3 == 0 {
                        let (p, size) = live.swap_remove((i * 13) % live.len());
                        // SAFETY: a live block of this thread, written above.
                        let bytes = unsafe { std::slice::from_raw_parts(p, size) };
                        assert!(
                            bytes.iter().all(|&b| b == t as u8 + 1),
                            "thread {t}: corrupted"
                        );
                        CHECKED.fetch_add(1, Relaxed);
                        // SAFETY: allocated above with this size and align 8.
                        unsafe { a.dealloc(p, Layout::from_size_align(size, 8).unwrap()) };
                    }
                }
                for (p, size) in live {
                    // SAFETY: the remaining live blocks of this thread.
                    unsafe { a.dealloc(p, Layout::from_size_align(size, 8).unwrap()) };
                }
            });
        }
    });
    let s = a.stats();
    assert!(s.growths >= 1, "the run grew memory while others waited");
    // SAFETY: the closure only reads it; it neither replaces the memory nor allocates.
    assert_eq!(unsafe { a.with_memory(|m| m.growths) }, s.growths as usize);
    assert_eq!(s.allocs, s.frees);
    assert_eq!(s.in_use, 0);
    assert_eq!(s.generation, s.growths);
    assert!(CHECKED.load(Relaxed) > 0);
}

/// A memory whose first growth takes longer than any spin count could stand
/// for (seconds), and says when it is inside it.
#[derive(Debug)]
struct StallingMemory {
    inner: SliceMemory,
    stall: Duration,
    inside: &'static std::sync::atomic::AtomicBool,
}

// SAFETY: every method forwards to `SliceMemory`, which upholds the contract;
// the stall in `grow` allocates nothing.
unsafe impl Memory for StallingMemory {
    fn pages(&mut self) -> usize {
        self.inner.pages()
    }
    fn grow(&mut self, delta: usize) -> Option<usize> {
        if !self.stall.is_zero() {
            self.inside.store(true, Relaxed);
            std::thread::sleep(core::mem::take(&mut self.stall));
            self.inside.store(false, Relaxed);
        }
        self.inner.grow(delta)
    }
    fn region(&mut self, first: usize) -> *mut u8 {
        self.inner.region(first)
    }
    fn initial_pages(&mut self) -> Option<usize> {
        self.inner.initial_pages()
    }
}

#[test]
#[cfg_attr(
    miri,
    ignore = "sleeps for seconds; the waiting is the same code as the slow-growth test"
)]
fn threads_wait_for_a_holder_that_stays_inside_a_growth_for_seconds() {
    use std::sync::atomic::AtomicBool;
    const MAX_PAGES: usize = 64;
    // Longer than any bound in spins could stand for: 2^26 rounds of a
    // waiter's spin loop took about 7 s here in a debug build, with two
    // waiters on two cores (2 s in release).
    const STALL: Duration = Duration::from_secs(12);
    let arena: &'static mut [u8] = vec![0u8; 256 << 10].leak();
    let region: &'static mut [u8] = vec![0u8; MAX_PAGES * PAGE_SIZE].leak();
    let state: &'static State = Box::leak(Box::new(State::new()));
    static INSIDE: AtomicBool = AtomicBool::new(false);
    // SAFETY: both regions are leaked, so they live for the program, and
    // nothing else names them.
    let (arena, memory) = unsafe {
        (
            Arena::from_raw(arena.as_mut_ptr(), arena.len()),
            SliceMemory::new(region.as_mut_ptr(), 1, MAX_PAGES),
        )
    };
    let memory = StallingMemory {
        inner: memory,
        stall: STALL,
        inside: &INSIDE,
    };
    let a: &'static Nogrow<Signal, StallingMemory> =
        Box::leak(Box::new(Nogrow::new(arena, Signal::new(), memory, state)));
    let small = Layout::from_size_align(64, 8).unwrap();
    // SAFETY: non-zero size; claims the arena before the threads start.
    unsafe { a.dealloc(a.alloc(small), small) };

    let started = std::time::Instant::now();
    std::thread::scope(|s| {
        // The holder: a request the arena cannot serve, so memory grows.
        s.spawn(|| {
            let big = Layout::from_size_align(1 << 20, 8).unwrap();
            // SAFETY: non-zero size.
            let p = unsafe { a.alloc(big) };
            assert!(!p.is_null(), "the growth succeeded after its stall");
            // SAFETY: allocated above with `big`.
            unsafe { a.dealloc(p, big) };
        });
        for t in 0..2u8 {
            s.spawn(move || {
                while !INSIDE.load(Relaxed) {
                    std::hint::spin_loop();
                }
                // The lock is held inside the growth now: this waits for it.
                // SAFETY: non-zero size.
                let p = unsafe { a.alloc(small) };
                assert!(!p.is_null());
                assert!(
                    !INSIDE.load(Relaxed),
                    "thread {t} got the lock inside the growth"
                );
                // SAFETY: a fresh block of 64 bytes, freed with its layout.
                unsafe {
                    p.write_bytes(t, 64);
                    a.dealloc(p, small);
                }
            });
        }
    });
    assert!(
        started.elapsed() >= STALL,
        "the threads waited out the stall"
    );
    let s = a.stats();
    assert_eq!((s.growths, s.allocs, s.frees, s.in_use), (1, 4, 4, 0));
}

/// A memory whose first growth panics (a buggy `Memory`, on the host).
#[derive(Debug)]
struct PanickingMemory {
    inner: SliceMemory,
    panics_left: usize,
}

// SAFETY: every method forwards to `SliceMemory`, which upholds the contract;
// the panic in `grow` happens before any page is handed out.
unsafe impl Memory for PanickingMemory {
    fn pages(&mut self) -> usize {
        self.inner.pages()
    }
    fn grow(&mut self, delta: usize) -> Option<usize> {
        if self.panics_left > 0 {
            self.panics_left -= 1;
            panic!("the memory failed");
        }
        self.inner.grow(delta)
    }
    fn region(&mut self, first: usize) -> *mut u8 {
        self.inner.region(first)
    }
    fn initial_pages(&mut self) -> Option<usize> {
        self.inner.initial_pages()
    }
}

#[test]
fn a_panic_inside_the_memory_leaves_the_lock_free_and_no_holder_behind() {
    const MAX_PAGES: usize = 64;
    let arena: &'static mut [u8] = vec![0u8; 256 << 10].leak();
    let region: &'static mut [u8] = vec![0u8; MAX_PAGES * PAGE_SIZE].leak();
    let state: &'static State = Box::leak(Box::new(State::new()));
    // SAFETY: both regions are leaked, so they live for the program, and
    // nothing else names them.
    let (arena, memory) = unsafe {
        (
            Arena::from_raw(arena.as_mut_ptr(), arena.len()),
            SliceMemory::new(region.as_mut_ptr(), 1, MAX_PAGES),
        )
    };
    let memory = PanickingMemory {
        inner: memory,
        panics_left: 1,
    };
    let a: &'static Nogrow<Signal, PanickingMemory> =
        Box::leak(Box::new(Nogrow::new(arena, Signal::new(), memory, state)));
    let big = Layout::from_size_align(1 << 20, 8).unwrap();
    // SAFETY: non-zero size. The memory panics inside the growth; the panic
    // unwinds out of this direct call (this allocator is not the global one).
    let caught = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| unsafe { a.alloc(big) }));
    assert!(caught.is_err(), "the growth panicked");
    // Had the record of the panicking thread stayed behind, this thread
    // would now be taken for the holder whenever it found the lock busy:
    // another thread keeps it busy while this one allocates.
    let small = Layout::from_size_align(48, 8).unwrap();
    let rounds = if cfg!(miri) { 500 } else { 20_000 };
    let churn = || {
        for _ in 0..rounds {
            // SAFETY: non-zero size; freed at once with its layout.
            unsafe {
                let p = a.alloc(small);
                assert!(!p.is_null());
                a.dealloc(p, small);
            }
        }
    };
    std::thread::scope(|s| {
        s.spawn(churn);
        churn(); // the thread that panicked, contending with the other
    });
    // SAFETY: as above; the memory grows now.
    let p = unsafe { a.alloc(big) };
    assert!(!p.is_null(), "growth works after the panic");
    // SAFETY: allocated above with `big`.
    unsafe { a.dealloc(p, big) };
    assert_eq!(a.stats().growths, 1);
}
