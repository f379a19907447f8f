#!/usr/bin/env python3
"""Tests of the instruction counter (bench/fuel.py) on hand-written modules
whose counts are known. Run by `cargo xtask bench --smoke`:

    python3 bench/fuel_test.py --packages target/py
"""

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import fuel  # noqa: E402 (bench/fuel.py, beside this file)

# `work` executes nine counted operators more than `bench_empty` (four
# additions of constants; `drop` is free); `input_alloc` gives 64 for up to
# 1 000 bytes and 0 (no room) above; `json` answers the first byte of the
# document at 64; `trap` and `json_trap` trap.
WAT = """
(module
  (memory (export "memory") 1)
  (func (export "bench_empty") (param i32 i32) (result i32)
    i32.const 0)
  (func (export "work") (param i32 i32) (result i32)
    i32.const 1 i32.const 2 i32.add i32.const 3 i32.add
    i32.const 4 i32.add i32.const 5 i32.add drop
    i32.const 0)
  (func (export "input_alloc") (param i32) (result i32)
    i32.const 64 i32.const 0 local.get 0 i32.const 1000 i32.le_u select)
  (func (export "json") (param i32 i32) (result i32)
    i32.const 64 i32.load8_u)
  (func (export "trap") (param i32 i32) (result i32)
    unreachable)
  (func (export "json_trap") (param i32 i32) (result i32)
    unreachable))
"""


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--packages", required=True, type=Path, help="where the wasmtime package is (target/py)")
    opts = ap.parse_args()
    sys.path.insert(0, str(opts.packages.resolve()))
    import wasmtime  # noqa: E402 (from --packages)

    engine, _ = fuel.engine_and_tag(wasmtime)
    module = wasmtime.Module(engine, wasmtime.wat2wasm(WAT))
    failed = []

    def check(what, got, want):
        print(f"{'ok' if got == want else 'FAILED'}: {what}: {got!r}" + ("" if got == want else f", wanted {want!r}"))
        if got != want:
            failed.append(what)

    r = fuel.count(wasmtime, engine, module, "work", 3, 1)
    check("a synthetic workload's count: its fuel minus the empty call's, per op", (r["fuel"] - r["empty"], r["perOp"]), (9, 3.0))
    check("a synthetic workload's result is its failures", r["failures"], 0)

    r = fuel.count(wasmtime, engine, module, "json", 1, 1, b"\x05{}")
    check("a real workload's document is in memory when it runs", r["failures"], 5)

    r = fuel.count(wasmtime, engine, module, "json_trap", 1, 1, b"{}")
    check("a real workload that traps ran out of memory", r, {"ops": 1, "failures": 1, "exhausted": True})

    try:
        fuel.count(wasmtime, engine, module, "trap", 1, 1)
        check("a synthetic workload that traps is an error", "no error", "wasmtime.Trap")
    except wasmtime.Trap:
        check("a synthetic workload that traps is an error", "wasmtime.Trap", "wasmtime.Trap")

    r = fuel.count(wasmtime, engine, module, "json", 1, 1, bytes(2000))
    check("a document the allocator has no room for", r, {"ops": 1, "failures": 1, "setupFailed": True})

    if failed:
        sys.exit(f"fuel_test: {len(failed)} failed: {', '.join(failed)}")
    print("fuel_test: all passed")


if __name__ == "__main__":
    main()
