//! A `no_std` guest for `wasm32v1-none` (WebAssembly 1.0, no `std`, no libc):
//! nogrow's Fail policy over a 2 MiB arena, and one export that churns
//! `Vec`, `String` and `BTreeMap` through a few hundred KiB.
//!
//! `cargo xtask build-guests` builds it with `--target wasm32v1-none` to
//! `target/guests/v1-none.wasm`; `js/test/guests/v1-none.test.mjs` runs it.
//! On the host (clippy, tests) it is an ordinary `std` library.

#![cfg_attr(all(target_arch = "wasm32", not(test)), no_std)]

extern crate alloc;

use alloc::{collections::BTreeMap, format, string::String, vec::Vec};

nogrow::install!(arena: 2 << 20, policy: Fail);

/// FNV-1a, 32 bits.
fn fnv1a(bytes: &[u8]) -> u32 {
    bytes.iter().fold(0x811c_9dc5, |h, &b| {
        (h ^ u32::from(b)).wrapping_mul(0x0100_0193)
    })
}

/// Builds a map of `n` keys (`(i * 7919) % n` for `i` in `0..n`), each
/// holding its key as 8 hex digits repeated `key % 7 + 1` times; removes
/// the keys divisible by 3; joins the values left, in key order, with `,`;
/// and returns the FNV-1a hash of the joined text. Along the way a
/// `Vec<u64>` grows one push at a time and is checked. Returns 0 if `n` is 0
/// or the check fails.
#[unsafe(no_mangle)]
pub extern "C" fn churn(n: u32) -> u32 {
    if n == 0 {
        return 0;
    }
    let mut map: BTreeMap<u32, String> = BTreeMap::new();
    let mut pushed: Vec<u64> = Vec::new();
    for i in 0..n {
        let key = ((u64::from(i) * 7919) % u64::from(n)) as u32;
        let one = format!("{key:08x}");
        map.insert(key, one.repeat(key as usize % 7 + 1));
        pushed.push(u64::from(key) << 32 | u64::from(i));
    }
    map.retain(|key, _| key % 3 != 0);
    let indices: u64 = pushed.iter().map(|v| v & 0xffff_ffff).sum();
    if indices != u64::from(n) * u64::from(n - 1) / 2 {
        return 0;
    }
    drop(pushed);
    let values: Vec<&str> = map.values().map(String::as_str).collect();
    fnv1a(values.join(",").as_bytes())
}

/// The guest's own panic handler: `no_std` on wasm has none. A panic
/// traps (`unreachable`), like `panic = "abort"` under `std`.
#[cfg(all(target_arch = "wasm32", not(test)))]
#[panic_handler]
fn panic(_: &core::panic::PanicInfo) -> ! {
    core::arch::wasm32::unreachable()
}
