// The example page in real headless Chromium (Debian's, driven by
// playwright-core), served from 127.0.0.1 by examples/serve.mjs: the greeting
// for each nogrow variant, the TypeError for the control, the resizable-buffer
// path (Chromium has toResizableBuffer), the wasm-bindgen guest's string round
// trips, and shared memory. Chromium: $CHROMIUM or /usr/bin/chromium; without
// it the test is SKIPPED (loudly). Needs `cargo xtask build-guests` first.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { missingChromium, runPage } from './chromium.mjs';
import { GREETING } from '../../examples/greet.mjs';

// Node 20's V8 says "on a detached ArrayBuffer"; Chromium 156's V8 says "on a
// detached or out-of-bounds ArrayBuffer".
const DETACHED = /^Cannot perform %TypedArray%\.prototype\.slice on a detached (or out-of-bounds )?ArrayBuffer$/;
const NOGROW = ['greet-fail', 'greet-reserve', 'greet-reserve-link', 'greet-signal'];

const why = missingChromium();
if (why !== null) {
  console.error(`\n*** SKIPPED: browser test: ${why} ***\n`);
  test('browser: the example page in headless Chromium', { skip: `SKIPPED: ${why}` }, () => {});
} else {
  const page = await runPage('/examples/index.html', 'nogrowResults', 60_000);
  const { results } = page;
  const row = (list, name) => list.find((r) => r.guest === name);

  test('browser: the page ran to completion', () => {
    assert.equal(results.fatal, undefined, `${JSON.stringify(results.fatal)}\n${page.logs.join('\n')}`);
    console.log(`# Chromium ${page.version}`);
  });

  test('browser: the std control throws the detached TypeError in the classic host code', () => {
    const r = row(results.seed, 'greet-std');
    assert.equal(r.error?.name, 'TypeError', JSON.stringify(r.error));
    assert.match(r.error.message, DETACHED);
    assert.equal(r.viewDetached, true);
    assert.ok(r.bytesAfter > r.bytesBefore, 'dlmalloc grew memory');
  });

  for (const name of [...NOGROW, 'greet-noalloc', 'greet-wat']) {
    test(`browser: ${name} prints the greeting in the classic host code, memory unchanged`, () => {
      const r = row(results.seed, name);
      assert.equal(r.error, null, JSON.stringify(r.error));
      assert.equal(r.result, GREETING);
      assert.equal(r.bytesAfter, r.bytesBefore);
    });
  }

  test('browser: through js/nogrow.mjs every variant prints the greeting; only the max-memory guest gets resizable views', () => {
    for (const r of results.module) {
      assert.equal(r.error, null, `${r.guest}: ${JSON.stringify(r.error)}`);
      assert.equal(r.result, GREETING, r.guest);
      assert.equal(r.mode, r.guest === 'greet-signal' ? 'resizable' : 'fixed', r.guest);
    }
  });

  test('browser: resizable path: the same view objects track growth with no checks; strings still round-trip', () => {
    const r = results.resizable;
    assert.equal(r.available, true, 'Chromium has toResizableBuffer');
    assert.equal(r.mode, 'resizable', r.reason);
    assert.equal(r.greeting, GREETING);
    assert.equal(r.grew, true);
    assert.equal(r.sameViewObject, true);
    assert.equal(r.viewTracksLength, true);
    assert.equal(r.generation, 1);
    assert.equal(r.repeatedIntact, true);
    assert.equal(r.pollNoticed, true);
    assert.equal(r.stringRoundTrip, true);
    assert.equal(r.textDecoderRejectsResizable, true, 'why readString copies in resizable mode');
  });

  test('browser: wasm-bindgen guest: strings round-trip through its glue while memory grows; the module keeps fixed views', () => {
    const r = results.bindgen;
    assert.equal(r.error, undefined, JSON.stringify(r));
    assert.equal(r.mode, 'fixed');
    assert.match(r.reason, /wasm-bindgen/);
    assert.equal(r.greeting, GREETING);
    assert.equal(r.unicode, 'Grüß, 世界 🦀!');
    assert.equal(r.shoutLength, 'AHOY THERE, TESTY MCTESTFACE!\n'.length * 200_000);
    assert.equal(r.shoutIntact, true);
    assert.equal(r.grew, true);
    assert.ok(r.generation >= 1);
    assert.equal(r.generation, r.glueGeneration);
    assert.equal(r.viewValid, true);
    assert.equal(r.wordStats, r.wordStatsExpected);
  });

  test('browser: forcing resizable views under wasm-bindgen glue breaks its strings (why auto mode refuses)', () => {
    // If this starts failing, wasm-bindgen's glue accepts resizable buffers and
    // attach's 'auto' mode could stop excluding wasm-bindgen guests.
    const f = results.bindgen.forced;
    assert.equal(f.mode, 'resizable');
    assert.equal(f.error?.name, 'TypeError', JSON.stringify(f));
  });

  test('browser: shared memory: views renewed from the generation counter', () => {
    const r = results.shared;
    assert.equal(r.skipped, undefined, r.skipped);
    assert.equal(r.mode, 'shared');
    assert.equal(r.staleKeepsOldLength, true);
    assert.equal(r.renewed, true);
    assert.equal(r.marker, true);
    assert.equal(r.generation, 1);
  });
}
