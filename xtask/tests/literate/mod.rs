//! The README and the guide (`docs/*.md`) as tests: every fenced block a
//! reader would copy (Rust, TOML, JS, shell, Python, …) is either run or
//! checked, or says why not, with an HTML comment on the line right before
//! its fence:
//!
//! - `<!-- file PROJECT/PATH -->`: the block is the file `PATH` of the
//!   scratch project `PROJECT` (a crate, a host script), assembled under
//!   `target/tmp/docs/PROJECT` from every page, README first. In
//!   `Cargo.toml`, the published `nogrow` dependency is pointed at this
//!   checkout; `node_modules/nogrow` is this repository's `js/` (with
//!   `nogrow-size` in `node_modules/.bin`), `target` is one cargo target
//!   directory shared by every project, `py` is `target/py` (the pinned
//!   Python packages), and `nogrow` is on the `PATH`.
//! - `<!-- run PROJECT -->`: a shell block, run in the project's directory
//!   (offline), in page order.
//! - `<!-- output -->` on a `text` block: what the run block before it
//!   prints, line by line; `<!-- output, numbers within N % -->` compares
//!   every number within N % and the rest exactly.
//! - `<!-- excerpt PATH -->`: the block's lines appear, in a row, in a file:
//!   `PROJECT/PATH` of a scratch project, or a repository path.
//! - `<!-- confirm PROJECT -->`: a shell block that `xtask/tests/sizing.rs`
//!   runs (with recommended arenas); outputs marked `<!-- output: KEY … -->`
//!   are what it compares there.
//! - `<!-- not run: REASON -->`.
//!
//! Rust blocks of README.md that rustdoc compiles (the README is the crate's
//! documentation) need no marker: `cargo test --doc` tests them. `text` and
//! `json` blocks are output, not code.

#![allow(dead_code)]

use std::{
    collections::BTreeMap,
    path::{Path, PathBuf},
    process::Command,
};

/// The repository root.
pub fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("..")
        .canonicalize()
        .expect("the repository root")
}

/// Where scratch projects go: `target/tmp/docs`.
pub fn scratch() -> PathBuf {
    PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("docs")
}

/// Block languages a reader copies: they need a test or a reason.
pub const CODE: &[&str] = &[
    "rust",
    "toml",
    "js",
    "javascript",
    "mjs",
    "ts",
    "typescript",
    "sh",
    "shell",
    "bash",
    "console",
    "python",
    "py",
    "wat",
    "yaml",
    "yml",
];

/// Block languages that are output or data, not code to copy.
pub const OUTPUT: &[&str] = &["text", "json"];

/// What the comment before a block says.
#[derive(Debug, Clone, PartialEq)]
pub enum Marker {
    /// `file PROJECT/PATH`.
    File { project: String, path: String },
    /// `run PROJECT`.
    Run { project: String },
    /// `confirm PROJECT`.
    Confirm { project: String },
    /// `output[: KEY][, numbers within N %]`.
    Output {
        key: Option<String>,
        tolerance: Option<f64>,
    },
    /// `excerpt PATH`.
    Excerpt { target: String },
    /// `not run: REASON`.
    NotRun { reason: String },
}

/// A fenced block.
#[derive(Debug, Clone)]
pub struct Block {
    /// The page, relative to the root.
    pub page: String,
    /// 1-based line of the opening fence.
    pub line: usize,
    /// The info string's first word (`rust` of `rust,ignore`).
    pub lang: String,
    /// The whole info string.
    pub info: String,
    /// The content, the fence's indentation removed.
    pub body: String,
    /// The marker on the line before the fence, if any.
    pub marker: Option<Marker>,
}

impl Block {
    /// `page:line`, for messages.
    pub fn at(&self) -> String {
        format!("{}:{}", self.page, self.line)
    }

    /// Whether rustdoc compiles it as a doctest (README.md only: the crate
    /// documentation).
    pub fn is_doctest(&self) -> bool {
        self.page == "README.md"
            && self.lang == "rust"
            && !self.info.split(',').any(|w| w.trim() == "ignore")
    }
}

/// README.md, then every page of `docs/`, by name.
pub fn pages() -> Vec<(String, String)> {
    let root = root();
    let mut names: Vec<String> = std::fs::read_dir(root.join("docs"))
        .expect("docs/")
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".md"))
        .map(|n| format!("docs/{n}"))
        .collect();
    names.sort();
    names.insert(0, "README.md".into());
    names
        .into_iter()
        .map(|n| {
            let text = std::fs::read_to_string(root.join(&n)).unwrap();
            (n, text)
        })
        .collect()
}

/// Parses a marker comment's text (between `<!--` and `-->`, trimmed).
pub fn parse_marker(text: &str) -> Result<Option<Marker>, String> {
    let words: Vec<&str> = text.split_whitespace().collect();
    let project_path = |arg: &str| -> Result<(String, String), String> {
        arg.split_once('/')
            .map(|(p, f)| (p.to_string(), f.to_string()))
            .ok_or_else(|| format!("`{text}`: expected PROJECT/PATH"))
    };
    let one = |what: &str| -> Result<String, String> {
        match words.as_slice() {
            [_, arg] => Ok(arg.to_string()),
            _ => Err(format!("`{text}`: expected `{what}`")),
        }
    };
    Ok(Some(match words.first().copied() {
        Some("file") => {
            let (project, path) = project_path(&one("file PROJECT/PATH")?)?;
            Marker::File { project, path }
        }
        Some("run") => Marker::Run {
            project: one("run PROJECT")?,
        },
        Some("confirm") => Marker::Confirm {
            project: one("confirm PROJECT")?,
        },
        Some("excerpt") => Marker::Excerpt {
            target: one("excerpt PATH")?,
        },
        Some("not") if text.starts_with("not run:") => {
            let reason = text["not run:".len()..].trim().to_string();
            if reason.split_whitespace().count() < 3 {
                return Err(format!("`{text}`: say why the block is not run"));
            }
            Marker::NotRun { reason }
        }
        Some(w) if w == "output" || w.starts_with("output,") || w.starts_with("output:") => {
            let rest = text["output".len()..].trim();
            let (key, opts) = match rest.strip_prefix(':') {
                Some(r) => match r.split_once(',') {
                    Some((k, o)) => (Some(k.trim().to_string()), o.trim()),
                    None => (Some(r.trim().to_string()), ""),
                },
                None => (None, rest.trim_start_matches(',').trim()),
            };
            let tolerance = if opts.is_empty() {
                None
            } else {
                let n = opts
                    .strip_prefix("numbers within")
                    .and_then(|r| r.trim().strip_suffix('%'))
                    .and_then(|n| n.trim().parse::<f64>().ok())
                    .ok_or_else(|| format!("`{text}`: expected `numbers within N %`"))?;
                Some(n)
            };
            Marker::Output { key, tolerance }
        }
        _ => return Ok(None),
    }))
}

/// The fenced blocks of a page.
pub fn blocks(page: &str, text: &str) -> Result<Vec<Block>, String> {
    let lines: Vec<&str> = text.lines().collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < lines.len() {
        let line = lines[i];
        let trimmed = line.trim_start();
        if let Some(info) = trimmed.strip_prefix("```") {
            let indent = line.len() - trimmed.len();
            let start = i;
            let mut body = String::new();
            i += 1;
            while i < lines.len() && lines[i].trim() != "```" {
                let l = lines[i];
                let cut = l.len() - l.trim_start().len();
                body.push_str(&l[cut.min(indent)..]);
                body.push('\n');
                i += 1;
            }
            if i == lines.len() {
                return Err(format!("{page}:{}: unclosed fence", start + 1));
            }
            let info = info.trim().to_string();
            let lang = info
                .split([',', ' '])
                .next()
                .unwrap_or_default()
                .to_string();
            let before = start.checked_sub(1).map(|b| lines[b].trim());
            let marker = match before {
                Some(b) if b.starts_with("<!--") && b.ends_with("-->") => {
                    parse_marker(b[4..b.len() - 3].trim())
                        .map_err(|e| format!("{page}:{}: {e}", start))?
                }
                _ => None,
            };
            out.push(Block {
                page: page.to_string(),
                line: start + 1,
                lang,
                info,
                body,
                marker,
            });
        }
        i += 1;
    }
    Ok(out)
}

/// Every block of every page.
pub fn all_blocks() -> Vec<Block> {
    pages()
        .iter()
        .flat_map(|(p, t)| blocks(p, t).unwrap_or_else(|e| panic!("{e}")))
        .collect()
}

/// A scratch project: its files and its run blocks, in page order.
#[derive(Debug, Default)]
pub struct Project {
    pub files: Vec<(String, String)>,
    pub runs: Vec<Block>,
    pub confirms: Vec<Block>,
}

/// The scratch projects the blocks define.
pub fn projects(blocks: &[Block]) -> BTreeMap<String, Project> {
    let mut out: BTreeMap<String, Project> = BTreeMap::new();
    for b in blocks {
        match &b.marker {
            Some(Marker::File { project, path }) => out
                .entry(project.clone())
                .or_default()
                .files
                .push((path.clone(), b.body.clone())),
            Some(Marker::Run { project }) => {
                out.entry(project.clone()).or_default().runs.push(b.clone())
            }
            Some(Marker::Confirm { project }) => out
                .entry(project.clone())
                .or_default()
                .confirms
                .push(b.clone()),
            _ => {}
        }
    }
    out
}

/// A `Cargo.toml` as a scratch project builds it: the published `nogrow`
/// dependency pointed at this checkout, in a workspace of its own.
pub fn local_manifest(text: &str) -> String {
    let root = root().display().to_string();
    let mut out = String::new();
    for line in text.lines() {
        let line = if line.trim_start().starts_with("nogrow = ") {
            line.replacen(
                "nogrow = \"0.1\"",
                &format!("nogrow = {{ path = {root:?} }}"),
                1,
            )
            .replacen("version = \"0.1\"", &format!("path = {root:?}"), 1)
        } else {
            line.to_string()
        };
        out.push_str(&line);
        out.push('\n');
    }
    if !out.contains("[workspace]") {
        out.push_str("\n[workspace]\n");
    }
    out
}

fn symlink(target: &Path, link: &Path) {
    if link.symlink_metadata().is_ok() {
        std::fs::remove_file(link).unwrap();
    }
    std::os::unix::fs::symlink(target, link)
        .unwrap_or_else(|e| panic!("symlink {} -> {}: {e}", link.display(), target.display()));
}

/// The cargo target directory all scratch projects share.
pub fn shared_target() -> PathBuf {
    scratch().join("cargo-target")
}

/// Writes `project` into `scratch()/dir`: its files (only those that
/// changed, so that a warm build stays warm), and the links described in the
/// module docs. Returns the directory.
pub fn assemble(dir: &str, project: &Project) -> PathBuf {
    let root = root();
    let at = scratch().join(dir);
    std::fs::create_dir_all(&at).unwrap();
    for (path, body) in &project.files {
        let file = at.join(path);
        std::fs::create_dir_all(file.parent().unwrap()).unwrap();
        let body = if path == "Cargo.toml" {
            local_manifest(body)
        } else {
            body.clone()
        };
        if std::fs::read_to_string(&file).ok().as_deref() != Some(body.as_str()) {
            std::fs::write(&file, body).unwrap();
        }
    }
    std::fs::create_dir_all(shared_target()).unwrap();
    symlink(&shared_target(), &at.join("target"));
    symlink(&root.join("target/py"), &at.join("py"));
    std::fs::create_dir_all(at.join("node_modules/.bin")).unwrap();
    symlink(&root.join("js"), &at.join("node_modules/nogrow"));
    symlink(
        Path::new("../nogrow/nogrow-size.mjs"),
        &at.join("node_modules/.bin/nogrow-size"),
    );
    at
}

/// A directory with `nogrow` (the CLI this workspace builds) in it.
fn bin_dir() -> PathBuf {
    let target = PathBuf::from(env!("CARGO_TARGET_TMPDIR"))
        .parent()
        .unwrap()
        .to_path_buf();
    let cli = target.join("debug/nogrow");
    assert!(
        cli.exists(),
        "{} is missing: build it first (cargo build -p nogrow-cli)",
        cli.display()
    );
    let dir = scratch().join("bin");
    std::fs::create_dir_all(&dir).unwrap();
    symlink(&cli, &dir.join("nogrow"));
    dir
}

/// What a shell block printed.
#[derive(Debug)]
pub struct Ran {
    pub ok: bool,
    pub code: Option<i32>,
    pub stdout: String,
    pub stderr: String,
    pub seconds: f64,
}

/// Runs a shell block in `dir` (offline, `nogrow` on the PATH, no outer
/// cargo target directory), with extra environment `env`.
pub fn run_block(dir: &Path, block: &Block, env: &[(&str, &str)]) -> Ran {
    let path = format!(
        "{}:{}",
        bin_dir().display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let started = std::time::Instant::now();
    let mut cmd = Command::new("bash");
    cmd.args(["-euo", "pipefail", "-c", &block.body])
        .current_dir(dir)
        .env("PATH", path)
        .env("CARGO_NET_OFFLINE", "true")
        .env("npm_config_offline", "true")
        .env("npm_config_update_notifier", "false")
        .env_remove("CARGO_TARGET_DIR")
        .env_remove("CARGO_BUILD_TARGET_DIR")
        .env_remove("RUSTFLAGS")
        .env_remove("CARGO_ENCODED_RUSTFLAGS");
    for (k, v) in env {
        cmd.env(k, v);
    }
    let out = cmd.output().expect("bash runs");
    Ran {
        ok: out.status.success(),
        code: out.status.code(),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        seconds: started.elapsed().as_secs_f64(),
    }
}

/// Splits a line into its text and its numbers (digits with an optional
/// fraction), the numbers replaced by `#`.
fn numbers(line: &str) -> (String, Vec<f64>) {
    let mut text = String::new();
    let mut nums = Vec::new();
    let chars: Vec<char> = line.chars().collect();
    let mut i = 0;
    while i < chars.len() {
        if chars[i].is_ascii_digit() {
            let start = i;
            while i < chars.len()
                && (chars[i].is_ascii_digit()
                    || (chars[i] == '.' && i + 1 < chars.len() && chars[i + 1].is_ascii_digit()))
            {
                i += 1;
            }
            let s: String = chars[start..i].iter().collect();
            nums.push(s.parse().unwrap());
            text.push('#');
        } else {
            text.push(chars[i]);
            i += 1;
        }
    }
    (text, nums)
}

/// Whether `actual` is the output `expected` shows: the same lines (ends
/// trimmed), numbers within `tolerance` % when given, exactly otherwise.
pub fn same_output(expected: &str, actual: &str, tolerance: Option<f64>) -> Result<(), String> {
    let e: Vec<&str> = expected.trim_end().lines().map(str::trim_end).collect();
    let a: Vec<&str> = actual.trim_end().lines().map(str::trim_end).collect();
    let diff = || format!("expected:\n{}\nactual:\n{}", e.join("\n"), a.join("\n"));
    if e.len() != a.len() {
        return Err(format!("{} lines, not {}; {}", a.len(), e.len(), diff()));
    }
    for (el, al) in e.iter().zip(&a) {
        let Some(tol) = tolerance else {
            if el != al {
                return Err(format!("line `{al}` is not `{el}`; {}", diff()));
            }
            continue;
        };
        let ((et, en), (at, an)) = (numbers(el), numbers(al));
        if et != at || en.len() != an.len() {
            return Err(format!("line `{al}` is not `{el}`; {}", diff()));
        }
        for (x, y) in en.iter().zip(&an) {
            let off = if *x == 0.0 {
                y.abs()
            } else {
                ((y - x) / x).abs() * 100.0
            };
            if off > tol {
                return Err(format!(
                    "line `{al}`: {y} is more than {tol} % off the documented {x}; {}",
                    diff()
                ));
            }
        }
    }
    Ok(())
}

/// Whether the lines of `excerpt` appear in a row in `file`: line ends
/// trimmed, and each side's common indentation removed (an excerpt may show
/// a function's body without it).
pub fn is_excerpt(excerpt: &str, file: &str) -> bool {
    fn dedent<'a>(lines: &[&'a str]) -> Vec<&'a str> {
        let indent = lines
            .iter()
            .filter(|l| !l.trim().is_empty())
            .map(|l| l.len() - l.trim_start().len())
            .min()
            .unwrap_or(0);
        lines
            .iter()
            .map(|l| {
                if l.len() >= indent {
                    &l[indent..]
                } else {
                    l.trim()
                }
            })
            .collect()
    }
    let e: Vec<&str> = excerpt.trim_end().lines().map(str::trim_end).collect();
    let e = dedent(&e);
    let f: Vec<&str> = file.lines().map(str::trim_end).collect();
    // The same lines with a doc comment's `/// ` or `//! ` removed: an
    // excerpt of a rustdoc example.
    let docs: Vec<&str> = f
        .iter()
        .map(|l| {
            let t = l.trim_start();
            let rest = t.strip_prefix("///").or_else(|| t.strip_prefix("//!"));
            rest.map_or(*l, |r| r.strip_prefix(' ').unwrap_or(r))
        })
        .collect();
    !e.is_empty()
        && (f.windows(e.len()).any(|w| dedent(w) == e)
            || docs.windows(e.len()).any(|w| dedent(w) == e))
}

/// The output blocks after each block (by index into `blocks`): the text
/// blocks marked `output` that follow it on its page before the next code
/// block.
pub fn outputs_after(blocks: &[Block], i: usize) -> Vec<&Block> {
    blocks[i + 1..]
        .iter()
        .take_while(|b| b.page == blocks[i].page && !CODE.contains(&b.lang.as_str()))
        .filter(|b| matches!(b.marker, Some(Marker::Output { .. })))
        .collect()
}

/// With `NOGROW_DOCS_BLESS=1` in the environment, a shown output that
/// differs from what runs is rewritten in its page instead of failing.
pub fn blessing() -> bool {
    std::env::var("NOGROW_DOCS_BLESS").is_ok_and(|v| v == "1")
}

/// Replaces the content of `block` in its page with `body`.
pub fn rewrite_block(block: &Block, body: &str) {
    let path = root().join(&block.page);
    let text = std::fs::read_to_string(&path).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    let open = block.line - 1;
    let indent = &lines[open][..lines[open].len() - lines[open].trim_start().len()];
    let close = open
        + 1
        + lines[open + 1..]
            .iter()
            .position(|l| l.trim() == "```")
            .expect("closing fence");
    let mut out: Vec<String> = lines[..=open].iter().map(|l| l.to_string()).collect();
    out.extend(body.trim_end().lines().map(|l| format!("{indent}{l}")));
    out.extend(lines[close..].iter().map(|l| l.to_string()));
    let resized = out.len() != lines.len();
    std::fs::write(&path, out.join("\n") + "\n").unwrap();
    eprintln!("{}: rewrote the output shown", block.at());
    // Later blocks of the page have moved: their positions are stale.
    assert!(
        !resized,
        "{}: rewrote an output of another length: run the test again",
        block.at()
    );
}
