// A wasm-bindgen guest under nogrow's Fail policy that keeps JS values alive
// across calls (guests/bindgen-handles) in Node 20: linear memory never
// grows, but every live JsValue is a slot of wasm-bindgen's externref table
// `__wbindgen_externrefs`, which its glue grows with `table.grow`. Sizing the
// table up front with the guest's `reserve_handles(n)` keeps its length
// constant; a larger initial table does not. Needs `cargo xtask build-guests`
// first (web target, loaded with initSync).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { attach } from '../../nogrow.mjs';

const dir = new URL('../../../target/guests/bindgen-handles/', import.meta.url);
const bytes = readFileSync(new URL('bindgen-handles_bg.wasm', dir));

// wasm-bindgen 0.2.130's layout: slots 0..1024 are the stack of borrowed
// values, 1024..1028 hold undefined, null, true, false; the guest has no
// `static_string` constants, so the table starts with 1028 slots.
const FIXED_SLOTS = 1028;

// The glue keeps one instance per ES module: a fresh import per instance.
let instances = 0;
async function instantiate() {
  instances += 1;
  const glue = await import(new URL(`bindgen-handles.js?instance=${instances}`, dir));
  const wasm = glue.initSync({ module: bytes });
  return { glue, wasm, table: wasm.__wbindgen_externrefs, memory: wasm.memory };
}

// The slab's slot capacity after holding `live` values at once, from
// `Slab::alloc` (wasm-bindgen src/externref.rs): when the free list is empty
// and the Vec is full, `table.grow` by max(128, len) and reserve as many.
function slabCapacity(live) {
  let cap = 0;
  while (cap < live) cap += Math.max(128, cap);
  return cap;
}

// Keeps 10 000 distinct objects (one call each), reads them all back, drops
// every other one, keeps 5 000 more and reads the live ones back again.
// `observe` runs after every call; returns how many calls were made.
function workload({ glue }, observe) {
  const kept = new Map(); // id -> object
  let calls = 0;
  const call = (f) => {
    const r = f();
    calls += 1;
    observe();
    return r;
  };
  for (let i = 0; i < 10_000; i++) {
    const obj = { i, tag: `first ${i}` };
    const id = call(() => glue.keep(obj));
    assert.ok(!kept.has(id), `fresh id ${id}`);
    kept.set(id, obj);
  }
  assert.equal(call(() => glue.count()), 10_000);
  for (const [id, obj] of kept) assert.equal(call(() => glue.get(id)), obj);
  const dropped = [];
  for (const id of [...kept.keys()].filter((id) => id % 2 === 0)) {
    assert.equal(call(() => glue.drop_handle(id)), true);
    kept.delete(id);
    dropped.push(id);
  }
  assert.equal(call(() => glue.count()), 5_000);
  for (let i = 0; i < 5_000; i++) {
    const obj = { i, tag: `second ${i}` };
    const id = call(() => glue.keep(obj));
    kept.set(id, obj);
  }
  assert.equal(call(() => glue.count()), 10_000);
  for (const [id, obj] of kept) assert.equal(call(() => glue.get(id)), obj);
  assert.equal(call(() => glue.live_handles()), 10_000, 'one table slot per kept value');
  assert.equal(call(() => glue.drop_handle(1_000_000)), false);
  assert.equal(call(() => glue.get(1_000_000)), undefined);
  return calls;
}

// Runs the workload on `inst`, recording the table's length and the memory's
// byteLength after every call, and checks what Fail promises for memory.
function measured(inst) {
  const nv = attach(inst.wasm);
  const view = new Uint8Array(inst.memory.buffer);
  const bytesAtStart = inst.memory.buffer.byteLength;
  const tableLengths = [inst.table.length];
  const byteLengths = new Set([bytesAtStart]);
  const calls = workload(inst, () => {
    const len = inst.table.length;
    if (len !== tableLengths.at(-1)) tableLengths.push(len);
    byteLengths.add(inst.memory.buffer.byteLength);
  });
  assert.deepEqual([...byteLengths], [bytesAtStart], 'memory.buffer.byteLength never changed');
  assert.equal(view.length, bytesAtStart, 'the view made at the start is still attached');
  assert.equal(inst.glue.generation(), 0);
  const s = nv.stats();
  assert.equal(s.policy, 'Fail');
  assert.equal(s.growths, 0);
  assert.equal(nv.mode, 'fixed');
  return { calls, tableLengths, bytes: bytesAtStart };
}

test('default glue: 10 000 kept JsValues leave memory fixed, but the externref table grows', async (t) => {
  const inst = await instantiate();
  assert.equal(inst.table.length, FIXED_SLOTS);
  const { calls, tableLengths, bytes: memBytes } = measured(inst);
  t.diagnostic(`calls: ${calls}; memory: ${memBytes} bytes (${memBytes / 65536} pages) throughout`);
  t.diagnostic(`externref table length: ${tableLengths.join(' -> ')}`);
  // Grown by the slab's rule, one table.grow per step: 1028 -> 1156 -> 1284
  // -> 1540 -> ... -> 17412 for a peak of 10 001 live values (10 000 kept
  // plus the clone `get` returns).
  const expected = [FIXED_SLOTS];
  for (let cap = 0; cap < 10_001; cap += Math.max(128, cap)) {
    expected.push(FIXED_SLOTS + cap + Math.max(128, cap));
  }
  assert.deepEqual(tableLengths, expected);
  assert.equal(tableLengths.at(-1), FIXED_SLOTS + slabCapacity(10_001));
});

test('reserve_handles(12 000) up front sizes the table in one call; its length stays constant across the same run', async (t) => {
  const inst = await instantiate();
  assert.equal(inst.table.length, FIXED_SLOTS);
  const bytesBefore = inst.memory.buffer.byteLength;
  assert.equal(inst.glue.reserve_handles(12_000), 0, 'every reserved value released');
  const sized = inst.table.length;
  assert.equal(sized, FIXED_SLOTS + slabCapacity(12_000));
  const { calls, tableLengths, bytes: memBytes } = measured(inst);
  t.diagnostic(`after reserve_handles(12000): table length ${sized}`);
  t.diagnostic(`calls: ${calls}; memory: ${memBytes} bytes throughout; table length: ${tableLengths.join(' -> ')}`);
  assert.deepEqual(tableLengths, [sized], 'no table.grow during the run');
  assert.equal(memBytes, bytesBefore, 'the reservation grew no memory either');
});

test('reserve_handles(100) leaves 128 free slots: 128 live values fit, the 129th grows the table', async () => {
  const inst = await instantiate();
  inst.glue.reserve_handles(100);
  const sized = inst.table.length;
  assert.equal(sized, FIXED_SLOTS + 128);
  for (let i = 0; i < 128; i++) inst.glue.keep({ i });
  assert.equal(inst.table.length, sized, '128 live values fit');
  inst.glue.keep({ i: 128 });
  assert.equal(inst.table.length, sized + 128, 'the 129th grows the table by max(128, 128)');
});

test('slots beyond the table wasm-bindgen made are never used: a bigger table still grows', async (t) => {
  // The slab learns its slots only from its own table.grow, whose result (the
  // old length) becomes its base: slots that exist before its first grow
  // (here grown by the host; a larger initial size in the module is the
  // same) stay empty, and the first kept value grows the table anyway.
  const inst = await instantiate();
  const unused = { unused: true };
  assert.equal(inst.table.grow(4096, unused), FIXED_SLOTS);
  const bigger = inst.table.length;
  for (let i = 0; i < 200; i++) inst.glue.keep({ i });
  t.diagnostic(`table of ${bigger} before the first value; after 200 kept: ${inst.table.length}`);
  assert.equal(inst.table.length, bigger + 256);
  for (let slot = FIXED_SLOTS; slot < bigger; slot++) assert.equal(inst.table.get(slot), unused);
  assert.equal(inst.glue.live_handles(), 200);
});

test('growing the table from the host after the first value makes the next table.grow trap', async () => {
  // Slab::alloc checks that its new slots follow its old ones ("someone else
  // allocated table entries?") and aborts otherwise: the host must not grow
  // this table once wasm-bindgen has.
  const inst = await instantiate();
  inst.glue.keep({ first: true });
  assert.equal(inst.table.length, FIXED_SLOTS + 128);
  inst.table.grow(1);
  for (let i = 1; i < 128; i++) inst.glue.keep({ i });
  assert.throws(() => inst.glue.keep({ i: 128 }), WebAssembly.RuntimeError);
});
