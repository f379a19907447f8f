//! The command line: `nogrow check`, `nogrow seal`. Exit status: 0 success
//! (for `check`: the verdict meets the level, and with
//! `--require-fixed-tables` the table verdict is `tables-fixed`), 1 it does
//! not, 2 bad usage or a module that cannot be read.

use std::io::Write;
use std::path::Path;

use crate::check::{self, Level};
use crate::component;
use crate::error::Error;
use crate::seal;

/// Exit status: success.
pub const EXIT_OK: i32 = 0;
/// Exit status: `check`'s verdict does not meet the required level (or the
/// table verdict is `tables-can-grow` under `--require-fixed-tables`).
pub const EXIT_VERDICT: i32 = 1;
/// Exit status: bad usage, unreadable file, malformed or unsupported module.
pub const EXIT_ERROR: i32 = 2;

/// Largest file read (wasmparser's module size limit).
const MAX_FILE_BYTES: u64 = 1 << 30;

/// The usage text.
pub const USAGE: &str = "\
usage:
  nogrow check MODULE.wasm [--json] [--require cannot-grow | --allow reserve | --allow signal]
                           [--require-fixed-tables]
  nogrow seal IN.wasm -o OUT.wasm [--max-pages N]

check   reports every memory.grow (function, name, reachability from exports and start),
        the memories, the nogrow ABI, and a verdict:
          cannot-grow               no reachable memory.grow on a memory that may grow
          grows-via-nogrow-reserve  grows once, in nogrow's Reserve path
          grows-via-nogrow-signal   grows only in nogrow's code, which bumps the generation
          can-grow-implicitly       a reachable memory.grow not shown to be nogrow's
        exit 0 when the verdict meets the level (default --require cannot-grow), 1 when not.
        Tables, separately: every table (element type, initial, maximum), every table.grow
        (function, name, reachability), and a table verdict:
          tables-fixed              no reachable table.grow on a table that may grow
          tables-can-grow           a reachable table.grow on a table without maximum == initial
        A table the host can grow (imported or exported, not fixed) is a note. The table
        verdict changes the exit status only with --require-fixed-tables (1 when it can grow).
seal    sets the memory's declared maximum to N pages (default: its initial size), so the
        engine refuses growth; every other section is copied byte for byte.
components (wasm32-wasip2 builds): check judges every core module inside, nested
        components' too, one report each, and passes only if every module passes; seal
        seals the memory of every core module that defines one.
errors  exit 2 with one line: the file, the byte offset, what is wrong.";

/// Runs the command line `args` (without the program name); writes the
/// report to `out` and errors to `err`; returns the exit status.
pub fn run(args: &[String], out: &mut dyn Write, err: &mut dyn Write) -> i32 {
    let result = match args.first().map(String::as_str) {
        Some("check") => run_check(&args[1..], out, err),
        Some("seal") => run_seal(&args[1..], err),
        Some("help" | "-h" | "--help") => {
            let _ = writeln!(out, "{USAGE}");
            return EXIT_OK;
        }
        Some("-V" | "--version") => {
            let _ = writeln!(out, "nogrow {}", env!("CARGO_PKG_VERSION"));
            return EXIT_OK;
        }
        Some(other) => Err(Error::whole(format!(
            "unknown command `{other}` (try `nogrow --help`)"
        ))),
        None => Err(Error::whole("no command (try `nogrow --help`)")),
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            let _ = writeln!(err, "nogrow: error: {e}");
            EXIT_ERROR
        }
    }
}

fn run_check(args: &[String], out: &mut dyn Write, err: &mut dyn Write) -> Result<i32, Error> {
    let mut file = None;
    let mut json = false;
    let mut level = None;
    let mut fixed_tables = false;
    let mut it = args.iter();
    while let Some(a) = it.next() {
        match a.as_str() {
            "--json" => json = true,
            "--require-fixed-tables" => fixed_tables = true,
            "--require" | "--allow" => {
                let v = it
                    .next()
                    .ok_or_else(|| Error::whole(format!("{a} needs a level")))?;
                let l = Level::parse(v).ok_or_else(|| {
                    Error::whole(format!(
                        "unknown level `{v}` (cannot-grow, reserve, signal)"
                    ))
                })?;
                if level.is_some_and(|old| old != l) {
                    return Err(Error::whole("conflicting --require/--allow levels"));
                }
                level = Some(l);
            }
            s if s.starts_with('-') && s != "-" => {
                return Err(Error::whole(format!("unknown option `{s}` for check")));
            }
            _ if file.is_some() => return Err(Error::whole("check takes one module")),
            _ => file = Some(a.clone()),
        }
    }
    let file = file.ok_or_else(|| Error::whole("check needs a MODULE.wasm"))?;
    let level = level.unwrap_or(Level::CannotGrow);
    let bytes = read(&file)?;
    if component::is_component(&bytes) {
        return check_component(&file, &bytes, level, json, fixed_tables, out, err);
    }
    let report = check::check(&bytes).map_err(|e| in_file(&file, e))?;
    if json {
        let _ = writeln!(out, "{:#}", report.json(&file, level, fixed_tables));
    } else {
        let _ = write!(out, "{}", report.text(&file, level, fixed_tables));
    }
    let mut code = EXIT_OK;
    if !report.verdict.meets(level) {
        let _ = writeln!(
            err,
            "nogrow: {file}: verdict {} does not meet {}",
            report.verdict.as_str(),
            level.as_str()
        );
        code = EXIT_VERDICT;
    }
    if !report.tables.meets(fixed_tables) {
        let _ = writeln!(
            err,
            "nogrow: {file}: table verdict {} does not meet --require-fixed-tables",
            report.tables.verdict.as_str()
        );
        code = EXIT_VERDICT;
    }
    Ok(code)
}

/// `check` on a component: one report per core module, the verdicts over all.
fn check_component(
    file: &str,
    bytes: &[u8],
    level: Level,
    json: bool,
    fixed_tables: bool,
    out: &mut dyn Write,
    err: &mut dyn Write,
) -> Result<i32, Error> {
    let report = component::check(bytes).map_err(|e| in_file(file, e))?;
    if json {
        let _ = writeln!(out, "{:#}", report.json(file, level, fixed_tables));
    } else {
        let _ = write!(out, "{}", report.text(file, level, fixed_tables));
    }
    let mut code = EXIT_OK;
    for m in &report.modules {
        if !m.report.verdict.meets(level) {
            let _ = writeln!(
                err,
                "nogrow: {file}: {}: verdict {} does not meet {}",
                m.label(),
                m.report.verdict.as_str(),
                level.as_str()
            );
            code = EXIT_VERDICT;
        }
        if !m.report.tables.meets(fixed_tables) {
            let _ = writeln!(
                err,
                "nogrow: {file}: {}: table verdict {} does not meet --require-fixed-tables",
                m.label(),
                m.report.tables.verdict.as_str()
            );
            code = EXIT_VERDICT;
        }
    }
    Ok(code)
}

fn run_seal(args: &[String], err: &mut dyn Write) -> Result<i32, Error> {
    let mut input = None;
    let mut output = None;
    let mut max_pages = None;
    let mut it = args.iter();
    while let Some(a) = it.next() {
        match a.as_str() {
            "-o" | "--output" => {
                output = Some(
                    it.next()
                        .ok_or_else(|| Error::whole("-o needs a file"))?
                        .clone(),
                );
            }
            "--max-pages" => {
                let v = it
                    .next()
                    .ok_or_else(|| Error::whole("--max-pages needs a number"))?;
                max_pages = Some(v.parse::<u64>().map_err(|_| {
                    Error::whole(format!("--max-pages: `{v}` is not a page count"))
                })?);
            }
            s if s.starts_with('-') && s != "-" => {
                return Err(Error::whole(format!("unknown option `{s}` for seal")));
            }
            _ if input.is_some() => return Err(Error::whole("seal takes one input module")),
            _ => input = Some(a.clone()),
        }
    }
    let input = input.ok_or_else(|| Error::whole("seal needs IN.wasm"))?;
    let output = output.ok_or_else(|| Error::whole("seal needs -o OUT.wasm"))?;
    let bytes = read(&input)?;
    if component::is_component(&bytes) {
        return seal_component(&input, &output, &bytes, max_pages, err);
    }
    let sealed = seal::seal(&bytes, max_pages).map_err(|e| in_file(&input, e))?;
    std::fs::write(&output, &sealed.bytes)
        .map_err(|e| Error::whole(format!("{output}: cannot write: {e}")))?;
    for w in &sealed.warnings {
        let _ = writeln!(err, "nogrow: warning: {w}");
    }
    let old = sealed
        .old_maximum
        .map_or("none".to_string(), |m| m.to_string());
    let _ = writeln!(
        err,
        "nogrow: {input} -> {output}: memory maximum {old} -> {} pages (initial {}){}",
        sealed.maximum,
        sealed.initial,
        if sealed.changed {
            ""
        } else {
            ", already sealed: bytes unchanged"
        }
    );
    Ok(EXIT_OK)
}

/// `seal` on a component: every core module that defines its memory.
fn seal_component(
    input: &str,
    output: &str,
    bytes: &[u8],
    max_pages: Option<u64>,
    err: &mut dyn Write,
) -> Result<i32, Error> {
    let sealed = component::seal(bytes, max_pages).map_err(|e| in_file(input, e))?;
    std::fs::write(output, &sealed.bytes)
        .map_err(|e| Error::whole(format!("{output}: cannot write: {e}")))?;
    for m in &sealed.sealed {
        let label = match &m.name {
            Some(n) => format!("{} {n:?}", m.path),
            None => m.path.to_string(),
        };
        for w in &m.sealed.warnings {
            let _ = writeln!(err, "nogrow: warning: {label}: {w}");
        }
        let old = m
            .sealed
            .old_maximum
            .map_or("none".to_string(), |max| max.to_string());
        let _ = writeln!(
            err,
            "nogrow: {input} -> {output}: {label}: memory maximum {old} -> {} pages (initial {}){}",
            m.sealed.maximum,
            m.sealed.initial,
            if m.sealed.changed {
                ""
            } else {
                ", already sealed"
            }
        );
    }
    for s in &sealed.skipped {
        let _ = writeln!(err, "nogrow: {input}: not sealed: {s}");
    }
    if !sealed.changed {
        let _ = writeln!(
            err,
            "nogrow: {input} -> {output}: every memory already sealed: bytes unchanged"
        );
    }
    Ok(EXIT_OK)
}

fn read(file: &str) -> Result<Vec<u8>, Error> {
    let path = Path::new(file);
    let meta = std::fs::metadata(path).map_err(|e| Error::whole(format!("{file}: {e}")))?;
    if meta.len() > MAX_FILE_BYTES {
        return Err(Error::whole(format!(
            "{file}: {} bytes is larger than any valid module (1 GiB)",
            meta.len()
        )));
    }
    std::fs::read(path).map_err(|e| Error::whole(format!("{file}: {e}")))
}

/// `FILE: at byte N: message`, keeping the offset.
fn in_file(file: &str, e: Error) -> Error {
    Error {
        offset: e.offset,
        message: format!("{file}: {e}"),
    }
    .without_offset_prefix()
}

impl Error {
    /// The message already names the offset; don't print it twice.
    fn without_offset_prefix(self) -> Self {
        Self {
            offset: None,
            ..self
        }
    }
}
