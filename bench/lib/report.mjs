// Reporting: the Markdown tables of a results object (speed, speedups,
// memory.size, heap efficiency, code size, JS view access) and its distance
// to the performance goals nogrow is held to.

import { JS_VIEW_ATTACH, JS_VIEW_RAW, TARGET_MS } from './workloads.mjs';

/** nogrow's own policies, the rows the goals apply to. */
const NOGROW = ['nogrow-fail', 'nogrow-reserve', 'nogrow-signal'];

const fmt = (x, d = 1) => (x == null || !Number.isFinite(x) ? '—' : x.toFixed(d));
/** Speedup of `x` over `base` (both ns per op), or null if either is missing. */
export const ratio = (base, x) => (base && x ? base / x : null);
const showRatio = (r) => (r == null ? '—' : Math.abs(r - 1) < 0.1 ? `≈ ${r.toFixed(2)}×` : `${r.toFixed(2)}×`);

/** Every table of `R`, as Markdown. */
export function report(R, smoke) {
  const L = [];
  const label = Object.fromEntries(R.peers.map((p) => [p.name, p.label]));
  L.push(`# nogrow allocator benchmarks${smoke ? ' (SMOKE: tiny counts, numbers meaningless)' : ''}`);
  L.push('');
  L.push(`${R.date}, nogrow ${R.revision}, Node ${R.node}, ${R.cpu} (${R.cores} cores), ${R.reps} repetitions, fresh process per run.`);
  L.push('');

  // Speed: ns per op, median (min).
  L.push('## Speed: ns per operation, median (min); empty-call cost subtracted');
  L.push('');
  L.push(`| allocator | ${R.workloads.map((w) => `${w.label} (ns/${w.unit})`).join(' | ')} |`);
  L.push(`|---|${R.workloads.map(() => '---:').join('|')}|`);
  for (const p of R.peers) {
    const cells = R.workloads.map((w) => {
      const s = R.speed[p.name][w.name];
      if (s.errors && !s.n) return `error`;
      if (!s.n) return 'exhausted';
      const ns = w.unit === 'Vec' || w.unit === 'sequence' ? (x) => fmt(x / 1000, 1) + ' µs' : (x) => fmt(x, 1);
      const fewer = s.opsMin != null && s.opsMin < w.ops ? '†' : '';
      return `${ns(s.median)} (${ns(s.min)})${fewer}${s.exhausted ? ` [${s.exhausted} exhausted]` : ''}`;
    });
    L.push(`| ${label[p.name]} | ${cells.join(' | ')} |`);
  }
  const loop = R.speed[R.peers[0].name]?.[R.workloads[0]?.name]?.loop;
  L.push('');
  L.push('† fewer ops than the others (the estimated run exceeded ' + TARGET_MS + ' ms; ops per run: ' +
    R.workloads.map((w) => `${w.label} ${w.ops}`).join(', ') + ').');
  L.push(`PRNG-loop floor (one xorshift step + loop, not subtracted): ${fmt(loop, 2)} ns.`);
  L.push('');

  for (const [base, title] of [['dlmalloc', 'std default (dlmalloc)'], ['talc-lock', 'bare TalcLock<spin, Claim>']]) {
    if (!R.speed[base]) continue;
    L.push(`## Speedup over ${title} (its median / this median; ≈: within 10 %, noise)`);
    L.push('');
    L.push(`| allocator | ${R.workloads.map((w) => w.label).join(' | ')} |`);
    L.push(`|---|${R.workloads.map(() => '---:').join('|')}|`);
    for (const p of R.peers) {
      const cells = R.workloads.map((w) => showRatio(ratio(R.speed[base][w.name].median, R.speed[p.name][w.name].median)));
      L.push(`| ${label[p.name]} | ${cells.join(' | ')} |`);
    }
    L.push('');
  }

  L.push('## Peak `memory.size` (pages of 64 KiB) after each workload');
  L.push('');
  L.push(`| allocator | ${R.workloads.map((w) => w.label).join(' | ')} | heap efficiency run |`);
  L.push(`|---|${R.workloads.map(() => '---:').join('|')}|---:|`);
  for (const p of R.peers) {
    const cells = R.workloads.map((w) => {
      const s = R.speed[p.name][w.name];
      return s.pagesMin == null ? '—' : s.pagesMin === s.pagesMax ? `${s.pagesMin}` : `${s.pagesMin}–${s.pagesMax}`;
    });
    L.push(`| ${label[p.name]} | ${cells.join(' | ')} | ${R.efficiency[p.name]?.pages ?? '—'} |`);
  }
  L.push('');

  L.push(`## Heap efficiency: bytes live at the first failure / capacity, ${R.effInstances} fresh instances`);
  L.push('');
  L.push('| allocator | mean | min | max | capacity (MiB) |');
  L.push('|---|---:|---:|---:|---:|');
  for (const p of R.peers) {
    const e = R.efficiency[p.name];
    if (e.error) { L.push(`| ${label[p.name]} | error: ${e.error} | | | |`); continue; }
    const pc = (x) => `${(x * 100).toFixed(1)} %`;
    L.push(`| ${label[p.name]} | ${pc(e.mean)} | ${pc(e.min)} | ${pc(e.max)} | ${fmt(e.capacity / 2 ** 20, 2)} |`);
  }
  L.push('');

  const none = R.sizes.none;
  L.push('## Code size: size-probe module (alloc, alloc_zeroed, realloc, dealloc with run-time layouts)');
  L.push('');
  L.push('Allocator bytes = module − the no-allocator module (' +
    (none ? `${none.raw} B raw, ${none.oz ?? '—'} B -Oz, ${none.gz} B gzip` : 'missing') + ').');
  L.push('');
  L.push('| allocator | raw | allocator bytes raw | -Oz | allocator bytes -Oz | gzip -9 of -Oz | allocator bytes gzip |');
  L.push('|---|---:|---:|---:|---:|---:|---:|');
  for (const p of R.peers) {
    const s = R.sizes[p.name];
    if (!s) continue;
    const d = (k) => (none && s[k] != null && none[k] != null ? s[k] - none[k] : null);
    L.push(`| ${label[p.name]} | ${s.raw} | ${d('raw') ?? '—'} | ${s.oz ?? '—'} | ${d('oz') ?? '—'} | ${s.gz} | ${d('gz') ?? '—'} |`);
  }
  L.push('');

  if (R.jsView) {
    L.push('## JS view access: ns per `u8[i]` read in a hot loop (median (min) of best-of-3, per process)');
    L.push('');
    if (R.jsView.error) L.push(`error: ${R.jsView.error}`);
    else {
      const raw = R.jsView[JS_VIEW_RAW]?.median;
      L.push('| access | ns/access | over raw cached view |');
      L.push('|---|---:|---:|');
      for (const [k, v] of Object.entries(R.jsView)) {
        L.push(`| ${k} | ${fmt(v.median, 2)} (${fmt(v.min, 2)}) | ${raw != null ? `${(v.median - raw).toFixed(2)} ns` : '—'} |`);
      }
      if (!R.jsView[JS_VIEW_ATTACH]) L.push('', '`js/nogrow.mjs` not present (or failed to load): its row is missing.');
    }
    L.push('');
  }

  L.push(...goals(R));
  return L.join('\n');
}

/** The "Targets" table: each goal, what was measured, met or missed. */
function goals(R) {
  const L = ['## Targets', ''];
  const s = (p, w) => R.speed[p]?.[w]?.median;
  const line = (what, got, want, ok) => L.push(`| ${what} | ${got} | ${want} | ${ok == null ? '—' : ok ? 'met' : '**missed**'} |`);
  L.push('| target | measured | wanted | |', '|---|---:|---:|---|');
  for (const p of NOGROW) {
    if (!R.speed[p]) continue;
    const dl = ratio(s('dlmalloc', 'ra'), s(p, 'ra'));
    const bare = ratio(s('talc-lock', 'ra'), s(p, 'ra'));
    line(`${p}: random actions vs dlmalloc`, dl == null ? '—' : `${dl.toFixed(2)}×`, '≥ 1.8×', dl == null ? null : dl >= 1.8);
    line(`${p}: random actions vs bare TalcLock`, bare == null ? '—' : `${bare.toFixed(2)}×`, '≥ 0.97×', bare == null ? null : bare >= 0.97);
    const e = R.efficiency[p]?.mean;
    line(`${p}: heap efficiency`, e == null ? '—' : `${(e * 100).toFixed(1)} %`, '≥ 96 %', e == null ? null : e >= 0.96);
  }
  const oz = (p) => R.sizes[p]?.oz;
  for (const p of NOGROW) {
    if (oz(p) == null || oz('talc-lock') == null) continue;
    const d = oz(p) - oz('talc-lock');
    line(`${p}: allocator bytes (-Oz) over bare TalcLock`, `${d >= 0 ? '+' : ''}${d} B`, '≤ +400 B', d <= 400);
  }
  const jv = R.jsView;
  if (jv && !jv.error) {
    const d = jv[JS_VIEW_ATTACH] ? jv[JS_VIEW_ATTACH].median - jv[JS_VIEW_RAW].median : null;
    line('JS view access over a raw cached view', d == null ? 'not measured (no js/nogrow.mjs)' : `${d.toFixed(2)} ns`, '≤ 0.5 ns', d == null ? null : d <= 0.5);
  }
  L.push('');
  return L;
}
