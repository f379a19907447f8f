//! Project tasks. `cargo xtask demo` runs the main job; `cargo xtask test` runs
//! every test, installing what it needs when missing.

mod abi;
mod bench;
mod expect_guest;
mod greet;
mod guests;
mod hosts;
mod package;
mod stress;
mod tools;
mod wasi;
mod wasip2;

use std::{
    path::{Path, PathBuf},
    process::{Command, ExitCode},
};

/// Result type of every task: an error is a one-line message for humans.
pub type Result<T = ()> = std::result::Result<T, String>;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let task = args.first().map(String::as_str).unwrap_or("help");
    let rest = &args.get(1..).unwrap_or(&[]);
    let result = match task {
        "demo" => demo(),
        "abi" => abi::main(rest),
        "test" => test(rest),
        "bench" => bench::main(rest),
        "stress" => stress::main(rest),
        "test-js" => greet::test_js(),
        "test-wasi" => wasi::build_and_test(),
        "test-wasip2" => wasip2::build_and_test(),
        "test-hosts" => hosts::build_and_test(),
        "test-package" => package::build_and_test(),
        "test-expect" => tools::ensure_wasm_target()
            .and_then(|()| tools::ensure_wasm_bindgen_runner())
            .and_then(|()| expect_guest::test()),
        "test-edge" => tools::ensure_wasm_target().and_then(|()| stress::edge_guest_test()),
        "test-docs" => test_docs(&["docs"]),
        "test-sizing" => test_docs(&["sizing"]),
        "build-guests" => guests::build_all().map(|_| ()),
        "install-tools" => tools::ensure_all(),
        _ => {
            eprintln!(
                "usage: cargo xtask <task>\n\n\
                 tasks:\n  \
                 demo            build the guests and run the Node demo\n  \
                 abi             regenerate the JS constants, types and the guide's ABI tables (docs/host-abi.md) from the crate's ABI (--check: fail on drift)\n  \
                 test            run every test (installs missing tools)\n  \
                 test-js         build the guests, run the JS tests (Node, then headless Chromium)\n  \
                 test-wasi       build the WASI guests, run them in wasmtime (Python) and node:wasi\n  \
                 test-wasip2     build the wasm32-wasip2 components (one heap for Rust and C), check them, run them in wasmtime (Python) and jco (Node)\n  \
                 test-hosts      build the heavy guests, run the example hosts (hosts/: wasmi, wasmtime in Python)\n  \
                 test-package    what `cargo package` and `npm pack` ship; the npm package installed, type-checked, bundled\n  \
                 test-expect     examples/expect-guest's wasm32 tests (nogrow::expect in a user's crate)\n  \
                 test-edge       the edge guests in Node: the engine's maximum, the top of the 4 GiB address space, two linker-heap allocators\n  \
                 test-docs       the README's and the guide's blocks: every one tested or marked, the projects they define built and run, their outputs as shown\n  \
                 test-sizing     the guide's sizing example: nogrow-size's answer checked in real arenas (it fits; one 10 % smaller does not)\n  \
                 build-guests    build every guest to target/guests/*.wasm\n  \
                 bench           allocator benchmarks (bench/run.mjs): times and wasm instructions per op; --smoke: seconds, tiny counts; --fuel [--peers a,b] [--workloads x,y]: only the instructions per op (wasmtime fuel, deterministic: run it after changing the allocator; fails if nogrow Fail's hot path exceeds its bound); --workers: the threads benchmark (bench/workers.mjs); --validate-ballast: real arenas against the capacity search\n  \
                 stress          >= 10^7 random ops per policy, host and wasm32, and the threaded guests across 4 workers (--ops N, --seed S, --host-only, --wasm-only)\n  \
                 install-tools   install the wasm targets, Miri, wasm-bindgen-test-runner, npm and Python packages"
            );
            return if task == "help" {
                ExitCode::SUCCESS
            } else {
                ExitCode::FAILURE
            };
        }
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("xtask: error: {e}");
            ExitCode::FAILURE
        }
    }
}

/// The repository root.
pub fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("xtask is in the workspace")
        .to_path_buf()
}

/// Runs a command from the root, echoing it; fails if it fails.
pub fn run(cmd: &mut Command) -> Result {
    eprintln!("\n$ {}", show(cmd));
    let status = cmd
        .current_dir(root())
        .status()
        .map_err(|e| format!("{}: {e}", show(cmd)))?;
    if status.success() {
        Ok(())
    } else {
        Err(format!("`{}` failed ({status})", show(cmd)))
    }
}

/// A command line as text.
pub fn show(cmd: &Command) -> String {
    let mut s = cmd.get_program().to_string_lossy().into_owned();
    for a in cmd.get_args() {
        s.push(' ');
        s.push_str(&a.to_string_lossy());
    }
    s
}

/// `cargo` with the given arguments.
pub fn cargo(args: &[&str]) -> Command {
    let mut c = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()));
    c.args(args);
    c
}

/// `cargo` from the nightly toolchain (through rustup: the `CARGO` we were
/// started with is stable's own binary, which knows no `+nightly`).
pub fn nightly_cargo(args: &[&str]) -> Command {
    let mut c = Command::new("rustup");
    c.args(["run", "nightly", "cargo"]).args(args);
    for var in [
        "CARGO",
        "RUSTC",
        "RUSTDOC",
        "RUSTUP_TOOLCHAIN",
        "RUSTC_WRAPPER",
    ] {
        c.env_remove(var);
    }
    c
}

/// `cargo xtask test-docs` / `test-sizing`: the integration tests of
/// `xtask/tests/` named in `tests` (ignored ones included), after what they
/// need: the wasm targets, the pinned Python packages (the sizing example's
/// document) and the `nogrow` CLI (on the blocks' `PATH`).
fn test_docs(tests: &[&str]) -> Result {
    for target in [guests::WASM32, guests::WASM32V1_NONE, guests::WASIP1] {
        tools::ensure_target(target)?;
    }
    tools::ensure_python_packages()?;
    run(&mut cargo(&["build", "-p", "nogrow-cli"]))?;
    let mut args = vec!["test", "-p", "xtask"];
    for t in tests {
        args.extend(["--test", t]);
    }
    args.extend(["--", "--include-ignored"]);
    run(&mut cargo(&args))
}

fn demo() -> Result {
    tools::ensure_wasm_target()?;
    greet::demo()
}

fn test(args: &[String]) -> Result {
    let quick = args.iter().any(|a| a == "--no-miri");
    tools::ensure_all()?;

    // The host ABI's generated copies (JS, types, docs/host-abi.md) match the crate.
    abi::main(&["--check".to_string()])?;

    // Host: policy logic, accounting, tools.
    run(&mut cargo(&[
        "test",
        "-p",
        "nogrow",
        "-p",
        "xtask",
        "-p",
        "nogrow-cli",
    ]))?;

    // Miri over the host suite.
    if !quick {
        // Tests leak their arenas on purpose (`'static` allocators).
        run(nightly_cargo(&["miri", "test", "-p", "nogrow", "--tests"])
            .env("MIRIFLAGS", "-Zmiri-strict-provenance -Zmiri-ignore-leaks"))?;
    }

    // wasm32 in Node through wasm-bindgen-test: one binary per policy.
    run(&mut cargo(&[
        "test",
        "-p",
        "nogrow",
        "--target",
        "wasm32-unknown-unknown",
        "--tests",
    ]))?;
    // A user's guest crate testing itself with `nogrow::expect`.
    expect_guest::test()?;

    // Release-built guests, then checks over their bytes; with them, the
    // README's and the guide's blocks (xtask/tests/docs.rs: the projects
    // they define built and run, outputs as shown) and the sizing example's
    // answer in real arenas (xtask/tests/sizing.rs).
    guests::build_all()?;
    run(&mut cargo(&[
        "test",
        "-p",
        "xtask",
        "-p",
        "nogrow-cli",
        "--",
        "--include-ignored",
    ]))?;

    // The guests in Node (js/test/guests/; max-memory.test.mjs runs with
    // its own guest in `stress::edge_guest_test`).
    run(Command::new("node").args([
        "--test",
        "js/test/guests/heavy.test.mjs",
        "js/test/guests/v1-none.test.mjs",
        "js/test/guests/bindgen-handles.test.mjs",
    ]))?;
    // Threaded guests (shared memory, worker_threads; std ones built on
    // nightly): 10^6 random ops across 4 workers per policy, cross-worker
    // frees, an out-of-memory trap in one worker.
    stress::threads_test(250_000)?;
    // WASI guests in wasmtime (Python) and node:wasi.
    wasi::test()?;
    // The wasm32-wasip2 components in wasmtime (Python) and jco (Node).
    wasip2::test()?;
    // The example hosts (hosts/): wasmi and wasmtime (Python).
    hosts::test()?;
    stress::edge_guest_test()?;
    greet::test()?;
    // What the crates and the npm package ship; the npm package installed,
    // imported, type-checked and bundled as a user would.
    package::test()?;
    // The benchmark harness in seconds with tiny counts, so it cannot rot.
    bench::smoke()?;
    eprintln!("\nxtask: all tests passed");
    Ok(())
}
