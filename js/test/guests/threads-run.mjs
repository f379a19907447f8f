// Shared by the threaded-guest tests (threads.test.mjs, threads-std.test.mjs):
// loading the built guests, and one run of a main instance plus N workers
// (threads-worker.mjs) on one shared memory.
//
// THREADS_GUESTS_DIR picks another directory of built guests;
// THREADS_OPS sets the random operations per worker when 4 run (cargo xtask stress).
import { readFileSync } from 'node:fs';
import { Worker } from 'node:worker_threads';
import { attach, instantiateShared, threadBlocks } from '../../nogrow.mjs';

const dir = process.env.THREADS_GUESTS_DIR
  ? new URL(`file://${process.env.THREADS_GUESTS_DIR.replace(/\/?$/, '/')}`)
  : new URL('../../../target/guests/threads/', import.meta.url);
export const OPS = Number(process.env.THREADS_OPS ?? 250000); // per worker, with 4 workers
const workerUrl = new URL('./threads-worker.mjs', import.meta.url);
export const PAGE = 65536;

const modules = new Map();
export function load(name) {
  if (!modules.has(name)) modules.set(name, new WebAssembly.Module(readFileSync(new URL(`${name}.wasm`, dir))));
  return modules.get(name);
}

// The linker flags of xtask/src/guests.rs: Fail 8 MiB fixed; Reserve 2 MiB,
// up to 7 MiB (room for its 80-page reserve); Signal 3 MiB, up to 64 MiB.
export const MEMORY = {
  fail: { initial: 128, maximum: 128 },
  reserve: { initial: 32, maximum: 112 },
  signal: { initial: 48, maximum: 1024 },
  notify: { initial: 48, maximum: 1024 },
};

const running = new Set();

/** Runs one worker; if it fails, every other worker is stopped (they
 * would wait for it forever) and the error says what it threw. */
export function runWorker(data) {
  return new Promise((resolve, reject) => {
    const w = new Worker(workerUrl, { workerData: data });
    running.add(w);
    let report = null;
    let failure = null;
    w.on('message', (m) => { report = m; });
    w.on('error', (e) => {
      failure = e;
      for (const other of running) if (other !== w) other.terminate();
    });
    w.on('exit', (code) => {
      running.delete(w);
      if (failure) reject(new Error(`worker ${data.slot} (${data.task}) threw: ${failure.stack ?? failure}`, { cause: failure }));
      else if (code === 0 && report) resolve(report);
      else reject(new Error(`worker ${data.slot} (${data.task}) stopped (exit code ${code})`));
    });
  });
}

/** Main instance + `workers` workers; returns the reports and the main side. */
export async function run(name, policy, { workers, opsPerWorker, giveEach, giveMax, hookStallMs = 0 }) {
  const module = load(name);
  const memory = new WebAssembly.Memory({ ...MEMORY[policy], shared: true });
  let mainHook = 0;
  const notify = policy === 'notify';
  const imports = notify ? { nogrow: { memory_grown() { mainHook++; } } } : {};
  const main = await instantiateShared(module, { memory, imports });
  // Reserve: the one growth, before the first allocation (the thread blocks
  // below) and before any worker runs.
  const reserved = policy === 'reserve' ? main.exports.nogrow_reserve(0) : null;
  const bytesAfterReserve = memory.buffer.byteLength;
  const nv = attach(main.exports, { memory });
  const threads = Array.from({ length: workers }, () => threadBlocks(main.exports, { stackBytes: 128 << 10 }));
  const before = nv.stats();
  const bytesBefore = memory.buffer.byteLength;
  const rings = Array.from({ length: workers }, () => new SharedArrayBuffer(2 * 4 * 256));
  const done = new SharedArrayBuffer(8);
  const rounds = 50;
  const hookStall = hookStallMs > 0 ? { ms: hookStallMs, flag: new SharedArrayBuffer(4) } : null;
  const started = performance.now();
  const reports = await Promise.all(
    threads.map((thread, i) =>
      runWorker({
        module, memory, thread, notify, hookStall, task: 'work',
        slot: i, seed: 0x9e37 + i * 101, workers, reserveAgain: policy === 'reserve',
        rounds, opsPerRound: Math.ceil(opsPerWorker / rounds), giveEach, giveMax,
        outbox: rings[i], inbox: rings[(i + workers - 1) % workers], done,
      }),
    ),
  );
  const ms = performance.now() - started;
  return { module, memory, main, nv, reserved, bytesAfterReserve, before, bytesBefore, reports, ms, mainHook: () => mainHook };
}
