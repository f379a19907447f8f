//! WebAssembly components (what `wasm32-wasip2` builds are): the core
//! modules nested in a component, each judged by [`crate::check::judge`]
//! exactly as a core module file is, and sealed by [`crate::seal::seal_at`].
//!
//! [`read`] validates the whole component with `wasmparser` (component model
//! and every nested core module) in one pass over its payloads, and lists the
//! core modules it defines, also those of nested components, with where they
//! are and the names the `component-name` sections give them. A core module
//! or component the component only imports is not in the file and is not
//! judged; the report says so.
//!
//! [`seal`](fn@seal) seals every memory a core module defines, then
//! re-encodes the component with `wasm-encoder`: a sealed module replaces its
//! core module section, the components around it are re-encoded the same
//! way, and every other section is copied byte for byte, size field
//! included.

use std::collections::BTreeMap;
use std::fmt;
use std::ops::Range;

use wasm_encoder::{ComponentSectionId, Encode, RawSection};
use wasmparser::{
    ComponentName, ComponentTypeRef, Encoding, KnownCustom, Parser, Payload, ValidPayload,
    Validator, WasmFeatures,
};

use crate::check::{self, Report, Verdict};
use crate::error::{Error, Result};
use crate::module;
use crate::seal::{self, Sealed};
use crate::tables::TableVerdict;

/// Deepest nesting of components read. Real components nest a few levels;
/// the limit keeps the re-encoding's recursion bounded on hostile input.
pub const MAX_NESTING: usize = 100;

/// Whether `bytes` starts with the header of a component (rather than of a
/// core module).
pub fn is_component(bytes: &[u8]) -> bool {
    Parser::is_component(bytes)
}

/// Where a core module is in a component: the index of each nested
/// component on the way (outermost first, each in its parent's component
/// index space), then the module's index in the innermost component's core
/// module index space. Printed `module 1` or `component 0/module 1`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct ModulePath {
    /// Indices of the nested components that contain the module.
    pub components: Vec<u32>,
    /// Index of the module in its component's core module index space.
    pub module: u32,
}

impl fmt::Display for ModulePath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for c in &self.components {
            write!(f, "component {c}/")?;
        }
        write!(f, "module {}", self.module)
    }
}

/// A core module defined in a component.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CoreModule {
    /// Where it is in the component.
    pub path: ModulePath,
    /// The module's bytes (from its `\0asm` to its end): offsets in the file.
    pub range: Range<usize>,
    /// The name its component's `component-name` section gives it.
    pub component_name: Option<String>,
}

/// The sections of a component (or of a nested one), for re-encoding.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Layout {
    /// The whole component, header included: offsets in the file.
    pub range: Range<usize>,
    /// Its sections, in order.
    pub sections: Vec<SectionAt>,
}

/// One section of a component.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SectionAt {
    /// The section id.
    pub id: u8,
    /// The whole section: id byte, size, contents.
    pub whole: Range<usize>,
    /// What it holds, when it is a core module or a component.
    pub nested: Nested,
}

/// What a component section holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Nested {
    /// Anything but a module or a component.
    None,
    /// A core module: its index in [`Component::modules`].
    Module(usize),
    /// A nested component.
    Component(Layout),
}

/// A validated component: its core modules and its layout.
#[derive(Debug, Clone)]
pub struct Component {
    /// Every core module it defines, nested components' included, in file
    /// order.
    pub modules: Vec<CoreModule>,
    /// The top-level component's sections.
    pub layout: Layout,
    /// Things noticed but not refused (imported modules and components, a
    /// malformed `component-name` section).
    pub notes: Vec<String>,
}

/// A component being read: its layout so far, the names its
/// `component-name` section gives, and the modules and components it
/// defines (`(index in its index space, what)`).
struct Open {
    path: Vec<u32>,
    layout: Layout,
    /// End of the last section read (or of the header).
    end: usize,
    module_names: BTreeMap<u32, String>,
    modules: Vec<(u32, usize)>,
    /// Index in the parent's `layout.sections` of this component's section.
    in_parent: usize,
}

impl Open {
    fn new(path: Vec<u32>, range: Range<usize>, in_parent: usize) -> Self {
        Self {
            path,
            end: range.start,
            layout: Layout {
                range,
                sections: Vec::new(),
            },
            module_names: BTreeMap::new(),
            modules: Vec::new(),
            in_parent,
        }
    }

    fn label(&self) -> String {
        component_label(&self.path)
    }
}

/// `component 0/component 2` for messages; `the component` at the top.
fn component_label(path: &[u32]) -> String {
    if path.is_empty() {
        return "the component".into();
    }
    path.iter()
        .map(|c| format!("component {c}"))
        .collect::<Vec<_>>()
        .join("/")
}

/// What the payloads being read belong to.
enum Frame {
    Component(Open),
    /// A nested core module: its index in the list of modules.
    Module(usize),
}

/// Validates a component and lists its core modules. Every error names the
/// byte offset and where in the component it is (`in module 1: …`).
pub fn read(bytes: &[u8]) -> Result<Component> {
    if !bytes.starts_with(b"\0asm") {
        return Err(Error::at(
            0,
            "not a WebAssembly component (missing the \\0asm magic)",
        ));
    }
    let features = WasmFeatures::default();
    let mut validator = Validator::new_with_features(features);
    let mut parser = Parser::new(0);
    parser.set_features(features);
    let mut modules: Vec<CoreModule> = Vec::new();
    let mut notes = Vec::new();
    let mut stack = vec![Frame::Component(Open::new(Vec::new(), 0..bytes.len(), 0))];
    let mut bodies = Vec::new();
    let mut done = None;
    for payload in parser.parse_all(bytes) {
        let payload = payload.map_err(|e| inside(&stack, &modules, e.into()))?;
        let top_is_root = stack.len() == 1;
        // The index the next module or component takes, read before the
        // validator sees its section.
        let next = validator
            .types(0)
            .map(|t| (t.module_count(), t.component_count()));
        match validator.payload(&payload) {
            Ok(ValidPayload::Func(func, body)) => {
                if let Some(Frame::Module(i)) = stack.last() {
                    bodies.push((func, body, *i));
                }
            }
            Ok(_) => {}
            Err(e) => return Err(inside(&stack, &modules, e.into())),
        }
        let Some(frame) = stack.last_mut() else {
            return Err(Error::whole("internal: payload after the component's end"));
        };
        let open = match frame {
            Frame::Module(_) => {
                if let Payload::End(_) = payload {
                    stack.pop();
                }
                continue;
            }
            Frame::Component(open) => open,
        };
        if let Payload::Version {
            encoding, range, ..
        } = &payload
        {
            if *encoding == Encoding::Module && top_is_root {
                return Err(Error::at(
                    range.start,
                    "this is a core module, not a component",
                ));
            }
            open.end = range.end;
            continue;
        }
        if let Payload::End(_) = payload {
            let Some(Frame::Component(done_open)) = stack.pop() else {
                return Err(Error::whole("internal: component end without a component"));
            };
            for &(index, i) in &done_open.modules {
                if let Some(m) = modules.get_mut(i) {
                    m.component_name = done_open.module_names.get(&index).cloned();
                }
            }
            match stack.last_mut() {
                Some(Frame::Component(parent)) => {
                    if let Some(s) = parent.layout.sections.get_mut(done_open.in_parent) {
                        s.nested = Nested::Component(done_open.layout);
                    }
                }
                Some(Frame::Module(_)) => {
                    return Err(Error::whole("internal: a component inside a core module"));
                }
                None => done = Some(done_open.layout),
            }
            continue;
        }
        let Some((id, contents)) = payload.as_section() else {
            continue;
        };
        let whole = open.end..contents.end;
        open.end = contents.end;
        let at = open.layout.sections.len();
        let mut nested = Nested::None;
        let mut push = None;
        match &payload {
            Payload::ModuleSection {
                unchecked_range, ..
            } => {
                let Some((index, _)) = next else {
                    return Err(Error::whole("internal: a module outside a component"));
                };
                let path = ModulePath {
                    components: open.path.clone(),
                    module: index,
                };
                within(bytes, unchecked_range, &path.to_string())?;
                open.modules.push((index, modules.len()));
                nested = Nested::Module(modules.len());
                push = Some(Frame::Module(modules.len()));
                modules.push(CoreModule {
                    path,
                    range: unchecked_range.clone(),
                    component_name: None,
                });
            }
            Payload::ComponentSection {
                unchecked_range, ..
            } => {
                let Some((_, index)) = next else {
                    return Err(Error::whole("internal: a component outside a component"));
                };
                if open.path.len() + 1 > MAX_NESTING {
                    return Err(Error::at(
                        unchecked_range.start,
                        format!("components nested more than {MAX_NESTING} deep: not supported"),
                    ));
                }
                let mut path = open.path.clone();
                path.push(index);
                within(bytes, unchecked_range, &component_label(&path))?;
                push = Some(Frame::Component(Open::new(
                    path,
                    unchecked_range.clone(),
                    at,
                )));
            }
            Payload::ComponentImportSection(r) => {
                for imp in r.clone() {
                    let imp = imp?;
                    let what = match imp.ty {
                        ComponentTypeRef::Module(_) => "a core module",
                        ComponentTypeRef::Component(_) => "a component",
                        _ => continue,
                    };
                    notes.push(format!(
                        "{} imports {what} (`{}`): it is not in this file and is not judged",
                        open.label(),
                        imp.name.0
                    ));
                }
            }
            Payload::CustomSection(c) if c.name() == "component-name" => {
                if let KnownCustom::ComponentName(names) = c.as_known() {
                    if let Err(e) = read_names(names, open) {
                        notes.push(format!(
                            "component-name section of {} malformed at byte {}: {} (names ignored past it)",
                            open.label(),
                            e.offset(),
                            e.message()
                        ));
                    }
                }
            }
            _ => {}
        }
        open.layout.sections.push(SectionAt { id, whole, nested });
        if let Some(frame) = push {
            stack.push(frame);
        }
    }
    let mut allocations = wasmparser::FuncValidatorAllocations::default();
    for (func, body, i) in bodies {
        let mut func = func.into_validator(allocations);
        func.validate(&body)
            .map_err(|e| in_module(&modules, i, e.into()))?;
        allocations = func.into_allocations();
    }
    let layout =
        done.ok_or_else(|| Error::at(bytes.len(), "truncated: the component has no end"))?;
    Ok(Component {
        modules,
        layout,
        notes,
    })
}

/// A nested module or component ends inside the file. (The parser, made to
/// stream, ends a nested one where the input ends if that is between two of
/// its sections.)
fn within(bytes: &[u8], range: &Range<usize>, what: &str) -> Result<()> {
    if range.end > bytes.len() {
        return Err(Error::at(
            bytes.len(),
            format!(
                "truncated: {what} is bytes {}..{}, the file ends at byte {}",
                range.start,
                range.end,
                bytes.len()
            ),
        ));
    }
    Ok(())
}

/// The names a `component-name` section gives core modules.
fn read_names(
    names: wasmparser::ComponentNameSectionReader<'_>,
    open: &mut Open,
) -> std::result::Result<(), wasmparser::BinaryReaderError> {
    for sub in names {
        if let ComponentName::CoreModules(map) = sub? {
            for n in map {
                let n = n?;
                open.module_names.insert(n.index, n.name.to_string());
            }
        }
    }
    Ok(())
}

/// `e`, said to be in the module or component being read.
fn inside(stack: &[Frame], modules: &[CoreModule], e: Error) -> Error {
    match stack.last() {
        Some(Frame::Module(i)) => in_module(modules, *i, e),
        Some(Frame::Component(open)) => Error {
            message: format!("in {}: {}", open.label(), e.message),
            ..e
        },
        None => e,
    }
}

/// `e`, said to be in module `i`.
fn in_module(modules: &[CoreModule], i: usize, e: Error) -> Error {
    match modules.get(i) {
        Some(m) => Error {
            message: format!("in {}: {}", m.path, e.message),
            ..e
        },
        None => e,
    }
}

/// The bytes of a core module of the component `bytes`.
fn module_bytes<'a>(bytes: &'a [u8], m: &CoreModule) -> Result<&'a [u8]> {
    bytes.get(m.range.clone()).ok_or_else(|| {
        Error::at(
            m.range.start,
            format!("{} extends past the end of the file", m.path),
        )
    })
}

/// One core module of a component, judged.
#[derive(Debug, Clone)]
pub struct ModuleReport {
    /// Where it is.
    pub module: CoreModule,
    /// The module's own name, from its `name` section.
    pub module_name: Option<String>,
    /// The verdict and its facts, as for a core module file.
    pub report: Report,
}

impl ModuleReport {
    /// The name to show: the component's name for it, else its own.
    pub fn name(&self) -> Option<&str> {
        self.module
            .component_name
            .as_deref()
            .or(self.module_name.as_deref())
    }

    /// `module 1 "name"` for messages.
    pub fn label(&self) -> String {
        match self.name() {
            Some(n) => format!("{} {n:?}", self.module.path),
            None => self.module.path.to_string(),
        }
    }

    /// Whether the module defines a memory.
    pub fn defines_memory(&self) -> bool {
        self.report.memories.iter().any(|m| m.import.is_none())
    }

    /// Whether the module imports a memory.
    pub fn imports_memory(&self) -> bool {
        self.report.memories.iter().any(|m| m.import.is_some())
    }
}

/// Every core module of a component, judged, and the verdicts over them all.
#[derive(Debug, Clone)]
pub struct ComponentReport {
    /// The core modules, in file order.
    pub modules: Vec<ModuleReport>,
    /// The worst memory verdict of the modules (`cannot-grow` when there is
    /// none).
    pub verdict: Verdict,
    /// The worst table verdict of the modules.
    pub tables: TableVerdict,
    /// Observations about the component, one line each.
    pub notes: Vec<String>,
}

impl ComponentReport {
    /// Whether every module's verdict meets `level`.
    pub fn meets(&self, level: check::Level) -> bool {
        self.modules.iter().all(|m| m.report.verdict.meets(level))
    }

    /// Whether every module's table verdict meets `--require-fixed-tables`
    /// (when `required`).
    pub fn tables_meet(&self, required: bool) -> bool {
        self.modules.iter().all(|m| m.report.tables.meets(required))
    }
}

/// Checks a component: validates it, then judges each of its core modules
/// as [`crate::check::check`] judges a core module file.
pub fn check(bytes: &[u8]) -> Result<ComponentReport> {
    let c = read(bytes)?;
    let mut notes = c.notes;
    let mut modules = Vec::with_capacity(c.modules.len());
    for m in c.modules {
        let facts = module::read_at(module_bytes(bytes, &m)?, m.range.start)
            .map_err(|e| in_module(std::slice::from_ref(&m), 0, e))?;
        let report = check::judge(&facts);
        modules.push(ModuleReport {
            module: m,
            module_name: facts.module_name,
            report,
        });
    }
    for m in &modules {
        for mem in m.report.memories.iter().filter(|mem| mem.import.is_some()) {
            if let Some((from, name)) = &mem.import {
                notes.push(format!(
                    "{} imports memory {} ({from}.{name}): its own memory.grow is judged here; \
                     the module that defines the memory is judged for its maximum",
                    m.module.path, mem.index
                ));
            }
        }
    }
    if modules.is_empty() {
        notes.push("the component defines no core module: no memory to grow".into());
    }
    Ok(ComponentReport {
        verdict: modules
            .iter()
            .map(|m| m.report.verdict)
            .max()
            .unwrap_or(Verdict::CannotGrow),
        tables: modules
            .iter()
            .map(|m| m.report.tables.verdict)
            .max()
            .unwrap_or(TableVerdict::TablesFixed),
        modules,
        notes,
    })
}

/// One core module of a component, sealed.
#[derive(Debug, Clone)]
pub struct SealedModule {
    /// Where it is (in the input and the output alike).
    pub path: ModulePath,
    /// The name the component gives it, else its own.
    pub name: Option<String>,
    /// The sealing of the module (`bytes` is the sealed module alone).
    pub sealed: Sealed,
}

/// The result of sealing a component.
#[derive(Debug, Clone)]
pub struct SealedComponent {
    /// The output component.
    pub bytes: Vec<u8>,
    /// Each module that defines a memory, sealed.
    pub sealed: Vec<SealedModule>,
    /// The modules left as they are, and why, one line each.
    pub skipped: Vec<String>,
    /// Whether any byte changed.
    pub changed: bool,
}

/// Seals a component: every core module that defines its memory gets
/// maximum `max_pages` (default: the memory's initial size), by
/// [`crate::seal::seal_at`]; a module that only imports a memory, or has
/// none, is left as it is. Refused when no module defines a memory, or when
/// one refuses sealing (several memories, a custom page size, …).
pub fn seal(bytes: &[u8], max_pages: Option<u64>) -> Result<SealedComponent> {
    let c = read(bytes)?;
    let mut sealed = Vec::new();
    let mut skipped = Vec::new();
    let mut new = BTreeMap::new();
    for (i, m) in c.modules.iter().enumerate() {
        let code = module_bytes(bytes, m)?;
        let facts =
            module::read_at(code, m.range.start).map_err(|e| in_module(&c.modules, i, e))?;
        let name = m.component_name.clone().or(facts.module_name.clone());
        if facts.memories.is_empty() {
            skipped.push(format!("{}: no memory", m.path));
            continue;
        }
        if facts.memories.iter().all(|mem| mem.import.is_some()) {
            let imports: Vec<String> = facts
                .memories
                .iter()
                .filter_map(|mem| mem.import.as_ref())
                .map(|(from, n)| format!("{from}.{n}"))
                .collect();
            skipped.push(format!(
                "{}: imports its memory ({}): the module that defines it is sealed",
                m.path,
                imports.join(", ")
            ));
            continue;
        }
        let s = seal::seal_at(code, m.range.start, max_pages)
            .map_err(|e| in_module(&c.modules, i, e))?;
        if s.changed {
            new.insert(i, s.bytes.clone());
        }
        sealed.push(SealedModule {
            path: m.path.clone(),
            name,
            sealed: s,
        });
    }
    if sealed.is_empty() {
        return Err(Error::whole(
            "no core module of the component defines a memory: nothing to seal",
        ));
    }
    let out = match encode(&c.layout, bytes, &new)? {
        None => bytes.to_vec(),
        Some(out) => {
            verify(&c, &out, &sealed)?;
            out
        }
    };
    Ok(SealedComponent {
        changed: !new.is_empty(),
        bytes: out,
        sealed,
        skipped,
    })
}

/// The sealed component validates, has the same modules, and each sealed
/// memory has its new maximum.
fn verify(before: &Component, out: &[u8], sealed: &[SealedModule]) -> Result<()> {
    let internal = |what: String| Error::whole(format!("internal: the sealed component {what}"));
    let after = read(out).map_err(|e| internal(format!("does not validate: {e}")))?;
    let paths = |c: &Component| c.modules.iter().map(|m| m.path.clone()).collect::<Vec<_>>();
    if paths(&after) != paths(before) {
        return Err(internal("does not have the same core modules".into()));
    }
    for s in sealed {
        let Some(m) = after.modules.iter().find(|m| m.path == s.path) else {
            return Err(internal(format!("lost {}", s.path)));
        };
        let facts = module::read_at(module_bytes(out, m)?, m.range.start)
            .map_err(|e| internal(format!("has an unreadable {}: {e}", s.path)))?;
        if !facts
            .memories
            .iter()
            .any(|mem| mem.import.is_none() && mem.maximum == Some(s.sealed.maximum))
        {
            return Err(internal(format!("did not seal {}", s.path)));
        }
    }
    Ok(())
}

/// A section copied as it is: its id, then its size field and contents
/// byte for byte (a size written in more bytes than needed stays so).
struct Verbatim<'a> {
    id: u8,
    after_id: &'a [u8],
}

impl Encode for Verbatim<'_> {
    fn encode(&self, sink: &mut Vec<u8>) {
        sink.extend_from_slice(self.after_id);
    }
}

impl wasm_encoder::ComponentSection for Verbatim<'_> {
    fn id(&self) -> u8 {
        self.id
    }
}

/// Re-encodes the component `layout` of `bytes` with the modules in `new`
/// (by index in [`Component::modules`]) replaced, or `None` when none of
/// its modules, nested components' included, is replaced.
fn encode(
    layout: &Layout,
    bytes: &[u8],
    new: &BTreeMap<usize, Vec<u8>>,
) -> Result<Option<Vec<u8>>> {
    let internal = |what: &str| {
        Error::at(
            layout.range.start,
            format!("internal: cannot re-encode the component: {what}"),
        )
    };
    let header = layout
        .range
        .start
        .checked_add(8)
        .and_then(|end| bytes.get(layout.range.start..end));
    if header != Some(&wasm_encoder::Component::HEADER[..]) {
        return Err(internal("its header is not the one wasm-encoder writes"));
    }
    let mut out = wasm_encoder::Component::new();
    let mut changed = false;
    let mut end = layout.range.start + 8;
    for s in &layout.sections {
        let whole = bytes
            .get(s.whole.clone())
            .filter(|w| s.whole.start == end && w.first() == Some(&s.id))
            .ok_or_else(|| internal("a section is not where it was read"))?;
        end = s.whole.end;
        let replaced = match &s.nested {
            Nested::Module(i) => new
                .get(i)
                .map(|m| (ComponentSectionId::CoreModule, m.clone())),
            Nested::Component(inner) => {
                encode(inner, bytes, new)?.map(|c| (ComponentSectionId::Component, c))
            }
            Nested::None => None,
        };
        match replaced {
            Some((id, data)) => {
                out.section(&RawSection {
                    id: id.into(),
                    data: &data,
                });
                changed = true;
            }
            None => {
                out.section(&Verbatim {
                    id: s.id,
                    after_id: &whole[1..],
                });
            }
        }
    }
    if end != layout.range.end {
        return Err(internal("its sections do not cover it"));
    }
    Ok(changed.then(|| out.finish()))
}
