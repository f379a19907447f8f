//! A WASI command (`wasm32-wasip1`, and `wasm32-wasip2` as a component) under
//! nogrow's Fail policy.
//!
//! It reads its arguments and its whole environment, reads the JSON file
//! named by its first argument (from a preopened directory), parses it into
//! a `serde_json::Value`, serializes it again, lists the directory, round-trips
//! a string through wasi-libc's `strdup`/`free`, and prints one line:
//!
//! ```text
//! wasi-json args=2 env=2000 env_bytes=220000 dir_entries=3 json_in=3927942 json_out=3253251 out_fnv=… objects=19611 arrays=1016 strings=40080 numbers=346 keys=… c_allocs=1 generation=0 allocs=… in_use=… peak=… failures=0 growths=0 pages_at_main=… pages=…
//! ```
//!
//! With the `c-malloc` feature (the default) nogrow also serves wasi-libc's
//! `malloc`, so the environment, the preopen table, `opendir` and `strdup`
//! allocate from the arena and memory never grows. Built with
//! `--no-default-features` it is the `wasm32-wasip1` control: wasi-libc's own
//! allocator grows memory (its copy of a large environment, made when the
//! program first reads the environment, is enough). On `wasm32-wasip2`, where
//! nogrow requires `c-malloc`, the control is built with `without-nogrow`:
//! std's allocator and wasi-libc's, no nogrow (`nogrow=0` in the summary,
//! nogrow's counters printed as 0).
//! On `wasm32-wasip2` the canonical ABI's `cabi_realloc` allocates what the
//! host passes in (the arguments, the environment, the preopens, directory
//! entries) through the global allocator, and wasi-libc frees some of it with
//! C `free`; with `c-malloc` both are nogrow's one heap there.
//! `tests/wasi/wasi_guests.py` runs both wasip1 builds in wasmtime and Node,
//! `tests/wasip2/wasip2_guests.py` both wasip2 builds in wasmtime and jco.

use std::process::ExitCode;

use serde_json::Value;

#[cfg(not(feature = "without-nogrow"))]
nogrow::install!(arena: 32 << 20, policy: Fail);

/// nogrow's generation (after noticing growth by anyone) and counters; zeros
/// in the build without nogrow.
fn counters() -> (u32, nogrow::Stats) {
    #[cfg(not(feature = "without-nogrow"))]
    return (NOGROW.generation(), NOGROW.stats());
    #[cfg(feature = "without-nogrow")]
    (0, nogrow::Stats::default())
}

/// Counts of the JSON values, by kind.
#[derive(Default)]
struct Shape {
    objects: u64,
    arrays: u64,
    strings: u64,
    numbers: u64,
    keys: u64,
}

impl Shape {
    fn add(&mut self, v: &Value) {
        match v {
            Value::Object(m) => {
                self.objects += 1;
                self.keys += m.len() as u64;
                m.values().for_each(|v| self.add(v));
            }
            Value::Array(a) => {
                self.arrays += 1;
                a.iter().for_each(|v| self.add(v));
            }
            Value::String(_) => self.strings += 1,
            Value::Number(_) => self.numbers += 1,
            Value::Bool(_) | Value::Null => {}
        }
    }
}

/// FNV-1a, 32 bits.
fn fnv1a(bytes: &[u8]) -> u32 {
    bytes.iter().fold(0x811c_9dc5, |h, &b| {
        (h ^ u32::from(b)).wrapping_mul(0x0100_0193)
    })
}

/// Allocations nogrow counted while a C string went through wasi-libc's
/// `strdup` and `free` (0 when wasi-libc's own allocator served them), or
/// `None` if the copy was wrong.
#[cfg(target_os = "wasi")]
fn c_round_trip() -> Option<u32> {
    use std::ffi::{CStr, CString, c_char, c_void};
    unsafe extern "C" {
        fn strdup(s: *const c_char) -> *mut c_char;
        fn free(p: *mut c_void);
    }
    let text = CString::new("nogrow serves wasi-libc").ok()?;
    let before = counters().1.allocs;
    // SAFETY: `text` is a valid NUL-terminated string; `strdup` returns a
    // fresh copy (or null), which is read only while alive and freed once.
    let same = unsafe {
        let copy = strdup(text.as_ptr());
        if copy.is_null() {
            return None;
        }
        let same = CStr::from_ptr(copy) == text.as_c_str();
        free(copy.cast());
        same
    };
    same.then(|| counters().1.allocs - before)
}

#[cfg(not(target_os = "wasi"))]
fn c_round_trip() -> Option<u32> {
    Some(0)
}

fn memory_pages() -> usize {
    #[cfg(target_arch = "wasm32")]
    return core::arch::wasm32::memory_size(0);
    #[cfg(not(target_arch = "wasm32"))]
    0
}

fn main() -> ExitCode {
    let pages_at_main = memory_pages();
    let args: Vec<String> = std::env::args().collect();
    let (env, env_bytes) = std::env::vars_os().fold((0usize, 0usize), |(n, bytes), (k, v)| {
        (n + 1, bytes + k.len() + 1 + v.len())
    });
    let Some(path) = args.get(1) else {
        eprintln!("usage: wasi-json FILE.json");
        return ExitCode::from(2);
    };
    let input = match std::fs::read(path) {
        Ok(bytes) => bytes,
        Err(e) => {
            eprintln!("wasi-json: {path}: {e}");
            return ExitCode::from(1);
        }
    };
    let value: Value = match serde_json::from_slice(&input) {
        Ok(v) => v,
        Err(e) => {
            eprintln!("wasi-json: {path}: {e}");
            return ExitCode::from(1);
        }
    };
    let output = serde_json::to_vec(&value).expect("a Value serializes");
    let mut shape = Shape::default();
    shape.add(&value);
    drop(value);
    let dir = std::path::Path::new(path)
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(".".as_ref());
    let dir_entries = std::fs::read_dir(dir).map_or(0, Iterator::count);
    let Some(c_allocs) = c_round_trip() else {
        eprintln!("wasi-json: strdup returned a wrong copy");
        return ExitCode::from(1);
    };
    // The generation after noticing growth by anyone (wasi-libc's own
    // allocator, in the control), then the counters.
    let (generation, s) = counters();
    println!(
        "wasi-json args={} env={env} env_bytes={env_bytes} dir_entries={dir_entries} \
         json_in={} json_out={} out_fnv={} objects={} arrays={} strings={} numbers={} \
         keys={} c_allocs={c_allocs} nogrow={} generation={generation} allocs={} in_use={} \
         peak={} failures={} growths={} pages_at_main={pages_at_main} pages={}",
        args.len(),
        input.len(),
        output.len(),
        fnv1a(&output),
        shape.objects,
        shape.arrays,
        shape.strings,
        shape.numbers,
        shape.keys,
        u8::from(cfg!(not(feature = "without-nogrow"))),
        s.allocs,
        s.in_use,
        s.peak_in_use,
        s.failures,
        s.growths,
        memory_pages(),
    );
    ExitCode::SUCCESS
}
