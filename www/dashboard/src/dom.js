// Building the page safely: every string becomes a text node or an
// attribute value, never markup. Nothing here parses HTML.

/**
 * `el('td', { class: 'num' }, 'text', childNode, ...)`. Attributes are set
 * with setAttribute (names starting with "on" are refused); children that
 * are strings or numbers become text nodes; null/undefined/false are skipped.
 */
export function el(tag, attributes = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) {
    if (value === undefined || value === null || value === false) continue;
    if (/^on/i.test(name)) throw new Error(`event handler attribute ${name} refused`);
    node.setAttribute(name, value === true ? '' : String(value));
  }
  append(node, children);
  return node;
}

function append(node, children) {
  for (const child of children.flat()) {
    if (child === undefined || child === null || child === false) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
}

/** Replaces a node's children. */
export function fill(node, ...children) {
  node.replaceChildren();
  append(node, children);
  return node;
}

/** A number of milliseconds as "180 ms" or "2.41 s"; "–" when unknown. */
export function ms(value) {
  if (value === null || value === undefined) return '–';
  return value >= 1000 ? `${(value / 1000).toFixed(2)} s` : `${Math.round(value)} ms`;
}

/** A 0..1 rate as "12.3%"; "–" when unknown. */
export function percent(rate) {
  return rate === null || rate === undefined ? '–' : `${(rate * 100).toFixed(1)}%`;
}

/** A count with thousands separators. */
export function count(n) {
  return Number(n || 0).toLocaleString('en-US');
}

/** A vital's value in its unit. */
export function vitalValue(vital, value) {
  if (value === null || value === undefined) return '–';
  return vital === 'cls' ? value.toFixed(3) : ms(value);
}

/** Web Vitals thresholds: [good ≤, poor >]. */
export const THRESHOLDS = {
  ttfb_ms: [800, 1800], fcp_ms: [1800, 3000], lcp_ms: [2500, 4000], inp_ms: [200, 500], cls: [0.1, 0.25],
};

/** `good`, `needs-improvement` or `poor` for a vital's value. */
export function rating(vital, value) {
  if (value === null || value === undefined) return 'none';
  const [good, poor] = THRESHOLDS[vital];
  return value <= good ? 'good' : value > poor ? 'poor' : 'needs-improvement';
}
