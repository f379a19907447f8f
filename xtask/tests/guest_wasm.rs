//! Checks over the bytes of release-built guests (`cargo xtask build-guests`
//! first; `cargo xtask test` does, then runs these with `--include-ignored`).

use std::path::PathBuf;

use wasmparser::{Operator, Parser, Payload};

fn guest(name: &str) -> Vec<u8> {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../target/guests")
        .join(format!("{name}.wasm"));
    std::fs::read(&path).unwrap_or_else(|e| {
        panic!(
            "{}: {e} (run `cargo xtask build-guests` first)",
            path.display()
        )
    })
}

/// Per function body, in order, the number of its instructions that `pick`
/// selects.
fn ops_per_body(wasm: &[u8], pick: impl Fn(&Operator) -> bool) -> Vec<usize> {
    let mut bodies = Vec::new();
    for payload in Parser::new(0).parse_all(wasm) {
        if let Payload::CodeSectionEntry(body) = payload.expect("valid module") {
            let mut ops = body.get_operators_reader().expect("operators");
            let mut n = 0;
            while !ops.eof() {
                if pick(&ops.read().expect("operator")) {
                    n += 1;
                }
            }
            bodies.push(n);
        }
    }
    bodies
}

/// Number of instructions in the module's code that `pick` selects.
fn count_ops(wasm: &[u8], pick: impl Fn(&Operator) -> bool) -> usize {
    ops_per_body(wasm, pick).iter().sum()
}

/// Number of `memory.grow` instructions in the module's code.
fn memory_grows(wasm: &[u8]) -> usize {
    count_ops(wasm, |op| matches!(op, Operator::MemoryGrow { .. }))
}

/// Number of one-byte atomic swaps (`i32.atomic.rmw8.xchg_u`, the
/// instruction nogrow's lock is taken with where memory can be shared) in
/// each function whose name (from the name section) contains `name`.
fn byte_swaps_in(wasm: &[u8], name: &str) -> Vec<usize> {
    let (mut imported, mut named) = (0, Vec::new());
    for payload in Parser::new(0).parse_all(wasm) {
        match payload.expect("valid module") {
            Payload::ImportSection(imports) => {
                for import in imports.into_imports() {
                    if let wasmparser::TypeRef::Func(_) = import.expect("import").ty {
                        imported += 1;
                    }
                }
            }
            Payload::CustomSection(c) => {
                if let wasmparser::KnownCustom::Name(reader) = c.as_known() {
                    for n in reader {
                        if let wasmparser::Name::Function(map) = n.expect("name subsection") {
                            for naming in map {
                                let naming = naming.expect("function name");
                                if naming.name.contains(name) {
                                    named.push(naming.index);
                                }
                            }
                        }
                    }
                }
            }
            _ => {}
        }
    }
    let swaps = ops_per_body(wasm, |op| matches!(op, Operator::I32AtomicRmw8XchgU { .. }));
    named
        .iter()
        .map(|&i| swaps[(i - imported) as usize])
        .collect()
}

#[test]
#[ignore = "needs `cargo xtask build-guests`"]
fn threaded_guests_take_the_lock_with_an_atomic_swap() {
    // Stable Rust sets no `target_feature = "atomics"` cfg for `+atomics`,
    // so nothing in nogrow may choose its lock by that cfg: these guests are
    // built that way, and a plain load and store here would let two threads
    // hold the lock at once.
    // The lock's wait path (out of line, so it is there by name) takes the
    // lock with the swap.
    for name in [
        "threads/nostd-fail",
        "threads/nostd-reserve",
        "threads/nostd-signal",
        "threads/nostd-notify",
    ] {
        let swaps = byte_swaps_in(&guest(name), "lock_contended");
        assert!(!swaps.is_empty(), "{name}: no lock_contended function");
        assert!(
            swaps.iter().all(|&n| n > 0),
            "{name}: a lock taken without an atomic swap"
        );
    }
    // The control: without `atomics`, LLVM lowers the swap to a load and a
    // store (one thread, memory that cannot be shared).
    let swaps = byte_swaps_in(&guest("heavy-fail"), "lock_contended");
    assert!(!swaps.is_empty() && swaps.iter().all(|&n| n == 0));
}

#[test]
#[ignore = "needs `cargo xtask build-guests`"]
fn release_fail_guest_contains_zero_memory_grow() {
    for name in [
        "heavy-fail",
        "greet-fail",
        "greet-reserve-link",
        "v1-none",
        "wasi-json",
        "wasi-linker-heap",
    ] {
        assert_eq!(
            memory_grows(&guest(name)),
            0,
            "{name} must not contain memory.grow"
        );
    }
}

#[test]
#[ignore = "needs `cargo xtask build-guests`"]
fn the_check_finds_memory_grow_where_policies_can_grow() {
    // The control for the test above: the same counter sees growth code in
    // the policies that grow.
    // wasi-json without nogrow's `c-malloc`: wasi-libc's malloc grows.
    for name in ["heavy-signal", "heavy-reserve", "wasi-json-libc-malloc"] {
        assert!(
            memory_grows(&guest(name)) > 0,
            "{name} should contain memory.grow"
        );
    }
}

#[test]
#[ignore = "needs `cargo xtask build-guests`"]
fn guests_export_the_nogrow_abi() {
    for name in ["heavy-fail", "heavy-reserve", "heavy-signal"] {
        let wasm = guest(name);
        let mut exports = Vec::new();
        for payload in Parser::new(0).parse_all(&wasm) {
            if let Payload::ExportSection(s) = payload.unwrap() {
                exports.extend(s.into_iter().map(|e| e.unwrap().name.to_string()));
            }
        }
        for f in ["nogrow_state", "nogrow_generation", "nogrow_reserve"] {
            assert!(
                exports.iter().any(|e| e == f),
                "{name} exports {f}: {exports:?}"
            );
        }
    }
}
