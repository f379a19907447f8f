//! The greeting demo in Node, and the JS module's tests in Node and in
//! headless Chromium.

use std::process::Command;

use crate::{Result, guests, run};

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
        .args([
            "--test",
            "js/test/browser.test.mjs",
            "js/test/browser-threads.test.mjs",
        ])
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
