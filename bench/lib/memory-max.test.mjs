// Tests of the memory-maximum rewrite (lib/memory-max.mjs) on hand-made
// modules whose limits an engine then enforces. Run by `cargo xtask bench
// --smoke` (node --test bench/lib/memory-max.test.mjs).

import assert from 'node:assert/strict';
import { test } from 'node:test';

import { memoryLimits, readU32, withMaxPages, writeU32 } from './memory-max.mjs';

/** A module exporting `memory` (limits as given) and `grow(n) -> old size`,
 * with a custom section first, so the rewrite must skip sections by size. */
function module(initial, maximum) {
  const limits = maximum == null ? [0, ...writeU32(initial)] : [1, ...writeU32(initial), ...writeU32(maximum)];
  const section = (id, body) => [id, ...writeU32(body.length), ...body];
  const name = [...Buffer.from('pad')];
  return new Uint8Array([
    0, 0x61, 0x73, 0x6d, 1, 0, 0, 0,
    ...section(0, [name.length, ...name, ...new Array(200).fill(7)]),
    ...section(1, [1, 0x60, 1, 0x7f, 1, 0x7f]), // type: (i32) -> i32
    ...section(3, [1, 0]), // one function of type 0
    ...section(5, [1, ...limits]),
    ...section(7, [2, 6, ...Buffer.from('memory'), 2, 0, 4, ...Buffer.from('grow'), 0, 0]),
    ...section(10, [1, 6, 0, 0x20, 0, 0x40, 0, 0x0b]), // local.get 0; memory.grow; end
  ]);
}

test('LEB128 round-trips at the length boundaries', () => {
  for (const v of [0, 1, 127, 128, 16383, 16384, 65536, 2 ** 21, 2 ** 28, 0xffff_ffff]) {
    const b = writeU32(v);
    assert.deepEqual(readU32(b, 0), { value: v, next: b.length });
  }
  assert.deepEqual(writeU32(624), [0xf0, 0x04]);
  assert.throws(() => readU32([0x80, 0x80], 0));
});

test('the rewritten maximum is what the engine enforces', () => {
  for (const [initial, max, want] of [[1, null, 3], [2, 65536, 2], [1, 2, 200], [100, 200, 130]]) {
    const bytes = withMaxPages(module(initial, max), want);
    assert.deepEqual(memoryLimits(bytes), { initial, maximum: want });
    const e = new WebAssembly.Instance(new WebAssembly.Module(bytes), {}).exports;
    assert.equal(e.memory.buffer.byteLength, initial * 65536);
    assert.equal(e.grow(want - initial), initial, 'can grow to the maximum');
    assert.equal(e.grow(1), -1, 'cannot grow past it');
  }
});

test('a maximum below the initial size is refused', () => {
  assert.throws(() => withMaxPages(module(4, 10), 3), /below the initial/);
  assert.throws(() => memoryLimits(new Uint8Array([1, 2, 3, 4, 5, 6, 7, 8])), /not a wasm module/);
});
