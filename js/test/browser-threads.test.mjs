// The threads page (examples/threads/) in real headless Chromium, served by
// examples/serve.mjs with the cross-origin isolation headers: two Web Workers
// instantiate the threaded guest on the page's shared WebAssembly.Memory
// (js/nogrow.mjs's instantiateShared/threadBlocks), run random work with
// content checks and free each other's blocks; once with Fail, once with
// Signal. Chromium: $CHROMIUM or /usr/bin/chromium; without it the test is
// SKIPPED (loudly). Needs `cargo xtask build-guests` first.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { missingChromium, runPage } from './chromium.mjs';

const PAGE = 65536;
const WORKERS = 2;

/** The checks both policies share; returns the sums. */
function checkRun(r) {
  assert.equal(r.reports.length, WORKERS);
  for (const w of r.reports) {
    assert.equal(w.error, null, `worker ${w.slot}: ${JSON.stringify(w.error)}`);
    assert.equal(w.mode, 'shared', `worker ${w.slot}: views on a shared memory`);
    assert.equal(w.violations, 0, `worker ${w.slot}: wrong bytes in its own blocks`);
    assert.equal(w.handoffViolations, 0, `worker ${w.slot}: wrong bytes in blocks the other worker gave`);
    assert.ok(w.ops > 0 && w.taken > 0, `worker ${w.slot} ran and freed blocks it did not allocate`);
  }
  const sum = (k) => r.reports.reduce((a, w) => a + w[k], 0);
  assert.equal(sum('given'), sum('taken'), 'every block given was taken by the other worker');
  assert.equal(r.after.allocs - r.before.allocs, sum('allocs'), "state allocs = the workers' allocations");
  assert.equal(r.after.frees - r.before.frees, sum('frees'), "state frees = the workers' frees");
  assert.equal(r.after.frees - r.before.frees, r.after.allocs - r.before.allocs, 'as many frees as allocations');
  assert.equal(r.after.reallocs - r.before.reallocs, sum('reallocs'));
  assert.equal(r.after.inUse, r.before.inUse, 'everything the workers allocated was freed');
  assert.equal(r.after.failures, 0);
  return { ops: sum('ops'), taken: sum('taken') };
}

const why = missingChromium();
if (why !== null) {
  console.error(`\n*** SKIPPED: browser threads test: ${why} ***\n`);
  test('browser threads: Web Workers on one shared memory in headless Chromium', { skip: `SKIPPED: ${why}` }, () => {});
} else {
  const page = await runPage('/examples/threads/index.html', 'threadResults', 120_000);
  const { results } = page;

  test('browser threads: the page is cross-origin isolated and ran to completion', () => {
    assert.equal(page.isolated, true, 'crossOriginIsolated (COOP + COEP headers from examples/serve.mjs)');
    assert.equal(results.crossOriginIsolated, true);
    assert.equal(results.fatal, undefined, `${JSON.stringify(results.fatal)}\n${page.logs.join('\n')}`);
    console.log(`# Chromium ${page.version}`);
  });

  test('browser threads: Fail, 2 workers: random ops and cross-worker frees, 0 violations, memory never grows', (t) => {
    const r = results.fail;
    assert.equal(r.before.policy, 'Fail');
    const { ops, taken } = checkRun(r);
    assert.equal(r.bytesAfter, r.bytesBefore, 'memory size is constant');
    assert.equal(r.after.pages * PAGE, r.bytesBefore);
    assert.equal(r.after.growths, 0);
    assert.equal(r.after.generation, 0);
    for (const w of r.reports) {
      assert.deepEqual(w.lengthsSeen, [r.bytesBefore], `worker ${w.slot}: one view length throughout`);
    }
    t.diagnostic(`Fail: ${ops} random ops + ${taken} cross-worker frees in ${r.ms.toFixed(0)} ms`);
  });

  test("browser threads: Signal, 2 workers: memory grows; every worker's shared-mode views see the new length at their next read", (t) => {
    const r = results.signal;
    assert.equal(r.before.policy, 'Signal');
    const { ops, taken } = checkRun(r);
    assert.ok(r.after.growths >= 1, `growths: ${r.after.growths}`);
    assert.equal(r.after.generation - r.before.generation, r.after.growths - r.before.growths,
      'the generation counts each growth once');
    assert.ok(r.bytesAfter > r.bytesBefore, 'memory grew');
    assert.equal(r.bytesAfter, r.after.pages * PAGE);
    assert.equal(r.pageViewLength, r.bytesAfter, "the page's own view follows too");
    for (const w of r.reports) {
      assert.equal(w.staleViews, 0, `worker ${w.slot}: a view shorter than the pages the state block reported`);
      assert.ok(w.lengthsSeen.length >= 2, `worker ${w.slot} saw the view length change: ${w.lengthsSeen}`);
      assert.equal(w.finalLength, r.bytesAfter, `worker ${w.slot}: final view length`);
      assert.equal(w.generation, r.after.generation, `worker ${w.slot}: generation`);
      assert.equal(w.rawLength, w.rawAtStart, 'a plain view keeps the length it was made with');
    }
    t.diagnostic(`Signal: ${ops} random ops + ${taken} cross-worker frees, ${r.after.growths} growths ` +
      `(${r.bytesBefore / PAGE} -> ${r.after.pages} pages) in ${r.ms.toFixed(0)} ms`);
  });
}
