//! Reading a core module into the facts `check` and `seal` need: memories,
//! tables, exports, the direct call graph, who is address-taken, every
//! `memory.grow` and `table.grow`, function names, and where the memory
//! section lies, in one pass over the module's payloads.
//!
//! One `wasmparser` validator sees each payload as it is read, before its
//! facts are taken; function bodies are validated after the last section (as
//! `Validator::validate_all` orders it), each just before its operators are
//! read. So everything read is well-formed; only the custom sections (`name`,
//! `nogrow`) may still be malformed, and those are reported as notes, not
//! errors.

use std::collections::{BTreeMap, BTreeSet};
use std::ops::Range;

use wasmparser::{
    ConstExpr, ElementItems, Encoding, ExternalKind, FuncValidatorAllocations, FunctionBody,
    KnownCustom, Name, Operator, Parser, Payload, TableInit, TypeRef, ValidPayload, Validator,
    WasmFeatures,
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
    /// The module's own name, from the `name` section.
    pub module_name: Option<String>,
    /// The module has a `name` section with function names.
    pub has_function_names: bool,
    /// Contents of every custom section named `nogrow`, concatenated.
    pub nogrow_section: Option<Vec<u8>>,
    /// Where the memory section is, if the module defines memories.
    pub memory_section: Option<SectionSpan>,
    /// Things the reader noticed but did not refuse (malformed name section…).
    pub notes: Vec<String>,
}

/// Refuses anything that is not a valid core module, with the byte offset:
/// the pass [`read`] makes, without reading the function bodies' operators.
pub fn validate(bytes: &[u8]) -> Result<()> {
    read_module(bytes, 0, false).map(|_| ())
}

/// The checks before the parser: the magic, and a whole header. `base`: the
/// offset of `bytes` in the file.
fn check_header(bytes: &[u8], base: usize) -> Result<()> {
    if !bytes.starts_with(b"\0asm") {
        return Err(Error::at(
            base,
            "not a WebAssembly module (missing the \\0asm magic)",
        ));
    }
    if bytes.len() < 8 {
        return Err(Error::at(
            base + bytes.len(),
            format!("truncated: {} bytes, a module header is 8", bytes.len()),
        ));
    }
    Ok(())
}

/// Validates `bytes` and reads the facts, in one pass over the payloads:
/// each payload goes to the validator as it is read, then its facts are
/// taken. Function bodies are validated after the last section, as
/// `Validator::validate_all` does (so an invalid body is reported only when
/// every section is valid), and each body's facts are read right after it
/// validates.
pub fn read(bytes: &[u8]) -> Result<Module> {
    read_module(bytes, 0, true)
}

/// [`read`] for a module that starts at byte `base` of a larger file (a core
/// module inside a component): `bytes` is the module alone, and every offset
/// in the facts and the errors (grow sites, the memory section, …) is an
/// offset in the file.
pub fn read_at(bytes: &[u8], base: usize) -> Result<Module> {
    read_module(bytes, base, true)
}

/// The pass behind [`read`], [`read_at`] and [`validate`]; `base`: where
/// `bytes` starts in the file; `with_bodies`: also read each validated
/// body's operators (the call graph and the grow sites), which [`validate`]
/// does not need.
fn read_module(bytes: &[u8], base: usize, with_bodies: bool) -> Result<Module> {
    check_header(bytes, base)?;
    let features = WasmFeatures::default();
    let mut validator = Validator::new_with_features(features);
    let mut parser = Parser::new(base as u64);
    parser.set_features(features);
    let mut m = Module::default();
    let mut exported_tables_or_globals = false;
    let mut ref_globals = BTreeSet::new();
    let mut global_count = 0u32;
    let mut bodies = Vec::new();
    // Where the current section starts: the end of the one before it (or of
    // the header).
    let mut section_start = base;
    for payload in parser.parse_all(bytes) {
        let payload = payload?;
        if let Payload::Version {
            encoding: Encoding::Component,
            ..
        } = payload
        {
            return Err(Error::at(
                base + 4,
                "this is a WebAssembly component, not a core module; check the core modules inside it",
            ));
        }
        if let ValidPayload::Func(func, body) = validator.payload(&payload)? {
            bodies.push((func, body));
        }
        let section = payload.as_section().map(|(_, contents)| {
            let whole = section_start..contents.end;
            section_start = contents.end;
            whole
        });
        match payload {
            Payload::Version { range, .. } => section_start = range.end,
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
                m.memory_section = section.map(|whole| SectionSpan { whole });
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
    let mut allocations = FuncValidatorAllocations::default();
    for (func, body) in bodies {
        let mut func = func.into_validator(allocations);
        func.validate(&body)?;
        allocations = func.into_allocations();
        if !with_bodies {
            continue;
        }
        let index = m.imported_funcs + m.bodies.len() as u32;
        let b = read_body(&body, index, &mut m)?;
        m.bodies.push(b);
    }
    Ok(m)
}

/// The calls, indirect calls, `ref.func`s, `memory.grow`s and `table.grow`s
/// of the body of function `func` (already validated).
fn read_body(body: &FunctionBody<'_>, func: u32, m: &mut Module) -> Result<Body> {
    let mut b = Body::default();
    let mut ops = body.get_operators_reader()?;
    while !ops.eof() {
        let (op, offset) = ops.read_with_offset()?;
        match op {
            Operator::Call { function_index } | Operator::ReturnCall { function_index } => {
                b.calls.push(function_index)
            }
            Operator::CallIndirect { .. }
            | Operator::ReturnCallIndirect { .. }
            | Operator::CallRef { .. }
            | Operator::ReturnCallRef { .. } => b.indirect = true,
            Operator::RefFunc { function_index } => {
                m.address_taken.insert(function_index);
            }
            Operator::MemoryGrow { mem } => m.grows.push(GrowSite { func, mem, offset }),
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
    Ok(b)
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
        match sub? {
            Name::Module { name, .. } => m.module_name = Some(name.to_string()),
            Name::Function(map) => {
                m.has_function_names = true;
                for n in map {
                    let n = n?;
                    m.names.insert(n.index, n.name.to_string());
                }
            }
            _ => {}
        }
    }
    Ok(())
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
