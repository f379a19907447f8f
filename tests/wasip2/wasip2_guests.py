#!/usr/bin/env python3
"""The wasm32-wasip2 guest components in two real component hosts: wasmtime
(the `wasmtime` package from PyPI, its component API and WASI preview 2) and
Node through jco (`jco_run.mjs`: jco's transpiler and preview 2 shim).

The guest is `guests/wasi-json` built for wasm32-wasip2: with `c-malloc`
(target/guests/wasip2/json.wasm) nogrow serves the Rust and the C side of
the component from one heap; the control (json-libc-malloc.wasm) is built
without nogrow, which needs `c-malloc` on wasip2: std's allocator and
wasi-libc's own malloc grow memory. Each run gets the WASI host
test's arguments, 2 000 environment variables and preopened directory of
real JSON (tests/wasi/wasi_guests.py). A component exports no memory, so the
guest reports its memory size (`memory.size` at `main` and at the end) and
nogrow's counters, and the host checks them and the JSON summary.

`examples/wasip2-words` exports a WIT world (wit-bindgen): wasmtime calls its
`shout` with a large string and reads back a list of strings, many times,
and its `usage` before and after must be the same (no growth, no block left
behind by the canonical ABI's allocations and frees). It also exports
nogrow's interface `nogrow:state/state` (`nogrow::export_component_state!`):
each host reads the state block through it, asks `check-alloc` about a
string larger than the arena (the answer must be the explanation this host
renders from the block, in nogrow's words), then passes that string in: the
component must trap in nogrow's named `cabi_realloc` failure.

    cargo xtask test-wasip2          # builds the guests, installs the packages, runs this
    python3 tests/wasip2/wasip2_guests.py --guests target/guests/wasip2 --packages target/py \\
        --words target/wasip2-words/wasm32-wasip2/release/guest_wasip2_words.wasm \\
        --layout target/guests/nogrow-state.json --work target/wasip2

`jco_run.mjs` finds jco's packages in tests/wasip2/node_modules (`cargo xtask`
installs them from tests/wasip2/package-lock.json).

`--random-ops` is `tests/wasip2_random_ops.rs` built for wasm32-wasip2 with
`c-malloc`: random operations against the model on the real target, Rust
and C blocks on one heap; wasmtime runs it as a WASI command.

Exits 1 if any check fails; the last line is `N passed, N failed`.
"""

import argparse
import importlib.metadata
import json
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "wasi"))
import wasi_guests as wasi  # noqa: E402 (the WASI host test's helpers)
sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "hosts" / "python"))
from nogrow_host import Layout  # noqa: E402 (the layout and explanation's words)

RUN = "wasi:cli/run@0.2.0"


def run_wasmtime(wasmtime, engine, component, args, env, preopen):
    """Instantiates the component and calls `wasi:cli/run#run`."""
    from wasmtime import component as cm

    linker = cm.Linker(engine)
    linker.add_wasip2()
    store, stdout, stderr = wasi.wasi_store(wasmtime, engine, args, env, preopen)
    instance = linker.instantiate(store, component)
    interface = instance.get_export_index(store, RUN)
    run = instance.get_func(store, instance.get_export_index(store, "run", interface))
    try:
        result = run(store)
        exit_code = 0 if getattr(result, "tag", None) == "ok" else 1
    except wasmtime.ExitTrap as e:
        exit_code = e.code
    except wasmtime.WasmtimeError as e:
        exit_code = -1
        stderr.extend(str(e).encode())
    return {"exit_code": exit_code, "stdout": stdout.decode(errors="replace"),
            "stderr": stderr.decode(errors="replace"), "pages_after": None}


def run_jco(wasm, args, env, preopen, work, shout=None, oom=None):
    """Runs the component in `jco_run.mjs`, in its own Node process (with
    `shout`, {"text", "calls"}: calls that export instead of running it; with
    `oom`, {"bytes", "interface"}: the out-of-memory run)."""
    name = Path(wasm).stem
    spec = work / f"jco-{name}.json"
    spec.write_text(json.dumps({"wasm": str(Path(wasm).resolve()),
                                "out": str((work / f"jco-{name}").resolve()),
                                "args": args, "env": env, "preopen": str(preopen.resolve()),
                                "shout": shout, "oom": oom}))
    script = Path(__file__).with_name("jco_run.mjs")
    p = subprocess.run(["node", "--no-warnings", str(script), str(spec)],
                       capture_output=True, text=True, timeout=300)
    return {"exit_code": p.returncode, "stdout": p.stdout, "stderr": p.stderr,
            "pages_after": None}


def instantiate_words(wasmtime, engine, path):
    """A fresh instance of the wit-bindgen component (WASI with defaults)."""
    from wasmtime import component as cm

    linker = cm.Linker(engine)
    linker.add_wasip2()
    store = wasmtime.Store(engine)
    store.set_wasi(wasmtime.WasiConfig())
    return store, linker.instantiate(store, cm.Component.from_file(engine, str(path)))


def run_words(wasmtime, engine, path, calls, text):
    """Calls the wit-bindgen component's `shout` `calls` times with `text`;
    returns its `usage` (pages, generation, bytes in use) before and after,
    and the last result."""
    store, instance = instantiate_words(wasmtime, engine, path)
    shout = instance.get_func(store, "shout")
    usage = instance.get_func(store, "usage")

    def call(f, *args):
        result = f(store, *args)
        f.post_return(store)
        return result

    before = call(usage)
    out = None
    for _ in range(calls):
        out = call(shout, text)
    return tuple(before), tuple(call(usage)), out


def snake(name):
    """`heap-bytes` (wasmtime's record keys), `heapBytes` (jco's) → `heap_bytes`."""
    return "".join("_" + c.lower() if c.isupper() else c for c in name).replace("-", "_")


def block(record):
    """The state block a host lifted (a wasmtime Record or a jco object), as
    the layout's field names → values."""
    items = vars(record).items() if not isinstance(record, dict) else record.items()
    return {snake(k): v for k, v in items}


def run_words_oom(wasmtime, engine, path, interface, nbytes):
    """In wasmtime: reads the state block, asks `check-alloc` about `nbytes`,
    then passes a string of `nbytes` into `shout`; what each step gave."""
    store, instance = instantiate_words(wasmtime, engine, path)
    index = instance.get_export_index(store, interface)

    def call(name, *args):
        f = instance.get_func(store, instance.get_export_index(store, name, index))
        result = f(store, *args)
        f.post_return(store)
        return result

    def thrown(f):
        try:
            f()
            return None
        except wasmtime.WasmtimeError as e:
            return str(e)

    out = {"before": block(call("read")), "refused": call("check-alloc", nbytes, 1),
           "recorded": block(call("read")), "fits": call("check-alloc", 1000, 1),
           "explained": call("explain"), "explainedAfter": None}
    out["trap"] = thrown(lambda: instance.get_func(store, "shout")(store, "x" * nbytes))
    out["after"] = thrown(lambda: out.update(explainedAfter=call("explain")))
    return out


def check_oom(r, layout, nbytes):
    """Problems with one host's out-of-memory run (`run_words_oom`, or
    `jco_run.mjs`'s "oom" line), and a note of what it saw."""
    problems = []
    before, recorded = block(r["before"]), block(r["recorded"])
    if set(before) != set(layout.offsets):
        problems.append(f"the record's fields {sorted(before)} are not the block's {sorted(layout.offsets)}")
        return problems, ""
    if before["abi_version"] != layout.abi_version or layout.policy_name(before["policy"]) != "fail":
        problems.append(f"read: ABI version {before['abi_version']}, policy {before['policy']}")
    if before["failures"] != 0 or recorded["failures"] != 1:
        problems.append(f"failures {before['failures']} before check-alloc, {recorded['failures']} after")
    want = layout.explain(recorded)
    if r["refused"] != want:
        problems.append(f"check-alloc({nbytes}) answered {r['refused']!r}; the block explains {want!r}")
    if not recorded["last_fail_size"] >= nbytes:
        problems.append(f"recorded request {recorded['last_fail_size']} B < {nbytes} B")
    if r["fits"] is not None:
        problems.append(f"check-alloc(1000) answered {r['fits']!r}")
    if r["explained"] != want:
        problems.append(f"explain answered {r['explained']!r}")
    trap = r["trap"] or ""
    if layout.component["cabi_realloc_trap"] not in trap or "cabi_realloc" not in trap:
        problems.append(f"passing {nbytes} B in did not trap in nogrow's cabi_realloc: {trap[-600:]!r}")
    if r["after"] is None and r["explainedAfter"] != want:
        problems.append(f"explain after the trap answered {r['explainedAfter']!r}")
    later = ("later calls refused: " + r["after"].splitlines()[-1]) if r["after"] else \
        "explain after the trap: the same explanation"
    return problems, (f"{nbytes} B into a {before['heap_bytes'] or recorded['last_fail_heap_bytes']} B "
                      f"heap; check-alloc: {want}; trapped in {layout.component['cabi_realloc_trap']}"
                      f"; {later}")


def check(r, want, env, grows):
    """Problems with one run: its exit, its summary, and whether memory grew
    (`grows`: the control must, nogrow with c-malloc must not)."""
    problems = []
    if r["exit_code"] != 0:
        problems.append(f"exit code {r['exit_code']}: {r['stderr'][-800:]}")
    s = wasi.check_summary(r, want, env, problems)
    if s is None:
        return problems, {}
    grew = s.get("pages", 0) > s.get("pages_at_main", 0)
    if grows and not grew:
        problems.append(f"memory did not grow: {s.get('pages_at_main')} -> {s.get('pages')} pages")
    if grows and s.get("nogrow") == 1 and not s.get("generation", 0) >= 1:
        problems.append(f"generation {s.get('generation')}, expected >= 1 (memory grew)")
    if not grows:
        if grew:
            problems.append(f"memory grew: {s.get('pages_at_main')} -> {s.get('pages')} pages")
        if s.get("generation") != 0:
            problems.append(f"generation {s.get('generation')}")
        if not s.get("c_allocs", 0) >= 1:
            problems.append(f"strdup did not allocate through nogrow (c_allocs {s.get('c_allocs')})")
    elif s.get("c_allocs") != 0:
        problems.append(f"strdup allocated through nogrow without c-malloc ({s.get('c_allocs')})")
    return problems, s


def note(s):
    return (f"pages {s.get('pages_at_main')} at main -> {s.get('pages')} at the end, generation "
            f"{s.get('generation')}, allocs {s.get('allocs')}, peak in use {s.get('peak')} B")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--guests", required=True, type=Path)
    ap.add_argument("--packages", required=True, type=Path)
    ap.add_argument("--words", required=True, type=Path,
                    help="the wit-bindgen component (examples/wasip2-words)")
    ap.add_argument("--random-ops", required=True, type=Path,
                    help="tests/wasip2_random_ops.rs built for wasm32-wasip2 (a WASI command)")
    ap.add_argument("--layout", required=True, type=Path,
                    help="target/guests/nogrow-state.json, as `cargo xtask` writes it")
    ap.add_argument("--work", required=True, type=Path)
    opts = ap.parse_args()
    layout = Layout(opts.layout)
    sys.path.insert(0, str(opts.packages.resolve()))
    import wasmtime  # noqa: E402 (from the project-local package directory)
    from wasmtime import component as cm  # noqa: E402

    started = time.monotonic()
    opts.work.mkdir(parents=True, exist_ok=True)
    data = wasi.unpack_data(opts.packages, opts.work)
    env = wasi.environment()
    expected = {s: wasi.expected_summary(data / f"{s}.json") for s in wasi.SERVICES}
    print(f"wasmtime {importlib.metadata.version('wasmtime')} (components, WASI preview 2); "
          f"jco-transpile; environment: {len(env)} variables")

    engine = wasmtime.Engine()
    checks = wasi.Checks()
    guests = [("json", False), ("json-libc-malloc", True)]
    for name, grows in guests:
        component = cm.Component.from_file(engine, str(opts.guests / f"{name}.wasm"))
        services = wasi.SERVICES if not grows else ["ec2"]
        for service in services:
            r = run_wasmtime(wasmtime, engine, component, ["wasi-json", f"{service}.json"],
                             env, data)
            problems, s = check(r, expected[service], env, grows)
            checks.case(f"wasmtime wasip2/{name} {service}.json", problems, note(s))
    for name, grows in guests:
        r = run_jco(opts.guests / f"{name}.wasm", ["wasi-json", "ec2.json"], env, data,
                    opts.work)
        problems, s = check(r, expected["ec2"], env, grows)
        checks.case(f"jco wasip2/{name} ec2.json", problems, note(s))

    # The WIT exports: a 189 KB string in, 20 000 strings out, 50 times.
    calls, words = 50, 20_000
    text = " ".join(f"word{i}" for i in range(words))
    for host in ["wasmtime", "jco"]:
        problems = []
        before, after, out = (0, 0, 0), (0, 0, 0), None
        if host == "wasmtime":
            try:
                before, after, out = run_words(wasmtime, engine, opts.words, calls, text)
            except wasmtime.WasmtimeError as e:
                problems.append(f"trapped: {str(e)[-800:]}")
        else:
            r = run_jco(opts.words, [], {}, data, opts.work, {"text": text, "calls": calls})
            if r["exit_code"] != 0:
                problems.append(f"exit code {r['exit_code']}: {r['stderr'][-800:]}")
            else:
                got = json.loads(r["stdout"].strip().splitlines()[-1])
                before, after, out = tuple(got["before"]), tuple(got["after"]), got["out"]
        if out is None or len(out) != words or out[0] != "WORD0" or out[-1] != f"WORD{words - 1}":
            problems.append(f"shout returned {len(out or [])} words, first {(out or [None])[0]!r}")
        if before != after:
            problems.append(f"usage (pages, generation, in use) before {before}, after {after}: "
                            "memory grew or the calls left blocks behind")
        if before[1] != 0:
            problems.append(f"generation {before[1]}")
        checks.case(f"{host} wasip2-words (wit-bindgen exports)", problems,
                    f"{calls} calls of {len(text.encode())} bytes in, {words} strings out; pages "
                    f"{before[0]} -> {after[0]}, generation {after[1]}, in use {before[2]} -> "
                    f"{after[2]} B")

    # The random-operation test on the real target: its own harness checks
    # the model; it must pass, and say so.
    component = cm.Component.from_file(engine, str(opts.random_ops))
    r = run_wasmtime(wasmtime, engine, component, ["wasip2_random_ops", "--nocapture"], {},
                     opts.work)
    problems = [] if r["exit_code"] == 0 and "test result: ok. 1 passed" in r["stdout"] else \
        [f"exit code {r['exit_code']}: {(r['stdout'] + r['stderr'])[-1500:]}"]
    report = next((line for line in r["stdout"].splitlines() if "wasm32-wasip2 seed=" in line), "")
    checks.case("wasmtime wasip2 one-heap random operations (tests/wasip2_random_ops.rs)", problems,
                report.split(" ... ")[-1])

    # Out of memory through the canonical ABI: a string larger than the arena.
    nbytes = 6_000_000
    interface = layout.component["interface"]
    for host in ["wasmtime", "jco"]:
        if host == "wasmtime":
            r = run_words_oom(wasmtime, engine, opts.words, interface, nbytes)
            problems, seen = check_oom(r, layout, nbytes)
        else:
            p = run_jco(opts.words, [], {}, data, opts.work,
                        oom={"bytes": nbytes, "interface": interface})
            if p["exit_code"] != 0:
                problems, seen = [f"exit code {p['exit_code']}: {p['stderr'][-800:]}"], ""
            else:
                problems, seen = check_oom(json.loads(p["stdout"].strip().splitlines()[-1]),
                                           layout, nbytes)
        checks.case(f"{host} wasip2-words out of memory through the canonical ABI", problems, seen)

    print(f"time: {time.monotonic() - started:.1f} s")
    print(f"{checks.passed} passed, {checks.failed} failed")
    return 1 if checks.failed else 0


if __name__ == "__main__":
    sys.exit(main())
