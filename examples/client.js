// The browser host: runs every greeting guest side by side (the classic host
// code, then through js/nogrow.mjs), then the checks only a browser can do:
// length-tracking views over a resizable buffer (toResizableBuffer), the
// wasm-bindgen guest's glue alongside the module, and shared memory.
// Results go to the page and to `window.nogrowResults`;
// `document.documentElement.dataset.done` is set when finished.
import {
  VARIANTS, GREETING, SALUTATION, NAME,
  seedScenario, moduleScenario, formatStats, formatError,
} from './greet.mjs';
import { attach } from '../js/nogrow.mjs';

const guests = new URL('../target/guests/', import.meta.url);
const bytesOf = async (name) => {
  const res = await fetch(new URL(`${name}.wasm`, guests));
  if (!res.ok) throw new Error(`${name}.wasm: HTTP ${res.status} (run cargo xtask build-guests)`);
  return new Uint8Array(await res.arrayBuffer());
};
const plainError = (e) => (e ? { name: e.name, message: e.message } : null);

function fillTable(id, columns, rows) {
  const table = document.getElementById(id);
  const head = table.createTHead().insertRow();
  for (const c of columns) head.appendChild(document.createElement('th')).textContent = c;
  const body = table.createTBody();
  for (const r of rows) {
    const tr = body.insertRow();
    for (const c of columns) {
      const td = tr.insertCell();
      td.textContent = r[c];
      if (c === 'result or error') td.className = r.ok ? 'ok' : 'err';
    }
  }
}

function setGreeting(nv, e) {
  const len = e.set_name(nv.writeString(e.get_salutation_ptr(), SALUTATION, 16), nv.writeString(e.get_name_ptr(), NAME, 16));
  return nv.readString(e.get_msg_ptr(), len);
}

/** Signal guest (declares a maximum): views over the resizable buffer follow growth with no checks. */
async function resizableCheck() {
  const { instance } = await WebAssembly.instantiate(await bytesOf('greet-signal'), {});
  const e = instance.exports;
  const nv = attach(instance);
  const out = { available: typeof WebAssembly.Memory.prototype.toResizableBuffer === 'function', mode: nv.mode, reason: nv.reason };
  if (nv.mode !== 'resizable') return out;
  const events = [];
  nv.onGrow((ev) => events.push(ev));
  out.greeting = setGreeting(nv, e);
  const u8 = nv.u8;
  const dv = nv.dataView;
  const raw = new Uint8Array(e.memory.buffer); // made by the host after attach: also length-tracking
  const before = u8.length;
  const len = e.repeat_greeting(100_000); // a direct call: nothing renews anything
  const after = e.memory.buffer.byteLength;
  out.grew = after > before;
  out.sameViewObject = nv.u8 === u8 && nv.dataView === dv;
  out.viewTracksLength = u8.length === after && dv.byteLength === after && raw.length === after;
  out.generation = nv.generation;
  out.repeatedIntact = len === GREETING.length * 100_000
    && nv.readString(e.get_repeat_ptr() + len - GREETING.length, GREETING.length) === GREETING;
  out.pollNoticed = nv.poll() && events.length === 1 && events[0].newBytes === after;
  const text = 'Grüß Gott, 世界 🦀';
  const n = nv.writeString(e.get_msg_ptr(), text, 96);
  out.stringRoundTrip = nv.readString(e.get_msg_ptr(), n) === text;
  try {
    new TextDecoder().decode(nv.u8.subarray(e.get_msg_ptr(), e.get_msg_ptr() + n));
    out.textDecoderRejectsResizable = false;
  } catch (err) {
    out.textDecoderRejectsResizable = err instanceof TypeError;
  }
  out.stats = nv.stats();
  return out;
}

/** The wasm-bindgen guest: strings through its glue, with the module attached (auto keeps fixed views). */
async function bindgenCheck() {
  const glue = await import(new URL('greet-bindgen/greet-bindgen.js', guests));
  const wasm = await glue.default({ module_or_path: new URL('greet-bindgen/greet-bindgen_bg.wasm', guests) });
  const nv = attach(wasm);
  const out = { mode: nv.mode, reason: nv.reason };
  out.greeting = glue.greet(SALUTATION, NAME);
  out.unicode = glue.greet('Grüß', '世界 🦀');
  const bytesBefore = nv.byteLength;
  const big = glue.shout_many(NAME, 200_000);
  out.shoutLength = big.length;
  out.shoutIntact = big.startsWith('AHOY THERE, TESTY MCTESTFACE!\n') && big.endsWith('AHOY THERE, TESTY MCTESTFACE!\n');
  out.grew = nv.byteLength > bytesBefore;
  out.generation = nv.generation;
  out.glueGeneration = glue.generation();
  out.viewValid = nv.u8.length === nv.byteLength;
  const text = 'héllo wörld '.repeat(50_000);
  out.wordStats = glue.word_stats(text);
  out.wordStatsExpected = `100000 words, ${new TextEncoder().encode(text).length} bytes`;
  out.stats = nv.stats();

  // Why 'auto' keeps fixed views for wasm-bindgen: a second instance with
  // resizable views forced, then a string through its glue.
  const glue2 = await import(new URL('greet-bindgen/greet-bindgen.js?forced-resizable', guests));
  const wasm2 = await glue2.default({ module_or_path: new URL('greet-bindgen/greet-bindgen_bg.wasm', guests) });
  const forced = attach(wasm2, { resizable: true });
  out.forced = { mode: forced.mode };
  try {
    out.forced.greeting = glue2.greet(SALUTATION, NAME);
    out.forced.error = null;
  } catch (err) {
    out.forced.error = plainError(err);
  }
  return out;
}

/** Shared memory (needs cross-origin isolation, which examples/serve.mjs sets). */
async function sharedCheck() {
  if (!globalThis.crossOriginIsolated) return { skipped: 'page is not cross-origin isolated' };
  const { instance } = await WebAssembly.instantiate(await bytesOf('js-shared'), {});
  const nv = attach(instance);
  const stale = new Uint8Array(instance.exports.memory.buffer);
  const before = nv.u8.length;
  instance.exports.grow(3, 0x5eed);
  return {
    mode: nv.mode,
    staleKeepsOldLength: stale.length === before,
    renewed: nv.u8.length === before + 3 * 65536,
    marker: nv.u32[nv.u32.length - 1] === 0x5eed,
    generation: nv.generation,
  };
}

async function main() {
  const results = { seed: [], module: [] };
  for (const v of VARIANTS) {
    const bytes = await bytesOf(v.name);
    const s = await seedScenario(v, bytes);
    results.seed.push({ ...s, error: plainError(s.error) });
    const m = await moduleScenario(v, bytes);
    results.module.push({ ...m, error: plainError(m.error) });
  }
  fillTable('seed', ['guest variant', 'allocator', 'result or error', 'memory bytes before → after', 'generation', 'stats'],
    results.seed.map((r, i) => ({
      ok: !r.error,
      'guest variant': r.guest,
      allocator: VARIANTS[i].allocator,
      'result or error': r.error ? `${r.error.name}: ${r.error.message}` : r.result,
      'memory bytes before → after': `${r.bytesBefore} → ${r.bytesAfter}`,
      generation: r.generationBefore === null ? '—' : `${r.generationBefore} → ${r.generationAfter}`,
      stats: formatStats(r.stats),
    })));
  fillTable('module', ['guest variant', 'view mode', 'result or error', 'memory bytes before → after', 'generation'],
    results.module.map((r) => ({
      ok: !r.error,
      'guest variant': r.guest,
      'view mode': r.mode,
      'result or error': r.error ? `${r.error.name}: ${r.error.message}` : r.result,
      'memory bytes before → after': `${r.bytesBefore} → ${r.bytesAfter}`,
      generation: `${r.generationBefore} → ${r.generationAfter}`,
    })));
  for (const [key, check] of [['resizable', resizableCheck], ['bindgen', bindgenCheck], ['shared', sharedCheck]]) {
    try {
      results[key] = await check();
    } catch (err) {
      results[key] = { error: plainError(err), stack: String(err.stack) };
    }
  }
  document.getElementById('checks').textContent = JSON.stringify(
    { resizable: results.resizable, bindgen: results.bindgen, shared: results.shared }, null, 2);
  return results;
}

main().then(
  (results) => {
    window.nogrowResults = results;
    document.getElementById('status').textContent = 'done';
  },
  (err) => {
    window.nogrowResults = { fatal: plainError(err), stack: String(err.stack) };
    document.getElementById('status').textContent = `failed: ${formatError(err)}`;
  },
).finally(() => {
  document.documentElement.dataset.done = '1';
});
