// The test oracle: the web-vitals library, in the same page load, reporting
// every metric change to the test server (`?t=` tags the page view).
//
// With `?after=palaute` it starts once palaute's loader has run, as on a
// site that puts palaute first in <head>: then on a back/forward-cache
// restore both libraries' frame callbacks run in the same order as their
// scripts, and both read the clock in the same frame.
const params = new URLSearchParams(location.search);
const tag = params.get('t') || 'untagged';
const report = (metric) => {
  const query = new URLSearchParams({ t: tag, name: metric.name, value: String(metric.value), nav: metric.navigationType });
  navigator.sendBeacon('/wv?' + query);
};
const palauteFirst = () => new Promise((ready) => {
  const check = () => (window.palaute && window.palaute.L ? ready() : setTimeout(check, 5));
  check();
});
if (params.get('after') === 'palaute') await palauteFirst();
const { onTTFB, onFCP, onLCP, onCLS, onINP } = await import('/web-vitals.js');
for (const on of [onTTFB, onFCP, onLCP, onCLS, onINP]) on(report, { reportAllChanges: true });
