//! What the published packages ship, proven the way people install them:
//! `cargo package --list` for the `nogrow` and `nogrow-cli` crates
//! (`xtask/tests/package.rs`), and the npm package of `js/` packed, installed
//! from its tarball into a scratch project, imported by name, type-checked by
//! a strict TypeScript consumer and bundled by esbuild
//! (`js/test/package.test.mjs`).

use std::process::Command;

use crate::{Result, cargo, guests, run, tools};

/// Both checks. Expects the npm packages installed and `greet-fail` built.
pub fn test() -> Result {
    run(&mut cargo(&[
        "test",
        "-p",
        "xtask",
        "--test",
        "package",
        "--",
        "--nocapture",
        "--test-threads=1",
    ]))?;
    run(Command::new("node").args(["--test", "js/test/package.test.mjs"]))
}

/// `cargo xtask test-package`: the npm packages and the guest the npm test
/// runs, then [`test`].
pub fn build_and_test() -> Result {
    tools::ensure_npm_packages()?;
    guests::build_each(guests::GUESTS.iter().filter(|g| g.name == "greet-fail"))?;
    test()
}
