/**
 * The prompt's words in each language it speaks, and the choice of
 * language: `data-lang` when the prompt speaks it, else the first of the
 * browser's languages that it speaks, else English.
 *
 * One line per language, fields separated by `|`, in the order of
 * `FIELDS` (the five-point scale's answers from worst to best). No word
 * holds markup characters (`words.test.mjs` checks): the prompt puts them
 * into its markup as they are.
 */
const FIELDS = 'lang label question good poor five1 five2 five3 five4 five5 comment send skip close thanks'.split(' ');

const LANGUAGES = `en|Feedback|How was the speed of this page?|Good|Poor|Very poor|Poor|Okay|Good|Very good|Anything to add? (optional)|Send|Skip|Close|Thank you for your feedback!
fi|Palaute|Miltä sivun nopeus tuntui?|Hyvä|Huono|Erittäin huono|Huono|Kohtalainen|Hyvä|Erittäin hyvä|Haluatko kertoa lisää? (valinnainen)|Lähetä|Ohita|Sulje|Kiitos palautteestasi!
pl|Opinia|Jak oceniasz szybkość tej strony?|Dobra|Słaba|Bardzo słaba|Słaba|Przeciętna|Dobra|Bardzo dobra|Chcesz coś dodać? (opcjonalnie)|Wyślij|Pomiń|Zamknij|Dziękujemy za opinię!
sv|Synpunkter|Hur upplevde du sidans hastighet?|Bra|Dålig|Mycket dålig|Dålig|Okej|Bra|Mycket bra|Något att tillägga? (valfritt)|Skicka|Hoppa över|Stäng|Tack för dina synpunkter!
de|Feedback|Wie schnell war diese Seite für Sie?|Gut|Schlecht|Sehr schlecht|Schlecht|Okay|Gut|Sehr gut|Möchten Sie etwas ergänzen? (optional)|Senden|Überspringen|Schließen|Danke für Ihr Feedback!
fr|Votre avis|Comment avez-vous trouvé la vitesse de cette page ?|Bonne|Mauvaise|Très mauvaise|Mauvaise|Correcte|Bonne|Très bonne|Un commentaire ? (facultatif)|Envoyer|Passer|Fermer|Merci pour votre avis !
es|Tu opinión|¿Qué te pareció la velocidad de esta página?|Buena|Mala|Muy mala|Mala|Aceptable|Buena|Muy buena|¿Algo que añadir? (opcional)|Enviar|Omitir|Cerrar|¡Gracias por tu opinión!`
  .split('\n')
  .map((line) => {
    const words = {};
    line.split('|').forEach((word, i) => (words[FIELDS[i]] = word));
    return words;
  });

/** Every language the prompt speaks, English first (the fallback). */
export const languages = () => LANGUAGES;

/** The words of the language a tag asks for, when the prompt speaks it (`fi-FI` → `fi`). */
const spoken = (tag) => {
  const primary = String(tag).split(/[-_]/)[0].trim().toLowerCase();
  return LANGUAGES.find((words) => words.lang == primary);
};

/**
 * The prompt's words: `requested` (`data-lang`) if spoken, else the first
 * spoken of the browser's `preferred` languages, else English.
 */
export const choose = (requested, preferred) =>
  (requested && spoken(requested)) || (preferred || []).map(spoken).find(Boolean) || LANGUAGES[0];
