/**
 * The one-click feedback prompt: when it asks, what happens on each answer,
 * and the prompt on the page.
 *
 * It asks by itself once the page has settled (`SETTLE_MS` after the module
 * started), after a slow interaction, or shortly after a visitor who left
 * during loading comes back, when the Rust rules (`rules.wants`,
 * `rules.asks`: trigger mode, frequency cap, never for robots, never twice)
 * say so. A rating is sent at once; the optional comment follows in a
 * second beacon of the same page view. Showing the prompt records the time
 * in `localStorage['palaute:asked']` (a timestamp and nothing else) for the
 * per-origin cap.
 *
 * On the page it is a `<palaute-prompt>` element at the end of the body
 * whose Shadow DOM holds the prompt, fixed to a corner of the viewport, so
 * it shifts nothing and the site's CSS and the prompt's never meet. Its
 * markup is built from the prompt's own words only; what a visitor types is
 * read as a value, never put into markup.
 */
import * as rules from 'palaute-rules';
import STYLE from './prompt.css';
import { choose } from './words.js';
import { L, view, send, scaleIsFive, measure } from './session.js';

/** How long after the module starts the page counts as settled (ms). */
const SETTLE_MS = 2000;
/** Delay before asking a visitor who came back to the page (ms). */
const RETURN_DELAY_MS = 1000;
/** How long the thanks stay before the prompt goes (ms). */
const THANKS_MS = 3000;
const ASKED_KEY = 'palaute:asked';
const MAX_COMMENT = 1000;
const SVG = '<svg aria-hidden=true viewBox="0 0 24 24">';
const THUMB =
  '<svg class=thumb aria-hidden=true viewBox="0 0 24 24"><path d="M1 21h4V9H1v12zm22-11c0-1.1-.9-2-2-2h-6.31l.95-4.57.03-.32c0-.41-.17-.79-.44-1.06L14.17 1 7.59 7.59C7.22 7.95 7 8.45 7 9v10c0 1.1.9 2 2 2h9c.83 0 1.54-.5 1.84-1.22l3.02-7.05c.09-.23.14-.47.14-.73v-2z"/></svg>';
/** Mouth curvature of the five faces, worst to best. */
const MOUTHS = [-3, -1.5, 0, 1.5, 3];

/** The page has settled: the prompt may ask by itself. */
let settled = false;
/** Asked (or answered) in this page view: it will not ask by itself again. */
let done = false;
/** The rating given in the prompt, awaiting the optional comment. */
let rating;
/** The prompt while it is on the page. */
let open;
/** Prompts opened in this page's life, so that a timer closes only the prompt it was set for. */
let opened = 0;

/** A new page view of the same page (a bfcache restore): still settled, nothing asked yet. */
export const newView = () => {
  done = false;
  rating = undefined;
  close();
};

/** Starts the settle clock; called once when the module starts. */
export const scheduleSettle = () =>
  setTimeout(() => {
    settled = true;
    consider();
  }, SETTLE_MS);

/** The page is visible again: a visitor who left while it loaded may be asked, after a short moment. */
export const onVisible = () => setTimeout(consider, RETURN_DELAY_MS);

/** Asks, if the site's policy says so now. */
export const consider = () => {
  if (done || !settled || open) return;
  measure();
  const visible = !document.hidden;
  const mode = { always: 1, off: 2 }[L.feedback] || 0;
  // Called after every batch of performance entries: the storage is read only when the experience calls for a prompt.
  if (!rules.wants(mode, visible)) return;
  let last = NaN;
  try {
    last = parseFloat(localStorage.getItem(ASKED_KEY));
  } catch (e) {
    /* storage disabled: never asked */
  }
  const automated = !!navigator.webdriver;
  const now = Date.now();
  const answered = view.b.feedback !== undefined;
  if (rules.asks(mode, parseFloat(L.days), visible, automated, answered, isFinite(last) ? last : NaN, now)) show();
};

/** `palaute.ask()`: shows the prompt now. The page's own call is not held back by the trigger mode or the cap (but counts for the cap). */
export const ask = () => view && !open && show();

/** Records the visitor's answer on the page view and sends it at once; `false` when the rating is not on the site's scale. */
export const record = (value, comment) => {
  const five = scaleIsFive();
  if (typeof value != 'number' || !rules.accepts(five, value)) return false;
  const earlier = view.b.feedback;
  view.b.feedback = {
    rating: value,
    scale: five ? 'five' : 'thumbs',
    comment: comment && cut(comment, MAX_COMMENT),
    // A comment for the rating already given keeps the time of the rating.
    at_ms: earlier && earlier.rating == value && comment ? earlier.at_ms : rules.since_start(performance.now()),
  };
  send();
  return true;
};

/** `text` cut to `max` characters (code points, never half of one). */
export const cut = (text, max) => Array.from(text).slice(0, max).join('');

const close = () => {
  if (open) open.remove();
  open = undefined;
};

const show = () => {
  const words = choose(L.lang, navigator.languages);
  done = true;
  rating = undefined;
  opened++;
  open = draw(words, scaleIsFive());
  try {
    localStorage.setItem(ASKED_KEY, String(Date.now()));
  } catch (e) {
    /* storage disabled: no cap */
  }
};

const onAction = (action) => {
  if (!open) return;
  if (action[0] == 'r') {
    const value = +action.slice(1);
    if (record(value)) {
      rating = value;
      open.step(
        `<label for=c>${open.words.comment}</label><textarea id=c rows=3 maxlength=${MAX_COMMENT}></textarea>` +
          `<div class=row><button class=primary data-a=send>${open.words.send}</button><button data-a=skip>${open.words.skip}</button></div>`,
        'c',
      );
    }
  } else if (action == 'close') {
    close();
  } else {
    const field = open.root.getElementById('c');
    const comment = action == 'send' && field && field.value.trim();
    open.step(`<p role=status>${open.words.thanks}</p>`);
    if (rating !== undefined && comment) record(rating, comment);
    const thanked = opened;
    setTimeout(() => thanked == opened && close(), THANKS_MS);
  }
};

/** The question and its answer buttons. */
const ratingStep = (words, five) =>
  `<p id=q>${words.question}</p><div class="row${five ? ' five' : ''}" role=group aria-labelledby=q>` +
  (five
    ? MOUTHS.map(
        (mouth, i) =>
          `<button data-a=r${i + 1} aria-label="${words['five' + (i + 1)]}" title="${words['five' + (i + 1)]}">${SVG}` +
          `<circle cx=12 cy=12 r=10 /><path d="M9 9.5v.5M15 9.5v.5M8 16q4 ${mouth} 8 0"/></svg></button>`,
      ).join('')
    : `<button class=up data-a=r1>${THUMB}${words.good}</button><button class=down data-a=r0>${THUMB}${words.poor}</button>`) +
  '</div>';

/**
 * Puts the prompt on the page. It takes no focus. Returns its handle:
 * `step(markup, focusId)` replaces the current step (focus moves to
 * `focusId` only when the visitor's focus was already in the prompt, as
 * after rating with the keyboard), `remove()` takes it away.
 */
const draw = (words, five) => {
  const d = document;
  const host = d.createElement('palaute-prompt');
  const root = host.attachShadow({ mode: 'open' });
  let markup = '';
  try {
    // A constructed stylesheet, which a strict Content-Security-Policy allows.
    const sheet = new CSSStyleSheet();
    sheet.replaceSync(STYLE);
    root.adoptedStyleSheets = [sheet];
  } catch (e) {
    // No constructable stylesheets: an inline one (needs style-src).
    markup = `<style>${STYLE}</style>`;
  }
  root.innerHTML =
    markup +
    `<section class=box aria-label="${words.label}" lang=${words.lang}><button class=x data-a=close aria-label="${words.close}" title="${words.close}">` +
    `${SVG}<path d="M6 6l12 12M18 6L6 18"/></svg></button><div id=s aria-live=polite>${ratingStep(words, five)}</div></section>`;
  root.addEventListener('click', (e) => {
    const button = e.target.closest && e.target.closest('button');
    const action = button && button.getAttribute('data-a');
    if (action) onAction(action);
  });
  const escape = (e) => e.key == 'Escape' && onAction('close');
  addEventListener('keydown', escape);
  (d.body || d.documentElement).appendChild(host);
  return {
    root,
    words,
    step(markup, focusId) {
      const focused = root.activeElement;
      root.getElementById('s').innerHTML = markup;
      if (focused && focusId) root.getElementById(focusId).focus();
    },
    remove() {
      removeEventListener('keydown', escape);
      host.remove();
    },
  };
};
