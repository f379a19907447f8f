//! `nogrow check` and `nogrow seal` against the repository's own guests in
//! `target/guests` (built by `cargo xtask build-guests`; a missing guest
//! fails the test; `NOGROW_GUESTS_DIR` points elsewhere). Run with
//! `cargo test -p nogrow-cli -- --include-ignored`.

mod common;

use std::process::Command;

use common::{guest, nogrow, scratch};
use nogrow_cli::TableVerdict;
use nogrow_cli::check::{Owner, Verdict};
use nogrow_cli::cli::{EXIT_OK, EXIT_VERDICT};

const NEEDS: &str = "needs cargo xtask build-guests";

fn text(o: &std::process::Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

#[test]
#[ignore = "needs cargo xtask build-guests"]
fn std_allocator_control_can_grow_implicitly_and_names_the_allocator() {
    let (path, bytes) = guest("greet-std");
    let r = nogrow_cli::check(&bytes).unwrap();
    assert_eq!(r.verdict, Verdict::CanGrowImplicitly);
    assert!(r.abi.exports.is_empty(), "the control has no nogrow ABI");
    let g = r
        .grows
        .iter()
        .find(|g| g.reachable)
        .expect("a reachable memory.grow");
    assert_eq!(g.owner, Owner::Other);
    let name = g.name.as_deref().expect("named by the name section");
    assert!(
        name.contains("dlmalloc"),
        "the allocator's function: {name}"
    );
    let o = nogrow(&["check", &path]);
    assert_eq!(o.status.code(), Some(EXIT_VERDICT));
    assert!(text(&o).contains("dlmalloc"), "{}", text(&o));
    assert_eq!(
        nogrow(&["check", "--allow", "signal", &path]).status.code(),
        Some(EXIT_VERDICT)
    );
}

#[test]
#[ignore = "needs cargo xtask build-guests"]
fn nogrow_fail_and_reserve_at_link_guests_cannot_grow() {
    for name in ["heavy-fail", "greet-fail", "greet-reserve-link"] {
        let (path, bytes) = guest(name);
        let r = nogrow_cli::check(&bytes).unwrap();
        assert_eq!(r.verdict, Verdict::CannotGrow, "{name}: {:?}", r.reasons);
        assert!(r.grows.is_empty(), "{name}: Fail compiles growth out");
        assert_eq!(r.abi.exports.len(), 3, "{name}: the nogrow ABI is exported");
        assert_eq!(r.abi.policy(), Some("fail"), "{name}");
        let o = nogrow(&["check", &path]);
        assert_eq!(o.status.code(), Some(EXIT_OK), "{name}: {}", text(&o));
    }
}

#[test]
#[ignore = "needs cargo xtask build-guests"]
fn wasi_guests_with_c_malloc_and_the_v1_none_guest_cannot_grow() {
    // wasm32-wasip1 commands whose C allocation family is nogrow's (wasi-libc's
    // malloc and its `sbrk` are not linked), and a `no_std` wasm32v1-none
    // cdylib.
    for name in ["wasi-json", "wasi-linker-heap", "v1-none"] {
        let (path, bytes) = guest(name);
        let r = nogrow_cli::check(&bytes).unwrap();
        assert_eq!(r.verdict, Verdict::CannotGrow, "{name}: {:?}", r.reasons);
        assert!(r.grows.is_empty(), "{name}: no memory.grow at all");
        assert_eq!(r.abi.exports.len(), 3, "{name}: the nogrow ABI is exported");
        assert_eq!(r.abi.policy(), Some("fail"), "{name}");
        let o = nogrow(&["check", &path]);
        assert_eq!(o.status.code(), Some(EXIT_OK), "{name}: {}", text(&o));
        assert!(text(&o).contains("cannot-grow"), "{name}: {}", text(&o));
    }
}

#[test]
#[ignore = "needs cargo xtask build-guests"]
fn wasi_guest_without_c_malloc_can_grow_implicitly_through_wasi_libc() {
    // The same program as wasi-json, built without nogrow's `c-malloc`:
    // wasi-libc's allocator is linked and grows memory through `sbrk`.
    let (path, bytes) = guest("wasi-json-libc-malloc");
    let r = nogrow_cli::check(&bytes).unwrap();
    assert_eq!(r.verdict, Verdict::CanGrowImplicitly, "{:?}", r.reasons);
    assert_eq!(r.abi.policy(), Some("fail"), "nogrow itself is Fail");
    let g = r
        .grows
        .iter()
        .find(|g| g.reachable)
        .expect("a reachable memory.grow");
    assert_eq!(g.owner, Owner::Other);
    let name = g.name.as_deref().expect("named by the name section");
    assert_eq!(name, "sbrk", "wasi-libc's sbrk grows memory");
    let o = nogrow(&["check", &path]);
    assert_eq!(o.status.code(), Some(EXIT_VERDICT));
    assert!(text(&o).contains("can-grow-implicitly"), "{}", text(&o));
    assert_eq!(
        nogrow(&["check", "--allow", "signal", &path]).status.code(),
        Some(EXIT_VERDICT),
        "growth by wasi-libc is never nogrow's"
    );
}

#[test]
#[ignore = "needs cargo xtask build-guests"]
fn signal_guests_pass_only_with_allow_signal() {
    for name in [
        "heavy-signal",
        "heavy-signal-notify",
        "greet-signal",
        "greet-bindgen",
        // After wasm-bindgen: names and the `nogrow` section survive it.
        "greet-bindgen/greet-bindgen_bg",
    ] {
        let (path, bytes) = guest(name);
        let r = nogrow_cli::check(&bytes).unwrap();
        assert_eq!(
            r.verdict,
            Verdict::GrowsViaNogrowSignal,
            "{name}: {:?}",
            r.reasons
        );
        assert!(r.grows.iter().all(|g| g.owner == Owner::Nogrow), "{name}");
        assert_eq!(r.abi.policy(), Some("signal"), "{name}");
        assert_eq!(
            nogrow(&["check", &path]).status.code(),
            Some(EXIT_VERDICT),
            "{name}"
        );
        assert_eq!(
            nogrow(&["check", "--allow", "reserve", &path])
                .status
                .code(),
            Some(EXIT_VERDICT),
            "{name}"
        );
        let o = nogrow(&["check", "--allow", "signal", &path]);
        assert_eq!(o.status.code(), Some(EXIT_OK), "{name}: {}", text(&o));
    }
}

#[test]
#[ignore = "needs cargo xtask build-guests"]
fn bindgen_guest_lists_its_externref_table_and_has_no_table_grow() {
    // After wasm-bindgen: `JsValue`s live in the exported externref table
    // `__wbindgen_externrefs`, pre-sized by the glue (1028 slots, no
    // maximum). This guest passes only strings, so no `table.grow` is
    // linked; the host could still grow the table, which is a note.
    let (path, bytes) = guest("greet-bindgen/greet-bindgen_bg");
    let r = nogrow_cli::check(&bytes).unwrap();
    let t = r
        .tables
        .tables
        .iter()
        .find(|t| t.element_type == "externref")
        .expect("an externref table");
    assert_eq!(t.exports, ["__wbindgen_externrefs"]);
    assert_eq!(t.maximum, None);
    assert!(t.host_can_grow());
    assert!(r.tables.grows.is_empty(), "{:?}", r.tables.grows);
    assert_eq!(r.tables.verdict, TableVerdict::TablesFixed);
    let o = nogrow(&[
        "check",
        "--allow",
        "signal",
        "--require-fixed-tables",
        &path,
    ]);
    assert_eq!(o.status.code(), Some(EXIT_OK), "{}", text(&o));
    let out = text(&o);
    assert!(
        out.contains(&format!(
            "  table {}: externref, initial {}, maximum none, defined, exported as __wbindgen_externrefs\n",
            t.index, t.initial
        )),
        "{out}"
    );
    assert!(out.contains("  table.grow: none\n"), "{out}");
    assert!(
        out.contains(&format!("note: table {} is exported", t.index)),
        "{out}"
    );
    assert!(
        out.ends_with("table verdict: tables-fixed (meets --require-fixed-tables)\n"),
        "{out}"
    );

    // Before wasm-bindgen: only the funcref table of indirect calls, fixed.
    let (_, bytes) = guest("greet-bindgen");
    let r = nogrow_cli::check(&bytes).unwrap();
    assert!(
        r.tables
            .tables
            .iter()
            .all(|t| t.element_type == "funcref" && t.is_fixed())
    );
    assert_eq!(r.tables.verdict, TableVerdict::TablesFixed);
}

#[test]
#[ignore = "needs cargo xtask build-guests"]
fn reserve_guests_grow_only_through_nogrow_reserve() {
    for name in ["heavy-reserve", "heavy-reserve-max", "greet-reserve"] {
        let (path, bytes) = guest(name);
        let r = nogrow_cli::check(&bytes).unwrap();
        assert_eq!(
            r.verdict,
            Verdict::GrowsViaNogrowReserve,
            "{name}: {:?}",
            r.reasons
        );
        assert_eq!(r.abi.policy(), Some("reserve"), "{name}");
        assert_eq!(
            nogrow(&["check", &path]).status.code(),
            Some(EXIT_VERDICT),
            "{name}"
        );
        assert_eq!(
            nogrow(&["check", "--allow", "reserve", &path])
                .status
                .code(),
            Some(EXIT_OK)
        );
        assert_eq!(
            nogrow(&["check", "--allow", "signal", &path]).status.code(),
            Some(EXIT_OK)
        );
    }
}

#[test]
#[ignore = "needs cargo xtask build-guests"]
fn every_guest_seals_to_a_valid_module_and_reseals_byte_identically() {
    let dir = common::guests_dir();
    let mut names: Vec<String> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}: {NEEDS}", dir.display()))
        .filter_map(|e| e.ok()?.file_name().into_string().ok())
        .filter_map(|n| n.strip_suffix(".wasm").map(String::from))
        .collect();
    names.sort();
    for must in [
        "greet-std",
        "greet-fail",
        "greet-signal",
        "heavy-fail",
        "heavy-reserve",
    ] {
        assert!(names.iter().any(|n| n == must), "{must} is built");
    }
    for name in &names {
        let (_, bytes) = guest(name);
        nogrow_cli::check(&bytes).unwrap_or_else(|e| panic!("{name}: {e}"));
        let sealed = nogrow_cli::seal(&bytes, None).unwrap_or_else(|e| panic!("{name}: {e}"));
        wasmparser::Validator::new()
            .validate_all(&sealed.bytes)
            .expect("sealed validates");
        common::assert_same_but_memory(&bytes, &sealed.bytes);
        let r = nogrow_cli::check(&sealed.bytes).unwrap();
        assert!(r.memories[0].is_fixed(), "{name}");
        assert_eq!(
            r.verdict,
            Verdict::CannotGrow,
            "{name}: the engine refuses growth"
        );
        let again = nogrow_cli::seal(&sealed.bytes, None).unwrap();
        assert!(!again.changed, "{name}");
        assert_eq!(
            again.bytes, sealed.bytes,
            "{name}: sealing twice changes nothing"
        );
    }
}

/// Seals `name` with the binary and runs it in Node.
fn run_sealed(name: &str, kind: &str) -> serde_json::Value {
    let (path, _) = guest(name);
    let out = scratch(&format!("{name}.sealed.wasm"));
    let out = out.to_str().unwrap();
    let o = nogrow(&["seal", &path, "-o", out]);
    assert_eq!(
        o.status.code(),
        Some(EXIT_OK),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/../js/test/cli/sealed.mjs");
    let o = Command::new("node")
        .args([script, out, kind])
        .output()
        .expect("node is installed");
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert!(o.status.success(), "{name}: node failed: {stderr}");
    serde_json::from_slice(&o.stdout).unwrap_or_else(|e| panic!("{name}: {e}: {stderr}"))
}

#[test]
#[ignore = "needs cargo xtask build-guests"]
fn sealed_guests_run_in_node_and_js_memory_grow_throws_range_error() {
    for name in ["greet-fail", "greet-reserve-link"] {
        let v = run_sealed(name, "greet");
        assert_eq!(
            v["first"]["ok"], "Ahoy there, Testy McTestface!",
            "{name}: {v}"
        );
        assert_eq!(v["grow"], "RangeError", "{name}: {v}");
        assert_eq!(
            v["second"]["ok"], "Ahoy there, Testy McTestface!",
            "{name}: {v}"
        );
        assert_eq!(v["pagesBefore"], v["pagesAfter"], "{name}: {v}");
        assert_eq!(v["growZero"], v["pagesAfter"], "{name}: {v}");
    }
    let v = run_sealed("heavy-fail", "heavy");
    assert!(v["first"]["ok"].as_u64().is_some_and(|n| n > 0), "{v}");
    assert_eq!(v["grow"], "RangeError", "{v}");
    assert_eq!(v["second"]["ok"], v["first"]["ok"], "{v}");
}

#[test]
#[ignore = "needs cargo xtask build-guests"]
fn sealed_std_control_traps_instead_of_growing() {
    // The engine now enforces what check reported: dlmalloc's memory.grow
    // returns -1, and the greeting's allocation fails (a trap), memory unchanged.
    let v = run_sealed("greet-std", "greet");
    assert_eq!(v["first"]["error"], "RuntimeError", "{v}");
    assert_eq!(v["grow"], "RangeError", "{v}");
    assert_eq!(v["pagesBefore"], v["pagesAfter"], "{v}");
}
