//! Rendering a `nogrow check` report: the human-readable text (memory
//! section, then tables section) and the `--json` object, for a core module
//! and for a component (each core module's report, then the verdicts over
//! them all). What is rendered is
//! decided in [`crate::check`] and [`crate::tables`]; this module only
//! formats it.

use std::fmt::Write as _;

use serde_json::{Value, json};

use crate::check::{ABI_EXPORTS, Level, Report, Verdict};
use crate::component::{ComponentReport, ModuleReport};
use crate::tables::{TableVerdict, Tables};

impl Report {
    /// Human-readable report: the memory section and its verdict, then the
    /// tables section and the table verdict (`require_fixed_tables`: whether
    /// `--require-fixed-tables` was given).
    pub fn text(&self, file: &str, level: Level, require_fixed_tables: bool) -> String {
        let mut s = String::new();
        let _ = writeln!(s, "{file}");
        if self.memories.is_empty() {
            let _ = writeln!(s, "  memory: none");
        }
        for mem in &self.memories {
            let max = mem
                .maximum
                .map_or("none".to_string(), |m| format!("{m} pages"));
            let origin = match &mem.import {
                Some((module, name)) => format!("imported from {module}.{name}"),
                None => "defined".to_string(),
            };
            let exported = if mem.exports.is_empty() {
                String::new()
            } else {
                format!(", exported as {}", mem.exports.join(", "))
            };
            let _ = writeln!(
                s,
                "  memory {}: initial {} pages, maximum {max}, {}{}{}, {origin}{exported}",
                mem.index,
                mem.initial,
                if mem.memory64 { "64-bit" } else { "32-bit" },
                if mem.shared { ", shared" } else { "" },
                mem.page_size_log2
                    .map_or(String::new(), |l| format!(", page size 2^{l}")),
            );
        }
        if self.grows.is_empty() {
            let _ = writeln!(s, "  memory.grow: none");
        }
        for g in &self.grows {
            let name = g.name.as_deref().unwrap_or("(no name)");
            let reach = if !g.reachable {
                "unreachable".to_string()
            } else if g.via_indirect {
                format!("reachable by an indirect call: {}", g.path.join(" -> "))
            } else {
                format!("reachable: {}", g.path.join(" -> "))
            };
            let _ = writeln!(
                s,
                "  memory.grow at byte {} in func[{}] {name} [{}] (memory {}): {reach}",
                g.site.offset,
                g.site.func,
                g.owner.as_str(),
                g.site.mem,
            );
        }
        if self.abi.exports.is_empty() {
            let _ = writeln!(s, "  nogrow ABI: none");
        } else {
            let exports: Vec<&str> = self.abi.exports.iter().map(|(n, _)| *n).collect();
            let policy = match (self.abi.section_policy(), self.abi.inferred) {
                (Some(p), _) => format!("{p} (from the nogrow section)"),
                (None, Some(p)) => format!("{p} (inferred from the code)"),
                (None, None) => "unknown".into(),
            };
            let _ = writeln!(s, "  nogrow ABI: {}; policy {policy}", exports.join(", "));
        }
        for r in &self.reasons {
            let _ = writeln!(s, "  because: {r}");
        }
        for n in &self.notes {
            let _ = writeln!(s, "  note: {n}");
        }
        let ok = self.verdict.meets(level);
        let _ = writeln!(
            s,
            "verdict: {} ({} --{} {})",
            self.verdict.as_str(),
            if ok { "meets" } else { "FAILS" },
            if level == Level::CannotGrow {
                "require"
            } else {
                "allow"
            },
            level.as_str()
        );
        self.tables.text(
            &mut s,
            self.verdict == Verdict::CannotGrow,
            require_fixed_tables,
        );
        s
    }

    /// Machine-readable report; `tables` holds the tables dimension.
    pub fn json(&self, file: &str, level: Level, require_fixed_tables: bool) -> Value {
        let memories: Vec<Value> = self
            .memories
            .iter()
            .map(|m| {
                json!({
                    "index": m.index,
                    "initial_pages": m.initial,
                    "maximum_pages": m.maximum,
                    "shared": m.shared,
                    "memory64": m.memory64,
                    "page_size_log2": m.page_size_log2,
                    "imported": m.import.as_ref().map(|(module, name)| json!({"module": module, "name": name})),
                    "exported_as": m.exports,
                    "fixed": m.is_fixed(),
                })
            })
            .collect();
        let grows: Vec<Value> = self
            .grows
            .iter()
            .map(|g| {
                json!({
                    "function_index": g.site.func,
                    "function_name": g.name,
                    "offset": g.site.offset,
                    "memory": g.site.mem,
                    "owner": g.owner.as_str(),
                    "reachable": g.reachable,
                    "via_indirect_call": g.via_indirect,
                    "path": g.path,
                    "memory_fixed": g.memory_fixed,
                })
            })
            .collect();
        let exports: serde_json::Map<String, Value> = ABI_EXPORTS
            .iter()
            .map(|&n| {
                let idx = self
                    .abi
                    .exports
                    .iter()
                    .find(|(e, _)| *e == n)
                    .map(|&(_, f)| f);
                (n.to_string(), json!(idx))
            })
            .collect();
        json!({
            "file": file,
            "verdict": self.verdict.as_str(),
            "level": level.as_str(),
            "meets": self.verdict.meets(level),
            "memories": memories,
            "memory_grow": grows,
            "nogrow_abi": {
                "exports": exports,
                "policy": self.abi.policy(),
                "policy_from_section": self.abi.section_policy(),
                "policy_inferred": self.abi.inferred,
                "abi_version": self.abi.section.map(|(v, _)| v),
            },
            "function_names": self.has_names,
            "reasons": self.reasons,
            "notes": self.notes,
            "tables": self.tables.json(require_fixed_tables),
        })
    }
}

impl Tables {
    /// The text section, appended to `s`. `memory_cannot_grow`: the memory
    /// verdict is `cannot-grow`, so growing tables are pointed out plainly.
    pub fn text(&self, s: &mut String, memory_cannot_grow: bool, required: bool) {
        let _ = writeln!(s, "tables");
        if self.tables.is_empty() {
            let _ = writeln!(s, "  table: none");
        }
        for t in &self.tables {
            let max = t.maximum.map_or("none".to_string(), |m| m.to_string());
            let origin = match &t.import {
                Some((module, name)) => format!("imported from {module}.{name}"),
                None => "defined".to_string(),
            };
            let exported = if t.exports.is_empty() {
                String::new()
            } else {
                format!(", exported as {}", t.exports.join(", "))
            };
            let _ = writeln!(
                s,
                "  table {}: {}, initial {}, maximum {max}{}, {origin}{exported}",
                t.index,
                t.element_type,
                t.initial,
                if t.table64 { ", 64-bit" } else { "" },
            );
        }
        if self.grows.is_empty() {
            let _ = writeln!(s, "  table.grow: none");
        }
        for g in &self.grows {
            let name = g.name.as_deref().unwrap_or("(no name)");
            let reach = if !g.reachable {
                "unreachable".to_string()
            } else if g.via_indirect {
                format!("reachable by an indirect call: {}", g.path.join(" -> "))
            } else {
                format!("reachable: {}", g.path.join(" -> "))
            };
            let _ = writeln!(
                s,
                "  table.grow at byte {} in func[{}] {name} (table {}): {reach}",
                g.site.offset, g.site.func, g.site.table,
            );
        }
        for r in &self.reasons {
            let _ = writeln!(s, "  because: {r}");
        }
        for n in &self.notes {
            let _ = writeln!(s, "  note: {n}");
        }
        if memory_cannot_grow && self.verdict == TableVerdict::TablesCanGrow {
            let _ = writeln!(
                s,
                "  memory cannot grow, but a table can: the memory verdict says nothing about tables"
            );
        }
        let _ = writeln!(
            s,
            "table verdict: {}{}",
            self.verdict.as_str(),
            match (required, self.meets(required)) {
                (false, _) => "",
                (true, true) => " (meets --require-fixed-tables)",
                (true, false) => " (FAILS --require-fixed-tables)",
            }
        );
    }

    /// The JSON `tables` object.
    pub fn json(&self, required: bool) -> Value {
        let tables: Vec<Value> = self
            .tables
            .iter()
            .map(|t| {
                json!({
                    "index": t.index,
                    "element_type": t.element_type,
                    "initial": t.initial,
                    "maximum": t.maximum,
                    "table64": t.table64,
                    "imported": t.import.as_ref().map(|(module, name)| json!({"module": module, "name": name})),
                    "exported_as": t.exports,
                    "fixed": t.is_fixed(),
                    "host_can_grow": t.host_can_grow(),
                })
            })
            .collect();
        let grow_sites: Vec<Value> = self
            .grows
            .iter()
            .map(|g| {
                json!({
                    "function_index": g.site.func,
                    "function_name": g.name,
                    "offset": g.site.offset,
                    "table": g.site.table,
                    "reachable": g.reachable,
                    "via_indirect_call": g.via_indirect,
                    "path": g.path,
                    "table_fixed": g.table_fixed,
                })
            })
            .collect();
        json!({
            "tables": tables,
            "grow_sites": grow_sites,
            "verdict": self.verdict.as_str(),
            "required": required,
            "meets": self.meets(required),
            "reasons": self.reasons,
            "notes": self.notes,
        })
    }
}

impl ComponentReport {
    /// Human-readable report of a component: each core module's report as
    /// [`Report::text`] writes it, indented under a line naming the module,
    /// then a summary and the verdicts over every module, in the last two
    /// lines as for a core module (`verdict: …`, `table verdict: …`).
    pub fn text(&self, file: &str, level: Level, require_fixed_tables: bool) -> String {
        let mut s = String::new();
        let _ = writeln!(
            s,
            "{file}: component, {} core module{}",
            self.modules.len(),
            if self.modules.len() == 1 { "" } else { "s" }
        );
        for m in &self.modules {
            let label = format!(
                "{} ({}; bytes {}..{})",
                m.label(),
                memory_origin(m),
                m.module.range.start,
                m.module.range.end
            );
            let text = m.report.text(&label, level, require_fixed_tables);
            for (i, line) in text.lines().enumerate() {
                let _ = writeln!(s, "{}{line}", if i == 0 { "  " } else { "    " });
            }
        }
        for n in &self.notes {
            let _ = writeln!(s, "  note: {n}");
        }
        let _ = writeln!(s, "summary");
        for m in &self.modules {
            let _ = writeln!(
                s,
                "  {}: {}{}, {}{}",
                m.label(),
                m.report.verdict.as_str(),
                if m.report.verdict.meets(level) {
                    ""
                } else {
                    " (FAILS)"
                },
                m.report.tables.verdict.as_str(),
                if m.report.tables.meets(require_fixed_tables) {
                    ""
                } else {
                    " (FAILS)"
                },
            );
        }
        let _ = writeln!(
            s,
            "verdict: {} ({} --{} {}{})",
            self.verdict.as_str(),
            if self.meets(level) { "meets" } else { "FAILS" },
            if level == Level::CannotGrow {
                "require"
            } else {
                "allow"
            },
            level.as_str(),
            match self.modules.len() {
                0 => "; no core module".to_string(),
                1 => "; the one core module".to_string(),
                n => format!("; worst of {n} core modules"),
            }
        );
        let _ = writeln!(
            s,
            "table verdict: {}{}",
            self.tables.as_str(),
            match (require_fixed_tables, self.tables_meet(require_fixed_tables)) {
                (false, _) => "",
                (true, true) => " (meets --require-fixed-tables)",
                (true, false) => " (FAILS --require-fixed-tables)",
            }
        );
        s
    }

    /// Machine-readable report of a component: `kind: "component"`, the
    /// verdicts over every module, and `modules[]`, each the object
    /// [`Report::json`] writes for a core module plus where the module is.
    pub fn json(&self, file: &str, level: Level, require_fixed_tables: bool) -> Value {
        let modules: Vec<Value> = self
            .modules
            .iter()
            .map(|m| {
                let mut v = m.report.json(file, level, require_fixed_tables);
                if let Some(o) = v.as_object_mut() {
                    o.insert("path".into(), json!(m.module.path.to_string()));
                    o.insert("components".into(), json!(m.module.path.components));
                    o.insert("index".into(), json!(m.module.path.module));
                    o.insert("name".into(), json!(m.name()));
                    o.insert("component_name".into(), json!(m.module.component_name));
                    o.insert("module_name".into(), json!(m.module_name));
                    o.insert("offset".into(), json!(m.module.range.start));
                    o.insert("size".into(), json!(m.module.range.len()));
                    o.insert("defines_memory".into(), json!(m.defines_memory()));
                    o.insert("imports_memory".into(), json!(m.imports_memory()));
                }
                v
            })
            .collect();
        json!({
            "file": file,
            "kind": "component",
            "verdict": self.verdict.as_str(),
            "level": level.as_str(),
            "meets": self.meets(level),
            "modules": modules,
            "tables": {
                "verdict": self.tables.as_str(),
                "required": require_fixed_tables,
                "meets": self.tables_meet(require_fixed_tables),
            },
            "notes": self.notes,
        })
    }
}

/// `defines memory 0`, `imports memory 0 (env.memory)`, `no memory`.
fn memory_origin(m: &ModuleReport) -> String {
    if m.report.memories.is_empty() {
        return "no memory".into();
    }
    m.report
        .memories
        .iter()
        .map(|mem| match &mem.import {
            Some((module, name)) => format!("imports memory {} ({module}.{name})", mem.index),
            None => format!("defines memory {}", mem.index),
        })
        .collect::<Vec<_>>()
        .join(", ")
}
