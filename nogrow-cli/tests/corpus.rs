//! Bad input never panics: the malformed corpus is refused with one line and
//! a byte offset, and the fuzz body survives mutations of valid modules.

mod common;

use std::path::PathBuf;

use common::{nogrow, wasm};
use nogrow_cli::cli::EXIT_ERROR;

fn corpus() -> Vec<PathBuf> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/corpus");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .expect("corpus dir")
        .map(|e| e.expect("entry").path())
        .filter(|p| p.extension().is_some_and(|x| x == "wasm"))
        .collect();
    files.sort();
    assert!(files.len() >= 10, "corpus has its files");
    files
}

#[test]
fn every_malformed_input_is_an_error_with_a_byte_offset() {
    for f in corpus() {
        let bytes = std::fs::read(&f).unwrap();
        let e = nogrow_cli::check(&bytes).expect_err(&f.display().to_string());
        assert!(e.offset.is_some(), "{}: {e}", f.display());
        assert!(
            e.offset.unwrap() <= bytes.len(),
            "{}: offset inside the file",
            f.display()
        );
        assert!(nogrow_cli::seal(&bytes, None).is_err(), "{}", f.display());
        nogrow_cli::fuzz::run(&bytes);
    }
}

#[test]
fn the_binary_refuses_malformed_input_with_one_line_and_exit_2() {
    let out = scratch_out();
    for f in corpus() {
        let path = f.to_str().unwrap();
        for args in [
            vec!["check", path],
            vec!["check", "--json", path],
            vec!["seal", path, "-o", &out],
        ] {
            let o = nogrow(&args);
            let err = String::from_utf8(o.stderr).unwrap();
            assert_eq!(o.status.code(), Some(EXIT_ERROR), "{args:?}: {err}");
            assert_eq!(err.lines().count(), 1, "{args:?}: one line: {err}");
            assert!(err.starts_with("nogrow: error: "), "{err}");
            assert!(
                err.contains("at byte "),
                "{args:?}: names the offset: {err}"
            );
            assert!(!err.contains("panicked"), "{err}");
            assert!(o.stdout.is_empty(), "{args:?}: nothing on stdout");
        }
    }
    assert!(
        !std::path::Path::new(&out).exists(),
        "no output written for bad input"
    );
}

fn scratch_out() -> String {
    let p = common::scratch("corpus-out.wasm");
    let _ = std::fs::remove_file(&p);
    p.to_string_lossy().into_owned()
}

/// A tiny deterministic generator (xorshift), so failures reproduce.
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}

/// Seeds: valid modules exercising every section the tool reads.
fn seeds() -> Vec<Vec<u8>> {
    vec![
        wasm(
            r#"(module
              (type $t (func (result i32)))
              (import "env" "f" (func $f (result i32)))
              (table 2 funcref)
              (memory (export "memory") 2)
              (global $g (mut i32) (i32.const 7))
              (export "run" (func $run))
              (elem (i32.const 0) $run $grow)
              (func $run (result i32) (call_indirect (type $t) (i32.const 1)))
              (func $grow (result i32) i32.const 1 memory.grow)
              (func $_ZN6nogrow4wasm4grow17h0123456789abcdefE (export "nogrow_state") (result i32) i32.const 0 memory.grow)
              (data (i32.const 16) "hello")
              (@custom "nogrow" "\01\00\00\00\03\00\00\00"))"#,
        ),
        wasm(
            r#"(module (memory 1 4 shared) (func (export "g") (result i32) i32.const 1 memory.grow))"#,
        ),
        wasm(
            r#"(module
              (import "js" "refs" (table $imp 2 externref))
              (table $own 4 4 funcref)
              (table $refs (export "refs") 1 externref)
              (memory (export "memory") 1 1)
              (elem declare func $slot)
              (func $slot (result i32) (table.grow $refs (ref.null extern) (i32.const 1)))
              (func $dead (result i32) (table.grow $imp (ref.null extern) (i32.const 8)))
              (func (export "add") (result i32)
                (drop (table.grow $own (ref.func $slot) (i32.const 0)))
                call $slot))"#,
        ),
        wasm(r#"(module (memory i64 1) (func $s (drop (memory.grow (i64.const 1)))) (start $s))"#),
        wasm(
            r#"(module (import "e" "m" (memory 1)) (memory 2) (func (export "g") (result i32) i32.const 1 memory.grow 1))"#,
        ),
    ]
}

/// Up to four random edits (bit flip, byte, insertion, deletion).
fn mutate(rng: &mut Rng, seed: &[u8]) -> Vec<u8> {
    let mut m = seed.to_vec();
    for _ in 0..1 + rng.below(4) {
        if m.is_empty() {
            break;
        }
        let i = rng.below(m.len());
        match rng.below(4) {
            0 => m[i] ^= 1 << rng.below(8),
            1 => m[i] = rng.next() as u8,
            2 => m.insert(i, rng.next() as u8),
            _ => {
                m.remove(i);
            }
        }
    }
    m
}

#[test]
#[ignore = "needs cargo xtask build-guests"]
fn mutated_guests_never_panic() {
    let mut rng = Rng(0x2545_f491_4f6c_dd1d);
    for name in [
        "greet-std",
        "greet-signal",
        "heavy-reserve",
        "greet-bindgen",
    ] {
        let (_, seed) = common::guest(name);
        nogrow_cli::fuzz::run(&seed);
        for _ in 0..200 {
            nogrow_cli::fuzz::run(&mutate(&mut rng, &seed));
        }
    }
}

#[test]
fn mutated_and_truncated_modules_never_panic() {
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    for seed in seeds() {
        nogrow_cli::fuzz::run(&seed);
        for len in 0..seed.len() {
            nogrow_cli::fuzz::run(&seed[..len]);
        }
        for _ in 0..2000 {
            nogrow_cli::fuzz::run(&mutate(&mut rng, &seed));
        }
    }
}
