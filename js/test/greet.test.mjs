// The greeting guests in Node 20: the exact seed scenario for every variant,
// memory sizes, Signal under pressure, and the out-of-memory error text.
// Needs `cargo xtask build-guests` first.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import {
  VARIANTS, GREETING, seedScenario, moduleScenario, pressureScenario,
} from '../../examples/greet.mjs';
import { attach, OutOfHeapMemory } from '../nogrow.mjs';

const load = (name) => readFileSync(new URL(`../../target/guests/${name}.wasm`, import.meta.url));
const variant = (name) => VARIANTS.find((v) => v.name === name);
const DETACHED = 'Cannot perform %TypedArray%.prototype.slice on a detached ArrayBuffer';

test('std control: format! grows memory and the view made before set_name throws the detached TypeError', async () => {
  const r = await seedScenario(variant('greet-std'), load('greet-std'));
  assert.ok(r.error instanceof TypeError, `expected a TypeError, got ${r.error} / ${r.result}`);
  assert.equal(r.error.message, DETACHED);
  assert.ok(r.bytesAfter > r.bytesBefore, `dlmalloc grew memory: ${r.bytesBefore} -> ${r.bytesAfter}`);
  assert.equal(r.viewDetached, true);
});

for (const name of ['greet-noalloc', 'greet-wat', 'greet-fail', 'greet-reserve', 'greet-reserve-link', 'greet-signal']) {
  test(`${name}: the seed scenario returns the greeting through the view made before set_name`, async () => {
    const r = await seedScenario(variant(name), load(name));
    assert.equal(r.error, null, `unexpected ${r.error}`);
    assert.equal(r.result, GREETING);
    assert.equal(r.viewDetached, false);
    assert.equal(r.bytesAfter, r.bytesBefore, 'memory.buffer.byteLength unchanged by set_name');
  });
}

for (const name of ['greet-fail', 'greet-reserve-link']) {
  test(`${name}: Fail never grows: byteLength and generation unchanged, no growth recorded`, async () => {
    const r = await seedScenario(variant(name), load(name));
    assert.equal(r.bytesAfter, r.bytesBefore);
    assert.equal(r.generationAfter, 0);
    assert.equal(r.stats.policy, 'Fail');
    assert.equal(r.stats.growths, 0);
    assert.equal(r.stats.allocs, 1, 'format! allocated from the arena');
  });
}

test('greet-reserve-link: the heap is the linker heap plus the arena, inside --initial-memory', async () => {
  const r = await seedScenario(variant('greet-reserve-link'), load('greet-reserve-link'));
  assert.equal(r.bytesBefore, 2097152, 'linked with --initial-memory=2097152');
  assert.ok(r.stats.heapBytes > 64 << 10, `heap ${r.stats.heapBytes} includes the linker heap`);
});

test('greet-reserve: nogrow_reserve(0) right after instantiation grows once by 16 pages, then byteLength stays', async () => {
  const bytes = load('greet-reserve');
  const { instance } = await WebAssembly.instantiate(bytes, {});
  const initial = instance.exports.memory.buffer.byteLength;
  const r = await seedScenario(variant('greet-reserve'), bytes);
  assert.equal(r.reserve, 0);
  assert.equal(r.bytesBefore, initial + 16 * 65536, 'the reserve grew 16 pages');
  assert.equal(r.bytesAfter, r.bytesBefore, 'unchanged after the reserve');
  assert.equal(r.generationBefore, 1);
  assert.equal(r.generationAfter, 1);
  assert.equal(r.stats.reserveStatus, 1);
  assert.equal(r.stats.growths, 1);
});

test('greet-reserve when the host skips nogrow_reserve: the lazy reserve on the first allocation detaches the view, and the generation says so', async () => {
  const r = await seedScenario({ ...variant('greet-reserve'), reserve: false }, load('greet-reserve'));
  assert.equal(r.error?.message, DETACHED);
  assert.equal(r.bytesAfter - r.bytesBefore, 16 * 65536, 'the 16-page reserve happened inside set_name');
  assert.equal(r.generationBefore, 0);
  assert.equal(r.generationAfter, 1);
  assert.equal(r.stats.reserveStatus, 1);
});

test('greet-std through js/nogrow.mjs: the module renews its views, so even the control returns the greeting', async () => {
  const r = await moduleScenario(variant('greet-std'), load('greet-std'));
  assert.equal(r.error, null, `unexpected ${r.error}`);
  assert.equal(r.result, GREETING);
  assert.ok(r.bytesAfter > r.bytesBefore);
  assert.equal(r.generationAfter, 1, 'the module counted the growth');
});

test('greet-signal under pressure: memory grows, the generation bumps, module views stay valid across it', async () => {
  const r = await pressureScenario(variant('greet-signal'), load('greet-signal'), 100_000);
  assert.equal(r.error, null, `unexpected ${r.error}`);
  assert.equal(r.intact, true, 'the 2.9 MB string read back through nv.u8');
  assert.ok(r.bytesAfter > r.bytesBefore);
  assert.ok(r.generationAfter > r.generationBefore, `generation ${r.generationBefore} -> ${r.generationAfter}`);
  // In 'fixed' mode (Node 20) a plain view made before the call is detached; in
  // 'resizable' mode (engines with toResizableBuffer) it tracks the growth.
  assert.equal(r.rawViewDetached, r.mode === 'fixed');
  assert.equal(r.growths.length, 1);
  assert.deepEqual(r.growths[0], { oldBytes: r.bytesBefore, newBytes: r.bytesAfter, generation: r.generationAfter });
  assert.equal(r.stats.growths, r.generationAfter);
});

test('greet-fail out of arena: the trap becomes an OutOfHeapMemory with the last-failure record', async () => {
  const r = await pressureScenario(variant('greet-fail'), load('greet-fail'), 1_000_000);
  assert.ok(r.error instanceof OutOfHeapMemory, `expected OutOfHeapMemory, got ${r.error}`);
  assert.equal(
    r.error.message,
    'out of heap memory: requested 29000000 bytes (align 1); heap 262144, in use 0; policy Fail — raise the arena or use Reserve',
  );
  assert.ok(r.error.cause instanceof WebAssembly.RuntimeError);
  assert.match(r.error.cause.message, /unreachable/);
  assert.equal(r.error.failure.size, 29_000_000);
  assert.equal(r.bytesAfter, r.bytesBefore, 'Fail did not grow');
  assert.equal(r.stats.failures, 1);
});

test('greet-fail out of arena without wrap: a bare RuntimeError, but the failure is still on record', async () => {
  const { instance } = await WebAssembly.instantiate(load('greet-fail'), {});
  const nv = attach(instance);
  const e = instance.exports;
  e.set_name(nv.writeString(e.get_salutation_ptr(), 'Ahoy'), nv.writeString(e.get_name_ptr(), 'you'));
  assert.equal(nv.lastFailure(), null);
  assert.throws(() => e.repeat_greeting(1_000_000), { name: 'RuntimeError', message: /unreachable/ });
  const f = nv.lastFailure();
  assert.notEqual(f, null);
  assert.equal(f.size, 'Ahoy, you!'.length * 1_000_000);
  assert.equal(f.policy, 'Fail');
  assert.equal(f.heapBytes, 262144);
});

test('greet-reserve out of arena: the hint names the Reserve policy', async () => {
  const r = await pressureScenario(variant('greet-reserve'), load('greet-reserve'), 1_000_000);
  assert.ok(r.error instanceof OutOfHeapMemory, `expected OutOfHeapMemory, got ${r.error}`);
  assert.match(r.error.message, /^out of heap memory: requested 29000000 bytes \(align 1\); heap 1114112, in use 0; policy Reserve — /);
});
