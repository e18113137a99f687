// The module's JavaScript reads each metric from the Rust rules by index
// (`rules.metric(i)`), in the declaration order of `vitals::view::Metric`.
// This checks, from both sources, that every index the JavaScript reads is
// the variant it means: a reordered enum or a mistyped index fails here.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';

const root = new URL('../../', import.meta.url);
const read = (path) => readFileSync(new URL(path, root), 'utf8');

/** The variants of `pub enum Metric`, in declaration order. */
function variants() {
  const source = read('src/vitals/view.rs');
  const body = source.match(/pub enum Metric \{([\s\S]*?)\n\}/);
  assert.ok(body, 'pub enum Metric not found in src/vitals/view.rs');
  return body[1]
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line && !line.startsWith('//') && !line.startsWith('#'))
    .map((line) => line.replace(/,$/, ''));
}

/** What the JavaScript stores from `metric(i)`, by index: `target <- i`. */
function reads() {
  const source = read('www/client/session.js');
  const found = new Map();
  for (const [, target, index] of source.matchAll(/([\w.]+)\s*[:=]\s*metric\((\d+)\)/g)) found.set(target, Number(index));
  for (const [, index] of source.matchAll(/view\.held\.get\(metric\((\d+)\)\)/g)) found.set('inp interaction', Number(index));
  return found;
}

test('every metric the module reads by index is the Rust variant it means', () => {
  const order = variants();
  assert.equal(order.length, 11, `Metric variants: ${order}`);
  const meant = {
    'b.ttfb_ms': 'Ttfb',
    'b.fcp_ms': 'Fcp',
    'b.lcp_ms': 'Lcp',
    'b.dcl_ms': 'Dcl',
    'b.load_ms': 'Load',
    'b.cls': 'Cls',
    'b.inp_ms': 'Inp',
    'inp interaction': 'InpInteraction',
    input_delay: 'InpInputDelay',
    processing: 'InpProcessing',
    presentation: 'InpPresentation',
  };
  const found = reads();
  assert.deepEqual([...found.keys()].sort(), Object.keys(meant).sort(), 'the reads of session.js');
  for (const [target, variant] of Object.entries(meant)) {
    assert.equal(order[found.get(target)], variant, `${target} reads metric(${found.get(target)})`);
  }
});
