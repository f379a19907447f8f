// One Web Worker of the threads page: instantiates the guest on the page's
// shared memory with the stack it was given, runs random work, hands blocks
// to the next worker and frees the blocks the previous one hands it, then
// reports what it did and what its views saw.
import { attach, instantiateShared } from '../../js/nogrow.mjs';

onmessage = async ({ data: d }) => {
  try {
    postMessage(await work(d));
  } catch (e) {
    postMessage({ slot: d.slot, error: { name: e.name, message: e.message, stack: String(e.stack) } });
  }
};

async function work(d) {
  const { exports: e } = await instantiateShared(d.module, { memory: d.memory, thread: d.thread });
  const nv = attach(e, { memory: d.memory });
  const raw = new Uint8Array(d.memory.buffer); // a plain view: never renewed
  const rawAtStart = raw.length;

  // Handoff rings, one producer and one consumer each: pairs (ptr, size);
  // a slot is free while its ptr is 0.
  const outbox = new Int32Array(d.outbox);
  const inbox = new Int32Array(d.inbox);
  const done = new Int32Array(d.done);
  let taken = 0;
  let given = 0;
  let handoffViolations = 0;
  let outAt = 0;

  const drain = () => {
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
  };
  const send = (ptr, size) => {
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
  };
  let rng = d.seed >>> 0 || 1;
  const next = () => {
    rng ^= rng << 13; rng >>>= 0;
    rng ^= rng >>> 17;
    rng ^= rng << 5; rng >>>= 0;
    return rng;
  };

  // Growth as this worker sees it: pages from the state block first, then
  // the view; a shared-mode view must be at least that long at that read.
  let staleViews = 0;
  let reads = 0;
  const lengthsSeen = new Set([nv.u8.length]);
  const checkViews = () => {
    const pages = nv.stats().pages;
    const len = nv.u8.length;
    reads++;
    if (len < pages * 65536) staleViews++;
    lengthsSeen.add(len);
  };

  // Start together: every worker in its loop at once.
  Atomics.add(done, 1, 1);
  Atomics.notify(done, 1);
  while (Atomics.load(done, 1) < d.workers) Atomics.wait(done, 1, Atomics.load(done, 1), 10);
  let violations = 0;
  let ops = 0;
  for (let round = 0; round < d.rounds; round++) {
    violations += e.work(d.slot, (d.seed * 7919 + round) >>> 0, d.opsPerRound);
    ops += d.opsPerRound;
    checkViews();
    for (let k = 0; k < d.giveEach; k++) {
      const size = 1 + (next() % d.giveMax);
      const ptr = e.give(d.slot, size);
      if (ptr === 0) { violations++; continue; }
      send(ptr, size);
      given++;
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
  return {
    slot: d.slot,
    error: null,
    mode: nv.mode,
    violations,
    handoffViolations,
    ops,
    given,
    taken,
    allocs: e.counted(d.slot, 0),
    frees: e.counted(d.slot, 1),
    reallocs: e.counted(d.slot, 2),
    staleViews,
    reads,
    lengthsSeen: [...lengthsSeen],
    rawLength: raw.length,
    rawAtStart,
    finalLength: nv.u8.length,
    finalBufferLength: d.memory.buffer.byteLength,
    generation: nv.generation,
  };
}
