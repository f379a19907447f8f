//! The README's "whole guest crate from scratch" builds as written (the
//! `nogrow` dependency pointed at this checkout), contains no `memory.grow`,
//! carries nogrow's layout section, and greets in Node without growing memory.

use std::{path::PathBuf, process::Command};

use wasmparser::{Operator, Parser, Payload};

/// The fenced block right after the marker line `<!-- readme-guest: NAME -->`.
fn block(readme: &str, name: &str) -> String {
    let marker = format!("<!-- readme-guest: {name} -->");
    let at = readme
        .find(&marker)
        .unwrap_or_else(|| panic!("README has no {marker}"));
    let rest = &readme[at + marker.len()..];
    let open = rest.find("```").expect("a fenced block after the marker");
    let body = &rest[open..];
    let body = &body[body.find('\n').expect("fence line") + 1..];
    body[..body.find("```").expect("closing fence")].to_string()
}

#[test]
#[ignore = "builds a wasm32 crate (a minute); cargo xtask test runs it"]
fn the_readme_guest_builds_from_scratch_and_never_grows() {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..");
    let root = root.canonicalize().unwrap();
    let readme = std::fs::read_to_string(root.join("README.md")).unwrap();
    let manifest = block(&readme, "Cargo.toml");
    let lib = block(&readme, "src/lib.rs");
    assert!(
        manifest.contains("nogrow = \"0.1\""),
        "the README names the published dependency:\n{manifest}"
    );
    let manifest = manifest.replace(
        "nogrow = \"0.1\"",
        &format!("nogrow = {{ path = {:?} }}", root.display().to_string()),
    );
    let dir = root.join("target/readme-guest");
    std::fs::create_dir_all(dir.join("src")).unwrap();
    std::fs::write(dir.join("Cargo.toml"), format!("{manifest}\n[workspace]\n")).unwrap();
    std::fs::write(dir.join("src/lib.rs"), lib).unwrap();
    let status = Command::new(env!("CARGO"))
        .args(["build", "--quiet", "--release", "--offline"])
        .args(["--target", "wasm32-unknown-unknown"])
        .env("CARGO_TARGET_DIR", root.join("target/readme-guest-target"))
        .current_dir(&dir)
        .status()
        .expect("cargo runs");
    assert!(status.success(), "the README guest does not build");
    let wasm = root.join("target/readme-guest-target/wasm32-unknown-unknown/release/my_guest.wasm");
    let bytes = std::fs::read(&wasm).unwrap();

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

    let script = r#"
        const bytes = require('fs').readFileSync(process.argv[1]);
        const { exports: e } = new WebAssembly.Instance(new WebAssembly.Module(bytes), {});
        const view = new Uint8Array(e.memory.buffer);
        const before = e.memory.buffer.byteLength;
        let n = 0;
        for (let i = 0; i < 10000; i++) n += e.greeting_len(i);
        if (view.length !== before || e.memory.buffer.byteLength !== before) throw new Error('memory grew');
        if (e.nogrow_generation() !== 0) throw new Error('generation moved');
        console.log(n);
    "#;
    let out = Command::new("node")
        .args(["-e", script])
        .arg(&wasm)
        .output()
        .expect("node runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let expected: usize = (0..10000)
        .map(|i| format!("Ahoy there, guest number {i}!").len())
        .sum();
    assert_eq!(
        String::from_utf8_lossy(&out.stdout).trim(),
        expected.to_string()
    );
}
