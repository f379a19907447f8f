//! The one fuzz body, shared by the `cargo fuzz` target (`fuzz/`) and a plain
//! `cargo test` that replays the malformed-input corpus and mutated guests
//! and components.

use crate::{check, component, seal};

/// Runs `check` and `seal` over arbitrary bytes, as a core module and as a
/// component. Never panics on any input unless an invariant breaks:
/// - a sealed module validates, and its memory has maximum == initial (or the
///   requested maximum);
/// - sealing a sealed module changes nothing;
/// - a sealed module can still be checked, and its tables and `table.grow`
///   sites are those of the input;
/// - every `table.grow` names a table the module has;
/// - for a component, the same of each core module it defines: a sealed
///   component validates, has the same core modules, each sealed memory has
///   its new maximum, and sealing it again changes nothing.
pub fn run(data: &[u8]) {
    run_module(data);
    run_component(data);
}

/// [`run`] for a core module.
fn run_module(data: &[u8]) {
    let before = check(data).ok();
    if let Some(r) = &before {
        for g in &r.tables.grows {
            assert!(
                (g.site.table as usize) < r.tables.tables.len(),
                "table.grow names a table the module has"
            );
        }
    }
    let max = data.first().map(|&b| u64::from(b) % 4);
    for request in [None, max.map(|extra| extra + initial_pages(data))] {
        let Ok(sealed) = seal(data, request) else {
            continue;
        };
        crate::module::validate(&sealed.bytes).expect("sealed output validates");
        let again = seal(&sealed.bytes, request).expect("a sealed module seals again");
        assert!(!again.changed, "sealing a sealed module changed it");
        assert_eq!(again.bytes, sealed.bytes, "sealing twice is byte-identical");
        let report = check(&sealed.bytes).expect("a sealed module can be checked");
        let mem = &report.memories[0];
        assert_eq!(mem.maximum, Some(sealed.maximum));
        if request.is_none() {
            assert!(mem.is_fixed());
        }
        if let Some(before) = &before {
            assert_eq!(
                report.tables.tables, before.tables.tables,
                "sealing keeps tables"
            );
            assert_eq!(report.tables.verdict, before.tables.verdict);
            assert_eq!(report.tables.grows.len(), before.tables.grows.len());
        }
    }
}

/// The initial pages of memory 0, or 0 when there is none (or no module).
fn initial_pages(data: &[u8]) -> u64 {
    crate::module::read(data)
        .ok()
        .and_then(|m| m.memories.first().map(|m| m.initial))
        .unwrap_or(0)
}

/// The component half of [`run`]; returns whether a sealed component was
/// checked (so the invariants on sealing were exercised).
pub fn run_component(data: &[u8]) -> bool {
    let before = match component::check(data) {
        Ok(r) => r,
        Err(_) => {
            assert!(
                component::seal(data, None).is_err(),
                "a component that cannot be checked cannot be sealed"
            );
            return false;
        }
    };
    let mut exercised = false;
    for g in before.modules.iter().flat_map(|m| &m.report.tables.grows) {
        assert!(
            g.site.offset < data.len(),
            "table.grow offsets are in the file"
        );
    }
    for m in &before.modules {
        for g in &m.report.grows {
            assert!(
                m.module.range.contains(&g.site.offset),
                "a memory.grow offset is inside its module"
            );
        }
    }
    let largest = before
        .modules
        .iter()
        .flat_map(|m| &m.report.memories)
        .filter(|mem| mem.import.is_none())
        .map(|mem| mem.initial)
        .max()
        .unwrap_or(0);
    let extra = data.first().map(|&b| u64::from(b) % 4);
    for request in [None, extra.map(|extra| extra + largest)] {
        let Ok(sealed) = component::seal(data, request) else {
            continue;
        };
        if !sealed.changed {
            assert_eq!(
                sealed.bytes, data,
                "an unchanged component is byte-identical"
            );
        }
        let again =
            component::seal(&sealed.bytes, request).expect("a sealed component seals again");
        assert!(!again.changed, "sealing a sealed component changed it");
        assert_eq!(again.bytes, sealed.bytes, "sealing twice is byte-identical");
        let after = component::check(&sealed.bytes).expect("a sealed component can be checked");
        assert_eq!(
            after.modules.len(),
            before.modules.len(),
            "same core modules"
        );
        for (a, b) in after.modules.iter().zip(&before.modules) {
            assert_eq!(a.module.path, b.module.path, "same core modules");
            assert_eq!(
                a.report.tables.tables, b.report.tables.tables,
                "sealing keeps tables"
            );
            assert_eq!(a.report.grows.len(), b.report.grows.len());
        }
        for s in &sealed.sealed {
            let a = after
                .modules
                .iter()
                .find(|a| a.module.path == s.path)
                .expect("a sealed module is still there");
            let mem = a
                .report
                .memories
                .iter()
                .find(|mem| mem.import.is_none())
                .expect("a sealed module defines a memory");
            assert_eq!(mem.maximum, Some(s.sealed.maximum));
            if request.is_none() {
                assert!(mem.is_fixed());
            }
        }
        exercised = true;
    }
    exercised
}
