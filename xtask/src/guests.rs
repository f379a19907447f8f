//! Every guest module the demos, tests and tools use, built for wasm32 in
//! release mode and copied to `target/guests/NAME.wasm`.

use std::path::PathBuf;

use crate::{Result, cargo, root, run};

/// One guest build: a package, its features, extra linker arguments.
pub struct Guest {
    /// Output name: `target/guests/{name}.wasm`.
    pub name: &'static str,
    /// Cargo package.
    pub package: &'static str,
    /// Features (comma-separated), empty for none.
    pub features: &'static str,
    /// Extra `-C link-arg=` values for the final link.
    pub link_args: &'static [&'static str],
}

/// All guests, in build order.
pub const GUESTS: &[Guest] = &[
    Guest {
        name: "heavy-fail",
        package: "guest-heavy",
        features: "",
        link_args: &[],
    },
    Guest {
        name: "heavy-reserve",
        package: "guest-heavy",
        features: "reserve",
        link_args: &[],
    },
    Guest {
        name: "heavy-signal",
        package: "guest-heavy",
        features: "signal",
        link_args: &[],
    },
    // Signal with the host growth hook (imports `nogrow.memory_grown`).
    Guest {
        name: "heavy-signal-notify",
        package: "guest-heavy",
        features: "notify",
        link_args: &[],
    },
    // Reserve in a module that declares a 2 MiB maximum: a 32-page reserve
    // cannot be satisfied (the engine refuses), a smaller one can.
    Guest {
        name: "heavy-reserve-max",
        package: "guest-heavy",
        features: "reserve",
        link_args: &["--max-memory=2097152"],
    },
    // The greeting demo (issue 3). greet-wat and greet-bindgen/ are made by
    // `crate::greet::build_extra` (wat crate, wasm-bindgen CLI).
    Guest {
        name: "greet-std",
        package: "guest-greet-std",
        features: "",
        link_args: &[],
    },
    Guest {
        name: "greet-fail",
        package: "guest-greet-fail",
        features: "",
        link_args: &[],
    },
    Guest {
        name: "greet-reserve",
        package: "guest-greet-reserve",
        features: "",
        link_args: &[],
    },
    Guest {
        name: "greet-reserve-link",
        package: "guest-greet-reserve-link",
        features: "",
        link_args: &["--initial-memory=2097152"],
    },
    Guest {
        name: "greet-signal",
        package: "guest-greet-signal",
        features: "",
        link_args: &["--max-memory=67108864"],
    },
    Guest {
        name: "greet-noalloc",
        package: "guest-greet-noalloc",
        features: "",
        link_args: &[],
    },
    Guest {
        name: "greet-bindgen",
        package: "guest-greet-bindgen",
        features: "",
        link_args: &["--max-memory=134217728"],
    },
];

/// Where built guests are copied.
pub fn dir() -> PathBuf {
    root().join("target/guests")
}

/// Builds every guest; returns their paths.
pub fn build_all() -> Result<Vec<PathBuf>> {
    crate::tools::ensure_wasm_target()?;
    std::fs::create_dir_all(dir()).map_err(|e| e.to_string())?;
    let mut out = Vec::new();
    for g in GUESTS {
        out.push(build(g)?);
    }
    out.extend(crate::greet::build_extra()?);
    Ok(out)
}

/// `cargo rustc` building `package` (with `features`, comma-separated, may be
/// empty) as a release wasm32 `cdylib`; ends with `--`, ready for rustc flags.
pub fn wasm_cdylib(package: &str, features: &str) -> std::process::Command {
    let mut cmd = cargo(&[
        "rustc",
        "--quiet",
        "--release",
        "--target",
        "wasm32-unknown-unknown",
        "-p",
        package,
        "--lib",
        "--crate-type",
        "cdylib",
    ]);
    if !features.is_empty() {
        cmd.args(["--features", features]);
    }
    cmd.arg("--");
    cmd
}

/// Builds one guest.
pub fn build(g: &Guest) -> Result<PathBuf> {
    let mut cmd = wasm_cdylib(g.package, g.features);
    for a in g.link_args {
        cmd.arg(format!("-Clink-arg={a}"));
    }
    run(&mut cmd)?;
    let lib = g.package.replace('-', "_");
    let built = root().join(format!("target/wasm32-unknown-unknown/release/{lib}.wasm"));
    let dest = dir().join(format!("{}.wasm", g.name));
    std::fs::copy(&built, &dest).map_err(|e| format!("copying {}: {e}", built.display()))?;
    Ok(dest)
}
