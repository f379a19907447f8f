// The heavy guest under each policy, in real Node: views taken right after
// instantiation (and after the reserve call) survive every later allocation.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';

const dir = new URL('../../../target/guests/', import.meta.url);
async function load(name) {
  const bytes = readFileSync(new URL(`${name}.wasm`, dir));
  const { instance } = await WebAssembly.instantiate(bytes, {});
  return instance.exports;
}
const state = (e) => new Uint32Array(e.memory.buffer, e.nogrow_state(), 19);

test('Fail: a view made at instantiation survives heavy allocation; memory never grows', async () => {
  const e = await load('heavy-fail');
  assert.equal(state(e)[2], 1, 'the policy is readable before the first allocation');
  const view = new Uint8Array(e.memory.buffer);
  const bytes = view.length;
  const ok = e.heavy(1500);
  assert.ok(ok > 100, `allocations: ${ok}`);
  assert.equal(view.length, bytes, 'the view is not detached');
  assert.equal(e.memory.buffer.byteLength, bytes);
  assert.equal(e.nogrow_generation(), 0);
  // Past the 2 MiB arena: fails cleanly (try_reserve), still no growth.
  e.heavy(8000);
  assert.equal(view.length, bytes);
  const s = state(e);
  assert.equal(s[2], 1, 'policy Fail');
  assert.ok(s[10] >= 1, 'the failure was recorded');
  assert.equal(s[11], 0, 'no growths');
});

test('Reserve: the host reserves right after instantiation, then views survive everything', async () => {
  const e = await load('heavy-reserve');
  assert.equal(e.nogrow_reserve(0), 0, 'reserve succeeds');
  const view = new Uint8Array(e.memory.buffer);
  const bytes = view.length;
  assert.equal(e.nogrow_reserve(0), -2, 'a second reserve is refused: already reserved');
  e.heavy(1500);
  e.heavy(8000); // past the arena + reserve: fails cleanly
  assert.equal(view.length, bytes, 'the view taken after the reserve call is still attached');
  assert.equal(e.memory.buffer.byteLength, bytes);
  const s = state(e);
  assert.equal(s[2], 2, 'policy Reserve');
  assert.equal(s[11], 1, 'exactly one growth: the reserve');
});

test('Reserve: a reserve beyond 4 GiB fails with -4 and claims nothing', async () => {
  const e = await load('heavy-reserve');
  const before = e.memory.buffer.byteLength;
  assert.equal(e.nogrow_reserve(70000), -4, 'beyond 4 GiB');
  assert.equal(e.memory.buffer.byteLength, before);
  assert.equal(e.nogrow_generation(), 0);
});

test('Signal: growth detaches raw views and bumps the generation once per growth', async () => {
  const e = await load('heavy-signal');
  const view = new Uint8Array(e.memory.buffer);
  const gen0 = e.nogrow_generation();
  e.heavy(6000);
  const s = state(e);
  assert.ok(s[11] >= 1, 'Signal grew');
  assert.equal(e.nogrow_generation() - gen0, s[11], 'generation delta = growths');
  assert.equal(view.length, 0, 'a raw view over the old buffer is detached: the host must renew it');
});

test('generation notices growth done by the host', async () => {
  const e = await load('heavy-fail');
  const g = e.nogrow_generation();
  e.memory.grow(1);
  assert.equal(e.nogrow_generation(), g + 1);
  assert.equal(e.nogrow_generation(), g + 1, 'counted once');
});

test('Reserve: a reserve the engine refuses (module maximum) returns -5, claims nothing, and can be retried smaller', async () => {
  const e = await load('heavy-reserve-max');
  const pages = e.memory.buffer.byteLength / 65536;
  assert.ok(pages + 32 > 32, 'the compile-time reserve does not fit under the 32-page maximum');
  assert.equal(e.nogrow_reserve(0), -5);
  assert.equal(e.memory.buffer.byteLength / 65536, pages, 'nothing grew');
  const s = state(e);
  assert.equal(s[11], 0, 'no growths');
  assert.equal(s[16] | 0, -5, 'reserve_status says why');
  assert.equal(e.nogrow_reserve(32 - pages), 0, 'a reserve that fits succeeds');
  assert.equal(e.memory.buffer.byteLength / 65536, 32);
  assert.equal(e.nogrow_reserve(1), -2);
});

test('host-notify: the host hook runs once per growth, after the generation bump', async () => {
  const calls = [];
  let e;
  const bytes = readFileSync(new URL('heavy-signal-notify.wasm', dir));
  const { instance } = await WebAssembly.instantiate(bytes, {
    nogrow: {
      memory_grown(oldPages, newPages) {
        // Inside the hook: memory already has the new size, and the
        // generation (read without blocking) already counts this growth.
        calls.push({ oldPages, newPages, now: e.memory.buffer.byteLength / 65536, gen: e.nogrow_generation() });
      },
    },
  });
  e = instance.exports;
  e.heavy(6000);
  const s = state(e);
  assert.ok(calls.length >= 1);
  assert.equal(calls.length, s[11], 'one call per growth');
  calls.forEach((c, i) => {
    assert.equal(c.now, c.newPages);
    assert.ok(c.newPages > c.oldPages);
    assert.equal(c.gen, i + 1, 'the generation was bumped before the hook ran');
  });
});

test('host-notify: the hook may call an allocating export (it runs after nogrow released its lock)', async () => {
  let e;
  let inner = null;
  const bytes = readFileSync(new URL('heavy-signal-notify.wasm', dir));
  const { instance } = await WebAssembly.instantiate(bytes, {
    nogrow: {
      memory_grown() {
        // Once: allocate from inside the hook, through the same allocator.
        if (inner === null) inner = e.heavy(64);
      },
    },
  });
  e = instance.exports;
  const ok = e.heavy(6000);
  assert.ok(ok > 0);
  assert.ok(inner > 0, `the allocation inside the hook succeeded (${inner})`);
  const s = state(e);
  assert.ok(s[11] >= 1, 'memory grew');
  assert.equal(s[5], 0, 'everything freed: in_use is 0');
  assert.equal(e.heavy(100) > 0, true, 'still usable');
});

test('host-notify: a hook that throws leaves the allocator usable', async () => {
  let e;
  let thrown = 0;
  const bytes = readFileSync(new URL('heavy-signal-notify.wasm', dir));
  const { instance } = await WebAssembly.instantiate(bytes, {
    nogrow: {
      memory_grown() {
        if (thrown === 0) {
          thrown++;
          throw new Error('hook failed');
        }
      },
    },
  });
  e = instance.exports;
  assert.throws(() => e.heavy(6000), /hook failed/);
  // The lock was released before the hook ran: later calls allocate, grow
  // and free as usual (what the interrupted call held is leaked).
  const ok = e.heavy(6000);
  assert.ok(ok > 0, `a later call allocated ${ok} blocks`);
  const s = state(e);
  assert.ok(s[11] >= 2, `memory grew again (${s[11]} growths)`);
  assert.equal(e.nogrow_generation(), s[11]);
});

test('growth by the host before the first call is counted from instantiation', async () => {
  const e = await load('heavy-fail');
  e.memory.grow(2); // before nogrow ever ran
  e.heavy(100); // the first allocation looks at memory
  assert.equal(state(e)[0], 1, 'the state block already says one change');
  assert.equal(e.nogrow_generation(), 1, 'and nogrow_generation() agrees');
  e.memory.grow(1); // between two calls
  e.heavy(100);
  assert.equal(e.nogrow_generation(), 2, 'each growth between calls once');
  assert.equal(e.nogrow_generation(), 2);
  assert.equal(state(e)[11], 0, 'nogrow itself never grew');
});

test('host-notify: growth by the host inside the hook is counted once, at the next look', async () => {
  let e;
  let grewInHook = false;
  const bytes = readFileSync(new URL('heavy-signal-notify.wasm', dir));
  const { instance } = await WebAssembly.instantiate(bytes, {
    nogrow: {
      memory_grown() {
        if (!grewInHook) {
          grewInHook = true;
          e.memory.grow(1);
        }
      },
    },
  });
  e = instance.exports;
  e.heavy(6000);
  const growths = state(e)[11];
  assert.ok(grewInHook && growths >= 1);
  assert.equal(e.nogrow_generation(), growths + 1, "nogrow's growths plus the hook's one");
  assert.equal(e.nogrow_generation(), growths + 1);
});
