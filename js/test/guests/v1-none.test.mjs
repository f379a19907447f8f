// The `no_std` guest built for wasm32v1-none (WebAssembly 1.0, no std, no
// libc) under nogrow's Fail policy, in real Node: a few hundred KiB of Vec,
// String and BTreeMap churn per call, results checked against the same
// computation in JS, and a view made at instantiation valid throughout.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { STATE_OFFSETS as O } from '../../nogrow.mjs';

const url = new URL('../../../target/guests/v1-none.wasm', import.meta.url);

// What `churn(n)` computes (guests/v1-none/src/lib.rs), written again in JS.
function expected(n) {
  const map = new Map();
  for (let i = 0; i < n; i++) {
    const key = (i * 7919) % n;
    map.set(key, key.toString(16).padStart(8, '0').repeat((key % 7) + 1));
  }
  const keys = [...map.keys()].filter((k) => k % 3 !== 0).sort((a, b) => a - b);
  const text = keys.map((k) => map.get(k)).join(',');
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h = Math.imul(h ^ text.charCodeAt(i), 0x01000193) >>> 0;
  }
  return h;
}

test('wasm32v1-none Fail guest: churn is correct, memory never grows, the first view stays valid', async () => {
  const { instance } = await WebAssembly.instantiate(readFileSync(url), {});
  const e = instance.exports;
  const view = new Uint8Array(e.memory.buffer);
  const bytes = e.memory.buffer.byteLength;
  const state = new Uint32Array(e.memory.buffer, e.nogrow_state(), 19);
  const word = (offset) => state[offset / 4];
  assert.equal(word(O.policy), 1, 'policy Fail');

  let peak = 0;
  for (const n of [1, 2, 3, 100, 2000, 8000, 8000, 12000, 500]) {
    assert.equal(e.churn(n) >>> 0, expected(n), `churn(${n})`);
    assert.equal(e.memory.buffer.byteLength, bytes, `memory unchanged after churn(${n})`);
    assert.equal(view.length, bytes, 'the view made at instantiation is not detached');
    peak = Math.max(peak, word(O.peakInUse));
  }
  assert.ok(peak > 256 << 10, `a few hundred KiB at once (peak in use: ${peak} bytes)`);
  assert.equal(word(O.inUse), 0, 'everything was freed');
  assert.ok(word(O.allocs) > 50000, `allocations: ${word(O.allocs)}`);
  assert.equal(word(O.failures), 0);
  assert.equal(word(O.growths), 0);
  assert.equal(e.nogrow_generation(), 0);
  // The state block is read through the same view's buffer.
  assert.equal(view[e.nogrow_state() + O.policy], 1);
});
