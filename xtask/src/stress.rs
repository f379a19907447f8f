//! `cargo xtask stress`: the random-operation body of `tests/common/` for at
//! least 10^7 operations per policy, on the host (over the fake memory) and on
//! wasm32 under Node (the test binary's global allocator, comparing with the
//! real `memory.size`), in release builds. Prints ops, seeds, violations (must
//! be 0) and peak pages for every run, then a summary.
//!
//! `cargo xtask stress [--ops N] [--seed S] [--host-only | --wasm-only]`
//!
//! Also here: the edge guests that `cargo xtask test` runs (`--max-memory`, the
//! top of the 4 GiB address space, two linker-heap allocators), and the
//! threaded guests' run (`threads_test`, also in `cargo xtask test`).

use std::{
    io::{BufRead, BufReader, Read},
    process::{Command, Stdio},
    thread,
};

use crate::{
    Result, cargo,
    guests::{self, Guest},
    root, run, show, tools,
};

/// The edge-test guest: Signal with no page limit, linked with a 64-page
/// maximum so the engine's refusal is what stops growth.
pub const EDGE_MAX_MEMORY: Guest = Guest {
    name: "edge-max-memory",
    package: "guest-stress",
    features: "",
    link_args: &["--max-memory=4194304"],
    ..Guest::CDYLIB
};

/// Edge-test guests at the top of the 4 GiB address space
/// (`guests/edge-top`, `js/test/guests/edge-top.test.mjs`): Signal limited to
/// 65535 pages (talc's 32-bit fit checks near 2^32) ...
pub const EDGE_TOP_SIGNAL_LIMIT: Guest = Guest {
    name: "edge-top-signal-limit",
    package: "guest-edge-top",
    ..Guest::CDYLIB
};

/// ... Signal with no limit (a growth that ends at exactly 65536 pages) ...
pub const EDGE_TOP_SIGNAL: Guest = Guest {
    name: "edge-top-signal",
    package: "guest-edge-top",
    features: "unlimited",
    ..Guest::CDYLIB
};

/// ... and `Reserve::runtime()` on a linker heap that ends where memory ends
/// (2 MiB initial memory), so the reserve extends that heap.
pub const EDGE_TOP_RESERVE: Guest = Guest {
    name: "edge-top-reserve",
    package: "guest-edge-top",
    features: "reserve",
    link_args: &["--initial-memory=2097152"],
    ..Guest::CDYLIB
};

/// Two allocators with `linker_heap` in one module (`guests/edge-linker-heap`,
/// `js/test/guests/edge-linker-heap.test.mjs`): 8 MiB of initial memory.
pub const EDGE_LINKER_HEAP: Guest = Guest {
    name: "edge-linker-heap",
    package: "guest-edge-linker-heap",
    link_args: &["--initial-memory=8388608"],
    ..Guest::CDYLIB
};

/// Builds the edge guests and runs their Node tests
/// (`js/test/guests/max-memory.test.mjs`: Signal at the engine's maximum
/// fails cleanly and stays usable; `edge-top.test.mjs`: heaps that reach the
/// top of the address space hand out only memory that exists, once;
/// `edge-linker-heap.test.mjs`: the linker heap goes to one allocator).
pub fn edge_guest_test() -> Result {
    for g in [
        &EDGE_MAX_MEMORY,
        &EDGE_TOP_SIGNAL_LIMIT,
        &EDGE_TOP_SIGNAL,
        &EDGE_TOP_RESERVE,
        &EDGE_LINKER_HEAP,
    ] {
        guests::build(g)?;
    }
    run(Command::new("node").args([
        "--test",
        "js/test/guests/max-memory.test.mjs",
        "js/test/guests/edge-top.test.mjs",
        "js/test/guests/edge-linker-heap.test.mjs",
    ]))
}

/// One line of a run's report, as the tests print it.
struct Line {
    env: &'static str,
    text: String,
}

pub fn main(args: &[String]) -> Result {
    let mut ops: u64 = 10_000_000;
    let mut seed: Option<String> = None;
    let (mut host, mut wasm) = (true, true);
    let mut it = args.iter();
    while let Some(a) = it.next() {
        match a.as_str() {
            "--ops" => {
                ops = it
                    .next()
                    .and_then(|n| n.replace('_', "").parse().ok())
                    .ok_or("--ops needs a number")?
            }
            "--seed" => seed = Some(it.next().ok_or("--seed needs a number")?.clone()),
            "--host-only" => wasm = false,
            "--wasm-only" => host = false,
            other => return Err(format!("stress: unknown argument `{other}`")),
        }
    }
    let env = |cmd: &mut Command| {
        cmd.env("NOGROW_RANDOM_OPS", ops.to_string());
        if let Some(s) = &seed {
            cmd.env("NOGROW_RANDOM_SEED", s);
        }
    };

    let mut lines = Vec::new();
    let mut failed = Vec::new();
    if host {
        let mut cmd = cargo(&[
            "test",
            "--release",
            "-p",
            "nogrow",
            "--test",
            "random_ops",
            "--",
            "--ignored",
            "--exact",
            "stress_every_policy_on_the_host",
            "--nocapture",
        ]);
        env(&mut cmd);
        if let Err(e) = capture(&mut cmd, "host", &mut lines) {
            failed.push(e);
        }
    }
    if wasm {
        tools::ensure_wasm_target()?;
        tools::ensure_wasm_bindgen_runner()?;
        for test in [
            "wasm_fail_random_ops",
            "wasm_reserve_random_ops",
            "wasm_signal_random_ops",
        ] {
            let mut cmd = cargo(&[
                "test",
                "--release",
                "-p",
                "nogrow",
                "--target",
                "wasm32-unknown-unknown",
                "--test",
                test,
                "--",
                "--nocapture",
            ]);
            env(&mut cmd);
            if let Err(e) = capture(&mut cmd, "wasm32", &mut lines) {
                failed.push(e);
            }
        }
    }

    if wasm {
        // Threaded guests: `ops` random operations across 4 workers per
        // policy (at least 10^7 by default), on one shared memory.
        if let Err(e) = threads_test(ops.div_ceil(4)) {
            failed.push(e);
        }
    }

    eprintln!("\nstress summary ({ops} ops per run requested):");
    eprintln!(
        "  {:<7} {:<8} {:>12} {:>12} {:>10} {:>10}",
        "env", "policy", "seed", "ops", "violations", "peak_pages"
    );
    for l in lines.iter().filter(|l| l.text.contains("violations=0")) {
        let field = |k: &str| {
            l.text
                .split([' ', ':'])
                .find_map(|w| w.strip_prefix(k))
                .unwrap_or("?")
                .to_string()
        };
        let policy = l.text.split_whitespace().next().unwrap_or("?");
        eprintln!(
            "  {:<7} {:<8} {:>12} {:>12} {:>10} {:>10}",
            l.env,
            policy,
            field("seed="),
            field("ops="),
            0,
            field("peak_pages=")
        );
    }
    let violations: Vec<_> = lines.iter().filter(|l| l.text.contains(": op ")).collect();
    for v in &violations {
        eprintln!("  VIOLATION ({}): {}", v.env, v.text.trim());
    }
    if failed.is_empty() && violations.is_empty() {
        eprintln!("stress: violations=0");
        Ok(())
    } else {
        Err(format!(
            "stress: {} failed run(s): {}",
            failed.len(),
            failed.join("; ")
        ))
    }
}

/// Runs `cmd` from the root, echoing its output and keeping every report
/// or violation line.
fn capture(cmd: &mut Command, env: &'static str, lines: &mut Vec<Line>) -> Result {
    eprintln!("\n$ {}", show(cmd));
    let mut child = cmd
        .current_dir(root())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| format!("{}: {e}", show(cmd)))?;
    let pump = |r: Box<dyn Read + Send>| {
        thread::spawn(move || {
            let mut kept = Vec::new();
            for line in BufReader::new(r).lines().map_while(std::result::Result::ok) {
                eprintln!("{line}");
                if line.contains("violations=0") || line.contains(": op ") {
                    kept.push(line);
                }
            }
            kept
        })
    };
    let out = pump(Box::new(child.stdout.take().expect("piped")));
    let err = pump(Box::new(child.stderr.take().expect("piped")));
    let status = child.wait().map_err(|e| e.to_string())?;
    for t in [out, err] {
        let mut seen: Vec<String> = t.join().unwrap_or_default();
        // The wasm runner prints captured output twice on failure.
        seen.dedup();
        lines.extend(seen.into_iter().map(|text| Line { env, text }));
    }
    if status.success() {
        Ok(())
    } else {
        Err(format!("`{}` failed ({status})", show(cmd)))
    }
}

/// The threaded `std` guests (`guests/threads-std`, Fail and Signal), built
/// with nightly's `-Z build-std=std,panic_abort` and atomics in every crate
/// (std included, through `RUSTFLAGS`), into their own target directory
/// (`target/threads-std`; a cold build takes ~25 s on 2 cores), copied to
/// `target/guests/threads/std-{fail,signal}.wasm`. Installs
/// nightly's `rust-src` when missing. Returns the paths.
pub fn build_threads_std() -> Result<Vec<std::path::PathBuf>> {
    tools::ensure_miri()?;
    std::fs::create_dir_all(guests::dir().join("threads")).map_err(|e| e.to_string())?;
    let target_dir = root().join("target/threads-std");
    let mut out = Vec::new();
    for (name, features, link) in [
        ("threads/std-fail", "", guests::THREADS_FAIL_LINK),
        ("threads/std-signal", "signal", guests::THREADS_SIGNAL_LINK),
    ] {
        let mut cmd = crate::nightly_cargo(&[
            "rustc",
            "--quiet",
            "--release",
            "--target",
            guests::WASM32,
            "-Z",
            "build-std=std,panic_abort",
            "-p",
            "guest-threads-std",
            "--lib",
            "--crate-type",
            "cdylib",
        ]);
        if !features.is_empty() {
            cmd.args(["--features", features]);
        }
        cmd.arg("--");
        for a in link {
            cmd.arg(format!("-Clink-arg={a}"));
        }
        cmd.env("CARGO_TARGET_DIR", &target_dir)
            .env("RUSTFLAGS", guests::THREADS_RUSTC.join(" "));
        run(&mut cmd)?;
        let built = target_dir.join("wasm32-unknown-unknown/release/guest_threads_std.wasm");
        let dest = guests::dir().join(format!("{name}.wasm"));
        std::fs::copy(&built, &dest).map_err(|e| format!("copying {}: {e}", built.display()))?;
        out.push(dest);
    }
    Ok(out)
}

/// The threaded guests in Node `worker_threads` (`js/test/guests/threads*.test.mjs`):
/// the `no_std` ones (built by `guests::build_all`) and the `std` ones (built
/// here), `ops` random operations per worker with 4 workers.
pub fn threads_test(ops: u64) -> Result {
    build_threads_std()?;
    run(Command::new("node")
        .args([
            "--test",
            "js/test/guests/threads.test.mjs",
            "js/test/guests/threads-std.test.mjs",
        ])
        .env("THREADS_OPS", ops.to_string()))
}
