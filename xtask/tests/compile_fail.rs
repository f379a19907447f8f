//! Misconfiguration is a compile-time error with a clear message: each case is
//! a one-line guest that must fail `cargo check` saying why.

use std::{path::PathBuf, process::Command};

const CASES: &[(&str, &str, &str)] = &[
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
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..");
    let dir = root.join("target/compile-fail").join(name);
    std::fs::create_dir_all(dir.join("src")).unwrap();
    let nogrow = root.canonicalize().unwrap();
    std::fs::write(
        dir.join("Cargo.toml"),
        format!(
            "[package]\nname = \"cf-{}\"\nversion = \"0.0.0\"\nedition = \"2024\"\n\n\
             [dependencies]\nnogrow = {{ path = {:?} }}\n\n[workspace]\n",
            name.replace('_', "-"),
            nogrow.display().to_string()
        ),
    )
    .unwrap();
    std::fs::write(dir.join("src/lib.rs"), format!("{body}\n")).unwrap();
    let out = Command::new(env!("CARGO"))
        .args(["check", "--quiet", "--offline"])
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
fn a_sound_configuration_compiles() {
    // The control: the same harness accepts a good configuration.
    let (ok, stderr) = check(
        "sound",
        "nogrow::install!(arena: 1 << 16, policy: Signal::new().limit_pages(16));",
    );
    assert!(ok, "{stderr}");
}
