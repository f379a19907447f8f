//! The one fuzz body, shared by the `cargo fuzz` target (`fuzz/`) and a plain
//! `cargo test` that replays the malformed-input corpus and mutated guests.

use crate::{check, seal};

/// Runs `check` and `seal` over arbitrary bytes. Never panics on any input
/// unless an invariant breaks:
/// - a sealed module validates, and its memory has maximum == initial (or the
///   requested maximum);
/// - sealing a sealed module changes nothing;
/// - a sealed module can still be checked, and its tables and `table.grow`
///   sites are those of the input;
/// - every `table.grow` names a table the module has.
pub fn run(data: &[u8]) {
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
