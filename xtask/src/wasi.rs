//! The WASI host test: the `wasm32-wasip1` guests in wasmtime (Python
//! package) and Node's `node:wasi`, driven by `tests/wasi/wasi_guests.py`.

use std::{path::PathBuf, process::Command};

use nogrow::{PolicyKind, state};

use crate::{Result, guests, root, run, tools};

/// The guests the WASI host test runs (and the `wasm32v1-none` guest, which
/// the Node tests run), by their names in [`guests::GUESTS`].
const NAMES: &[&str] = &[
    "wasi-json",
    "wasi-json-libc-malloc",
    "wasi-linker-heap",
    "v1-none",
];

/// `cargo xtask test-wasi`: builds the WASI guests, then [`test`].
pub fn build_and_test() -> Result {
    guests::build_each(guests::GUESTS.iter().filter(|g| NAMES.contains(&g.name)))?;
    test()
}

/// Installs the pinned Python packages when missing, writes the state block
/// layout and runs the host test. Expects the guests built.
pub fn test() -> Result {
    tools::ensure_python_packages()?;
    let layout = write_layout()?;
    run(Command::new("python3")
        .arg("tests/wasi/wasi_guests.py")
        .arg("--guests")
        .arg(guests::dir())
        .arg("--layout")
        .arg(layout)
        .arg("--packages")
        .arg(tools::python_packages_dir())
        .arg("--work")
        .arg(root().join("target/wasi")))
}

/// Writes `target/guests/nogrow-state.json`: the state block's size, field
/// offsets and policy numbers from the crate's own constants, so hosts in
/// other languages decode the block with the layout the guest was built with;
/// and the reserve status values, reserve error messages and the
/// out-of-memory explanation's templates (`nogrow::host`), so they explain
/// failures in the crate's words; and, for component hosts, the WIT
/// interface's name and the function a failed `cabi_realloc` traps in
/// (`nogrow::component`).
pub fn write_layout() -> Result<PathBuf> {
    let fields: Vec<String> = state::FIELDS
        .iter()
        .map(|f| format!("\"{}\": {}", f.name, f.offset))
        .collect();
    let kinds: Vec<String> = PolicyKind::ALL
        .iter()
        .map(|kind| format!("\"{}\": {}", kind.name().to_lowercase(), *kind as u32))
        .collect();
    let json = format!(
        "{{\n  \"abi_version\": {},\n  \"size\": {},\n  \"offsets\": {{ {} }},\n  \"policies\": {{ {} }},\n{}}}\n",
        state::ABI_VERSION,
        state::offsets::SIZE,
        fields.join(", "),
        kinds.join(", "),
        host_json(),
    );
    std::fs::create_dir_all(guests::dir()).map_err(|e| e.to_string())?;
    let path = guests::dir().join("nogrow-state.json");
    std::fs::write(&path, json).map_err(|e| format!("writing {}: {e}", path.display()))?;
    Ok(path)
}

/// A JSON string literal.
fn json_string(s: &str) -> String {
    let mut out = String::from("\"");
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// The layout file's entries from `nogrow::host` and `ReserveError`: reserve
/// statuses and messages, and the explanation's parts.
fn host_json() -> String {
    use nogrow::{ReserveError, host};
    let errors: Vec<String> = ReserveError::ALL
        .iter()
        .map(|e| format!("\"{}\": {}", e.code(), json_string(e.message())))
        .collect();
    let advice: Vec<String> = PolicyKind::ALL
        .iter()
        .map(|&k| {
            let name = k.name().to_lowercase();
            format!("\"{name}\": {}", json_string(host::advice(Some(k))))
        })
        .chain([format!("\"unknown\": {}", json_string(host::advice(None)))])
        .collect();
    let placeholders: Vec<String> = host::PLACEHOLDERS.iter().map(|p| json_string(p)).collect();
    format!(
        "  \"reserve_status\": {{ \"none\": {}, \"reserved\": {} }},\n  \"reserve_errors\": {{ {} }},\n  \"explanation\": {{\n    \"head\": {},\n    \"separator\": {},\n    \"advice\": {{ {} }},\n    \"no_limit\": {},\n    \"placeholders\": [{}]\n  }},\n  \"component\": {{ \"interface\": {}, \"cabi_realloc_trap\": {} }}\n",
        host::RESERVE_STATUS_NONE,
        host::RESERVE_STATUS_RESERVED,
        errors.join(", "),
        json_string(host::EXPLANATION_HEAD),
        json_string(host::EXPLANATION_SEPARATOR),
        advice.join(", "),
        json_string(host::NO_LIMIT),
        placeholders.join(", "),
        json_string(nogrow::component::INTERFACE),
        json_string(nogrow::component::CABI_REALLOC_TRAP),
    )
}
