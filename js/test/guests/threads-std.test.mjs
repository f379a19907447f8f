// The threaded std guest (guests/threads-std: nightly -Z build-std with
// +atomics): Vec, String and HashMap from the main thread and N workers on
// one shared memory. std has thread-locals (the HashMap hasher's keys), so
// every instance runs __wasm_init_tls on a TLS block from the guest's heap.
// Runs come from threads-run.mjs (THREADS_GUESTS_DIR, THREADS_OPS).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { OPS, PAGE, run } from './threads-run.mjs';

// counted(slot, what) in this guest: 0 the steps `work` ran, 1 blocks given,
// 2 blocks taken (threads-worker.mjs reports them as allocs, frees, reallocs).
function check(r) {
  const after = r.nv.stats();
  const sum = (k) => r.reports.reduce((a, w) => a + w[k], 0);
  for (const w of r.reports) {
    assert.equal(w.violations, 0, `worker ${w.slot}: wrong values in its collections`);
    assert.equal(w.handoffViolations, 0, `worker ${w.slot}: wrong bytes in blocks another worker gave`);
  }
  assert.equal(sum('allocs'), sum('ops'), 'the guest ran every step');
  assert.equal(sum('given'), sum('taken'));
  assert.equal(sum('frees'), sum('given'), 'blocks given, as the guest counted them');
  assert.equal(sum('reallocs'), sum('taken'), 'blocks taken, as the guest counted them');
  assert.ok(after.allocs - r.before.allocs > sum('ops') / 4, 'the collections allocated');
  assert.equal(after.allocs - r.before.allocs, after.frees - r.before.frees, 'every allocation was freed');
  assert.equal(after.inUse, r.before.inUse, 'nothing the workers allocated is left');
  assert.equal(after.failures, 0);
  return after;
}

for (const workers of [2, 4]) {
  const opsPerWorker = workers === 4 ? OPS : Math.ceil(OPS / 4);

  test(`std, Fail, ${workers} workers: collections in every thread, TLS per instance, memory never grows`, async (t) => {
    const r = await run('std-fail', 'fail', { workers, opsPerWorker, giveEach: 16, giveMax: 4096 });
    assert.ok(r.main.thread.tls > 0 && r.main.thread.tlsBytes > 0, 'the main instance got a TLS block');
    const after = check(r);
    assert.equal(r.memory.buffer.byteLength, r.bytesBefore);
    assert.equal(after.growths, 0);
    t.diagnostic(`std Fail, ${workers} workers: ${r.reports.reduce((a, w) => a + w.ops, 0)} steps, ${after.allocs - r.before.allocs} allocations in ${r.ms.toFixed(0)} ms`);
  });

  test(`std, Signal, ${workers} workers: growth seen by every worker's shared-mode views`, async (t) => {
    const r = await run('std-signal', 'signal', { workers, opsPerWorker, giveEach: 12, giveMax: 64 << 10 });
    const after = check(r);
    assert.ok(after.growths >= 1);
    assert.equal(after.generation, after.growths);
    assert.equal(r.memory.buffer.byteLength, after.pages * PAGE);
    for (const w of r.reports) {
      assert.equal(w.staleViews, 0);
      assert.equal(w.finalLength, r.memory.buffer.byteLength);
    }
    t.diagnostic(`std Signal, ${workers} workers: ${r.reports.reduce((a, w) => a + w.ops, 0)} steps, ${after.growths} growths in ${r.ms.toFixed(0)} ms`);
  });
}
