//! The example hosts in `hosts/`: the wasmi embedding (Rust, its own
//! workspace, built into `target/hosts`) and the wasmtime one (Python), run on
//! the heavy guests with their output checked.

use std::{process::Command, time::Instant};

use crate::{Result, cargo, guests, root, show, tools, wasi};

/// The heavy guests the hosts run, by their names in [`guests::GUESTS`].
const NAMES: &[&str] = &["heavy-fail", "heavy-reserve", "heavy-signal"];

/// `cargo xtask test-hosts`: builds the heavy guests, then [`test`].
pub fn build_and_test() -> Result {
    guests::build_each(guests::GUESTS.iter().filter(|g| NAMES.contains(&g.name)))?;
    test()
}

/// Runs both example hosts on the built heavy guests and checks what they
/// print.
pub fn test() -> Result {
    wasmi()?;
    python()
}

/// Runs `cmd` from the root and returns its standard output; fails, with
/// the output, unless it exits 0.
fn output(cmd: &mut Command) -> Result<String> {
    eprintln!("\n$ {}", show(cmd));
    let out = cmd
        .current_dir(root())
        .output()
        .map_err(|e| format!("{}: {e}", show(cmd)))?;
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    eprint!("{stdout}{}", String::from_utf8_lossy(&out.stderr));
    if out.status.success() {
        Ok(stdout)
    } else {
        Err(format!("`{}` failed ({})", show(cmd), out.status))
    }
}

fn expect(ok: bool, what: &str) -> Result {
    if ok {
        Ok(())
    } else {
        Err(format!("hosts/rust-wasmi: expected {what}"))
    }
}

/// The number after `label` in `line` (`"generation 5"` → 5).
fn number_after(line: &str, label: &str) -> Option<u64> {
    let rest = &line[line.find(label)? + label.len()..];
    let digits: String = rest.chars().take_while(char::is_ascii_digit).collect();
    digits.parse().ok()
}

fn wasmi() -> Result {
    let manifest = root().join("hosts/rust-wasmi/Cargo.toml");
    let target = root().join("target/hosts");
    let started = Instant::now();
    crate::run(
        cargo(&["build", "--quiet", "--release", "--manifest-path"])
            .arg(&manifest)
            .arg("--target-dir")
            .arg(&target),
    )?;
    eprintln!(
        "hosts/rust-wasmi built in {:.1} s",
        started.elapsed().as_secs_f64()
    );
    let bin = target.join("release/nogrow-host-wasmi");
    let guest = |name: &str| guests::dir().join(format!("{name}.wasm"));

    // Fail: memory never changes; a clean failure, then an out-of-memory trap.
    let out = output(Command::new(&bin).arg(guest("heavy-fail")).args([
        "heavy:512",
        "heavy:1500",
        "heavy:8000",
        "grab:1024",
        "grab:4096",
    ]))?;
    let calls: Vec<&str> = out.lines().filter(|l| l.contains("): ")).collect();
    expect(calls.len() == 5, "five call lines")?;
    for line in &calls {
        expect(
            number_after(line, "generation ") == Some(0) && !line.contains("changed"),
            "generation 0 after every call of the Fail guest",
        )?;
    }
    expect(
        calls[2].contains("returned") && number_after(calls[2], "failures ") == Some(1),
        "heavy:8000 to fail cleanly and be recorded",
    )?;
    expect(calls[4].contains("trapped"), "grab:4096 to trap")?;
    expect(
        out.lines().any(|l| {
            l == "explanation: out of heap memory: requested 4194304 bytes (align 1); \
                  heap 2097152, in use 0; policy Fail — raise the arena or use Reserve"
        }),
        "the Fail explanation line",
    )?;
    expect(
        out.contains("summary: 5 calls, 1 out-of-memory traps, 0 generation changes, generation 0, growths 0, failures 2"),
        "the Fail summary",
    )?;

    // Signal: growth bumps the generation; the view is renewed each time.
    let out = output(Command::new(&bin).arg(guest("heavy-signal")).args([
        "heavy:256",
        "heavy:1024",
        "heavy:4096",
        "grab:1024",
        "grab:131072",
    ]))?;
    let calls: Vec<&str> = out.lines().filter(|l| l.contains("): ")).collect();
    expect(calls.len() == 5, "five call lines")?;
    let renewed = calls.iter().filter(|l| l.contains("view renewed")).count();
    expect(
        renewed >= 2 && calls[0].contains("view renewed"),
        "the Signal guest's growth to renew the view, first at heavy:256",
    )?;
    let summary = out
        .lines()
        .find(|l| l.starts_with("summary: "))
        .ok_or("hosts/rust-wasmi: no summary line")?;
    let generation = number_after(summary, ", generation ");
    expect(
        generation.is_some() && generation == number_after(summary, "growths "),
        "generation = growths (nogrow is the only one that grows)",
    )?;
    expect(
        number_after(summary, "traps, ") == Some(renewed as u64),
        "one generation change per renewed view",
    )?;
    let explanation = out
        .lines()
        .find(|l| l.starts_with("explanation: "))
        .ok_or("hosts/rust-wasmi: no explanation line for the Signal guest")?;
    expect(
        explanation.starts_with(
            "explanation: out of heap memory: requested 134217728 bytes (align 1); heap ",
        ) && explanation.ends_with(
            "; policy Signal — growth refused (limit 1024 pages, or the engine's maximum); \
             raise limit_pages or the module's maximum",
        ),
        "the Signal explanation line",
    )?;
    Ok(())
}

fn python() -> Result {
    tools::ensure_python_packages()?;
    let layout = wasi::write_layout()?;
    let started = Instant::now();
    crate::run(
        Command::new("python3")
            .arg("hosts/python/test_hosts.py")
            .arg("--guests")
            .arg(guests::dir())
            .arg("--layout")
            .arg(layout)
            .arg("--packages")
            .arg(tools::python_packages_dir()),
    )?;
    eprintln!(
        "hosts/python ran in {:.1} s",
        started.elapsed().as_secs_f64()
    );
    Ok(())
}
