// Heaps that reach the top of the 4 GiB wasm32 address space, where a 32-bit
// `ptr + size` passes 2^32 and wraps (guests/edge-top, built by `cargo xtask
// test` three times; see xtask/src/stress.rs, EDGE_TOP_*).
//
// Every allocation is a safe-Rust `Vec` held by the guest. After each step the
// test checks what must always hold: every live block lies inside memory,
// no two live blocks overlap, each block's first and last byte still hold
// its tag, the heap owns no more than memory holds, and a request that
// failed left memory as it was. Memory grows to 4 GiB but only a few bytes
// per block are written, so the grown pages cost no RAM.
//
// talc 5.1.1 decides whether a free chunk fits by adding the request to the
// chunk's base in 32 bits (`full_search_bin`, `try_grow_in_place`): high in
// memory the sum wraps and a block is handed out that runs past the end of
// memory, over live blocks. And a growth that ends at exactly 2^32 computed
// its end as 0, so the heap extended by nothing while counting the pages.
//
// Run: node --test js/test/guests/edge-top.test.mjs (after building the guests).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const PAGE = 65536;
const KiB = 1024, MiB = 1024 * KiB, GiB = 1024 * MiB;
const SPACE_END = 2 ** 32;
// State offsets (src/state.rs `offsets`).
const PAGES = 12, HEAP_BYTES = 16, FAILURES = 40, GROWTHS = 44;

const hex = (n) => '0x' + n.toString(16);

async function load(name) {
  const file = fileURLToPath(new URL(`../../../target/guests/${name}.wasm`, import.meta.url));
  const { instance } = await WebAssembly.instantiate(readFileSync(file), {});
  return new Guest(instance.exports);
}

class Guest {
  constructor(x) {
    this.x = x;
    this.state = x.nogrow_state();
    // Requests that failed but changed memory (checked at the end of each test).
    this.grewOnFailure = [];
  }
  u32(off) { return new DataView(this.x.memory.buffer).getUint32(this.state + off, true); }
  memoryBytes() { return this.x.memory.buffer.byteLength; }
  pages() { return this.memoryBytes() / PAGE; }
  heapBytes() { return this.u32(HEAP_BYTES); }
  blocks() {
    const out = [];
    for (let slot = 0; slot < this.x.edge_slots(); slot++) {
      const size = this.x.edge_size(slot) >>> 0;
      if (size > 0) out.push({ slot, addr: this.x.edge_addr(slot) >>> 0, size });
    }
    return out;
  }
  live() { return this.blocks().reduce((sum, b) => sum + b.size, 0); }
  describe() {
    return `memory ${this.pages()} pages (${this.memoryBytes()} bytes), heap_bytes ${this.heapBytes()}, ` +
      `live ${this.live()} bytes in ${this.blocks().length} blocks`;
  }

  // One request (`what` names it): returns the guest's result, and on a
  // failure checks it was recorded and notes any growth.
  request(what, call, failed = (r) => r < 0) {
    const [pages, failures, growths] = [this.pages(), this.u32(FAILURES), this.u32(GROWTHS)];
    const result = call();
    if (failed(result)) {
      assert.equal(this.u32(FAILURES), failures + 1, `${what}: the failure is recorded`);
      if (this.pages() !== pages || this.u32(GROWTHS) !== growths) {
        this.grewOnFailure.push(`${what} failed but memory grew ${pages} -> ${this.pages()} pages`);
      }
    }
    return result;
  }
  vec(bytes) { return this.request(`Vec of ${bytes} bytes`, () => this.x.edge_vec(bytes)); }
  pagesVec(n) { return this.request(`Vec of ${n} 4096-aligned pages`, () => this.x.edge_pages(n)); }
  grow(slot, bytes) {
    return this.request(`growing slot ${slot} to ${bytes} bytes`, () => this.x.edge_grow(slot, bytes), (r) => r === 0);
  }
  // `bytes`-byte Vecs until one fails; returns how many were made.
  fill(bytes) {
    let n = 0;
    while (this.vec(bytes) >= 0) n++;
    return n;
  }

  // What must always hold.
  check(step) {
    const end = this.memoryBytes();
    const blocks = this.blocks().sort((a, b) => a.addr - b.addr);
    for (const b of blocks) {
      assert.ok(b.addr + b.size <= end,
        `${step}: slot ${b.slot}'s block [${hex(b.addr)}, ${hex(b.addr + b.size)}) ends past the end of memory ` +
        `(${hex(end)}); ${this.describe()}`);
    }
    for (let i = 1; i < blocks.length; i++) {
      const [a, b] = [blocks[i - 1], blocks[i]];
      assert.ok(a.addr + a.size <= b.addr,
        `${step}: slot ${a.slot}'s block [${hex(a.addr)}, ${hex(a.addr + a.size)}) overlaps slot ${b.slot}'s ` +
        `[${hex(b.addr)}, ${hex(b.addr + b.size)})`);
    }
    const bad = this.x.edge_verify();
    assert.equal(bad, -1, `${step}: slot ${bad}'s first or last byte was overwritten`);
    assert.ok(this.heapBytes() <= end, `${step}: heap_bytes ${this.heapBytes()} exceeds memory (${end} bytes)`);
    assert.equal(this.u32(PAGES), this.pages(), `${step}: nogrow saw the memory size`);
  }

  // Checked at the end: a failed request left memory as it was.
  noGrowthOnFailure() {
    assert.deepEqual(this.grewOnFailure, [], 'a request that fails does not grow memory');
  }
}

test('Signal (65535 pages): a block grown in place near 4 GiB stays inside memory', async () => {
  // The reported case: 1.1 GiB twice, then a Vec reserved to 1.7 GiB and
  // grown in place to 1.9 GiB (old: Ok at 0x8cedccf0, ending at 0x1_0687_6689),
  // then 512 MiB (old: inside the first block).
  const g = await load('edge-top-signal-limit');
  const a = g.vec(Math.floor(1.1 * GiB));
  const b = g.vec(Math.floor(1.1 * GiB));
  assert.ok(a >= 0 && b >= 0, `two 1.1 GiB blocks: ${g.describe()}`);
  g.check('two 1.1 GiB blocks');
  const c = g.vec(Math.floor(1.7 * GiB));
  g.check('a 1.7 GiB Vec');
  if (c >= 0) {
    g.grow(c, Math.floor(1.9 * GiB));
    g.check('the 1.7 GiB Vec grown to 1.9 GiB');
  } else {
    // The same request as a fresh block: one talc cannot be asked about.
    assert.ok(g.vec(Math.floor(1.9 * GiB)) < 0, 'a 1.9 GiB block does not fit beside 2.2 GiB');
  }
  assert.ok(g.vec(512 * MiB) >= 0, `a 512 MiB block still fits: ${g.describe()}`);
  g.check('a 512 MiB Vec');
  g.noGrowthOnFailure();
});

test('Signal (65535 pages): an aligned request for a gap at the top stays inside memory', async () => {
  // A ~301 MiB free gap that ends at the top of the heap, nothing larger
  // free, then a 302 MiB request aligned to 4096: talc searches the gap's bin
  // with its fit check (`full_search_bin`), and gap + 302 MiB passes 2^32.
  const g = await load('edge-top-signal-limit');
  const limit = 65535 * PAGE;
  assert.ok(g.vec(Math.floor(1.1 * GiB)) >= 0 && g.vec(Math.floor(1.1 * GiB)) >= 0, g.describe());
  const top = Math.max(...g.blocks().map((b) => b.addr + b.size));
  // Fill up to 301 MiB below the limit, then a 300 MiB block, freed: the gap.
  g.vec(limit - top - 301 * MiB);
  const x = g.vec(300 * MiB);
  assert.ok(x >= 0, `a 300 MiB block: ${g.describe()}`);
  g.check('the blocks below the gap');
  g.x.edge_free(x);
  // Inside memory, or refused cleanly: with the heap this high, a request
  // this large may be refused although a lower free chunk would hold it.
  g.pagesVec((302 * MiB) / 4096);
  g.check('a 302 MiB request aligned to 4096');
  g.noGrowthOnFailure();
});

test('Reserve to 65535 pages: a block near the top is not grown in place past 2^32', async () => {
  // The heap reaches the top; a 1 MiB Vec near it is grown to 1.9 GiB (old:
  // talc's in-place check wraps and says yes).
  const g = await load('edge-top-reserve');
  assert.equal(g.x.nogrow_reserve(65535 - g.pages()), 0, 'the reserve');
  g.check('after the reserve');
  const n = g.fill(8 * MiB);
  assert.ok(n > 400, `8 MiB blocks fill the reserve (${n}): ${g.describe()}`);
  g.check('8 MiB blocks until one fails');
  // Free the highest block: a 1 MiB Vec takes its place, free space above it.
  const highest = g.blocks().reduce((h, b) => (b.addr > h.addr ? b : h));
  g.x.edge_free(highest.slot);
  const v = g.vec(MiB);
  assert.ok(v >= 0, g.describe());
  const at = g.x.edge_addr(v) >>> 0;
  assert.ok(at > 4 * GiB - 64 * MiB, `the 1 MiB Vec is near the top (${hex(at)})`);
  g.grow(v, Math.floor(1.9 * GiB));
  g.check('the 1 MiB Vec near the top grown to 1.9 GiB');
  g.noGrowthOnFailure();
});

test('Reserve to 65535 pages: an aligned request for a gap at the top is not served past 2^32', async () => {
  // The heap reaches the top; the 12 highest 8 MiB blocks are freed into one
  // ~100 MiB gap at the top (nothing larger is free), then a request aligned
  // to 4096 for just more than the gap's base leaves below 2^32: talc looks
  // at the gap's bin with its fit check (`full_search_bin`), where the sum wraps.
  const g = await load('edge-top-reserve');
  assert.equal(g.x.nogrow_reserve(65535 - g.pages()), 0, 'the reserve');
  const n = g.fill(8 * MiB);
  assert.ok(n > 400, `8 MiB blocks fill the reserve (${n}): ${g.describe()}`);
  const highest = g.blocks().sort((a, b) => b.addr - a.addr).slice(0, 12);
  for (const b of highest) g.x.edge_free(b.slot);
  const gapBase = highest[highest.length - 1].addr;
  g.check('the 12 highest blocks freed');
  g.pagesVec(Math.ceil((SPACE_END - gapBase + 64 * KiB) / 4096));
  g.check(`a request aligned to 4096 that passes 2^32 from the gap at ${hex(gapBase)}`);
  // The heap still serves what fits.
  assert.ok(g.vec(4 * MiB) >= 0, g.describe());
  g.check('a 4 MiB Vec');
  g.noGrowthOnFailure();
});

test('Signal (no limit): a growth that ends at exactly 65536 pages is not lost', async () => {
  // Two 1.1 GiB blocks, then 1.5 GiB (old: memory grew to 65536 pages, the
  // heap extended by nothing, heap_bytes read 4293853184, and even 64 MiB
  // failed). Then the heap must serve what it says it owns.
  const g = await load('edge-top-signal');
  assert.ok(g.vec(Math.floor(1.1 * GiB)) >= 0 && g.vec(Math.floor(1.1 * GiB)) >= 0, g.describe());
  g.check('two 1.1 GiB blocks');
  g.vec(Math.floor(1.5 * GiB));
  g.check('a 1.5 GiB request');
  const big = g.fill(64 * MiB);
  assert.ok(big >= 1, `64 MiB blocks still fit after the 1.5 GiB request: ${g.describe()}`);
  g.check('64 MiB blocks until one fails');
  g.fill(8 * MiB);
  g.check('8 MiB blocks until one fails');
  // Full: what the heap says it owns is in blocks, but for less than one
  // 8 MiB block (and the arena's small remainder).
  const free = g.heapBytes() - g.live();
  assert.ok(free < 8 * MiB + 256 * KiB, `the heap is full: ${free} bytes of heap_bytes not in blocks; ${g.describe()}`);
  assert.ok(g.memoryBytes() <= SPACE_END - 16 * MiB, `the top 16 MiB stay out of memory: ${g.describe()}`);
  assert.ok(g.heapBytes() >= SPACE_END - 16 * MiB - 16 * MiB, `the heap reached the top: ${g.describe()}`);
  g.noGrowthOnFailure();
});

test('Reserve (linker heap) to exactly 65536 pages: the heap owns what it says', async () => {
  // The reserve extends the linker heap, which ends where memory ends; old:
  // its end 2^32 wrapped to 0 and the heap was extended by nothing.
  const g = await load('edge-top-reserve');
  const before = g.pages();
  assert.equal(g.x.nogrow_reserve(65536 - before), 0, 'the reserve');
  assert.equal(g.pages(), 65536);
  g.check('after the reserve');
  const n = g.fill(8 * MiB);
  g.check('8 MiB blocks until one fails');
  const free = g.heapBytes() - g.live();
  assert.ok(n > 400 && free < 8 * MiB + 256 * KiB,
    `the reserve serves 8 MiB blocks until the heap is full (${n} blocks, ${free} bytes of heap_bytes not in blocks); ` +
    g.describe());
  // The heap is memory but its last 16 MiB (and the stack and static data).
  const heap = g.heapBytes();
  assert.ok(heap <= SPACE_END - 16 * MiB && heap >= SPACE_END - 16 * MiB - before * PAGE,
    `heap_bytes ${heap} is about 4 GiB - 16 MiB; ${g.describe()}`);
  g.noGrowthOnFailure();
});
