//! The prompt's words in each language it speaks, and the choice of
//! language: `data-lang` when the prompt speaks it, else the first of the
//! browser's languages that it speaks, else English.

/// Everything the prompt says, in one language.
#[derive(Debug, PartialEq, Eq)]
pub struct Text {
    /// BCP 47 primary language subtag (`lang` of the prompt).
    pub lang: &'static str,
    /// Name of the prompt for assistive technology.
    pub label: &'static str,
    /// The question.
    pub question: &'static str,
    /// Thumbs-up answer.
    pub good: &'static str,
    /// Thumbs-down answer.
    pub poor: &'static str,
    /// The five-point scale's answers, 1 (worst) to 5 (best).
    pub five: [&'static str; 5],
    /// Label of the optional comment.
    pub comment: &'static str,
    /// Sends the comment.
    pub send: &'static str,
    /// Skips the comment.
    pub skip: &'static str,
    /// Closes the prompt without answering.
    pub close: &'static str,
    /// Shown after the answer.
    pub thanks: &'static str,
}

/// Every language the prompt speaks; the first is the fallback.
pub const LANGUAGES: [Text; 7] = [
    Text {
        lang: "en",
        label: "Feedback",
        question: "How was the speed of this page?",
        good: "Good",
        poor: "Poor",
        five: ["Very poor", "Poor", "Okay", "Good", "Very good"],
        comment: "Anything to add? (optional)",
        send: "Send",
        skip: "Skip",
        close: "Close",
        thanks: "Thank you for your feedback!",
    },
    Text {
        lang: "fi",
        label: "Palaute",
        question: "Miltä sivun nopeus tuntui?",
        good: "Hyvä",
        poor: "Huono",
        five: ["Erittäin huono", "Huono", "Kohtalainen", "Hyvä", "Erittäin hyvä"],
        comment: "Haluatko kertoa lisää? (valinnainen)",
        send: "Lähetä",
        skip: "Ohita",
        close: "Sulje",
        thanks: "Kiitos palautteestasi!",
    },
    Text {
        lang: "pl",
        label: "Opinia",
        question: "Jak oceniasz szybkość tej strony?",
        good: "Dobra",
        poor: "Słaba",
        five: ["Bardzo słaba", "Słaba", "Przeciętna", "Dobra", "Bardzo dobra"],
        comment: "Chcesz coś dodać? (opcjonalnie)",
        send: "Wyślij",
        skip: "Pomiń",
        close: "Zamknij",
        thanks: "Dziękujemy za opinię!",
    },
    Text {
        lang: "sv",
        label: "Synpunkter",
        question: "Hur upplevde du sidans hastighet?",
        good: "Bra",
        poor: "Dålig",
        five: ["Mycket dålig", "Dålig", "Okej", "Bra", "Mycket bra"],
        comment: "Något att tillägga? (valfritt)",
        send: "Skicka",
        skip: "Hoppa över",
        close: "Stäng",
        thanks: "Tack för dina synpunkter!",
    },
    Text {
        lang: "de",
        label: "Feedback",
        question: "Wie schnell war diese Seite für Sie?",
        good: "Gut",
        poor: "Schlecht",
        five: ["Sehr schlecht", "Schlecht", "Okay", "Gut", "Sehr gut"],
        comment: "Möchten Sie etwas ergänzen? (optional)",
        send: "Senden",
        skip: "Überspringen",
        close: "Schließen",
        thanks: "Danke für Ihr Feedback!",
    },
    Text {
        lang: "fr",
        label: "Votre avis",
        question: "Comment avez-vous trouvé la vitesse de cette page ?",
        good: "Bonne",
        poor: "Mauvaise",
        five: ["Très mauvaise", "Mauvaise", "Correcte", "Bonne", "Très bonne"],
        comment: "Un commentaire ? (facultatif)",
        send: "Envoyer",
        skip: "Passer",
        close: "Fermer",
        thanks: "Merci pour votre avis !",
    },
    Text {
        lang: "es",
        label: "Tu opinión",
        question: "¿Qué te pareció la velocidad de esta página?",
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

/// The language a tag asks for, when the prompt speaks it (`fi-FI` → `fi`).
pub fn spoken(tag: &str) -> Option<&'static Text> {
    let primary = tag.split(['-', '_']).next()?.trim();
    LANGUAGES.iter().find(|text| text.lang.eq_ignore_ascii_case(primary))
}

/// The prompt's language: `requested` (`data-lang`) if spoken, else the
/// first spoken of the browser's `preferred` languages, else English.
pub fn choose<'a>(requested: Option<&str>, preferred: impl IntoIterator<Item = &'a str>) -> &'static Text {
    requested.and_then(spoken).or_else(|| preferred.into_iter().find_map(spoken)).unwrap_or(&LANGUAGES[0])
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(requested: Option<&str>, preferred: &[&str], expected: &str) {
        assert_eq!(choose(requested, preferred.iter().copied()).lang, expected, "{requested:?} {preferred:?}");
    }

    #[test]
    fn chooses_the_requested_then_the_browsers_then_english() {
        check(Some("fi"), &["de-DE"], "fi");
        check(Some("sv-SE"), &[], "sv");
        check(Some("PL"), &[], "pl");
        check(Some("ja"), &["ja-JP", "fr-CA", "de"], "fr");
        check(None, &["es-419", "en"], "es");
        check(None, &["zh-CN", "ko"], "en");
        check(None, &[], "en");
        check(Some(""), &["de_AT"], "de");
    }

    #[test]
    fn every_language_says_everything_without_markup() {
        for text in &LANGUAGES {
            let words = [text.label, text.question, text.good, text.poor, text.comment, text.send, text.skip]
                .into_iter()
                .chain([text.close, text.thanks])
                .chain(text.five);
            for word in words {
                assert!(!word.is_empty(), "{}", text.lang);
                assert!(!word.contains(['<', '>', '&', '"']), "{}: {word}", text.lang);
            }
        }
    }
}
