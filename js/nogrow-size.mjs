#!/usr/bin/env node
// nogrow-size: the smallest arena in which a guest's workload succeeds,
// measured (`sizeArena` in nogrow.mjs), and the `install!` line to use.
//
//   nogrow-size GUEST.wasm --workload workload.mjs [--margin 25] [--step 1024] [--reserve] [--json]
//   nogrow-size GUEST.wasm --call EXPORT[:ARG,ARG...] ...
//   nogrow-size GUEST.wasm --workload workload.mjs --verify
//
// GUEST.wasm is the measuring build: the guest with a generous arena and
// nogrow's `sizing` feature (`cargo build --release --target
// wasm32-unknown-unknown --features nogrow/sizing`). The workload module
// exports `run(views, instance)`, which does the work through the guest's
// exports and throws if the result is wrong, and optionally `imports`
// (an object, or a function returning the imports of one instance).
// `--call` runs one export instead (a trap is a failure). `--verify` runs the
// workload once with the module's own arena, without sizing: exit 0 if it
// succeeds, 1 if it does not. Exit 2: bad arguments or input.

import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';

import { NogrowError, runWorkload, sizeArena } from './nogrow.mjs';

const USAGE = `usage: nogrow-size GUEST.wasm (--workload FILE.mjs | --call EXPORT[:ARG,...]) [--margin PERCENT] [--step BYTES] [--reserve] [--allow-failures] [--json] [--verify]`;

function fail(message) {
  process.stderr.write(`nogrow-size: ${message}\n${USAGE}\n`);
  process.exit(2);
}

function parse(argv) {
  const args = { margin: 25, step: 1024, reserve: false, json: false, verify: false, allowFailures: false };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const value = () => {
      if (i + 1 >= argv.length) fail(`${a} needs a value`);
      return argv[++i];
    };
    const number = (text) => {
      const n = Number(text);
      if (!Number.isFinite(n) || n < 0) fail(`${a} takes a number >= 0, not ${text}`);
      return n;
    };
    if (a === '--workload') args.workload = value();
    else if (a === '--call') args.call = value();
    else if (a === '--margin') args.margin = number(value().replace(/%$/, ''));
    else if (a === '--step') args.step = number(value());
    else if (a === '--reserve') args.reserve = true;
    else if (a === '--allow-failures') args.allowFailures = true;
    else if (a === '--json') args.json = true;
    else if (a === '--verify') args.verify = true;
    else if (a === '-h' || a === '--help') {
      process.stdout.write(`${USAGE}\n`);
      process.exit(0);
    } else if (a.startsWith('-')) fail(`unknown option ${a}`);
    else if (args.guest === undefined) args.guest = a;
    else fail(`one guest only (got ${args.guest} and ${a})`);
  }
  if (args.guest === undefined) fail('no guest given');
  if ((args.workload === undefined) === (args.call === undefined)) fail('give one of --workload and --call');
  if (!Number.isInteger(args.step) || args.step === 0) fail(`--step takes a whole number of bytes, not ${args.step}`);
  return args;
}

async function workload(args) {
  if (args.call !== undefined) {
    const [name, list = ''] = args.call.split(':');
    const callArgs = list === '' ? [] : list.split(',').map(Number);
    return { run: (views) => views.call(name, ...callArgs), imports: {} };
  }
  const mod = await import(pathToFileURL(resolve(args.workload)).href);
  if (typeof mod.run !== 'function') fail(`${args.workload} exports no function run(views, instance)`);
  return { run: mod.run, imports: mod.imports ?? {} };
}

async function main() {
  const args = parse(process.argv.slice(2));
  let bytes;
  try {
    bytes = readFileSync(args.guest);
  } catch (e) {
    fail(`cannot read ${args.guest}: ${e.message}`);
  }
  const { run, imports } = await workload(args);
  const options = { run, imports, reserve: args.reserve, step: args.step, margin: args.margin / 100, allowFailures: args.allowFailures };
  if (args.verify) {
    const r = await runWorkload(bytes, options);
    const out = { ok: r.ok, why: r.why, heapBytes: r.stats.heapBytes, peakInUse: r.stats.peakInUse, failures: r.failures };
    if (args.json) process.stdout.write(`${JSON.stringify(out)}\n`);
    else if (r.ok) process.stdout.write(`succeeds: peak in use ${out.peakInUse} bytes of a ${out.heapBytes}-byte heap\n`);
    else process.stdout.write(`does not succeed: ${r.why}\n`);
    process.exit(r.ok ? 0 : 1);
  }
  let report;
  try {
    report = await sizeArena(bytes, options);
  } catch (e) {
    if (e instanceof NogrowError) {
      process.stderr.write(`nogrow-size: ${e.message}\n`);
      process.exit(1);
    }
    throw e;
  }
  if (args.json) process.stdout.write(`${JSON.stringify(report)}\n`);
  else process.stdout.write(`${report}\n`);
}

main().catch((e) => {
  process.stderr.write(`nogrow-size: ${e?.stack ?? e}\n`);
  process.exit(2);
});
