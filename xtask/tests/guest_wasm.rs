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

/// Number of `memory.grow` instructions in the module's code.
fn memory_grows(wasm: &[u8]) -> usize {
    let mut n = 0;
    for payload in Parser::new(0).parse_all(wasm) {
        if let Payload::CodeSectionEntry(body) = payload.expect("valid module") {
            let mut ops = body.get_operators_reader().expect("operators");
            while !ops.eof() {
                if let Operator::MemoryGrow { .. } = ops.read().expect("operator") {
                    n += 1;
                }
            }
        }
    }
    n
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
