// The host side of the real workloads: hands a document to the guest the way
// a real host does (a block from the guest's allocator, then the bytes), reads
// the result back and checks it against what JavaScript computes itself.

import { isDeepStrictEqual } from 'node:util';

/** Copies `doc` into a block from the guest's allocator (`input_alloc`);
 * false if the allocator had no room. */
export function copyIn(e, doc) {
  const ptr = e.input_alloc(doc.length) >>> 0;
  if (ptr === 0) return false;
  new Uint8Array(e.memory.buffer, ptr, doc.length).set(doc);
  return true;
}

/** The guest's last result (`output_ptr`, `output_len`), copied out. */
export function readOutput(e) {
  const ptr = e.output_ptr() >>> 0;
  const len = e.output_len() >>> 0;
  return Buffer.from(new Uint8Array(e.memory.buffer, ptr, len));
}

/** Runs workload `w` once on a fresh instance's `e` with `doc` copied in.
 * `{ ok: true, out }`, or `{ ok: false }` when the allocator ran out (the
 * guest traps: std aborts on a failed allocation). Any other failure throws. */
export function runOnce(e, w, doc) {
  if (!copyIn(e, doc)) return { ok: false };
  try {
    if (e[w.export](1, 1) !== 0) throw new Error(`${w.name}: the guest rejected its input`);
  } catch (err) {
    if (err instanceof WebAssembly.RuntimeError) return { ok: false };
    throw err;
  }
  return { ok: true, out: readOutput(e) };
}

/** Throws unless `out` is the right result of workload `w` on `doc`. JSON:
 * the guest's serialization parses to a value deep-equal to the document
 * (key order aside: serde_json's `Value` sorts keys). regex: the summary
 * equals the one computed here with equivalent JavaScript patterns. */
export function checkResult(w, doc, out) {
  const text = out.toString('utf8');
  if (w.check === 'json') {
    if (!isDeepStrictEqual(JSON.parse(text), JSON.parse(doc.toString('utf8')))) {
      throw new Error(`${w.name}: WRONG RESULT: the re-serialized document differs from the input`);
    }
  } else if (w.check === 'regex') {
    const want = regexSummary(doc.toString('utf8'));
    const got = JSON.parse(text);
    if (!isDeepStrictEqual(got, want)) {
      throw new Error(`${w.name}: WRONG RESULT: guest ${text} != host ${JSON.stringify(want)}`);
    }
  } else throw new Error(`${w.name}: no check named ${w.check}`);
}

// The guest's patterns (bench/guest/src/real.rs) in JavaScript. Rust's `\w`
// is Unicode-aware; JavaScript's is ASCII-only even with `u`, so the class is
// spelled out as Rust's regex-syntax defines it, and `\b` becomes lookarounds
// on it. `\b\w+\b` matches exactly the maximal runs of word characters.
const W = String.raw`[\p{Alphabetic}\p{M}\p{Nd}\p{Pc}\p{Join_Control}]`;
const WORDS = new RegExp(`${W}+`, 'gu');
const IDENTS = new RegExp(String.raw`(?<!${W})[A-Z][a-z0-9]+(?:[A-Z][a-z0-9]+)+(?!${W})`, 'gu');
const LINKS = /<a href=\\"([^"\\]+)\\"/gu;
const NUMBERS = new RegExp(String.raw`(?<!${W})\p{Nd}+(?:\.\p{Nd}+)?(?!${W})`, 'gu');

/** What the guest's `regex` workload reports for `text`. */
export function regexSummary(text) {
  const words = text.match(WORDS) ?? [];
  const idents = new Map();
  let identTotal = 0;
  for (const [m] of text.matchAll(IDENTS)) {
    idents.set(m, (idents.get(m) ?? 0) + 1);
    identTotal++;
  }
  let top = ['', 0];
  for (const [k, v] of idents) {
    if (v > top[1] || (v === top[1] && k < top[0])) top = [k, v];
  }
  const links = [...text.matchAll(LINKS)].map((m) => m[1]);
  const numbers = text.match(NUMBERS) ?? [];
  return {
    words: words.length,
    distinct_words: new Set(words).size,
    idents: identTotal,
    distinct_idents: idents.size,
    top_ident: top[0],
    top_ident_count: top[1],
    links: links.length,
    distinct_links: new Set(links).size,
    numbers: numbers.length,
    number_bytes: numbers.reduce((a, n) => a + Buffer.byteLength(n), 0),
  };
}
