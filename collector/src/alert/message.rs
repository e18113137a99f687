//! Alert bodies: a generic JSON document, or a Slack-compatible message.
//! One alert lists at most [`MAX_ALERT_VIEWS`] page views in at most
//! [`MAX_ALERT_BYTES`] (the rest are counted: "and 480 more"), each
//! visitor's text cut to [`MAX_ALERT_TEXT_CHARS`].

use palaute::limits::cut;
use serde_json::json;

use crate::model::PageView;

/// Most page views one alert lists.
pub const MAX_ALERT_VIEWS: usize = 20;
/// Largest alert body, bytes (page views past it are counted, not listed).
pub const MAX_ALERT_BYTES: usize = 64 * 1024;
/// Longest visitor text (a comment, a URL) in an alert, characters.
pub const MAX_ALERT_TEXT_CHARS: usize = 300;

/// `text` as Slack shows it literally: `&`, `<` and `>` escaped, as
/// Slack's message formatting asks, so that what a visitor typed cannot
/// ping a channel (`<!channel>`), mention anyone or disguise a link.
pub fn slack_escaped(text: &str) -> String {
    text.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;")
}

/// Visitor text on one line: control characters (line breaks that would
/// forge lines of their own among them) become spaces, bidirectional
/// formatting characters (U+202E, which shows `exe.gpj` as `jpg.exe`) are
/// dropped, and it is cut to [`MAX_ALERT_TEXT_CHARS`].
pub fn one_line(text: &str) -> String {
    let cleaned: String = text
        .chars()
        .filter(|c| !matches!(c, '\u{200e}' | '\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}'))
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    let mut line = cut(&cleaned, MAX_ALERT_TEXT_CHARS).to_string();
    if line.len() < cleaned.len() {
        line.push('…');
    }
    line
}

/// The body announcing new negative feedback, in the hook's `format`.
pub fn feedback(format: &str, site: &str, views: &[PageView]) -> String {
    if format == "slack" {
        let count = views.len();
        let mut text =
            format!("{count} new unhappy answer{} on {}", if count == 1 { "" } else { "s" }, slack_escaped(site));
        let mut listed = 0;
        for view in views.iter().take(MAX_ALERT_VIEWS) {
            let lcp = view.lcp_ms.map_or("–".to_string(), |ms| format!("{:.2} s", ms / 1000.0));
            let load = view.load_ms.map_or("left before load".to_string(), |ms| format!("{:.2} s", ms / 1000.0));
            let line = format!(
                "\n• {} — “{}” (LCP {lcp}, load {load}, {} on {})",
                slack_escaped(&one_line(&view.url)),
                slack_escaped(&one_line(view.feedback_comment.as_deref().unwrap_or_default())),
                slack_escaped(&one_line(view.device.as_deref().unwrap_or("unknown device"))),
                slack_escaped(&one_line(view.effective_type.as_deref().unwrap_or("unknown network"))),
            );
            if text.len() + line.len() > MAX_ALERT_BYTES - 100 {
                break;
            }
            text.push_str(&line);
            listed += 1;
        }
        if listed < count {
            text.push_str(&format!("\n…and {} more", count - listed));
        }
        // What a visitor typed is shown as typed: no mrkdwn (`*bold*`,
        // `~strike~`), and links are not previewed in the channel.
        return json!({ "text": text, "mrkdwn": false, "unfurl_links": false, "unfurl_media": false }).to_string();
    }
    let mut listed = Vec::new();
    let mut bytes = 0;
    for view in views.iter().take(MAX_ALERT_VIEWS) {
        let mut view = view.clone();
        view.url = one_line(&view.url);
        view.feedback_comment = view.feedback_comment.as_deref().map(one_line);
        let value = serde_json::to_value(&view).unwrap_or_default();
        bytes += value.to_string().len();
        if bytes > MAX_ALERT_BYTES - 200 {
            break;
        }
        listed.push(value);
    }
    let more = views.len() - listed.len();
    json!({ "event": "negative_feedback", "site": site, "feedback": listed, "more": more }).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn visitor_text_stays_on_one_line_without_bidirectional_tricks() {
        assert_eq!(one_line("a\nb\r\tc"), "a b  c");
        assert_eq!(one_line("gpj.\u{202e}exe"), "gpj.exe");
        assert_eq!(one_line(&"x".repeat(400)).chars().count(), MAX_ALERT_TEXT_CHARS + 1);
    }
}
