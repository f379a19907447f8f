#!/usr/bin/env python3
"""Deterministic instruction counts of the benchmark workloads: wasm
instructions executed per operation, from wasmtime's fuel meter.

Times on a shared machine are noisy; these counts are not. Each module
`<dir>/<peer>.wasm` (built by `cargo xtask bench`) is compiled once by
wasmtime (Cranelift, fuel metering on), and each workload runs as the timed
run of `bench/lib/child.mjs` does: a fresh instance, the host's
`nogrow_reserve(0)` if exported, a real workload's document copied into a
block from `input_alloc`, the workload's untimed `<name>_setup(ops, seed)`
if exported, then one call `<export>(ops, seed)`. The fuel that call
consumes, minus the fuel of the empty call `bench_empty(0, seed)` (the JS
harness subtracts that call's time), divided by `ops`, is the count per
operation. Nothing else affects it: the same module, workload, ops and seed
give the same number on every run and machine (`--twice` checks that).

What one unit of fuel is (wasmtime 50, default costs, measured with small
modules): one per wasm operator executed, except `nop`, `drop`, `block`,
`loop`, `end`, `else`, `return` and `unreachable`, which are free; plus one
per function entered (each `call`/`call_indirect` costs its own unit and
one more for the callee); `memory.copy` and `memory.fill` cost one more per
byte, `memory.grow` one more per page. So a `memcpy` that LLVM lowers to
`memory.copy` counts its bytes.

Usage (normally through `node bench/run.mjs`, which passes the plan):

    python3 bench/fuel.py --packages target/py --dir target/bench \\
        --peers nogrow-fail,talc-lock --plan '{"seed": 1, "workloads":
        [{"name": "hot32a8", "ops": 500000}]}' [--twice]

prints one JSON object: per peer, per workload `{ops, fuel, empty, perOp,
failures}` or `{error}`, and the PRNG loop's fuel per step. A run that
would take over `--budget` fuel runs fewer ops (as the JS harness does for
runs over a second): `ops` says how many.
"""

import argparse
import hashlib
import importlib.metadata
import json
import os
import sys
import time
from pathlib import Path

# Plenty: a workload that used it up would have run for hours.
FUEL = 1 << 62
# Longest run wanted, in fuel (a second or so here): as with the JS
# harness's TARGET_MS, a run estimated over it (from a first run of 1/100 of
# the ops) gets fewer ops, and its cell says so. Only O(n) free lists get
# there, and realloc doubling where blocks move (a unit per byte copied).
BUDGET = 4_000_000_000
# Steps of `bench_empty` for the PRNG-loop floor (instructions per step).
LOOP_STEPS = 10_000


def engine_and_tag(wasmtime):
    """The engine, and a description of its configuration for cache keys.
    Fuel is counted on wasm operators, before any optimization, so the
    optimizer is off: compiling is faster and the counts are the same."""
    cfg = wasmtime.Config()
    cfg.consume_fuel = True
    cfg.cranelift_opt_level = "none"
    version = importlib.metadata.version("wasmtime")
    return wasmtime.Engine(cfg), f"wasmtime {version}, Cranelift opt none, fuel"


def load(wasmtime, engine, tag, path, cache):
    """The compiled module of `path`, from `cache` when compiled before with
    this engine configuration (the key is a hash of the bytes and `tag`)."""
    data = path.read_bytes()
    key = hashlib.sha256(tag.encode() + b"\0" + data).hexdigest()[:20]
    name = path.stem
    cached = cache / f"{name}@{key}.cwasm"
    if cached.exists():
        return wasmtime.Module.deserialize_file(engine, str(cached)), True
    module = wasmtime.Module(engine, data)
    if module.imports:
        # The JS harness instantiates with no imports: a module that needs
        # some would fail there too.
        raise RuntimeError(f"{path} imports {[(i.module, i.name) for i in module.imports]}")
    cache.mkdir(parents=True, exist_ok=True)
    for old in cache.glob(f"{name}@*.cwasm"):
        old.unlink()
    tmp = cached.with_suffix(".tmp")
    tmp.write_bytes(module.serialize())
    tmp.replace(cached)
    return module, False


def fresh(wasmtime, engine, module):
    """A fresh store and instance, as `instantiate` in `bench/lib/child.mjs`."""
    store = wasmtime.Store(engine)
    store.set_fuel(FUEL)
    exports = wasmtime.Instance(store, module, []).exports(store)
    if "nogrow_reserve" in exports:
        exports["nogrow_reserve"](store, 0)
    return store, exports


def fuel_of(store, f, *args):
    """(fuel consumed by `f(*args)`, its result)."""
    before = store.get_fuel()
    result = f(store, *args)
    return before - store.get_fuel(), result


def count(wasmtime, engine, module, export, ops, seed, doc=None):
    """One measured run of workload `export` on a fresh instance; a real
    workload's document `doc` is first copied into a block from the guest's
    allocator (`input_alloc`), as `copyIn` in `bench/lib/real.mjs` does."""
    store, e = fresh(wasmtime, engine, module)
    if doc is not None:
        ptr = e["input_alloc"](store, len(doc)) & 0xFFFFFFFF
        if ptr == 0:
            return {"ops": ops, "failures": 1, "setupFailed": True}
        e["memory"].write(store, doc, ptr)
    setup = e.get(f"{export}_setup")
    if setup is not None and setup(store, ops, seed) != 0:
        return {"ops": ops, "failures": 1, "setupFailed": True}
    empty, _ = fuel_of(store, e["bench_empty"], 0, seed)
    try:
        fuel, failures = fuel_of(store, e[export], ops, seed)
    except wasmtime.Trap:
        # A real workload's guest traps when its allocator runs out (std
        # aborts on a failed allocation): "exhausted", as `runOnce` in
        # `bench/lib/real.mjs` decides. A synthetic workload never traps.
        if doc is None:
            raise
        return {"ops": ops, "failures": 1, "exhausted": True}
    return {
        "ops": ops,
        "fuel": fuel,
        "empty": empty,
        "perOp": (fuel - empty) / ops,
        "failures": failures,
    }


def measure(wasmtime, engine, module, export, ops, seed, budget, doc=None):
    """`count` with at most about `budget` fuel: `ops` as given unless a
    run of 1/100 of them predicts more. Decided on fuel alone, so the same
    every time."""
    calib = max(1, ops // 100)
    if calib < ops:
        first = count(wasmtime, engine, module, export, calib, seed, doc)
        if first.get("perOp") and first["perOp"] * ops > budget:
            ops = max(calib, int(budget // first["perOp"]))
    return count(wasmtime, engine, module, export, ops, seed, doc)


def loop_floor(wasmtime, engine, module, seed):
    """Fuel per step of the PRNG loop alone (`bench_empty`), not subtracted."""
    store, e = fresh(wasmtime, engine, module)
    empty, _ = fuel_of(store, e["bench_empty"], 0, seed)
    fuel, _ = fuel_of(store, e["bench_empty"], LOOP_STEPS, seed)
    return (fuel - empty) / LOOP_STEPS


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--packages", required=True, type=Path, help="where the wasmtime package is (target/py)")
    ap.add_argument("--dir", required=True, type=Path, help="the modules: <dir>/<peer>.wasm")
    ap.add_argument("--peers", required=True, help="comma-separated peer names")
    ap.add_argument("--plan", required=True, help='JSON: {"seed": S, "workloads": [{"name", "export"?, "ops", "input"?: a document\'s path}]}')
    ap.add_argument("--cache", type=Path, help="compiled modules (default <dir>/fuel-cache)")
    ap.add_argument("--twice", action="store_true", help="count every run on two fresh instances; differing counts are an error")
    ap.add_argument("--budget", type=int, default=BUDGET, help=f"fuel per run beyond which fewer ops run (default {BUDGET})")
    opts = ap.parse_args()
    # `cargo xtask bench` pins the harness to one core for the timed runs,
    # which come after this; counting needs no quiet core, so compiling
    # (Cranelift, in parallel) may use them all.
    if hasattr(os, "sched_setaffinity"):
        try:
            os.sched_setaffinity(0, range(os.cpu_count() or 1))
        except OSError:
            pass
    sys.path.insert(0, str(opts.packages.resolve()))
    import wasmtime  # noqa: E402 (from --packages)

    plan = json.loads(opts.plan)
    seed = int(plan.get("seed", 1))
    docs = {w["input"]: Path(w["input"]).read_bytes() for w in plan["workloads"] if w.get("input")}
    engine, tag = engine_and_tag(wasmtime)
    cache = opts.cache or opts.dir / "fuel-cache"
    out = {"engine": tag, "seed": seed, "budget": opts.budget, "peers": {}}
    started = time.monotonic()
    compiled = 0
    for peer in [p for p in opts.peers.split(",") if p]:
        path = opts.dir / f"{peer}.wasm"
        entry = out["peers"][peer] = {"workloads": {}}
        try:
            module, hit = load(wasmtime, engine, tag, path, cache)
            compiled += not hit
            entry["loop"] = loop_floor(wasmtime, engine, module, seed)
        except Exception as err:  # a module that does not load: every cell an error
            entry["error"] = f"{type(err).__name__}: {err}".splitlines()[0]
            continue
        for w in plan["workloads"]:
            export = w.get("export", w["name"])
            try:
                doc = docs.get(w.get("input"))
                r = measure(wasmtime, engine, module, export, int(w["ops"]), seed, opts.budget, doc)
                if opts.twice:
                    again = measure(wasmtime, engine, module, export, int(w["ops"]), seed, opts.budget, doc)
                    if again != r:
                        r = {"error": f"NOT DETERMINISTIC: {r} then {again}"}
            except Exception as err:  # a trap or a missing export
                r = {"error": f"{type(err).__name__}: {err}".splitlines()[0]}
            entry["workloads"][w["name"]] = r
    out["seconds"] = round(time.monotonic() - started, 2)
    out["compiled"] = compiled
    json.dump(out, sys.stdout)


if __name__ == "__main__":
    main()
