// The test oracle: the web-vitals library (its attribution build), in the same page load, reporting
// every metric change to the test server (`?t=` tags the page view).
//
// With `?after=palaute` it starts once palaute's loader has run, as on a
// site that puts palaute first in <head>: then on a back/forward-cache
// restore both libraries' frame callbacks run in the same order as their
// scripts, and both read the clock in the same frame.
const params = new URLSearchParams(location.search);
const tag = params.get('t') || 'untagged';
// Reports in the order web-vitals made them: the server keeps the latest.
let reports = 0;
const report = (metric) => {
  const a = metric.attribution || {};
  const attribution = metric.name === 'LCP'
    ? { target: a.target, url: a.url, parts: [a.timeToFirstByte, a.resourceLoadDelay, a.resourceLoadDuration, a.elementRenderDelay] }
    : metric.name === 'INP'
      ? { target: a.interactionTarget, parts: [a.inputDelay, a.processingDuration, a.presentationDelay] }
      : {};
  if (metric.name === 'INP') attribution.script = a.longestScript && {
    url: a.longestScript.entry.sourceURL, invoker: a.longestScript.entry.invokerType,
    fn: a.longestScript.entry.sourceFunctionName, ms: a.longestScript.intersectingDuration, subpart: a.longestScript.subpart,
  };
  const query = new URLSearchParams({
    t: tag, seq: String(++reports), name: metric.name, value: String(metric.value), nav: metric.navigationType, attribution: JSON.stringify(attribution),
    navId: String(metric.navigationId), navStart: String(metric.navigationStartTime || 0),
  });
  const send = () => navigator.sendBeacon('/wv?' + query);
  // While visible, send in a task of its own, so that reporting one metric
  // does not delay the next metric's frame callback (and its clock reading).
  // The final reports come as the page is hidden: send those at once.
  if (document.visibilityState === 'hidden') send();
  else setTimeout(send);
};
const palauteFirst = () => new Promise((ready) => {
  const check = () => (window.palaute && window.palaute.L ? ready() : setTimeout(check, 5));
  check();
});
if (params.get('after') === 'palaute') await palauteFirst();
const { onTTFB, onFCP, onLCP, onCLS, onINP } = await import('/web-vitals.attribution.js');
// `reportSoftNavs`: a single-page app's route changes are views of their own.
for (const on of [onTTFB, onFCP, onLCP, onCLS, onINP]) on(report, { reportAllChanges: true, reportSoftNavs: true });
