//! `nogrow check` on guests/bindgen-handles, a wasm-bindgen guest under Fail
//! that keeps `JsValue`s alive across calls (built by `cargo xtask
//! build-guests`; run with `cargo test -p nogrow-cli -- --include-ignored`).
//! Memory cannot grow; the externref table can: wasm-bindgen's
//! `__externref_table_alloc` executes `table.grow` when its free list is
//! empty, reachable from every export that takes or returns a `JsValue`.

mod common;

use common::{guest, nogrow};
use nogrow_cli::cli::{EXIT_OK, EXIT_VERDICT};
use serde_json::Value;

fn json(path: &str) -> Value {
    let o = nogrow(&["check", "--json", path]);
    assert_eq!(o.status.code(), Some(EXIT_OK), "{o:?}");
    serde_json::from_slice(&o.stdout).expect("stdout is JSON")
}

#[test]
#[ignore = "needs cargo xtask build-guests"]
fn bindgen_handles_cannot_grow_memory_but_its_externref_table_can_grow() {
    let (path, _) = guest("bindgen-handles/bindgen-handles_bg");
    let v = json(&path);
    assert_eq!(v["verdict"], "cannot-grow", "{v:#}");
    assert_eq!(v["memory_grow"], Value::Array(vec![]));

    let t = &v["tables"];
    let externref: Vec<&Value> = t["tables"]
        .as_array()
        .expect("tables[]")
        .iter()
        .filter(|t| t["element_type"] == "externref")
        .collect();
    assert_eq!(externref.len(), 1, "{t:#}");
    let table = externref[0];
    assert_eq!(table["exported_as"][0], "__wbindgen_externrefs");
    assert_eq!(table["imported"], Value::Null, "defined in the module");
    // 1024 stack slots + undefined, null, true, false; no maximum.
    assert_eq!(table["initial"], 1028);
    assert_eq!(table["maximum"], Value::Null);
    assert_eq!(table["fixed"], false);
    assert_eq!(table["host_can_grow"], true);

    let sites = t["grow_sites"].as_array().expect("grow_sites[]");
    assert_eq!(sites.len(), 1, "{sites:#?}");
    let site = &sites[0];
    assert_eq!(site["function_name"], "__externref_table_alloc");
    assert_eq!(site["table"], table["index"]);
    assert_eq!(site["reachable"], true);
    assert_eq!(site["table_fixed"], false);
    let path_names = site["path"].as_array().expect("path");
    assert_eq!(
        path_names.last().expect("a call chain"),
        "__externref_table_alloc"
    );
    assert_eq!(t["verdict"], "tables-can-grow");

    let o = nogrow(&["check", &path]);
    assert_eq!(o.status.code(), Some(EXIT_OK));
    let text = String::from_utf8_lossy(&o.stdout);
    assert!(
        text.contains("verdict: cannot-grow (meets --require cannot-grow)\n"),
        "{text}"
    );
    assert!(text.ends_with("table verdict: tables-can-grow\n"), "{text}");
    let o = nogrow(&["check", "--require-fixed-tables", &path]);
    assert_eq!(o.status.code(), Some(EXIT_VERDICT));
}

#[test]
#[ignore = "needs cargo xtask build-guests"]
fn before_wasm_bindgen_the_table_grow_is_still_an_import() {
    // rustc's output calls the `__wbindgen_externref_table_grow` intrinsic
    // (an import); the wasm-bindgen CLI replaces it with `table.grow` on the
    // externref table it adds. Before that, only the funcref table exists.
    let (path, _) = guest("bindgen-handles");
    let v = json(&path);
    assert_eq!(v["verdict"], "cannot-grow");
    let t = &v["tables"];
    assert!(
        t["tables"]
            .as_array()
            .expect("tables[]")
            .iter()
            .all(|t| t["element_type"] == "funcref" && t["fixed"] == true),
        "{t:#}"
    );
    assert_eq!(t["grow_sites"], Value::Array(vec![]));
    assert_eq!(t["verdict"], "tables-fixed");
}
