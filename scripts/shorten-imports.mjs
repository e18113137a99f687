// Shortens the names the wasm module imports from wasm-bindgen's glue (such
// as `__wbg_instanceof_PageTransitionEvent_82193d5b19677567`, mostly hash)
// and the long names of the closures' entry points it exports, to short
// ones, in the module and in the glue alike.
// Every name must occur exactly once in the glue, or nothing is changed.
//   node scripts/shorten-imports.mjs MODULE.wasm GLUE.js
import { readFileSync, writeFileSync } from 'node:fs';

const [wasmPath, gluePath] = process.argv.slice(2);
const wasm = readFileSync(wasmPath);
let glue = readFileSync(gluePath, 'utf8');

const leb = (bytes, at) => {
  let value = 0, shift = 0, byte;
  do { byte = bytes[at++]; value += (byte & 0x7f) * 2 ** shift; shift += 7; } while (byte & 0x80);
  return [value, at];
};
const encodeLeb = (value) => {
  const out = [];
  do { let byte = value & 0x7f; value = Math.floor(value / 128); if (value) byte |= 0x80; out.push(byte); } while (value);
  return Buffer.from(out);
};
const name = (bytes, at) => { const [n, start] = leb(bytes, at); return [bytes.subarray(start, start + n).toString('utf8'), start + n]; };
const encodeName = (text) => Buffer.concat([encodeLeb(Buffer.byteLength(text)), Buffer.from(text)]);
const limits = (bytes, at) => { const flags = bytes[at++]; [, at] = leb(bytes, at); if (flags & 1) [, at] = leb(bytes, at); return at; };

/** Where the section with id `wanted` is in `bytes`: its start, body and end. */
const findSection = (bytes, wanted) => {
  for (let at = 8; at < bytes.length;) {
    const id = bytes[at];
    const [size, body] = leb(bytes, at + 1);
    if (id === wanted) return { start: at, body, end: body + size };
    at = body + size;
  }
  return undefined;
};
const replaceSection = (bytes, section, id, body) =>
  Buffer.concat([bytes.subarray(0, section.start), Buffer.from([id]), encodeLeb(body.length), body, bytes.subarray(section.end)]);

const section = findSection(wasm, 2);
if (!section) throw new Error('no import section');
let at;

// The glue's plain shims (`name: function(args) { body },`), by name: two
// imports whose shims read the same and that have the same type (web-sys
// binds `activeElement` once for `Document` and once for `ShadowRoot`)
// become one import of one shim.
const shims = new Map();
for (const m of glue.matchAll(/\n( +)([\w$]+): function\(([^)]*)\) \{([\s\S]*?)\n\1\},?(?=\n)/g)) {
  shims.set(m[2], { text: m[0], code: `${m[3]}|${m[4]}` });
}
const sameShim = new Map();
const dropped = [];

const [count, first] = leb(wasm, section.body);
const entries = [];
const renamed = new Map();
at = first;
for (let i = 0; i < count; i++) {
  const [module, afterModule] = name(wasm, at);
  const [field, afterField] = name(wasm, afterModule);
  const kind = wasm[afterField];
  let end = afterField + 1;
  if (kind === 0) [, end] = leb(wasm, end); // function: type index
  else if (kind === 1) end = limits(wasm, end + 1); // table: reference type, limits
  else if (kind === 2) end = limits(wasm, end); // memory
  else if (kind === 3) end += 2; // global: value type, mutability
  else if (kind === 4) [, end] = leb(wasm, end + 1); // tag
  else throw new Error(`import kind ${kind}`);
  let short = field;
  const shim = kind === 0 && shims.get(field);
  const same = shim && `${shim.code}|${wasm.subarray(afterField, end).toString('hex')}`;
  if (same && sameShim.has(same)) {
    short = sameShim.get(same);
    dropped.push(shim.text);
  } else if ((module === 'wbg' || module.startsWith('./')) && field.length > 3) {
    short = renamed.get(field) ?? `w${renamed.size.toString(36)}`;
    renamed.set(field, short);
    if (same) sameShim.set(same, short);
  }
  entries.push(Buffer.concat([encodeName(module), encodeName(short), wasm.subarray(afterField, end)]));
  at = end;
}

for (const text of dropped) glue = glue.replace(text, '');
for (const [long, short] of renamed) {
  const uses = glue.split(long).length - 1;
  if (uses !== 1) throw new Error(`${long} occurs ${uses} times in the glue`);
  glue = glue.replace(long, short);
}
const body = Buffer.concat([encodeLeb(count), ...entries]);
let out = replaceSection(wasm, section, 2, body);

// The closures' entry points the module exports to the glue
// (`wasm_bindgen_<hash>___convert__closures_____invoke___…`, over 100
// characters each) get short names the same way.
const exports = findSection(out, 7);
if (exports) {
  const [n, firstExport] = leb(out, exports.body);
  const kept = [];
  let shortened = 0;
  at = firstExport;
  for (let i = 0; i < n; i++) {
    const [field, after] = name(out, at);
    const [, end] = leb(out, after + 1); // kind, index
    let short = field;
    if (field.startsWith('wasm_bindgen_') && field.length > 20) {
      short = `x${(shortened++).toString(36)}`;
      const uses = glue.split(`.${field}(`).length - 1;
      if (uses !== 1) throw new Error(`${field} is called ${uses} times in the glue`);
      glue = glue.replace(`.${field}(`, `.${short}(`);
    } else if (/^__(wbindgen|externref)_/.test(field)) {
      // The runtime's own entry points and table (`__wbindgen_malloc`,
      // `__wbindgen_externrefs`, ...), which the glue reads as
      // `wasm.<name>`, and nothing else.
      short = `y${(shortened++).toString(36)}`;
      const uses = new RegExp(`\\bwasm\\.${field}\\b`, 'g');
      if (glue.split(field).length - 1 !== (glue.match(uses) || []).length) {
        throw new Error(`${field} occurs in the glue other than as wasm.${field}`);
      }
      glue = glue.replace(uses, `wasm.${short}`);
    }
    kept.push(Buffer.concat([encodeName(short), out.subarray(after, end)]));
    at = end;
  }
  const exportBody = Buffer.concat([encodeLeb(n), ...kept]);
  out = replaceSection(out, exports, 7, exportBody);
}
writeFileSync(wasmPath, out);
writeFileSync(gluePath, glue);
console.log(`shortened ${renamed.size} import names; ${dropped.length} imports share another's shim`);
