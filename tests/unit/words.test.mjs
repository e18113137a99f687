// The prompt's language choice and words (www/client/words.js), in Node:
// the function the browser runs, imported as it is.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { choose, languages } from '../../www/client/words.js';

test('chooses data-lang, then the first of the browser languages it speaks, then English', () => {
  const cases = [
    ['fi', ['de-DE'], 'fi'],
    ['sv-SE', [], 'sv'],
    ['PL', [], 'pl'],
    ['ja', ['ja-JP', 'fr-CA', 'de'], 'fr'],
    ['', ['es-419', 'en'], 'es'],
    [undefined, ['zh-CN', 'ko'], 'en'],
    [undefined, undefined, 'en'],
    ['', ['de_AT'], 'de'],
  ];
  for (const [requested, preferred, expected] of cases) {
    assert.equal(choose(requested, preferred).lang, expected, `${requested} ${preferred}`);
  }
});

test('every language says everything, without markup characters', () => {
  const fields = 'lang label question good poor five1 five2 five3 five4 five5 comment send skip close thanks'.split(' ');
  assert.deepEqual(languages().map((w) => w.lang), ['en', 'fi', 'pl', 'sv', 'de', 'fr', 'es']);
  for (const words of languages()) {
    for (const field of fields) {
      assert.ok(words[field], `${words.lang}: ${field}`);
      assert.doesNotMatch(words[field], /[<>&"]/, `${words.lang}: ${field}`);
    }
  }
  assert.equal(choose('de').question, 'Wie schnell war diese Seite für Sie?');
  assert.equal(choose('fi').good, 'Hyvä');
});
