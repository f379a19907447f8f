// Threaded guests in Node worker_threads: one shared memory, the module
// instantiated in the main thread and in N workers, each with its own stack
// (and TLS block when the guest has thread-locals) from js/nogrow.mjs's
// instantiateShared/threadBlocks. Workers run random allocations, frees and
// reallocations and free blocks other workers allocated, all at once.
//
// Runs come from threads-run.mjs (THREADS_GUESTS_DIR, THREADS_OPS).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { attach, instantiateShared, threadBlocks, NogrowError } from '../../nogrow.mjs';
import { MEMORY, OPS, PAGE, load, run, runWorker } from './threads-run.mjs';

function checkCounts(r) {
  const after = r.nv.stats();
  const sum = (k) => r.reports.reduce((a, w) => a + w[k], 0);
  for (const w of r.reports) {
    assert.equal(w.violations, 0, `worker ${w.slot}: wrong bytes in its own blocks`);
    assert.equal(w.handoffViolations, 0, `worker ${w.slot}: wrong bytes in blocks another worker gave`);
  }
  assert.equal(sum('given'), sum('taken'), 'every block given was taken by another worker');
  assert.ok(sum('taken') > 0);
  assert.equal(after.allocs - r.before.allocs, sum('allocs'), 'state allocs = the workers\' allocations');
  assert.equal(after.frees - r.before.frees, sum('frees'), 'state frees = the workers\' frees');
  assert.equal(after.reallocs - r.before.reallocs, sum('reallocs'), 'state reallocs = the workers\' reallocations');
  assert.equal(after.inUse, r.before.inUse, 'everything the workers allocated was freed');
  assert.equal(after.failures, 0);
  return { after, ops: sum('ops'), allocs: sum('allocs') };
}

for (const workers of [2, 4]) {
  const opsPerWorker = workers === 4 ? OPS : Math.ceil(OPS / 4);

  test(`Fail, ${workers} workers: random ops and cross-worker frees, 0 violations, memory never grows`, async (t) => {
    const r = await run('nostd-fail', 'fail', { workers, opsPerWorker, giveEach: 16, giveMax: 4096 });
    const { after, ops } = checkCounts(r);
    assert.equal(r.memory.buffer.byteLength, r.bytesBefore, 'memory.size is constant');
    assert.equal(after.pages * PAGE, r.bytesBefore);
    assert.equal(after.growths, 0);
    assert.equal(after.generation, 0);
    for (const w of r.reports) assert.deepEqual(w.lengthsSeen, [r.bytesBefore]);
    t.diagnostic(`Fail, ${workers} workers: ${ops} random ops + ${r.reports.reduce((a, w) => a + w.taken, 0)} handoffs in ${r.ms.toFixed(0)} ms`);
  });

  test(`Reserve, ${workers} workers: one growth before the workers start, then memory.size is constant`, async (t) => {
    const r = await run('nostd-reserve', 'reserve', { workers, opsPerWorker, giveEach: 16, giveMax: 4096 });
    assert.equal(r.reserved, 0, 'the main thread\'s nogrow_reserve(0) reserved');
    const { after, ops } = checkCounts(r);
    assert.equal(r.bytesAfterReserve, MEMORY.reserve.maximum * PAGE, 'the reserve grew memory to the module maximum, before any allocation');
    assert.equal(r.bytesBefore, r.bytesAfterReserve, 'the thread blocks came from the reserved heap');
    assert.equal(r.memory.buffer.byteLength, r.bytesBefore, 'memory.size is constant after the reserve');
    assert.equal(after.pages * PAGE, r.bytesBefore);
    assert.equal(after.growths, 1, 'the reserve is the one growth');
    assert.equal(after.generation, 1);
    for (const w of r.reports) {
      assert.equal(w.reserveAgain, -2, `worker ${w.slot}: a second reserve is refused (already reserved)`);
      assert.deepEqual(w.lengthsSeen, [r.bytesBefore], `worker ${w.slot}: one view length`);
      assert.equal(w.generation, 1);
    }
    t.diagnostic(`Reserve, ${workers} workers: ${ops} random ops + ${r.reports.reduce((a, w) => a + w.taken, 0)} handoffs, ${MEMORY.reserve.initial} -> ${after.pages} pages before the workers, in ${r.ms.toFixed(0)} ms`);
  });

  for (const policy of ['signal', 'notify']) {
    test(`Signal${policy === 'notify' ? ' + host hook' : ''}, ${workers} workers: every worker's shared-mode views see growth at their next read`, async (t) => {
      // Blocks of up to 64 KiB in flight between workers outgrow the 1 MiB arena.
      const r = await run(`nostd-${policy}`, policy, { workers, opsPerWorker, giveEach: 12, giveMax: 64 << 10 });
      const { after, ops } = checkCounts(r);
      assert.ok(after.growths >= 1, `growths: ${after.growths}`);
      assert.equal(after.generation, after.growths, 'the generation counts each growth once');
      assert.equal(r.memory.buffer.byteLength, after.pages * PAGE);
      assert.ok(r.memory.buffer.byteLength > r.bytesBefore);
      for (const w of r.reports) {
        assert.equal(w.staleViews, 0, `worker ${w.slot}: a view shorter than the pages the state block reported`);
        assert.equal(w.finalLength, r.memory.buffer.byteLength, `worker ${w.slot}: final view length`);
        assert.equal(w.generation, after.generation);
        assert.equal(w.rawLength, w.rawAtStart, 'a plain view keeps the length it was made with');
      }
      if (policy === 'notify') {
        const calls = r.reports.reduce((a, w) => a + w.hookCalls, 0) + r.mainHook();
        assert.equal(calls, after.growths, 'the host hook ran once per growth, in the thread that grew');
      }
      t.diagnostic(`Signal${policy === 'notify' ? ' + hook' : ''}, ${workers} workers: ${ops} random ops, ${after.growths} growths (${r.bytesBefore / PAGE} -> ${after.pages} pages) in ${r.ms.toFixed(0)} ms`);
    });
  }
}

test('Signal + host hook: a hook that blocks for 3 s in one worker holds nobody up, and nobody traps', async (t) => {
  // The hook runs after nogrow released its lock: the other workers go on
  // allocating (and growing) while it blocks, and none of them is taken for
  // a re-entrant caller however long it takes.
  const workers = 3;
  const stallMs = 3000;
  const r = await run('nostd-notify', 'notify', { workers, opsPerWorker: 40000, giveEach: 12, giveMax: 64 << 10, hookStallMs: stallMs });
  const { after } = checkCounts(r);
  const stalled = r.reports.filter((w) => w.hookStalledMs > 0);
  assert.equal(stalled.length, 1, 'one hook call blocked');
  assert.ok(stalled[0].hookStalledMs >= stallMs - 50, `it blocked ${stalled[0].hookStalledMs.toFixed(0)} ms`);
  for (const w of r.reports) {
    assert.equal(w.violations + w.handoffViolations, 0, `worker ${w.slot}: no violation`);
    assert.equal(w.staleViews, 0);
  }
  const calls = r.reports.reduce((a, w) => a + w.hookCalls, 0) + r.mainHook();
  assert.equal(calls, after.growths, 'the hook ran once per growth');
  t.diagnostic(`${after.growths} growths; the blocked hook took ${stalled[0].hookStalledMs.toFixed(0)} ms; run ${r.ms.toFixed(0)} ms`);
});

test('Fail: a worker that traps out of memory leaves the lock free; the others carry on', async () => {
  const workers = 3;
  const module = load('nostd-fail');
  const memory = new WebAssembly.Memory({ ...MEMORY.fail, shared: true });
  const main = await instantiateShared(module, { memory });
  const nv = attach(main.exports, { memory });
  const threads = Array.from({ length: workers + 1 }, () => threadBlocks(main.exports, { stackBytes: 128 << 10 }));
  const before = nv.stats();
  const rings = Array.from({ length: workers }, () => new SharedArrayBuffer(2 * 4 * 256));
  const done = new SharedArrayBuffer(8);
  const grab = 16 << 20;
  const common = { module, memory, notify: false, workers, rounds: 40, opsPerRound: 2000, giveEach: 8, giveMax: 2048, done };
  const [oom, ...reports] = await Promise.all([
    runWorker({ ...common, thread: threads[workers], task: 'oom', slot: workers, seed: 5, others: workers, grab }),
    ...Array.from({ length: workers }, (_, i) =>
      runWorker({
        ...common, thread: threads[i], task: 'work', slot: i, seed: 77 + i,
        outbox: rings[i], inbox: rings[(i + workers - 1) % workers],
      }),
    ),
  ]);
  assert.ok(oom.error, 'the oversized grab trapped');
  assert.equal(oom.error.name, 'OutOfHeapMemory');
  assert.match(oom.error.cause, /unreachable/);
  assert.equal(oom.error.failure.size, grab, 'the last-failure record names the failing request');
  assert.match(oom.error.message, /requested 16777216 bytes/);
  assert.ok(oom.stackLeftAt < threads[workers].stackTop, 'the trap left the instance\'s stack pointer lowered');
  for (const w of reports) {
    assert.equal(w.violations + w.handoffViolations, 0);
    assert.equal(w.ops, 80000, `worker ${w.slot} finished its run`);
  }
  const after = nv.stats();
  assert.equal(after.failures - before.failures, 1);
  const sum = (k) => reports.reduce((a, w) => a + w[k], 0);
  assert.equal(after.allocs - before.allocs, sum('allocs'), 'the failed request allocated nothing');
  assert.equal(after.frees - before.frees, sum('frees'));
  assert.equal(after.inUse, before.inUse);
  // The lock is free: the main thread allocates and frees after it all.
  assert.equal(main.exports.work(15, 3, 1000), 0);
  assert.equal(memory.buffer.byteLength, MEMORY.fail.initial * PAGE);
});

test('instantiateShared: a module without atomics or a memory that is not shared is a NogrowError', async () => {
  const shared = new WebAssembly.Memory({ initial: 128, maximum: 128, shared: true });
  const plain = new WebAssembly.Memory({ initial: 128, maximum: 128 });
  // A threaded guest given an ordinary memory.
  await assert.rejects(instantiateShared(load('nostd-fail'), { memory: plain }), (e) =>
    e instanceof NogrowError && /memory is not shared/.test(e.message));
  // A module built without atomics: (import "env" "memory" (memory 1)), not shared.
  const noAtomics = new WebAssembly.Module(
    Uint8Array.from([0, 97, 115, 109, 1, 0, 0, 0, 2, 15, 1, 3, 101, 110, 118, 6, 109, 101, 109, 111, 114, 121, 2, 0, 1]),
  );
  await assert.rejects(instantiateShared(noAtomics, { memory: shared }), (e) =>
    e instanceof NogrowError && /is not shared: it was built without atomics/.test(e.message));
  // A module that defines its own memory, as an ordinary guest does: (memory 1).
  const ownMemory = new WebAssembly.Module(Uint8Array.from([0, 97, 115, 109, 1, 0, 0, 0, 5, 3, 1, 0, 1]));
  await assert.rejects(instantiateShared(ownMemory, { memory: shared }), (e) =>
    e instanceof NogrowError && /defines its own memory/.test(e.message));
});
