// js/nogrow.mjs in Node 20 against real guests: view validity across growth
// (guest calls made directly, not through wrap, so only the getters can renew),
// the state block, onGrow, reserve, strings, wrap, and shared memory.
// Needs `cargo xtask build-guests` first.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import {
  attach, growthNotifier, NogrowError, OutOfHeapMemory, describeFailure, STATE_SIZE, STATE_OFFSETS,
  ABI_VERSION, POLICY_NAMES, restartable,
} from '../nogrow.mjs';

const load = (name) => readFileSync(new URL(`../../target/guests/${name}.wasm`, import.meta.url));
const instantiate = async (name) => (await WebAssembly.instantiate(load(name), {})).instance;

/** Sets the greeting, then makes the Signal guest grow memory (a direct, unwrapped call). */
function growSignal(instance, nv, times = 100_000) {
  const e = instance.exports;
  e.set_name(nv.writeString(e.get_salutation_ptr(), 'Ahoy there'), nv.writeString(e.get_name_ptr(), 'Testy McTestface'));
  const before = e.memory.buffer.byteLength;
  const len = e.repeat_greeting(times);
  assert.ok(e.memory.buffer.byteLength > before, 'the guest grew memory');
  return len;
}

// The tests below are about 'fixed' mode; newer Node versions have
// toResizableBuffer, where 'auto' would pick 'resizable' for greet-signal.
const FIXED = { resizable: false };
const HAS_RESIZABLE = typeof WebAssembly.Memory.prototype.toResizableBuffer === 'function';

test('attach accepts an Instance, its exports, or { instance }; without toResizableBuffer (Node 20) it picks fixed mode', async () => {
  const instance = await instantiate('greet-signal');
  const a = attach(instance, FIXED);
  const b = attach(instance.exports, FIXED);
  const c = attach({ instance }, FIXED);
  assert.equal(a.statePtr, instance.exports.nogrow_state());
  assert.equal(b.statePtr, a.statePtr);
  assert.equal(c.statePtr, a.statePtr);
  assert.equal(a.mode, 'fixed');
  assert.throws(() => attach({}), TypeError);
  const auto = attach(await instantiate('greet-signal'));
  if (HAS_RESIZABLE) {
    assert.equal(auto.mode, 'resizable', 'greet-signal declares a maximum');
  } else {
    assert.equal(auto.mode, 'fixed');
    assert.equal(auto.reason, 'engine has no toResizableBuffer');
    assert.throws(() => attach(instance, { resizable: true }), NogrowError);
  }
});

test('every view getter is valid after growth made by a direct guest call', async () => {
  const instance = await instantiate('greet-signal');
  const nv = attach(instance, FIXED);
  const scratch = (instance.exports.get_msg_ptr() + 64 + 7) & ~7; // 8-aligned, inside the 96-byte message buffer, past the greeting
  nv.f64[scratch / 8] = Math.PI;
  nv.i64[scratch / 8 + 1] = -5n;
  const old = { u8: nv.u8, f64: nv.f64, dv: nv.dataView };
  growSignal(instance, nv);
  assert.equal(old.u8.length, 0, 'the old views are detached');
  const bytes = instance.exports.memory.buffer.byteLength;
  for (const [name, T] of Object.entries({
    u8: Uint8Array, i8: Int8Array, u16: Uint16Array, i16: Int16Array, u32: Uint32Array, i32: Int32Array,
    f32: Float32Array, f64: Float64Array, u64: BigUint64Array, i64: BigInt64Array,
  })) {
    const v = nv[name];
    assert.ok(v instanceof T, name);
    assert.equal(v.buffer, instance.exports.memory.buffer, `${name} views the current buffer`);
    assert.equal(v.length, bytes / T.BYTES_PER_ELEMENT, `${name} covers all memory`);
  }
  assert.equal(nv.dataView.byteLength, bytes);
  assert.equal(nv.f64[scratch / 8], Math.PI, 'values written before growth read back');
  assert.equal(nv.i64[scratch / 8 + 1], -5n);
  assert.equal(nv.dataView.getFloat64(scratch, true), Math.PI);
  assert.equal(nv.u64[scratch / 8 + 1], 2n ** 64n - 5n);
});

test('dataView alone renews after growth (a detached DataView would throw)', async () => {
  const instance = await instantiate('greet-signal');
  const nv = attach(instance, FIXED);
  const dv = nv.dataView;
  growSignal(instance, nv);
  assert.throws(() => dv.getUint8(0), TypeError);
  assert.equal(nv.dataView.byteLength, instance.exports.memory.buffer.byteLength);
});

test('generation and stats decode the state block and match the guest', async () => {
  const instance = await instantiate('greet-signal');
  const e = instance.exports;
  const nv = attach(instance, FIXED);
  assert.equal(nv.stats().abiVersion, 1);
  assert.equal(nv.stats().policy, 'Signal', 'install! names the policy from the start');
  assert.equal(nv.generation, 0);
  growSignal(instance, nv);
  const s = nv.stats();
  assert.equal(nv.generation, e.nogrow_generation());
  assert.equal(s.generation, 1);
  assert.equal(s.policy, 'Signal');
  assert.equal(s.limitPages, 1024);
  assert.equal(s.growths, 1);
  assert.equal(s.pages * 65536, e.memory.buffer.byteLength);
  assert.equal(s.memoryBytes, e.memory.buffer.byteLength);
  assert.equal(s.inUse, 29 * 100_000, 'the kept repeated greeting');
  assert.ok(s.peakInUse >= s.inUse);
  assert.ok(s.heapBytes > 65536, 'arena plus grown pages');
  // Cross-check two fields against raw reads of the block.
  const dv = new DataView(e.memory.buffer, e.nogrow_state(), STATE_SIZE);
  assert.equal(dv.getUint32(STATE_OFFSETS.allocs, true), s.allocs);
  assert.equal(dv.getUint32(STATE_OFFSETS.heapBytes, true), s.heapBytes);
});

test("the JS layout is the one each real guest was built with (its nogrow.layout section)", () => {
  const camel = (name) => name.replace(/_([a-z])/g, (_, c) => c.toUpperCase());
  for (const name of ['greet-fail', 'greet-signal', 'heavy-reserve']) {
    const sections = WebAssembly.Module.customSections(new WebAssembly.Module(load(name)), 'nogrow.layout');
    assert.equal(sections.length, 1, `${name}: one layout section`);
    const [head, ...lines] = new TextDecoder().decode(sections[0]).trim().split('\n');
    assert.equal(head, `nogrow-layout ${ABI_VERSION}`, name);
    const fromGuest = Object.fromEntries(lines.map((l) => {
      const [field, offset] = l.split('=');
      return [camel(field), Number(offset)];
    }));
    // Every field, both ways: no field missing in JS, none extra.
    assert.deepEqual(fromGuest, { ...STATE_OFFSETS }, name);
    assert.equal(STATE_SIZE, 4 * lines.length, name);
  }
  assert.deepEqual(POLICY_NAMES.slice(1), ['Fail', 'Reserve', 'Signal']);
});

test('onGrow is told once per growth with sizes and generation; unsubscribe stops it', async () => {
  const instance = await instantiate('greet-signal');
  const nv = attach(instance, FIXED);
  const events = [];
  const off = nv.onGrow((ev) => events.push(ev));
  const before = nv.byteLength;
  growSignal(instance, nv);
  assert.equal(events.length, 0, 'nothing noticed yet: no view read, no wrapped call');
  void nv.u8;
  assert.equal(events.length, 1);
  assert.deepEqual(events[0], { oldBytes: before, newBytes: nv.byteLength, generation: 1 });
  assert.equal(nv.poll(), false, 'nothing new');
  off();
  const e = instance.exports;
  nv.wrap(e.repeat_greeting)(400_000);
  assert.equal(events.length, 1, 'unsubscribed');
  assert.equal(nv.generation, 2);
});

test('a wrapped call notices growth without any view read', async () => {
  const instance = await instantiate('greet-signal');
  const nv = attach(instance, FIXED);
  const events = [];
  nv.onGrow((ev) => events.push(ev));
  const e = nv.calls;
  e.set_name(nv.writeString(e.get_salutation_ptr(), 'Hi'), nv.writeString(e.get_name_ptr(), 'you'));
  e.repeat_greeting(1_000_000);
  assert.equal(events.length, 1);
  assert.equal(events[0].generation, 1);
});

test('reserve(): grows the Reserve guest once, then reports the guest codes as NogrowError', async () => {
  const r = attach(await instantiate('greet-reserve'));
  const before = r.byteLength;
  assert.equal(r.reserve(0), 16);
  assert.equal(r.byteLength, before + 16 * 65536);
  assert.equal(r.generation, 1);
  assert.throws(() => r.reserve(0), { name: 'NogrowError', code: -2, message: 'nogrow_reserve(0) failed: memory was already reserved once (code -2)' });
  const f = attach(await instantiate('greet-fail'));
  assert.throws(() => f.reserve(4), { name: 'NogrowError', code: -1, message: "nogrow_reserve(4) failed: the allocator's policy is not Reserve (code -1)" });
  assert.equal(f.stats().reserveStatus, -1);
  const w = attach(await instantiate('greet-wat'));
  assert.throws(() => w.reserve(), { name: 'NogrowError', message: /not a nogrow guest/ });
});

test('readString/writeString round-trip UTF-8, refuse what does not fit, and write nothing then', async () => {
  const instance = await instantiate('greet-fail');
  const nv = attach(instance, FIXED);
  const e = instance.exports;
  const text = 'Grüß Gott, 世界 🦀';
  const n = nv.writeString(e.get_msg_ptr(), text, 96);
  assert.equal(n, new TextEncoder().encode(text).length);
  assert.equal(nv.readString(e.get_msg_ptr(), n), text);
  nv.u8.fill(7, e.get_name_ptr(), e.get_name_ptr() + 16);
  assert.throws(() => nv.writeString(e.get_name_ptr(), 'Testy McTestface!', 16), RangeError);
  assert.deepEqual([...nv.u8.subarray(e.get_name_ptr(), e.get_name_ptr() + 16)], new Array(16).fill(7));
  assert.throws(() => nv.readString(nv.byteLength - 2, 3), RangeError);
  assert.throws(() => nv.writeString(nv.byteLength - 2, 'abc'), RangeError);
  // A greeting with non-ASCII parts through the guest's format!.
  const len = e.set_name(nv.writeString(e.get_salutation_ptr(), 'Grüß', 16), nv.writeString(e.get_name_ptr(), '世界', 16));
  assert.equal(nv.readString(e.get_msg_ptr(), len), 'Grüß, 世界!');
});

test('wrap passes other errors through unchanged and keeps `this` and the result', async () => {
  const nv = attach(await instantiate('greet-fail'));
  const boom = new TypeError('boom');
  assert.throws(() => nv.wrap(() => { throw boom; })(), (e) => e === boom);
  const obj = { k: 3, f(x) { return this.k + x; } };
  obj.g = nv.wrap(obj.f);
  assert.equal(obj.g(4), 7);
  assert.equal(nv.call('get_salutation_ptr'), nv.exports.get_salutation_ptr());
  assert.throws(() => nv.call('nope'), TypeError);
});

test('describeFailure names the policy and the remedy', () => {
  const f = { size: 10, align: 8, inUse: 3, heapBytes: 100 };
  assert.equal(describeFailure({ ...f, policy: 'Fail' }), 'out of heap memory: requested 10 bytes (align 8); heap 100, in use 3; policy Fail — raise the arena or use Reserve');
  assert.match(describeFailure({ ...f, policy: 'Signal', limitPages: 9 }), /policy Signal — growth refused \(limit 9 pages/);
  assert.match(describeFailure({ ...f, policy: null }), /policy unknown$/);
});

test('Signal out of its page limit: OutOfHeapMemory names the limit', async () => {
  const nv = attach(await instantiate('greet-signal'), FIXED);
  const e = nv.calls;
  e.set_name(nv.writeString(e.get_salutation_ptr(), 'Ahoy there'), nv.writeString(e.get_name_ptr(), 'Testy McTestface'));
  assert.throws(() => e.repeat_greeting(3_000_000), (err) => {
    assert.ok(err instanceof OutOfHeapMemory);
    assert.match(err.message, /^out of heap memory: requested 87000000 bytes \(align 1\); .*policy Signal — growth refused \(limit 1024 pages/);
    return true;
  });
});

test('restartable: after an out-of-memory trap the guest starts over on a clean instance', async () => {
  const restarted = [];
  const g = restartable(new WebAssembly.Module(load('greet-signal')), {}, {
    ...FIXED,
    onRestart: (err, views) => restarted.push([err, views]),
  });
  const greet = () => {
    const nv = g.views;
    const e = nv.exports;
    return g.call('set_name', nv.writeString(e.get_salutation_ptr(), 'Ahoy there'), nv.writeString(e.get_name_ptr(), 'Testy McTestface'));
  };
  greet();
  const first = g.views;
  assert.throws(() => g.call('repeat_greeting', 3_000_000), OutOfHeapMemory);
  assert.equal(g.restarts, 1);
  assert.notEqual(g.views, first, 'a new instance');
  assert.equal(restarted.length, 1);
  assert.ok(restarted[0][0] instanceof OutOfHeapMemory);
  assert.equal(g.views.stats().inUse, 0, 'nothing of the trapped call is left');
  assert.equal(g.views.stats().failures, 0);
  greet();
  assert.equal(g.call('repeat_greeting', 2), 58, 'the fresh guest works');
  assert.equal(first.stats().failures, 1, 'the old instance recorded its failure');
  assert.throws(() => g.call('no_such_export'), TypeError);
  assert.equal(g.restarts, 1, 'other errors do not restart');
});

test('guests without nogrow: no stats, generation counts the growths the module saw', async () => {
  const instance = await instantiate('greet-std');
  const nv = attach(instance, FIXED);
  assert.equal(nv.statePtr, null);
  assert.equal(nv.stats(), null);
  assert.equal(nv.lastFailure(), null);
  assert.equal(nv.generation, 0);
  const e = instance.exports;
  const len = e.set_name(nv.writeString(e.get_salutation_ptr(), 'Ahoy there'), nv.writeString(e.get_name_ptr(), 'Testy McTestface'));
  assert.equal(nv.readString(e.get_msg_ptr(), len), 'Ahoy there, Testy McTestface!');
  assert.equal(nv.generation, 1);
});

test('shared memory: views follow growth by comparing the generation read with Atomics.load', async () => {
  const instance = await instantiate('js-shared');
  const e = instance.exports;
  const nv = attach(instance, FIXED);
  assert.equal(nv.mode, 'shared');
  assert.ok(nv.u8.buffer instanceof SharedArrayBuffer);
  const events = [];
  nv.onGrow((ev) => events.push(ev));
  const stale = new Uint8Array(e.memory.buffer);
  const lenBefore = nv.u8.length;
  assert.equal(e.grow(3, 0x5eed), 2);
  assert.equal(stale.length, lenBefore, 'a shared view is not detached: it keeps its old length');
  assert.equal(nv.generation, 1);
  assert.equal(nv.u8.length, 5 * 65536, 'the module renewed its view');
  assert.equal(nv.u32[nv.u32.length - 1], 0x5eed, 'reads the new memory');
  assert.equal(nv.dataView.getUint32(5 * 65536 - 4, true), 0x5eed);
  assert.deepEqual(events, [{ oldBytes: 2 * 65536, newBytes: 5 * 65536, generation: 1 }]);
  const text = 'shared ✓';
  const n = nv.writeString(1024, text);
  assert.equal(nv.readString(1024, n), text, 'strings are copied out of shared memory for TextDecoder');
});

test('host-notify guests: with growthNotifier, listeners run inside each growth, before the guest call returns', async () => {
  const notifier = growthNotifier();
  const { instance } = await WebAssembly.instantiate(load('heavy-signal-notify'), notifier.imports);
  const nv = attach(instance, { ...FIXED, notifier });
  const events = [];
  nv.onGrow((ev) => events.push(ev));
  const before = nv.byteLength;
  const ok = instance.exports.heavy(6000); // a direct call: no view read, no wrap, no poll
  assert.ok(ok > 0);
  const s = nv.stats();
  assert.ok(s.growths >= 2, `several growths (${s.growths})`);
  assert.equal(events.length, s.growths, 'one event per growth, delivered during the call');
  assert.equal(events[0].oldBytes, before);
  for (let i = 0; i < events.length; i++) {
    assert.equal(events[i].generation, i + 1);
    if (i > 0) assert.equal(events[i].oldBytes, events[i - 1].newBytes);
  }
  assert.equal(events.at(-1).newBytes, instance.exports.memory.buffer.byteLength);
  assert.equal(nv.poll(), false, 'nothing left to notice');
});
