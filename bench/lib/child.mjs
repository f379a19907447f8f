// The child role: one fresh Node process instantiates a module, measures one
// thing and prints the result as JSON on stdout for the parent to collect.

import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

import { JS_VIEW_ATTACH, JS_VIEW_PEER, JS_VIEW_RAW, TARGET_MS } from './workloads.mjs';

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
 * failed allocations, peak pages and the ops actually run. */
export function childTimed(wasm, workload, maxOps, seed) {
  const module = new WebAssembly.Module(readFileSync(wasm));
  // Warm-up instance (JIT, code caches, the Node process itself) with a
  // twentieth of the ops; it also calibrates: slow allocators (O(n) free
  // lists) run fewer ops, so that a measured run takes at most ~TARGET_MS.
  const warm = instantiate(module);
  warm.e.bench_empty(0, seed);
  const calib = Math.max(1, Math.floor(maxOps / 20));
  warm.e[`${workload}_setup`]?.(calib, seed);
  const tw = performance.now();
  warm.e[workload](calib, seed);
  const perOp = (performance.now() - tw) / calib;
  const ops = Math.max(calib, Math.min(maxOps, Math.floor(TARGET_MS / perOp)));
  // Measured instances: each starts from a fresh heap; the fastest of
  // MEASURED counts (one preempted run on a shared machine does not).
  let ms = Infinity;
  let empty = Infinity;
  let failures = 0;
  let pages = 0;
  let e;
  for (let k = 0; k < MEASURED; k++) {
    ({ e } = instantiate(module));
    // Untimed set-up (churn's 10 000 live blocks), if the workload has one.
    e[`${workload}_setup`]?.(ops, seed);
    for (let i = 0; i < 5; i++) {
      const t0 = performance.now();
      e.bench_empty(0, seed);
      empty = Math.min(empty, performance.now() - t0);
    }
    const t0 = performance.now();
    failures = Math.max(failures, e[workload](ops, seed));
    ms = Math.min(ms, performance.now() - t0);
    pages = Math.max(pages, e.memory.buffer.byteLength / PAGE);
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
    out.push({ live, capacity, pages: e.memory.buffer.byteLength / PAGE });
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
