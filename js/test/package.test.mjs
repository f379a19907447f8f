// The npm package of js/, used the way people install it: `npm pack`, then
// `npm install <tarball>` into a scratch project, imported by name in Node, a
// strict nodenext TypeScript consumer type-checked against the packaged types,
// and that consumer bundled by esbuild (browser and node) and run against a
// real guest. Needs `cargo xtask build-guests` (greet-fail) and the root's npm
// packages (typescript, esbuild).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import {
  existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const jsDir = fileURLToPath(new URL('..', import.meta.url));
const root = fileURLToPath(new URL('../..', import.meta.url));
const guestPath = join(root, 'target/guests/greet-fail.wasm');
const GREETING = 'Ahoy there, Testy McTestface!';

let work; // temp dir: the tarball and the scratch project
let project; // the scratch project
let tarball;
let packed; // file paths in the tarball

function sh(cmd, args, cwd) {
  const r = spawnSync(cmd, args, { cwd, encoding: 'utf8' });
  if (r.error) throw r.error;
  assert.equal(r.status, 0, `${cmd} ${args.join(' ')} (in ${cwd}) failed:\n${r.stdout}\n${r.stderr}`);
  return r;
}

before(() => {
  work = mkdtempSync(join(tmpdir(), 'nogrow-npm-'));
  const out = sh('npm', ['pack', '--json', '--pack-destination', work], jsDir).stdout;
  const [info] = JSON.parse(out);
  tarball = join(work, info.filename);
  packed = info.files.map((f) => f.path).sort();
  console.log(`npm pack: ${info.filename} (${info.files.length} files, ${info.size} bytes)`);
  for (const f of info.files) console.log(`  ${f.path} ${f.size}`);

  project = join(work, 'consumer');
  mkdirSync(project);
  writeFileSync(join(project, 'package.json'), JSON.stringify(
    { name: 'nogrow-consumer', private: true, version: '0.0.0', type: 'module' }, null, 2,
  ));
  sh('npm', ['install', '--offline', '--no-audit', '--no-fund', '--ignore-scripts', tarball], project);
});

after(() => {
  if (work) rmSync(work, { recursive: true, force: true });
});

test('npm pack ships the module, its types, the README and the licenses, and nothing else', () => {
  for (const f of packed) {
    assert.ok(!f.includes('/'), `ships ${f} from a subdirectory (test/ or bench/)`);
  }
  for (const f of ['nogrow.mjs', 'nogrow.d.ts', 'nogrow.d.mts', 'README.md', 'LICENSE-MIT', 'LICENSE-APACHE', 'package.json']) {
    assert.ok(packed.includes(f), `${f} is not in the tarball`);
  }
  // Every runtime module and declaration file in js/, by their extension.
  const runtime = readdirSync(jsDir).filter(
    (f) => /\.(mjs|d\.ts|d\.mts)$/.test(f) && statSync(join(jsDir, f)).isFile(),
  );
  const expected = [...runtime, 'README.md', 'LICENSE-MIT', 'LICENSE-APACHE', 'package.json'].sort();
  assert.deepEqual(packed, expected);
  // What a shipped module imports by relative path is shipped too.
  for (const f of packed.filter((p) => p.endsWith('.mjs'))) {
    const src = readFileSync(join(jsDir, f), 'utf8');
    for (const [, spec] of src.matchAll(/(?:from|import)\s*\(?\s*['"](\.\/[^'"]+)['"]/g)) {
      assert.ok(packed.includes(spec.slice(2)), `${f} imports ${spec}, which is not shipped`);
    }
  }
  for (const license of ['LICENSE-MIT', 'LICENSE-APACHE']) {
    assert.equal(
      readFileSync(join(jsDir, license), 'utf8'),
      readFileSync(join(root, license), 'utf8'),
      `js/${license} is the root's text`,
    );
  }
});

test('installed from the tarball, `nogrow` imports by name in Node with every export of nogrow.mjs', async () => {
  const installed = join(project, 'node_modules/nogrow');
  assert.ok(existsSync(join(installed, 'package.json')), 'node_modules/nogrow exists');
  const script = `import('nogrow').then((m) => console.log(JSON.stringify({
    names: Object.keys(m).sort(),
    kinds: Object.fromEntries(Object.entries(m).map(([k, v]) => [k, typeof v])),
    offsets: m.STATE_OFFSETS,
    url: import.meta.resolve('nogrow'),
  })))`;
  const r = sh(process.execPath, ['--input-type=module', '-e', script], project);
  const got = JSON.parse(r.stdout);
  const source = await import('../nogrow.mjs');
  assert.deepEqual(got.names, Object.keys(source).sort(), 'the packaged module exports what js/nogrow.mjs exports');
  for (const fn of ['attach', 'describeFailure', 'growthNotifier', 'NogrowError', 'OutOfHeapMemory']) {
    assert.equal(got.kinds[fn], 'function', `${fn} is exported`);
  }
  for (const value of ['STATE_OFFSETS', 'STATE_SIZE', 'ABI_VERSION', 'PAGE_SIZE']) {
    assert.ok(value in got.kinds, `${value} is exported`);
  }
  assert.deepEqual(got.offsets, { ...source.STATE_OFFSETS });
  assert.equal(got.url, pathToFileURL(join(installed, 'nogrow.mjs')).href, "'nogrow' resolves to the installed copy");
  // The exports map is the package's surface: files behind it are not reachable.
  const deep = spawnSync(process.execPath, ['--input-type=module', '-e', "import('nogrow/README.md')"], {
    cwd: project, encoding: 'utf8',
  });
  assert.notEqual(deep.status, 0);
  assert.match(deep.stderr, /ERR_PACKAGE_PATH_NOT_EXPORTED/);
});

/** A host written in TypeScript against the package: typed exports, views, stats, failures. */
const CONSUMER = `import {
  attach, describeFailure, OutOfHeapMemory, STATE_OFFSETS, PAGE_SIZE,
  type Failure, type NogrowViews, type PolicyName,
} from 'nogrow';

/** The exports of the greeting guests. */
type GreetExports = {
  memory: WebAssembly.Memory;
  get_salutation_ptr(): number;
  get_name_ptr(): number;
  get_msg_ptr(): number;
  set_name(salutationLen: number, nameLen: number): number;
  repeat_greeting(times: number): number;
};

export interface Greeting {
  text: string;
  policy: PolicyName | null;
  generation: number;
  pagesBefore: number;
  pagesAfter: number;
  /** The generation read from the state block at STATE_OFFSETS.generation. */
  generationInBlock: number;
  /** Set when repeating the greeting ran out of heap memory. */
  failure: Failure | null;
  failureText: string | null;
}

export async function greet(bytes: BufferSource, salutation: string, name: string, times: number): Promise<Greeting> {
  const { instance } = await WebAssembly.instantiate(bytes, {});
  const nv: NogrowViews<GreetExports> = attach<GreetExports>(instance, { resizable: 'auto' });
  const e = nv.calls;
  const pagesBefore = nv.byteLength / PAGE_SIZE;
  const salLen: number = nv.writeString(e.get_salutation_ptr(), salutation, 16);
  const nameLen: number = nv.writeString(e.get_name_ptr(), name, 16);
  const text = nv.readString(e.get_msg_ptr(), e.set_name(salLen, nameLen));
  let failure: Failure | null = null;
  let failureText: string | null = null;
  try {
    e.repeat_greeting(times);
  } catch (err) {
    if (!(err instanceof OutOfHeapMemory)) throw err;
    failure = err.failure;
    failureText = describeFailure(failure);
  }
  const statePtr = nv.statePtr;
  if (statePtr === null) throw new Error('not a nogrow guest');
  return {
    text,
    policy: nv.stats()?.policy ?? null,
    generation: nv.generation,
    pagesBefore,
    pagesAfter: nv.byteLength / PAGE_SIZE,
    generationInBlock: nv.dataView.getUint32(statePtr + STATE_OFFSETS.generation, true),
    failure,
    failureText,
  };
}
`;

const TSCONFIG = {
  compilerOptions: {
    strict: true,
    module: 'nodenext',
    moduleResolution: 'nodenext',
    target: 'es2022',
    lib: ['es2022', 'dom'],
    types: [],
    noEmit: true,
    skipLibCheck: false,
    verbatimModuleSyntax: true,
    exactOptionalPropertyTypes: true,
    noUncheckedIndexedAccess: true,
  },
  include: ['*.ts'],
};

test('a strict nodenext TypeScript consumer type-checks against the packaged types', async () => {
  writeFileSync(join(project, 'index.ts'), CONSUMER);
  // Every runtime export is declared: a value import of each name type-checks.
  const names = Object.keys(await import('../nogrow.mjs')).sort();
  writeFileSync(
    join(project, 'every-export.ts'),
    `import { ${names.join(', ')} } from 'nogrow';\nexport const all = [${names.join(', ')}];\n`,
  );
  writeFileSync(join(project, 'tsconfig.json'), JSON.stringify(TSCONFIG, null, 2));
  const tsc = join(root, 'node_modules/.bin/tsc');
  const version = sh(tsc, ['--version'], project).stdout.trim();
  const r = spawnSync(tsc, ['-p', 'tsconfig.json', '--listFiles'], { cwd: project, encoding: 'utf8' });
  assert.equal(r.status, 0, `tsc (${version}) failed:\n${r.stdout}${r.stderr}`);
  // The types came from the installed package, through its exports map.
  assert.match(r.stdout, /node_modules\/nogrow\/nogrow\.d\.mts/);
  assert.match(r.stdout, /node_modules\/nogrow\/nogrow\.d\.ts/);
});

for (const platform of ['browser', 'node']) {
  test(`esbuild bundles the consumer for ${platform} with no warnings, and the bundle greets through greet-fail`, async () => {
    if (!existsSync(join(project, 'index.ts'))) writeFileSync(join(project, 'index.ts'), CONSUMER);
    const esbuild = await import('esbuild');
    const outfile = join(project, `dist/${platform}.mjs`);
    const result = await esbuild.build({
      absWorkingDir: project,
      entryPoints: ['index.ts'],
      bundle: true,
      format: 'esm',
      platform,
      outfile,
      metafile: true,
      logLevel: 'silent',
    });
    assert.deepEqual(result.errors, []);
    assert.deepEqual(result.warnings, [], 'esbuild warnings');
    const inputs = Object.keys(result.metafile.inputs);
    assert.ok(inputs.includes('node_modules/nogrow/nogrow.mjs'), `bundled from the package: ${inputs}`);
    const output = result.metafile.outputs[Object.keys(result.metafile.outputs)[0]];
    assert.deepEqual(output.imports, [], 'the bundle imports nothing at run time');

    assert.ok(existsSync(guestPath), `${guestPath} is missing: run \`cargo xtask build-guests\``);
    const { greet } = await import(pathToFileURL(outfile).href);
    const r = await greet(readFileSync(guestPath), 'Ahoy there', 'Testy McTestface', 1_000_000);
    assert.equal(r.text, GREETING);
    assert.equal(r.policy, 'Fail');
    assert.equal(r.generation, 0);
    assert.equal(r.generationInBlock, 0);
    assert.equal(r.pagesAfter, r.pagesBefore, 'Fail never grows memory');
    assert.equal(r.failure?.size, 29_000_000);
    assert.match(r.failureText, /^out of heap memory: requested 29000000 bytes \(align 1\); .*policy Fail/);
  });
}
