//! Helpers shared by the integration tests.
#![allow(dead_code, missing_docs)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use wasmparser::BinaryReader;

/// Compiles a WAT fixture.
pub fn wasm(wat: &str) -> Vec<u8> {
    wat::parse_str(wat).expect("fixture is valid WAT")
}

/// Runs the `nogrow` binary.
pub fn nogrow(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_nogrow"))
        .args(args)
        .output()
        .expect("run nogrow")
}

/// A fresh path in the test scratch directory.
pub fn scratch(name: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("nogrow-cli");
    std::fs::create_dir_all(&dir).expect("scratch dir");
    dir.join(name)
}

/// Writes bytes to a scratch file and returns its path as a string.
pub fn write(name: &str, bytes: &[u8]) -> String {
    let p = scratch(name);
    std::fs::write(&p, bytes).expect("write scratch file");
    p.to_string_lossy().into_owned()
}

/// The module's sections in order: `(id, whole section bytes)`.
pub fn sections(bytes: &[u8]) -> Vec<(u8, Vec<u8>)> {
    let mut r = BinaryReader::new(bytes, 0);
    r.read_bytes(8).expect("header");
    let mut out = Vec::new();
    while !r.eof() {
        let start = r.original_position();
        let id = r.read_u8().expect("id");
        let size = r.read_var_u32().expect("size") as usize;
        r.read_bytes(size).expect("contents");
        out.push((id, bytes[start..r.original_position()].to_vec()));
    }
    out
}

/// Asserts that `a` and `b` have the same sections, byte for byte, except
/// the memory section (id 5), which both have.
pub fn assert_same_but_memory(a: &[u8], b: &[u8]) {
    assert_eq!(a[..8], b[..8], "header");
    let (sa, sb) = (sections(a), sections(b));
    assert_eq!(sa.len(), sb.len(), "same number of sections");
    for ((ia, xa), (ib, xb)) in sa.iter().zip(&sb) {
        assert_eq!(ia, ib, "same section order");
        if *ia != 5 {
            assert_eq!(xa, xb, "section {ia} is byte-identical");
        }
    }
    assert!(sa.iter().any(|(id, _)| *id == 5), "has a memory section");
}

/// The repository root.
pub fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("nogrow-cli is in the workspace")
        .into()
}

/// Where the built guests are: `target/guests`, or `$NOGROW_GUESTS_DIR`.
pub fn guests_dir() -> PathBuf {
    std::env::var_os("NOGROW_GUESTS_DIR")
        .map_or_else(|| root().join("target/guests"), PathBuf::from)
}

/// A built guest; panics (fails the test) if it is missing.
pub fn guest(name: &str) -> (String, Vec<u8>) {
    let p = guests_dir().join(format!("{name}.wasm"));
    let bytes = std::fs::read(&p)
        .unwrap_or_else(|e| panic!("{}: {e}: run `cargo xtask build-guests` first", p.display()));
    (p.to_string_lossy().into_owned(), bytes)
}
