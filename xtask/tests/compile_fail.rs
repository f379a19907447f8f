//! Misconfiguration is a compile-time error with a clear message: each case is
//! a one-line guest that must fail `cargo check` saying why.

use std::{path::PathBuf, process::Command};

/// A guest type whose memory is not `Send` (a raw pointer inside).
const NOT_SEND_MEMORY: &str = r#"
use nogrow::{Arena, Fail, Memory, Nogrow, State};
#[derive(Debug)]
pub struct NotSend(*const u8);
// SAFETY: never grows, offers no region.
unsafe impl Memory for NotSend {
    fn pages(&mut self) -> usize { 0 }
    fn grow(&mut self, _: usize) -> Option<usize> { None }
    fn region(&mut self, _: usize) -> *mut u8 { core::ptr::null_mut() }
}
static STATE: State = State::new();
static mut ARENA: [core::mem::MaybeUninit<u8>; 1 << 16] = [core::mem::MaybeUninit::uninit(); 1 << 16];
pub static ALLOC: Nogrow<Fail, NotSend> =
    Nogrow::new(unsafe { Arena::array(&raw mut ARENA) }, Fail, NotSend(core::ptr::null()), &STATE);
"#;

const CASES: &[(&str, &str, &str)] = &[
    (
        "policy_not_a_policy",
        "nogrow::install!(arena: 1 << 16, policy: 42);",
        "where POLICY is `Fail`, `Reserve::pages(N)`",
    ),
    (
        "arena_as_an_expression",
        "pub fn make() -> nogrow::Nogrow<nogrow::Fail> { nogrow::arena!(64 << 10, nogrow::Fail) }",
        "nogrow::arena! declares the allocator static itself",
    ),
    (
        "allocator_over_a_memory_that_is_not_send",
        NOT_SEND_MEMORY,
        "cannot be sent between threads safely",
    ),
    (
        "arena_too_small",
        "nogrow::install!(arena: 64, policy: Fail);",
        "the arena is smaller than talc's minimum first heap",
    ),
    (
        "zero_reserve",
        "nogrow::install!(arena: 1 << 16, policy: Reserve::pages(0));",
        "Reserve::pages(0) reserves nothing",
    ),
    (
        "zero_step",
        "nogrow::install!(arena: 1 << 16, policy: Signal::new().step_pages(0));",
        "Signal::step_pages(0)",
    ),
    (
        "zero_limit",
        "nogrow::install!(arena: 1 << 16, policy: Signal::new().limit_pages(0));",
        "Signal::limit_pages(0)",
    ),
    (
        "reserve_over_4gib",
        "nogrow::install!(arena: 1 << 16, policy: Reserve::pages(70_000));",
        "above 65536 pages",
    ),
];

fn check(name: &str, body: &str) -> (bool, String) {
    check_for(name, body, None, "")
}

/// `cargo check` of a one-file guest for `target` (host if `None`) with
/// nogrow `features` (a TOML list body, e.g. `"\"c-malloc\""`).
fn check_for(name: &str, body: &str, target: Option<&str>, features: &str) -> (bool, String) {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..");
    let dir = root.join("target/compile-fail").join(name);
    std::fs::create_dir_all(dir.join("src")).unwrap();
    let nogrow = root.canonicalize().unwrap();
    std::fs::write(
        dir.join("Cargo.toml"),
        format!(
            "[package]\nname = \"cf-{}\"\nversion = \"0.0.0\"\nedition = \"2024\"\n\n\
             [dependencies]\nnogrow = {{ path = {:?}, features = [{features}] }}\n\n[workspace]\n",
            name.replace('_', "-"),
            nogrow.display().to_string()
        ),
    )
    .unwrap();
    std::fs::write(dir.join("src/lib.rs"), format!("{body}\n")).unwrap();
    let mut cmd = Command::new(env!("CARGO"));
    cmd.args(["check", "--quiet", "--offline"]);
    if let Some(target) = target {
        cmd.args(["--target", target]);
    }
    let out = cmd
        .env("CARGO_TARGET_DIR", root.join("target/compile-fail/target"))
        .current_dir(&dir)
        .output()
        .expect("cargo runs");
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn misconfiguration_fails_to_compile_with_a_clear_message() {
    for (name, body, message) in CASES {
        let (ok, stderr) = check(name, body);
        assert!(!ok, "{name}: `{body}` compiled, but must not");
        assert!(
            stderr.contains(message),
            "{name}: expected {message:?} in:\n{stderr}"
        );
    }
}

#[test]
fn the_policy_may_be_written_bare_or_as_a_path() {
    for (name, body) in [
        (
            "path_fail",
            "nogrow::install!(arena: 1 << 16, policy: nogrow::Fail);",
        ),
        (
            "path_signal",
            "nogrow::install!(arena: 1 << 16, policy: ::nogrow::Signal::new().step_pages(4));",
        ),
        (
            "path_reserve_linker_heap",
            "nogrow::install!(arena: 1 << 16, linker_heap, policy: nogrow::Reserve::pages(2));",
        ),
    ] {
        let (ok, stderr) = check(name, body);
        assert!(ok, "{name}: {stderr}");
    }
}

#[test]
fn a_sound_configuration_compiles() {
    // The control: the same harness accepts a good configuration.
    let (ok, stderr) = check(
        "sound",
        "nogrow::install!(arena: 1 << 16, policy: Signal::new().limit_pages(16));",
    );
    assert!(ok, "{stderr}");
}

/// `body` fails to build on `target` without nogrow's `c-malloc` feature,
/// saying `message`, and builds with it (the control).
fn needs_c_malloc(name: &str, body: &str, target: &str, message: &str) {
    let (ok, stderr) = check_for(name, body, Some(target), "");
    assert!(
        !ok,
        "{name}: compiled on {target} next to wasi-libc's malloc"
    );
    assert!(
        stderr.contains(message),
        "expected {message:?} in:\n{stderr}"
    );
    let (ok, stderr) = check_for(
        &format!("{name}_c_malloc"),
        body,
        Some(target),
        "\"c-malloc\"",
    );
    assert!(ok, "{stderr}");
}

#[test]
fn linker_heap_on_wasi_needs_nogrow_to_be_the_c_allocator() {
    needs_c_malloc(
        "wasi_linker_heap",
        "nogrow::install!(arena: 1 << 16, linker_heap, policy: Fail);",
        "wasm32-wasip1",
        "linker_heap on WASI needs nogrow's `c-malloc` feature",
    );
}

#[test]
fn a_wasi_component_target_needs_nogrow_to_be_the_c_allocator() {
    needs_c_malloc(
        "wasip2",
        "nogrow::install!(arena: 1 << 16, policy: Fail);",
        "wasm32-wasip2",
        "on wasm32-wasip2 (a WASI component target) nogrow needs its `c-malloc` feature",
    );
}
