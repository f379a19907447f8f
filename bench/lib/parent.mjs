// The parent role: runs every measurement in a fresh child process (allocator
// order rotated each repetition), measures code size, aggregates the runs
// into the results object, then prints the report and writes JSON and plot.

import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir, cpus } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';

import { svg } from './plot.mjs';
import { fuelReport, report } from './report.mjs';
import { JS_VIEW_PEER, PEERS, REAL_DATA, WORKLOADS, isReal } from './workloads.mjs';

/** The repository the modules are built from. */
const ROOT = fileURLToPath(new URL('../..', import.meta.url));
/** The instruction counter (wasmtime fuel, Python). */
const FUEL_PY = fileURLToPath(new URL('../fuel.py', import.meta.url));
/** The counter's time limit (it compiles every module, then runs all the
 * synthetic workloads at full counts: well under a minute). */
const FUEL_TIMEOUT_MS = 600_000;

/** A child that takes longer than this is stopped and reported as an error
 * (an allocator whose free list is O(n) can take minutes on a real workload). */
const CHILD_TIMEOUT_MS = 300_000;

/** Runs `script` (the entry, `bench/run.mjs`) in a child mode; its JSON
 * output, or `{ error }` with the end of its stderr. `flags` go to Node. */
function spawnChild(script, dir, args, flags = ['--no-liftoff']) {
  const r = spawnSync(process.execPath, [...flags, script, '--dir', dir, ...args], {
    encoding: 'utf8',
    maxBuffer: 1 << 24,
    timeout: CHILD_TIMEOUT_MS,
  });
  if (r.error?.code === 'ETIMEDOUT' || r.signal === 'SIGTERM') return { error: `timeout after ${CHILD_TIMEOUT_MS / 1000} s` };
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

/** The nogrow revision the modules were just built from. */
function revision() {
  const git = (...a) => spawnSync('git', a, { cwd: ROOT, encoding: 'utf8' });
  const head = git('rev-parse', '--short=10', 'HEAD');
  if (head.status !== 0) return 'unknown';
  const dirty = git('status', '--porcelain', '--', 'src', 'Cargo.toml').stdout?.trim();
  return `${head.stdout.trim()}${dirty ? ' + uncommitted src/ changes' : ''}`;
}

/** Instructions per operation of each workload under each peer:
 * `bench/fuel.py` (wasmtime's fuel meter, in Python) runs each workload once
 * with the ops this run uses and seed 1 (the first repetition's), a real
 * workload on its document (`<dir>/data/<file>`; a smoke run skips those
 * it does not time). The counts are deterministic; a smoke run counts each
 * twice and fails on a difference. `{ engine, seed, peers: { [peer]: {
 * loop, workloads: { [w]: { perOp, ops, failures } | { error } } } } }`,
 * or `{ error }`. */
export function countInstructions(opt, peers, workloads, smoke) {
  const plan = {
    seed: 1,
    workloads: workloads.map((w) => ({
      name: w.name,
      export: w.export ?? w.name,
      ops: smoke ? w.smoke : w.ops,
      ...(isReal(w) ? { input: join(opt.dir, 'data', smoke ? (w.smokeInput ?? w.input) : w.input) } : {}),
    })).filter((w) => w.ops > 0),
  };
  const packages = opt['py-packages'] ?? join(ROOT, 'target/py');
  const r = spawnSync('python3', [
    FUEL_PY, '--packages', packages, '--dir', opt.dir, '--peers', peers.map((p) => p.name).join(','),
    '--plan', JSON.stringify(plan), ...(smoke ? ['--twice'] : []),
  ], { encoding: 'utf8', maxBuffer: 1 << 24, timeout: FUEL_TIMEOUT_MS });
  if (r.error) return { error: `python3 ${FUEL_PY}: ${r.error.message}` };
  if (r.status !== 0) {
    return { error: (r.stderr || '').trim().split('\n').slice(-3).join(' | ') || `exit ${r.status}` };
  }
  const out = JSON.parse(r.stdout);
  process.stderr.write(`bench: instruction counts done (${out.seconds} s, ${out.compiled} modules compiled)\n`);
  return out;
}

/** The instruction-count guards (`--fuel-max peer:workload:bound`, comma-
 * separated): each count must exist and be at most its bound. Prints one line
 * per guard; false if any fails. */
export function checkFuelBounds(fuel, spec) {
  let ok = true;
  for (const g of (spec ?? '').split(',').filter(Boolean)) {
    const [peer, workload, bound] = g.split(':');
    const r = fuel?.peers?.[peer]?.workloads?.[workload];
    const n = r?.perOp;
    if (n == null || r.failures) {
      console.error(`bench: FUEL GUARD FAILED: no count for ${peer} ${workload} (${fuel?.error ?? r?.error ?? (r?.failures ? 'allocations failed' : 'not run')})`);
      ok = false;
    } else if (n > Number(bound)) {
      console.error(`bench: FUEL GUARD FAILED: ${peer} ${workload}: ${n.toFixed(1)} wasm instructions per op > bound ${bound} ` +
        '(`cargo xtask bench` passes HOT32_FAIL_MAX_INSTRUCTIONS of xtask/src/bench.rs): the allocator\'s hot path got more expensive');
      ok = false;
    } else {
      console.error(`bench: fuel guard: ${peer} ${workload}: ${n.toFixed(1)} wasm instructions per op <= bound ${bound}: ok`);
    }
  }
  return ok;
}

/** `--fuel-only`: the instruction counts alone (seconds, no timing). */
export function runFuelOnly(opt) {
  const peers = PEERS.filter((p) => existsSync(join(opt.dir, `${p.name}.wasm`)))
    .filter((p) => !opt.peers || opt.peers.split(',').includes(p.name));
  if (peers.length === 0) throw new Error(`no modules in ${opt.dir}: run \`cargo xtask bench --fuel\``);
  const workloads = WORKLOADS.filter((w) => !opt.workloads || opt.workloads.split(',').includes(w.name));
  const fuel = countInstructions(opt, peers, workloads, opt.smoke);
  const R = {
    date: new Date().toISOString(),
    revision: revision(),
    peers: peers.map(({ name, label }) => ({ name, label })),
    workloads: workloads.map((w) => ({ name: w.name, label: w.label, unit: w.unit, ops: opt.smoke ? w.smoke : w.ops })),
    fuel,
  };
  console.log(fuelReport(R));
  if (opt.json) writeFileSync(opt.json, JSON.stringify(R, null, 2));
  if (fuel.error || !checkFuelBounds(fuel, opt['fuel-max'])) process.exitCode = 1;
  const errors = Object.values(fuel.peers ?? {}).flatMap((e) => [e, ...Object.values(e.workloads)]).filter((r) => r.error);
  if (fuel.error || errors.length) {
    console.error(`bench: instruction counting failed: ${fuel.error ?? errors[0].error}`);
    process.exitCode = 1;
  }
}

/** The whole run; `opt` are the parsed arguments, `script` the entry that
 * child processes run. */
export async function runBenchmarks(opt, script) {
  const rev = revision();
  const smoke = opt.smoke;
  const reps = Number(opt.reps ?? (smoke ? 1 : 11));
  const effN = Number(opt['eff-instances'] ?? (smoke ? 2 : 25));
  const started = Date.now();
  const child = (args, flags) => spawnChild(script, opt.dir, args, flags);
  const peers = PEERS.filter((p) => existsSync(join(opt.dir, `${p.name}.wasm`)))
    .filter((p) => !opt.peers || opt.peers.split(',').includes(p.name));
  const workloads = WORKLOADS.filter((w) => !opt.workloads || opt.workloads.split(',').includes(w.name))
    .filter((w) => !smoke || w.smoke > 0);
  if (peers.length === 0) throw new Error(`no modules in ${opt.dir}: run \`cargo xtask bench\``);
  // The document each real workload reads (a smoke run takes the small ones).
  const inputOf = (w) => join(opt.dir, 'data', (smoke && w.smokeInput) || w.input);
  for (const w of workloads.filter(isReal)) {
    if (!existsSync(inputOf(w))) throw new Error(`${inputOf(w)} is missing: run \`cargo xtask bench\` (it unpacks the documents)`);
  }

  // Instruction counts first: seconds, and independent of the machine's load.
  const fuel = opt['no-fuel'] ? null : countInstructions(opt, peers, workloads, smoke);

  // Timed workloads.
  const runs = {}; // runs[peer][workload] = [{ns, failures, pages}]
  for (const p of peers) runs[p.name] = Object.fromEntries(workloads.map((w) => [w.name, []]));
  for (let rep = 0; rep < reps; rep++) {
    const order = peers.map((_, i) => peers[(i + rep) % peers.length]);
    for (const p of order) {
      for (const w of workloads) {
        const r = child([
          '--child', join(opt.dir, `${p.name}.wasm`), '--workload', w.name,
          '--ops', String(smoke ? w.smoke : w.ops), '--seed', String(1 + rep),
          ...(isReal(w) ? ['--input', inputOf(w)] : []),
        ]);
        runs[p.name][w.name].push(r);
      }
    }
    process.stderr.write(`bench: repetition ${rep + 1}/${reps} done (${((Date.now() - started) / 1000).toFixed(0)} s)\n`);
  }

  // Heap efficiency over fresh instances.
  const eff = {};
  for (const p of peers) {
    const r = child(['--child-eff', join(opt.dir, `${p.name}.wasm`), '--n', String(effN), '--seed', '1000']);
    eff[p.name] = r;
  }

  // Smallest capacity of each real workload. Speed does not matter here, so
  // the children compile lazily with Liftoff (every trial of a memory that
  // grows compiles a rewritten module).
  const capacity = {};
  for (const p of peers) {
    capacity[p.name] = {};
    for (const w of workloads.filter(isReal)) {
      capacity[p.name][w.name] = child([
        '--child-cap', join(opt.dir, `${p.name}.wasm`), '--workload', w.name,
        '--input', inputOf(w), '--steps', String(smoke ? 6 : 32),
      ], []);
    }
    process.stderr.write(`bench: smallest capacity of ${p.name} done (${((Date.now() - started) / 1000).toFixed(0)} s)\n`);
  }

  // Code size.
  const sizes = codeSizes(opt.dir, peers, !opt['no-wasm-opt']);

  // JS view access.
  const js = [];
  if (existsSync(join(opt.dir, `${JS_VIEW_PEER}.wasm`))) {
    for (let rep = 0; rep < (smoke ? 1 : 11); rep++) js.push(child(['--child-js', '--ops', String(smoke ? 100_000 : 20_000_000)]));
  }

  const data = workloads.filter(isReal).map((w) => {
    const file = (smoke && w.smokeInput) || w.input;
    return { workload: w.name, file, bytes: statSync(inputOf(w)).size, source: REAL_DATA.find((d) => d.file === file)?.source };
  });
  const results = summarize({ peers, workloads, runs, eff, capacity, data, sizes, js, reps, effN, smoke, revision: rev, fuel });
  const md = report(results, smoke);
  console.log(md);
  if (opt.json) writeFileSync(opt.json, JSON.stringify(results, null, 2));
  if (opt.svg && !smoke) writeFileSync(opt.svg, svg(results));
  process.stderr.write(`bench: finished in ${((Date.now() - started) / 1000).toFixed(0)} s\n`);
  const errors = [
    ...Object.values(runs).flatMap((ws) => Object.values(ws).flat()),
    ...Object.values(capacity).flatMap((ws) => Object.values(ws)),
    ...(fuel ? [fuel, ...Object.values(fuel.peers ?? {}).flatMap((e) => [e, ...Object.values(e.workloads)])] : []),
  ].filter((r) => r.error);
  if (errors.length) {
    console.error(`bench: ${errors.length} runs failed, e.g. ${errors[0].error}`);
    process.exitCode = 1;
  }
  if (!checkFuelBounds(fuel, opt['fuel-max'])) process.exitCode = 1;
}

/** Size-probe module sizes: raw, after `wasm-opt -Oz` (if `wasmOpt` and it
 * runs), and gzip -9 of the smallest. */
function codeSizes(dir, peers, wasmOpt) {
  const names = [...peers.map((p) => p.name), 'none'];
  const tmp = mkdtempSync(join(tmpdir(), 'nogrow-bench-'));
  const out = {};
  for (const name of names) {
    const file = join(dir, `${name}.size.wasm`);
    if (!existsSync(file)) continue;
    const raw = readFileSync(file);
    let oz = null;
    if (wasmOpt) {
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

/** The results object (what `--json` saves and `--report` reads back). */
function summarize({ peers, workloads, runs, eff, capacity, data, sizes, js, reps, effN, smoke, revision, fuel }) {
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
      start: r[0].start,
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
    revision,
    node: process.version,
    cpu: cpus()[0]?.model ?? 'unknown',
    cores: cpus().length,
    reps,
    effInstances: effN,
    workloads: workloads.map((w) => ({
      name: w.name, label: w.label, unit: w.unit, ops: smoke ? w.smoke : w.ops, ...(isReal(w) ? { input: (smoke && w.smokeInput) || w.input } : {}),
    })),
    peers: peers.map(({ name, label }) => ({ name, label })),
    speed,
    efficiency,
    capacity,
    data,
    sizes,
    jsView,
    fuel,
  };
}
