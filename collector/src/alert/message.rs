//! Alert bodies: a generic JSON document, or a Slack-compatible message.

use serde_json::json;

use crate::model::PageView;

/// `text` as Slack shows it literally: `&`, `<` and `>` escaped, as
/// Slack's message formatting asks, so that what a visitor typed cannot
/// ping a channel (`<!channel>`), mention anyone or disguise a link.
pub fn slack_escaped(text: &str) -> String {
    text.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;")
}

/// The body announcing new negative feedback, in the hook's `format`.
pub fn feedback(format: &str, site: &str, views: &[PageView]) -> String {
    if format == "slack" {
        let count = views.len();
        let mut text =
            format!("*{count}* new unhappy answer{} on *{}*", if count == 1 { "" } else { "s" }, slack_escaped(site));
        for view in views {
            let lcp = view.lcp_ms.map_or("–".to_string(), |ms| format!("{:.2} s", ms / 1000.0));
            let load = view.load_ms.map_or("left before load".to_string(), |ms| format!("{:.2} s", ms / 1000.0));
            text.push_str(&format!(
                "\n• {} — “{}” (LCP {lcp}, load {load}, {} on {})",
                slack_escaped(&view.url),
                slack_escaped(view.feedback_comment.as_deref().unwrap_or_default()),
                slack_escaped(view.device.as_deref().unwrap_or("unknown device")),
                slack_escaped(view.effective_type.as_deref().unwrap_or("unknown network")),
            ));
        }
        return json!({ "text": text }).to_string();
    }
    json!({ "event": "negative_feedback", "site": site, "feedback": views }).to_string()
}
