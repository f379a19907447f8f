// Per-access cost of js/nogrow.mjs's views against a raw cached view, on the
// engine running it (Node 20: the 'fixed' mode with its `length === 0` check).
// Usage: node js/bench/views.bench.mjs [reads per run, default 20e6]
// (needs `cargo xtask build-guests`; pin a core for stabler figures:
//  taskset -c 1 node js/bench/views.bench.mjs)
import { readFileSync } from 'node:fs';
import { attach } from '../nogrow.mjs';

const N = Number(process.argv[2] ?? 20e6);
const RUNS = 9;
const bytes = readFileSync(new URL('../../target/guests/greet-signal.wasm', import.meta.url));
const { instance } = await WebAssembly.instantiate(bytes, {});
const e = instance.exports;
const memory = e.memory;
const nv = attach(instance);
const MASK = 0xffff; // first 64 KiB

const raw = new Uint8Array(memory.buffer);
let cached = new Uint8Array(memory.buffer);
const viaByteLength = () => (cached.byteLength === 0 ? (cached = new Uint8Array(memory.buffer)) : cached);
const viaBufferCompare = () => (cached.buffer !== memory.buffer ? (cached = new Uint8Array(memory.buffer)) : cached);

// Tight loops: one read per iteration.
const cases = {
  'raw cached Uint8Array': () => { let s = 0; for (let i = 0; i < N; i++) s += raw[i & MASK]; return s; },
  'raw view in an object field (no check)': (() => { const holder = { view: raw }; holder.other = 1; return () => { let s = 0; for (let i = 0; i < N; i++) s += holder.view[i & MASK]; return s; }; })(),
  'nv.u8 (fixed: length === 0 check)': () => { let s = 0; for (let i = 0; i < N; i++) s += nv.u8[i & MASK]; return s; },
  'nv.u32 (fixed)': () => { let s = 0; for (let i = 0; i < N; i++) s += nv.u32[i & 0x3fff]; return s; },
  'raw cached Uint32Array': (() => { const r32 = new Uint32Array(memory.buffer); return () => { let s = 0; for (let i = 0; i < N; i++) s += r32[i & 0x3fff]; return s; }; })(),
  'byteLength === 0 check (wasm-bindgen style)': () => { let s = 0; for (let i = 0; i < N; i++) s += viaByteLength()[i & MASK]; return s; },
  'buffer !== memory.buffer check': () => { let s = 0; for (let i = 0; i < N; i++) s += viaBufferCompare()[i & MASK]; return s; },
};
// With a guest call every 16 reads: the engine cannot hoist the check out of
// the loop across an opaque call.
const get = e.get_msg_ptr;
const withCalls = {
  'raw cached + call/16': () => { let s = 0; for (let i = 0; i < N; i++) { if ((i & 15) === 0) s += get(); s += raw[i & MASK]; } return s; },
  'nv.u8 + call/16': () => { let s = 0; for (let i = 0; i < N; i++) { if ((i & 15) === 0) s += get(); s += nv.u8[i & MASK]; } return s; },
};

function measure(fn) {
  fn(); fn(); // warm up (optimize)
  const times = [];
  let sink = 0;
  for (let r = 0; r < RUNS; r++) {
    const t0 = process.hrtime.bigint();
    sink += fn();
    times.push(Number(process.hrtime.bigint() - t0) / N);
  }
  times.sort((a, b) => a - b);
  return { median: times[RUNS >> 1], min: times[0], sink };
}

const rows = [];
let baseline;
for (const group of [cases, withCalls]) {
  baseline = undefined;
  for (const [name, fn] of Object.entries(group)) {
    const m = measure(fn);
    baseline ??= m.median;
    rows.push({ case: name, 'ns/read (median)': m.median.toFixed(3), 'ns/read (min)': m.min.toFixed(3), 'vs first of group': `${(m.median - baseline >= 0 ? '+' : '')}${(m.median - baseline).toFixed(3)} ns` });
  }
}
console.log(`${process.version}, ${N} reads per run, median of ${RUNS}, mode ${nv.mode}`);
console.table(rows);
