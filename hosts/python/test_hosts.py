#!/usr/bin/env python3
"""Checks of the Python example host (`nogrow_host.py`) on the heavy guests in
wasmtime: generations read after every call, views renewed on growth and only
then, the state block decoded with the layout `cargo xtask` writes, and
out-of-memory traps explained in the crate's words.

    cargo xtask test-hosts
    python3 hosts/python/test_hosts.py --guests target/guests \\
        --layout target/guests/nogrow-state.json --packages target/py

The last line is `N passed, N failed`; exits 1 if any check failed.
"""

import argparse
import sys
import traceback
from pathlib import Path

sys.dont_write_bytecode = True
sys.path.insert(0, str(Path(__file__).resolve().parent))

import nogrow_host  # noqa: E402

CHECKS = []


def check(fn):
    CHECKS.append(fn)
    return fn


def failure(policy, limit_pages):
    return {
        "last_fail_size": 2900000,
        "last_fail_align": 1,
        "last_fail_heap_bytes": 262144,
        "last_fail_in_use": 0,
        "policy": policy,
        "limit_pages": limit_pages,
    }


HEAD = "out of heap memory: requested 2900000 bytes (align 1); heap 262144, in use 0"


@check
def explanations_in_the_crates_words_for_every_policy(ctx):
    layout = ctx["layout"]
    expected = {
        (1, 0): f"{HEAD}; policy Fail — raise the arena or use Reserve",
        (2, 0): f"{HEAD}; policy Reserve — raise the reserve (Reserve::pages) or the arena",
        (3, 1024): f"{HEAD}; policy Signal — growth refused (limit 1024 pages, or the engine's maximum); "
        "raise limit_pages or the module's maximum",
        (3, 0): f"{HEAD}; policy Signal — growth refused (limit none pages, or the engine's maximum); "
        "raise limit_pages or the module's maximum",
        (0, 0): f"{HEAD}; policy unknown",
        (9, 0): f"{HEAD}; policy unknown",
    }
    for (policy, limit), text in expected.items():
        got = layout.explain(failure(policy, limit))
        assert got == text, f"policy {policy}, limit {limit}:\n  got      {got}\n  expected {text}"


@check
def reserve_statuses_in_words(ctx):
    layout = ctx["layout"]
    assert layout.reserve(0) == "none yet"
    assert layout.reserve(1) == "reserved"
    assert layout.reserve(-2) == "memory was already reserved once"
    assert layout.reserve(-5) == "the engine refused to grow (module maximum)"
    assert layout.reserve(-9) == "unknown status -9"


@check
def fail_guest_never_changes_generation_and_explains_its_trap(ctx):
    g = ctx["guest"]("heavy-fail")
    first = g.snapshot()
    assert layout_policy(ctx, first) == "fail", first
    records = [g.call("heavy", 512), g.call("heavy", 1500), g.call("heavy", 8000), g.call("grab", 4096)]
    for r in records:
        assert r["generation"] == 0 and not r["renewed"] and not r["stale"], nogrow_host.describe(r)
    clean = records[2]
    assert "result" in clean and clean["state"]["failures"] == 1, "heavy(8000) fails cleanly, recorded"
    trapped = records[3]
    assert "trap" in trapped, "grab(4096) traps"
    assert trapped["explanation"] == (
        "out of heap memory: requested 4194304 bytes (align 1); heap 2097152, in use 0; "
        "policy Fail — raise the arena or use Reserve"
    ), trapped["explanation"]
    assert trapped["state"]["growths"] == 0


@check
def signal_guest_renews_its_view_when_the_generation_changes(ctx):
    g = ctx["guest"]("heavy-signal")
    records = [g.call("heavy", 256), g.call("heavy", 1024), g.call("heavy", 4096), g.call("grab", 1024)]
    for r in records:
        assert not r["stale"], "memory changed without a generation change: " + nogrow_host.describe(r)
    renewed = [r for r in records if r["renewed"]]
    assert records[0]["renewed"] and len(renewed) >= 2, [nogrow_host.describe(r) for r in records]
    for r in renewed:
        assert r["new_len"] > r["old_len"], nogrow_host.describe(r)
    last = records[-1]["state"]
    assert last["generation"] == last["growths"] == records[-1]["generation"], last
    assert layout_policy(ctx, last) == "signal", last
    assert last["limit_pages"] == 1024


@check
def signal_guest_explains_growth_refused_at_its_limit(ctx):
    g = ctx["guest"]("heavy-signal")
    r = g.call("grab", 131072)
    assert "trap" in r, "grab(131072): 128 MiB past the 1024-page limit traps"
    text = r["explanation"]
    assert text.startswith("out of heap memory: requested 134217728 bytes (align 1); heap "), text
    assert text.endswith(
        "; policy Signal — growth refused (limit 1024 pages, or the engine's maximum); "
        "raise limit_pages or the module's maximum"
    ), text


@check
def reserve_status_read_from_real_guests(ctx):
    fail = ctx["guest"]("heavy-fail")
    assert fail.snapshot()["reserve_status"] == 0
    assert fail.exports["nogrow_reserve"](fail.store, 0) == -1
    assert ctx["layout"].reserve(fail.snapshot()["reserve_status"]) == "the allocator's policy is not Reserve"
    reserve = ctx["guest"]("heavy-reserve")
    assert reserve.exports["nogrow_reserve"](reserve.store, 0) == 0
    assert ctx["layout"].reserve(reserve.snapshot()["reserve_status"]) == "reserved"
    assert reserve.generation() == 1


@check
def bad_addresses_and_versions_are_refused(ctx):
    g = ctx["guest"]("heavy-fail")
    good = g.state_addr
    for addr, words in [(good + 2, "not a multiple of 4"), (g.memory.data_len(g.store) - 4, "do not fit"), (0, "ABI version")]:
        g.state_addr = addr
        try:
            g.snapshot()
        except nogrow_host.NogrowError as e:
            assert words in str(e), str(e)
        else:
            raise AssertionError(f"address {addr} was read")
    g.state_addr = good
    try:
        ctx["layout"].decode(b"\0" * (ctx["layout"].size - 1))
    except nogrow_host.NogrowError as e:
        assert "bytes given" in str(e)
    else:
        raise AssertionError("a short block was read")


def layout_policy(ctx, fields):
    return ctx["layout"].policy_name(fields["policy"])


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--guests", required=True)
    parser.add_argument("--layout", required=True)
    parser.add_argument("--packages")
    args = parser.parse_args()
    wasmtime = nogrow_host.import_wasmtime(args.packages)
    layout = nogrow_host.Layout(args.layout)
    guests = Path(args.guests)
    ctx = {
        "layout": layout,
        "guest": lambda name: nogrow_host.Guest(wasmtime, layout, guests / f"{name}.wasm"),
    }
    passed = failed = 0
    for fn in CHECKS:
        try:
            fn(ctx)
        except Exception:
            failed += 1
            print(f"FAIL {fn.__name__}")
            traceback.print_exc(file=sys.stdout)
        else:
            passed += 1
            print(f"ok   {fn.__name__}")
    print(f"{passed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
