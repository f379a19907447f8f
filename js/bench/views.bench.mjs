// Per-access cost of js/nogrow.mjs's views against a raw cached view, on the
// engine running it (Node 20: the 'fixed' mode with its `length === 0` check).
// Usage: node js/bench/views.bench.mjs [reads per run, default 20e6] [--after-detach]
// (needs `cargo xtask build-guests`; pin a core for stabler figures:
//  taskset -c 1 node js/bench/views.bench.mjs)
import { readFileSync } from 'node:fs';
import { attach } from '../nogrow.mjs';

const args = process.argv.slice(2);
const N = Number(args.find((a) => !a.startsWith('--')) ?? 20e6);
// --after-detach: detach one (throwaway) buffer first. V8 drops a global
// "no buffer was ever detached" assumption then, for raw views too; a host
// whose guest ever grew memory runs in that state.
const AFTER_DETACH = args.includes('--after-detach');
if (AFTER_DETACH) {
  const m = new WebAssembly.Memory({ initial: 1 });
  const v = new Uint8Array(m.buffer);
  m.grow(1);
  if (v.length !== 0) throw new Error('expected a detached view');
}
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

function time(fn) {
  const t0 = process.hrtime.bigint();
  const sink = fn();
  return [Number(process.hrtime.bigint() - t0) / N, sink];
}

const median = (xs) => [...xs].sort((a, b) => a - b)[xs.length >> 1];

// Each case against the raw view of its group, run alternately (raw, case,
// raw, case, ...) so that drift on a shared machine hits both alike; the
// overhead is the median of the per-pair differences.
const rows = [];
let sink = 0;
for (const group of [cases, withCalls]) {
  const [[baseName, base], ...rest] = Object.entries(group);
  for (const fn of Object.values(group)) { fn(); fn(); } // warm up (optimize)
  const baseTimes = [];
  const results = rest.map(([name]) => ({ name, times: [], diffs: [] }));
  for (let r = 0; r < RUNS; r++) {
    for (const [i, [, fn]] of rest.entries()) {
      const [tb, sb] = time(base);
      const [tc, sc] = time(fn);
      sink += sb + sc;
      baseTimes.push(tb);
      results[i].times.push(tc);
      results[i].diffs.push(tc - tb);
    }
  }
  rows.push({ case: baseName, 'ns/read (median)': median(baseTimes).toFixed(3), 'overhead vs raw (median of pairs)': '—' });
  for (const r of results) {
    const d = median(r.diffs);
    rows.push({ case: r.name, 'ns/read (median)': median(r.times).toFixed(3), 'overhead vs raw (median of pairs)': `${d >= 0 ? '+' : ''}${d.toFixed(3)} ns` });
  }
}
console.log(`${process.version}, ${N} reads per run, ${RUNS} alternating pairs, mode ${nv.mode}${AFTER_DETACH ? ', after a detach' : ''}, sink ${sink % 10}`);
console.table(rows);
