//! `nogrow seal`: rewrite the memory's declared maximum so the engine itself
//! refuses growth (and `toResizableBuffer()` becomes available to JS).
//!
//! Only the memory section is re-encoded; every other byte of the input is
//! copied as it is. A module whose maximum already is the target comes back
//! byte-identical, so sealing twice changes nothing.

use wasm_encoder::{MemorySection, MemoryType, Section};

use crate::error::{Error, Result};
use crate::graph::Reach;
use crate::module::{self, Module};

/// The largest memory32 maximum: 4 GiB of 64 KiB pages.
pub const MAX_PAGES_32: u64 = 1 << 16;
/// The largest memory64 maximum: 2^64 bytes of 64 KiB pages.
pub const MAX_PAGES_64: u64 = 1 << 48;

/// The result of sealing.
#[derive(Debug, Clone)]
pub struct Sealed {
    /// The output module.
    pub bytes: Vec<u8>,
    /// The maximum before, in pages.
    pub old_maximum: Option<u64>,
    /// The maximum now, in pages.
    pub maximum: u64,
    /// The initial size, in pages.
    pub initial: u64,
    /// Whether any byte changed.
    pub changed: bool,
    /// Things the user should know (growth the sealed module will now see fail).
    pub warnings: Vec<String>,
}

/// Seals `bytes`: sets memory 0's maximum to `max_pages` (default: its
/// initial size).
pub fn seal(bytes: &[u8], max_pages: Option<u64>) -> Result<Sealed> {
    seal_at(bytes, 0, max_pages)
}

/// [`seal`] for a core module that starts at byte `base` of a larger file (a
/// core module inside a component): `bytes` is the module alone, the output
/// is the sealed module alone, and the offsets in errors are offsets in the
/// file.
pub fn seal_at(bytes: &[u8], base: usize, max_pages: Option<u64>) -> Result<Sealed> {
    let m = module::read_at(bytes, base)?;
    let span = m.memory_section.clone();
    let mem = match m.memories.as_slice() {
        [] => return Err(Error::whole("the module has no memory: nothing to seal")),
        [mem] => mem,
        mems => {
            return Err(Error::whole(format!(
                "multi-memory module ({} memories): nogrow seal handles exactly one memory",
                mems.len()
            )));
        }
    };
    if let Some((module, name)) = &mem.import {
        return Err(Error::whole(format!(
            "the memory is imported ({module}.{name}): the host creates it, so give it a \
             maximum there (new WebAssembly.Memory({{ initial: {0}, maximum: {0} }}))",
            mem.initial
        )));
    }
    let Some(span) = span else {
        return Err(Error::whole(
            "internal: defined memory but no memory section found",
        ));
    };
    if let Some(log2) = mem.page_size_log2 {
        return Err(Error::at(
            span.whole.start,
            format!("the memory has a custom page size (2^{log2} bytes): not supported"),
        ));
    }
    let limit = if mem.memory64 {
        MAX_PAGES_64
    } else {
        MAX_PAGES_32
    };
    let target = max_pages.unwrap_or(mem.initial);
    if target < mem.initial {
        return Err(Error::whole(format!(
            "--max-pages {target} is below the memory's initial size ({} pages)",
            mem.initial
        )));
    }
    if target > limit {
        return Err(Error::whole(format!(
            "--max-pages {target} is above the {}-bit limit of {limit} pages",
            if mem.memory64 { 64 } else { 32 }
        )));
    }
    if let Some(old) = mem.maximum {
        if target > old {
            return Err(Error::whole(format!(
                "--max-pages {target} is above the declared maximum ({old} pages){}: sealing \
                 only lowers a maximum",
                if mem.shared {
                    " of a shared memory"
                } else {
                    ""
                }
            )));
        }
    }

    let warnings = growth_warnings(&m, target);
    if mem.maximum == Some(target) {
        return Ok(Sealed {
            bytes: bytes.to_vec(),
            old_maximum: mem.maximum,
            maximum: target,
            initial: mem.initial,
            changed: false,
            warnings,
        });
    }

    let mut section = MemorySection::new();
    section.memory(MemoryType {
        minimum: mem.initial,
        maximum: Some(target),
        memory64: mem.memory64,
        shared: mem.shared,
        page_size_log2: None,
    });
    let (Some(before), Some(after)) = (
        span.whole
            .start
            .checked_sub(base)
            .and_then(|start| bytes.get(..start)),
        span.whole
            .end
            .checked_sub(base)
            .and_then(|end| bytes.get(end..)),
    ) else {
        return Err(Error::whole(
            "internal: the memory section lies outside the module",
        ));
    };
    let mut out = Vec::with_capacity(bytes.len() + 8);
    out.extend_from_slice(before);
    section.append_to(&mut out);
    out.extend_from_slice(after);
    module::validate(&out).map_err(|e| {
        Error::whole(format!(
            "internal: the sealed module does not validate: {e}"
        ))
    })?;
    Ok(Sealed {
        bytes: out,
        old_maximum: mem.maximum,
        maximum: target,
        initial: mem.initial,
        changed: true,
        warnings,
    })
}

/// Reachable `memory.grow` that will fail once the memory is sealed.
fn growth_warnings(m: &Module, target: u64) -> Vec<String> {
    let reach = Reach::from_entry_points(m);
    m.grows
        .iter()
        .filter(|g| reach.reaches(g.func))
        .map(|g| {
            format!(
                "memory.grow in func[{}] {} is reachable; past {target} pages it now returns -1",
                g.func,
                m.display_name(g.func)
            )
        })
        .collect()
}
