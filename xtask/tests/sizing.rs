//! The sizing tool's answer holds in real arenas: for the guide's worked
//! example (`docs/sizing.md`: serde_json on the AWS EC2 service model),
//! `nogrow-size --margin 0` finds the smallest arena with the ballast; the
//! guest is then built with that arena, and with one 10 % smaller, and the
//! guide's confirm commands run in each: the first must succeed and the
//! second run out of memory. The outputs the guide shows for both are
//! compared with what they print. Then `js/test/sizing.test.mjs` runs on
//! builds of the same guest.

mod literate;

use literate::{Block, Marker};

/// The `install!` line of the example's `src/lib.rs`, replaced by `line`.
fn set_install_line(dir: &std::path::Path, line: &str) {
    let path = dir.join("src/lib.rs");
    let text = std::fs::read_to_string(&path).unwrap();
    let mut replaced = 0;
    let out: Vec<String> = text
        .lines()
        .map(|l| {
            if l.starts_with("nogrow::install!(") {
                replaced += 1;
                line.to_string()
            } else {
                l.to_string()
            }
        })
        .collect();
    assert_eq!(replaced, 1, "src/lib.rs has one install! line");
    std::fs::write(&path, out.join("\n") + "\n").unwrap();
}

/// A number field of a flat JSON object.
fn field(json: &str, name: &str) -> f64 {
    let key = format!("\"{name}\":");
    let at = json
        .find(&key)
        .unwrap_or_else(|| panic!("no {name} in {json}"))
        + key.len();
    let rest = &json[at..];
    let end = rest.find([',', '}']).unwrap();
    rest[..end].trim().parse().unwrap()
}

#[test]
#[ignore = "builds the sizing example three times (a minute cold); cargo xtask test runs it"]
fn the_recommended_arena_fits_and_one_10_percent_smaller_does_not() {
    let started = std::time::Instant::now();
    let blocks = literate::all_blocks();
    let projects = literate::projects(&blocks);
    let project = &projects["sizing-json"];
    assert_eq!(
        project.confirms.len(),
        1,
        "docs/sizing.md has one confirm block"
    );
    let dir = literate::assemble("sizing-answer", project);
    // The page's own steps: the document, the measuring build, its report.
    for run in &project.runs {
        let ran = literate::run_block(&dir, run, &[]);
        assert!(ran.ok, "{}: {}\n{}", run.at(), ran.stdout, ran.stderr);
    }
    let measure = Block {
        body: "npx nogrow-size target/wasm32-unknown-unknown/release/sizing_json.wasm \
               --workload workload.mjs --margin 0 --json\n"
            .into(),
        ..project.runs[0].clone()
    };
    let ran = literate::run_block(&dir, &measure, &[]);
    assert!(ran.ok, "{}\n{}", ran.stdout, ran.stderr);
    let guests = literate::scratch().join("sizing-guests");
    std::fs::create_dir_all(&guests).unwrap();
    let built = dir.join("target/wasm32-unknown-unknown/release/sizing_json.wasm");
    let keep = |name: &str| {
        let to = guests.join(name);
        std::fs::copy(&built, &to).unwrap();
        to
    };
    let measuring = keep("measuring.wasm");
    let json = ran.stdout.trim();
    let smallest = field(json, "smallest") as u64;
    let arena = field(json, "arenaBytes") as u64;
    let peak = field(json, "peakInUse") as u64;
    let fails_at = field(json, "failsAt") as u64;
    assert_eq!(
        arena,
        smallest.div_ceil(1024) * 1024,
        "margin 0: the smallest, in whole KiB"
    );
    assert!(
        peak < smallest,
        "the peak in use ({peak}) fits in the arena found ({smallest})"
    );
    let line = |bytes: u64| format!("nogrow::install!(arena: {bytes}, policy: Fail);");
    let smaller = arena * 9 / 10;
    eprintln!(
        "sizing: peak in use {peak} B; smallest arena found {smallest} B (fails at {fails_at} B); \
         checking real arenas of {arena} B and {smaller} B"
    );
    let confirm = &project.confirms[0];
    let at = blocks
        .iter()
        .position(|b| b.page == confirm.page && b.line == confirm.line)
        .unwrap();
    let outputs = literate::outputs_after(&blocks, at);
    for (bytes, key, fits) in [
        (arena, "recommended arena", true),
        (smaller, "10 % smaller", false),
    ] {
        set_install_line(&dir, &line(bytes));
        let ran = literate::run_block(&dir, confirm, &[]);
        eprintln!("arena of {bytes} B: {}", ran.stdout.trim_end());
        if fits {
            assert!(
                ran.ok,
                "an arena of {bytes} B (the answer) is too small:\n{}\n{}",
                ran.stdout, ran.stderr
            );
        } else {
            assert_eq!(
                ran.code,
                Some(1),
                "an arena of {bytes} B (10 % below the answer) must run out:\n{}\n{}",
                ran.stdout,
                ran.stderr
            );
            assert!(ran.stdout.contains("out of heap memory"), "{}", ran.stdout);
        }
        let shown = outputs
            .iter()
            .find(|b| matches!(&b.marker, Some(Marker::Output { key: Some(k), .. }) if k == key))
            .unwrap_or_else(|| panic!("docs/sizing.md shows no output `{key}`"));
        let Some(Marker::Output { tolerance, .. }) = &shown.marker else {
            unreachable!()
        };
        if let Err(e) = literate::same_output(&shown.body, &ran.stdout, *tolerance) {
            assert!(
                literate::blessing(),
                "{}: the output shown is not what runs (NOGROW_DOCS_BLESS=1 rewrites it): {e}",
                shown.at()
            );
            literate::rewrite_block(shown, &ran.stdout);
        }
    }
    // The JS side's own tests, on builds of the same guest: the measuring
    // build, the last confirm build (a real arena, no hook), and the
    // measuring arena with `c-malloc` instead of `sizing` (the fallback hook).
    let plain = keep("plain.wasm");
    let original = project
        .files
        .iter()
        .find(|(f, _)| f == "src/lib.rs")
        .and_then(|(_, body)| body.lines().find(|l| l.starts_with("nogrow::install!(")))
        .unwrap()
        .to_string();
    set_install_line(&dir, &original);
    let with_malloc = Block {
        body: "cargo build --release --target wasm32-unknown-unknown --features nogrow/c-malloc\n"
            .into(),
        ..measure.clone()
    };
    let ran = literate::run_block(&dir, &with_malloc, &[]);
    assert!(ran.ok, "{}\n{}", ran.stdout, ran.stderr);
    let malloc = keep("malloc.wasm");
    let js = std::process::Command::new("node")
        .args(["--test", "js/test/sizing.test.mjs"])
        .current_dir(literate::root())
        .env("NOGROW_SIZING_GUEST", &measuring)
        .env("NOGROW_SIZING_MALLOC_GUEST", &malloc)
        .env("NOGROW_SIZING_PLAIN_GUEST", &plain)
        .output()
        .expect("node runs");
    let out = String::from_utf8_lossy(&js.stdout);
    eprintln!("{out}");
    assert!(
        js.status.success(),
        "js/test/sizing.test.mjs:\n{out}\n{}",
        String::from_utf8_lossy(&js.stderr)
    );
    assert!(
        !out.contains("# skipped 1") && out.contains("# skipped 0"),
        "no JS sizing test skipped"
    );
    eprintln!(
        "sizing answer checked in {:.1} s",
        started.elapsed().as_secs_f64()
    );
}
