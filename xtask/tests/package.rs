//! What `cargo package` ships for the two published crates: their sources,
//! their README and both license texts, and nothing else (no tests, guests,
//! benchmarks, fuzz targets, JS module, CI scripts or build output).

use std::{
    collections::BTreeSet,
    path::{Path, PathBuf},
    process::Command,
};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("xtask is in the workspace")
        .to_path_buf()
}

/// `cargo package --list -p PACKAGE`, printed and returned.
fn packaged(package: &str) -> BTreeSet<String> {
    let out = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()))
        .args([
            "package",
            "--list",
            "--allow-dirty",
            "--offline",
            "-p",
            package,
        ])
        .current_dir(root())
        .output()
        .expect("running cargo package --list");
    assert!(
        out.status.success(),
        "cargo package --list -p {package} failed:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let list: BTreeSet<String> = String::from_utf8(out.stdout)
        .expect("UTF-8 file list")
        .lines()
        .map(str::to_string)
        .collect();
    println!("cargo package --list -p {package} ({} files):", list.len());
    for file in &list {
        println!("  {file}");
    }
    list
}

/// Every file under `dir` (recursively), as paths relative to `base` with `/`.
fn files_under(base: &Path, dir: &str) -> BTreeSet<String> {
    let mut found = BTreeSet::new();
    let mut stack = vec![base.join(dir)];
    while let Some(d) = stack.pop() {
        for entry in std::fs::read_dir(&d).unwrap_or_else(|e| panic!("{}: {e}", d.display())) {
            let path = entry.expect("directory entry").path();
            if path.is_dir() {
                stack.push(path);
            } else {
                let rel = path.strip_prefix(base).expect("under base");
                found.insert(rel.to_string_lossy().replace('\\', "/"));
            }
        }
    }
    found
}

/// Checks the list of `package` (whose directory is `dir`): exactly the
/// manifest, the README, both licenses and every file under `src/`.
fn check(package: &str, dir: &Path) {
    let list = packaged(package);

    let forbidden = [
        "tests/",
        "guests/",
        "bench/",
        "fuzz",
        "target/",
        "js/",
        "examples/",
        "hosts/",
        ".github/",
        ".ci/",
        ".cargo/",
        "node_modules/",
    ];
    let leaked: Vec<&String> = list
        .iter()
        .filter(|f| forbidden.iter().any(|p| f.starts_with(p)))
        .collect();
    assert!(leaked.is_empty(), "{package} ships {leaked:?}");

    for needed in ["README.md", "LICENSE-MIT", "LICENSE-APACHE", "Cargo.toml"] {
        assert!(list.contains(needed), "{package} does not ship {needed}");
    }

    let mut expected: BTreeSet<String> = [
        "Cargo.toml",
        "Cargo.toml.orig",
        "Cargo.lock",
        "README.md",
        "LICENSE-MIT",
        "LICENSE-APACHE",
    ]
    .into_iter()
    .map(str::to_string)
    .collect();
    expected.extend(files_under(dir, "src"));
    // Written by cargo when the package comes from a git checkout.
    let shipped: BTreeSet<String> = list
        .into_iter()
        .filter(|f| f != ".cargo_vcs_info.json")
        .collect();
    let missing: Vec<&String> = expected.difference(&shipped).collect();
    let extra: Vec<&String> = shipped.difference(&expected).collect();
    assert!(
        missing.is_empty() && extra.is_empty(),
        "{package}: not shipped {missing:?}; shipped but not expected {extra:?}"
    );

    // The license files are the texts at the workspace root.
    for license in ["LICENSE-MIT", "LICENSE-APACHE"] {
        let text = std::fs::read_to_string(dir.join(license))
            .unwrap_or_else(|e| panic!("{package}/{license}: {e}"));
        assert_eq!(
            text,
            std::fs::read_to_string(root().join(license)).expect("root license"),
            "{package}/{license} differs from the root's"
        );
    }
}

#[test]
fn nogrow_crate_ships_sources_readme_and_licenses_only() {
    check("nogrow", &root());
    let mit = std::fs::read_to_string(root().join("LICENSE-MIT")).expect("LICENSE-MIT");
    assert!(
        mit.starts_with("MIT License"),
        "LICENSE-MIT is the MIT text"
    );
    let apache = std::fs::read_to_string(root().join("LICENSE-APACHE")).expect("LICENSE-APACHE");
    assert!(
        apache.contains("Apache License") && apache.contains("Version 2.0, January 2004"),
        "LICENSE-APACHE is the Apache-2.0 text"
    );
}

#[test]
fn nogrow_cli_crate_ships_sources_readme_and_licenses_only() {
    check("nogrow-cli", &root().join("nogrow-cli"));
}
