// Reporting: the Markdown tables of a results object (speed, speedups,
// instructions per operation, memory.size, heap efficiency, code size, JS
// view access, the real workloads and their smallest capacity, the Pareto
// table) and its distance to the performance goals nogrow is held to.

import { BALLAST_STEP, JS_VIEW_ATTACH, JS_VIEW_RAW, TARGET_MS, isReal } from './workloads.mjs';

/** nogrow's own policies, the rows the goals apply to. */
const NOGROW = ['nogrow-fail', 'nogrow-fail-fast', 'nogrow-reserve', 'nogrow-signal'];

const fmt = (x, d = 1) => (x == null || !Number.isFinite(x) ? '—' : x.toFixed(d));
/** Speedup of `x` over `base` (both ns per op), or null if either is missing. */
export const ratio = (base, x) => (base && x ? base / x : null);
const showRatio = (r) => (r == null ? '—' : Math.abs(r - 1) < 0.1 ? `≈ ${r.toFixed(2)}×` : `${r.toFixed(2)}×`);

/** Every table of `R`, as Markdown. */
export function report(R, smoke) {
  const L = [];
  const label = Object.fromEntries(R.peers.map((p) => [p.name, p.label]));
  // The synthetic workloads' tables; the real ones have their own below.
  R = { ...R, real: R.workloads.filter(isReal), workloads: R.workloads.filter((w) => !isReal(w)) };
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

  L.push(...fuelTables(R, label));

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

  L.push(...realWorkloads(R, label));
  L.push(...pareto(R, label));
  L.push(...goals(R));
  return L.join('\n');
}

/** A count per operation: one decimal below 1 000, whole and grouped above. */
const showCount = (x) => (x < 1000 ? x.toFixed(1) : Math.round(x).toString().replace(/\B(?=(\d{3})+(?!\d))/g, ' '));

/** The instruction counts of `R.fuel` (bench/fuel.py): per operation, and
 * bare TalcLock's count over each. Empty when the run has none. */
function fuelTables(R, label) {
  const F = R.fuel;
  if (!F) return [];
  const L = ['## Instructions per operation: wasm instructions executed (wasmtime fuel), empty-call count subtracted; deterministic', ''];
  if (F.error) return [...L, `error: ${F.error}`, ''];
  // Every workload counted (a smoke run does not count the real workloads it does not time).
  const ws = [...R.workloads, ...(R.real ?? [])].filter((w) => Object.values(F.peers).some((e) => e.workloads?.[w.name]));
  const cell = (p, w) => {
    const e = F.peers[p];
    const r = e?.workloads?.[w];
    if (!e) return { text: '—' };
    if (e.error || r?.error) return { text: 'error' };
    if (!r) return { text: '—' };
    if (r.failures) return { text: 'exhausted' };
    const ops = ws.find((x) => x.name === w)?.ops;
    return { text: `${showCount(r.perOp)}${ops != null && r.ops < ops ? '†' : ''}`, n: r.perOp };
  };
  L.push(`| allocator | ${ws.map((w) => `${w.label} (instr/${w.unit})`).join(' | ')} |`);
  L.push(`|---|${ws.map(() => '---:').join('|')}|`);
  for (const p of R.peers) L.push(`| ${label[p.name]} | ${ws.map((w) => cell(p.name, w.name).text).join(' | ')} |`);
  L.push('');
  const loop = Object.values(F.peers).find((e) => e.loop != null)?.loop;
  const fewer = R.peers.flatMap((p) => ws.filter((w) => {
    const r = F.peers[p.name]?.workloads?.[w.name];
    return r?.ops != null && r.ops < w.ops;
  }).map((w) => `${label[p.name]} ${w.label} ${F.peers[p.name].workloads[w.name].ops}`));
  L.push(`${F.engine}; one run per cell on a fresh instance, seed ${F.seed}, ops per run: ${ws.map((w) => `${w.label} ${w.ops}`).join(', ')}. ` +
    'One unit: one wasm operator executed (`nop`, `drop`, `block`, `loop`, `end`, `else`, `return`, `unreachable` free), one per function entered, ' +
    'and one per byte of `memory.copy`/`memory.fill` and per page of `memory.grow`. Counts include the workload\'s own loop, as the times do; ' +
    'a real workload\'s count is its timed call alone (the document copied in before it, as in the timed runs). ' +
    (fewer.length ? `† fewer ops (a run estimated over ${F.budget ?? 'the budget of'} instructions): ${fewer.join(', ')}. ` : '') +
    `PRNG-loop floor (one xorshift step + loop, not subtracted): ${loop == null ? '—' : loop.toFixed(1)} instructions.`);
  L.push('');
  const base = 'talc-lock';
  if (F.peers[base]) {
    L.push('## Instruction ratio over bare TalcLock<spin, Claim> (its count / this count; > 1: fewer instructions)', '');
    L.push(`| allocator | ${ws.map((w) => w.label).join(' | ')} |`);
    L.push(`|---|${ws.map(() => '---:').join('|')}|`);
    for (const p of R.peers) {
      const cells = ws.map((w) => {
        const b = cell(base, w.name).n;
        const x = cell(p.name, w.name).n;
        if (!b || !x) return '—';
        const r = b / x;
        return `${r >= 0.1 ? r.toFixed(2) : r.toPrecision(2)}×`;
      });
      L.push(`| ${label[p.name]} | ${cells.join(' | ')} |`);
    }
    L.push('');
  }
  return L;
}

/** `--fuel-only`: a heading and the instruction-count tables alone. */
export function fuelReport(R) {
  const label = Object.fromEntries(R.peers.map((p) => [p.name, p.label]));
  return [
    '# nogrow allocator benchmarks: instructions per operation',
    '',
    `${R.date}, nogrow ${R.revision}.`,
    '',
    ...fuelTables(R, label),
  ].join('\n');
}

const KiB = 1024;
const MiB = 1024 * 1024;
/** Bytes in KiB or MiB, 3 significant digits. */
export const showBytes = (b) => (b == null ? '—' : b / KiB < 999.5 ? `${(b / KiB).toPrecision(3)} KiB` : `${(b / MiB).toPrecision(3)} MiB`);
/** A smallest-capacity result as a cell: bytes, "exhausted" or "error". */
const capCell = (c) => (c == null ? '—' : c.error ? 'error' : c.exhausted ? 'exhausted' : showBytes(c.bytes));
/** ms per document of a real workload: median (min), or why there is none. */
const msCell = (s) => (s == null ? '—' : s.errors && !s.n ? 'error' : !s.n ? 'exhausted' : `${fmt(s.median / 1e6, 2)} (${fmt(s.min / 1e6, 2)})`);

/** The real workloads: the documents, ms per document, smallest capacity. */
function realWorkloads(R, label) {
  if (!R.real.length || !R.capacity) return [];
  const L = ['## Real workloads: serde_json and regex on AWS service models', ''];
  for (const d of R.data ?? []) {
    const w = R.real.find((x) => x.name === d.workload);
    L.push(`- ${w?.label ?? d.workload}: \`${d.file}\`, ${d.bytes} bytes (${d.source ?? 'unknown source'})`);
  }
  L.push('', 'JSON: parse into `serde_json::Value`, serialize back with `to_string`; the result reparses (in JS) deep-equal to the document. ' +
    'regex: compile `\\b\\w+\\b`, CamelCase identifiers, `<a href>` targets and numbers, collect every match (`Vec<&str>`, counts in `HashMap`s, a `HashSet` of links); ' +
    'the summary equals the one JavaScript computes with the same patterns. The document is copied in through `input_alloc` (a block from the allocator under test) before the timed call.', '');
  L.push(`### Time per document: ms, median (min)`, '');
  L.push(`| allocator | ${R.real.map((w) => `${w.label} (ms/${w.unit})`).join(' | ')} |`);
  L.push(`|---|${R.real.map(() => '---:').join('|')}|`);
  for (const p of R.peers) L.push(`| ${label[p.name]} | ${R.real.map((w) => msCell(R.speed[p.name][w.name])).join(' | ')} |`);
  L.push('');
  L.push('### Smallest capacity in which the workload succeeds (ratio to std\'s dlmalloc)', '');
  L.push(`| allocator | method | ${R.real.map((w) => w.label).join(' | ')} |`);
  L.push(`|---|---|${R.real.map(() => '---:').join('|')}|`);
  for (const p of R.peers) {
    const cs = R.real.map((w) => R.capacity[p.name]?.[w.name]);
    const method = cs.find((c) => c?.method)?.method;
    const cells = R.real.map((w, i) => {
      const c = cs[i];
      const base = R.capacity.dlmalloc?.[w.name];
      const r = c?.bytes != null && base?.bytes ? ` (${(c.bytes / base.bytes).toFixed(2)}×)` : '';
      return `${capCell(c)}${c?.bytes != null ? r : ''}`;
    });
    L.push(`| ${label[p.name]} | ${method === 'ballast' ? 'ballast' : method === 'max-pages' ? 'memory maximum' : '—'} | ${cells.join(' | ')} |`);
  }
  const coarse = Object.values(R.capacity).flatMap((ws) => Object.values(ws))
    .filter((c) => c && c.precision != null && c.precision > (c.method === 'ballast' ? BALLAST_STEP : 65536));
  L.push('', 'Capacity = bytes the allocator needed beyond the module\'s own memory, the heap efficiency table\'s rule: ' +
    `**ballast** (static arenas; nogrow Reserve: arena + its reserve): right after instantiation (and \`nogrow_reserve(0)\`) the guest takes (capacity − N) bytes in one block never freed (nogrow Reserve: one per chunk), and N is bisected to ${BALLAST_STEP / KiB} KiB; ` +
    'N is the size of an arena that suffices: talc\'s metadata (its gap lists, a few hundred bytes at the start of the first chunk) is claimed before the ballast and counts in N, as it would in an arena of N bytes (`cargo xtask bench --validate-ballast` builds such arenas and checks that they agree). ' +
    '**memory maximum** (allocators that grow): the module\'s declared maximum is rewritten and bisected by whole 64 KiB pages; capacity = static arena + (maximum − pages at instantiation) × 64 KiB. ' +
    'Success: no trap (std aborts on a failed allocation) and the result byte-identical to the checked full-capacity one. "exhausted": fails even at full capacity (32 MiB arena / 36 MiB memory).' +
    (coarse.length ? ` ${coarse.length} searches stopped early (step limit): coarser than that.` : ''));
  L.push('');
  return L;
}

/** The Pareto table: speed, capacity and size side by side, and which peers
 * beat nogrow Fail on speed and capacity at once. */
function pareto(R, label) {
  const ms = (p, w) => R.speed[p]?.[w]?.median;
  const cap = (p, w) => {
    const c = R.capacity?.[p]?.[w];
    return c && !c.error && !c.exhausted ? c.bytes : null;
  };
  const none = R.sizes.none?.oz;
  const L = ['## Pareto: speed, capacity, size', ''];
  L.push('| allocator | random actions (ns) | churn (ns) | JSON, large (ms/doc) | heap efficiency | smallest capacity, JSON large | smallest capacity, regex | allocator bytes (-Oz) | grows memory |');
  L.push('|---|---:|---:|---:|---:|---:|---:|---:|---|');
  for (const p of R.peers) {
    const e = R.efficiency[p.name];
    const grows = e?.start == null || e.error ? '—' : e.pages > e.start ? 'yes' : 'no';
    const oz = R.sizes[p.name]?.oz;
    const speedCell = (w) => (R.speed[p.name]?.[w] ? (R.speed[p.name][w].n ? fmt(ms(p.name, w), 1) : 'exhausted') : '—');
    L.push(`| ${label[p.name]} | ${speedCell('ra')} | ${speedCell('churn')} | ${msCell(R.speed[p.name]?.json_large)} | ` +
      `${e && !e.error ? `${(e.mean * 100).toFixed(1)} %` : '—'} | ${capCell(R.capacity?.[p.name]?.json_large)} | ${capCell(R.capacity?.[p.name]?.regex)} | ` +
      `${oz != null && none != null ? oz - none : '—'} | ${grows} |`);
  }
  L.push('');
  // Computed, not written: who is faster on both speed columns and needs
  // less on both capacity columns (strictly better medians, no noise band).
  const me = 'nogrow-fail';
  const eff = (p) => (R.efficiency[p] && !R.efficiency[p].error ? R.efficiency[p].mean : null);
  const known = [ms(me, 'ra'), ms(me, 'json_large'), eff(me), cap(me, 'json_large')];
  if (!R.speed[me] || known.some((x) => x == null)) {
    L.push('Peers that beat nogrow Fail on speed and capacity at once: not computed (this run lacks random actions, JSON large, heap efficiency or nogrow Fail).');
  } else {
    const beat = R.peers.filter((p) => p.name !== me).filter((p) => {
      const [ra, js, ef, cp] = [ms(p.name, 'ra'), ms(p.name, 'json_large'), eff(p.name), cap(p.name, 'json_large')];
      return ra != null && js != null && ef != null && cp != null &&
        ra < known[0] && js < known[1] && ef > known[2] && cp < known[3];
    });
    L.push(`Peers that beat nogrow Fail on BOTH speed (random actions and JSON large, lower median) AND capacity (higher heap efficiency and smaller capacity for JSON large): ${beat.length ? beat.map((p) => label[p.name]).join(', ') : 'none'}.`);
  }
  L.push('');
  return L;
}

/** The "Targets" table: each goal nogrow is held to, what this run measured,
 * met or missed. Speed and capacity goals are ratios to peers in the same
 * run; they apply to nogrow Fail in its default configuration, and to
 * Reserve and Signal where they say so. */
function goals(R) {
  const L = ['## Targets', ''];
  const FAIL = 'nogrow-fail';
  const s = (p, w) => R.speed[p]?.[w]?.median;
  const line = (what, got, want, ok) => L.push(`| ${what} | ${got} | ${want} | ${ok == null ? '—' : ok ? 'met' : '**missed**'} |`);
  const times = (r) => (r == null ? '—' : `${r.toFixed(2)}×`);
  const atLeast = (r, x) => (r == null ? null : r >= x);
  L.push('| target | measured | wanted | |', '|---|---:|---:|---|');
  if (R.speed[FAIL]) {
    // Every workload, synthetic and real, against the talc nogrow is built on.
    for (const w of [...R.workloads, ...(R.real ?? [])]) {
      const r = ratio(s('talc-lock', w.name), s(FAIL, w.name));
      line(`${FAIL}: ${w.label} vs bare TalcLock`, times(r), '≥ 1.00×', atLeast(r, 1));
    }
    for (const w of ['ra', 'churn', 'lifo']) {
      const r = ratio(s('wasmalloc', w), s(FAIL, w));
      const label = R.workloads.find((x) => x.name === w)?.label ?? w;
      line(`${FAIL}: ${label} vs wasmalloc`, times(r), '≥ 1.00×', atLeast(r, 1));
    }
    const hot = s(FAIL, 'hot32a8');
    const bump = s('bump', 'hot32a8');
    const hotRatio = hot != null && bump != null ? hot / bump : null;
    line(`${FAIL}: hot 32 B alloc+free over bump's`, hotRatio == null ? '—' : `${hotRatio.toFixed(2)}× (${hot.toFixed(1)} ns)`, '≤ 1.25×', hotRatio == null ? null : hotRatio <= 1.25);
    const dlEff = R.efficiency.dlmalloc?.mean;
    const e = R.efficiency[FAIL]?.mean;
    const want = dlEff == null ? '≥ dlmalloc' : `≥ ${(dlEff * 100).toFixed(1)} % (dlmalloc)`;
    line(`${FAIL}: heap efficiency`, e == null ? '—' : `${(e * 100).toFixed(1)} %`, want, e == null || dlEff == null ? null : e >= dlEff);
    for (const w of R.real ?? []) {
      const mine = R.capacity?.[FAIL]?.[w.name]?.bytes;
      const dl = R.capacity?.dlmalloc?.[w.name]?.bytes;
      const r = mine && dl ? mine / dl : null;
      line(`${FAIL}: smallest capacity for ${w.label} over dlmalloc's`, times(r), '≤ 0.85×', r == null ? null : r <= 0.85);
    }
  }
  // Allocator bytes: what the size probe pays over bare talc.
  const oz = (p) => R.sizes[p]?.oz;
  for (const [p, most] of [[FAIL, 600], ['nogrow-reserve', 1200], ['nogrow-signal', 1200]]) {
    if (oz(p) == null || oz('talc-lock') == null) continue;
    const d = oz(p) - oz('talc-lock');
    line(`${p}: allocator bytes (-Oz) over bare TalcLock`, `${d >= 0 ? '+' : ''}${d} B`, `≤ +${most} B`, d <= most);
  }
  // Reserve and Signal against Fail, on every workload where they do not grow.
  for (const p of ['nogrow-reserve', 'nogrow-signal']) {
    if (!R.speed[p] || !R.speed[FAIL]) continue;
    const start = R.efficiency[p]?.start;
    const still = R.workloads.filter((w) => start != null && R.speed[p][w.name]?.pagesMax != null && R.speed[p][w.name].pagesMax <= start);
    const rs = still.map((w) => ratio(s(FAIL, w.name), s(p, w.name))).filter((r) => r != null);
    const worst = rs.length ? Math.min(...rs) : null;
    const which = still.length === R.workloads.length ? 'every workload' : `${still.length} of ${R.workloads.length} workloads (the others grow)`;
    line(`${p} vs Fail, slowest of ${which}`, times(worst), '≥ 0.95×', atLeast(worst, 0.95));
  }
  const jv = R.jsView;
  if (jv && !jv.error) {
    const d = jv[JS_VIEW_ATTACH] ? jv[JS_VIEW_ATTACH].median - jv[JS_VIEW_RAW].median : null;
    line('JS view access over a raw cached view', d == null ? 'not measured (no js/nogrow.mjs)' : `${d.toFixed(2)} ns`, '≤ 0.5 ns', d == null ? null : d <= 0.5);
  }
  L.push('', 'Threads (2 workers on one shared memory ≥ 1.0× bare TalcLock) are measured by `cargo xtask bench --workers`: [Threads](#threads).', '');
  return L;
}
