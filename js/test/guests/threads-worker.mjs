// One thread of a threaded guest (threads.test.mjs): instantiates the module
// on the shared memory with its own stack, then runs its task and reports.
import { parentPort, workerData } from 'node:worker_threads';
import { attach, instantiateShared } from '../../nogrow.mjs';

const d = workerData;
let hookCalls = 0;
// `hookStall`: the first hook call of the whole run (any worker) blocks for
// `hookStall.ms` milliseconds, as a hook that waits for other workers would.
const stall = d.hookStall ? new Int32Array(d.hookStall.flag) : null;
let hookStalledMs = 0;
function memory_grown() {
  hookCalls++;
  if (stall !== null && Atomics.compareExchange(stall, 0, 0, 1) === 0) {
    const t0 = performance.now();
    Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, d.hookStall.ms);
    hookStalledMs = performance.now() - t0;
  }
}
const imports = d.notify ? { nogrow: { memory_grown } } : {};
const { exports: e } = await instantiateShared(d.module, { memory: d.memory, imports, thread: d.thread });
const nv = attach(e, { memory: d.memory });
const raw = new Uint8Array(d.memory.buffer); // a plain view: never renewed
const rawAtStart = raw.length;

// Handoff rings, one producer and one consumer each: pairs (ptr, size), a
// slot is free while its ptr is 0.
const outbox = d.outbox ? new Int32Array(d.outbox) : null;
const inbox = d.inbox ? new Int32Array(d.inbox) : null;
const done = new Int32Array(d.done);
let taken = 0;
let given = 0;
let handoffViolations = 0;
let outAt = 0;

function drain() {
  if (inbox === null) return 0;
  let n = 0;
  for (let i = 0; i < inbox.length; i += 2) {
    if (Atomics.load(inbox, i) === 0) continue;
    const size = Atomics.load(inbox, i + 1);
    const ptr = Atomics.exchange(inbox, i, 0) >>> 0;
    handoffViolations += e.take(d.slot, ptr, size);
    taken++;
    n++;
  }
  return n;
}

function send(ptr, size) {
  for (;;) {
    for (let k = 0; k < outbox.length / 2; k++) {
      const i = ((outAt + k) * 2) % outbox.length;
      if (Atomics.load(outbox, i) === 0) {
        Atomics.store(outbox, i + 1, size);
        Atomics.store(outbox, i, ptr);
        outAt = i / 2 + 1;
        return;
      }
    }
    drain(); // full: keep our own consumer side moving
  }
}

let rng = d.seed >>> 0 || 1;
function next() {
  rng ^= rng << 13; rng >>>= 0;
  rng ^= rng >>> 17;
  rng ^= rng << 5; rng >>>= 0;
  return rng;
}

// Growth as this thread sees it: the generation and pages (state block,
// Atomics.load) read before the views; the shared-mode view must be at
// least that long at the same read.
let staleViews = 0;
let lengthsSeen = new Set([nv.u8.length]);
function checkViews() {
  const s = nv.stats();
  const len = nv.u8.length;
  if (len < s.pages * 65536) staleViews++;
  lengthsSeen.add(len);
}

if (d.task === 'oom') {
  // Wait until the others are running, then ask for more than the heap.
  while (Atomics.load(done, 1) < d.others) Atomics.wait(done, 1, Atomics.load(done, 1), 10);
  let error = null;
  try {
    nv.call('grab', d.grab);
  } catch (err) {
    error = { name: err.name, message: err.message, failure: err.failure ?? null, cause: String(err.cause ?? '') };
  }
  parentPort.postMessage({ slot: d.slot, error, hookCalls, stackLeftAt: e.__stack_pointer.value >>> 0 });
} else {
  // Start together: every worker in its loop at once.
  Atomics.add(done, 1, 1);
  Atomics.notify(done, 1);
  while (Atomics.load(done, 1) < d.workers) Atomics.wait(done, 1, Atomics.load(done, 1), 10);
  // Reserve: a second reserve, from a worker, after the main thread's.
  const reserveAgain = d.reserveAgain ? e.nogrow_reserve(0) : null;
  let violations = 0;
  let ops = 0;
  for (let round = 0; round < d.rounds; round++) {
    violations += e.work(d.slot, (d.seed * 7919 + round) >>> 0, d.opsPerRound);
    ops += d.opsPerRound;
    checkViews();
    if (outbox !== null) {
      for (let k = 0; k < d.giveEach; k++) {
        const size = 1 + (next() % d.giveMax);
        const ptr = e.give(d.slot, size);
        if (ptr === 0) { violations++; continue; }
        send(ptr, size);
        given++;
      }
    }
    drain();
    checkViews();
  }
  Atomics.add(done, 0, 1);
  // Take what the producer still sends until every worker is done.
  while (Atomics.load(done, 0) < d.workers) {
    if (drain() === 0) Atomics.wait(done, 0, Atomics.load(done, 0), 1);
  }
  drain();
  checkViews();
  parentPort.postMessage({
    slot: d.slot,
    reserveAgain,
    violations,
    handoffViolations,
    ops,
    given,
    taken,
    allocs: e.counted(d.slot, 0),
    frees: e.counted(d.slot, 1),
    reallocs: e.counted(d.slot, 2),
    staleViews,
    lengthsSeen: [...lengthsSeen],
    rawLength: raw.length,
    rawAtStart,
    finalLength: nv.u8.length,
    generation: nv.generation,
    hookCalls,
    hookStalledMs,
    finishedAt: performance.timeOrigin + performance.now(),
  });
}
