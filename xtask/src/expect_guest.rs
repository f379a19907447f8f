//! `examples/expect-guest`: a guest crate of its own (its own workspace,
//! `Cargo.lock` and `.cargo/config.toml`), tested the way a user tests theirs:
//! `cargo test --target wasm32-unknown-unknown` from its directory, through
//! `wasm-bindgen-test-runner`.

use crate::{Result, cargo, root, show, tools};

/// The example's directory, from the root.
pub const DIR: &str = "examples/expect-guest";

/// Checks that the example's `Cargo.lock` resolves `wasm-bindgen` to the root
/// `Cargo.lock`'s version (the installed runner's), then runs its wasm32 test
/// suite from its own directory, building under `target/expect-guest`.
pub fn test() -> Result {
    let dir = root().join(DIR);
    let want = tools::locked_wasm_bindgen_version()?;
    let have = tools::wasm_bindgen_in(&dir.join("Cargo.lock"))?;
    if have != want {
        return Err(format!(
            "{DIR}/Cargo.lock has wasm-bindgen {have}, the root Cargo.lock (and the runner) \
             {want}: update the `=` pins in {DIR}/Cargo.toml and run `cargo update` there"
        ));
    }
    let mut cmd = cargo(&["test", "--locked", "--target", "wasm32-unknown-unknown"]);
    cmd.current_dir(&dir)
        .env("CARGO_TARGET_DIR", root().join("target/expect-guest"));
    eprintln!("\n$ (cd {DIR} && {})", show(&cmd));
    let status = cmd.status().map_err(|e| format!("{}: {e}", show(&cmd)))?;
    if status.success() {
        Ok(())
    } else {
        Err(format!("`{}` in {DIR} failed ({status})", show(&cmd)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_example_resolves_the_root_wasm_bindgen_version() {
        let example = tools::wasm_bindgen_in(&root().join(DIR).join("Cargo.lock")).unwrap();
        assert_eq!(example, tools::locked_wasm_bindgen_version().unwrap());
    }
}
