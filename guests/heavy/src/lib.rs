//! Example guest: heavy allocation (`format!`, `Vec`, `String`) under a nogrow
//! policy. Built once per policy feature. `heavy` fails cleanly past the arena;
//! `grab` allocates infallibly, so past the arena it is an out-of-memory trap.

#[cfg(not(any(feature = "reserve", feature = "signal")))]
nogrow::install!(arena: 2 << 20, policy: Fail);
#[cfg(feature = "reserve")]
nogrow::install!(arena: 256 << 10, policy: Reserve::pages(32));
#[cfg(feature = "signal")]
nogrow::install!(arena: 256 << 10, policy: Signal::new().limit_pages(1024));

use std::fmt::Write;

/// Allocates about `kib` KiB in many `String`s and `Vec`s, keeps them all alive,
/// frees them, and returns how many allocations succeeded. Uses fallible
/// reservation so exhaustion is reported, not trapped.
#[unsafe(no_mangle)]
pub extern "C" fn heavy(kib: u32) -> u32 {
    let mut kept: Vec<String> = Vec::new();
    let mut ok = 0;
    let mut total = 0usize;
    let mut i = 0u32;
    while total < kib as usize * 1024 {
        let mut s = String::new();
        let want = 64 + (i as usize * 37) % 4000;
        if s.try_reserve(want).is_err() || kept.try_reserve(1).is_err() {
            break;
        }
        let _ = write!(s, "block {i} of {kib} KiB: ");
        while s.len() < want {
            s.push('x');
        }
        total += s.capacity();
        kept.push(s);
        ok += 1;
        i += 1;
    }
    ok
}

/// Allocates `kib` KiB in one `Vec` with an infallible allocation, touches
/// every page of it and returns how many pages it touched. Past the arena (and
/// past what the policy may grow) this is an out-of-memory trap, which the
/// allocator records in the state block first.
#[unsafe(no_mangle)]
pub extern "C" fn grab(kib: u32) -> u32 {
    let mut block = vec![0u8; kib as usize * 1024];
    let block = core::hint::black_box(&mut block);
    let mut pages = 0;
    for page in block.chunks_mut(64 << 10) {
        page[0] = 1;
        pages += 1;
    }
    core::hint::black_box(block);
    pages
}
