// The greeting scenario, shared by the Node demo (demo.mjs), the browser page
// (client.js) and the tests. Runs anywhere with WebAssembly, TextEncoder and
// TextDecoder: no Node or DOM APIs.

import { attach } from '../js/nogrow.mjs';

export const SALUTATION = 'Ahoy there';
export const NAME = 'Testy McTestface';
export const GREETING = `${SALUTATION}, ${NAME}!`;

/** Every greeting guest (`target/guests/NAME.wasm`), in table order. */
export const VARIANTS = [
  { name: 'greet-std', allocator: "Rust's default (dlmalloc) — control" },
  { name: 'greet-noalloc', allocator: 'default, rewritten without String' },
  { name: 'greet-wat', allocator: 'none (hand-written .wat)' },
  { name: 'greet-fail', allocator: 'nogrow Fail, 256 KiB arena' },
  { name: 'greet-reserve', allocator: 'nogrow Reserve::pages(16), host reserves', reserve: true },
  { name: 'greet-reserve-link', allocator: 'nogrow Fail + linker heap (--initial-memory)' },
  { name: 'greet-signal', allocator: 'nogrow Signal, step 4, limit 1024 pages' },
];

const encoder = new TextEncoder();
const decoder = new TextDecoder();

function nogrowStats(instance) {
  if (typeof instance.exports.nogrow_state !== 'function') return null;
  // resizable: false: reading the stats must not change the memory's buffer.
  return attach(instance, { resizable: false }).stats();
}

/**
 * The classic host code, verbatim: one Uint8Array made once, before
 * `set_name`; the greeting read back through it with `slice`. For the Reserve
 * guest the host first calls `nogrow_reserve(0)`, right after instantiation.
 */
export async function seedScenario(variant, bytes) {
  const { instance } = await WebAssembly.instantiate(bytes, {});
  const e = instance.exports;
  const reserve = variant.reserve ? e.nogrow_reserve(0) : null;
  const bytesBefore = e.memory.buffer.byteLength;
  const generationBefore = e.nogrow_generation ? e.nogrow_generation() : null;

  const mem = new Uint8Array(e.memory.buffer);
  const sal = e.get_salutation_ptr();
  const name = e.get_name_ptr();
  const salLen = encoder.encodeInto(SALUTATION, mem.subarray(sal, sal + 16)).written;
  const nameLen = encoder.encodeInto(NAME, mem.subarray(name, name + 16)).written;
  let result = null;
  let error = null;
  try {
    const len = e.set_name(salLen, nameLen);
    const msg = e.get_msg_ptr();
    result = decoder.decode(mem.slice(msg, msg + len));
  } catch (err) {
    error = err;
  }
  return {
    guest: variant.name,
    allocator: variant.allocator,
    result,
    error,
    reserve,
    bytesBefore,
    bytesAfter: e.memory.buffer.byteLength,
    viewDetached: mem.length === 0,
    generationBefore,
    generationAfter: e.nogrow_generation ? e.nogrow_generation() : null,
    stats: nogrowStats(instance),
  };
}

/**
 * The same scenario through `js/nogrow.mjs`: the host reads `nv.u8` each time
 * instead of keeping a view. `attachOptions` go to `attach`.
 */
export async function moduleScenario(variant, bytes, attachOptions = {}) {
  const { instance } = await WebAssembly.instantiate(bytes, {});
  const nv = attach(instance, attachOptions);
  const e = nv.calls;
  const reserve = variant.reserve ? nv.reserve(0) : null;
  const bytesBefore = nv.byteLength;
  const generationBefore = nv.generation;
  let result = null;
  let error = null;
  try {
    const salLen = nv.writeString(e.get_salutation_ptr(), SALUTATION, 16);
    const nameLen = nv.writeString(e.get_name_ptr(), NAME, 16);
    const len = e.set_name(salLen, nameLen);
    result = nv.readString(e.get_msg_ptr(), len);
  } catch (err) {
    error = err;
  }
  return {
    guest: variant.name,
    mode: nv.mode,
    result,
    error,
    reserve,
    bytesBefore,
    bytesAfter: nv.byteLength,
    generationBefore,
    generationAfter: nv.generation,
    stats: nv.stats(),
  };
}

/**
 * Allocator pressure through `js/nogrow.mjs`: after the greeting, the guest
 * builds it repeated `times` times in one allocation. Fail and Reserve run
 * out of arena (an OutOfHeapMemory error), Signal grows and bumps the
 * generation; the module's views read the result either way.
 */
export async function pressureScenario(variant, bytes, times, attachOptions = {}) {
  const { instance } = await WebAssembly.instantiate(bytes, {});
  const nv = attach(instance, attachOptions);
  const e = nv.calls;
  if (variant.reserve) nv.reserve(0);
  const growths = [];
  nv.onGrow((ev) => growths.push(ev));
  const len0 = e.set_name(
    nv.writeString(e.get_salutation_ptr(), SALUTATION, 16),
    nv.writeString(e.get_name_ptr(), NAME, 16),
  );
  const greeting = nv.readString(e.get_msg_ptr(), len0);
  const raw = new Uint8Array(nv.memory.buffer);
  const bytesBefore = nv.byteLength;
  const generationBefore = nv.generation;
  let result = null;
  let error = null;
  let intact = null;
  try {
    const len = e.repeat_greeting(times);
    const ptr = e.get_repeat_ptr();
    const tail = nv.readString(ptr + len - greeting.length, greeting.length);
    intact = len === greeting.length * times && tail === greeting;
    result = `${len} bytes`;
  } catch (err) {
    error = err;
  }
  return {
    guest: variant.name,
    mode: nv.mode,
    times,
    result,
    intact,
    error,
    bytesBefore,
    bytesAfter: nv.byteLength,
    generationBefore,
    generationAfter: nv.generation,
    rawViewDetached: raw.length === 0,
    growths,
    stats: nv.stats(),
  };
}

/** One line of stats for a table cell. */
export function formatStats(s) {
  if (!s) return '— (no nogrow)';
  const policy = s.policy ?? 'not yet known';
  return `${policy}; heap ${s.heapBytes} B, in use ${s.inUse}/${s.peakInUse} peak; ${s.allocs} allocs, ${s.failures} failures, ${s.growths} growths`;
}

/** An error as a short table cell. */
export function formatError(err) {
  return `${err.name}: ${err.message}`;
}
