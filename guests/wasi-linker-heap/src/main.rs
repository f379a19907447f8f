//! A WASI command (`wasm32-wasip1`) that hands nogrow the linker heap
//! (`__heap_base..__heap_end`, sized by `-C link-arg=--initial-memory=4194304`)
//! and then makes wasi-libc allocate (`std::fs::read` opens a file through
//! the preopen table). The 1 MiB buffer in the linker heap must come out
//! intact: it prints how many of its bytes changed, which must be 0.
//!
//! nogrow's `c-malloc` feature is what makes this sound: without it
//! wasi-libc's own allocator also starts at `__heap_base`, and the file read
//! overwrote part of the buffer. nogrow refuses to compile `linker_heap` on
//! WASI without the feature.

nogrow::install!(arena: 64 << 10, linker_heap, policy: Fail);

fn main() {
    let v = vec![0xABu8; 1 << 20];
    let path = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "data.json".into());
    let _ = std::fs::read(path);
    println!("{}", v.iter().filter(|&&b| b != 0xAB).count());
}
