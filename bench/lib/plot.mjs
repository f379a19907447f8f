// The plot: an SVG heat map of every allocator's speedup over std's dlmalloc
// per workload, with a heap efficiency bar per allocator.

import { ratio } from './report.mjs';
import { isReal } from './workloads.mjs';

/** The plot of results `R`, as SVG text. */
export function svg(R) {
  const esc = (s) => String(s).replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
  // The synthetic workloads (the real ones are in the report's own tables).
  const cols = R.workloads.filter((w) => !isReal(w));
  const rows = R.peers;
  const cw = 96, ch = 26, left = 210, top = 150;
  const width = left + (cols.length + 1) * cw + 80;
  const height = top + rows.length * ch + 70;
  const out = [];
  out.push(`<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" font-family="sans-serif" font-size="12">`);
  out.push(`<rect width="100%" height="100%" fill="white"/>`);
  out.push(`<text x="10" y="22" font-size="15" font-weight="bold">Speedup over std's dlmalloc (median ns/op ratio; green faster, red slower) and heap efficiency</text>`);
  out.push(`<text x="10" y="40" fill="#555">${esc(`${R.date.slice(0, 10)}, nogrow ${R.revision}, Node ${R.node}, ${R.cpu}, ${R.reps} reps, fresh process per run`)}</text>`);
  const head = [...cols.map((c) => c.label), 'heap efficiency'];
  head.forEach((h, i) => {
    const x = left + i * cw + cw / 2;
    out.push(`<text transform="translate(${x},${top - 8}) rotate(-35)" font-size="11">${esc(h)}</text>`);
  });
  const color = (r) => {
    if (r == null) return '#ddd';
    const t = Math.max(-1, Math.min(1, Math.log2(r) / 2)); // ±4× saturates
    const g = t > 0 ? [255 - 130 * t, 255 - 40 * t, 255 - 130 * t] : [255 + 40 * t, 255 + 130 * t, 255 + 130 * t];
    return `rgb(${g.map((v) => Math.round(v)).join(',')})`;
  };
  rows.forEach((p, j) => {
    const y = top + j * ch;
    out.push(`<text x="${left - 8}" y="${y + ch / 2 + 4}" text-anchor="end">${esc(p.label)}</text>`);
    cols.forEach((w, i) => {
      const s = R.speed[p.name][w.name];
      const r = s.n ? ratio(R.speed.dlmalloc?.[w.name]?.median, s.median) : null;
      const x = left + i * cw;
      out.push(`<rect x="${x}" y="${y}" width="${cw - 2}" height="${ch - 2}" fill="${color(r)}"/>`);
      out.push(`<text x="${x + cw / 2}" y="${y + ch / 2 + 4}" text-anchor="middle">${r == null ? (s.exhausted ? 'exhausted' : '—') : `${r.toFixed(2)}×`}</text>`);
    });
    const e = R.efficiency[p.name];
    const x = left + cols.length * cw;
    const v = e && !e.error ? e.mean : null;
    out.push(`<rect x="${x}" y="${y}" width="${cw - 2}" height="${ch - 2}" fill="#eef"/>`);
    if (v != null) out.push(`<rect x="${x}" y="${y}" width="${(cw - 2) * v}" height="${ch - 2}" fill="#99c"/>`);
    out.push(`<text x="${x + cw / 2}" y="${y + ch / 2 + 4}" text-anchor="middle">${v == null ? '—' : `${(v * 100).toFixed(1)} %`}</text>`);
  });
  out.push(`<text x="10" y="${height - 20}" fill="#555">Speedup = dlmalloc's median / this median. Efficiency = bytes live at the first failure / capacity (same capacity for all).</text>`);
  out.push('</svg>');
  return out.join('\n');
}
