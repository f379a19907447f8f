// The child role: one fresh Node process instantiates a module, measures one
// thing and prints the result as JSON on stdout for the parent to collect.

import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

import { memoryLimits, withMaxPages } from './memory-max.mjs';
import { checkResult, copyIn, readOutput, runOnce } from './real.mjs';
import { BALLAST_STEP, JS_VIEW_ATTACH, JS_VIEW_PEER, JS_VIEW_RAW, TARGET_MS, WORKLOADS } from './workloads.mjs';

const PAGE = 65536;
/** Fresh instances timed per process (the fastest counts). */
const MEASURED = 3;
/** The host-side helper whose view access is measured, if present. */
const JS_MODULE = fileURLToPath(new URL('../../js/nogrow.mjs', import.meta.url));

/** A fresh instance; a host that follows nogrow's protocol calls
 * `nogrow_reserve(0)` right after instantiation (only Reserve acts on it). */
function instantiate(module) {
  const instance = new WebAssembly.Instance(module, {});
  const e = instance.exports;
  const before = e.memory.buffer.byteLength;
  if (e.nogrow_reserve) e.nogrow_reserve(0);
  return { e, before, reserved: e.memory.buffer.byteLength - before };
}

/** Times `workload` of the module `wasm`: ns per op, PRNG-loop floor,
 * failed allocations, peak pages and the ops actually run. A real workload
 * gets the document `input` copied in (untimed) before its timed call, and
 * its result is checked: in full on the first measured instance, against
 * that one's bytes on the others. A wrong result throws (the run fails). */
export function childTimed(wasm, workload, maxOps, seed, input) {
  const w = WORKLOADS.find((x) => x.name === workload) ?? { name: workload };
  const doc = input ? readFileSync(input) : null;
  const fn = w.export ?? workload;
  const module = new WebAssembly.Module(readFileSync(wasm));
  // Untimed set-up: the document, or the workload's own (churn's 10 000
  // live blocks), if it has one. False when the allocator had no room.
  const prepare = (e, ops) => (doc ? copyIn(e, doc) : (e[`${workload}_setup`]?.(ops, seed), true));
  // A real workload that runs out traps (std aborts): counted as a failure.
  const call = (e, ops) => {
    try {
      return e[fn](ops, seed);
    } catch (err) {
      if (doc && err instanceof WebAssembly.RuntimeError) return 1;
      throw err;
    }
  };
  const exhausted = (e) => process.stdout.write(JSON.stringify({
    ns: null, loop: null, failures: 1, pages: e.memory.buffer.byteLength / PAGE, ops: 0,
  }));
  // Warm-up instance (JIT, code caches, the Node process itself) with a
  // twentieth of the ops; it also calibrates: slow allocators (O(n) free
  // lists) run fewer ops, so that a measured run takes at most ~TARGET_MS.
  const warm = instantiate(module);
  warm.e.bench_empty(0, seed);
  const calib = Math.max(1, Math.floor(maxOps / 20));
  if (!prepare(warm.e, calib)) return exhausted(warm.e);
  const tw = performance.now();
  if (call(warm.e, calib) !== 0 && doc) return exhausted(warm.e);
  const perOp = (performance.now() - tw) / calib;
  const ops = Math.max(calib, Math.min(maxOps, Math.floor(TARGET_MS / perOp)));
  // Measured instances: each starts from a fresh heap; the fastest of
  // MEASURED counts (one preempted run on a shared machine does not).
  let ms = Infinity;
  let empty = Infinity;
  let failures = 0;
  let pages = 0;
  let first = null;
  let e;
  for (let k = 0; k < MEASURED; k++) {
    ({ e } = instantiate(module));
    if (!prepare(e, ops)) return exhausted(e);
    for (let i = 0; i < 5; i++) {
      const t0 = performance.now();
      e.bench_empty(0, seed);
      empty = Math.min(empty, performance.now() - t0);
    }
    const t0 = performance.now();
    const failed = call(e, ops);
    ms = Math.min(ms, performance.now() - t0);
    failures = Math.max(failures, failed);
    pages = Math.max(pages, e.memory.buffer.byteLength / PAGE);
    if (doc && failed === 0) {
      const out = readOutput(e);
      if (first == null) checkResult(w, doc, (first = out));
      else if (!out.equals(first)) throw new Error(`${workload}: WRONG RESULT: instance ${k} differs from instance 0`);
    }
  }
  // PRNG-loop floor, for the notes.
  const t1 = performance.now();
  e.bench_empty(ops, seed);
  const loopMs = performance.now() - t1;
  process.stdout.write(JSON.stringify({
    ns: (Math.max(0, ms - empty) * 1e6) / ops,
    loop: (loopMs * 1e6) / ops,
    failures,
    pages,
    ops,
  }));
}

/** The smallest capacity in which real workload `workload` of the module
 * `wasm` still succeeds on the document `input` (every allocation served,
 * the result byte-identical to the checked result at full capacity), by
 * bisection over fresh instances, at most `maxSteps` steps.
 *
 * Arenas (talc arena, bare TalcLock, bump, nogrow Fail/Reserve): right after
 * instantiation (and `nogrow_reserve(0)`), before the input is copied, the
 * guest allocates a ballast of (capacity − N) bytes and never frees it; N is
 * searched in steps of BALLAST_STEP. Memories that grow: the module's
 * declared maximum is rewritten, searched by whole pages; capacity =
 * static arena + (maximum − pages at instantiation) × 64 KiB, the heap
 * efficiency table's rule. */
export function childCapacity(wasm, workload, input, maxSteps) {
  const w = WORKLOADS.find((x) => x.name === workload);
  const doc = readFileSync(input);
  const bytes = readFileSync(wasm);
  const base = new WebAssembly.Module(bytes);
  const attempt = (module, ballast) => {
    const inst = instantiate(module);
    if (ballast > 0 && !inst.e.bench_ballast(ballast)) return { ok: false, ...inst };
    return { ...runOnce(inst.e, w, doc), ...inst };
  };
  const full = attempt(base, 0);
  const report = (x) => process.stdout.write(JSON.stringify(x));
  if (!full.ok) return report({ exhausted: true });
  checkResult(w, doc, full.out);
  const same = (r) => {
    if (r.ok && !r.out.equals(full.out)) throw new Error(`${workload}: WRONG RESULT with less memory`);
    return r.ok;
  };
  const staticArena = full.e.bench_static_arena();
  let steps = 0;
  if (!full.e.bench_grows()) {
    // N in steps: lo fails (no room for the input at N = 0), hi succeeds.
    const capacity = staticArena + full.reserved;
    let lo = 0;
    let hi = Math.ceil(capacity / BALLAST_STEP);
    const fits = (k) => same(attempt(base, capacity - Math.min(capacity, k * BALLAST_STEP)));
    ({ lo, hi, steps } = bisect(lo, hi, fits, steps, maxSteps));
    return report({
      method: 'ballast', bytes: Math.min(capacity, hi * BALLAST_STEP), precision: (hi - lo) * BALLAST_STEP, steps, capacity,
    });
  }
  const start = (full.before + full.reserved) / PAGE;
  const { maximum } = memoryLimits(bytes);
  const fits = (p) => same(attempt(new WebAssembly.Module(withMaxPages(bytes, p)), 0));
  let lo = start - 1;
  let hi = maximum;
  // No growth at all may do (a small document in Signal's arena).
  steps++;
  if (fits(start)) hi = start;
  else lo = start;
  ({ lo, hi, steps } = bisect(lo, hi, fits, steps, maxSteps));
  return report({
    method: 'max-pages', bytes: staticArena + (hi - start) * PAGE, precision: (hi - lo) * PAGE, steps, pages: hi, start,
  });
}

/** Narrows `lo` (does not fit) and `hi` (fits) by halves until they are
 * adjacent or `maxSteps` steps (counting the `steps` already taken) are spent. */
function bisect(lo, hi, fits, steps, maxSteps) {
  while (hi - lo > 1 && steps < maxSteps) {
    const mid = (lo + hi) >> 1;
    steps++;
    if (fits(mid)) hi = mid;
    else lo = mid;
  }
  return { lo, hi, steps };
}

/** Heap efficiency of `n` fresh instances: bytes live at the first failure
 * and the capacity they had. */
export function childEfficiency(wasm, n, seed) {
  const module = new WebAssembly.Module(readFileSync(wasm));
  const out = [];
  for (let k = 0; k < n; k++) {
    const { e, before, reserved } = instantiate(module);
    const max = e.bench_max_memory();
    const afterReserve = before + reserved;
    // Capacity: the static arena, what a reserve added, and for allocators
    // that grow on demand everything up to the shared --max-memory.
    const capacity = e.bench_static_arena() + reserved + (e.bench_grows() ? max - afterReserve : 0);
    const live = e.efficiency(0, seed + k) >>> 0;
    out.push({ live, capacity, start: afterReserve / PAGE, pages: e.memory.buffer.byteLength / PAGE });
  }
  process.stdout.write(JSON.stringify(out));
}

/** Per-access cost of ways a host keeps a view of wasm memory. */
export async function childJs(dir, iters) {
  const module = new WebAssembly.Module(readFileSync(join(dir, `${JS_VIEW_PEER}.wasm`)));
  const { e } = instantiate(module);
  const memory = e.memory;
  let attach = null;
  if (existsSync(JS_MODULE)) {
    try {
      ({ attach } = await import(pathToFileURL(JS_MODULE).href));
    } catch { attach = null; }
  }
  const MASK = 1023;
  let view = new Uint8Array(memory.buffer);
  const variants = {
    [JS_VIEW_RAW]: () => {
      let s = 0;
      for (let i = 0; i < iters; i++) s += view[i & MASK];
      return s;
    },
    '`view.length === 0` check': () => {
      let s = 0;
      for (let i = 0; i < iters; i++) {
        if (view.length === 0) view = new Uint8Array(memory.buffer);
        s += view[i & MASK];
      }
      return s;
    },
    '`view.byteLength === 0` check': () => {
      let s = 0;
      for (let i = 0; i < iters; i++) {
        if (view.byteLength === 0) view = new Uint8Array(memory.buffer);
        s += view[i & MASK];
      }
      return s;
    },
    '`view.buffer !== memory.buffer` check': () => {
      let s = 0;
      for (let i = 0; i < iters; i++) {
        if (view.buffer !== memory.buffer) view = new Uint8Array(memory.buffer);
        s += view[i & MASK];
      }
      return s;
    },
    're-create the view every access': () => {
      let s = 0;
      for (let i = 0; i < iters; i++) s += new Uint8Array(memory.buffer)[i & MASK];
      return s;
    },
  };
  if (attach) {
    const h = attach(e);
    variants[JS_VIEW_ATTACH] = () => {
      let s = 0;
      for (let i = 0; i < iters; i++) s += h.u8[i & MASK];
      return s;
    };
  }
  const out = {};
  for (const [name, f] of Object.entries(variants)) {
    f(); // warm-up / optimize
    let best = Infinity;
    for (let r = 0; r < 3; r++) {
      const t0 = performance.now();
      if (f() < 0) throw new Error('unreachable');
      best = Math.min(best, performance.now() - t0);
    }
    out[name] = (best * 1e6) / iters;
  }
  process.stdout.write(JSON.stringify(out));
}
