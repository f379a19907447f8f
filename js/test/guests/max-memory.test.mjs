// Signal at the engine's maximum: the guest (built by `cargo xtask test` with
// --max-memory=4194304, 64 pages) fills memory with 64 KiB blocks until
// memory.grow fails. The failure must be clean (null, no trap), recorded in the
// state block, memory.size must stop at the maximum, and the heap must stay
// usable. Run: node --test guests/stress/
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const WASM = fileURLToPath(new URL('../../../target/guests/edge-max-memory.wasm', import.meta.url));
const MAX_PAGES = 64;
const PAGE = 65536;
// State offsets (src/state.rs `offsets`).
const GENERATION = 0, PAGES = 12, FAILURES = 40, GROWTHS = 44, LAST_FAIL_SIZE = 48;

test('signal at the engine maximum fails cleanly, records the failure and stays usable', async () => {
  const { instance } = await WebAssembly.instantiate(readFileSync(WASM), {});
  const x = instance.exports;
  const state = x.nogrow_state();
  const u32 = (off) => new DataView(x.memory.buffer).getUint32(state + off, true);
  const pages = () => x.memory.buffer.byteLength / PAGE;
  assert.ok(pages() < MAX_PAGES, `starts below the maximum (${pages()} pages)`);

  // 64 KiB blocks until null (each needs 2 fresh pages), then small blocks
  // until null (1 page each): memory must end exactly at the maximum.
  const big = x.edge_fill(PAGE);
  assert.ok(big > 0, `held ${big} blocks`);
  assert.ok(pages() >= MAX_PAGES - 2 && pages() <= MAX_PAGES, `stopped near the maximum (${pages()} pages)`);
  assert.equal(u32(FAILURES), 1, 'the first failure recorded');
  assert.equal(u32(LAST_FAIL_SIZE), PAGE, 'the failed request');
  const held = x.edge_fill(100);
  assert.ok(held > big && held < 4096, `held ${held} blocks`);
  assert.equal(pages(), MAX_PAGES, 'memory.size stops at the declared maximum');
  assert.equal(u32(PAGES), MAX_PAGES, 'nogrow saw the final size');
  assert.equal(u32(FAILURES), 2, 'the second failure recorded');
  assert.equal(u32(LAST_FAIL_SIZE), 100, 'the failed request');
  assert.ok(u32(GROWTHS) >= 1);
  assert.equal(u32(GENERATION), u32(GROWTHS), 'one generation per growth');
  assert.ok(big > MAX_PAGES - 24, `most of memory was served (${big} blocks)`);

  // Still usable: small requests fit, and a freed block is reused without growth.
  x.edge_free_one();
  assert.equal(x.edge_try(100), 1);
  assert.equal(x.edge_fill(100), held, 'the freed block was reused');
  assert.equal(x.edge_fill(100), held, 'still full, still no trap');
  assert.equal(x.edge_free_all(), 0, 'no block was corrupted');
  assert.equal(x.edge_try(1000), 1);
  assert.ok(x.edge_fill(PAGE) >= big, 'the same memory serves the big blocks again');
  assert.equal(x.edge_free_all(), 0);
  assert.equal(pages(), MAX_PAGES);
});
