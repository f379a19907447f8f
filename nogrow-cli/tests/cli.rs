//! The `nogrow` binary: exit statuses, `--json`, `--allow`, `seal -o`.

mod common;

use common::{nogrow, wasm, write};
use nogrow_cli::cli::{EXIT_ERROR, EXIT_OK, EXIT_VERDICT};

fn stdout(o: &std::process::Output) -> String {
    String::from_utf8(o.stdout.clone()).unwrap()
}

fn signal_like() -> Vec<u8> {
    wasm(
        r#"(module
          (memory (export "memory") 2)
          (func $_ZN6nogrow4wasm4grow17h0123456789abcdefE (param i32) (result i32)
            local.get 0 memory.grow)
          (func (export "alloc") (result i32) i32.const 1 call $_ZN6nogrow4wasm4grow17h0123456789abcdefE)
          (func (export "nogrow_state") (result i32) i32.const 1024)
          (func (export "nogrow_generation") (result i32) i32.const 0)
          (func (export "nogrow_reserve") (param i32) (result i32) i32.const -1))"#,
    )
}

#[test]
fn check_exits_0_for_cannot_grow_and_1_for_can_grow() {
    let fixed = write(
        "fixed.wasm",
        &wasm(r#"(module (memory (export "memory") 1))"#),
    );
    let o = nogrow(&["check", &fixed]);
    assert_eq!(o.status.code(), Some(EXIT_OK));
    assert!(stdout(&o).contains("verdict: cannot-grow"));

    let grows = write(
        "grows.wasm",
        &wasm(
            r#"(module (memory 1) (func $my_alloc (export "a") (result i32) i32.const 1 memory.grow))"#,
        ),
    );
    let o = nogrow(&["check", &grows]);
    assert_eq!(o.status.code(), Some(EXIT_VERDICT));
    let text = stdout(&o);
    assert!(text.contains("verdict: can-grow-implicitly"), "{text}");
    assert!(
        text.contains("func[0] my_alloc"),
        "names the function: {text}"
    );
    // No level accepts implicit growth.
    assert_eq!(
        nogrow(&["check", "--allow", "signal", &grows])
            .status
            .code(),
        Some(EXIT_VERDICT)
    );
}

#[test]
fn signal_passes_only_with_allow_signal() {
    let f = write("signal-like.wasm", &signal_like());
    assert_eq!(nogrow(&["check", &f]).status.code(), Some(EXIT_VERDICT));
    for level in ["cannot-grow", "no-grow"] {
        assert_eq!(
            nogrow(&["check", "--require", level, &f]).status.code(),
            Some(EXIT_VERDICT),
            "--require {level}"
        );
    }
    assert_eq!(
        nogrow(&["check", "--allow", "reserve", &f]).status.code(),
        Some(EXIT_VERDICT)
    );
    let o = nogrow(&["check", "--allow", "signal", &f]);
    assert_eq!(o.status.code(), Some(EXIT_OK), "{}", stdout(&o));
    assert!(stdout(&o).contains("verdict: grows-via-nogrow-signal (meets --allow signal)"));
}

#[test]
fn the_levels_are_named_like_the_verdicts() {
    let f = write("levels.wasm", &signal_like());
    for level in ["nogrow", "none", "cannot_grow"] {
        let o = nogrow(&["check", "--require", level, &f]);
        assert_eq!(o.status.code(), Some(2), "--require {level} is bad input");
        assert!(
            String::from_utf8_lossy(&o.stderr).contains("(cannot-grow, reserve, signal)"),
            "{}",
            String::from_utf8_lossy(&o.stderr)
        );
    }
}

#[test]
fn json_report_has_the_facts() {
    let f = write("signal-like-json.wasm", &signal_like());
    let o = nogrow(&["check", "--json", "--allow", "signal", &f]);
    assert_eq!(o.status.code(), Some(EXIT_OK));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).expect("stdout is JSON");
    assert_eq!(v["verdict"], "grows-via-nogrow-signal");
    assert_eq!(v["meets"], true);
    assert_eq!(v["memories"][0]["initial_pages"], 2);
    assert_eq!(v["memories"][0]["maximum_pages"], serde_json::Value::Null);
    assert_eq!(v["memories"][0]["exported_as"][0], "memory");
    let g = &v["memory_grow"][0];
    assert_eq!(g["function_index"], 0);
    assert_eq!(g["function_name"], "nogrow::wasm::grow");
    assert_eq!(g["owner"], "nogrow");
    assert_eq!(g["reachable"], true);
    assert_eq!(v["nogrow_abi"]["exports"]["nogrow_generation"], 3);
    assert_eq!(v["nogrow_abi"]["policy"], "signal");
}

#[test]
fn seal_writes_a_sealed_module_and_check_then_passes() {
    let input = wasm(
        r#"(module (memory (export "memory") 2) (func (export "g") (result i32) i32.const 1 memory.grow))"#,
    );
    let inp = write("to-seal.wasm", &input);
    assert_eq!(nogrow(&["check", &inp]).status.code(), Some(EXIT_VERDICT));
    let out = common::scratch("sealed.wasm")
        .to_string_lossy()
        .into_owned();
    let o = nogrow(&["seal", &inp, "-o", &out]);
    let err = String::from_utf8(o.stderr).unwrap();
    assert_eq!(o.status.code(), Some(EXIT_OK), "{err}");
    assert!(err.contains("memory maximum none -> 2 pages"), "{err}");
    assert!(err.contains("warning: memory.grow"), "{err}");
    let sealed = std::fs::read(&out).unwrap();
    common::assert_same_but_memory(&input, &sealed);
    assert_eq!(nogrow(&["check", &out]).status.code(), Some(EXIT_OK));

    let again = common::scratch("sealed-again.wasm")
        .to_string_lossy()
        .into_owned();
    let o = nogrow(&["seal", &out, "-o", &again, "--max-pages", "2"]);
    assert_eq!(o.status.code(), Some(EXIT_OK));
    assert!(
        String::from_utf8(o.stderr)
            .unwrap()
            .contains("bytes unchanged")
    );
    assert_eq!(std::fs::read(&again).unwrap(), sealed);
}

#[test]
fn usage_errors_exit_2_with_one_line() {
    let f = write("usage.wasm", &wasm("(module (memory 1))"));
    for args in [
        vec!["frobnicate"],
        vec![],
        vec!["check"],
        vec!["check", &f, "--allow", "everything"],
        vec!["check", &f, "--frob"],
        vec!["seal", &f],
        vec!["seal", &f, "-o", "/nonexistent-dir/x.wasm"],
        vec!["seal", &f, "-o", "x.wasm", "--max-pages", "lots"],
        vec!["check", "/nonexistent/module.wasm"],
    ] {
        let o = nogrow(&args);
        let err = String::from_utf8(o.stderr).unwrap();
        assert_eq!(o.status.code(), Some(EXIT_ERROR), "{args:?}: {err}");
        assert_eq!(err.lines().count(), 1, "{args:?}: {err}");
    }
    let o = nogrow(&["--help"]);
    assert_eq!(o.status.code(), Some(EXIT_OK));
    assert!(stdout(&o).contains("nogrow seal IN.wasm -o OUT.wasm"));
}
