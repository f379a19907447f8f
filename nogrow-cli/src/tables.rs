//! The tables dimension of `nogrow check`: can the module grow a table?
//!
//! Independent of the memory verdict. A table grows in two ways only: a
//! `table.grow` the module executes, or the host's
//! `WebAssembly.Table.prototype.grow` on a table it holds (imported or
//! exported). The verdict judges the module's code, as the memory verdict
//! does: a reachable `table.grow` on a table whose maximum is not its
//! initial size. A table the host can grow is reported as a note. The
//! tables section of the text and JSON output is in [`crate::render`].

use crate::graph::{Reach, Via};
use crate::module::{self, Module, Table, TableGrowSite};

/// Whether the module's code can change a table's size.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum TableVerdict {
    /// No reachable `table.grow` on a table the engine lets grow (none at
    /// all, none reachable, or every one on a table with maximum == initial).
    TablesFixed,
    /// A reachable `table.grow` on a table without maximum == initial.
    TablesCanGrow,
}

impl TableVerdict {
    /// The verdict as printed (`tables-fixed`, `tables-can-grow`).
    pub const fn as_str(self) -> &'static str {
        match self {
            TableVerdict::TablesFixed => "tables-fixed",
            TableVerdict::TablesCanGrow => "tables-can-grow",
        }
    }
}

/// One `table.grow`, judged.
#[derive(Debug, Clone)]
pub struct TableGrow {
    /// Where it is.
    pub site: TableGrowSite,
    /// Demangled name of its function, if the name section has one.
    pub name: Option<String>,
    /// Reachable from an export or the start function.
    pub reachable: bool,
    /// One call chain from an entry point to the function (names).
    pub path: Vec<String>,
    /// The chain starts at an indirect-call target, not an export.
    pub via_indirect: bool,
    /// The table it grows has maximum == initial: the engine refuses.
    pub table_fixed: bool,
}

/// The tables, every `table.grow`, and the table verdict.
#[derive(Debug, Clone)]
pub struct Tables {
    /// The tables, in index order.
    pub tables: Vec<Table>,
    /// Every `table.grow`, in file order.
    pub grows: Vec<TableGrow>,
    /// The table verdict.
    pub verdict: TableVerdict,
    /// Why, one line each.
    pub reasons: Vec<String>,
    /// Other observations (tables the host can grow), one line each.
    pub notes: Vec<String>,
}

/// The table verdict over facts already read, with the reachability the
/// memory verdict uses.
pub fn judge(m: &Module, reach: &Reach) -> Tables {
    let grows: Vec<TableGrow> = m
        .table_grows
        .iter()
        .map(|&site| TableGrow {
            site,
            name: m.names.get(&site.func).map(|n| module::demangle(n)),
            reachable: reach.reaches(site.func),
            path: reach
                .path(site.func)
                .iter()
                .map(|&f| m.display_name(f))
                .collect(),
            via_indirect: reach.how(site.func) == Some(Via::Indirect),
            table_fixed: m
                .tables
                .get(site.table as usize)
                .is_some_and(Table::is_fixed),
        })
        .collect();

    let mut reasons = Vec::new();
    for g in grows.iter().filter(|g| g.reachable && g.table_fixed) {
        reasons.push(format!(
            "table.grow in {} is reachable but table {} has maximum == initial: the engine refuses it",
            show(m, g),
            g.site.table
        ));
    }
    let live: Vec<&TableGrow> = grows
        .iter()
        .filter(|g| g.reachable && !g.table_fixed)
        .collect();
    for g in &live {
        let max = m
            .tables
            .get(g.site.table as usize)
            .and_then(|t| t.maximum)
            .map_or("none".to_string(), |max| max.to_string());
        reasons.push(format!(
            "reachable table.grow in {} on table {} (maximum {max}, not its initial size)",
            show(m, g),
            g.site.table,
        ));
    }
    let verdict = if live.is_empty() {
        if grows.is_empty() {
            reasons.push("no table.grow instruction in the module".into());
        } else if grows.iter().all(|g| !g.reachable) {
            reasons.push("every table.grow is in a function no export or start can reach".into());
        }
        TableVerdict::TablesFixed
    } else {
        TableVerdict::TablesCanGrow
    };

    let notes = m
        .tables
        .iter()
        .filter(|t| t.host_can_grow())
        .map(|t| {
            format!(
                "table {} is {} without maximum == initial: the host can grow it (Table.prototype.grow)",
                t.index,
                if t.import.is_some() {
                    "imported"
                } else {
                    "exported"
                }
            )
        })
        .collect();

    Tables {
        tables: m.tables.clone(),
        grows,
        verdict,
        reasons,
        notes,
    }
}

/// `func[N] NAME` for messages.
fn show(m: &Module, g: &TableGrow) -> String {
    match &g.name {
        Some(n) => format!("func[{}] {n}", g.site.func),
        None => format!("func[{}] ({})", g.site.func, m.display_name(g.site.func)),
    }
}

impl Tables {
    /// Whether the verdict meets `--require-fixed-tables` (when `required`).
    pub fn meets(&self, required: bool) -> bool {
        !required || self.verdict == TableVerdict::TablesFixed
    }
}
