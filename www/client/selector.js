/**
 * A short CSS-like selector for an element, exactly as web-vitals'
 * `getSelector` builds it: `tag.classes` parts (classes sorted) joined by
 * `>` from the element up, stopping at an element with an id (`#id`) and
 * at 100 characters. `undefined` when `node` is not in a document.
 */
export const selector = (node) => {
  let sel = '';
  try {
    while (node && node.nodeType != 9) {
      const name = node.nodeType == 1 ? node.nodeName.toLowerCase() : node.nodeName.toUpperCase().replace(/^#/, '');
      const part = node.id ? '#' + node.id : [name, ...Array.from(node.classList || []).sort()].join('.');
      if (sel.length + part.length > 99) return sel || part;
      sel = sel ? part + '>' + sel : part;
      if (node.id) break;
      node = node.parentNode;
    }
  } catch (e) {
    /* a node the page made odd: what was built so far */
  }
  return sel || undefined;
};
