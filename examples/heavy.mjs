// Placeholder main job until the greeting demo lands: runs the heavy guest
// under each policy and prints memory size and generation before and after.
import { readFileSync } from 'node:fs';
const dir = new URL('../target/guests/', import.meta.url);
const rows = [];
for (const name of ['heavy-fail', 'heavy-reserve', 'heavy-signal']) {
  const { instance } = await WebAssembly.instantiate(readFileSync(new URL(`${name}.wasm`, dir)), {});
  const e = instance.exports;
  const reserve = e.nogrow_reserve(0);
  const before = { pages: e.memory.buffer.byteLength / 65536, gen: e.nogrow_generation() };
  const ok = e.heavy(6000);
  const after = { pages: e.memory.buffer.byteLength / 65536, gen: e.nogrow_generation() };
  rows.push({ guest: name, reserve, 'pages before': before.pages, 'gen before': before.gen, allocations: ok, 'pages after': after.pages, 'gen after': after.gen });
}
console.table(rows);
