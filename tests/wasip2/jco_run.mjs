// Runs one wasm32-wasip2 component in Node through jco: transpiles it to an
// ES module (jco-transpile), gives the preview 2 shim the arguments,
// environment and preopened directory of a spec file, and calls
// `wasi:cli/run#run`: prints the guest's stdout, exits with its status. With
// "shout" in the spec (examples/wasip2-words), calls that export instead and
// prints one JSON line: `usage` before and after, and the last result. With
// "oom" ({ "bytes": n }), asks nogrow's `check-alloc` whether a string of n
// bytes fits, then passes one in, and prints one JSON line: the state block
// before and after `check-alloc`, the answers of `check-alloc` and `explain`,
// the error the call ended with, and what a call of `explain` after it
// threw or returned.
//
//     node tests/wasip2/jco_run.mjs SPEC.json
//
// SPEC: { "wasm": path, "out": directory for the transpiled module,
//         "args": [...], "env": {...}, "preopen": host directory (as "."),
//         "shout": { "text": string, "calls": n } (optional),
//         "oom": { "bytes": n, "interface": nogrow's WIT interface } (optional) }
import { readFileSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import { transpile, writeFiles } from '@bytecodealliance/jco-transpile';
import { _setArgs, _setEnv } from '@bytecodealliance/preview2-shim/cli';
import { _setPreopens } from '@bytecodealliance/preview2-shim/filesystem';

const spec = JSON.parse(readFileSync(process.argv[2], 'utf8'));

// The transpiled module imports the shim by these URLs: the very modules
// configured here, wherever the output directory is.
const shim = (name) => import.meta.resolve(`@bytecodealliance/preview2-shim/${name}`);
const map = Object.fromEntries(
  ['cli', 'clocks', 'filesystem', 'http', 'io', 'random', 'sockets'].map((n) => [
    `wasi:${n}/*`,
    `${shim(n)}#*`,
  ]),
);
const { files } = await transpile(spec.wasm, {
  name: 'guest',
  outDir: spec.out,
  map,
  quiet: true,
});
await writeFiles(files);

_setArgs(spec.args);
_setEnv(spec.env);
_setPreopens({ '.': spec.preopen });
const guest = await import(pathToFileURL(`${spec.out}/guest.js`).href);
/** The message of what `f` threw, or null if it returned. */
function thrown(f) {
  try {
    f();
    return null;
  } catch (e) {
    return `${e?.message ?? e}\n${e?.stack ?? ''}`;
  }
}

if (spec.oom) {
  const state = guest[spec.oom.interface];
  const before = state.read();
  const refused = state.checkAlloc(spec.oom.bytes, 1) ?? null;
  const recorded = state.read();
  const fits = state.checkAlloc(1000, 1) ?? null;
  const explained = state.explain() ?? null;
  const trap = thrown(() => guest.shout('x'.repeat(spec.oom.bytes)));
  let explainedAfter = null;
  const after = thrown(() => {
    explainedAfter = state.explain() ?? null;
  });
  const out = { before, refused, recorded, fits, explained, trap, after, explainedAfter };
  console.log(JSON.stringify(out));
} else if (spec.shout) {
  const before = guest.usage();
  let out = null;
  for (let i = 0; i < spec.shout.calls; i++) out = guest.shout(spec.shout.text);
  console.log(JSON.stringify({ before, after: guest.usage(), out }));
} else {
  const run = guest.run ?? guest['wasi:cli/run@0.2.0'];
  run.run();
}
