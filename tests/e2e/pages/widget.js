// A third-party widget (served from a second origin, with CORS and
// Timing-Allow-Origin): its click handler is what makes the page slow to
// respond. ?ms= on the page sets how long it blocks.
const cost = Number(new URLSearchParams(location.search).get('ms') || 200);
document.getElementById('buy').addEventListener('click', function slowWidgetHandler() {
  const until = performance.now() + cost;
  while (performance.now() < until) { /* a heavy third-party handler */ }
  document.getElementById('out').textContent = 'Added to the cart';
});
