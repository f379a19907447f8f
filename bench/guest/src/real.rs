//! The real workloads: real code (serde_json, regex) on real documents the
//! host hands in, the way a guest gets its input: the host calls
//! [`input_alloc`] (a block from the allocator under test, so the document
//! counts toward the capacity), writes the bytes, then calls the workload. The
//! result stays in the module ([`output_ptr`], [`output_len`]) for the host
//! to check.
//!
//! Running out of memory inside serde_json or regex aborts (std's allocation
//! error handler): the host sees a trap, not a count of failures.

use std::collections::{HashMap, HashSet};
use std::fmt::Write as _;

use regex::Regex;

/// The document the host wrote, in a block from the allocator under test.
static mut INPUT: Vec<u8> = Vec::new();
/// The last result: the re-serialized document, or the regex summary.
static mut OUTPUT: String = String::new();

/// The input, as the host wrote it.
fn input() -> &'static [u8] {
    let input = &raw const INPUT;
    // SAFETY: exports never run concurrently or re-entrantly; only
    // `input_alloc` writes `INPUT`, and no workload runs during it.
    unsafe { &*input }
}

/// The last result.
fn output() -> &'static str {
    let output = &raw const OUTPUT;
    // SAFETY: as for `INPUT`; only `set_output` writes `OUTPUT`, and the
    // host reads the result before it calls another workload.
    unsafe { &*output }
}

/// Replaces the result (dropping the old one first, so a repeated run does
/// not hold two).
fn set_output(f: impl FnOnce() -> String) {
    let output = &raw mut OUTPUT;
    // SAFETY: as for `INPUT`; no reference to `OUTPUT` outlives this call.
    unsafe {
        *output = String::new();
        *output = f();
    }
}

/// Takes `bytes` of the heap for good, so that only the rest is left to the
/// workload (the smallest-capacity search of an arena). One block when the
/// heap is one chunk; when it is more (nogrow Reserve: arena and reserve),
/// the largest blocks that fit, halving on failure. Returns 1 when all of
/// `bytes` is taken, 0 otherwise.
#[unsafe(no_mangle)]
pub extern "C" fn bench_ballast(bytes: u32) -> u32 {
    let mut left = bytes as usize;
    let mut size = left;
    while left > 0 {
        size = size.min(left);
        if size < 1024 {
            return 0;
        }
        let Ok(layout) = std::alloc::Layout::from_size_align(size, 8) else {
            return 0;
        };
        // SAFETY: `size >= 1024`. The block is never freed (nor touched).
        let block = unsafe { std::alloc::alloc(layout) };
        // Opaque: an allocation whose pointer is only compared with null
        // may be removed by the optimizer, and then nothing is taken.
        if core::hint::black_box(block).is_null() {
            size = (size / 2) & !7;
        } else {
            left -= size;
        }
    }
    1
}

/// Makes room for a `len`-byte document (from the allocator under test,
/// replacing the previous one) and returns where the host writes it; 0 if
/// the allocator has no room.
#[unsafe(no_mangle)]
pub extern "C" fn input_alloc(len: u32) -> *mut u8 {
    let input = &raw mut INPUT;
    // SAFETY: as for `INPUT`; no workload runs during this call.
    let input = unsafe { &mut *input };
    *input = Vec::new();
    if input.try_reserve_exact(len as usize).is_err() {
        return core::ptr::null_mut();
    }
    input.resize(len as usize, 0);
    input.as_mut_ptr()
}

/// Where the last result starts.
#[unsafe(no_mangle)]
pub extern "C" fn output_ptr() -> *const u8 {
    output().as_ptr()
}

/// Bytes in the last result.
#[unsafe(no_mangle)]
pub extern "C" fn output_len() -> u32 {
    output().len() as u32
}

/// `ops` times: parses the input into a `serde_json::Value` and serializes it
/// back to a `String` (the result; keys come out sorted, `Value`'s map being
/// a `BTreeMap`). Returns 0, or 1 if the input is not JSON.
#[unsafe(no_mangle)]
pub extern "C" fn json(ops: u32, _seed: u32) -> u32 {
    for _ in 0..ops {
        let Ok(value) = serde_json::from_slice::<serde_json::Value>(input()) else {
            return 1;
        };
        let mut ok = true;
        set_output(|| {
            serde_json::to_string(&value).unwrap_or_else(|_| {
                ok = false;
                String::new()
            })
        });
        if !ok {
            return 1;
        }
    }
    0
}

/// The regex workload's patterns: what people grep documentation for.
const WORDS: &str = r"\b\w+\b";
/// CamelCase identifiers (`DescribeInstances`): two or more capitalised parts.
const IDENTS: &str = r"\b[A-Z][a-z0-9]+(?:[A-Z][a-z0-9]+)+\b";
/// Link targets in the HTML of documentation strings, quotes escaped as in
/// JSON text: `<a href=\"https://...\">`.
const LINKS: &str = r#"<a href=\\"([^"\\]+)\\""#;
/// Numbers, with an optional fraction.
const NUMBERS: &str = r"\b\d+(?:\.\d+)?\b";

/// `ops` times: compiles the patterns and collects their matches over the
/// input text the way programs do (every word in a `Vec<&str>` and a count
/// per distinct word, a count per identifier under an owned key, the set of
/// link targets, the numbers), then writes a summary as JSON (the result).
/// Returns 0, or 1 if the input is not UTF-8 or a pattern does not compile.
#[unsafe(no_mangle)]
pub extern "C" fn regex(ops: u32, _seed: u32) -> u32 {
    let Ok(text) = core::str::from_utf8(input()) else {
        return 1;
    };
    for _ in 0..ops {
        // Compiling is part of the work, as in a program that runs once.
        let Some(summary) = grep(text) else {
            return 1;
        };
        set_output(|| summary);
    }
    0
}

/// One regex run over `text`: the summary, or `None` if a pattern does not
/// compile.
fn grep(text: &str) -> Option<String> {
    let words = Regex::new(WORDS).ok()?;
    let idents = Regex::new(IDENTS).ok()?;
    let links = Regex::new(LINKS).ok()?;
    let numbers = Regex::new(NUMBERS).ok()?;
    let all_words: Vec<&str> = words.find_iter(text).map(|m| m.as_str()).collect();
    let mut word_counts: HashMap<&str, u32> = HashMap::new();
    for w in &all_words {
        *word_counts.entry(w).or_default() += 1;
    }
    let mut ident_counts: HashMap<String, u32> = HashMap::new();
    let mut ident_total = 0u32;
    for m in idents.find_iter(text) {
        *ident_counts.entry(m.as_str().to_owned()).or_default() += 1;
        ident_total += 1;
    }
    // The most frequent identifier; ties go to the smallest.
    let top = ident_counts
        .iter()
        .max_by(|a, b| a.1.cmp(b.1).then_with(|| b.0.cmp(a.0)))
        .map(|(k, v)| (k.clone(), *v))
        .unwrap_or_default();
    let link_list: Vec<String> = links
        .captures_iter(text)
        .filter_map(|c| c.get(1).map(|m| m.as_str().to_owned()))
        .collect();
    let distinct_links: HashSet<&str> = link_list.iter().map(String::as_str).collect();
    let number_list: Vec<&str> = numbers.find_iter(text).map(|m| m.as_str()).collect();
    let number_bytes: usize = number_list.iter().map(|n| n.len()).sum();
    let mut s = String::new();
    let _ = write!(
        s,
        r#"{{"words":{},"distinct_words":{},"idents":{},"distinct_idents":{},"top_ident":"{}","top_ident_count":{},"links":{},"distinct_links":{},"numbers":{},"number_bytes":{}}}"#,
        all_words.len(),
        word_counts.len(),
        ident_total,
        ident_counts.len(),
        top.0,
        top.1,
        link_list.len(),
        distinct_links.len(),
        number_list.len(),
        number_bytes,
    );
    Some(s)
}
