//! Example guest: heavy allocation (`format!`, `Vec`, `String`) under a nogrow
//! policy. Built three times by the demo, once per policy feature.

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
