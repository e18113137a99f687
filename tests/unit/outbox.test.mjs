// The outbox's rules (www/client/transport.js), in Node: bounds, snapshots
// replacing older ones, batches under the keepalive quota, backoff.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { backoff, bounded, dueBatches, queued } from '../../www/client/transport.js';

const entry = (id, seq, bytes, next = 0) => ({ id, seq, body: 'x'.repeat(bytes), queued: 1, tries: 0, next });

test('a later snapshot of a page view replaces the earlier one; an earlier never replaces a later', () => {
  let list = queued([], 'a', 1, '{"seq":1}', 10);
  list = queued(list, 'b', 1, '{"seq":1}', 11);
  list = queued(list, 'a', 2, '{"seq":2}', 12);
  assert.deepEqual(list.map((e) => [e.id, e.seq, e.queued]), [['b', 1, 11], ['a', 2, 12]]);
  assert.equal(queued(list, 'a', 1, 'old', 13), list, 'a late, older snapshot is not kept');
});

test('bounded: at most 30 entries and 48 KiB of bodies, the oldest dropped first', () => {
  const many = Array.from({ length: 35 }, (_, i) => entry(`p${i}`, 1, 10));
  assert.deepEqual(bounded(many).map((e) => e.id), many.slice(5).map((e) => e.id));
  const big = [entry('old', 1, 30000), entry('mid', 1, 15000), entry('new', 1, 10000)];
  assert.deepEqual(bounded(big).map((e) => e.id), ['mid', 'new']);
  assert.deepEqual(bounded([entry('huge', 1, 60000)]), [], 'a body over the bound is not kept');
});

test('due entries go in batches under 60 KiB and 50 beacons; entries backing off wait', () => {
  const now = 1000;
  const list = [entry('wait', 1, 100, now + 1), ...Array.from({ length: 120 }, (_, i) => entry(`p${i}`, 1, 100))];
  const batches = dueBatches(list, now);
  assert.deepEqual(batches.map((b) => b.length), [50, 50, 20]);
  assert.ok(batches.flat().every((e) => e.id != 'wait'));
  const heavy = Array.from({ length: 5 }, (_, i) => entry(`h${i}`, 1, 20000));
  const sizes = dueBatches(heavy, now).map((b) => b.reduce((n, e) => n + e.body.length + 1, 1));
  // Three bodies of 20,000 B joined are 60,004 B, under 61,440; a fourth would not fit.
  assert.deepEqual(dueBatches(heavy, now).map((b) => b.length), [3, 2]);
  assert.ok(sizes.every((s) => s < 60 * 1024), String(sizes));
});

test('backoff: 2 s, doubling per failed try, at most 5 minutes', () => {
  assert.deepEqual([1, 2, 3, 4, 8, 9, 40].map(backoff), [2000, 4000, 8000, 16000, 256000, 300000, 300000]);
});
