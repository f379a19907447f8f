#!/usr/bin/env node
// Allocator benchmarks for nogrow. Usually run through `cargo xtask bench`
// (builds target/bench/*.wasm first); prints Markdown tables.
//
//   node bench/run.mjs --dir target/bench [--smoke] [--reps N] [--svg FILE] [--json FILE]
//   node bench/run.mjs --report FILE.json [--svg FILE]   (re-print a saved run)
//   node bench/run.mjs --dir target/bench --fuel-only [--peers a,b] [--workloads x,y] [--smoke]
//                                                        (instruction counts only, seconds)
//
// Method: one fresh Node process per (allocator, workload, repetition); the
// allocator order is rotated every repetition. In each process the module is
// compiled once with TurboFan (--no-liftoff), a first instance runs 1/20 of the
// ops as warm-up, then three fresh instances each run the workload timed and
// the fastest counts (every run starts from an empty heap, and a bump
// allocator never sees earlier garbage). The cost of an empty export call is
// subtracted. Median and min over the repetitions; ratios within 10 % are
// called noise (≈). The real workloads (JSON, regex on AWS service models)
// are timed the same way, the document copied in before the timed call; then
// each gets its smallest capacity, bisected over fresh instances (a ballast
// block shrinks an arena, a rewritten memory maximum limits growth).
//
// Beside the times, a count that noise cannot touch: wasm instructions per
// operation of each synthetic workload, from wasmtime's fuel meter
// (bench/fuel.py, in Python; --py-packages DIR: where the wasmtime package
// is, default target/py; --no-fuel skips it; --fuel-max peer:workload:N fails
// the run when that count exceeds N).
//
// This file parses the arguments and picks the role: a child process measuring
// one thing (lib/child.mjs), the parent running them all (lib/parent.mjs),
// the instruction counts alone (--fuel-only, lib/parent.mjs), or a re-print
// of saved results (lib/report.mjs, lib/plot.mjs). What is measured is listed
// in lib/workloads.mjs; the real workloads' host side (input, result checks)
// is lib/real.mjs.

import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

import { childCapacity, childEfficiency, childJs, childTimed } from './lib/child.mjs';
import { runBenchmarks, runFuelOnly } from './lib/parent.mjs';
import { svg } from './lib/plot.mjs';
import { report } from './lib/report.mjs';

const { values: opt } = parseArgs({
  options: {
    dir: { type: 'string', default: fileURLToPath(new URL('../target/bench', import.meta.url)) },
    smoke: { type: 'boolean', default: false },
    reps: { type: 'string' },
    'eff-instances': { type: 'string' },
    svg: { type: 'string' },
    json: { type: 'string' },
    report: { type: 'string' },
    'no-wasm-opt': { type: 'boolean', default: false },
    peers: { type: 'string' },
    workloads: { type: 'string' },
    'fuel-only': { type: 'boolean', default: false },
    'no-fuel': { type: 'boolean', default: false },
    'fuel-max': { type: 'string' },
    'py-packages': { type: 'string' },
    // internal: child modes
    child: { type: 'string' },
    'child-eff': { type: 'string' },
    'child-cap': { type: 'string' },
    'child-js': { type: 'boolean', default: false },
    workload: { type: 'string' },
    ops: { type: 'string' },
    seed: { type: 'string', default: '1' },
    n: { type: 'string' },
    input: { type: 'string' },
    steps: { type: 'string' },
  },
});

if (opt.child) childTimed(opt.child, opt.workload, Number(opt.ops), Number(opt.seed), opt.input);
else if (opt['child-cap']) childCapacity(opt['child-cap'], opt.workload, opt.input, Number(opt.steps));
else if (opt['child-eff']) childEfficiency(opt['child-eff'], Number(opt.n), Number(opt.seed));
else if (opt['child-js']) await childJs(opt.dir, Number(opt.ops));
else if (opt['fuel-only']) runFuelOnly(opt);
else if (opt.report) {
  // Re-print the tables (and the plot) of a saved --json result.
  const R = JSON.parse(readFileSync(opt.report, 'utf8'));
  console.log(report(R, false));
  if (opt.svg) writeFileSync(opt.svg, svg(R));
} else await runBenchmarks(opt, fileURLToPath(import.meta.url));
