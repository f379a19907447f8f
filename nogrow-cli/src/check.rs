//! `nogrow check`: can this module grow its memory, and if so, only through
//! nogrow's signalled growth path? And, as a separate verdict, can it grow a
//! table (see [`crate::tables`])? The facts and the verdict; the text and
//! JSON output are in [`crate::render`].

use crate::error::Result;
use crate::graph::{Reach, Via};
use crate::module::{self, GrowSite, Memory, Module};
use crate::tables::{self, Tables};

/// The nogrow C ABI exports, in the order they are reported.
pub const ABI_EXPORTS: [&str; 3] = ["nogrow_state", "nogrow_generation", "nogrow_reserve"];

/// What the module can do to its memory, from best to worst.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Verdict {
    /// No reachable `memory.grow` on a memory the engine lets grow (every
    /// memory either has no reachable `memory.grow` or has maximum == initial).
    CannotGrow,
    /// Grows only in nogrow's code, and only as a Reserve policy does: the
    /// growth is reachable from `nogrow_reserve` (and from the lazy reserve on
    /// first allocation); the generation counter is exported.
    GrowsViaNogrowReserve,
    /// Grows only in nogrow's code, which bumps the exported generation.
    GrowsViaNogrowSignal,
    /// A reachable `memory.grow` that is not shown to be nogrow's (or nogrow's
    /// without the exports a host needs to notice it).
    CanGrowImplicitly,
}

impl Verdict {
    /// The verdict as printed (`cannot-grow`, …).
    pub const fn as_str(self) -> &'static str {
        match self {
            Verdict::CannotGrow => "cannot-grow",
            Verdict::GrowsViaNogrowReserve => "grows-via-nogrow-reserve",
            Verdict::GrowsViaNogrowSignal => "grows-via-nogrow-signal",
            Verdict::CanGrowImplicitly => "can-grow-implicitly",
        }
    }

    /// Whether this verdict is acceptable under `level`.
    pub fn meets(self, level: Level) -> bool {
        match level {
            Level::CannotGrow => self == Verdict::CannotGrow,
            Level::Reserve => self <= Verdict::GrowsViaNogrowReserve,
            Level::Signal => self <= Verdict::GrowsViaNogrowSignal,
        }
    }
}

/// The worst verdict a caller accepts (`--require cannot-grow`, `--allow signal`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Level {
    /// Only `cannot-grow` (the default).
    CannotGrow,
    /// Also `grows-via-nogrow-reserve`.
    Reserve,
    /// Also `grows-via-nogrow-signal`.
    Signal,
}

impl Level {
    /// Parses `cannot-grow` (the verdict it requires; `no-grow` is the old
    /// name, still accepted), `reserve`, `signal`.
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "cannot-grow" | "no-grow" => Some(Level::CannotGrow),
            "reserve" => Some(Level::Reserve),
            "signal" => Some(Level::Signal),
            _ => None,
        }
    }

    /// The level as written on the command line.
    pub const fn as_str(self) -> &'static str {
        match self {
            Level::CannotGrow => "cannot-grow",
            Level::Reserve => "reserve",
            Level::Signal => "signal",
        }
    }
}

/// Whose code a `memory.grow` is in, judged by the name section.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Owner {
    /// A function of the `nogrow` crate (`nogrow::…` or `<nogrow::… as …>`).
    Nogrow,
    /// A named function of any other crate or language.
    Other,
    /// The function has no name: the name section is missing or stripped.
    Unnamed,
}

impl Owner {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Owner::Nogrow => "nogrow",
            Owner::Other => "other",
            Owner::Unnamed => "unknown",
        }
    }
}

/// One `memory.grow`, judged.
#[derive(Debug, Clone)]
pub struct Grow {
    /// Where it is.
    pub site: GrowSite,
    /// Demangled name of its function, if the name section has one.
    pub name: Option<String>,
    /// Whose code it is in.
    pub owner: Owner,
    /// Reachable from an export or the start function.
    pub reachable: bool,
    /// One call chain from an entry point to the function (names).
    pub path: Vec<String>,
    /// The chain starts at an indirect-call target, not an export.
    pub via_indirect: bool,
    /// The memory it grows has maximum == initial: the engine refuses.
    pub memory_fixed: bool,
}

/// The nogrow ABI as seen in the module.
#[derive(Debug, Clone, Default)]
pub struct Abi {
    /// `(export name, function index)` for each ABI export present.
    pub exports: Vec<(&'static str, u32)>,
    /// Policy from the `nogrow` custom section: `(abi_version, kind)`.
    pub section: Option<(u32, u32)>,
    /// Policy inferred from the code: `fail`, `reserve`, `signal`.
    pub inferred: Option<&'static str>,
}

impl Abi {
    /// The policy name a guest's `nogrow` section reports.
    pub fn section_policy(&self) -> Option<&'static str> {
        self.section.map(|(_, kind)| match kind {
            1 => "fail",
            2 => "reserve",
            3 => "signal",
            _ => "unknown",
        })
    }

    /// The policy to report: from the section, else inferred.
    pub fn policy(&self) -> Option<&'static str> {
        self.section_policy().or(self.inferred)
    }

    fn has(&self, name: &str) -> bool {
        self.exports.iter().any(|(n, _)| *n == name)
    }
}

/// Everything `check` found, and the verdict.
#[derive(Debug, Clone)]
pub struct Report {
    /// The memories.
    pub memories: Vec<Memory>,
    /// Every `memory.grow`.
    pub grows: Vec<Grow>,
    /// The nogrow ABI.
    pub abi: Abi,
    /// The module has function names.
    pub has_names: bool,
    /// The verdict.
    pub verdict: Verdict,
    /// Why, one line each.
    pub reasons: Vec<String>,
    /// Other observations, one line each.
    pub notes: Vec<String>,
    /// The tables, every `table.grow`, and the table verdict (independent of
    /// the memory verdict above).
    pub tables: Tables,
}

/// Whether a demangled name is a function of the `nogrow` crate.
pub fn is_nogrow_fn(demangled: &str) -> bool {
    demangled.starts_with("nogrow::") || demangled.starts_with("<nogrow::")
}

/// Checks a module's bytes.
pub fn check(bytes: &[u8]) -> Result<Report> {
    let m = module::read(bytes)?;
    Ok(judge(&m))
}

/// The verdict over facts already read.
pub fn judge(m: &Module) -> Report {
    let reach = Reach::from_entry_points(m);
    let names = |path: &[u32]| path.iter().map(|&f| m.display_name(f)).collect::<Vec<_>>();
    let grows: Vec<Grow> = m
        .grows
        .iter()
        .map(|&site| {
            let name = m.names.get(&site.func).map(|n| module::demangle(n));
            let owner = match &name {
                Some(n) if is_nogrow_fn(n) => Owner::Nogrow,
                Some(_) => Owner::Other,
                None => Owner::Unnamed,
            };
            let memory_fixed = m
                .memories
                .get(site.mem as usize)
                .is_some_and(Memory::is_fixed);
            Grow {
                site,
                name,
                owner,
                reachable: reach.reaches(site.func),
                path: names(&reach.path(site.func)),
                via_indirect: reach.how(site.func) == Some(Via::Indirect),
                memory_fixed,
            }
        })
        .collect();

    let mut notes = m.notes.clone();
    let mut abi = Abi {
        exports: ABI_EXPORTS
            .iter()
            .filter_map(|&n| m.export(n).map(|f| (n, f)))
            .collect(),
        ..Abi::default()
    };
    if let Some(data) = &m.nogrow_section {
        match parse_section(data) {
            Ok(rec) => abi.section = Some(rec),
            Err(why) => notes.push(format!("`nogrow` custom section ignored: {why}")),
        }
    }
    let nogrow_sites: Vec<&Grow> = grows.iter().filter(|g| g.owner == Owner::Nogrow).collect();
    if !abi.exports.is_empty() {
        abi.inferred = if m.grows.is_empty() {
            Some("fail")
        } else if let Some(reserve) = m.export("nogrow_reserve") {
            let from_reserve = Reach::from(m, &[reserve], false);
            if nogrow_sites
                .iter()
                .any(|g| from_reserve.reaches(g.site.func))
            {
                Some("reserve")
            } else if nogrow_sites.iter().any(|g| g.reachable) {
                Some("signal")
            } else {
                None
            }
        } else {
            None
        };
    }
    if let (Some(section), Some(inferred)) = (abi.section_policy(), abi.inferred) {
        if section != inferred {
            notes.push(format!(
                "the `nogrow` section says policy {section} but the code looks like {inferred}"
            ));
        }
    }

    let mut reasons = Vec::new();
    // Growth the engine would allow: reachable, on a memory that may grow.
    let live: Vec<&Grow> = grows
        .iter()
        .filter(|g| g.reachable && !g.memory_fixed)
        .collect();
    for g in grows.iter().filter(|g| g.reachable && g.memory_fixed) {
        reasons.push(format!(
            "memory.grow in {} is reachable but memory {} has maximum == initial: the engine refuses it",
            show(m, g),
            g.site.mem
        ));
    }
    let verdict = if live.is_empty() {
        if grows.is_empty() {
            reasons.push("no memory.grow instruction in the module".into());
        } else if grows.iter().all(|g| !g.reachable) {
            reasons.push("every memory.grow is in a function no export or start can reach".into());
        }
        Verdict::CannotGrow
    } else {
        let foreign: Vec<&&Grow> = live.iter().filter(|g| g.owner != Owner::Nogrow).collect();
        for g in &foreign {
            reasons.push(match g.owner {
                Owner::Unnamed => format!(
                    "reachable memory.grow in {} (no name: cannot be attributed to nogrow)",
                    show(m, g)
                ),
                _ => format!("reachable memory.grow in {}, not nogrow's code", show(m, g)),
            });
        }
        if !foreign.is_empty() {
            Verdict::CanGrowImplicitly
        } else if !(abi.has("nogrow_generation") || abi.has("nogrow_state")) {
            reasons.push(
                "memory.grow only in nogrow's code, but neither nogrow_generation nor nogrow_state \
                 is exported: the host cannot notice growth"
                    .into(),
            );
            Verdict::CanGrowImplicitly
        } else {
            let reserve = abi.inferred == Some("reserve")
                && abi.section_policy().is_none_or(|p| p == "reserve");
            for g in &live {
                reasons.push(format!("reachable memory.grow in {} (nogrow)", show(m, g)));
            }
            if reserve {
                reasons.push(
                    "growth is nogrow's Reserve path: once, by nogrow_reserve or the first allocation"
                        .into(),
                );
                Verdict::GrowsViaNogrowReserve
            } else {
                reasons.push("growth is nogrow's: it bumps the exported generation counter".into());
                Verdict::GrowsViaNogrowSignal
            }
        }
    };

    if !m.has_function_names && !m.grows.is_empty() {
        notes.push("no function names (name section missing or stripped)".into());
    }
    for mem in &m.memories {
        if !mem.is_fixed() && (mem.import.is_some() || !mem.exports.is_empty()) {
            notes.push(format!(
                "memory {} is {} without maximum == initial: the host can still grow it{}",
                mem.index,
                if mem.import.is_some() {
                    "imported"
                } else {
                    "exported"
                },
                if mem.import.is_none() {
                    " (`nogrow seal` fixes the maximum)"
                } else {
                    ""
                }
            ));
        }
    }
    if m.memories.is_empty() {
        notes.push("the module has no memory".into());
    }

    Report {
        memories: m.memories.clone(),
        grows,
        abi,
        has_names: m.has_function_names,
        verdict,
        reasons,
        notes,
        tables: tables::judge(m, &reach),
    }
}

/// `func[N] NAME` for messages.
fn show(m: &Module, g: &Grow) -> String {
    match &g.name {
        Some(n) => format!("func[{}] {n}", g.site.func),
        None => format!("func[{}] ({})", g.site.func, m.display_name(g.site.func)),
    }
}

/// The `nogrow` custom section: records of `abi_version: u32le, policy: u32le`.
/// Several records (one per linked object) must agree.
fn parse_section(data: &[u8]) -> std::result::Result<(u32, u32), String> {
    if data.is_empty() || data.len() % 8 != 0 {
        return Err(format!("{} bytes, expected records of 8", data.len()));
    }
    let mut recs = data.chunks_exact(8).map(|c| {
        let word = |i: usize| u32::from_le_bytes([c[i], c[i + 1], c[i + 2], c[i + 3]]);
        (word(0), word(4))
    });
    let first = recs.next().unwrap_or_default();
    if recs.any(|r| r != first) {
        return Err("records disagree".into());
    }
    Ok(first)
}
