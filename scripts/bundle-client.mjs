// Minifies wasm-bindgen's generated glue into the module's one ES module
// (no hand-written JavaScript goes into it: the browser work is the Rust
// module's).
//   node scripts/bundle-client.mjs GLUE.js OUT.js
import { resolve } from 'node:path';
import { build } from 'esbuild';

const [glue, outfile] = process.argv.slice(2);
// Only what the loader calls is exported, so that the rest of the glue's
// entry points are left out: the loader compiles the module itself and
// instantiates it with `initSync`, so the glue's fetching `default` (its
// MIME-type fallback and their messages) is not shipped. Its `console`
// warnings about deprecated arguments are dropped too.
await build({
  stdin: {
    contents: `export { initSync, start, tag, feedback, ask } from ${JSON.stringify(resolve(glue))};`,
    resolveDir: process.cwd(),
  },
  bundle: true,
  minify: true,
  format: 'esm',
  target: 'es2020',
  outfile,
  drop: ['console'],
  logLevel: 'warning',
});
