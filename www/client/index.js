/**
 * The client module: what the loader imports once the page has loaded
 * (bundled with the wasm-bindgen glue into `m/palaute.<hash>.js`).
 *
 * The loader calls `default(...)` (instantiates the Rust/wasm rules), then
 * `start(L)` with its hand-over object, and routes `window.palaute`'s calls
 * here: `tag`, `feedback`, `ask`.
 */
import { view } from './session.js';
import { record, ask, cut } from './prompt.js';

export { default } from 'palaute-rules';
export { start } from './session.js';
export { ask };

/** Most custom dimensions per page view; longest key and value (characters). */
const MAX_TAGS = 20;
const MAX_TAG_KEY = 40;
const MAX_TAG_VALUE = 200;

/** `palaute.tag(key, value)` (the loader makes both strings): a custom dimension of the page view. Past `MAX_TAGS` keys, new keys are ignored. */
export const tag = (key, value) => {
  key = cut(key, MAX_TAG_KEY);
  const tags = view && view.tags;
  if (key && tags && (tags.has(key) || tags.size < MAX_TAGS)) tags.set(key, cut(value, MAX_TAG_VALUE));
};

/** `palaute.feedback({rating, comment})`: the visitor's answer without UI, sent at once. Ratings off the site's scale are ignored. */
export const feedback = (answer) => {
  const comment = answer && answer.comment;
  if (view) record(answer && answer.rating, typeof comment == 'string' && comment ? comment : undefined);
};
