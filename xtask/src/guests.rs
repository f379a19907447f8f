//! Every guest module the demos, tests and tools use, built in release mode
//! for its wasm target (`wasm32-unknown-unknown`, `wasm32v1-none`,
//! `wasm32-wasip1`, `wasm32-wasip2`) and copied to `target/guests/NAME.wasm`.

use std::{path::PathBuf, process::Command};

use crate::{Result, cargo, root, run};

/// `wasm32-unknown-unknown`: the browser / Node target, with `std`.
pub const WASM32: &str = "wasm32-unknown-unknown";
/// `wasm32v1-none`: WebAssembly 1.0 features only, `no_std`.
pub const WASM32V1_NONE: &str = "wasm32v1-none";
/// `wasm32-wasip1`: WASI preview 1, with wasi-libc.
pub const WASIP1: &str = "wasm32-wasip1";
/// `wasm32-wasip2`: WASI preview 2; its builds are components.
pub const WASIP2: &str = "wasm32-wasip2";

/// What cargo builds from the package.
#[derive(Debug, Clone, Copy)]
pub enum Kind {
    /// The library as a `cdylib`: the module exports its functions.
    Cdylib,
    /// This binary target: on WASI a command (`_start`).
    Bin(&'static str),
}

/// One guest build: a package, its features, extra linker arguments, the
/// target and the kind of artifact.
pub struct Guest {
    /// Output name: `target/guests/{name}.wasm` (may name a subdirectory).
    pub name: &'static str,
    /// Cargo package.
    pub package: &'static str,
    /// Features (comma-separated), empty for none.
    pub features: &'static str,
    /// Extra `-C link-arg=` values for the final link.
    pub link_args: &'static [&'static str],
    /// Extra rustc arguments (e.g. `-Ctarget-feature=+atomics`).
    pub rustc_args: &'static [&'static str],
    /// Rust target triple.
    pub target: &'static str,
    /// Library or binary.
    pub kind: Kind,
    /// Whether the package's default features are on.
    pub default_features: bool,
}

impl Guest {
    /// The usual guest: a `wasm32-unknown-unknown` `cdylib` with default
    /// features and no extra link arguments. Fill in `name` and `package`
    /// and override the rest: `Guest { name, package, ..Guest::CDYLIB }`.
    pub const CDYLIB: Guest = Guest {
        name: "",
        package: "",
        features: "",
        link_args: &[],
        rustc_args: &[],
        target: WASM32,
        kind: Kind::Cdylib,
        default_features: true,
    };
}

/// All guests, in build order.
pub const GUESTS: &[Guest] = &[
    Guest {
        name: "heavy-fail",
        package: "guest-heavy",
        features: "",
        link_args: &[],
        ..Guest::CDYLIB
    },
    Guest {
        name: "heavy-reserve",
        package: "guest-heavy",
        features: "reserve",
        link_args: &[],
        ..Guest::CDYLIB
    },
    Guest {
        name: "heavy-signal",
        package: "guest-heavy",
        features: "signal",
        link_args: &[],
        ..Guest::CDYLIB
    },
    // Signal with the host growth hook (imports `nogrow.memory_grown`).
    Guest {
        name: "heavy-signal-notify",
        package: "guest-heavy",
        features: "notify",
        link_args: &[],
        ..Guest::CDYLIB
    },
    // Reserve in a module that declares a 2 MiB maximum: a 32-page reserve
    // cannot be satisfied (the engine refuses), a smaller one can.
    Guest {
        name: "heavy-reserve-max",
        package: "guest-heavy",
        features: "reserve",
        link_args: &["--max-memory=2097152"],
        ..Guest::CDYLIB
    },
    // The greeting demo. greet-wat and greet-bindgen/ are made by
    // `build_non_cargo` (wat crate, wasm-bindgen CLI).
    Guest {
        name: "greet-std",
        package: "guest-greet-std",
        features: "",
        link_args: &[],
        ..Guest::CDYLIB
    },
    Guest {
        name: "greet-fail",
        package: "guest-greet-fail",
        features: "",
        link_args: &[],
        ..Guest::CDYLIB
    },
    Guest {
        name: "greet-reserve",
        package: "guest-greet-reserve",
        features: "",
        link_args: &[],
        ..Guest::CDYLIB
    },
    Guest {
        name: "greet-reserve-link",
        package: "guest-greet-reserve-link",
        features: "",
        link_args: &["--initial-memory=2097152"],
        ..Guest::CDYLIB
    },
    Guest {
        name: "greet-signal",
        package: "guest-greet-signal",
        features: "",
        link_args: &["--max-memory=67108864"],
        ..Guest::CDYLIB
    },
    Guest {
        name: "greet-noalloc",
        package: "guest-greet-noalloc",
        features: "",
        link_args: &[],
        ..Guest::CDYLIB
    },
    Guest {
        name: "greet-bindgen",
        package: "guest-greet-bindgen",
        features: "",
        link_args: &["--max-memory=134217728"],
        ..Guest::CDYLIB
    },
    // Many JsValues kept across calls under Fail (wasm-bindgen's externref
    // table); bindgen-handles/ is made by `build_non_cargo`.
    Guest {
        name: "bindgen-handles",
        package: "guest-bindgen-handles",
        link_args: &["--max-memory=134217728"],
        ..Guest::CDYLIB
    },
    // `no_std` on WebAssembly 1.0 (no bulk memory, no sign extension ...).
    Guest {
        name: "v1-none",
        package: "guest-v1-none",
        target: WASM32V1_NONE,
        ..Guest::CDYLIB
    },
    // WASI commands. nogrow also serves wasi-libc's malloc (`c-malloc`, the
    // package's default feature) ...
    Guest {
        name: "wasi-json",
        package: "guest-wasi-json",
        target: WASIP1,
        kind: Kind::Bin("wasi-json"),
        ..Guest::CDYLIB
    },
    // ... and the control without it: wasi-libc's own malloc grows memory.
    Guest {
        name: "wasi-json-libc-malloc",
        package: "guest-wasi-json",
        target: WASIP1,
        kind: Kind::Bin("wasi-json"),
        default_features: false,
        ..Guest::CDYLIB
    },
    // The same command as a wasm32-wasip2 component: one heap for Rust and
    // C blocks (`c-malloc`) ... In their own directory, target/guests/wasip2/:
    // the checks over every core module in target/guests refuse components.
    Guest {
        name: "wasip2/json",
        package: "guest-wasi-json",
        target: WASIP2,
        kind: Kind::Bin("wasi-json"),
        ..Guest::CDYLIB
    },
    // ... and its control, without nogrow (which needs `c-malloc` there):
    // std's allocator and wasi-libc's malloc, which grow memory.
    Guest {
        name: "wasip2/json-libc-malloc",
        package: "guest-wasi-json",
        target: WASIP2,
        kind: Kind::Bin("wasi-json"),
        features: "without-nogrow",
        default_features: false,
        ..Guest::CDYLIB
    },
    // nogrow on the linker heap, next to wasi-libc (sound with `c-malloc`).
    Guest {
        name: "wasi-linker-heap",
        package: "guest-wasi-linker-heap",
        link_args: &["--initial-memory=4194304"],
        target: WASIP1,
        kind: Kind::Bin("wasi-linker-heap"),
        ..Guest::CDYLIB
    },
    // Threaded `no_std` guests on stable Rust: one shared memory, one
    // instance per thread (js/test/guests/threads.test.mjs). In their own
    // directory, target/guests/threads/: their memory is imported, which the
    // checks over every module in target/guests (nogrow seal) refuse.
    Guest {
        name: "threads/nostd-fail",
        package: "guest-threads-nostd",
        link_args: THREADS_FAIL_LINK,
        rustc_args: THREADS_RUSTC,
        ..Guest::CDYLIB
    },
    Guest {
        name: "threads/nostd-reserve",
        package: "guest-threads-nostd",
        features: "reserve",
        link_args: THREADS_RESERVE_LINK,
        rustc_args: THREADS_RUSTC,
        ..Guest::CDYLIB
    },
    Guest {
        name: "threads/nostd-signal",
        package: "guest-threads-nostd",
        features: "signal",
        link_args: THREADS_SIGNAL_LINK,
        rustc_args: THREADS_RUSTC,
        ..Guest::CDYLIB
    },
    Guest {
        name: "threads/nostd-notify",
        package: "guest-threads-nostd",
        features: "notify",
        link_args: THREADS_SIGNAL_LINK,
        rustc_args: THREADS_RUSTC,
        ..Guest::CDYLIB
    },
];

/// Code generation for a threaded guest: real atomic instructions (stable
/// Rust accepts the unstable `atomics` feature with a warning and sets no
/// `target_feature = "atomics"` cfg) and bulk memory (the linker's
/// `__wasm_init_memory` uses `memory.init`).
pub const THREADS_RUSTC: &[&str] = &["-Ctarget-feature=+atomics,+bulk-memory"];

/// The link of a threaded guest: shared memory imported from the host, the
/// TLS entry points, and `__stack_pointer` so the host can give each
/// instance its own stack.
macro_rules! threads_link {
    ($($extra:literal),*) => {
        &[
            "--shared-memory",
            "--import-memory",
            "--export=__wasm_init_tls",
            "--export=__tls_size",
            "--export=__tls_align",
            "--export=__tls_base",
            "--export=__stack_pointer",
            $($extra),*
        ]
    };
}

/// Fail: 8 MiB of memory, fixed (initial = maximum).
pub const THREADS_FAIL_LINK: &[&str] =
    threads_link!("--initial-memory=8388608", "--max-memory=8388608");
/// Reserve: 2 MiB at first; the maximum leaves room for the guest's
/// 80-page (5 MiB) reserve and no more.
pub const THREADS_RESERVE_LINK: &[&str] =
    threads_link!("--initial-memory=2097152", "--max-memory=7340032");
/// Signal: 3 MiB at first, up to 64 MiB.
pub const THREADS_SIGNAL_LINK: &[&str] =
    threads_link!("--initial-memory=3145728", "--max-memory=67108864");

/// Where built guests are copied.
pub fn dir() -> PathBuf {
    root().join("target/guests")
}

/// Builds every guest; returns their paths.
pub fn build_all() -> Result<Vec<PathBuf>> {
    let mut out = build_each(GUESTS.iter())?;
    out.extend(build_non_cargo()?);
    Ok(out)
}

/// Builds the given guests (adding their targets when missing); returns their
/// paths.
pub fn build_each<'a>(guests: impl Iterator<Item = &'a Guest> + Clone) -> Result<Vec<PathBuf>> {
    let mut targets: Vec<&str> = guests.clone().map(|g| g.target).collect();
    targets.sort_unstable();
    targets.dedup();
    for t in targets {
        crate::tools::ensure_target(t)?;
    }
    std::fs::create_dir_all(dir()).map_err(|e| e.to_string())?;
    guests.map(build).collect()
}

/// `cargo rustc` building `package` (with `features`, comma-separated, may be
/// empty) as a release wasm32 `cdylib`; ends with `--`, ready for rustc flags.
pub fn wasm_cdylib(package: &str, features: &str) -> std::process::Command {
    rustc(WASM32, package, Kind::Cdylib, features, true)
}

/// `cargo rustc` building `package` for `target` in release mode, as `kind`,
/// with `features` (comma-separated, may be empty) and, if `default_features`,
/// the package's default ones; ends with `--`, ready for rustc flags.
fn rustc(
    target: &str,
    package: &str,
    kind: Kind,
    features: &str,
    default_features: bool,
) -> std::process::Command {
    let mut cmd = cargo(&[
        "rustc",
        "--quiet",
        "--release",
        "--target",
        target,
        "-p",
        package,
    ]);
    match kind {
        Kind::Cdylib => cmd.args(["--lib", "--crate-type", "cdylib"]),
        Kind::Bin(bin) => cmd.args(["--bin", bin]),
    };
    if !default_features {
        cmd.arg("--no-default-features");
    }
    if !features.is_empty() {
        cmd.args(["--features", features]);
    }
    cmd.arg("--");
    cmd
}

/// Builds one guest.
pub fn build(g: &Guest) -> Result<PathBuf> {
    let mut cmd = rustc(g.target, g.package, g.kind, g.features, g.default_features);
    for a in g.link_args {
        cmd.arg(format!("-Clink-arg={a}"));
    }
    cmd.args(g.rustc_args);
    run(&mut cmd)?;
    let file = match g.kind {
        Kind::Cdylib => g.package.replace('-', "_"),
        Kind::Bin(bin) => bin.to_string(),
    };
    let built = root().join(format!("target/{}/release/{file}.wasm", g.target));
    let dest = dir().join(format!("{}.wasm", g.name));
    if let Some(parent) = dest.parent() {
        std::fs::create_dir_all(parent).map_err(|e| e.to_string())?;
    }
    std::fs::copy(&built, &dest).map_err(|e| format!("copying {}: {e}", built.display()))?;
    Ok(dest)
}

/// Builds `target/guests/greet-wat.wasm` (from `guests/greet.wat`),
/// `target/guests/js-shared.wasm` (the shared-memory test guest of
/// `js/test/shared-guest.wat`) and the
/// wasm-bindgen outputs `target/guests/greet-bindgen/` and
/// `target/guests/bindgen-handles/` (web target, from the `.wasm` files the
/// cargo builds made). Returns their paths.
pub fn build_non_cargo() -> Result<Vec<PathBuf>> {
    let dir = dir();
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
    let handles_out = dir.join("bindgen-handles");
    run(Command::new("wasm-bindgen")
        .args(["--target", "web", "--no-typescript", "--out-dir"])
        .arg(&handles_out)
        .arg(dir.join("bindgen-handles.wasm")))?;
    Ok(vec![wat_out, shared_out, bindgen_out, handles_out])
}
