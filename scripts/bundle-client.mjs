// Bundles the client's JavaScript half (www/client/index.js) with
// wasm-bindgen's glue into one minified ES module.
//   node scripts/bundle-client.mjs GLUE.js OUT.js
// `palaute-rules` is the glue (the Rust module's exports); `.css` files
// are imported as their minified text (the prompt adopts it as a sheet).
import { build, transform } from 'esbuild';
import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';

const [glue, outfile] = process.argv.slice(2);
await build({
  entryPoints: ['www/client/index.js'],
  bundle: true,
  minify: true,
  format: 'esm',
  target: 'es2020',
  outfile,
  logLevel: 'warning',
  plugins: [
    {
      name: 'palaute',
      setup(b) {
        b.onResolve({ filter: /^palaute-rules$/ }, () => ({ path: resolve(glue) }));
        b.onLoad({ filter: /\.css$/ }, async (args) => {
          const { code } = await transform(await readFile(args.path, 'utf8'), { loader: 'css', minify: true });
          return { contents: `export default ${JSON.stringify(code.trim())}`, loader: 'js' };
        });
      },
    },
  ],
});
