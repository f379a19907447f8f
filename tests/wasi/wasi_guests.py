#!/usr/bin/env python3
"""The WASI guests (wasm32-wasip1) in two real WASI engines: wasmtime (the
`wasmtime` package from PyPI) and Node's `node:wasi` (one process per run).

Each run gets two arguments, a preopened directory of real JSON (AWS service
models from the `botocore` package, unpacked into the work directory), and
2 000 environment variables (220 000 bytes). The host records the memory size
right after instantiation and after `_start`, and reads nogrow's state block
from linear memory at the address `nogrow_state()` returns, decoded with the
layout `cargo xtask` writes from `nogrow::state::offsets`.

    cargo xtask test-wasi            # builds the guests, installs the packages, runs this
    python3 tests/wasi/wasi_guests.py --guests target/guests \\
        --layout target/guests/nogrow-state.json --packages target/py --work target/wasi

Exits 1 if any check fails; the last line is `N passed, N failed`.
"""

import argparse
import gzip
import importlib.metadata
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

# The JSON files, by botocore service name: different sizes, 1.3-3.9 MB.
SERVICES = ["ec2", "sagemaker", "s3"]
ENV_COUNT = 2000
ENV_VALUE_LEN = 89  # NAME (20) + "=" + value (89) = 110 bytes per variable


def environment():
    """2 000 variables, 220 000 bytes as NAME=VALUE."""
    letters = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
    env = {}
    for i in range(ENV_COUNT):
        value = (f"{i:04}:" + letters * 2)[:ENV_VALUE_LEN]
        env[f"NOGROW_TEST_VAR_{i:04}"] = value
    return env


def fnv1a(data):
    h = 0x811C9DC5
    for b in data:
        h = ((h ^ b) * 0x01000193) & 0xFFFFFFFF
    return h


def shape(value, counts):
    if isinstance(value, dict):
        counts["objects"] += 1
        counts["keys"] += len(value)
        for v in value.values():
            shape(v, counts)
    elif isinstance(value, list):
        counts["arrays"] += 1
        for v in value:
            shape(v, counts)
    elif isinstance(value, str):
        counts["strings"] += 1
    elif isinstance(value, bool) or value is None:
        pass
    elif isinstance(value, (int, float)):
        counts["numbers"] += 1


def expected_summary(path):
    """What wasi-json must print about `path`, computed here in Python:
    serde_json's `Value` keeps object keys sorted, and its compact output
    matches `json.dumps(..., separators=(",", ":"), sort_keys=True)`."""
    raw = path.read_bytes()
    value = json.loads(raw)
    out = json.dumps(value, separators=(",", ":"), ensure_ascii=False, sort_keys=True)
    out = out.encode()
    counts = {"objects": 0, "arrays": 0, "strings": 0, "numbers": 0, "keys": 0}
    shape(value, counts)
    return {"json_in": len(raw), "json_out": len(out), "out_fnv": fnv1a(out), **counts}


def unpack_data(packages, work):
    """Gunzips the service models from the installed botocore package into
    `work/data`; returns that directory."""
    data = work / "data"
    data.mkdir(parents=True, exist_ok=True)
    models = packages / "botocore" / "data"
    for service in SERVICES:
        target = data / f"{service}.json"
        if target.exists():
            continue
        versions = sorted((models / service).glob("*/service-2.json.gz"))
        if not versions:
            sys.exit(f"no service model for {service} under {models}")
        with gzip.open(versions[-1]) as src, open(target, "wb") as dst:
            shutil.copyfileobj(src, dst)
    return data


class Layout:
    """nogrow's state block layout, as `cargo xtask` wrote it from the Rust
    constants (`nogrow::state::offsets`)."""

    def __init__(self, path):
        layout = json.loads(Path(path).read_text())
        self.size = layout["size"]
        self.offsets = layout["offsets"]
        self.abi_version = layout["abi_version"]
        self.policies = layout["policies"]

    def decode(self, block):
        return {
            name: int.from_bytes(block[off : off + 4], "little")
            for name, off in self.offsets.items()
        }


def parse_summary(text):
    """`wasi-json k=v k=v ...` -> {k: int}."""
    line = text.strip().splitlines()[-1] if text.strip() else ""
    words = line.split()
    if not words or words[0] != "wasi-json":
        return None
    return {k: int(v) if v.isdigit() else v for k, v in (w.split("=", 1) for w in words[1:])}


def wasi_store(wasmtime, engine, args, env, preopen):
    """A store with WASI set up: `args`, `env`, `preopen` as ".", and stdout
    and stderr captured. Returns (store, stdout, stderr)."""
    store = wasmtime.Store(engine)
    cfg = wasmtime.WasiConfig()
    cfg.argv = args
    cfg.env = list(env.items())
    cfg.preopen_dir(str(preopen), ".")
    stdout, stderr = bytearray(), bytearray()
    cfg.stdout_custom = stdout.extend
    cfg.stderr_custom = stderr.extend
    store.set_wasi(cfg)
    return store, stdout, stderr


def run_wasmtime(wasmtime, engine, module, args, env, preopen, layout):
    """Instantiates `module`, runs `_start`, and reports what the host saw."""
    linker = wasmtime.Linker(engine)
    linker.define_wasi()
    store, stdout, stderr = wasi_store(wasmtime, engine, args, env, preopen)
    instance = linker.instantiate(store, module)
    exports = instance.exports(store)
    memory = exports["memory"]
    pages_before = memory.size(store)
    exit_code = 0
    try:
        exports["_start"](store)
    except wasmtime.ExitTrap as e:
        exit_code = e.code
    pages_after = memory.size(store)
    state = None
    if "nogrow_state" in exports:
        addr = exports["nogrow_state"](store)
        state = layout.decode(memory.read(store, addr, addr + layout.size))
    generation = exports["nogrow_generation"](store) if "nogrow_generation" in exports else None
    return {
        "exit_code": exit_code,
        "stdout": stdout.decode(errors="replace"),
        "stderr": stderr.decode(errors="replace"),
        "pages_before": pages_before,
        "pages_after": pages_after,
        "state": state,
        "generation": generation,
    }


def run_node(wasm, args, env, preopen, work):
    """Runs `wasm` in `tests/wasi/node_wasi.mjs`, in its own Node process."""
    name = Path(wasm).stem
    spec = work / f"node-{name}.json"
    spec.write_text(
        json.dumps(
            {
                "wasm": str(wasm),
                "args": args,
                "env": env,
                "preopen": str(preopen),
                "stdout": str(work / f"node-{name}.out"),
            }
        )
    )
    script = Path(__file__).with_name("node_wasi.mjs")
    p = subprocess.run(
        ["node", "--no-warnings", str(script), str(spec)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    if p.returncode != 0:
        return {"exit_code": p.returncode, "stdout": "", "stderr": p.stderr,
                "pages_before": None, "pages_after": None, "state": None, "generation": None}
    r = json.loads(p.stdout.strip().splitlines()[-1])
    return {
        "exit_code": r["exitCode"],
        "stdout": r["stdout"],
        "stderr": p.stderr,
        "pages_before": r["pagesBefore"],
        "pages_after": r["pagesAfter"],
        "state": None,
        "generation": r["generation"],
    }


class Checks:
    def __init__(self):
        self.passed = 0
        self.failed = 0
        self.rows = []

    def case(self, name, problems, note):
        if problems:
            self.failed += 1
            print(f"FAIL {name}")
            for p in problems:
                print(f"     {p}")
        else:
            self.passed += 1
            print(f"ok   {name}: {note}")


def check_summary(r, want, env, problems):
    s = parse_summary(r["stdout"])
    if s is None:
        problems.append(f"no summary line; stdout {r['stdout']!r}, stderr {r['stderr'][-500:]!r}")
        return None
    exact = {"args": 2, "env": len(env),
             "env_bytes": sum(len(k) + 1 + len(v) for k, v in env.items()),
             "dir_entries": len(SERVICES), "failures": 0, "growths": 0, **want}
    for key, value in exact.items():
        if s.get(key) != value:
            problems.append(f"{key}: guest says {s.get(key)}, expected {value}")
    if r["pages_after"] is not None and s.get("pages") != r["pages_after"]:
        problems.append(f"guest saw {s.get('pages')} pages in main, host {r['pages_after']} after")
    return s


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--guests", required=True, type=Path)
    ap.add_argument("--layout", required=True)
    ap.add_argument("--packages", required=True, type=Path)
    ap.add_argument("--work", required=True, type=Path)
    ap.add_argument("--no-node", action="store_true", help="skip the node:wasi runs")
    opts = ap.parse_args()
    sys.path.insert(0, str(opts.packages.resolve()))
    import wasmtime  # noqa: E402 (from the project-local package directory)

    started = time.monotonic()
    opts.work.mkdir(parents=True, exist_ok=True)
    data = unpack_data(opts.packages, opts.work)
    layout = Layout(opts.layout)
    env = environment()
    env_bytes = sum(len(k) + 1 + len(v) for k, v in env.items())
    expected = {s: expected_summary(data / f"{s}.json") for s in SERVICES}
    print(f"wasmtime {importlib.metadata.version('wasmtime')}; "
          f"environment: {len(env)} variables, {env_bytes} bytes; JSON: "
          + ", ".join(f"{s}.json {expected[s]['json_in']} bytes" for s in SERVICES))

    engine = wasmtime.Engine()
    modules = {}

    def module(name):
        if name not in modules:
            modules[name] = wasmtime.Module.from_file(engine, str(opts.guests / f"{name}.wasm"))
        return modules[name]

    checks = Checks()
    fail, = (v for k, v in layout.policies.items() if k == "fail")

    # nogrow with c-malloc: nothing grows memory, from instantiation to exit.
    for service in SERVICES:
        r = run_wasmtime(wasmtime, engine, module("wasi-json"),
                         ["wasi-json", f"{service}.json"], env, data, layout)
        problems = []
        if r["exit_code"] != 0:
            problems.append(f"exit code {r['exit_code']}: {r['stderr'][-500:]}")
        s = check_summary(r, expected[service], env, problems)
        if s is not None and s.get("generation") != 0:
            problems.append(f"generation in main: {s.get('generation')}")
        if s is not None and s.get("pages_at_main") != r["pages_before"]:
            problems.append(f"memory grew before main: {r['pages_before']} -> "
                            f"{s.get('pages_at_main')} pages")
        if s is not None and not s.get("c_allocs", 0) >= 1:
            problems.append(f"strdup did not allocate through nogrow (c_allocs {s.get('c_allocs')})")
        if r["pages_before"] != r["pages_after"]:
            problems.append(f"memory grew: {r['pages_before']} -> {r['pages_after']} pages")
        st = r["state"] or {}
        for key, want in [("abi_version", layout.abi_version), ("policy", fail),
                          ("generation", 0), ("growths", 0), ("failures", 0),
                          ("pages", r["pages_before"])]:
            if st.get(key) != want:
                problems.append(f"state block {key}: {st.get(key)}, expected {want}")
        if r["generation"] != 0:
            problems.append(f"nogrow_generation() = {r['generation']}")
        checks.case(f"wasmtime wasi-json (c-malloc) {service}.json", problems,
                    f"pages {r['pages_before']} -> {r['pages_after']}, generation "
                    f"{r['generation']}, peak in use {st.get('peak_in_use')} B, "
                    f"allocs {st.get('allocs')}")

    # The control: wasi-libc's own malloc grows memory; nogrow counts it.
    r = run_wasmtime(wasmtime, engine, module("wasi-json-libc-malloc"),
                     ["wasi-json", "ec2.json"], env, data, layout)
    problems = []
    if r["exit_code"] != 0:
        problems.append(f"exit code {r['exit_code']}: {r['stderr'][-500:]}")
    s = check_summary(r, expected["ec2"], env, problems)
    if s is not None and s.get("c_allocs") != 0:
        problems.append(f"strdup allocated through nogrow without c-malloc ({s.get('c_allocs')})")
    if not r["pages_after"] > r["pages_before"]:
        problems.append(f"memory did not grow: {r['pages_before']} -> {r['pages_after']} pages")
    if not (r["generation"] or 0) >= 1:
        problems.append(f"nogrow_generation() = {r['generation']}, expected >= 1 "
                        "(memory grew since instantiation)")
    at_main = s.get("pages_at_main") if s else None
    checks.case("wasmtime wasi-json-libc-malloc (control) ec2.json", problems,
                f"pages {r['pages_before']} -> {at_main} at main -> {r['pages_after']}, "
                f"generation {r['generation']}")

    # The linker heap with c-malloc: a file read leaves the buffer intact.
    r = run_wasmtime(wasmtime, engine, module("wasi-linker-heap"),
                     ["wasi-linker-heap", "s3.json"], env, data, layout)
    problems = []
    if r["exit_code"] != 0:
        problems.append(f"exit code {r['exit_code']}: {r['stderr'][-500:]}")
    if r["stdout"].strip() != "0":
        problems.append(f"bytes of the buffer overwritten: {r['stdout'].strip()!r}")
    if r["pages_before"] != r["pages_after"]:
        problems.append(f"memory grew: {r['pages_before']} -> {r['pages_after']} pages")
    if r["generation"] != 0:
        problems.append(f"nogrow_generation() = {r['generation']}")
    checks.case("wasmtime wasi-linker-heap", problems,
                f"printed {r['stdout'].strip()!r}, pages {r['pages_before']} -> {r['pages_after']}")

    # Node's node:wasi, one process per run.
    if opts.no_node:
        print("SKIPPED node:wasi runs (--no-node)")
    else:
        for name, want_growth in [("wasi-json", False), ("wasi-json-libc-malloc", True)]:
            r = run_node(opts.guests / f"{name}.wasm", ["wasi-json", "ec2.json"], env,
                         data, opts.work)
            problems = []
            if r["exit_code"] != 0:
                problems.append(f"exit code {r['exit_code']}: {r['stderr'][-500:]}")
            check_summary(r, expected["ec2"], env, problems)
            grew = r["pages_after"] is not None and r["pages_after"] > r["pages_before"]
            if grew != want_growth:
                problems.append(f"pages {r['pages_before']} -> {r['pages_after']}")
            if want_growth and not (r["generation"] or 0) >= 1:
                problems.append(f"nogrow_generation() = {r['generation']}, expected >= 1")
            if not want_growth and r["generation"] != 0:
                problems.append(f"nogrow_generation() = {r['generation']}")
            checks.case(f"node:wasi {name} ec2.json", problems,
                        f"pages {r['pages_before']} -> {r['pages_after']}, "
                        f"generation {r['generation']}")

    print(f"time: {time.monotonic() - started:.1f} s")
    print(f"{checks.passed} passed, {checks.failed} failed")
    return 1 if checks.failed else 0


if __name__ == "__main__":
    sys.exit(main())
