//! `nogrow check` over small hand-written modules: each proves one rule of
//! the reachability analysis or the verdict.

mod common;

use common::wasm;
use nogrow_cli::check::{Level, Owner, Verdict, check};

/// A nogrow-named growth function plus the ABI exports; `reserve_body` is
/// the body of `nogrow_reserve`.
fn nogrow_like(reserve_body: &str, extra: &str) -> Vec<u8> {
    wasm(&format!(
        r#"(module
          (memory (export "memory") 2)
          {extra}
          (func $_ZN6nogrow4wasm4grow17h0123456789abcdefE (param i32) (result i32)
            local.get 0 memory.grow)
          (func $alloc (export "alloc") (result i32) i32.const 1 call $_ZN6nogrow4wasm4grow17h0123456789abcdefE)
          (func (export "nogrow_state") (result i32) i32.const 1024)
          (func (export "nogrow_generation") (result i32) i32.const 0)
          (func (export "nogrow_reserve") (param i32) (result i32) {reserve_body}))"#
    ))
}

#[test]
fn reachable_grow_outside_nogrow_can_grow_implicitly_and_is_named() {
    let r = check(&wasm(
        r#"(module
          (memory (export "memory") 1)
          (func $my_alloc (param i32) (result i32) local.get 0 memory.grow)
          (func (export "run") (result i32) i32.const 1 call $my_alloc))"#,
    ))
    .unwrap();
    assert_eq!(r.verdict, Verdict::CanGrowImplicitly);
    assert_eq!(r.grows.len(), 1);
    let g = &r.grows[0];
    assert_eq!(g.site.func, 0);
    assert_eq!(g.name.as_deref(), Some("my_alloc"));
    assert_eq!(g.owner, Owner::Other);
    assert!(g.reachable);
    assert_eq!(g.path, ["run", "my_alloc"]);
    assert!(!r.verdict.meets(Level::CannotGrow));
    assert!(!r.verdict.meets(Level::Signal));
}

#[test]
fn grow_in_a_function_nothing_calls_cannot_grow() {
    let r = check(&wasm(
        r#"(module
          (memory (export "memory") 1)
          (func $dead (result i32) i32.const 1 memory.grow)
          (func (export "run") (result i32) i32.const 7))"#,
    ))
    .unwrap();
    assert_eq!(r.verdict, Verdict::CannotGrow);
    assert!(!r.grows[0].reachable);
    assert!(r.verdict.meets(Level::CannotGrow));
}

#[test]
fn grow_behind_call_indirect_is_reachable_through_the_table() {
    let r = check(&wasm(
        r#"(module
          (memory 1)
          (type $t (func (result i32)))
          (table 1 funcref)
          (elem (i32.const 0) $g)
          (func $g (result i32) i32.const 1 memory.grow)
          (func (export "run") (result i32) i32.const 0 call_indirect (type $t)))"#,
    ))
    .unwrap();
    assert_eq!(r.verdict, Verdict::CanGrowImplicitly);
    assert!(r.grows[0].reachable);
    assert!(r.grows[0].via_indirect);
}

#[test]
fn table_entry_without_indirect_call_or_exported_table_is_unreachable() {
    let base = r#"(memory 1)
          (table $tab 1 funcref)
          (elem (i32.const 0) $g)
          (func $g (result i32) i32.const 1 memory.grow)
          (func (export "run") (result i32) i32.const 0)"#;
    let r = check(&wasm(&format!("(module {base})"))).unwrap();
    assert_eq!(r.verdict, Verdict::CannotGrow);
    // Exporting the table lets the host call $g.
    let r = check(&wasm(&format!(
        r#"(module {base} (export "t" (table $tab)))"#
    )))
    .unwrap();
    assert_eq!(r.verdict, Verdict::CanGrowImplicitly);
}

#[test]
fn exported_table_makes_its_functions_reachable_without_any_exported_function() {
    let r = check(&wasm(
        r#"(module
          (memory 1)
          (table (export "t") 1 funcref)
          (elem (i32.const 0) $g)
          (func $g (result i32) i32.const 1 memory.grow))"#,
    ))
    .unwrap();
    assert!(r.grows[0].reachable && r.grows[0].via_indirect);
    assert_eq!(r.verdict, Verdict::CanGrowImplicitly);
}

#[test]
fn ref_func_target_is_an_indirect_call_target() {
    let r = check(&wasm(
        r#"(module
          (memory 1)
          (type $t (func (result i32)))
          (table 1 funcref)
          (elem declare func $g)
          (func $g (result i32) i32.const 1 memory.grow)
          (func (export "run") (result i32)
            (table.set 0 (i32.const 0) (ref.func $g))
            (call_indirect (type $t) (i32.const 0))))"#,
    ))
    .unwrap();
    assert_eq!(r.verdict, Verdict::CanGrowImplicitly);
}

#[test]
fn start_function_is_an_entry_point() {
    let r = check(&wasm(
        r#"(module
          (memory 1)
          (func $init (drop (memory.grow (i32.const 1))))
          (start $init))"#,
    ))
    .unwrap();
    assert_eq!(r.verdict, Verdict::CanGrowImplicitly);
    assert_eq!(r.grows[0].path, ["init"]);
}

#[test]
fn maximum_equal_to_initial_cannot_grow_even_with_reachable_grow() {
    let r = check(&wasm(
        r#"(module
          (memory (export "memory") 3 3)
          (func (export "grow") (result i32) i32.const 1 memory.grow))"#,
    ))
    .unwrap();
    assert_eq!(r.verdict, Verdict::CannotGrow);
    assert!(r.grows[0].reachable && r.grows[0].memory_fixed);
    assert!(r.memories[0].is_fixed());
}

#[test]
fn nogrow_growth_with_abi_exports_is_signal() {
    let r = check(&nogrow_like("i32.const -1", "")).unwrap();
    assert_eq!(r.grows[0].owner, Owner::Nogrow);
    assert_eq!(r.grows[0].name.as_deref(), Some("nogrow::wasm::grow"));
    assert_eq!(r.abi.exports.len(), 3);
    assert_eq!(r.abi.inferred, Some("signal"));
    assert_eq!(r.verdict, Verdict::GrowsViaNogrowSignal);
    assert!(!r.verdict.meets(Level::CannotGrow));
    assert!(!r.verdict.meets(Level::Reserve));
    assert!(r.verdict.meets(Level::Signal));
}

#[test]
fn nogrow_growth_reachable_from_nogrow_reserve_is_reserve() {
    let r = check(&nogrow_like(
        "local.get 0 call $_ZN6nogrow4wasm4grow17h0123456789abcdefE",
        "",
    ))
    .unwrap();
    assert_eq!(r.abi.inferred, Some("reserve"));
    assert_eq!(r.verdict, Verdict::GrowsViaNogrowReserve);
    assert!(r.verdict.meets(Level::Reserve));
    assert!(r.verdict.meets(Level::Signal));
    assert!(!r.verdict.meets(Level::CannotGrow));
}

#[test]
fn nogrow_named_growth_without_abi_exports_can_grow_implicitly() {
    let r = check(&wasm(
        r#"(module
          (memory (export "memory") 1)
          (func $_ZN6nogrow4wasm4grow17h0123456789abcdefE (export "g") (result i32)
            i32.const 1 memory.grow))"#,
    ))
    .unwrap();
    assert_eq!(r.grows[0].owner, Owner::Nogrow);
    assert_eq!(r.verdict, Verdict::CanGrowImplicitly);
}

#[test]
fn a_foreign_grow_next_to_nogrow_growth_can_grow_implicitly() {
    let r = check(&nogrow_like(
        "i32.const -1",
        r#"(func (export "sneaky") (result i32) i32.const 1 memory.grow)"#,
    ))
    .unwrap();
    assert_eq!(r.verdict, Verdict::CanGrowImplicitly);
}

#[test]
fn growth_in_unnamed_functions_is_not_attributed_to_nogrow() {
    let bytes = wasm(
        r#"(module
          (memory (export "memory") 1)
          (func (export "grow") (result i32) i32.const 1 memory.grow)
          (func (export "nogrow_state") (result i32) i32.const 1024)
          (func (export "nogrow_generation") (result i32) i32.const 0))"#,
    );
    let r = check(&bytes).unwrap();
    assert!(!r.has_names);
    assert_eq!(r.grows[0].owner, Owner::Unnamed);
    assert_eq!(r.verdict, Verdict::CanGrowImplicitly);
}

#[test]
fn nogrow_section_reports_the_policy_and_disagreement_is_noted() {
    let signal = r#"(@custom "nogrow" "\01\00\00\00\03\00\00\00")"#;
    let r = check(&nogrow_like("i32.const -1", signal)).unwrap();
    assert_eq!(r.abi.section, Some((1, 3)));
    assert_eq!(r.abi.policy(), Some("signal"));
    assert!(
        r.notes.iter().all(|n| !n.contains("section says")),
        "{:?}",
        r.notes
    );

    let reserve = r#"(@custom "nogrow" "\01\00\00\00\02\00\00\00")"#;
    let r = check(&nogrow_like("i32.const -1", reserve)).unwrap();
    assert_eq!(r.abi.section_policy(), Some("reserve"));
    assert!(
        r.notes
            .iter()
            .any(|n| n.contains("section says policy reserve")),
        "{:?}",
        r.notes
    );
    // The code decides: growth not reachable from nogrow_reserve is Signal.
    assert_eq!(r.verdict, Verdict::GrowsViaNogrowSignal);

    let r = check(&nogrow_like(
        "i32.const -1",
        r#"(@custom "nogrow" "\01\00")"#,
    ))
    .unwrap();
    assert_eq!(r.abi.section, None);
    assert!(
        r.notes
            .iter()
            .any(|n| n.contains("`nogrow` custom section ignored"))
    );
}

#[test]
fn memory_facts_are_reported_for_every_memory() {
    let r = check(&wasm(
        r#"(module
          (import "env" "mem" (memory 2 10))
          (memory i64 1)
          (memory 4 8 shared)
          (func (export "g") (result i64) i64.const 1 memory.grow 1))"#,
    ))
    .unwrap();
    let m = &r.memories;
    assert_eq!(m.len(), 3);
    assert_eq!(m[0].import, Some(("env".into(), "mem".into())));
    assert_eq!((m[0].initial, m[0].maximum), (2, Some(10)));
    assert!(m[1].memory64 && m[1].import.is_none() && m[1].maximum.is_none());
    assert!(m[2].shared && !m[2].memory64 && m[2].maximum == Some(8));
    assert_eq!(r.grows[0].site.mem, 1);
    assert_eq!(r.verdict, Verdict::CanGrowImplicitly);
    assert!(r.notes.iter().any(|n| n.contains("memory 0 is imported")));
}

#[test]
fn a_module_without_memory_cannot_grow() {
    let r = check(&wasm(r#"(module (func (export "f")))"#)).unwrap();
    assert!(r.memories.is_empty());
    assert_eq!(r.verdict, Verdict::CannotGrow);
}

#[test]
fn names_are_demangled_without_their_hash() {
    use nogrow_cli::module::demangle;
    assert_eq!(
        demangle("_ZN6nogrow4wasm4grow17h0123456789abcdefE"),
        "nogrow::wasm::grow"
    );
    // wasm-bindgen writes demangled names that keep the hash.
    assert_eq!(
        demangle("talc::Talc<S,B>::allocate::h4b7bc3327197551a"),
        "talc::Talc<S,B>::allocate"
    );
    assert_eq!(demangle("my_alloc"), "my_alloc");
    assert_eq!(demangle("f::hot"), "f::hot");
}
