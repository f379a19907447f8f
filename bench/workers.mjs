#!/usr/bin/env node
// Threads benchmark: talc's random actions (alloc/free/realloc 2:2:1, sizes
// 4..10 000 B biased small, 50..2 000 live blocks per thread) run by 1, 2 and
// 4 Node worker_threads at once on one shared WebAssembly.Memory, each worker
// with its own instance of the threaded guest (bench/threads-guest) and its
// own stack (js/nogrow.mjs's instantiateShared/threadBlocks). Peers: nogrow
// Fail and bare TalcLock<spin, Claim> over the same 32 MiB static arena, and
// std's dlmalloc (built with nightly -Z build-std; left out, with a note,
// when that toolchain is missing), which grows memory up to the same 40 MiB.
// Usually run through `cargo xtask bench --workers`; prints a Markdown table.
//
//   node bench/workers.mjs [--smoke] [--reps N] [--no-build] [--json FILE]
//
// Method: per repetition, every (worker count, peer) pair once, the peer
// order alternating; each run gets a fresh memory and fresh workers. Workers
// compile nothing (the module is compiled once, TurboFan only), warm up on
// their own tables, wait at a common gate, then each runs OPS actions; a
// worker's rate is OPS / its own time, the total rate is all actions / the
// time from the first start to the last end. Medians over the repetitions.

import { execFileSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { setFlagsFromString } from 'node:v8';
import { Worker } from 'node:worker_threads';

import { attach, instantiateShared, threadBlocks } from '../js/nogrow.mjs';

setFlagsFromString('--no-liftoff');

const { values: opt } = parseArgs({
  options: {
    smoke: { type: 'boolean', default: false },
    reps: { type: 'string' },
    'no-build': { type: 'boolean', default: false },
    json: { type: 'string' },
  },
});

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const DIR = `${ROOT}target/bench/threads`;
const MEMORY_BYTES = 40 << 20; // 32 MiB arena + statics, stacks' room (initial = maximum)
const PEERS = [
  { name: 'nogrow-fail', label: 'nogrow Fail', feature: 'nogrow-fail', fixed: true },
  { name: 'talc-lock', label: 'TalcLock<spin, Claim>', feature: 'talc-lock', fixed: true },
  // std's allocator needs std built with atomics: nightly and rust-src. It
  // grows memory from a 4 MiB start up to the same 40 MiB.
  { name: 'std-dlmalloc', label: "std's dlmalloc", feature: 'std-dlmalloc', fixed: false, nightly: true },
];
const WORKERS = [1, 2, 4];
const OPS = opt.smoke ? 20_000 : 2_000_000; // per worker
const REPS = Number(opt.reps ?? (opt.smoke ? 1 : 7));
const PAGE = 65536;

const STD_INITIAL_BYTES = 4 << 20;
const LINK = [
  '--shared-memory', '--import-memory', `--max-memory=${MEMORY_BYTES}`,
  '--export=__wasm_init_tls', '--export=__tls_size', '--export=__tls_align', '--export=__tls_base',
  '--export=__stack_pointer',
];

const RUSTC = '-Ctarget-feature=+atomics,+bulk-memory';

/** Builds `peer` into target/bench/threads/{name}.wasm; false if its toolchain is missing. */
function build(peer) {
  const target = `${DIR}/build/${peer.name}`;
  const initial = peer.fixed ? MEMORY_BYTES : STD_INITIAL_BYTES;
  const link = [...LINK, `--initial-memory=${initial}`].map((a) => `-Clink-arg=${a}`);
  const common = ['rustc', '--quiet', '--release', '--target', 'wasm32-unknown-unknown'];
  const tail = ['--lib', '--crate-type', 'cdylib', '--features', peer.feature, '--'];
  const env = { ...process.env, CARGO_TARGET_DIR: target };
  const [cmd, args] = peer.nightly
    // std itself gets the atomics through RUSTFLAGS (build-std compiles it).
    ? ['rustup', ['run', 'nightly', 'cargo', ...common, '-Z', 'build-std=std,panic_abort', ...tail, ...link]]
    : ['cargo', [...common, ...tail, RUSTC, ...link]];
  if (peer.nightly) {
    env.RUSTFLAGS = RUSTC;
    for (const v of ['CARGO', 'RUSTC', 'RUSTDOC', 'RUSTUP_TOOLCHAIN', 'RUSTC_WRAPPER']) delete env[v];
  }
  try {
    // A fresh machine may lack nightly's rust-src (a no-op when present).
    if (peer.nightly) execFileSync('rustup', ['component', 'add', 'rust-src', '--toolchain', 'nightly'], { stdio: 'ignore' });
    execFileSync(cmd, args, { cwd: `${ROOT}bench/threads-guest`, env, stdio: 'inherit' });
  } catch (e) {
    if (!peer.nightly) throw e;
    console.error(`${peer.label}: not built (${e.message.split('\n')[0]}); it needs nightly with rust-src ` +
      '(rustup component add rust-src --toolchain nightly)');
    return false;
  }
  mkdirSync(DIR, { recursive: true });
  copyFileSync(`${target}/wasm32-unknown-unknown/release/bench_threads_guest.wasm`, `${DIR}/${peer.name}.wasm`);
  return true;
}

function startWorker(data) {
  return new Promise((resolve, reject) => {
    const w = new Worker(new URL('./lib/workers-thread.mjs', import.meta.url), { workerData: data });
    let report = null;
    w.on('message', (m) => { report = m; });
    w.on('error', reject);
    w.on('exit', (code) => (code === 0 && report ? resolve(report) : reject(new Error(`worker exited ${code}`))));
  });
}

/** One run: `workers` threads of `peer` at once. */
async function run(peer, module, workers, rep) {
  const initial = (peer.fixed ? MEMORY_BYTES : STD_INITIAL_BYTES) / PAGE;
  const memory = new WebAssembly.Memory({ initial, maximum: MEMORY_BYTES / PAGE, shared: true });
  const main = await instantiateShared(module, { memory });
  const threads = Array.from({ length: workers }, () => threadBlocks(main.exports, { stackBytes: 128 << 10 }));
  const nv = peer.name.startsWith('nogrow') ? attach(main.exports, { memory }) : null;
  const before = nv?.stats();
  const gate = new SharedArrayBuffer(8);
  const g = new Int32Array(gate);
  const done = Promise.all(threads.map((thread, slot) => startWorker({
    module, memory, thread, slot, gate, ops: OPS, warmup: Math.ceil(OPS / 40), seed: 1 + slot * 7919 + rep * 104729,
  })));
  while (Atomics.load(g, 1) < workers) await new Promise((r) => setTimeout(r, 1));
  Atomics.store(g, 0, 1);
  Atomics.notify(g, 0);
  const reports = await done;
  const failures = reports.reduce((a, r) => a + r.failures, 0);
  if (failures !== 0) throw new Error(`${peer.name}, ${workers} workers: ${failures} allocations failed`);
  if (nv) {
    const after = nv.stats();
    if (after.inUse !== before.inUse || after.allocs - before.allocs !== after.frees - before.frees || after.growths !== 0) {
      throw new Error(`${peer.name}, ${workers} workers: state block ${JSON.stringify({ before, after })}`);
    }
  }
  if (peer.fixed && memory.buffer.byteLength !== MEMORY_BYTES) throw new Error(`${peer.name}: memory changed size`);
  const wall = Math.max(...reports.map((r) => r.end)) - Math.min(...reports.map((r) => r.start));
  const perWorker = reports.map((r) => OPS / ((r.end - r.start) / 1000));
  // How much of the run had every worker going at once (1: all the time).
  const together = Math.max(0, Math.min(...reports.map((r) => r.end)) - Math.max(...reports.map((r) => r.start)));
  return {
    total: (OPS * workers) / (wall / 1000), perWorker: median(perWorker), overlap: together / wall,
    memoryBytes: memory.buffer.byteLength,
  };
}

function median(xs) {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
}

const fmt = (x) => `${(x / 1e6).toFixed(1)} M`;

const peers = PEERS.filter((p) => (opt['no-build'] ? existsSync(`${DIR}/${p.name}.wasm`) : build(p)));
const modules = new Map(peers.map((p) => [p.name, new WebAssembly.Module(readFileSync(`${DIR}/${p.name}.wasm`))]));

const samples = {}; // samples[peer][workers] = [{ total, perWorker }]
for (let rep = 0; rep < REPS; rep++) {
  for (const workers of WORKERS) {
    const order = rep % 2 ? [...peers].reverse() : peers;
    for (const p of order) {
      const r = await run(p, modules.get(p.name), workers, rep);
      ((samples[p.name] ??= {})[workers] ??= []).push(r);
    }
  }
  if (!opt.smoke) process.stderr.write(`repetition ${rep + 1}/${REPS} done\n`);
}

const result = { ops: OPS, reps: REPS, cores: availableParallelism(), node: process.version, peers: {} };
for (const p of peers) {
  result.peers[p.name] = {};
  for (const w of WORKERS) {
    const s = samples[p.name][w];
    const totals = s.map((x) => x.total);
    result.peers[p.name][w] = {
      total: median(totals), totalMin: Math.min(...totals), totalMax: Math.max(...totals),
      perWorker: median(s.map((x) => x.perWorker)),
      overlap: median(s.map((x) => x.overlap)),
      memoryBytes: Math.max(...s.map((x) => x.memoryBytes)),
    };
  }
}

const lines = [];
lines.push(`Random actions on one shared memory, Node ${process.version} worker_threads, ${result.cores} cores; ` +
  `${OPS.toLocaleString('en')} actions per worker, median of ${REPS}.`);
lines.push('');
lines.push('| allocator | workers | total actions/s (min–max) | per worker | per worker vs 1 worker | all workers running |');
lines.push('|---|---:|---:|---:|---:|---:|');
for (const p of peers) {
  const one = result.peers[p.name][1].perWorker;
  for (const w of WORKERS) {
    const r = result.peers[p.name][w];
    lines.push(`| ${p.label} | ${w}${w > result.cores ? ' (more than cores)' : ''} | ${fmt(r.total)} (${fmt(r.totalMin)}–${fmt(r.totalMax)}) | ${fmt(r.perWorker)} | ${(r.perWorker / one).toFixed(2)}× | ${(r.overlap * 100).toFixed(0)} % |`);
  }
}
lines.push('');
const others = peers.filter((p) => p.name !== 'nogrow-fail');
lines.push(`| workers | ${others.map((p) => `nogrow Fail / ${p.label} (total)`).join(' | ')} |`);
lines.push(`|---:|${others.map(() => '---:|').join('')}`);
for (const w of WORKERS) {
  const ratios = others.map((p) => (result.peers['nogrow-fail'][w].total / result.peers[p.name][w].total).toFixed(2) + '×');
  lines.push(`| ${w} | ${ratios.join(' | ')} |`);
}
lines.push('');
for (const p of peers.filter((q) => !q.fixed)) {
  const grown = WORKERS.map((w) => `${w}: ${result.peers[p.name][w].memoryBytes / PAGE}`).join(', ');
  lines.push(`${p.label} grew memory from ${STD_INITIAL_BYTES / PAGE} pages to (workers: pages) ${grown}.`);
}
if (!peers.some((p) => p.name === 'std-dlmalloc')) lines.push("std's dlmalloc: not measured (no nightly with rust-src).");
console.log(lines.join('\n'));
if (opt.json) writeFileSync(opt.json, JSON.stringify(result, null, 2));
