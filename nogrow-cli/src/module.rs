//! Reading a core module into the facts `check` and `seal` need: memories,
//! tables, exports, the direct call graph, who is address-taken, every
//! `memory.grow` and `table.grow`, function names, and where the memory
//! section lies. One walk over the code section finds all of them.
//!
//! The module is validated with `wasmparser` first, so everything read after
//! that is well-formed; only the custom sections (`name`, `nogrow`) may still
//! be malformed, and those are reported as notes, not errors.

use std::collections::{BTreeMap, BTreeSet};
use std::ops::Range;

use wasmparser::{
    BinaryReader, ConstExpr, ElementItems, Encoding, ExternalKind, KnownCustom, Name, Operator,
    Parser, Payload, TableInit, TypeRef, Validator, WasmFeatures,
};

use crate::error::{Error, Result};

/// A linear memory, imported or defined.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Memory {
    /// Memory index.
    pub index: u32,
    /// Declared initial size in pages.
    pub initial: u64,
    /// Declared maximum in pages, if any.
    pub maximum: Option<u64>,
    /// `shared` (threads).
    pub shared: bool,
    /// memory64: indexed by i64.
    pub memory64: bool,
    /// A custom page size (custom-page-sizes proposal), as log2 bytes.
    pub page_size_log2: Option<u32>,
    /// `(module, name)` when imported.
    pub import: Option<(String, String)>,
    /// Export names of this memory.
    pub exports: Vec<String>,
}

impl Memory {
    /// The engine refuses every `memory.grow` by a nonzero delta: the maximum
    /// equals the initial size. (For an import this holds of whatever memory
    /// the host supplies: it must be at least `initial` and at most `maximum`.)
    pub fn is_fixed(&self) -> bool {
        self.maximum == Some(self.initial)
    }
}

/// A table, imported or defined.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Table {
    /// Table index.
    pub index: u32,
    /// Element type as WAT spells it: `funcref`, `externref`, `(ref null 3)`…
    pub element_type: String,
    /// Declared initial size in elements.
    pub initial: u64,
    /// Declared maximum in elements, if any.
    pub maximum: Option<u64>,
    /// table64: indexed by i64.
    pub table64: bool,
    /// `(module, name)` when imported.
    pub import: Option<(String, String)>,
    /// Export names of this table.
    pub exports: Vec<String>,
}

impl Table {
    /// The engine refuses every `table.grow` by a nonzero delta: the maximum
    /// equals the initial size (for an import, of whatever table the host
    /// supplies, as for [`Memory::is_fixed`]).
    pub fn is_fixed(&self) -> bool {
        self.maximum == Some(self.initial)
    }

    /// The host holds this table (imported or exported) and it is not fixed:
    /// JavaScript's `WebAssembly.Table.prototype.grow` can grow it.
    pub fn host_can_grow(&self) -> bool {
        !self.is_fixed() && (self.import.is_some() || !self.exports.is_empty())
    }
}

/// One `table.grow` instruction.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TableGrowSite {
    /// Function index (imports counted) that contains it.
    pub func: u32,
    /// Table it grows.
    pub table: u32,
    /// Byte offset of the instruction in the file.
    pub offset: usize,
}

/// One `memory.grow` instruction.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct GrowSite {
    /// Function index (imports counted) that contains it.
    pub func: u32,
    /// Memory it grows.
    pub mem: u32,
    /// Byte offset of the instruction in the file.
    pub offset: usize,
}

/// What one defined function body does that matters here.
#[derive(Debug, Clone, Default)]
pub struct Body {
    /// Direct callees (`call`, `return_call`), deduplicated.
    pub calls: Vec<u32>,
    /// Contains `call_indirect`, `return_call_indirect`, `call_ref` or
    /// `return_call_ref`.
    pub indirect: bool,
}

/// Where the memory section is in the file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SectionSpan {
    /// Whole section: id byte, size, contents.
    pub whole: Range<usize>,
}

/// The facts read from a module.
#[derive(Debug, Clone, Default)]
pub struct Module {
    /// Imported functions come first in the function index space.
    pub imported_funcs: u32,
    /// `(module, name)` of each imported function.
    pub func_imports: Vec<(String, String)>,
    /// Defined function bodies, in order (index = `imported_funcs + i`).
    pub bodies: Vec<Body>,
    /// Every `memory.grow`, in file order.
    pub grows: Vec<GrowSite>,
    /// Memories in index order.
    pub memories: Vec<Memory>,
    /// Every `table.grow`, in file order.
    pub table_grows: Vec<TableGrowSite>,
    /// Tables in index order.
    pub tables: Vec<Table>,
    /// Exported functions: name and index.
    pub func_exports: Vec<(String, u32)>,
    /// The start function.
    pub start: Option<u32>,
    /// Functions whose reference is taken (element segments, `ref.func`):
    /// the possible targets of an indirect call.
    pub address_taken: BTreeSet<u32>,
    /// A table or a reference-typed global is imported or exported, so the
    /// host can call address-taken functions itself.
    pub host_reaches_tables: bool,
    /// Function names from the `name` section.
    pub names: BTreeMap<u32, String>,
    /// The module has a `name` section with function names.
    pub has_function_names: bool,
    /// Contents of every custom section named `nogrow`, concatenated.
    pub nogrow_section: Option<Vec<u8>>,
    /// Where the memory section is, if the module defines memories.
    pub memory_section: Option<SectionSpan>,
    /// Things the reader noticed but did not refuse (malformed name section…).
    pub notes: Vec<String>,
}

/// Refuses anything that is not a valid core module, with the byte offset.
pub fn validate(bytes: &[u8]) -> Result<()> {
    if !bytes.starts_with(b"\0asm") {
        return Err(Error::at(
            0,
            "not a WebAssembly module (missing the \\0asm magic)",
        ));
    }
    if bytes.len() < 8 {
        return Err(Error::at(
            bytes.len(),
            format!("truncated: {} bytes, a module header is 8", bytes.len()),
        ));
    }
    match Parser::new(0).parse_all(bytes).next() {
        Some(Ok(Payload::Version {
            encoding: Encoding::Component,
            ..
        })) => {
            return Err(Error::at(
                4,
                "this is a WebAssembly component, not a core module; check the core modules inside it",
            ));
        }
        Some(Err(e)) => return Err(e.into()),
        _ => {}
    }
    Validator::new_with_features(WasmFeatures::default()).validate_all(bytes)?;
    Ok(())
}

/// Validates `bytes`, then reads the facts.
pub fn read(bytes: &[u8]) -> Result<Module> {
    validate(bytes)?;
    let mut m = Module::default();
    let mut exported_tables_or_globals = false;
    let mut ref_globals = BTreeSet::new();
    let mut global_count = 0u32;
    for payload in Parser::new(0).parse_all(bytes) {
        match payload? {
            Payload::ImportSection(r) => {
                for imp in r.into_imports() {
                    let imp = imp?;
                    match imp.ty {
                        TypeRef::Func(_) | TypeRef::FuncExact(_) => {
                            m.imported_funcs += 1;
                            m.func_imports.push((imp.module.into(), imp.name.into()));
                        }
                        TypeRef::Memory(ty) => m.memories.push(memory(
                            m.memories.len() as u32,
                            ty,
                            Some((imp.module.into(), imp.name.into())),
                        )),
                        TypeRef::Table(ty) => {
                            m.host_reaches_tables = true;
                            m.tables.push(table(
                                m.tables.len() as u32,
                                ty,
                                Some((imp.module.into(), imp.name.into())),
                            ));
                        }
                        TypeRef::Global(ty) => {
                            if ty.content_type.is_reference_type() {
                                m.host_reaches_tables = true;
                            }
                            global_count += 1;
                        }
                        TypeRef::Tag(_) => {}
                    }
                }
            }
            Payload::TableSection(r) => {
                for t in r {
                    let t = t?;
                    m.tables.push(table(m.tables.len() as u32, t.ty, None));
                    if let TableInit::Expr(e) = t.init {
                        ref_funcs(&e, &mut m.address_taken)?;
                    }
                }
            }
            Payload::MemorySection(r) => {
                for ty in r {
                    let index = m.memories.len() as u32;
                    m.memories.push(memory(index, ty?, None));
                }
            }
            Payload::GlobalSection(r) => {
                for g in r {
                    let g = g?;
                    if g.ty.content_type.is_reference_type() {
                        ref_globals.insert(global_count);
                    }
                    ref_funcs(&g.init_expr, &mut m.address_taken)?;
                    global_count += 1;
                }
            }
            Payload::ExportSection(r) => {
                for e in r {
                    let e = e?;
                    match e.kind {
                        ExternalKind::Func | ExternalKind::FuncExact => {
                            m.func_exports.push((e.name.into(), e.index))
                        }
                        ExternalKind::Memory => {
                            if let Some(mem) = m.memories.get_mut(e.index as usize) {
                                mem.exports.push(e.name.into());
                            }
                        }
                        ExternalKind::Table => {
                            exported_tables_or_globals = true;
                            if let Some(t) = m.tables.get_mut(e.index as usize) {
                                t.exports.push(e.name.into());
                            }
                        }
                        ExternalKind::Global => {
                            if ref_globals.contains(&e.index) {
                                exported_tables_or_globals = true;
                            }
                        }
                        ExternalKind::Tag => {}
                    }
                }
            }
            Payload::StartSection { func, .. } => m.start = Some(func),
            Payload::ElementSection(r) => {
                for el in r {
                    match el?.items {
                        ElementItems::Functions(fs) => {
                            for f in fs {
                                m.address_taken.insert(f?);
                            }
                        }
                        ElementItems::Expressions(_, es) => {
                            for e in es {
                                ref_funcs(&e?, &mut m.address_taken)?;
                            }
                        }
                    }
                }
            }
            Payload::CodeSectionEntry(body) => {
                let func = m.imported_funcs + m.bodies.len() as u32;
                let mut b = Body::default();
                let mut ops = body.get_operators_reader()?;
                while !ops.eof() {
                    let (op, offset) = ops.read_with_offset()?;
                    match op {
                        Operator::Call { function_index }
                        | Operator::ReturnCall { function_index } => b.calls.push(function_index),
                        Operator::CallIndirect { .. }
                        | Operator::ReturnCallIndirect { .. }
                        | Operator::CallRef { .. }
                        | Operator::ReturnCallRef { .. } => b.indirect = true,
                        Operator::RefFunc { function_index } => {
                            m.address_taken.insert(function_index);
                        }
                        Operator::MemoryGrow { mem } => {
                            m.grows.push(GrowSite { func, mem, offset })
                        }
                        Operator::TableGrow { table } => m.table_grows.push(TableGrowSite {
                            func,
                            table,
                            offset,
                        }),
                        _ => {}
                    }
                }
                b.calls.sort_unstable();
                b.calls.dedup();
                m.bodies.push(b);
            }
            Payload::CustomSection(c) => match c.name() {
                "name" => {
                    if let KnownCustom::Name(names) = c.as_known() {
                        if let Err(e) = read_names(names, &mut m) {
                            m.notes.push(format!(
                                "name section malformed at byte {}: {} (names ignored past it)",
                                e.offset(),
                                e.message()
                            ));
                        }
                    }
                }
                "nogrow" => m
                    .nogrow_section
                    .get_or_insert_with(Vec::new)
                    .extend_from_slice(c.data()),
                _ => {}
            },
            _ => {}
        }
    }
    if exported_tables_or_globals {
        m.host_reaches_tables = true;
    }
    m.memory_section = memory_section_span(bytes)?;
    Ok(m)
}

fn memory(index: u32, ty: wasmparser::MemoryType, import: Option<(String, String)>) -> Memory {
    Memory {
        index,
        initial: ty.initial,
        maximum: ty.maximum,
        shared: ty.shared,
        memory64: ty.memory64,
        page_size_log2: ty.page_size_log2,
        import,
        exports: Vec::new(),
    }
}

fn table(index: u32, ty: wasmparser::TableType, import: Option<(String, String)>) -> Table {
    Table {
        index,
        element_type: ty.element_type.to_string(),
        initial: ty.initial,
        maximum: ty.maximum,
        table64: ty.table64,
        import,
        exports: Vec::new(),
    }
}

/// Every `ref.func` in a constant expression.
fn ref_funcs(e: &ConstExpr<'_>, out: &mut BTreeSet<u32>) -> Result<()> {
    let mut ops = e.get_operators_reader();
    while !ops.eof() {
        if let Operator::RefFunc { function_index } = ops.read()? {
            out.insert(function_index);
        }
    }
    Ok(())
}

fn read_names(
    names: wasmparser::NameSectionReader<'_>,
    m: &mut Module,
) -> std::result::Result<(), wasmparser::BinaryReaderError> {
    for sub in names {
        if let Name::Function(map) = sub? {
            m.has_function_names = true;
            for n in map {
                let n = n?;
                m.names.insert(n.index, n.name.to_string());
            }
        }
    }
    Ok(())
}

/// The memory section's byte range (section id through contents), found by
/// walking the section headers with `wasmparser`'s reader.
fn memory_section_span(bytes: &[u8]) -> Result<Option<SectionSpan>> {
    let mut r = BinaryReader::new(bytes, 0);
    r.read_bytes(8)?;
    let mut span = None;
    while !r.eof() {
        let start = r.original_position();
        let id = r.read_u8()?;
        let size = r.read_var_u32()? as usize;
        r.read_bytes(size)?;
        if id == 5 {
            span = Some(SectionSpan {
                whole: start..r.original_position(),
            });
        }
    }
    Ok(span)
}

/// A name-section name as Rust source spells it: demangled (legacy or v0),
/// without the `::h0123456789abcdef` hash, also when a tool (wasm-bindgen)
/// already demangled it but kept the hash.
pub fn demangle(name: &str) -> String {
    let mut s = format!("{:#}", rustc_demangle::demangle(name));
    if let Some(i) = s.rfind("::h") {
        let hash = &s[i + 3..];
        if hash.len() == 16 && hash.bytes().all(|b| b.is_ascii_hexdigit()) {
            s.truncate(i);
        }
    }
    s
}

impl Module {
    /// Number of functions, imported and defined.
    pub fn func_count(&self) -> u32 {
        self.imported_funcs + self.bodies.len() as u32
    }

    /// The defined body of `func`, if it is not an import.
    pub fn body(&self, func: u32) -> Option<&Body> {
        func.checked_sub(self.imported_funcs)
            .and_then(|i| self.bodies.get(i as usize))
    }

    /// A readable name for `func`: demangled name-section name, import name,
    /// or `func[N]`.
    pub fn display_name(&self, func: u32) -> String {
        if let Some(n) = self.names.get(&func) {
            return demangle(n);
        }
        if let Some((module, name)) = self.func_imports.get(func as usize) {
            return format!("{module}.{name}");
        }
        if let Some((name, _)) = self.func_exports.iter().find(|(_, f)| *f == func) {
            return name.clone();
        }
        format!("func[{func}]")
    }

    /// The exported function named `name`.
    pub fn export(&self, name: &str) -> Option<u32> {
        self.func_exports
            .iter()
            .find(|(n, _)| n == name)
            .map(|&(_, f)| f)
    }
}
