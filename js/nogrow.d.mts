// Types for `import … from './nogrow.mjs'` under TypeScript's node16/nodenext
// resolution, which looks for nogrow.d.mts next to nogrow.mjs.
export * from './nogrow.js';
