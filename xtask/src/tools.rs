//! Installs what the tasks need when it is missing: the wasm targets, Miri,
//! the `wasm-bindgen-test-runner` matching `Cargo.lock`, npm packages, the
//! pinned Python packages of the WASI host test, and (under CI) Chromium and
//! binaryen from Debian.

use std::process::Command;

use crate::{Result, guests, root, run};

/// Everything `cargo xtask test` needs.
pub fn ensure_all() -> Result {
    for target in [
        guests::WASM32,
        guests::WASM32V1_NONE,
        guests::WASIP1,
        guests::WASIP2,
    ] {
        ensure_target(target)?;
    }
    ensure_miri()?;
    ensure_wasm_bindgen_runner()?;
    ensure_npm_packages()?;
    ensure_npm_packages_in(&crate::wasip2::node_dir())?;
    ensure_python_packages()?;
    Ok(())
}

fn output(cmd: &mut Command) -> Option<String> {
    let out = cmd.output().ok()?;
    out.status
        .success()
        .then(|| String::from_utf8_lossy(&out.stdout).into_owned())
}

/// `rustup target add wasm32-unknown-unknown` when missing.
pub fn ensure_wasm_target() -> Result {
    ensure_target(guests::WASM32)
}

/// `rustup target add TARGET` when missing.
pub fn ensure_target(target: &str) -> Result {
    let installed =
        output(Command::new("rustup").args(["target", "list", "--installed"])).unwrap_or_default();
    if !installed.lines().any(|l| l.trim() == target) {
        run(Command::new("rustup").args(["target", "add", target]))?;
    }
    Ok(())
}

/// The pinned Python packages of the WASI host test
/// (`tests/wasi/requirements.txt`: `name==version` lines), installed without
/// their dependencies into `target/py` when a pinned version is missing there.
pub fn ensure_python_packages() -> Result {
    let root = root();
    let requirements = root.join("tests/wasi/requirements.txt");
    let text = std::fs::read_to_string(&requirements)
        .map_err(|e| format!("{}: {e}", requirements.display()))?;
    let dir = python_packages_dir();
    let missing = text
        .lines()
        .map(|l| l.split('#').next().unwrap_or("").trim())
        .filter(|l| !l.is_empty())
        .any(|pin| match pin.split_once("==") {
            Some((name, version)) => !dir
                .join(format!("{}-{version}.dist-info", name.replace('-', "_")))
                .is_dir(),
            None => true,
        });
    if missing {
        run(Command::new("python3")
            .args(["-m", "pip", "install", "--quiet", "--upgrade", "--no-deps"])
            .arg("--target")
            .arg(&dir)
            .arg("-r")
            .arg(&requirements)
            .env("PIP_ROOT_USER_ACTION", "ignore"))?;
    }
    Ok(())
}

/// Where [`ensure_python_packages`] installs: `target/py`.
pub fn python_packages_dir() -> std::path::PathBuf {
    root().join("target/py")
}

/// A nightly toolchain with `miri` and `rust-src`.
pub fn ensure_miri() -> Result {
    let have_nightly = output(Command::new("rustup").args(["toolchain", "list"]))
        .is_some_and(|s| s.lines().any(|l| l.starts_with("nightly")));
    if !have_nightly {
        run(Command::new("rustup").args([
            "toolchain",
            "install",
            "nightly",
            "--profile",
            "minimal",
            "--component",
            "miri,rust-src",
        ]))?;
    }
    let comps = output(Command::new("rustup").args([
        "component",
        "list",
        "--installed",
        "--toolchain",
        "nightly",
    ]))
    .unwrap_or_default();
    let has = |c: &str| comps.lines().any(|l| l.starts_with(c));
    if !has("miri") || !has("rust-src") {
        run(Command::new("rustup").args([
            "component",
            "add",
            "miri",
            "rust-src",
            "--toolchain",
            "nightly",
        ]))?;
    }
    Ok(())
}

/// The `wasm-bindgen` version pinned in `Cargo.lock`.
pub fn locked_wasm_bindgen_version() -> Result<String> {
    wasm_bindgen_in(&root().join("Cargo.lock"))
}

/// The `wasm-bindgen` version a `Cargo.lock` resolves.
pub fn wasm_bindgen_in(lock: &std::path::Path) -> Result<String> {
    let text =
        std::fs::read_to_string(lock).map_err(|e| format!("reading {}: {e}", lock.display()))?;
    let mut lines = text.lines();
    while let Some(line) = lines.next() {
        if line.trim() == "name = \"wasm-bindgen\""
            && let Some(v) = lines
                .next()
                .and_then(|l| l.trim().strip_prefix("version = "))
        {
            return Ok(v.trim_matches('"').to_string());
        }
    }
    Err(format!(
        "{} has no wasm-bindgen package (run `cargo generate-lockfile`)",
        lock.display()
    ))
}

/// `wasm-bindgen-test-runner` at exactly the locked version (not `--locked`:
/// the registry mirror lags and the locked build fails).
pub fn ensure_wasm_bindgen_runner() -> Result {
    let want = locked_wasm_bindgen_version()?;
    let have =
        output(Command::new("wasm-bindgen-test-runner").arg("--version")).unwrap_or_default();
    if have.split_whitespace().nth(1) != Some(want.as_str()) {
        eprintln!(
            "xtask: installing wasm-bindgen-cli {want} (found: {:?})",
            have.trim()
        );
        run(
            Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into())).args([
                "install",
                "wasm-bindgen-cli",
                "--version",
                &want,
                "--force",
            ]),
        )?;
    }
    Ok(())
}

/// `npm ci` (or `npm install` without a lock) when `node_modules` is missing
/// or older than `package.json`.
pub fn ensure_npm_packages() -> Result {
    ensure_npm_packages_in(&root())
}

/// The npm packages of `dir` (a `package.json` there, pinned by its
/// `package-lock.json`), installed as [`ensure_npm_packages`] does.
pub fn ensure_npm_packages_in(root: &std::path::Path) -> Result {
    if !root.join("package.json").exists() {
        return Ok(());
    }
    let stamp = root.join("node_modules/.package-lock.json");
    let stale = match (
        std::fs::metadata(&stamp),
        std::fs::metadata(root.join("package.json")),
    ) {
        (Ok(s), Ok(p)) => s.modified().ok() < p.modified().ok(),
        _ => true,
    };
    if stale {
        let verb = if root.join("package-lock.json").exists() {
            "ci"
        } else {
            "install"
        };
        run(Command::new("npm")
            .args([verb, "--no-audit", "--no-fund", "--prefix"])
            .arg(root))?;
    }
    Ok(())
}

/// Installs Debian packages (as root, under CI or when asked) if `bin` is missing.
/// Returns whether `bin` is available afterwards.
#[allow(dead_code)]
pub fn ensure_apt(bin: &str, packages: &[&str]) -> Result<bool> {
    let found = |b: &str| {
        Command::new("sh")
            .args(["-c", &format!("command -v {b}")])
            .output()
            .is_ok_and(|o| o.status.success())
    };
    if found(bin) {
        return Ok(true);
    }
    let in_ci = std::env::var_os("CI").is_some() || std::env::var_os("NOGROW_INSTALL").is_some();
    if !in_ci {
        return Ok(false);
    }
    run(Command::new("apt-get")
        .arg("update")
        .env("DEBIAN_FRONTEND", "noninteractive"))?;
    run(Command::new("apt-get")
        .args(["install", "-y", "--no-install-recommends"])
        .args(packages)
        .env("DEBIAN_FRONTEND", "noninteractive"))?;
    Ok(found(bin))
}
