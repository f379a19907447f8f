// Runs a guest (sealed by `nogrow seal`) in Node: the guest's own work, then
// `memory.grow(1)` from JS, then the guest's work again. Prints one JSON line.
//
//   node sealed.mjs MODULE.wasm greet|heavy
//
// Run by nogrow-cli/tests/guests.rs, which asserts on the result.
import { readFile } from 'node:fs/promises';

const [path, kind] = process.argv.slice(2);
const { instance } = await WebAssembly.instantiate(await readFile(path), {});
const e = instance.exports;
const encoder = new TextEncoder();
const decoder = new TextDecoder();

function greet() {
  const mem = new Uint8Array(e.memory.buffer);
  const sal = e.get_salutation_ptr();
  const name = e.get_name_ptr();
  const salLen = encoder.encodeInto('Ahoy there', mem.subarray(sal, sal + 16)).written;
  const nameLen = encoder.encodeInto('Testy McTestface', mem.subarray(name, name + 16)).written;
  const len = e.set_name(salLen, nameLen);
  const msg = e.get_msg_ptr();
  return decoder.decode(new Uint8Array(e.memory.buffer).slice(msg, msg + len));
}

function work() {
  try {
    return { ok: kind === 'heavy' ? e.heavy(64) : greet() };
  } catch (err) {
    return { error: err.constructor.name };
  }
}

const out = { pagesBefore: e.memory.buffer.byteLength / 65536 };
out.first = work();
try {
  e.memory.grow(1);
  out.grow = 'grew';
} catch (err) {
  out.grow = err.constructor.name;
}
out.growZero = e.memory.grow(0);
out.second = work();
out.pagesAfter = e.memory.buffer.byteLength / 65536;
console.log(JSON.stringify(out));
