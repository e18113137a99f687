// The palaute dashboard: sign in with a site's analyst token, pick a period
// and filters, and read the site's speed, the visitors it loses to slowness
// and what they said. Every site-supplied string (URLs, comments, tags,
// keys) is rendered as text through `el`.

import { el, fill, ms, percent, count, vitalValue, rating } from './dom.js';
import { session, signIn, signOut, get, ApiError } from './api.js';
import { chart } from './charts.js';

const VITALS = [
  ['lcp_ms', 'LCP', 'Largest Contentful Paint'],
  ['inp_ms', 'INP', 'Interaction to Next Paint'],
  ['cls', 'CLS', 'Cumulative Layout Shift'],
  ['fcp_ms', 'FCP', 'First Contentful Paint'],
  ['ttfb_ms', 'TTFB', 'Time to First Byte'],
];
// What `by=` and the filters take, as GET .../dimensions says (with the
// tag keys of the period); read at sign-in and again with each period.
let vocabulary = { breakdowns: [], filters: [] };

const app = document.getElementById('app');
const state = { from: '7d', to: '', filters: {}, metric: 'lcp', by: 'device' };
const DAY = 86_400_000;

function main() {
  if (session()) dashboard();
  else signInForm();
}

function signInForm(message) {
  const site = el('input', { id: 'site', name: 'site', required: true, autocomplete: 'username', value: session()?.site || '' });
  const token = el('input', { id: 'token', name: 'token', type: 'password', required: true, autocomplete: 'current-password' });
  const form = el('form', { class: 'signin', 'aria-labelledby': 'signin-title' },
    el('h2', { id: 'signin-title' }, 'Sign in'),
    el('p', {}, 'Use the analyst token printed by ', el('code', {}, 'palaute-collector site add'), '.'),
    message && el('p', { class: 'error', role: 'alert' }, message),
    el('label', { for: 'site' }, 'Site'), site,
    el('label', { for: 'token' }, 'Analyst token'), token,
    el('button', { type: 'submit' }, 'Sign in'));
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    signIn(site.value.trim(), token.value.trim());
    dashboard();
  });
  fill(app, form);
  site.value ? token.focus() : site.focus();
}

/** The period and filters as query parameters. */
function params(extra = {}) {
  return { from: state.from, to: state.to, ...state.filters, ...extra };
}

function toolbar() {
  const period = el('select', { id: 'period', 'aria-label': 'Period' },
    ...[['24h', 'Last 24 hours'], ['7d', 'Last 7 days'], ['30d', 'Last 30 days'], ['90d', 'Last 90 days']].map(([value, label]) =>
      el('option', { value, selected: state.from === value }, label)));
  // A date range, when given, overrides the preset (both days included).
  const fromDate = el('input', { id: 'from', name: 'from', type: 'date', value: /^\d{4}-/.test(state.from) ? state.from : '' });
  const toDate = el('input', { id: 'to', name: 'to', type: 'date', value: state.to ? new Date(Date.parse(state.to) - DAY).toISOString().slice(0, 10) : '' });
  const filters = vocabulary.filters.map((name) => {
    const input = el('input', { id: `filter-${name}`, name, value: state.filters[name] || '', placeholder: 'any', size: 12 });
    return el('span', { class: 'filter' }, el('label', { for: `filter-${name}` }, name.replace('_', ' ')), input);
  });
  const form = el('form', { class: 'toolbar', 'aria-label': 'Period and filters' },
    el('span', { class: 'filter' }, el('label', { for: 'period' }, 'period'), period),
    el('span', { class: 'filter' }, el('label', { for: 'from' }, 'from'), fromDate),
    el('span', { class: 'filter' }, el('label', { for: 'to' }, 'to'), toDate), ...filters,
    el('button', { type: 'submit' }, 'Apply'),
    el('button', { type: 'button', class: 'quiet', id: 'signout' }, 'Sign out'));
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    state.from = fromDate.value || period.value;
    state.to = toDate.value ? new Date(Date.parse(toDate.value) + DAY).toISOString().slice(0, 10) : '';
    state.filters = Object.fromEntries(vocabulary.filters.map((name) => [name, form.elements[name].value.trim()]).filter(([, v]) => v));
    load(true);
  });
  form.querySelector('#signout').addEventListener('click', () => { signOut(); signInForm(); });
  return form;
}

function section(id, title, ...controls) {
  return el('section', { id, class: 'panel', 'aria-labelledby': `${id}-title` },
    el('div', { class: 'panel-head' }, el('h2', { id: `${id}-title` }, title), ...controls),
    el('div', { class: 'panel-body' }, el('p', { class: 'muted' }, 'Loading…')));
}

async function dashboard() {
  try {
    vocabulary = await get('dimensions', { from: state.from, to: state.to });
  } catch (error) {
    if (error instanceof ApiError && (error.status === 401 || error.status === 404)) {
      signOut();
      return signInForm('That site and token do not match. Try again.');
    }
    return fill(app, el('p', { class: 'error', role: 'alert' }, `Could not load: ${error.message}`));
  }
  const metric = el('select', { id: 'metric', 'aria-label': 'Metric' },
    ...VITALS.map(([field, short]) => el('option', { value: field.replace('_ms', ''), selected: state.metric === field.replace('_ms', '') }, short)));
  metric.addEventListener('change', () => { state.metric = metric.value; loadTimeseries(); });
  const by = el('select', { id: 'by', 'aria-label': 'Break down by' });
  byOptions(by);
  by.addEventListener('change', () => { state.by = by.value; loadBreakdown(); });
  fill(app,
    el('p', { class: 'site' }, 'Site ', el('strong', {}, session().site)),
    toolbar(),
    el('div', { id: 'status', role: 'status' }),
    el('section', { id: 'cards', class: 'cards', 'aria-label': 'Summary' }),
    section('changed', 'What changed'),
    section('timeseries', 'Over time', metric),
    section('abandonment', 'Visitors who leave while waiting'),
    section('satisfaction', 'Satisfaction by load time'),
    section('pages', 'Pages'),
    section('frustration', 'Elements visitors fight with'),
    section('hours', 'Hour of day (UTC)'),
    section('navigations', 'Page loads and single-page app routes'),
    section('scripts', 'What makes your pages slow to respond'),
    section('breakdown', 'Breakdown', by),
    section('answer', 'Feedback to answer'),
    section('feedback', 'Feedback'));
  load();
}

/** The breakdowns offered, as the API lists them. */
function byOptions(select) {
  if (!vocabulary.breakdowns.includes(state.by)) state.by = vocabulary.breakdowns[0];
  fill(select, ...vocabulary.breakdowns.map((d) => el('option', { value: d, selected: state.by === d }, d.replace('_', ' '))));
}

/** The tag keys of a new period. */
async function loadDimensions() {
  vocabulary = await latest('dimensions', 'dimensions', { from: state.from, to: state.to });
  byOptions(document.getElementById('by'));
}

function body(id) {
  return document.querySelector(`#${id} .panel-body`);
}

/** Thrown when a panel's answer arrives after a newer request for it. */
class Stale extends Error {}
const requested = new Map();

/** `get`, for a panel: only the panel's newest request may fill it. */
async function latest(panel, endpoint, query) {
  const mine = (requested.get(panel) || 0) + 1;
  requested.set(panel, mine);
  const answer = await get(endpoint, query);
  if (requested.get(panel) !== mine) throw new Stale();
  return answer;
}

async function guard(id, work) {
  try {
    await work();
  } catch (error) {
    if (error instanceof Stale) return;
    if (error instanceof ApiError && (error.status === 401 || error.status === 404)) {
      // Every panel's request fails the same way; the first one signs out.
      if (!session()) return;
      signOut();
      signInForm('That site and token do not match. Try again.');
      return;
    }
    fill(body(id) || document.getElementById('status'), el('p', { class: 'error', role: 'alert' }, `Could not load: ${error.message}`));
  }
}

/** Loads every panel; `newPeriod`: the tag keys on offer may have changed too. */
function load(newPeriod = false) {
  fill(document.getElementById('status'));
  return Promise.all([
    guard('cards', loadSummary),
    guard('changed', loadChanged),
    guard('timeseries', loadTimeseries),
    guard('abandonment', loadAbandonment),
    guard('pages', loadPages),
    guard('frustration', loadFrustration),
    guard('hours', loadHours),
    guard('navigations', loadNavigations),
    guard('scripts', loadScripts),
    guard('breakdown', async () => {
      if (newPeriod) await loadDimensions();
      await loadBreakdown();
    }),
    guard('feedback', loadFeedback),
    guard('answer', loadToAnswer),
  ]).then(() => document.body.setAttribute('data-loaded', String(Date.now())));
}

/** A CrUX-style bar of good / needs improvement / poor shares. */
function distribution(summary) {
  const parts = [['good', summary.good], ['needs-improvement', summary.needs_improvement], ['poor', summary.poor]];
  const label = parts.map(([name, share]) => `${name.replace('-', ' ')} ${percent(share)}`).join(', ');
  return el('div', { class: 'bar', role: 'img', 'aria-label': label },
    ...parts.filter(([, share]) => share > 0).map(([name, share]) =>
      el('span', { class: `seg ${name}`, 'data-share': share.toFixed(4), title: `${name.replace('-', ' ')} ${percent(share)}` })));
}

/** The period's bounds in ms, as the API reads `from` and `to`. */
function bounds() {
  const now = Date.now();
  const UNITS = { s: 1e3, m: 6e4, h: 36e5, d: DAY, w: 7 * DAY };
  const at = (text, fallback) => {
    if (!text) return fallback;
    const relative = /^(\d+)([smhdw])$/.exec(text);
    return relative ? now - Number(relative[1]) * UNITS[relative[2]] : Date.parse(text);
  };
  const to = at(state.to, now);
  return { from: at(state.from, to - 7 * DAY), to };
}

/** This period against the previous one of equal length, with the filters. */
function previousPeriod() {
  const { from, to } = bounds();
  const iso = (t) => new Date(t).toISOString();
  return { ...state.filters, a_from: iso(from - (to - from)), a_to: iso(from), b_from: iso(from), b_to: iso(to) };
}

/** B − A of a measure, signed, in its unit (rates in percentage points). */
function difference(field, d) {
  if (d === null || d === undefined) return '–';
  const sign = d > 0 ? '+' : d < 0 ? '−' : '±';
  if (field.endsWith('_ms') || field === 'cls') return `${sign}${vitalValue(field, Math.abs(d))}`;
  return `${sign}${(Math.abs(d) * 100).toFixed(1)} pts`;
}

function measureValue(field, v) {
  return field.endsWith('_ms') || field === 'cls' ? vitalValue(field, v) : percent(v);
}

const VERDICTS = { better: 'better', worse: 'worse', no_clear_change: 'no clear change' };

/** A measure's change against the previous period, coloured only with a verdict. */
function change(field, measure) {
  if (!measure) return null;
  const interval = measure.low === null ? measure.reason : `95% interval ${difference(field, measure.low)} to ${difference(field, measure.high)}`;
  const what = measure.difference === null
    ? (measure.a_count === 0 ? 'nothing to compare in the previous period' : 'not enough to compare with the previous period')
    : `${difference(field, measure.difference)} vs previous period`;
  return el('p', { class: `change ${measure.verdict === 'no_clear_change' ? 'muted' : measure.verdict}`, 'data-verdict': measure.verdict, title: interval },
    what,
    measure.verdict === 'no_clear_change' ? '' : ` (${VERDICTS[measure.verdict]})`);
}

async function loadSummary() {
  const against = previousPeriod();
  const [summary, compared] = await Promise.all([latest('cards', 'summary', params()), get('compare', against)]);
  const cards = document.getElementById('cards');
  cards.dataset.compare = new URLSearchParams(against).toString();
  const changes = compared.measures;
  const csat = summary.csat;
  const before = compared.a.page_views;
  fill(cards,
    card('Page views', count(summary.page_views), 'page-views',
      el('p', { class: 'change muted' }, `${count(before)} in the previous period`)),
    card('Abandoned before load', percent(summary.abandonment_rate), 'abandonment-rate', change('abandonment_rate', changes.abandonment_rate)),
    card('Slow bounces', percent(summary.slow_bounce_rate), 'slow-bounce-rate', change('slow_bounce_rate', changes.slow_bounce_rate)),
    card('Rage or dead clicks', percent(summary.frustrated_rate), 'frustrated-rate', change('frustrated_rate', changes.frustrated_rate)),
    el('div', { class: 'card', id: 'csat' },
      el('h3', {}, el('abbr', { title: 'Customer satisfaction: satisfied answers (thumbs up, or 4-5 of 5)' }, 'CSAT')),
      el('p', { class: 'value' }, percent(csat.rate)),
      el('p', { class: 'muted' }, csat.answers
        ? `${count(csat.satisfied)} of ${count(csat.answers)} answers; 95% CI ${percent(csat.low)}–${percent(csat.high)}`
        : 'no answers yet'),
      change('csat', changes.csat)),
    ...VITALS.map(([field, short, name]) => {
      const vital = summary.vitals[field];
      return el('div', { class: `card vital ${rating(field, vital.p75)}`, 'data-vital': field },
        el('h3', {}, el('abbr', { title: name }, short), ' p75'),
        el('p', { class: 'value' }, vitalValue(field, vital.p75)),
        distribution(vital),
        el('p', { class: 'muted' }, `${count(vital.count)} measured`),
        change(field, changes[field]));
    }));
  // Segment widths are set through the CSSOM (allowed by the strict CSP).
  for (const seg of cards.querySelectorAll('.seg')) seg.style.width = `${Number(seg.dataset.share) * 100}%`;
}

function card(title, value, id, ...more) {
  return el('div', { class: 'card', id }, el('h3', {}, title), el('p', { class: 'value' }, value), ...more);
}

/** The latest release against the one before (or this period against the last), measure by measure. */
async function loadChanged() {
  const compared = await latest('changed', 'compare', params());
  const { a, b, measures } = compared;
  const side = (s) => `${s.release ? `release ${s.label}` : s.label} (${count(s.page_views)} page views, ${s.from.slice(0, 16).replace('T', ' ')} – ${s.to.slice(0, 16).replace('T', ' ')} UTC)`;
  const rows = Object.entries(measures).map(([field, m]) => {
    const coloured = m.verdict === 'no_clear_change' ? '' : ` verdict ${m.verdict}`;
    const interval = m.low === null ? m.reason : `${difference(field, m.low)} to ${difference(field, m.high)}`;
    return el('tr', { 'data-measure': field, 'data-verdict': m.verdict, class: coloured.trim() || undefined },
      el('th', { scope: 'row', class: 'key' }, m.label),
      el('td', { class: 'num' }, measureValue(field, m.a)),
      el('td', { class: 'num' }, measureValue(field, m.b)),
      el('td', { class: 'num' }, difference(field, m.difference)),
      el('td', { class: 'interval' }, interval),
      el('td', { class: `verdict-text${coloured}` }, VERDICTS[m.verdict]));
  });
  fill(body('changed'),
    el('p', { class: 'muted' }, 'B: ', el('strong', {}, side(b)), el('br'), 'against A: ', side(a)),
    el('table', {},
      el('caption', { class: 'visually-hidden' }, 'Each measure of B against A, with a 95% interval of the difference'),
      el('thead', {}, el('tr', {}, ...[['measure', 'key'], ['A', 'num'], ['B', 'num'], ['B − A', 'num'], ['95% interval', ''], ['verdict', '']]
        .map(([label, cls]) => el('th', { scope: 'col', class: cls }, label)))),
      el('tbody', {}, ...rows)),
    el('p', { class: 'muted' }, 'A verdict only when the interval leaves no doubt about the direction; docs/compare.md explains the method.'));
}

async function loadTimeseries() {
  await guard('timeseries', async () => {
    const [series, releases] = await Promise.all([
      latest('timeseries', 'timeseries', params({ metric: state.metric })),
      get('releases'),
    ]);
    const field = series.metric;
    const points = series.points;
    const target = body('timeseries');
    if (!points.some((p) => p.page_views)) return fill(target, el('p', { class: 'muted' }, 'No page views in this period.'));
    fill(target);
    chart(target, {
      time: true,
      markers: releases.map((r) => ({ x: r.at_ms / 1000, label: r.name })),
      x: points.map((p) => Date.parse(p.t) / 1000),
      series: [
        { label: `${field.replace('_ms', '').toUpperCase()} p75`, values: points.map((p) => p.vital.p75), format: (v) => vitalValue(field, v) },
        { label: 'page views', values: points.map((p) => p.page_views), format: count, scale: 'views', bars: true },
      ],
    });
  });
}

async function loadAbandonment() {
  const curve = await latest('abandonment', 'abandonment', params());
  if (!curve.page_views) fill(body('abandonment'), el('p', { class: 'muted' }, 'No page views with a known load time.'));
  else bucketChart('abandonment', curve, 'Of the visitors still waiting for the page to load after each second, the share who left before it did.',
    { label: 'left while waiting', values: curve.buckets.map((b) => b.left_while_waiting_rate), format: percent },
    { label: 'page views', values: curve.buckets.map((b) => b.page_views), format: count, scale: 'views', bars: true });
  if (!curve.buckets.some((b) => b.csat.answers > 0)) fill(body('satisfaction'), el('p', { class: 'muted' }, 'No feedback with a known load time yet.'));
  else bucketChart('satisfaction', curve, 'The share of satisfied answers, by how long the page took to load.',
    { label: 'CSAT', values: curve.buckets.map((b) => b.csat.rate), format: percent },
    { label: 'answers', values: curve.buckets.map((b) => b.csat.answers), format: count, scale: 'answers', bars: true });
}

/** A chart over the abandonment curve's load-time buckets, with an introduction. */
function bucketChart(panel, curve, intro, ...series) {
  const holder = el('div', { class: 'chart' });
  fill(body(panel), el('p', { class: 'muted' }, intro), holder);
  chart(holder, { x: curve.buckets.map((b) => b.from_ms / 1000), xFormat: (s) => `${s} s`, series });
}

function table(caption, headers, rows) {
  return el('table', {},
    el('caption', { class: 'visually-hidden' }, caption),
    el('thead', {}, el('tr', {}, ...headers.map(([label, cls]) => el('th', { scope: 'col', class: cls }, label)))),
    el('tbody', {}, ...rows.map((cells) => el('tr', {}, ...cells.map(([value, cls]) => el('td', { class: cls }, value))))));
}

function vitalCell(row, field) {
  const p75 = row.vitals[field].p75;
  return [el('span', { class: `rating ${rating(field, p75)}` }, vitalValue(field, p75)), 'num'];
}

/** A breakdown row's name: its value, "(none)", or the other row's. */
function keyName(row) {
  if (row.other) return '(all others)';
  return row.key === null ? '(none)' : row.key;
}

/** The named rows of a breakdown (no "(none)" or other row). */
function named(rows) {
  return rows.filter((row) => !row.other && row.key !== null);
}

function breakdownRows(rows, name = keyName) {
  return rows.map((row) => [
    [name(row), 'key'],
    [count(row.page_views), 'num'],
    [count(row.lost), 'num'],
    [percent(row.lost_rate), 'num'],
    vitalCell(row, 'lcp_ms'),
    vitalCell(row, 'inp_ms'),
    vitalCell(row, 'cls'),
  ]);
}

const BREAKDOWN_HEADERS = [['', 'key'], ['views', 'num'], ['lost', 'num'], ['lost %', 'num'], ['LCP p75', 'num'], ['INP p75', 'num'], ['CLS p75', 'num']];

/** Pages by route, the most viewed first; a route opens its own paths. */
async function loadPages() {
  const target = body('pages');
  if (state.route !== undefined) return loadRoutePaths(target, state.route);
  const rows = await latest('pages', 'breakdown', params({ by: 'route', limit: 15 }));
  const open = (row) => {
    if (row.other || row.key === null) return keyName(row);
    const button = el('button', { type: 'button', class: 'link', title: `The paths of ${row.key}` }, row.key);
    button.addEventListener('click', () => { state.route = row.key; guard('pages', loadPages); });
    return button;
  };
  const headers = [['route', 'key'], ...BREAKDOWN_HEADERS.slice(1)];
  fill(target, rows.length ? table('Routes, the most viewed first (open one for its paths)', headers, breakdownRows(rows, open)) : el('p', { class: 'muted' }, 'No page views.'));
}

/** The paths of one route, the most viewed first. */
async function loadRoutePaths(target, route) {
  const rows = await latest('pages', 'breakdown', params({ by: 'path', route, limit: 15 }));
  const back = el('button', { type: 'button', class: 'link' }, '← all routes');
  back.addEventListener('click', () => { state.route = undefined; guard('pages', loadPages); });
  const headers = [['path', 'key'], ...BREAKDOWN_HEADERS.slice(1)];
  fill(target, back, rows.length ? table(`Paths of ${route}, the most viewed first`, headers, breakdownRows(rows)) : el('p', { class: 'muted' }, 'No page views.'));
}

/** Rage and dead clicks: the elements in most frustrated page views, with what visitors said. */
async function loadFrustration() {
  const rows = named(await latest('frustration', 'breakdown', params({ by: 'frustration_target', limit: 10 })));
  const headers = [['element', 'key'], ['frustrated views', 'num'], ['views', 'num'], ['CSAT', 'num'], ['INP p75', 'num']];
  const cells = rows.map((row) => [
    [row.key, 'key'],
    [count(row.frustrated), 'num'],
    [count(row.page_views), 'num'],
    [row.csat.answers ? `${percent(row.csat.rate)} of ${count(row.csat.answers)}` : '–', 'num'],
    vitalCell(row, 'inp_ms'),
  ]);
  fill(body('frustration'), rows.length
    ? table('Elements ranked by page views with a rage or dead click on them', headers, cells)
    : el('p', { class: 'muted' }, 'No rage or dead clicks in this period.'));
}

async function loadHours() {
  const rows = await latest('hours', 'breakdown', params({ by: 'hour_of_day' }));
  const byHour = new Map(rows.map((r) => [Number(r.key), r]));
  const hours = [...Array(24).keys()];
  const target = body('hours');
  if (!rows.length) return fill(target, el('p', { class: 'muted' }, 'No page views.'));
  fill(target);
  chart(target, {
    x: hours,
    xFormat: (h) => `${String(h).padStart(2, '0')}:00`,
    series: [
      { label: 'LCP p75', values: hours.map((h) => byHour.get(h)?.vitals.lcp_ms.p75 ?? null), format: ms },
      { label: 'page views', values: hours.map((h) => byHour.get(h)?.page_views ?? 0), format: count, scale: 'views', bars: true },
    ],
  });
}

/** Hard page loads beside soft navigations (a single-page app's routes), each with its vitals. */
async function loadNavigations() {
  const rows = await latest('navigations', 'breakdown', params({ by: 'nav_type' }));
  const headers = [['navigation', 'key'], ...BREAKDOWN_HEADERS.slice(1)];
  const kinds = rows.map((row) => ({ ...row, key: row.key === 'soft_navigation' ? 'soft navigation (route change)' : row.key }));
  fill(body('navigations'), rows.length ? table('Page views by how they started', headers, breakdownRows(kinds)) : el('p', { class: 'muted' }, 'No page views.'));
}

/** The hosts whose scripts were the longest during slow interactions (INP's longest script). */
async function loadScripts() {
  const rows = named(await latest('scripts', 'breakdown', params({ by: 'inp_script_host', limit: 15 })));
  const headers = [['script host', 'key'], ['poor INP views', 'num'], ['views', 'num'], ['INP p75', 'num']];
  const cells = rows.map((row) => [
    [row.own_host ? `${row.key} (this site)` : row.key, 'key'],
    [count(row.poor_inp), 'num'],
    [count(row.page_views), 'num'],
    vitalCell(row, 'inp_ms'),
  ]);
  fill(body('scripts'), rows.length
    ? table('Script hosts ranked by page views with poor INP they were the longest script in', headers, cells)
    : el('p', { class: 'muted' }, 'No interaction was slowed by a script the browser could name.'));
}

async function loadBreakdown() {
  await guard('breakdown', async () => {
    const rows = await latest('breakdown', 'breakdown', params({ by: state.by, limit: 50 }));
    const headers = [[state.by.replace('_', ' '), 'key'], ...BREAKDOWN_HEADERS.slice(1)];
    fill(body('breakdown'), rows.length ? table(`Breakdown by ${state.by}`, headers, breakdownRows(rows)) : el('p', { class: 'muted' }, 'No page views.'));
  });
}

function answer(row) {
  if (row.feedback_scale === 'five') return `${row.feedback_rating}/5`;
  return row.feedback_rating === 1 ? 'satisfied' : 'not satisfied';
}

/** Unhappy visitors who wrote something: the answers to reply to first. */
async function loadToAnswer() {
  const list = await latest('answer', 'feedback', params({ limit: 20, comment: true }));
  const unhappy = list.feedback.filter((row) => !row.satisfied);
  fill(body('answer'), unhappy.length
    ? el('ul', { class: 'to-answer' }, ...unhappy.map((row) => el('li', {},
      el('p', { class: 'comment' }, row.feedback_comment),
      el('p', { class: 'muted' }, `${row.started_at.slice(0, 16).replace('T', ' ')} UTC · `, el('span', { class: 'key' }, row.url),
        ` · ${answer(row)} · LCP ${vitalValue('lcp_ms', row.lcp_ms)} · load ${row.load_ms === null ? (row.abandoned ? 'left before load' : '–') : ms(row.load_ms)}`,
        ` · ${row.device ?? 'unknown device'}, ${row.effective_type ?? 'unknown network'}`))))
    : el('p', { class: 'muted' }, 'No unhappy comments in this period.'));
}

async function loadFeedback() {
  const list = await latest('feedback', 'feedback', params({ limit: 50 }));
  const rows = list.feedback.map((row) => [
    [row.started_at.slice(0, 16).replace('T', ' '), 'time'],
    [row.url, 'key'],
    [el('span', { class: `answer ${row.satisfied ? 'good' : 'poor'}` }, answer(row)), ''],
    [row.feedback_comment ?? '', 'comment'],
    [vitalValue('lcp_ms', row.lcp_ms), 'num'],
    [vitalValue('inp_ms', row.inp_ms), 'num'],
    [row.load_ms === null ? (row.abandoned ? 'left' : '–') : ms(row.load_ms), 'num'],
    [row.device ?? '–', ''],
  ]);
  const headers = [['when (UTC)', 'time'], ['page', 'key'], ['answer', ''], ['comment', 'comment'], ['LCP', 'num'], ['INP', 'num'], ['load', 'num'], ['device', '']];
  fill(body('feedback'),
    el('p', { class: 'muted' }, `${count(list.total)} answers in this period; the newest ${list.feedback.length} with their page view's metrics.`),
    list.feedback.length ? table('Feedback, newest first', headers, rows) : el('p', { class: 'muted' }, 'No feedback yet.'));
}

main();
