#!/usr/bin/env python3
"""A nogrow guest embedded in wasmtime's Python package.

wasmtime (its C API, and so wasmtime-py) has no callback for memory growth: a
host learns that memory grew only by looking. A nogrow guest counts every
growth in a generation counter, so the host calls `nogrow_generation()` after
each call into the guest and renews whatever it cached about memory (here its
length and base address) when the number changed.

The state block's layout, the policy numbers, the reserve messages and the
out-of-memory explanation's words all come from `target/guests/nogrow-state.json`,
which `cargo xtask` writes from the crate's constants (`nogrow::state::offsets`,
`nogrow::host`), so this file has no copy of them.

    python3 hosts/python/nogrow_host.py --layout target/guests/nogrow-state.json \\
        --packages target/py target/guests/heavy-signal.wasm heavy:256 heavy:4096 grab:131072
"""

import argparse
import ctypes
import json
import sys
from pathlib import Path


class NogrowError(Exception):
    """The state block cannot be read (bad address, other layout version)."""


class Layout:
    """The layout file `cargo xtask` writes: offsets, policy numbers, reserve
    statuses and messages, and the explanation's templates."""

    def __init__(self, path):
        data = json.loads(Path(path).read_text(encoding="utf-8"))
        self.abi_version = data["abi_version"]
        self.size = data["size"]
        self.offsets = data["offsets"]
        self.policy_names = {number: name for name, number in data["policies"].items()}
        self.reserve_status = data["reserve_status"]
        self.reserve_errors = {int(code): text for code, text in data["reserve_errors"].items()}
        self.explanation = data["explanation"]
        self.component = data["component"]

    def decode(self, block):
        """Every field of a block (bytes from the block's address), as ints."""
        if len(block) < self.size:
            raise NogrowError(f"nogrow state block: {len(block)} bytes given, a block takes {self.size}")
        fields = {
            name: int.from_bytes(block[off : off + 4], "little") for name, off in self.offsets.items()
        }
        if fields["abi_version"] != self.abi_version:
            raise NogrowError(
                f"nogrow state block: ABI version {fields['abi_version']}, "
                f"this reader reads version {self.abi_version}"
            )
        fields["reserve_status"] = int.from_bytes(
            block[self.offsets["reserve_status"] : self.offsets["reserve_status"] + 4], "little", signed=True
        )
        return fields

    def policy_name(self, number):
        """`fail`, `reserve`, `signal`, or `unknown`."""
        return self.policy_names.get(number, "unknown")

    def reserve(self, status):
        """The reserve status in words."""
        if status == self.reserve_status["none"]:
            return "none yet"
        if status == self.reserve_status["reserved"]:
            return "reserved"
        return self.reserve_errors.get(status, f"unknown status {status}")

    def explain(self, fields):
        """The one-line explanation of the last failed allocation."""
        e = self.explanation
        values = {
            "size": fields["last_fail_size"],
            "align": fields["last_fail_align"],
            "heap_bytes": fields["last_fail_heap_bytes"],
            "in_use": fields["last_fail_in_use"],
            "limit_pages": fields["limit_pages"] or e["no_limit"],
        }
        advice = e["advice"][self.policy_name(fields["policy"])]
        return e["head"].format(**values) + e["separator"] + advice.format(**values)


class Guest:
    """A plain wasm32-unknown-unknown nogrow guest (no imports) in wasmtime."""

    def __init__(self, wasmtime, layout, path):
        self.wasmtime = wasmtime
        self.layout = layout
        self.store = wasmtime.Store(wasmtime.Engine())
        module = wasmtime.Module.from_file(self.store.engine, str(path))
        instance = wasmtime.Instance(self.store, module, [])
        self.exports = instance.exports(self.store)
        self.memory = self.exports["memory"]
        self.state_addr = self.exports["nogrow_state"](self.store)
        self.view = self._take_view()

    def generation(self):
        return self.exports["nogrow_generation"](self.store)

    def _take_view(self):
        """What a host caches about memory: its base address and length, and
        the generation they belong to."""
        return {
            "ptr": ctypes.addressof(self.memory.data_ptr(self.store).contents),
            "len": self.memory.data_len(self.store),
            "generation": self.generation(),
        }

    def snapshot(self):
        """The state block, decoded."""
        addr, length = self.state_addr, self.memory.data_len(self.store)
        if addr % 4 != 0:
            raise NogrowError(f"nogrow state block: address {addr} is not a multiple of 4")
        if addr + self.layout.size > length:
            raise NogrowError(
                f"nogrow state block: {self.layout.size} bytes at address {addr} "
                f"do not fit in memory of {length} bytes"
            )
        return self.layout.decode(self.memory.read(self.store, addr, addr + self.layout.size))

    def call(self, name, arg):
        """Calls `name(arg)`; returns what happened as a dict: `result` or
        `trap`, the generation, whether the view was renewed, whether memory
        changed without a generation change (`stale`), and an `explanation`
        when the call trapped after a new allocation failure."""
        before = self.snapshot()
        record = {"call": f"{name}({arg})"}
        try:
            record["result"] = self.exports[name](self.store, arg)
        except (self.wasmtime.Trap, self.wasmtime.WasmtimeError) as trap:
            record["trap"] = str(trap).splitlines()[0]
        generation = self.generation()
        after = self.snapshot()
        record.update(generation=generation, state=after, renewed=False, stale=False)
        ptr = ctypes.addressof(self.memory.data_ptr(self.store).contents)
        length = self.memory.data_len(self.store)
        if generation != self.view["generation"]:
            record.update(renewed=True, old_len=self.view["len"], new_len=length)
            self.view = self._take_view()
        elif ptr != self.view["ptr"] or length != self.view["len"]:
            record["stale"] = True
        if "trap" in record and after["failures"] > before["failures"]:
            record["explanation"] = self.layout.explain(after)
        return record


def describe(record):
    """One line per call, like the Rust example's."""
    s = record["state"]
    line = record["call"] + ": "
    line += f"returned {record['result']}" if "result" in record else f"trapped ({record['trap']})"
    line += f"; generation {record['generation']}"
    if record["renewed"]:
        line += f", changed: view renewed, memory {record['old_len']} -> {record['new_len']} bytes"
    if record["stale"]:
        line += ", unchanged, but memory changed: the cached view is stale"
    line += f"; in use {s['in_use']}, growths {s['growths']}, failures {s['failures']}"
    return line


def import_wasmtime(packages):
    if packages:
        sys.path.insert(0, str(packages))
    import wasmtime

    return wasmtime


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--layout", required=True, help="target/guests/nogrow-state.json")
    parser.add_argument("--packages", help="where the wasmtime package is installed (target/py)")
    parser.add_argument("guest", help="a nogrow guest (.wasm)")
    parser.add_argument("calls", nargs="*", default=["heavy:256", "heavy:4096", "grab:131072"])
    args = parser.parse_args()
    wasmtime = import_wasmtime(args.packages)
    guest = Guest(wasmtime, Layout(args.layout), args.guest)
    ok = True
    for call in args.calls:
        name, arg = call.split(":")
        record = guest.call(name, int(arg))
        print(describe(record))
        if "explanation" in record:
            print("explanation: " + record["explanation"])
        elif "trap" in record:
            print("not an out-of-memory trap")
            ok = False
        ok = ok and not record["stale"]
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
