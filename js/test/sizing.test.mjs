// sizeArena, runWorkload, recommendArena and the nogrow-size command.
//
// The tests that run a guest need builds of the guide's sizing example
// (docs/sizing.md), which xtask/tests/sizing.rs makes and passes in the
// environment: NOGROW_SIZING_GUEST (the measuring build, nogrow's `sizing`
// feature), NOGROW_SIZING_MALLOC_GUEST (the same guest with `c-malloc`
// instead: the fallback hook) and NOGROW_SIZING_PLAIN_GUEST (neither, with a
// real arena of about 18 MB). Without them those tests are skipped.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

import { NogrowError, recommendArena, runWorkload, sizeArena } from '../nogrow.mjs';

const cli = fileURLToPath(new URL('../nogrow-size.mjs', import.meta.url));
const env = (name) => process.env[name];
const guest = (name) => (env(name) ? readFileSync(env(name)) : null);
const measuring = guest('NOGROW_SIZING_GUEST');
const withMalloc = guest('NOGROW_SIZING_MALLOC_GUEST');
const plain = guest('NOGROW_SIZING_PLAIN_GUEST');
const needs = (...g) => (g.every((x) => x !== null) ? {} : { skip: 'needs the sizing example builds (xtask/tests/sizing.rs)' });

const MIB = 1 << 20;
/** One 1 MiB block: the example's `input(len)` export allocates `len` zeroed bytes. */
const oneMiB = (views) => {
  if (views.calls.input(MIB) === 0) throw new Error('no block');
};

test('recommendArena: the smallest times 1 + margin, in whole KiB, as an install! line', () => {
  assert.deepEqual(recommendArena(20 * MIB, 0), {
    margin: 0, arenaBytes: 20 * MIB, installLine: 'nogrow::install!(arena: 20 << 20, policy: Fail);',
  });
  assert.equal(recommendArena(20 * MIB).installLine, 'nogrow::install!(arena: 25 << 20, policy: Fail);');
  assert.equal(recommendArena(1_234_567, 0).arenaBytes, 1206 * 1024);
  assert.equal(recommendArena(1_234_567, 0).installLine, 'nogrow::install!(arena: 1206 << 10, policy: Fail);');
  assert.equal(recommendArena(3 * MIB, 0.5).installLine, 'nogrow::install!(arena: 4608 << 10, policy: Fail);');
  for (const bad of [-0.1, Number.NaN, Infinity, '25']) assert.throws(() => recommendArena(MIB, bad), RangeError);
});

test('sizeArena and runWorkload check their options before instantiating anything', async () => {
  await assert.rejects(sizeArena(new Uint8Array(0), {}), TypeError);
  await assert.rejects(runWorkload(new Uint8Array(0), { run: 42 }), TypeError);
  await assert.rejects(sizeArena(new Uint8Array(0), { run() {}, step: 0 }), RangeError);
  await assert.rejects(sizeArena(new Uint8Array(0), { run() {}, margin: -1 }), RangeError);
});

test('one 1 MiB block: the smallest arena is a little over 1 MiB, the peak exactly 1 MiB', needs(measuring), async () => {
  const steps = [];
  const r = await sizeArena(measuring, { run: oneMiB, margin: 0, onAttempt: (a) => steps.push(a) });
  assert.equal(r.peakInUse, MIB);
  assert.ok(r.smallest > MIB && r.smallest <= MIB + 16 * 1024, `smallest ${r.smallest}`);
  // The block's end, from the arena's start: talc's bookkeeping below it, as
  // in the smallest arena, which holds both.
  assert.ok(r.highWater > MIB && r.highWater <= r.smallest, `high-water mark ${r.highWater}, smallest ${r.smallest}`);
  assert.match(String(r), /high-water mark, whole heap +\d+ bytes/);
  assert.equal(r.failsAt, r.smallest - r.step);
  assert.equal(r.attempts, steps.length);
  assert.equal(steps[0].ballast, 0, 'the first attempt has the whole heap');
  assert.ok(steps.some((s) => !s.ok && s.why !== null), 'some attempts fail, and say why');
  assert.equal(r.capacity, 64 * MIB);
  assert.equal(r.installLine, recommendArena(r.smallest, 0).installLine);
  assert.equal(r.recommend(1).arenaBytes, Math.ceil((2 * r.smallest) / 1024) * 1024);
  assert.match(String(r), /smallest arena that succeeds +\d+ bytes/);
  const json = JSON.parse(JSON.stringify(r));
  for (const k of ['capacity', 'peakInUse', 'smallest', 'failsAt', 'arenaBytes', 'installLine']) assert.ok(k in json, k);
});

test('a coarser step: fewer attempts, an answer on the step', needs(measuring), async () => {
  const fine = await sizeArena(measuring, { run: oneMiB, margin: 0 });
  const coarse = await sizeArena(measuring, { run: oneMiB, margin: 0, step: 64 * 1024 });
  assert.ok(coarse.attempts < fine.attempts);
  assert.equal(coarse.smallest % (64 * 1024), 0);
  assert.ok(coarse.smallest >= fine.smallest && coarse.smallest - fine.smallest < 64 * 1024);
});

test('a workload that fails with the whole heap is an error, not an answer', needs(measuring), async () => {
  await assert.rejects(
    sizeArena(measuring, { run: () => { throw new Error('wrong answer'); } }),
    (e) => e instanceof NogrowError && /whole heap/.test(e.message) && /wrong answer/.test(e.message),
  );
  // More than the 64 MiB: the trap is explained, and the advice is a larger arena.
  await assert.rejects(
    sizeArena(measuring, { run: (v) => v.calls.input(65 * MIB) }),
    (e) => e instanceof NogrowError && /out of heap memory/.test(e.message) && /larger arena/.test(e.message),
  );
});

test('a workload whose memory use varies from run to run is refused', needs(measuring), async () => {
  let n = 0;
  const growing = (views) => {
    n++;
    views.calls.input(MIB + n * 64 * 1024);
  };
  await assert.rejects(sizeArena(measuring, { run: growing }), (e) => e instanceof NogrowError && /varies/.test(e.message));
});

test('without nogrow_ballast, the C malloc of c-malloc is the hook, with the same answer', needs(measuring, withMalloc), async () => {
  const ballast = await sizeArena(measuring, { run: oneMiB, margin: 0 });
  const malloc = await sizeArena(withMalloc, { run: oneMiB, margin: 0 });
  assert.equal(malloc.highWater, null, 'no sizing feature: no high-water mark');
  assert.doesNotMatch(String(malloc), /high-water/);
  assert.ok(Math.abs(ballast.smallest - malloc.smallest) <= 2 * ballast.step, `${ballast.smallest} vs ${malloc.smallest}`);
});

test('a guest with neither hook cannot be sized, but can be run once', needs(plain), async () => {
  await assert.rejects(sizeArena(plain, { run: oneMiB }), (e) => e instanceof NogrowError && /sizing/.test(e.message));
  const once = await runWorkload(plain, { run: oneMiB });
  assert.equal(once.ok, true);
  assert.equal(once.stats.peakInUse, MIB);
  const tooMuch = await runWorkload(plain, { run: (v) => v.calls.input(32 * MIB) });
  assert.equal(tooMuch.ok, false);
  assert.match(tooMuch.why, /out of heap memory: requested 33554432 bytes/);
});

const run = (...args) => spawnSync(process.execPath, [cli, ...args], { encoding: 'utf8' });

test('nogrow-size: bad arguments exit 2 with the usage', () => {
  for (const args of [[], ['x.wasm'], ['x.wasm', '--call', 'a', '--workload', 'w.mjs'], ['x.wasm', '--call', 'a', '--margin', 'lots'], ['x.wasm', '--bogus']]) {
    const r = run(...args);
    assert.equal(r.status, 2, args.join(' '));
    assert.match(r.stderr, /usage: nogrow-size/);
  }
  assert.equal(run('--help').status, 0);
});

test('nogrow-size --call: one export as the workload; --json; --verify', needs(measuring, plain), () => {
  const r = run(env('NOGROW_SIZING_GUEST'), '--call', `input:${MIB}`, '--margin', '0', '--json');
  assert.equal(r.status, 0, r.stderr);
  const report = JSON.parse(r.stdout);
  assert.equal(report.peakInUse, MIB);
  assert.ok(report.smallest > MIB && report.smallest <= MIB + 16 * 1024);
  const text = run(env('NOGROW_SIZING_GUEST'), '--call', `input:${MIB}`, '--margin', '25%');
  assert.equal(text.status, 0, text.stderr);
  assert.match(text.stdout, /recommended, margin 25 %:\n {2}nogrow::install!\(arena: \d+ << 10, policy: Fail\);/);
  const fits = run(env('NOGROW_SIZING_PLAIN_GUEST'), '--call', `input:${MIB}`, '--verify');
  assert.equal(fits.status, 0, fits.stdout + fits.stderr);
  assert.match(fits.stdout, /^succeeds: peak in use 1048576 bytes of a \d+-byte heap/);
  const not = run(env('NOGROW_SIZING_PLAIN_GUEST'), '--call', `input:${32 * MIB}`, '--verify');
  assert.equal(not.status, 1);
  assert.match(not.stdout, /^does not succeed: the workload threw: out of heap memory/);
  const noHook = run(env('NOGROW_SIZING_PLAIN_GUEST'), '--call', `input:${MIB}`);
  assert.equal(noHook.status, 1);
  assert.match(noHook.stderr, /nogrow_ballast/);
});
