// The page side: one shared memory, the guest instantiated here first (it
// hands out each worker's stack), then WORKERS Web Workers on the same memory.
// Results go to window.threadResults; <html data-done="1"> when finished.
import { attach, instantiateShared, threadBlocks } from '../../js/nogrow.mjs';

const PAGE = 65536;
const WORKERS = 2;
// The linker flags of xtask/src/guests.rs: Fail 8 MiB fixed; Signal 3 MiB, up to 64 MiB.
const MEMORY = {
  fail: { initial: 128, maximum: 128 },
  signal: { initial: 48, maximum: 1024 },
};
const out = document.getElementById('out');
const say = (line) => { out.textContent = (out.textContent === 'running…' ? '' : out.textContent) + line + '\n'; };

function runWorker(data) {
  return new Promise((resolve, reject) => {
    const w = new Worker(new URL('./worker.js', import.meta.url), { type: 'module' });
    w.onmessage = (m) => { w.terminate(); resolve(m.data); };
    w.onerror = (e) => { w.terminate(); reject(new Error(`worker: ${e.message}`)); };
    w.onmessageerror = () => { w.terminate(); reject(new Error('worker: message could not be read')); };
    w.postMessage(data);
  });
}

async function run(policy, { opsPerWorker, giveEach, giveMax }) {
  const module = await WebAssembly.compileStreaming(fetch(`../../target/guests/threads/nostd-${policy}.wasm`));
  const memory = new WebAssembly.Memory({ ...MEMORY[policy], shared: true });
  const main = await instantiateShared(module, { memory });
  const nv = attach(main.exports, { memory });
  const threads = Array.from({ length: WORKERS }, () => threadBlocks(main.exports, { stackBytes: 128 << 10 }));
  const before = nv.stats();
  const bytesBefore = memory.buffer.byteLength;
  const rings = Array.from({ length: WORKERS }, () => new SharedArrayBuffer(2 * 4 * 256));
  const done = new SharedArrayBuffer(8);
  const rounds = 40;
  const started = performance.now();
  const reports = await Promise.all(
    threads.map((thread, i) =>
      runWorker({
        module, memory, thread, slot: i, seed: 0x51ed + i * 101, workers: WORKERS,
        rounds, opsPerRound: Math.ceil(opsPerWorker / rounds), giveEach, giveMax,
        outbox: rings[i], inbox: rings[(i + WORKERS - 1) % WORKERS], done,
      }),
    ),
  );
  const ms = performance.now() - started;
  const after = nv.stats();
  const r = {
    policy, mode: nv.mode, before, after, bytesBefore, bytesAfter: memory.buffer.byteLength,
    pageViewLength: nv.u8.length, reports, ms,
  };
  const ops = reports.reduce((a, w) => a + w.ops, 0);
  const taken = reports.reduce((a, w) => a + w.taken, 0);
  const bad = reports.reduce((a, w) => a + (w.error ? 1 : 0) + w.violations + w.handoffViolations, 0);
  say(`${policy}: ${WORKERS} workers, ${ops} random ops + ${taken} cross-worker frees in ${ms.toFixed(0)} ms; ` +
    `wrong bytes/errors: ${bad}; memory ${bytesBefore / PAGE} -> ${memory.buffer.byteLength / PAGE} pages, ` +
    `${after.growths} growths, generation ${after.generation}`);
  return r;
}

const results = { crossOriginIsolated: globalThis.crossOriginIsolated === true };
window.threadResults = results;
try {
  if (!results.crossOriginIsolated) {
    throw new Error('the page is not cross-origin isolated (no COOP/COEP headers): SharedArrayBuffer is unavailable');
  }
  say(`crossOriginIsolated: true`);
  results.fail = await run('fail', { opsPerWorker: 60000, giveEach: 16, giveMax: 4096 });
  // Blocks of up to 64 KiB in flight between workers outgrow Signal's 1 MiB arena.
  results.signal = await run('signal', { opsPerWorker: 60000, giveEach: 12, giveMax: 64 << 10 });
} catch (e) {
  results.fatal = { name: e.name, message: e.message, stack: String(e.stack) };
  say(`error: ${e.name}: ${e.message}`);
} finally {
  document.documentElement.dataset.done = '1';
}
