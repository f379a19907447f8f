// The wasm-bindgen guest (nogrow Signal under wasm-bindgen's generated glue)
// in Node 20, with js/nogrow.mjs attached to the same instance: strings cross
// through the glue while memory grows, and the module's views stay valid.
// Needs `cargo xtask build-guests` first (web target, loaded with initSync).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { attach } from '../nogrow.mjs';

const dir = new URL('../../target/guests/greet-bindgen/', import.meta.url);
const glue = await import(new URL('greet-bindgen.js', dir));
const wasm = glue.initSync({ module: readFileSync(new URL('greet-bindgen_bg.wasm', dir)) });
const nv = attach(wasm);

test('the glue and js/nogrow.mjs share one instance; Node 20 keeps fixed views', () => {
  assert.equal(nv.exports, wasm);
  assert.equal(nv.mode, 'fixed');
  assert.equal(nv.stats().abiVersion, 1);
});

test('greet round-trips JS strings through the glue', () => {
  assert.equal(glue.greet('Ahoy there', 'Testy McTestface'), 'Ahoy there, Testy McTestface!');
  assert.equal(glue.greet('Grüß', '世界 🦀'), 'Grüß, 世界 🦀!');
});

test('a large String built in the guest grows memory; the glue and the module both keep working', () => {
  const events = [];
  const off = nv.onGrow((ev) => events.push(ev));
  const u8Before = nv.u8;
  const genBefore = glue.generation();
  const bytesBefore = nv.byteLength;
  const out = glue.shout_many('Testy McTestface', 200_000);
  const line = 'AHOY THERE, TESTY MCTESTFACE!\n';
  assert.equal(out.length, line.length * 200_000);
  assert.equal(out.slice(0, line.length), line);
  assert.equal(out.slice(-line.length), line);
  assert.ok(nv.byteLength > bytesBefore, 'memory grew');
  assert.ok(glue.generation() > genBefore, 'nogrow bumped the generation');
  assert.equal(u8Before.length, 0, 'a view made before is detached');
  assert.equal(nv.u8.length, nv.byteLength, 'the module renewed its view');
  assert.equal(nv.generation, glue.generation());
  assert.equal(events.length, 1, 'noticed on the first view read after the call');
  assert.equal(nv.stats().policy, 'Signal');
  off();
  // The glue still passes strings after the growth (its own byteLength check).
  const text = 'héllo wörld '.repeat(50_000);
  assert.equal(glue.word_stats(text), `100000 words, ${new TextEncoder().encode(text).length} bytes`);
});

test('the module reads a string the glue wrote into guest memory', () => {
  // __wbindgen_malloc is the glue's allocator export: a buffer from nogrow's arena.
  const ptr = wasm.__wbindgen_malloc(32, 1) >>> 0;
  const n = nv.writeString(ptr, 'Testy McTestface', 32);
  assert.equal(nv.readString(ptr, n), 'Testy McTestface');
  assert.ok(nv.stats().inUse >= 32);
  wasm.__wbindgen_free(ptr, 32, 1);
});
