// One thread of bench/workers.mjs: instantiates the threaded benchmark guest
// on the shared memory with its own stack, warms up, waits for the common
// start, runs `ra(slot, ops, seed)` once and reports its own start and end
// (absolute milliseconds) and the failed allocations.
import { parentPort, workerData as d } from 'node:worker_threads';
import { instantiateShared } from '../../js/nogrow.mjs';

const { exports: e } = await instantiateShared(d.module, { memory: d.memory, thread: d.thread });
// Warm-up in this thread's own table: every function called, heap touched.
for (let i = 0; i < 4; i++) e.ra(d.slot, d.warmup, d.seed + 1000 + i);
const gate = new Int32Array(d.gate);
Atomics.add(gate, 1, 1);
Atomics.notify(gate, 1);
while (Atomics.load(gate, 0) === 0) Atomics.wait(gate, 0, 0);
const start = performance.timeOrigin + performance.now();
const failures = e.ra(d.slot, d.ops, d.seed);
const end = performance.timeOrigin + performance.now();
parentPort.postMessage({ slot: d.slot, start, end, failures });
