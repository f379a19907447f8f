// The Node host: runs every greeting guest side by side and prints what the
// classic host code gets from each (the README's main job, `cargo xtask demo`,
// which builds the guests first). Usage: node examples/demo.mjs
import { readFileSync } from 'node:fs';
import {
  VARIANTS, SALUTATION, NAME,
  seedScenario, moduleScenario, pressureScenario, formatStats, formatError,
} from './greet.mjs';
import { attach } from '../js/nogrow.mjs';

const guests = new URL('../target/guests/', import.meta.url);
const load = (name) => readFileSync(new URL(`${name}.wasm`, guests));

function table(title, columns, rows) {
  const widths = columns.map((c) => Math.max(c.length, ...rows.map((r) => String(r[c]).length)));
  const line = (cells) => `| ${cells.map((c, i) => String(c).padEnd(widths[i])).join(' | ')} |`;
  console.log(`\n${title}\n`);
  console.log(line(columns));
  console.log(`|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`);
  for (const r of rows) console.log(line(columns.map((c) => r[c])));
}

const gen = (a, b) => (a === null ? '—' : `${a} → ${b}`);
const bytes = (a, b) => `${a} → ${b}${a === b ? '' : ` (+${b - a})`}`;

// 1. The classic host code against every guest.
const seed = [];
for (const v of VARIANTS) {
  const r = await seedScenario(v, load(v.name));
  seed.push({
    'guest variant': v.name,
    allocator: v.allocator,
    'result or error': r.error ? formatError(r.error) : r.result,
    'memory bytes before → after': bytes(r.bytesBefore, r.bytesAfter),
    generation: gen(r.generationBefore, r.generationAfter),
    stats: formatStats(r.stats),
  });
}

// Reserve is a promise the host keeps: without its nogrow_reserve(0) call the
// guest reserves lazily on its first allocation, which detaches the view.
const reserve = VARIANTS.find((v) => v.name === 'greet-reserve');
const lazy = await seedScenario({ ...reserve, reserve: false }, load(reserve.name));
seed.push({
  'guest variant': 'greet-reserve, host skips nogrow_reserve',
  allocator: 'nogrow Reserve::pages(16), lazy reserve',
  'result or error': lazy.error ? formatError(lazy.error) : lazy.result,
  'memory bytes before → after': bytes(lazy.bytesBefore, lazy.bytesAfter),
  generation: gen(lazy.generationBefore, lazy.generationAfter),
  stats: formatStats(lazy.stats),
});

// The control again, but the host reads through js/nogrow.mjs.
const std = VARIANTS.find((v) => v.name === 'greet-std');
const m = await moduleScenario(std, load(std.name));
seed.push({
  'guest variant': 'greet-std + js/nogrow.mjs',
  allocator: "Rust's default; host uses attach(instance).u8",
  'result or error': m.error ? formatError(m.error) : m.result,
  'memory bytes before → after': bytes(m.bytesBefore, m.bytesAfter),
  generation: `(module saw ${m.generationAfter} growth)`,
  stats: formatStats(m.stats),
});

// The wasm-bindgen guest, through its own generated glue.
const glue = await import(new URL('greet-bindgen/greet-bindgen.js', guests));
const wasm = glue.initSync({ module: readFileSync(new URL('greet-bindgen/greet-bindgen_bg.wasm', guests)) });
const nv = attach(wasm);
const b0 = nv.byteLength;
const g0 = nv.generation;
let bindgenResult;
try {
  const greeting = glue.greet(SALUTATION, NAME);
  const big = glue.shout_many(NAME, 50_000);
  bindgenResult = `${greeting} (+ shout_many: ${big.length} chars)`;
} catch (err) {
  bindgenResult = formatError(err);
}
nv.poll();
seed.push({
  'guest variant': 'greet-bindgen',
  allocator: 'nogrow Signal under wasm-bindgen glue',
  'result or error': bindgenResult,
  'memory bytes before → after': bytes(b0, nv.byteLength),
  generation: gen(g0, nv.generation),
  stats: formatStats(nv.stats()),
});

table(
  `Host writes "${SALUTATION}" and "${NAME}" through a Uint8Array made once, calls set_name, reads the greeting through the same view:`,
  ['guest variant', 'allocator', 'result or error', 'memory bytes before → after', 'generation', 'stats'],
  seed,
);

// 2. Allocator pressure: the greeting repeated 100 000 times in one allocation.
const pressure = [];
for (const v of VARIANTS.filter((v) => ['greet-fail', 'greet-reserve', 'greet-reserve-link', 'greet-signal'].includes(v.name))) {
  const r = await pressureScenario(v, load(v.name), 100_000);
  pressure.push({
    'guest variant': v.name,
    'result or error': r.error ? formatError(r.error) : `${r.result}, read back ${r.intact ? 'intact' : 'WRONG'} through nv.u8`,
    'memory bytes before → after': bytes(r.bytesBefore, r.bytesAfter),
    generation: gen(r.generationBefore, r.generationAfter),
    'raw view made before': r.rawViewDetached ? 'detached' : 'valid',
    stats: formatStats(r.stats),
  });
}
table(
  'Under pressure (repeat_greeting(100000): one 2.9 MB String), through js/nogrow.mjs:',
  ['guest variant', 'result or error', 'memory bytes before → after', 'generation', 'raw view made before', 'stats'],
  pressure,
);
