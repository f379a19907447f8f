// What is measured: the allocators, the timed workloads, and the few facts
// that both the child processes (which time) and the report (which explains)
// rely on. Each is defined here once.

/** Allocators in table order, with the label the tables show. */
export const PEERS = [
  { name: 'dlmalloc', label: 'std default (dlmalloc)' },
  { name: 'talc-dynamic', label: 'talc WasmDynamicTalc' },
  { name: 'talc-arena', label: 'talc WasmArenaTalc' },
  { name: 'talc-lock', label: 'bare TalcLock<spin, Claim>' },
  { name: 'lol_alloc', label: 'lol_alloc FreeList' },
  { name: 'wee_alloc', label: 'wee_alloc ⚠ unmaintained' },
  { name: 'rlsf', label: 'rlsf GlobalTlsf' },
  { name: 'wasmalloc', label: 'wasmalloc WasmAlloc' },
  { name: 'bump', label: 'bump (never frees)' },
  { name: 'nogrow-fail', label: 'nogrow Fail' },
  { name: 'nogrow-fail-fast', label: 'nogrow Fail, binning::Fast' },
  { name: 'nogrow-fail-one-heap', label: 'nogrow Fail, one heap (as on wasm32-wasip2)' },
  { name: 'nogrow-reserve', label: 'nogrow Reserve' },
  { name: 'nogrow-signal', label: 'nogrow Signal' },
];

/** Timed workloads: export name, ops per run (full, smoke), unit of one op. */
export const WORKLOADS = [
  { name: 'ra', label: 'random actions', ops: 500_000, smoke: 20_000, unit: 'action' },
  { name: 'ra_norealloc', label: 'random actions, no realloc', ops: 500_000, smoke: 20_000, unit: 'action' },
  { name: 'hot32a8', label: 'hot 32 B, align 8', ops: 500_000, smoke: 20_000, unit: 'alloc+free' },
  { name: 'hot32a16', label: 'hot 32 B, align 16', ops: 500_000, smoke: 20_000, unit: 'alloc+free' },
  { name: 'lifo', label: 'LIFO batches of 100', ops: 500_000, smoke: 20_000, unit: 'alloc+free' },
  { name: 'fifo', label: 'FIFO batches of 100', ops: 500_000, smoke: 20_000, unit: 'alloc+free' },
  { name: 'churn', label: 'churn, 10 000 live', ops: 500_000, smoke: 20_000, unit: 'free+alloc' },
  { name: 'vec_grow', label: 'Vec growth to 1 MiB', ops: 1_000, smoke: 2, unit: 'Vec' },
  { name: 'realloc_double', label: 'realloc doubling 16 B→1 MiB', ops: 20_000, smoke: 20, unit: 'sequence' },
  // Real workloads: real code on real documents (REAL_DATA), copied into the
  // guest through its `input_alloc` before the timed call. `export` is the
  // guest function, `check` how the host verifies its result; a smoke run
  // skips those with `smoke: 0` and reads `smokeInput` where given.
  { name: 'json_small', export: 'json', input: 'account.json', check: 'json', label: 'JSON, small', ops: 40, smoke: 1, unit: 'document' },
  { name: 'json_medium', export: 'json', input: 'kms.json', check: 'json', label: 'JSON, medium', ops: 8, smoke: 0, unit: 'document' },
  { name: 'json_large', export: 'json', input: 'ec2.json', check: 'json', label: 'JSON, large', ops: 1, smoke: 0, unit: 'document' },
  { name: 'regex', export: 'regex', input: 'ec2.json', smokeInput: 'account.json', check: 'regex', label: 'regex', ops: 2, smoke: 1, unit: 'text' },
];

/** The real documents: AWS service models from the `botocore` 1.43.11 wheel
 * (`botocore/data/<service>/<date>/service-2.json.gz`), gunzipped by `cargo
 * xtask bench` into `<dir>/data/<file>` (the list must equal DATA in
 * xtask/src/bench.rs). */
export const REAL_DATA = [
  { file: 'account.json', source: 'botocore 1.43.11 account/2021-02-01/service-2.json' },
  { file: 'kms.json', source: 'botocore 1.43.11 kms/2014-11-01/service-2.json' },
  { file: 'ec2.json', source: 'botocore 1.43.11 ec2/2016-11-15/service-2.json' },
];

/** Whether `w` is a real workload (input from the host) rather than a loop
 * of synthetic allocations. */
export const isReal = (w) => w.input != null;

/** Smallest-capacity search: arenas shrink by a ballast block in steps of
 * this many bytes; memories that grow are searched by whole pages. */
export const BALLAST_STEP = 16 << 10;

/** Longest measured run wanted; slower allocators run fewer ops. */
export const TARGET_MS = 1000;

/** The module whose memory the JS view access benchmark reads. */
export const JS_VIEW_PEER = 'nogrow-fail';
/** JS view access: the baseline (a view created once, never checked). */
export const JS_VIEW_RAW = 'raw cached view';
/** JS view access through `js/nogrow.mjs` (measured when it loads). */
export const JS_VIEW_ATTACH = 'nogrow.mjs `attach(...).u8`';
