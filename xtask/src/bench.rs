//! `cargo xtask bench`: nogrow side by side with the allocators people use
//! today. Builds `bench/guest` once per allocator (workloads) and
//! once more with the size probe, then runs `bench/run.mjs`, which prints the
//! tables. `--smoke` does the same with tiny counts in seconds (part of
//! `cargo xtask test`, so the harness cannot rot). The real workloads read
//! AWS service models from the pinned `botocore` package, unpacked here into
//! `target/bench/data/`. Beside the times, every run counts the wasm
//! instructions each synthetic workload executes per operation
//! (`bench/fuel.py`: wasmtime's fuel meter, from the pinned `wasmtime`
//! Python package); `--fuel` prints only those counts, in seconds once the
//! modules are built.

use std::{path::PathBuf, process::Command};

use crate::{Result, root, run};

/// Static arena of the arena allocators (must equal `bench/guest/src/lib.rs`).
pub const ARENA_BYTES: usize = 32 << 20;
/// `--max-memory` of every benchmark module (must equal `bench/guest/src/lib.rs`).
pub const MAX_MEMORY_BYTES: usize = ARENA_BYTES + (4 << 20);

/// One allocator under test: output name and `bench-guest` feature.
pub struct Peer {
    /// `target/bench/{name}.wasm` and `{name}.size.wasm`.
    pub name: &'static str,
    /// Feature of `bench-guest` (empty: std's default, dlmalloc).
    pub feature: &'static str,
}

/// Every peer, in table order. `none` is only built as a size probe.
pub const PEERS: &[Peer] = &[
    Peer {
        name: "dlmalloc",
        feature: "",
    },
    Peer {
        name: "talc-dynamic",
        feature: "talc-dynamic",
    },
    Peer {
        name: "talc-arena",
        feature: "talc-arena",
    },
    Peer {
        name: "talc-lock",
        feature: "talc-lock",
    },
    Peer {
        name: "lol_alloc",
        feature: "lol",
    },
    Peer {
        name: "wee_alloc",
        feature: "wee",
    },
    Peer {
        name: "rlsf",
        feature: "rlsf",
    },
    Peer {
        name: "wasmalloc",
        feature: "wasmalloc",
    },
    Peer {
        name: "bump",
        feature: "bump",
    },
    Peer {
        name: "nogrow-fail",
        feature: "nogrow-fail",
    },
    Peer {
        name: "nogrow-fail-fast",
        feature: "nogrow-fail-fast",
    },
    Peer {
        name: "nogrow-fail-one-heap",
        feature: "nogrow-fail-one-heap",
    },
    Peer {
        name: "nogrow-reserve",
        feature: "nogrow-reserve",
    },
    Peer {
        name: "nogrow-signal",
        feature: "nogrow-signal",
    },
    Peer {
        name: "none",
        feature: "none",
    },
];

/// Regression guard on the count that matters most to nogrow: nogrow Fail's
/// wasm instructions per hot 32 B alloc+free (`hot32a8`, align 8), as
/// wasmtime's fuel meter counts them (`bench/fuel.py`; the workload's own loop
/// included, the empty call's count subtracted). The smoke run (so `cargo
/// xtask test`) and `--fuel` fail when the count exceeds this bound.
///
/// Measured 94.0 at the full 500 000 ops (the first call's set-up spread
/// over the ops adds a tenth at the smoke run's 20 000) on 2026-12-03 with
/// nogrow's `src/` at commit f612d28 (104.0 at 851f602), rustc 1.95,
/// wasmtime 50.0.1 (`cargo xtask bench --fuel --peers nogrow-fail`); bare
/// TalcLock: 405.0. The bound is 94 + 15 % = 108.1, rounded up. Instruction
/// counts do not depend on the machine or its load, only on the code, the
/// compiler and the engine's cost model: a change of rustc or wasmtime may
/// call for a new measurement (and bound); an allocator change that fails
/// this made the hot path dearer.
const HOT32_FAIL_MAX_INSTRUCTIONS: f64 = 109.0;

/// The `--fuel-max` argument of `bench/run.mjs` for [`HOT32_FAIL_MAX_INSTRUCTIONS`].
fn fuel_guard() -> String {
    format!("nogrow-fail:hot32a8:{HOT32_FAIL_MAX_INSTRUCTIONS}")
}

/// Peers the smoke run builds and runs (one of each kind).
const SMOKE_PEERS: &[&str] = &[
    "dlmalloc",
    "talc-lock",
    "bump",
    "nogrow-fail",
    "nogrow-reserve",
    "nogrow-signal",
    "none",
];

/// The real workloads' documents: (file under `target/bench/data/`, path of
/// the gzipped original under the pinned `botocore` package's `data/`). Must
/// equal `REAL_DATA` in `bench/lib/workloads.mjs`.
const DATA: &[(&str, &str)] = &[
    ("account.json", "account/2021-02-01/service-2.json.gz"),
    ("kms.json", "kms/2014-11-01/service-2.json.gz"),
    ("ec2.json", "ec2/2016-11-15/service-2.json.gz"),
];

/// Where modules and results go.
pub fn dir() -> PathBuf {
    root().join("target/bench")
}

/// Installs the pinned `botocore` (its AWS service models are the real
/// workloads' documents) and unpacks [`DATA`] into `target/bench/data/`.
fn unpack_data() -> Result {
    crate::tools::ensure_python_packages()?;
    let from = crate::tools::python_packages_dir().join("botocore/data");
    let to = dir().join("data");
    std::fs::create_dir_all(&to).map_err(|e| e.to_string())?;
    for (file, gz) in DATA {
        let dest = to.join(file);
        if dest.exists() {
            continue;
        }
        let out = Command::new("gzip")
            .arg("-dc")
            .arg(from.join(gz))
            .output()
            .map_err(|e| format!("gzip: {e}"))?;
        if !out.status.success() {
            return Err(format!(
                "gunzip {}: {}",
                from.join(gz).display(),
                String::from_utf8_lossy(&out.stderr)
            ));
        }
        std::fs::write(&dest, &out.stdout).map_err(|e| format!("{}: {e}", dest.display()))?;
    }
    Ok(())
}

/// `cargo xtask bench [--smoke] [extra run.mjs arguments]`; `--workers [--smoke]`:
/// the threads benchmark (`bench/workers.mjs`); `--fuel [--peers a,b]
/// [--workloads x,y]`: only the instruction counts; `--validate-ballast`:
/// checks the smallest-capacity method of arenas against real arenas of that
/// size.
pub fn main(args: &[String]) -> Result {
    if args.iter().any(|a| a == "--workers") {
        // Threads: bench/workers.mjs builds bench/threads-guest and runs it.
        crate::tools::ensure_wasm_target()?;
        let rest = args.iter().filter(|a| *a != "--workers");
        run(Command::new("node")
            .arg(root().join("bench/workers.mjs"))
            .args(rest))
    } else if args.iter().any(|a| a == "--fuel") {
        fuel(args)
    } else if args.iter().any(|a| a == "--smoke") {
        smoke()
    } else if args.iter().any(|a| a == "--validate-ballast") {
        validate_ballast()
    } else {
        full(args)
    }
}

/// The full run (~7–10 min on 2 cores): every peer, 11 repetitions. Writes
/// `bench/results.svg` and `target/bench/results.json` (copy it to
/// `bench/results/latest.json` when updating `BENCHMARKS.md`).
pub fn full(extra: &[String]) -> Result {
    let peers: Vec<&Peer> = PEERS.iter().collect();
    build(&peers)?;
    unpack_data()?;
    let mut args: Vec<String> = vec![
        "--svg".into(),
        root().join("bench/results.svg").display().to_string(),
        "--json".into(),
        dir().join("results.json").display().to_string(),
    ];
    args.extend(py_packages());
    args.extend(extra.iter().cloned());
    node(&args, true)
}

/// The smoke run (seconds): a few peers, tiny counts, every table printed.
pub fn smoke() -> Result {
    let peers: Vec<&Peer> = PEERS
        .iter()
        .filter(|p| SMOKE_PEERS.contains(&p.name))
        .collect();
    build(&peers)?;
    unpack_data()?;
    // The memory-maximum rewrite the smallest-capacity search relies on,
    // and the instruction counter on modules whose counts are known.
    run(Command::new("node")
        .args(["--test", "bench/lib/memory-max.test.mjs"])
        .current_dir(root()))?;
    run(Command::new("python3")
        .arg("bench/fuel_test.py")
        .arg("--packages")
        .arg(crate::tools::python_packages_dir())
        .current_dir(root()))?;
    let listed: Vec<&str> = peers
        .iter()
        .map(|p| p.name)
        .filter(|n| *n != "none")
        .collect();
    let mut args: Vec<String> = vec!["--smoke".into(), "--peers".into(), listed.join(",")];
    args.extend(py_packages());
    args.extend(["--fuel-max".into(), fuel_guard()]);
    node(&args, true)
}

/// `--fuel [--peers a,b] [--workloads x,y] [other run.mjs arguments]`: builds
/// the workload modules (no size probes) of every peer, or of the `--peers`
/// named and bare TalcLock (the ratios' base), and prints only the
/// instruction counts per operation (`bench/run.mjs --fuel-only`, the full
/// runs' op counts; the real workloads per document), then checks
/// [`HOT32_FAIL_MAX_INSTRUCTIONS`] when it counted nogrow Fail's hot path. What a developer runs after changing the
/// allocator: deterministic, and seconds once the modules are built.
pub fn fuel(args: &[String]) -> Result {
    let value = |flag: &str| {
        let prefix = format!("{flag}=");
        args.iter().enumerate().find_map(|(i, a)| {
            if a == flag {
                args.get(i + 1).cloned()
            } else {
                a.strip_prefix(&prefix).map(str::to_string)
            }
        })
    };
    let named = value("--peers");
    let workloads = value("--workloads");
    let peers: Vec<&Peer> = PEERS
        .iter()
        .filter(|p| p.name != "none")
        .filter(|p| {
            named
                .as_deref()
                .is_none_or(|n| p.name == "talc-lock" || n.split(',').any(|x| x == p.name))
        })
        .collect();
    if let Some(n) = &named
        && let Some(unknown) = n.split(',').find(|x| !PEERS.iter().any(|p| p.name == *x))
    {
        return Err(format!("--fuel: no peer named {unknown}"));
    }
    crate::tools::ensure_python_packages()?;
    crate::tools::ensure_wasm_target()?;
    std::fs::create_dir_all(dir()).map_err(|e| e.to_string())?;
    for p in &peers {
        build_one(p, false)?;
    }
    unpack_data()?;
    // run.mjs gets the peers built (bare TalcLock added), and the rest as given.
    let mut rest: Vec<String> = vec![
        "--fuel-only".into(),
        "--peers".into(),
        peers.iter().map(|p| p.name).collect::<Vec<_>>().join(","),
    ];
    rest.extend(py_packages());
    let guarded = peers.iter().any(|p| p.name == "nogrow-fail")
        && workloads
            .as_deref()
            .is_none_or(|w| w.split(',').any(|x| x == "hot32a8"));
    if guarded {
        rest.extend(["--fuel-max".into(), fuel_guard()]);
    }
    let mut skip = false;
    for a in args {
        if skip {
            skip = false;
        } else if a == "--peers" {
            skip = true;
        } else if a != "--fuel" && !a.starts_with("--peers=") {
            rest.push(a.clone());
        }
    }
    // Counting needs no quiet core: not pinned, so compiling uses both.
    node(&rest, false)
}

/// `--py-packages DIR`: where [`crate::tools::ensure_python_packages`] put
/// `wasmtime`, for `bench/fuel.py`.
fn py_packages() -> [String; 2] {
    [
        "--py-packages".into(),
        crate::tools::python_packages_dir().display().to_string(),
    ]
}

/// Runs `bench/run.mjs` with `args`; `pin`: on one core when possible (the
/// timed runs; 2-core machine, other jobs running).
fn node(args: &[String], pin: bool) -> Result {
    let wasm_opt = if args.iter().any(|a| a == "--fuel-only") {
        true // no code-size table: wasm-opt is not needed
    } else {
        crate::tools::ensure_apt("wasm-opt", &["binaryen"])?
    };
    let pinned = pin
        && Command::new("taskset")
            .arg("--version")
            .output()
            .is_ok_and(|o| o.status.success());
    let mut cmd = if pinned {
        let mut c = Command::new("taskset");
        c.args(["-c", "1", "node"]);
        c
    } else {
        Command::new("node")
    };
    cmd.arg("bench/run.mjs").arg("--dir").arg(dir()).args(args);
    if !wasm_opt {
        cmd.arg("--no-wasm-opt");
    }
    run(&mut cmd)
}

/// Builds the workload module and the size probe of each peer. Each variant
/// has its own target dir so switching features never rebuilds the others.
fn build(peers: &[&Peer]) -> Result {
    crate::tools::ensure_wasm_target()?;
    std::fs::create_dir_all(dir()).map_err(|e| e.to_string())?;
    for p in peers {
        if p.name != "none" {
            build_one(p, false)?;
        }
        build_one(p, true)?;
    }
    Ok(())
}

fn build_one(p: &Peer, size: bool) -> Result<PathBuf> {
    let (suffix, features) = match (size, p.feature) {
        (false, f) => ("", f.to_string()),
        (true, "") => (".size", "size".to_string()),
        (true, f) => (".size", format!("size,{f}")),
    };
    let target_dir = dir().join("build").join(format!("{}{suffix}", p.name));
    let mut cmd = crate::guests::wasm_cdylib("bench-guest", &features);
    cmd.env("CARGO_TARGET_DIR", &target_dir);
    cmd.arg(format!("-Clink-arg=--max-memory={MAX_MEMORY_BYTES}"));
    run(&mut cmd)?;
    let built = target_dir.join("wasm32-unknown-unknown/release/bench_guest.wasm");
    let dest = dir().join(format!("{}{suffix}.wasm", p.name));
    std::fs::copy(&built, &dest).map_err(|e| format!("copying {}: {e}", built.display()))?;
    Ok(dest)
}

/// Step of the ballast search (must equal `BALLAST_STEP` in `bench/lib/workloads.mjs`).
const BALLAST_STEP: usize = 16 << 10;

/// `--validate-ballast`: the smallest-capacity search shrinks an arena with
/// a ballast block at run time. For nogrow Fail and the large real workloads,
/// this finds N with the ballast, then builds nogrow Fail with a real arena
/// of N and of N − 2 steps (`BENCH_ARENA_BYTES`) and runs the workload at
/// full capacity in each: the method holds if the first succeeds and the
/// second runs out.
pub fn validate_ballast() -> Result {
    let fail = PEERS
        .iter()
        .find(|p| p.name == "nogrow-fail")
        .ok_or("no nogrow-fail peer")?;
    build(&[fail])?;
    unpack_data()?;
    let mut agree = true;
    for (workload, file) in [("json_large", "ec2.json"), ("regex", "ec2.json")] {
        let found = capacity_child(&dir().join("nogrow-fail.wasm"), workload, file, 32)?
            .ok_or(format!("{workload}: nogrow Fail runs out at full capacity"))?;
        for (what, arena, should_fit) in [
            ("N", found, true),
            ("N - 2 steps", found - 2 * BALLAST_STEP, false),
        ] {
            let module = build_arena(arena)?;
            let fits = capacity_child(&module, workload, file, 0)?.is_some();
            agree &= fits == should_fit;
            println!(
                "ballast check: {workload}: ballast search N = {found} B; real arena of {what} = {arena} B: {}{}",
                if fits { "succeeds" } else { "runs out" },
                if fits == should_fit {
                    ""
                } else {
                    "  <-- DISAGREES"
                }
            );
        }
    }
    if agree {
        Ok(())
    } else {
        Err("the ballast search disagrees with real arenas".into())
    }
}

/// Runs the smallest-capacity search of `bench/run.mjs` (at most `steps`
/// bisection steps; 0: only the run at full capacity): the bytes found, or
/// `None` when the module runs out at full capacity.
fn capacity_child(
    module: &std::path::Path,
    workload: &str,
    file: &str,
    steps: u32,
) -> Result<Option<usize>> {
    let out = Command::new("node")
        .arg(root().join("bench/run.mjs"))
        .arg("--child-cap")
        .arg(module)
        .args(["--workload", workload, "--steps", &steps.to_string()])
        .arg("--input")
        .arg(dir().join("data").join(file))
        .output()
        .map_err(|e| format!("node: {e}"))?;
    let text = String::from_utf8_lossy(&out.stdout);
    if !out.status.success() {
        return Err(format!(
            "capacity search of {workload} failed: {}",
            String::from_utf8_lossy(&out.stderr)
        ));
    }
    if text.contains("\"exhausted\":true") {
        return Ok(None);
    }
    let bytes = text
        .split("\"bytes\":")
        .nth(1)
        .and_then(|rest| rest.split(|c: char| !c.is_ascii_digit()).next())
        .and_then(|n| n.parse().ok())
        .ok_or_else(|| format!("no bytes in {text}"))?;
    Ok(Some(bytes))
}

/// nogrow Fail's workload module with a static arena of `arena` bytes.
fn build_arena(arena: usize) -> Result<PathBuf> {
    let target_dir = dir().join("build/nogrow-fail-arena");
    let mut cmd = crate::guests::wasm_cdylib("bench-guest", "nogrow-fail");
    cmd.env("CARGO_TARGET_DIR", &target_dir);
    cmd.env("BENCH_ARENA_BYTES", arena.to_string());
    cmd.arg(format!("-Clink-arg=--max-memory={MAX_MEMORY_BYTES}"));
    run(&mut cmd)?;
    let built = target_dir.join("wasm32-unknown-unknown/release/bench_guest.wasm");
    let dest = dir().join(format!("nogrow-fail-arena-{arena}.wasm"));
    std::fs::copy(&built, &dest).map_err(|e| format!("copying {}: {e}", built.display()))?;
    Ok(dest)
}
