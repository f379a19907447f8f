//! A memory source that allocates through the global allocator would deadlock
//! nogrow's lock; nogrow knows the waiting thread is the holder and panics
//! clearly instead (in every build; the `std` feature names host threads). This
//! test binary proves it on the host (`harness = false`, like bumpalo's OOM
//! tests): its global allocator is a nogrow instance whose `Memory::grow`
//! allocates. The panic is observed in a panic hook, which then ends the
//! process, so nothing unwinds out of the allocator. The wasm32 twin is
//! `tests/wasm_signal_reentrancy.rs`.

#[cfg(target_arch = "wasm32")]
fn main() {}

#[cfg(not(target_arch = "wasm32"))]
fn main() {
    host::main()
}

#[cfg(not(target_arch = "wasm32"))]
mod host {
    use std::{
        alloc::{GlobalAlloc, Layout, System},
        cell::Cell,
        mem::MaybeUninit,
    };

    use nogrow::{Arena, Memory, Nogrow, PAGE_SIZE, Signal, SliceMemory, State};

    /// The bug under test: a `Memory` whose `grow` allocates.
    #[derive(Debug)]
    struct AllocatingMemory(SliceMemory);

    // SAFETY: forwards to `SliceMemory`, which upholds the contract, except for
    // the one clause this test breaks on purpose: `grow` allocates.
    unsafe impl Memory for AllocatingMemory {
        fn pages(&mut self) -> usize {
            self.0.pages()
        }
        fn grow(&mut self, delta: usize) -> Option<usize> {
            let note = std::hint::black_box(Box::new(delta));
            self.0.grow(*note)
        }
        fn region(&mut self, first: usize) -> *mut u8 {
            self.0.region(first)
        }
    }

    const ARENA_LEN: usize = 256 << 10;
    const MEMORY_PAGES: usize = 64;
    static mut ARENA: [MaybeUninit<u8>; ARENA_LEN] = [MaybeUninit::uninit(); ARENA_LEN];
    static mut MEMORY: [MaybeUninit<u8>; MEMORY_PAGES * PAGE_SIZE] =
        [MaybeUninit::uninit(); MEMORY_PAGES * PAGE_SIZE];
    static STATE: State = State::new();

    static NOGROW: Nogrow<Signal, AllocatingMemory> = Nogrow::new(
        // SAFETY: `ARENA` is named only here and in `owned` (its address).
        unsafe { Arena::array(&raw mut ARENA) },
        Signal::new(),
        // SAFETY: `MEMORY` is named only here and in `owned`; it has MEMORY_PAGES pages.
        AllocatingMemory(unsafe { SliceMemory::new((&raw mut MEMORY).cast(), 0, MEMORY_PAGES) }),
        &STATE,
    );

    fn owned(ptr: *mut u8) -> bool {
        let a = ptr.addr();
        let arena = (&raw mut ARENA).addr();
        let memory = (&raw mut MEMORY).addr();
        (arena..arena + ARENA_LEN).contains(&a)
            || (memory..memory + MEMORY_PAGES * PAGE_SIZE).contains(&a)
    }

    std::thread_local! {
        static DEPTH: Cell<u32> = const { Cell::new(0) };
    }

    /// The global allocator: nogrow, except for allocations made while nogrow
    /// is already re-entered (the panic machinery's), which go to the system
    /// allocator so the panic can be reported.
    struct Switch;

    // SAFETY: every block is freed by the allocator that made it (by address).
    unsafe impl GlobalAlloc for Switch {
        unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
            let depth = DEPTH.get();
            DEPTH.set(depth + 1);
            // SAFETY: forwarded with the caller's guarantees.
            let p = unsafe {
                if depth >= 2 {
                    System.alloc(layout)
                } else {
                    NOGROW.alloc(layout)
                }
            };
            DEPTH.set(depth);
            p
        }
        unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
            if owned(ptr) {
                // Once nogrow is re-entered its lock stays held (the process
                // ends from the panic hook); blocks freed after that (thread
                // destructors at exit) are leaked instead.
                if DEPTH.get() < 2 {
                    // SAFETY: `ptr` came from nogrow with `layout`.
                    unsafe { NOGROW.dealloc(ptr, layout) }
                }
            } else {
                // SAFETY: `ptr` came from the system allocator with `layout`.
                unsafe { System.dealloc(ptr, layout) }
            }
        }
    }

    #[global_allocator]
    static GLOBAL: Switch = Switch;

    const NAME: &str = "a_memory_that_allocates_is_a_reentrant_allocation_panic";

    pub fn main() {
        println!("\nrunning 1 test");
        std::panic::set_hook(Box::new(|info| {
            let msg = info.payload().downcast_ref::<&str>().copied().unwrap_or("");
            if msg.contains("nogrow: re-entrant allocation") {
                println!("test {NAME} ... ok (panicked: {msg})\n");
                println!(
                    "test result: ok. 1 passed; 0 failed; 0 ignored; 0 measured; 0 filtered out"
                );
                std::process::exit(0);
            }
            println!(
                "test {NAME} ... FAILED: unexpected panic {msg:?} at {:?}",
                info.location()
            );
            println!(
                "test result: FAILED. 0 passed; 1 failed; 0 ignored; 0 measured; 0 filtered out"
            );
            std::process::exit(1);
        }));
        // More than the arena: Signal must grow, and the memory's grow allocates.
        let v = std::hint::black_box(vec![1u8; 1 << 20]);
        println!(
            "test {NAME} ... FAILED: the allocation returned ({} bytes) instead of panicking",
            v.len()
        );
        println!("test result: FAILED. 0 passed; 1 failed; 0 ignored; 0 measured; 0 filtered out");
        std::process::exit(1);
    }
}
