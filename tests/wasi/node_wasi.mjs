// Runs one WASI command in Node's `node:wasi` (preview1) and prints one JSON
// line: exit code, guest stdout, memory pages right after instantiation and
// after `_start`, and nogrow's generation read after the run.
//
//   node tests/wasi/node_wasi.mjs RUN.json
//
// RUN.json: { "wasm": path, "args": [...], "env": {name: value},
//             "preopen": host directory (mapped to "."), "stdout": path }
//
// One instance per process: Node 20's `node:wasi` has crashed when many WASI
// instances with large memories ran in one process.
import { readFileSync, openSync, closeSync } from 'node:fs';
import { WASI } from 'node:wasi';

const run = JSON.parse(readFileSync(process.argv[2], 'utf8'));
const stdout = openSync(run.stdout, 'w');
const wasi = new WASI({
  version: 'preview1',
  args: run.args,
  env: run.env,
  preopens: { '.': run.preopen },
  stdout,
  returnOnExit: true,
});
const module = await WebAssembly.compile(readFileSync(run.wasm));
const instance = await WebAssembly.instantiate(module, wasi.getImportObject());
const memory = instance.exports.memory;
const pagesBefore = memory.buffer.byteLength / 65536;
const exitCode = wasi.start(instance);
closeSync(stdout);
const pagesAfter = memory.buffer.byteLength / 65536;
const e = instance.exports;
const generation = typeof e.nogrow_generation === 'function' ? e.nogrow_generation() : null;
console.log(JSON.stringify({
  exitCode,
  pagesBefore,
  pagesAfter,
  generation,
  stdout: readFileSync(run.stdout, 'utf8'),
}));
