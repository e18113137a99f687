// Minifies wasm-bindgen's generated glue into the module's one ES module
// (no hand-written JavaScript goes into it: the browser work is the Rust
// module's).
//   node scripts/bundle-client.mjs GLUE.js OUT.js
import { build } from 'esbuild';

const [glue, outfile] = process.argv.slice(2);
await build({
  entryPoints: [glue],
  bundle: true,
  minify: true,
  format: 'esm',
  target: 'es2020',
  outfile,
  logLevel: 'warning',
});
