//! The prompt's words in each language it speaks, and the choice of
//! language: `data-lang` when the prompt speaks it, else the first of the
//! browser's languages that it speaks, else English.
//!
//! No word holds a markup character (tested): the prompt's markup
//! ([`super::markup`]) puts them in as they are.

/// Everything the prompt says, in one language.
#[derive(Debug, PartialEq, Eq)]
pub struct Words {
    /// BCP 47 primary language subtag (`lang` of the prompt).
    pub lang: &'static str,
    /// The prompt's accessible name.
    pub label: &'static str,
    /// The question.
    pub question: &'static str,
    /// The question after a rage click or a dead click.
    pub stuck: &'static str,
    /// The thumbs scale's answers.
    pub good: &'static str,
    /// The thumbs scale's negative answer.
    pub poor: &'static str,
    /// The five-point scale's answers, worst first.
    pub five: [&'static str; 5],
    /// The label of the optional comment.
    pub comment: &'static str,
    /// Sends the comment.
    pub send: &'static str,
    /// Skips the comment.
    pub skip: &'static str,
    /// Closes the prompt.
    pub close: &'static str,
    /// The thanks after an answer.
    pub thanks: &'static str,
}

/// Every language the prompt speaks, English first (the fallback).
pub const LANGUAGES: [Words; 7] = [
    Words {
        lang: "en",
        label: "Feedback",
        question: "How was the speed of this page?",
        stuck: "Something not working here?",
        good: "Good",
        poor: "Poor",
        five: ["Very poor", "Poor", "Okay", "Good", "Very good"],
        comment: "Anything to add? (optional)",
        send: "Send",
        skip: "Skip",
        close: "Close",
        thanks: "Thank you for your feedback!",
    },
    Words {
        lang: "fi",
        label: "Palaute",
        question: "Miltä sivun nopeus tuntui?",
        stuck: "Eikö jokin toimi täällä?",
        good: "Hyvä",
        poor: "Huono",
        five: ["Erittäin huono", "Huono", "Kohtalainen", "Hyvä", "Erittäin hyvä"],
        comment: "Haluatko kertoa lisää? (valinnainen)",
        send: "Lähetä",
        skip: "Ohita",
        close: "Sulje",
        thanks: "Kiitos palautteestasi!",
    },
    Words {
        lang: "pl",
        label: "Opinia",
        question: "Jak oceniasz szybkość tej strony?",
        stuck: "Coś tu nie działa?",
        good: "Dobra",
        poor: "Słaba",
        five: ["Bardzo słaba", "Słaba", "Przeciętna", "Dobra", "Bardzo dobra"],
        comment: "Chcesz coś dodać? (opcjonalnie)",
        send: "Wyślij",
        skip: "Pomiń",
        close: "Zamknij",
        thanks: "Dziękujemy za opinię!",
    },
    Words {
        lang: "sv",
        label: "Synpunkter",
        question: "Hur upplevde du sidans hastighet?",
        stuck: "Fungerar något inte här?",
        good: "Bra",
        poor: "Dålig",
        five: ["Mycket dålig", "Dålig", "Okej", "Bra", "Mycket bra"],
        comment: "Något att tillägga? (valfritt)",
        send: "Skicka",
        skip: "Hoppa över",
        close: "Stäng",
        thanks: "Tack för dina synpunkter!",
    },
    Words {
        lang: "de",
        label: "Feedback",
        question: "Wie schnell war diese Seite für Sie?",
        stuck: "Funktioniert hier etwas nicht?",
        good: "Gut",
        poor: "Schlecht",
        five: ["Sehr schlecht", "Schlecht", "Okay", "Gut", "Sehr gut"],
        comment: "Möchten Sie etwas ergänzen? (optional)",
        send: "Senden",
        skip: "Überspringen",
        close: "Schließen",
        thanks: "Danke für Ihr Feedback!",
    },
    Words {
        lang: "fr",
        label: "Votre avis",
        question: "Comment avez-vous trouvé la vitesse de cette page ?",
        stuck: "Quelque chose ne fonctionne pas ici ?",
        good: "Bonne",
        poor: "Mauvaise",
        five: ["Très mauvaise", "Mauvaise", "Correcte", "Bonne", "Très bonne"],
        comment: "Un commentaire ? (facultatif)",
        send: "Envoyer",
        skip: "Passer",
        close: "Fermer",
        thanks: "Merci pour votre avis !",
    },
    Words {
        lang: "es",
        label: "Tu opinión",
        question: "¿Qué te pareció la velocidad de esta página?",
        stuck: "¿Algo no funciona aquí?",
        good: "Buena",
        poor: "Mala",
        five: ["Muy mala", "Mala", "Aceptable", "Buena", "Muy buena"],
        comment: "¿Algo que añadir? (opcional)",
        send: "Enviar",
        skip: "Omitir",
        close: "Cerrar",
        thanks: "¡Gracias por tu opinión!",
    },
];

/// The words of the language `tag` asks for, when the prompt speaks it
/// (`fi-FI` and `FI_fi` → `fi`).
pub fn spoken(tag: &str) -> Option<&'static Words> {
    let tag = tag.trim_ascii().as_bytes();
    // Every language it speaks has a two-letter primary subtag.
    let primary = match tag {
        [a, b] | [a, b, b'-' | b'_', ..] => [a.to_ascii_lowercase(), b.to_ascii_lowercase()],
        _ => return None,
    };
    LANGUAGES.iter().find(|words| words.lang.as_bytes() == primary)
}

/// The prompt's words: `requested` (`data-lang`) if spoken, else the first
/// spoken of the browser's `preferred` languages, else English.
pub fn choose<S: AsRef<str>>(requested: &str, preferred: impl IntoIterator<Item = S>) -> &'static Words {
    spoken(requested).or_else(|| preferred.into_iter().find_map(|tag| spoken(tag.as_ref()))).unwrap_or(&LANGUAGES[0])
}

#[cfg(test)]
mod tests {
    use super::*;

    fn all(words: &Words) -> Vec<&'static str> {
        let mut every = vec![words.lang, words.label, words.question, words.stuck, words.good, words.poor];
        every.extend(words.five);
        every.extend([words.comment, words.send, words.skip, words.close, words.thanks]);
        every
    }

    #[test]
    fn every_language_says_everything_without_markup() {
        for words in &LANGUAGES {
            for word in all(words) {
                assert!(!word.trim().is_empty(), "{}: an empty word", words.lang);
                assert!(!word.contains(['<', '>', '&', '"', '\'', '=', '`']), "{}: markup in {word:?}", words.lang);
            }
            assert_ne!(words.five[0], words.five[4], "{}: the scale runs worst to best", words.lang);
        }
        let langs: Vec<_> = LANGUAGES.iter().map(|w| w.lang).collect();
        assert_eq!(langs, ["en", "fi", "pl", "sv", "de", "fr", "es"]);
    }

    #[test]
    fn the_choice_of_language() {
        assert_eq!(choose("fi", ["de"]).lang, "fi", "data-lang first");
        assert_eq!(choose("", ["ja-JP", "sv-SE", "de"]).lang, "sv", "the first spoken of the browser's");
        assert_eq!(choose("xx", ["FR_ca"]).lang, "fr", "an unspoken data-lang falls through");
        assert_eq!(choose("", Vec::<String>::new()).lang, "en", "English when nothing is spoken");
        assert_eq!(choose(" PL ", ["fi"]).lang, "pl", "case and blanks do not matter");
        assert!(spoken("").is_none());
    }
}
