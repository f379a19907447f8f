//! The greeting demo (issue 3): the guests that are not plain cargo builds
//! (`greet-wat` from WebAssembly text, `greet-bindgen/` through the
//! wasm-bindgen CLI), the Node demo, and the JS and browser tests.

use std::{path::PathBuf, process::Command};

use crate::{Result, guests, root, run};

/// Builds `target/guests/greet-wat.wasm` (from `guests/greet.wat`),
/// `target/guests/js-shared.wasm` (the shared-memory test guest of
/// `js/test/shared-guest.wat`) and the
/// wasm-bindgen output `target/guests/greet-bindgen/` (web target, from the
/// `greet-bindgen.wasm` the cargo registry built). Returns their paths.
pub fn build_extra() -> Result<Vec<PathBuf>> {
    let dir = guests::dir();
    let wat_src = root().join("guests/greet.wat");
    let wasm = wat::parse_file(&wat_src).map_err(|e| format!("{}: {e}", wat_src.display()))?;
    let wat_out = dir.join("greet-wat.wasm");
    std::fs::write(&wat_out, wasm).map_err(|e| format!("writing {}: {e}", wat_out.display()))?;
    let shared_src = root().join("js/test/shared-guest.wat");
    let shared =
        wat::parse_file(&shared_src).map_err(|e| format!("{}: {e}", shared_src.display()))?;
    let shared_out = dir.join("js-shared.wasm");
    std::fs::write(&shared_out, shared)
        .map_err(|e| format!("writing {}: {e}", shared_out.display()))?;

    crate::tools::ensure_wasm_bindgen_runner()?;
    let bindgen_out = dir.join("greet-bindgen");
    run(Command::new("wasm-bindgen")
        .args(["--target", "web", "--no-typescript", "--out-dir"])
        .arg(&bindgen_out)
        .arg(dir.join("greet-bindgen.wasm")))?;
    Ok(vec![wat_out, shared_out, bindgen_out])
}

/// The main job: builds every guest, then the Node demo prints the
/// side-by-side table.
pub fn demo() -> Result {
    guests::build_all()?;
    run(Command::new("node").arg("examples/demo.mjs"))
}

/// `cargo xtask test-js`: npm packages, every guest, then [`test`].
pub fn test_js() -> Result {
    crate::tools::ensure_npm_packages()?;
    guests::build_all()?;
    test()
}

/// The JS module's tests in Node, then the browser test in headless Chromium
/// (installed under CI; skipped loudly elsewhere when missing). Expects the
/// guests built and npm packages installed.
pub fn test() -> Result {
    run(Command::new("node").args([
        "--test",
        "js/test/nogrow.test.mjs",
        "js/test/greet.test.mjs",
        "js/test/bindgen.test.mjs",
    ]))?;
    let chromium = match std::env::var("CHROMIUM") {
        Ok(path) => Some(path).filter(|p| std::path::Path::new(p).exists()),
        Err(_) if crate::tools::ensure_apt("chromium", &["chromium"])? => which("chromium"),
        Err(_) => None,
    };
    let Some(chromium) = chromium else {
        eprintln!(
            "\n########################################################################\n\
             ## SKIPPED: browser test (js/test/browser.test.mjs): no Chromium found.\n\
             ## Install it (apt-get install chromium) or set CHROMIUM=/path/to/chrome;\n\
             ## under CI (env CI set) `cargo xtask test` installs it.\n\
             ########################################################################\n"
        );
        return Ok(());
    };
    run(Command::new("node")
        .args(["--test", "js/test/browser.test.mjs"])
        .env("CHROMIUM", chromium))
}

/// The path of `bin` on `PATH`.
fn which(bin: &str) -> Option<String> {
    let out = Command::new("sh")
        .args(["-c", &format!("command -v {bin}")])
        .output()
        .ok()?;
    let path = String::from_utf8_lossy(&out.stdout).trim().to_string();
    (out.status.success() && !path.is_empty()).then_some(path)
}
