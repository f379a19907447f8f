//! The README and the guide (`docs/`) are tested: every block a reader would
//! copy is built and run, checked as an excerpt of a tested file, compiled
//! by rustdoc, or marked with the reason it is not run (the markers:
//! `xtask/tests/literate/mod.rs`). The scratch projects the pages define (a
//! guest crate from scratch, its JS host, the sizing example) are built and
//! run, and what the pages show as output is what they print.

mod literate;

use std::path::Path;

use literate::{Block, CODE, Marker, OUTPUT};

/// The relative link targets of a page's text outside fenced blocks.
fn links(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut fenced = false;
    for line in text.lines() {
        if line.trim_start().starts_with("```") {
            fenced = !fenced;
            continue;
        }
        if fenced {
            continue;
        }
        let mut rest = line;
        while let Some(at) = rest.find("](") {
            let after = &rest[at + 2..];
            let Some(end) = after.find(')') else { break };
            out.push(after[..end].to_string());
            rest = &after[end..];
        }
        // Reference definitions: `[name]: target`.
        if let Some(def) = line.strip_prefix('[')
            && let Some((_, target)) = def.split_once("]: ")
        {
            out.push(target.trim().to_string());
        }
    }
    out.into_iter()
        .filter(|l| !l.contains("://") && !l.starts_with('#') && !l.starts_with("mailto:"))
        .map(|l| l.split('#').next().unwrap_or_default().to_string())
        .collect()
}

/// The text of an excerpt's source: `PROJECT/PATH` of a scratch project,
/// else a repository file.
fn excerpt_source(
    target: &str,
    projects: &std::collections::BTreeMap<String, literate::Project>,
) -> Result<String, String> {
    if let Some((project, path)) = target.split_once('/')
        && let Some(p) = projects.get(project)
    {
        return p
            .files
            .iter()
            .rev()
            .find(|(f, _)| f == path)
            .map(|(_, body)| body.clone())
            .ok_or_else(|| format!("project {project} has no file {path}"));
    }
    std::fs::read_to_string(literate::root().join(target))
        .map_err(|e| format!("{target}: no such project file or repository file ({e})"))
}

#[test]
fn every_block_is_tested_or_marked() {
    let root = literate::root();
    let blocks = literate::all_blocks();
    let projects = literate::projects(&blocks);
    let mut errors = Vec::new();
    let mut counts: std::collections::BTreeMap<&str, usize> = Default::default();
    for (i, b) in blocks.iter().enumerate() {
        let lang = b.lang.as_str();
        let code = CODE.contains(&lang);
        if lang.is_empty() {
            errors.push(format!("{}: a fence without a language", b.at()));
            continue;
        }
        if !code && !OUTPUT.contains(&lang) {
            errors.push(format!("{}: unknown block language `{lang}`", b.at()));
            continue;
        }
        let kind = match &b.marker {
            None if b.is_doctest() => "doctest",
            None if code => {
                errors.push(format!(
                    "{}: a `{lang}` block that no test runs: mark it (`<!-- file … -->`, \
                     `<!-- run … -->`, `<!-- excerpt … -->` or `<!-- not run: why -->`; \
                     see xtask/tests/literate/mod.rs)",
                    b.at()
                ));
                continue;
            }
            None => "output (unchecked)",
            Some(m) if !code && !matches!(m, Marker::Output { .. }) => {
                errors.push(format!("{}: `{m:?}` on a `{lang}` block", b.at()));
                continue;
            }
            Some(Marker::Output { key, .. }) => {
                if code {
                    errors.push(format!("{}: an output marker on a `{lang}` block", b.at()));
                    continue;
                }
                let producer = blocks[..i]
                    .iter()
                    .rev()
                    .take_while(|p| p.page == b.page)
                    .find(|p| CODE.contains(&p.lang.as_str()));
                let ok = matches!(
                    (key, producer.and_then(|p| p.marker.as_ref())),
                    (None, Some(Marker::Run { .. })) | (Some(_), Some(Marker::Confirm { .. }))
                );
                if !ok {
                    errors.push(format!(
                        "{}: an output block must follow the run block (or, with a key, the confirm block) it shows",
                        b.at()
                    ));
                }
                "output (checked)"
            }
            Some(Marker::Run { project }) | Some(Marker::Confirm { project }) => {
                if !matches!(lang, "sh" | "bash" | "shell") {
                    errors.push(format!("{}: a run block must be `sh`", b.at()));
                }
                if projects.get(project).is_none_or(|p| p.files.is_empty()) {
                    errors.push(format!("{}: project {project} has no files", b.at()));
                }
                if matches!(b.marker, Some(Marker::Confirm { .. })) {
                    "confirm (xtask/tests/sizing.rs)"
                } else {
                    "run"
                }
            }
            Some(Marker::File { project, .. }) => {
                if projects[project].runs.is_empty() {
                    errors.push(format!(
                        "{}: project {project} has files but no run block",
                        b.at()
                    ));
                }
                "file of a project"
            }
            Some(Marker::Excerpt { target }) => {
                match excerpt_source(target, &projects) {
                    Ok(source) if literate::is_excerpt(&b.body, &source) => {}
                    Ok(_) => errors.push(format!(
                        "{}: not an excerpt of {target} (its lines must appear there in a row):\n{}",
                        b.at(),
                        b.body
                    )),
                    Err(e) => errors.push(format!("{}: {e}", b.at())),
                }
                "excerpt"
            }
            Some(Marker::NotRun { .. }) => "not run (reason given)",
        };
        *counts.entry(kind).or_default() += 1;
    }
    for (page, text) in literate::pages() {
        let dir = root.join(&page).parent().unwrap().to_path_buf();
        for link in links(&text) {
            if link.is_empty() {
                continue;
            }
            let target = dir.join(&link);
            let inside = normalize(&target).starts_with(&root);
            if !inside {
                errors.push(format!("{page}: link to {link}, outside the repository"));
            } else if !target.exists() {
                if link.ends_with(".md") && normalize(&target).starts_with(root.join("docs")) {
                    eprintln!(
                        "warning: {page}: link to the guide page {link}, which does not exist"
                    );
                } else {
                    errors.push(format!("{page}: link to {link}, which does not exist"));
                }
            }
        }
    }
    eprintln!("blocks of README.md and docs/*.md by how they are tested: {counts:?}");
    assert!(errors.is_empty(), "\n{}", errors.join("\n"));
}

/// `path` with `.` and `..` resolved, without touching the file system.
fn normalize(path: &Path) -> std::path::PathBuf {
    let mut out = std::path::PathBuf::new();
    for c in path.components() {
        match c {
            std::path::Component::ParentDir => {
                out.pop();
            }
            std::path::Component::CurDir => {}
            c => out.push(c),
        }
    }
    out
}

/// Checks the output blocks after `blocks[i]` against what it printed.
fn check_outputs(blocks: &[Block], i: usize, stdout: &str) {
    for out in literate::outputs_after(blocks, i) {
        if let Some(Marker::Output {
            key: None,
            tolerance,
        }) = &out.marker
            && let Err(e) = literate::same_output(&out.body, stdout, *tolerance)
        {
            assert!(
                literate::blessing(),
                "{}: the output shown is not what runs (NOGROW_DOCS_BLESS=1 rewrites it): {e}",
                out.at()
            );
            literate::rewrite_block(out, stdout);
        }
    }
}

#[test]
#[ignore = "builds and runs the guide's projects (a minute cold); cargo xtask test runs it"]
fn the_guide_runs() {
    let blocks = literate::all_blocks();
    let projects = literate::projects(&blocks);
    for (name, project) in &projects {
        let dir = literate::assemble(name, project);
        for run in &project.runs {
            let i = blocks
                .iter()
                .position(|b| b.page == run.page && b.line == run.line)
                .unwrap();
            let ran = literate::run_block(&dir, run, &[]);
            eprintln!(
                "{}: {name}: {:.1} s\n{}",
                run.at(),
                ran.seconds,
                ran.stdout.trim_end()
            );
            assert!(
                ran.ok,
                "{}: the block fails in {} ({:?}):\n{}\nstdout:\n{}\nstderr:\n{}",
                run.at(),
                dir.display(),
                ran.code,
                run.body,
                ran.stdout,
                ran.stderr
            );
            check_outputs(&blocks, i, &ran.stdout);
        }
    }
    the_guest_from_scratch_never_grows();
}

/// The guest crate the guide builds from scratch (a Fail guest) contains no
/// `memory.grow` and carries nogrow's layout section.
fn the_guest_from_scratch_never_grows() {
    use wasmparser::{Operator, Parser, Payload};
    let wasm = literate::shared_target().join("wasm32-unknown-unknown/release/my_guest.wasm");
    let bytes = std::fs::read(&wasm).unwrap_or_else(|e| panic!("{}: {e}", wasm.display()));
    let mut grows = 0;
    let mut layout = false;
    for payload in Parser::new(0).parse_all(&bytes) {
        match payload.expect("valid module") {
            Payload::CustomSection(c) if c.name() == "nogrow.layout" => layout = true,
            Payload::CodeSectionEntry(body) => {
                let mut ops = body.get_operators_reader().unwrap();
                while !ops.eof() {
                    if let Operator::MemoryGrow { .. } = ops.read().unwrap() {
                        grows += 1;
                    }
                }
            }
            _ => {}
        }
    }
    assert_eq!(grows, 0, "a Fail guest executes no memory.grow");
    assert!(layout, "install! emits the nogrow.layout section");
}

#[test]
fn markers_parse() {
    use literate::parse_marker;
    assert_eq!(
        parse_marker("file my-guest/src/lib.rs").unwrap(),
        Some(Marker::File {
            project: "my-guest".into(),
            path: "src/lib.rs".into()
        })
    );
    assert_eq!(
        parse_marker("output, numbers within 5 %").unwrap(),
        Some(Marker::Output {
            key: None,
            tolerance: Some(5.0)
        })
    );
    assert_eq!(
        parse_marker("output: 10 % smaller, numbers within 2 %").unwrap(),
        Some(Marker::Output {
            key: Some("10 % smaller".into()),
            tolerance: Some(2.0)
        })
    );
    assert!(
        parse_marker("not run: no").is_err(),
        "a reason in a few words"
    );
    assert_eq!(parse_marker("generated by cargo xtask abi").unwrap(), None);
}

#[test]
fn outputs_compare_numbers_within_their_tolerance() {
    use literate::same_output;
    let shown = "smallest 20055040 bytes (19.1 MiB)\n  install!(arena: 24482 << 10)";
    assert!(same_output(shown, shown, None).is_ok());
    assert!(
        same_output(
            shown,
            "smallest 20100000 bytes (19.2 MiB)\n  install!(arena: 24500 << 10)",
            Some(1.0)
        )
        .is_ok()
    );
    assert!(
        same_output(
            shown,
            "smallest 22000000 bytes (19.1 MiB)\n  install!(arena: 24482 << 10)",
            Some(5.0)
        )
        .is_err()
    );
    assert!(
        same_output(
            shown,
            "smallest 20055040 bytes (19.1 MiB)\n  install!(arena: 24482 << 20)",
            Some(5.0)
        )
        .is_err()
    );
    assert!(
        same_output(
            shown,
            "largest 20055040 bytes (19.1 MiB)\n  install!(arena: 24482 << 10)",
            Some(5.0)
        )
        .is_err()
    );
    assert!(literate::is_excerpt("b\nc", "a\nb  \nc\nd"));
    assert!(!literate::is_excerpt("b\nd", "a\nb\nc\nd"));
}
