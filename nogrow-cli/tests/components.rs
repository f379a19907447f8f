//! `nogrow check` and `nogrow seal` on WebAssembly components, built here
//! with wasm-encoder's component API around core modules written in WAT:
//! one report per core module (nested components' too), the verdict over
//! all of them, sealing each defined memory, and malformed components.

mod common;

use common::{nogrow, scratch, wasm, write};
use nogrow_cli::check::{Level, Verdict};
use nogrow_cli::cli::{EXIT_ERROR, EXIT_OK, EXIT_VERDICT};
use nogrow_cli::component::{self, ComponentReport};
use nogrow_cli::tables::TableVerdict;
use wasm_encoder::{
    Alias, Component, ComponentAliasSection, ComponentImportSection, ComponentNameSection,
    ComponentOuterAliasKind, ComponentTypeRef, CoreTypeSection, CustomSection, InstanceSection,
    ModuleArg, ModuleSection, ModuleType, NameMap, NestedComponentSection, RawSection,
};

/// A core module from WAT, as a wasm-encoder module: each section of the
/// compiled module copied as a raw section.
fn core(wat: &str) -> wasm_encoder::Module {
    let bytes = wasm(wat);
    let mut m = wasm_encoder::Module::new();
    for p in wasmparser::Parser::new(0).parse_all(&bytes) {
        if let Some((id, range)) = p.expect("fixture parses").as_section() {
            m.section(&RawSection {
                id,
                data: &bytes[range],
            });
        }
    }
    m
}

/// Defines and exports its memory; an export reaches `memory.grow`.
const GROWER: &str = r#"(module $grower
  (memory (export "memory") 2)
  (func $my_alloc (export "alloc") (param i32) (result i32) local.get 0 memory.grow))"#;

/// Defines a memory, never grows it.
const QUIET: &str = r#"(module $quiet
  (memory (export "memory") 1)
  (func (export "f") (result i32) i32.const 7))"#;

/// Imports its memory and grows it from an export.
const IMPORTER: &str = r#"(module $importer
  (import "env" "memory" (memory 1))
  (func $take (export "take") (result i32) i32.const 1 memory.grow))"#;

/// Grows only in a nogrow-named function, with the ABI exports: a Signal
/// guest.
const SIGNAL: &str = r#"(module
  (memory (export "memory") 2)
  (func $_ZN6nogrow4wasm4grow17h0123456789abcdefE (param i32) (result i32)
    local.get 0 memory.grow)
  (func (export "alloc") (result i32) i32.const 1 call $_ZN6nogrow4wasm4grow17h0123456789abcdefE)
  (func (export "nogrow_state") (result i32) i32.const 1024)
  (func (export "nogrow_generation") (result i32) i32.const 0)
  (func (export "nogrow_reserve") (param i32) (result i32) i32.const -1))"#;

/// A component-name section naming core modules.
fn names(modules: &[(u32, &str)]) -> ComponentNameSection {
    let mut map = NameMap::new();
    for &(i, n) in modules {
        map.append(i, n);
    }
    let mut s = ComponentNameSection::new();
    s.core_modules(&map);
    s
}

/// The modules in order, each instantiated with no arguments, then names.
fn component_of(modules: &[&str], named: &[(u32, &str)]) -> Vec<u8> {
    let mut c = Component::new();
    for wat in modules {
        c.section(&ModuleSection(&core(wat)));
    }
    let mut inst = InstanceSection::new();
    for i in 0..modules.len() as u32 {
        inst.instantiate(i, Vec::<(&str, ModuleArg)>::new());
    }
    c.section(&inst);
    c.section(&names(named));
    c.finish()
}

/// Module 0 grows (named `grower` by the component), module 1 does not
/// (named `quiet` by its own name section only).
fn two_modules() -> Vec<u8> {
    component_of(&[GROWER, QUIET], &[(0, "grower")])
}

/// Module 0 defines and exports the memory; module 1 imports it as
/// `env.memory` from module 0's instance and grows it.
fn shared_memory() -> Vec<u8> {
    let mut c = Component::new();
    c.section(&ModuleSection(&core(QUIET)));
    c.section(&ModuleSection(&core(IMPORTER)));
    let mut inst = InstanceSection::new();
    inst.instantiate(0, Vec::<(&str, ModuleArg)>::new());
    inst.instantiate(1, [("env", ModuleArg::Instance(0))]);
    c.section(&inst);
    c.finish()
}

/// Module 0 (quiet) at the top; component 0 holds a quiet module; component
/// 1 aliases the outer module 0 (its core module 0), then defines the grower
/// (its core module 1) and a component 0 of its own holding another grower.
fn nested() -> Vec<u8> {
    let mut first = Component::new();
    first.section(&ModuleSection(&core(QUIET)));

    let mut innermost = Component::new();
    innermost.section(&ModuleSection(&core(GROWER)));
    innermost.section(&names(&[(0, "deep")]));

    let mut second = Component::new();
    let mut alias = ComponentAliasSection::new();
    alias.alias(Alias::Outer {
        kind: ComponentOuterAliasKind::CoreModule,
        count: 1,
        index: 0,
    });
    second.section(&alias);
    second.section(&ModuleSection(&core(GROWER)));
    second.section(&NestedComponentSection(&innermost));
    second.section(&names(&[(0, "aliased"), (1, "inner-grower")]));

    let mut c = Component::new();
    c.section(&ModuleSection(&core(QUIET)));
    c.section(&NestedComponentSection(&first));
    c.section(&NestedComponentSection(&second));
    c.finish()
}

fn stdout(o: &std::process::Output) -> String {
    String::from_utf8(o.stdout.clone()).unwrap()
}

fn stderr(o: &std::process::Output) -> String {
    String::from_utf8(o.stderr.clone()).unwrap()
}

fn verdicts(r: &ComponentReport) -> Vec<(String, Verdict)> {
    r.modules
        .iter()
        .map(|m| (m.module.path.to_string(), m.report.verdict))
        .collect()
}

#[test]
fn each_core_module_is_judged_and_the_worst_verdict_wins() {
    let bytes = two_modules();
    assert!(component::is_component(&bytes));
    let r = component::check(&bytes).unwrap();
    assert_eq!(
        verdicts(&r),
        [
            ("module 0".to_string(), Verdict::CanGrowImplicitly),
            ("module 1".to_string(), Verdict::CannotGrow),
        ]
    );
    assert_eq!(r.verdict, Verdict::CanGrowImplicitly);
    assert!(!r.meets(Level::CannotGrow));
    assert_eq!(r.tables, TableVerdict::TablesFixed);
    // Names: the component's for module 0, the module's own for module 1.
    assert_eq!(r.modules[0].name(), Some("grower"));
    assert_eq!(r.modules[1].name(), Some("quiet"));
    assert_eq!(r.modules[1].module.component_name, None);
    // The grow site is an offset in the file: the memory.grow opcode, inside
    // module 0's bytes, named as in a core module report.
    let g = &r.modules[0].report.grows[0];
    assert_eq!(g.name.as_deref(), Some("my_alloc"));
    assert!(g.reachable);
    assert!(r.modules[0].module.range.contains(&g.site.offset));
    assert_eq!(bytes[g.site.offset], 0x40, "memory.grow opcode");
    assert!(
        r.modules
            .iter()
            .all(|m| m.defines_memory() && !m.imports_memory())
    );
}

#[test]
fn a_module_report_is_the_core_module_report() {
    // The same judge: module 0's report equals the report of the module
    // alone, but for offsets, which are the file's.
    let bytes = two_modules();
    let r = component::check(&bytes).unwrap();
    let alone = nogrow_cli::check(&wasm(GROWER)).unwrap();
    let m = &r.modules[0];
    assert_eq!(m.report.verdict, alone.verdict);
    assert_eq!(m.report.reasons, alone.reasons);
    assert_eq!(m.report.notes, alone.notes);
    assert_eq!(m.report.memories, alone.memories);
    assert_eq!(
        m.report.grows[0].site.offset,
        alone.grows[0].site.offset + m.module.range.start
    );
}

#[test]
fn the_binary_reports_a_component_module_by_module() {
    let f = write("component-two.wasm", &two_modules());
    let o = nogrow(&["check", &f]);
    assert_eq!(o.status.code(), Some(EXIT_VERDICT), "{}", stderr(&o));
    let text = stdout(&o);
    assert!(
        text.starts_with(&format!("{f}: component, 2 core modules\n")),
        "{text}"
    );
    assert!(
        text.contains("\n  module 0 \"grower\" (defines memory 0; bytes "),
        "{text}"
    );
    assert!(
        text.contains("\n  module 1 \"quiet\" (defines memory 0; bytes "),
        "{text}"
    );
    assert!(
        text.contains("\n    verdict: can-grow-implicitly (FAILS --require cannot-grow)\n"),
        "{text}"
    );
    assert!(
        text.contains("\n    verdict: cannot-grow (meets --require cannot-grow)\n"),
        "{text}"
    );
    assert!(
        text.contains("\n  module 0 \"grower\": can-grow-implicitly (FAILS), tables-fixed\n"),
        "{text}"
    );
    let last: Vec<&str> = text.lines().rev().take(2).collect();
    assert_eq!(
        last,
        [
            "table verdict: tables-fixed",
            "verdict: can-grow-implicitly (FAILS --require cannot-grow; worst of 2 core modules)",
        ]
    );
    let err = stderr(&o);
    assert_eq!(
        err,
        format!(
            "nogrow: {f}: module 0 \"grower\": verdict can-grow-implicitly does not meet cannot-grow\n"
        )
    );
}

#[test]
fn json_lists_the_modules_with_their_core_reports() {
    let bytes = two_modules();
    let f = write("component-two-json.wasm", &bytes);
    let o = nogrow(&["check", "--json", &f]);
    assert_eq!(o.status.code(), Some(EXIT_VERDICT));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).expect("stdout is JSON");
    assert_eq!(v["kind"], "component");
    assert_eq!(v["verdict"], "can-grow-implicitly");
    assert_eq!(v["meets"], false);
    assert_eq!(v["tables"]["verdict"], "tables-fixed");
    let mods = v["modules"].as_array().unwrap();
    assert_eq!(mods.len(), 2);
    let (m0, m1) = (&mods[0], &mods[1]);
    assert_eq!(m0["path"], "module 0");
    assert_eq!(m0["index"], 0);
    assert_eq!(m0["components"], serde_json::json!([]));
    assert_eq!(m0["name"], "grower");
    assert_eq!(m0["component_name"], "grower");
    assert_eq!(m0["module_name"], "grower");
    assert_eq!(m0["verdict"], "can-grow-implicitly");
    assert_eq!(m0["meets"], false);
    assert_eq!(m0["defines_memory"], true);
    assert_eq!(m0["imports_memory"], false);
    assert_eq!(m0["memories"][0]["initial_pages"], 2);
    assert_eq!(m0["memory_grow"][0]["function_name"], "my_alloc");
    let start = m0["offset"].as_u64().unwrap() as usize;
    let size = m0["size"].as_u64().unwrap() as usize;
    assert_eq!(&bytes[start..start + 4], b"\0asm");
    let grow = m0["memory_grow"][0]["offset"].as_u64().unwrap() as usize;
    assert!((start..start + size).contains(&grow));
    assert_eq!(bytes[grow], 0x40);
    assert_eq!(m1["path"], "module 1");
    assert_eq!(m1["name"], "quiet");
    assert_eq!(m1["component_name"], serde_json::Value::Null);
    assert_eq!(m1["verdict"], "cannot-grow");
    assert_eq!(m1["meets"], true);
    assert_eq!(m1["tables"]["verdict"], "tables-fixed");
}

#[test]
fn require_cannot_grow_holds_only_if_every_module_passes() {
    let quiet = write("component-quiet.wasm", &component_of(&[QUIET, QUIET], &[]));
    let o = nogrow(&["check", &quiet]);
    assert_eq!(o.status.code(), Some(EXIT_OK), "{}", stderr(&o));
    assert!(stdout(&o).contains(
        "\nverdict: cannot-grow (meets --require cannot-grow; worst of 2 core modules)\n"
    ));

    // A Signal guest next to a quiet module: the component is as good as its
    // worst module.
    let signal = component_of(&[QUIET, SIGNAL], &[]);
    let r = component::check(&signal).unwrap();
    assert_eq!(r.verdict, Verdict::GrowsViaNogrowSignal);
    let f = write("component-signal.wasm", &signal);
    assert_eq!(nogrow(&["check", &f]).status.code(), Some(EXIT_VERDICT));
    assert_eq!(
        nogrow(&["check", "--allow", "reserve", &f]).status.code(),
        Some(EXIT_VERDICT)
    );
    let o = nogrow(&["check", "--allow", "signal", &f]);
    assert_eq!(o.status.code(), Some(EXIT_OK), "{}", stderr(&o));
    assert!(stdout(&o).contains("\nverdict: grows-via-nogrow-signal (meets --allow signal;"));

    // One growing module fails the component under every level.
    let f = write(
        "component-one-grower.wasm",
        &component_of(&[QUIET, SIGNAL, GROWER], &[]),
    );
    let o = nogrow(&["check", "--allow", "signal", &f]);
    assert_eq!(o.status.code(), Some(EXIT_VERDICT));
    assert_eq!(
        stderr(&o).lines().collect::<Vec<_>>(),
        [format!(
            "nogrow: {f}: module 2 \"grower\": verdict can-grow-implicitly does not meet signal"
        )]
    );
}

#[test]
fn table_growth_in_any_module_fails_require_fixed_tables() {
    let tables = r#"(module
      (table $t (export "t") 1 externref)
      (func (export "add") (result i32) (table.grow $t (ref.null extern) (i32.const 1))))"#;
    let bytes = component_of(&[QUIET, tables], &[]);
    let r = component::check(&bytes).unwrap();
    assert_eq!(r.verdict, Verdict::CannotGrow);
    assert_eq!(r.tables, TableVerdict::TablesCanGrow);
    let f = write("component-tables.wasm", &bytes);
    assert_eq!(nogrow(&["check", &f]).status.code(), Some(EXIT_OK));
    let o = nogrow(&["check", "--require-fixed-tables", &f]);
    assert_eq!(o.status.code(), Some(EXIT_VERDICT));
    assert!(
        stdout(&o).ends_with("table verdict: tables-can-grow (FAILS --require-fixed-tables)\n"),
        "{}",
        stdout(&o)
    );
    assert!(stderr(&o).contains("module 1: table verdict tables-can-grow"));
}

#[test]
fn modules_of_nested_components_are_judged_with_their_paths() {
    let bytes = nested();
    let r = component::check(&bytes).unwrap();
    assert_eq!(
        verdicts(&r),
        [
            ("module 0".to_string(), Verdict::CannotGrow),
            ("component 0/module 0".to_string(), Verdict::CannotGrow),
            // The aliased module is component 1's module 0: not defined
            // there, so not listed again.
            (
                "component 1/module 1".to_string(),
                Verdict::CanGrowImplicitly
            ),
            (
                "component 1/component 0/module 0".to_string(),
                Verdict::CanGrowImplicitly
            ),
        ]
    );
    assert_eq!(r.modules[2].module.path.components, [1]);
    assert_eq!(r.modules[2].module.path.module, 1);
    assert_eq!(r.modules[2].name(), Some("inner-grower"));
    assert_eq!(r.modules[3].name(), Some("deep"));
    assert_eq!(r.verdict, Verdict::CanGrowImplicitly);
    for m in &r.modules {
        for g in &m.report.grows {
            assert_eq!(bytes[g.site.offset], 0x40, "{}", m.module.path);
        }
    }
    let f = write("component-nested.wasm", &bytes);
    let o = nogrow(&["check", "--json", &f]);
    assert_eq!(o.status.code(), Some(EXIT_VERDICT));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["modules"][3]["path"], "component 1/component 0/module 0");
    assert_eq!(v["modules"][3]["components"], serde_json::json!([1, 0]));
    assert_eq!(v["modules"][3]["verdict"], "can-grow-implicitly");
    assert_eq!(v["modules"][1]["verdict"], "cannot-grow");
    let o = nogrow(&["check", &f]);
    assert!(
        stdout(&o)
            .contains("\n  component 1/component 0/module 0 \"deep\" (defines memory 0; bytes "),
        "{}",
        stdout(&o)
    );
}

#[test]
fn a_module_importing_its_memory_is_judged_for_its_own_grow() {
    let bytes = shared_memory();
    let r = component::check(&bytes).unwrap();
    assert_eq!(
        verdicts(&r),
        [
            ("module 0".to_string(), Verdict::CannotGrow),
            ("module 1".to_string(), Verdict::CanGrowImplicitly),
        ]
    );
    let importer = &r.modules[1];
    assert!(importer.imports_memory() && !importer.defines_memory());
    assert_eq!(
        importer.report.memories[0].import,
        Some(("env".to_string(), "memory".to_string()))
    );
    assert!(r.modules[0].defines_memory());
    assert!(
        r.notes
            .iter()
            .any(|n| n.starts_with("module 1 imports memory 0 (env.memory)")),
        "{:?}",
        r.notes
    );
    let f = write("component-shared-memory.wasm", &bytes);
    let o = nogrow(&["check", &f]);
    assert!(
        stdout(&o).contains("\n  module 1 \"importer\" (imports memory 0 (env.memory); bytes "),
        "{}",
        stdout(&o)
    );
    let o = nogrow(&["check", "--json", &f]);
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["modules"][1]["imports_memory"], true);
    assert_eq!(v["modules"][1]["defines_memory"], false);
    assert_eq!(v["modules"][1]["memories"][0]["imported"]["name"], "memory");
}

#[test]
fn an_imported_module_takes_an_index_and_is_not_judged() {
    let mut c = Component::new();
    let mut types = CoreTypeSection::new();
    types.ty().module(&ModuleType::new());
    c.section(&types);
    let mut imports = ComponentImportSection::new();
    imports.import("dep", ComponentTypeRef::Module(0));
    c.section(&imports);
    c.section(&ModuleSection(&core(GROWER)));
    let r = component::check(&c.finish()).unwrap();
    assert_eq!(
        verdicts(&r),
        [("module 1".to_string(), Verdict::CanGrowImplicitly)]
    );
    assert_eq!(
        r.notes,
        ["the component imports a core module (`dep`): it is not in this file and is not judged"]
    );
}

#[test]
fn a_component_without_modules_cannot_grow() {
    let r = component::check(&Component::new().finish()).unwrap();
    assert!(r.modules.is_empty());
    assert_eq!(r.verdict, Verdict::CannotGrow);
    assert!(r.notes.iter().any(|n| n.contains("no core module")));
    let e = component::seal(&Component::new().finish(), None).unwrap_err();
    assert!(
        e.message
            .contains("no core module of the component defines a memory"),
        "{e}"
    );
}

/// The component's top-level sections: `(id, whole section, contents)`.
fn component_sections(bytes: &[u8]) -> Vec<(u8, Vec<u8>, Vec<u8>)> {
    let mut r = wasmparser::BinaryReader::new(bytes, 0);
    r.read_bytes(8).expect("header");
    let mut out = Vec::new();
    while !r.eof() {
        let start = r.original_position();
        let id = r.read_u8().expect("id");
        let size = r.read_var_u32().expect("size") as usize;
        let contents = r.read_bytes(size).expect("contents").to_vec();
        out.push((id, bytes[start..r.original_position()].to_vec(), contents));
    }
    out
}

#[test]
fn seal_seals_every_defined_memory_and_copies_the_rest() {
    let input = two_modules();
    let s = component::seal(&input, None).unwrap();
    assert!(s.changed);
    let sealed: Vec<(String, Option<u64>, u64)> = s
        .sealed
        .iter()
        .map(|m| (m.path.to_string(), m.sealed.old_maximum, m.sealed.maximum))
        .collect();
    assert_eq!(
        sealed,
        [
            ("module 0".to_string(), None, 2),
            ("module 1".to_string(), None, 1)
        ]
    );
    assert!(
        s.sealed[0]
            .sealed
            .warnings
            .iter()
            .any(|w| w.contains("my_alloc")),
        "{:?}",
        s.sealed[0].sealed.warnings
    );
    let r = component::check(&s.bytes).unwrap();
    assert!(r.modules.iter().all(|m| m.report.memories[0].is_fixed()));
    // The reachable memory.grow now meets a fixed memory: cannot grow.
    assert_eq!(r.verdict, Verdict::CannotGrow);
    // Each module section holds the module as `nogrow seal` seals it alone;
    // every other section is byte-identical.
    let (a, b) = (component_sections(&input), component_sections(&s.bytes));
    assert_eq!(a.len(), b.len());
    assert_eq!(input[..8], s.bytes[..8]);
    let mut modules = 0;
    for ((ia, xa, ca), (ib, xb, cb)) in a.iter().zip(&b) {
        assert_eq!(ia, ib);
        if *ia == 1 {
            let alone = nogrow_cli::seal(ca, None).unwrap();
            assert_eq!(cb, &alone.bytes, "module section = the module sealed alone");
            common::assert_same_but_memory(ca, cb);
            modules += 1;
        } else {
            assert_eq!(xa, xb, "section {ia} is byte-identical");
        }
    }
    assert_eq!(modules, 2);
    // Sealing again changes nothing.
    let again = component::seal(&s.bytes, None).unwrap();
    assert!(!again.changed);
    assert_eq!(again.bytes, s.bytes);
}

#[test]
fn seal_reaches_modules_of_nested_components() {
    let input = nested();
    let s = component::seal(&input, None).unwrap();
    let paths: Vec<String> = s.sealed.iter().map(|m| m.path.to_string()).collect();
    assert_eq!(
        paths,
        [
            "module 0",
            "component 0/module 0",
            "component 1/module 1",
            "component 1/component 0/module 0"
        ]
    );
    let r = component::check(&s.bytes).unwrap();
    assert_eq!(r.modules.len(), 4);
    for m in &r.modules {
        assert!(m.report.memories[0].is_fixed(), "{}", m.module.path);
        assert_eq!(m.report.verdict, Verdict::CannotGrow, "{}", m.module.path);
    }
    let again = component::seal(&s.bytes, None).unwrap();
    assert!(!again.changed);
    assert_eq!(again.bytes, s.bytes);
}

#[test]
fn seal_leaves_an_imported_memory_to_the_module_that_defines_it() {
    let s = component::seal(&shared_memory(), None).unwrap();
    assert_eq!(s.sealed.len(), 1);
    assert_eq!(s.sealed[0].path.to_string(), "module 0");
    assert_eq!(s.sealed[0].sealed.maximum, 1);
    assert_eq!(
        s.skipped,
        ["module 1: imports its memory (env.memory): the module that defines it is sealed"]
    );
    let r = component::check(&s.bytes).unwrap();
    assert!(r.modules[0].report.memories[0].is_fixed());
    // The importer is judged on its own declarations, which sealing leaves
    // as they are.
    assert_eq!(r.modules[1].report.verdict, Verdict::CanGrowImplicitly);
    assert!(!r.modules[1].report.memories[0].is_fixed());
}

#[test]
fn seal_keeps_a_padded_section_size_and_lowers_max_pages() {
    // A custom section whose size takes 5 bytes: copied as it is.
    let mut c = Component::new();
    c.section(&ModuleSection(&core(
        r#"(module (memory 3 9) (func (export "g") (result i32) i32.const 1 memory.grow))"#,
    )));
    let plain = c.finish();
    let mut input = plain.clone();
    let custom = CustomSection {
        name: "keep".into(),
        data: b"\x01\x02"[..].into(),
    };
    let mut contents = Vec::new();
    wasm_encoder::Encode::encode(&custom.name.as_ref(), &mut contents);
    contents.extend_from_slice(&custom.data);
    input.push(0);
    input.extend_from_slice(&[0x80 | contents.len() as u8, 0x80, 0x80, 0x80, 0x00]);
    input.extend_from_slice(&contents);
    let tail = input[plain.len()..].to_vec();

    let s = component::seal(&input, Some(5)).unwrap();
    assert!(
        s.bytes.ends_with(&tail),
        "the padded section is byte-identical"
    );
    let r = component::check(&s.bytes).unwrap();
    assert_eq!(r.modules[0].report.memories[0].maximum, Some(5));
    let e = component::seal(&input, Some(2)).unwrap_err();
    assert!(
        e.message
            .contains("in module 0: --max-pages 2 is below the memory's initial size"),
        "{e}"
    );
    let e = component::seal(&input, Some(10)).unwrap_err();
    assert!(
        e.message.contains("above the declared maximum (9 pages)"),
        "{e}"
    );
}

#[test]
fn seal_refuses_a_multi_memory_module_and_a_component_without_memory() {
    let multi = component_of(&[QUIET, r#"(module (memory 1) (memory 2))"#], &[]);
    let e = component::seal(&multi, None).unwrap_err();
    assert!(
        e.message.contains("in module 1: multi-memory module"),
        "{e}"
    );
    let f = write("component-multi.wasm", &multi);
    let out = scratch("component-multi-out.wasm");
    let _ = std::fs::remove_file(&out);
    let o = nogrow(&["seal", &f, "-o", out.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(EXIT_ERROR));
    assert_eq!(stderr(&o).lines().count(), 1, "{}", stderr(&o));
    assert!(!out.exists(), "nothing written");

    let none = component_of(&[r#"(module (func (export "f")))"#], &[]);
    let e = component::seal(&none, None).unwrap_err();
    assert!(
        e.message
            .contains("no core module of the component defines a memory"),
        "{e}"
    );
}

#[test]
fn the_binary_seals_a_component_and_check_then_passes() {
    let inp = write("component-to-seal.wasm", &shared_memory());
    let out = scratch("component-sealed.wasm")
        .to_string_lossy()
        .into_owned();
    let o = nogrow(&["seal", &inp, "-o", &out]);
    let err = stderr(&o);
    assert_eq!(o.status.code(), Some(EXIT_OK), "{err}");
    assert!(
        err.contains(&format!(
            "nogrow: {inp} -> {out}: module 0 \"quiet\": memory maximum none -> 1 pages (initial 1)"
        )),
        "{err}"
    );
    assert!(
        err.contains(&format!(
            "nogrow: {inp}: not sealed: module 1: imports its memory (env.memory)"
        )),
        "{err}"
    );
    let sealed = std::fs::read(&out).unwrap();
    let r = component::check(&sealed).unwrap();
    assert!(r.modules[0].report.memories[0].is_fixed());

    let two = write("component-two-to-seal.wasm", &two_modules());
    let out2 = scratch("component-two-sealed.wasm")
        .to_string_lossy()
        .into_owned();
    let o = nogrow(&["seal", &two, "-o", &out2]);
    assert_eq!(o.status.code(), Some(EXIT_OK), "{}", stderr(&o));
    assert!(stderr(&o).contains("warning: module 0 \"grower\": memory.grow in func[0] my_alloc"));
    assert_eq!(nogrow(&["check", &out2]).status.code(), Some(EXIT_OK));
    let again = scratch("component-two-sealed-again.wasm")
        .to_string_lossy()
        .into_owned();
    let o = nogrow(&["seal", &out2, "-o", &again]);
    assert!(stderr(&o).contains("bytes unchanged"), "{}", stderr(&o));
    assert_eq!(
        std::fs::read(&again).unwrap(),
        std::fs::read(&out2).unwrap()
    );
}

#[test]
fn a_truncated_component_is_an_error_at_every_length() {
    let bytes = nested();
    // Cut at the end of a top-level section, it is a smaller component.
    let mut ends = vec![8];
    for (_, whole, _) in component_sections(&bytes) {
        ends.push(ends.last().unwrap() + whole.len());
    }
    for len in 0..bytes.len() {
        let cut = &bytes[..len];
        if ends.contains(&len) {
            let r = component::check(cut).unwrap();
            assert!(r.modules.len() < 4);
            continue;
        }
        let e = component::check(cut).expect_err(&format!("{len} bytes"));
        let off = e.offset.unwrap_or_else(|| panic!("{len}: {e}: no offset"));
        assert!(off <= len, "{len}: {e}");
        assert!(component::seal(cut, None).is_err());
    }
    // Cut inside the nested components' grower: the outermost section that
    // does not fit is named, with where the file ends.
    let r = component::check(&bytes).unwrap();
    let cut = r.modules[3].module.range.start + 12;
    let e = component::check(&bytes[..cut]).unwrap_err();
    assert_eq!(e.offset, Some(cut));
    assert!(
        e.message.starts_with("truncated: component 1 is bytes ")
            && e.message.ends_with(&format!("the file ends at byte {cut}")),
        "{e}"
    );
    // Inside the module, at a boundary of its sections: the module's own
    // section does not fit either.
    let mut inner = Component::new();
    inner.section(&ModuleSection(&core(GROWER)));
    let mut c = Component::new();
    c.section(&NestedComponentSection(&inner));
    let one = c.finish();
    let r = component::check(&one).unwrap();
    let m = &r.modules[0].module.range;
    let e = component::check(&one[..m.end - 1]).unwrap_err();
    assert!(
        e.message.starts_with("truncated: component 0 is bytes "),
        "{e}"
    );
    let f = write("component-truncated-here.wasm", &bytes[..cut]);
    for args in [vec!["check", &f], vec!["check", "--json", &f]] {
        let o = nogrow(&args);
        assert_eq!(o.status.code(), Some(EXIT_ERROR));
        let err = stderr(&o);
        assert_eq!(err.lines().count(), 1, "{err}");
        assert!(
            err.starts_with(&format!("nogrow: error: {f}: at byte ")),
            "{err}"
        );
        assert!(err.contains(": truncated: component 1 is bytes "), "{err}");
        assert!(o.stdout.is_empty());
    }
}

#[test]
fn an_invalid_nested_module_is_an_error_in_that_module() {
    // A body that leaves nothing where it must return an i32 (`wat` does
    // not validate).
    let bad =
        r#"(module (memory 1) (func (export "f") (result i32) i32.const 1 memory.grow drop))"#;
    let mut inner = Component::new();
    inner.section(&ModuleSection(&core(QUIET)));
    let mut c = Component::new();
    c.section(&ModuleSection(&core(QUIET)));
    c.section(&NestedComponentSection(&inner));
    let good_len = c.as_slice().len();
    let mut bad_inner = Component::new();
    bad_inner.section(&ModuleSection(&core(bad)));
    c.section(&NestedComponentSection(&bad_inner));
    let bytes = c.finish();
    let e = component::check(&bytes).unwrap_err();
    assert!(
        e.message
            .starts_with("in component 1/module 0: type mismatch"),
        "{e}"
    );
    let off = e.offset.unwrap();
    assert!(off > good_len && off < bytes.len(), "{e}");
    let e = component::seal(&bytes, None).unwrap_err();
    assert!(e.message.starts_with("in component 1/module 0: "), "{e}");
}

#[test]
fn the_corpus_components_are_refused_with_their_module() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/corpus");
    for (file, says) in [
        (
            "component-truncated.wasm",
            "truncated: module 0 is bytes 10..42, the file ends at byte 23",
        ),
        ("component-bad-module.wasm", "in module 0: type mismatch"),
    ] {
        let bytes = std::fs::read(dir.join(file)).unwrap();
        assert!(component::is_component(&bytes), "{file}");
        let e = component::check(&bytes).unwrap_err();
        assert!(e.message.contains(says), "{file}: {e}");
        assert!(e.offset.is_some(), "{file}");
    }
}

/// A tiny deterministic generator (xorshift), so failures reproduce.
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}

#[test]
fn mutated_and_truncated_components_never_panic() {
    let mut rng = Rng(0x1234_5678_9abc_def1);
    for seed in [two_modules(), nested(), shared_memory()] {
        nogrow_cli::fuzz::run(&seed);
        for len in 0..seed.len() {
            nogrow_cli::fuzz::run(&seed[..len]);
        }
        for _ in 0..1500 {
            let mut m = seed.clone();
            for _ in 0..1 + rng.below(4) {
                let i = rng.below(m.len());
                match rng.below(4) {
                    0 => m[i] ^= 1 << rng.below(8),
                    1 => m[i] = rng.next() as u8,
                    2 => m.insert(i, rng.next() as u8),
                    _ => {
                        m.remove(i);
                    }
                }
            }
            nogrow_cli::fuzz::run(&m);
        }
    }
}

#[test]
fn the_fuzz_body_checks_sealed_components() {
    // The seeds seal: the component invariants are exercised, not skipped.
    for seed in [two_modules(), nested(), shared_memory()] {
        assert!(nogrow_cli::fuzz::run_component(&seed));
    }
    assert!(!nogrow_cli::fuzz::run_component(&wasm(GROWER)));
    assert!(!nogrow_cli::fuzz::run_component(&Component::new().finish()));
}

#[test]
fn components_nest_at_most_max_nesting_deep() {
    let nest = |depth: usize| {
        let mut c = Component::new();
        c.section(&ModuleSection(&core(QUIET)));
        for _ in 0..depth {
            let mut outer = Component::new();
            outer.section(&NestedComponentSection(&c));
            c = outer;
        }
        c.finish()
    };
    let deepest = component::MAX_NESTING;
    let r = component::check(&nest(deepest)).unwrap();
    assert_eq!(r.modules[0].module.path.components.len(), deepest);
    let s = component::seal(&nest(deepest), None).unwrap();
    assert!(s.changed);
    let e = component::check(&nest(deepest + 1)).unwrap_err();
    assert!(e.message.contains("nested more than 100 deep"), "{e}");
    assert!(e.offset.is_some());
}

#[test]
#[ignore = "needs the wasm32-wasip2 target (rustup target add wasm32-wasip2) and builds a crate"]
fn a_real_wasip2_component() {
    let dir = scratch("wasip2-hi");
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(dir.join("src")).unwrap();
    std::fs::write(
        dir.join("Cargo.toml"),
        "[package]\nname = \"hi\"\nversion = \"0.1.0\"\nedition = \"2021\"\n[workspace]\n",
    )
    .unwrap();
    std::fs::write(dir.join("src/main.rs"), "fn main() { println!(\"hi\") }\n").unwrap();
    let status = std::process::Command::new(env!("CARGO"))
        .args(["build", "--release", "--target", "wasm32-wasip2"])
        .current_dir(&dir)
        .env("CARGO_TARGET_DIR", dir.join("target"))
        .status()
        .unwrap();
    assert!(status.success(), "cargo build --target wasm32-wasip2");
    let path = dir.join("target/wasm32-wasip2/release/hi.wasm");
    let bytes = std::fs::read(&path).unwrap();
    assert!(component::is_component(&bytes));
    let r = component::check(&bytes).unwrap();
    // std's allocator (dlmalloc) grows the memory the main module defines.
    let main = r
        .modules
        .iter()
        .find(|m| m.defines_memory())
        .expect("a module defines the memory");
    assert_eq!(main.report.verdict, Verdict::CanGrowImplicitly);
    assert_eq!(r.verdict, Verdict::CanGrowImplicitly);
    let s = component::seal(&bytes, None).unwrap();
    assert_eq!(
        component::check(&s.bytes).unwrap().verdict,
        Verdict::CannotGrow
    );
}
