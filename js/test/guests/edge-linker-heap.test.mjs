// Two allocators with `linker_heap` in one module (guests/edge-linker-heap,
// linked with --initial-memory=8388608 by `cargo xtask test`): the global one
// (`install!`) and `SECOND` (`arena!`, used through `nogrow::c_alloc::malloc`).
// The linker heap (`__heap_base..__heap_end`) must be handed out once: the
// allocator that claims first gets it, the other owns only its 64 KiB arena.
// (Old: both claimed it, and their blocks overlapped.)
//
// Run: node --test js/test/guests/edge-linker-heap.test.mjs (after building the guest).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const WASM = fileURLToPath(new URL('../../../target/guests/edge-linker-heap.wasm', import.meta.url));
const KiB = 1024, MiB = 1024 * KiB;
const ARENA = 64 * KiB;
// State offsets (src/state.rs `offsets`).
const HEAP_BYTES = 16;

const hex = (n) => '0x' + n.toString(16);

async function load() {
  const { instance } = await WebAssembly.instantiate(readFileSync(WASM), {});
  const x = instance.exports;
  const u32 = (state, off) => new DataView(x.memory.buffer).getUint32(state + off, true);
  const heap = { 1: () => u32(x.nogrow_state(), HEAP_BYTES), 2: () => u32(x.second_state(), HEAP_BYTES) };
  const make = { 1: x.first_vec, 2: x.second_malloc };
  // `bytes`-byte blocks from allocator `who` (1 global, 2 SECOND) until one fails.
  const fill = (who, bytes) => {
    let n = 0;
    while (make[who](bytes) >= 0) n++;
    return n;
  };
  const blocks = () => {
    const out = [];
    for (let slot = 0; slot < x.edge_slots(); slot++) {
      const size = x.edge_size(slot) >>> 0;
      if (size > 0) out.push({ slot, who: x.edge_owner(slot), addr: x.edge_addr(slot) >>> 0, size });
    }
    return out;
  };
  const describe = () =>
    `memory ${x.memory.buffer.byteLength} bytes; heap_bytes: global ${heap[1]()}, SECOND ${heap[2]()}; ` +
    `blocks: global ${blocks().filter((b) => b.who === 1).length}, SECOND ${blocks().filter((b) => b.who === 2).length}`;
  const check = (step) => {
    const end = x.memory.buffer.byteLength;
    const all = blocks().sort((a, b) => a.addr - b.addr);
    const name = (b) => `${b.who === 1 ? 'the global allocator' : 'SECOND'}'s block [${hex(b.addr)}, ${hex(b.addr + b.size)})`;
    for (const b of all) assert.ok(b.addr + b.size <= end, `${step}: ${name(b)} ends past memory (${hex(end)})`);
    for (let i = 1; i < all.length; i++) {
      assert.ok(all[i - 1].addr + all[i - 1].size <= all[i].addr, `${step}: ${name(all[i - 1])} overlaps ${name(all[i])}; ${describe()}`);
    }
    const bad = x.edge_verify();
    assert.equal(bad, -1, `${step}: slot ${bad}'s first or last byte was overwritten`);
    assert.ok(heap[1]() + heap[2]() <= end, `${step}: the two heaps own more than memory holds; ${describe()}`);
  };
  return { x, heap, fill, blocks, check, describe };
}

for (const [first, second] of [[1, 2], [2, 1]]) {
  const names = { 1: 'the global allocator', 2: 'SECOND' };
  test(`${names[first]} claims first: it alone gets the linker heap`, async () => {
    const g = await load();
    // Large blocks from the first claimant (they fit only in the linker heap),
    // then from the other, then small blocks from both until each is full.
    const big = g.fill(first, MiB);
    assert.ok(big >= 4, `${names[first]} serves MiB blocks from the linker heap (${big}); ${g.describe()}`);
    g.check(`${names[first]}: 1 MiB blocks until one fails`);
    g.fill(second, MiB);
    g.check(`${names[second]}: 1 MiB blocks until one fails`);
    assert.ok(g.fill(second, KiB) > 16, `${names[second]} still has its arena; ${g.describe()}`);
    g.check(`${names[second]}: 1 KiB blocks until one fails`);
    g.fill(first, KiB);
    g.check(`${names[first]}: 1 KiB blocks until one fails`);
    assert.equal(g.heap[second](), ARENA, `${names[second]} owns only its arena; ${g.describe()}`);
    assert.ok(g.heap[first]() > ARENA + 4 * MiB, `${names[first]} owns the linker heap; ${g.describe()}`);
  });
}
