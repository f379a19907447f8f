#!/usr/bin/env node
// Allocator benchmarks for nogrow (issue 4). Usually run through
// `cargo xtask bench` (builds target/bench/*.wasm first); prints Markdown tables.
//
//   node bench/run.mjs --dir target/bench [--smoke] [--reps N] [--svg FILE] [--json FILE]
//   node bench/run.mjs --report FILE.json [--svg FILE]   (re-print a saved run)
//
// Method: one fresh Node process per (allocator, workload, repetition); the
// allocator order is rotated every repetition. In each process the module is
// compiled once with TurboFan (--no-liftoff), a first instance runs 1/20 of the
// ops as warm-up, then three fresh instances each run the workload timed and
// the fastest counts (every run starts from an empty heap, and a bump
// allocator never sees earlier garbage). The cost of an empty export call is
// subtracted. Median and min over the repetitions; ratios within 10 % are
// called noise (≈).

import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir, cpus } from 'node:os';
import { join, dirname } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { gzipSync } from 'node:zlib';

const HERE = dirname(fileURLToPath(import.meta.url));
const PAGE = 65536;
/** Longest measured run wanted; slower allocators run fewer ops. */
const TARGET_MS = 1000;
/** Fresh instances timed per process (the fastest counts). */
const MEASURED = 3;
let R_SMOKE = false;

/** Allocators in table order. `kind` only feeds the notes column. */
export const PEERS = [
  { name: 'dlmalloc', label: 'std default (dlmalloc)' },
  { name: 'talc-dynamic', label: 'talc WasmDynamicTalc' },
  { name: 'talc-arena', label: 'talc WasmArenaTalc' },
  { name: 'talc-lock', label: 'bare TalcLock<spin, Claim>' },
  { name: 'lol_alloc', label: 'lol_alloc FreeList' },
  { name: 'wee_alloc', label: 'wee_alloc ⚠ unmaintained' },
  { name: 'rlsf', label: 'rlsf GlobalTlsf' },
  { name: 'bump', label: 'bump (never frees)' },
  { name: 'nogrow-fail', label: 'nogrow Fail' },
  { name: 'nogrow-reserve', label: 'nogrow Reserve' },
  { name: 'nogrow-signal', label: 'nogrow Signal' },
];

/** Timed workloads: export name, ops per run (full, smoke), unit of one op. */
export const WORKLOADS = [
  { name: 'ra', label: 'random actions', ops: 500_000, smoke: 20_000, unit: 'action' },
  { name: 'ra_norealloc', label: 'random actions, no realloc', ops: 500_000, smoke: 20_000, unit: 'action' },
  { name: 'hot32a8', label: 'hot 32 B, align 8', ops: 500_000, smoke: 20_000, unit: 'alloc+free' },
  { name: 'hot32a16', label: 'hot 32 B, align 16', ops: 500_000, smoke: 20_000, unit: 'alloc+free' },
  { name: 'lifo', label: 'LIFO batches of 100', ops: 500_000, smoke: 20_000, unit: 'alloc+free' },
  { name: 'fifo', label: 'FIFO batches of 100', ops: 500_000, smoke: 20_000, unit: 'alloc+free' },
  { name: 'churn', label: 'churn, 10 000 live', ops: 500_000, smoke: 20_000, unit: 'free+alloc' },
  { name: 'vec_grow', label: 'Vec growth to 1 MiB', ops: 1_000, smoke: 2, unit: 'Vec' },
  { name: 'realloc_double', label: 'realloc doubling 16 B→1 MiB', ops: 20_000, smoke: 20, unit: 'sequence' },
];

const { values: opt } = parseArgs({
  options: {
    dir: { type: 'string', default: join(HERE, '../target/bench') },
    smoke: { type: 'boolean', default: false },
    reps: { type: 'string' },
    'eff-instances': { type: 'string' },
    svg: { type: 'string' },
    json: { type: 'string' },
    report: { type: 'string' },
    'no-wasm-opt': { type: 'boolean', default: false },
    peers: { type: 'string' },
    workloads: { type: 'string' },
    // internal: child modes
    child: { type: 'string' },
    'child-eff': { type: 'string' },
    'child-js': { type: 'boolean', default: false },
    workload: { type: 'string' },
    ops: { type: 'string' },
    seed: { type: 'string', default: '1' },
    n: { type: 'string' },
  },
});


// ---------------------------------------------------------------- children

/** A fresh instance; a host that follows nogrow's protocol calls
 * `nogrow_reserve(0)` right after instantiation (only Reserve acts on it). */
function instantiate(module) {
  const instance = new WebAssembly.Instance(module, {});
  const e = instance.exports;
  const before = e.memory.buffer.byteLength;
  if (e.nogrow_reserve) e.nogrow_reserve(0);
  return { e, before, reserved: e.memory.buffer.byteLength - before };
}

function childTimed(wasm, workload, maxOps, seed) {
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

function childEfficiency(wasm, n, seed) {
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
async function childJs(iters) {
  const module = new WebAssembly.Module(readFileSync(join(opt.dir, 'nogrow-fail.wasm')));
  const { e } = instantiate(module);
  const memory = e.memory;
  let attach = null;
  const jsModule = join(HERE, '../js/nogrow.mjs');
  if (existsSync(jsModule)) {
    try {
      ({ attach } = await import(pathToFileURL(jsModule).href));
    } catch { attach = null; }
  }
  const MASK = 1023;
  let view = new Uint8Array(memory.buffer);
  const variants = {
    'raw cached view': () => {
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
    variants['nogrow.mjs `attach(...).u8`'] = () => {
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

// ---------------------------------------------------------------- driver

function spawnChild(args) {
  const r = spawnSync(process.execPath, ['--no-liftoff', fileURLToPath(import.meta.url), '--dir', opt.dir, ...args], {
    encoding: 'utf8',
    maxBuffer: 1 << 24,
  });
  if (r.status !== 0) {
    return { error: (r.stderr || '').trim().split('\n').slice(-3).join(' | ') || `exit ${r.status}` };
  }
  return JSON.parse(r.stdout);
}

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};
const fmt = (x, d = 1) => (x == null || !Number.isFinite(x) ? '—' : x.toFixed(d));
const ratio = (base, x) => (base && x ? base / x : null);
const showRatio = (r) => (r == null ? '—' : Math.abs(r - 1) < 0.1 ? `≈ ${r.toFixed(2)}×` : `${r.toFixed(2)}×`);

/** The nogrow revision the modules were just built from (read at start). */
let REVISION = 'unknown';

function revision() {
  const git = (...a) => spawnSync('git', a, { cwd: join(HERE, '..'), encoding: 'utf8' });
  const head = git('rev-parse', '--short=10', 'HEAD');
  if (head.status !== 0) return 'unknown';
  const dirty = git('status', '--porcelain', '--', 'src', 'Cargo.toml').stdout?.trim();
  return `${head.stdout.trim()}${dirty ? ' + uncommitted src/ changes' : ''}`;
}

async function main() {
  REVISION = revision();
  const smoke = opt.smoke;
  R_SMOKE = smoke;
  const reps = Number(opt.reps ?? (smoke ? 1 : 11));
  const effN = Number(opt['eff-instances'] ?? (smoke ? 2 : 25));
  const started = Date.now();
  const peers = PEERS.filter((p) => existsSync(join(opt.dir, `${p.name}.wasm`)))
    .filter((p) => !opt.peers || opt.peers.split(',').includes(p.name));
  const workloads = WORKLOADS.filter((w) => !opt.workloads || opt.workloads.split(',').includes(w.name));
  if (peers.length === 0) throw new Error(`no modules in ${opt.dir}: run \`cargo xtask bench\``);

  // Timed workloads.
  const runs = {}; // runs[peer][workload] = [{ns, failures, pages}]
  for (const p of peers) runs[p.name] = Object.fromEntries(workloads.map((w) => [w.name, []]));
  for (let rep = 0; rep < reps; rep++) {
    const order = peers.map((_, i) => peers[(i + rep) % peers.length]);
    for (const p of order) {
      for (const w of workloads) {
        const r = spawnChild([
          '--child', join(opt.dir, `${p.name}.wasm`), '--workload', w.name,
          '--ops', String(smoke ? w.smoke : w.ops), '--seed', String(1 + rep),
        ]);
        runs[p.name][w.name].push(r);
      }
    }
    process.stderr.write(`bench: repetition ${rep + 1}/${reps} done (${((Date.now() - started) / 1000).toFixed(0)} s)\n`);
  }

  // Heap efficiency over fresh instances.
  const eff = {};
  for (const p of peers) {
    const r = spawnChild(['--child-eff', join(opt.dir, `${p.name}.wasm`), '--n', String(effN), '--seed', '1000']);
    eff[p.name] = r;
  }

  // Code size.
  const sizes = codeSizes(peers);

  // JS view access.
  const js = [];
  if (existsSync(join(opt.dir, 'nogrow-fail.wasm'))) {
    for (let rep = 0; rep < (smoke ? 1 : 11); rep++) js.push(spawnChild(['--child-js', '--ops', String(smoke ? 100_000 : 20_000_000)]));
  }

  const results = summarize(peers, workloads, runs, eff, sizes, js, reps, effN);
  const md = report(results, smoke);
  console.log(md);
  if (opt.json) writeFileSync(opt.json, JSON.stringify(results, null, 2));
  if (opt.svg && !smoke) writeFileSync(opt.svg, svg(results));
  process.stderr.write(`bench: finished in ${((Date.now() - started) / 1000).toFixed(0)} s\n`);
  const errors = Object.values(runs).flatMap((ws) => Object.values(ws).flat()).filter((r) => r.error);
  if (errors.length) {
    console.error(`bench: ${errors.length} runs failed, e.g. ${errors[0].error}`);
    process.exitCode = 1;
  }
}

function codeSizes(peers) {
  const names = [...peers.map((p) => p.name), 'none'];
  const tmp = mkdtempSync(join(tmpdir(), 'nogrow-bench-'));
  const out = {};
  for (const name of names) {
    const file = join(opt.dir, `${name}.size.wasm`);
    if (!existsSync(file)) continue;
    const raw = readFileSync(file);
    let oz = null;
    if (!opt['no-wasm-opt']) {
      const dest = join(tmp, `${name}.oz.wasm`);
      const r = spawnSync('wasm-opt', ['-Oz', '--strip-debug', '--strip-producers', file, '-o', dest], { encoding: 'utf8' });
      if (r.status === 0) oz = readFileSync(dest);
    }
    out[name] = {
      raw: raw.length,
      oz: oz?.length ?? null,
      gz: gzipSync(oz ?? raw, { level: 9 }).length,
      gzOf: oz ? 'oz' : 'raw',
    };
  }
  rmSync(tmp, { recursive: true, force: true });
  return out;
}

function summarize(peers, workloads, runs, eff, sizes, js, reps, effN) {
  const speed = {};
  for (const p of peers) {
    speed[p.name] = {};
    for (const w of workloads) {
      const rs = runs[p.name][w.name];
      const ok = rs.filter((r) => !r.error && r.failures === 0);
      const failed = rs.filter((r) => !r.error && r.failures > 0);
      const errors = rs.filter((r) => r.error);
      const pages = rs.filter((r) => !r.error).map((r) => r.pages);
      speed[p.name][w.name] = {
        median: ok.length ? median(ok.map((r) => r.ns)) : null,
        min: ok.length ? Math.min(...ok.map((r) => r.ns)) : null,
        loop: ok.length ? median(ok.map((r) => r.loop)) : null,
        n: ok.length,
        exhausted: failed.length,
        errors: errors.length,
        error: errors[0]?.error,
        opsMin: ok.length ? Math.min(...ok.map((r) => r.ops)) : null,
        pagesMin: pages.length ? Math.min(...pages) : null,
        pagesMax: pages.length ? Math.max(...pages) : null,
      };
    }
  }
  const efficiency = {};
  for (const p of peers) {
    const r = eff[p.name];
    if (!Array.isArray(r)) { efficiency[p.name] = { error: r?.error ?? 'no result' }; continue; }
    const fr = r.map((x) => x.live / x.capacity);
    efficiency[p.name] = {
      mean: fr.reduce((a, b) => a + b, 0) / fr.length,
      min: Math.min(...fr),
      max: Math.max(...fr),
      capacity: r[0].capacity,
      pages: Math.max(...r.map((x) => x.pages)),
    };
  }
  let jsView = null;
  const jsOk = js.filter((r) => !r.error);
  if (jsOk.length) {
    jsView = {};
    for (const k of Object.keys(jsOk[0])) {
      const xs = jsOk.map((r) => r[k]).filter((x) => x != null);
      jsView[k] = { median: median(xs), min: Math.min(...xs) };
    }
  } else if (js.length) jsView = { error: js[0].error };
  return {
    date: new Date().toISOString(),
    revision: REVISION,
    node: process.version,
    cpu: cpus()[0]?.model ?? 'unknown',
    cores: cpus().length,
    reps,
    effInstances: effN,
    workloads: workloads.map(({ name, label, unit, ops, smoke }) => ({ name, label, unit, ops: R_SMOKE ? smoke : ops })),
    peers: peers.map(({ name, label }) => ({ name, label })),
    speed,
    efficiency,
    sizes,
    jsView,
  };
}

// ---------------------------------------------------------------- report

function report(R, smoke) {
  const L = [];
  const label = Object.fromEntries(R.peers.map((p) => [p.name, p.label]));
  L.push(`# nogrow allocator benchmarks${smoke ? ' (SMOKE: tiny counts, numbers meaningless)' : ''}`);
  L.push('');
  L.push(`${R.date}, nogrow ${R.revision}, Node ${R.node}, ${R.cpu} (${R.cores} cores), ${R.reps} repetitions, fresh process per run.`);
  L.push('');

  // Speed: ns per op, median (min).
  L.push('## Speed: ns per operation, median (min); empty-call cost subtracted');
  L.push('');
  L.push(`| allocator | ${R.workloads.map((w) => `${w.label} (ns/${w.unit})`).join(' | ')} |`);
  L.push(`|---|${R.workloads.map(() => '---:').join('|')}|`);
  for (const p of R.peers) {
    const cells = R.workloads.map((w) => {
      const s = R.speed[p.name][w.name];
      if (s.errors && !s.n) return `error`;
      if (!s.n) return 'exhausted';
      const ns = w.unit === 'Vec' || w.unit === 'sequence' ? (x) => fmt(x / 1000, 1) + ' µs' : (x) => fmt(x, 1);
      const fewer = s.opsMin != null && s.opsMin < w.ops ? '†' : '';
      return `${ns(s.median)} (${ns(s.min)})${fewer}${s.exhausted ? ` [${s.exhausted} exhausted]` : ''}`;
    });
    L.push(`| ${label[p.name]} | ${cells.join(' | ')} |`);
  }
  const loop = R.speed[R.peers[0].name]?.[R.workloads[0]?.name]?.loop;
  L.push('');
  L.push('† fewer ops than the others (the estimated run exceeded ' + TARGET_MS + ' ms; ops per run: ' +
    R.workloads.map((w) => `${w.label} ${w.ops}`).join(', ') + ').');
  L.push(`PRNG-loop floor (one xorshift step + loop, not subtracted): ${fmt(loop, 2)} ns.`);
  L.push('');

  for (const [base, title] of [['dlmalloc', 'std default (dlmalloc)'], ['talc-lock', 'bare TalcLock<spin, Claim>']]) {
    if (!R.speed[base]) continue;
    L.push(`## Speedup over ${title} (its median / this median; ≈: within 10 %, noise)`);
    L.push('');
    L.push(`| allocator | ${R.workloads.map((w) => w.label).join(' | ')} |`);
    L.push(`|---|${R.workloads.map(() => '---:').join('|')}|`);
    for (const p of R.peers) {
      const cells = R.workloads.map((w) => showRatio(ratio(R.speed[base][w.name].median, R.speed[p.name][w.name].median)));
      L.push(`| ${label[p.name]} | ${cells.join(' | ')} |`);
    }
    L.push('');
  }

  L.push('## Peak `memory.size` (pages of 64 KiB) after each workload');
  L.push('');
  L.push(`| allocator | ${R.workloads.map((w) => w.label).join(' | ')} | heap efficiency run |`);
  L.push(`|---|${R.workloads.map(() => '---:').join('|')}|---:|`);
  for (const p of R.peers) {
    const cells = R.workloads.map((w) => {
      const s = R.speed[p.name][w.name];
      return s.pagesMin == null ? '—' : s.pagesMin === s.pagesMax ? `${s.pagesMin}` : `${s.pagesMin}–${s.pagesMax}`;
    });
    L.push(`| ${label[p.name]} | ${cells.join(' | ')} | ${R.efficiency[p.name]?.pages ?? '—'} |`);
  }
  L.push('');

  L.push(`## Heap efficiency: bytes live at the first failure / capacity, ${R.effInstances} fresh instances`);
  L.push('');
  L.push('| allocator | mean | min | max | capacity (MiB) |');
  L.push('|---|---:|---:|---:|---:|');
  for (const p of R.peers) {
    const e = R.efficiency[p.name];
    if (e.error) { L.push(`| ${label[p.name]} | error: ${e.error} | | | |`); continue; }
    const pc = (x) => `${(x * 100).toFixed(1)} %`;
    L.push(`| ${label[p.name]} | ${pc(e.mean)} | ${pc(e.min)} | ${pc(e.max)} | ${fmt(e.capacity / 2 ** 20, 2)} |`);
  }
  L.push('');

  const none = R.sizes.none;
  L.push('## Code size: size-probe module (alloc, alloc_zeroed, realloc, dealloc with run-time layouts)');
  L.push('');
  L.push('Allocator bytes = module − the no-allocator module (' +
    (none ? `${none.raw} B raw, ${none.oz ?? '—'} B -Oz, ${none.gz} B gzip` : 'missing') + ').');
  L.push('');
  L.push('| allocator | raw | allocator bytes raw | -Oz | allocator bytes -Oz | gzip -9 of -Oz | allocator bytes gzip |');
  L.push('|---|---:|---:|---:|---:|---:|---:|');
  for (const p of R.peers) {
    const s = R.sizes[p.name];
    if (!s) continue;
    const d = (k) => (none && s[k] != null && none[k] != null ? s[k] - none[k] : null);
    L.push(`| ${label[p.name]} | ${s.raw} | ${d('raw') ?? '—'} | ${s.oz ?? '—'} | ${d('oz') ?? '—'} | ${s.gz} | ${d('gz') ?? '—'} |`);
  }
  L.push('');

  if (R.jsView) {
    L.push('## JS view access: ns per `u8[i]` read in a hot loop (median (min) of best-of-3, per process)');
    L.push('');
    if (R.jsView.error) L.push(`error: ${R.jsView.error}`);
    else {
      const raw = R.jsView['raw cached view']?.median;
      L.push('| access | ns/access | over raw cached view |');
      L.push('|---|---:|---:|');
      for (const [k, v] of Object.entries(R.jsView)) {
        L.push(`| ${k} | ${fmt(v.median, 2)} (${fmt(v.min, 2)}) | ${raw != null ? `${(v.median - raw).toFixed(2)} ns` : '—'} |`);
      }
      if (!R.jsView['nogrow.mjs `attach(...).u8`']) L.push('', '`js/nogrow.mjs` not present (or failed to load): its row is missing.');
    }
    L.push('');
  }

  L.push(...targets(R));
  return L.join('\n');
}

function targets(R) {
  const L = ['## Targets', ''];
  const s = (p, w) => R.speed[p]?.[w]?.median;
  const line = (what, got, want, ok) => L.push(`| ${what} | ${got} | ${want} | ${ok == null ? '—' : ok ? 'met' : '**missed**'} |`);
  L.push('| target | measured | wanted | |', '|---|---:|---:|---|');
  for (const p of ['nogrow-fail', 'nogrow-reserve', 'nogrow-signal']) {
    if (!R.speed[p]) continue;
    const dl = ratio(s('dlmalloc', 'ra'), s(p, 'ra'));
    const bare = ratio(s('talc-lock', 'ra'), s(p, 'ra'));
    line(`${p}: random actions vs dlmalloc`, dl == null ? '—' : `${dl.toFixed(2)}×`, '≥ 1.8×', dl == null ? null : dl >= 1.8);
    line(`${p}: random actions vs bare TalcLock`, bare == null ? '—' : `${bare.toFixed(2)}×`, '≥ 0.97×', bare == null ? null : bare >= 0.97);
    const e = R.efficiency[p]?.mean;
    line(`${p}: heap efficiency`, e == null ? '—' : `${(e * 100).toFixed(1)} %`, '≥ 96 %', e == null ? null : e >= 0.96);
  }
  const oz = (p) => R.sizes[p]?.oz;
  for (const p of ['nogrow-fail', 'nogrow-reserve', 'nogrow-signal']) {
    if (oz(p) == null || oz('talc-lock') == null) continue;
    const d = oz(p) - oz('talc-lock');
    line(`${p}: allocator bytes (-Oz) over bare TalcLock`, `${d >= 0 ? '+' : ''}${d} B`, '≤ +400 B', d <= 400);
  }
  const jv = R.jsView;
  if (jv && !jv.error) {
    const k = 'nogrow.mjs `attach(...).u8`';
    const d = jv[k] ? jv[k].median - jv['raw cached view'].median : null;
    line('JS view access over a raw cached view', d == null ? 'not measured (no js/nogrow.mjs)' : `${d.toFixed(2)} ns`, '≤ 0.5 ns', d == null ? null : d <= 0.5);
  }
  L.push('');
  return L;
}

// ---------------------------------------------------------------- plot

function svg(R) {
  const esc = (s) => String(s).replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
  const cols = R.workloads;
  const rows = R.peers;
  const cw = 96, ch = 26, left = 210, top = 150;
  const width = left + (cols.length + 1) * cw + 80;
  const height = top + rows.length * ch + 70;
  const out = [];
  out.push(`<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" font-family="sans-serif" font-size="12">`);
  out.push(`<rect width="100%" height="100%" fill="white"/>`);
  out.push(`<text x="10" y="22" font-size="15" font-weight="bold">Speedup over std's dlmalloc (median ns/op ratio; green faster, red slower) and heap efficiency</text>`);
  out.push(`<text x="10" y="40" fill="#555">${esc(`${R.date.slice(0, 10)}, nogrow ${R.revision}, Node ${R.node}, ${R.cpu}, ${R.reps} reps, fresh process per run`)}</text>`);
  const head = [...cols.map((c) => c.label), 'heap efficiency'];
  head.forEach((h, i) => {
    const x = left + i * cw + cw / 2;
    out.push(`<text transform="translate(${x},${top - 8}) rotate(-35)" font-size="11">${esc(h)}</text>`);
  });
  const color = (r) => {
    if (r == null) return '#ddd';
    const t = Math.max(-1, Math.min(1, Math.log2(r) / 2)); // ±4× saturates
    const g = t > 0 ? [255 - 130 * t, 255 - 40 * t, 255 - 130 * t] : [255 + 40 * t, 255 + 130 * t, 255 + 130 * t];
    return `rgb(${g.map((v) => Math.round(v)).join(',')})`;
  };
  rows.forEach((p, j) => {
    const y = top + j * ch;
    out.push(`<text x="${left - 8}" y="${y + ch / 2 + 4}" text-anchor="end">${esc(p.label)}</text>`);
    cols.forEach((w, i) => {
      const s = R.speed[p.name][w.name];
      const r = s.n ? ratio(R.speed.dlmalloc?.[w.name]?.median, s.median) : null;
      const x = left + i * cw;
      out.push(`<rect x="${x}" y="${y}" width="${cw - 2}" height="${ch - 2}" fill="${color(r)}"/>`);
      out.push(`<text x="${x + cw / 2}" y="${y + ch / 2 + 4}" text-anchor="middle">${r == null ? (s.exhausted ? 'exhausted' : '—') : `${r.toFixed(2)}×`}</text>`);
    });
    const e = R.efficiency[p.name];
    const x = left + cols.length * cw;
    const v = e && !e.error ? e.mean : null;
    out.push(`<rect x="${x}" y="${y}" width="${cw - 2}" height="${ch - 2}" fill="#eef"/>`);
    if (v != null) out.push(`<rect x="${x}" y="${y}" width="${(cw - 2) * v}" height="${ch - 2}" fill="#99c"/>`);
    out.push(`<text x="${x + cw / 2}" y="${y + ch / 2 + 4}" text-anchor="middle">${v == null ? '—' : `${(v * 100).toFixed(1)} %`}</text>`);
  });
  out.push(`<text x="10" y="${height - 20}" fill="#555">Speedup = dlmalloc's median / this median. Efficiency = bytes live at the first failure / capacity (same capacity for all).</text>`);
  out.push('</svg>');
  return out.join('\n');
}

// ---------------------------------------------------------------- entry

if (opt.child) childTimed(opt.child, opt.workload, Number(opt.ops), Number(opt.seed));
else if (opt['child-eff']) childEfficiency(opt['child-eff'], Number(opt.n), Number(opt.seed));
else if (opt['child-js']) await childJs(Number(opt.ops));
else if (opt.report) {
  // Re-print the tables (and the plot) of a saved --json result.
  const R = JSON.parse(readFileSync(opt.report, 'utf8'));
  console.log(report(R, false));
  if (opt.svg) writeFileSync(opt.svg, svg(R));
} else await main();
