//! The `wasm32-wasip2` host test: `guests/wasi-json` built as a component,
//! with `c-malloc` and without (the control), checked with `nogrow check` and
//! run in wasmtime's component API (Python package) and in Node through jco;
//! and `examples/wasip2-words`, a component exporting a WIT world
//! (wit-bindgen), called from both hosts; and the random-operation test
//! `tests/wasip2_random_ops.rs`, built for `wasm32-wasip2`, run in wasmtime. Driven by
//! `tests/wasip2/wasip2_guests.py`.

use std::{path::PathBuf, process::Command};

use crate::{Result, cargo, guests, root, run, tools};

/// The guests this test runs, by their names in [`guests::GUESTS`]: first
/// the one that must not grow, then the control.
const NAMES: [&str; 2] = ["wasip2/json", "wasip2/json-libc-malloc"];

/// Where jco's npm packages are installed (`tests/wasip2/package-lock.json`).
pub fn node_dir() -> PathBuf {
    root().join("tests/wasip2")
}

/// `cargo xtask test-wasip2`: builds the components, then [`test`].
pub fn build_and_test() -> Result {
    guests::build_each(guests::GUESTS.iter().filter(|g| NAMES.contains(&g.name)))?;
    test()
}

/// Installs the pinned packages when missing, checks both components with
/// `nogrow check` (the first cannot grow, the control can) and runs them in
/// both hosts. Expects the guests built.
pub fn test() -> Result {
    tools::ensure_python_packages()?;
    tools::ensure_npm_packages_in(&node_dir())?;
    run(&mut cargo(&["build", "--quiet", "-p", "nogrow-cli"]))?;
    let cli = root().join("target/debug/nogrow");
    let [fixed, control] = NAMES.map(|n| guests::dir().join(format!("{n}.wasm")));
    let words = build_words()?;
    let random_ops = build_random_ops()?;
    run(Command::new(&cli).arg("check").arg(&fixed))?;
    run(Command::new(&cli).arg("check").arg(&words))?;
    let verdict = Command::new(&cli)
        .args(["check", "--json"])
        .arg(&control)
        .output()
        .map_err(|e| format!("{}: {e}", cli.display()))?;
    if verdict.status.success() {
        return Err(format!(
            "nogrow check passed {}, which links wasi-libc's malloc (it can grow)",
            control.display()
        ));
    }
    run(Command::new("python3")
        .arg("tests/wasip2/wasip2_guests.py")
        .arg("--guests")
        .arg(guests::dir().join("wasip2"))
        .arg("--packages")
        .arg(tools::python_packages_dir())
        .arg("--words")
        .arg(&words)
        .arg("--random-ops")
        .arg(&random_ops)
        .arg("--layout")
        .arg(crate::wasi::write_layout()?)
        .arg("--work")
        .arg(root().join("target/wasip2")))
}

/// Builds the test binary `tests/wasip2_random_ops.rs` for `wasm32-wasip2`
/// with `c-malloc` (a WASI command); returns its path, which cargo prints.
fn build_random_ops() -> Result<PathBuf> {
    let out = cargo(&[
        "test",
        "--quiet",
        "--release",
        "--target",
        guests::WASIP2,
        "--features",
        "c-malloc",
        "--test",
        "wasip2_random_ops",
        "--no-run",
        "--message-format",
        "json",
    ])
    .output()
    .map_err(|e| format!("cargo test --no-run: {e}"))?;
    if !out.status.success() {
        return Err(format!(
            "building tests/wasip2_random_ops.rs for {} failed:\n{}",
            guests::WASIP2,
            String::from_utf8_lossy(&out.stderr)
        ));
    }
    // The compiler-artifact line of the test target names its executable.
    let json = String::from_utf8_lossy(&out.stdout);
    json.lines()
        .filter(|l| {
            l.contains("\"reason\":\"compiler-artifact\"") && l.contains("wasip2_random_ops")
        })
        .find_map(|l| {
            let at = l.find("\"executable\":\"")? + "\"executable\":\"".len();
            let end = l[at..].find('"')?;
            Some(PathBuf::from(&l[at..at + end]))
        })
        .ok_or_else(|| "cargo named no executable for tests/wasip2_random_ops.rs".to_string())
}

/// Builds `examples/wasip2-words` (its own workspace and lock file, as a
/// user's component crate) into `target/wasip2-words`; returns the component.
fn build_words() -> Result<PathBuf> {
    run(cargo(&[
        "build",
        "--quiet",
        "--release",
        "--target",
        guests::WASIP2,
        "--manifest-path",
        "examples/wasip2-words/Cargo.toml",
    ])
    .env("CARGO_TARGET_DIR", root().join("target/wasip2-words")))?;
    Ok(root().join(format!(
        "target/wasip2-words/{}/release/guest_wasip2_words.wasm",
        guests::WASIP2
    )))
}
