//! `nogrow seal` over small modules: what it rewrites, what it keeps, what it
//! refuses.

mod common;

use common::{assert_same_but_memory, wasm};
use nogrow_cli::{check, module, seal};

/// A module with most kinds of section, custom sections before and after.
fn rich(memory: &str) -> Vec<u8> {
    wasm(&format!(
        r#"(module
          (@custom "before" (before first) "\01\02")
          (type $t (func (result i32)))
          (import "env" "f" (func $f (result i32)))
          (table 2 funcref)
          {memory}
          (global $g (mut i32) (i32.const 7))
          (export "memory" (memory 0))
          (export "run" (func $run))
          (elem (i32.const 0) $run)
          (func $run (result i32) call $f)
          (func $grow (export "grow") (result i32) i32.const 1 memory.grow)
          (data (i32.const 16) "hello")
          (@custom "after" (after last) "\03"))"#
    ))
}

#[test]
fn seal_sets_maximum_to_initial_and_keeps_every_other_section() {
    let input = rich("(memory 3)");
    let s = seal(&input, None).unwrap();
    assert!(s.changed);
    assert_eq!((s.old_maximum, s.maximum, s.initial), (None, 3, 3));
    module::validate(&s.bytes).unwrap();
    assert_same_but_memory(&input, &s.bytes);
    let r = check(&s.bytes).unwrap();
    assert_eq!(r.memories[0].maximum, Some(3));
    assert!(r.memories[0].is_fixed());
    // The reachable memory.grow is warned about: it now fails.
    assert!(
        s.warnings.iter().any(|w| w.contains("grow")),
        "{:?}",
        s.warnings
    );
}

#[test]
fn sealing_a_sealed_module_is_byte_identical() {
    let once = seal(&rich("(memory 3 9)"), None).unwrap().bytes;
    let twice = seal(&once, None).unwrap();
    assert!(!twice.changed);
    assert_eq!(twice.bytes, once);
}

#[test]
fn max_pages_lowers_the_maximum_and_refuses_below_initial_or_above_declared() {
    let input = rich("(memory 3 9)");
    let s = seal(&input, Some(5)).unwrap();
    assert_eq!(check(&s.bytes).unwrap().memories[0].maximum, Some(5));
    assert_same_but_memory(&input, &s.bytes);
    let e = seal(&input, Some(2)).unwrap_err();
    assert!(
        e.message
            .contains("below the memory's initial size (3 pages)"),
        "{e}"
    );
    let e = seal(&input, Some(10)).unwrap_err();
    assert!(
        e.message.contains("above the declared maximum (9 pages)"),
        "{e}"
    );
    let e = seal(&rich("(memory 3)"), Some(65537)).unwrap_err();
    assert!(e.message.contains("32-bit limit"), "{e}");
}

#[test]
fn seal_handles_memory64_and_shared_memory() {
    // (`rich` grows with an i32 operand, not valid for memory64.)
    let m64 = wasm(
        r#"(module (memory (export "m") i64 2) (func (export "g") (result i64) i64.const 1 memory.grow))"#,
    );
    let s = seal(&m64, None).unwrap();
    let r = check(&s.bytes).unwrap();
    assert!(r.memories[0].memory64 && r.memories[0].is_fixed());
    assert_same_but_memory(&m64, &s.bytes);

    let shared = rich("(memory 2 16 shared)");
    let s = seal(&shared, None).unwrap();
    let r = check(&s.bytes).unwrap();
    assert!(r.memories[0].shared && r.memories[0].maximum == Some(2));
    assert_same_but_memory(&shared, &s.bytes);
    let e = seal(&shared, Some(17)).unwrap_err();
    assert!(e.message.contains("of a shared memory"), "{e}");
}

#[test]
fn seal_refuses_imported_memory_no_memory_and_multi_memory() {
    let imported = wasm(r#"(module (import "env" "memory" (memory 1)))"#);
    let e = seal(&imported, None).unwrap_err();
    assert!(e.message.contains("imported (env.memory)"), "{e}");

    let none = wasm(r#"(module (func (export "f")))"#);
    let e = seal(&none, None).unwrap_err();
    assert!(e.message.contains("no memory"), "{e}");

    let multi = wasm(r#"(module (memory 1) (memory 2))"#);
    let e = seal(&multi, None).unwrap_err();
    assert!(e.message.contains("multi-memory"), "{e}");
}

#[test]
fn seal_keeps_a_non_minimal_encoding_elsewhere_untouched() {
    // A type section whose size is padded to 5 LEB bytes: re-encoding the
    // module would change it; seal must not.
    let mut input = b"\0asm\x01\0\0\0".to_vec();
    input.extend_from_slice(b"\x01\x84\x80\x80\x80\x00\x01\x60\x00\x00"); // type, padded size
    input.extend_from_slice(b"\x05\x03\x01\x00\x02"); // memory: 2 pages, no max
    let s = seal(&input, None).unwrap();
    assert_same_but_memory(&input, &s.bytes);
    assert_eq!(&s.bytes[..18], &input[..18]);
    assert_eq!(check(&s.bytes).unwrap().memories[0].maximum, Some(2));
}
