//! The tables dimension of `nogrow check`: every table, every `table.grow`
//! with its reachability, and the table verdict, independent of the memory
//! verdict. Small hand-written modules, through the library and the binary.

mod common;

use common::{nogrow, wasm, write};
use nogrow_cli::TableVerdict;
use nogrow_cli::check::{Level, Verdict, check};
use nogrow_cli::cli::{EXIT_OK, EXIT_VERDICT};

fn stdout(o: &std::process::Output) -> String {
    String::from_utf8(o.stdout.clone()).unwrap()
}

/// Fixed memory; an externref table without maximum; `table.grow` in a
/// mangled Rust function, called by the export `add` when `exported`.
fn externref_slab(exported: bool) -> Vec<u8> {
    let caller = if exported {
        r#"(func (export "add") (result i32) call $_ZN12wasm_bindgen9externref10slab_alloc17h0123456789abcdefE)"#
    } else {
        r#"(func (export "add") (result i32) i32.const 0)"#
    };
    wasm(&format!(
        r#"(module
          (memory (export "memory") 1 1)
          (table $refs 4 externref)
          (func $_ZN12wasm_bindgen9externref10slab_alloc17h0123456789abcdefE (result i32)
            (table.grow $refs (ref.null extern) (i32.const 1)))
          {caller})"#
    ))
}

#[test]
fn a_module_without_tables_has_fixed_tables() {
    let bytes = wasm(r#"(module (memory (export "memory") 1 1) (func (export "f")))"#);
    let r = check(&bytes).unwrap();
    assert!(r.tables.tables.is_empty());
    assert!(r.tables.grows.is_empty());
    assert_eq!(r.tables.verdict, TableVerdict::TablesFixed);
    let text = r.text("m.wasm", Level::CannotGrow, false);
    assert!(text.contains("\ntables\n  table: none\n"), "{text}");
    assert!(text.contains("  table.grow: none\n"), "{text}");
    assert!(text.ends_with("table verdict: tables-fixed\n"), "{text}");
}

#[test]
fn funcref_table_with_maximum_equal_to_initial_and_no_table_grow_is_fixed() {
    let r = check(&wasm(
        r#"(module
          (table $t (export "t") 2 2 funcref)
          (elem (i32.const 0) $f $f)
          (func $f (export "f")))"#,
    ))
    .unwrap();
    let t = &r.tables.tables[0];
    assert_eq!(t.index, 0);
    assert_eq!(t.element_type, "funcref");
    assert_eq!((t.initial, t.maximum), (2, Some(2)));
    assert!(t.is_fixed());
    assert_eq!(t.exports, ["t"]);
    assert!(
        !t.host_can_grow(),
        "an exported fixed table: the host cannot grow it"
    );
    assert_eq!(r.tables.verdict, TableVerdict::TablesFixed);
    assert!(r.tables.notes.is_empty(), "{:?}", r.tables.notes);
    let text = r.text("m.wasm", Level::CannotGrow, false);
    assert!(
        text.contains("  table 0: funcref, initial 2, maximum 2, defined, exported as t\n"),
        "{text}"
    );
}

#[test]
fn reachable_table_grow_on_externref_table_can_grow_while_memory_cannot() {
    let r = check(&externref_slab(true)).unwrap();
    assert_eq!(r.verdict, Verdict::CannotGrow, "memory: {:?}", r.reasons);
    assert_eq!(r.tables.verdict, TableVerdict::TablesCanGrow);
    let t = &r.tables.tables[0];
    assert_eq!(t.element_type, "externref");
    assert_eq!((t.initial, t.maximum), (4, None));
    assert!(!t.host_can_grow(), "neither imported nor exported");
    let g = &r.tables.grows[0];
    assert_eq!((g.site.func, g.site.table), (0, 0));
    assert_eq!(
        g.name.as_deref(),
        Some("wasm_bindgen::externref::slab_alloc")
    );
    assert!(g.reachable && !g.via_indirect && !g.table_fixed);
    assert_eq!(g.path, ["add", "wasm_bindgen::externref::slab_alloc"]);

    let text = r.text("m.wasm", Level::CannotGrow, false);
    assert!(
        text.contains("verdict: cannot-grow (meets --require cannot-grow)\n"),
        "{text}"
    );
    assert!(
        text.contains(&format!(
            "  table.grow at byte {} in func[0] wasm_bindgen::externref::slab_alloc (table 0): \
             reachable: add -> wasm_bindgen::externref::slab_alloc\n",
            g.site.offset
        )),
        "{text}"
    );
    assert!(
        text.contains("memory cannot grow, but a table can"),
        "says so plainly: {text}"
    );
    assert!(text.ends_with("table verdict: tables-can-grow\n"), "{text}");
    // The memory section comes first, then the tables section.
    assert!(text.find("\nverdict: ").unwrap() < text.find("\ntables\n").unwrap());
}

#[test]
fn unreachable_table_grow_is_reported_as_unreachable_and_tables_are_fixed() {
    let r = check(&externref_slab(false)).unwrap();
    assert_eq!(r.tables.grows.len(), 1);
    assert!(!r.tables.grows[0].reachable);
    assert!(r.tables.grows[0].path.is_empty());
    assert_eq!(r.tables.verdict, TableVerdict::TablesFixed);
    let text = r.text("m.wasm", Level::CannotGrow, false);
    assert!(
        text.contains("wasm_bindgen::externref::slab_alloc (table 0): unreachable\n"),
        "{text}"
    );
    assert!(!text.contains("memory cannot grow, but"), "{text}");
    assert!(text.ends_with("table verdict: tables-fixed\n"), "{text}");
}

#[test]
fn reachable_table_grow_on_a_fixed_table_is_refused_by_the_engine() {
    let r = check(&wasm(
        r#"(module
          (table $t 3 3 externref)
          (func (export "g") (result i32) (table.grow $t (ref.null extern) (i32.const 1))))"#,
    ))
    .unwrap();
    assert!(r.tables.grows[0].reachable && r.tables.grows[0].table_fixed);
    assert_eq!(r.tables.verdict, TableVerdict::TablesFixed);
    assert!(
        r.tables
            .reasons
            .iter()
            .any(|x| x.contains("the engine refuses it")),
        "{:?}",
        r.tables.reasons
    );
}

#[test]
fn table_grow_behind_an_exported_table_is_reachable_by_an_indirect_call() {
    // The host can call $g through the exported funcref table.
    let r = check(&wasm(
        r#"(module
          (table $ft (export "ft") 1 1 funcref)
          (table $refs 1 10 externref)
          (elem (i32.const 0) $g)
          (func $g (result i32) (table.grow $refs (ref.null extern) (i32.const 1))))"#,
    ))
    .unwrap();
    let g = &r.tables.grows[0];
    assert_eq!(g.site.table, 1);
    assert!(g.reachable && g.via_indirect);
    assert_eq!(r.tables.verdict, TableVerdict::TablesCanGrow);
}

#[test]
fn tables_the_host_holds_are_notes_not_the_verdict() {
    let r = check(&wasm(
        r#"(module
          (import "js" "refs" (table 2 externref))
          (table (export "more") 1 8 funcref)
          (func (export "f")))"#,
    ))
    .unwrap();
    let t = &r.tables.tables;
    assert_eq!(t[0].import, Some(("js".into(), "refs".into())));
    assert!(t[0].host_can_grow() && t[1].host_can_grow());
    assert_eq!(r.tables.verdict, TableVerdict::TablesFixed);
    assert_eq!(r.tables.notes.len(), 2, "{:?}", r.tables.notes);
    assert!(r.tables.notes[0].contains("table 0 is imported"));
    assert!(r.tables.notes[1].contains("table 1 is exported"));
}

#[test]
fn json_has_a_tables_object_and_keeps_the_memory_keys() {
    let f = write("externref-slab.wasm", &externref_slab(true));
    let o = nogrow(&["check", "--json", &f]);
    assert_eq!(o.status.code(), Some(EXIT_OK));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).expect("stdout is JSON");
    for key in [
        "file",
        "verdict",
        "level",
        "meets",
        "memories",
        "memory_grow",
        "nogrow_abi",
        "function_names",
        "reasons",
        "notes",
        "tables",
    ] {
        assert!(v.get(key).is_some(), "{key}: {v:#}");
    }
    assert_eq!(v["verdict"], "cannot-grow");
    assert_eq!(v["meets"], true);
    let t = &v["tables"];
    assert_eq!(t["verdict"], "tables-can-grow");
    assert_eq!(t["required"], false);
    assert_eq!(t["meets"], true);
    let table = &t["tables"][0];
    assert_eq!(table["index"], 0);
    assert_eq!(table["element_type"], "externref");
    assert_eq!(table["initial"], 4);
    assert_eq!(table["maximum"], serde_json::Value::Null);
    assert_eq!(table["imported"], serde_json::Value::Null);
    assert_eq!(table["fixed"], false);
    let g = &t["grow_sites"][0];
    assert_eq!(g["function_index"], 0);
    assert_eq!(g["function_name"], "wasm_bindgen::externref::slab_alloc");
    assert_eq!(g["table"], 0);
    assert_eq!(g["reachable"], true);
    assert_eq!(g["path"][0], "add");
    assert!(g["offset"].as_u64().is_some());

    let o = nogrow(&["check", "--json", "--require-fixed-tables", &f]);
    assert_eq!(o.status.code(), Some(EXIT_VERDICT));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).expect("stdout is JSON");
    assert_eq!(v["tables"]["required"], true);
    assert_eq!(v["tables"]["meets"], false);
    assert_eq!(v["meets"], true, "the memory verdict still meets its level");
}

#[test]
fn require_fixed_tables_exits_1_only_when_a_table_can_grow() {
    let grows = write("tables-grow.wasm", &externref_slab(true));
    let fixed = write("tables-fixed.wasm", &externref_slab(false));
    // By default the memory verdict alone decides.
    assert_eq!(nogrow(&["check", &grows]).status.code(), Some(EXIT_OK));
    let o = nogrow(&["check", "--require-fixed-tables", &grows]);
    assert_eq!(o.status.code(), Some(EXIT_VERDICT));
    assert!(
        stdout(&o).ends_with("table verdict: tables-can-grow (FAILS --require-fixed-tables)\n"),
        "{}",
        stdout(&o)
    );
    let err = String::from_utf8(o.stderr).unwrap();
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(
        err.contains("table verdict tables-can-grow does not meet --require-fixed-tables"),
        "{err}"
    );
    let o = nogrow(&["check", "--require-fixed-tables", &fixed]);
    assert_eq!(o.status.code(), Some(EXIT_OK), "{}", stdout(&o));
    assert!(stdout(&o).ends_with("table verdict: tables-fixed (meets --require-fixed-tables)\n"));

    // Fixed tables do not excuse growing memory.
    let mem = write(
        "memory-grows-tables-fixed.wasm",
        &wasm(r#"(module (memory 1) (func (export "g") (result i32) i32.const 1 memory.grow))"#),
    );
    assert_eq!(
        nogrow(&["check", "--require-fixed-tables", &mem])
            .status
            .code(),
        Some(EXIT_VERDICT)
    );
    let o = nogrow(&["--help"]);
    assert!(stdout(&o).contains("--require-fixed-tables"));
    assert!(stdout(&o).contains("tables-can-grow"));
}
